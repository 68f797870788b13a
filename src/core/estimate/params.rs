//! The parameter section: counts as peft prints them and the size of what you export.

use serde::Serialize;

use crate::core::arch::Inventory;
use crate::core::peft::{MethodKind, ResolvedMethod};

/// What the job produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// An adapter file next to the unchanged base model.
    Adapter,
    /// A whole model (full fine-tuning).
    FullModel,
}

/// Sizes of the exported result, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Artifact {
    /// Adapter file or whole model.
    pub kind: ArtifactKind,
    /// Trainable weights saved in fp16/bf16 (adapter + modules_to_save copies).
    pub adapter_fp16_bytes: u64,
    /// Trainable weights saved in fp32 (what `save_pretrained` writes for fp32 adapter weights).
    pub adapter_fp32_bytes: u64,
    /// The base model with the adapter merged in, in bf16; `None` where merging is impossible
    /// (prompt, prefix and P-tuning keep their virtual tokens outside the weights).
    pub merged_bytes: Option<u64>,
    /// What the export step uploads/downloads: the fp32 adapter, or the bf16 full model.
    pub export_bytes: u64,
}

/// `params` in the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamsSection {
    /// Parameters of the base model as loaded for the task.
    pub total: u64,
    /// peft's "trainable params".
    pub trainable: u64,
    /// peft's "all params": base + added modules + trainable copies.
    pub all: u64,
    /// Trainable parameters as a percent of all parameters (4 decimals).
    pub trainable_percent: f64,
    /// Parameters the method adds.
    pub added: u64,
    /// Mixtures of experts: the base parameters one token goes through (its routed experts
    /// only); memory holds `total`, FLOPs follow this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_per_token: Option<u64>,
    /// Sizes of the exported result, in bytes.
    pub artifact: Artifact,
}

impl ParamsSection {
    /// The section for a method resolved on `inv`.
    pub fn new(inv: &Inventory, m: &ResolvedMethod) -> Self {
        let c = m.counts;
        let full = m.config.kind == MethodKind::Full;
        let model_bf16 = 2 * (c.total + c.added);
        let artifact = Artifact {
            kind: if full {
                ArtifactKind::FullModel
            } else {
                ArtifactKind::Adapter
            },
            adapter_fp16_bytes: 2 * c.trainable,
            adapter_fp32_bytes: 4 * c.trainable,
            merged_bytes: if m.config.kind.is_prompt_learning()
                || m.config.kind == MethodKind::Adapter
            {
                None
            } else {
                Some(2 * inv.total_params())
            },
            export_bytes: if full { model_bf16 } else { 4 * c.trainable },
        };
        ParamsSection {
            total: c.total,
            trainable: c.trainable,
            all: c.all,
            trainable_percent: (c.trainable_percent() * 10_000.0).round() / 10_000.0,
            added: c.added,
            active_per_token: inv.has_experts().then(|| inv.active_params()),
            artifact,
        }
    }
}
