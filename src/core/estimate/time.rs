//! Step time: FLOPs at the device's peak times MFU, QLoRA dequantisation, ZeRO-3 gathers, the
//! optimizer step and the gradient all-reduce (design §5); on a GPU a per-layer launch
//! overhead, on a CPU the terms a PyTorch CPU step spends outside its GEMMs:
//!
//! - fresh pages: PyTorch's CPU allocator does not cache, and glibc maps every block over its
//!   mmap threshold (at most 32 MiB) afresh, so each such tensor of a step (a causal LM's
//!   logits, their log-softmax and gradients; large attention score buffers) is faulted in,
//!   zeroed and unmapped again, at the first-touch rate `bench` measures;
//! - elementwise traffic: norms, rotary, activations, residual adds, dropout, softmax and
//!   cross-entropy read and write their tensors at the measured streaming bandwidth;
//! - GEMM weights: every GEMM call reads its weight matrix and packs it (what keeps GEMMs at
//!   few tokens below their large-M rate);
//! - attention: torch's CPU flash kernel runs at its own fraction of the peak
//!   (`Assumptions::cpu_attention_efficiency`), not at the GEMMs';
//! - dropout: `at::dropout` on a CPU draws a scalar random number per element (7-12 ns for
//!   `bernoulli_` alone on the development machine), far more than its bytes cost;
//! - framework ops: every op the block runs costs a fixed dispatch time.
//!
//! Warts: the elementwise access counts are per architecture family (decoder with RMSNorm,
//! rotary and a gated MLP; encoder with LayerNorm, GELU and dropout), counted from the ops
//! transformers runs, not per model; adapters' own small ops are not counted; the dropout and
//! op-dispatch costs are PyTorch's measured on the development machine (`Assumptions`), not
//! by `bench` on yours; torch's batched attention GEMMs at head size 64 are taken at the GEMM
//! efficiency.

use super::memory::zero_shard;
use super::physics::{Assumptions, Shapes};
use super::workload::{Dtype, LossKernel, Offload, Workload};
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::MethodKind;

/// glibc's largest dynamic mmap threshold on 64-bit (`DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB):
/// blocks at least this large are always mapped afresh and unmapped when freed.
const FRESH_BLOCK_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

/// Element accesses (reads + writes) per token per block in the forward pass of a decoder,
/// counted from transformers' llama-family code: two RMSNorms (upcast, square, mean, scale,
/// weight: 7 accesses of h each), rotary on q and k (x*cos, rotate_half's two halves and
/// negation, *sin, add: 11 of each), the attention output's transpose to [tokens, heads x
/// dim] (2 of the attention width), SiLU and the gate product (5 of the MLP width), two
/// residual adds (3 of h each).
fn decoder_accesses(sh: &Shapes) -> f64 {
    2.0 * 7.0 * sh.hidden
        + 11.0 * (sh.attn_dim + sh.kv_dim)
        + 2.0 * sh.attn_dim
        + 5.0 * sh.ff
        + 2.0 * 3.0 * sh.hidden
}

/// The same for a BERT-style encoder: two LayerNorms (two reads and a write of h each), two
/// residual adds (3 each), GELU (2 of the MLP width), q, k, v permuted to heads and the
/// output back (8 of the attention width), and the backward product of the two sublayer
/// dropouts (3 of h each; their forward is [`dropout_elements`]'s).
fn encoder_accesses(sh: &Shapes) -> f64 {
    2.0 * 3.0 * sh.hidden
        + 2.0 * 3.0 * sh.hidden
        + 2.0 * sh.ff
        + 8.0 * sh.attn_dim
        + 2.0 * 3.0 * sh.hidden
}

/// Element accesses per query-key pair per head when attention materialises its scores (eager,
/// or the CPU math path under dropout): forward the mask add (3) and softmax (3 reads, 1
/// write); backward softmax's backward (5) and, with dropout, the dropout product (3).
fn score_accesses(dropout: bool) -> (f64, f64) {
    (7.0, 5.0 + if dropout { 3.0 } else { 0.0 })
}

