//! axolotl: the YAML of `axolotl train` and its launch line.
//!
//! Keys from axolotl's `src/axolotl/utils/schemas/{peft,config,training}.py`,
//! `examples/llama-3/lora-8b.yml` and `docs/multi-node.qmd` (reference anchors-2026 §3.1, §3.5).
//! axolotl trains causal LMs with LoRA (DoRA via `peft_use_dora`), QLoRA or in full.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::llamafactory::Number;
use super::{deepspeed, Emitted, Facts};
use crate::core::error::Result;
use crate::core::estimate::{Attention, Dtype, LossKernel};
use crate::core::peft::MethodKind;

/// The file names this engine writes.
pub const CONFIG: &str = "axolotl.yaml";
const LAUNCH: &str = "run_axolotl.sh";

/// A string or a list of strings (`lora_target_modules` takes both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn names(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// One entry of `datasets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub path: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// An axolotl YAML: the keys peftcost writes and reads; anything else is kept in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub base_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_remote_code: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_in_8bit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_in_4bit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_r: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_alpha: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_dropout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_target_modules: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_target_linear: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_modules_to_save: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peft_use_dora: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets: Option<Vec<Dataset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_len: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad_to_sequence_len: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_packing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub micro_batch_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_accumulation_steps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_epochs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_scheduler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16: Option<serde_norway::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16: Option<bool>,
    /// `true`, `false`, or `offload` / `offload_disk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_checkpointing: Option<serde_norway::Value>,
    /// Integrations to load, e.g. `axolotl.integrations.liger.LigerPlugin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugins: Option<Vec<String>>,
    /// Liger's fused linear cross-entropy (with the Liger plugin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liger_fused_linear_cross_entropy: Option<bool>,
    /// Apple's Cut Cross-Entropy (with its plugin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_cross_entropy: Option<bool>,
    /// eager, sdpa, flash_attention_2, ... (the deprecated `flash_attention: true` style flags
    /// are read from `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attn_implementation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deepspeed: Option<String>,
    /// 1 or 2 (FSDP2's `fully_shard`); with `fsdp_config` the job runs under FSDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsdp_version: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsdp_config: Option<FsdpConfig>,
    /// Keys peftcost does not model.
    #[serde(flatten, skip_serializing)]
    pub other: BTreeMap<String, serde_norway::Value>,
}

/// axolotl's `fsdp_config` (its FSDP2 form; docs/multi-gpu.qmd): a unit per decoder layer,
/// resharded after forward.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FsdpConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_params: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dict_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_wrap_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reshard_after_forward: Option<bool>,
    /// Keys peftcost does not model (e.g. `transformer_layer_cls_to_wrap`).
    #[serde(flatten, skip_serializing)]
    pub other: BTreeMap<String, serde_norway::Value>,
}

/// axolotl's Liger integration (`plugins:` entry).
const LIGER_PLUGIN: &str = "axolotl.integrations.liger.LigerPlugin";

