//! A user's own training config read as a scenario (`--from-config`): a LLaMA-Factory or axolotl
//! YAML (told apart by `model_name_or_path` vs `base_model`) or a DeepSpeed JSON.
//!
//! Each engine's defaults apply where its file is silent, because the file means what the
//! engine does with it: LLaMA-Factory checkpoints unless `disable_gradient_checkpointing`,
//! defaults `lora_target: all`, `lora_alpha = 2 x lora_rank`, `cutoff_len: 2048`, a batch of 8
//! (HF `TrainingArguments`) and 3 epochs; axolotl does not checkpoint unless asked, and defaults
//! to a micro-batch of 1 and 1 epoch. Every key that changes the job but that peftcost does not
//! model is listed in [`FromConfig::not_modelled`], never dropped silently.

use std::collections::BTreeMap;

use super::{axolotl, deepspeed, llamafactory};
use crate::core::error::{Error, Result};
use crate::core::estimate::workload::DEEPSPEED_REDUCE_BUCKET;
use crate::core::estimate::{Attention, Dtype, LossKernel, Offload, Optimizer, WeightsDtype};
use crate::core::peft::MethodKind;

/// Which engine wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Llamafactory,
    Axolotl,
    Deepspeed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Llamafactory => "LLaMA-Factory",
            Source::Axolotl => "axolotl",
            Source::Deepspeed => "DeepSpeed",
        }
    }
}

/// What a config file says about the job; `None`: the file does not say (the flags decide).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FromConfig {
    pub source: Option<Source>,
    /// Hugging Face repository id or local path of the model.
    pub model: Option<String>,
    pub method: Option<MethodKind>,
    pub rank: Option<u64>,
    pub alpha: Option<f64>,
    /// peft target module names (`all-linear` for every Linear but the head).
    pub targets: Option<Vec<String>>,
    pub modules_to_save: Option<Vec<String>>,
    pub samples: Option<u64>,
    pub seq_len: Option<u64>,
    pub micro_batch: Option<u64>,
    pub grad_accum: Option<u64>,
    pub epochs: Option<u64>,
    pub dtype: Option<Dtype>,
    pub weights_dtype: Option<WeightsDtype>,
    pub optimizer: Option<Optimizer>,
    pub grad_checkpointing: Option<bool>,
    pub attention: Option<Attention>,
    pub zero: Option<u8>,
    /// FSDP shards the job (axolotl `fsdp_config`).
    pub fsdp: Option<bool>,
    /// What DeepSpeed (`offload_optimizer`, `offload_param`) or FSDP (`offload_params`) keeps
    /// in host RAM.
    pub offload: Option<Offload>,
    /// Gradient elements in DeepSpeed's reduce buckets (reduce_bucket_size, twice with
    /// overlap_comm).
    pub zero_bucket: Option<u64>,
    /// Samples packed into full-length rows (LLaMA-Factory `packing`, axolotl `sample_packing`).
    pub packing: Option<bool>,
    /// Gradients synchronised after every micro-batch (LLaMA-Factory
    /// `accelerator_config.gradient_accumulation_kwargs.sync_each_batch`).
    pub sync_each_batch: Option<bool>,
    /// A fused linear cross-entropy (LLaMA-Factory `enable_liger_kernel`, axolotl
    /// `liger_fused_linear_cross_entropy` or `cut_cross_entropy`).
    pub loss: Option<LossKernel>,
    /// Checkpoints offloaded to host RAM (LLaMA-Factory `use_unsloth_gc`, axolotl
    /// `gradient_checkpointing: offload`).
    pub offload_activations: Option<bool>,
    /// The DeepSpeed file a YAML names (the caller reads it and merges it with [`Self::merge`]).
    pub deepspeed_file: Option<String>,
    /// `key: value` of every setting that changes the job but is not modelled.
    pub not_modelled: Vec<String>,
}

