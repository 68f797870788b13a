//! Training physics: FLOPs per token, memory per device and time per step.
//!
//! Conventions (design §5-§6):
//! - 1 multiply-add = 2 FLOPs. Forward = 2 x matmul weights (blocks + LM head) + attention +
//!   method extras. Backward = input-gradients through every block (all our methods have
//!   trainable parameters in or below layer 0) + weight-gradients only for trainable weights.
//!   Gradient checkpointing adds one forward of the blocks.
//! - Attention per token and layer: QK^T and AV = 4 * (heads*head_dim) * context FLOPs. With a
//!   causal SDPA/flash kernel only the lower triangle is computed (context = s/2); eager attention
//!   computes the whole masked s x s matrix (context = s). Its backward costs 2x forward (4
//!   matmuls), 2.5x with flash (recomputes QK^T).
//! - Memory counts what autograd really saves: frozen Linears keep no input for a weight
//!   gradient; SDPA keeps q, k, v, output and no s x s matrix; SwiGLU keeps gate, up and
//!   silu(gate); LoRA keeps x and x*A. Logits: compute dtype + fp32 upcast + fp32 gradient
//!   (10 bytes per logit in 16-bit training), fitted to the slope of the Qwen-7B rows.

use serde::Serialize;

use super::workload::{Attention, Dtype, WeightsDtype, Workload};
use super::Prepared;
use crate::core::arch::{Layout, Role, Shape, Task};
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::{MethodKind, ModuleRef};

use crate::core::units::GIB;

/// Named constants of the model, printed with every estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assumptions {
    /// CUDA context, cuBLAS workspaces, NCCL buffers (GiB, per GPU).
    pub runtime_overhead_gib: f64,
    /// Same for a CPU process (GiB).
    pub cpu_runtime_overhead_gib: f64,
    /// Caching-allocator slack as a fraction of allocated bytes.
    pub allocator_slack: f64,
    /// Kernel-launch / Python overhead per block per micro-batch (s); fitted to the short-sequence
    /// Qwen-7B LoRA rows (1.2 s/it at 256 tokens), see `peftcost validate`.
    pub launch_overhead_per_layer_s: f64,
    /// Effective bytes moved per quantized weight per pass when dequantizing (QLoRA), fitted to
    /// the Qwen-7B Q-LoRA rows.
    pub dequant_bytes_per_weight: f64,
    /// Fraction of memory bandwidth reached by the optimizer step.
    pub optimizer_bandwidth_efficiency: f64,
    /// Fraction of link bandwidth reached by all-reduce / all-gather.
    pub link_efficiency: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            runtime_overhead_gib: 1.0,
            cpu_runtime_overhead_gib: 0.3,
            allocator_slack: 0.08,
            launch_overhead_per_layer_s: 0.0025,
            dequant_bytes_per_weight: 18.0,
            optimizer_bandwidth_efficiency: 0.7,
            link_efficiency: 0.7,
        }
    }
}

/// FLOPs per processed token, by phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct FlopsPerToken {
    pub forward: f64,
    pub backward_input: f64,
    pub backward_weight: f64,
    pub recompute: f64,
    pub total: f64,
}

/// Memory of one device, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct MemoryBreakdown {
    pub weights: u64,
    pub trainable_state: u64,
    pub activations: u64,
    pub logits: u64,
    pub overhead: u64,
    pub total: u64,
}

/// Shapes and counts the physics reads, computed once per prepared scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shapes {
    pub layers: f64,
    pub hidden: f64,
    pub attn_dim: f64,
    pub kv_dim: f64,
    pub ff: f64,
    pub heads: f64,
    pub vocab: f64,
    pub gated_mlp: bool,
    pub causal: bool,
    pub bert_dropout: bool,
    /// Matmul weights of one block.
    pub block_matmul: f64,
    /// Matmul weights of the LM head (0 without one).
    pub head_matmul: f64,
    /// Linear weights in the blocks (quantizable).
    pub linear_params: f64,
    /// Every other base parameter (embeddings, norms, head if untied).
    pub other_params: f64,
    /// Method extras per block per token (multiply-adds): LoRA A/B, adapter projections.
    pub extra_matmul_per_layer: f64,
    /// Extra multiply-adds per token outside the blocks (LoRA on the head).
    pub extra_matmul_global: f64,
    /// Trainable matmul weights per token (weight-gradient multiply-adds).
    pub trainable_matmul: f64,
    /// Activations saved per token per block beyond the frozen path (elements).
    pub method_saved_per_layer: f64,
    pub extra_tokens: f64,
    pub prefix_tokens: f64,
    pub adapter_params: f64,
    pub base_unfrozen: f64,
    pub saved_copies: f64,
    pub kind: MethodKind,
}

