//! The money a whole fine-tuning job costs on one offer (design §8).
//!
//! The job runs as one session on `instances` machines:
//!
//! 1. **setup**: `setup_hours` of environment work, plus downloading the base model and the
//!    training data onto the instance at `download_gbps` (billed instance time);
//! 2. **data**: uploading the data set to the provider's object storage (ingress) and keeping it
//!    there for `storage_months`;
//! 3. **train**: `train_hours` plus evaluation (`eval_fraction` of it), billed instance time; the
//!    rounding of the session to the billing increment (or to whole months) is counted here;
//! 4. **export**: uploading the result (an adapter of a few MB, or a merged model of many GB) at
//!    `download_gbps` (billed instance time), keeping it in object storage for
//!    `storage_months`, and downloading it once (egress).
//!
//! The session is one billed period: its length is raised to the table's minimum, then rounded
//! up to the billing increment (monthly billing: whole months of 730 hours).
//! Everything here is pure and cheap: no I/O, no clock.

use serde::Serialize;

use super::fx::Fx;
use super::table::{Offer, PriceTable};
use super::Billing;
use crate::core::error::{Error, Result};

pub use crate::core::units::HOURS_PER_MONTH;

/// Shown with every spot-priced result.
pub const SPOT_CAVEAT: &str = "spot price as observed when the table was made; spot instances can be \
reclaimed at any time (work since the last checkpoint is lost and the job restarts) and the price moves with demand";

/// The assumptions behind a job's cost that are not part of the estimate itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostAssumptions {
    /// Hours of billed instance time before training: image pull, environment install, smoke test.
    /// Default 0.25.
    pub setup_hours: f64,
    /// Network bandwidth in Gbit/s for downloading the base model and data onto the instance and
    /// for uploading the export. Default 1.0.
    pub download_gbps: f64,
    /// Evaluation time as a fraction of training time (billed like training). Default 0.05.
    pub eval_fraction: f64,
    /// Months the data set and the exported model stay in object storage. Default 1.0.
    pub storage_months: f64,
}

impl Default for CostAssumptions {
    fn default() -> Self {
        CostAssumptions {
            setup_hours: 0.25,
            download_gbps: 1.0,
            eval_fraction: 0.05,
            storage_months: 1.0,
        }
    }
}

impl CostAssumptions {
    /// One line per assumption, for the notes under a report.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!(
                "setup: {} h of billed instance time before training",
                self.setup_hours
            ),
            format!(
                "network: {} Gbit/s to download the base model and data and to upload the export",
                self.download_gbps
            ),
            format!(
                "evaluation: {}% of training time",
                self.eval_fraction * 100.0
            ),
            format!(
                "object storage: data and export kept {} month(s), export downloaded once",
                self.storage_months
            ),
        ]
    }

    fn validate(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(self.setup_hours) || !ok(self.eval_fraction) || !ok(self.storage_months) {
            return Err(Error::input(
                "setup hours, evaluation fraction and storage months must be numbers >= 0",
            ));
        }
        if !(self.download_gbps.is_finite() && self.download_gbps > 0.0) {
            return Err(Error::input(format!(
                "download bandwidth must be > 0 Gbit/s, not {}",
                self.download_gbps
            )));
        }
        Ok(())
    }
}

/// What the job needs, independent of where it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobInputs {
    /// Wall-clock training hours of the job on `gpus` GPUs.
    pub train_hours: f64,
    /// GPUs the job uses (for a CPU job: machines).
    pub gpus: u64,
    /// Size of the base model downloaded onto the instance.
    pub base_model_bytes: u64,
    /// Size of the training data uploaded to storage and downloaded onto the instance.
    pub data_bytes: u64,
    /// Size of what the job exports: the adapter, or the merged model.
    pub export_bytes: u64,
    /// Setup, network, evaluation and storage assumptions.
    pub assumptions: CostAssumptions,
}

/// Cost by step, in the offer's currency; the four sum to [`JobCost::cost`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostBreakdown {
    /// Setup time including the model and data download.
    pub setup: f64,
    /// Data upload (ingress) and storage.
    pub data: f64,
    /// Training and evaluation, including the rounding to the billing increment.
    pub train: f64,
    /// Export upload time, storage and one download (egress).
    pub export: f64,
}

/// Instance hours of each step (per instance, before rounding).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HoursBreakdown {
    /// Setup hours, including the model and data download.
    pub setup: f64,
    /// Training hours.
    pub train: f64,
    /// Evaluation hours.
    pub eval: f64,
    /// Export upload hours.
    pub export: f64,
}

/// The cost of one job on one offer with one billing mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobCost {
    /// Cloud provider.
    pub provider: String,
    /// Region of the offer.
    pub region: String,
    /// Instance (machine type) name.
    pub instance: String,
    /// Hardware profile id.
    pub hardware: String,
    /// GPUs per instance.
    pub gpus: u64,
    /// Instances the job runs on.
    pub instances: u64,
    /// Billing mode.
    pub billing: Billing,
    /// Per instance-hour (for monthly billing: the month price / 730).
    pub price_per_hour: f64,
    /// Month price per instance, for monthly billing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_month: Option<f64>,
    /// Currency code of the offer's prices and `cost`.
    pub currency: String,
    /// Billed instance hours (all instances, after minimum and rounding).
    pub hours: f64,
    /// Wall-clock hours of the session before rounding.
    pub wall_hours: f64,
    /// Instance hours of each step.
    pub hours_breakdown: HoursBreakdown,
    /// Total cost of the job, in `currency`.
    pub cost: f64,
    /// Cost by step, in `currency`.
    pub cost_breakdown: CostBreakdown,
    /// Currency code of `cost_display`.
    pub display_currency: String,
    /// Total cost of the job, in `display_currency`.
    pub cost_display: f64,
    /// Date the price was recorded (`YYYY-MM-DD`).
    pub as_of: String,
    /// Where the price comes from.
    pub source: String,
    /// Confidence label of the price (`primary`, `secondary` or `estimate`).
    pub confidence: String,
    /// Warning that applies to the billing mode (spot interruptions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    /// Notes about how the cost was computed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The default display currency for a table: CNY when it bills in CNY, else USD.
