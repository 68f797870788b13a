//! What would make a scenario fit when it fits on no device.

use super::{Assumptions, DeviceResult, Prepared, Shapes, WeightsDtype};
use crate::hardware::HardwareProfile;
use crate::peft::MethodKind;
use crate::report::fmt;

/// Try the usual remedies on the largest device and say which ones fit.
pub fn suggestions(p: &Prepared, hardware: &[HardwareProfile], a: &Assumptions) -> Vec<String> {
    let Some(hw) = hardware
        .iter()
        .max_by(|x, y| x.memory_gib.total_cmp(&y.memory_gib))
    else {
        return Vec::new();
    };
    let base = &p.scenario;
    let mut out = Vec::new();
    let mut try_variant = |label: &str, change: &dyn Fn(&mut super::Scenario)| {
        let mut s = base.clone();
        change(&mut s);
        if s == *base {
            return;
        }
        if let Ok(prep) = s.prepare() {
            let d = DeviceResult::new(&Shapes::new(&prep), &s.workload, hw, a);
            let verdict = if d.fits { "fits" } else { "still does not fit" };
            out.push(format!(
                "{label}: {} on {} ({verdict})",
                fmt::gib(d.memory.total as f64),
                hw.id
            ));
        }
    };
    try_variant("--grad-checkpointing", &|s| {
        s.workload.grad_checkpointing = true
    });
    try_variant(
        "--micro-batch 1 (raise --grad-accum to keep the batch)",
        &|s| {
            s.workload.grad_accum *= s.workload.micro_batch;
            s.workload.micro_batch = 1;
        },
    );
    if base.method.kind.is_lora() {
        try_variant(
            "--method qlora --grad-checkpointing --micro-batch 1",
            &|s| {
                s.method.kind = MethodKind::Qlora;
                s.workload.weights_dtype = WeightsDtype::Nf4;
                s.workload.grad_checkpointing = true;
                s.workload.micro_batch = 1;
            },
        );
    }
    for gpus in [2u64, 4, 8] {
        try_variant(
            &format!("--gpus {gpus} --zero 3 --grad-checkpointing"),
            &|s| {
                s.workload.gpus = gpus;
                s.workload.zero = 3;
                s.workload.grad_checkpointing = true;
            },
        );
    }
    out
}
