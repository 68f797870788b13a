//! The training job: data size, batch, precision, optimizer, parallelism.

use serde::Serialize;

use super::lengths::Lengths;
use crate::core::error::{Error, Result};
use crate::core::units::named;
pub use crate::core::units::{Dtype, WeightsDtype};

/// Optimizer: decides the bytes of state per trainable parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// torch AdamW as the Trainer's `adamw_torch` runs it: two state values per parameter in
    /// its dtype; on a GPU the foreach implementation, which allocates sqrt(v) for every
    /// parameter at once during the step.
    #[default]
    Adamw,
    /// torch AdamW with `fused=True` (`adamw_torch_fused`): the same state, one kernel per
    /// tensor, no step temporaries.
    AdamwFused,
    /// bitsandbytes 8-bit AdamW: m and v in 1 byte each.
    Adamw8bit,
    /// bitsandbytes paged 8-bit AdamW: the same state in CUDA unified memory, which the driver
    /// evicts to host RAM only under memory pressure (the estimate keeps it on the device: the
    /// eviction's time cost is not modelled).
    PagedAdamw8bit,
    /// Plain SGD without momentum: no state.
    Sgd,
    /// transformers' Adafactor as the Trainer's `adafactor` runs it (no first moment): a
    /// factored second moment, one fp32 value per row and per column of each matrix, full
    /// only for vectors (see `Shapes::trainable_state`).
    Adafactor,
}

impl Optimizer {
    /// Optimizer state bytes per trainable parameter stored in `param_bytes`.
    pub fn state_bytes(self, param_bytes: f64) -> f64 {
        match self {
            // torch AdamW keeps exp_avg and exp_avg_sq in the parameter's dtype.
            Optimizer::Adamw | Optimizer::AdamwFused => 2.0 * param_bytes,
            Optimizer::Adamw8bit | Optimizer::PagedAdamw8bit => 2.0,
            // Factored: counted per matrix from the shapes, not per parameter.
            Optimizer::Sgd | Optimizer::Adafactor => 0.0,
        }
    }

    /// Bytes the step itself allocates per trainable parameter stored in `param_bytes`, on a
    /// GPU: foreach AdamW's `_foreach_sqrt(exp_avg_sqs)` copies v whole (torch
    /// `_multi_tensor_adamw`); the fused and 8-bit kernels and SGD update in place. On a CPU
    /// torch runs the for-loop implementation, whose temporaries are one tensor at a time.
    pub fn step_temporary_bytes(self, param_bytes: f64, gpu: bool) -> f64 {
        match self {
            Optimizer::Adamw if gpu => param_bytes,
            _ => 0.0,
        }
    }

    /// The kebab-case name, e.g. `adamw-8bit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Optimizer::Adamw => "adamw",
            Optimizer::AdamwFused => "adamw-fused",
            Optimizer::Adamw8bit => "adamw-8bit",
            Optimizer::PagedAdamw8bit => "paged-adamw-8bit",
            Optimizer::Sgd => "sgd",
            Optimizer::Adafactor => "adafactor",
        }
    }
}

/// Attention kernel: decides whether the s x s score matrix is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Attention {
    /// FlashAttention / memory-efficient SDPA: no s x s matrix kept, causal half computed.
    #[default]
    Sdpa,
    /// Eager attention: scores, softmax and dropout mask stored; full s x s computed.
    Eager,
}

impl Attention {
    /// The lowercase name, e.g. `sdpa`.
    pub fn as_str(self) -> &'static str {
        match self {
            Attention::Sdpa => "sdpa",
            Attention::Eager => "eager",
        }
    }
}

