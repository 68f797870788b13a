//! What a user asks for, before defaults and checks (ripgrep's low-args -> high-args split, with
//! the high half here in the core).
//!
//! The CLI converts its clap structs into these specs; the TUI edits a spec directly. Both call
//! `resolve` against catalogues loaded once, so every default (the weights dtype of a method,
//! the model's default task, the serving context) and every validity rule (alpha, full
//! fine-tuning of quantised weights, workload bounds) is written once, here.
//!
//! Errors name fields by their canonical names (`seq-len`, `alpha`): the CLI shows them as
//! flags, the TUI as its labels.

use crate::core::arch::{ModelProfile, Task};
use crate::core::catalogs::Catalogs;
use crate::core::deploy::{self, Int4Format, Precision, Request};
use crate::core::error::{Error, Result};
use crate::core::estimate::{Dtype, Scenario, WeightsDtype, Workload};
use crate::core::peft::{MethodConfig, MethodKind};

/// The target classes of the serving table (design §1 question 5): T4, A10, A100-40G and a
/// 16-core CPU box.
pub const DEFAULT_SERVE_TARGETS: [&str; 4] = ["t4", "a10", "a100-40g", "cpu-16c"];

/// The GPUs of the article's fine-tuning table (T4 16 GB, A10 24 GB, A100 40 GB).
pub const FINETUNE_GPUS: [&str; 3] = ["t4", "a10", "a100-40g"];

/// The models of the article's two cost tables.
pub const TABLE_MODELS: [&str; 5] = [
    "chatglm3-6b",
    "qwen-7b",
    "bge-large-zh-v1.5",
    "mistral-7b",
    "minicpm-2b",
];

/// Which model: a catalogue id or alias, or a profile the front-end imported from a
/// Hugging Face `config.json` (the core reads no files).
#[derive(Debug, Clone, PartialEq)]
pub enum ModelRef {
    /// An id or alias of the model catalogue.
    Id(String),
    /// A profile built from a `config.json`; `source` is the file it came from.
    Imported {
        /// Where the config came from (shown as the model's name in the inputs).
        source: String,
        /// The imported profile.
        profile: Box<ModelProfile>,
    },
}

impl ModelRef {
    /// The profile: looked up in the catalogue or the imported one.
    pub fn profile(&self, catalogs: &Catalogs) -> Result<ModelProfile> {
        match self {
            ModelRef::Id(id) => Ok(catalogs.models()?.get(id)?.clone()),
            ModelRef::Imported { profile, .. } => Ok((**profile).clone()),
        }
    }

    /// What to show for the model in a front-end's inputs.
    pub fn label(&self) -> &str {
        match self {
            ModelRef::Id(id) => id,
            ModelRef::Imported { source, .. } => source,
        }
    }
}

/// The dtype the base weights load in when the user names none: NF4 for QLoRA, else the
/// compute dtype (peft's usual `torch_dtype=bfloat16` load).
pub fn default_weights_dtype(kind: MethodKind, dtype: Dtype) -> WeightsDtype {
    match (kind, dtype) {
        (MethodKind::Qlora, _) => WeightsDtype::Nf4,
        (_, Dtype::Bf16) => WeightsDtype::Bf16,
        (_, Dtype::Fp16) => WeightsDtype::Fp16,
        (_, Dtype::Fp32) => WeightsDtype::Fp32,
    }
}

/// The job for a method: `weights_dtype` as given, else the method's default.
pub fn resolve_workload(
    workload: Workload,
    weights_dtype: Option<WeightsDtype>,
    kind: MethodKind,
) -> Workload {
    Workload {
        weights_dtype: weights_dtype.unwrap_or(default_weights_dtype(kind, workload.dtype)),
        ..workload
    }
}

/// Model, task, method and job as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    /// The model.
    pub model: ModelRef,
    /// The PEFT method and its settings.
    pub method: MethodConfig,
    /// What the model is loaded as; `None`: the model's default task.
    pub task: Option<Task>,
    /// Labels of a sequence-classification head.
    pub num_labels: u64,
    /// The training job; its `weights_dtype` is replaced on resolve by [`Self::weights_dtype`]
    /// or the method's default.
    pub workload: Workload,
    /// Dtype the base weights are loaded in; `None`: the compute dtype, or NF4 for QLoRA.
    pub weights_dtype: Option<WeightsDtype>,
    /// Train beyond the model's maximum positions (RoPE models only).
    pub allow_rope_extension: bool,
}

impl ScenarioSpec {
    /// LoRA on a catalogue model with every default.
    pub fn new(model: impl Into<String>) -> Self {
        ScenarioSpec {
            model: ModelRef::Id(model.into()),
            method: MethodConfig::default(),
            task: None,
            num_labels: 2,
            workload: Workload::default(),
            weights_dtype: None,
            allow_rope_extension: false,
        }
    }

    /// Apply every default and check every rule: the scenario the core computes with.
    pub fn resolve(&self, catalogs: &Catalogs) -> Result<Scenario> {
        let profile = self.model.profile(catalogs)?;
        let alpha = self.method.alpha;
        if !alpha.is_finite() || alpha <= 0.0 {
            return Err(Error::Invalid {
                field: "alpha",
                value: alpha.to_string(),
                expected: "a positive number".into(),
            });
        }
        // 16 x the largest rank accepted (65,536): scaling LoRA's update by more is no training.
        if alpha > 1_048_576.0 {
            return Err(Error::Absurd {
                field: "alpha",
                value: alpha.to_string(),
                max: "1,048,576".into(),
            });
        }
        let workload = resolve_workload(self.workload, self.weights_dtype, self.method.kind);
        if self.method.kind == MethodKind::Full && workload.weights_dtype.is_quantized() {
            return Err(Error::Invalid {
                field: "weights-dtype",
                value: workload.weights_dtype.as_str().into(),
                expected: "bf16, fp16 or fp32 for full fine-tuning, which cannot train quantized weights (or use qlora)".into(),
            });
        }
        Ok(Scenario {
            task: self
                .task
                .unwrap_or_else(|| Scenario::default_task(&profile)),
            profile,
            num_labels: self.num_labels,
            method: self.method.clone(),
            workload,
            allow_rope_extension: self.allow_rope_extension,
        })
    }
}

