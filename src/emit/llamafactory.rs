//! LLaMA-Factory: the train YAML of `llamafactory-cli train` and its launch line.
//!
//! Keys from LLaMA-Factory's `src/llamafactory/hparams/{model,data,finetuning}_args.py` and
//! `examples/train_lora/qwen3_lora_sft.yaml` (reference anchors-2026 §3.1-3.2). LLaMA-Factory
//! trains causal LMs with LoRA (incl. DoRA, QLoRA), freeze or full fine-tuning; it has no prompt,
//! prefix, P-tuning, IA3 or bottleneck-adapter methods.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{deepspeed, Emitted, Facts};
use crate::core::arch::Family;
use crate::core::error::Result;
use crate::core::estimate::{Attention, Dtype, LossKernel};
use crate::core::peft::MethodKind;

/// The file names this engine writes.
pub const CONFIG: &str = "llamafactory.yaml";
const LAUNCH: &str = "run_llamafactory.sh";

/// A LLaMA-Factory train YAML: the keys peftcost writes and reads; anything else is kept in
/// `other` (and reported as not expressed when read).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub model_name_or_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_remote_code: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub do_train: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finetuning_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora_rank: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora_alpha: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora_target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_dora: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization_bit: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cutoff_len: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_steps: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_device_train_batch_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient_accumulation_steps: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_train_epochs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_scheduler_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optim: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bf16: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fp16: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pure_bf16: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash_attn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_gradient_checkpointing: Option<bool>,
    /// Unsloth's gradient checkpointing: checkpoints offloaded to host RAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_unsloth_gc: Option<bool>,
    /// Liger's kernels, its fused linear cross-entropy among them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_liger_kernel: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deepspeed: Option<String>,
    /// transformers' `TrainingArguments.accelerator_config`, which LLaMA-Factory passes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator_config: Option<AcceleratorConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_to: Option<String>,
    /// Keys peftcost does not model.
    #[serde(flatten, skip_serializing)]
    pub other: BTreeMap<String, serde_norway::Value>,
}

/// The part of transformers' `AcceleratorConfig` peftcost writes: accelerate's gradient
/// accumulation plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AcceleratorConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient_accumulation_kwargs: Option<GradientAccumulationKwargs>,
}

/// accelerate's `GradientAccumulationPlugin` keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GradientAccumulationKwargs {
    /// Synchronise gradients after every micro-batch instead of under `no_sync`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_each_batch: Option<bool>,
}

/// A YAML number that is written as an integer when it is one (LLaMA-Factory's `lora_alpha` is
/// an `int`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Number(pub f64);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

/// LLaMA-Factory's chat template for a family (its `template` names).
fn template(family: Family) -> &'static str {
    match family {
        Family::Qwen | Family::Qwen2 | Family::Qwen2Moe => "qwen",
        Family::Qwen3 | Family::Qwen3Moe => "qwen3",
        Family::Gemma2 => "gemma",
        Family::Gemma3Text => "gemma3",
        Family::Phi3 => "phi",
        Family::Chatglm => "chatglm3",
        Family::Mistral | Family::Mixtral => "mistral",
        Family::Llama => "llama3",
        Family::Minicpm => "cpm",
        Family::Minicpm3 => "cpm3",
        Family::DeepseekV2 => "deepseek",
        Family::DeepseekV3 => "deepseek3",
        Family::Glm | Family::Glm4 => "glm4",
        Family::Internlm2 => "intern2",
        Family::Baichuan => "baichuan2",
        Family::Bert | Family::XlmRoberta => "default",
    }
}

