//! The serving physics: fit, batch, step times, instances and monthly cost on one target.

use serde::Serialize;

use super::{Assumptions, Precision, Quote, Request, WeightFormat, Workload};
use crate::core::arch::{Inventory, ModelProfile, Task};
use crate::core::error::Result;
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::{self, MethodConfig, MethodKind};
use crate::core::units::Dtype;

/// The cheapest offer for the instances a target needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferChoice {
    /// Cloud provider of the offer.
    pub provider: String,
    /// Instance (machine type) name.
    pub instance: String,
    /// Region the price is quoted for.
    pub region: String,
    /// Devices (GPUs) per machine.
    pub gpus_per_machine: u64,
    /// Machines needed to host all instances.
    pub machines: u64,
    /// `monthly` or `on-demand` (price per hour × hours per month).
    pub billing: String,
    /// Price of one machine per month, in `currency`.
    pub price_per_machine_month: f64,
    /// Total per month for all machines, in `currency`: the cheaper of the two below.
    pub monthly_cost: f64,
    /// Pay-as-you-go for every hour of the month, all machines, in `currency`.
    pub pay_as_you_go_monthly: f64,
    /// The subscription (包年包月) price for all machines, where the table has one.
    pub subscription_monthly: Option<f64>,
    /// Currency code of the prices (e.g. `USD`).
    pub currency: String,
}

/// One base with N adapters on shared instances vs N merged models on their own instances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdapterSummary {
    /// Number of adapters served.
    pub adapters: u64,
    /// Bytes of one LoRA adapter (fp16) with the model's default LoRA.
    pub adapter_bytes: f64,
    /// Trainable parameters of one adapter.
    pub adapter_trainable_params: u64,
    /// Per-token compute overhead of unmerged LoRA (fraction).
    pub compute_overhead: f64,
    /// Bytes of memory for the base weights plus all adapters on one shared instance.
    pub shared_memory_bytes: f64,
    /// Bytes of memory for N merged copies of the weights.
    pub merged_memory_bytes: f64,
    /// Instances needed when the adapters share a base model.
    pub shared_instances: u64,
    /// Instances needed for N merged models (0 when a merged model does not fit).
    pub merged_instances: u64,
    /// Monthly cost of the shared instances, in the display currency.
    pub shared_monthly_cost: Option<f64>,
    /// Monthly cost of the merged instances, in the display currency.
    pub merged_monthly_cost: Option<f64>,
    /// merged − shared, in the display currency.
    pub saving: Option<f64>,
    /// `saving` as a fraction of the merged cost.
    pub saving_fraction: Option<f64>,
    /// Whether each merged model fits one device at this precision.
    pub merged_fits: bool,
}

/// The result on one hardware profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    /// Hardware profile id.
    pub hardware: String,
    /// Hardware display name.
    pub hardware_name: String,
    /// `gpu` or `cpu`.
    pub kind: String,
    /// Serving precision.
    pub precision: Precision,
    /// Name of the weight format used.
    pub weights_format: String,
    /// Average over every tensor.
    pub bits_per_weight: f64,
    /// Bits per weight of the block Linears (the quantized part).
    pub linear_bits_per_weight: f64,
    /// Bytes of model weights in this format.
    pub weights_bytes: f64,
    /// Bytes of all served adapters.
    pub adapters_bytes: f64,
    /// Bytes of runtime overhead reserved on the device.
    pub overhead_bytes: f64,
    /// Bytes of device memory usable for weights, adapters and KV cache.
    pub usable_memory_bytes: f64,
    /// KV-cache bytes per token (0 for encoders).
    pub kv_bytes_per_token: f64,
    /// KV-cache bytes per sequence of `context` tokens (0 for encoders).
    pub kv_bytes_per_sequence: f64,
    /// Whether at least one sequence fits next to the weights.
    pub fits: bool,
    /// Sequences of `context` tokens whose KV cache fits next to the weights (0 if none).
    pub max_sequences: u64,
    /// Batch used: the largest that fits memory, `max_batch` and the TPOT target.
    pub batch: u64,
    /// Time to first token (prefill of the input), in seconds.
    pub ttft_seconds: Option<f64>,
    /// Time per output token (one decode step at `batch`), in seconds.
    pub tpot_seconds: Option<f64>,
    /// Decode tokens/s of one instance at `batch` (all sequences together).
    pub decode_tokens_per_second: Option<f64>,
    /// Output tokens/s one instance sustains including its prefill time share.
    pub output_tokens_per_second: Option<f64>,
    /// Encoders: sequences embedded per second by one instance.
    pub embeddings_per_second: Option<f64>,
    /// Requests per second one instance sustains.
    pub requests_per_second: Option<f64>,
    /// Instances needed for the requested queries per second.
    pub instances: u64,
    /// Fraction of the instances' capacity the requested load uses.
    pub utilisation: Option<f64>,
    /// Whether the TTFT target is met (`None` without a target).
    pub meets_ttft: Option<bool>,
    /// Whether the TPOT target is met (`None` without a target).
    pub meets_tpot: Option<bool>,
    /// Whether the model fits and meets the TTFT and TPOT targets: only such targets rank as
    /// fits (one that misses a target even at batch 1 cannot serve the traffic as asked).
    pub meets_targets: bool,
    /// The cheapest offer for `instances`, if any.
    pub offer: Option<OfferChoice>,
    /// Monthly cost of the chosen offer, in the display currency.
    pub monthly_cost: Option<f64>,
    /// Per million output tokens (decoders) or embeddings (encoders).
    pub cost_per_million: Option<f64>,
    /// What `cost_per_million` counts: `output tokens` or `embeddings`.
    pub cost_unit: String,
    /// Shared-base vs merged comparison when adapters are served.
    pub adapters: Option<AdapterSummary>,
    /// Notes about this target (fit, fallbacks, missed targets).
    pub notes: Vec<String>,
}