/// Framework ops one block dispatches: forward, backward with frozen weights, and the weight
/// gradients full fine-tuning adds; aten ops of a 4-layer minus a 2-layer model, halved
/// (`tests/truth/cpu_op_counts.{py,json}`: `TorchDispatchMode`, transformers 5.25, the
/// cpu_truth llama and BERT-Small).
struct BlockOps {
    forward: f64,
    backward: f64,
    weight_grads: f64,
}

const DECODER_OPS: BlockOps = BlockOps {
    forward: 73.0,
    backward: 95.0,
    weight_grads: 43.0,
};
const ENCODER_OPS: BlockOps = BlockOps {
    forward: 68.0,
    backward: 64.0,
    weight_grads: 52.0,
};

/// Ops one adapted module adds, forward and backward (the same count, peft 0.21, on q,k,v,o
/// of the llama, or IA3's k,v,down): LoRA's dropout, A, B, scaling and add with their
/// gradients; DoRA's weight norm besides; IA3's scaling. (BERT's modules count the same for
/// LoRA and DoRA within one op; its IA3 modules 4/9.)
fn module_ops(kind: MethodKind) -> (f64, f64) {
    match kind {
        MethodKind::Dora => (27.0, 33.0),
        MethodKind::Ia3 => (3.0, 7.0),
        _ => (10.0, 20.0),
    }
}

