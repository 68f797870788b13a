//! The TUI's inputs: the fields of the left panel, their presets and stepping, over the core's
//! specs ([`ScenarioSpec`], [`ServeSpec`]). Knows nothing of the app, the keys or the screen.

use crate::core::deploy::Precision;
use crate::core::error::Error;
use crate::core::estimate::{Dtype, FitPolicy, Launcher, OfferQuery, Offload};
use crate::core::peft::{split_list, AdapterStyle, MethodKind};
use crate::core::plan::PlanQuery;
use crate::core::pricing::Billing;
use crate::core::spec::{ModelRef, ScenarioSpec, ServeSpec};
use crate::core::units::Named;

/// One editable input in the left panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Model,
    Method,
    Rank,
    Targets,
    AdapterStyle,
    VirtualTokens,
    Samples,
    SeqLen,
    Epochs,
    AutoFit,
    MicroBatch,
    GradAccum,
    Dtype,
    Checkpointing,
    Gpus,
    Launcher,
    Offload,
    Provider,
    Currency,
    Billing,
    Precision,
    Qps,
    InputTokens,
    OutputTokens,
    Deadline,
    Budget,
    AllowQlora,
    MaxGpus,
}

impl Field {
    pub const ALL: [Field; 28] = [
        Field::Model,
        Field::Method,
        Field::Rank,
        Field::Targets,
        Field::AdapterStyle,
        Field::VirtualTokens,
        Field::Samples,
        Field::SeqLen,
        Field::Epochs,
        Field::AutoFit,
        Field::MicroBatch,
        Field::GradAccum,
        Field::Dtype,
        Field::Checkpointing,
        Field::Gpus,
        Field::Launcher,
        Field::Offload,
        Field::Provider,
        Field::Currency,
        Field::Billing,
        Field::Precision,
        Field::Qps,
        Field::InputTokens,
        Field::OutputTokens,
        Field::Deadline,
        Field::Budget,
        Field::AllowQlora,
        Field::MaxGpus,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::Method => "method",
            Field::Rank => "rank",
            Field::Targets => "targets",
            Field::AdapterStyle => "adapter style",
            Field::VirtualTokens => "virtual tokens",
            Field::Samples => "samples",
            Field::SeqLen => "seq len",
            Field::Epochs => "epochs",
            Field::AutoFit => "auto-fit",
            Field::MicroBatch => "micro-batch",
            Field::GradAccum => "grad-accum",
            Field::Dtype => "dtype",
            Field::Checkpointing => "checkpointing",
            Field::Gpus => "gpus",
            Field::Launcher => "launcher",
            Field::Offload => "offload",
            Field::Provider => "provider",
            Field::Currency => "currency",
            Field::Billing => "billing",
            Field::Precision => "serve dtype",
            Field::Qps => "serve req/s",
            Field::InputTokens => "serve in tok",
            Field::OutputTokens => "serve out tok",
            Field::Deadline => "deadline h",
            Field::Budget => "budget",
            Field::AllowQlora => "allow QLoRA",
            Field::MaxGpus => "max gpus",
        }
    }

    /// The label in at most 9 characters, for the narrow inputs panel of an 80-column terminal.
    pub fn short_label(self) -> &'static str {
        match self {
            Field::AdapterStyle => "adapter",
            Field::VirtualTokens => "v.tokens",
            Field::MicroBatch => "micro-b",
            Field::GradAccum => "grad-acc",
            Field::Checkpointing => "ckpt",
            Field::Precision => "srv dtype",
            Field::Qps => "srv req/s",
            Field::InputTokens => "srv in",
            Field::OutputTokens => "srv out",
            Field::Deadline => "deadline",
            Field::AllowQlora => "QLoRA",
            f => f.label(),
        }
    }

    /// Whether Enter lets the user type a number.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Field::Rank
                | Field::VirtualTokens
                | Field::Samples
                | Field::SeqLen
                | Field::Epochs
                | Field::MicroBatch
                | Field::GradAccum
                | Field::Gpus
                | Field::Qps
                | Field::InputTokens
                | Field::OutputTokens
                | Field::Deadline
                | Field::Budget
                | Field::MaxGpus
        )
    }

    /// Whether a typed value may have a fractional part.
    pub fn is_decimal(self) -> bool {
        matches!(self, Field::Qps | Field::Deadline | Field::Budget)
    }

    /// Whether a typed 0 is accepted (it means "no limit").
    pub fn zero_is_none(self) -> bool {
        matches!(self, Field::Deadline | Field::Budget)
    }

    /// The serving inputs (the Deploy tab's), hidden on the Plan tab.
    pub fn is_serving(self) -> bool {
        matches!(
            self,
            Field::Precision | Field::Qps | Field::InputTokens | Field::OutputTokens
        )
    }

    /// The planner's constraints, shown only on the Plan tab.
    pub fn is_plan(self) -> bool {
        matches!(
            self,
            Field::Deadline | Field::Budget | Field::AllowQlora | Field::MaxGpus
        )
    }

    /// A blank line is drawn before these fields (groups: model+method, workload, pricing,
    /// serving or plan).
    pub fn starts_group(self) -> bool {
        matches!(
            self,
            Field::Samples | Field::Provider | Field::Precision | Field::Deadline
        )
    }
}