pub(super) fn config(f: &Facts) -> Result<Config> {
    let s = &f.job.prepared.scenario;
    if !f.is_causal() {
        return Err(f.unsupported(
            "axolotl",
            &format!("a {} model (it trains causal LMs)", s.task.as_str()),
        ));
    }
    let adapter = match f.method {
        MethodKind::Lora | MethodKind::Dora => Some("lora"),
        MethodKind::Qlora => Some("qlora"),
        MethodKind::Full => None,
        other => return Err(f.unsupported("axolotl", &format!("{} tuning", other.as_str()))),
    };
    let lora = adapter.is_some();
    let all_linear = f
        .targets
        .as_ref()
        .is_some_and(|t| t.len() == 1 && t[0] == "all-linear");
    let w = f.workload();
    let fused = w.loss == LossKernel::Fused;
    Ok(Config {
        base_model: Some(f.model_path.clone()),
        trust_remote_code: f.trust_remote_code.then_some(true),
        load_in_8bit: None,
        load_in_4bit: (f.method == MethodKind::Qlora).then_some(true),
        adapter: adapter.map(String::from),
        lora_r: lora.then_some(s.method.rank),
        lora_alpha: lora.then_some(Number(s.method.alpha)),
        lora_dropout: lora.then_some(0.0),
        lora_target_modules: (lora && !all_linear)
            .then(|| f.targets.clone().map(OneOrMany::Many))
            .flatten(),
        lora_target_linear: (lora && all_linear).then_some(true),
        lora_modules_to_save: (lora && !f.modules_to_save.is_empty())
            .then(|| f.modules_to_save.clone()),
        peft_use_dora: (f.method == MethodKind::Dora).then_some(true),
        datasets: Some(vec![Dataset {
            path: "tatsu-lab/alpaca".into(),
            kind: Some("alpaca".into()),
        }]),
        output_dir: Some(f.output_dir.clone()),
        sequence_len: Some(w.seq_len),
        // Padded to the full length unless the estimate knew shorter samples; packed as asked.
        pad_to_sequence_len: Some(w.lengths.is_none() || w.packing),
        sample_packing: Some(w.packing),
        micro_batch_size: Some(w.micro_batch),
        gradient_accumulation_steps: Some(w.grad_accum),
        num_epochs: Some(w.epochs as f64),
        optimizer: Some(f.hf_optim().into()),
        lr_scheduler: Some("cosine".into()),
        learning_rate: Some(f.learning_rate),
        bf16: (f.dtype == Dtype::Bf16).then_some(serde_norway::Value::Bool(true)),
        fp16: (f.dtype == Dtype::Fp16).then_some(true),
        gradient_checkpointing: Some(if w.grad_checkpointing && w.offload_activations {
            serde_norway::Value::String("offload".into())
        } else {
            serde_norway::Value::Bool(w.grad_checkpointing)
        }),
        plugins: fused.then(|| vec![LIGER_PLUGIN.to_string()]),
        liger_fused_linear_cross_entropy: fused.then_some(true),
        cut_cross_entropy: None,
        attn_implementation: Some(
            match f.attention() {
                Attention::Sdpa => "sdpa",
                Attention::Eager => "eager",
            }
            .into(),
        ),
        deepspeed: (f.zero() > 0).then(|| deepspeed::CONFIG.to_string()),
        fsdp_version: f.fsdp().then_some(2),
        fsdp_config: f.fsdp().then(|| FsdpConfig {
            offload_params: Some(f.offload() == crate::core::estimate::Offload::Params),
            state_dict_type: Some("FULL_STATE_DICT".into()),
            auto_wrap_policy: Some("TRANSFORMER_BASED_WRAP".into()),
            reshard_after_forward: Some(true),
            other: BTreeMap::new(),
        }),
        other: BTreeMap::new(),
    })
}

/// The command that starts training from the output directory on every machine of the job.
pub(super) fn launch(f: &Facts, node_rank: &str, master_addr: &str) -> String {
    if f.nodes > 1 {
        format!(
            "axolotl train {CONFIG} --launcher torchrun -- --nnodes {} --nproc_per_node {} --node_rank {node_rank} --rdzv_backend c10d --rdzv_endpoint {master_addr}:29500",
            f.nodes,
            f.gpus_per_node()
        )
    } else if f.gpus > 1 {
        format!(
            "axolotl train {CONFIG} --launcher torchrun -- --nproc_per_node {}",
            f.gpus
        )
    } else {
        format!("axolotl train {CONFIG}")
    }
}

pub(super) fn emit(f: &Facts, out: &mut Emitted) -> Result<()> {
    let cfg = config(f)?;
    if f.syncs_each_batch() {
        out.notes.push(
            "axolotl.yaml does not carry --sync-each-batch: pass accelerate's GradientAccumulationPlugin(sync_each_batch=True) to the trainer, or FSDP accumulates the gradients unsharded".into(),
        );
    }
    super::trainer_files(
        f,
        out,
        (CONFIG, &cfg),
        (LAUNCH, launch(f, super::NODE_RANK, super::MASTER_ADDR)),
    )
}
