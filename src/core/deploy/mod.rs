//! Serving: does a model fit a device at a precision, how fast does it decode, how many instances
//! a workload needs and what they cost per month (design §7).
//!
//! Pure functions of (model profile, hardware profile, offers already converted to the display
//! currency, workload): no I/O, no clock. Every efficiency is a named constant in [`Assumptions`]
//! and is printed with the result.

mod calibrate;
mod serve;
pub mod validate;

pub use calibrate::{calibrate_serving, ServingFit, ServingMeasurement};
pub use serve::{
    best_fit, deploy, fit_target, AdapterSummary, DeploySuggestion, Deployment, OfferChoice,
    ServedModel, TargetCsvRow, TargetResult,
};

use serde::Serialize;

use crate::core::arch::{Inventory, ModelProfile};
use crate::core::error::{Error, Result};
use crate::core::hardware::{HardwareKind, HardwareProfile};

pub use crate::core::units::HOURS_PER_MONTH;
/// GPTQ / AWQ int4 with group size 128: 4 bits + an fp16 scale and a zero point (16 + 16 bits
/// shared by 128 weights) = 4.25 bits per weight.
pub const INT4_GROUP128_BITS: f64 = 4.25;
/// GPTQ-style int8 with group size 128: 8 + 32/128 = 8.25 bits per weight.
pub const INT8_GROUP128_BITS: f64 = 8.25;
/// llama.cpp Q4_K_M: file-average ≈ 4.85 bits per weight (Q4_K blocks with Q6_K for some tensors).
pub const GGUF_Q4KM_BITS: f64 = 4.85;
/// llama.cpp Q8_0: 32 int8 weights + one fp16 scale = 8.5 bits per weight.
pub const GGUF_Q8_0_BITS: f64 = 8.5;
/// llama.cpp Q4_0: 32 4-bit weights + one fp16 scale = 4.5 bits per weight (validation only).
pub const GGUF_Q4_0_BITS: f64 = 4.5;

crate::core::units::named!(
    Precision,
    [
        Precision::Bf16,
        Precision::Fp16,
        Precision::Int8,
        Precision::Int4
    ]
);

/// The precision the weights are served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 16-bit floating point (IEEE half).
    Fp16,
    /// 16-bit bfloat.
    Bf16,
    /// 8-bit integer weights.
    Int8,
    /// 4-bit integer weights (see [`Int4Format`]).
    Int4,
}

impl Precision {
    /// The lowercase name, e.g. `bf16`.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
        }
    }

    /// Highest first: the order `best_fit` tries.
    pub const BEST_FIRST: [Precision; 3] = [Precision::Bf16, Precision::Int8, Precision::Int4];
}

/// How int4 weights are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Int4Format {
    /// GPTQ (the default).
    #[default]
    Gptq,
    /// AWQ.
    Awq,
    /// GGUF Q4_K_M (llama.cpp).
    GgufQ4km,
}

impl Int4Format {
    /// The kebab-case name, e.g. `gguf-q4km`.
    pub fn as_str(self) -> &'static str {
        match self {
            Int4Format::Gptq => "gptq",
            Int4Format::Awq => "awq",
            Int4Format::GgufQ4km => "gguf-q4km",
        }
    }
}

