//! PEFT methods with peft's semantics: what each method adds or unfreezes, and the counts that
//! `peft`'s `get_nb_trainable_parameters()` prints.
//!
//! [`MethodConfig`] is what the user asked for; [`ResolvedMethod`] is that request applied to one
//! [`Inventory`]: the concrete modules touched and every count the physics needs.

mod targets;

use serde::Serialize;

pub use targets::{
    peft_module_names, resolve as resolve_targets, split_list, target_names, ModuleRef, Selectable,
};

use crate::core::arch::{Family, Inventory, Layout, ModelProfile, Role, Shape, Task};
use crate::core::error::{Error, Result};

/// The PEFT method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MethodKind {
    /// LoRA: low-rank A/B matrices on the target Linears.
    #[default]
    Lora,
    /// DoRA: LoRA plus a trainable magnitude vector per target.
    Dora,
    /// QLoRA: LoRA on a 4-bit quantized base model.
    Qlora,
    /// Bottleneck adapters inside each block.
    Adapter,
    /// Prompt tuning: trainable virtual token embeddings.
    Prompt,
    /// Prefix tuning: trainable key/value prefixes in every block.
    Prefix,
    /// P-tuning: virtual tokens produced by a prompt encoder.
    Ptuning,
    /// IA3: learned scaling vectors on the target modules.
    Ia3,
    /// Full fine-tuning: every base weight trainable.
    Full,
}

impl MethodKind {
    /// Every method, in display order.
    pub const ALL: &'static [MethodKind] = &[
        MethodKind::Lora,
        MethodKind::Dora,
        MethodKind::Qlora,
        MethodKind::Adapter,
        MethodKind::Prompt,
        MethodKind::Prefix,
        MethodKind::Ptuning,
        MethodKind::Ia3,
        MethodKind::Full,
    ];

    /// The lowercase name, e.g. `qlora`.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Lora => "lora",
            MethodKind::Dora => "dora",
            MethodKind::Qlora => "qlora",
            MethodKind::Adapter => "adapter",
            MethodKind::Prompt => "prompt",
            MethodKind::Prefix => "prefix",
            MethodKind::Ptuning => "ptuning",
            MethodKind::Ia3 => "ia3",
            MethodKind::Full => "full",
        }
    }

    /// Parse a method name, accepting common spellings.
    pub fn parse(s: &str) -> Result<Self> {
        let k = match crate::core::data::normalise(s).as_str() {
            "lora" => MethodKind::Lora,
            "dora" => MethodKind::Dora,
            "qlora" | "q-lora" => MethodKind::Qlora,
            "adapter" | "adapters" | "bottleneck" | "houlsby" | "pfeiffer" => MethodKind::Adapter,
            "prompt" | "prompt-tuning" => MethodKind::Prompt,
            "prefix" | "prefix-tuning" | "ptuning-v2" | "p-tuning-v2" => MethodKind::Prefix,
            "ptuning" | "p-tuning" => MethodKind::Ptuning,
            "ia3" => MethodKind::Ia3,
            "full" | "full-ft" | "sft" => MethodKind::Full,
            other => {
                return Err(Error::input(format!(
                    "unknown method '{other}': use one of lora, dora, qlora, adapter, prompt, prefix, ptuning, ia3, full"
                )))
            }
        };
        Ok(k)
    }

    /// LoRA, DoRA or QLoRA.
    pub fn is_lora(self) -> bool {
        matches!(
            self,
            MethodKind::Lora | MethodKind::Dora | MethodKind::Qlora
        )
    }

    /// Prompt, prefix or P-tuning: adds virtual tokens, every base weight frozen.
    pub fn is_prompt_learning(self) -> bool {
        matches!(
            self,
            MethodKind::Prompt | MethodKind::Prefix | MethodKind::Ptuning
        )
    }
}

/// peft's LoRA `bias` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LoraBias {
    /// No bias is trained.
    #[default]
    None,
    /// Every bias in the model is trained.
    All,
    /// Only the biases of the LoRA-targeted modules are trained.
    LoraOnly,
}

/// Bottleneck adapter placement (AdapterHub names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AdapterStyle {
    /// `seq_bn`: one bottleneck after the MLP of each block.
    #[default]
    Pfeiffer,
    /// `double_seq_bn`: one after attention and one after the MLP.
    Houlsby,
}

