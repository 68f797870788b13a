//! `peftcost bench`: what this device achieves, measured with candle-core in seconds.
//!
//! Three parts, each warmed up and repeated. The calibration takes the median repetition: the
//! best one swings with the machine's moment (a lucky run, a turbo burst), the median with its
//! steady state. Minima and maxima are reported beside it to show the spread, and each part
//! reads the CPU time other processes took meanwhile (`/proc/stat` less this process's own
//! `/proc/self/stat` time): above 15% of the CPUs the report says the part was contended.
//!
//! 1. matmul GFLOP/s at the model's real Linear shapes (`[m, in] x [in, out]`, m tokens scaled
//!    to fit the time budget) in f32, f16 and bf16 where the device runs them ([`matmul`]);
//! 2. memory bandwidth: an in-place copy and a sum of a large buffer ([`bandwidth`]);
//! 3. real training steps (forward, backward with candle's autograd, SGD update) of a reduced
//!    stack of the model's blocks with LoRA, an adapter, prompt tuning and full fine-tuning,
//!    against the analytic FLOPs of the same step ([`training`]).
//!
//! The results become a [`Calibration`] that `estimate`/`plan`/`deploy` use for this device.

pub mod bandwidth;
pub mod matmul;
pub mod peak;
pub mod training;

use std::collections::BTreeMap;
use std::str::FromStr;

use candle_core::Device;
use serde::Serialize;

pub use crate::core::hardware::{Calibration, CALIBRATION_FORMAT_VERSION};
pub use bandwidth::BandwidthResult;
pub use matmul::MatmulResult;
pub use training::{step_flops, Method, TrainDims};

use crate::core::arch::{Inventory, Layout, ModelProfile, Shape};
use crate::core::error::{Error, Result};

/// The message for `--device cuda:N` in a build without the `cuda` feature.
pub const NO_CUDA: &str = "built without the cuda feature: cargo build --release --features cuda";

/// Where the benchmark runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchDevice {
    Cpu,
    /// A CUDA device by ordinal (needs the `cuda` feature).
    Cuda(usize),
}

impl FromStr for BenchDevice {
    type Err = Error;

    /// `cpu`, `cuda` (= `cuda:0`) or `cuda:N`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        if t == "cpu" {
            return Ok(BenchDevice::Cpu);
        }
        if t == "cuda" {
            return Ok(BenchDevice::Cuda(0));
        }
        if let Some(n) = t.strip_prefix("cuda:") {
            if let Ok(n) = n.parse() {
                return Ok(BenchDevice::Cuda(n));
            }
        }
        Err(Error::Input(format!(
            "unknown device '{s}': use cpu or cuda:N"
        )))
    }
}

impl BenchDevice {
    /// `cpu` or `cuda`.
    pub fn kind(self) -> &'static str {
        match self {
            BenchDevice::Cpu => "cpu",
            BenchDevice::Cuda(_) => "cuda",
        }
    }

    /// Open the candle device. Without the `cuda` feature a CUDA device is an input error that
    /// says how to build with it.
    pub fn open(self) -> Result<Device> {
        match self {
            BenchDevice::Cpu => Ok(Device::Cpu),
            BenchDevice::Cuda(n) => open_cuda(n),
        }
    }
}