/// The named defaults of the serving model. Every one is printed with the result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumptions {
    /// CUDA context, allocator slack and activation workspace of a GPU serving process (GiB).
    pub gpu_runtime_overhead_gib: f64,
    /// Operating system and process of a CPU server (GiB).
    pub cpu_runtime_overhead_gib: f64,
    /// Fraction of device memory the server may use (vLLM's default gpu_memory_utilization is 0.9).
    pub usable_memory_fraction: f64,
    /// Fraction of dense peak reached by prefill (compute-bound). TensorRT-LLM's LLaMA-7B
    /// first-token latency at input 2048 on A100 (measurements.md §2.6) implies ≈ 0.65.
    pub prefill_efficiency: f64,
    /// Fraction of dense peak reached by the matmuls of a decode step at large batch.
    pub decode_compute_efficiency: f64,
    /// Fraction of dense peak an encoder (BGE) server reaches. Taken from the one sourced row,
    /// infinity/TEI on an L4 (measurements.md §2.11), so that row is not independent evidence.
    pub encoder_efficiency: f64,
    /// Fraction of the achievable bandwidth that int8 weight-only kernels reach (dequantisation).
    /// Fitted to vLLM Qwen2.5-7B GPTQ-Int8 on A100 (measurements.md §2.2).
    pub int8_kernel_factor: f64,
    /// Same for int4 (GPTQ/AWQ/GGUF). Fitted to vLLM Qwen2.5-7B GPTQ-Int4 on A100 (§2.2); it also
    /// matches chatglm.cpp Q4_0 on CPU and V100 (§2.4), which were not used to fit it.
    pub int4_kernel_factor: f64,
    /// Extra per-token compute of serving LoRA unmerged (the B·A path next to each target), as a
    /// fraction of the base model's matmul FLOPs. S-LoRA / Punica report low double-digit
    /// percent overheads at moderate batch; 0.10 is a round default.
    pub lora_unmerged_overhead: f64,
    /// Largest batch a server schedules at once (vLLM's default max_num_seqs is 256).
    pub max_batch: u64,
    /// Bytes per KV-cache value (fp16).
    pub kv_bytes_per_value: f64,
    /// Hours billed per month.
    pub hours_per_month: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            gpu_runtime_overhead_gib: 1.0,
            cpu_runtime_overhead_gib: 2.0,
            usable_memory_fraction: 0.9,
            prefill_efficiency: 0.6,
            decode_compute_efficiency: 0.6,
            encoder_efficiency: 0.35,
            int8_kernel_factor: 0.75,
            int4_kernel_factor: 0.6,
            lora_unmerged_overhead: 0.10,
            max_batch: 256,
            kv_bytes_per_value: 2.0,
            hours_per_month: HOURS_PER_MONTH,
        }
    }
}

impl Assumptions {
    /// One line per assumption, for the notes under a table.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!(
                "runtime overhead {} GiB per GPU ({} GiB per CPU server); usable memory {:.0}%",
                self.gpu_runtime_overhead_gib,
                self.cpu_runtime_overhead_gib,
                self.usable_memory_fraction * 100.0
            ),
            format!(
                "decode: bytes read per step / (bandwidth x hardware decode_bandwidth_efficiency x kernel factor: int8 {}, int4 {}), or 2·N·batch / (peak x {}) if larger",
                self.int8_kernel_factor, self.int4_kernel_factor, self.decode_compute_efficiency
            ),
            format!(
                "prefill: 2·N·input tokens / (peak x {}); encoders: FLOPs per sequence / (peak x {})",
                self.prefill_efficiency, self.encoder_efficiency
            ),
            format!(
                "batch <= {} sequences; KV cache {} bytes per value; {} h per month; queueing delay not modelled",
                self.max_batch, self.kv_bytes_per_value, self.hours_per_month
            ),
        ]
    }
}

/// How the weights are stored on one target: bits per weight for the block Linears and for the
/// rest (embeddings, head, norms).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightFormat {
    /// Display name of the format.
    pub name: String,
    /// Bits per weight of the block Linears.
    pub linear_bits: f64,
    /// Bits per weight of the other tensors (embeddings, head, norms).
    pub other_bits: f64,
    /// Multiplies the achievable bandwidth while reading these weights.
    pub kernel_factor: f64,
    /// Whether the compute runs in fp16/bf16 (true) or the device's fp32 (CPU).
    pub note: Option<String>,
}

