//! Import a Hugging Face `config.json` into a [`ModelProfile`].

use serde_json::{Map, Value};

use super::profile::{Family, Mla, ModelProfile, Moe, Norm, Quantization};
use crate::core::error::{from_json, Error, Result};

/// Read the fields of one `config.json`, naming the file and the field in every error.
struct Fields<'a> {
    path: &'a str,
    model_type: &'a str,
    map: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Error::input(format!(
                    "{}: field '{key}' must be a non-negative integer, found {v}",
                    self.path
                ))
            }),
        }
    }

    fn u64(&self, key: &str) -> Result<u64> {
        self.opt_u64(key)?.ok_or_else(|| {
            Error::input(format!(
                "{}: missing field '{key}' (required for model_type '{}')",
                self.path, self.model_type
            ))
        })
    }

    /// The first of several spellings that is present.
    fn u64_any(&self, keys: &[&str]) -> Result<u64> {
        for k in keys {
            if let Some(v) = self.opt_u64(k)? {
                return Ok(v);
            }
        }
        Err(Error::input(format!(
            "{}: missing field '{}' (required for model_type '{}')",
            self.path,
            keys.join("' or '"),
            self.model_type
        )))
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(Error::input(format!(
                "{}: field '{key}' must be true or false, found {v}",
                self.path
            ))),
        }
    }
}

/// Types people fine-tune that peftcost does not model yet: the closest it does, and what it
/// would need to read for them.
const NOT_YET: &[(&str, &str, &str)] = &[
    ("gemma", "gemma2", "the block without the pre/post feed-forward norms"),
    ("qwen3_5", "qwen3", "per-layer attention kinds (layer_types: linear_attention's Gated DeltaNet and full_attention)"),
    ("deepseek_v32", "deepseek_v3", "its sparse attention indexer (index_n_heads, index_head_dim, index_topk)"),
    ("glm4_moe", "glm4", "routed and shared experts (n_routed_experts, n_shared_experts, first_k_dense_replace)"),
];

/// The error for a `model_type` peftcost cannot import: the closest supported type and what it
/// would need, or the nearest name.
fn unsupported(path: &str, model_type: &str) -> Error {
    let known = Family::ALL.join(", ");
    match NOT_YET.iter().find(|(t, _, _)| *t == model_type) {
        Some((_, closest, needs)) => Error::input(format!(
            "{path}: model_type '{model_type}' is not modelled yet: the closest supported is '{closest}', and '{model_type}' would need {needs}. Supported: {known}"
        )),
        None => {
            let hint = crate::core::data::nearest(model_type, Family::ALL.iter().copied())
                .map(|n| format!(" (closest name: '{n}')"))
                .unwrap_or_default();
            Error::input(format!(
                "{path}: unsupported model_type '{model_type}'{hint}: peftcost knows {known}"
            ))
        }
    }
}

/// The experts of a mixture-of-experts config; `None` for dense families. Dense blocks among the
/// sparse ones are counted as transformers builds them: Qwen-MoE's block `i` is sparse unless it
/// is in `mlp_only_layers` or `(i + 1) % decoder_sparse_step != 0`; DeepSeek's blocks from
/// `first_k_dense_replace` on are sparse (transformers v5 ignores `moe_layer_freq`).
fn moe_of(f: &Fields, family: Family, layers: u64) -> Result<Option<Moe>> {
    let moe = match family {
        Family::Qwen3Moe | Family::Qwen2Moe => {
            let step = f.opt_u64("decoder_sparse_step")?.unwrap_or(1).max(1);
            let mlp_only: Vec<u64> = match f.map.get("mlp_only_layers") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(l)) => l
                    .iter()
                    .map(|v| {
                        v.as_u64().ok_or_else(|| {
                            Error::input(format!(
                                "{}: field 'mlp_only_layers' must list block indices, found {v}",
                                f.path
                            ))
                        })
                    })
                    .collect::<Result<_>>()?,
                Some(v) => {
                    return Err(Error::input(format!(
                        "{}: field 'mlp_only_layers' must be a list of block indices, found {v}",
                        f.path
                    )))
                }
            };
            let dense = (0..layers)
                .filter(|i| mlp_only.contains(i) || (i + 1) % step != 0)
                .count() as u64;
            Moe {
                num_experts: f.u64_any(&["num_experts", "num_local_experts"])?,
                experts_per_token: f.u64("num_experts_per_tok")?,
                expert_intermediate_size: f.u64("moe_intermediate_size")?,
                shared_expert_intermediate_size: f
                    .opt_u64("shared_expert_intermediate_size")?
                    .unwrap_or(0),
                dense_layers: dense,
            }
        }
        // Mixtral's `intermediate_size` is each expert's width.
        Family::Mixtral => Moe {
            num_experts: f.u64("num_local_experts")?,
            experts_per_token: f.u64("num_experts_per_tok")?,
            expert_intermediate_size: f.u64("intermediate_size")?,
            shared_expert_intermediate_size: 0,
            dense_layers: 0,
        },
        Family::DeepseekV2 | Family::DeepseekV3 => {
            let width = f.u64("moe_intermediate_size")?;
            Moe {
                num_experts: f.u64("n_routed_experts")?,
                experts_per_token: f.u64("num_experts_per_tok")?,
                expert_intermediate_size: width,
                shared_expert_intermediate_size: width
                    * f.opt_u64("n_shared_experts")?.unwrap_or(0),
                dense_layers: f.opt_u64("first_k_dense_replace")?.unwrap_or(0).min(layers),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(moe))
}