named!(
    Optimizer,
    [
        Optimizer::Adamw,
        Optimizer::AdamwFused,
        Optimizer::Adamw8bit,
        Optimizer::PagedAdamw8bit,
        Optimizer::Sgd,
        Optimizer::Adafactor
    ],
    help = |o| match o {
        Optimizer::Adamw => None,
        Optimizer::AdamwFused => Some("torch AdamW fused=True: no step temporaries"),
        Optimizer::Adamw8bit => Some("bitsandbytes 8-bit AdamW: m and v in 1 byte each"),
        Optimizer::PagedAdamw8bit =>
            Some("bitsandbytes paged 8-bit AdamW: the same state, paged to host RAM under pressure"),
        Optimizer::Sgd => Some("Plain SGD without momentum: no state"),
        Optimizer::Adafactor => Some("Adafactor (HF): a row and a column of fp32 per matrix"),
    }
);
named!(
    Attention,
    [Attention::Sdpa, Attention::Eager],
    help = |a| Some(match a {
        Attention::Sdpa => {
            "FlashAttention / memory-efficient SDPA: no s x s matrix kept, causal half computed"
        }
        Attention::Eager => {
            "Eager attention: scores, softmax and dropout mask stored; full s x s computed"
        }
    })
);

/// How the causal-LM loss is computed from the last hidden states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LossKernel {
    /// The head writes every logit, cross-entropy upcasts them to fp32 and saves the fp32
    /// log-softmax (transformers' `ForCausalLMLoss`).
    #[default]
    Standard,
    /// torchtune's `CEWithChunkedOutputLoss`: the head's 16-bit logits in 8 chunks, each chunk
    /// upcast to fp32 on its own; the fp32 log-softmax is still saved for every logit.
    Chunked,
    /// A fused linear cross-entropy (Liger's `FusedLinearCrossEntropy`, Apple's Cut
    /// Cross-Entropy, Unsloth's): logits exist a chunk of tokens at a time, their gradient is
    /// taken in the forward pass, and only the hidden states' gradient is kept for backward.
    Fused,
}

impl LossKernel {
    /// The lowercase name, e.g. `fused`.
    pub fn as_str(self) -> &'static str {
        match self {
            LossKernel::Standard => "standard",
            LossKernel::Chunked => "chunked",
            LossKernel::Fused => "fused",
        }
    }
}

/// Chunks torchtune's `CEWithChunkedOutputLoss` splits the logits into (`num_output_chunks`).
pub const LOSS_CHUNKS: f64 = 8.0;

named!(
    LossKernel,
    [LossKernel::Standard, LossKernel::Chunked, LossKernel::Fused],
    help = |k| Some(match k {
        LossKernel::Standard => "transformers' loss: every logit upcast to fp32 (the default)",
        LossKernel::Chunked => "torchtune's chunked loss: 8 chunks, each upcast on its own",
        LossKernel::Fused =>
            "fused linear cross-entropy (Liger, Cut Cross-Entropy, Unsloth): no full logits",
    })
);

/// The trainer or recipe library a job runs under: which loss kernel and offloading it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// transformers' Trainer and plain loops (the default): the standard loss.
    #[default]
    Hf,
    /// LLaMA-Factory: the HF Trainer underneath; `enable_liger_kernel` switches to the fused loss.
    Llamafactory,
    /// axolotl: the HF Trainer underneath; its Liger and Cut Cross-Entropy plugins fuse the loss.
    Axolotl,
    /// Unsloth: its fused cross-entropy, and checkpoints offloaded to host RAM when checkpointing.
    Unsloth,
    /// torchtune: the chunked loss (8 chunks); activation offloading and optimizer-in-backward
    /// are its recipe options (`--offload-activations`, `--optimizer-in-backward`).
    Torchtune,
}

impl Framework {
    /// The lowercase name, e.g. `torchtune`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Hf => "hf",
            Framework::Llamafactory => "llamafactory",
            Framework::Axolotl => "axolotl",
            Framework::Unsloth => "unsloth",
            Framework::Torchtune => "torchtune",
        }
    }

    /// The loss kernel it uses unless told otherwise.
    pub fn loss(self) -> LossKernel {
        match self {
            Framework::Unsloth => LossKernel::Fused,
            Framework::Torchtune => LossKernel::Chunked,
            _ => LossKernel::Standard,
        }
    }

    /// Whether it offloads the checkpoints to host RAM when checkpointing, unless told.
    pub fn offloads_checkpoints(self) -> bool {
        self == Framework::Unsloth
    }
}