#[cfg(feature = "cuda")]
fn open_cuda(n: usize) -> Result<Device> {
    Device::new_cuda(n).map_err(|e| Error::Input(format!("cuda:{n}: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(_n: usize) -> Result<Device> {
    Err(Error::input(NO_CUDA))
}

/// Memory the OS can give without swapping (Linux `MemAvailable`), if known.
pub fn available_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The block dimensions of a model, from its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockDims {
    pub hidden: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub intermediate: u64,
    /// SwiGLU MLP (decoders) rather than a GELU MLP (BERT).
    pub gated: bool,
}

impl BlockDims {
    pub fn from_profile(p: &ModelProfile) -> Self {
        BlockDims {
            hidden: p.hidden_size,
            heads: p.num_heads,
            kv_heads: p.num_kv_heads,
            head_dim: p.head_dim,
            intermediate: p.intermediate_size,
            gated: p.family.layout() != Layout::Bert,
        }
    }

    /// The same block at about `target_hidden` width: heads scale with the width (head_dim
    /// stays), kv heads in proportion (at least 1, dividing the heads), the MLP in proportion.
    /// A block no wider than the target stays as it is.
    pub fn reduce(&self, target_hidden: u64) -> BlockDims {
        if self.hidden <= target_hidden || self.heads == 0 {
            return *self;
        }
        let ratio = target_hidden as f64 / self.hidden as f64;
        let heads = ((self.heads as f64 * ratio).round() as u64).max(1);
        let mut kv = ((self.kv_heads as f64 * ratio).round() as u64).clamp(1, heads);
        while !heads.is_multiple_of(kv) {
            kv -= 1;
        }
        let scale = heads as f64 / self.heads as f64;
        let round8 = |v: f64| ((v / 8.0).round() as u64).max(1) * 8;
        BlockDims {
            hidden: round8(self.hidden as f64 * scale),
            heads,
            kv_heads: kv,
            head_dim: self.head_dim,
            intermediate: round8(self.intermediate as f64 * scale),
            gated: self.gated,
        }
    }
}

/// How big and how often. The token counts are maxima: [`run_bench`] first times one f32 matmul
/// and scales the matmul and training tokens down (in steps of 32, to at least 64) so that each
/// part fits its time budget on slower devices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchSizes {
    /// Most tokens (m) of every matmul.
    pub matmul_tokens: u64,
    /// Untimed runs per shape and dtype (one probe run always warms the device up first).
    pub matmul_warmup: usize,
    pub matmul_reps: usize,
    /// Seconds all matmul runs together may take.
    pub matmul_budget_s: f64,
    pub bandwidth_bytes: u64,
    pub bandwidth_warmup: usize,
    pub bandwidth_reps: usize,
    /// Width the training block is reduced to.
    pub train_hidden: u64,
    pub train_layers: u64,
    /// Most tokens of a training step.
    pub train_tokens: u64,
    pub train_warmup: usize,
    pub train_reps: usize,
    /// Seconds all training steps together may take.
    pub train_budget_s: f64,
    pub lora_rank: u64,
    pub adapter_bottleneck: u64,
    pub prompt_tokens: u64,
}

impl BenchSizes {
    /// `--quick`: about 10 s on a 2-core CPU.
    pub fn quick() -> Self {
        BenchSizes {
            matmul_tokens: 256,
            matmul_warmup: 0,
            matmul_reps: 3,
            matmul_budget_s: 6.5,
            bandwidth_bytes: 128 << 20,
            bandwidth_warmup: 1,
            bandwidth_reps: 5,
            train_hidden: 1024,
            train_layers: 1,
            train_tokens: 256,
            train_warmup: 1,
            train_reps: 6,
            train_budget_s: 5.0,
            lora_rank: 16,
            adapter_bottleneck: 64,
            prompt_tokens: 20,
        }
    }

    /// A full run: about 45 s on a 2-core CPU.
    pub fn full() -> Self {
        BenchSizes {
            matmul_tokens: 512,
            matmul_warmup: 1,
            matmul_reps: 5,
            matmul_budget_s: 24.0,
            bandwidth_bytes: 256 << 20,
            bandwidth_reps: 7,
            train_layers: 2,
            train_tokens: 512,
            train_reps: 7,
            train_budget_s: 22.0,
            ..Self::quick()
        }
    }

    /// The sizes for a device: a GPU gets more tokens and runs so that it is not launch-bound.
    pub fn for_device(quick: bool, device: BenchDevice) -> Self {
        let s = if quick { Self::quick() } else { Self::full() };
        match device {
            BenchDevice::Cpu => s,
            BenchDevice::Cuda(_) => BenchSizes {
                matmul_tokens: s.matmul_tokens * 16,
                matmul_warmup: 2,
                matmul_reps: s.matmul_reps * 2,
                bandwidth_bytes: s.bandwidth_bytes * 8,
                bandwidth_reps: s.bandwidth_reps * 2,
                train_hidden: 2048,
                train_tokens: s.train_tokens * 4,
                train_warmup: 2,
                train_reps: s.train_reps * 2,
                ..s
            },
        }
    }
}

/// Throughput of `dtype` relative to f32 assumed when sizing the runs (measured on a Zen 3 CPU;
/// on a GPU half precision is at least as fast as f32).
fn assumed_speed(device: BenchDevice, dtype: candle_core::DType) -> f64 {
    match (device, dtype) {
        (BenchDevice::Cpu, candle_core::DType::F16) => 0.8,
        (BenchDevice::Cpu, candle_core::DType::BF16) => 0.55,
        _ => 1.0,
    }
}

/// Training GFLOP/s as a fraction of f32 matmul GFLOP/s assumed when sizing the steps.
const ASSUMED_TRAIN_EFFICIENCY: f64 = 0.5;

/// `max` scaled by `budget / predicted` (when over budget), in steps of 32, at least 64.
fn fit_tokens(max: u64, predicted_s: f64, budget_s: f64) -> u64 {
    // NaN (no estimate) keeps the maximum.
    if predicted_s.partial_cmp(&budget_s) != Some(std::cmp::Ordering::Greater) {
        return max;
    }
    let t = (max as f64 * budget_s / predicted_s / 32.0).floor() as u64 * 32;
    t.clamp(64.min(max), max)
}

/// What to measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchConfig {
    pub quick: bool,
    pub device: BenchDevice,
    /// Model id whose shapes these are.
    pub model: String,
    /// The model's distinct Linear shapes of one block as (module names, in, out).
    pub shapes: Vec<(String, u64, u64)>,
    pub block: BlockDims,
    pub sizes: BenchSizes,
}

impl BenchConfig {
    /// The shapes and block of `profile`, at the sizes for `quick` and `device`.
    pub fn from_profile(profile: &ModelProfile, quick: bool, device: BenchDevice) -> Result<Self> {
        let inv = Inventory::build(
            profile,
            crate::core::estimate::Scenario::default_task(profile),
            2,
        )?;
        let mut shapes: Vec<(String, u64, u64)> = Vec::new();
        for m in &inv.layer {
            if let Shape::Linear { inp, out, .. } = m.shape {
                match shapes.iter_mut().find(|s| s.1 == inp && s.2 == out) {
                    Some(s) => {
                        s.0.push(',');
                        s.0.push_str(&m.name);
                    }
                    None => shapes.push((m.name.clone(), inp, out)),
                }
            }
        }
        if shapes.is_empty() {
            return Err(Error::Input(format!(
                "model {} has no Linear layers to measure",
                profile.id
            )));
        }
        Ok(BenchConfig {
            quick,
            device,
            model: profile.id.clone(),
            shapes,
            block: BlockDims::from_profile(profile),
            sizes: BenchSizes::for_device(quick, device),
        })
    }

    /// Bytes of the largest matmul in f32 (weight, input and output at the most tokens), or of
    /// the bandwidth buffers (source and destination) if those are larger.
    pub fn peak_bytes(&self) -> u64 {
        let m = self.sizes.matmul_tokens as u128;
        let matmul = self
            .shapes
            .iter()
            .map(|(_, k, n)| {
                4 * ((*k as u128) * (*n as u128) + m * (*k as u128) + m * (*n as u128))
            })
            .max()
            .unwrap_or(0);
        matmul
            .max(2 * self.sizes.bandwidth_bytes as u128)
            .min(u64::MAX as u128) as u64
    }

    /// The reduced stack the training steps run, at `tokens` tokens.
    pub fn train_dims(&self, tokens: u64) -> TrainDims {
        let b = self.block.reduce(self.sizes.train_hidden);
        TrainDims {
            block: b,
            layers: self.sizes.train_layers,
            tokens,
            lora_rank: self.sizes.lora_rank,
            adapter_bottleneck: self.sizes.adapter_bottleneck,
            prompt_tokens: self.sizes.prompt_tokens,
        }
    }
}

/// One training method, measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainResult {
    pub method: Method,
    /// The reduced stack the step ran.
    pub dims: TrainDims,
    pub trainable_params: u64,
    pub step_s_median: f64,
    pub step_s_min: f64,
    pub step_s_max: f64,
    /// Median seconds of the forward pass and of backward + update.
    pub forward_s: f64,
    pub backward_s: f64,
    /// Analytic FLOPs of one step ([`step_flops`]).
    pub flops_per_step: f64,
    /// `flops_per_step / step_s_median`, in GFLOP/s.
    pub gflops: f64,
    /// `gflops` over the f32 matmul GFLOP/s of the calibration.
    pub efficiency: f64,
    pub reps: usize,
}

