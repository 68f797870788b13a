//! The planner: the cheapest, the fastest and the Pareto front of cost vs time for one job.
//!
//! The search is exhaustive over its space: for every offer (instance) it tries every GPU count
//! that divides the global batch and fits the instance (and `--max-gpus`), costing each only on
//! machines with exactly that many GPUs (a job never pays for idle GPUs), every micro-batch that
//! divides the per-device batch, gradient checkpointing on and off, QLoRA instead of LoRA (with
//! `--allow-quantization`), every ZeRO stage on more than one GPU, and every billing mode. The
//! global batch (micro-batch x grad-accum x GPUs) the user asked for is kept, so every plan trains
//! the same model. Memory and time depend on the hardware, not on the offer, so each
//! configuration is evaluated once per hardware profile and then costed on each of its offers.
//! Nothing that does not fit in memory is ever proposed.

use serde::Serialize;

use crate::core::error::{Error, Result};
use crate::core::estimate::{
    host_ram, job_inputs_for, Assumptions, DeviceResult, Estimate, HostRam, MethodSummary,
    OfferQuery, OfferResult, Offload, Prepared, Scenario, Shapes, WeightsDtype, Workload,
    SHORT_OF_HOST_RAM, UNKNOWN_HOST_RAM,
};
use crate::core::hardware::HardwareProfile;
use crate::core::peft::MethodKind;
use crate::core::pricing::{job_cost, Billing, PricingCatalog};

/// Constraints and the extent of the search.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanQuery {
    /// Which offers to consider (providers, regions, billing, currency).
    pub offers: OfferQuery,
    /// Most GPUs per job.
    pub max_gpus: u64,
    /// Let LoRA/DoRA jobs switch to QLoRA.
    pub allow_quantization: bool,
    /// Wall-clock hours the job must finish within.
    pub deadline_hours: Option<f64>,
    /// Most money, in `budget_currency`.
    pub budget: Option<f64>,
    /// Currency code of `budget`.
    pub budget_currency: String,
}

impl Default for PlanQuery {
    fn default() -> Self {
        PlanQuery {
            offers: OfferQuery::default(),
            max_gpus: 8,
            allow_quantization: false,
            deadline_hours: None,
            budget: None,
            budget_currency: "USD".into(),
        }
    }
}

/// One proposed way to run the job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// `cheapest`, `fastest` or `pareto`.
    pub label: String,
    /// Why this plan was chosen.
    pub why: String,
    /// The method this plan trains with (may be QLoRA when quantization is allowed).
    pub method: MethodSummary,
    /// The workload of this plan (GPUs, micro-batch, accumulation, checkpointing, ZeRO).
    pub workload: Workload,
    /// Memory and time on the offer's hardware.
    pub device: DeviceResult,
    /// The offer and the job's cost on it.
    pub offer: OfferResult,
    /// Wall-clock hours of the whole job (setup + train + eval + export).
    pub wall_hours: f64,
    /// Cost in the budget currency.
    pub cost: f64,
    /// Currency code of `cost` (the budget currency).
    pub currency: String,
}

/// The planner's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanResult {
    /// Model id.
    pub model: String,
    /// The cheapest feasible plan.
    pub cheapest: Option<Plan>,
    /// The fastest feasible plan.
    pub fastest: Option<Plan>,
    /// Cost vs time: no plan on it is both cheaper and faster than another.
    pub pareto: Vec<Plan>,
    /// Configurations evaluated for memory and time.
    pub configurations: u64,
    /// Costed (configuration, offer, billing) candidates that fit in memory.
    pub candidates: u64,
    /// Candidates meeting the deadline and the budget.
    pub feasible: u64,
    /// Which constraint cannot be met, and by how much, when nothing is feasible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infeasible: Option<String>,
    /// Notes about the search.
    pub notes: Vec<String>,
    /// A LoRA/DoRA job was planned without QLoRA because quantization was not allowed.
    pub qlora_not_considered: bool,
    /// (wall-clock hours, cost) of every feasible candidate, for charts; not in the JSON, whose
    /// `plans[]` already carries the front.
    #[serde(skip)]
    pub feasible_points: Vec<(f64, f64)>,
}