impl Shapes {
    /// Seconds for one optimizer step on one device, if the hardware has a peak for `dtype`.
    pub fn step_seconds(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
        mfu: f64,
    ) -> Option<f64> {
        let peak = hw.peak_flops(dtype)?;
        let w = &w.on(hw);
        let s = self.seq_tokens(w.seq_len);
        let tokens_mb = w.micro_batch as f64 * s;
        let f = self.flops_per_token(w);
        let passes = if w.grad_checkpointing { 3.0 } else { 2.0 };
        let mut micro = match hw.kind {
            HardwareKind::Gpu => {
                tokens_mb * f.total / (peak * mfu) + self.layers * a.launch_overhead_per_layer_s
            }
            // torch's CPU flash kernel runs well below the large GEMMs; the math path's batched
            // GEMMs run as GEMMs, its softmax, dropout and fresh score buffers are costed with
            // the rest of the step's non-GEMM work.
            HardwareKind::Cpu => {
                let flash = !Self::cpu_keeps_scores(w.attention, self.bert_dropout);
                let attention_eff = if flash {
                    a.cpu_attention_efficiency
                } else {
                    mfu
                };
                tokens_mb * (f.total - f.attention) / (peak * mfu)
                    + tokens_mb * f.attention / (peak * attention_eff)
                    + self.cpu_non_gemm_seconds(w, dtype, hw, a)
            }
        };
        let bw = hw.bandwidth_bytes();
        if w.weights_dtype.is_quantized() {
            if let Some(bw) = bw {
                micro += passes * self.linear_params * a.dequant_bytes_per_weight / bw;
            }
        }
        let n = w.gpus as f64;
        let link = link_bytes_per_second(w, hw).map(|b| b * a.link_efficiency);
        let pcie = hw.host_link_bytes();
        let grads = self.reduced_gradient_bytes(w, dtype);
        if let Some(link) = link.filter(|_| w.shards_params()) {
            // Sharded parameters are all-gathered for every forward and backward pass; a
            // checkpointed block is recomputed under DeepSpeed's module hooks, which gather
            // again, but inside FSDP's unit, whose backward already holds them.
            let gathers = if w.fsdp { 2.0 } else { passes };
            micro += gathers * (n - 1.0) / n * self.gathered_weight_bytes(w) / link;
        }
        // Sharded gradients are reduce-scattered by every micro-batch's backward; FSDP under
        // `no_sync` accumulation only by the step's last.
        let reduce_scatter = link
            .filter(|_| w.gpus > 1 && w.zero >= 2)
            .map_or(0.0, |link| (n - 1.0) / n * grads / link);
        if !w.fsdp_accumulates_unsharded() {
            micro += reduce_scatter;
        }
        if self.expert_sharded(w) {
            if let Some(link) = link {
                // Expert parallelism: each sparse block sends every token's hidden state to its
                // k experts and back (two all-to-alls) in each pass; (n-1)/n of it leaves the
                // device.
                let per_pass = 2.0
                    * tokens_mb
                    * self.sparse_layers
                    * self.experts_per_token
                    * self.hidden
                    * dtype.bytes();
                micro += passes * (n - 1.0) / n * per_pass / link;
            }
        }
        let st = self.trainable_state(w);
        if let Some(pcie) = pcie.filter(|_| w.offload != Offload::None) {
            // Offloaded state: every micro-batch's reduced 16-bit gradient partition goes down
            // to the host (ZeRO-1 once a step, at the boundary); with offloaded parameters
            // each gathered pass first fetches the device's shard.
            let partition = grads / zero_shard(w, 1);
            if w.zero >= 2 {
                micro += partition / pcie;
            }
            if w.offload == Offload::Params {
                let gathers = if w.fsdp { 2.0 } else { passes };
                micro += gathers * self.sharded_weight_bytes(w) / pcie;
            }
        }
        let mut step = w.grad_accum as f64 * micro;
        if w.fsdp_accumulates_unsharded() {
            step += reduce_scatter;
        }
        if let Some(bw) = hw.streaming_bytes(a.optimizer_bandwidth_efficiency) {
            // The optimizer reads and writes every byte of trainable state once.
            step += 2.0 * (st.persistent + st.gradients) / bw;
        }
        if let Some(pcie) = pcie.filter(|_| w.offload != Offload::None) {
            // The host steps its state the same way at its own bandwidth, then the updated
            // 16-bit weights go back up (ZeRO-1: the gradients come down first).
            step += 2.0 * st.host / (a.host_memory_gbs * 1e9);
            let partition = grads / zero_shard(w, 1);
            step += partition / pcie * if w.zero >= 2 { 1.0 } else { 2.0 };
        }
        if let Some(link) = link.filter(|_| w.gpus > 1) {
            step += match w.zero {
                // DDP all-reduces once a step (accumulating micro-batches skip the sync, unless
                // accelerate's sync_each_batch makes every one all-reduce); ZeRO-1
                // reduce-scatters at the boundary and all-gathers the updated weights: the
                // same bytes.
                0 | 1 => {
                    let syncs = if w.sync_each_batch_applies() {
                        w.grad_accum as f64
                    } else {
                        1.0
                    };
                    syncs * 2.0 * (n - 1.0) / n * grads / link
                }
                // ZeRO-2 all-gathers the updated weights after the step; ZeRO-3 and FSDP keep
                // them sharded.
                2 => (n - 1.0) / n * grads / link,
                _ => 0.0,
            };
        }
        Some(step)
    }
}