/// Everything `bench` measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    pub tool_version: String,
    pub model: String,
    pub device: String,
    pub device_kind: String,
    /// Threads candle uses on the CPU (0 on a GPU).
    pub threads: usize,
    pub memory_gib: f64,
    pub quick: bool,
    pub sizes: BenchSizes,
    /// f32 GFLOP/s of the warm-up probe that sized the runs.
    pub probe_gflops: f64,
    /// Tokens (m) the matmuls ran at.
    pub matmul_tokens: u64,
    pub matmul: Vec<MatmulResult>,
    /// dtype -> median over shapes of the per-shape median GFLOP/s.
    pub matmul_gflops: BTreeMap<String, f64>,
    pub bandwidth: Vec<BandwidthResult>,
    /// The copy probe's median repetition, GB/s (read + write bytes).
    pub bandwidth_gbs: f64,
    /// f32 GFLOP/s of register-only FMAs on every thread (CPU with AVX2 + FMA or AVX-512).
    pub fma_peak_gflops: Option<f64>,
    /// GB/s of writing freshly allocated (page-faulted) buffers (CPU).
    pub first_touch_gbs: Option<f64>,
    pub training: Vec<TrainResult>,
    pub notes: Vec<String>,
}

impl BenchReport {
    /// The calibration this report gives; `created_unix` and `hardware_id` come from the caller.
    pub fn to_calibration(&self, created_unix: u64, hardware_id: Option<String>) -> Calibration {
        Calibration {
            format_version: CALIBRATION_FORMAT_VERSION,
            tool_version: self.tool_version.clone(),
            created_unix,
            device: self.device.clone(),
            device_kind: self.device_kind.clone(),
            hardware_id,
            model: self.model.clone(),
            memory_gib: self.memory_gib,
            matmul_gflops: self.matmul_gflops.clone(),
            bandwidth_gbs: self.bandwidth_gbs,
            fma_peak_gflops: self.fma_peak_gflops,
            first_touch_gbs: self.first_touch_gbs,
            train_gflops: self
                .training
                .iter()
                .map(|t| (t.method.as_str().to_string(), t.gflops))
                .collect(),
            train_efficiency: self
                .training
                .iter()
                .map(|t| (t.method.as_str().to_string(), t.efficiency))
                .collect(),
            memory_offset_gib: Default::default(),
            cpu: (self.device_kind == "cpu")
                .then(|| crate::core::hardware::CpuIdentity::this_machine(self.threads as u64))
                .flatten(),
        }
    }
}

