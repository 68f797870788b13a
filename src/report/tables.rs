//! The seed's two report tables, assembled from core results (this module computes nothing;
//! it calls the estimate, the offers ranking and the deployment model, and arranges rows).

use serde::Serialize;

use crate::core::arch::ModelCatalog;
use crate::core::error::Result;
use crate::core::estimate::{
    Assumptions, DeviceConfig, Estimate, FitPolicy, OfferQuery, Scenario, Suggestion, Workload,
};
use crate::core::hardware::HardwareProfile;
use crate::core::peft::{MethodConfig, MethodKind};
use crate::core::pricing::PricingCatalog;

/// The models of both tables.
pub use crate::core::spec::TABLE_MODELS as MODELS;

/// One row of the tidy fine-tuning CSV: model x method x hardware x offer x billing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinetuneRow {
    pub model: String,
    pub method: String,
    pub trainable_params: u64,
    pub total_params: u64,
    /// The cheapest offer of this model and method.
    pub recommended: bool,
    pub hardware: String,
    pub memory_bytes: u64,
    pub train_hours: Option<f64>,
    pub provider: String,
    pub region: String,
    pub instance: String,
    pub billing: String,
    pub price_per_hour: f64,
    pub currency: String,
    pub job_cost: f64,
    pub job_cost_usd: f64,
    pub job_cost_cny: f64,
    pub samples: u64,
    pub seq_len: u64,
    pub epochs: u64,
    pub micro_batch: u64,
    /// Gradient accumulation of the costed configuration.
    pub grad_accum: u64,
    /// Whether the costed configuration checkpoints activations.
    pub grad_checkpointing: bool,
    /// GPUs the costed configuration uses.
    pub gpus: u64,
    pub dtype: String,
    pub pricing_as_of: String,
    pub pricing_source: String,
    /// The article's stages, in `currency`: rent and setup (with the downloads), upload data
    /// (ingress and storage), train (with evaluation and rounding), export.
    pub cost_setup: f64,
    pub cost_data: f64,
    pub cost_train: f64,
    pub cost_export: f64,
    /// Billed instance hours, all instances.
    pub billed_hours: f64,
    /// The job cost in `display_currency`.
    pub cost_display: f64,
    pub display_currency: String,
}

impl FinetuneRow {
    /// The four stages in the display currency.
    pub fn stages_display(&self) -> [f64; 4] {
        let k = if self.job_cost > 0.0 {
            self.cost_display / self.job_cost
        } else {
            1.0
        };
        [
            self.cost_setup,
            self.cost_data,
            self.cost_train,
            self.cost_export,
        ]
        .map(|c| c * k)
    }
}

/// Why a line of the fine-tuning table has no figure (or no spot figure).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Gap {
    /// The sequence (with virtual tokens) is longer than the model's positions.
    TooLong {
        tokens: u64,
        virtual_tokens: u64,
        max: u64,
    },
    /// Even the most frugal configuration does not fit the GPU.
    DoesNotFit {
        need_bytes: u64,
        capacity_bytes: u64,
        fix: Option<Suggestion>,
    },
    /// The providers considered list no instance of this GPU.
    NoOffer,
    /// The GPU's profile has no peak for the dtype.
    Untimed,
    /// On-demand offers exist but no spot price.
    NoSpot,
}

/// One line of the article's fine-tuning table: a model and method on one GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinetuneLine {
    pub model: String,
    pub method: String,
    /// Empty when the scenario itself is invalid (see `gaps`).
    pub hardware: String,
    /// Whether this GPU carries the cheapest on-demand job of the model and method.
    pub recommended: bool,
    /// The device's configuration (auto-fitted unless `--no-auto-fit`).
    pub config: Option<DeviceConfig>,
    /// Memory per device of that configuration.
    pub memory: Option<crate::core::estimate::MemoryBreakdown>,
    /// The GPU's memory, bytes.
    pub capacity_bytes: u64,
    /// Index into `finetune` of the cheapest on-demand job on this GPU.
    pub on_demand_row: Option<usize>,
    /// Index into `finetune` of the cheapest spot job on this GPU.
    pub spot_row: Option<usize>,
    /// Why a cell is empty.
    pub gaps: Vec<Gap>,
}

/// The fine-tuning table: tidy rows (one per offer) and the article's lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FinetuneTable {
    pub rows: Vec<FinetuneRow>,
    pub lines: Vec<FinetuneLine>,
    /// The worked example of the derivations section (the first recommended line).
    #[serde(skip)]
    pub derivation: Option<FinetuneDerivation>,
}

