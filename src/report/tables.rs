//! The seed's two report tables, assembled from core results (this module computes nothing;
//! it calls the estimate, the offers ranking and the deployment model, and arranges rows).

use serde::Serialize;

use crate::core::arch::ModelCatalog;
use crate::core::error::Result;
use crate::core::estimate::{Assumptions, Estimate, FitPolicy, OfferQuery, Scenario, Workload};
use crate::core::hardware::HardwareProfile;
use crate::core::peft::{MethodConfig, MethodKind};
use crate::core::pricing::PricingCatalog;

/// The models of both tables.
pub use crate::core::spec::TABLE_MODELS as MODELS;

/// One row of the tidy fine-tuning CSV: model x method x hardware x offer.
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
}

/// The fine-tuning table, every model x method, on every fitting offer, and why a model x
/// method has no row (a sequence longer than the model's positions, no fitting offer).
pub fn finetune_rows(
    models: &ModelCatalog,
    hardware: &[HardwareProfile],
    pricing: &PricingCatalog,
    spec: &FinetuneSpec,
) -> Result<(Vec<FinetuneRow>, Vec<String>)> {
    let (workload, query, policy) = (&spec.workload, spec.offers, &spec.policy);
    let a = Assumptions::default();
    let mut rows = Vec::new();
    let mut gaps = Vec::new();
    for id in MODELS {
        let profile = models.get(id)?;
        for &kind in spec.methods {
            // Each method loads the base weights its own way (NF4 for QLoRA).
            let w = crate::core::spec::resolve_workload(*workload, spec.weights_dtype, kind);
            let s = Scenario::new(profile.clone(), MethodConfig::new(kind), w);
            let p = match s.prepare() {
                Ok(p) => p,
                Err(e @ crate::Error::Invalid { .. }) => {
                    gaps.push(format!("{id} {}: {e}", kind.as_str()));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let est = Estimate::fitted(&p, hardware, &a, policy)?
                .with_offers(&p, hardware, pricing, query)?;
            if est.offers.is_empty() {
                gaps.push(format!(
                    "{id} {}: no offer fits (or the filters exclude every offer)",
                    kind.as_str()
                ));
            }
            for (i, o) in est.offers.iter().enumerate() {
                let j = &o.job;
                let (Some(d), Some(c)) = (
                    est.devices.iter().find(|d| d.hardware == j.hardware),
                    o.config,
                ) else {
                    continue;
                };
                rows.push(FinetuneRow {
                    model: est.model.clone(),
                    method: kind.as_str().into(),
                    trainable_params: est.params.trainable,
                    total_params: est.params.total,
                    recommended: i == 0,
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
                });
            }
        }
    }
    Ok((rows, gaps))
}