impl WeightFormat {
    /// The format a precision takes on a device: GPUs run HF-style checkpoints (embeddings and
    /// head stay 16-bit); CPUs run llama.cpp-style GGUF files (every tensor quantized).
    pub fn for_target(p: Precision, f4: Int4Format, kind: HardwareKind, a: &Assumptions) -> Self {
        let w = |name: &str, lb: f64, ob: f64, kf: f64, note: Option<&str>| WeightFormat {
            name: name.to_string(),
            linear_bits: lb,
            other_bits: ob,
            kernel_factor: kf,
            note: note.map(str::to_string),
        };
        match (kind, p) {
            (HardwareKind::Cpu, Precision::Fp16 | Precision::Bf16) => {
                w("GGUF F16", 16.0, 16.0, 1.0, None)
            }
            (HardwareKind::Cpu, Precision::Int8) => w(
                "GGUF Q8_0",
                GGUF_Q8_0_BITS,
                GGUF_Q8_0_BITS,
                a.int8_kernel_factor,
                Some("CPU: llama.cpp-style Q8_0, every tensor quantized"),
            ),
            (HardwareKind::Cpu, Precision::Int4) => w(
                "GGUF Q4_K_M",
                GGUF_Q4KM_BITS,
                GGUF_Q4KM_BITS,
                a.int4_kernel_factor,
                Some("CPU: llama.cpp-style Q4_K_M, every tensor quantized (the --int4-format is a GPU choice)"),
            ),
            (HardwareKind::Gpu, Precision::Fp16) => w("fp16", 16.0, 16.0, 1.0, None),
            (HardwareKind::Gpu, Precision::Bf16) => w("bf16", 16.0, 16.0, 1.0, None),
            (HardwareKind::Gpu, Precision::Int8) => w(
                "int8 (GPTQ-style, group 128)",
                INT8_GROUP128_BITS,
                16.0,
                a.int8_kernel_factor,
                Some("int8: block Linears quantized; embeddings, LM head and norms stay 16-bit"),
            ),
            (HardwareKind::Gpu, Precision::Int4) => match f4 {
                Int4Format::Gptq => w(
                    "int4 GPTQ (group 128)",
                    INT4_GROUP128_BITS,
                    16.0,
                    a.int4_kernel_factor,
                    Some("int4: block Linears quantized; embeddings, LM head and norms stay 16-bit"),
                ),
                Int4Format::Awq => w(
                    "int4 AWQ (group 128)",
                    INT4_GROUP128_BITS,
                    16.0,
                    a.int4_kernel_factor,
                    Some("int4: block Linears quantized; embeddings, LM head and norms stay 16-bit"),
                ),
                Int4Format::GgufQ4km => w(
                    "GGUF Q4_K_M",
                    GGUF_Q4KM_BITS,
                    GGUF_Q4KM_BITS,
                    a.int4_kernel_factor,
                    Some("GGUF Q4_K_M: every tensor quantized"),
                ),
            },
        }
    }

    /// The format of a quantized checkpoint as it ships (`quantization_config`), served on a
    /// GPU: its block Linears at the checkpoint's bits, the rest 16-bit; `None` for a 16-bit
    /// checkpoint.
    pub fn checkpoint(profile: &ModelProfile, a: &Assumptions) -> Option<Self> {
        let q = profile.quantization.as_ref()?;
        let (precision, _) = checkpoint_precision(profile);
        let kernel_factor = match precision {
            Precision::Int4 => a.int4_kernel_factor,
            Precision::Int8 => a.int8_kernel_factor,
            Precision::Fp16 | Precision::Bf16 => 1.0,
        };
        Some(WeightFormat {
            name: format!("{} {}-bit (checkpoint)", q.method, q.bits),
            linear_bits: q.bits_per_weight(),
            other_bits: 16.0,
            kernel_factor,
            note: Some(format!(
                "the checkpoint ships {} {}-bit (quantization_config): block Linears at {:.3} bits per weight, embeddings, head and norms 16-bit",
                q.method,
                q.bits,
                q.bits_per_weight()
            )),
        })
    }