/// Median, min and max of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(xs: &[f64]) -> Stats {
        let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Stats {
                median: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Stats {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }
}

fn candle_err(what: &str) -> impl Fn(candle_core::Error) -> Error + '_ {
    move |e| Error::Internal(format!("{what}: {e}"))
}

/// A human name for the device and its memory in GiB (0 if unknown).
pub fn describe_device(device: BenchDevice) -> (String, f64) {
    match device {
        BenchDevice::Cpu => {
            let threads = candle_core::utils::get_num_threads();
            let name = crate::core::hardware::CpuIdentity::this_machine(threads as u64)
                .map_or_else(|| std::env::consts::ARCH.to_string(), |c| c.model);
            let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
            let kib = meminfo
                .lines()
                .find_map(|l| {
                    let rest = l.strip_prefix("MemTotal:")?;
                    rest.split_whitespace().next()?.parse::<f64>().ok()
                })
                .unwrap_or(0.0);
            (
                format!("cpu: {name} ({threads} threads)"),
                kib / (1024.0 * 1024.0),
            )
        }
        BenchDevice::Cuda(n) => cuda_info(n),
    }
}

/// `cuda:N (name)` and memory from `nvidia-smi` when it is there.
fn cuda_info(n: usize) -> (String, f64) {
    let out = std::process::Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total",
            "--format=csv,noheader,nounits",
            "-i",
            &n.to_string(),
        ])
        .output();
    let line = out
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    match line.rsplit_once(',') {
        Some((name, mib)) => (
            format!("cuda:{n} ({})", name.trim()),
            mib.trim().parse::<f64>().unwrap_or(0.0) / 1024.0,
        ),
        None => (format!("cuda:{n}"), 0.0),
    }
}

