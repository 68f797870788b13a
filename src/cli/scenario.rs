//! The flags that describe a scenario (model, method, workload), shared by `estimate`, `plan`
//! and `tui`, and their validation into a core [`Scenario`].

use std::path::PathBuf;

use clap::Args;

use super::{named, Context};
use crate::core::arch::{import_hf_config, Task};
use crate::core::data;
use crate::core::error::Result;
use crate::core::estimate::{
    Attention, Dtype, FitPolicy, Framework, Launcher, Lengths, LossKernel, Offload, Optimizer,
    Scenario, WeightsDtype, Workload,
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
    /// Take the scenario from your own training config: a LLaMA-Factory or axolotl YAML, or a
    /// DeepSpeed JSON (repeatable); flags given on the command line win.
    #[arg(long, value_name = "FILE")]
    pub from_config: Vec<PathBuf>,
    /// The flags given on the command line (filled after parsing; `--from-config` leaves them).
    #[arg(skip)]
    pub given: Vec<String>,
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
    /// DeepSpeed ZeRO stage (0-3). Any stage runs DeepSpeed's engine: a 16-bit model with
    /// fp32 master weights, no autocast; stages 2-3 also hold reduce buckets; stages shard
    /// over --gpus > 1.
    #[arg(long, default_value_t = 0)]
    pub zero: u8,
    /// How the data-parallel job shards its state: ddp, fsdp (FULL_SHARD) or DeepSpeed's
    /// zero1-3 (the same as --zero N).
    #[arg(long, value_parser = named::<Launcher>(), conflicts_with = "zero")]
    pub launcher: Option<Launcher>,
    /// What the sharding engine keeps in host RAM: optimizer (ZeRO-Offload: master weights,
    /// optimizer state, gradients; the step on the CPU) or params (that and the weights;
    /// ZeRO-3 or FSDP).
    #[arg(long, value_parser = named::<Offload>(), default_value = "none")]
    pub offload: Offload,
    /// Gradient elements in DeepSpeed's reduce buckets (ZeRO-2/3): reduce_bucket_size, twice
    /// with overlap_comm.
    #[arg(long, value_name = "ELEMENTS", default_value_t = crate::core::estimate::workload::DEEPSPEED_REDUCE_BUCKET)]
    pub zero_bucket: u64,
    /// Mean tokens per sample when samples are shorter than --seq-len (padded micro-batches
    /// then cost their length; with --packing, fewer full rows).
    #[arg(long, value_name = "TOKENS", conflicts_with = "lengths")]
    pub avg_tokens: Option<u64>,
    /// A file of the samples' token lengths (one per line, or a JSON array): micro-batches pad
    /// to their expected longest sample and the memory peak is the longest one.
    #[arg(long, value_name = "FILE")]
    pub lengths: Option<PathBuf>,
    /// Concatenate samples into full --seq-len rows (LLaMA-Factory `packing`, axolotl
    /// `sample_packing`) instead of padding each micro-batch.
    #[arg(long)]
    pub packing: bool,
    /// The training loop holds the model output through backward (`out = model(...);
    /// out.loss.backward()`), keeping the logits alive; the HF Trainer (the default) does not.
    #[arg(long)]
    pub loop_keeps_output: bool,
    /// The model code computes the loss on 16-bit logits (2023 remote code such as Qwen v1)
    /// instead of upcasting them to fp32 as transformers >= 4.46 does.
    #[arg(long)]
    pub no_loss_upcast: bool,
    /// The trainer or recipe library: sets the loss kernel (unsloth: fused, torchtune:
    /// chunked) and Unsloth's offloaded checkpoints, unless --loss or the flags below say
    /// otherwise [default: hf].
    #[arg(long, value_parser = named::<Framework>(), value_name = "FRAMEWORK")]
    pub framework: Option<Framework>,
    /// How the loss is computed from the hidden states [default: the framework's].
    #[arg(long, value_parser = named::<LossKernel>(), value_name = "KERNEL")]
    pub loss: Option<LossKernel>,
    /// Keep the saved activations (the checkpoints, with --grad-checkpointing) in host RAM
    /// between forward and backward (torchtune `enable_activation_offloading`, Unsloth).
    #[arg(long)]
    pub offload_activations: bool,
    /// Step each parameter and free its gradient during backward (torchtune
    /// `optimizer_in_bwd`); needs --grad-accum 1 and no ZeRO.
    #[arg(long)]
    pub optimizer_in_backward: bool,
    /// With --grad-accum > 1, synchronise the gradients after every micro-batch (accelerate's
    /// `sync_each_batch`): under FSDP they are then reduce-scattered each time instead of
    /// accumulated unsharded (`no_sync`, a whole copy of the trainable gradients on every
    /// GPU); under DDP all-reduced each time instead of once a step.
    #[arg(long)]
    pub sync_each_batch: bool,
    /// Shard a mixture of experts' experts across the --gpus (expert parallelism, EP = gpus;
    /// tokens reach their experts by all-to-all).
    #[arg(long, alias = "ep")]
    pub expert_parallel: bool,
}

