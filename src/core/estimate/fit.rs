//! Fitting a job to a device, the question a practitioner really asks ("what do I run on an A10?").
//!
//! - **Auto-fit** ([`FitPolicy::AUTO`], the default of every front-end): on each device, the
//!   largest micro-batch that fits without gradient checkpointing, gradient accumulation raised
//!   to keep the global batch; checkpointing only when no micro-batch fits without it; QLoRA only
//!   when the user allows quantization. Time and cost follow the chosen configuration.
//! - **Fixes**: where even the most frugal configuration does not fit, the combination of levers
//!   (QLoRA, ZeRO-3 over more GPUs, a shorter sequence) that makes it fit with the least
//!   disruption, found by searching [`LEVER_SETS`] in order, each with the micro-batch and
//!   checkpointing search above. Fixes are suggestions, never applied silently.
//!
//! Wart: the search keeps the global batch exactly, so a GPU count that does not divide it is
//! never tried (8 GPUs with the default global batch of 4).

use serde::Serialize;

use super::{Assumptions, DeviceResult, Offload, Prepared, Shapes, WeightsDtype, Workload};
use crate::core::error::{Error, Result};
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::MethodKind;

/// How each device's configuration is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitPolicy {
    /// Search the micro-batch and checkpointing per device (false: the workload as given).
    pub auto: bool,
    /// Sequences per optimizer step across all devices; `None`: the workload's
    /// micro-batch x grad-accum x GPUs.
    pub global_batch: Option<u64>,
    /// Let auto-fit switch LoRA/DoRA to QLoRA where nothing else fits.
    pub allow_quantization: bool,
}

impl Default for FitPolicy {
    /// Auto-fit: what every front-end does unless told otherwise.
    fn default() -> Self {
        FitPolicy::AUTO
    }
}

impl FitPolicy {
    /// The workload exactly as given (`--no-auto-fit`, or an explicit micro-batch).
    pub const EXACT: FitPolicy = FitPolicy {
        auto: false,
        global_batch: None,
        allow_quantization: false,
    };
    /// Auto-fit keeping the workload's global batch, without quantization.
    pub const AUTO: FitPolicy = FitPolicy {
        auto: true,
        global_batch: None,
        allow_quantization: false,
    };

    /// The global batch the search keeps, checked against the workload's GPUs.
    pub fn global_batch(&self, w: &Workload) -> Result<u64> {
        let Some(g) = self.global_batch else {
            return Ok(w.global_batch());
        };
        super::workload::bounded("global-batch", g, 1, 1 << 24)?;
        let per_step = if self.auto {
            w.gpus
        } else {
            w.micro_batch * w.gpus
        };
        if !g.is_multiple_of(per_step) {
            return Err(Error::Invalid {
                field: "global-batch",
                value: g.to_string(),
                expected: if self.auto {
                    format!("a multiple of --gpus ({})", w.gpus)
                } else {
                    format!("a multiple of --micro-batch x --gpus ({per_step})")
                },
            });
        }
        Ok(g)
    }
}

/// Why a device runs the configuration it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FitReason {
    /// Auto-fit was off: the workload as given.
    AsGiven,
    /// The whole per-device batch fits in one micro-batch without checkpointing.
    Fits,
    /// The largest micro-batch that fits without checkpointing, accumulation raised.
    SmallerMicroBatch,
    /// Only fits with gradient checkpointing.
    Checkpointing,
    /// Only fits with QLoRA (the user allowed quantization).
    Quantized,
    /// Nothing fits: the figures are those of the most frugal configuration tried.
    NothingFits,
}

/// How a device runs the job: `devices[].config` and `offers[].config` in the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DeviceConfig {
    /// Sequences per device per forward/backward pass.
    pub micro_batch: u64,
    /// Micro-batches accumulated per optimizer step.
    pub grad_accum: u64,
    /// Whether activations are recomputed in the backward pass.
    pub grad_checkpointing: bool,
    /// Data-parallel devices.
    pub gpus: u64,
    /// ZeRO stage (3 under FSDP).
    pub zero: u8,
    /// FSDP, not DeepSpeed, shards.
    pub fsdp: bool,
    /// What the sharding engine keeps in host RAM.
    pub offload: Offload,
    /// Machines the devices are spread over.
    pub nodes: u64,
    /// Tokens per sequence.
    pub seq_len: u64,
    /// The method trained (QLoRA where quantization was allowed and needed).
    pub method: MethodKind,
    /// Whether auto-fit chose this configuration.
    pub auto: bool,
    /// Why this configuration.
    pub reason: FitReason,
}