/// Keys that do not change what the job costs (data names, logging, evaluation, saving).
const NO_COST: &[&str] = &[
    "dataset",
    "dataset_dir",
    "eval_dataset",
    "template",
    "output_dir",
    "logging_steps",
    "save_steps",
    "save_strategy",
    "save_total_limit",
    "save_only_model",
    "plot_loss",
    "overwrite_output_dir",
    "overwrite_cache",
    "preprocessing_num_workers",
    "dataloader_num_workers",
    "report_to",
    "run_name",
    "seed",
    "ddp_timeout",
    "resume_from_checkpoint",
    "learning_rate",
    "lr_scheduler_type",
    "lr_scheduler",
    "warmup_ratio",
    "warmup_steps",
    "weight_decay",
    "max_grad_norm",
    "trust_remote_code",
    "do_train",
    "stage",
    "lora_dropout",
    "datasets",
    "dataset_prepared_path",
    "val_set_size",
    "wandb_project",
    "wandb_entity",
    "wandb_watch",
    "wandb_name",
    "wandb_log_model",
    "hub_model_id",
    "tokenizer_type",
    "model_type",
    "chat_template",
    "special_tokens",
    "evals_per_epoch",
    "saves_per_epoch",
    "logging_dir",
    "eval_strategy",
    "eval_steps",
    "per_device_eval_batch_size",
    "eval_batch_size",
    "val_size",
    "early_stopping_patience",
    "train_on_inputs",
    "group_by_length",
    "strict",
    "enable_thinking",
    "lora_fan_in_fan_out",
    "weight_decay",
    "max_steps_per_epoch",
    "use_reentrant_gc",
    "gradient_checkpointing_kwargs",
    "pad_to_sequence_len",
    "tf32",
    "eval_sample_packing",
    "loss_watchdog_patience",
    "loss_watchdog_threshold",
    "auto_resume_from_checkpoints",
    "local_rank",
    "xformers_attention",
];

/// `file:line:column: message` of a YAML error.
fn yaml_error(name: &str, e: &serde_norway::Error) -> Error {
    match e.location() {
        Some(l) => Error::input(format!(
            "{name}:{}:{}: {e} (fix the YAML there)",
            l.line(),
            l.column()
        )),
        None => Error::input(format!("{name}: {e}")),
    }
}

/// Read one config file. `name` is shown in errors (the path).
pub fn parse(name: &str, text: &str) -> Result<FromConfig> {
    if name.to_ascii_lowercase().ends_with(".json") {
        return parse_deepspeed(name, text);
    }
    let value: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| yaml_error(name, &e))?;
    let map = value.as_mapping().ok_or_else(|| {
        Error::input(format!(
            "{name}: not a training config (expected a YAML mapping of keys)"
        ))
    })?;
    let has = |k: &str| map.contains_key(serde_norway::Value::String(k.into()));
    if has("base_model") {
        let c: axolotl::Config = serde_norway::from_str(text).map_err(|e| yaml_error(name, &e))?;
        from_axolotl(name, c)
    } else if has("model_name_or_path") {
        let c: llamafactory::Config =
            serde_norway::from_str(text).map_err(|e| yaml_error(name, &e))?;
        from_llamafactory(name, c)
    } else {
        Err(Error::input(format!(
            "{name}: neither a LLaMA-Factory config (model_name_or_path) nor an axolotl one (base_model); for DeepSpeed give a .json file"
        )))
    }
}

fn unmodelled(other: &BTreeMap<String, serde_norway::Value>, out: &mut Vec<String>) {
    for (k, v) in other {
        if NO_COST.contains(&k.as_str()) || v.is_null() {
            continue;
        }
        let v = serde_norway::to_string(v).unwrap_or_default();
        let v = v.trim().replace('\n', " ");
        out.push(format!("{k}: {v}"));
    }
}

fn dtype_of(bf16: bool, fp16: bool) -> Dtype {
    if bf16 {
        Dtype::Bf16
    } else if fp16 {
        Dtype::Fp16
    } else {
        Dtype::Fp32
    }
}

fn optimizer_of(name: &str, out: &mut Vec<String>) -> Option<Optimizer> {
    match name {
        "adamw_torch" | "adamw_hf" | "adamw" => Some(Optimizer::Adamw),
        "adamw_torch_fused" => Some(Optimizer::AdamwFused),
        "adamw_bnb_8bit" | "adamw_8bit" => Some(Optimizer::Adamw8bit),
        "paged_adamw_8bit" => Some(Optimizer::PagedAdamw8bit),
        "sgd" => Some(Optimizer::Sgd),
        "adafactor" => Some(Optimizer::Adafactor),
        other => {
            out.push(format!("optim: {other} (costed as AdamW)"));
            None
        }
    }
}

