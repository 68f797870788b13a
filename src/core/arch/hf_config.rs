//! Import a Hugging Face `config.json` into a [`ModelProfile`].

use serde_json::{Map, Value};

use super::profile::{Family, ModelProfile, Moe, Norm};
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
    ("deepseek_v2", "qwen3_moe", "multi-head latent attention (q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim), shared experts (n_shared_experts) and dense first blocks (first_k_dense_replace)"),
    ("deepseek_v3", "qwen3_moe", "multi-head latent attention (q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim), shared experts (n_shared_experts) and dense first blocks (first_k_dense_replace)"),
    ("minicpm3", "minicpm", "multi-head latent attention (q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim)"),
    ("glm4", "phi3", "q/k/v biases (attention_bias) and the post_self_attn/post_mlp norms around the fused gate_up_proj"),
    ("glm", "phi3", "q/k/v biases (attention_bias) with the fused gate_up_proj"),
    ("internlm2", "phi3", "its own names (attention.wqkv, attention.wo, feed_forward.w1/w2/w3) for the fused layout"),
    ("baichuan", "qwen", "the fused W_pack projection under model.layers"),
    ("gemma", "gemma2", "the block without the pre/post feed-forward norms"),
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

/// The experts of a `qwen3_moe` or `mixtral` config; `None` for dense families. Configs with
/// dense blocks among the sparse ones are refused: every block is modelled alike.
fn moe_of(f: &Fields, family: Family) -> Result<Option<Moe>> {
    let moe = match family {
        Family::Qwen3Moe | Family::Qwen2Moe => {
            let step = f.opt_u64("decoder_sparse_step")?.unwrap_or(1);
            let dense = f
                .map
                .get("mlp_only_layers")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if step != 1 || dense {
                return Err(Error::input(format!(
                    "{}: dense blocks among the experts (decoder_sparse_step {step}, mlp_only_layers) are not modelled yet: peftcost models every block alike",
                    f.path
                )));
            }
            Moe {
                num_experts: f.u64_any(&["num_experts", "num_local_experts"])?,
                experts_per_token: f.u64("num_experts_per_tok")?,
                expert_intermediate_size: f.u64("moe_intermediate_size")?,
                shared_expert_intermediate_size: f
                    .opt_u64("shared_expert_intermediate_size")?
                    .unwrap_or(0),
            }
        }
        // Mixtral's `intermediate_size` is each expert's width.
        Family::Mixtral => Moe {
            num_experts: f.u64("num_local_experts")?,
            experts_per_token: f.u64("num_experts_per_tok")?,
            expert_intermediate_size: f.u64("intermediate_size")?,
            shared_expert_intermediate_size: 0,
        },
        _ => return Ok(None),
    };
    Ok(Some(moe))
}

/// Parse a Hugging Face `config.json` (`model_type` llama, mistral, qwen2, qwen3, qwen3_moe,
/// mixtral, phi3, qwen, chatglm, bert, minicpm) into a profile. `id` names the profile; without it the file's `_name_or_path` is used.
pub fn import_hf_config(path: &str, text: &str, id: Option<&str>) -> Result<ModelProfile> {
    let value: Value = from_json(path, text)?;
    let map = value
        .as_object()
        .ok_or_else(|| Error::input(format!("{path}: expected a JSON object at the top level")))?;
    // A multimodal config (gemma3, qwen2_vl, llava...) nests its language model: model that.
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
        | Family::Gemma3Text => {
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
            p.max_position = f.u64("max_position_embeddings")?;
            // transformers defaults: MiniCPMConfig ties embeddings, the others do not.
            p.tie_word_embeddings =
                f.bool_or("tie_word_embeddings", family == Family::Minicpm || gemma)?;
            let attention_bias = f.bool_or("attention_bias", false)?;
            // Qwen2 always has q/k/v biases; llama's `attention_bias` also covers o_proj.
            p.qkv_bias = matches!(family, Family::Qwen2 | Family::Qwen2Moe) || attention_bias;
            p.linear_bias = false;
            p.moe = moe_of(&f, family)?;
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
        Family::Bert => {
            p.num_layers = f.u64("num_hidden_layers")?;
            p.num_heads = f.u64("num_attention_heads")?;
            p.num_kv_heads = p.num_heads;
            p.head_dim = hidden / p.num_heads.max(1);
            p.intermediate_size = f.u64("intermediate_size")?;
            p.vocab_size = f.u64("vocab_size")?;
            p.max_position = f.u64("max_position_embeddings")?;
            p.type_vocab_size = f.opt_u64("type_vocab_size")?.unwrap_or(2);
            p.qkv_bias = true;
            p.linear_bias = true;
            p.norm = Norm::Layernorm;
            p.pooler = true;
        }
    }
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