impl DeviceConfig {
    /// The scenario this configuration runs: the workload's micro-batch, accumulation,
    /// checkpointing, devices and sequence length replaced by the configuration's, and LoRA/DoRA
    /// switched to QLoRA (NF4 base weights) where the configuration quantized.
    pub fn apply(&self, p: &Prepared) -> Result<Prepared> {
        let mut s = p.scenario.clone();
        s.workload = Workload {
            micro_batch: self.micro_batch,
            grad_accum: self.grad_accum,
            grad_checkpointing: self.grad_checkpointing,
            gpus: self.gpus,
            zero: self.zero,
            fsdp: self.fsdp,
            offload: self.offload,
            nodes: self.nodes,
            seq_len: self.seq_len,
            ..s.workload
        };
        if self.method != s.method.kind {
            s.method.kind = self.method;
            if self.method == MethodKind::Qlora {
                s.workload.weights_dtype = WeightsDtype::Nf4;
            }
        }
        s.prepare()
    }

    /// The configuration of a workload, as given.
    pub fn of(w: &Workload, method: MethodKind) -> Self {
        DeviceConfig {
            micro_batch: w.micro_batch,
            grad_accum: w.grad_accum,
            grad_checkpointing: w.grad_checkpointing,
            gpus: w.gpus,
            zero: w.zero,
            fsdp: w.fsdp,
            offload: w.offload,
            nodes: w.nodes,
            seq_len: w.seq_len,
            method,
            auto: false,
            reason: FitReason::AsGiven,
        }
    }
}

/// One lever of a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "lever", rename_all = "kebab-case")]
pub enum Change {
    /// Turn gradient checkpointing on.
    GradCheckpointing,
    /// Micro-batch 1, gradient accumulation raised to keep the global batch.
    MicroBatchOne,
    /// A smaller micro-batch, gradient accumulation raised to keep the global batch.
    MicroBatch {
        /// Sequences per micro-batch.
        micro_batch: u64,
    },
    /// QLoRA: NF4 base weights (LoRA and DoRA only).
    Qlora,
    /// Shard over `gpus` devices with ZeRO-3.
    Zero3 {
        /// Data-parallel devices.
        gpus: u64,
    },
    /// Keep the optimizer's state in host RAM and step it on the CPU (ZeRO-Offload; FSDP
    /// offloads the parameters with it).
    Offload {
        /// What moves to host RAM.
        offload: Offload,
    },
    /// Reduce-scatter the gradients after every micro-batch (accelerate's `sync_each_batch`)
    /// instead of accumulating them unsharded under FSDP's `no_sync`.
    SyncEachBatch,
    /// Train on shorter sequences (truncate or split the samples).
    SeqLen {
        /// Tokens per sequence.
        seq_len: u64,
    },
}

/// A lever the fix search combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lever {
    Qlora,
    Zero3(u64),
    /// Offload the optimizer to host RAM (after a sharding lever).
    OffloadOptimizer,
    /// Synchronise gradients every micro-batch (FSDP only).
    SyncEachBatch,
    /// Divide the sequence length by this.
    Shorter(u64),
}

use Lever::{OffloadOptimizer, Qlora, Shorter, SyncEachBatch, Zero3};

/// Lever combinations in order of disruption: same job on cheaper memory first (QLoRA), then the
/// same job on more GPUs, then with its optimizer in host RAM (slower, and host RAM to rent;
/// alone only for a job that already runs ZeRO or FSDP),
/// then a different job (shorter sequences). The first that fits a device
/// is its fix. The empty set (micro-batch and checkpointing alone) comes first.
const LEVER_SETS: &[&[Lever]] = &[
    &[],
    // Same job and hardware, more gradient traffic: FSDP stops accumulating unsharded.
    &[SyncEachBatch],
    &[Qlora],
    &[Zero3(2)],
    &[Zero3(4)],
    &[Zero3(8)],
    &[Qlora, Zero3(2)],
    &[Qlora, Zero3(4)],
    &[Qlora, Zero3(8)],
    // A job already sharded over every GPU it will get: only the optimizer can move.
    &[OffloadOptimizer],
    &[Zero3(8), OffloadOptimizer],
    &[Shorter(2)],
    &[Qlora, Shorter(2)],
    &[Shorter(4)],
    &[Qlora, Shorter(4)],
    &[Zero3(8), Shorter(4)],
    &[Qlora, Zero3(8), Shorter(4)],
];

