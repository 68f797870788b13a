//! The architecture inventory: every module of a model with its real Hugging Face name and shape.
//!
//! This is the single source of truth for parameter counts. Blocks are alike, so one block is
//! stored once and each of its modules says how many blocks hold it ([`Module::count`]): every
//! block, or for a mixture of experts with dense blocks (DeepSeek's `first_k_dense_replace`,
//! Qwen-MoE's `mlp_only_layers`) the dense MLP in some and the experts in the rest. Counting stays
//! allocation-free after the inventory is built. Wart: a per-block figure the physics reads is
//! the mean over blocks, which is exact for sums (parameters, FLOPs, memory) but not per block.

use serde::Serialize;

use super::profile::{Family, Layout, ModelProfile};
use crate::core::error::{Error, Result};

/// What a module does, so targets can be chosen by role (`q`, `v`, `mlp`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Query projection.
    Q,
    /// Key projection.
    K,
    /// Value projection.
    V,
    /// Fused q, k and v.
    Qkv,
    /// Fused k and v (latent attention's `kv_a_proj_with_mqa` and `kv_b_proj`).
    Kv,
    /// Attention output projection.
    O,
    /// MLP gate projection.
    Gate,
    /// MLP up projection.
    Up,
    /// Fused gate and up.
    GateUp,
    /// The router of a mixture of experts (`mlp.gate`: hidden -> one logit per expert).
    Router,
    /// MLP down projection.
    Down,
    /// A LayerNorm or RMSNorm.
    Norm,
    /// Token (word) embedding.
    TokenEmbedding,
    /// Learned position embedding.
    PositionEmbedding,
    /// Token-type (segment) embedding.
    TokenTypeEmbedding,
    /// Output head (LM head or classifier).
    Head,
    /// Pooler (encoders).
    Pooler,
}

impl Role {
    /// Whether the module belongs to the attention part of a block.
    pub fn is_attention(self) -> bool {
        matches!(
            self,
            Role::Q | Role::K | Role::V | Role::Qkv | Role::Kv | Role::O
        )
    }

    /// Whether the module belongs to the MLP part of a block.
    pub fn is_mlp(self) -> bool {
        matches!(self, Role::Gate | Role::Up | Role::GateUp | Role::Down)
    }
}

/// Shape of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Shape {
    /// A dense layer `out = W·in + b`.
    Linear {
        /// Input features.
        inp: u64,
        /// Output features.
        out: u64,
        /// Whether it has a bias of `out`.
        bias: bool,
    },
    /// An embedding table.
    Embedding {
        /// Number of rows (vocabulary or positions).
        num: u64,
        /// Embedding width.
        dim: u64,
    },
    /// Fused experts (transformers v5): `num` stacked `inp -> out` weights, of which each token
    /// goes through `active`. peft reaches them through `target_parameters`, not
    /// `target_modules`.
    Experts {
        /// Experts stacked.
        num: u64,
        /// Experts each token is routed to.
        active: u64,
        /// Input features of each expert.
        inp: u64,
        /// Output features of each expert.
        out: u64,
    },
    /// A norm: `weight` of `dim` and, for LayerNorm, a bias of `dim`.
    Norm {
        /// Normalised width.
        dim: u64,
        /// Whether it has a bias (LayerNorm).
        bias: bool,
    },
}

impl Shape {
    /// Parameters of the module.
    pub fn params(self) -> u64 {
        match self {
            Shape::Linear { inp, out, bias } => inp * out + if bias { out } else { 0 },
            Shape::Embedding { num, dim } => num * dim,
            Shape::Experts { num, inp, out, .. } => num * inp * out,
            Shape::Norm { dim, bias } => dim * if bias { 2 } else { 1 },
        }
    }

    /// Bias parameters (what peft's `bias="all"` unfreezes).
    pub fn bias_params(self) -> u64 {
        match self {
            Shape::Linear {
                out, bias: true, ..
            } => out,
            Shape::Norm { dim, bias: true } => dim,
            _ => 0,
        }
    }

