//! Training physics, split by term: this file holds the shapes every term reads ([`Shapes`]) and
//! the named constants ([`Assumptions`]); [`super::flops`] the FLOPs per token,
//! [`super::memory`] one function per term of the memory breakdown, [`super::time`] the step
//! time.
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
//! - Mixtures of experts: memory holds every expert; FLOPs, saved activations and LoRA's x*A
//!   follow the routed ones (each token keeps a copy of its input per expert). Warts: routed
//!   GEMMs are taken at the dense MFU, though few tokens per expert run them slower; QLoRA
//!   quantizes the fused experts like Linears; routing is uniform.
//! - Expert parallelism (`expert_parallel`, EP = gpus): a device keeps ceil(E/gpus) of each
//!   block's experts and their trainable state, and pays two all-to-alls of every token's hidden
//!   state per sparse block and pass over the device link, not overlapped with compute. Wart:
//!   no load imbalance, and the all-to-all is timed at ring bandwidth.
//! - Sliding-window blocks are timed as full causal attention in training: transformers'
//!   SDPA path applies the window as a mask over whole tiles (flash-attention would skip them).

use serde::Serialize;

use super::workload::Attention;
use super::Prepared;
use crate::core::arch::{Layout, Role, Shape, Task};
use crate::core::peft::{MethodKind, ModuleRef};

/// Named constants of the model, printed with every estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assumptions {
    /// CUDA context, cuBLAS workspaces, NCCL buffers (GiB, per GPU).
    pub runtime_overhead_gib: f64,
    /// A CPU training process before its model (GiB): Python with torch, transformers and peft
    /// imported is 736 MiB resident (torch 2.15, transformers 5.25, peft 0.21;
    /// `floor_rss_bytes` of every case in `tests/truth/cpu_truth.json`).
    pub cpu_runtime_overhead_gib: f64,
    /// Caching-allocator slack as a fraction of allocated bytes.
    pub allocator_slack: f64,
    /// Kernel-launch / Python overhead per block per micro-batch (s); fitted to the short-sequence
    /// Qwen-7B LoRA rows (1.2 s/it at 256 tokens), see `peftcost validate`.
    pub launch_overhead_per_layer_s: f64,
    /// Effective bytes moved per quantized weight per pass when dequantizing (QLoRA), fitted to
    /// the Qwen-7B Q-LoRA rows.
    pub dequant_bytes_per_weight: f64,
    /// Fraction of a datasheet memory bandwidth reached by the optimizer step and other
    /// streaming kernels (a bandwidth `bench` measured is taken as reached).
    pub optimizer_bandwidth_efficiency: f64,
    /// Seconds PyTorch spends dispatching one op on a CPU (autograd recording included):
    /// 6.7 µs, an elementwise add of two 64-element tensors with its backward, median of 200
    /// (`tests/truth/cpu_components.py`, torch 2.15, this 2-core machine).
    pub cpu_op_latency_s: f64,
    /// Seconds `torch.nn.functional.dropout` takes per element on a CPU in training (a scalar
    /// Bernoulli draw, the scaling and the product): 9.6 ns, the median of 9 medians over 1,
    /// 2 and 8 Mi fp32 elements at 2 threads (7.3-10.0 ns; `tests/truth/cpu_components.py`,
    /// torch 2.15, this 2-core machine).
    pub cpu_dropout_s_per_element: f64,
    /// Fraction of a CPU's FMA peak torch's CPU flash-attention kernel reaches, forward +
    /// backward, counting FLOPs as `flops.rs` does: 0.30, 104-109 GFLOP/s at [1-4, 8 heads,
    /// 512, 64] causal against the 346 GFLOP/s FMA peak (56-78 at 128 tokens;
    /// `tests/truth/cpu_components.json`, torch 2.15, 2 threads).
    pub cpu_attention_efficiency: f64,
    /// Fraction of link bandwidth reached by all-reduce / all-gather.
    pub link_efficiency: f64,
    /// Host DRAM bandwidth one GPU's offloaded optimizer step gets, GB/s: a DGX A100 has two
    /// AMD EPYC 7742 with 8 channels of DDR4-3200 each (NVIDIA DGX A100 user guide; AMD's
    /// 7742 page), 16 x 25.6 = 409.6 GB/s for 8 GPUs, 51.2 each, theoretical. The CPU Adam
    /// step is memory-bound (DeepSpeed's is vectorised and multi-threaded).
    pub host_memory_gbs: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            runtime_overhead_gib: 1.0,
            cpu_runtime_overhead_gib: 0.72,
            allocator_slack: 0.08,
            launch_overhead_per_layer_s: 0.0025,
            dequant_bytes_per_weight: 18.0,
            optimizer_bandwidth_efficiency: 0.7,
            cpu_op_latency_s: 6.7e-6,
            cpu_dropout_s_per_element: 9.6e-9,
            cpu_attention_efficiency: 0.30,
            link_efficiency: 0.7,
            host_memory_gbs: 51.2,
        }
    }
}

