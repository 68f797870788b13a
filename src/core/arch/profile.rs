//! Model profiles: the architecture numbers of one model, as read from `profiles/models/*.toml`
//! or imported from a Hugging Face `config.json`.

use serde::{Deserialize, Serialize};

use crate::core::error::{Error, Result};

/// The Hugging Face `model_type` of a profile. It decides the module layout and names
/// (see [`crate::core::arch::Inventory`]) and peft's default targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Llama (`LlamaForCausalLM`).
    Llama,
    /// Mistral (`MistralForCausalLM`).
    Mistral,
    /// Qwen2 and Qwen2.5 (`Qwen2ForCausalLM`).
    Qwen2,
    /// Qwen3 dense (`Qwen3ForCausalLM`): Llama layout with an explicit `head_dim` and per-head
    /// RMSNorms on q and k (`self_attn.q_norm`, `self_attn.k_norm`).
    Qwen3,
    /// Phi-3 (`Phi3ForCausalLM`): fused `qkv_proj` and `gate_up_proj`.
    Phi3,
    /// Qwen3 mixture of experts (`Qwen3MoeForCausalLM`): Qwen3 attention, every block's MLP a
    /// router (`mlp.gate`) and fused experts (`mlp.experts.gate_up_proj`, `down_proj`).
    #[serde(rename = "qwen3_moe")]
    Qwen3Moe,
    /// Mixtral (`MixtralForCausalLM`): Mistral attention, the same fused-expert MLP.
    Mixtral,
    /// Qwen2 mixture of experts (`Qwen2MoeForCausalLM`, Qwen1.5-MoE): Qwen2 attention, fused
    /// experts and a shared expert (`mlp.shared_expert.*`, gated by `mlp.shared_expert_gate`).
    #[serde(rename = "qwen2_moe")]
    Qwen2Moe,
    /// Gemma 2 (`Gemma2ForCausalLM`): Llama names, explicit `head_dim`, norms before and after
    /// both sublayers, tied embeddings; sliding windows and soft-capping add no parameters.
    Gemma2,
    /// Gemma 3 text (`Gemma3ForCausalLM`, or the `text_config` of `gemma3`): Gemma 2's block
    /// with per-head q/k norms.
    #[serde(rename = "gemma3_text")]
    Gemma3Text,
    /// Qwen v1 (remote code `QWenLMHeadModel`): fused `c_attn`, `w1`/`w2`/`c_proj` MLP.
    Qwen,
    /// ChatGLM2/3 (remote code): fused multi-query `query_key_value`, fused `dense_h_to_4h`.
    Chatglm,
    /// MiniCPM (remote code, Llama-like layout).
    Minicpm,
    /// BERT-style encoders.
    Bert,
    /// XLM-RoBERTa encoders (bge-m3): BERT's block; positions start after the padding index.
    #[serde(rename = "xlm-roberta")]
    XlmRoberta,
    /// DeepSeek-V2 (`DeepseekV2ForCausalLM`): multi-head latent attention, routed and shared
    /// experts, dense first blocks.
    #[serde(rename = "deepseek_v2")]
    DeepseekV2,
    /// DeepSeek-V3 (`DeepseekV3ForCausalLM`): V2's block with a bias-corrected router (the
    /// correction is a buffer, not a parameter).
    #[serde(rename = "deepseek_v3")]
    DeepseekV3,
    /// MiniCPM3 (remote code): DeepSeek-V2's latent attention with a dense MLP, tied embeddings.
    Minicpm3,
    /// GLM-4 as transformers ports it (`GlmForCausalLM`, glm-4-9b-chat-hf): q/k/v with biases, a
    /// fused `gate_up_proj`.
    Glm,
    /// GLM-4-0414 (`Glm4ForCausalLM`): Glm's block with norms after attention and after the MLP.
    Glm4,
    /// InternLM2 (remote code): fused `attention.wqkv`, `feed_forward.w1/w3/w2`.
    Internlm2,
    /// Baichuan / Baichuan2 (remote code): fused `self_attn.W_pack`.
    Baichuan,
}