/// One flat CSV row per target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCsvRow {
    /// Model id.
    pub model: String,
    /// Hardware profile id.
    pub hardware: String,
    /// Serving precision.
    pub precision: String,
    /// Name of the weight format used.
    pub weights_format: String,
    /// Average bits per weight over every tensor.
    pub bits_per_weight: f64,
    /// Whether at least one sequence fits.
    pub fits: bool,
    /// Model weights, in GiB.
    pub weights_gib: f64,
    /// Sequences of `context` tokens that fit in memory.
    pub max_sequences: u64,
    /// Batch used.
    pub batch: u64,
    /// Time to first token, in seconds.
    pub ttft_seconds: Option<f64>,
    /// Time per output token, in seconds.
    pub tpot_seconds: Option<f64>,
    /// Output tokens per second of one instance, prefill included.
    pub tokens_per_second: Option<f64>,
    /// Encoders: sequences embedded per second by one instance.
    pub embeddings_per_second: Option<f64>,
    /// Instances needed for the requested load.
    pub instances: u64,
    /// Fraction of the instances' capacity used.
    pub utilisation: Option<f64>,
    /// Provider of the cheapest offer.
    pub provider: Option<String>,
    /// Instance name of the cheapest offer.
    pub instance: Option<String>,
    /// Monthly cost, in `currency`.
    pub monthly_cost: Option<f64>,
    /// Cost per million output tokens or embeddings, in `currency`.
    pub cost_per_million: Option<f64>,
    /// What `cost_per_million` counts: `output tokens` or `embeddings`.
    pub cost_unit: String,
    /// Currency code of the offer.
    pub currency: Option<String>,
}

/// The whole answer of `deploy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    /// Model id.
    pub model: String,
    /// Whether the model is an encoder (embeddings, no decoding).
    pub encoder: bool,
    /// Total parameters of the model.
    pub params: u64,
    /// The serving request (workload, precision, targets, adapters).
    pub request: Request,
    /// Display currency code.
    pub currency: String,
    /// The assumptions used by the formulas.
    pub assumptions: Assumptions,
    /// Cheapest first; targets that do not fit or have no offer last.
    pub targets: Vec<TargetResult>,
    /// Notes that apply to the whole deployment.
    pub notes: Vec<String>,
    /// When nothing fits: which precision or hardware would.
    pub suggestions: Vec<DeploySuggestion>,
}

/// What would make a model servable when it fits on no target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "lever", rename_all = "kebab-case")]
pub enum DeploySuggestion {
    /// Another precision fits on these of the requested targets.
    Precision {
        /// The precision that fits.
        precision: Precision,
        /// The requested targets it fits on.
        hardware: Vec<String>,
    },
    /// The requested precision fits on these other hardware profiles.
    OtherHardware {
        /// The requested precision.
        precision: Precision,
        /// Profiles outside the requested targets.
        hardware: Vec<String>,
    },
    /// Nothing fits at any precision: the context or the adapters must shrink.
    ShorterContext {
        /// The context the request reserved.
        context: u64,
    },
}

impl Deployment {
    /// One flat CSV row per target, with weights in GiB and figures rounded.
    pub fn csv_rows(&self) -> Vec<TargetCsvRow> {
        self.targets
            .iter()
            .map(|t| TargetCsvRow {
                model: self.model.clone(),
                hardware: t.hardware.clone(),
                precision: t.precision.as_str().into(),
                weights_format: t.weights_format.clone(),
                bits_per_weight: round(t.bits_per_weight, 3),
                fits: t.fits,
                weights_gib: round(t.weights_bytes / GIB, 3),
                max_sequences: t.max_sequences,
                batch: t.batch,
                ttft_seconds: t.ttft_seconds,
                tpot_seconds: t.tpot_seconds,
                tokens_per_second: t.output_tokens_per_second,
                embeddings_per_second: t.embeddings_per_second,
                instances: t.instances,
                utilisation: t.utilisation,
                provider: t.offer.as_ref().map(|o| o.provider.clone()),
                instance: t.offer.as_ref().map(|o| o.instance.clone()),
                monthly_cost: t.monthly_cost,
                cost_per_million: t.cost_per_million,
                cost_unit: t.cost_unit.clone(),
                currency: t.offer.as_ref().map(|o| o.currency.clone()),
            })
            .collect()
    }
}

