//! Training memory per device as the maximum over the phases of a step (design §6): the end of
//! the forward pass, the backward pass and the optimizer step, each the sum of the buffers
//! alive in it, with their dtypes:
//!
//! - weights (all phases); trainable weights and optimizer state (all phases: they persist
//!   between steps); gradients (from the backward pass to the step, and through the forward
//!   passes too when micro-batches accumulate into them; `zero_grad(set_to_none=True)` frees
//!   them otherwise);
//! - saved activations (forward end and backward): every block's, or with checkpointing each
//!   block's input, plus in backward the one block being recomputed; attention keeps no
//!   s x s tensor under flash or memory-efficient SDPA, but eager attention and the CPU's math
//!   path (torch's CPU flash kernel refuses dropout, BERT's 0.1) keep probabilities, dropout
//!   noise or masks and dropped probabilities;
//! - the loss path of a causal LM (transformers >= 4.46 `ForCausalLMLoss` under the Trainer):
//!   forward end = head output in the compute dtype + its fp32 upcast + the fp32 log-softmax
//!   cross-entropy saves (10 bytes per logit in 16-bit, 8 when the head is already fp32);
//!   backward = the saved log-softmax + the dense fp32 NLL gradient + the log-softmax input
//!   gradient (12 bytes per logit; the Trainer drops the model output before backward, so the
//!   16-bit logits are gone by then);
//!   Model code that does not upcast (2023 remote code such as Qwen v1) keeps a shifted
//!   16-bit copy instead and, under a DeepSpeed engine (no autocast), a 16-bit loss path;
//! - the optimizer's own temporaries (optimizer step; foreach AdamW's sqrt(v); DeepSpeed's
//!   flattened gradient partition and its fp32 upcast);
//! - DeepSpeed ZeRO-2/3's reduce buckets (backward) and ZeRO-3's gathered parameters (the
//!   largest unit in flight and the prefetched next block, forward and backward).
//!
//! A DeepSpeed engine (`zero` >= 1 with a 16-bit compute dtype) casts the whole model,
//! adapters included, to that dtype and keeps fp32 master copies with the optimizer state.
//!
//! The residual stream, the norms' inputs and the checkpoints are in the compute dtype, except
//! with bitsandbytes k-bit weights, whose preparation upcasts embeddings, norms and head to
//! fp32 (so those buffers and the logits are fp32) and whose matmuls each keep a compute-dtype
//! copy of their input; GPTQ keeps the 16-bit residual.
//!
//! Allocated (the peak phase) is what `torch.cuda.max_memory_allocated` reports; reserved adds
//! the caching allocator's slack; the total adds the runtime (CUDA context and workspaces, or a
//! CPU process's floor) and is what nvidia-smi shows: the fit criterion.
//!
//! A `calibrate --from-log` calibration adds a signed per-family offset to the overhead term: the
//! bytes a real run's peak held beyond the modelled terms, constant across scenarios.
//!
//! Warts: the backward peak is taken at its start (all saved activations and the loss
//! gradients together), and gradients of the head, produced first, are counted only from the
//! end of backward; the allocator slack is a flat fraction, though fragmentation grows with
//! mixed buffer sizes (full fine-tuning at long sequences measured +10-20% on an H200).

use serde::Serialize;

use super::physics::{Assumptions, Shapes};
use super::workload::{
    Attention, Dtype, LossKernel, Offload, Optimizer, WeightsDtype, Workload, DEEPSPEED_SUB_GROUP,
    LOSS_CHUNKS,
};
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::MethodKind;
use crate::core::units::GIB;

/// The phase of a training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The end of the forward pass, while the loss is computed.
    #[default]
    Forward,
    /// The start of the backward pass (or the recomputation of one checkpointed block).
    Backward,
    /// The optimizer step.
    Optimizer,
}

impl Phase {
    /// The lowercase name, e.g. `backward`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Forward => "forward",
            Phase::Backward => "backward",
            Phase::Optimizer => "optimizer",
        }
    }
}

/// Bytes allocated in each phase of a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct PhaseBytes {
    /// At the end of the forward pass.
    pub forward: u64,
    /// At the start of the backward pass.
    pub backward: u64,
    /// During the optimizer step.
    pub optimizer: u64,
}

/// One buffer of the step: what it holds, its dtype, its size and the phases it is alive in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Buffer {
    /// What it holds, e.g. `gradients`.
    pub name: &'static str,
    /// Its dtype, e.g. `fp32`, or `mixed`.
    pub dtype: &'static str,
    /// Its size on one device.
    pub bytes: u64,
    /// The phases it is alive in, e.g. `forward,backward`.
    pub phases: &'static str,
}

/// Memory of one device, in bytes. The five terms are those alive in the peak phase and sum to
/// `total`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct MemoryBreakdown {
    /// Base model weights.
    pub weights: u64,
    /// Trainable weights, gradients, optimizer state, the optimizer's temporaries and ZeRO's
    /// reduce buckets alive in the peak phase.
    pub trainable_state: u64,
    /// Saved activations alive in the peak phase.
    pub activations: u64,
    /// Logits and loss buffers alive in the peak phase.
    pub logits: u64,
    /// Runtime and allocator overhead, including any calibrated offset.
    pub overhead: u64,
    /// The part of `overhead` a `calibrate --from-log` calibration added (negative: removed),
    /// bytes; 0 uncalibrated.
    pub overhead_calibration: i64,
    /// What the device shows in use (nvidia-smi): reserved + runtime; the fit criterion.
    pub total: u64,
    /// The phase whose allocation is the peak.
    pub peak_phase: Phase,
    /// Bytes allocated in each phase (`torch.cuda.max_memory_allocated` is the largest).
    pub phases: PhaseBytes,
    /// Peak bytes allocated by tensors.
    pub allocated: u64,
    /// Peak bytes the caching allocator holds: allocated + its slack.
    pub reserved: u64,
    /// Dtype of the residual stream, norm inputs and checkpoints.
    pub residual_dtype: Dtype,
    /// The buffers of the step, with their lifetimes.
    pub buffers: [Buffer; 11],
    /// Host RAM holding offloaded activations (`offload_activations`; 0 otherwise), beyond the
    /// device's `total`.
    pub host_offload_bytes: u64,
    /// Host RAM holding this device's offloaded state (`--offload`: fp32 master weights,
    /// optimizer state, fp32 gradients, and with `params` its shard of the weights; 0
    /// otherwise), beyond the device's `total`. A machine needs this times its GPUs.
    pub host_state_bytes: u64,
}

impl MemoryBreakdown {
    /// Host RAM this device's job keeps beyond the device: offloaded state and activations.
    pub fn host_bytes(&self) -> u64 {
        self.host_state_bytes + self.host_offload_bytes
    }
}

/// The buffer of gradients FSDP accumulates unsharded beyond its shard (`no_sync`).
pub const NO_SYNC_GRADIENTS: &str =
    "FSDP gradients accumulated unsharded (no_sync), beyond the shard";

/// Trainable state on one device, by lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrainableState {
    /// Trainable weights the base weights do not hold (peft's fp32 adapters,
    /// modules_to_save copies) and optimizer state: alive across steps.
    pub persistent: f64,
    /// Gradients: alive from backward to the optimizer step.
    pub gradients: f64,
    /// What `--offload` keeps in host RAM instead: fp32 master weights, optimizer state and
    /// fp32 gradients (DeepSpeed), or the whole sharded state (FSDP); read and written once
    /// by the host's optimizer step.
    pub host: f64,
}

/// Saved activations for one micro-batch, by lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Activations {
    /// Alive from the forward pass through the backward pass: every block's saves, or with
    /// checkpointing every block's input.
    pub kept: f64,
    /// With checkpointing, one block's saves while it is recomputed in backward (else 0).
    pub recomputed: f64,
    /// Offloaded to host RAM between forward and backward (`offload_activations`).
    pub offloaded: f64,
}

/// Loss-path buffers per logit, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossBytes {
    /// At the end of the forward pass.
    pub forward: f64,
    /// At the start of the backward pass.
    pub backward: f64,
    /// Whether the loss and its gradients are computed in fp32 (else in 16-bit).
    pub fp32: bool,
}

impl Shapes {
    /// Dtype of the residual stream and the checkpoints: fp32 after bitsandbytes' k-bit
    /// preparation, else the compute dtype.
    pub fn residual_dtype(w: &Workload, dtype: Dtype) -> Dtype {
        if w.weights_dtype.upcasts_to_fp32() {
            Dtype::Fp32
        } else {
            dtype
        }
    }

    /// Bytes per value of [`Shapes::residual_dtype`].
    pub fn residual_bytes(w: &Workload, dtype: Dtype) -> f64 {
        Self::residual_dtype(w, dtype).bytes()
    }