/// Where a trainer config's `deepspeed:` path may point: the current directory, its file name
/// beside the config, or (LLaMA-Factory's examples name `examples/deepspeed/...` from the repository root)
/// up to three directories above it.
fn deepspeed_candidates(config: &std::path::Path, ds: &str) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from(ds)];
    if let (Some(dir), Some(file)) = (config.parent(), std::path::Path::new(ds).file_name()) {
        out.push(dir.join(file));
    }
    let mut dir = config.parent();
    for _ in 0..4 {
        let Some(d) = dir else { break };
        out.push(d.join(ds));
        dir = d.parent();
    }
    out
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
    /// ([`crate::core::spec::resolve_workload`] with `--weights-dtype`). Reads `--lengths`.
    pub fn job(&self) -> Result<Workload> {
        let lengths = match (&self.lengths, self.avg_tokens) {
            (Some(path), _) => {
                let f = data::read_file(path)?;
                Some(Lengths::parse(&path.display().to_string(), &f.text)?)
            }
            (None, Some(0)) => {
                return Err(crate::core::error::Error::input(
                    "--avg-tokens 0: a sample has at least one token".to_string(),
                ))
            }
            (None, Some(n)) => Some(Lengths::constant(n)),
            (None, None) => None,
        };
        let gpus = self.gpus.max(1);
        let (micro_batch, grad_accum) = match (self.global_batch, self.micro_batch) {
            // The whole per-device batch in one pass; auto-fit splits it where it must.
            (Some(g), None) => ((g / gpus).max(1), 1),
            (Some(g), Some(mb)) => (mb, (g / (mb.max(1) * gpus)).max(1)),
            (None, mb) => (mb.unwrap_or(DEFAULT_MICRO_BATCH), self.grad_accum),
        };
        Ok(Workload {
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
            zero: self.launcher.map_or(self.zero, |l| l.stage().0),
            fsdp: self.launcher.is_some_and(|l| l.stage().1),
            offload: self.offload,
            zero_bucket: self.zero_bucket,
            loss_upcast: !self.no_loss_upcast,
            expert_parallel: self.expert_parallel,
            lengths,
            packing: self.packing,
            loop_keeps_output: self.loop_keeps_output,
            loss: self
                .loss
                .unwrap_or_else(|| self.framework.unwrap_or_default().loss()),
            offload_activations: self.offload_activations
                || self.framework.is_some_and(Framework::offloads_checkpoints),
            optimizer_in_backward: self.optimizer_in_backward,
            sync_each_batch: self.sync_each_batch,
            ..Workload::default()
        })
    }
}

impl ScenarioArgs {
    /// Apply `--from-config` files: every setting they make replaces the flag's default, never a
    /// flag given on the command line. Returns notes naming the files and what they set that
    /// peftcost does not model.
    pub fn apply_configs(&mut self, ctx: &Context) -> Result<Vec<String>> {
        use crate::emit::read::{self, FromConfig, Source};
        if self.from_config.is_empty() {
            return Ok(Vec::new());
        }
        let mut merged: Option<(String, FromConfig)> = None;
        let mut deepspeed: Vec<(String, FromConfig)> = Vec::new();
        for path in &self.from_config {
            let f = data::read_file(path)?;
            let name = path.display().to_string();
            let c = read::parse(&name, &f.text)?;
            if c.source == Some(Source::Deepspeed) {
                deepspeed.push((name, c));
            } else if let Some((first, _)) = &merged {
                return Err(crate::Error::input(format!(
                    "--from-config: give one trainer config ({first} and {name} were given) and any DeepSpeed JSON"
                )));
            } else {
                merged = Some((name, c));
            }
        }
        // A trainer's `deepspeed:` file, looked up where it is usually meant to be found.
        if let Some((name, c)) = &merged {
            if let (Some(ds), true) = (&c.deepspeed_file, deepspeed.is_empty()) {
                let found = deepspeed_candidates(std::path::Path::new(name), ds)
                    .into_iter()
                    .find(|p| p.is_file())
                    .ok_or_else(|| {
                        crate::Error::input(format!(
                            "{name} names deepspeed: {ds}, which is not found beside it or in the current directory: add --from-config PATH/TO/{ds}"
                        ))
                    })?;
                let f = data::read_file(&found)?;
                let label = found.display().to_string();
                deepspeed.push((label.clone(), read::parse(&label, &f.text)?));
            }
        }
        let (name, mut c) = merged.unwrap_or_else(|| {
            let (n, c) = deepspeed.remove(0);
            (n, c)
        });
        let mut names = vec![name.clone()];
        for (n, ds) in deepspeed {
            names.push(n);
            c.merge(ds);
        }
        self.apply_config(ctx, &name, &c)?;
        let mut notes = vec![format!(
            "scenario from {} ({})",
            names.join(" + "),
            c.source.map_or("config", Source::as_str)
        )];
        if c.zero.is_some_and(|z| z > 0) && self.workload.gpus == 1 {
            notes.push(format!(
                "the config uses ZeRO-{}, which shards over GPUs, and the launcher sets how many: add --gpus N",
                c.zero.unwrap_or_default()
            ));
        }
        let lengths_given = self.workload.lengths.is_some() || self.workload.avg_tokens.is_some();
        if c.packing == Some(true) && !lengths_given {
            notes.push(
                "the config packs samples: give --avg-tokens N or --lengths FILE, or every sample is costed at the full length and packing changes nothing".into(),
            );
        }
        if !c.not_modelled.is_empty() {
            notes.push(format!(
                "not modelled from the config: {}",
                c.not_modelled.join("; ")
            ));
        }
        Ok(notes)
    }