    /// Matmul weights one token multiplies by (multiply-adds per token in a forward pass): the
    /// routed experts only.
    pub fn matmul_params(self) -> u64 {
        match self {
            Shape::Linear { inp, out, .. } => inp * out,
            Shape::Experts {
                active, inp, out, ..
            } => active * inp * out,
            _ => 0,
        }
    }

    /// Matmul weights stored (every expert): what quantization shrinks.
    pub fn stored_matmul_params(self) -> u64 {
        match self {
            Shape::Experts { num, inp, out, .. } => num * inp * out,
            s => s.matmul_params(),
        }
    }

    /// LoRA's added parameters at rank `r` (A: r x in, B: out x r; per expert for fused experts,
    /// as peft's `target_parameters` adds them).
    pub fn lora_params(self, r: u64) -> u64 {
        match self {
            Shape::Linear { inp, out, .. } => r * (inp + out),
            Shape::Embedding { num, dim } => r * (num + dim),
            Shape::Experts { num, inp, out, .. } => num * r * (inp + out),
            Shape::Norm { .. } => 0,
        }
    }

    /// LoRA's multiply-adds per token at rank `r` (the routed experts only).
    pub fn lora_matmul(self, r: u64) -> u64 {
        match self {
            Shape::Linear { inp, out, .. } => r * (inp + out),
            Shape::Experts {
                active, inp, out, ..
            } => active * r * (inp + out),
            _ => 0,
        }
    }

    /// Whether this is a Linear.
    pub fn is_linear(self) -> bool {
        matches!(self, Shape::Linear { .. })
    }
}

/// One module of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Module {
    /// Hugging Face name; for block modules relative to `{layer_prefix}.N.`.
    pub name: String,
    /// What the module does.
    pub role: Role,
    /// Its shape.
    pub shape: Shape,
    /// Shares its weight with another module (tied LM head): counted once, like torch does.
    pub tied: bool,
    /// Copies the model holds: the blocks that have it (a block module), or 1 (a global one).
    pub count: u64,
}

impl Module {
    fn new(name: impl Into<String>, role: Role, shape: Shape) -> Self {
        Module {
            name: name.into(),
            role,
            shape,
            tied: false,
            // Placed by `Inventory::build`: every block, or 1 for a global module.
            count: 0,
        }
    }

    /// The same module held by `count` blocks.
    fn in_blocks(mut self, count: u64) -> Self {
        self.count = count;
        self
    }

    /// Own parameters (0 for a tied module).
    pub fn params(&self) -> u64 {
        if self.tied {
            0
        } else {
            self.shape.params()
        }
    }

    /// Whether peft's suffix rule selects this module for `target`: the name equals the target
    /// or ends with `.target`.
    pub fn matches_suffix(&self, target: &str) -> bool {
        self.name == target
            || (self.name.len() > target.len()
                && self.name.ends_with(target)
                && self.name.as_bytes()[self.name.len() - target.len() - 1] == b'.')
    }
}

