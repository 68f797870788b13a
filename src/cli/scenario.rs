//! The flags that describe a scenario (model, method, workload), shared by `estimate`, `plan`
//! and `tui`, and their validation into a core [`Scenario`].

use std::path::PathBuf;

use clap::Args;

use super::{named, Context};
use crate::core::arch::{import_hf_config, Task};
use crate::core::data;
use crate::core::error::Result;
use crate::core::estimate::{
    Attention, Dtype, FitPolicy, Optimizer, Scenario, WeightsDtype, Workload,
};
use crate::core::peft::{split_list, AdapterStyle, LoraBias, MethodConfig, MethodKind};
use crate::core::spec::{ModelRef, ScenarioSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    CausalLm,
    SeqCls,
    FeatureExtraction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoraBiasArg {
    None,
    All,
    #[value(name = "lora_only", alias = "lora-only")]
    LoraOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AdapterStyleArg {
    Pfeiffer,
    Houlsby,
}

/// Model, method and workload flags.
#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// Model id or alias (see `peftcost models list`).
    #[arg(
        long,
        short = 'm',
        default_value = "qwen-7b",
        conflicts_with = "model_config"
    )]
    pub model: String,
    /// A Hugging Face config.json to use instead of --model.
    #[arg(long, value_name = "FILE")]
    pub model_config: Option<PathBuf>,
    /// lora | dora | qlora | adapter | prompt | prefix | ptuning | ia3 | full.
    #[arg(long, default_value = "lora")]
    pub method: String,
    /// LoRA rank.
    #[arg(long, short = 'r', default_value_t = 8)]
    pub rank: u64,
    /// LoRA alpha (does not change cost; echoed in the output).
    #[arg(long, default_value_t = 16.0, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Target modules: names (suffix match, as peft), role aliases q,k,v,o,gate,up,down,attn,mlp, or all-linear.
    #[arg(long)]
    pub targets: Option<String>,
    /// LoRA bias mode.
    #[arg(long, value_enum, default_value = "none")]
    pub lora_bias: LoraBiasArg,
    /// Modules trained in full next to the adapter (peft modules_to_save), e.g. wte,lm_head.
    #[arg(long)]
    pub modules_to_save: Option<String>,
    /// Bottleneck adapter placement.
    #[arg(long, value_enum, default_value = "pfeiffer")]
    pub adapter_style: AdapterStyleArg,
    /// Adapter reduction factor (bottleneck = hidden / factor); default 16.
    #[arg(long, conflicts_with = "bottleneck")]
    pub reduction_factor: Option<u64>,
    /// Adapter bottleneck size.
    #[arg(long)]
    pub bottleneck: Option<u64>,
    /// Virtual tokens for prompt, prefix and P-tuning.
    #[arg(long, default_value_t = 20)]
    pub virtual_tokens: u64,
    /// Prefix tuning with the reparametrisation MLP.
    #[arg(long)]
    pub prefix_projection: bool,
    /// P-tuning / prefix projection hidden size (default: the token dimension).
    #[arg(long)]
    pub encoder_hidden: Option<u64>,
    /// IA3 feedforward modules (their input is scaled), default peft's.
    #[arg(long)]
    pub feedforward_modules: Option<String>,
    /// What the model is loaded as.
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Labels for --task seq-cls.
    #[arg(long, default_value_t = 2)]
    pub num_labels: u64,
    /// Allow --seq-len beyond the model's maximum positions (RoPE models trained with RoPE
    /// scaling; BERT's learned positions cannot be extended).
    #[arg(long)]
    pub allow_rope_extension: bool,

    #[command(flatten)]
    pub workload: WorkloadArgs,
}

/// The training job's flags, shared by every command that estimates training.
#[derive(Debug, Clone, Args)]
pub struct WorkloadArgs {
    /// Training samples (sequences) per epoch.
    #[arg(long, default_value_t = 10_000)]
    pub samples: u64,
    /// Tokens per sample (sequences are padded to this length).
    #[arg(long, default_value_t = 512)]
    pub seq_len: u64,
    #[arg(long, default_value_t = 3)]
    pub epochs: u64,
    /// Sequences per device per forward pass [default: 4, or the largest that fits each device
    /// when auto-fit is on]. Giving it turns auto-fit off.
    #[arg(long)]
    pub micro_batch: Option<u64>,
    /// Micro-batches accumulated per optimizer step (auto-fit raises it to keep the global batch).
    #[arg(long, default_value_t = 1)]
    pub grad_accum: u64,
    /// Sequences per optimizer step across all devices, kept by every configuration
    /// [default: micro-batch x grad-accum x gpus].
    #[arg(long, value_name = "N")]
    pub global_batch: Option<u64>,
    /// Estimate the workload exactly as given on every device, instead of fitting the
    /// micro-batch and gradient checkpointing to each device.
    #[arg(long)]
    pub no_auto_fit: bool,
    /// Let LoRA/DoRA switch to QLoRA (4-bit base weights) where nothing else fits.
    #[arg(long)]
    pub allow_quantization: bool,
    /// Compute dtype (autocast).
    #[arg(long, value_parser = named::<Dtype>(), default_value = "bf16")]
    pub dtype: Dtype,
    /// Dtype the base weights are loaded in (default: --dtype; nf4 for qlora).
    #[arg(long, value_parser = named::<WeightsDtype>())]
    pub weights_dtype: Option<WeightsDtype>,
    #[arg(long, value_parser = named::<Optimizer>(), default_value = "adamw")]
    pub optimizer: Optimizer,
    /// Recompute activations in the backward pass (giving it turns auto-fit off).
    #[arg(long)]
    pub grad_checkpointing: bool,
    #[arg(long, value_parser = named::<Attention>(), default_value = "sdpa")]
    pub attention: Attention,
    /// Data-parallel devices.
    #[arg(long, default_value_t = 1)]
    pub gpus: u64,
    /// DeepSpeed ZeRO stage (0-3) for --gpus > 1.
    #[arg(long, default_value_t = 0)]
    pub zero: u8,
}