    /// A format with the same bits for every tensor (llama.cpp / chatglm.cpp files).
    pub fn uniform(name: &str, bits: f64, kernel_factor: f64) -> Self {
        WeightFormat {
            name: name.to_string(),
            linear_bits: bits,
            other_bits: bits,
            kernel_factor,
            note: None,
        }
    }

    /// Average bits per weight over a model.
    pub fn average_bits(&self, inv: &Inventory) -> f64 {
        let lin = inv.block_stored_matmul() as f64;
        let total = inv.total_params() as f64;
        if total <= 0.0 {
            return self.other_bits;
        }
        (lin * self.linear_bits + (total - lin) * self.other_bits) / total
    }

    /// Bytes of the fused experts of a model in this format (0 for a dense model).
    pub fn expert_bytes(&self, inv: &Inventory) -> f64 {
        inv.expert_params() as f64 * self.linear_bits / 8.0
    }

    /// Bytes of the weights of a model in this format.
    pub fn weight_bytes(&self, inv: &Inventory) -> f64 {
        let lin = inv.block_stored_matmul() as f64;
        let total = inv.total_params() as f64;
        (lin * self.linear_bits + (total - lin).max(0.0) * self.other_bits) / 8.0
    }
}

/// The traffic to serve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Workload {
    /// Requests per second (all tasks together).
    pub qps: f64,
    /// Input (prompt) tokens per request.
    pub input_tokens: u64,
    /// Output (generated) tokens per request.
    pub output_tokens: u64,
    /// Maximum tokens per request the server reserves KV cache for.
    pub context: u64,
    /// Time to first token target (seconds).
    pub max_ttft: Option<f64>,
    /// Time per output token target (seconds).
    pub max_tpot: Option<f64>,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            qps: 1.0,
            input_tokens: 512,
            output_tokens: 256,
            context: 768,
            max_ttft: None,
            max_tpot: None,
        }
    }
}

impl Workload {
    /// Reject traffic no deployment has; errors name the field (`qps`, `context`, ...).
    pub fn validate(&self, encoder: bool) -> Result<()> {
        let invalid = |field, value: String, expected: &str| Error::Invalid {
            field,
            value,
            expected: expected.into(),
        };
        if !(self.qps.is_finite() && self.qps > 0.0) {
            return Err(invalid("qps", self.qps.to_string(), "greater than 0"));
        }
        // Less than a request a year is no service to cost per month (and divides the monthly
        // price by almost nothing per token).
        if self.qps < MIN_QPS {
            return Err(invalid(
                "qps",
                self.qps.to_string(),
                "at least one request a year (3.2e-8 requests/s)",
            ));
        }
        // A million requests per second is beyond any single deployment this models.
        if self.qps > 1e6 {
            return Err(Error::Absurd {
                field: "qps",
                value: self.qps.to_string(),
                max: "1,000,000 requests/s (86.4 billion per day)".into(),
            });
        }
        if self.input_tokens == 0 {
            return Err(invalid("input-tokens", "0".into(), "at least 1"));
        }
        for (field, v) in [
            ("input-tokens", self.input_tokens),
            ("output-tokens", self.output_tokens),
            ("context", self.context),
        ] {
            if v > 10_485_760 {
                return Err(Error::Absurd {
                    field,
                    value: v.to_string(),
                    max: "10,485,760 tokens".into(),
                });
            }
        }
        if !encoder && self.output_tokens == 0 {
            return Err(invalid("output-tokens", "0".into(), "at least 1"));
        }
        let needed = self.input_tokens + if encoder { 0 } else { self.output_tokens };
        if self.context < needed {
            return Err(invalid(
                "context",
                self.context.to_string(),
                &format!("at least input + output tokens = {needed}"),
            ));
        }
        for (field, v) in [("max-ttft", self.max_ttft), ("max-tpot", self.max_tpot)] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(invalid(
                    field,
                    v.to_string(),
                    "a positive number of seconds",
                ));
            }
            if let Some(v) = v.filter(|v| *v > 86_400.0) {
                return Err(Error::Absurd {
                    field,
                    value: v.to_string(),
                    max: "86,400 seconds (a day)".into(),
                });
            }
        }
        Ok(())
    }
}