impl PlanResult {
    /// `plans[]`: cheapest, fastest, then the Pareto front.
    pub fn plans(&self) -> Vec<&Plan> {
        self.cheapest
            .iter()
            .chain(self.fastest.iter())
            .chain(self.pareto.iter())
            .collect()
    }
}

/// One flat CSV row per plan: what `peftcost plan --format csv` and the TUI's Plan export write
/// (headers in the README).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanCsvRow {
    /// `cheapest`, `fastest` or `pareto`.
    pub label: String,
    /// Cloud provider.
    pub provider: String,
    /// Region of the offer.
    pub region: String,
    /// Instance (machine type) name.
    pub instance: String,
    /// Hardware profile id.
    pub hardware: String,
    /// Number of GPUs the job uses.
    pub gpus: u64,
    /// Billing mode (e.g. on-demand, spot, monthly).
    pub billing: String,
    /// PEFT method name.
    pub method: String,
    /// Sequences per device per micro-batch.
    pub micro_batch: u64,
    /// Gradient accumulation steps.
    pub grad_accum: u64,
    /// Whether gradient checkpointing is on.
    pub grad_checkpointing: bool,
    /// ZeRO stage (0 to 3).
    pub zero: u8,
    /// Total memory per device, in bytes.
    pub memory_total_bytes: u64,
    /// Hours of training alone.
    pub train_hours: Option<f64>,
    /// Wall-clock hours of the whole job (setup + train + eval + export).
    pub wall_hours: f64,
    /// Cost in the budget currency.
    pub cost: f64,
    /// Currency code of `cost`.
    pub currency: String,
    /// Cost on the offer, in the offer's currency.
    pub offer_cost: f64,
    /// Currency code of `offer_cost`.
    pub offer_currency: String,
    /// Date the offer's price was recorded.
    pub as_of: String,
    /// The launcher: ddp, fsdp or zero1-3 (a column added after `as_of`).
    pub launcher: &'static str,
}

impl From<&Plan> for PlanCsvRow {
    fn from(p: &Plan) -> Self {
        let j = &p.offer.job;
        PlanCsvRow {
            label: p.label.clone(),
            provider: j.provider.clone(),
            region: j.region.clone(),
            instance: j.instance.clone(),
            hardware: j.hardware.clone(),
            gpus: p.workload.gpus,
            billing: j.billing.as_str().into(),
            method: p.method.kind.as_str().into(),
            micro_batch: p.workload.micro_batch,
            grad_accum: p.workload.grad_accum,
            grad_checkpointing: p.workload.grad_checkpointing,
            zero: p.workload.zero,
            launcher: p.workload.launcher().as_str(),
            memory_total_bytes: p.device.memory.total,
            train_hours: p.device.hours,
            wall_hours: p.wall_hours,
            cost: p.cost,
            currency: p.currency.clone(),
            offer_cost: j.cost,
            offer_currency: j.currency.clone(),
            as_of: j.as_of.clone(),
        }
    }
}

impl PlanResult {
    /// One CSV row per plan of [`PlanResult::plans`] (cheapest, fastest, then the Pareto front).
    pub fn csv_rows(&self) -> Vec<PlanCsvRow> {
        self.plans().into_iter().map(PlanCsvRow::from).collect()
    }
}