named!(
    Framework,
    [
        Framework::Hf,
        Framework::Llamafactory,
        Framework::Axolotl,
        Framework::Unsloth,
        Framework::Torchtune
    ],
    help = |f| Some(match f {
        Framework::Hf => "transformers' Trainer or a plain loop: the standard loss",
        Framework::Llamafactory => "LLaMA-Factory (HF Trainer): the standard loss",
        Framework::Axolotl => "axolotl (HF Trainer): the standard loss",
        Framework::Unsloth => "Unsloth: fused loss, checkpoints offloaded to host RAM",
        Framework::Torchtune => "torchtune: chunked loss (8 chunks)",
    })
);

/// How the data-parallel job shards its state: what `--launcher` names. ZeRO-N and FSDP run a
/// sharding engine; DDP replicates everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Launcher {
    /// torch DistributedDataParallel: every device holds everything, gradients all-reduced
    /// once a step (accumulating micro-batches skip the sync).
    Ddp,
    /// torch FSDP `FULL_SHARD`, one unit per block: weights, gradients and optimizer state
    /// sharded in their own dtypes, a block gathered at a time, the root unit (embedding,
    /// head, final norm) kept gathered between forward and backward.
    Fsdp,
    /// DeepSpeed ZeRO-1: optimizer state sharded.
    Zero1,
    /// DeepSpeed ZeRO-2: optimizer state and gradients sharded.
    Zero2,
    /// DeepSpeed ZeRO-3: parameters too.
    Zero3,
}

impl Launcher {
    /// The lowercase name, e.g. `zero3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Launcher::Ddp => "ddp",
            Launcher::Fsdp => "fsdp",
            Launcher::Zero1 => "zero1",
            Launcher::Zero2 => "zero2",
            Launcher::Zero3 => "zero3",
        }
    }

    /// The sharding stage (`Workload::zero`; FSDP's `FULL_SHARD` shards like ZeRO-3) and
    /// whether FSDP runs it.
    pub fn stage(self) -> (u8, bool) {
        match self {
            Launcher::Ddp => (0, false),
            Launcher::Fsdp => (3, true),
            Launcher::Zero1 => (1, false),
            Launcher::Zero2 => (2, false),
            Launcher::Zero3 => (3, false),
        }
    }
}

named!(
    Launcher,
    [
        Launcher::Ddp,
        Launcher::Fsdp,
        Launcher::Zero1,
        Launcher::Zero2,
        Launcher::Zero3
    ],
    help = |l| Some(match l {
        Launcher::Ddp => "torch DDP: everything replicated (the default)",
        Launcher::Fsdp => "torch FSDP FULL_SHARD, a unit per block",
        Launcher::Zero1 => "DeepSpeed ZeRO-1: optimizer state sharded",
        Launcher::Zero2 => "DeepSpeed ZeRO-2: optimizer state and gradients sharded",
        Launcher::Zero3 => "DeepSpeed ZeRO-3: parameters sharded too",
    })
);

/// What a sharding engine keeps in host RAM instead of on the device (DeepSpeed
/// `offload_optimizer` / `offload_param`, FSDP `CPUOffload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Offload {
    /// Everything on the device (the default).
    #[default]
    None,
    /// ZeRO-Offload: fp32 master weights, optimizer state and fp32 gradients in host RAM, the
    /// optimizer step on the host CPU; 16-bit gradients go down and updated 16-bit weights come
    /// back over PCIe.
    Optimizer,
    /// The optimizer's state as above and the parameters too (ZeRO-3 `offload_param`, FSDP
    /// `offload_params`): every gathered pass fetches its weights over PCIe.
    Params,
}

impl Offload {
    /// The lowercase name, e.g. `params`.
    pub fn as_str(self) -> &'static str {
        match self {
            Offload::None => "none",
            Offload::Optimizer => "optimizer",
            Offload::Params => "params",
        }
    }
}

named!(
    Offload,
    [Offload::None, Offload::Optimizer, Offload::Params],
    help = |o| Some(match o {
        Offload::None => "everything on the device",
        Offload::Optimizer =>
            "optimizer state, master weights and gradients in host RAM; the step on the CPU",
        Offload::Params => "the optimizer's as above, and the parameters too (ZeRO-3, FSDP)",
    })
);

