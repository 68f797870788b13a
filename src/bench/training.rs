//! Real training steps with candle's autograd: one transformer block stack of the model's family
//! at reduced width and depth, trained with LoRA, a bottleneck adapter, prompt tuning or full
//! fine-tuning.
//!
//! Frozen weights go through [`FrozenLinear`], a `CustomOp1` whose backward returns only the input
//! gradient, so a frozen `W` never gets a `dW` (candle's own matmul backward always computes
//! both, see candle's autograd). Trainable tensors are [`Var`]s; nothing else is.

use candle_core::backend::BackendStorage;
use candle_core::{
    bail, CpuStorage, CudaStorage, CustomOp1, DType, Device, Layout, Result, Shape, Storage,
    Tensor, Var, D,
};
use serde::Serialize;

/// A fine-tuning method family that the training bench runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// LoRA on every Linear of the block (rank [`TrainDims::lora_rank`]).
    Lora,
    /// A Houlsby bottleneck adapter after the attention output and after the MLP.
    Adapter,
    /// Prompt tuning: trainable virtual tokens prepended to the input.
    Prompt,
    /// Full fine-tuning: every weight (linears and norms) trains.
    Full,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Lora, Method::Adapter, Method::Prompt, Method::Full];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Lora => "lora",
            Method::Adapter => "adapter",
            Method::Prompt => "prompt",
            Method::Full => "full",
        }
    }
}

/// The dimensions of the reduced block stack that one training step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrainDims {
    /// The reduced block. `gated`: SwiGLU MLP with pre-RMSNorm and causal attention (decoders);
    /// otherwise a GELU MLP with post-LayerNorm and bidirectional attention (BERT).
    #[serde(flatten)]
    pub block: super::BlockDims,
    pub layers: u64,
    /// Input tokens (batch 1); prompt tuning adds [`TrainDims::prompt_tokens`].
    pub tokens: u64,
    pub lora_rank: u64,
    pub adapter_bottleneck: u64,
    pub prompt_tokens: u64,
}

impl TrainDims {
    /// Width of attention (heads · head_dim).
    pub fn attn_dim(&self) -> u64 {
        self.block.heads * self.block.head_dim
    }

    /// Width of keys and values (kv_heads · head_dim).
    pub fn kv_dim(&self) -> u64 {
        self.block.kv_heads * self.block.head_dim
    }

    /// Tokens the block sees for `method` (prompt tuning prepends its virtual tokens).
    pub fn seq(&self, method: Method) -> u64 {
        self.tokens
            + if method == Method::Prompt {
                self.prompt_tokens
            } else {
                0
            }
    }

    /// The Linears of one block as (name, in, out).
    pub fn linears(&self) -> Vec<(&'static str, u64, u64)> {
        let (h, i) = (self.block.hidden, self.block.intermediate);
        let mut v = vec![
            ("qkv", h, self.attn_dim() + 2 * self.kv_dim()),
            ("o", self.attn_dim(), h),
        ];
        if self.block.gated {
            v.push(("gate", h, i));
        }
        v.push(("up", h, i));
        v.push(("down", i, h));
        v
    }

    /// Parameters that `method` trains.
    pub fn trainable_params(&self, method: Method) -> u64 {
        let lin = self.linears();
        let per_layer = match method {
            Method::Lora => lin.iter().map(|(_, k, n)| self.lora_rank * (k + n)).sum(),
            Method::Adapter => 2 * 2 * self.block.hidden * self.adapter_bottleneck,
            Method::Prompt => 0,
            Method::Full => lin.iter().map(|(_, k, n)| k * n).sum::<u64>() + 2 * self.block.hidden,
        };
        per_layer * self.layers
            + if method == Method::Prompt {
                self.prompt_tokens * self.block.hidden
            } else {
                0
            }
    }
}

