//! The estimate as one serialisable value: the JSON contract of design §10.

use serde::Serialize;

use super::{ParamsSection, Prepared, Workload};
use crate::arch::Task;
use crate::peft::{AdapterStyle, MethodKind};

/// `method` in the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    pub kind: MethodKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modules_to_save: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter_style: Option<AdapterStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_tokens: Option<u64>,
    pub task: Task,
}

impl MethodSummary {
    fn new(p: &Prepared) -> Self {
        let m = &p.method;
        let c = &m.config;
        let lora = c.kind.is_lora();
        let saved = m
            .saved
            .iter()
            .map(|r| r.module(&p.inventory).name.clone())
            .collect();
        MethodSummary {
            kind: c.kind,
            rank: lora.then_some(c.rank),
            alpha: lora.then_some(c.alpha),
            targets: m.target_names.clone(),
            modules_to_save: saved,
            adapter_style: (c.kind == MethodKind::Adapter).then_some(c.adapter_style),
            bottleneck: (c.kind == MethodKind::Adapter).then_some(m.bottleneck),
            virtual_tokens: c.kind.is_prompt_learning().then_some(m.virtual_tokens),
            task: p.inventory.task,
        }
    }

    /// One line for people: "lora r=8 on c_attn,c_proj,w1,w2".
    pub fn describe(&self) -> String {
        let mut s = self.kind.as_str().to_string();
        if let Some(r) = self.rank {
            s.push_str(&format!(" r={r}"));
        }
        if let Some(b) = self.bottleneck {
            s.push_str(&format!(" bottleneck={b}"));
        }
        if let Some(n) = self.virtual_tokens {
            s.push_str(&format!(" virtual_tokens={n}"));
        }
        if !self.targets.is_empty() {
            s.push_str(&format!(" on {}", self.targets.join(",")));
        }
        if !self.modules_to_save.is_empty() {
            s.push_str(&format!(" + full {}", self.modules_to_save.join(",")));
        }
        s
    }
}

/// One estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub model: String,
    pub method: MethodSummary,
    pub params: ParamsSection,
    pub workload: Workload,
    pub notes: Vec<String>,
}

/// One CSV row (headers documented in the README).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateCsvRow {
    pub model: String,
    pub method: String,
    pub rank: Option<u64>,
    pub targets: String,
    pub total_params: u64,
    pub trainable_params: u64,
    pub all_params: u64,
    pub trainable_percent: f64,
    pub export_bytes: u64,
}

impl Estimate {
    pub fn new(p: &Prepared) -> Self {
        Estimate {
            model: p.scenario.profile.id.clone(),
            method: MethodSummary::new(p),
            params: ParamsSection::new(&p.inventory, &p.method),
            workload: p.scenario.workload,
            notes: p.method.notes.clone(),
        }
    }

    pub fn csv_rows(&self) -> Vec<EstimateCsvRow> {
        vec![EstimateCsvRow {
            model: self.model.clone(),
            method: self.method.kind.as_str().into(),
            rank: self.method.rank,
            targets: self.method.targets.join(";"),
            total_params: self.params.total,
            trainable_params: self.params.trainable,
            all_params: self.params.all,
            trainable_percent: self.params.trainable_percent,
            export_bytes: self.params.artifact.export_bytes,
        }]
    }
}