impl Shapes {
    pub fn new(p: &Prepared) -> Self {
        let prof = &p.scenario.profile;
        let inv = &p.inventory;
        let m = &p.method;
        let layout = prof.family.layout();
        let l = inv.num_layers as f64;
        let block_matmul: f64 = inv
            .layer
            .iter()
            .map(|x| x.shape.matmul_params() as f64)
            .sum();
        let head = inv
            .head()
            .filter(|_| inv.task == Task::CausalLm)
            .map_or(0.0, |h| h.shape.matmul_params() as f64);
        let linear_params = l * block_matmul;
        let other_params = inv.total_params() as f64 - linear_params;
        let kind = m.config.kind;
        let rank = m.config.rank as f64;

        // Which Linear inputs must be kept for weight gradients, and LoRA's x*A.
        let mut needs_attn_in = false;
        let mut needs_mlp_in = false;
        let mut needs_down_in = false;
        let mut extra_global = 0.0;
        let mut lora_xa = 0.0;
        let full = kind == MethodKind::Full;
        let mut mark = |role: Role| match role {
            Role::Q | Role::K | Role::V | Role::Qkv => needs_attn_in = true,
            Role::Gate | Role::Up | Role::GateUp => needs_mlp_in = true,
            Role::Down => needs_down_in = true,
            _ => {}
        };
        if full {
            for role in [Role::Q, Role::Gate, Role::Down] {
                mark(role);
            }
        }
        if kind.is_lora() {
            for r in &m.targets {
                let module = r.module(inv);
                match r {
                    ModuleRef::Layer(_) => {
                        mark(module.role);
                        lora_xa += rank;
                    }
                    ModuleRef::Global(_) => {
                        if let Shape::Linear { inp, out, .. } = module.shape {
                            extra_global += rank * (inp + out) as f64;
                        }
                    }
                }
            }
        }
        if kind == MethodKind::Ia3 {
            for r in &m.targets {
                mark(r.module(inv).role);
            }
        }
        let h = prof.hidden_size as f64;
        let ff = prof.intermediate_size as f64;
        let mut method_saved = lora_xa;
        if needs_attn_in {
            method_saved += h;
        }
        if needs_mlp_in {
            method_saved += h;
        }
        if needs_down_in {
            method_saved += ff;
        }
        if kind == MethodKind::Adapter {
            method_saved += m.adapters_per_layer() as f64 * (h + 2.0 * m.bottleneck as f64);
        }
        let extra_per_layer = m.added_matmul_per_layer(inv) as f64;
        // Weight-gradient multiply-adds per token.
        let saved_matmul: f64 = m
            .saved
            .iter()
            .map(|r| r.module(inv).shape.matmul_params() as f64 * r.count(inv) as f64)
            .sum();
        let trainable_matmul = if full {
            linear_params + head
        } else {
            l * extra_per_layer + extra_global + saved_matmul
        };
        let (extra_tokens, prefix_tokens) = match kind {
            MethodKind::Prompt | MethodKind::Ptuning => (m.virtual_tokens as f64, 0.0),
            MethodKind::Prefix => (0.0, m.virtual_tokens as f64),
            _ => (0.0, 0.0),
        };
        Shapes {
            layers: l,
            hidden: h,
            attn_dim: prof.attn_dim() as f64,
            kv_dim: prof.kv_dim() as f64,
            ff,
            heads: prof.num_heads as f64,
            vocab: prof.vocab_size as f64,
            gated_mlp: layout != Layout::Bert,
            causal: layout != Layout::Bert,
            bert_dropout: layout == Layout::Bert,
            block_matmul,
            head_matmul: head,
            linear_params,
            other_params,
            extra_matmul_per_layer: extra_per_layer,
            extra_matmul_global: extra_global,
            trainable_matmul,
            method_saved_per_layer: method_saved,
            extra_tokens,
            prefix_tokens,
            adapter_params: m.counts.added as f64,
            base_unfrozen: m.counts.base_unfrozen as f64,
            saved_copies: m.counts.saved_copies as f64,
            kind,
        }
    }