/// How the blocks of a family are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `model.layers.N.self_attn.{q,k,v,o}_proj`, `mlp.{gate,up,down}_proj`.
    LlamaLike,
    /// Qwen v1: fused `c_attn`, `w1`/`w2`/`c_proj` MLP.
    QwenV1,
    /// Phi-3: `model.layers.N.self_attn.{qkv_proj,o_proj}`, `mlp.{gate_up_proj,down_proj}`.
    Phi3,
    /// ChatGLM2/3: fused `query_key_value`, `dense_h_to_4h`/`dense_4h_to_h` MLP.
    ChatGlm,
    /// BERT: `attention.self.{query,key,value}`, `intermediate`/`output` dense layers.
    Bert,
    /// GLM-4 (transformers): Llama names with a fused `mlp.gate_up_proj`.
    Glm,
    /// InternLM2: `attention.{wqkv,wo}`, `feed_forward.{w1,w3,w2}`, `attention_norm`/`ffn_norm`.
    Internlm2,
    /// Baichuan: Llama names with a fused `self_attn.W_pack`.
    Baichuan,
}

impl Family {
    /// How the family's blocks are laid out.
    pub fn layout(self) -> Layout {
        match self {
            Family::Llama
            | Family::Mistral
            | Family::Qwen2
            | Family::Qwen3
            | Family::Minicpm
            | Family::Qwen3Moe
            | Family::Mixtral
            | Family::Qwen2Moe
            | Family::Gemma2
            | Family::Gemma3Text
            | Family::DeepseekV2
            | Family::DeepseekV3
            | Family::Minicpm3 => Layout::LlamaLike,
            Family::Phi3 => Layout::Phi3,
            Family::Qwen => Layout::QwenV1,
            Family::Chatglm => Layout::ChatGlm,
            Family::Bert | Family::XlmRoberta => Layout::Bert,
            Family::Glm | Family::Glm4 => Layout::Glm,
            Family::Internlm2 => Layout::Internlm2,
            Family::Baichuan => Layout::Baichuan,
        }
    }

    /// The lowercase `model_type`, e.g. `qwen2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Mistral => "mistral",
            Family::Qwen2 => "qwen2",
            Family::Qwen3 => "qwen3",
            Family::Phi3 => "phi3",
            Family::Qwen3Moe => "qwen3_moe",
            Family::Mixtral => "mixtral",
            Family::Qwen2Moe => "qwen2_moe",
            Family::Gemma2 => "gemma2",
            Family::Gemma3Text => "gemma3_text",
            Family::Qwen => "qwen",
            Family::Chatglm => "chatglm",
            Family::Minicpm => "minicpm",
            Family::Bert => "bert",
            Family::XlmRoberta => "xlm-roberta",
            Family::DeepseekV2 => "deepseek_v2",
            Family::DeepseekV3 => "deepseek_v3",
            Family::Minicpm3 => "minicpm3",
            Family::Glm => "glm",
            Family::Glm4 => "glm4",
            Family::Internlm2 => "internlm2",
            Family::Baichuan => "baichuan",
        }
    }

    /// Whether the model is an encoder (no causal LM head).
    pub fn is_encoder(self) -> bool {
        self.layout() == Layout::Bert
    }

    /// Whether positions are rotary (RoPE), so a longer context can be trained with RoPE scaling;
    /// BERT's learned position embeddings stop at `max_position`.
    pub fn uses_rope(self) -> bool {
        self.layout() != Layout::Bert
    }

    /// Whether the Hugging Face config carries `num_key_value_heads` (peft's GQA rule for prefix
    /// tuning keys on that field, `peft` >= 0.12).
    pub fn config_has_kv_heads(self) -> bool {
        matches!(
            self.layout(),
            Layout::LlamaLike | Layout::Phi3 | Layout::Glm | Layout::Internlm2
        )
    }

    /// Whether each block normalises q and k per head (`q_norm`/`k_norm` over `head_dim`).
    pub fn has_qk_norm(self) -> bool {
        matches!(self, Family::Qwen3 | Family::Qwen3Moe | Family::Gemma3Text)
    }

    /// Whether each block also normalises before and after its MLP (Gemma's sandwich norms:
    /// `pre_feedforward_layernorm`, `post_feedforward_layernorm`).
    pub fn has_sandwich_norms(self) -> bool {
        matches!(self, Family::Gemma2 | Family::Gemma3Text)
    }

    /// Whether the block adds GLM-4-0414's norms after attention and after the MLP
    /// (`post_self_attn_layernorm`, `post_mlp_layernorm`).
    pub fn has_post_sublayer_norms(self) -> bool {
        self == Family::Glm4
    }

    /// Every accepted `model_type`, for error messages.
    pub const ALL: &'static [&'static str] = &[
        "llama",
        "mistral",
        "qwen2",
        "qwen3",
        "qwen3_moe",
        "mixtral",
        "qwen2_moe",
        "gemma2",
        "gemma3",
        "gemma3_text",
        "phi3",
        "qwen",
        "chatglm",
        "minicpm",
        "minicpm3",
        "bert",
        "xlm-roberta",
        "deepseek_v2",
        "deepseek_v3",
        "glm",
        "glm4",
        "internlm2",
        "baichuan",
    ];
}