/// A configuration that fits a device where the job as asked does not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The first change (kept for scripts that read one lever).
    pub change: Change,
    /// Every change, in the order to apply them.
    pub changes: Vec<Change>,
    /// The device it fits.
    pub hardware: String,
    /// Peak memory per device with the changes, bytes.
    pub memory: u64,
    /// Whether that fits the device (always true for a fix).
    pub fits: bool,
    /// Host RAM per device the changes need (offloaded state and checkpoints), bytes.
    pub host_memory: u64,
    /// The configuration with the changes.
    pub config: DeviceConfig,
    /// Training hours with the changes, where the device has a peak for the dtype.
    pub hours: Option<f64>,
    /// The cheapest offer's cost of the job with the changes, in USD (set with the offers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// A method variant fitting may use: its shapes and its workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    /// Shapes of the prepared scenario.
    pub shapes: Shapes,
    /// Its workload (QLoRA's loads NF4 weights).
    pub workload: Workload,
}

/// The scenario as asked and, for LoRA and DoRA, as QLoRA.
#[derive(Debug, Clone, PartialEq)]
pub struct Variants {
    /// As asked.
    pub base: Variant,
    /// The QLoRA variant of a LoRA/DoRA job.
    pub qlora: Option<Variant>,
}

impl Variants {
    /// The variants of a prepared scenario (QLoRA's is prepared here: a few microseconds).
    pub fn new(p: &Prepared) -> Self {
        let base = Variant {
            shapes: Shapes::new(p),
            workload: p.scenario.workload,
        };
        let kind = p.scenario.method.kind;
        let qlora = matches!(kind, MethodKind::Lora | MethodKind::Dora)
            .then(|| {
                let mut s = p.scenario.clone();
                s.method.kind = MethodKind::Qlora;
                s.workload.weights_dtype = WeightsDtype::Nf4;
                s.prepare().ok().map(|q| Variant {
                    shapes: Shapes::new(&q),
                    workload: s.workload,
                })
            })
            .flatten();
        Variants { base, qlora }
    }

    /// The variant that trains `method`.
    pub fn for_method(&self, method: MethodKind) -> &Variant {
        match &self.qlora {
            Some(q) if method == MethodKind::Qlora => q,
            _ => &self.base,
        }
    }
}

fn largest_divisor_at_most(n: u64, cap: u64) -> u64 {
    (1..=cap.min(n))
        .rev()
        .find(|d| n.is_multiple_of(*d))
        .unwrap_or(1)
}

/// The largest micro-batch (a divisor of the per-device batch) that fits, without checkpointing
/// if possible; where nothing fits, the most frugal configuration tried (checkpointing,
/// micro-batch 1), with `fits` false.
pub fn search(
    v: &Variant,
    w: Workload,
    global: u64,
    hw: &HardwareProfile,
    a: &Assumptions,
) -> DeviceResult {
    let per_device = (global / w.gpus).max(1);
    let mut last = None;
    for ckpt in [false, true] {
        let mut mb = per_device;
        loop {
            let wl = Workload {
                micro_batch: mb,
                // Stepping inside backward leaves nothing to accumulate into: a smaller
                // micro-batch is a smaller global batch.
                grad_accum: if w.optimizer_in_backward {
                    1
                } else {
                    per_device / mb
                },
                grad_checkpointing: ckpt,
                ..w
            };
            let mut d = DeviceResult::new(&v.shapes, &wl, hw, a);
            d.config.auto = true;
            if d.fits {
                d.config.reason = match (ckpt, mb == per_device) {
                    (true, _) => FitReason::Checkpointing,
                    (false, true) => FitReason::Fits,
                    (false, false) => FitReason::SmallerMicroBatch,
                };
                return d;
            }
            d.config.reason = FitReason::NothingFits;
            last = Some(d);
            if mb == 1 {
                break;
            }
            let cap = last
                .as_ref()
                .map_or(1, |d| d.max_micro_batch)
                .clamp(1, mb - 1);
            mb = largest_divisor_at_most(per_device, cap);
        }
    }
    last.unwrap_or_else(|| DeviceResult::new(&v.shapes, &w, hw, a))
}

