//! The estimate as one serialisable value: the JSON contract of design §10.

use serde::Serialize;

use super::fit::{self, DeviceConfig, FitPolicy, Suggestion, Variants};
use super::{Assumptions, FlopsPerToken, MemoryBreakdown, Shapes};
use super::{Dtype, ParamsSection, Prepared, Workload};
use crate::core::arch::Task;
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::{AdapterStyle, MethodKind};

/// `method` in the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    /// The PEFT method.
    pub kind: MethodKind,
    /// LoRA rank (LoRA-family methods only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
    /// LoRA alpha scaling (LoRA-family methods only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Module names the method is applied to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Modules trained in full and saved alongside the adapter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modules_to_save: Vec<String>,
    /// Adapter placement style (adapter method only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter_style: Option<AdapterStyle>,
    /// Adapter bottleneck width (adapter method only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<u64>,
    /// Number of virtual tokens (prompt-learning methods only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_tokens: Option<u64>,
    /// The task head the model is loaded with.
    pub task: Task,
}

impl MethodSummary {
    fn new(p: &Prepared) -> Self {
        let m = &p.method;
        let c = &m.config;
        let lora = c.kind.is_lora();
        let saved = m
            .saved
            .iter()
            .map(|r| r.module(&p.inventory).name.clone())
            .collect();
        MethodSummary {
            kind: c.kind,
            rank: lora.then_some(c.rank),
            alpha: lora.then_some(c.alpha),
            targets: m.target_names.clone(),
            modules_to_save: saved,
            adapter_style: (c.kind == MethodKind::Adapter).then_some(c.adapter_style),
            bottleneck: (c.kind == MethodKind::Adapter).then_some(m.bottleneck),
            virtual_tokens: c.kind.is_prompt_learning().then_some(m.virtual_tokens),
            task: p.inventory.task,
        }
    }

    /// One line for people: "lora r=8 on c_attn,c_proj,w1,w2".
    pub fn describe(&self) -> String {
        let mut s = self.kind.as_str().to_string();
        if let Some(r) = self.rank {
            s.push_str(&format!(" r={r}"));
        }
        if let Some(b) = self.bottleneck {
            s.push_str(&format!(" bottleneck={b}"));
        }
        if let Some(n) = self.virtual_tokens {
            s.push_str(&format!(" virtual_tokens={n}"));
        }
        if !self.targets.is_empty() {
            s.push_str(&format!(" on {}", self.targets.join(",")));
        }
        if !self.modules_to_save.is_empty() {
            s.push_str(&format!(" + full {}", self.modules_to_save.join(",")));
        }
        s
    }
}

/// `flops` in the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FlopsSection {
    /// FLOPs per processed token (forward + backward + recompute).
    pub per_token: f64,
    /// FLOPs of the whole job.
    pub total: f64,
    /// Processed tokens of the whole job (with prompt tuning's virtual tokens).
    pub tokens: f64,
    /// FLOPs per token split by term.
    pub breakdown: FlopsPerToken,
}

/// One hardware profile's answer: `devices[]` in the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceResult {
    /// Hardware profile id.
    pub hardware: String,
    /// Hardware display name.
    pub name: String,
    /// The dtype training runs in on this device (after any fallback).
    pub dtype: Dtype,
    /// Whether the memory total fits the device capacity.
    pub fits: bool,
    /// Memory per device split by term, in bytes.
    pub memory: MemoryBreakdown,
    /// Device memory capacity, in bytes.
    pub capacity_bytes: u64,
    /// Capacity minus total (negative when it does not fit).
    pub headroom_bytes: i64,
    /// Largest micro-batch that fits on the device, in sequences.
    pub max_micro_batch: u64,
    /// One optimizer step (micro_batch x grad_accum sequences per device); `null` where the
    /// profile has no peak for the dtype.
    pub step_seconds: Option<f64>,
    /// Processed tokens per second across all devices (the job's rate).
    pub tokens_per_second: Option<f64>,
    /// Processed tokens per second on one device.
    pub tokens_per_second_per_device: Option<f64>,
    /// The whole job.
    pub hours: Option<f64>,
    /// Low and high bounds of memory and time from the spread of measured steps
    /// (`profiles/error_spread.json`): GPUs', and calibrated CPUs'; absent on a CPU known from
    /// its datasheet alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<super::spread::Range>,
    /// Fraction of dense peak used for the time estimate.
    pub mfu: f64,
    /// Whether `mfu` comes from a `peftcost bench` calibration rather than the default.
    pub calibrated: bool,
    /// Why the dtype fell back or the time is unknown, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The configuration the figures above are for.
    pub config: DeviceConfig,
    /// Where it does not fit: the least disruptive change that would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Suggestion>,
}