impl Field {
    /// The field a core error names (`Error::Invalid { field: "seq-len" }`), if it is one of
    /// the panel's inputs.
    pub fn from_core(name: &str) -> Option<Field> {
        Some(match name {
            "rank" => Field::Rank,
            "virtual-tokens" => Field::VirtualTokens,
            "samples" => Field::Samples,
            "seq-len" => Field::SeqLen,
            "epochs" => Field::Epochs,
            "micro-batch" => Field::MicroBatch,
            "grad-accum" => Field::GradAccum,
            "gpus" => Field::Gpus,
            "launcher" => Field::Launcher,
            "offload" => Field::Offload,
            "qps" => Field::Qps,
            "input-tokens" => Field::InputTokens,
            "output-tokens" => Field::OutputTokens,
            "deadline" => Field::Deadline,
            "budget" => Field::Budget,
            "max-gpus" => Field::MaxGpus,
            _ => return None,
        })
    }
}

/// A core error as the TUI says it: a field the core names becomes the input's label.
pub fn message(e: &Error) -> String {
    let text = e.to_string();
    match e.field() {
        Some(name) => match Field::from_core(name) {
            Some(f) => format!("{}{}", f.label(), &text[name.len()..]),
            None => text,
        },
        None => text,
    }
}

/// Presets the left/right keys step through; Enter types any value.
const RANKS: &[u64] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const SEQ_LENS: &[u64] = &[
    64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072,
];
const ONE_TWO_FIVE: &[u64] = &[
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
    200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
];
const QPS: &[f64] = &[
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
];
/// Plan constraints; 0 is "none".
const DEADLINES: &[f64] = &[
    0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 24.0, 48.0, 72.0, 168.0,
];
const BUDGETS: &[f64] = &[
    0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0,
    20_000.0, 50_000.0, 100_000.0,
];
const VIRTUAL_TOKENS: &[u64] = &[1, 5, 10, 20, 30, 50, 100, 128, 200, 256, 512];
/// `None`: the default targets of the method and model.
const TARGET_PRESETS: &[Option<&str>] = &[
    None,
    Some("q,v"),
    Some("q,k,v,o"),
    Some("attn"),
    Some("mlp"),
    Some("all-linear"),
];

/// The Plan tab's constraints (`peftcost plan --deadline --budget --allow-quantization
/// --max-gpus`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanInputs {
    /// Wall-clock hours; 0: no deadline.
    pub deadline_hours: f64,
    /// In the selected currency (USD when "auto"); 0: no budget.
    pub budget: f64,
    pub allow_quantization: bool,
    pub max_gpus: u64,
}

impl Default for PlanInputs {
    fn default() -> Self {
        PlanInputs {
            deadline_hours: 0.0,
            budget: 0.0,
            allow_quantization: false,
            max_gpus: PlanQuery::default().max_gpus,
        }
    }
}