/// The least traffic a deployment is costed for: one request a year, in requests/s.
pub const MIN_QPS: f64 = 1.0 / (365.0 * 86_400.0);

/// The most LoRA adapters one base serves (S-LoRA's experiments stop at a few thousand).
pub const MAX_ADAPTERS: u64 = 1_000_000;

/// One purchasable offer, prices already in the display currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// Cloud provider.
    pub provider: String,
    /// Instance (machine type) name.
    pub instance: String,
    /// Region of the price.
    pub region: String,
    /// Hardware profile id.
    pub hardware: String,
    /// Devices per machine: each runs one replica.
    pub gpus: u64,
    /// Price of one machine per hour, in `currency`.
    pub hourly: f64,
    /// Price of one machine per month, in `currency`, where the provider sells monthly.
    pub monthly: Option<f64>,
    /// Display currency code of the prices.
    pub currency: String,
}

impl Quote {
    /// Price of one machine for a month of long-term serving and the billing it uses: the
    /// cheaper of pay-as-you-go for every hour and the subscription (包年包月) where sold.
    pub fn month_price(&self, hours_per_month: f64) -> (f64, &'static str) {
        let payg = self.hourly * hours_per_month;
        match self.monthly {
            Some(m) if m.is_finite() && m >= 0.0 && m <= payg => (m, "monthly"),
            _ => (payg, "on-demand"),
        }
    }
}

/// The precision a checkpoint is served in when none is asked for: its quantization (4 bits or
/// fewer as int4 in its own format, 5 to 8 bits as int8), else bf16.
pub fn checkpoint_precision(profile: &ModelProfile) -> (Precision, Int4Format) {
    match &profile.quantization {
        Some(q) if q.bits <= 4 => (
            Precision::Int4,
            if q.method == "awq" {
                Int4Format::Awq
            } else {
                Int4Format::Gptq
            },
        ),
        Some(q) if q.bits <= 8 => (Precision::Int8, Int4Format::Gptq),
        _ => (Precision::Bf16, Int4Format::Gptq),
    }
}

/// What the request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Request {
    /// Precision the weights are served in.
    pub precision: Precision,
    /// Whether the precision was asked for; when not, a CPU target serves what CPU servers run
    /// (GGUF Q4_K_M, or F16 when it meets a stated latency target: [`serve::best_fit`]).
    pub precision_given: bool,
    /// Storage format used for int4 weights.
    pub int4_format: Int4Format,
    /// The traffic to serve.
    pub workload: Workload,
    /// LoRA tasks served on one base (0: none).
    pub adapters: u64,
}

/// Every offer as a serving quote in `currency`, optionally only of some providers.
pub fn quotes(
    pricing: &crate::core::pricing::PricingCatalog,
    providers: &[String],
    currency: &str,
) -> Result<(Vec<Quote>, String)> {
    let cur = pricing.fx.known(currency)?;
    let wanted: Vec<String> = providers
        .iter()
        .flat_map(|p| p.split(','))
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    for w in &wanted {
        pricing.table(w)?;
    }
    let mut out = Vec::new();
    for (t, o) in pricing.offers() {
        if !wanted.is_empty() && !wanted.contains(&t.provider.to_ascii_lowercase()) {
            continue;
        }
        out.push(Quote {
            provider: t.provider.clone(),
            instance: o.instance.clone(),
            region: o.region.clone(),
            hardware: o.hardware.clone(),
            gpus: o.gpus.max(1),
            hourly: pricing.fx.convert(o.on_demand, &t.currency, &cur)?,
            monthly: match o.monthly {
                Some(m) => Some(pricing.fx.convert(m, &t.currency, &cur)?),
                None => None,
            },
            currency: cur.clone(),
        });
    }
    Ok((out, cur))
}