impl DeviceResult {
    /// Physics of one scenario on one device.
    pub fn new(shapes: &Shapes, w: &Workload, hw: &HardwareProfile, a: &Assumptions) -> Self {
        let (dtype, note) = hw.effective_dtype(w.dtype);
        // Memory at the longest micro-batch; time over the tokens the steps really process.
        let (peak, run) = (w.longest_batch(), w.processed());
        let memory = shapes.memory(&peak, dtype, hw, a, w.micro_batch);
        // Whole bytes (a fractional GiB figure gives a fractional byte count), so that
        // headroom = capacity - total holds exactly in the JSON.
        let cap = hw.memory_bytes().floor();
        let fits = (memory.total as f64) <= cap;
        let mfu = hw.mfu_for(shapes.kind);
        let step = shapes.step_seconds(&run, dtype, hw, a, mfu);
        let seq_tokens = run.global_batch() as f64 * shapes.seq_tokens(run.seq_len);
        let hours = step.map(|s| s * run.steps() as f64 / 3600.0);
        let range = super::spread::spread()
            .and_then(|s| s.bands(hw.kind == HardwareKind::Gpu, hw.calibrated))
            .map(|b| super::spread::Range::of(b, memory.total, step, hours));
        DeviceResult {
            hardware: hw.id.clone(),
            name: hw.name.clone(),
            dtype,
            fits,
            memory,
            capacity_bytes: cap as u64,
            // In floating point: a total saturated at u64::MAX must not wrap to a positive headroom.
            headroom_bytes: (cap - memory.total as f64).clamp(i64::MIN as f64, i64::MAX as f64)
                as i64,
            max_micro_batch: shapes.max_micro_batch(&peak, dtype, hw, a),
            step_seconds: step,
            tokens_per_second: step.map(|s| seq_tokens / s),
            tokens_per_second_per_device: step.map(|s| seq_tokens / w.gpus.max(1) as f64 / s),
            hours,
            range,
            mfu,
            calibrated: hw.calibrated,
            config: DeviceConfig::of(w, shapes.kind),
            fix: None,
            note: note.or_else(|| {
                step.is_none().then(|| {
                    format!(
                        "{} has no {} peak in its profile: time unknown",
                        hw.id,
                        dtype.as_str()
                    )
                })
            }),
        }
    }
}

/// One estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Model id.
    pub model: String,
    /// The method as resolved on the model.
    pub method: MethodSummary,
    /// Parameter counts and export sizes.
    pub params: ParamsSection,
    /// The training workload.
    pub workload: Workload,
    /// Compute of the job, in FLOPs.
    pub flops: FlopsSection,
    /// One result per hardware profile.
    pub devices: Vec<DeviceResult>,
    /// The assumptions used by the formulas.
    pub assumptions: Assumptions,
    /// How each device's configuration was chosen, with the global batch kept.
    pub fit: FitSummary,
    /// Offers whose hardware fits, cheapest first (empty until [`Estimate::with_offers`]).
    pub offers: Vec<super::OfferResult>,
    /// What would make it fit, when it fits nowhere.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<super::Suggestion>,
    /// Notes from resolving the method.
    pub notes: Vec<String>,
}

/// Fixes listed when nothing fits, once priced: the cheapest few.
pub const MAX_SUGGESTIONS: usize = 5;

/// `fit` in the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitSummary {
    /// Whether each device's micro-batch and checkpointing were searched.
    pub auto: bool,
    /// Sequences per optimizer step across all devices, kept by every configuration.
    pub global_batch: u64,
    /// Whether auto-fit could switch LoRA/DoRA to QLoRA.
    pub allow_quantization: bool,
}

