//! FLOPs per token: forward, input gradients, weight gradients and recomputation (design §5).

use serde::Serialize;

use super::physics::Shapes;
use super::workload::{Attention, Workload};

/// FLOPs per processed token, by phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct FlopsPerToken {
    /// Forward pass.
    pub forward: f64,
    /// Backward pass: gradients with respect to the inputs (activations).
    pub backward_input: f64,
    /// Backward pass: gradients with respect to the trainable weights.
    pub backward_weight: f64,
    /// Forward recomputation under gradient checkpointing.
    pub recompute: f64,
    /// Sum of the phases.
    pub total: f64,
    /// Of `total`, the attention score and context products (forward, backward and
    /// recomputation): the part an attention kernel runs rather than a GEMM.
    pub attention: f64,
}

impl Shapes {
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
        let recomputed = if w.grad_checkpointing { 1.0 } else { 0.0 };
        let recompute = recomputed * (blocks + attn);
        FlopsPerToken {
            forward,
            backward_input,
            backward_weight,
            recompute,
            total: forward + backward_input + backward_weight + recompute,
            attention: attn * (1.0 + attn_bwd + recomputed),
        }
    }
}