use crate::core::units::GIB;

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// A model on one device in one weight format: the quantities every formula reads.
pub(crate) struct Served<'a> {
    pub hw: &'a HardwareProfile,
    pub format: WeightFormat,
    pub weight_bytes: f64,
    /// Of `weight_bytes`, the fused experts' (0 for a dense model).
    pub expert_bytes: f64,
    /// Matmul weights per token (every Linear incl. the head; the routed experts only).
    pub matmul_params: f64,
    /// The model: its blocks, attention width, routing, KV cache and window pattern.
    pub profile: &'a ModelProfile,
    pub kv_bytes_per_value: f64,
    /// Achievable bandwidth (bytes/s): datasheet × the hardware's decode efficiency.
    pub bandwidth: f64,
    /// Dense peak (FLOP/s) in the compute dtype.
    pub peak: f64,
    pub adapters: u64,
    pub adapter_bytes: f64,
    pub a: &'a Assumptions,
}

impl Served<'_> {
    fn lora_factor(&self) -> f64 {
        if self.adapters > 0 {
            1.0 + self.a.lora_unmerged_overhead
        } else {
            1.0
        }
    }

    /// Weight bytes a step over `tokens` tokens reads: every dense weight, and the experts those
    /// tokens are routed to — with `k` of `E` experts per token and uniform routing, a fraction
    /// 1 - (1 - k/E)^tokens of them (one token: k/E; a long prefill: all).
    fn weights_read(&self, tokens: u64) -> f64 {
        let (k, e) = self.profile.moe.map_or((1.0, 1.0), |m| {
            (m.experts_per_token as f64, m.num_experts as f64)
        });
        let touched = 1.0 - (1.0 - k / e).powf(tokens.max(1) as f64);
        self.weight_bytes - self.expert_bytes * (1.0 - touched)
    }

    /// Seconds to read the weights a step over `tokens` tokens of `requests` requests needs
    /// (and the adapters those requests use).
    fn weight_read_seconds(&self, tokens: u64, requests: u64) -> f64 {
        let active = self.adapters.min(requests) as f64 * self.adapter_bytes;
        (self.weights_read(tokens) / self.format.kernel_factor + active) / self.bandwidth
    }

    /// One decode step of `batch` sequences at average length `ctx`: bandwidth-bound (weights +
    /// the batch's KV cache) or compute-bound, whichever is slower.
    pub fn step_seconds(&self, batch: u64, ctx: f64) -> f64 {
        let b = batch.max(1) as f64;
        let kv = b * self.profile.kv_bytes(ctx, self.kv_bytes_per_value) / self.bandwidth;
        let t_mem = self.weight_read_seconds(batch, batch) + kv;
        let flops = b
            * (2.0 * self.matmul_params * self.lora_factor()
                + 4.0 * self.attention_width() * self.profile.attended_tokens(ctx));
        let t_compute = flops / (self.peak * self.a.decode_compute_efficiency);
        t_mem.max(t_compute)
    }

    /// Prefill of one request of `input` tokens: compute-bound (matmuls + causal attention), but
    /// never faster than reading the weights once.
    pub fn prefill_seconds(&self, input: u64) -> f64 {
        let s = input as f64;
        let flops = 2.0 * self.matmul_params * s * self.lora_factor()
            + 4.0 * self.attention_width() * self.profile.causal_pairs(s);
        (flops / (self.peak * self.a.prefill_efficiency)).max(self.weight_read_seconds(input, 1))
    }

    /// Query width summed over the blocks (`layers x heads x head_dim`): attention FLOPs per
    /// key are 4 times this.
    fn attention_width(&self) -> f64 {
        self.profile.num_layers as f64 * self.profile.attn_dim() as f64
    }

    /// Blocks of the model.
    pub fn layers(&self) -> f64 {
        self.profile.num_layers as f64
    }

    /// FLOPs of one encoder forward over `s` tokens (bidirectional attention).
    pub fn encoder_flops(&self, s: u64) -> f64 {
        let s = s as f64;
        2.0 * self.matmul_params * s * self.lora_factor() + 4.0 * self.attention_width() * s * s
    }
}