/// One CSV row (headers documented in the README).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateCsvRow {
    /// Model id.
    pub model: String,
    /// PEFT method name.
    pub method: String,
    /// LoRA rank, if a LoRA-family method.
    pub rank: Option<u64>,
    /// Target modules joined with `;`.
    pub targets: String,
    /// Parameters of the base model as loaded.
    pub total_params: u64,
    /// peft's "trainable params".
    pub trainable_params: u64,
    /// peft's "all params".
    pub all_params: u64,
    /// Trainable parameters as a percent of all parameters.
    pub trainable_percent: f64,
    /// Bytes the export step writes.
    pub export_bytes: u64,
    /// Training samples per epoch.
    pub samples: u64,
    /// Sequence length, in tokens.
    pub seq_len: u64,
    /// Number of epochs.
    pub epochs: u64,
    /// Sequences per device per micro-batch on this device.
    pub micro_batch: u64,
    /// Gradient accumulation steps on this device.
    pub grad_accum: u64,
    /// Number of devices.
    pub gpus: u64,
    /// Whether gradient checkpointing is on for this device.
    pub grad_checkpointing: bool,
    /// Hardware profile id.
    pub hardware: String,
    /// Dtype training runs in on this device.
    pub dtype: String,
    /// Whether the job fits in device memory.
    pub fits: bool,
    /// Total memory per device, in bytes.
    pub memory_total_bytes: u64,
    /// Memory for model weights, in bytes.
    pub memory_weights_bytes: u64,
    /// Memory for trainable parameters, gradients and optimizer state, in bytes.
    pub memory_trainable_state_bytes: u64,
    /// Memory for activations, in bytes.
    pub memory_activations_bytes: u64,
    /// Memory for logits, in bytes.
    pub memory_logits_bytes: u64,
    /// Runtime overhead memory, in bytes.
    pub memory_overhead_bytes: u64,
    /// Device memory capacity, in bytes.
    pub capacity_bytes: u64,
    /// Largest micro-batch that fits, in sequences.
    pub max_micro_batch: u64,
    /// Seconds per optimizer step.
    pub step_seconds: Option<f64>,
    /// Processed tokens per second across all devices.
    pub tokens_per_second: Option<f64>,
    /// Wall-clock hours of the whole job.
    pub hours: Option<f64>,
    /// Provider of the cheapest offer on this hardware.
    pub cheapest_provider: Option<String>,
    /// Instance name of the cheapest offer.
    pub cheapest_instance: Option<String>,
    /// Billing of the cheapest offer (e.g. on-demand or spot).
    pub cheapest_billing: Option<String>,
    /// Cost of the job on the cheapest offer, in `cheapest_currency`.
    pub cheapest_cost: Option<f64>,
    /// Currency code of `cheapest_cost`.
    pub cheapest_currency: Option<String>,
    /// Cost of the job on the cheapest offer, in USD.
    pub cheapest_cost_usd: Option<f64>,
    /// Cost of the job on the cheapest offer, in CNY.
    pub cheapest_cost_cny: Option<f64>,
    /// Date the cheapest offer's price was recorded.
    pub pricing_as_of: Option<String>,
    /// Whether auto-fit chose micro-batch, accumulation and checkpointing on this device.
    pub auto_fit: bool,
    /// Why the device runs this configuration.
    pub fit_reason: super::FitReason,
    /// The part of the overhead a log calibration added (negative: removed), bytes.
    pub memory_overhead_calibration_bytes: i64,
}

impl Estimate {
    /// The whole estimate of a prepared scenario on each hardware profile, with the workload
    /// exactly as given ([`FitPolicy::EXACT`]).
    pub fn new(p: &Prepared, hardware: &[HardwareProfile], a: &Assumptions) -> Self {
        let global = p.scenario.workload.global_batch();
        Self::build(p, hardware, a, FitPolicy::EXACT, global)
    }