/// The YAML peftcost writes for `f`.
pub(super) fn config(f: &Facts) -> Result<Config> {
    let s = &f.job.prepared.scenario;
    if !f.is_causal() {
        return Err(f.unsupported(
            "LLaMA-Factory",
            &format!("a {} model (it trains causal LMs)", s.task.as_str()),
        ));
    }
    let (finetuning_type, lora) = match f.method {
        MethodKind::Lora | MethodKind::Dora | MethodKind::Qlora => ("lora", true),
        MethodKind::Full => ("full", false),
        other => {
            return Err(f.unsupported("LLaMA-Factory", &format!("{} tuning", other.as_str())));
        }
    };
    let w = f.workload();
    let qlora = f.method == MethodKind::Qlora;
    Ok(Config {
        model_name_or_path: Some(f.model_path.clone()),
        trust_remote_code: f.trust_remote_code.then_some(true),
        stage: Some("sft".into()),
        do_train: Some(true),
        finetuning_type: Some(finetuning_type.into()),
        lora_rank: lora.then_some(s.method.rank),
        lora_alpha: lora.then_some(Number(s.method.alpha)),
        lora_target: lora
            .then(|| f.targets.as_ref().map(|t| lora_target(t)))
            .flatten(),
        additional_target: (lora && !f.modules_to_save.is_empty())
            .then(|| f.modules_to_save.join(",")),
        use_dora: (f.method == MethodKind::Dora).then_some(true),
        quantization_bit: qlora.then_some(4),
        quantization_method: qlora.then(|| "bnb".into()),
        dataset: Some("alpaca_en_demo".into()),
        template: Some(template(s.profile.family).into()),
        cutoff_len: Some(w.seq_len),
        packing: w.packing.then_some(true),
        output_dir: Some(f.output_dir.clone()),
        logging_steps: Some(10),
        per_device_train_batch_size: Some(w.micro_batch),
        gradient_accumulation_steps: Some(w.grad_accum),
        learning_rate: Some(f.learning_rate),
        num_train_epochs: Some(w.epochs as f64),
        lr_scheduler_type: Some("cosine".into()),
        warmup_ratio: Some(0.1),
        optim: Some(f.hf_optim().into()),
        bf16: (f.dtype == Dtype::Bf16).then_some(true),
        fp16: (f.dtype == Dtype::Fp16).then_some(true),
        pure_bf16: None,
        flash_attn: Some(
            match f.attention() {
                Attention::Sdpa => "sdpa",
                Attention::Eager => "disabled",
            }
            .into(),
        ),
        // LLaMA-Factory checkpoints by default: say what was estimated either way.
        disable_gradient_checkpointing: Some(!w.grad_checkpointing),
        use_unsloth_gc: (w.offload_activations && w.grad_checkpointing).then_some(true),
        enable_liger_kernel: (w.loss == LossKernel::Fused).then_some(true),
        deepspeed: (f.zero() > 0).then(|| deepspeed::CONFIG.to_string()),
        accelerator_config: f.syncs_each_batch().then_some(AcceleratorConfig {
            gradient_accumulation_kwargs: Some(GradientAccumulationKwargs {
                sync_each_batch: Some(true),
            }),
        }),
        report_to: Some("none".into()),
        other: BTreeMap::new(),
    })
}

/// `all` for every Linear but the head (LLaMA-Factory's own shorthand), else the names.
fn lora_target(targets: &[String]) -> String {
    if targets.len() == 1 && targets[0] == "all-linear" {
        "all".into()
    } else {
        targets.join(",")
    }
}

/// The command that starts training from the output directory, on every machine of the job.
/// `node_rank` and `master_addr` are shell expressions.
pub(super) fn launch(f: &Facts, node_rank: &str, master_addr: &str) -> String {
    if f.fsdp() {
        // LLaMA-Factory runs FSDP through accelerate (its examples/accelerate/fsdp_config.yaml);
        // `llamafactory.launcher` is the module its torchrun path starts.
        super::accelerate::launch(
            f,
            &format!("-m llamafactory.launcher {CONFIG}"),
            node_rank,
            master_addr,
        )
    } else if f.nodes > 1 {
        format!(
            "FORCE_TORCHRUN=1 NNODES={} NODE_RANK={node_rank} MASTER_ADDR={master_addr} MASTER_PORT=29500 llamafactory-cli train {CONFIG}",
            f.nodes
        )
    } else if f.gpus > 1 {
        format!("FORCE_TORCHRUN=1 llamafactory-cli train {CONFIG}")
    } else {
        format!("llamafactory-cli train {CONFIG}")
    }
}

pub(super) fn emit(f: &Facts, out: &mut Emitted) -> Result<()> {
    let cfg = config(f)?;
    if f.job.prepared.scenario.method.lora_bias != crate::core::peft::LoraBias::None {
        out.notes.push(
            "LLaMA-Factory has no LoRA bias option: the YAML trains no biases (use --emit peft)"
                .into(),
        );
    }
    super::trainer_files(
        f,
        out,
        (CONFIG, &cfg),
        (LAUNCH, launch(f, super::NODE_RANK, super::MASTER_ADDR)),
    )
}