impl crate::core::units::Named for MethodKind {
    const ALL: &'static [Self] = MethodKind::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl AdapterStyle {
    /// The name people type (`pfeiffer`, `houlsby`).
    pub fn as_str(self) -> &'static str {
        match self {
            AdapterStyle::Pfeiffer => "pfeiffer",
            AdapterStyle::Houlsby => "houlsby",
        }
    }
}

crate::core::units::named!(
    AdapterStyle,
    [AdapterStyle::Pfeiffer, AdapterStyle::Houlsby]
);

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodConfig {
    /// The PEFT method.
    pub kind: MethodKind,
    /// LoRA rank `r`.
    pub rank: u64,
    /// LoRA `alpha` scaling.
    pub alpha: f64,
    /// `None`: the default targets of the method and model.
    pub targets: Option<Vec<String>>,
    /// peft's LoRA `bias` option.
    pub lora_bias: LoraBias,
    /// Bottleneck adapter placement.
    pub adapter_style: AdapterStyle,
    /// Adapter reduction factor: bottleneck = hidden size / factor (default 16).
    pub reduction_factor: Option<u64>,
    /// Adapter bottleneck width; overrides `reduction_factor`.
    pub bottleneck: Option<u64>,
    /// Virtual tokens of prompt, prefix and P-tuning.
    pub virtual_tokens: u64,
    /// Prefix tuning with a reparameterisation MLP (`prefix_projection`).
    pub prefix_projection: bool,
    /// P-tuning / prefix projection hidden size (`encoder_hidden_size`), default the token dim.
    pub encoder_hidden: Option<u64>,
    /// IA3 `feedforward_modules` (scale the input instead of the output).
    pub feedforward_modules: Option<Vec<String>>,
    /// Modules trained in full alongside the adapter (peft `modules_to_save`).
    pub modules_to_save: Vec<String>,
}

impl Default for MethodConfig {
    fn default() -> Self {
        MethodConfig {
            kind: MethodKind::Lora,
            rank: 8,
            alpha: 16.0,
            targets: None,
            lora_bias: LoraBias::None,
            adapter_style: AdapterStyle::Pfeiffer,
            reduction_factor: None,
            bottleneck: None,
            virtual_tokens: 20,
            prefix_projection: false,
            encoder_hidden: None,
            feedforward_modules: None,
            modules_to_save: Vec::new(),
        }
    }
}

impl MethodConfig {
    /// The defaults of `kind`.
    pub fn new(kind: MethodKind) -> Self {
        MethodConfig {
            kind,
            ..Self::default()
        }
    }
}

/// Parameter counts as peft prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct ParamCounts {
    /// The base model as loaded for the task.
    pub total: u64,
    /// peft's "trainable params".
    pub trainable: u64,
    /// peft's "all params": base + added modules + trainable copies of `modules_to_save`.
    pub all: u64,
    /// Parameters the method adds (LoRA A/B, adapters, prompts, IA3 vectors, DoRA magnitudes).
    pub added: u64,
    /// Base parameters unfrozen in place (full fine-tuning, `bias="all"`).
    pub base_unfrozen: u64,
    /// Trainable copies of `modules_to_save` (and the SEQ_CLS head).
    pub saved_copies: u64,
}

impl ParamCounts {
    /// peft's `trainable%`: trainable / all * 100.
    pub fn trainable_percent(&self) -> f64 {
        if self.all == 0 {
            0.0
        } else {
            100.0 * self.trainable as f64 / self.all as f64
        }
    }
}

/// A method applied to one model: every module it touches and every count.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedMethod {
    /// The configuration the method was resolved from.
    pub config: MethodConfig,
    /// Parameter counts as peft prints them.
    pub counts: ParamCounts,
    /// Modules with LoRA (or IA3 vectors).
    pub targets: Vec<ModuleRef>,
    /// Names of the targets as the user would pass them, for display.
    pub target_names: Vec<String>,
    /// Modules trained in full as copies.
    pub saved: Vec<ModuleRef>,
    /// Bottleneck width (adapters).
    pub bottleneck: u64,
    /// Virtual tokens added to every sequence (prompt tuning / P-tuning) or KV prefix (prefix).
    pub virtual_tokens: u64,
    /// Notes to print with the result (defaults used, conventions chosen).
    pub notes: Vec<String>,
}

