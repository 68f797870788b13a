//! Step time: FLOPs at the device's peak times MFU, per-layer launch overhead, QLoRA
//! dequantisation, ZeRO-3 gathers, the optimizer step and the gradient all-reduce (design §5).

use super::physics::{Assumptions, Shapes};
use super::workload::{Dtype, Workload};
use crate::core::hardware::HardwareProfile;
use crate::core::peft::MethodKind;

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
        let link = link_bytes_per_second(w, hw).map(|b| b * a.link_efficiency);
        if w.gpus > 1 && w.zero >= 3 {
            if let Some(link) = link {
                // ZeRO-3 all-gathers the parameters for every forward, backward (and recompute).
                micro += passes * (n - 1.0) / n * self.gathered_weight_bytes(w) / link;
            }
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
        let mut step = w.grad_accum as f64 * micro;
        if let Some(bw) = bw {
            // The optimizer reads and writes every byte of trainable state once.
            let st = self.trainable_state(w);
            step += 2.0 * (st.persistent + st.gradients) / (bw * a.optimizer_bandwidth_efficiency);
        }
        if w.gpus > 1 {
            if let Some(link) = link {
                // Sharded experts' gradients stay with their experts: no all-reduce.
                let local = if self.expert_sharded(w) {
                    self.trainable_expert_params
                } else {
                    0.0
                };
                let trainable =
                    self.adapter_params + self.base_unfrozen + self.saved_copies - local;
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