/// Shapes and counts the physics reads, computed once per prepared scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shapes {
    /// Number of blocks.
    pub layers: f64,
    /// Hidden size.
    pub hidden: f64,
    /// Width of all query heads together (heads × head dim).
    pub attn_dim: f64,
    /// Width of all key (or value) heads together.
    pub kv_dim: f64,
    /// Width of one MLP branch.
    pub ff: f64,
    /// Attention heads.
    pub heads: f64,
    /// Vocabulary size.
    pub vocab: f64,
    /// Whether the MLP has a gate branch (every decoder; not BERT).
    pub gated_mlp: bool,
    /// Whether attention is causal (decoders; not BERT).
    pub causal: bool,
    /// Whether BERT-style dropout masks are stored (encoders).
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
    /// Adapted modules per block (LoRA / DoRA / IA3 wrappers, each running its own small ops).
    pub adapted_modules_per_layer: f64,
    /// LoRA rank (0 for other methods).
    pub lora_rank: f64,
    /// Extra multiply-adds per token outside the blocks (LoRA on the head).
    pub extra_matmul_global: f64,
    /// Trainable matmul weights per token (weight-gradient multiply-adds).
    pub trainable_matmul: f64,
    /// Activations saved per token per block beyond the frozen path (elements).
    pub method_saved_per_layer: f64,
    /// Inputs of the block's Linears per token (elements; each routed expert's copy counted):
    /// what bitsandbytes' k-bit matmuls save for backward, one compute-dtype copy each.
    pub linear_inputs_per_layer: f64,
    /// Virtual tokens prepended to every sequence (prompt tuning, P-tuning).
    pub extra_tokens: f64,
    /// Prefix key/value tokens in every block (prefix tuning).
    pub prefix_tokens: f64,
    /// Parameters the method adds.
    pub adapter_params: f64,
    /// Base parameters unfrozen in place.
    pub base_unfrozen: f64,
    /// Trainable copies of `modules_to_save`.
    pub saved_copies: f64,
    /// The PEFT method.
    pub kind: MethodKind,
    /// Weights of the fused experts (every expert, every block; 0 for a dense model).
    pub expert_params: f64,
    /// Routed experts per sparse block.
    pub experts: f64,
    /// Experts each token goes through in a sparse block.
    pub experts_per_token: f64,
    /// Blocks with experts.
    pub sparse_layers: f64,
    /// Of the trainable parameters, those inside the fused experts (full fine-tuning: the
    /// experts; LoRA on them: their A and B per expert).
    pub trainable_expert_params: f64,
}

/// Copies of a module's input a token makes: the routed experts of fused experts, else one.
fn routed_copies(shape: Shape) -> f64 {
    match shape {
        Shape::Experts { active, .. } => active as f64,
        _ => 1.0,
    }
}