/// The dense peak a serving process computes in: fp16/bf16 on GPUs (weight-only quantization
/// dequantizes to 16-bit), bf16 or fp32 on CPUs.
fn compute_peak(hw: &HardwareProfile, p: Precision) -> Option<f64> {
    let want = if p == Precision::Bf16 {
        Dtype::Bf16
    } else {
        Dtype::Fp16
    };
    hw.peak_flops(want)
        .or_else(|| hw.peak_flops(Dtype::Bf16))
        .or_else(|| hw.peak_flops(Dtype::Fp16))
        .or_else(|| hw.peak_flops(Dtype::Fp32))
}

pub(crate) fn task_for(profile: &ModelProfile) -> Task {
    if profile.family.is_encoder() {
        Task::FeatureExtraction
    } else {
        Task::CausalLm
    }
}

/// The default LoRA of a model (peft defaults, rank 8): trainable params.
fn lora_params(profile: &ModelProfile, inv: &Inventory) -> Result<u64> {
    Ok(
        peft::resolve(profile, inv, &MethodConfig::new(MethodKind::Lora))?
            .counts
            .trainable,
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn served<'a>(
    profile: &'a ModelProfile,
    inv: &Inventory,
    hw: &'a HardwareProfile,
    format: WeightFormat,
    precision: Precision,
    adapters: u64,
    adapter_bytes: f64,
    a: &'a Assumptions,
) -> Option<Served<'a>> {
    let bandwidth = hw.bandwidth_bytes()? * hw.decode_bandwidth_efficiency;
    let peak = compute_peak(hw, precision)?;
    Some(Served {
        hw,
        weight_bytes: format.weight_bytes(inv),
        expert_bytes: format.expert_bytes(inv),
        format,
        matmul_params: inv.matmul_params() as f64,
        profile,
        kv_bytes_per_value: a.kv_bytes_per_value,
        bandwidth,
        peak,
        adapters,
        adapter_bytes,
        a,
    })
}

/// Memory of one instance: what is usable, the runtime overhead, and the sequences that fit.
struct Capacity {
    usable: f64,
    overhead: f64,
    max_sequences: u64,
}

fn capacity(s: &Served, context: u64, encoder: bool) -> Capacity {
    let a = s.a;
    let usable = s.hw.memory_bytes() * a.usable_memory_fraction;
    let overhead = match s.hw.kind {
        HardwareKind::Gpu => a.gpu_runtime_overhead_gib,
        HardwareKind::Cpu => a.cpu_runtime_overhead_gib,
    } * GIB;
    let free = usable - overhead - s.weight_bytes - s.adapters as f64 * s.adapter_bytes;
    let per_seq = if encoder {
        // Encoders keep no cache: one sequence's activations (hidden states and the MLP
        // intermediate in 16-bit) bound the batch.
        0.0
    } else {
        s.profile.kv_bytes(context as f64, s.kv_bytes_per_value)
    };
    let max_sequences = if free <= 0.0 {
        0
    } else if per_seq <= 0.0 {
        a.max_batch
    } else {
        (free / per_seq).floor().min(u64::MAX as f64 / 2.0) as u64
    };
    Capacity {
        usable,
        overhead,
        max_sequences,
    }
}

/// The cheapest offer of `hw` for `instances` replicas.
fn cheapest(quotes: &[Quote], hw: &str, instances: u64, a: &Assumptions) -> Option<OfferChoice> {
    quotes
        .iter()
        .filter(|q| q.hardware == hw && q.gpus > 0)
        .map(|q| {
            let machines = instances.div_ceil(q.gpus);
            let (price, billing) = q.month_price(a.hours_per_month);
            OfferChoice {
                provider: q.provider.clone(),
                instance: q.instance.clone(),
                region: q.region.clone(),
                gpus_per_machine: q.gpus,
                machines,
                billing: billing.to_string(),
                price_per_machine_month: price,
                monthly_cost: machines as f64 * price,
                pay_as_you_go_monthly: machines as f64 * q.hourly * a.hours_per_month,
                subscription_monthly: q.monthly.map(|m| machines as f64 * m),
                currency: q.currency.clone(),
            }
        })
        .filter(|o| o.monthly_cost.is_finite() && o.monthly_cost >= 0.0)
        .min_by(|x, y| x.monthly_cost.total_cmp(&y.monthly_cost))
}

/// Instances for `qps` when one instance serves `rps`.
fn instances_for(qps: f64, rps: f64) -> u64 {
    if !(rps.is_finite() && rps > 0.0) {
        return 0;
    }
    ((qps / rps) * (1.0 - 1e-12)).ceil().max(1.0) as u64
}

struct Throughput {
    batch: u64,
    ttft: f64,
    tpot: Option<f64>,
    decode_tps: Option<f64>,
    output_tps: Option<f64>,
    eps: Option<f64>,
    rps: f64,
    meets_tpot: Option<bool>,
}