/// One training job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Workload {
    /// Training samples (sequences) per epoch.
    pub samples: u64,
    /// Sequence length, in tokens.
    pub seq_len: u64,
    /// Passes over the data.
    pub epochs: u64,
    /// Sequences per device per forward/backward pass.
    pub micro_batch: u64,
    /// Micro-batches accumulated per optimizer step.
    pub grad_accum: u64,
    /// Compute dtype.
    pub dtype: Dtype,
    /// Dtype the base weights are stored in.
    pub weights_dtype: WeightsDtype,
    /// Optimizer.
    pub optimizer: Optimizer,
    /// Whether activations are recomputed in the backward pass.
    pub grad_checkpointing: bool,
    /// Attention kernel.
    pub attention: Attention,
    /// Number of devices (data parallel).
    pub gpus: u64,
    /// Sharding stage (0 to 3): DeepSpeed's ZeRO stage, or 3 under FSDP `FULL_SHARD`.
    pub zero: u8,
    /// FSDP, not DeepSpeed, shards the job (`zero` is then 3).
    pub fsdp: bool,
    /// What the sharding engine keeps in host RAM.
    pub offload: Offload,
    /// Machines the GPUs are spread over (1: one node, the GPUs share its NVLink or PCIe).
    pub nodes: u64,
    /// Expert parallelism: a mixture of experts' fused experts are sharded across the job's
    /// GPUs (EP = gpus) and tokens travel to their experts by all-to-all, in place of every
    /// device holding every expert (DeepSpeed-MoE `ep_size`, Megatron `expert_model_parallel_size`).
    pub expert_parallel: bool,
    /// Network bandwidth between the machines, in Gbit/s per machine (only read when `nodes` > 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_gbps: Option<f64>,
    /// Whether the model code upcasts the logits to fp32 before the loss (transformers >= 4.46
    /// `ForCausalLMLoss` does; the 2023 remote code of Qwen v1 shifts a 16-bit copy instead, and
    /// the loss then runs in fp32 only under autocast).
    pub loss_upcast: bool,
    /// Gradient elements DeepSpeed ZeRO-2/3 holds in its reduce buckets during the backward
    /// pass: `reduce_bucket_size`, twice with `overlap_comm` (DeepSpeed's default: 5e8, once).
    pub zero_bucket: u64,
    /// The samples' token lengths (`None`: every sample fills `seq_len`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lengths: Option<Lengths>,
    /// Samples concatenated into full `seq_len` rows instead of padded micro-batches.
    pub packing: bool,
    /// The training loop holds the model output through backward (`out = model(...);
    /// out.loss.backward()`), keeping its logits alive; the HF Trainer returns only the loss.
    pub loop_keeps_output: bool,
    /// How the loss is computed from the hidden states.
    pub loss: LossKernel,
    /// Checkpointed block inputs live in host RAM between forward and backward (torchtune's
    /// `enable_activation_offloading`, Unsloth's offloaded checkpointing); needs checkpointing.
    pub offload_activations: bool,
    /// Each parameter is stepped and its gradient freed as soon as backward produces it
    /// (torchtune's `optimizer_in_bwd`); needs one micro-batch a step and no ZeRO.
    pub optimizer_in_backward: bool,
    /// Synchronise the gradients after every micro-batch (accelerate's
    /// `gradient_accumulation_kwargs.sync_each_batch`): FSDP reduce-scatters them (otherwise
    /// the HF Trainer accumulates them under `no_sync`, unsharded, until the step's last
    /// micro-batch) and DDP all-reduces them each time (otherwise once a step). DeepSpeed
    /// ignores it.
    pub sync_each_batch: bool,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            samples: 10_000,
            seq_len: 512,
            epochs: 3,
            micro_batch: 4,
            grad_accum: 1,
            dtype: Dtype::Bf16,
            weights_dtype: WeightsDtype::Bf16,
            optimizer: Optimizer::Adamw,
            grad_checkpointing: false,
            attention: Attention::Sdpa,
            gpus: 1,
            zero: 0,
            fsdp: false,
            offload: Offload::None,
            nodes: 1,
            expert_parallel: false,
            network_gbps: None,
            loss_upcast: true,
            zero_bucket: DEEPSPEED_REDUCE_BUCKET,
            lengths: None,
            packing: false,
            loop_keeps_output: false,
            loss: LossKernel::Standard,
            offload_activations: false,
            optimizer_in_backward: false,
            sync_each_batch: false,
        }
    }
}