fn targets_of(list: &str) -> Vec<String> {
    let names: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if names.iter().any(|n| n == "all") {
        vec!["all-linear".into()]
    } else {
        names
    }
}

fn from_llamafactory(name: &str, c: llamafactory::Config) -> Result<FromConfig> {
    let mut notes = Vec::new();
    let kind = match c.finetuning_type.as_deref().unwrap_or("lora") {
        "lora" if c.use_dora == Some(true) => MethodKind::Dora,
        "lora" if c.quantization_bit == Some(4) => MethodKind::Qlora,
        "lora" => MethodKind::Lora,
        "full" => MethodKind::Full,
        other => {
            return Err(Error::input(format!(
                "{name}: finetuning_type '{other}' is not modelled by peftcost (lora and full are); estimate it with --method"
            )))
        }
    };
    let weights_dtype = match c.quantization_bit {
        None => None,
        Some(4) => Some(WeightsDtype::Nf4),
        Some(8) => Some(WeightsDtype::Int8),
        Some(b) => {
            notes.push(format!("quantization_bit: {b} (not modelled)"));
            None
        }
    };
    if let Some(m) = c.quantization_method.as_deref().filter(|m| *m != "bnb") {
        notes.push(format!("quantization_method: {m} (costed as bitsandbytes)"));
    }
    if c.stage.as_deref().is_some_and(|s| s != "sft" && s != "pt") {
        notes.push(format!(
            "stage: {} (costed as supervised fine-tuning)",
            c.stage.as_deref().unwrap_or_default()
        ));
    }
    if c.pure_bf16 == Some(true) {
        notes.push("pure_bf16: true (costed with fp32 optimizer states)".into());
    }
    let lora = kind.is_lora();
    let rank = c.lora_rank.unwrap_or(8);
    let optimizer = c.optim.as_deref().and_then(|o| optimizer_of(o, &mut notes));
    let samples = c.other.get("max_samples").and_then(|v| v.as_u64());
    let mut other = c.other.clone();
    other.remove("max_samples");
    unmodelled(&other, &mut notes);
    Ok(FromConfig {
        source: Some(Source::Llamafactory),
        model: c.model_name_or_path,
        method: Some(kind),
        rank: lora.then_some(rank),
        // LLaMA-Factory: `lora_alpha` None means 2 x rank (finetuning_args.py).
        alpha: lora.then(|| c.lora_alpha.map_or(2.0 * rank as f64, |a| a.0)),
        targets: lora.then(|| targets_of(c.lora_target.as_deref().unwrap_or("all"))),
        modules_to_save: c.additional_target.as_deref().map(targets_of),
        samples,
        // data_args.py: cutoff_len defaults to 2048.
        seq_len: Some(c.cutoff_len.unwrap_or(2048)),
        // HF TrainingArguments: per_device_train_batch_size 8, 1 accumulation step, 3 epochs.
        micro_batch: Some(c.per_device_train_batch_size.unwrap_or(8)),
        grad_accum: Some(c.gradient_accumulation_steps.unwrap_or(1)),
        epochs: Some(c.num_train_epochs.unwrap_or(3.0).ceil().max(1.0) as u64),
        dtype: Some(dtype_of(
            c.bf16 == Some(true) || c.pure_bf16 == Some(true),
            c.fp16 == Some(true),
        )),
        weights_dtype,
        optimizer,
        grad_checkpointing: Some(c.disable_gradient_checkpointing != Some(true)),
        attention: Some(match c.flash_attn.as_deref() {
            Some("disabled") | Some("eager") => Attention::Eager,
            _ => Attention::Sdpa,
        }),
        zero: None,
        fsdp: None,
        offload: None,
        zero_bucket: None,
        packing: c.packing,
        sync_each_batch: c
            .accelerator_config
            .as_ref()
            .and_then(|a| a.gradient_accumulation_kwargs.as_ref())
            .and_then(|g| g.sync_each_batch),
        loss: (c.enable_liger_kernel == Some(true)).then_some(LossKernel::Fused),
        offload_activations: c.use_unsloth_gc,
        deepspeed_file: c.deepspeed,
        not_modelled: notes,
    })
}