    /// Activation bytes saved per token per block: each of the two norms saves an fp32 copy
    /// of its input ([`NORM_SAVED_BYTES`]); q, k, v, attention output, MLP internals and the
    /// method's saves in the compute dtype; with bitsandbytes Linears, each one's compute-dtype
    /// copy of its input.
    fn saved_per_layer_bytes(&self, w: &Workload, dtype: Dtype) -> f64 {
        let mlp = if self.gated_mlp {
            3.0 * self.ff
        } else {
            self.ff
        };
        let compute = self.attn_dim
            + 2.0 * self.kv_dim
            + self.attn_dim
            + mlp
            + self.method_saved_per_layer
            + if w.weights_dtype.upcasts_to_fp32() {
                self.linear_inputs_per_layer
            } else {
                0.0
            };
        2.0 * self.hidden * NORM_SAVED_BYTES + compute * dtype.bytes()
    }

    /// Base weights on one device: quantizable Linears in the load dtype, the rest in 16-bit
    /// (fp32 when quantized: k-bit preparation upcasts them); ZeRO-3 shards them, and expert
    /// parallelism keeps only the device's share of the experts (ZeRO then has no expert
    /// replicas left to shard).
    /// A DeepSpeed engine casts unquantized weights to the compute dtype (`module.half()` /
    /// `.bfloat16()`), whatever dtype they were loaded in.
    pub fn weights_bytes(&self, w: &Workload) -> f64 {
        let lb = Self::loaded_weight_bytes(w).0;
        let local_experts = self.local_expert_params(w);
        let sharded = if w.offload == Offload::Params {
            0.0
        } else {
            self.sharded_weight_bytes(w)
        };
        sharded + local_experts.1 * lb
    }

    /// The device's shard of the weights ZeRO-3 / FSDP shard (all of them on one device, or
    /// without sharding): what `--offload params` moves to host RAM.
    pub fn sharded_weight_bytes(&self, w: &Workload) -> f64 {
        self.gathered_weight_bytes(w) / zero_shard(w, 3)
    }

    /// Expert weights taken out of ZeRO's sharding, and those one device keeps: `(0, 0)`
    /// without expert parallelism.
    fn local_expert_params(&self, w: &Workload) -> (f64, f64) {
        if self.expert_sharded(w) {
            (
                self.expert_params,
                self.expert_params * self.expert_share(w),
            )
        } else {
            (0.0, 0.0)
        }
    }

    /// Weight bytes ZeRO-3 all-gathers for each pass: every weight it shards (the experts stay
    /// local under expert parallelism).
    pub fn gathered_weight_bytes(&self, w: &Workload) -> f64 {
        let (lb, ob) = Self::loaded_weight_bytes(w);
        let (sharded_experts, _) = self.local_expert_params(w);
        (self.linear_params - sharded_experts) * lb + self.other_params * ob
    }

    /// Bytes per base weight as the job holds them, (quantizable Linears, the rest): the load
    /// dtype's, or under a DeepSpeed engine the compute dtype's for unquantized weights.
    fn loaded_weight_bytes(w: &Workload) -> (f64, f64) {
        if w.deepspeed_16bit() && !w.weights_dtype.is_quantized() {
            (w.dtype.bytes(), w.dtype.bytes())
        } else {
            (
                w.weights_dtype.linear_bytes(),
                w.weights_dtype.other_bytes(),
            )
        }
    }

    /// Trainable state on one device: peft keeps added weights in fp32 (weight, grad, optimizer
    /// state); unfrozen base weights add grad + optimizer state in their own dtype;
    /// modules_to_save copies add the copy too. ZeRO shards optimizer state (1) and gradients (2).
    pub fn trainable_state(&self, w: &Workload) -> TrainableState {
        let base_bytes = w.weights_dtype.other_bytes();
        let opt = |bytes: f64| w.optimizer.state_bytes(bytes);
        let pb = self.full_param_bytes(w);
        // Expert parallelism: trainable expert parameters (the experts themselves, or their
        // LoRA) live only with their experts, unsharded by ZeRO.
        let (te, share) = if self.expert_sharded(w) {
            (self.trainable_expert_params, self.expert_share(w))
        } else {
            (0.0, 1.0)
        };
        let (te_base, te_adapter) = if self.kind == MethodKind::Full {
            (te, 0.0)
        } else {
            (0.0, te)
        };
        let dense_unfrozen = self.base_unfrozen - te_base;
        let dense_adapter = self.adapter_params - te_adapter;
        let (z1, z2) = (zero_shard(w, 1), zero_shard(w, 2));
        let adafactor = self.adafactor_state_bytes(w) / z1;
        if w.deepspeed_16bit() {
            // A DeepSpeed engine holds every trainable weight in 16-bit in the model (the
            // base's are counted with the weights; ZeRO-3 shards them), an fp32 master copy and
            // fp32 optimizer state beside it (sharded by ZeRO-1) and 16-bit gradients (sharded
            // by ZeRO-2).
            let dense = dense_unfrozen + dense_adapter + self.saved_copies;
            let master = 4.0 + opt(4.0);
            let half = w.dtype.bytes();
            let in_model = (dense_adapter + self.saved_copies) * half / zero_shard(w, 3)
                + te_adapter * half * share;
            let master_state = dense * master / z1 + adafactor + te * master * share;
            let gradients = dense * half / z2 + te * half * share;
            return match w.offload {
                Offload::None => TrainableState {
                    persistent: in_model + master_state,
                    gradients,
                    host: 0.0,
                },
                // ZeRO-Offload: the master, its state and fp32 gradients are the host's; the
                // device keeps the 16-bit model (not with offloaded parameters) and, under
                // ZeRO-1 only, its 16-bit gradients until the step (ZeRO-2/3 copy each
                // reduced partition out of the buckets).
                offload => TrainableState {
                    persistent: if offload == Offload::Params {
                        0.0
                    } else {
                        in_model
                    },
                    gradients: if w.zero >= 2 { 0.0 } else { gradients },
                    host: master_state + (dense / z1 + te * share) * 4.0,
                },
            };
        }
        // Adapters and modules_to_save copies are sharded as optimizer state (ZeRO-1).
        let adapter_persistent = (4.0 + opt(4.0)) / z1;
        let persistent = dense_unfrozen * opt(pb) / z1
            + adafactor
            + dense_adapter * adapter_persistent
            + self.saved_copies * (base_bytes + opt(base_bytes)) / z1
            + (te_base * opt(pb) + te_adapter * (4.0 + opt(4.0))) * share;
        let gradients = dense_unfrozen * pb / z2
            + dense_adapter * 4.0 / z1
            + self.saved_copies * base_bytes / z1
            + (te_base * pb + te_adapter * 4.0) * share;
        if w.offload == Offload::None {
            TrainableState {
                persistent,
                gradients,
                host: 0.0,
            }
        } else {
            // FSDP's CPUOffload: the sharded trainable weights, their gradients and the
            // optimizer state all live on the host, where the optimizer steps.
            TrainableState {
                persistent: 0.0,
                gradients: 0.0,
                host: persistent + gradients,
            }
        }
    }

    /// Adafactor's factored second moment (4-byte values; 0 for other optimizers): a row and a
    /// column per matrix, the whole of a vector. LoRA's A (r x in) and B (out x r) keep r + in
    /// and out + r, so all of them together keep adapter parameters / r + 2 r per module; full
    /// fine-tuning keeps every block's matrices' rows and columns, the norms whole, and the
    /// embedding's and head's vocab + hidden. Other adapters are costed unfactored (IA3's are
    /// vectors; an upper bound for the rest).
    fn adafactor_state_bytes(&self, w: &Workload) -> f64 {
        if w.optimizer != Optimizer::Adafactor {
            return 0.0;
        }
        let (h, a, kv, ff) = (self.hidden, self.attn_dim, self.kv_dim, self.ff);
        let values = if self.kind.is_lora() {
            let modules = self.adapted_modules_per_layer * self.layers;
            self.adapter_params / self.lora_rank.max(1.0) + 2.0 * self.lora_rank * modules
        } else {
            self.adapter_params
        } + if self.kind == MethodKind::Full {
            let branches = if self.gated_mlp { 2.0 } else { 1.0 };
            let block = (h + a) * 2.0 + (h + kv) * 2.0 + (h + ff) * (branches + 1.0) + 2.0 * h;
            self.layers * block + 2.0 * (self.vocab + h)
        } else {
            0.0
        };
        4.0 * values
    }

    /// Bytes per unfrozen base parameter (gradient and each state value) in full fine-tuning.
    fn full_param_bytes(&self, w: &Workload) -> f64 {
        if self.kind == MethodKind::Full {
            match w.weights_dtype {
                WeightsDtype::Fp32 => 4.0,
                _ => 2.0,
            }
        } else {
            w.weights_dtype.other_bytes()
        }
    }

