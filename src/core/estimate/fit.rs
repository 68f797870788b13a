//! What would make a scenario fit when it fits on no device: typed levers, worded by each
//! front-end (the CLI as flags, the TUI as its inputs).

use serde::Serialize;

use super::{Assumptions, DeviceResult, Prepared, Scenario, Shapes, WeightsDtype};
use crate::core::hardware::HardwareProfile;
use crate::core::peft::MethodKind;

/// A change to the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "lever", rename_all = "kebab-case")]
pub enum Change {
    /// Turn gradient checkpointing on.
    GradCheckpointing,
    /// Micro-batch 1, gradient accumulation raised to keep the global batch.
    MicroBatchOne,
    /// QLoRA (NF4 base weights) with checkpointing and micro-batch 1.
    QloraCheckpointedMicroBatchOne,
    /// Shard over `gpus` devices with ZeRO-3, with checkpointing.
    Zero3 {
        /// Data-parallel devices.
        gpus: u64,
    },
}

impl Change {
    fn apply(self, s: &mut Scenario) {
        let w = &mut s.workload;
        match self {
            Change::GradCheckpointing => w.grad_checkpointing = true,
            Change::MicroBatchOne => {
                w.grad_accum *= w.micro_batch;
                w.micro_batch = 1;
            }
            Change::QloraCheckpointedMicroBatchOne => {
                s.method.kind = MethodKind::Qlora;
                w.weights_dtype = WeightsDtype::Nf4;
                w.grad_checkpointing = true;
                w.micro_batch = 1;
            }
            Change::Zero3 { gpus } => {
                w.gpus = gpus;
                w.zero = 3;
                w.grad_checkpointing = true;
            }
        }
    }
}

/// One remedy tried on the largest device: its memory there and whether it fits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// What changes.
    pub change: Change,
    /// The device it was tried on (the largest of the estimate's).
    pub hardware: String,
    /// Peak memory per device with the change, bytes.
    pub memory: u64,
    /// Whether that fits the device.
    pub fits: bool,
}

/// Try the usual remedies on the largest device and say which ones fit.
pub fn suggestions(p: &Prepared, hardware: &[HardwareProfile], a: &Assumptions) -> Vec<Suggestion> {
    let Some(hw) = hardware
        .iter()
        .max_by(|x, y| x.memory_gib.total_cmp(&y.memory_gib))
    else {
        return Vec::new();
    };
    let base = &p.scenario;
    let mut changes = vec![Change::GradCheckpointing, Change::MicroBatchOne];
    if base.method.kind.is_lora() {
        changes.push(Change::QloraCheckpointedMicroBatchOne);
    }
    changes.extend([2u64, 4, 8].map(|gpus| Change::Zero3 { gpus }));
    changes
        .into_iter()
        .filter_map(|change| {
            let mut s = base.clone();
            change.apply(&mut s);
            if s == *base {
                return None;
            }
            let prep = s.prepare().ok()?;
            let d = DeviceResult::new(&Shapes::new(&prep), &s.workload, hw, a);
            Some(Suggestion {
                change,
                hardware: hw.id.clone(),
                memory: d.memory.total,
                fits: d.fits,
            })
        })
        .collect()
}