/// CPU time counters (USER_HZ ticks): all CPUs' total and idle time from `/proc/stat`, and
/// this process's user + system time (every thread) from `/proc/self/stat`.
#[derive(Debug, Clone, Copy)]
struct CpuTicks {
    total: f64,
    idle: f64,
    own: f64,
}

impl CpuTicks {
    /// Now (None where `/proc` cannot be read).
    fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let v: Vec<f64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|x| x.parse().ok())
            .collect();
        let idle = v.get(3)? + v.get(4).unwrap_or(&0.0);
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        // After the parenthesised name come state, ppid, ..., utime, stime (fields 3 to 15).
        let after = own.rsplit_once(')')?.1;
        let f: Vec<f64> = after
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        // The state letter does not parse, so utime and stime are the numbers at 10 and 11.
        Some(CpuTicks {
            total: v.iter().sum(),
            idle,
            own: f.get(10)? + f.get(11)?,
        })
    }

    /// Share of all CPUs other processes kept busy since `self` (None without a tick elapsed).
    fn others_since(&self) -> Option<f64> {
        let now = CpuTicks::now()?;
        let total = now.total - self.total;
        let others = (total - (now.idle - self.idle)) - (now.own - self.own);
        (total > 0.0).then(|| (others / total).clamp(0.0, 1.0))
    }
}

/// Share of all CPUs that other processes kept busy over `window` (None where `/proc` cannot be
/// read).
fn cpu_busy(window: std::time::Duration) -> Option<f64> {
    let t0 = CpuTicks::now()?;
    std::thread::sleep(window);
    t0.others_since()
}

/// Other processes' share of the CPUs above which a part's figures are reported as contended.
const CONTENDED_SHARE: f64 = 0.15;

/// A note when other processes took more than [`CONTENDED_SHARE`] of the CPUs during `part`.
fn contention_note(since: Option<CpuTicks>, part: &str) -> Option<String> {
    let share = since?.others_since()?;
    (share > CONTENDED_SHARE).then(|| {
        format!(
            "other processes took {:.0}% of the CPUs during the {part}: its figures may be low (medians of the repetitions); rerun on a quiet machine",
            100.0 * share
        )
    })
}