    /// Tokens each sequence really has (prompt tuning prepends its virtual tokens).
    pub fn seq_tokens(&self, seq_len: u64) -> f64 {
        seq_len as f64 + self.extra_tokens
    }

    /// Average attention context per query token.
    fn context(&self, s: f64, attention: Attention) -> f64 {
        let keys = if self.causal && attention == Attention::Sdpa {
            (s + 1.0) / 2.0
        } else {
            s
        };
        keys + self.prefix_tokens
    }

    /// FLOPs per processed token at sequence length `seq_len`.
    pub fn flops_per_token(&self, w: &Workload) -> FlopsPerToken {
        let s = self.seq_tokens(w.seq_len);
        let attn = 4.0 * self.attn_dim * self.context(s, w.attention) * self.layers;
        let blocks = 2.0 * self.layers * (self.block_matmul + self.extra_matmul_per_layer);
        let head = 2.0 * (self.head_matmul + self.extra_matmul_global);
        let forward = blocks + head + attn;
        let attn_bwd = match w.attention {
            Attention::Sdpa => 2.5,
            Attention::Eager => 2.0,
        };
        let backward_input = blocks + head + attn_bwd * attn;
        let backward_weight = 2.0 * self.trainable_matmul;
        let recompute = if w.grad_checkpointing {
            blocks + attn
        } else {
            0.0
        };
        FlopsPerToken {
            forward,
            backward_input,
            backward_weight,
            recompute,
            total: forward + backward_input + backward_weight + recompute,
        }
    }

    /// Activation elements saved per token per block on the frozen path plus the method's.
    fn saved_per_layer(&self) -> f64 {
        let mlp = if self.gated_mlp {
            3.0 * self.ff
        } else {
            self.ff
        };
        // norm inputs (2h), q, k, v, attention output, MLP internals.
        2.0 * self.hidden
            + self.attn_dim
            + 2.0 * self.kv_dim
            + self.attn_dim
            + mlp
            + self.method_saved_per_layer
    }

    /// Memory of one device for micro-batch `b`.
    pub fn memory(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
        b: u64,
    ) -> MemoryBreakdown {
        let n = w.gpus as f64;
        let act_bytes = dtype.bytes();
        let s = self.seq_tokens(w.seq_len);
        let b = b as f64;
        // Weights: quantizable Linears in the load dtype, the rest in 16-bit when quantized.
        let mut weights = self.linear_params * w.weights_dtype.linear_bytes()
            + self.other_params * w.weights_dtype.other_bytes();
        let base_bytes = w.weights_dtype.other_bytes();
        // Trainable state: peft keeps added weights in fp32 (weight, grad, optimizer state);
        // unfrozen base weights add grad + optimizer state in their own dtype; modules_to_save
        // copies add the copy too.
        let opt = |bytes: f64| w.optimizer.state_bytes(bytes);
        let adapter = self.adapter_params * (4.0 + 4.0 + opt(4.0));
        let copies = self.saved_copies * (base_bytes + base_bytes + opt(base_bytes));
        let (grads, states) = if self.kind == MethodKind::Full {
            let pb = match w.weights_dtype {
                WeightsDtype::Fp32 => 4.0,
                _ => 2.0,
            };
            (self.base_unfrozen * pb, self.base_unfrozen * opt(pb))
        } else {
            let pb = base_bytes;
            (self.base_unfrozen * pb, self.base_unfrozen * opt(pb))
        };
        // ZeRO shards optimizer state (1), + gradients (2), + parameters (3) over the GPUs.
        let shard = |stage: u8| {
            if w.gpus > 1 && w.zero >= stage {
                n
            } else {
                1.0
            }
        };
        weights /= shard(3);
        let trainable_state =
            states / shard(1) + grads / shard(2) + (adapter + copies) / shard(1).max(1.0);

        let per_layer = self.saved_per_layer();
        let eager = w.attention == Attention::Eager;
        let ctx = s + self.prefix_tokens;
        // Eager attention keeps softmax probabilities (compute dtype) and, in BERT, a dropout mask.
        let scores_per_layer = if eager {
            self.heads * s * ctx * (act_bytes + if self.bert_dropout { 1.0 } else { 0.0 })
        } else {
            0.0
        };
        let masks = if self.bert_dropout {
            2.0 * self.hidden
        } else {
            0.0
        };
        let block = s * (per_layer * act_bytes + masks) + scores_per_layer;
        let activations = if w.grad_checkpointing {
            b * (self.layers * s * self.hidden * act_bytes + block)
        } else {
            b * self.layers * block
        } + b * s * self.hidden * act_bytes * 2.0;
        // An fp32 head (fp32 training, or upcast by prepare_model_for_kbit_training) makes fp32
        // logits: no separate upcast copy.
        let logit_bytes = if dtype == Dtype::Fp32 || w.weights_dtype.is_quantized() {
            8.0
        } else {
            act_bytes + 8.0
        };
        let logits = if self.head_matmul > 0.0 {
            b * s * self.vocab * logit_bytes
        } else {
            0.0
        };
        let runtime = match hw.kind {
            HardwareKind::Gpu => a.runtime_overhead_gib,
            HardwareKind::Cpu => a.cpu_runtime_overhead_gib,
        } * GIB;
        let allocated = weights + trainable_state + activations + logits;
        let overhead = runtime + a.allocator_slack * allocated;
        MemoryBreakdown {
            weights: weights as u64,
            trainable_state: trainable_state as u64,
            activations: activations as u64,
            logits: logits as u64,
            overhead: overhead as u64,
            total: (allocated + overhead) as u64,
        }
    }