/// What the model, provider and currency fields step through (from the catalogues, read once).
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub model_ids: Vec<String>,
    pub providers: Vec<String>,
    pub currencies: Vec<String>,
}

/// Every input of the panel: the scenario and serving specs, the offer filters and the plan's
/// constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub spec: ScenarioSpec,
    pub serve: ServeSpec,
    pub provider: Option<String>,
    pub currency: Option<String>,
    /// `None`: on-demand and spot, as `estimate` without `--billing`.
    pub billing: Option<Billing>,
    pub plan: PlanInputs,
    /// Fit the micro-batch and checkpointing to each device, keeping micro-batch x grad-accum
    /// x gpus as the global batch (as `estimate` without `--no-auto-fit`).
    pub auto_fit: bool,
}

impl Inputs {
    /// Whether a field means something for the current method.
    pub fn applies(&self, f: Field) -> bool {
        let m = self.spec.method.kind;
        match f {
            Field::Rank => m.is_lora(),
            Field::Targets => m.is_lora() || m == MethodKind::Ia3,
            Field::AdapterStyle => m == MethodKind::Adapter,
            Field::VirtualTokens => m.is_prompt_learning(),
            _ => true,
        }
    }

    /// The filters of the Cost tab as the core's query.
    pub fn offer_query(&self) -> OfferQuery {
        OfferQuery {
            providers: self.provider.iter().cloned().collect(),
            billing: self.billing.into_iter().collect(),
            currency: self.currency.clone(),
            ..OfferQuery::default()
        }
    }

    /// How the estimate chooses each device's configuration: auto-fit unless switched off or
    /// checkpointing is forced on; QLoRA only when the "allow QLoRA" input allows it.
    pub fn fit_policy(&self) -> FitPolicy {
        FitPolicy {
            auto: self.auto_fit && !self.spec.workload.grad_checkpointing,
            global_batch: None,
            allow_quantization: self.plan.allow_quantization,
        }
    }

    /// The Plan tab's constraints and the Cost tab's filters as the planner's query.
    pub fn plan_query(&self) -> PlanQuery {
        let pi = &self.plan;
        PlanQuery::new(
            self.offer_query(),
            (pi.deadline_hours > 0.0).then_some(pi.deadline_hours),
            (pi.budget > 0.0).then_some(pi.budget),
            pi.allow_quantization,
            pi.max_gpus,
        )
    }

    /// The currency money is compared in: the chosen one, USD when "auto".
    pub fn compare_currency(&self) -> String {
        self.currency.clone().unwrap_or_else(|| "USD".into())
    }

    /// The current value of a field, as shown.
    pub fn value(&self, f: Field) -> String {
        let m = &self.spec.method;
        let w = &self.spec.workload;
        let on_off = |b: bool| if b { "on" } else { "off" }.to_string();
        match f {
            Field::Model => self.spec.model.label().to_string(),
            Field::Method => m.kind.as_str().into(),
            Field::Rank => m.rank.to_string(),
            Field::Targets => m
                .targets
                .as_ref()
                .map_or_else(|| "default".into(), |t| t.join(",")),
            Field::AdapterStyle => m.adapter_style.name().into(),
            Field::VirtualTokens => m.virtual_tokens.to_string(),
            Field::Samples => w.samples.to_string(),
            Field::SeqLen => w.seq_len.to_string(),
            Field::Epochs => w.epochs.to_string(),
            Field::AutoFit => on_off(self.auto_fit),
            Field::MicroBatch => w.micro_batch.to_string(),
            Field::GradAccum => w.grad_accum.to_string(),
            Field::Dtype => w.dtype.as_str().into(),
            Field::Checkpointing => on_off(w.grad_checkpointing),
            Field::Gpus => w.gpus.to_string(),
            Field::Launcher => w.launcher().as_str().into(),
            Field::Offload => w.offload.as_str().into(),
            Field::Provider => self.provider.clone().unwrap_or_else(|| "all".into()),
            Field::Currency => self.currency.clone().unwrap_or_else(|| "auto".into()),
            Field::Billing => self
                .billing
                .map_or("on-demand+spot", Billing::as_str)
                .into(),
            Field::Precision => self
                .serve
                .precision
                .map_or("as shipped", Precision::as_str)
                .into(),
            Field::Qps => format!("{}", self.serve.qps),
            Field::InputTokens => self.serve.input_tokens.to_string(),
            Field::OutputTokens => self.serve.output_tokens.to_string(),
            Field::Deadline => match self.plan.deadline_hours {
                d if d > 0.0 => format!("{d}"),
                _ => "none".into(),
            },
            Field::Budget => match self.plan.budget {
                b if b > 0.0 => format!("{b} {}", self.plan_query().budget_currency),
                _ => "none".into(),
            },
            Field::AllowQlora => on_off(self.plan.allow_quantization),
            Field::MaxGpus => self.plan.max_gpus.to_string(),
        }
    }