fn from_axolotl(name: &str, c: axolotl::Config) -> Result<FromConfig> {
    let mut notes = Vec::new();
    let kind = match c.adapter.as_deref() {
        None | Some("") => MethodKind::Full,
        Some("qlora") => MethodKind::Qlora,
        Some("lora") if c.peft_use_dora == Some(true) => MethodKind::Dora,
        Some("lora") => MethodKind::Lora,
        Some(other) => {
            return Err(Error::input(format!(
                "{name}: adapter '{other}' is not modelled by peftcost (lora and qlora are); estimate it with --method"
            )))
        }
    };
    let weights_dtype = if c.load_in_4bit == Some(true) {
        Some(WeightsDtype::Nf4)
    } else if c.load_in_8bit == Some(true) {
        Some(WeightsDtype::Int8)
    } else {
        None
    };
    let (checkpointing, offload) = match &c.gradient_checkpointing {
        Some(serde_norway::Value::Bool(b)) => (*b, false),
        // Offloaded to host RAM; `offload_disk` goes on to disk, costed the same on the GPU.
        Some(serde_norway::Value::String(s)) if s.starts_with("offload") => (true, true),
        Some(serde_norway::Value::String(s)) => {
            notes.push(format!(
                "gradient_checkpointing: {s} (not an axolotl mode peftcost knows: costed as checkpointing)"
            ));
            (true, false)
        }
        _ => (false, false),
    };
    let fused_loss =
        [c.liger_fused_linear_cross_entropy, c.cut_cross_entropy].contains(&Some(true));
    let mut other = c.other.clone();
    // FSDP in axolotl's YAML: `fsdp_config` (with `fsdp_version`), or the older `fsdp:` list.
    let fsdp = c.fsdp_config.is_some() || other.remove("fsdp").is_some();
    if let Some(v) = c.fsdp_version.filter(|v| !matches!(v, 1 | 2)) {
        notes.push(format!("fsdp_version: {v} (costed as FSDP FULL_SHARD)"));
    }
    let fsdp_offload = c.fsdp_config.as_ref().is_some_and(|f| {
        f.offload_params == Some(true)
            || f.other.get("fsdp_offload_params") == Some(&serde_norway::Value::Bool(true))
    });
    // The deprecated attention flags (flash_attention: true, ...) pick a fused kernel, which is
    // what peftcost's `sdpa` costs; only eager differs.
    for k in [
        "flash_attention",
        "sdp_attention",
        "xformers_attention",
        "flex_attention",
    ] {
        other.remove(k);
    }
    let attention = match c.attn_implementation.as_deref() {
        Some("eager") => Attention::Eager,
        _ => Attention::Sdpa,
    };
    let lora = kind.is_lora();
    let optimizer = c
        .optimizer
        .as_deref()
        .and_then(|o| optimizer_of(o, &mut notes));
    let bf16 = match &c.bf16 {
        Some(serde_norway::Value::Bool(b)) => *b,
        // `auto` (the default): bf16 where the GPU has it, which every GPU peftcost costs
        // bf16 on does.
        Some(serde_norway::Value::String(s)) => s == "auto" || s == "true",
        _ => c.fp16 != Some(true),
    };
    unmodelled(&other, &mut notes);
    let targets = if c.lora_target_linear == Some(true) {
        Some(vec!["all-linear".to_string()])
    } else {
        c.lora_target_modules.as_ref().map(|t| t.names())
    };
    Ok(FromConfig {
        source: Some(Source::Axolotl),
        model: c.base_model,
        method: Some(kind),
        rank: if lora { c.lora_r } else { None },
        alpha: if lora {
            c.lora_alpha.map(|a| a.0)
        } else {
            None
        },
        targets: if lora { targets } else { None },
        modules_to_save: c.lora_modules_to_save,
        samples: None,
        // axolotl's schema (utils/schemas/{config,training}.py): sequence_len 512,
        // micro_batch_size 1, 1 epoch.
        seq_len: Some(c.sequence_len.unwrap_or(512)),
        micro_batch: Some(c.micro_batch_size.unwrap_or(1)),
        grad_accum: Some(c.gradient_accumulation_steps.unwrap_or(1)),
        epochs: Some(c.num_epochs.unwrap_or(1.0).ceil().max(1.0) as u64),
        dtype: Some(dtype_of(bf16, c.fp16 == Some(true))),
        weights_dtype,
        optimizer,
        grad_checkpointing: Some(checkpointing),
        attention: Some(attention),
        zero: fsdp.then_some(3),
        fsdp: fsdp.then_some(true),
        offload: fsdp.then_some(if fsdp_offload {
            Offload::Params
        } else {
            Offload::None
        }),
        zero_bucket: None,
        packing: c.sample_packing,
        sync_each_batch: None,
        loss: fused_loss.then_some(LossKernel::Fused),
        offload_activations: offload.then_some(true),
        deepspeed_file: c.deepspeed,
        not_modelled: notes,
    })
}