impl Shapes {
    /// What one micro-batch of a PyTorch CPU step spends outside its GEMMs (module docs): fresh
    /// pages, elementwise traffic and framework ops, in seconds.
    fn cpu_non_gemm_seconds(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
    ) -> f64 {
        let Some(bw) = hw.streaming_bytes(a.optimizer_bandwidth_efficiency) else {
            return self.layers * a.launch_overhead_per_layer_s;
        };
        // Without a measured first-touch rate, fresh pages cost what streaming them does.
        let fresh_rate = hw.first_touch_gbs.map_or(bw, |g| g * 1e9);
        let b = w.micro_batch as f64;
        let s = self.seq_tokens(w.seq_len);
        let tokens = b * s;
        let el = dtype.bytes();
        // Forward, backward (about twice the forward's accesses) and the recomputed forward.
        let recompute = if w.grad_checkpointing { 1.0 } else { 0.0 };
        let passes = 3.0 + recompute;
        let (per_token, ops) = if self.causal {
            (decoder_accesses(self), DECODER_OPS)
        } else {
            (encoder_accesses(self), ENCODER_OPS)
        };
        let mut stream = tokens * self.layers * per_token * el * passes;
        let mut fresh = 0.0;
        // Materialised attention scores: one [b, heads, s, ctx] buffer per tensor.
        if Self::cpu_keeps_scores(w.attention, self.bert_dropout) {
            let pairs = b * self.heads * s * self.context(s, w.attention);
            let (fwd, bwd) = score_accesses(self.bert_dropout);
            let accesses = fwd * (1.0 + recompute) + bwd;
            stream += self.layers * pairs * accesses * el;
            if pairs * el >= FRESH_BLOCK_BYTES {
                // Scores, probabilities (+ noise and dropped probabilities) and as many
                // gradients, each a fresh block.
                let buffers = if self.bert_dropout { 4.0 } else { 2.0 };
                fresh += self.layers * pairs * el * buffers * (2.0 + recompute);
            }
        }
        // The loss path: its buffers (the model's `loss_bytes`) are written once each, fresh
        // when large; log-softmax reads its input three times forward and its gradient and
        // output three times backward (4 bytes each: cross-entropy runs in fp32). A fused loss
        // writes every logit into a small reused chunk and its gradient in place, reading it
        // three times: no fresh pages.
        let logits = self.logit_count(w, b);
        if logits > 0.0 {
            let loss = self.loss_bytes(w, dtype);
            let head = if loss.fp32 { 4.0 } else { el };
            if w.loss == LossKernel::Fused {
                stream += logits * 5.0 * head;
            } else {
                // The log-softmax output saved from forward is not written again in backward.
                let written = loss.forward + loss.backward - head;
                stream += logits * 2.0 * 3.0 * head;
                if logits * 4.0 >= FRESH_BLOCK_BYTES {
                    fresh += logits * written;
                } else {
                    stream += logits * written;
                }
            }
        }
        // Every GEMM call reads its weight from memory and writes it packed into the BLAS's
        // panel layout (2 accesses): forward, the input gradient and the recomputed blocks.
        // This is what keeps a GEMM at few tokens below its large-M rate (torch at 128 tokens
        // x 512 x 512: 232 GFLOP/s against 312 at 2048).
        let block_weights = self.layers * self.block_matmul * w.weights_dtype.linear_bytes();
        let head_weights = self.head_matmul * el;
        stream += 2.0 * ((2.0 + recompute) * block_weights + 2.0 * head_weights);
        // Dropout draws one random number per element on a CPU (forward, and again when a
        // checkpointed block is recomputed): the sublayer outputs and, on the math path, the
        // attention probabilities in every block, and the embeddings once.
        let dropped = if self.bert_dropout {
            let scores = if Self::cpu_keeps_scores(w.attention, true) {
                self.heads * self.context(s, w.attention)
            } else {
                0.0
            };
            tokens * (self.layers * (2.0 * self.hidden + scores) * (1.0 + recompute) + self.hidden)
        } else {
            0.0
        };
        // Full fine-tuning: `zero_grad(set_to_none=True)` frees the gradients, so backward
        // allocates them afresh every step; the token embedding's and the head's (vocab x
        // hidden each, tied or not: a tied matrix gets both and sums them) are the ones large
        // enough to be fresh blocks. The embedding's is zero-filled before its rows are added.
        if self.kind == MethodKind::Full && self.head_matmul > 0.0 {
            let grad = self.vocab * self.hidden * 4.0;
            if grad >= FRESH_BLOCK_BYTES {
                fresh += 2.0 * grad;
            }
        }
        let modules = self.adapted_modules_per_layer;
        let (module_fwd, module_bwd) = module_ops(self.kind);
        let weight_grads = if self.kind == MethodKind::Full {
            ops.weight_grads
        } else {
            0.0
        };
        let op_count = self.layers
            * ((ops.forward + modules * module_fwd) * (1.0 + recompute)
                + ops.backward
                + weight_grads
                + modules * module_bwd);
        stream / bw
            + fresh / fresh_rate
            + dropped * a.cpu_dropout_s_per_element
            + op_count * a.cpu_op_latency_s
    }
}

