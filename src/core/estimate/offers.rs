//! Turning hours into money: every offer whose hardware fits, costed for the whole job.

use serde::Serialize;

use super::fit::{search, DeviceConfig, Variants};
use super::{DeviceResult, Estimate, Prepared, Workload};
use crate::core::error::Result;
use crate::core::hardware::HardwareProfile;
use crate::core::pricing::{
    job_cost, Billing, CostAssumptions, JobCost, JobInputs, Offer, PricingCatalog,
};
use crate::core::units::GIB;

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
    /// Leave out offers priced more than this many days before `today` (`--max-price-age`).
    pub max_price_age_days: Option<u32>,
    /// Today, `YYYY-MM-DD` (the front-end's clock; the core has none), for the age limit.
    pub today: Option<String>,
}

impl OfferQuery {
    /// Every provider and region the filters name exists in `pricing` (a region among the
    /// named providers' offers): a filter that matches nothing is a typo, not an empty answer.
    pub fn check(&self, pricing: &PricingCatalog) -> Result<()> {
        for provider in &self.providers {
            pricing.table(provider)?;
        }
        let known: std::collections::BTreeSet<&str> = pricing
            .offers()
            .filter(|(t, _)| in_filter(&self.providers, &t.provider))
            .map(|(_, o)| o.region.as_str())
            .collect();
        for region in &self.regions {
            if !known
                .iter()
                .any(|k| in_filter(std::slice::from_ref(region), k))
            {
                let known: Vec<String> = known.iter().map(|k| k.to_string()).collect();
                return Err(crate::core::error::Error::Unknown {
                    kind: "region",
                    name: region.clone(),
                    suggestion: crate::core::data::nearest(
                        region,
                        known.iter().map(String::as_str),
                    )
                    .map(str::to_string),
                    known,
                });
            }
        }
        Ok(())
    }

    /// Whether an offer passes the filters: provider, region and the age of its price.
    pub fn admits(
        &self,
        table: &crate::core::pricing::PriceTable,
        offer: &crate::core::pricing::Offer,
    ) -> bool {
        let fresh = match (self.max_price_age_days, self.today.as_deref()) {
            (Some(days), Some(today)) => {
                !crate::core::pricing::is_stale(offer.as_of_in(table), today, days)
            }
            _ => true,
        };
        fresh
            && in_filter(&self.providers, &table.provider)
            && in_filter(&self.regions, &offer.region)
    }
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
            max_price_age_days: None,
            today: None,
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
    /// GPUs of the offer the costed configuration uses (every one it pays for).
    pub gpus_used: u64,
    /// The configuration costed on this offer: the device's, run data-parallel over every GPU
    /// of a bigger node, or spread over several machines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<DeviceConfig>,
    /// Peak memory per device of that configuration, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
}