impl ResolvedMethod {
    /// Added matmul parameters per token in a mean block's forward (LoRA A and B; adapters' two
    /// projections) — the method's extra forward FLOPs are twice this.
    pub fn added_matmul_per_layer(&self, inv: &Inventory) -> f64 {
        let k = self.config.kind;
        if k.is_lora() {
            self.targets
                .iter()
                .filter(|r| matches!(r, ModuleRef::Layer(_)))
                .map(|r| {
                    let m = r.module(inv);
                    (m.count * m.shape.lora_matmul(self.config.rank)) as f64
                })
                .sum::<f64>()
                / inv.num_layers as f64
        } else if k == MethodKind::Adapter {
            let per = 2 * self.bottleneck * hidden_of(inv);
            (per * self.adapters_per_layer()) as f64
        } else {
            0.0
        }
    }

    /// Bottleneck adapters per block: 1 for Pfeiffer, 2 for Houlsby.
    pub fn adapters_per_layer(&self) -> u64 {
        match self.config.adapter_style {
            AdapterStyle::Pfeiffer => 1,
            AdapterStyle::Houlsby => 2,
        }
    }
}

fn hidden_of(inv: &Inventory) -> u64 {
    inv.global
        .iter()
        .find_map(|m| match m.shape {
            Shape::Embedding { dim, .. } if m.role == Role::TokenEmbedding => Some(dim),
            _ => None,
        })
        .unwrap_or(0)
}

/// peft's default LoRA targets (`TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`), or the
/// model authors' where peft has none.
fn default_lora_targets(p: &ModelProfile) -> (Vec<String>, Option<String>) {
    if let Some(t) = &p.default_targets {
        let note = p.default_targets_source.clone().map(|s| {
            format!(
                "default targets {} from {s} (our default, not peft's)",
                t.join(",")
            )
        });
        return (t.clone(), note);
    }
    // Latent attention: the projections into the heads' queries and keys/values stand in for
    // q_proj,v_proj.
    let latent_q = match p.mla {
        Some(a) if a.q_lora_rank > 0 => "q_b_proj",
        _ => "q_proj",
    };
    let t: &[&str] = match p.family {
        Family::Chatglm => &["query_key_value"],
        Family::Bert | Family::XlmRoberta => &["query", "value"],
        Family::DeepseekV2 | Family::DeepseekV3 | Family::Minicpm3 => &[latent_q, "kv_b_proj"],
        Family::Glm | Family::Glm4 => &["q_proj", "v_proj"],
        Family::Internlm2 => &["wqkv"],
        Family::Baichuan => &["W_pack"],
        Family::Llama
        | Family::Mistral
        | Family::Qwen2
        | Family::Qwen3
        | Family::Mixtral
        | Family::Qwen3Moe
        | Family::Qwen2Moe
        | Family::Gemma2
        | Family::Gemma3Text => &["q_proj", "v_proj"],
        Family::Phi3 => &["qkv_proj"],
        Family::Qwen => &["c_attn", "c_proj", "w1", "w2"],
        Family::Minicpm => &["q_proj", "v_proj"],
    };
    let note = match p.family {
        Family::Qwen | Family::Minicpm => Some(format!(
            "peft has no default targets for model_type '{}': using the authors' {} (our default, not peft's)",
            p.family.as_str(),
            t.join(",")
        )),
        Family::Qwen3Moe | Family::Qwen2Moe => Some(format!(
            "peft has no default targets for model_type '{}': using q_proj,v_proj as for its dense relative (our default, not peft's); the experts take target_parameters (targets experts.gate_up_proj,experts.down_proj)",
            p.family.as_str()
        )),
        Family::Phi3 | Family::Internlm2 | Family::Baichuan => Some(format!(
            "peft has no default targets for model_type '{}': using the fused {}, which holds peft's usual q_proj,v_proj (our default, not peft's)",
            p.family.as_str(),
            t.join(",")
        )),
        Family::Glm | Family::Glm4 => Some(format!(
            "peft has no default targets for model_type '{}': using q_proj,v_proj as for llama (our default, not peft's)",
            p.family.as_str()
        )),
        Family::DeepseekV2 | Family::DeepseekV3 | Family::Minicpm3 => Some(format!(
            "peft has no default targets for model_type '{}': using {}, the projections into the heads' queries and values under latent attention (our default, not peft's){}",
            p.family.as_str(),
            t.join(","),
            if p.moe.is_some() {
                "; the experts take target_parameters (targets experts.gate_up_proj,experts.down_proj)"
            } else {
                ""
            }
        )),
        _ => None,
    };
    (t.iter().map(|s| s.to_string()).collect(), note)
}