impl Shapes {
    /// The shapes of a prepared scenario.
    pub fn new(p: &Prepared) -> Self {
        let prof = &p.scenario.profile;
        let inv = &p.inventory;
        let m = &p.method;
        let layout = prof.family.layout();
        let l = inv.num_layers as f64;
        // Per token: the routed experts only.
        let block_matmul = inv.block_matmul_mean();
        let head = inv
            .head()
            .filter(|_| inv.task == Task::CausalLm)
            .map_or(0.0, |h| h.shape.matmul_params() as f64);
        let linear_params = inv.block_stored_matmul() as f64;
        let other_params = inv.total_params() as f64 - linear_params;
        let kind = m.config.kind;
        let rank = m.config.rank as f64;

        // Which Linear inputs must be kept for weight gradients, and LoRA's x*A.
        let mut needs_attn_in = false;
        let mut needs_mlp_in = false;
        let mut needs_down_in = false;
        let mut needs_router_in = false;
        let mut extra_global = 0.0;
        let mut lora_xa = 0.0;
        let mut adapted = 0.0;
        let full = kind == MethodKind::Full;
        let mut mark = |role: Role| match role {
            Role::Q | Role::K | Role::V | Role::Qkv | Role::Kv => needs_attn_in = true,
            Role::Gate | Role::Up | Role::GateUp => needs_mlp_in = true,
            Role::Down => needs_down_in = true,
            Role::Router => needs_router_in = true,
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
                        adapted += module.count as f64 / l;
                        // x*A of every expert a token is routed to, in the blocks that hold it.
                        lora_xa += rank * routed_copies(module.shape) * module.count as f64 / l;
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
                let module = r.module(inv);
                mark(module.role);
                if let ModuleRef::Layer(_) = r {
                    adapted += module.count as f64 / l;
                }
            }
        }
        let h = prof.hidden_size as f64;
        // The MLP width a token goes through (its experts' for a mixture of experts), and the
        // copies of its input the experts keep for their weight gradients.
        let ff = inv.mean_active_mlp_width();
        let mlp_copies = prof.mlp_input_copies();
        let mut method_saved = lora_xa;
        if needs_attn_in {
            method_saved += h;
        }
        if needs_mlp_in {
            method_saved += h * mlp_copies;
        }
        // The router reads the MLP input once, before it is copied to the experts.
        if needs_router_in && !needs_mlp_in {
            method_saved += h;
        }
        if needs_down_in {
            method_saved += ff;
        }
        if kind == MethodKind::Adapter {
            method_saved += m.adapters_per_layer() as f64 * (h + 2.0 * m.bottleneck as f64);
        }
        let linear_inputs_per_layer = inv
            .layer
            .iter()
            .map(|x| match x.shape {
                Shape::Linear { inp, .. } => (inp * x.count) as f64,
                Shape::Experts { active, inp, .. } => (active * inp * x.count) as f64,
                _ => 0.0,
            })
            .sum::<f64>()
            / l;
        let extra_per_layer = m.added_matmul_per_layer(inv);
        // Weight-gradient multiply-adds per token.
        let saved_matmul: f64 = m
            .saved
            .iter()
            .map(|r| r.module(inv).shape.matmul_params() as f64 * r.count(inv) as f64)
            .sum();
        let trainable_matmul = if full {
            l * block_matmul + head
        } else {
            l * extra_per_layer + extra_global + saved_matmul
        };
        let expert_modules = || {
            inv.layer
                .iter()
                .filter(|x| matches!(x.shape, Shape::Experts { .. }))
        };
        let trainable_expert_params = if full {
            inv.expert_params() as f64
        } else if kind.is_lora() {
            m.targets
                .iter()
                .map(|r| r.module(inv))
                .filter(|x| matches!(x.shape, Shape::Experts { .. }))
                .map(|x| (x.count * x.shape.lora_params(m.config.rank)) as f64)
                .sum()
        } else {
            0.0
        };
        let (experts, experts_per_token, sparse_layers) = expert_modules()
            .find_map(|x| match x.shape {
                Shape::Experts { num, active, .. } => {
                    Some((num as f64, active as f64, x.count as f64))
                }
                _ => None,
            })
            .unwrap_or((0.0, 0.0, 0.0));
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
            adapted_modules_per_layer: adapted,
            lora_rank: if kind.is_lora() {
                m.config.rank as f64
            } else {
                0.0
            },
            extra_matmul_global: extra_global,
            trainable_matmul,
            method_saved_per_layer: method_saved,
            linear_inputs_per_layer,
            extra_tokens,
            prefix_tokens,
            adapter_params: m.counts.added as f64,
            base_unfrozen: m.counts.base_unfrozen as f64,
            saved_copies: m.counts.saved_copies as f64,
            kind,
            expert_params: inv.expert_params() as f64,
            experts,
            experts_per_token,
            sparse_layers,
            trainable_expert_params,
        }
    }

    /// The share of the fused experts one device holds: all of them, or with expert parallelism
    /// over `gpus` devices ceil(E / gpus) of the E experts.
    pub fn expert_share(&self, w: &super::Workload) -> f64 {
        if self.expert_sharded(w) {
            (self.experts / w.gpus as f64).ceil() / self.experts
        } else {
            1.0
        }
    }

    /// Whether the job shards its experts (expert parallelism on more than one device).
    pub fn expert_sharded(&self, w: &super::Workload) -> bool {
        w.expert_parallel && w.gpus > 1 && self.experts > 0.0
    }

    /// Tokens each sequence really has (prompt tuning prepends its virtual tokens).
    pub fn seq_tokens(&self, seq_len: u64) -> f64 {
        seq_len as f64 + self.extra_tokens
    }

    /// Average attention context per query token.
    pub(super) fn context(&self, s: f64, attention: Attention) -> f64 {
        let keys = if self.causal && attention == Attention::Sdpa {
            (s + 1.0) / 2.0
        } else {
            s
        };
        keys + self.prefix_tokens
    }
}