/// Bandwidth of the slowest hop of the ring that all-reduces and all-gathers, bytes/s: the
/// device link inside one machine, and across machines the network, which each machine's ring
/// edge crosses once (so a ring over k machines is as fast as its slowest hop, not k times
/// slower). `None` when the profile has no link figure.
pub fn link_bytes_per_second(w: &Workload, hw: &HardwareProfile) -> Option<f64> {
    let device = hw.interconnect_gbs.filter(|g| *g > 0.0).map(|g| g * 1e9)?;
    if w.nodes > 1 {
        let network = w
            .network_gbps
            .unwrap_or(crate::core::units::DEFAULT_NETWORK_GBPS)
            * 1e9
            / 8.0;
        Some(device.min(network))
    } else {
        Some(device)
    }
}

#[cfg(test)]
mod tests {
    use crate::core::catalogs::Catalogs;
    use crate::core::estimate::{Assumptions, Dtype, Shapes};
    use crate::core::hardware::{Calibration, HardwareProfile};
    use crate::core::spec::ScenarioSpec;

    /// This machine as a `bench` with an FMA peak describes it: 346 GFLOP/s, 23 GB/s
    /// streaming, `first_touch` GB/s for fresh pages.
    fn local(first_touch: f64) -> HardwareProfile {
        HardwareProfile::local(&Calibration {
            format_version: crate::core::hardware::CALIBRATION_FORMAT_VERSION,
            tool_version: "0.1.0".into(),
            created_unix: 1_796_000_000,
            device: "cpu: test (2 threads)".into(),
            device_kind: "cpu".into(),
            hardware_id: None,
            model: "qwen-7b".into(),
            memory_gib: 24.0,
            matmul_gflops: [("f32".to_string(), 150.0)].into(),
            bandwidth_gbs: 23.0,
            fma_peak_gflops: Some(346.0),
            first_touch_gbs: Some(first_touch),
            train_gflops: [("lora".to_string(), 60.0)].into(),
            train_efficiency: [("lora".to_string(), 0.4)].into(),
            memory_offset_gib: Default::default(),
            cpu: None,
        })
    }

    fn step(model: &str, seq: u64, dtype: Dtype, hw: &HardwareProfile, a: &Assumptions) -> f64 {
        let catalogs = Catalogs::embedded();
        let mut spec = ScenarioSpec::new(model);
        spec.workload.micro_batch = 1;
        spec.workload.seq_len = seq;
        spec.workload.dtype = dtype;
        let s = spec.resolve(&catalogs).unwrap();
        let shapes = Shapes::new(&s.prepare().unwrap());
        shapes
            .step_seconds(&s.workload, dtype, hw, a, hw.mfu_for(shapes.kind))
            .unwrap()
    }

    #[test]
    fn a_causal_lms_loss_path_is_fresh_pages_on_a_cpu() {
        // Qwen-7B LoRA, one 512-token sequence in fp32: 151,936 x 512 = 77,791,232 logits,
        // each 311 MB buffer above glibc's 32 MiB mmap threshold. Forward writes the head
        // output and the log-softmax (8 B a logit), backward the NLL gradient and the
        // log-softmax gradient (12 - the saved 4 = 8 B): 16 B a logit afresh, 1,244,659,712 B.
        // At 5 GB/s first touch instead of 10: 1,244,659,712 x (1/5e9 - 1/10e9) = 0.12447 s.
        let a = Assumptions::default();
        let slow = step("qwen-7b", 512, Dtype::Fp32, &local(5.0), &a);
        let fast = step("qwen-7b", 512, Dtype::Fp32, &local(10.0), &a);
        assert!(
            ((slow - fast) - 0.124_465_971_2).abs() < 1e-9,
            "{}",
            slow - fast
        );
    }