/// peft's default IA3 targets and feedforward modules (`..._TO_IA3_TARGET_MODULES_MAPPING`,
/// `..._TO_IA3_FEEDFORWARD_MODULES_MAPPING`); analogous choices where peft has none.
fn default_ia3(p: &ModelProfile) -> (Vec<&'static str>, Vec<&'static str>, Option<String>) {
    match p.family {
        Family::Llama | Family::Mistral => (vec!["k_proj", "v_proj", "down_proj"], vec!["down_proj"], None),
        Family::Qwen2 | Family::Qwen3 | Family::Gemma2 | Family::Gemma3Text => {
            (vec!["q_proj", "v_proj", "down_proj"], vec!["down_proj"], None)
        }
        // peft's mixtral default names the per-expert `w2` of transformers v4, which v5's fused
        // experts no longer have; IA3 cannot scale a 3-D expert parameter.
        Family::Mixtral | Family::Qwen3Moe | Family::Qwen2Moe => (
            vec!["k_proj", "v_proj"],
            vec![],
            Some(format!(
                "IA3 on '{}': k_proj,v_proj only (the fused experts of transformers v5 are not Linear modules IA3 can scale)",
                p.family.as_str()
            )),
        ),
        Family::Phi3 => (
            vec!["qkv_proj", "down_proj"],
            vec!["down_proj"],
            Some("peft has no IA3 default for 'phi3': using the fused qkv_proj + feedforward down_proj".into()),
        ),
        Family::Bert => (vec!["key", "value", "output.dense"], vec!["output.dense"], None),
        Family::XlmRoberta => (
            vec!["key", "value", "output.dense"],
            vec!["output.dense"],
            Some("peft has no IA3 default for 'xlm-roberta': using bert's key,value,output.dense".into()),
        ),
        Family::DeepseekV2 | Family::DeepseekV3 => (
            vec!["kv_b_proj"],
            vec![],
            Some(format!(
                "peft has no IA3 default for '{}': using kv_b_proj, the keys and values of its latent attention (the fused experts are not Linear modules IA3 can scale)",
                p.family.as_str()
            )),
        ),
        Family::Minicpm3 => (
            vec!["kv_b_proj", "down_proj"],
            vec!["down_proj"],
            Some("peft has no IA3 default for 'minicpm3': using kv_b_proj (keys and values of its latent attention) + feedforward down_proj".into()),
        ),
        Family::Glm | Family::Glm4 => (
            vec!["k_proj", "v_proj", "down_proj"],
            vec!["down_proj"],
            Some(format!("peft has no IA3 default for '{}': using llama's k_proj,v_proj,down_proj", p.family.as_str())),
        ),
        Family::Internlm2 => (
            vec!["wqkv", "w2"],
            vec!["w2"],
            Some("peft has no IA3 default for 'internlm2': using the fused wqkv + feedforward w2".into()),
        ),
        Family::Baichuan => (
            vec!["W_pack", "down_proj"],
            vec!["down_proj"],
            Some("peft has no IA3 default for 'baichuan': using the fused W_pack + feedforward down_proj".into()),
        ),
        Family::Minicpm => (
            vec!["k_proj", "v_proj", "down_proj"],
            vec!["down_proj"],
            Some("peft has no IA3 default for 'minicpm': using llama's k_proj,v_proj,down_proj".into()),
        ),
        Family::Chatglm => (
            vec!["query_key_value", "dense_4h_to_h"],
            vec!["dense_4h_to_h"],
            Some("peft has no IA3 default for 'chatglm': using query_key_value + feedforward dense_4h_to_h".into()),
        ),
        Family::Qwen => (
            vec!["c_attn", "mlp.c_proj"],
            vec!["mlp.c_proj"],
            Some("peft has no IA3 default for 'qwen': using c_attn + feedforward mlp.c_proj".into()),
        ),
    }
}

/// `1 <= v <= max` for the field `field` (its canonical name; the CLI shows it as a flag).
fn check_positive(field: &'static str, v: u64, max: u64) -> Result<()> {
    crate::core::estimate::workload::bounded(field, v, 1, max)
}