/// DeepSpeed's default `reduce_bucket_size`, in elements (deepspeed/runtime/zero/config.py).
pub const DEEPSPEED_REDUCE_BUCKET: u64 = 500_000_000;

/// DeepSpeed's default `sub_group_size`, in elements: ZeRO-3 steps its fp32 master partition
/// this many elements at a time (deepspeed/runtime/zero/config.py; Qwen's
/// `finetune/ds_config_zero3.json` sets the same 1e9).
pub const DEEPSPEED_SUB_GROUP: f64 = 1e9;

/// Check `min <= v <= max` for the field named `field` (its canonical name: the CLI adds `--`).
pub(crate) fn bounded(field: &'static str, v: u64, min: u64, max: u64) -> Result<()> {
    if v < min {
        return Err(Error::Invalid {
            field,
            value: v.to_string(),
            expected: format!("at least {min}"),
        });
    }
    if v > max {
        return Err(Error::Absurd {
            field,
            value: v.to_string(),
            max: max.to_string(),
        });
    }
    Ok(())
}

impl Workload {
    /// Reject zero, negative-like and absurd values with a message that names the flag.
    pub fn validate(&self) -> Result<()> {
        bounded("samples", self.samples, 1, 1_000_000_000)?;
        bounded("seq-len", self.seq_len, 1, 1_048_576)?;
        bounded("epochs", self.epochs, 1, 10_000)?;
        bounded("micro-batch", self.micro_batch, 1, 65_536)?;
        bounded("grad-accum", self.grad_accum, 1, 65_536)?;
        bounded("gpus", self.gpus, 1, 4096)?;
        bounded("nodes", self.nodes, 1, 4096)?;
        // Tokens in one micro-batch: 2^28 is 256 sequences of a million tokens; beyond, every
        // byte count of the estimate would overflow.
        bounded(
            "micro-batch",
            self.micro_batch.saturating_mul(self.seq_len),
            1,
            1 << 28,
        )
        .map_err(|_| Error::Absurd {
            field: "micro-batch",
            value: format!("{} x {} tokens", self.micro_batch, self.seq_len),
            max: format!("{} tokens per micro-batch", 1u64 << 28),
        })?;
        if let Some(n) = self.network_gbps {
            if !(n.is_finite() && n > 0.0) {
                return Err(Error::Invalid {
                    field: "network-gbps",
                    value: n.to_string(),
                    expected: "a positive bandwidth in Gbit/s".into(),
                });
            }
        }
        bounded("zero-bucket", self.zero_bucket, 0, 100_000_000_000)?;
        if self.zero > 3 {
            return Err(Error::Invalid {
                field: "zero",
                value: self.zero.to_string(),
                expected: "a ZeRO stage: 0, 1, 2 or 3".into(),
            });
        }
        if self.fsdp && self.zero != 3 {
            return Err(Error::Invalid {
                field: "launcher",
                value: format!("fsdp with ZeRO {}", self.zero),
                expected: "fsdp (FULL_SHARD, which shards like ZeRO-3) or a ZeRO stage, not both"
                    .into(),
            });
        }
        match self.offload {
            Offload::None => {}
            Offload::Optimizer if self.fsdp => {
                return Err(Error::Invalid {
                    field: "offload",
                    value: "optimizer under FSDP".into(),
                    expected: "params under FSDP (its CPUOffload moves parameters, gradients and the optimizer step together)".into(),
                })
            }
            Offload::Optimizer if self.zero == 0 => {
                return Err(Error::Invalid {
                    field: "offload",
                    value: "optimizer without ZeRO".into(),
                    expected: "none without a sharding engine: add --launcher zero1, zero2, zero3 or fsdp (DDP offloads nothing)".into(),
                })
            }
            Offload::Params if self.zero < 3 => {
                return Err(Error::Invalid {
                    field: "offload",
                    value: format!("params with ZeRO {}", self.zero),
                    expected: "optimizer unless the launcher is zero3 or fsdp (only sharded parameters can live in host RAM)".into(),
                })
            }
            _ => {}
        }
        if self.optimizer_in_backward && (self.grad_accum > 1 || self.zero > 0) {
            return Err(Error::Invalid {
                field: "optimizer-in-backward",
                value: format!("with grad-accum {} and ZeRO {}", self.grad_accum, self.zero),
                expected: "one micro-batch a step and no ZeRO (each gradient is freed as soon as its parameter steps; torchtune refuses it with accumulation)".into(),
            });
        }
        Ok(())
    }