/// The numbers behind one line, for "how this was computed".
#[derive(Debug, Clone, PartialEq)]
pub struct FinetuneDerivation {
    pub row: FinetuneRow,
    pub total_params: u64,
    pub trainable_params: u64,
    pub flops_per_token: f64,
    pub tokens: f64,
    pub flops_job: f64,
    pub peak_flops: f64,
    pub mfu: f64,
    /// Sustained rate, peak x MFU, FLOP/s.
    pub rate: f64,
    /// Hours of the job's FLOPs at that rate (the rest of the training hours is launch
    /// overhead, the optimizer step, dequantisation and communication).
    pub compute_hours: f64,
    pub dtype: String,
    pub device_hours: f64,
    pub memory: crate::core::estimate::MemoryBreakdown,
    pub capacity_bytes: u64,
    pub hours_breakdown: crate::core::pricing::HoursBreakdown,
}

/// What the fine-tuning table is computed for.
pub struct FinetuneSpec<'a> {
    /// The stated dataset and training setup.
    pub workload: Workload,
    /// `--weights-dtype`, else each method's default.
    pub weights_dtype: Option<crate::core::estimate::WeightsDtype>,
    /// The methods of the table.
    pub methods: &'a [MethodKind],
    /// Auto-fit or the workload as given.
    pub policy: FitPolicy,
    /// Which offers to cost.
    pub offers: &'a OfferQuery,
    /// The GPUs every model and method gets a line for (the recommended one is added).
    pub gpus: &'a [&'a str],
}