impl OfferResult {
    /// A job cost with its amount in USD and CNY.
    pub fn new(job: JobCost, fx: &crate::core::pricing::Fx) -> Result<Self> {
        Ok(OfferResult {
            cost_usd: fx.convert(job.cost, &job.currency, "USD")?,
            cost_cny: fx.convert(job.cost, &job.currency, "CNY")?,
            gpus_used: job.gpus.max(1) * job.instances,
            config: None,
            memory_bytes: None,
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

/// Offers the ranking left out, and why: for the notes under the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Skipped {
    /// Nodes with more GPUs than the global batch can spread over (their GPUs would idle).
    pub idle_gpus: usize,
    /// Jobs on more GPUs than one machine has that do not divide over its GPUs.
    pub uneven_nodes: usize,
    /// Multi-machine jobs costed with the default network bandwidth.
    pub default_network: usize,
    /// Offers whose price is older than `--max-price-age`.
    pub too_old: usize,
    /// Offers whose machines have less RAM than their GPUs' offloaded state.
    pub host_ram: usize,
    /// Offers kept for a job that offloads though their tables do not state the machine's RAM.
    pub host_ram_unknown: usize,
    /// Hardware whose offers fit but cannot be timed (no peak for the dtype in its profile),
    /// with how many offers each.
    pub untimed: Vec<(String, usize)>,
}

/// Why offers are left out for host RAM (after "N offers left out: " or "N candidates left
/// out: ").
pub const SHORT_OF_HOST_RAM: &str =
    "their machines have less RAM than their GPUs keep offloaded in host memory";

/// The note for offers kept without knowing their machines' RAM (after "N offers kept" or "N
/// candidates kept").
pub const UNKNOWN_HOST_RAM: &str = "whose price tables do not state the machines' RAM: check each has the host RAM its GPUs keep offloaded (`memory.host_state_bytes` per GPU)";

/// Whether an offer's machines hold in RAM what a job keeps offloaded there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRam {
    /// Nothing offloaded, or the machine's RAM holds it.
    Enough,
    /// The machine has less RAM than its GPUs keep offloaded: the offer is left out.
    Short,
    /// Something is offloaded and the price table does not state the machine's RAM: the offer
    /// is kept and a note says so.
    Unknown,
}

/// The host RAM `d`'s GPUs keep (offloaded state and activations, per GPU times the GPUs each
/// machine of `offer` runs) against the machine's. The training processes' own memory is not
/// counted (no source sizes it).
pub fn host_ram(offer: &Offer, d: &DeviceResult) -> HostRam {
    let per_gpu = d.memory.host_bytes();
    if per_gpu == 0 {
        return HostRam::Enough;
    }
    let need = per_gpu as f64 * d.config.gpus.min(offer.gpus.max(1)) as f64;
    match offer.ram_gib {
        None => HostRam::Unknown,
        Some(gib) if need <= gib * GIB => HostRam::Enough,
        Some(_) => HostRam::Short,
    }
}

/// Memo of placements: (hardware, GPUs per machine, network bits) -> the device result there.
type Placements = Vec<((String, u64, u64), Option<DeviceResult>)>;

/// The configuration a device's job runs on an offer whose machines have `per_machine` GPUs:
/// the device's own when it uses them all; data parallel over every GPU of a bigger machine
/// (re-fitted, the global batch kept); or spread over `gpus / per_machine` machines joined by
/// the provider's network. `None` when it cannot use the machine without idle GPUs.
fn place(
    d: &DeviceResult,
    per_machine: u64,
    network_gbps: Option<f64>,
    vs: &Variants,
    hw: &HardwareProfile,
    est: &Estimate,
) -> Option<DeviceResult> {
    let c = d.config;
    if per_machine == c.gpus && c.nodes == 1 {
        return Some(d.clone());
    }
    let global = est.fit.global_batch;
    let v = vs.for_method(c.method);
    let mut w = Workload {
        micro_batch: c.micro_batch,
        grad_accum: c.grad_accum,
        grad_checkpointing: c.grad_checkpointing,
        gpus: c.gpus,
        zero: c.zero,
        fsdp: c.fsdp,
        seq_len: c.seq_len,
        ..v.workload
    };
    if per_machine > c.gpus {
        // Data parallel over the whole machine, same ZeRO stage (DDP when it was one GPU).
        w.gpus = per_machine;
        if c.gpus == 1 && w.offload == crate::core::estimate::Offload::None {
            w.zero = 0;
            w.fsdp = false;
        }
        if est.fit.auto {
            if !global.is_multiple_of(per_machine) {
                return None;
            }
            return Some(search(v, w, global, hw, &est.assumptions)).filter(|d| d.fits);
        }
        if !global.is_multiple_of(w.micro_batch * per_machine) {
            return None;
        }
        w.grad_accum = global / (w.micro_batch * per_machine);
    } else {
        if !c.gpus.is_multiple_of(per_machine) {
            return None;
        }
        w.nodes = c.gpus / per_machine;
        w.network_gbps = network_gbps;
    }
    let mut placed = DeviceResult::new(&v.shapes, &w, hw, &est.assumptions);
    placed.config.auto = c.auto;
    placed.config.reason = c.reason;
    placed.fits.then_some(placed)
}

/// Cost every matching offer whose hardware fits, on the configuration that uses every GPU it
/// pays for; cheapest (in USD) first. `hardware` holds the profiles the estimate was made on.
pub fn rank_offers(
    p: &Prepared,
    est: &Estimate,
    hardware: &[HardwareProfile],
    pricing: &PricingCatalog,
    q: &OfferQuery,
) -> Result<(Vec<OfferResult>, Skipped)> {
    q.check(pricing)?;
    let billings: &[Billing] = if q.billing.is_empty() {
        &[Billing::OnDemand, Billing::Spot]
    } else {
        &q.billing
    };
    let price_currency = q.currency.as_deref().unwrap_or("USD");
    // Built only when an offer needs the configuration re-fitted (most use the device's own).
    let mut vs: Option<Variants> = None;
    let mut memo: Placements = Vec::new();
    let mut skipped = Skipped::default();
    let mut out = Vec::new();
    for (table, offer) in pricing.offers() {
        if !q.admits(table, offer) {
            if in_filter(&q.providers, &table.provider) && in_filter(&q.regions, &offer.region) {
                skipped.too_old += 1;
            }
            continue;
        }
        let (Some(d), Some(hw)) = (
            est.devices
                .iter()
                .find(|d| d.hardware == offer.hardware && d.fits),
            hardware.iter().find(|h| h.id == offer.hardware),
        ) else {
            continue;
        };
        let per_machine = offer.gpus.max(1);
        let key = (
            hw.id.clone(),
            per_machine,
            table.network_gbps.unwrap_or(0.0).to_bits(),
        );
        let placed = match memo.iter().find(|(k, _)| *k == key) {
            Some((_, r)) => r.clone(),
            None => {
                let r = if per_machine == d.config.gpus && d.config.nodes == 1 {
                    Some(d.clone())
                } else {
                    let vs = vs.get_or_insert_with(|| Variants::new(p));
                    place(d, per_machine, table.network_gbps, vs, hw, est)
                };
                memo.push((key, r.clone()));
                r
            }
        };
        let Some(placed) = placed else {
            if per_machine > d.config.gpus {
                skipped.idle_gpus += 1;
            } else {
                skipped.uneven_nodes += 1;
            }
            continue;
        };
        let Some(hours) = placed.hours else {
            match skipped.untimed.iter_mut().find(|(id, _)| *id == hw.id) {
                Some((_, n)) => *n += 1,
                None => skipped.untimed.push((hw.id.clone(), 1)),
            }
            continue;
        };
        match host_ram(offer, &placed) {
            HostRam::Enough => {}
            HostRam::Short => {
                skipped.host_ram += 1;
                continue;
            }
            HostRam::Unknown => skipped.host_ram_unknown += 1,
        }
        if placed.config.nodes > 1 && table.network_gbps.is_none() {
            skipped.default_network += 1;
        }
        let w = Workload {
            gpus: placed.config.gpus,
            ..est.workload
        };
        let job = job_inputs_for(est, &w, hours, q);
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
            let mut r = OfferResult::new(cost, &pricing.fx)?;
            r.gpus_used = placed.config.gpus;
            r.config = Some(placed.config);
            r.memory_bytes = Some(placed.memory.total);
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.cost_usd.total_cmp(&b.cost_usd));
    Ok((out, skipped))
}

/// The cheapest job cost, in USD, of a suggestion's configuration on an offer of its hardware
/// whose machine it fills exactly; `None` when no offer matches.
pub fn cheapest_usd(
    est: &Estimate,
    s: &super::Suggestion,
    pricing: &PricingCatalog,
    q: &OfferQuery,
) -> Result<Option<f64>> {
    let Some(hours) = s.hours else {
        return Ok(None);
    };
    let w = Workload {
        gpus: s.config.gpus,
        seq_len: s.config.seq_len,
        ..est.workload
    };
    let job = job_inputs_for(est, &w, hours, q);
    let mut best: Option<f64> = None;
    for (table, offer) in pricing.offers() {
        if offer.hardware != s.hardware
            || offer.gpus.max(1) != s.config.gpus
            || !q.admits(table, offer)
        {
            continue;
        }
        if let Some(c) = job_cost(table, offer, Billing::OnDemand, &job, &pricing.fx, None)? {
            let usd = pricing.fx.convert(c.cost, &c.currency, "USD")?;
            best = Some(best.map_or(usd, |b| b.min(usd)));
        }
    }
    Ok(best)
}