/// A Llama-like block's attention: `q_proj`, `k_proj`, `v_proj`, `o_proj`, or multi-head latent
/// attention (DeepSeek's names): an optional query latent (`q_a_proj`, its norm, `q_b_proj`),
/// the key/value latent with the shared rotary key (`kv_a_proj_with_mqa`, its norm), its
/// expansion to every head's key and value (`kv_b_proj`) and `o_proj` from the value heads.
fn llama_attention(p: &ModelProfile) -> Vec<Module> {
    let h = p.hidden_size;
    let lin = |inp, out, bias| Shape::Linear { inp, out, bias };
    let Some(a) = p.mla else {
        let qb = p.qkv_bias;
        return vec![
            Module::new("self_attn.q_proj", Role::Q, lin(h, p.attn_dim(), qb)),
            Module::new("self_attn.k_proj", Role::K, lin(h, p.kv_dim(), qb)),
            Module::new("self_attn.v_proj", Role::V, lin(h, p.kv_dim(), qb)),
            Module::new(
                "self_attn.o_proj",
                Role::O,
                lin(p.attn_dim(), h, p.linear_bias),
            ),
        ];
    };
    // `attention_bias` puts biases on the projections out of the hidden state and on o_proj.
    let b = p.qkv_bias;
    let heads = p.num_heads;
    let latent_norm = |dim| Shape::Norm { dim, bias: false };
    let mut modules = if a.q_lora_rank == 0 {
        vec![Module::new(
            "self_attn.q_proj",
            Role::Q,
            lin(h, p.attn_dim(), false),
        )]
    } else {
        vec![
            Module::new("self_attn.q_a_proj", Role::Q, lin(h, a.q_lora_rank, b)),
            Module::new(
                "self_attn.q_a_layernorm",
                Role::Norm,
                latent_norm(a.q_lora_rank),
            ),
            Module::new(
                "self_attn.q_b_proj",
                Role::Q,
                lin(a.q_lora_rank, p.attn_dim(), false),
            ),
        ]
    };
    modules.extend([
        Module::new(
            "self_attn.kv_a_proj_with_mqa",
            Role::Kv,
            lin(h, a.kv_lora_rank + a.qk_rope_head_dim, b),
        ),
        Module::new(
            "self_attn.kv_a_layernorm",
            Role::Norm,
            latent_norm(a.kv_lora_rank),
        ),
        Module::new(
            "self_attn.kv_b_proj",
            Role::Kv,
            lin(
                a.kv_lora_rank,
                heads * (a.qk_nope_head_dim + a.v_head_dim),
                false,
            ),
        ),
        Module::new("self_attn.o_proj", Role::O, lin(heads * a.v_head_dim, h, b)),
    ]);
    modules
}

/// A Llama-like block's MLP: `gate_proj`, `up_proj`, `down_proj`, or for a mixture of experts
/// the router, the fused experts (transformers v5 names) and any shared experts; blocks the
/// config keeps dense hold the dense MLP instead.
fn llama_mlp(p: &ModelProfile, bias: bool) -> Vec<Module> {
    let (h, ff) = (p.hidden_size, p.intermediate_size);
    let lin = |inp, out| Shape::Linear { inp, out, bias };
    let dense = |blocks| {
        [
            Module::new("mlp.gate_proj", Role::Gate, lin(h, ff)).in_blocks(blocks),
            Module::new("mlp.up_proj", Role::Up, lin(h, ff)).in_blocks(blocks),
            Module::new("mlp.down_proj", Role::Down, lin(ff, h)).in_blocks(blocks),
        ]
    };
    let Some(m) = p.moe else {
        return dense(p.num_layers).to_vec();
    };
    let sparse = p.num_layers - m.dense_layers;
    let experts = |inp, out| Shape::Experts {
        num: m.num_experts,
        active: m.experts_per_token,
        inp,
        out,
    };
    let e = m.expert_intermediate_size;
    let s = m.shared_expert_intermediate_size;
    let mut modules: Vec<Module> = Vec::new();
    if m.dense_layers > 0 {
        modules.extend(dense(m.dense_layers));
    }
    modules.extend([
        Module::new(
            "mlp.gate",
            Role::Router,
            Shape::Linear {
                inp: h,
                out: m.num_experts,
                bias: false,
            },
        ),
        Module::new("mlp.experts.gate_up_proj", Role::GateUp, experts(h, 2 * e)),
        Module::new("mlp.experts.down_proj", Role::Down, experts(e, h)),
    ]);
    if s > 0 {
        // Qwen-MoE's `shared_expert` is gated by one logit; DeepSeek's `shared_experts` is not.
        let gated = p.family == Family::Qwen2Moe;
        let group = if gated {
            "shared_expert"
        } else {
            "shared_experts"
        };
        let name = |leaf: &str| format!("mlp.{group}.{leaf}");
        modules.extend([
            Module::new(name("gate_proj"), Role::Gate, lin(h, s)),
            Module::new(name("up_proj"), Role::Up, lin(h, s)),
            Module::new(name("down_proj"), Role::Down, lin(s, h)),
        ]);
        if gated {
            modules.push(Module::new(
                "mlp.shared_expert_gate",
                Role::Router,
                Shape::Linear {
                    inp: h,
                    out: 1,
                    bias: false,
                },
            ));
        }
    }
    modules
        .into_iter()
        .map(|x| if x.count == 0 { x.in_blocks(sparse) } else { x })
        .collect()
}