/// Normalisation layer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// RMSNorm: `h` weights.
    Rmsnorm,
    /// LayerNorm: `h` weights and `h` biases.
    Layernorm,
}

impl Norm {
    /// Parameters of one norm over `hidden` features.
    pub fn params(self, hidden: u64) -> u64 {
        match self {
            Norm::Rmsnorm => hidden,
            Norm::Layernorm => 2 * hidden,
        }
    }
}

/// A mixture-of-experts MLP in every block: a router picks `experts_per_token` of `num_experts`
/// gated experts of width `expert_intermediate_size` for each token (transformers v5 stores the
/// experts fused, as 3-D parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moe {
    /// Routed experts per block (`num_experts`, `num_local_experts`).
    pub num_experts: u64,
    /// Experts each token goes through (`num_experts_per_tok`).
    pub experts_per_token: u64,
    /// Width of one expert's MLP (`moe_intermediate_size`; Mixtral's `intermediate_size`).
    pub expert_intermediate_size: u64,
    /// Width of the shared expert(s) every token also goes through (0: none); DeepSeek's
    /// `n_shared_experts` experts of `moe_intermediate_size` are one MLP of their summed width.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared_expert_intermediate_size: u64,
    /// Blocks whose MLP stays dense, of `intermediate_size` (DeepSeek's `first_k_dense_replace`,
    /// Qwen-MoE's `mlp_only_layers` and `decoder_sparse_step`); 0: every block has experts.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dense_layers: u64,
}

/// A quantized checkpoint (`quantization_config`): its block Linears are stored at `bits` per
/// weight plus the method's scales; embeddings, head and norms stay 16-bit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantization {
    /// `quant_method`: awq, gptq, fp8, bitsandbytes, compressed-tensors, ...
    pub method: String,
    /// Bits per quantized weight (`bits`; fp8: 8; bitsandbytes: 4 or 8).
    pub bits: u64,
    /// Weights sharing one scale: `group_size` (AWQ/GPTQ), or the `weight_block_size` area of
    /// FP8 blocks; 0 when per output channel.
    #[serde(default)]
    pub group_size: u64,
}

impl Quantization {
    /// Bits per quantized weight including its scales: AWQ/GPTQ keep an fp16 scale and a zero
    /// point (16 + 16 bits) per group, FP8 one fp32 scale per block (as the serving formats
    /// count them: group 128 = 4.25 bits); bitsandbytes 4-bit is NF4 with double quantization
    /// (4.127 bits, QLoRA §2), 8-bit LLM.int8 (a per-row scale, negligible).
    pub fn bits_per_weight(&self) -> f64 {
        match self.method.as_str() {
            "bitsandbytes" if self.bits == 4 => 4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0),
            "bitsandbytes" => self.bits as f64,
            _ if self.group_size > 0 => self.bits as f64 + 32.0 / self.group_size as f64,
            _ => self.bits as f64,
        }
    }
}