/// One matmul of the step: its forward FLOPs and which gradients the method needs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MatmulCost {
    flops: f64,
    /// The gradient of the left operand (the activation) is needed: it depends on a trainable.
    input_grad: bool,
    /// The gradient of the right operand is needed: a trainable weight, or an activation that
    /// depends on a trainable (attention's K and V).
    weight_grad: bool,
}

/// Analytic FLOPs of one training step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepFlops {
    pub forward: f64,
    pub backward: f64,
}

impl StepFlops {
    pub fn total(&self) -> f64 {
        self.forward + self.backward
    }
}

/// Analytic FLOPs of one training step of `method` on the reduced stack.
///
/// Only matmuls count, at 2·m·k·n each, with S = [`TrainDims::seq`] tokens, h hidden, a = heads ·
/// head_dim, c = kv_heads · head_dim, i intermediate, r the LoRA rank, b the adapter bottleneck:
///
/// * forward, per layer: qkv 2·S·h·(a+2c), o 2·S·a·h, MLP 2·S·h·i per up/gate and 2·S·i·h for
///   down, attention QKᵀ and AV 2·heads·S²·head_dim each (the full S×S, as computed); LoRA adds
///   2·S·k·r + 2·S·r·n per Linear k→n; the adapter adds 2·(2·S·h·b) twice per layer;
/// * backward: for every matmul Y = X·W, the input gradient dX = dY·Wᵀ (same FLOPs as forward)
///   when X depends on a trainable tensor, and the weight gradient dW = Xᵀ·dY when W is
///   trainable (for QKᵀ and AV: when K or V depend on a trainable tensor).
///
/// Which inputs depend on a trainable tensor: prompt tuning and full fine-tuning (norm weights
/// train) make every activation depend on one; LoRA makes everything from the first layer's q, k,
/// v on; the adapter everything after the first layer's attention output. Norms, softmax,
/// activations and the optimizer update are not counted; their time is part of the measured step,
/// so they lower the efficiency, as they do in real training.
pub fn step_flops(d: &TrainDims, method: Method) -> StepFlops {
    let costs = matmul_costs(d, method);
    let forward = costs.iter().map(|c| c.flops).sum();
    let backward = costs
        .iter()
        .map(|c| c.flops * (c.input_grad as u8 as f64 + c.weight_grad as u8 as f64))
        .sum();
    StepFlops { forward, backward }
}

fn matmul_costs(d: &TrainDims, method: Method) -> Vec<MatmulCost> {
    let s = d.seq(method) as f64;
    let mm = |k: u64, n: u64| 2.0 * s * k as f64 * n as f64;
    let full = method == Method::Full;
    let mut out = Vec::new();
    // `live`: the current activation depends on a trainable tensor.
    let mut live = matches!(method, Method::Prompt | Method::Full);
    for _ in 0..d.layers {
        for (name, k, n) in d.linears() {
            let input_live = live;
            out.push(MatmulCost {
                flops: mm(k, n),
                input_grad: input_live,
                weight_grad: full,
            });
            if method == Method::Lora {
                let r = d.lora_rank;
                // x·A: A trains; (x·A)·B: B trains and x·A depends on A.
                out.push(MatmulCost {
                    flops: mm(k, r),
                    input_grad: input_live,
                    weight_grad: true,
                });
                out.push(MatmulCost {
                    flops: mm(r, n),
                    input_grad: true,
                    weight_grad: true,
                });
                live = true;
            }
            if name == "qkv" {
                // Attention: QKᵀ and AV on activations that depend on a trainable iff qkv's
                // output does.
                let att = 2.0 * d.block.heads as f64 * s * s * d.block.head_dim as f64;
                for _ in 0..2 {
                    out.push(MatmulCost {
                        flops: att,
                        input_grad: live,
                        weight_grad: live,
                    });
                }
            }
            if method == Method::Adapter && (name == "o" || name == "down") {
                let b = d.adapter_bottleneck;
                out.push(MatmulCost {
                    flops: mm(d.block.hidden, b),
                    input_grad: live,
                    weight_grad: true,
                });
                out.push(MatmulCost {
                    flops: mm(b, d.block.hidden),
                    input_grad: true,
                    weight_grad: true,
                });
                live = true;
            }
        }
    }
    out
}