/// What the model is loaded as: decides the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Causal language model with its LM head (decoders).
    #[default]
    CausalLm,
    /// Sequence classification: the LM head is replaced by a classifier of `num_labels`.
    SeqCls,
    /// The bare backbone (BertModel, or a decoder without its LM head).
    FeatureExtraction,
}

impl Task {
    /// The kebab-case name, e.g. `causal-lm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::CausalLm => "causal-lm",
            Task::SeqCls => "seq-cls",
            Task::FeatureExtraction => "feature-extraction",
        }
    }
}

/// The modules of a model loaded for a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// Name prefix of the blocks, e.g. `model.layers`.
    pub layer_prefix: &'static str,
    /// Number of blocks.
    pub num_layers: u64,
    /// One block; every block has the same modules.
    pub layer: Vec<Module>,
    /// Embeddings, final norm, head, pooler, classifier: full names.
    pub global: Vec<Module>,
    /// The task the model is loaded for.
    pub task: Task,
    /// The task head that peft wraps in `modules_to_save` for SEQ_CLS (index into `global`).
    pub classifier: Option<usize>,
}

impl Inventory {
    /// Expand a profile into its modules for a task.
    pub fn build(p: &ModelProfile, task: Task, num_labels: u64) -> Result<Self> {
        if task == Task::CausalLm && p.family.is_encoder() {
            return Err(Error::input(format!(
                "{} is an encoder and has no causal LM head: use --task feature-extraction or --task seq-cls",
                p.id
            )));
        }
        if task == Task::SeqCls && num_labels == 0 {
            return Err(Error::Invalid {
                field: "num-labels",
                value: "0".into(),
                expected: "at least 1 for a sequence-classification head".into(),
            });
        }
        let h = p.hidden_size;
        let ff = p.intermediate_size;
        let lin = |inp, out, bias| Shape::Linear { inp, out, bias };
        let norm = Shape::Norm {
            dim: h,
            bias: p.norm == super::Norm::Layernorm,
        };
        let (qb, lb) = (p.qkv_bias, p.linear_bias);
        let (prefix, layer, embed, final_norm, head_name) = match p.family.layout() {
            Layout::LlamaLike => (
                "model.layers",
                llama_attention(p)
                    .into_iter()
                    .chain(llama_mlp(p, lb))
                    .chain([
                        Module::new("input_layernorm", Role::Norm, norm),
                        Module::new("post_attention_layernorm", Role::Norm, norm),
                    ])
                    .collect(),
                "model.embed_tokens",
                Some("model.norm"),
                "lm_head",
            ),
            Layout::Glm => (
                "model.layers",
                vec![
                    Module::new("self_attn.q_proj", Role::Q, lin(h, p.attn_dim(), qb)),
                    Module::new("self_attn.k_proj", Role::K, lin(h, p.kv_dim(), qb)),
                    Module::new("self_attn.v_proj", Role::V, lin(h, p.kv_dim(), qb)),
                    Module::new("self_attn.o_proj", Role::O, lin(p.attn_dim(), h, lb)),
                    Module::new("mlp.gate_up_proj", Role::GateUp, lin(h, 2 * ff, lb)),
                    Module::new("mlp.down_proj", Role::Down, lin(ff, h, lb)),
                    Module::new("input_layernorm", Role::Norm, norm),
                    Module::new("post_attention_layernorm", Role::Norm, norm),
                ],
                "model.embed_tokens",
                Some("model.norm"),
                "lm_head",
            ),
            Layout::Internlm2 => (
                "model.layers",
                vec![
                    Module::new(
                        "attention.wqkv",
                        Role::Qkv,
                        lin(h, p.attn_dim() + 2 * p.kv_dim(), qb),
                    ),
                    Module::new("attention.wo", Role::O, lin(p.attn_dim(), h, lb)),
                    Module::new("feed_forward.w1", Role::Gate, lin(h, ff, lb)),
                    Module::new("feed_forward.w3", Role::Up, lin(h, ff, lb)),
                    Module::new("feed_forward.w2", Role::Down, lin(ff, h, lb)),
                    Module::new("attention_norm", Role::Norm, norm),
                    Module::new("ffn_norm", Role::Norm, norm),
                ],
                "model.tok_embeddings",
                Some("model.norm"),
                "output",
            ),
            Layout::Baichuan => (
                "model.layers",
                vec![
                    Module::new(
                        "self_attn.W_pack",
                        Role::Qkv,
                        lin(h, p.attn_dim() + 2 * p.kv_dim(), qb),
                    ),
                    Module::new("self_attn.o_proj", Role::O, lin(p.attn_dim(), h, lb)),
                    Module::new("mlp.gate_proj", Role::Gate, lin(h, ff, lb)),
                    Module::new("mlp.up_proj", Role::Up, lin(h, ff, lb)),
                    Module::new("mlp.down_proj", Role::Down, lin(ff, h, lb)),
                    Module::new("input_layernorm", Role::Norm, norm),
                    Module::new("post_attention_layernorm", Role::Norm, norm),
                ],
                "model.embed_tokens",
                Some("model.norm"),
                "lm_head",
            ),
            Layout::Phi3 => (
                "model.layers",
                vec![
                    Module::new(
                        "self_attn.qkv_proj",
                        Role::Qkv,
                        lin(h, p.attn_dim() + 2 * p.kv_dim(), qb),
                    ),
                    Module::new("self_attn.o_proj", Role::O, lin(p.attn_dim(), h, lb)),
                    Module::new("mlp.gate_up_proj", Role::GateUp, lin(h, 2 * ff, lb)),
                    Module::new("mlp.down_proj", Role::Down, lin(ff, h, lb)),
                    Module::new("input_layernorm", Role::Norm, norm),
                    Module::new("post_attention_layernorm", Role::Norm, norm),
                ],
                "model.embed_tokens",
                Some("model.norm"),
                "lm_head",
            ),
            Layout::QwenV1 => (
                "transformer.h",
                vec![
                    Module::new(
                        "attn.c_attn",
                        Role::Qkv,
                        lin(h, p.attn_dim() + 2 * p.kv_dim(), qb),
                    ),
                    Module::new("attn.c_proj", Role::O, lin(p.attn_dim(), h, lb)),
                    // QWenMLP: a1 = w1(x), a2 = w2(x), c_proj(a1 * silu(a2)): w2 is the gate.
                    Module::new("mlp.w1", Role::Up, lin(h, ff, lb)),
                    Module::new("mlp.w2", Role::Gate, lin(h, ff, lb)),
                    Module::new("mlp.c_proj", Role::Down, lin(ff, h, lb)),
                    Module::new("ln_1", Role::Norm, norm),
                    Module::new("ln_2", Role::Norm, norm),
                ],
                "transformer.wte",
                Some("transformer.ln_f"),
                "lm_head",
            ),
            Layout::ChatGlm => (
                "transformer.encoder.layers",
                vec![
                    Module::new(
                        "self_attention.query_key_value",
                        Role::Qkv,
                        lin(h, p.attn_dim() + 2 * p.kv_dim(), qb),
                    ),
                    Module::new("self_attention.dense", Role::O, lin(p.attn_dim(), h, lb)),
                    Module::new("mlp.dense_h_to_4h", Role::GateUp, lin(h, 2 * ff, lb)),
                    Module::new("mlp.dense_4h_to_h", Role::Down, lin(ff, h, lb)),
                    Module::new("input_layernorm", Role::Norm, norm),
                    Module::new("post_attention_layernorm", Role::Norm, norm),
                ],
                "transformer.embedding.word_embeddings",
                Some("transformer.encoder.final_layernorm"),
                "transformer.output_layer",
            ),
            Layout::Bert => (
                "encoder.layer",
                vec![
                    Module::new("attention.self.query", Role::Q, lin(h, p.attn_dim(), qb)),
                    Module::new("attention.self.key", Role::K, lin(h, p.kv_dim(), qb)),
                    Module::new("attention.self.value", Role::V, lin(h, p.kv_dim(), qb)),
                    Module::new("attention.output.dense", Role::O, lin(p.attn_dim(), h, lb)),
                    Module::new("attention.output.LayerNorm", Role::Norm, norm),
                    Module::new("intermediate.dense", Role::Up, lin(h, ff, lb)),
                    Module::new("output.dense", Role::Down, lin(ff, h, lb)),
                    Module::new("output.LayerNorm", Role::Norm, norm),
                ],
                "embeddings.word_embeddings",
                None,
                "",
            ),
        };

        let mut layer = layer;
        if p.family.has_qk_norm() {
            // Qwen3: RMSNorm over each head's q and k (`head_dim` weights each).
            let head_norm = Shape::Norm {
                dim: p.head_dim,
                bias: false,
            };
            layer.push(Module::new("self_attn.q_norm", Role::Norm, head_norm));
            layer.push(Module::new("self_attn.k_norm", Role::Norm, head_norm));
        }
        if p.family.has_sandwich_norms() {
            layer.push(Module::new("pre_feedforward_layernorm", Role::Norm, norm));
            layer.push(Module::new("post_feedforward_layernorm", Role::Norm, norm));
        }
        if p.family.has_post_sublayer_norms() {
            layer.push(Module::new("post_self_attn_layernorm", Role::Norm, norm));
            layer.push(Module::new("post_mlp_layernorm", Role::Norm, norm));
        }
        for m in &mut layer {
            if m.count == 0 {
                m.count = p.num_layers;
            }
        }
        let mut global = vec![Module::new(
            embed,
            Role::TokenEmbedding,
            Shape::Embedding {
                num: p.vocab_size,
                dim: h,
            },
        )];
        if p.family.layout() == Layout::Bert {
            global.push(Module::new(
                "embeddings.position_embeddings",
                Role::PositionEmbedding,
                Shape::Embedding {
                    num: p.max_position,
                    dim: h,
                },
            ));
            if p.type_vocab_size > 0 {
                global.push(Module::new(
                    "embeddings.token_type_embeddings",
                    Role::TokenTypeEmbedding,
                    Shape::Embedding {
                        num: p.type_vocab_size,
                        dim: h,
                    },
                ));
            }
            global.push(Module::new("embeddings.LayerNorm", Role::Norm, norm));
            if p.pooler {
                global.push(Module::new("pooler.dense", Role::Pooler, lin(h, h, true)));
            }
        }
        if let Some(name) = final_norm {
            global.push(Module::new(name, Role::Norm, norm));
        }
        let mut classifier = None;
        match task {
            Task::CausalLm => {
                let mut head = Module::new(head_name, Role::Head, lin(h, p.vocab_size, false));
                head.tied = p.tie_word_embeddings;
                global.push(head);
            }
            Task::SeqCls => {
                // transformers: BertForSequenceClassification.classifier has a bias; the
                // decoder *ForSequenceClassification heads are `score`, without bias.
                let (name, bias) = if p.family.is_encoder() {
                    ("classifier", true)
                } else {
                    ("score", false)
                };
                classifier = Some(global.len());
                global.push(Module::new(name, Role::Head, lin(h, num_labels, bias)));
            }
            Task::FeatureExtraction => {}
        }
        for m in &mut global {
            m.count = 1;
        }
        Ok(Inventory {
            layer_prefix: prefix,
            num_layers: p.num_layers,
            layer,
            global,
            task,
            classifier,
        })
    }

