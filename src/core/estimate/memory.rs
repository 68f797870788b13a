//! Training memory per device, one function per term of the breakdown: weights, trainable
//! state, activations, logits, overhead (design §6).
//!
//! A `calibrate --from-log` calibration adds a signed per-family offset to the overhead term: the
//! bytes a real run's peak held beyond the modelled terms, constant across scenarios (it fits the
//! runtime floor, not the allocator's proportional slack: one measured peak cannot tell them
//! apart).
//!
//! Wart: the peak is the sum of the terms, not yet the maximum over phases (forward end,
//! backward, optimizer step); LoRA rows match the published measurements partly because the
//! flat logits and overhead terms compensate.

use serde::Serialize;

use super::physics::{Assumptions, Shapes};
use super::workload::{Attention, Dtype, WeightsDtype, Workload};
use crate::core::hardware::{HardwareKind, HardwareProfile};
use crate::core::peft::MethodKind;
use crate::core::units::GIB;

/// Memory of one device, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct MemoryBreakdown {
    /// Base model weights.
    pub weights: u64,
    /// Trainable weights, gradients and optimizer state.
    pub trainable_state: u64,
    /// Saved activations.
    pub activations: u64,
    /// Logits and loss buffers.
    pub logits: u64,
    /// Runtime and allocator overhead, including any calibrated offset.
    pub overhead: u64,
    /// The part of `overhead` a `calibrate --from-log` calibration added (negative: removed),
    /// bytes; 0 uncalibrated.
    pub overhead_calibration: i64,
    /// Sum of the terms.
    pub total: u64,
}

impl Shapes {
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

    /// Base weights on one device: quantizable Linears in the load dtype, the rest in 16-bit
    /// (fp32 when quantized: k-bit preparation upcasts them); ZeRO-3 shards them, and expert
    /// parallelism keeps only the device's share of the experts (ZeRO then has no expert
    /// replicas left to shard).
    pub fn weights_bytes(&self, w: &Workload) -> f64 {
        let lb = w.weights_dtype.linear_bytes();
        let local_experts = self.local_expert_params(w);
        ((self.linear_params - local_experts.0) * lb
            + self.other_params * w.weights_dtype.other_bytes())
            / zero_shard(w, 3)
            + local_experts.1 * lb
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
        let (sharded_experts, _) = self.local_expert_params(w);
        (self.linear_params - sharded_experts) * w.weights_dtype.linear_bytes()
            + self.other_params * w.weights_dtype.other_bytes()
    }

    /// Trainable state on one device: peft keeps added weights in fp32 (weight, grad, optimizer
    /// state); unfrozen base weights add grad + optimizer state in their own dtype;
    /// modules_to_save copies add the copy too. ZeRO shards optimizer state (1) and gradients (2).
    pub fn trainable_state_bytes(&self, w: &Workload) -> f64 {
        let base_bytes = w.weights_dtype.other_bytes();
        let opt = |bytes: f64| w.optimizer.state_bytes(bytes);
        let copies = self.saved_copies * (base_bytes + base_bytes + opt(base_bytes));
        let pb = if self.kind == MethodKind::Full {
            match w.weights_dtype {
                WeightsDtype::Fp32 => 4.0,
                _ => 2.0,
            }
        } else {
            base_bytes
        };
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
        let (grads, states) = (dense_unfrozen * pb, dense_unfrozen * opt(pb));
        let dense_adapter = (self.adapter_params - te_adapter) * (4.0 + 4.0 + opt(4.0));
        let local = (te_base * (pb + opt(pb)) + te_adapter * (4.0 + 4.0 + opt(4.0))) * share;
        states / zero_shard(w, 1)
            + grads / zero_shard(w, 2)
            + (dense_adapter + copies) / zero_shard(w, 1)
            + local
    }

    /// Saved activations for micro-batch `b`: every block's (or, with checkpointing, each
    /// block's input plus one block's), plus the embedding output and final norm.
    pub fn activation_bytes(&self, w: &Workload, dtype: Dtype, b: f64) -> f64 {
        let act_bytes = dtype.bytes();
        let s = self.seq_tokens(w.seq_len);
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
        (if w.grad_checkpointing {
            b * (self.layers * s * self.hidden * act_bytes + block)
        } else {
            b * self.layers * block
        }) + b * s * self.hidden * act_bytes * 2.0
    }

