//! DeepSpeed: the ZeRO JSON of the chosen stage.
//!
//! Keys from DeepSpeed's config documentation and LLaMA-Factory's
//! `examples/deepspeed/ds_z{2,3}_config.json` (reference anchors-2026 §3.3). peftcost writes the
//! batch sizes as numbers, not `"auto"`: they are the ones it estimated, and the HF Trainer
//! checks they agree with its own arguments. DeepSpeed requires
//! `train_batch_size = micro-batch x accumulation x world size`.

use serde::{Deserialize, Serialize};

use super::{Emitted, EmittedFile, Facts};
use crate::core::error::{Error, Result};
use crate::core::estimate::{Dtype, Offload as EstOffload};

/// The file name.
pub const CONFIG: &str = "ds_config.json";

/// A DeepSpeed config: the keys peftcost writes and reads. Batch keys may be `"auto"` in a
/// user's file (read as unknown).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_batch_size: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_micro_batch_size_per_gpu: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_accumulation_steps: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_clipping: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16: Option<Enabled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16: Option<Enabled>,
    #[serde(default)]
    pub zero_optimization: Zero,
}

/// `{"enabled": ...}` (`"auto"` in a user's file is kept as a string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enabled {
    pub enabled: serde_json::Value,
}

/// `zero_optimization`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Zero {
    #[serde(default)]
    pub stage: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_comm: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contiguous_gradients: Option<bool>,
    /// Elements per reduce bucket; `"auto"` in a user's file (the Trainer sets hidden^2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_bucket_size: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_optimizer: Option<Offload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_param: Option<Offload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage3_gather_16bit_weights_on_model_save: Option<bool>,
}

/// `offload_optimizer` / `offload_param`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offload {
    pub device: String,
    /// Page-locked host buffers (faster PCIe copies; DeepSpeed's default is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_memory: Option<bool>,
}

/// `{"device": "cpu", "pin_memory": true}`, the block LLaMA-Factory's and axolotl's offload
/// configs write.
fn to_cpu() -> Offload {
    Offload {
        device: "cpu".into(),
        pin_memory: Some(true),
    }
}

pub(super) fn config(f: &Facts) -> Config {
    let w = f.workload();
    let enabled = |on: bool| Enabled {
        enabled: serde_json::Value::Bool(on),
    };
    Config {
        train_batch_size: Some((w.micro_batch * w.grad_accum * f.gpus).into()),
        train_micro_batch_size_per_gpu: Some(w.micro_batch.into()),
        gradient_accumulation_steps: Some(w.grad_accum.into()),
        gradient_clipping: Some(1.0.into()),
        bf16: Some(enabled(f.dtype == Dtype::Bf16)),
        fp16: Some(enabled(f.dtype == Dtype::Fp16)),
        zero_optimization: Zero {
            stage: f.zero(),
            overlap_comm: Some(false),
            contiguous_gradients: Some(true),
            // The bucket the estimate held (one, without overlap_comm).
            reduce_bucket_size: (f.zero() >= 2).then(|| w.zero_bucket.into()),
            offload_optimizer: (f.offload() != EstOffload::None).then(to_cpu),
            offload_param: (f.offload() == EstOffload::Params).then(to_cpu),
            stage3_gather_16bit_weights_on_model_save: (f.zero() == 3).then_some(true),
        },
    }
}

pub(super) fn emit(f: &Facts, out: &mut Emitted) -> Result<()> {
    if f.fsdp() {
        out.notes.push(
            "ds_config.json not written: the job runs under FSDP (accelerate.yaml's fsdp_config), not DeepSpeed".into(),
        );
        return Ok(());
    }
    if f.zero() == 0 && f.gpus == 1 {
        out.notes.push(
            "ds_config.json: ZeRO stage 0 on one GPU (the estimate uses no DeepSpeed)".into(),
        );
    }
    let text = serde_json::to_string_pretty(&config(f))
        .map_err(|e| Error::Internal(format!("writing JSON: {e}")))?;
    out.push(EmittedFile {
        name: CONFIG,
        contents: text + "\n",
        executable: false,
    });
    Ok(())
}