/// Run the benchmark. `progress(label, done, total)` is called as work completes.
pub fn run_bench(
    cfg: &BenchConfig,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<BenchReport> {
    let device = cfg.device.open()?;
    let sz = &cfg.sizes;
    let mut notes = Vec::new();
    if cfg.device == BenchDevice::Cpu {
        if let Some(busy) = cpu_busy(std::time::Duration::from_millis(200)) {
            if busy > CONTENDED_SHARE {
                notes.push(format!(
                    "other processes kept {:.0}% of the CPUs busy when the benchmark started: the results may be low",
                    100.0 * busy
                ));
            }
        }
    }
    let dtypes = matmul::supported_dtypes(&device);
    let methods = Method::ALL;
    let total = (cfg.shapes.len() * dtypes.len() * (sz.matmul_warmup + sz.matmul_reps)
        + 2 * (sz.bandwidth_warmup + sz.bandwidth_reps)
        + methods.len() * (sz.train_warmup + sz.train_reps)
        + 3) as u64;
    let mut done = 0u64;
    let (device_name, memory_gib) = describe_device(cfg.device);

    // 0. Probe: warm the device up and see how fast it is, to size the runs.
    let (_, k0, n0) = &cfg.shapes[0];
    let label = "warm-up".to_string();
    progress(&label, done, total);
    let probe = matmul::measure(
        &device,
        "probe",
        (sz.matmul_tokens, *k0, *n0),
        candle_core::DType::F32,
        1,
        2,
        &mut || {
            done += 1;
            progress(&label, done, total);
        },
    )
    .map_err(candle_err("matmul"))?;
    let probe_gflops = probe.gflops_max.max(1e-3);

    // 1. Matmul at the model's shapes.
    let runs = (sz.matmul_warmup + sz.matmul_reps) as f64;
    let predicted: f64 = cfg
        .shapes
        .iter()
        .flat_map(|(_, k, n)| {
            dtypes.iter().map(move |&dt| {
                runs * 2.0 * sz.matmul_tokens as f64 * *k as f64 * *n as f64
                    / (probe_gflops * 1e9 * assumed_speed(cfg.device, dt))
            })
        })
        .sum();
    let m = fit_tokens(sz.matmul_tokens, predicted, sz.matmul_budget_s);
    let ticks = CpuTicks::now();
    let mut results = Vec::new();
    for (name, k, n) in &cfg.shapes {
        for &dt in &dtypes {
            let label = format!("matmul {} {k}x{n}", matmul::dtype_name(dt));
            progress(&label, done, total);
            let r = matmul::measure(
                &device,
                name,
                (m, *k, *n),
                dt,
                sz.matmul_warmup,
                sz.matmul_reps,
                &mut || {
                    done += 1;
                    progress(&label, done, total);
                },
            )
            .map_err(candle_err("matmul"))?;
            results.push(r);
        }
    }
    let mut matmul_gflops = BTreeMap::new();
    for &dt in &dtypes {
        let name = matmul::dtype_name(dt);
        let per_shape: Vec<f64> = results
            .iter()
            .filter(|r| r.dtype == name)
            .map(|r| r.gflops_median)
            .collect();
        matmul_gflops.insert(name.to_string(), Stats::of(&per_shape).median);
    }
    notes.extend(contention_note(ticks, "matmuls"));
    let f32_gflops = matmul_gflops.get("f32").copied().unwrap_or(0.0);
    if cfg.device == BenchDevice::Cpu && dtypes.contains(&candle_core::DType::BF16) {
        notes.push(
            "candle has no bf16 CPU kernel: bf16 matmuls are widened to f32 and narrowed back"
                .to_string(),
        );
    }

    // 2. Memory bandwidth.
    let label = "memory bandwidth".to_string();
    progress(&label, done, total);
    let ticks = CpuTicks::now();
    let bandwidth = bandwidth::measure(
        &device,
        sz.bandwidth_bytes,
        sz.bandwidth_warmup,
        sz.bandwidth_reps,
        &mut || {
            done += 1;
            progress(&label, done, total);
        },
    )
    .map_err(candle_err("bandwidth"))?;
    // The copy's rate (read + write bytes): what elementwise kernels and the optimizer do, and
    // steady (three quick runs within 6%), where the multi-threaded sum's median swung 22-31
    // GB/s between runs on the development machine. The sum stays in the report.
    let bandwidth_gbs = bandwidth
        .iter()
        .find(|b| b.probe == "copy")
        .map(|b| b.gbs_median)
        .unwrap_or_else(|| bandwidth.iter().map(|b| b.gbs_median).fold(0.0, f64::max));
    notes.extend(contention_note(ticks, "bandwidth probes"));

    // 2b. The CPU's FMA peak and first-touch rate (what PyTorch's GEMM and its fresh tensors
    // see; candle's GEMM reaches well under torch's on the same cores).
    let (fma_peak_gflops, first_touch_gbs) = if cfg.device == BenchDevice::Cpu {
        let threads = candle_core::utils::get_num_threads().max(1);
        let ticks = CpuTicks::now();
        let seconds = if cfg.quick { 0.2 } else { 0.6 };
        let peak = peak::fma_peak_gflops(threads, seconds);
        let touch = peak::first_touch_gbs(sz.bandwidth_bytes as usize, threads, sz.bandwidth_reps);
        notes.extend(contention_note(ticks, "FMA peak and first-touch probes"));
        (peak, touch)
    } else {
        (None, None)
    };

    // 3. Training steps, at as many tokens as fit the budget.
    let max_dims = cfg.train_dims(sz.train_tokens);
    let runs = (sz.train_warmup + sz.train_reps) as f64;
    let predicted: f64 = methods
        .iter()
        .map(|&me| {
            runs * step_flops(&max_dims, me).total()
                / (f32_gflops.max(1e-3) * 1e9 * ASSUMED_TRAIN_EFFICIENCY)
        })
        .sum();
    let dims = cfg.train_dims(fit_tokens(sz.train_tokens, predicted, sz.train_budget_s));
    let base = training::BaseWeights::new(dims, &device).map_err(candle_err("training setup"))?;
    let mut training = Vec::new();
    let ticks = CpuTicks::now();
    for method in methods {
        let label = format!("train {}", method.as_str());
        progress(&label, done, total);
        let step = training::TrainStep::new(&base, method).map_err(candle_err("training setup"))?;
        let (mut fwd, mut bwd, mut tot) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..sz.train_warmup + sz.train_reps {
            let (f, b) = step
                .step()
                .map_err(candle_err(&format!("{} training step", method.as_str())))?;
            if i >= sz.train_warmup {
                fwd.push(f);
                bwd.push(b);
                tot.push(f + b);
            }
            done += 1;
            progress(&label, done, total);
        }
        let s = Stats::of(&tot);
        let flops = step_flops(&dims, method).total();
        let gflops = flops / s.median.max(1e-12) / 1e9;
        training.push(TrainResult {
            method,
            dims,
            trainable_params: dims.trainable_params(method),
            step_s_median: s.median,
            step_s_min: s.min,
            step_s_max: s.max,
            forward_s: Stats::of(&fwd).median,
            backward_s: Stats::of(&bwd).median,
            flops_per_step: flops,
            gflops,
            efficiency: if f32_gflops > 0.0 {
                gflops / f32_gflops
            } else {
                0.0
            },
            reps: sz.train_reps,
        });
    }
    notes.extend(contention_note(ticks, "training steps"));
    progress("done", total, total);

    Ok(BenchReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        model: cfg.model.clone(),
        device: device_name,
        device_kind: cfg.device.kind().to_string(),
        threads: match cfg.device {
            BenchDevice::Cpu => candle_core::utils::get_num_threads(),
            BenchDevice::Cuda(_) => 0,
        },
        memory_gib,
        quick: cfg.quick,
        sizes: cfg.sizes.clone(),
        probe_gflops,
        matmul_tokens: m,
        matmul: results,
        matmul_gflops,
        bandwidth,
        bandwidth_gbs,
        fma_peak_gflops,
        first_touch_gbs,
        training,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_config() -> BenchConfig {
        BenchConfig {
            quick: true,
            device: BenchDevice::Cpu,
            model: "tiny".into(),
            shapes: vec![("q".into(), 32, 48), ("down".into(), 48, 32)],
            block: BlockDims {
                hidden: 64,
                heads: 8,
                kv_heads: 4,
                head_dim: 8,
                intermediate: 96,
                gated: true,
            },
            sizes: BenchSizes {
                matmul_tokens: 16,
                matmul_warmup: 1,
                matmul_reps: 2,
                matmul_budget_s: 100.0,
                bandwidth_bytes: 1 << 16,
                bandwidth_warmup: 0,
                bandwidth_reps: 2,
                train_hidden: 32,
                train_layers: 1,
                train_tokens: 8,
                train_warmup: 0,
                train_reps: 2,
                train_budget_s: 100.0,
                lora_rank: 2,
                adapter_bottleneck: 4,
                prompt_tokens: 2,
            },
        }
    }

    #[test]
    fn bench_runs_end_to_end_on_tiny_shapes() {
        let cfg = tiny_config();
        let mut last = (0, 0);
        let report = run_bench(&cfg, &mut |_, done, total| {
            assert!(done <= total && done >= last.0);
            last = (done, total);
        })
        .unwrap();
        assert_eq!(last.0, last.1);
        assert_eq!(report.matmul.len() % 2, 0);
        assert!(report.matmul_gflops["f32"] > 0.0);
        assert_eq!(report.bandwidth.len(), 2);
        assert_eq!(report.training.len(), 4);
        let dims = cfg.train_dims(8);
        assert_eq!(
            (dims.block.hidden, dims.block.heads, dims.block.kv_heads),
            (32, 4, 2)
        );
        let cal = report.to_calibration(42, Some("a10".into()));
        cal.validate("mem").unwrap();
        assert_eq!(cal.train_efficiency.len(), 4);
        assert_eq!(cal.hardware_id.as_deref(), Some("a10"));
        assert!(serde_json::to_string(&report).is_ok());
    }

    #[test]
    fn devices_parse_and_cuda_needs_the_feature() {
        assert_eq!("cpu".parse::<BenchDevice>().unwrap(), BenchDevice::Cpu);
        assert_eq!(
            "cuda:1".parse::<BenchDevice>().unwrap(),
            BenchDevice::Cuda(1)
        );
        assert_eq!("CUDA".parse::<BenchDevice>().unwrap(), BenchDevice::Cuda(0));
        assert!("gpu".parse::<BenchDevice>().is_err());
        assert!("cuda:x".parse::<BenchDevice>().is_err());
        #[cfg(not(feature = "cuda"))]
        assert_eq!(
            BenchDevice::Cuda(0).open().unwrap_err().to_string(),
            NO_CUDA
        );
    }

    #[test]
    fn tokens_shrink_to_fit_the_budget() {
        assert_eq!(fit_tokens(256, 4.0, 5.0), 256);
        assert_eq!(fit_tokens(256, 10.0, 5.0), 128);
        assert_eq!(fit_tokens(256, 6.0, 5.0), 192);
        assert_eq!(fit_tokens(256, 1000.0, 5.0), 64);
        assert_eq!(fit_tokens(8, 1000.0, 5.0), 8);
        assert_eq!(fit_tokens(512, f64::NAN, 5.0), 512);
    }

    #[test]
    fn blocks_reduce_in_proportion() {
        let qwen = BlockDims {
            hidden: 4096,
            heads: 32,
            kv_heads: 32,
            head_dim: 128,
            intermediate: 11008,
            gated: true,
        };
        let r = qwen.reduce(1024);
        assert_eq!(
            (r.hidden, r.heads, r.kv_heads, r.intermediate),
            (1024, 8, 8, 2752)
        );
        let glm = BlockDims {
            hidden: 4096,
            heads: 32,
            kv_heads: 2,
            head_dim: 128,
            intermediate: 13696,
            gated: true,
        };
        let r = glm.reduce(1024);
        assert_eq!((r.heads, r.kv_heads), (8, 1));
        let bert = BlockDims {
            hidden: 1024,
            heads: 16,
            kv_heads: 16,
            head_dim: 64,
            intermediate: 4096,
            gated: false,
        };
        assert_eq!(bert.reduce(1024), bert);
    }

    #[test]
    fn config_from_a_profile_dedupes_shapes() {
        let cat = crate::core::arch::ModelCatalog::embedded().unwrap();
        let p = cat.get("qwen-7b").unwrap();
        let cfg = BenchConfig::from_profile(p, true, BenchDevice::Cpu).unwrap();
        let shapes: Vec<(u64, u64)> = cfg.shapes.iter().map(|s| (s.1, s.2)).collect();
        assert_eq!(
            shapes,
            [(4096, 12288), (4096, 4096), (4096, 11008), (11008, 4096)]
        );
        assert!(cfg.shapes[2].0.contains(','));
        assert!(cfg.block.gated);
    }
}