    #[test]
    fn bert_dropout_on_a_cpu_costs_a_random_number_per_element() {
        // bge-large-zh-v1.5 (24 layers, hidden 1024, 16 heads), one 128-token sequence: SDPA
        // with dropout on a CPU runs the math path, so each layer drops its two sublayer
        // outputs (2 x 1024) and its probabilities (16 heads x 128 keys) per token, and the
        // embeddings once: 128 x (24 x (2048 + 2048) + 1024) = 12,713,984 draws; 1 ns more a
        // draw is 0.012713984 s more a step.
        let hw = local(5.0);
        let a = Assumptions::default();
        let slower = Assumptions {
            cpu_dropout_s_per_element: a.cpu_dropout_s_per_element + 1e-9,
            ..a
        };
        let d = step("bge-large-zh-v1.5", 128, Dtype::Fp32, &hw, &slower)
            - step("bge-large-zh-v1.5", 128, Dtype::Fp32, &hw, &a);
        assert!((d - 0.012_713_984).abs() < 1e-9, "{d}");
    }

    #[test]
    fn a_measured_fma_peak_runs_gemms_at_torchs_fraction_with_no_method_factor() {
        let hw = local(5.0);
        // 346 GFLOP/s measured: GEMMs at 0.86 of it (torch 2.15's 300 of 349 GFLOP/s).
        assert_eq!(hw.peak_flops(Dtype::Fp32), Some(346e9));
        assert!(hw.method_mfu.is_empty());
        assert_eq!(hw.mfu_for(crate::core::peft::MethodKind::Full), 0.86);
        assert_eq!(hw.mfu_for(crate::core::peft::MethodKind::Lora), 0.86);
    }
}

#[cfg(test)]
mod launcher_tests {
    use crate::core::catalogs::Catalogs;
    use crate::core::estimate::{Assumptions, Dtype, Offload, Optimizer, Shapes, Workload};
    use crate::core::peft::{MethodConfig, MethodKind};
    use crate::core::spec::ScenarioSpec;

    /// Qwen-7B with `method`, one 512-token sequence, bf16, and its shapes.
    fn qwen(method: MethodKind) -> (Workload, Shapes) {
        let catalogs = Catalogs::embedded();
        let mut spec = ScenarioSpec::new("qwen-7b");
        spec.method = MethodConfig::new(method);
        spec.workload.micro_batch = 1;
        let s = spec.resolve(&catalogs).unwrap();
        (s.workload, Shapes::new(&s.prepare().unwrap()))
    }

    fn a100() -> crate::core::hardware::HardwareProfile {
        let catalogs = Catalogs::embedded();
        catalogs
            .hardware()
            .unwrap()
            .get("a100-80g")
            .unwrap()
            .clone()
    }

    #[test]
    fn a_pcie_host_link_carries_its_spec_rate_less_packet_overhead() {
        // PCIe 4.0 x16: 16 lanes x 16 GT/s x 128/130 / 8 = 31.51 GB/s a direction; 256-byte
        // payloads behind 24 bytes of framing, sequence number, header and LCRC keep
        // 256/280 of it: 28.807 GB/s. The A100 SXM4's host link is PCIe 4.0 (its datasheet).
        let bytes = a100().host_link_bytes().unwrap();
        assert!((bytes - 28_807_032_967.03).abs() < 1.0, "{bytes}");
    }

    /// The seconds one more accumulated micro-batch adds to a step of `w`.
    /// Two times equal to rounding.
    fn same(got: f64, expected: f64) {
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    }

    fn micro_batch_seconds(shapes: &Shapes, w: Workload) -> f64 {
        let hw = a100();
        let a = Assumptions::default();
        let t = |ga| {
            let w = Workload {
                grad_accum: ga,
                ..w
            };
            shapes.step_seconds(&w, Dtype::Bf16, &hw, &a, 0.5).unwrap()
        };
        t(2) - t(1)
    }

