//! The estimate: parameters, FLOPs, memory and time for one scenario on each hardware profile.
//!
//! Pure functions of (architecture, method, workload, hardware): no I/O, no clock.

mod calibrate;
pub mod compare;
pub mod fit;
pub mod flops;
pub mod lengths;
pub mod memory;
pub mod offers;
pub mod params;
pub mod physics;
mod result;
pub mod spread;
pub mod time;
pub mod validate;
pub mod workload;

pub use calibrate::{fit_mfu, MfuFit};
pub use compare::{compare, CompareRow, Unit};
pub use fit::{Change, DeviceConfig, FitPolicy, FitReason, Suggestion};
pub use flops::FlopsPerToken;
pub use lengths::Lengths;
pub use memory::MemoryBreakdown;
pub use offers::{
    host_ram, job_inputs, job_inputs_for, rank_offers, HostRam, OfferQuery, OfferResult,
    SHORT_OF_HOST_RAM, UNKNOWN_HOST_RAM,
};
pub use params::{Artifact, ArtifactKind, ParamsSection};
pub use physics::{Assumptions, Shapes};
pub use result::{DeviceResult, Estimate, EstimateCsvRow, FitSummary, FlopsSection, MethodSummary};
pub(crate) use workload::bounded;
pub use workload::{
    Attention, Dtype, Framework, Launcher, LossKernel, Offload, Optimizer, WeightsDtype, Workload,
};

use crate::core::arch::{Inventory, ModelProfile, Task};
use crate::core::error::Result;
use crate::core::peft::{self, MethodConfig, ResolvedMethod};

/// Everything a user chooses: model, task, method and job.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The model's architecture.
    pub profile: ModelProfile,
    /// The task head the model is loaded with.
    pub task: Task,
    /// Labels of the classification head (sequence classification only).
    pub num_labels: u64,
    /// The PEFT method requested.
    pub method: MethodConfig,
    /// The training job.
    pub workload: Workload,
    /// Train sequences longer than the model's maximum positions (RoPE models, with RoPE
    /// scaling such as YaRN or linear interpolation configured by the user).
    pub allow_rope_extension: bool,
}

/// A scenario with its inventory built and method resolved: what every later stage reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The scenario as chosen.
    pub scenario: Scenario,
    /// The model's modules for the scenario's task.
    pub inventory: Inventory,
    /// The method applied to the inventory.
    pub method: ResolvedMethod,
}

impl Scenario {
    /// A scenario with the model's default task (SEQ_CLS heads get 2 labels).
    pub fn new(profile: ModelProfile, method: MethodConfig, workload: Workload) -> Self {
        Scenario {
            task: Self::default_task(&profile),
            num_labels: 2,
            profile,
            method,
            workload,
            allow_rope_extension: false,
        }
    }

    /// The default task for a model: encoders are loaded bare, decoders with their LM head.
    pub fn default_task(profile: &ModelProfile) -> Task {
        if profile.family.is_encoder() {
            Task::FeatureExtraction
        } else {
            Task::CausalLm
        }
    }

    /// Every parameter of the base model loaded for its default task (`models list`'s total).
    pub fn base_params(profile: &ModelProfile) -> Result<u64> {
        Ok(Inventory::build(profile, Self::default_task(profile), 2)?.total_params())
    }

    /// Validate inputs, build the inventory and resolve the method.
    pub fn prepare(&self) -> Result<Prepared> {
        self.workload.validate()?;
        if self.task == Task::SeqCls {
            // The largest classification heads (extreme multi-label) have ~10^6 labels.
            workload::bounded("num-labels", self.num_labels, 1, 1_000_000)?;
        }
        let inventory = Inventory::build(&self.profile, self.task, self.num_labels)?;
        if self.workload.expert_parallel && !inventory.has_experts() {
            return Err(crate::core::error::Error::Invalid {
                field: "expert-parallel",
                value: self.profile.id.clone(),
                expected: "a mixture-of-experts model (this one has no experts to shard)".into(),
            });
        }
        let method = peft::resolve(&self.profile, &inventory, &self.method)?;
        self.check_positions(&method)?;
        Ok(Prepared {
            scenario: self.clone(),
            inventory,
            method,
        })
    }
}

impl Scenario {
    /// A sequence (with prompt tuning's virtual tokens, which take positions too) longer than
    /// the model's maximum positions is an error, unless a RoPE model is extended on purpose.
    fn check_positions(&self, method: &ResolvedMethod) -> Result<()> {
        let virtual_tokens = match method.config.kind {
            peft::MethodKind::Prompt | peft::MethodKind::Ptuning => method.virtual_tokens,
            _ => 0,
        };
        let tokens = self.workload.seq_len + virtual_tokens;
        let max = self.profile.max_position;
        let rope = self.profile.family.uses_rope();
        if tokens <= max || (rope && self.allow_rope_extension) {
            return Ok(());
        }
        let with_virtual = if virtual_tokens > 0 {
            format!(" with {virtual_tokens} virtual tokens")
        } else {
            String::new()
        };
        let id = &self.profile.id;
        Err(crate::Error::Invalid {
            field: "seq-len",
            value: format!("{tokens}{with_virtual}"),
            expected: if rope {
                format!("at most {max} tokens: {id} has {max} positions; add --allow-rope-extension to train longer with RoPE scaling")
            } else {
                format!("at most {max} tokens: {id} has {max} learned positions, which cannot be extended")
            },
        })
    }
}

/// The trainable count for a scenario: profile -> inventory -> count (benchmarked).
pub fn trainable_params(s: &Scenario) -> Result<u64> {
    let inv = Inventory::build(&s.profile, s.task, s.num_labels)?;
    Ok(peft::resolve(&s.profile, &inv, &s.method)?.counts.trainable)
}