    /// Every module, each held `count` times.
    fn modules(&self) -> impl Iterator<Item = &Module> {
        self.layer.iter().chain(self.global.iter())
    }

    /// The sum over every copy of every module of `f`.
    fn sum(&self, f: impl Fn(&Module) -> u64) -> u64 {
        self.modules().map(|m| m.count * f(m)).sum()
    }

    /// Total parameters, tied weights counted once.
    pub fn total_params(&self) -> u64 {
        self.sum(Module::params)
    }

    /// Parameters one token goes through: the total less the experts it is not routed to.
    pub fn active_params(&self) -> u64 {
        let idle = self.sum(|m| match m.shape {
            Shape::Experts {
                num,
                active,
                inp,
                out,
            } => (num - active) * inp * out,
            _ => 0,
        });
        self.total_params() - idle
    }

    /// Matmul weights the blocks store (every expert): what quantization shrinks (GPTQ/AWQ/GGUF
    /// in serving, NF4 in QLoRA); norms and embeddings are not among them.
    pub fn block_stored_matmul(&self) -> u64 {
        self.layer
            .iter()
            .map(|m| m.count * m.shape.stored_matmul_params())
            .sum()
    }

    /// Weights of the blocks' fused experts (0 for a dense model).
    pub fn expert_params(&self) -> u64 {
        self.layer
            .iter()
            .filter(|m| matches!(m.shape, Shape::Experts { .. }))
            .map(|m| m.count * m.shape.stored_matmul_params())
            .sum()
    }