    fn apply_config(
        &mut self,
        ctx: &Context,
        name: &str,
        c: &crate::emit::read::FromConfig,
    ) -> Result<()> {
        let given = self.given.clone();
        let free = |flag: &str| !given.iter().any(|g| g == flag);
        if let Some(m) = c
            .model
            .as_deref()
            .filter(|_| free("model") && free("model_config"))
        {
            if let Ok(p) = ctx.models()?.get(m) {
                self.model = p.id.clone();
            } else if std::path::Path::new(m).join("config.json").is_file() {
                self.model_config = Some(std::path::Path::new(m).join("config.json"));
            } else {
                return Err(crate::Error::input(format!(
                    "{name}: model '{m}' is not in peftcost's catalogue: import its config.json (peftcost models import) or give --model"
                )));
            }
        }
        macro_rules! set {
            ($flag:literal, $field:expr, $value:expr) => {
                if let Some(v) = $value {
                    if free($flag) {
                        $field = v;
                    }
                }
            };
        }
        set!(
            "method",
            self.method,
            c.method.map(|m| m.as_str().to_string())
        );
        set!("rank", self.rank, c.rank);
        set!("alpha", self.alpha, c.alpha);
        set!(
            "targets",
            self.targets,
            c.targets.as_ref().map(|t| Some(t.join(",")))
        );
        set!(
            "modules_to_save",
            self.modules_to_save,
            c.modules_to_save.as_ref().map(|t| Some(t.join(",")))
        );
        let w = &mut self.workload;
        set!("samples", w.samples, c.samples);
        set!("seq_len", w.seq_len, c.seq_len);
        // The user's batch is fixed: auto-fit is off, as with --micro-batch.
        set!("micro_batch", w.micro_batch, c.micro_batch.map(Some));
        set!("grad_accum", w.grad_accum, c.grad_accum);
        set!("epochs", w.epochs, c.epochs);
        set!("dtype", w.dtype, c.dtype);
        set!("weights_dtype", w.weights_dtype, c.weights_dtype.map(Some));
        set!("optimizer", w.optimizer, c.optimizer);
        set!(
            "grad_checkpointing",
            w.grad_checkpointing,
            c.grad_checkpointing
        );
        set!("attention", w.attention, c.attention);
        set!("zero", w.zero, c.zero);
        set!(
            "launcher",
            w.launcher,
            c.fsdp.filter(|f| *f).map(|_| Some(Launcher::Fsdp))
        );
        set!("offload", w.offload, c.offload);
        set!("zero_bucket", w.zero_bucket, c.zero_bucket);
        set!("packing", w.packing, c.packing);
        set!("sync_each_batch", w.sync_each_batch, c.sync_each_batch);
        set!("loss", w.loss, c.loss.map(Some));
        set!(
            "offload_activations",
            w.offload_activations,
            c.offload_activations
        );
        Ok(())
    }

    /// The flags as the core's spec, `--model OWNER/NAME` resolved on the Hugging Face Hub
    /// when the catalogue does not know it.
    pub fn spec_in(&self, ctx: &Context) -> Result<ScenarioSpec> {
        let mut spec = self.spec()?;
        if self.model_config.is_none() {
            spec.model = ctx.model_ref(&self.model)?;
        }
        Ok(spec)
    }

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
            workload: self.workload.job()?,
            weights_dtype: self.workload.weights_dtype,
            allow_rope_extension: self.allow_rope_extension,
        })
    }

    /// Validate the flags into a scenario.
    pub fn scenario(&self, ctx: &Context) -> Result<Scenario> {
        self.spec_in(ctx)?.resolve(&ctx.catalogs)
    }
}