/// Apply a method to a model loaded as `inv`.
pub fn resolve(p: &ModelProfile, inv: &Inventory, cfg: &MethodConfig) -> Result<ResolvedMethod> {
    let total = inv.total_params();
    let h = p.hidden_size;
    let l = p.num_layers;
    let mut notes = Vec::new();
    let mut added: u64 = 0;
    let mut base_unfrozen: u64 = 0;
    let mut targets = Vec::new();
    let mut target_names = Vec::new();
    let mut bottleneck = 0;
    let mut virtual_tokens = 0;

    match cfg.kind {
        k @ (MethodKind::Lora | MethodKind::Dora | MethodKind::Qlora) => {
            check_positive("rank", cfg.rank, 65_536)?;
            let (names, note) = match &cfg.targets {
                Some(t) => (t.clone(), None),
                None if k == MethodKind::Qlora => (
                    vec!["all-linear".to_string()],
                    Some("QLoRA default targets: all-linear (as in the QLoRA paper)".to_string()),
                ),
                None => default_lora_targets(p),
            };
            notes.extend(note);
            targets = resolve_targets(inv, &names, Selectable::LinearOrEmbedding)?;
            target_names = names;
            for r in &targets {
                let m = r.module(inv);
                // transformers' Qwen2MoeTopKRouter is no nn.Linear: peft refuses to wrap it.
                if p.family == Family::Qwen2Moe && m.name == "mlp.gate" {
                    return Err(Error::input(
                        "target 'gate': qwen2_moe's router (Qwen2MoeTopKRouter) is not a Linear module, and peft refuses to wrap it; target the experts (experts.gate_up_proj,experts.down_proj) or the shared expert (shared_expert.gate_proj, ...)",
                    ));
                }
                let n = r.count(inv);
                // DoRA adds a magnitude per output feature (per embedding column).
                let magnitude = match (k, m.shape) {
                    (MethodKind::Dora, Shape::Linear { out, .. }) => out,
                    (MethodKind::Dora, Shape::Embedding { dim, .. }) => dim,
                    _ => 0,
                };
                let per = m.shape.lora_params(cfg.rank) + magnitude;
                added += n * per;
            }
            match cfg.lora_bias {
                LoraBias::None => {}
                LoraBias::All => base_unfrozen += inv.bias_params(),
                LoraBias::LoraOnly => {
                    base_unfrozen += targets
                        .iter()
                        .map(|r| r.count(inv) * r.module(inv).shape.bias_params())
                        .sum::<u64>()
                }
            }
        }
        MethodKind::Adapter => {
            let m = match (cfg.bottleneck, cfg.reduction_factor) {
                (Some(b), _) => {
                    check_positive("bottleneck", b, h)?;
                    b
                }
                (None, rf) => {
                    let rf = rf.unwrap_or(16);
                    check_positive("reduction-factor", rf, h)?;
                    h / rf
                }
            };
            bottleneck = m;
            let per = h * m + m + m * h + h;
            let n = match cfg.adapter_style {
                AdapterStyle::Pfeiffer => 1,
                AdapterStyle::Houlsby => 2,
            };
            added = l * n * per;
            if matches!(
                p.family,
                Family::Chatglm
                    | Family::Qwen
                    | Family::Minicpm
                    | Family::Minicpm3
                    | Family::DeepseekV2
                    | Family::DeepseekV3
                    | Family::Glm
                    | Family::Glm4
                    | Family::Internlm2
                    | Family::Baichuan
            ) {
                notes.push(format!(
                    "AdapterHub does not list model_type '{}': it needs the plugin interface; counts follow its seq_bn formula",
                    p.family.as_str()
                ));
            }
        }
        MethodKind::Prompt => {
            check_positive("virtual-tokens", cfg.virtual_tokens, 100_000)?;
            virtual_tokens = cfg.virtual_tokens;
            added = cfg.virtual_tokens * h;
        }
        MethodKind::Ptuning => {
            check_positive("virtual-tokens", cfg.virtual_tokens, 100_000)?;
            virtual_tokens = cfg.virtual_tokens;
            let enc = cfg.encoder_hidden.unwrap_or(h);
            check_positive("encoder-hidden", enc, 1_000_000)?;
            // PromptEncoder (MLP): Embedding(n, h) + Linear(h,H) + Linear(H,H) + Linear(H,h).
            added = cfg.virtual_tokens * h + (h * enc + enc) + (enc * enc + enc) + (enc * h + h);
        }
        MethodKind::Prefix => {
            check_positive("virtual-tokens", cfg.virtual_tokens, 100_000)?;
            virtual_tokens = cfg.virtual_tokens;
            let n = cfg.virtual_tokens;
            if p.family.layout() == Layout::ChatGlm {
                // ChatGLM's own PrefixEncoder (P-tuning v2), sized by its real KV cache.
                let kv = l * p.head_dim * p.num_kv_heads * 2;
                added = if cfg.prefix_projection {
                    n * kv + (kv * h + h) + (h * kv + kv)
                } else {
                    n * kv
                };
                notes.push(
                    "ChatGLM3 P-tuning v2 uses the model's own PrefixEncoder (pre_seq_len), as THUDM's finetune_demo does; peft's PrefixTuning would build 4096-wide prefixes".into(),
                );
            } else {
                // peft >= 0.12: with num_key_value_heads in the config, token_dim = head_dim * kv_heads.
                let td = if p.family.config_has_kv_heads() {
                    p.head_dim * p.num_kv_heads
                } else {
                    h
                };
                let enc = cfg.encoder_hidden.unwrap_or(td);
                check_positive("encoder-hidden", enc, 1_000_000)?;
                added = if cfg.prefix_projection {
                    n * td + (td * enc + enc) + (enc * l * 2 * td + l * 2 * td)
                } else {
                    n * l * 2 * td
                };
            }
        }
        MethodKind::Ia3 => {
            let (def_t, def_ff, note) = default_ia3(p);
            let names = cfg
                .targets
                .clone()
                .unwrap_or_else(|| def_t.iter().map(|s| s.to_string()).collect());
            if cfg.targets.is_none() {
                notes.extend(note);
            }
            let ff_names = cfg
                .feedforward_modules
                .clone()
                .unwrap_or_else(|| def_ff.iter().map(|s| s.to_string()).collect());
            targets = resolve_targets(inv, &names, Selectable::LinearOrEmbedding)?;
            // No feedforward module is a valid IA3 configuration (every target scales outputs).
            let ff = if ff_names.is_empty() {
                Vec::new()
            } else {
                resolve_targets(inv, &ff_names, Selectable::LinearOrEmbedding)?
            };
            for r in &targets {
                match r.module(inv).shape {
                    Shape::Linear { inp, out, .. } => {
                        added += r.count(inv) * if ff.contains(r) { inp } else { out }
                    }
                    Shape::Experts { .. } => {
                        return Err(Error::input(format!(
                            "IA3 cannot scale the fused experts '{}' (peft's IA3 wraps Linear modules only): target the attention projections",
                            r.module(inv).name
                        )))
                    }
                    _ => {}
                }
            }
            target_names = names;
        }
        MethodKind::Full => {
            base_unfrozen = total;
        }
    }

    // modules_to_save: a trainable copy next to the frozen original; the SEQ_CLS head joins them.
    let mut saved = if cfg.modules_to_save.is_empty() {
        Vec::new()
    } else {
        resolve_targets(inv, &cfg.modules_to_save, Selectable::Any)?
    };
    if let (Some(c), true) = (inv.classifier, cfg.kind != MethodKind::Full) {
        let r = ModuleRef::Global(c);
        if !saved.contains(&r) {
            saved.push(r);
        }
    }
    if cfg.kind == MethodKind::Full && !saved.is_empty() {
        notes.push(
            "full fine-tuning already trains every module: --modules-to-save adds nothing".into(),
        );
        saved.clear();
    }
    let saved_copies: u64 = saved
        .iter()
        .map(|r| r.count(inv) * r.module(inv).shape.params())
        .sum();
    let trainable = added + base_unfrozen + saved_copies;
    let counts = ParamCounts {
        total,
        trainable,
        all: total + added + saved_copies,
        added,
        base_unfrozen,
        saved_copies,
    };
    if inv.task == Task::SeqCls && cfg.kind != MethodKind::Full {
        notes.push("SEQ_CLS: the classifier is in modules_to_save (trainable once, counted twice in all params, as current peft does)".into());
    }
    Ok(ResolvedMethod {
        config: cfg.clone(),
        counts,
        targets,
        target_names,
        saved,
        bottleneck,
        virtual_tokens,
        notes,
    })
}