/// The latent attention of a DeepSeek or MiniCPM3 config (MiniCPM3's `v_head_dim` defaults to
/// hidden / heads, DeepSeek's to 128, as their transformers configs do).
fn mla_of(f: &Fields, family: Family, hidden: u64, heads: u64) -> Result<Option<Mla>> {
    let v_default = match family {
        Family::Minicpm3 => hidden / heads.max(1),
        Family::DeepseekV2 | Family::DeepseekV3 => 128,
        _ => return Ok(None),
    };
    Ok(Some(Mla {
        q_lora_rank: f.opt_u64("q_lora_rank")?.unwrap_or(0),
        kv_lora_rank: f.u64("kv_lora_rank")?,
        qk_nope_head_dim: f.u64("qk_nope_head_dim")?,
        qk_rope_head_dim: f.u64("qk_rope_head_dim")?,
        v_head_dim: f.opt_u64("v_head_dim")?.unwrap_or(v_default),
    }))
}

/// A quantized checkpoint's `quantization_config`: AWQ/GPTQ `bits` and `group_size`, FP8's
/// `weight_block_size`, bitsandbytes' `load_in_4bit`/`load_in_8bit`.
fn quantization_of(path: &str, map: &Map<String, Value>) -> Result<Option<Quantization>> {
    let Some(q) = map.get("quantization_config") else {
        return Ok(None);
    };
    let q = q.as_object().ok_or_else(|| {
        Error::input(format!(
            "{path}: field 'quantization_config' must be an object"
        ))
    })?;
    let method = q
        .get("quant_method")
        .and_then(Value::as_str)
        .unwrap_or("bitsandbytes")
        .to_ascii_lowercase();
    let int = |key: &str| q.get(key).and_then(Value::as_u64);
    let flag = |key: &str| q.get(key).and_then(Value::as_bool).unwrap_or(false);
    let (bits, group_size) = match method.as_str() {
        "fp8" => {
            let block: Option<u64> = q
                .get("weight_block_size")
                .and_then(Value::as_array)
                .map(|b| b.iter().filter_map(Value::as_u64).product());
            (8, block.unwrap_or(0))
        }
        "bitsandbytes" if flag("load_in_4bit") => (4, 64),
        "bitsandbytes" if flag("load_in_8bit") => (8, 0),
        _ => match int("bits").or_else(|| int("w_bit")) {
            Some(bits) => (
                bits,
                // AutoGPTQ writes -1 for per-channel scales.
                int("group_size").or_else(|| int("q_group_size")).unwrap_or(0),
            ),
            None => {
                return Err(Error::input(format!(
                    "{path}: quantization_config ({method}) names no 'bits': peftcost cannot tell the weight bytes"
                )))
            }
        },
    };
    Ok(Some(Quantization {
        method,
        bits,
        group_size,
    }))
}

/// Sliding-window attention as transformers lays it out: the config's `layer_types` where it
/// has one, else Gemma 2's every other block, Gemma 3's `sliding_window_pattern`, Qwen2/3's
/// blocks from `max_window_layers` when `use_sliding_window`, and every block of a Mistral,
/// Mixtral or Phi-3 config that sets a window. Other layer kinds (linear attention) are refused.
fn sliding_of(f: &Fields, family: Family, layers: u64) -> Result<(u64, u64)> {
    // Gemma2Config and Gemma3TextConfig default the window to 4096.
    let gemma = matches!(family, Family::Gemma2 | Family::Gemma3Text);
    let window = f
        .opt_u64("sliding_window")?
        .unwrap_or(if gemma { 4096 } else { 0 });
    if let Some(types) = f.map.get("layer_types").and_then(Value::as_array) {
        let mut sliding = 0;
        for t in types {
            match t.as_str() {
                Some("sliding_attention") => sliding += 1,
                Some("full_attention") => {}
                other => {
                    return Err(Error::input(format!(
                        "{}: layer_types holds '{}', which peftcost does not model (it models full_attention and sliding_attention)",
                        f.path,
                        other.unwrap_or("a non-string")
                    )))
                }
            }
        }
        if sliding > 0 && window == 0 {
            return Err(Error::input(format!(
                "{}: layer_types has sliding_attention blocks but no 'sliding_window'",
                f.path
            )));
        }
        return Ok((window, sliding.min(layers)));
    }
    let sliding = match family {
        _ if window == 0 => 0,
        Family::Gemma2 => layers.div_ceil(2),
        Family::Gemma3Text => {
            let pattern = f.opt_u64("sliding_window_pattern")?.unwrap_or(6).max(1);
            layers - layers / pattern
        }
        Family::Qwen2 | Family::Qwen3 | Family::Qwen2Moe | Family::Qwen3Moe
            if f.bool_or("use_sliding_window", false)? =>
        {
            layers.saturating_sub(f.opt_u64("max_window_layers")?.unwrap_or(layers))
        }
        Family::Mistral | Family::Mixtral | Family::Phi3 => layers,
        _ => 0,
    };
    Ok(if sliding == 0 {
        (0, 0)
    } else {
        (window, sliding)
    })
}