/// The micro-batch when neither it nor a global batch is given.
const DEFAULT_MICRO_BATCH: u64 = 4;

impl WorkloadArgs {
    /// How each device's configuration is chosen: auto-fit unless `--no-auto-fit`, or the user
    /// fixed the micro-batch or checkpointing themselves.
    pub fn fit_policy(&self) -> FitPolicy {
        FitPolicy {
            auto: !self.no_auto_fit && self.micro_batch.is_none() && !self.grad_checkpointing,
            global_batch: self.global_batch,
            allow_quantization: self.allow_quantization,
        }
    }

    /// The job as given; its weights dtype is resolved with the method
    /// ([`crate::core::spec::resolve_workload`] with `--weights-dtype`).
    pub fn job(&self) -> Workload {
        let gpus = self.gpus.max(1);
        let (micro_batch, grad_accum) = match (self.global_batch, self.micro_batch) {
            // The whole per-device batch in one pass; auto-fit splits it where it must.
            (Some(g), None) => ((g / gpus).max(1), 1),
            (Some(g), Some(mb)) => (mb, (g / (mb.max(1) * gpus)).max(1)),
            (None, mb) => (mb.unwrap_or(DEFAULT_MICRO_BATCH), self.grad_accum),
        };
        Workload {
            samples: self.samples,
            seq_len: self.seq_len,
            epochs: self.epochs,
            micro_batch,
            grad_accum,
            dtype: self.dtype,
            weights_dtype: Workload::default().weights_dtype,
            optimizer: self.optimizer,
            grad_checkpointing: self.grad_checkpointing,
            attention: self.attention,
            gpus: self.gpus,
            zero: self.zero,
            ..Workload::default()
        }
    }
}

impl ScenarioArgs {
    /// The model named by --model, or imported from --model-config (the file is read here).
    pub fn model_ref(&self) -> Result<ModelRef> {
        match &self.model_config {
            Some(path) => {
                let f = data::read_file(path)?;
                Ok(ModelRef::Imported {
                    profile: Box::new(import_hf_config(&f.path, &f.text, None)?),
                    source: path.display().to_string(),
                })
            }
            None => Ok(ModelRef::Id(self.model.clone())),
        }
    }

    /// The flags as the core's spec (the method name is parsed here, every rule checked by
    /// [`ScenarioSpec::resolve`]).
    pub fn spec(&self) -> Result<ScenarioSpec> {
        let method = MethodConfig {
            kind: MethodKind::parse(&self.method)?,
            rank: self.rank,
            alpha: self.alpha,
            targets: self.targets.as_deref().map(split_list),
            lora_bias: match self.lora_bias {
                LoraBiasArg::None => LoraBias::None,
                LoraBiasArg::All => LoraBias::All,
                LoraBiasArg::LoraOnly => LoraBias::LoraOnly,
            },
            adapter_style: match self.adapter_style {
                AdapterStyleArg::Pfeiffer => AdapterStyle::Pfeiffer,
                AdapterStyleArg::Houlsby => AdapterStyle::Houlsby,
            },
            reduction_factor: self.reduction_factor,
            bottleneck: self.bottleneck,
            virtual_tokens: self.virtual_tokens,
            prefix_projection: self.prefix_projection,
            encoder_hidden: self.encoder_hidden,
            feedforward_modules: self.feedforward_modules.as_deref().map(split_list),
            modules_to_save: self
                .modules_to_save
                .as_deref()
                .map(split_list)
                .unwrap_or_default(),
        };
        Ok(ScenarioSpec {
            model: self.model_ref()?,
            method,
            task: self.task.map(|t| match t {
                TaskArg::CausalLm => Task::CausalLm,
                TaskArg::SeqCls => Task::SeqCls,
                TaskArg::FeatureExtraction => Task::FeatureExtraction,
            }),
            num_labels: self.num_labels,
            workload: self.workload.job(),
            weights_dtype: self.workload.weights_dtype,
            allow_rope_extension: self.allow_rope_extension,
        })
    }

    /// Validate the flags into a scenario.
    pub fn scenario(&self, ctx: &Context) -> Result<Scenario> {
        self.spec()?.resolve(&ctx.catalogs)
    }
}