    /// The estimate with each device's configuration chosen by `policy` (auto-fit, or exact with
    /// accumulation set by a global batch).
    pub fn fitted(
        p: &Prepared,
        hardware: &[HardwareProfile],
        a: &Assumptions,
        policy: &FitPolicy,
    ) -> crate::Result<Self> {
        let global = policy.global_batch(&p.scenario.workload)?;
        Ok(Self::build(p, hardware, a, *policy, global))
    }

    fn build(
        p: &Prepared,
        hardware: &[HardwareProfile],
        a: &Assumptions,
        policy: FitPolicy,
        global: u64,
    ) -> Self {
        let mut vs = Variants::new(p);
        if !policy.auto {
            // An explicit global batch sets the accumulation of the exact workload.
            for v in std::iter::once(&mut vs.base).chain(vs.qlora.as_mut()) {
                v.workload.grad_accum = global / (v.workload.micro_batch * v.workload.gpus);
            }
        }
        let w = &vs.base.workload;
        let shapes = &vs.base.shapes;
        let run = w.processed();
        let f = shapes.flops_per_token(&run);
        let tokens = run.samples as f64 * run.epochs as f64 * shapes.seq_tokens(run.seq_len);
        let devices: Vec<DeviceResult> = hardware
            .iter()
            .map(|hw| {
                let mut d = if policy.auto {
                    fit::auto_fit(&vs, global, hw, a, policy.allow_quantization)
                } else {
                    DeviceResult::new(shapes, w, hw, a)
                };
                if !d.fits {
                    d.fix = fit::fix(&vs, global, hw, a, policy.auto);
                }
                d
            })
            .collect();
        let suggestions = if !devices.is_empty() && devices.iter().all(|d| !d.fits) {
            let mut all: Vec<Suggestion> = devices.iter().filter_map(|d| d.fix.clone()).collect();
            // Cheapest first by GPU-hours until the offers price them (see `with_offers`).
            let gpu_hours =
                |s: &Suggestion| s.hours.map_or(f64::INFINITY, |h| h * s.config.gpus as f64);
            all.sort_by(|x, y| gpu_hours(x).total_cmp(&gpu_hours(y)));
            all
        } else {
            Vec::new()
        };
        let devices_host_ram: Vec<(u64, u64)> = devices
            .iter()
            .map(|d| (d.memory.host_state_bytes, d.memory.host_offload_bytes))
            .collect();
        // One note per kind of band shown: GPUs', calibrated CPUs'.
        let shown = |gpu: bool| {
            devices
                .iter()
                .zip(hardware)
                .any(|(d, hw)| d.range.is_some() && (hw.kind == HardwareKind::Gpu) == gpu)
        };
        let no_sync = no_sync_note(&devices);
        let spread = super::spread::spread();
        let range_note = spread
            .filter(|_| shown(true))
            .map(super::spread::ErrorSpread::note)
            .into_iter()
            .chain(spread.filter(|_| shown(false)).and_then(|s| s.cpu_note()));
        Estimate {
            model: p.scenario.profile.id.clone(),
            method: MethodSummary::new(p),
            params: ParamsSection::new(&p.inventory, &p.method),
            workload: *w,
            flops: FlopsSection {
                per_token: f.total,
                total: f.total * tokens,
                tokens,
                breakdown: f,
            },
            devices,
            assumptions: *a,
            fit: FitSummary {
                auto: policy.auto,
                global_batch: global,
                allow_quantization: policy.allow_quantization,
            },
            offers: Vec::new(),
            suggestions,
            notes: p
                .method
                .notes
                .iter()
                .cloned()
                .chain(quantized_checkpoint_note(p))
                .chain(host_ram_note(&devices_host_ram))
                .chain(no_sync)
                .chain(range_note)
                .collect(),
        }
    }

    /// Note the price tables older than [`crate::core::pricing::STALE_AFTER_DAYS`] on `today`
    /// (YYYY-MM-DD, the caller's clock) among the offers this estimate ranks.
    pub fn note_stale_prices(
        &mut self,
        pricing: &crate::core::pricing::PricingCatalog,
        today: &str,
    ) {
        let days = crate::core::pricing::STALE_AFTER_DAYS;
        let stale: Vec<String> = pricing
            .stale_tables(today, days)
            .into_iter()
            .filter(|(provider, _)| self.offers.iter().any(|o| &o.job.provider == provider))
            .map(|(provider, as_of)| format!("{provider} {as_of}"))
            .collect();
        if !stale.is_empty() {
            self.notes.push(format!(
                "prices older than {days} days: {}; check them against their sources or run `peftcost pricing update --from URL`",
                stale.join(", ")
            ));
        }
    }