fn throughput(s: &Served, w: &Workload, encoder: bool, max_sequences: u64) -> Throughput {
    if encoder {
        let per_seq = s.encoder_flops(w.input_tokens);
        let eps = s.peak * s.a.encoder_efficiency / per_seq;
        let latency =
            (per_seq / (s.peak * s.a.encoder_efficiency)).max(s.weight_read_seconds(1, 1));
        return Throughput {
            batch: max_sequences.min(s.a.max_batch).max(1),
            ttft: latency,
            tpot: None,
            decode_tps: None,
            output_tps: None,
            eps: Some(eps),
            rps: eps,
            meets_tpot: None,
        };
    }
    let ctx = w.input_tokens as f64 + w.output_tokens as f64 / 2.0;
    let b_max = max_sequences.min(s.a.max_batch).max(1);
    let (batch, meets) = match w.max_tpot {
        None => (b_max, None),
        Some(t) => {
            // step time grows with the batch: the largest batch under the target.
            let mut best = None;
            let (mut lo, mut hi) = (1u64, b_max);
            while lo <= hi {
                let mid = lo + (hi - lo) / 2;
                if s.step_seconds(mid, ctx) <= t {
                    best = Some(mid);
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            match best {
                Some(b) => (b, Some(true)),
                None => (1, Some(false)),
            }
        }
    };
    let step = s.step_seconds(batch, ctx);
    let ttft = s.prefill_seconds(w.input_tokens);
    let per_request = ttft + w.output_tokens as f64 * step / batch as f64;
    let rps = 1.0 / per_request;
    Throughput {
        batch,
        ttft,
        tpot: Some(step),
        decode_tps: Some(batch as f64 / step),
        output_tps: Some(rps * w.output_tokens as f64),
        eps: None,
        rps,
        meets_tpot: meets,
    }
}

/// The model being served: its profile, inventory and the size of one LoRA adapter.
pub struct ServedModel<'a> {
    /// The model's profile.
    pub profile: &'a ModelProfile,
    /// The parameter inventory of the model as loaded for serving.
    pub inv: Inventory,
    /// Parameters of one adapter (the default LoRA), 0 when no adapters are served.
    pub adapter_params: u64,
}

impl<'a> ServedModel<'a> {
    /// `profile` loaded for serving, with `adapters` LoRA adapters on it.
    pub fn new(profile: &'a ModelProfile, adapters: u64) -> Result<Self> {
        let inv = Inventory::build(profile, task_for(profile), 2)?;
        let adapter_params = if adapters > 0 {
            lora_params(profile, &inv)?
        } else {
            0
        };
        Ok(ServedModel {
            profile,
            inv,
            adapter_params,
        })
    }
}

/// Everything about serving `model` on `hw` in `precision`.
pub fn fit_target(
    model: &ServedModel,
    hw: &HardwareProfile,
    quotes: &[Quote],
    precision: Precision,
    req: &Request,
    a: &Assumptions,
) -> TargetResult {
    let (profile, inv, adapter_params) = (model.profile, &model.inv, model.adapter_params);
    let w = &req.workload;
    let encoder = profile.family.is_encoder();
    // A quantized checkpoint served as it ships keeps its own format on a GPU.
    let as_shipped =
        super::checkpoint_precision(profile).0 == precision && hw.kind == HardwareKind::Gpu;
    let format = WeightFormat::checkpoint(profile, a)
        .filter(|_| as_shipped)
        .unwrap_or_else(|| WeightFormat::for_target(precision, req.int4_format, hw.kind, a));
    let adapter_bytes = adapter_params as f64 * 2.0;
    let mut notes: Vec<String> = format.note.iter().cloned().collect();
    let mut r = TargetResult {
        hardware: hw.id.clone(),
        hardware_name: hw.name.clone(),
        kind: match hw.kind {
            HardwareKind::Gpu => "gpu".into(),
            HardwareKind::Cpu => "cpu".into(),
        },
        precision,
        weights_format: format.name.clone(),
        bits_per_weight: format.average_bits(inv),
        linear_bits_per_weight: format.linear_bits,
        weights_bytes: format.weight_bytes(inv),
        adapters_bytes: req.adapters as f64 * adapter_bytes,
        overhead_bytes: 0.0,
        usable_memory_bytes: hw.memory_bytes() * a.usable_memory_fraction,
        kv_bytes_per_token: if encoder {
            0.0
        } else {
            profile.kv_bytes_per_token(a.kv_bytes_per_value)
        },
        kv_bytes_per_sequence: if encoder {
            0.0
        } else {
            profile.kv_bytes(w.context as f64, a.kv_bytes_per_value)
        },
        fits: false,
        max_sequences: 0,
        batch: 0,
        ttft_seconds: None,
        tpot_seconds: None,
        decode_tokens_per_second: None,
        output_tokens_per_second: None,
        embeddings_per_second: None,
        requests_per_second: None,
        instances: 0,
        utilisation: None,
        meets_ttft: None,
        meets_tpot: None,
        meets_targets: false,
        offer: None,
        monthly_cost: None,
        cost_per_million: None,
        cost_unit: if encoder {
            "embeddings".into()
        } else {
            "output tokens".into()
        },
        adapters: None,
        notes: Vec::new(),
    };
    if precision == Precision::Bf16 && hw.kind == HardwareKind::Gpu && hw.peak_tflops.bf16.is_none()
    {
        notes.push(format!("{} has no bf16: served in fp16 (same size)", hw.id));
    }
    let Some(s) = served(
        profile,
        inv,
        hw,
        format,
        precision,
        req.adapters,
        adapter_bytes,
        a,
    ) else {
        notes.push(format!(
            "{}: no memory bandwidth or peak figure in its profile; cannot model serving",
            hw.id
        ));
        r.notes = notes;
        return r;
    };
    let cap = capacity(&s, w.context, encoder);
    r.overhead_bytes = cap.overhead;
    r.usable_memory_bytes = cap.usable;
    r.max_sequences = cap.max_sequences;
    r.fits = cap.max_sequences >= 1;
    if !r.fits {
        let need = s.weight_bytes + cap.overhead + r.adapters_bytes + r.kv_bytes_per_sequence;
        notes.push(format!(
            "needs {:.1} GiB (weights + overhead + one sequence of {} tokens), {:.1} GiB usable",
            need / GIB,
            w.context,
            cap.usable / GIB
        ));
        r.notes = notes;
        return r;
    }
    let t = throughput(&s, w, encoder, cap.max_sequences);
    r.batch = t.batch;
    r.ttft_seconds = Some(t.ttft);
    r.tpot_seconds = t.tpot;
    r.decode_tokens_per_second = t.decode_tps;
    r.output_tokens_per_second = t.output_tps;
    r.embeddings_per_second = t.eps;
    r.requests_per_second = Some(t.rps);
    r.meets_tpot = t.meets_tpot;
    r.meets_ttft = w.max_ttft.map(|m| t.ttft <= m);
    if t.meets_tpot == Some(false) {
        notes.push("misses --max-tpot even at batch 1".into());
    }
    if r.meets_ttft == Some(false) {
        notes.push("misses --max-ttft (prefill alone is slower)".into());
    }
    r.meets_targets = r.meets_ttft != Some(false) && r.meets_tpot != Some(false);
    r.instances = instances_for(w.qps, t.rps);
    r.utilisation = Some(w.qps / (r.instances as f64 * t.rps));
    r.offer = cheapest(quotes, &hw.id, r.instances, a);
    r.monthly_cost = r.offer.as_ref().map(|o| o.monthly_cost);
    let units_per_month = if encoder {
        w.qps
    } else {
        w.qps * w.output_tokens as f64
    } * 3600.0
        * a.hours_per_month;
    r.cost_per_million = r.monthly_cost.map(|c| c / units_per_month * 1e6);
    if r.offer.is_none() {
        notes.push(format!("no offer for {} in the pricing tables", hw.id));
    }

    if req.adapters > 0 {
        r.adapters = Some(adapter_summary(model, hw, quotes, precision, req, &r, a));
    }
    r.notes = notes;
    r
}

fn adapter_summary(
    model: &ServedModel,
    hw: &HardwareProfile,
    quotes: &[Quote],
    precision: Precision,
    req: &Request,
    shared: &TargetResult,
    a: &Assumptions,
) -> AdapterSummary {
    let adapter_params = model.adapter_params;
    let n = req.adapters;
    let mut merged_req = *req;
    merged_req.adapters = 0;
    merged_req.workload.qps = req.workload.qps / n as f64;
    let single = ServedModel {
        profile: model.profile,
        inv: model.inv.clone(),
        adapter_params: 0,
    };
    let merged = fit_target(&single, hw, quotes, precision, &merged_req, a);
    let merged_instances = if merged.fits { merged.instances * n } else { 0 };
    let merged_cost = if merged.fits {
        cheapest(quotes, &hw.id, merged_instances, a).map(|o| o.monthly_cost)
    } else {
        None
    };
    let saving = match (merged_cost, shared.monthly_cost) {
        (Some(m), Some(s)) => Some(m - s),
        _ => None,
    };
    AdapterSummary {
        adapters: n,
        adapter_bytes: adapter_params as f64 * 2.0,
        adapter_trainable_params: adapter_params,
        compute_overhead: a.lora_unmerged_overhead,
        shared_memory_bytes: shared.weights_bytes + shared.adapters_bytes,
        merged_memory_bytes: shared.weights_bytes * n as f64,
        shared_instances: shared.instances,
        merged_instances,
        shared_monthly_cost: shared.monthly_cost,
        merged_monthly_cost: merged_cost,
        saving,
        saving_fraction: match (saving, merged_cost) {
            (Some(s), Some(m)) if m > 0.0 => Some(s / m),
            _ => None,
        },
        merged_fits: merged.fits,
    }
}

fn sort_cheapest_first(v: &mut [TargetResult]) {
    v.sort_by(|x, y| {
        let key = |t: &TargetResult| (!t.meets_targets, !t.fits, t.monthly_cost.is_none());
        key(x)
            .cmp(&key(y))
            .then_with(|| {
                x.monthly_cost
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&y.monthly_cost.unwrap_or(f64::INFINITY))
            })
            .then_with(|| {
                y.output_tokens_per_second
                    .or(y.embeddings_per_second)
                    .unwrap_or(0.0)
                    .total_cmp(
                        &x.output_tokens_per_second
                            .or(x.embeddings_per_second)
                            .unwrap_or(0.0),
                    )
            })
    });
}