/// `x · W` for a frozen `W` ([in, out]): the backward pass returns only `dx = dy · Wᵀ`.
#[derive(Debug, Clone)]
pub struct FrozenLinear {
    pub w: Tensor,
}

impl FrozenLinear {
    fn bmnk(&self, l: &Layout) -> Result<(usize, usize, usize, usize)> {
        let (m, k) = l.shape().dims2()?;
        let (wk, n) = self.w.dims2()?;
        if k != wk {
            bail!("frozen-linear: input has {k} features, weight expects {wk}");
        }
        Ok((1, m, n, k))
    }
}

impl CustomOp1 for FrozenLinear {
    fn name(&self) -> &'static str {
        "frozen-linear"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, m, n, k) = self.bmnk(l)?;
        let (ws, wl) = self.w.storage_and_layout();
        match &*ws {
            Storage::Cpu(w) => Ok((s.matmul(w, (b, m, n, k), l, wl)?, Shape::from((m, n)))),
            _ => bail!("frozen-linear: weight is not on the cpu"),
        }
    }

    // Compiles against candle's dummy CUDA backend too; only reached with `--features cuda`.
    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let (b, m, n, k) = self.bmnk(l)?;
        let (ws, wl) = self.w.storage_and_layout();
        match &*ws {
            Storage::Cuda(w) => Ok((s.matmul(w, (b, m, n, k), l, wl)?, Shape::from((m, n)))),
            _ => bail!("frozen-linear: weight is not on the cuda device"),
        }
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, g: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(g.matmul(&self.w.t()?)?))
    }
}

/// A weight that trains (a [`Var`]) or not (a plain tensor).
#[derive(Debug, Clone)]
enum Weight {
    Frozen(Tensor),
    Train(Var),
}

impl Weight {
    fn new(t: &Tensor, train: bool) -> Result<Self> {
        Ok(if train {
            Weight::Train(Var::from_tensor(t)?)
        } else {
            Weight::Frozen(t.clone())
        })
    }

    fn tensor(&self) -> &Tensor {
        match self {
            Weight::Frozen(t) => t,
            Weight::Train(v) => v.as_tensor(),
        }
    }
}

#[derive(Debug, Clone)]
struct Linear {
    w: Weight,
    /// LoRA A [in, r], B [r, out] and the scale alpha/r.
    lora: Option<(Var, Var, f64)>,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = match &self.w {
            Weight::Frozen(w) => x.apply_op1(FrozenLinear { w: w.clone() })?,
            Weight::Train(w) => x.matmul(w.as_tensor())?,
        };
        match &self.lora {
            None => Ok(y),
            Some((a, b, scale)) => {
                let delta = x.matmul(a.as_tensor())?.matmul(b.as_tensor())?;
                y + delta.affine(*scale, 0.0)?
            }
        }
    }
}

/// Bottleneck adapter: `x + relu(x · down) · up`.
#[derive(Debug, Clone)]
struct Adapter {
    down: Var,
    up: Var,
}

impl Adapter {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let hdn = x.matmul(self.down.as_tensor())?.relu()?;
        x + hdn.matmul(self.up.as_tensor())?
    }
}

#[derive(Debug, Clone)]
struct Layer {
    qkv: Linear,
    o: Linear,
    gate: Option<Linear>,
    up: Linear,
    down: Linear,
    norm1: Weight,
    norm2: Weight,
    adapter1: Option<Adapter>,
    adapter2: Option<Adapter>,
}

/// Frozen base weights of the reduced stack, shared by every method (full fine-tuning copies
/// them into [`Var`]s).
#[derive(Debug, Clone)]
pub struct BaseWeights {
    dims: TrainDims,
    device: Device,
    /// Per layer: qkv, o, gate (gated only), up, down in [`TrainDims::linears`] order.
    linears: Vec<Vec<Tensor>>,
    norm: Tensor,
    input: Tensor,
}