    /// Cost the job on every matching offer (see [`super::rank_offers`]) and price the
    /// suggestions, cheapest first. `hardware`: the profiles the estimate was made on.
    pub fn with_offers(
        mut self,
        p: &Prepared,
        hardware: &[HardwareProfile],
        pricing: &crate::core::pricing::PricingCatalog,
        q: &super::OfferQuery,
    ) -> crate::Result<Self> {
        let (offers, skipped) = super::rank_offers(p, &self, hardware, pricing, q)?;
        self.offers = offers;
        if skipped.idle_gpus > 0 {
            self.notes.push(format!(
                "{} offers on machines with more GPUs than the job uses left out (their GPUs would idle): a global batch they divide (--global-batch) trains data-parallel on all of them",
                skipped.idle_gpus
            ));
        }
        if skipped.too_old > 0 {
            self.notes.push(format!(
                "{} offers priced more than {} days ago left out (--max-price-age)",
                skipped.too_old,
                q.max_price_age_days.unwrap_or(0)
            ));
        }
        if skipped.uneven_nodes > 0 {
            self.notes.push(format!(
                "{} offers left out: the job's GPUs do not divide over their machines",
                skipped.uneven_nodes
            ));
        }
        if skipped.host_ram > 0 {
            self.notes.push(format!(
                "{} offers left out: {}",
                skipped.host_ram,
                super::offers::SHORT_OF_HOST_RAM
            ));
        }
        if skipped.host_ram_unknown > 0 {
            self.notes.push(format!(
                "{} offers kept {}",
                skipped.host_ram_unknown,
                super::offers::UNKNOWN_HOST_RAM
            ));
        }
        for (id, n) in &skipped.untimed {
            let why = self
                .devices
                .iter()
                .find(|d| &d.hardware == id)
                .and_then(|d| d.note.clone())
                .unwrap_or_else(|| format!("{id}: time unknown"));
            self.notes
                .push(format!("{n} offers on {id} fit but are not costed: {why}"));
        }
        if skipped.default_network > 0 {
            self.notes.push(format!(
                "{} multi-machine offers timed with {} Gbit/s between machines (the table states no network_gbps)",
                skipped.default_network,
                crate::core::units::DEFAULT_NETWORK_GBPS
            ));
        }
        let costs = self
            .suggestions
            .iter()
            .map(|s| super::offers::cheapest_usd(&self, s, pricing, q))
            .collect::<crate::Result<Vec<_>>>()?;
        for (s, cost) in self.suggestions.iter_mut().zip(costs) {
            s.cost_usd = cost;
        }
        let key = |s: &Suggestion| s.cost_usd.unwrap_or(f64::INFINITY);
        self.suggestions.sort_by(|x, y| key(x).total_cmp(&key(y)));
        self.suggestions.truncate(MAX_SUGGESTIONS);
        Ok(self)
    }

    /// The cheapest offer on a hardware profile.
    pub fn cheapest_on(&self, hardware: &str) -> Option<&super::OfferResult> {
        self.offers.iter().find(|o| o.job.hardware == hardware)
    }