/// Serve `profile` on each of `targets` at the requested precision; `catalog` (every known
/// hardware) is only read to suggest what would fit when nothing does.
pub fn deploy(
    profile: &ModelProfile,
    targets: &[HardwareProfile],
    catalog: &[HardwareProfile],
    quotes: &[Quote],
    req: &Request,
    currency: &str,
    a: &Assumptions,
) -> Result<Deployment> {
    let encoder = profile.family.is_encoder();
    req.workload.validate(encoder)?;
    crate::core::estimate::bounded("adapters", req.adapters, 0, super::MAX_ADAPTERS)?;
    let model = ServedModel::new(profile, req.adapters)?;
    let mut results: Vec<TargetResult> = targets
        .iter()
        .map(|hw| match hw.kind {
            HardwareKind::Cpu if !req.precision_given => cpu_default(&model, hw, quotes, req, a),
            _ => Ok(fit_target(&model, hw, quotes, req.precision, req, a)),
        })
        .collect::<Result<_>>()?;
    sort_cheapest_first(&mut results);

    let mut notes = Vec::new();
    if !encoder {
        let per_token = profile.kv_bytes_per_token(a.kv_bytes_per_value) / 1024.0;
        notes.push(match profile.mla {
            Some(m) => format!(
                "KV cache {per_token:.0} KiB per token in fp16 ({} layers x ({} latent + {} rotary key) x 2 bytes: latent attention caches the compressed latent)",
                profile.num_layers, m.kv_lora_rank, m.qk_rope_head_dim
            ),
            None => format!(
                "KV cache {per_token:.0} KiB per token in fp16 ({} layers x {} KV heads x {} head dim x 2 (K and V) x 2 bytes)",
                profile.num_layers, profile.num_kv_heads, profile.head_dim
            ),
        });
        if profile.sliding_layers > 0 {
            notes.push(format!(
                "{} of {} layers attend through a {}-token sliding window and cache at most that many tokens",
                profile.sliding_layers, profile.num_layers, profile.sliding_window
            ));
        }
    } else {
        notes.push("encoder: throughput is embeddings (sequences of --input-tokens) per second; cost per million embeddings".into());
    }
    if req.precision == Precision::Int4 {
        notes.push(format!(
            "int4 {}: {} bits/weight for GPTQ/AWQ group-128 (4 bits + fp16 scale and zero per 128), {} for GGUF Q4_K_M",
            req.int4_format.as_str(),
            super::INT4_GROUP128_BITS,
            super::GGUF_Q4KM_BITS
        ));
    }
    if matches!(req.precision, Precision::Int8 | Precision::Int4) {
        notes.push(
            "GPU int8/int4: embeddings, LM head and norms stay 16-bit (as GPTQ/AWQ checkpoints)"
                .into(),
        );
    }
    if targets.iter().any(|h| h.kind == HardwareKind::Cpu) {
        notes.push("CPU targets: llama.cpp-style GGUF weights (F16 / Q8_0 / Q4_K_M), bandwidth-bound decode".into());
    }
    notes.push(
        "TTFT is prefill of one request; TPOT is the decode step at the chosen batch (full load)"
            .into(),
    );
    notes.extend(a.describe());

    let mut suggestions = Vec::new();
    if !results.iter().any(|t| t.fits) {
        for p in Precision::BEST_FIRST {
            if p == req.precision || (req.precision == Precision::Fp16 && p == Precision::Bf16) {
                continue;
            }
            let fits: Vec<String> = targets
                .iter()
                .filter(|hw| fit_target(&model, hw, quotes, p, req, a).fits)
                .map(|hw| hw.id.clone())
                .collect();
            if !fits.is_empty() {
                suggestions.push(DeploySuggestion::Precision {
                    precision: p,
                    hardware: fits,
                });
            }
        }
        let others: Vec<String> = catalog
            .iter()
            .filter(|hw| !targets.iter().any(|t| t.id == hw.id))
            .filter(|hw| fit_target(&model, hw, quotes, req.precision, req, a).fits)
            .map(|hw| hw.id.clone())
            .collect();
        if !others.is_empty() {
            suggestions.push(DeploySuggestion::OtherHardware {
                precision: req.precision,
                hardware: others,
            });
        }
        if suggestions.is_empty() {
            suggestions.push(DeploySuggestion::ShorterContext {
                context: req.workload.context,
            });
        }
    }
    Ok(Deployment {
        model: profile.id.clone(),
        encoder,
        params: model.inv.total_params(),
        request: *req,
        currency: currency.to_string(),
        assumptions: a.clone(),
        targets: results,
        notes,
        suggestions,
    })
}