/// Multi-head latent attention (DeepSeek-V2/V3, MiniCPM3): queries (optionally) and keys/values
/// go through low-rank latents; the KV cache holds the `kv_lora_rank` latent plus the rotary key
/// part per token and block. The profile's `head_dim` is the query/key head
/// (`qk_nope_head_dim + qk_rope_head_dim`) and `num_kv_heads` equals `num_heads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mla {
    /// Rank of the query latent (`q_lora_rank`); 0 when queries are projected directly.
    #[serde(default)]
    pub q_lora_rank: u64,
    /// Rank of the key/value latent (`kv_lora_rank`).
    pub kv_lora_rank: u64,
    /// Per-head query/key width without rotary embedding (`qk_nope_head_dim`).
    pub qk_nope_head_dim: u64,
    /// Per-head query/key width with rotary embedding, the key part shared by all heads
    /// (`qk_rope_head_dim`).
    pub qk_rope_head_dim: u64,
    /// Per-head value width (`v_head_dim`).
    pub v_head_dim: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The architecture of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelProfile {
    /// Short id used on the command line, e.g. `llama-2-7b`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Other names the model can be looked up by.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The Hugging Face `model_type`.
    pub family: Family,
    /// Hugging Face repository id, e.g. `meta-llama/Llama-2-7b-hf`.
    #[serde(default)]
    pub hf_repo: String,
    /// Where the numbers come from (a config URL or file).
    #[serde(default)]
    pub source: String,
    /// The published total parameter count, checked against the inventory in tests.
    #[serde(default)]
    pub published_total: Option<u64>,
    /// Hidden (model) dimension.
    pub hidden_size: u64,
    /// Number of transformer blocks.
    pub num_layers: u64,
    /// Attention (query) heads.
    pub num_heads: u64,
    /// Key/value heads (equal to `num_heads` without GQA/MQA).
    pub num_kv_heads: u64,
    /// Dimension of one attention head.
    pub head_dim: u64,
    /// Width of one MLP branch (Qwen v1 configs say 22016; the branch is 11008).
    pub intermediate_size: u64,
    /// Vocabulary size (rows of the token embedding).
    pub vocab_size: u64,
    /// Maximum position embeddings (context length, in tokens).
    pub max_position: u64,
    /// BERT token-type vocabulary (0 for decoders).
    #[serde(default)]
    pub type_vocab_size: u64,
    /// Whether the LM head shares its weight with the token embedding.
    pub tie_word_embeddings: bool,
    /// Bias on q/k/v (or the fused qkv).
    pub qkv_bias: bool,
    /// Bias on the attention output and MLP Linears.
    pub linear_bias: bool,
    /// Normalisation layer type.
    pub norm: Norm,
    /// BERT pooler (`pooler.dense`).
    #[serde(default)]
    pub pooler: bool,
    /// LoRA targets used when the user gives none; defaults to peft's mapping for the family.
    #[serde(default)]
    pub default_targets: Option<Vec<String>>,
    /// Where `default_targets` come from, printed with the result.
    #[serde(default)]
    pub default_targets_source: Option<String>,
    /// Free-form notes about the profile.
    #[serde(default)]
    pub notes: Option<String>,
    /// Mixture of experts in place of the dense MLP (`intermediate_size` is then the width of
    /// the dense blocks' MLP, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe: Option<Moe>,
    /// Multi-head latent attention in place of q/k/v projections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mla: Option<Mla>,
    /// Sliding-window attention: the window in tokens (0: every block attends to the whole
    /// context).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sliding_window: u64,
    /// Blocks that attend through `sliding_window` (Gemma 2: every other one; Gemma 3: five of
    /// six); the others attend to the whole context.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sliding_layers: u64,
    /// The checkpoint's quantization, if it ships quantized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<Quantization>,
}