    /// One tidy row per device (headers documented in the README).
    pub fn csv_rows(&self) -> Vec<EstimateCsvRow> {
        self.devices
            .iter()
            .map(|d| EstimateCsvRow {
                model: self.model.clone(),
                method: self.method.kind.as_str().into(),
                rank: self.method.rank,
                targets: self.method.targets.join(";"),
                total_params: self.params.total,
                trainable_params: self.params.trainable,
                all_params: self.params.all,
                trainable_percent: self.params.trainable_percent,
                export_bytes: self.params.artifact.export_bytes,
                samples: self.workload.samples,
                seq_len: self.workload.seq_len,
                epochs: self.workload.epochs,
                micro_batch: d.config.micro_batch,
                grad_accum: d.config.grad_accum,
                gpus: d.config.gpus,
                grad_checkpointing: d.config.grad_checkpointing,
                hardware: d.hardware.clone(),
                dtype: d.dtype.as_str().into(),
                fits: d.fits,
                memory_total_bytes: d.memory.total,
                memory_weights_bytes: d.memory.weights,
                memory_trainable_state_bytes: d.memory.trainable_state,
                memory_activations_bytes: d.memory.activations,
                memory_logits_bytes: d.memory.logits,
                memory_overhead_bytes: d.memory.overhead,
                capacity_bytes: d.capacity_bytes,
                max_micro_batch: d.max_micro_batch,
                step_seconds: d.step_seconds,
                tokens_per_second: d.tokens_per_second,
                hours: d.hours,
                cheapest_provider: self
                    .cheapest_on(&d.hardware)
                    .map(|o| o.job.provider.clone()),
                cheapest_instance: self
                    .cheapest_on(&d.hardware)
                    .map(|o| o.job.instance.clone()),
                cheapest_billing: self
                    .cheapest_on(&d.hardware)
                    .map(|o| o.job.billing.as_str().into()),
                cheapest_cost: self.cheapest_on(&d.hardware).map(|o| o.job.cost),
                cheapest_currency: self
                    .cheapest_on(&d.hardware)
                    .map(|o| o.job.currency.clone()),
                cheapest_cost_usd: self.cheapest_on(&d.hardware).map(|o| o.cost_usd),
                cheapest_cost_cny: self.cheapest_on(&d.hardware).map(|o| o.cost_cny),
                pricing_as_of: self.cheapest_on(&d.hardware).map(|o| o.job.as_of.clone()),
                auto_fit: d.config.auto,
                fit_reason: d.config.reason,
                memory_overhead_calibration_bytes: d.memory.overhead_calibration,
            })
            .collect()
    }
}

/// What offloading keeps in host RAM per GPU (the largest over the devices), if anything:
/// (offloaded state, offloaded checkpoints) bytes of each device.
fn host_ram_note(devices: &[(u64, u64)]) -> Option<String> {
    let (state, checkpoints) = devices
        .iter()
        .copied()
        .max_by_key(|(s, c)| s + c)
        .filter(|(s, c)| s + c > 0)?;
    let gib = |b: u64| b as f64 / crate::core::units::GIB;
    Some(format!(
        "host RAM beyond the GPU: {:.1} GiB per GPU ({:.1} GiB offloaded state, {:.1} GiB offloaded checkpoints); a machine needs that times its GPUs besides the training processes themselves",
        gib(state + checkpoints),
        gib(state),
        gib(checkpoints)
    ))
}

/// What FSDP's `no_sync` accumulation costs where a device's configuration accumulates (the
/// largest over the devices), and the flag that avoids it.
fn no_sync_note(devices: &[DeviceResult]) -> Option<String> {
    let bytes = devices
        .iter()
        .flat_map(|d| d.memory.buffers.iter())
        .filter(|b| b.name == super::memory::NO_SYNC_GRADIENTS)
        .map(|b| b.bytes)
        .max()
        .filter(|b| *b > 0)?;
    Some(format!(
        "FSDP accumulates gradients unsharded between optimizer steps (the Trainer's no_sync): {:.1} GiB more per GPU; --sync-each-batch (accelerate's sync_each_batch) reduce-scatters every micro-batch instead",
        bytes as f64 / crate::core::units::GIB
    ))
}

/// A checkpoint that ships quantized is estimated at the weights dtype asked for (the 16-bit
/// base by default): say so, and what its own format holds.
fn quantized_checkpoint_note(p: &Prepared) -> Option<String> {
    let q = p.scenario.profile.quantization.as_ref()?;
    Some(format!(
        "the checkpoint ships {} {}-bit ({:.3} bits per block weight): this estimate loads its weights as {}; training on the quantized checkpoint itself holds about what --weights-dtype {} gives",
        q.method,
        q.bits,
        q.bits_per_weight(),
        p.scenario.workload.weights_dtype.as_str(),
        if q.bits <= 4 { "nf4" } else { "int8" }
    ))
}