    /// Whether a DeepSpeed engine runs the job: it casts the model to the 16-bit compute dtype
    /// (trainable weights too, with an fp32 master copy in the optimizer) and runs it without
    /// torch autocast (accelerate turns native AMP off under DeepSpeed).
    pub fn deepspeed_16bit(&self) -> bool {
        self.zero >= 1 && !self.fsdp && self.dtype != Dtype::Fp32
    }

    /// Whether accelerate's `sync_each_batch` changes this job: micro-batches accumulate over
    /// several GPUs under DDP or FSDP (DeepSpeed's engine ignores the flag).
    pub fn sync_each_batch_applies(&self) -> bool {
        self.sync_each_batch
            && self.grad_accum > 1
            && self.gpus >= 2
            && (self.zero == 0 || self.fsdp)
    }

    /// Whether FSDP accumulates this job's gradients unsharded: the HF Trainer skips the
    /// gradient sync (`accelerator.no_sync`) on all but the step's last micro-batch unless
    /// accelerate's `sync_each_batch` is set, and FSDP then keeps each gradient whole on every
    /// device until that last backward reduce-scatters it (DeepSpeed ignores `no_sync`).
    pub fn fsdp_accumulates_unsharded(&self) -> bool {
        self.fsdp && self.gpus >= 2 && self.grad_accum > 1 && !self.sync_each_batch
    }

    /// The launcher that runs the job: FSDP, a ZeRO stage, or DDP (one device included).
    pub fn launcher(&self) -> Launcher {
        match (self.fsdp, self.zero) {
            (true, _) => Launcher::Fsdp,
            (false, 0) => Launcher::Ddp,
            (false, 1) => Launcher::Zero1,
            (false, 2) => Launcher::Zero2,
            _ => Launcher::Zero3,
        }
    }

    /// The job as it runs on `hw`: on a CPU the host is the device, so offloading moves
    /// nothing.
    pub fn on(&self, hw: &crate::core::hardware::HardwareProfile) -> Workload {
        if hw.kind == crate::core::hardware::HardwareKind::Cpu {
            Workload {
                offload: Offload::None,
                ..*self
            }
        } else {
            *self
        }
    }

    /// Whether parameters are sharded over more than one device (ZeRO-3, FSDP).
    pub fn shards_params(&self) -> bool {
        self.gpus > 1 && self.zero >= 3
    }

    /// The job as its steps process it: packed rows (mean length x samples / `seq_len` rows of
    /// `seq_len` tokens), or micro-batches padded to their expected longest sample (rounded to
    /// a whole token); the job itself without lengths.
    pub fn processed(&self) -> Workload {
        match self.lengths {
            None => *self,
            Some(l) if self.packing => {
                let tokens = self.samples as f64 * l.mean_truncated(self.seq_len);
                Workload {
                    samples: ((tokens / self.seq_len as f64).ceil() as u64).max(1),
                    ..*self
                }
            }
            Some(l) => Workload {
                seq_len: (l.padded(self.micro_batch, self.seq_len).round() as u64).max(1),
                ..*self
            },
        }
    }

    /// The job at its memory peak: padded micro-batches peak at the longest sample; packed
    /// rows are always full.
    pub fn longest_batch(&self) -> Workload {
        match self.lengths {
            Some(l) if !self.packing => Workload {
                seq_len: l.longest(self.seq_len).max(1),
                ..*self
            },
            _ => *self,
        }
    }

    /// Sequences per optimizer step across all devices.
    pub fn global_batch(&self) -> u64 {
        self.micro_batch * self.grad_accum * self.gpus
    }

    /// Optimizer steps for the whole job (the last partial step counts).
    pub fn steps(&self) -> u64 {
        (self.samples * self.epochs).div_ceil(self.global_batch())
    }
}