    /// Logits and loss buffers for micro-batch `b`: head output in the compute dtype plus fp32
    /// upcast and gradient; an fp32 head (fp32 training, or upcast by
    /// prepare_model_for_kbit_training) makes fp32 logits with no separate upcast copy.
    pub fn logits_bytes(&self, w: &Workload, dtype: Dtype, b: f64) -> f64 {
        let logit_bytes = if dtype == Dtype::Fp32 || w.weights_dtype.is_quantized() {
            8.0
        } else {
            dtype.bytes() + 8.0
        };
        if self.head_matmul > 0.0 {
            b * self.seq_tokens(w.seq_len) * self.vocab * logit_bytes
        } else {
            0.0
        }
    }

    /// Memory of one device for micro-batch `b`: the sum of the terms above plus the runtime
    /// and allocator overhead.
    pub fn memory(
        &self,
        w: &Workload,
        dtype: Dtype,
        hw: &HardwareProfile,
        a: &Assumptions,
        b: u64,
    ) -> MemoryBreakdown {
        let b = b as f64;
        let weights = self.weights_bytes(w);
        let trainable_state = self.trainable_state_bytes(w);
        let activations = self.activation_bytes(w, dtype, b);
        let logits = self.logits_bytes(w, dtype, b);
        let allocated = weights + trainable_state + activations + logits;
        let modelled = overhead_bytes(allocated, hw, a);
        // A calibrated offset cannot make the overhead negative.
        let overhead = (modelled + hw.memory_offset_for(self.kind)).max(0.0);
        MemoryBreakdown {
            weights: weights as u64,
            trainable_state: trainable_state as u64,
            activations: activations as u64,
            logits: logits as u64,
            overhead: overhead as u64,
            overhead_calibration: (overhead - modelled) as i64,
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
}

/// The divisor ZeRO applies at `stage` and above (1 on one GPU or below the stage).
fn zero_shard(w: &Workload, stage: u8) -> f64 {
    if w.gpus > 1 && w.zero >= stage {
        w.gpus as f64
    } else {
        1.0
    }
}

/// Runtime (CUDA context and workspaces, or a CPU process's floor) plus allocator slack.
fn overhead_bytes(allocated: f64, hw: &HardwareProfile, a: &Assumptions) -> f64 {
    let runtime = match hw.kind {
        HardwareKind::Gpu => a.runtime_overhead_gib,
        HardwareKind::Cpu => a.cpu_runtime_overhead_gib,
    } * GIB;
    runtime + a.allocator_slack * allocated
}

#[cfg(test)]
mod tests {
    use crate::core::catalogs::Catalogs;
    use crate::core::estimate::Scenario;
    use crate::core::estimate::{Dtype, WeightsDtype};
    use crate::core::spec::ScenarioSpec;

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
    fn each_term_by_hand() {
        let (_, s, shapes) = qwen_7b_one_sequence();
        let w = s.workload;
        // Weights: every base parameter in bf16, 7,721,324,544 x 2 bytes (models.md total).
        assert_eq!(shapes.weights_bytes(&w), 7_721_324_544.0 * 2.0);
        // LoRA state: peft's fp32 adapter, 4 (weight) + 4 (grad) + 8 (AdamW m, v) bytes per
        // trainable parameter; Qwen-7B LoRA r=8 on c_attn,c_proj,w1,w2 trains 17,891,328.
        assert_eq!(shapes.trainable_state_bytes(&w), 17_891_328.0 * 16.0);
        // Logits: b x s x V x (2 bf16 + 4 fp32 upcast + 4 fp32 grad) = 512 x 151,936 x 10.
        assert_eq!(
            shapes.logits_bytes(&w, Dtype::Bf16, 1.0),
            512.0 * 151_936.0 * 10.0
        );
        // NF4 (QLoRA): the head is upcast to fp32, so logits are fp32 with no extra copy: 8 B.
        let q = crate::core::estimate::Workload {
            weights_dtype: WeightsDtype::Nf4,
            ..w
        };
        assert_eq!(
            shapes.logits_bytes(&q, Dtype::Bf16, 1.0),
            512.0 * 151_936.0 * 8.0
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
    fn a_calibrated_offset_moves_the_overhead_and_never_below_zero() {
        let (catalogs, s, shapes) = qwen_7b_one_sequence();
        let a = crate::core::estimate::Assumptions::default();
        let mut hw = catalogs.hardware().unwrap().get("a10").unwrap().clone();
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