    /// The optimizer step's own temporaries on one device (sharded like the state): the
    /// optimizer's; under a DeepSpeed engine it steps the fp32 master partition, a sub-group at
    /// a time, after flattening the sub-group's 16-bit gradients and upcasting them to fp32
    /// (`single_grad_partition`: ZeRO-1/2 a whole parameter group, ZeRO-3 `sub_group_size`
    /// elements; deepspeed/runtime/zero/stage3.py `_prepare_fp32_grad_for_sub_group`).
    fn optimizer_temporary_bytes(&self, w: &Workload, gpu: bool) -> f64 {
        let step = |bytes: f64| w.optimizer.step_temporary_bytes(bytes, gpu);
        let z1 = zero_shard(w, 1);
        if w.offload != Offload::None {
            // The optimizer steps on the host.
            return 0.0;
        }
        if w.deepspeed_16bit() {
            let partition = (self.base_unfrozen + self.adapter_params + self.saved_copies) / z1;
            let group = if w.zero >= 3 {
                partition.min(DEEPSPEED_SUB_GROUP)
            } else {
                partition
            };
            // The fp32 gradient is made from the flattened 16-bit copy (both alive), then the
            // step runs beside it with its own temporaries.
            return group * (4.0 + w.dtype.bytes().max(step(4.0)));
        }
        (self.base_unfrozen * step(self.full_param_bytes(w))
            + self.adapter_params * step(4.0)
            + self.saved_copies * step(w.weights_dtype.other_bytes()))
            / z1
    }

    /// Gathered parameters on one device beyond its own shard, alive in the forward and
    /// backward passes (0 unless parameters are sharded or offloaded; with offloaded
    /// parameters the device holds no shard, so the whole working set counts):
    /// - DeepSpeed ZeRO-3 gathers a module at a time in 16-bit with the next prefetched: the
    ///   largest unit in flight (a block, or the embedding / LM head: vocab x hidden) and a
    ///   block;
    /// - FSDP `FULL_SHARD` gathers a block at a time with the next prefetched
    ///   (`BACKWARD_PRE`; `limit_all_gathers` allows two in flight), in the mixed-precision
    ///   param dtype, and keeps the root unit (embedding, head, final norm: what no block
    ///   holds) gathered from forward to backward (the root does not reshard after forward).
    pub fn gathered_bytes(&self, w: &Workload) -> f64 {
        let offloaded = w.offload == Offload::Params;
        if w.zero < 3 || !(w.gpus >= 2 || offloaded) {
            return 0.0;
        }
        let not_own = if offloaded {
            1.0
        } else {
            1.0 - 1.0 / w.gpus as f64
        };
        if w.fsdp {
            let bytes = if w.dtype != Dtype::Fp32 && !w.weights_dtype.is_quantized() {
                w.dtype.bytes()
            } else {
                w.weights_dtype.linear_bytes()
            };
            return (self.other_params + 2.0 * self.block_matmul) * bytes * not_own;
        }
        let embedding = self.vocab * self.hidden;
        let unit = self.block_matmul.max(embedding);
        let bytes = if w.deepspeed_16bit() {
            w.dtype.bytes()
        } else {
            w.weights_dtype.other_bytes()
        };
        (unit + self.block_matmul) * bytes * not_own
    }

    /// Gradient bytes one device reduces, per replica of the trainable parameters: the
    /// compute dtype's under a DeepSpeed engine and for full fine-tuning, fp32 for peft's
    /// adapters otherwise. Sharded experts' gradients stay with their experts.
    pub(super) fn reduced_gradient_bytes(&self, w: &Workload, dtype: Dtype) -> f64 {
        let local = if self.expert_sharded(w) {
            self.trainable_expert_params
        } else {
            0.0
        };
        let trainable = self.adapter_params + self.base_unfrozen + self.saved_copies - local;
        trainable
            * if w.deepspeed_16bit() || self.kind == MethodKind::Full {
                dtype.bytes()
            } else {
                4.0
            }
    }

    /// Gradient bytes alive on one device while micro-batches accumulate (through the later
    /// forward passes and the backward passes): the step's sharded gradients, or under FSDP's
    /// `no_sync` accumulation ([`Workload::fsdp_accumulates_unsharded`]) every gradient whole,
    /// as one unsharded device holds them. With CPU offload FSDP keeps them on the host.
    fn accumulating_gradient_bytes(&self, w: &Workload, st: &TrainableState) -> f64 {
        if w.fsdp_accumulates_unsharded() && w.offload == Offload::None {
            self.trainable_state(&Workload { gpus: 1, ..*w }).gradients
        } else {
            st.gradients
        }
    }

    /// FSDP's reduce-scatter input in backward: one unit's unsharded gradients (a block's
    /// trainable weights in their gradient dtype); 0 unless FSDP shards, and under `no_sync`
    /// accumulation the accumulated gradients are that input.
    fn fsdp_unit_gradient_bytes(&self, w: &Workload, dtype: Dtype) -> f64 {
        if !(w.fsdp && w.gpus >= 2) || w.fsdp_accumulates_unsharded() {
            return 0.0;
        }
        self.reduced_gradient_bytes(w, dtype) / self.layers.max(1.0)
    }

    /// DeepSpeed ZeRO-2/3's reduce buckets, alive through the backward pass: gradients are
    /// copied into them in the compute dtype and reduced from there.
    pub fn zero_bucket_bytes(w: &Workload, dtype: Dtype) -> f64 {
        if w.zero >= 2 && !w.fsdp {
            w.zero_bucket as f64 * dtype.bytes()
        } else {
            0.0
        }
    }

    /// Saved activations for micro-batch `b` on a GPU or a CPU, by lifetime (see
    /// [`Activations`]); both include the embedding output and the final norm's input.
    pub fn activations(&self, w: &Workload, dtype: Dtype, b: f64, gpu: bool) -> Activations {
        let rb = Self::residual_bytes(w, dtype);
        let s = self.seq_tokens(w.seq_len);
        let ctx = s + self.prefix_tokens;
        let scores_per_layer =
            self.heads * s * ctx * Self::score_bytes(w.attention, self.bert_dropout, dtype, gpu);
        // BERT drops out the embeddings and both sublayers' outputs.
        let keep = Self::dropout_saved_bytes(dtype, gpu);
        let masks = if self.bert_dropout {
            2.0 * self.hidden * keep
        } else {
            0.0
        };
        let embedding_dropout = if self.bert_dropout {
            b * s * self.hidden * keep
        } else {
            0.0
        };
        let block = b * (s * (self.saved_per_layer_bytes(w, dtype) + masks) + scores_per_layer);
        // The embedding output (residual dtype) and the final norm's fp32 copy.
        let ends = b * s * self.hidden * (rb + NORM_SAVED_BYTES) + embedding_dropout;
        // What each block keeps from forward to backward: its input, or all its saves.
        let per_layer = if w.grad_checkpointing {
            b * s * self.hidden * rb
        } else {
            block
        };
        let recomputed = if w.grad_checkpointing { block } else { 0.0 };
        if w.offload_activations {
            // Offloaded to host RAM as each block finishes and fetched back ahead of its
            // backward: two blocks' worth on the device (one in transfer, one in use).
            let on_device = self.layers.min(2.0);
            Activations {
                kept: on_device * per_layer + ends,
                recomputed,
                offloaded: self.layers * per_layer,
            }
        } else {
            Activations {
                kept: self.layers * per_layer + ends,
                recomputed,
                offloaded: 0.0,
            }
        }
    }

    /// What dropout keeps per value for backward: CUDA's fused kernel (`native_dropout`) a
    /// 1-byte mask; on a CPU `at::dropout` is not fused and keeps its scaled Bernoulli noise in
    /// the input's dtype (the `mul` it is applied with saves it).
    fn dropout_saved_bytes(dtype: Dtype, gpu: bool) -> f64 {
        if gpu {
            1.0
        } else {
            dtype.bytes()
        }
    }

    /// Whether attention on a CPU materialises its s x s scores (eager, or the math path
    /// under dropout), as [`Shapes::score_bytes`] counts them.
    pub(super) fn cpu_keeps_scores(attention: Attention, dropout: bool) -> bool {
        Self::score_bytes(attention, dropout, Dtype::Fp32, false) > 0.0
    }

    /// Bytes each layer keeps per head per query-key pair, by the kernel torch picks:
    /// - eager: the softmax output (saved by softmax and by the matmul with V) and, with
    ///   dropout, the dropout's saved tensor and the dropped probabilities the matmul saves;
    /// - SDPA on a GPU: flash or memory-efficient attention, which keep no s x s tensor (their
    ///   dropout replays its random numbers);
    /// - SDPA on a CPU with dropout (BERT's 0.1 in training): torch's CPU flash kernel refuses
    ///   dropout, so the math path runs: probabilities, dropout noise and dropped
    ///   probabilities, each in the compute dtype; without dropout the CPU flash kernel, none.
    fn score_bytes(attention: Attention, dropout: bool, dtype: Dtype, gpu: bool) -> f64 {
        let a = dtype.bytes();
        match (attention, dropout) {
            (Attention::Eager, false) => a,
            (Attention::Eager, true) => 2.0 * a + Self::dropout_saved_bytes(dtype, gpu),
            (Attention::Sdpa, true) if !gpu => 3.0 * a,
            (Attention::Sdpa, _) => 0.0,
        }
    }