fn parse_deepspeed(name: &str, text: &str) -> Result<FromConfig> {
    let c: deepspeed::Config = serde_json::from_str(text).map_err(|e| {
        Error::input(format!(
            "{name}:{}:{}: {e} (fix the JSON there)",
            e.line(),
            e.column()
        ))
    })?;
    let mut notes = Vec::new();
    let z = &c.zero_optimization;
    if z.stage > 3 {
        return Err(Error::input(format!(
            "{name}: zero_optimization.stage is {}, DeepSpeed has stages 0 to 3",
            z.stage
        )));
    }
    // NVMe offload (ZeRO-Infinity) goes on from host RAM to disk: costed as host RAM, which
    // is its staging area, with the disk's time not modelled.
    let offloaded = |o: &Option<deepspeed::Offload>, key: &str, notes: &mut Vec<String>| {
        let o = o.as_ref().filter(|o| o.device != "none")?;
        if o.device != "cpu" {
            notes.push(format!(
                "zero_optimization.{key}.device: {} (costed as cpu: the disk's time is not modelled)",
                o.device
            ));
        }
        Some(())
    };
    let optimizer_off = offloaded(&z.offload_optimizer, "offload_optimizer", &mut notes);
    let param_off = offloaded(&z.offload_param, "offload_param", &mut notes);
    let offload = match (optimizer_off, param_off) {
        (_, Some(())) if z.stage == 3 => Some(Offload::Params),
        (_, Some(())) => {
            notes.push(format!(
                "zero_optimization.offload_param under stage {} (DeepSpeed offloads parameters only at stage 3; ignored)",
                z.stage
            ));
            optimizer_off.map(|()| Offload::Optimizer)
        }
        (Some(()), None) => Some(Offload::Optimizer),
        (None, None) => Some(Offload::None),
    };
    let number = |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.as_u64());
    // JSON writes bucket sizes as 2e8 (a float); "auto" is the Trainer's hidden^2.
    let buckets = if z.overlap_comm == Some(true) { 2 } else { 1 };
    let zero_bucket = match z.reduce_bucket_size.as_ref().map(|v| (v.as_f64(), v)) {
        Some((Some(n), _)) if (0.0..=1e11).contains(&n) => Some(n as u64 * buckets),
        Some((_, v)) => {
            notes.push(format!(
                "zero_optimization.reduce_bucket_size: {v} (estimated at DeepSpeed's default, {DEEPSPEED_REDUCE_BUCKET})"
            ));
            None
        }
        None => None,
    };
    let on = |e: &Option<deepspeed::Enabled>| {
        e.as_ref()
            .is_some_and(|e| e.enabled == serde_json::Value::Bool(true))
    };
    Ok(FromConfig {
        source: Some(Source::Deepspeed),
        micro_batch: number(&c.train_micro_batch_size_per_gpu),
        grad_accum: number(&c.gradient_accumulation_steps),
        dtype: (on(&c.bf16) || on(&c.fp16)).then(|| dtype_of(on(&c.bf16), on(&c.fp16))),
        zero: Some(z.stage),
        zero_bucket,
        offload,
        not_modelled: notes,
        ..FromConfig::default()
    })
}

impl FromConfig {
    /// Merge a DeepSpeed file's facts into a trainer's: the ZeRO stage, and batch sizes the
    /// trainer's file left out.
    pub fn merge(&mut self, ds: FromConfig) {
        self.zero = ds.zero.or(self.zero);
        self.offload = ds.offload.or(self.offload);
        self.zero_bucket = ds.zero_bucket.or(self.zero_bucket);
        self.micro_batch = self.micro_batch.or(ds.micro_batch);
        self.grad_accum = self.grad_accum.or(ds.grad_accum);
        self.dtype = self.dtype.or(ds.dtype);
        self.not_modelled.extend(ds.not_modelled);
        if self.source.is_none() {
            self.source = ds.source;
        }
    }
}
