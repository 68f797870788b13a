//! Units every layer shares, defined once: binary sizes, hours in a billing month, dtypes.
//!
//! Sizes are integer bytes in the core; GiB (2^30) is the unit people see for memory, GB (10^9)
//! the unit of bandwidth and of storage prices. A month is 730 hours (8,760 / 12), the figure the
//! providers' monthly prices use.

use serde::Serialize;

/// Network bandwidth between two cloud VMs when the price table states none, Gbit/s per VM: a
/// stated assumption (the 10 Gbit/s most providers give their mid-size GPU VMs), shown in the
/// notes wherever it is used; a table's `network_gbps` replaces it.
pub const DEFAULT_NETWORK_GBPS: f64 = 10.0;

/// A number for an error message: plain where it reads well, scientific when huge or tiny, so
/// a hostile 1e308 is echoed as `1e308` and not as 309 digits.
pub fn short_number(x: f64) -> String {
    if x == 0.0 || (1e-4..1e9).contains(&x.abs()) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// 1 GiB in bytes.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Hours in a billing month: 8,760 hours a year / 12.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A closed set of named values (dtypes, optimizers, billing modes): the names the CLI accepts
/// and the TUI steps through, defined once by the core type.
pub trait Named: Copy + PartialEq + Sized + 'static {
    /// Every value, in the order front-ends list them.
    const ALL: &'static [Self];
    /// The name people type.
    fn name(self) -> &'static str;
    /// A one-line description of the value, where its name does not say enough.
    fn help(self) -> Option<&'static str> {
        None
    }
    /// The value of a name, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// Implement [`Named`] from an existing `as_str`.
macro_rules! named {
    ($t:ty, [$($v:expr),+ $(,)?]) => {
        impl $crate::core::units::Named for $t {
            const ALL: &'static [Self] = &[$($v),+];
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    };
    ($t:ty, [$($v:expr),+ $(,)?], help = $help:expr) => {
        impl $crate::core::units::Named for $t {
            const ALL: &'static [Self] = &[$($v),+];
            fn name(self) -> &'static str {
                self.as_str()
            }
            fn help(self) -> Option<&'static str> {
                $help(self)
            }
        }
    };
}
pub(crate) use named;

/// Compute dtype (autocast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// bfloat16 (2 bytes).
    #[default]
    Bf16,
    /// IEEE half precision (2 bytes).
    Fp16,
    /// Single precision (4 bytes).
    Fp32,
}

impl Dtype {
    /// Bytes per value.
    pub fn bytes(self) -> f64 {
        match self {
            Dtype::Bf16 | Dtype::Fp16 => 2.0,
            Dtype::Fp32 => 4.0,
        }
    }

    /// The lowercase name, e.g. `bf16`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::Bf16 => "bf16",
            Dtype::Fp16 => "fp16",
            Dtype::Fp32 => "fp32",
        }
    }
}

/// The dtype the base model's weights are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsDtype {
    /// Single precision (4 bytes per weight).
    Fp32,
    /// bfloat16 (2 bytes per weight).
    Bf16,
    /// IEEE half precision (2 bytes per weight).
    Fp16,
    /// LLM.int8 (1 byte per Linear weight).
    Int8,
    /// bitsandbytes 4-bit NormalFloat with double quantization (QLoRA).
    Nf4,
    /// GPTQ 4-bit, group size 128 (a pre-quantized `*-Int4` / `*-GPTQ` checkpoint, as Qwen's
    /// Q-LoRA recipe trains on).
    Gptq4,
}

impl WeightsDtype {
    /// Bytes per parameter of a quantizable Linear weight, including quantization constants.
    /// NF4 with double quantization: 4 bits + 8-bit absmax per 64 weights + fp32 second-level
    /// constants per 256 blocks = 4 + 8/64 + 32/(64*256) = 4.127 bits (QLoRA paper §2).
    pub fn linear_bytes(self) -> f64 {
        match self {
            WeightsDtype::Fp32 => 4.0,
            WeightsDtype::Bf16 | WeightsDtype::Fp16 => 2.0,
            // LLM.int8: int8 weights + one fp32 scale per output row (negligible per weight).
            WeightsDtype::Int8 => 1.0,
            WeightsDtype::Nf4 => (4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0)) / 8.0,
            // GPTQ: 4 bits + an fp16 scale and a packed 4-bit zero point per 128 weights
            // = 4 + 16/128 + 4/128 = 4.156 bits (the per-column g_idx is negligible).
            WeightsDtype::Gptq4 => (4.0 + 16.0 / 128.0 + 4.0 / 128.0) / 8.0,
        }
    }

    /// Bytes per parameter of everything that is not quantized (embeddings, norms, head).
    /// With bitsandbytes Linears, peft's `prepare_model_for_kbit_training` upcasts every other
    /// parameter to fp32; it leaves a GPTQ model's 16-bit ones as they are.
    pub fn other_bytes(self) -> f64 {
        if self.upcasts_to_fp32() {
            4.0
        } else {
            match self {
                WeightsDtype::Fp32 => 4.0,
                _ => 2.0,
            }
        }
    }

    /// Whether the Linear weights are quantized (int8, NF4 or GPTQ).
    pub fn is_quantized(self) -> bool {
        matches!(
            self,
            WeightsDtype::Int8 | WeightsDtype::Nf4 | WeightsDtype::Gptq4
        )
    }

    /// Whether k-bit preparation upcasts the embeddings, norms and head to fp32, which makes
    /// the residual stream, the norm outputs, the checkpoints and the logits fp32 too: true for
    /// bitsandbytes (int8, NF4), false for GPTQ (peft skips the cast for GPTQ models).
    pub fn upcasts_to_fp32(self) -> bool {
        matches!(self, WeightsDtype::Int8 | WeightsDtype::Nf4)
    }

    /// The lowercase name, e.g. `nf4`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightsDtype::Fp32 => "fp32",
            WeightsDtype::Bf16 => "bf16",
            WeightsDtype::Fp16 => "fp16",
            WeightsDtype::Int8 => "int8",
            WeightsDtype::Nf4 => "nf4",
            WeightsDtype::Gptq4 => "gptq4",
        }
    }
}

named!(Dtype, [Dtype::Bf16, Dtype::Fp16, Dtype::Fp32]);
named!(
    WeightsDtype,
    [
        WeightsDtype::Fp32,
        WeightsDtype::Bf16,
        WeightsDtype::Fp16,
        WeightsDtype::Int8,
        WeightsDtype::Nf4,
        WeightsDtype::Gptq4
    ],
    help = |w| match w {
        WeightsDtype::Nf4 =>
            Some("bitsandbytes 4-bit NormalFloat with double quantization (QLoRA)"),
        WeightsDtype::Gptq4 => Some("a GPTQ 4-bit checkpoint (group 128; 16-bit residual)"),
        _ => None,
    }
);