    /// Loss-path bytes per logit (see the module docs). The head output is fp32 in fp32
    /// training or when k-bit preparation upcast the head, and then needs no upcast copy.
    /// Model code that does not upcast (`loss_upcast` false) shifts a 16-bit copy of the
    /// logits; under autocast cross-entropy still runs in fp32 (an fp32 copy and the fp32
    /// log-softmax), under a DeepSpeed engine it runs in 16-bit: forward the logits, the
    /// shifted copy and the log-softmax; backward the saved log-softmax, the NLL gradient, the
    /// log-softmax input gradient and the shift's full-size gradient, each 16-bit.
    pub fn loss_bytes_per_logit(w: &Workload, dtype: Dtype) -> LossBytes {
        let head_fp32 = dtype == Dtype::Fp32 || w.weights_dtype.upcasts_to_fp32();
        let half = dtype.bytes();
        // A loop that holds the model output keeps the head's logits through backward.
        let kept = if !w.loop_keeps_output {
            0.0
        } else if head_fp32 {
            4.0
        } else {
            half
        };
        let mut loss = Self::loss_path_bytes(w, head_fp32, half);
        loss.backward += kept;
        loss
    }

    /// Loss-path bytes per logit under the job's loss kernel: [`Shapes::loss_bytes_per_logit`]
    /// for transformers' loss, else torchtune's chunked loss or a fused linear cross-entropy.
    pub fn loss_bytes(&self, w: &Workload, dtype: Dtype) -> LossBytes {
        let head_fp32 = dtype == Dtype::Fp32 || w.weights_dtype.upcasts_to_fp32();
        let head = if head_fp32 { 4.0 } else { dtype.bytes() };
        match w.loss {
            LossKernel::Standard => Self::loss_bytes_per_logit(w, dtype),
            // Forward: every chunk's logits in the head's dtype, the fp32 log-softmax every
            // chunk saves, one chunk's fp32 upcast at a time. Backward: the saved log-softmax,
            // and one chunk's NLL gradient, log-softmax gradient and logits gradient at a time
            // (a loop holding the output keeps every chunk's logits too).
            LossKernel::Chunked => {
                let upcast = if head_fp32 { 0.0 } else { 4.0 };
                let kept = if w.loop_keeps_output { head } else { 0.0 };
                LossBytes {
                    forward: head + 4.0 + upcast / LOSS_CHUNKS,
                    backward: 4.0 + (8.0 + head) / LOSS_CHUNKS + kept,
                    fp32: true,
                }
            }
            // No logit outlives its chunk: a chunk of about tokens x hidden / vocab tokens
            // holds its logits (then their gradient, in place), i.e. hidden values a token,
            // and the hidden states' gradient is taken in forward and kept for backward:
            // 2 x hidden values a token, expressed per logit. (Liger rounds the chunk up to a
            // power of two: up to 2x the chunk's part, not modelled.)
            LossKernel::Fused => {
                let per_logit = 2.0 * self.hidden * head / self.vocab.max(1.0);
                LossBytes {
                    forward: per_logit,
                    backward: per_logit,
                    fp32: head_fp32,
                }
            }
        }
    }

    /// [`Shapes::loss_bytes_per_logit`] of a loop that drops the model output before backward.
    fn loss_path_bytes(w: &Workload, head_fp32: bool, half: f64) -> LossBytes {
        let (forward, backward, fp32) = if head_fp32 {
            (8.0, 12.0, true)
        } else if w.loss_upcast {
            (half + 8.0, 12.0, true)
        } else if w.deepspeed_16bit() {
            (3.0 * half, 4.0 * half, false)
        } else {
            (2.0 * half + 8.0, 12.0, true)
        };
        LossBytes {
            forward,
            backward,
            fp32,
        }
    }

    /// Logits of micro-batch `b`.
    pub(super) fn logit_count(&self, w: &Workload, b: f64) -> f64 {
        if self.head_matmul > 0.0 {
            b * self.seq_tokens(w.seq_len) * self.vocab
        } else {
            0.0
        }
    }

    /// Memory of one device for micro-batch `b`: the largest phase's allocation, the
    /// allocator's slack and the runtime.
    pub fn memory(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
        b: u64,
    ) -> MemoryBreakdown {
        let b = b as f64;
        let gpu = hw.kind == HardwareKind::Gpu;
        let w = &w.on(hw);
        let weights = self.weights_bytes(w);
        let state = self.trainable_state(w);
        // Accumulating micro-batches keep the gradients through the forward passes.
        let grads_fwd = if w.grad_accum > 1 {
            self.accumulating_gradient_bytes(w, &state)
        } else {
            0.0
        };
        let act = self.activations(w, dtype, b, gpu);
        let logits = self.logit_count(w, b);
        let loss = self.loss_bytes(w, dtype);
        let (loss_fwd, loss_bwd) = (logits * loss.forward, logits * loss.backward);
        let temporaries = self.optimizer_temporary_bytes(w, gpu);
        let host_state = state.host
            + if w.offload == Offload::Params {
                self.sharded_weight_bytes(w)
            } else {
                0.0
            };
        let kept_state = state.persistent + grads_fwd;
        let gathered = self.gathered_bytes(w);
        // (weights in flight and trainable state, activations, logits) alive in each phase.
        let forward = (kept_state + gathered, act.kept, loss_fwd);
        // Checkpointing: the loss gradients are gone before the last block is recomputed.
        let bucket = Self::zero_bucket_bytes(w, dtype) + self.fsdp_unit_gradient_bytes(w, dtype);
        let backward = if act.recomputed > loss_bwd {
            (
                kept_state + bucket + gathered,
                act.kept + act.recomputed,
                0.0,
            )
        } else {
            (kept_state + bucket + gathered, act.kept, loss_bwd)
        };
        let optimizer = if w.optimizer_in_backward {
            // Each parameter steps as soon as its gradient exists and frees it: at most the
            // largest trainable tensor's gradient and its step temporaries are alive at once
            // (an adapter's are kilobytes; full fine-tuning's largest is the vocab x hidden
            // embedding or head, else an MLP matrix).
            let largest = if self.base_unfrozen > 0.0 {
                (self.vocab * self.hidden).max(self.hidden * self.ff) * self.full_param_bytes(w)
            } else {
                0.0
            };
            let share = largest / state.gradients.max(1.0);
            (
                state.persistent + largest + temporaries * share.min(1.0),
                0.0,
                0.0,
            )
        } else {
            (state.persistent + state.gradients + temporaries, 0.0, 0.0)
        };
        let sum = |p: (f64, f64, f64)| weights + p.0 + p.1 + p.2;
        let (peak_phase, peak) = [
            (Phase::Forward, forward),
            (Phase::Backward, backward),
            (Phase::Optimizer, optimizer),
        ]
        .into_iter()
        .fold((Phase::Forward, forward), |best, next| {
            if sum(next.1) > sum(best.1) {
                next
            } else {
                best
            }
        });
        let allocated = sum(peak);
        let slack = a.allocator_slack * allocated;
        let runtime = runtime_bytes(hw, a);
        // A calibrated offset cannot make the overhead negative.
        let overhead = (slack + runtime + hw.memory_offset_for(self.kind)).max(0.0);
        let residual = Self::residual_dtype(w, dtype);
        let all = "forward,backward,optimizer";
        let grad_dtype = if w.deepspeed_16bit() {
            "16-bit"
        } else if self.kind == MethodKind::Full {
            dtype_name(self.full_param_bytes(w))
        } else {
            "fp32"
        };
        let buffers = [
            Buffer {
                name: "base weights",
                dtype: w.weights_dtype.as_str(),
                bytes: weights as u64,
                phases: all,
            },
            Buffer {
                name: "trainable weights and optimizer state",
                dtype: "fp32/param",
                bytes: state.persistent as u64,
                phases: all,
            },
            Buffer {
                name: "gradients",
                dtype: grad_dtype,
                bytes: state.gradients as u64,
                phases: if w.grad_accum > 1 {
                    all
                } else {
                    "backward,optimizer"
                },
            },
            Buffer {
                name: NO_SYNC_GRADIENTS,
                dtype: grad_dtype,
                bytes: (grads_fwd - state.gradients).max(0.0) as u64,
                phases: "forward,backward",
            },
            Buffer {
                name: if w.grad_checkpointing {
                    "checkpointed block inputs"
                } else {
                    "saved activations"
                },
                dtype: if w.grad_checkpointing {
                    residual.as_str()
                } else {
                    dtype.as_str()
                },
                bytes: act.kept as u64,
                phases: "forward,backward",
            },
            Buffer {
                name: "recomputed block",
                dtype: dtype.as_str(),
                bytes: act.recomputed as u64,
                phases: "backward",
            },
            Buffer {
                name: "loss forward (logits, their upcast or shifted copy, log-softmax)",
                dtype: if loss.fp32 { "mixed" } else { "16-bit" },
                bytes: loss_fwd as u64,
                phases: "forward",
            },
            Buffer {
                name: "loss backward (log-softmax and its gradients)",
                dtype: if loss.fp32 { "fp32" } else { "16-bit" },
                bytes: loss_bwd as u64,
                phases: "backward",
            },
            Buffer {
                name: "optimizer temporaries",
                dtype: "mixed",
                bytes: temporaries as u64,
                phases: "optimizer",
            },
            Buffer {
                name: if w.fsdp {
                    "FSDP gathered units (two blocks and the root)"
                } else {
                    "ZeRO-3 gathered parameters"
                },
                dtype: "16-bit",
                bytes: gathered as u64,
                phases: "forward,backward",
            },
            Buffer {
                name: if w.fsdp {
                    "FSDP unsharded gradients of one unit"
                } else {
                    "ZeRO reduce buckets"
                },
                dtype: dtype.as_str(),
                bytes: bucket as u64,
                phases: "backward",
            },
        ];
        MemoryBreakdown {
            weights: weights as u64,
            trainable_state: peak.0 as u64,
            activations: peak.1 as u64,
            logits: peak.2 as u64,
            overhead: overhead as u64,
            overhead_calibration: (overhead - slack - runtime) as i64,
            total: (allocated + overhead) as u64,
            host_offload_bytes: act.offloaded as u64,
            host_state_bytes: host_state as u64,
            peak_phase,
            phases: PhaseBytes {
                forward: sum(forward) as u64,
                backward: sum(backward) as u64,
                optimizer: sum(optimizer) as u64,
            },
            allocated: allocated as u64,
            reserved: (allocated + slack) as u64,
            residual_dtype: residual,
            buffers,
        }
    }

