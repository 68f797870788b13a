//! Turning hours into money: every offer whose hardware fits, costed for the whole job.

use serde::Serialize;

use super::{Estimate, Prepared};
use crate::core::error::Result;
use crate::core::pricing::{
    job_cost, Billing, CostAssumptions, JobCost, JobInputs, PricingCatalog,
};

/// Which offers to cost and how.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferQuery {
    /// Providers to include (empty: all).
    pub providers: Vec<String>,
    /// Regions to include (empty: all).
    pub regions: Vec<String>,
    /// Billing modes to cost (empty: on-demand and spot).
    pub billing: Vec<Billing>,
    /// Highest price per instance-hour, in `currency` (USD when no currency is given).
    pub max_price_per_hour: Option<f64>,
    /// Display currency (default per offer: CNY for CNY tables, else USD).
    pub currency: Option<String>,
    /// Setup, network, evaluation and storage assumptions of the cost model.
    pub cost: CostAssumptions,
    /// UTF-8 bytes of training data per token (for upload and storage): ~4 for English
    /// (~4 characters per token) and Chinese (~1.4 characters of 3 bytes per token).
    pub data_bytes_per_token: f64,
}

impl Default for OfferQuery {
    fn default() -> Self {
        OfferQuery {
            providers: Vec::new(),
            regions: Vec::new(),
            billing: Vec::new(),
            max_price_per_hour: None,
            currency: None,
            cost: CostAssumptions::default(),
            data_bytes_per_token: 4.0,
        }
    }
}

/// `offers[]` in the JSON contract: a job cost plus the same cost in USD and CNY.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferResult {
    /// The job's cost on one offer and billing mode.
    #[serde(flatten)]
    pub job: JobCost,
    /// The job's cost, in USD.
    pub cost_usd: f64,
    /// The job's cost, in CNY.
    pub cost_cny: f64,
}

impl OfferResult {
    /// A job cost with its amount in USD and CNY.
    pub fn new(job: JobCost, fx: &crate::core::pricing::Fx) -> Result<Self> {
        Ok(OfferResult {
            cost_usd: fx.convert(job.cost, &job.currency, "USD")?,
            cost_cny: fx.convert(job.cost, &job.currency, "CNY")?,
            job,
        })
    }
}

/// Whether `value` is in a user's filter list (an empty list lets everything through).
pub fn in_filter(list: &[String], value: &str) -> bool {
    list.is_empty()
        || list
            .iter()
            .any(|x| crate::core::data::normalise(x) == crate::core::data::normalise(value))
}

/// The inputs of the cost model for one scenario whose training takes `train_hours`.
pub fn job_inputs(p: &Prepared, est: &Estimate, train_hours: f64, q: &OfferQuery) -> JobInputs {
    job_inputs_for(est, &p.scenario.workload, train_hours, q)
}

/// The same for a variant of the scenario's workload (the planner changes GPUs and batches).
pub fn job_inputs_for(
    est: &Estimate,
    w: &super::Workload,
    train_hours: f64,
    q: &OfferQuery,
) -> JobInputs {
    JobInputs {
        train_hours,
        gpus: w.gpus,
        // The base checkpoint is downloaded in 16-bit.
        base_model_bytes: 2 * est.params.total,
        data_bytes: (w.samples as f64 * w.seq_len as f64 * q.data_bytes_per_token) as u64,
        export_bytes: est.params.artifact.export_bytes,
        assumptions: q.cost,
    }
}

/// Cost every matching offer whose hardware fits; cheapest (in USD) first.
pub fn rank_offers(
    p: &Prepared,
    est: &Estimate,
    pricing: &PricingCatalog,
    q: &OfferQuery,
) -> Result<Vec<OfferResult>> {
    for provider in &q.providers {
        pricing.table(provider)?;
    }
    let billings: &[Billing] = if q.billing.is_empty() {
        &[Billing::OnDemand, Billing::Spot]
    } else {
        &q.billing
    };
    let price_currency = q.currency.as_deref().unwrap_or("USD");
    let mut out = Vec::new();
    for (table, offer) in pricing.offers() {
        if !in_filter(&q.providers, &table.provider) || !in_filter(&q.regions, &offer.region) {
            continue;
        }
        let Some(hours) = est
            .devices
            .iter()
            .find(|d| d.hardware == offer.hardware && d.fits)
            .and_then(|d| d.hours)
        else {
            continue;
        };
        let job = job_inputs(p, est, hours, q);
        for &billing in billings {
            let Some(cost) = job_cost(
                table,
                offer,
                billing,
                &job,
                &pricing.fx,
                q.currency.as_deref(),
            )?
            else {
                continue;
            };
            if let Some(max) = q.max_price_per_hour {
                let price =
                    pricing
                        .fx
                        .convert(cost.price_per_hour, &cost.currency, price_currency)?;
                if price > max {
                    continue;
                }
            }
            out.push(OfferResult::new(cost, &pricing.fx)?);
        }
    }
    out.sort_by(|a, b| a.cost_usd.total_cmp(&b.cost_usd));
    Ok(out)
}