impl ModelProfile {
    /// Check the numbers a user-supplied profile could get wrong.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("hidden_size", self.hidden_size),
            ("num_layers", self.num_layers),
            ("num_heads", self.num_heads),
            ("num_kv_heads", self.num_kv_heads),
            ("head_dim", self.head_dim),
            ("intermediate_size", self.intermediate_size),
            ("vocab_size", self.vocab_size),
            ("max_position", self.max_position),
        ];
        for (name, value) in fields {
            if value == 0 {
                return Err(Error::input(format!(
                    "model profile '{}': {name} must be greater than 0",
                    self.id
                )));
            }
            if value > 10_000_000 {
                return Err(Error::input(format!(
                    "model profile '{}': {name} = {value} is not a plausible model dimension",
                    self.id
                )));
            }
        }
        if let Some(m) = &self.moe {
            for (name, value) in [
                ("num_experts", m.num_experts),
                ("experts_per_token", m.experts_per_token),
                ("expert_intermediate_size", m.expert_intermediate_size),
            ] {
                if value == 0 || value > 10_000_000 {
                    return Err(Error::input(format!(
                        "model profile '{}': moe.{name} = {value} must be between 1 and 10000000",
                        self.id
                    )));
                }
            }
            if m.dense_layers > self.num_layers {
                return Err(Error::input(format!(
                    "model profile '{}': moe.dense_layers ({}) exceeds num_layers ({})",
                    self.id, m.dense_layers, self.num_layers
                )));
            }
            if m.experts_per_token > m.num_experts {
                return Err(Error::input(format!(
                    "model profile '{}': moe.experts_per_token ({}) exceeds moe.num_experts ({})",
                    self.id, m.experts_per_token, m.num_experts
                )));
            }
        }
        if let Some(a) = &self.mla {
            for (name, value, min) in [
                ("q_lora_rank", a.q_lora_rank, 0),
                ("kv_lora_rank", a.kv_lora_rank, 1),
                ("qk_nope_head_dim", a.qk_nope_head_dim, 0),
                ("qk_rope_head_dim", a.qk_rope_head_dim, 1),
                ("v_head_dim", a.v_head_dim, 1),
            ] {
                if value < min || value > 10_000_000 {
                    return Err(Error::input(format!(
                        "model profile '{}': mla.{name} = {value} must be between {min} and 10000000",
                        self.id
                    )));
                }
            }
            if a.qk_nope_head_dim + a.qk_rope_head_dim != self.head_dim {
                return Err(Error::input(format!(
                    "model profile '{}': with latent attention head_dim ({}) must equal mla.qk_nope_head_dim + mla.qk_rope_head_dim ({})",
                    self.id,
                    self.head_dim,
                    a.qk_nope_head_dim + a.qk_rope_head_dim
                )));
            }
        }
        if self.sliding_layers > self.num_layers
            || (self.sliding_layers > 0 && self.sliding_window == 0)
        {
            return Err(Error::input(format!(
                "model profile '{}': sliding_layers ({}) must be at most num_layers ({}) and needs a sliding_window",
                self.id, self.sliding_layers, self.num_layers
            )));
        }
        if let Some(q) = &self.quantization {
            if !(1..=16).contains(&q.bits) || q.group_size > 1_000_000 {
                return Err(Error::input(format!(
                    "model profile '{}': quantization.bits = {} must be between 1 and 16 (group_size {} at most 1000000)",
                    self.id, q.bits, q.group_size
                )));
            }
        }
        // Parameters implied by the dimensions (blocks + embeddings and head), in floating point:
        // beyond 10^15 the integer counts could overflow, and no model is that large.
        let (h, l, v) = (
            self.hidden_size as f64,
            self.num_layers as f64,
            self.vocab_size as f64,
        );
        // Every MLP a block may hold: the dense one and the experts.
        let ff = self.intermediate_size as f64
            + self.moe.map_or(0.0, |m| {
                m.num_experts as f64 * m.expert_intermediate_size as f64
                    + m.shared_expert_intermediate_size as f64
            });
        let heads = self.num_heads as f64;
        let attn = match self.mla {
            None => {
                let width = (self.num_heads + 2 * self.num_kv_heads) as f64 * self.head_dim as f64;
                2.0 * h * width
            }
            Some(a) => {
                let (q, kv) = (a.q_lora_rank as f64, a.kv_lora_rank as f64);
                let qk = self.head_dim as f64;
                h * q
                    + q.max(h) * heads * qk
                    + h * (kv + a.qk_rope_head_dim as f64)
                    + kv * heads * (a.qk_nope_head_dim + a.v_head_dim) as f64
                    + heads * a.v_head_dim as f64 * h
            }
        };
        let implied = l * (attn + 3.0 * h * ff) + 2.0 * v * h;
        if implied > 1e15 {
            return Err(Error::input(format!(
                "model profile '{}': its dimensions imply {implied:.2e} parameters, more than any model (1e15); check hidden_size, num_layers, intermediate_size and vocab_size",
                self.id
            )));
        }
        if !self.num_heads.is_multiple_of(self.num_kv_heads) {
            return Err(Error::input(format!(
                "model profile '{}': num_heads ({}) must be a multiple of num_kv_heads ({})",
                self.id, self.num_heads, self.num_kv_heads
            )));
        }
        if self.id.trim().is_empty() {
            return Err(Error::input("model profile: id must not be empty"));
        }
        Ok(())
    }

    /// Copies of its MLP input a token makes in a mean block (one per routed expert in sparse
    /// blocks, one in dense blocks).
    pub fn mlp_input_copies(&self) -> f64 {
        match self.moe {
            None => 1.0,
            Some(m) => {
                let sparse = (self.num_layers - m.dense_layers) as f64;
                (sparse * m.experts_per_token as f64 + m.dense_layers as f64)
                    / self.num_layers as f64
            }
        }
    }

    /// Width of the attention projection (`heads * head_dim`).
    pub fn attn_dim(&self) -> u64 {
        self.num_heads * self.head_dim
    }

    /// Width of K (and of V): `kv_heads * head_dim`.
    pub fn kv_dim(&self) -> u64 {
        self.num_kv_heads * self.head_dim
    }

    /// Keys a query at position `context` attends to, averaged over the blocks: the whole
    /// context, or at most the window in sliding-window blocks.
    pub fn attended_tokens(&self, context: f64) -> f64 {
        let sliding = self.sliding_layers as f64;
        let full = self.num_layers as f64 - sliding;
        (full * context + sliding * context.min(self.sliding_window as f64))
            / self.num_layers as f64
    }

    /// Query-key pairs of causal attention over `s` tokens, averaged over the blocks:
    /// s²/2 in a full block, s·w − w²/2 in a sliding one once `s` exceeds its window `w`.
    pub fn causal_pairs(&self, s: f64) -> f64 {
        let w = self.sliding_window as f64;
        let banded = if s > w {
            s * w - w * w / 2.0
        } else {
            s * s / 2.0
        };
        let sliding = self.sliding_layers as f64;
        let full = self.num_layers as f64 - sliding;
        (full * s * s / 2.0 + sliding * banded) / self.num_layers as f64
    }

    /// KV-cache bytes of one sequence of `context` tokens: a sliding-window block keeps only
    /// its window (as vLLM's hybrid KV-cache manager allocates it).
    pub fn kv_bytes(&self, context: f64, bytes_per_value: f64) -> f64 {
        self.kv_bytes_per_token(bytes_per_value) * self.attended_tokens(context)
    }

    /// KV-cache bytes per token at `bytes_per_value` (2 for fp16): K and V of every KV head, or
    /// with latent attention the latent and the shared rotary key (as vLLM and SGLang cache it).
    pub fn kv_bytes_per_token(&self, bytes_per_value: f64) -> f64 {
        let per_block = match self.mla {
            Some(a) => (a.kv_lora_rank + a.qk_rope_head_dim) as f64,
            None => 2.0 * self.kv_dim() as f64,
        };
        self.num_layers as f64 * per_block * bytes_per_value
    }

    /// Every name this profile answers to, lowercase.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}