pub fn default_display_currency(table: &PriceTable) -> &'static str {
    if table.currency == "CNY" {
        "CNY"
    } else {
        "USD"
    }
}

/// The cost of `job` on `offer` billed as `billing`, or `None` when the offer has no price for
/// that billing mode. Costs are in the table's currency, and in `display_currency` (default:
/// [`default_display_currency`]) as `cost_display`.
pub fn job_cost(
    table: &PriceTable,
    offer: &Offer,
    billing: Billing,
    job: &JobInputs,
    fx: &Fx,
    display_currency: Option<&str>,
) -> Result<Option<JobCost>> {
    let Some(price) = offer.price(billing) else {
        return Ok(None);
    };
    let a = &job.assumptions;
    a.validate()?;
    if !(job.train_hours.is_finite() && job.train_hours >= 0.0) {
        return Err(Error::input(format!(
            "training hours must be a number >= 0, not {}",
            job.train_hours
        )));
    }

    // A CPU instance is one device; a job on fewer GPUs than an instance has pays for all of them.
    let per_instance = offer.gpus.max(1);
    let instances = job.gpus.max(1).div_ceil(per_instance);
    let n = instances as f64;

    let bits_per_hour = a.download_gbps * 1e9 * 3600.0;
    let setup_h =
        a.setup_hours + (job.base_model_bytes + job.data_bytes) as f64 * 8.0 / bits_per_hour;
    let train_h = job.train_hours;
    let eval_h = job.train_hours * a.eval_fraction;
    let export_h = job.export_bytes as f64 * 8.0 / bits_per_hour;
    let wall_h = setup_h + train_h + eval_h + export_h;

    // Billed hours per instance, compute cost per instance and the effective hourly rate.
    let (billed_h, compute, hourly, per_month) = match billing {
        Billing::Monthly => {
            let months = (wall_h / HOURS_PER_MONTH - 1e-9).ceil().max(1.0);
            (
                months * HOURS_PER_MONTH,
                months * price,
                price / HOURS_PER_MONTH,
                Some(price),
            )
        }
        Billing::OnDemand | Billing::Spot => {
            let secs = (wall_h * 3600.0).max(table.minimum_billed_seconds.unwrap_or(0) as f64);
            let inc = table.billing_increment_seconds.max(1) as f64;
            let billed_secs = ((secs / inc - 1e-9).ceil()).max(0.0) * inc;
            let billed_h = billed_secs / 3600.0;
            (billed_h, billed_h * price, price, None)
        }
    };
    let compute = compute * n;
    let setup = setup_h * hourly * n;
    let export_compute = export_h * hourly * n;
    let train = (compute - setup - export_compute).max(0.0);

    let gb = |b: u64| b as f64 / 1e9;
    let st = table.storage.as_ref();
    let month_price = st.and_then(|s| s.price_per_gb_month);
    let ingress = st.and_then(|s| s.ingress_per_gb);
    let egress = st.and_then(|s| s.egress_per_gb);
    let mut notes = Vec::new();
    if job.data_bytes > 0 || job.export_bytes > 0 {
        let missing: Vec<&str> = [
            ("storage", month_price.is_none()),
            ("ingress", ingress.is_none() && job.data_bytes > 0),
            ("egress", egress.is_none() && job.export_bytes > 0),
        ]
        .into_iter()
        .filter_map(|(w, m)| m.then_some(w))
        .collect();
        if !missing.is_empty() {
            notes.push(format!(
                "{} has no {} price: counted as 0",
                table.provider,
                missing.join("/")
            ));
        }
    }
    let storage_cost = |bytes: u64| gb(bytes) * month_price.unwrap_or(0.0) * a.storage_months;
    let data = gb(job.data_bytes) * ingress.unwrap_or(0.0) + storage_cost(job.data_bytes);
    let export = export_compute
        + storage_cost(job.export_bytes)
        + gb(job.export_bytes) * egress.unwrap_or(0.0);

    let cost = setup + data + train + export;
    let display = display_currency.unwrap_or_else(|| default_display_currency(table));
    let cost_display = fx.convert(cost, &table.currency, display)?;

    Ok(Some(JobCost {
        provider: table.provider.clone(),
        region: offer.region.clone(),
        instance: offer.instance.clone(),
        hardware: offer.hardware.clone(),
        gpus: offer.gpus,
        instances,
        billing,
        price_per_hour: hourly,
        price_per_month: per_month,
        currency: table.currency.clone(),
        hours: billed_h * n,
        wall_hours: wall_h,
        hours_breakdown: HoursBreakdown {
            setup: setup_h,
            train: train_h,
            eval: eval_h,
            export: export_h,
        },
        cost,
        cost_breakdown: CostBreakdown {
            setup,
            data,
            train,
            export,
        },
        display_currency: display.to_ascii_uppercase(),
        cost_display,
        as_of: offer.as_of_in(table).to_string(),
        source: offer.source_in(table).to_string(),
        confidence: offer.confidence_in(table).to_string(),
        caveat: (billing == Billing::Spot).then(|| SPOT_CAVEAT.to_string()),
        notes,
    }))
}