/// Parse a Hugging Face `config.json` (any `model_type` of [`Family::ALL`]) into a profile. `id` names the profile; without it the file's `_name_or_path` is used.
pub fn import_hf_config(path: &str, text: &str, id: Option<&str>) -> Result<ModelProfile> {
    let value: Value = from_json(path, text)?;
    let map = value
        .as_object()
        .ok_or_else(|| Error::input(format!("{path}: expected a JSON object at the top level")))?;
    // A multimodal config (gemma3, qwen2_vl, llava...) nests its language model: model that.
    let top = map;
    let nested = map.get("text_config").and_then(Value::as_object);
    let map = nested.unwrap_or(map);
    let model_type = map
        .get("model_type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::input(format!("{path}: missing field 'model_type'")))?;
    // `gemma3` itself is the multimodal wrapper; its language model came in as `text_config`.
    let family: Family = serde_json::from_value(Value::String(model_type.to_string()))
        .map_err(|_| unsupported(path, model_type))?;
    let f = Fields {
        path,
        model_type,
        map,
    };
    let hidden = f.u64("hidden_size")?;
    let name_or_path = map
        .get("_name_or_path")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let id = id
        .map(str::to_string)
        .or_else(|| name_or_path.map(|n| n.rsplit('/').next().unwrap_or(n).to_ascii_lowercase()))
        .unwrap_or_else(|| format!("imported-{model_type}"));

    let mut p = ModelProfile {
        id: id.clone(),
        name: id,
        aliases: Vec::new(),
        family,
        hf_repo: name_or_path.unwrap_or_default().to_string(),
        source: format!("imported from {path}"),
        published_total: None,
        hidden_size: hidden,
        num_layers: 0,
        num_heads: 0,
        num_kv_heads: 0,
        head_dim: 0,
        intermediate_size: 0,
        vocab_size: 0,
        max_position: 0,
        type_vocab_size: 0,
        tie_word_embeddings: false,
        qkv_bias: false,
        linear_bias: false,
        norm: Norm::Rmsnorm,
        pooler: false,
        default_targets: None,
        default_targets_source: None,
        notes: None,
        moe: None,
        mla: None,
        quantization: quantization_of(path, top)?,
        sliding_window: 0,
        sliding_layers: 0,
    };
    match family {
        Family::Llama
        | Family::Mistral
        | Family::Qwen2
        | Family::Qwen3
        | Family::Phi3
        | Family::Minicpm
        | Family::Qwen3Moe
        | Family::Mixtral
        | Family::Qwen2Moe
        | Family::Gemma2
        | Family::Gemma3Text
        | Family::DeepseekV2
        | Family::DeepseekV3
        | Family::Minicpm3
        | Family::Glm
        | Family::Glm4
        | Family::Internlm2
        | Family::Baichuan => {
            p.num_layers = f.u64("num_hidden_layers")?;
            p.num_heads = f.u64("num_attention_heads")?;
            p.num_kv_heads = f.opt_u64("num_key_value_heads")?.unwrap_or(p.num_heads);
            let gemma = matches!(family, Family::Gemma2 | Family::Gemma3Text);
            p.head_dim = match f.opt_u64("head_dim")? {
                Some(d) => d,
                // Gemma2Config and Gemma3TextConfig default to 256, not hidden / heads.
                None if gemma => 256,
                None => hidden / p.num_heads.max(1),
            };
            p.intermediate_size = f.u64("intermediate_size")?;
            p.vocab_size = f.u64("vocab_size")?;
            // Baichuan names its context `model_max_length`.
            p.max_position = f.u64_any(&["max_position_embeddings", "model_max_length"])?;
            // transformers defaults: MiniCPM(3)Config ties embeddings, the others do not.
            let ties = matches!(family, Family::Minicpm | Family::Minicpm3) || gemma;
            p.tie_word_embeddings = f.bool_or("tie_word_embeddings", ties)?;
            // GLM's configs default `attention_bias` to true; InternLM2 calls it `bias`.
            let attention_bias = match family {
                Family::Glm | Family::Glm4 => f.bool_or("attention_bias", true)?,
                Family::Internlm2 => f.bool_or("bias", false)?,
                _ => f.bool_or("attention_bias", false)?,
            };
            // Qwen2 always has q/k/v biases; llama's `attention_bias` also covers o_proj.
            p.qkv_bias = matches!(family, Family::Qwen2 | Family::Qwen2Moe) || attention_bias;
            p.linear_bias = family == Family::Internlm2 && attention_bias;
            p.moe = moe_of(&f, family, p.num_layers)?;
            p.mla = mla_of(&f, family, hidden, p.num_heads)?;
            if let Some(a) = p.mla {
                // Every head has its own key and value once the latent is expanded.
                p.head_dim = a.qk_nope_head_dim + a.qk_rope_head_dim;
                p.num_kv_heads = p.num_heads;
            }
            if family == Family::Minicpm {
                p.default_targets = Some(vec!["q_proj".into(), "v_proj".into()]);
                p.default_targets_source =
                    Some("OpenBMB's finetune.py; peft has no default for 'minicpm'".into());
            }
        }
        Family::Qwen => {
            p.num_layers = f.u64("num_hidden_layers")?;
            p.num_heads = f.u64("num_attention_heads")?;
            p.num_kv_heads = p.num_heads;
            p.head_dim = match f.opt_u64("kv_channels")? {
                Some(d) => d,
                None => hidden / p.num_heads.max(1),
            };
            // QWenMLP splits `intermediate_size` into two branches of half the width.
            p.intermediate_size = f.u64("intermediate_size")? / 2;
            p.vocab_size = f.u64("vocab_size")?;
            p.max_position = f.u64_any(&["seq_length", "max_position_embeddings"])?;
            p.tie_word_embeddings = f.bool_or("tie_word_embeddings", false)?;
            p.qkv_bias = true;
            p.linear_bias = !f.bool_or("no_bias", true)?;
            p.default_targets = Some(vec![
                "c_attn".into(),
                "c_proj".into(),
                "w1".into(),
                "w2".into(),
            ]);
            p.default_targets_source =
                Some("Qwen's finetune.py; peft has no default for 'qwen'".into());
        }
        Family::Chatglm => {
            p.num_layers = f.u64_any(&["num_layers", "num_hidden_layers"])?;
            p.num_heads = f.u64("num_attention_heads")?;
            p.head_dim = match f.opt_u64("kv_channels")? {
                Some(d) => d,
                None => hidden / p.num_heads.max(1),
            };
            p.num_kv_heads = if f.bool_or("multi_query_attention", false)? {
                f.u64("multi_query_group_num")?
            } else {
                p.num_heads
            };
            p.intermediate_size = f.u64("ffn_hidden_size")?;
            p.vocab_size = f.u64_any(&["padded_vocab_size", "vocab_size"])?;
            p.max_position = f.u64_any(&["seq_length", "max_position_embeddings"])?;
            p.tie_word_embeddings = false;
            p.qkv_bias = f.bool_or("add_qkv_bias", false)?;
            p.linear_bias = f.bool_or("add_bias_linear", false)?;
            p.norm = if f.bool_or("rmsnorm", true)? {
                Norm::Rmsnorm
            } else {
                Norm::Layernorm
            };
        }
        Family::Bert | Family::XlmRoberta => {
            p.num_layers = f.u64("num_hidden_layers")?;
            p.num_heads = f.u64("num_attention_heads")?;
            p.num_kv_heads = p.num_heads;
            p.head_dim = hidden / p.num_heads.max(1);
            p.intermediate_size = f.u64("intermediate_size")?;
            p.vocab_size = f.u64("vocab_size")?;
            p.max_position = f.u64("max_position_embeddings")?;
            // XLM-RoBERTa checkpoints say 1 (one segment); both configs default to 2.
            p.type_vocab_size = f.opt_u64("type_vocab_size")?.unwrap_or(2);
            p.qkv_bias = true;
            p.linear_bias = true;
            p.norm = Norm::Layernorm;
            p.pooler = true;
        }
    }
    (p.sliding_window, p.sliding_layers) = sliding_of(&f, family, p.num_layers)?;
    if nested.is_some() {
        p.notes = Some(
            "imported from the config's text_config: the language model only (a vision tower is not counted)"
                .into(),
        );
    }
    p.validate()
        .map_err(|e| Error::input(format!("{path}: {e}")))?;
    Ok(p)
}