    /// The largest micro-batch that fits, 0 if none. Every phase is affine in the micro-batch
    /// (c + k b: activations and logits grow with it, the rest does not), so micro-batches 1
    /// and 2 give each phase's line and the largest b under the capacity follows in closed
    /// form; it is checked against `memory` itself, with a bisection over 1..=65,536 where the
    /// check fails (a calibrated offset clamping the overhead at zero bends the line).
    pub fn max_micro_batch(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
    ) -> u64 {
        const MAX: u64 = 65_536;
        let cap = hw.memory_bytes();
        let fits = |b: u64| self.memory(w, dtype, hw, a, b).total as f64 <= cap;
        let m1 = self.memory(w, dtype, hw, a, 1);
        if m1.total as f64 > cap {
            return 0;
        }
        let m2 = self.memory(w, dtype, hw, a, 2);
        let scale = 1.0 + a.allocator_slack;
        // total = allocated x (1 + slack) + fixed (runtime and any calibrated offset).
        let fixed = m1.total as f64 - scale * m1.allocated as f64;
        let budget = (cap - fixed) / scale;
        let line = |p1: u64, p2: u64| {
            let k = p2 as f64 - p1 as f64;
            let c = p1 as f64 - k;
            if k > 0.0 {
                ((budget - c) / k).floor().clamp(1.0, MAX as f64) as u64
            } else {
                MAX
            }
        };
        let guess = [
            line(m1.phases.forward, m2.phases.forward),
            line(m1.phases.backward, m2.phases.backward),
            line(m1.phases.optimizer, m2.phases.optimizer),
        ]
        .into_iter()
        .min()
        .unwrap_or(MAX);
        if fits(guess) && (guess == MAX || !fits(guess + 1)) {
            return guess;
        }
        let (mut lo, mut hi) = (1u64, MAX);
        if fits(hi) {
            return hi;
        }
        // Invariant: fits(lo), !fits(hi).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// Bytes a norm saves per value of its input: the fp32 copy it normalises. transformers'
/// RMSNorm upcasts explicitly (`hidden_states.to(torch.float32)`, saved by `pow` and the
/// `rsqrt` product); autocast runs LayerNorm in fp32 on an fp32 copy. (A LayerNorm in a pure
/// 16-bit DeepSpeed engine saves its 16-bit input: not modelled.)
const NORM_SAVED_BYTES: f64 = 4.0;

/// The dtype name of a per-value byte size.
fn dtype_name(bytes: f64) -> &'static str {
    if bytes >= 4.0 {
        "fp32"
    } else {
        "16-bit"
    }
}

/// The divisor ZeRO applies at `stage` and above (1 on one GPU or below the stage).
/// Devices ZeRO shards state at `stage` over (1 when it does not).
pub(super) fn zero_shard(w: &Workload, stage: u8) -> f64 {
    if w.gpus > 1 && w.zero >= stage {
        w.gpus as f64
    } else {
        1.0
    }
}

/// Runtime: CUDA context and workspaces, or a CPU process's floor.
fn runtime_bytes(hw: &HardwareProfile, a: &Assumptions) -> f64 {
    let gib = match hw.kind {
        HardwareKind::Gpu => a.runtime_overhead_gib,
        HardwareKind::Cpu => a.cpu_runtime_overhead_gib,
    };
    gib * GIB
}

#[cfg(test)]
mod tests {
    use crate::core::catalogs::Catalogs;
    use crate::core::estimate::Scenario;
    use crate::core::estimate::{Dtype, Offload, WeightsDtype};
    use crate::core::peft::MethodKind;
    use crate::core::spec::ScenarioSpec;

    /// The default assumptions and the embedded profile `id`.
    fn on(
        catalogs: &Catalogs,
        id: &str,
    ) -> (
        crate::core::estimate::Assumptions,
        crate::core::hardware::HardwareProfile,
    ) {
        let hw = catalogs.hardware().unwrap().get(id).unwrap().clone();
        (crate::core::estimate::Assumptions::default(), hw)
    }

    /// Qwen-7B LoRA with the defaults and one 512-token sequence a step: the case worked by hand.
    fn qwen_7b_one_sequence() -> (Catalogs, Scenario, super::Shapes) {
        let catalogs = Catalogs::embedded();
        let mut spec = ScenarioSpec::new("qwen-7b");
        spec.workload.micro_batch = 1;
        let s = spec.resolve(&catalogs).unwrap();
        let shapes = super::Shapes::new(&s.prepare().unwrap());
        (catalogs, s, shapes)
    }

    #[test]
    fn adafactor_keeps_a_row_and_a_column_per_matrix() {
        let (_, s, shapes) = qwen_7b_one_sequence();
        let w = crate::core::estimate::Workload {
            optimizer: crate::core::estimate::Optimizer::Adafactor,
            ..s.workload
        };
        // Qwen-7B LoRA r=8 on c_attn (4096 -> 12288), both c_proj (4096 -> 4096, 11008 ->
        // 4096), w1 and w2 (4096 -> 11008): per block the A matrices keep 8 + in and the B
        // matrices out + 8 values, 16,400 + 8,208 + 15,120 + 15,120 + 15,120 = 69,968; 32
        // blocks, 4 bytes each: 8,955,904 B beside the fp32 adapters (4 x 17,891,328), where
        // AdamW keeps 8 x 17,891,328.
        let st = shapes.trainable_state(&w);
        assert_eq!(st.persistent, 4.0 * 17_891_328.0 + 4.0 * 69_968.0 * 32.0);
    }

    #[test]
    fn chunked_and_fused_losses_by_hand() {
        use crate::core::estimate::LossKernel;
        let (_, s, shapes) = qwen_7b_one_sequence();
        let w = s.workload;
        // torchtune's chunked loss in bf16, 8 chunks: forward = 2 (bf16 logits, every chunk)
        // + 4 (fp32 log-softmax, every chunk) + 4 / 8 (one chunk's fp32 upcast) = 6.5 B a
        // logit; backward = 4 (saved log-softmax) + (4 NLL grad + 4 log-softmax grad + 2
        // logits grad) / 8 = 5.25, against transformers' 10 and 12.
        let chunked = crate::core::estimate::Workload {
            loss: LossKernel::Chunked,
            ..w
        };
        let l = shapes.loss_bytes(&chunked, Dtype::Bf16);
        assert_eq!((l.forward, l.backward), (6.5, 5.25));
        // A fused linear cross-entropy keeps, per token, a chunk's logits (about hidden values)
        // and the hidden states' gradient: 2 x 4096 x 2 B = 16,384 B a token, per logit over
        // Qwen-7B's 151,936-token vocabulary.
        let fused = crate::core::estimate::Workload {
            loss: LossKernel::Fused,
            ..w
        };
        let l = shapes.loss_bytes(&fused, Dtype::Bf16);
        assert_eq!(l.forward, 16_384.0 / 151_936.0);
        assert_eq!(l.backward, l.forward);
    }

    #[test]
    fn offloaded_activations_leave_two_blocks_on_the_device() {
        let (_, s, shapes) = qwen_7b_one_sequence();
        // Qwen-7B (32 blocks, hidden 4096), one 512-token sequence with checkpointing: each
        // block keeps its bf16 input, 512 x 4096 x 2 = 4 MiB; offloaded, 32 of them live in
        // host RAM and two on the device (one in transfer, one in use).
        let w = crate::core::estimate::Workload {
            grad_checkpointing: true,
            ..s.workload
        };
        let off = crate::core::estimate::Workload {
            offload_activations: true,
            ..w
        };
        let block = 512.0 * 4096.0 * 2.0;
        let on = shapes.activations(&w, Dtype::Bf16, 1.0, true);
        let moved = shapes.activations(&off, Dtype::Bf16, 1.0, true);
        assert_eq!(on.kept - moved.kept, 30.0 * block);
        assert_eq!(moved.offloaded, 32.0 * block);
        assert_eq!(moved.recomputed, on.recomputed);
    }