/// The fine-tuning table: every model x method on every fitting offer, and a line per article
/// GPU (plus the recommended one) saying what it costs there or why it cannot.
pub fn finetune_table(
    models: &ModelCatalog,
    hardware: &[HardwareProfile],
    pricing: &PricingCatalog,
    spec: &FinetuneSpec,
) -> Result<FinetuneTable> {
    let (workload, query, policy) = (&spec.workload, spec.offers, &spec.policy);
    let a = Assumptions::default();
    let mut table = FinetuneTable::default();
    for id in MODELS {
        let profile = models.get(id)?;
        for &kind in spec.methods {
            // Each method loads the base weights its own way (NF4 for QLoRA).
            let w = crate::core::spec::resolve_workload(*workload, spec.weights_dtype, kind);
            let s = Scenario::new(profile.clone(), MethodConfig::new(kind), w);
            let p = match s.prepare() {
                Ok(p) => p,
                Err(e) if e.field() == Some("seq-len") && w.validate().is_ok() => {
                    let virtual_tokens = match kind {
                        MethodKind::Prompt | MethodKind::Ptuning => s.method.virtual_tokens,
                        _ => 0,
                    };
                    table.lines.push(FinetuneLine {
                        model: profile.id.clone(),
                        method: kind.as_str().into(),
                        hardware: String::new(),
                        recommended: false,
                        config: None,
                        memory: None,
                        capacity_bytes: 0,
                        on_demand_row: None,
                        spot_row: None,
                        gaps: vec![Gap::TooLong {
                            tokens: w.seq_len + virtual_tokens,
                            virtual_tokens,
                            max: profile.max_position,
                        }],
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let est = Estimate::fitted(&p, hardware, &a, policy)?
                .with_offers(&p, hardware, pricing, query)?;
            let first = table.rows.len();
            for o in &est.offers {
                let j = &o.job;
                let (Some(d), Some(c)) = (
                    est.devices.iter().find(|d| d.hardware == j.hardware),
                    o.config,
                ) else {
                    continue;
                };
                let b = &j.cost_breakdown;
                table.rows.push(FinetuneRow {
                    model: est.model.clone(),
                    method: kind.as_str().into(),
                    trainable_params: est.params.trainable,
                    total_params: est.params.total,
                    recommended: false,
                    hardware: j.hardware.clone(),
                    memory_bytes: o.memory_bytes.unwrap_or(d.memory.total),
                    train_hours: Some(j.hours_breakdown.train),
                    provider: j.provider.clone(),
                    region: j.region.clone(),
                    instance: j.instance.clone(),
                    billing: j.billing.as_str().into(),
                    price_per_hour: j.price_per_hour,
                    currency: j.currency.clone(),
                    job_cost: j.cost,
                    job_cost_usd: o.cost_usd,
                    job_cost_cny: o.cost_cny,
                    samples: workload.samples,
                    seq_len: workload.seq_len,
                    epochs: workload.epochs,
                    micro_batch: c.micro_batch,
                    grad_accum: c.grad_accum,
                    grad_checkpointing: c.grad_checkpointing,
                    gpus: c.gpus,
                    dtype: d.dtype.as_str().into(),
                    pricing_as_of: j.as_of.clone(),
                    pricing_source: j.source.clone(),
                    cost_setup: b.setup,
                    cost_data: b.data,
                    cost_train: b.train,
                    cost_export: b.export,
                    billed_hours: j.hours,
                    cost_display: j.cost_display,
                    display_currency: j.display_currency.clone(),
                });
            }
            let mine = first..table.rows.len();
            // Offers are sorted cheapest first (in USD), so the first match is the cheapest.
            let cheapest = |rows: &[FinetuneRow], hw: Option<&str>, billing: Option<&str>| {
                mine.clone().find(|&i| {
                    let r = &rows[i];
                    hw.is_none_or(|h| r.hardware == h) && billing.is_none_or(|b| r.billing == b)
                })
            };
            let recommended = cheapest(&table.rows, None, Some("on-demand"))
                .or_else(|| cheapest(&table.rows, None, None));
            if let Some(i) = recommended {
                table.rows[i].recommended = true;
            }
            let recommended_hw = recommended.map(|i| table.rows[i].hardware.clone());
            let mut gpus: Vec<String> = spec.gpus.iter().map(|g| g.to_string()).collect();
            if let Some(h) = &recommended_hw {
                if !gpus.contains(h) {
                    gpus.push(h.clone());
                }
            }
            for hw in gpus {
                let Some(d) = est.devices.iter().find(|d| d.hardware == hw) else {
                    continue;
                };
                let mut line = FinetuneLine {
                    model: est.model.clone(),
                    method: kind.as_str().into(),
                    hardware: hw.clone(),
                    recommended: recommended_hw.as_deref() == Some(hw.as_str()),
                    config: Some(d.config),
                    memory: Some(d.memory),
                    capacity_bytes: d.capacity_bytes,
                    on_demand_row: cheapest(&table.rows, Some(&hw), Some("on-demand")),
                    spot_row: cheapest(&table.rows, Some(&hw), Some("spot")),
                    gaps: Vec::new(),
                };
                if !d.fits {
                    line.gaps.push(Gap::DoesNotFit {
                        need_bytes: d.memory.total,
                        capacity_bytes: d.capacity_bytes,
                        fix: d.fix.clone(),
                    });
                } else if d.hours.is_none() {
                    line.gaps.push(Gap::Untimed);
                } else if line.on_demand_row.is_none() && line.spot_row.is_none() {
                    line.gaps.push(Gap::NoOffer);
                } else if line.spot_row.is_none() {
                    line.gaps.push(Gap::NoSpot);
                }
                if line.recommended && table.derivation.is_none() {
                    if let (Some(i), Some(peak)) = (
                        line.on_demand_row.or(line.spot_row),
                        hardware
                            .iter()
                            .find(|h| h.id == hw)
                            .and_then(|h| h.peak_flops(d.dtype)),
                    ) {
                        let j = &est
                            .offers
                            .iter()
                            .find(|o| {
                                let r = &table.rows[i];
                                o.job.instance == r.instance
                                    && o.job.region == r.region
                                    && o.job.billing.as_str() == r.billing
                                    && o.job.provider == r.provider
                            })
                            .map(|o| o.job.hours_breakdown);
                        if let Some(hb) = j {
                            table.derivation = Some(FinetuneDerivation {
                                row: table.rows[i].clone(),
                                total_params: est.params.total,
                                trainable_params: est.params.trainable,
                                flops_per_token: est.flops.per_token,
                                tokens: est.flops.tokens,
                                flops_job: est.flops.total,
                                peak_flops: peak,
                                mfu: d.mfu,
                                rate: peak * d.mfu,
                                compute_hours: est.flops.total / (peak * d.mfu) / 3600.0,
                                dtype: d.dtype.as_str().into(),
                                device_hours: d.hours.unwrap_or(0.0),
                                memory: d.memory,
                                capacity_bytes: d.capacity_bytes,
                                hours_breakdown: *hb,
                            });
                        }
                    }
                }
                table.lines.push(line);
            }
        }
    }
    Ok(table)
}

/// Why a model x method has no row at all, in plain English (JSON `finetune_gaps`).
pub fn gap_summaries(t: &FinetuneTable) -> Vec<String> {
    let mut out = Vec::new();
    for l in &t.lines {
        for g in &l.gaps {
            if let Gap::TooLong { tokens, max, .. } = g {
                out.push(format!(
                    "{} {}: {tokens} tokens (with virtual tokens) exceed the model's {max} positions",
                    l.model, l.method
                ));
            }
        }
    }
    let with_rows: std::collections::BTreeSet<(&str, &str)> = t
        .rows
        .iter()
        .map(|r| (r.model.as_str(), r.method.as_str()))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for l in t.lines.iter().filter(|l| !l.hardware.is_empty()) {
        let key = (l.model.as_str(), l.method.as_str());
        if !with_rows.contains(&key) && seen.insert(key) {
            out.push(format!(
                "{} {}: no offer fits (or the filters exclude every offer)",
                l.model, l.method
            ));
        }
    }
    out
}