/// A CPU box serves GGUF Q4_K_M, as everyone does; F16 only when it meets a stated latency
/// target (it is 3-4x slower to decode, being bandwidth-bound on 3.3x the bytes). Then Q8_0 and
/// F16 when Q4_K_M does not fit; the F16 result when none does.
fn cpu_default(
    model: &ServedModel,
    hw: &HardwareProfile,
    quotes: &[Quote],
    req: &Request,
    a: &Assumptions,
) -> Result<TargetResult> {
    let targets = req.workload.max_ttft.is_some() || req.workload.max_tpot.is_some();
    if targets {
        let r = fit_target(model, hw, quotes, Precision::Bf16, req, a);
        if r.fits && r.meets_targets {
            return Ok(r);
        }
    }
    let mut last = None;
    for p in [Precision::Int4, Precision::Int8, Precision::Bf16] {
        let r = fit_target(model, hw, quotes, p, req, a);
        if r.fits {
            return Ok(r);
        }
        last = Some(r);
    }
    last.ok_or_else(|| crate::Error::Internal("no precision to try".into()))
}

/// The highest precision (bf16/fp16, then int8, then int4) that fits `hw`; the int4 result when
/// none does. CPUs: [`cpu_default`].
pub fn best_fit(
    profile: &ModelProfile,
    hw: &HardwareProfile,
    quotes: &[Quote],
    req: &Request,
    a: &Assumptions,
) -> Result<TargetResult> {
    let model = ServedModel::new(profile, req.adapters)?;
    if hw.kind == HardwareKind::Cpu {
        return cpu_default(&model, hw, quotes, req, a);
    }
    let mut last = None;
    for p in Precision::BEST_FIRST {
        let p = if p == Precision::Bf16
            && hw.kind == HardwareKind::Gpu
            && hw.peak_tflops.bf16.is_none()
        {
            Precision::Fp16
        } else {
            p
        };
        let r = fit_target(&model, hw, quotes, p, req, a);
        if r.fits {
            return Ok(r);
        }
        last = Some(r);
    }
    last.ok_or_else(|| crate::Error::Internal("no precision to try".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalogs::Catalogs;
    use crate::core::deploy::Int4Format;

    /// Qwen3-30B-A3B in bf16 on an A100 80GB: every weight is 2 bytes.
    #[test]
    fn a_decode_step_reads_the_experts_its_tokens_are_routed_to() {
        let c = Catalogs::embedded();
        let p = c.models().unwrap().get("qwen3-30b-a3b").unwrap().clone();
        let inv = Inventory::build(&p, Task::CausalLm, 2).unwrap();
        let hw = c.hardware().unwrap().get("a100-80g").unwrap().clone();
        let a = Assumptions::default();
        let format = WeightFormat::for_target(Precision::Bf16, Int4Format::default(), hw.kind, &a);
        let s = served(&p, &inv, &hw, format, Precision::Bf16, 0, 0.0, &a).unwrap();
        // Experts: 48 blocks x 128 x (2048 x 1536 + 768 x 2048) = 28,991,029,248 weights, 2 B each.
        assert_eq!(s.expert_bytes, 28_991_029_248.0 * 2.0);
        assert_eq!(s.weight_bytes, 30_532_122_624.0 * 2.0);
        let dense = s.weight_bytes - s.expert_bytes;
        // One token goes through 8 of 128 experts: 1/16 of the expert bytes.
        assert!((s.weights_read(1) - (dense + s.expert_bytes / 16.0)).abs() < 1.0);
        // Two tokens: 1 - (15/16)^2 = 31/256 of them, uniform routing.
        let two = dense + s.expert_bytes * 31.0 / 256.0;
        assert!((s.weights_read(2) - two).abs() < 1.0);
        // A 4096-token prefill touches them all.
        assert!((s.weights_read(4096) - s.weight_bytes).abs() < 1.0);
        // A dense model reads its weights whole at any batch.
        let q = c.models().unwrap().get("qwen3-8b").unwrap().clone();
        let qi = Inventory::build(&q, Task::CausalLm, 2).unwrap();
        let format = WeightFormat::for_target(Precision::Bf16, Int4Format::default(), hw.kind, &a);
        let d = served(&q, &qi, &hw, format, Precision::Bf16, 0, 0.0, &a).unwrap();
        assert_eq!(d.weights_read(1), d.weight_bytes);
    }
}