/// The configuration a practitioner would run on `hw`: the base method's search, then QLoRA's
/// when allowed. Not fitting, the most frugal base configuration.
pub fn auto_fit(
    vs: &Variants,
    global: u64,
    hw: &HardwareProfile,
    a: &Assumptions,
    allow_quantization: bool,
) -> DeviceResult {
    let frugal = search(&vs.base, vs.base.workload, global, hw, a);
    if frugal.fits {
        return frugal;
    }
    if let (true, Some(q)) = (allow_quantization, &vs.qlora) {
        let mut d = search(q, q.workload, global, hw, a);
        if d.fits {
            d.config.reason = FitReason::Quantized;
            return d;
        }
    }
    frugal
}

/// The least disruptive combination of levers that fits `hw`, searched in [`LEVER_SETS`] order;
/// `None` when nothing in the search fits. `skip_plain`: the plain micro-batch and checkpointing
/// search already failed (auto-fit ran it).
pub fn fix(
    vs: &Variants,
    global: u64,
    hw: &HardwareProfile,
    a: &Assumptions,
    skip_plain: bool,
) -> Option<Suggestion> {
    let base = vs.base.workload;
    for levers in LEVER_SETS {
        if levers.is_empty() && skip_plain {
            continue;
        }
        let mut v = &vs.base;
        let mut w = base;
        let mut ok = true;
        for lever in *levers {
            match *lever {
                Lever::Qlora => match &vs.qlora {
                    Some(q) => {
                        v = q;
                        w.weights_dtype = q.workload.weights_dtype;
                    }
                    None => ok = false,
                },
                Lever::Zero3(gpus) => {
                    // One CPU server is the unit; sharding over several is not a lever here.
                    // ZeRO cannot step parameters inside backward (torchtune refuses it).
                    ok &= hw.kind == HardwareKind::Gpu
                        && !base.optimizer_in_backward
                        && gpus > base.gpus
                        && global.is_multiple_of(gpus);
                    w.gpus = gpus;
                    w.zero = 3;
                }
                Lever::OffloadOptimizer => {
                    ok &= w.zero >= 1;
                    w.offload = if w.fsdp {
                        Offload::Params
                    } else {
                        Offload::Optimizer
                    };
                }
                Lever::SyncEachBatch => {
                    ok &= w.fsdp && w.gpus >= 2 && !w.sync_each_batch;
                    w.sync_each_batch = true;
                }
                Lever::Shorter(div) => {
                    w.seq_len = base.seq_len / div;
                    ok &= w.seq_len >= 16;
                }
            }
        }
        if !ok {
            continue;
        }
        let d = search(v, w, global, hw, a);
        if d.fits {
            return Some(suggestion(levers, &d, &base));
        }
    }
    None
}

fn suggestion(levers: &[Lever], d: &DeviceResult, base: &Workload) -> Suggestion {
    let c = &d.config;
    let mut changes: Vec<Change> = levers
        .iter()
        .map(|l| match *l {
            Lever::Qlora => Change::Qlora,
            Lever::Zero3(gpus) => Change::Zero3 { gpus },
            Lever::OffloadOptimizer => Change::Offload { offload: c.offload },
            Lever::SyncEachBatch => Change::SyncEachBatch,
            Lever::Shorter(_) => Change::SeqLen { seq_len: c.seq_len },
        })
        .collect();
    if c.grad_checkpointing && !base.grad_checkpointing {
        changes.push(Change::GradCheckpointing);
    }
    if c.micro_batch != base.micro_batch {
        changes.push(if c.micro_batch == 1 {
            Change::MicroBatchOne
        } else {
            Change::MicroBatch {
                micro_batch: c.micro_batch,
            }
        });
    }
    Suggestion {
        change: changes
            .first()
            .copied()
            .unwrap_or(Change::GradCheckpointing),
        changes,
        hardware: d.hardware.clone(),
        memory: d.memory.total,
        fits: d.fits,
        host_memory: d.memory.host_bytes(),
        config: d.config,
        hours: d.hours,
        cost_usd: None,
    }
}