    #[test]
    fn sharded_launchers_gather_and_reduce_scatter_every_micro_batch() {
        // Qwen-7B LoRA r=8 (17,891,328 adapter parameters) with checkpointing over 4 A100 SXM4
        // (NVLink 600 GB/s x link efficiency 0.7 = 420 GB/s): DDP sends nothing per
        // micro-batch (accumulation skips the all-reduce).
        let (w, shapes) = qwen(MethodKind::Lora);
        let w = Workload {
            gpus: 4,
            grad_checkpointing: true,
            ..w
        };
        let link = 420e9;
        let ddp = micro_batch_seconds(&shapes, w);
        // DeepSpeed ZeRO-3 all-gathers the base model's 7,721,324,544 bf16 weights for forward,
        // recompute and backward, 3/4 of them from the others, and reduce-scatters the
        // adapters' bf16 gradients.
        let z3 = micro_batch_seconds(&shapes, Workload { zero: 3, ..w });
        let expected = 3.0 * 0.75 * 7_721_324_544.0 * 2.0 / link + 0.75 * 17_891_328.0 * 2.0 / link;
        same(z3 - ddp, expected);
        // FSDP recomputes inside the unit whose backward holds the weights: two gathers; peft's
        // adapters stay fp32, so their gradients reduce in 4 B, every micro-batch with
        // accelerate's sync_each_batch...
        let fsdp = Workload {
            zero: 3,
            fsdp: true,
            ..w
        };
        let synced = micro_batch_seconds(
            &shapes,
            Workload {
                sync_each_batch: true,
                ..fsdp
            },
        );
        let gathers = 2.0 * 0.75 * 7_721_324_544.0 * 2.0 / link;
        let reduce_scatter = 0.75 * 17_891_328.0 * 4.0 / link;
        let expected = gathers + reduce_scatter;
        same(synced - ddp, expected);
        // ...and only on the step's last under the Trainer's no_sync: another micro-batch
        // adds the gathers alone.
        let no_sync = micro_batch_seconds(&shapes, fsdp);
        same(no_sync - ddp, gathers);
        // DDP with sync_each_batch all-reduces every micro-batch: 2 x 3/4 of the fp32
        // adapter gradients.
        let ddp_synced = micro_batch_seconds(
            &shapes,
            Workload {
                sync_each_batch: true,
                ..w
            },
        );
        let expected = 2.0 * 0.75 * 17_891_328.0 * 4.0 / link;
        same(ddp_synced - ddp, expected);
        // ZeRO-2 gathers nothing per micro-batch but reduce-scatters.
        let z2 = micro_batch_seconds(&shapes, Workload { zero: 2, ..w });
        let expected = 0.75 * 17_891_328.0 * 2.0 / link;
        same(z2 - ddp, expected);
    }

    #[test]
    fn an_offloaded_optimizer_steps_at_host_bandwidth_behind_pcie() {
        // Qwen-7B full fine-tuning over 2 A100 SXM4 with ZeRO-3, fused Adam, one micro-batch.
        let (w, shapes) = qwen(MethodKind::Full);
        let w = Workload {
            gpus: 2,
            zero: 3,
            optimizer: Optimizer::AdamwFused,
            ..w
        };
        let off = Workload {
            offload: Offload::Optimizer,
            ..w
        };
        let hw = a100();
        let a = Assumptions::default();
        let t = |w: &Workload| shapes.step_seconds(w, Dtype::Bf16, &hw, &a, 0.5).unwrap();
        let p = 7_721_324_544.0 / 2.0;
        let pcie = hw.host_link_bytes().unwrap();
        // On the GPU the step read and wrote the fp32 master, m, v (12 B) and bf16 gradients
        // (2 B) at 0.7 x 2039 GB/s; offloaded, the host reads and writes the same state with
        // fp32 gradients (16 B) at 51.2 GB/s, and each GPU sends its bf16 gradient partition
        // down and takes its updated bf16 weights back over PCIe.
        let gpu_step = 2.0 * p * 14.0 / (0.7 * 2039e9);
        let host_step = 2.0 * p * 16.0 / 51.2e9;
        let transfers = 2.0 * p * 2.0 / pcie;
        let d = t(&off) - t(&w);
        let expected = host_step + transfers - gpu_step;
        assert!((d - expected).abs() < 1e-9, "{d} vs {expected}");
    }
}