    /// Set a typed number (already checked to be a valid value of the field).
    pub fn set_number(&mut self, f: Field, v: f64) {
        let m = &mut self.spec.method;
        let w = &mut self.spec.workload;
        let serve = &mut self.serve;
        match f {
            Field::Qps => return serve.qps = v,
            Field::Deadline => return self.plan.deadline_hours = v,
            Field::Budget => return self.plan.budget = v,
            _ => {}
        }
        let v = v as u64;
        match f {
            Field::InputTokens => serve.input_tokens = v,
            Field::OutputTokens => serve.output_tokens = v,
            Field::Rank => m.rank = v,
            Field::VirtualTokens => m.virtual_tokens = v,
            Field::Samples => w.samples = v,
            Field::SeqLen => w.seq_len = v,
            Field::Epochs => w.epochs = v,
            Field::MicroBatch => w.micro_batch = v,
            Field::GradAccum => w.grad_accum = v,
            Field::Gpus => w.gpus = v,
            Field::MaxGpus => self.plan.max_gpus = v,
            _ => {}
        }
    }

    /// Step a field by `d` (-1 or +1).
    pub fn step(&mut self, f: Field, d: isize, choices: &Choices) {
        let m = &mut self.spec.method;
        let w = &mut self.spec.workload;
        let serve = &mut self.serve;
        let pi = &mut self.plan;
        match f {
            Field::Model => {
                let cur = self.spec.model.label().to_string();
                if let Some(id) = cycle(&choices.model_ids, Some(&cur), d) {
                    self.spec.model = ModelRef::Id(id);
                }
            }
            Field::Method => {
                m.kind = cycle_named(m.kind, d);
                // A quantized load only goes with QLoRA; let the defaults follow the method.
                self.spec.weights_dtype = None;
            }
            Field::Rank => m.rank = step_preset(RANKS, m.rank, d),
            Field::Targets => {
                let cur = m.targets.as_ref().map(|t| t.join(","));
                let i = TARGET_PRESETS
                    .iter()
                    .position(|p| p.map(str::to_string) == cur)
                    .map_or(0, |i| i as isize + d);
                let n = TARGET_PRESETS.len() as isize;
                m.targets = TARGET_PRESETS[i.rem_euclid(n) as usize].map(split_list);
            }
            Field::AdapterStyle => {
                m.adapter_style = cycle_named::<AdapterStyle>(m.adapter_style, d)
            }
            Field::VirtualTokens => {
                m.virtual_tokens = step_preset(VIRTUAL_TOKENS, m.virtual_tokens, d)
            }
            Field::Samples => w.samples = step_preset(ONE_TWO_FIVE, w.samples, d),
            Field::SeqLen => w.seq_len = step_preset(SEQ_LENS, w.seq_len, d),
            Field::Epochs => w.epochs = step_by(w.epochs, d),
            Field::MicroBatch => w.micro_batch = step_by(w.micro_batch, d),
            Field::GradAccum => w.grad_accum = step_by(w.grad_accum, d),
            Field::Gpus => w.gpus = step_by(w.gpus, d),
            Field::Launcher => (w.zero, w.fsdp) = cycle_named::<Launcher>(w.launcher(), d).stage(),
            Field::Offload => w.offload = cycle_named::<Offload>(w.offload, d),
            Field::Dtype => w.dtype = cycle_named::<Dtype>(w.dtype, d),
            Field::Checkpointing => w.grad_checkpointing = !w.grad_checkpointing,
            Field::AutoFit => self.auto_fit = !self.auto_fit,
            Field::Provider => {
                self.provider = cycle_optional(&choices.providers, self.provider.as_ref(), d)
            }
            Field::Currency => {
                self.currency = cycle_optional(&choices.currencies, self.currency.as_ref(), d)
            }
            Field::Billing => {
                let all: Vec<String> = Billing::ALL.iter().map(|b| b.name().to_string()).collect();
                let cur = self.billing.map(|b| b.name().to_string());
                self.billing =
                    cycle_optional(&all, cur.as_ref(), d).and_then(|b| Billing::from_name(&b));
            }
            Field::Precision => {
                serve.precision = cycle_optional(Precision::ALL, serve.precision.as_ref(), d)
            }
            Field::Qps => serve.qps = step_preset_f64(QPS, serve.qps, d),
            Field::Deadline => pi.deadline_hours = step_preset_f64(DEADLINES, pi.deadline_hours, d),
            Field::Budget => pi.budget = step_preset_f64(BUDGETS, pi.budget, d),
            Field::AllowQlora => pi.allow_quantization = !pi.allow_quantization,
            Field::MaxGpus => pi.max_gpus = step_by(pi.max_gpus, d),
            Field::InputTokens => serve.input_tokens = step_preset(SEQ_LENS, serve.input_tokens, d),
            Field::OutputTokens => {
                serve.output_tokens = step_preset(SEQ_LENS, serve.output_tokens, d)
            }
        }
    }
}