    #[test]
    fn optimizer_in_backward_frees_each_gradient_as_it_steps() {
        let catalogs = Catalogs::embedded();
        let mut spec = ScenarioSpec::new("qwen-7b");
        spec.method.kind = crate::core::peft::MethodKind::Full;
        spec.workload.micro_batch = 1;
        spec.workload.optimizer = crate::core::estimate::Optimizer::AdamwFused;
        let s = spec.resolve(&catalogs).unwrap();
        let shapes = super::Shapes::new(&s.prepare().unwrap());
        let (a, hw) = on(&catalogs, "h200");
        let w = s.workload;
        let stepped = crate::core::estimate::Workload {
            optimizer_in_backward: true,
            ..w
        };
        let whole = shapes.memory(&w, Dtype::Bf16, &hw, &a, 1).phases.optimizer;
        let each = shapes
            .memory(&stepped, Dtype::Bf16, &hw, &a, 1)
            .phases
            .optimizer;
        // Full fine-tuning in bf16: all 7,721,324,544 bf16 gradients at the step, against
        // only the largest tensor's, the 151,936 x 4096 embedding (or head): fused AdamW
        // has no temporaries.
        let all = 7_721_324_544.0 * 2.0;
        let largest = 151_936.0 * 4096.0 * 2.0;
        assert_eq!(whole - each, (all - largest) as u64);
    }

    #[test]
    fn each_term_by_hand() {
        let (_, s, shapes) = qwen_7b_one_sequence();
        let w = s.workload;
        // Weights: every base parameter in bf16, 7,721,324,544 x 2 bytes (models.md total).
        assert_eq!(shapes.weights_bytes(&w), 7_721_324_544.0 * 2.0);
        // LoRA state: peft's fp32 adapter, 4 (weight) + 8 (AdamW m, v) bytes per trainable
        // parameter that persist, + 4 (grad) from backward to the step; Qwen-7B LoRA r=8 on
        // c_attn,c_proj,w1,w2 trains 17,891,328.
        let st = shapes.trainable_state(&w);
        assert_eq!(st.persistent, 17_891_328.0 * 12.0);
        assert_eq!(st.gradients, 17_891_328.0 * 4.0);
        // Loss path in bf16: forward end = 2 (bf16 head output) + 4 (fp32 upcast) + 4 (fp32
        // log-softmax); backward = 4 (saved log-softmax) + 4 (dense NLL grad) + 4 (log-softmax
        // input grad), the bf16 output already dropped by the Trainer.
        let loss = super::Shapes::loss_bytes_per_logit(&w, Dtype::Bf16);
        assert_eq!((loss.forward, loss.backward), (10.0, 12.0));
        // A loop holding the model output (`out = model(...); out.loss.backward()`) keeps the
        // bf16 logits through backward too: 12 + 2.
        let held = crate::core::estimate::Workload {
            loop_keeps_output: true,
            ..w
        };
        let loss = super::Shapes::loss_bytes_per_logit(&held, Dtype::Bf16);
        assert_eq!((loss.forward, loss.backward), (10.0, 14.0));
        // NF4 (QLoRA): k-bit preparation upcasts the head, so fp32 logits need no upcast copy,
        // and the residual stream is fp32.
        let q = crate::core::estimate::Workload {
            weights_dtype: WeightsDtype::Nf4,
            ..w
        };
        let loss = super::Shapes::loss_bytes_per_logit(&q, Dtype::Bf16);
        assert_eq!((loss.forward, loss.backward), (8.0, 12.0));
        assert_eq!(super::Shapes::residual_bytes(&q, Dtype::Bf16), 4.0);
        // GPTQ: peft leaves the fp16 head and norms alone: 16-bit residual, 2 + 4 + 4 forward.
        let g = crate::core::estimate::Workload {
            weights_dtype: WeightsDtype::Gptq4,
            ..w
        };
        assert_eq!(super::Shapes::residual_bytes(&g, Dtype::Fp16), 2.0);
        assert_eq!(
            super::Shapes::loss_bytes_per_logit(&g, Dtype::Fp16).forward,
            10.0
        );
        // ZeRO-3 over 4 GPUs shards the weights four ways.
        let z = crate::core::estimate::Workload {
            gpus: 4,
            zero: 3,
            ..w
        };
        assert_eq!(shapes.weights_bytes(&z), 7_721_324_544.0 * 2.0 / 4.0);
    }

    #[test]
    fn checkpoints_are_fp32_after_k_bit_preparation() {
        let (_, s, shapes) = qwen_7b_one_sequence();
        let ckpt = crate::core::estimate::Workload {
            grad_checkpointing: true,
            ..s.workload
        };
        // Qwen-7B: 32 blocks, hidden 4096, 512 tokens. Kept with checkpointing: each block's
        // input and the embedding output in the residual dtype, and the final norm's fp32 copy.
        let kept = |rb: f64| ((32.0 + 1.0) * rb + 4.0) * 512.0 * 4096.0;
        assert_eq!(
            shapes.activations(&ckpt, Dtype::Bf16, 1.0, true).kept,
            kept(2.0)
        );
        let nf4 = crate::core::estimate::Workload {
            weights_dtype: WeightsDtype::Nf4,
            ..ckpt
        };
        assert_eq!(
            shapes.activations(&nf4, Dtype::Bf16, 1.0, true).kept,
            kept(4.0)
        );
        // bitsandbytes' matmuls also keep a bf16 copy of each Linear's input: Qwen-7B's block
        // has c_attn (4096), attn.c_proj (4096), w1, w2 (4096 each) and mlp.c_proj (11008) =
        // 27,392 inputs per token, 2 bytes each, in the recomputed block (its norms save fp32
        // copies either way).
        let extra = shapes.activations(&nf4, Dtype::Bf16, 1.0, true).recomputed
            - shapes.activations(&ckpt, Dtype::Bf16, 1.0, true).recomputed;
        assert_eq!(extra, 512.0 * 27_392.0 * 2.0);
    }