    /// Whether a block holds fused experts (a mixture of experts).
    pub fn has_experts(&self) -> bool {
        self.layer
            .iter()
            .any(|m| matches!(m.shape, Shape::Experts { .. }))
    }

    /// Parameters that take part in matmuls per token (every Linear, including the head even if
    /// tied). Embedding lookups are not matmuls.
    pub fn matmul_params(&self) -> u64 {
        self.sum(|m| m.shape.matmul_params())
    }

    /// Matmul weights one token multiplies by in a mean block (the routed experts only).
    pub fn block_matmul_mean(&self) -> f64 {
        self.layer
            .iter()
            .map(|m| (m.count * m.shape.matmul_params()) as f64)
            .sum::<f64>()
            / self.num_layers as f64
    }

    /// MLP width one token goes through in a mean block: the inputs of the down projections it
    /// passes (the dense MLP's, or its routed experts' and shared expert's), over the blocks.
    pub fn mean_active_mlp_width(&self) -> f64 {
        self.layer
            .iter()
            .filter(|m| m.role == Role::Down)
            .map(|m| {
                let width = match m.shape {
                    Shape::Linear { inp, .. } => inp,
                    Shape::Experts { active, inp, .. } => active * inp,
                    _ => 0,
                };
                (m.count * width) as f64
            })
            .sum::<f64>()
            / self.num_layers as f64
    }

    /// All bias parameters (Linear and LayerNorm biases).
    pub fn bias_params(&self) -> u64 {
        self.sum(|m| m.shape.bias_params())
    }

    /// The LM head, if the task has one.
    pub fn head(&self) -> Option<&Module> {
        self.global.iter().find(|m| m.role == Role::Head)
    }

    /// Names a target may use: block module names and global module names.
    pub fn target_names(&self) -> Vec<&str> {
        self.layer
            .iter()
            .chain(self.global.iter())
            .filter(|m| m.role != Role::Norm)
            .map(|m| m.name.as_str())
            .collect()
    }
}