/// The next value of a closed set the core names (as on the command line).
fn cycle_named<T: Named>(v: T, d: isize) -> T {
    let all = T::ALL;
    let n = all.len() as isize;
    let i = all.iter().position(|x| *x == v).unwrap_or(0) as isize;
    all[(i + d).rem_euclid(n) as usize]
}

fn step_by(v: u64, d: isize) -> u64 {
    if d < 0 {
        v.saturating_sub(1).max(1)
    } else {
        v.saturating_add(1)
    }
}

/// The next preset above / below `v`, for decimal values (0 steps up to the first preset > 0).
fn step_preset_f64(presets: &[f64], v: f64, d: isize) -> f64 {
    if d > 0 {
        presets
            .iter()
            .copied()
            .find(|p| *p > v * 1.000_001)
            .unwrap_or(v)
    } else {
        presets
            .iter()
            .rev()
            .copied()
            .find(|p| *p < v / 1.000_001)
            .unwrap_or(v)
    }
}

/// The next preset above / below `v` (a typed value between presets steps to its neighbour).
fn step_preset(presets: &[u64], v: u64, d: isize) -> u64 {
    if d > 0 {
        presets.iter().copied().find(|p| *p > v).unwrap_or(v)
    } else {
        presets.iter().rev().copied().find(|p| *p < v).unwrap_or(v)
    }
}

fn cycle(items: &[String], cur: Option<&String>, d: isize) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let n = items.len() as isize;
    let i = cur
        .and_then(|c| items.iter().position(|x| x == c))
        .map_or(0, |i| (i as isize + d).rem_euclid(n));
    Some(items[i as usize].clone())
}

/// Cycle through `None` ("all"/"auto") and the items.
fn cycle_optional<T: PartialEq + Clone>(items: &[T], cur: Option<&T>, d: isize) -> Option<T> {
    let n = items.len() as isize + 1;
    let i = cur
        .and_then(|c| items.iter().position(|x| x == c))
        .map_or(0, |i| i as isize + 1);
    let j = (i + d).rem_euclid(n);
    (j > 0).then(|| items[j as usize - 1].clone())
}