    #[test]
    fn the_peak_is_the_largest_phase() {
        let (catalogs, s, shapes) = qwen_7b_one_sequence();
        let (a, hw) = on(&catalogs, "a100-80g");
        let w = s.workload;
        let m = shapes.memory(&w, Dtype::Bf16, &hw, &a, 1);
        // LoRA without checkpointing, one micro-batch a step: forward and backward hold the
        // same weights, state and activations; backward's loss buffers are 12 - 10 = 2 bytes
        // per logit larger: 512 x 151,936 x 2.
        assert_eq!(m.phases.backward - m.phases.forward, 512 * 151_936 * 2);
        assert_eq!(m.peak_phase, super::Phase::Backward);
        assert_eq!(m.allocated, m.phases.backward);
        // The five terms still sum to the total; reserved = allocated x 1.08; total adds 1 GiB.
        let terms = m.weights + m.trainable_state + m.activations + m.logits + m.overhead;
        assert!(terms.abs_diff(m.total) <= 4, "{terms} vs {}", m.total);
        assert_eq!(m.reserved, (m.allocated as f64 * 1.08) as u64);
        assert_eq!(
            m.total,
            (m.allocated as f64 * 1.08 + 1_073_741_824.0) as u64
        );
        // Accumulating two micro-batches keeps the fp32 LoRA gradients (17,891,328 x 4 bytes)
        // alive through the forward pass.
        let ga = crate::core::estimate::Workload { grad_accum: 2, ..w };
        let m2 = shapes.memory(&ga, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(m2.phases.forward - m.phases.forward, 17_891_328 * 4);
        // Full fine-tuning in pure bf16 with fused AdamW peaks at the step: weights 2 + grads 2
        // + m, v 4 bytes per parameter = 8 x 7,721,324,544, no activations.
        let mut spec = crate::core::spec::ScenarioSpec::new("qwen-7b");
        spec.workload.micro_batch = 1;
        spec.method = crate::core::peft::MethodConfig::new(crate::core::peft::MethodKind::Full);
        let full = spec.resolve(&catalogs).unwrap();
        let fs = super::Shapes::new(&full.prepare().unwrap());
        let fw = crate::core::estimate::Workload {
            weights_dtype: WeightsDtype::Bf16,
            optimizer: crate::core::estimate::Optimizer::AdamwFused,
            ..full.workload
        };
        let fm = fs.memory(&fw, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(fm.peak_phase, super::Phase::Optimizer);
        assert_eq!(fm.phases.optimizer, 7_721_324_544 * 8);
        assert_eq!((fm.activations, fm.logits), (0, 0));
        // Foreach AdamW (torch's default on a GPU) adds sqrt(v): 2 bytes per parameter more.
        let foreach = crate::core::estimate::Workload {
            optimizer: crate::core::estimate::Optimizer::Adamw,
            ..fw
        };
        let fe = fs.memory(&foreach, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(fe.phases.optimizer, 7_721_324_544 * 10);
    }

    #[test]
    fn a_deepspeed_engine_runs_the_model_and_the_loss_in_16_bit() {
        let (catalogs, s, shapes) = qwen_7b_one_sequence();
        let (a, hw) = on(&catalogs, "a100-80g");
        // Qwen's single-GPU Q-LoRA recipe: fp16, ZeRO-2 (finetune/ds_config_zero2.json:
        // reduce_bucket_size 2e8 with overlap_comm: two buckets), Qwen v1 remote code (no
        // logits upcast).
        let w = crate::core::estimate::Workload {
            dtype: Dtype::Fp16,
            weights_dtype: WeightsDtype::Gptq4,
            zero: 2,
            zero_bucket: 400_000_000,
            loss_upcast: false,
            optimizer: crate::core::estimate::Optimizer::AdamwFused,
            ..s.workload
        };
        // Adapters cast to fp16 in the model (2 B) beside an fp32 master (4 B) and AdamW's m,
        // v (8 B); fp16 gradients (2 B). One GPU: nothing sharded.
        let st = shapes.trainable_state(&w);
        assert_eq!(st.persistent, 17_891_328.0 * (2.0 + 4.0 + 8.0));
        assert_eq!(st.gradients, 17_891_328.0 * 2.0);
        // No autocast: cross-entropy in fp16. Forward: the logits, the shifted contiguous copy
        // and the log-softmax, 2 B each; backward: the saved log-softmax, the NLL gradient, the
        // log-softmax input gradient and the shift's full-size gradient, 2 B each.
        let loss = super::Shapes::loss_bytes_per_logit(&w, Dtype::Fp16);
        assert_eq!((loss.forward, loss.backward), (6.0, 8.0));
        // Under autocast (no DeepSpeed) the same code's loss runs in fp32: 2 + 2 (shifted
        // copy) + 4 (autocast's fp32 copy) + 4 (log-softmax) forward, 12 backward.
        let amp = crate::core::estimate::Workload { zero: 0, ..w };
        let loss = super::Shapes::loss_bytes_per_logit(&amp, Dtype::Fp16);
        assert_eq!((loss.forward, loss.backward), (12.0, 12.0));
        // The reduce buckets: 4e8 fp16 elements alive in backward.
        assert_eq!(super::Shapes::zero_bucket_bytes(&w, Dtype::Fp16), 8e8);
        let m = shapes.memory(&w, Dtype::Fp16, &hw, &a, 1);
        let z0 = shapes.memory(&amp, Dtype::Fp16, &hw, &a, 1);
        let bucket = m.buffers.iter().find(|b| b.name == "ZeRO reduce buckets");
        assert_eq!(bucket.map(|b| b.bytes), Some(800_000_000));
        // The step adds the flattened fp16 gradient partition and its fp32 upcast (6 B).
        assert_eq!(
            m.phases.optimizer - z0.phases.optimizer,
            17_891_328 * (2 + 4 + 8 + 2 + 6) - 17_891_328 * 16
        );
        // ZeRO-1 has no gradient buckets.
        let z1 = crate::core::estimate::Workload { zero: 1, ..w };
        assert_eq!(super::Shapes::zero_bucket_bytes(&z1, Dtype::Fp16), 0.0);
        // ZeRO-3 over 2 GPUs gathers the largest unit, Qwen-7B's embedding (151,936 x 4,096 =
        // 622,329,856), and prefetches a block (c_attn 4096 x 12288, attn.c_proj 4096 x 4096,
        // w1 and w2 4096 x 11008, mlp.c_proj 11008 x 4096: 202,375,168), in fp16, less the
        // half each device already holds.
        let z3 = crate::core::estimate::Workload {
            zero: 3,
            gpus: 2,
            ..w
        };
        assert_eq!(
            shapes.gathered_bytes(&z3),
            (622_329_856.0 + 202_375_168.0) * 2.0 * 0.5
        );
        assert_eq!(shapes.gathered_bytes(&w), 0.0);
    }

    /// Qwen-7B full fine-tuning, one sequence, bf16 weights: (catalogs, workload, shapes).
    fn qwen_7b_full() -> (Catalogs, crate::core::estimate::Workload, super::Shapes) {
        let catalogs = Catalogs::embedded();
        let mut spec = ScenarioSpec::new("qwen-7b");
        spec.method = crate::core::peft::MethodConfig::new(MethodKind::Full);
        spec.workload.micro_batch = 1;
        let s = spec.resolve(&catalogs).unwrap();
        let shapes = super::Shapes::new(&s.prepare().unwrap());
        (catalogs, s.workload, shapes)
    }

    /// Qwen-7B's 7,721,324,544 parameters (its README's count, and peft's).
    const QWEN_7B_PARAMS: f64 = 7_721_324_544.0;

    #[test]
    fn deepspeed_full_fine_tuning_keeps_fp32_masters_and_steps_a_sub_group() {
        let (_, w, shapes) = qwen_7b_full();
        let z3 = crate::core::estimate::Workload {
            gpus: 2,
            zero: 3,
            optimizer: crate::core::estimate::Optimizer::AdamwFused,
            ..w
        };
        // DeepSpeed casts the model to bf16 (2 B a weight, half of it on each of 2 GPUs) and
        // keeps an fp32 master, m and v (12 B) and bf16 gradients (2 B) per parameter, sharded:
        // 16 B x 7.72e9 / 2 in all, whatever dtype the model was loaded in.
        let st = shapes.trainable_state(&z3);
        assert_eq!(st.persistent, QWEN_7B_PARAMS * 12.0 / 2.0);
        assert_eq!(st.gradients, QWEN_7B_PARAMS * 2.0 / 2.0);
        assert_eq!(shapes.weights_bytes(&z3), QWEN_7B_PARAMS * 2.0 / 2.0);
        let fp32_load = crate::core::estimate::Workload {
            weights_dtype: WeightsDtype::Fp32,
            ..z3
        };
        assert_eq!(shapes.weights_bytes(&fp32_load), QWEN_7B_PARAMS * 2.0 / 2.0);
        // The step flattens a sub-group of the partition (sub_group_size 1e9 of its 3.86e9
        // elements) in bf16 and upcasts it to fp32: 6 B x 1e9; fused Adam adds nothing.
        assert_eq!(shapes.optimizer_temporary_bytes(&z3, true), 1e9 * 6.0);
        // ZeRO-2 flattens the whole partition; foreach AdamW's sqrt(v) (4 B) outgrows the bf16
        // copy beside the fp32 gradient: 8 B x 7.72e9 / 2.
        let z2 = crate::core::estimate::Workload {
            zero: 2,
            optimizer: crate::core::estimate::Optimizer::Adamw,
            ..z3
        };
        assert_eq!(
            shapes.optimizer_temporary_bytes(&z2, true),
            QWEN_7B_PARAMS / 2.0 * 8.0
        );
    }

    #[test]
    fn fsdp_accumulates_unsharded_gradients_under_no_sync() {
        let (catalogs, w, shapes) = qwen_7b_full();
        let (a, hw) = on(&catalogs, "a100-80g");
        let fsdp = crate::core::estimate::Workload {
            gpus: 8,
            zero: 3,
            fsdp: true,
            grad_accum: 4,
            ..w
        };
        // The Trainer accumulates under accelerate's no_sync: every bf16 gradient whole on each
        // GPU, 2 B x 7,721,324,544 = 15,442,649,088 bytes through the forward and backward
        // passes, 7/8 of it beyond the shard the step keeps; the one-unit reduce-scatter input
        // is that accumulated gradient itself.
        let m = shapes.memory(&fsdp, Dtype::Bf16, &hw, &a, 1);
        let extra = m
            .buffers
            .iter()
            .find(|b| b.name == super::NO_SYNC_GRADIENTS);
        assert_eq!(
            extra.map(|b| (b.bytes, b.phases)),
            Some((15_442_649_088 / 8 * 7, "forward,backward"))
        );
        let unit = m
            .buffers
            .iter()
            .find(|b| b.name == "FSDP unsharded gradients of one unit");
        assert_eq!(unit.map(|b| b.bytes), Some(0));
        // With sync_each_batch every micro-batch reduce-scatters: the shard alone (1/8) and
        // one unit in flight; one micro-batch a step accumulates nothing.
        for w in [
            crate::core::estimate::Workload {
                sync_each_batch: true,
                ..fsdp
            },
            crate::core::estimate::Workload {
                grad_accum: 1,
                ..fsdp
            },
        ] {
            let m = shapes.memory(&w, Dtype::Bf16, &hw, &a, 1);
            let extra = m
                .buffers
                .iter()
                .find(|b| b.name == super::NO_SYNC_GRADIENTS);
            assert_eq!(extra.map(|b| b.bytes), Some(0));
        }
        let synced = shapes.memory(
            &crate::core::estimate::Workload {
                sync_each_batch: true,
                ..fsdp
            },
            Dtype::Bf16,
            &hw,
            &a,
            1,
        );
        assert_eq!(
            m.phases.forward - synced.phases.forward,
            15_442_649_088 / 8 * 7
        );
    }

    #[test]
    fn fsdp_keeps_two_blocks_and_the_root_gathered() {
        let (catalogs, w, shapes) = qwen_7b_full();
        let (a, hw) = on(&catalogs, "a100-80g");
        let fsdp = crate::core::estimate::Workload {
            gpus: 4,
            zero: 3,
            fsdp: true,
            ..w
        };
        // The root unit holds what no block does: the embedding and the untied head (151,936 x
        // 4,096 each) and the final norm (4,096); the non-matmul weights of the blocks (32 x 2
        // norms of 4,096, 32 c_attn biases of 12,288: 0.05% more) are counted with it, as the
        // profile keeps them. Two blocks of 202,375,168 matmul weights are in flight. In bf16,
        // less the quarter each GPU owns.
        let root = 2.0 * 622_329_856.0 + 4_096.0 + 64.0 * 4_096.0 + 32.0 * 12_288.0;
        assert_eq!(shapes.other_params, root);
        assert_eq!(
            shapes.gathered_bytes(&fsdp),
            (root + 2.0 * 202_375_168.0) * 2.0 * 0.75
        );
        // FSDP shards in the model's own dtype (bf16 weights, gradients and AdamW state: 8 B a
        // parameter over 4 GPUs) and runs no DeepSpeed engine: no fp32 master, no buckets.
        let st = shapes.trainable_state(&fsdp);
        assert_eq!(st.persistent + st.gradients, QWEN_7B_PARAMS * 6.0 / 4.0);
        assert_eq!(super::Shapes::zero_bucket_bytes(&fsdp, Dtype::Bf16), 0.0);
        // Backward reduce-scatters a unit at a time: one block's bf16 gradients unsharded.
        let m = shapes.memory(&fsdp, Dtype::Bf16, &hw, &a, 1);
        let unit = m
            .buffers
            .iter()
            .find(|b| b.name == "FSDP unsharded gradients of one unit");
        assert_eq!(
            unit.map(|b| b.bytes),
            Some((QWEN_7B_PARAMS * 2.0 / 32.0) as u64)
        );
        // DeepSpeed's ZeRO-3 over the same 4 GPUs gathers the embedding and a block.
        let z3 = crate::core::estimate::Workload {
            fsdp: false,
            ..fsdp
        };
        assert_eq!(
            shapes.gathered_bytes(&z3),
            (622_329_856.0 + 202_375_168.0) * 2.0 * 0.75
        );
    }

    #[test]
    fn offloading_moves_the_optimizer_and_the_weights_to_host_ram() {
        let (catalogs, w, shapes) = qwen_7b_full();
        let (a, hw) = on(&catalogs, "a100-80g");
        let z3 = crate::core::estimate::Workload {
            gpus: 2,
            zero: 3,
            optimizer: crate::core::estimate::Optimizer::AdamwFused,
            ..w
        };
        let opt = crate::core::estimate::Workload {
            offload: Offload::Optimizer,
            ..z3
        };
        // ZeRO-Offload: the fp32 master, m, v and the fp32 gradients (16 B) of each GPU's half
        // live on the host; the GPU keeps its bf16 shard and no gradient partition (each is
        // copied out of the buckets), and steps nothing.
        let st = shapes.trainable_state(&opt);
        assert_eq!((st.persistent, st.gradients), (0.0, 0.0));
        assert_eq!(st.host, QWEN_7B_PARAMS * 16.0 / 2.0);
        assert_eq!(shapes.optimizer_temporary_bytes(&opt, true), 0.0);
        let m = shapes.memory(&opt, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(m.host_state_bytes, (QWEN_7B_PARAMS * 8.0) as u64);
        assert_eq!(m.weights, (QWEN_7B_PARAMS * 2.0 / 2.0) as u64);
        // With the parameters too, the GPU holds no shard: the whole working set (embedding and
        // a block) is fetched, and the host adds the bf16 shard.
        let params = crate::core::estimate::Workload {
            offload: Offload::Params,
            ..z3
        };
        let m = shapes.memory(&params, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(m.weights, 0);
        assert_eq!(
            shapes.gathered_bytes(&params),
            (622_329_856.0 + 202_375_168.0) * 2.0
        );
        assert_eq!(m.host_state_bytes, (QWEN_7B_PARAMS * (8.0 + 1.0)) as u64);
        // On one GPU ZeRO-3 shards nothing, but offloaded weights are still fetched.
        let one = crate::core::estimate::Workload { gpus: 1, ..params };
        assert_eq!(
            shapes.gathered_bytes(&one),
            (622_329_856.0 + 202_375_168.0) * 2.0
        );
        // A CPU is its own host: offloading moves nothing there.
        let (_, cpu) = on(&catalogs, "cpu-16c");
        let on_cpu = shapes.memory(&opt, Dtype::Bf16, &cpu, &a, 1);
        assert_eq!(on_cpu.host_state_bytes, 0);
        assert_eq!(
            on_cpu.total,
            shapes.memory(&z3, Dtype::Bf16, &cpu, &a, 1).total
        );
    }

    #[test]
    fn bert_attention_on_a_cpu_runs_the_math_path_under_dropout() {
        // bge-large-zh-v1.5 (BERT-large: 24 layers, 16 heads, hidden 1024), 512 tokens, fp32.
        let catalogs = Catalogs::embedded();
        let mut spec = ScenarioSpec::new("bge-large-zh-v1.5");
        spec.workload.micro_batch = 1;
        spec.workload.seq_len = 512;
        spec.workload.dtype = Dtype::Fp32;
        let s = spec.resolve(&catalogs).unwrap();
        let shapes = super::Shapes::new(&s.prepare().unwrap());
        let w = s.workload;
        let gpu = shapes.activations(&w, Dtype::Fp32, 1.0, true).kept;
        let cpu = shapes.activations(&w, Dtype::Fp32, 1.0, false).kept;
        // On the CPU each layer keeps probabilities, dropout noise and dropped probabilities,
        // 16 x 512 x 512 x 3 x 4 B, where a GPU's fused kernels keep none; and its three
        // dropouts (two per layer, one on the embeddings) keep 4-byte noise, not 1-byte masks.
        let per_layer = 16.0 * 512.0 * 512.0 * 12.0 + 2.0 * 1024.0 * 512.0 * 3.0;
        assert_eq!(cpu - gpu, 24.0 * per_layer + 512.0 * 1024.0 * 3.0);
        // Eager attention on a GPU: probabilities, 1-byte mask, dropped probabilities.
        let eager = crate::core::estimate::Workload {
            attention: crate::core::estimate::Attention::Eager,
            ..w
        };
        let e = shapes.activations(&eager, Dtype::Fp32, 1.0, true).kept;
        assert_eq!(e - gpu, 24.0 * 16.0 * 512.0 * 512.0 * 9.0);
    }

    #[test]
    fn the_largest_micro_batch_fits_and_one_more_does_not() {
        let (catalogs, s, shapes) = qwen_7b_one_sequence();
        let (a, hw) = on(&catalogs, "a100-40g");
        let w = s.workload;
        let n = shapes.max_micro_batch(&w, Dtype::Bf16, &hw, &a);
        assert!(n >= 1);
        let cap = hw.memory_bytes();
        assert!(shapes.memory(&w, Dtype::Bf16, &hw, &a, n).total as f64 <= cap);
        assert!(shapes.memory(&w, Dtype::Bf16, &hw, &a, n + 1).total as f64 > cap);
    }

    #[test]
    fn a_calibrated_offset_moves_the_overhead_and_never_below_zero() {
        let (catalogs, s, shapes) = qwen_7b_one_sequence();
        let (a, mut hw) = on(&catalogs, "a10");
        let plain = shapes.memory(&s.workload, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(plain.overhead_calibration, 0);
        // +0.5 GiB for LoRA: the overhead and the total grow by exactly 2^29 bytes.
        hw.method_memory_offset.insert("lora".into(), 536_870_912.0);
        let up = shapes.memory(&s.workload, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(up.overhead_calibration, 536_870_912);
        assert_eq!(up.overhead - plain.overhead, 536_870_912);
        assert_eq!(up.total - plain.total, 536_870_912);
        // An offset larger than the modelled overhead takes it to zero, not below.
        hw.method_memory_offset.insert("lora".into(), -1e12);
        let down = shapes.memory(&s.workload, Dtype::Bf16, &hw, &a, 1);
        assert_eq!(down.overhead, 0);
        assert_eq!(down.overhead_calibration, -(plain.overhead as i64));
        assert_eq!(down.total, plain.total - plain.overhead);
        // Another family's offset does not apply.
        hw.method_memory_offset.clear();
        hw.method_memory_offset.insert("full".into(), 536_870_912.0);
        assert_eq!(shapes.memory(&s.workload, Dtype::Bf16, &hw, &a, 1), plain);
    }
}