/// The serving traffic as asked for: `context` left `None` reserves KV cache for the whole
/// request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServeSpec {
    /// Weights precision; `None`: the checkpoint's (bf16, or its `quantization_config`).
    pub precision: Option<Precision>,
    /// How int4 weights are stored (when the precision is asked for).
    pub int4_format: Int4Format,
    /// Requests per second (all adapters together).
    pub qps: f64,
    /// Prompt tokens per request (encoders: tokens per sequence embedded).
    pub input_tokens: u64,
    /// Generated tokens per request (none for encoders).
    pub output_tokens: u64,
    /// Tokens per request the server reserves KV cache for; `None`: input + output.
    pub context: Option<u64>,
    /// Time-to-first-token target in seconds.
    pub max_ttft: Option<f64>,
    /// Time-per-output-token target in seconds.
    pub max_tpot: Option<f64>,
    /// LoRA tasks served on one base model (0: none).
    pub adapters: u64,
}

impl Default for ServeSpec {
    fn default() -> Self {
        let w = deploy::Workload::default();
        ServeSpec {
            precision: None,
            int4_format: Int4Format::Gptq,
            qps: w.qps,
            input_tokens: w.input_tokens,
            output_tokens: w.output_tokens,
            context: None,
            max_ttft: w.max_ttft,
            max_tpot: w.max_tpot,
            adapters: 0,
        }
    }
}

impl ServeSpec {
    /// The request for one model: an encoder generates nothing, and the server reserves KV
    /// cache for the whole request unless a context was given.
    pub fn request(&self, profile: &ModelProfile) -> Request {
        let encoder = profile.family.is_encoder();
        let output_tokens = if encoder { 0 } else { self.output_tokens };
        let (precision, int4_format) = match self.precision {
            Some(p) => (p, self.int4_format),
            None => deploy::checkpoint_precision(profile),
        };
        Request {
            precision,
            precision_given: self.precision.is_some(),
            int4_format,
            workload: deploy::Workload {
                qps: self.qps,
                input_tokens: self.input_tokens,
                output_tokens,
                context: self.context.unwrap_or(self.input_tokens + output_tokens),
                max_ttft: self.max_ttft,
                max_tpot: self.max_tpot,
            },
            adapters: self.adapters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qlora_loads_nf4_and_others_follow_the_compute_dtype() {
        let w = Workload::default();
        let resolved = |w, given, kind| resolve_workload(w, given, kind).weights_dtype;
        assert_eq!(resolved(w, None, MethodKind::Qlora), WeightsDtype::Nf4);
        assert_eq!(resolved(w, None, MethodKind::Lora), WeightsDtype::Bf16);
        let fp16 = Workload {
            dtype: Dtype::Fp16,
            ..w
        };
        assert_eq!(resolved(fp16, None, MethodKind::Full), WeightsDtype::Fp16);
        let given = Some(WeightsDtype::Fp32);
        assert_eq!(resolved(w, given, MethodKind::Qlora), WeightsDtype::Fp32);
    }

    #[test]
    fn resolve_applies_defaults_and_rules() {
        let catalogs = Catalogs::embedded();
        let s = ScenarioSpec::new("bge-large-zh")
            .resolve(&catalogs)
            .unwrap();
        // An encoder is loaded bare (BertModel), a decoder with its LM head.
        assert_eq!(s.task, Task::FeatureExtraction);
        let s = ScenarioSpec::new("qwen-7b").resolve(&catalogs).unwrap();
        assert_eq!(s.task, Task::CausalLm);

        let mut spec = ScenarioSpec::new("qwen-7b");
        spec.method.alpha = -1.0;
        let e = spec.resolve(&catalogs).unwrap_err();
        assert_eq!(e.field(), Some("alpha"));
        assert_eq!(e.to_string(), "alpha must be a positive number (got -1)");

        let mut spec = ScenarioSpec::new("qwen-7b");
        spec.method.kind = MethodKind::Full;
        spec.weights_dtype = Some(WeightsDtype::Nf4);
        assert!(spec.resolve(&catalogs).is_err());

        let e = ScenarioSpec::new("qwen7").resolve(&catalogs).unwrap_err();
        assert!(matches!(e, Error::Unknown { kind: "model", .. }), "{e:?}");
    }

    #[test]
    fn serving_reserves_the_whole_request_and_encoders_generate_nothing() {
        let catalogs = Catalogs::embedded();
        let models = catalogs.models().unwrap();
        let serve = ServeSpec::default();
        // 512 in + 256 out (deploy::Workload's defaults).
        let r = serve.request(models.get("qwen-7b").unwrap());
        assert_eq!((r.workload.output_tokens, r.workload.context), (256, 768));
        let r = serve.request(models.get("bge-large-zh").unwrap());
        assert_eq!((r.workload.output_tokens, r.workload.context), (0, 512));
        let fixed = ServeSpec {
            context: Some(4096),
            ..serve
        };
        assert_eq!(
            fixed
                .request(models.get("qwen-7b").unwrap())
                .workload
                .context,
            4096
        );
    }
}