    /// The largest micro-batch that fits (memory is affine in the micro-batch), 0 if none.
    pub fn max_micro_batch(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
    ) -> u64 {
        let m1 = self.memory(w, dtype, hw, a, 1).total as f64;
        let m2 = self.memory(w, dtype, hw, a, 2).total as f64;
        let per = (m2 - m1).max(1.0);
        let cap = hw.memory_bytes();
        if m1 > cap {
            return 0;
        }
        (((cap - m1) / per).floor() as u64 + 1).min(65_536)
    }

    /// Seconds for one optimizer step on one device, if the hardware has a peak for `dtype`.
    pub fn step_seconds(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
        mfu: f64,
        mem: &MemoryBreakdown,
    ) -> Option<f64> {
        let peak = hw.peak_flops(dtype)?;
        let s = self.seq_tokens(w.seq_len);
        let tokens_mb = w.micro_batch as f64 * s;
        let f = self.flops_per_token(w);
        let passes = if w.grad_checkpointing { 3.0 } else { 2.0 };
        let mut micro =
            tokens_mb * f.total / (peak * mfu) + self.layers * a.launch_overhead_per_layer_s;
        let bw = hw.bandwidth_bytes();
        if w.weights_dtype.is_quantized() {
            if let Some(bw) = bw {
                micro += passes * self.linear_params * a.dequant_bytes_per_weight / bw;
            }
        }
        let n = w.gpus as f64;
        let link = hw
            .interconnect_gbs
            .filter(|g| *g > 0.0)
            .map(|g| g * 1e9 * a.link_efficiency);
        if w.gpus > 1 && w.zero >= 3 {
            if let Some(link) = link {
                // ZeRO-3 all-gathers the parameters for every forward, backward (and recompute).
                micro += passes * (n - 1.0) / n * mem.weights as f64 * n / link;
            }
        }
        let mut step = w.grad_accum as f64 * micro;
        if let Some(bw) = bw {
            // The optimizer reads and writes every byte of trainable state once.
            step += 2.0 * mem.trainable_state as f64 / (bw * a.optimizer_bandwidth_efficiency);
        }
        if w.gpus > 1 {
            if let Some(link) = link {
                let trainable = self.adapter_params + self.base_unfrozen + self.saved_copies;
                let grad_bytes = trainable
                    * if self.kind == MethodKind::Full {
                        dtype.bytes()
                    } else {
                        4.0
                    };
                step += 2.0 * (n - 1.0) / n * grad_bytes / link;
            }
        }
        Some(step)
    }
}