/// One row of the deployment table: a model on a target at the best precision that fits.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableRow {
    /// Model id.
    pub model: String,
    /// Hardware profile id.
    pub hardware: String,
    /// Whether the model fits at any precision.
    pub fits: bool,
    /// Best precision that fits, if any.
    pub precision: Option<String>,
    /// Weight format at that precision.
    pub weights_format: Option<String>,
    /// Average bits per weight at that precision.
    pub bits_per_weight: Option<f64>,
    /// Output tokens per second of one instance (decoders).
    pub tokens_per_second: Option<f64>,
    /// Sequences embedded per second by one instance (encoders).
    pub embeddings_per_second: Option<f64>,
    /// Instances needed for the traffic.
    pub instances: u64,
    /// Monthly cost of the cheapest offer, in `currency`.
    pub monthly_cost: Option<f64>,
    /// Display currency code.
    pub currency: String,
    /// Provider of the cheapest offer.
    pub provider: Option<String>,
    /// Instance name of the cheapest offer.
    pub instance: Option<String>,
    /// Requests per second one instance sustains at the latency targets.
    pub requests_per_second: Option<f64>,
    /// Time to first token, seconds (decoders).
    pub ttft_seconds: Option<f64>,
    /// Time per output token, seconds (decoders).
    pub tpot_seconds: Option<f64>,
    /// Whether it fits and meets the latency targets.
    pub meets_targets: bool,
    /// Pay-as-you-go for every hour of the month, all machines, in `currency`.
    pub pay_as_you_go_monthly: Option<f64>,
    /// Subscription (包年包月) for all machines, where the table sells one, in `currency`.
    pub subscription_monthly: Option<f64>,
    /// Which of the two `monthly_cost` is: `on-demand` or `monthly`.
    pub billing: Option<String>,
    /// Why the model does not fit, or has no offer, on this target.
    pub notes: Vec<String>,
}

/// The deployment table: every model x every target at the best precision that fits.
/// `request` builds a model's serving request (`ServeSpec::request`: encoders generate nothing).
pub fn table_rows(
    model_ids: &[&str],
    models: &crate::core::arch::ModelCatalog,
    targets: &[HardwareProfile],
    quotes: &[Quote],
    currency: &str,
    a: &Assumptions,
    request: impl Fn(&crate::core::arch::ModelProfile) -> Request,
) -> Result<Vec<TableRow>> {
    let mut rows = Vec::new();
    for id in model_ids {
        let profile = models.get(id)?;
        let req = request(profile);
        req.workload.validate(profile.family.is_encoder())?;
        crate::core::estimate::bounded("adapters", req.adapters, 0, MAX_ADAPTERS)?;
        for hw in targets {
            let t = best_fit(profile, hw, quotes, &req, a)?;
            rows.push(TableRow {
                model: profile.id.clone(),
                hardware: hw.id.clone(),
                fits: t.fits,
                precision: t.fits.then(|| t.precision.as_str().to_string()),
                weights_format: t.fits.then(|| t.weights_format.clone()),
                bits_per_weight: t.fits.then_some(t.bits_per_weight),
                tokens_per_second: t.output_tokens_per_second,
                embeddings_per_second: t.embeddings_per_second,
                instances: t.instances,
                monthly_cost: t.monthly_cost,
                currency: currency.to_string(),
                provider: t.offer.as_ref().map(|o| o.provider.clone()),
                instance: t.offer.as_ref().map(|o| o.instance.clone()),
                requests_per_second: t.requests_per_second,
                ttft_seconds: t.ttft_seconds,
                tpot_seconds: t.tpot_seconds,
                meets_targets: t.meets_targets,
                pay_as_you_go_monthly: t.offer.as_ref().map(|o| o.pay_as_you_go_monthly),
                subscription_monthly: t.offer.as_ref().and_then(|o| o.subscription_monthly),
                billing: t.offer.as_ref().map(|o| o.billing.clone()),
                notes: t.notes.clone(),
            });
        }
    }
    Ok(rows)
}