impl BaseWeights {
    /// Random weights (std 1/√fan_in, so activations stay O(1) and never subnormal) and a random
    /// input of `tokens` × `hidden`.
    pub fn new(dims: TrainDims, device: &Device) -> Result<Self> {
        let linears = (0..dims.layers)
            .map(|_| {
                dims.linears()
                    .iter()
                    .map(|&(_, k, n)| {
                        let std = 1.0 / (k as f32).sqrt();
                        Tensor::randn(0f32, std, (k as usize, n as usize), device)
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let norm = Tensor::ones(dims.block.hidden as usize, DType::F32, device)?;
        let input = Tensor::randn(
            0f32,
            1.0,
            (dims.tokens as usize, dims.block.hidden as usize),
            device,
        )?;
        Ok(BaseWeights {
            dims,
            device: device.clone(),
            linears,
            norm,
            input,
        })
    }
}

/// The reduced stack set up for one method: weights, trainable tensors and the input.
pub struct TrainStep {
    dims: TrainDims,
    layers: Vec<Layer>,
    prompt: Option<Var>,
    input: Tensor,
    mask: Option<Tensor>,
    lr: f64,
}

impl TrainStep {
    pub fn new(base: &BaseWeights, method: Method) -> Result<Self> {
        let d = base.dims;
        let dev = &base.device;
        let full = method == Method::Full;
        let mut layers = Vec::new();
        for ws in &base.linears {
            let lin = |idx: usize| -> Result<Linear> {
                let w = &ws[idx];
                let lora = if method == Method::Lora {
                    let (k, n) = w.dims2()?;
                    let r = d.lora_rank as usize;
                    let a = Var::randn(0f32, 1.0 / (k as f32).sqrt(), (k, r), dev)?;
                    // Real LoRA starts B at 0; a small B keeps dA non-zero on the first step.
                    let b = Var::randn(0f32, 0.01, (r, n), dev)?;
                    Some((a, b, 2.0))
                } else {
                    None
                };
                Ok(Linear {
                    w: Weight::new(w, full)?,
                    lora,
                })
            };
            let adapter = || -> Result<Option<Adapter>> {
                if method != Method::Adapter {
                    return Ok(None);
                }
                let (h, b) = (d.block.hidden as usize, d.adapter_bottleneck as usize);
                Ok(Some(Adapter {
                    down: Var::randn(0f32, 1.0 / (h as f32).sqrt(), (h, b), dev)?,
                    up: Var::randn(0f32, 0.01, (b, h), dev)?,
                }))
            };
            let (gate, up, down) = if d.block.gated {
                (Some(lin(2)?), lin(3)?, lin(4)?)
            } else {
                (None, lin(2)?, lin(3)?)
            };
            layers.push(Layer {
                qkv: lin(0)?,
                o: lin(1)?,
                gate,
                up,
                down,
                norm1: Weight::new(&base.norm, full)?,
                norm2: Weight::new(&base.norm, full)?,
                adapter1: adapter()?,
                adapter2: adapter()?,
            });
        }
        let prompt = if method == Method::Prompt {
            Some(Var::randn(
                0f32,
                1.0,
                (d.prompt_tokens as usize, d.block.hidden as usize),
                dev,
            )?)
        } else {
            None
        };
        let s = d.seq(method) as usize;
        let mask = if d.block.gated {
            let v: Vec<f32> = (0..s * s)
                .map(|ix| if ix % s > ix / s { -1e9 } else { 0.0 })
                .collect();
            Some(Tensor::from_vec(v, (s, s), dev)?)
        } else {
            None
        };
        Ok(TrainStep {
            dims: d,
            layers,
            prompt,
            input: base.input.clone(),
            mask,
            lr: 1e-3,
        })
    }

    /// The tensors this method trains, with names.
    pub fn trainable(&self) -> Vec<(String, &Var)> {
        let mut out = Vec::new();
        if let Some(p) = &self.prompt {
            out.push(("prompt".to_string(), p));
        }
        for (i, l) in self.layers.iter().enumerate() {
            for (name, lin) in l.linears() {
                if let Weight::Train(v) = &lin.w {
                    out.push((format!("{i}.{name}.weight"), v));
                }
                if let Some((a, b, _)) = &lin.lora {
                    out.push((format!("{i}.{name}.lora_a"), a));
                    out.push((format!("{i}.{name}.lora_b"), b));
                }
            }
            for (name, n) in [("norm1", &l.norm1), ("norm2", &l.norm2)] {
                if let Weight::Train(v) = n {
                    out.push((format!("{i}.{name}.weight"), v));
                }
            }
            for (name, a) in [("adapter1", &l.adapter1), ("adapter2", &l.adapter2)] {
                if let Some(a) = a {
                    out.push((format!("{i}.{name}.down"), &a.down));
                    out.push((format!("{i}.{name}.up"), &a.up));
                }
            }
        }
        out
    }

    /// The weights this method keeps frozen, with names.
    #[cfg(test)]
    pub fn frozen(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            for (name, lin) in l.linears() {
                if let Weight::Frozen(t) = &lin.w {
                    out.push((format!("{i}.{name}.weight"), t));
                }
            }
            for (name, n) in [("norm1", &l.norm1), ("norm2", &l.norm2)] {
                if let Weight::Frozen(t) = n {
                    out.push((format!("{i}.{name}.weight"), t));
                }
            }
        }
        out
    }

    /// The loss, mean(y²) of the last layer's output.
    pub fn loss(&self) -> Result<Tensor> {
        let mut x = match &self.prompt {
            Some(p) => Tensor::cat(&[p.as_tensor(), &self.input], 0)?,
            None => self.input.clone(),
        };
        for l in &self.layers {
            x = self.layer_forward(l, &x)?;
        }
        x.sqr()?.mean_all()
    }

    /// Forward, backward and an SGD update of the trainable tensors; returns the seconds spent
    /// in (forward, backward + update), measured after synchronising the device.
    pub fn step(&self) -> Result<(f64, f64)> {
        let dev = self.input.device();
        let t0 = std::time::Instant::now();
        let loss = self.loss()?;
        dev.synchronize()?;
        let t1 = std::time::Instant::now();
        let grads = loss.backward()?;
        for (_, v) in self.trainable() {
            if let Some(g) = grads.get(v.as_tensor()) {
                v.set(&(v.as_tensor() - g.affine(self.lr, 0.0)?)?)?;
            }
        }
        dev.synchronize()?;
        let t2 = std::time::Instant::now();
        Ok((
            t1.duration_since(t0).as_secs_f64(),
            t2.duration_since(t1).as_secs_f64(),
        ))
    }

    fn norm(&self, x: &Tensor, w: &Weight) -> Result<Tensor> {
        let x = if self.dims.block.gated {
            x.clone()
        } else {
            x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?
        };
        let rms = (x.sqr()?.mean_keepdim(D::Minus1)? + 1e-6)?.sqrt()?;
        x.broadcast_div(&rms)?.broadcast_mul(w.tensor())
    }

    fn attention(&self, qkv: &Tensor) -> Result<Tensor> {
        let d = &self.dims;
        let (s, _) = qkv.dims2()?;
        let (nh, nkv, hd) = (
            d.block.heads as usize,
            d.block.kv_heads as usize,
            d.block.head_dim as usize,
        );
        let (a, c) = (d.attn_dim() as usize, d.kv_dim() as usize);
        let heads = |t: Tensor, n: usize| -> Result<Tensor> {
            t.reshape((s, n, hd))?.transpose(0, 1)?.contiguous()
        };
        let q = heads(qkv.narrow(1, 0, a)?, nh)?;
        let mut k = heads(qkv.narrow(1, a, c)?, nkv)?;
        let mut v = heads(qkv.narrow(1, a + c, c)?, nkv)?;
        if nkv < nh {
            let g = nh / nkv;
            let rep = |t: Tensor| -> Result<Tensor> {
                t.unsqueeze(1)?
                    .broadcast_as((nkv, g, s, hd))?
                    .reshape((nh, s, hd))
            };
            k = rep(k)?;
            v = rep(v)?;
        }
        let mut scores = q.matmul(&k.t()?)?.affine(1.0 / (hd as f64).sqrt(), 0.0)?;
        if let Some(m) = &self.mask {
            scores = scores.broadcast_add(m)?;
        }
        let max = scores.max_keepdim(D::Minus1)?.detach();
        let e = scores.broadcast_sub(&max)?.exp()?;
        let p = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
        p.matmul(&v)?.transpose(0, 1)?.reshape((s, a))
    }

    fn layer_forward(&self, l: &Layer, x: &Tensor) -> Result<Tensor> {
        let with_adapter = |a: &Option<Adapter>, t: Tensor| -> Result<Tensor> {
            match a {
                Some(a) => a.forward(&t),
                None => Ok(t),
            }
        };
        if self.dims.block.gated {
            // Pre-norm decoder block with a SwiGLU MLP.
            let h = self.norm(x, &l.norm1)?;
            let att = self.attention(&l.qkv.forward(&h)?)?;
            let o = with_adapter(&l.adapter1, l.o.forward(&att)?)?;
            let x = (x + o)?;
            let h = self.norm(&x, &l.norm2)?;
            let gate = l.gate.as_ref().map(|g| g.forward(&h)).transpose()?;
            let up = l.up.forward(&h)?;
            let act = match gate {
                Some(g) => (g.silu()? * up)?,
                None => up.gelu()?,
            };
            let m = with_adapter(&l.adapter2, l.down.forward(&act)?)?;
            x + m
        } else {
            // Post-norm encoder block with a GELU MLP.
            let att = self.attention(&l.qkv.forward(x)?)?;
            let o = with_adapter(&l.adapter1, l.o.forward(&att)?)?;
            let x = self.norm(&(x + o)?, &l.norm1)?;
            let m = with_adapter(&l.adapter2, l.down.forward(&l.up.forward(&x)?.gelu()?)?)?;
            self.norm(&(x + m)?, &l.norm2)
        }
    }
}

impl Layer {
    fn linears(&self) -> Vec<(&'static str, &Linear)> {
        let mut v = vec![("qkv", &self.qkv), ("o", &self.o)];
        if let Some(g) = &self.gate {
            v.push(("gate", g));
        }
        v.push(("up", &self.up));
        v.push(("down", &self.down));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(gated: bool, kv_heads: u64) -> TrainDims {
        TrainDims {
            block: super::super::BlockDims {
                hidden: 32,
                heads: 4,
                kv_heads,
                head_dim: 8,
                intermediate: 48,
                gated,
            },
            layers: 2,
            tokens: 6,
            lora_rank: 2,
            adapter_bottleneck: 4,
            prompt_tokens: 3,
        }
    }

    #[test]
    fn gradients_exist_exactly_for_trainable_tensors() {
        for dims in [tiny(true, 4), tiny(true, 2), tiny(false, 4)] {
            let base = BaseWeights::new(dims, &Device::Cpu).unwrap();
            for method in Method::ALL {
                let step = TrainStep::new(&base, method).unwrap();
                let grads = step.loss().unwrap().backward().unwrap();
                let trainable = step.trainable();
                let n_train: u64 = trainable.iter().map(|(_, v)| v.elem_count() as u64).sum();
                assert_eq!(n_train, dims.trainable_params(method), "{method:?}");
                for (name, v) in &trainable {
                    let g = grads.get(v.as_tensor());
                    assert!(g.is_some(), "{method:?}: no gradient for {name}");
                    assert_eq!(g.unwrap().dims(), v.dims(), "{method:?}: {name}");
                }
                for (name, t) in step.frozen() {
                    assert!(
                        grads.get(t).is_none(),
                        "{method:?}: frozen {name} got a gradient"
                    );
                }
                let names: Vec<&str> = trainable.iter().map(|(n, _)| n.as_str()).collect();
                let lin = if dims.block.gated { 5 } else { 4 };
                match method {
                    Method::Lora => {
                        assert_eq!(names.len(), 2 * 2 * lin);
                        assert!(names.iter().all(|n| n.contains(".lora_")));
                    }
                    Method::Adapter => {
                        assert_eq!(names.len(), 2 * 4);
                        assert!(names.iter().all(|n| n.contains(".adapter")));
                    }
                    Method::Prompt => assert_eq!(names, ["prompt"]),
                    Method::Full => {
                        assert_eq!(names.len(), 2 * (lin + 2));
                        assert!(step.frozen().is_empty());
                    }
                }
            }
        }
    }

    /// Largest absolute difference between two tensors.
    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .and_then(|d| d.abs())
            .and_then(|d| d.max_all())
            .and_then(|d| d.to_scalar())
            .unwrap()
    }

    #[test]
    fn frozen_linear_matches_matmul_and_gives_no_weight_grad() {
        let dev = Device::Cpu;
        let x = Var::randn(0f32, 1.0, (5, 7), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (7, 3), &dev).unwrap();
        let y1 = x
            .as_tensor()
            .apply_op1(FrozenLinear { w: w.clone() })
            .unwrap();
        let y2 = x.as_tensor().matmul(&w).unwrap();
        assert!(max_abs_diff(&y1, &y2) < 1e-5);
        let g1 = y1.sum_all().unwrap().backward().unwrap();
        let g2 = y2.sum_all().unwrap().backward().unwrap();
        assert!(g1.get(&w).is_none());
        assert!(g2.get(&w).is_some());
        let (dx1, dx2) = (
            g1.get(x.as_tensor()).unwrap(),
            g2.get(x.as_tensor()).unwrap(),
        );
        assert!(max_abs_diff(dx1, dx2) < 1e-5);
    }

    #[test]
    fn a_step_updates_weights_and_lowers_the_loss() {
        let base = BaseWeights::new(tiny(true, 2), &Device::Cpu).unwrap();
        let mut step = TrainStep::new(&base, Method::Lora).unwrap();
        step.lr = 0.02;
        let before: f32 = step.loss().unwrap().to_scalar().unwrap();
        for _ in 0..3 {
            step.step().unwrap();
        }
        let after: f32 = step.loss().unwrap().to_scalar().unwrap();
        assert!(after < before, "{after} >= {before}");
    }

    #[test]
    fn analytic_flops_follow_the_formula() {
        let d = tiny(true, 4);
        let fwd_full = step_flops(&d, Method::Full);
        // Full fine-tuning: every matmul needs both gradients.
        assert!((fwd_full.backward - 2.0 * fwd_full.forward).abs() < 1e-6);
        // Forward of the base stack, by hand.
        let s = d.tokens as f64;
        let per_layer = 2.0 * s * 32.0 * (32.0 + 64.0)
            + 2.0 * s * 32.0 * 32.0
            + 3.0 * 2.0 * s * 32.0 * 48.0
            + 2.0 * 2.0 * 4.0 * s * s * 8.0;
        assert!((fwd_full.forward - 2.0 * per_layer).abs() < 1e-6);
        let lora = step_flops(&d, Method::Lora);
        let adapter = step_flops(&d, Method::Adapter);
        let prompt = step_flops(&d, Method::Prompt);
        assert!(lora.backward < fwd_full.backward);
        assert!(adapter.backward < lora.backward);
        // Prompt tuning: input gradients everywhere, no weight gradients (on S + p tokens).
        assert!(prompt.backward > 0.0 && prompt.backward < prompt.forward * 1.2);
    }
}
