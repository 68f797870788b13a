//! The estimate: parameters, FLOPs, memory and time for one scenario on each hardware profile.
//!
//! Pure functions of (architecture, method, workload, hardware): no I/O, no clock.

pub mod compare;
pub mod fit;
pub mod flops;
pub mod memory;
pub mod offers;
pub mod params;
pub mod physics;
mod result;
pub mod time;
pub mod validate;
pub mod workload;

pub use compare::{compare, CompareRow, Unit};
pub use fit::{Change, DeviceConfig, FitPolicy, FitReason, Suggestion};
pub use flops::FlopsPerToken;
pub use memory::MemoryBreakdown;
pub use offers::{job_inputs, job_inputs_for, rank_offers, OfferQuery, OfferResult};
pub use params::{Artifact, ArtifactKind, ParamsSection};
pub use physics::{Assumptions, Shapes};
pub use result::{DeviceResult, Estimate, EstimateCsvRow, FitSummary, FlopsSection, MethodSummary};
pub use workload::{Attention, Dtype, Optimizer, WeightsDtype, Workload};

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

    /// Validate inputs, build the inventory and resolve the method.
    pub fn prepare(&self) -> Result<Prepared> {
        self.workload.validate()?;
        let inventory = Inventory::build(&self.profile, self.task, self.num_labels)?;
        let method = peft::resolve(&self.profile, &inventory, &self.method)?;
        Ok(Prepared {
            scenario: self.clone(),
            inventory,
            method,
        })
    }
}

/// The trainable count for a scenario: profile -> inventory -> count (benchmarked).
pub fn trainable_params(s: &Scenario) -> Result<u64> {
    let inv = Inventory::build(&s.profile, s.task, s.num_labels)?;
    Ok(peft::resolve(&s.profile, &inv, &s.method)?.counts.trainable)
}