fn divisors(n: u64) -> Vec<u64> {
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

/// A configuration (everything but the offer) and its physics on one hardware profile.
struct Evaluated {
    prepared_index: usize,
    workload: Workload,
    device: DeviceResult,
}

struct Candidate {
    config: usize,
    offer: OfferResult,
    wall_hours: f64,
    cost: f64,
}

/// Every configuration of the search space for one hardware profile: (method variant, workload)
/// keeping the global batch, with GPU counts up to `most_gpus`. The launcher family (DeepSpeed
/// or FSDP) and the offloading are the user's; the stage is searched, DDP included, over the
/// combinations [`Workload::validate`] admits (offloading needs a stage; one GPU shards only
/// to offload).
fn workloads(variants: &[Scenario], global: u64, most_gpus: u64) -> Vec<(usize, Workload)> {
    let mut out = Vec::new();
    for gpus in divisors(global).into_iter().filter(|g| *g <= most_gpus) {
        for micro in divisors(global / gpus) {
            for (vi, s) in variants.iter().enumerate() {
                let asked = s.workload;
                let launchers: &[(u8, bool)] =
                    match (gpus > 1 || asked.offload != Offload::None, asked.fsdp) {
                        (false, _) => &[(0, false)],
                        (true, false) => &[(0, false), (1, false), (2, false), (3, false)],
                        (true, true) => &[(0, false), (3, true)],
                    };
                for ckpt in [false, true] {
                    for &(zero, fsdp) in launchers {
                        let w = Workload {
                            gpus,
                            micro_batch: micro,
                            grad_accum: global / gpus / micro,
                            grad_checkpointing: ckpt,
                            zero,
                            fsdp,
                            ..asked
                        };
                        if w.validate().is_ok() {
                            out.push((vi, w));
                        }
                    }
                }
            }
        }
    }
    out
}

/// A costed candidate, or `None` when the offer has no such billing or is over `--max-price`.
fn candidate(
    config: usize,
    cost: Option<crate::core::pricing::JobCost>,
    q: &PlanQuery,
    pricing: &PricingCatalog,
    budget_currency: &str,
) -> Result<Option<Candidate>> {
    let Some(cost) = cost else {
        return Ok(None);
    };
    if let Some(max) = q.offers.max_price_per_hour {
        let cur = q.offers.currency.as_deref().unwrap_or("USD");
        if pricing
            .fx
            .convert(cost.price_per_hour, &cost.currency, cur)?
            > max
        {
            return Ok(None);
        }
    }
    Ok(Some(Candidate {
        config,
        wall_hours: cost.wall_hours,
        cost: pricing
            .fx
            .convert(cost.cost, &cost.currency, budget_currency)?,
        offer: OfferResult::new(cost, &pricing.fx)?,
    }))
}

fn invalid(field: &'static str, value: f64, expected: &str) -> Error {
    Error::Invalid {
        field,
        value: value.to_string(),
        expected: expected.into(),
    }
}

impl PlanQuery {
    /// The planner's query from the offer filters and the constraints: the budget is in the
    /// display currency, USD when none is chosen.
    pub fn new(
        offers: OfferQuery,
        deadline_hours: Option<f64>,
        budget: Option<f64>,
        allow_quantization: bool,
        max_gpus: u64,
    ) -> Self {
        PlanQuery {
            budget_currency: offers.currency.clone().unwrap_or_else(|| "USD".into()),
            offers,
            max_gpus,
            allow_quantization,
            deadline_hours,
            budget,
        }
    }
}

/// Search every configuration on every offer.
pub fn plan(
    base: &Scenario,
    hardware: &[HardwareProfile],
    pricing: &PricingCatalog,
    q: &PlanQuery,
    a: &Assumptions,
) -> Result<PlanResult> {
    if q.max_gpus == 0 {
        return Err(invalid("max-gpus", 0.0, "at least 1"));
    }
    if let Some(d) = q.deadline_hours.filter(|d| !(d.is_finite() && *d > 0.0)) {
        return Err(invalid("deadline", d, "a positive number of hours"));
    }
    if let Some(b) = q.budget.filter(|b| !(b.is_finite() && *b > 0.0)) {
        return Err(invalid("budget", b, "a positive amount"));
    }
    // A century of compute, and a thousand trillion in any currency: beyond any job.
    for (field, v, limit, max) in [
        ("deadline", q.deadline_hours, 1e6, "1,000,000 hours"),
        ("budget", q.budget, 1e15, "1e15"),
    ] {
        if let Some(v) = v.filter(|v| *v > limit) {
            return Err(Error::Absurd {
                field,
                value: v.to_string(),
                max: max.into(),
            });
        }
    }
    let budget_currency = pricing.fx.known(&q.budget_currency)?;
    q.offers.check(pricing)?;

    // Method variants: as asked, plus QLoRA for LoRA/DoRA when allowed.
    let mut variants = vec![base.clone()];
    if q.allow_quantization && matches!(base.method.kind, MethodKind::Lora | MethodKind::Dora) {
        let mut s = base.clone();
        s.method.kind = MethodKind::Qlora;
        s.workload.weights_dtype = WeightsDtype::Nf4;
        variants.push(s);
    }
    let prepared: Vec<Prepared> = variants
        .iter()
        .map(Scenario::prepare)
        .collect::<Result<_>>()?;
    let shapes: Vec<Shapes> = prepared.iter().map(Shapes::new).collect();
    // The estimate of each variant carries what the cost model needs (sizes of downloads/exports).
    let estimates: Vec<Estimate> = prepared.iter().map(|p| Estimate::new(p, &[], a)).collect();

    let global = base.workload.global_batch();
    let billings: Vec<Billing> = if q.offers.billing.is_empty() {
        vec![Billing::OnDemand, Billing::Spot]
    } else {
        q.offers.billing.clone()
    };

    let mut configs: Vec<Evaluated> = Vec::new();
    let mut evaluated: u64 = 0;
    let mut candidates: Vec<Candidate> = Vec::new();
    let (mut short_of_host_ram, mut unknown_host_ram) = (0usize, 0usize);
    for hw in hardware {
        let offers: Vec<_> = pricing
            .offers()
            .filter(|(t, o)| o.hardware == hw.id && q.offers.admits(t, o))
            .collect();
        let most_gpus = offers
            .iter()
            .map(|(_, o)| o.gpus.max(1))
            .max()
            .unwrap_or(0)
            .min(q.max_gpus);
        for (vi, w) in workloads(&variants, global, most_gpus) {
            let device = DeviceResult::new(&shapes[vi], &w, hw, a);
            evaluated += 1;
            let Some(hours) = device.hours.filter(|_| device.fits) else {
                continue;
            };
            let config = configs.len();
            configs.push(Evaluated {
                prepared_index: vi,
                workload: w,
                device,
            });
            let job = job_inputs_for(&estimates[vi], &w, hours, &q.offers);
            // Only machines whose every GPU the configuration uses: a job never pays for idle
            // GPUs (the data-parallel configuration over all of them is searched on its own).
            for (table, offer) in offers.iter().filter(|(_, o)| o.gpus.max(1) == w.gpus) {
                match host_ram(offer, &configs[config].device) {
                    HostRam::Enough => {}
                    HostRam::Short => {
                        short_of_host_ram += 1;
                        continue;
                    }
                    HostRam::Unknown => unknown_host_ram += 1,
                }
                for &billing in &billings {
                    let cost = job_cost(
                        table,
                        offer,
                        billing,
                        &job,
                        &pricing.fx,
                        q.offers.currency.as_deref(),
                    )?;
                    if let Some(c) = candidate(config, cost, q, pricing, &budget_currency)? {
                        candidates.push(c);
                    }
                }
            }
        }
    }

    let meets = |c: &Candidate| {
        q.deadline_hours.is_none_or(|d| c.wall_hours <= d) && q.budget.is_none_or(|b| c.cost <= b)
    };
    let feasible: Vec<&Candidate> = candidates.iter().filter(|c| meets(c)).collect();
    let by_cost = |a: &&Candidate, b: &&Candidate| {
        a.cost
            .total_cmp(&b.cost)
            .then(a.wall_hours.total_cmp(&b.wall_hours))
    };
    let by_time = |a: &&Candidate, b: &&Candidate| {
        a.wall_hours
            .total_cmp(&b.wall_hours)
            .then(a.cost.total_cmp(&b.cost))
    };
    let make = |c: &Candidate, label: &str, why: String| {
        let e = &configs[c.config];
        Plan {
            label: label.into(),
            why,
            method: estimates[e.prepared_index].method.clone(),
            workload: e.workload,
            device: e.device.clone(),
            offer: c.offer.clone(),
            wall_hours: c.wall_hours,
            cost: c.cost,
            currency: budget_currency.clone(),
        }
    };
    let cheapest = feasible.iter().copied().min_by(by_cost);
    let fastest = feasible.iter().copied().min_by(by_time);
    let mut sorted = feasible.clone();
    sorted.sort_by(by_cost);
    let mut pareto = Vec::new();
    let mut best_time = f64::INFINITY;
    for c in sorted {
        // Strictly faster than every cheaper plan: the true front, so the fastest plan is on it.
        if c.wall_hours < best_time {
            best_time = c.wall_hours;
            pareto.push(make(
                c,
                "pareto",
                format!(
                    "no cheaper plan is faster: {:.2} h for {:.2} {budget_currency}",
                    c.wall_hours, c.cost
                ),
            ));
        }
    }
    let infeasible = if feasible.is_empty() {
        Some(explain_infeasible(&candidates, q, &budget_currency))
    } else {
        None
    };
    let mut notes = vec![format!(
        "global batch kept at {global} sequences per optimizer step (micro-batch x grad-accum x GPUs)"
    )];
    if short_of_host_ram > 0 {
        notes.push(format!(
            "{short_of_host_ram} candidates left out: {SHORT_OF_HOST_RAM}"
        ));
    }
    if unknown_host_ram > 0 {
        notes.push(format!(
            "{unknown_host_ram} candidates kept {UNKNOWN_HOST_RAM}"
        ));
    }
    // Worded by each front-end (a flag on the command line, a field in the TUI).
    let qlora_not_considered = base.method.kind.is_lora()
        && base.method.kind != MethodKind::Qlora
        && !q.allow_quantization;
    Ok(PlanResult {
        model: base.profile.id.clone(),
        cheapest: cheapest.map(|c| {
            make(
                c,
                "cheapest",
                format!(
                    "lowest job cost of the {} feasible candidates",
                    feasible.len()
                ),
            )
        }),
        fastest: fastest.map(|c| {
            make(
                c,
                "fastest",
                format!(
                    "shortest wall-clock time of the {} feasible candidates",
                    feasible.len()
                ),
            )
        }),
        pareto,
        configurations: evaluated,
        candidates: candidates.len() as u64,
        feasible: feasible.len() as u64,
        infeasible,
        notes,
        qlora_not_considered,
        feasible_points: feasible.iter().map(|c| (c.wall_hours, c.cost)).collect(),
    })
}

/// Say which constraint cannot be met and by how much.
fn explain_infeasible(all: &[Candidate], q: &PlanQuery, currency: &str) -> String {
    if all.is_empty() {
        return "no configuration fits in memory on the offers considered: try --allow-quantization, more --max-gpus, another --provider, or a shorter --seq-len".into();
    }
    let cheapest = all
        .iter()
        .min_by(|a, b| a.cost.total_cmp(&b.cost))
        .map(|c| (c.cost, c.wall_hours));
    let fastest = all
        .iter()
        .min_by(|a, b| a.wall_hours.total_cmp(&b.wall_hours))
        .map(|c| (c.cost, c.wall_hours));
    let mut parts = Vec::new();
    if let (Some(d), Some((_, t))) = (q.deadline_hours, fastest) {
        if t > d {
            parts.push(format!(
                "the deadline: the fastest plan takes {t:.2} h, {:.2} h over {d} h",
                t - d
            ));
        }
    }
    if let (Some(b), Some((c, _))) = (q.budget, cheapest) {
        if c > b {
            parts.push(format!(
                "the budget: the cheapest plan costs {c:.2} {currency}, {:.2} over {b} {currency}",
                c - b
            ));
        }
    }
    if parts.is_empty() {
        if let (Some(d), Some(b)) = (q.deadline_hours, q.budget) {
            let best_in_time = all
                .iter()
                .filter(|c| c.wall_hours <= d)
                .min_by(|a, b| a.cost.total_cmp(&b.cost))
                .map_or(f64::NAN, |c| c.cost);
            return format!(
                "the deadline and the budget together: within {d} h the cheapest plan costs {best_in_time:.2} {currency}, {:.2} over the budget of {b} {currency}",
                best_in_time - b
            );
        }
        return "no plan meets the constraints".into();
    }
    format!("cannot meet {}", parts.join("; and "))
}
