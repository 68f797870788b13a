//! The planner's state: inputs, focus, tab, pinned scenario and the cached results of the core.
//!
//! Everything here is free of the terminal: [`App::handle_key`] turns a key event into a state
//! change and an [`Action`], and [`App::recompute`] calls the core (`ScenarioArgs::scenario` ->
//! `Scenario::prepare` -> `Estimate::new`, and `plan::plan` while the Plan tab is shown) after
//! every change. The drawing code in
//! [`super::view`] only reads this state and formats the numbers the core produced.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Serialize;

use crate::cli::{Context, ScenarioArgs};
use crate::deploy::{self, Deployment, Int4Format, Precision, Request};
use crate::error::Result;
use crate::estimate::{Assumptions, CompareRow, Estimate, OfferQuery, OfferResult, Scenario};
use crate::hardware::HardwareProfile;
use crate::peft::MethodKind;
use crate::plan::{self, PlanQuery, PlanResult};
use crate::pricing::{Billing, PricingCatalog};
use crate::report;

/// The target classes of the Deploy tab (as `peftcost deploy`'s default table).
pub const DEPLOY_TARGETS: [&str; 4] = ["t4", "a10", "a100-40g", "cpu-16c"];

/// What the event loop does after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing changed: no redraw needed.
    None,
    /// The state changed: redraw.
    Redraw,
    Quit,
}

/// The tabs on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Memory,
    Cost,
    Deploy,
    Compare,
    /// The planner (`peftcost plan`): computed only while this tab is shown.
    Plan,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Memory, Tab::Cost, Tab::Deploy, Tab::Compare, Tab::Plan];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Memory => "Memory",
            Tab::Cost => "Cost",
            Tab::Deploy => "Deploy",
            Tab::Compare => "Compare",
            Tab::Plan => "Plan",
        }
    }

    /// The name used in export file names.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Memory => "memory",
            Tab::Cost => "cost",
            Tab::Deploy => "deploy",
            Tab::Compare => "compare",
            Tab::Plan => "plan",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    fn step(self, d: isize) -> Tab {
        let n = Tab::ALL.len() as isize;
        Tab::ALL[(self.index() as isize + d).rem_euclid(n) as usize]
    }
}

/// Which panel receives the arrow keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Inputs,
    Results,
}

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
    MicroBatch,
    GradAccum,
    Dtype,
    Checkpointing,
    Gpus,
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
    pub const ALL: [Field; 25] = [
        Field::Model,
        Field::Method,
        Field::Rank,
        Field::Targets,
        Field::AdapterStyle,
        Field::VirtualTokens,
        Field::Samples,
        Field::SeqLen,
        Field::Epochs,
        Field::MicroBatch,
        Field::GradAccum,
        Field::Dtype,
        Field::Checkpointing,
        Field::Gpus,
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
            Field::MicroBatch => "micro-batch",
            Field::GradAccum => "grad-accum",
            Field::Dtype => "dtype",
            Field::Checkpointing => "checkpointing",
            Field::Gpus => "gpus",
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

/// One key binding: the single table behind dispatch documentation, the help popup and the hints.
pub struct KeyHelp {
    pub keys: &'static str,
    pub what: &'static str,
    /// Short keys and label in the bottom hint line, if shown there.
    pub hint: Option<(&'static str, &'static str)>,
}

/// Every key the planner understands (the `?` popup lists all of them).
pub const KEYS: &[KeyHelp] = &[
    KeyHelp {
        keys: "↑/↓ k/j",
        what: "move between inputs (or scroll results)",
        hint: Some(("↑↓", "move")),
    },
    KeyHelp {
        keys: "←/→ h/l -/+",
        what: "change the input (results panel: switch tab)",
        hint: Some(("←→", "change")),
    },
    KeyHelp {
        keys: "Space",
        what: "toggle / next value",
        hint: None,
    },
    KeyHelp {
        keys: "Enter",
        what: "type a number; Enter confirms, Esc cancels",
        hint: Some(("Enter", "type")),
    },
    KeyHelp {
        keys: "Tab / Shift-Tab",
        what: "switch panel (inputs <-> results)",
        hint: Some(("Tab", "panel")),
    },
    KeyHelp {
        keys: "1-5",
        what: "tab Memory / Cost / Deploy / Compare / Plan",
        hint: Some(("1-5", "tabs")),
    },
    KeyHelp {
        keys: "[ ]",
        what: "previous / next tab",
        hint: None,
    },
    KeyHelp {
        keys: "PgUp/PgDn",
        what: "scroll the results",
        hint: None,
    },
    KeyHelp {
        keys: "b",
        what: "billing: on-demand <-> spot",
        hint: None,
    },
    KeyHelp {
        keys: "p",
        what: "pin this scenario for Compare",
        hint: Some(("p", "pin")),
    },
    KeyHelp {
        keys: "u",
        what: "unpin",
        hint: None,
    },
    KeyHelp {
        keys: "e",
        what: "export this tab to ./peftcost-export-<tab>.csv",
        hint: Some(("e", "export")),
    },
    KeyHelp {
        keys: "?",
        what: "this help (any key closes it)",
        hint: Some(("?", "help")),
    },
    KeyHelp {
        keys: "q Esc Ctrl-C",
        what: "quit",
        hint: Some(("q", "quit")),
    },
];

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
const PRECISIONS: [Precision; 4] = [
    Precision::Bf16,
    Precision::Fp16,
    Precision::Int8,
    Precision::Int4,
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

/// The last computed estimate of the pinned scenario.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub label: String,
    pub estimate: Estimate,
}

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

/// A number being typed into a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editing {
    pub field: Field,
    pub buffer: String,
}

/// The whole planner state.
pub struct App {
    ctx: Context,
    /// The inputs, kept as the same flags `estimate` takes.
    pub args: ScenarioArgs,
    pub hardware: Vec<HardwareProfile>,
    pub model_ids: Vec<String>,
    pub provider: Option<String>,
    pub providers: Vec<String>,
    pub currency: Option<String>,
    pub currencies: Vec<String>,
    /// `None`: on-demand and spot, as `estimate` without `--billing`.
    pub billing: Option<Billing>,
    /// The price tables, when they load (the Cost tab and deploy costs need them).
    pub pricing: Option<PricingCatalog>,
    /// Every hardware profile (deploy suggestions read it).
    pub all_hardware: Vec<HardwareProfile>,
    pub deploy_targets: Vec<HardwareProfile>,
    /// The serving request of the Deploy tab.
    pub serve: Request,

    pub focus: Focus,
    pub field: Field,
    pub tab: Tab,
    pub editing: Option<Editing>,
    pub show_help: bool,
    /// Scroll offset of the results panel (rows).
    pub scroll: u16,
    pub status: String,
    /// Whether the theme may use colours (false when `NO_COLOR` is set).
    pub color: bool,

    pub estimate: Option<Estimate>,
    pub error: Option<String>,
    pub deployment: Option<Deployment>,
    pub deploy_error: Option<String>,
    pub pinned: Option<Pinned>,
    /// The Plan tab's constraints.
    pub plan_inputs: PlanInputs,
    /// The planner's answer, computed only while the Plan tab is shown (`None` elsewhere).
    pub plan: Option<PlanResult>,
    pub plan_error: Option<String>,
}

/// Start-up choices besides the scenario flags.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub hardware: Vec<String>,
    pub provider: Option<String>,
    pub currency: Option<String>,
    pub billing: Option<Billing>,
    pub color: bool,
}

impl App {
    /// Load the catalogs once, then compute the first estimate.
    pub fn new(ctx: Context, args: ScenarioArgs, opts: StartOptions) -> Result<Self> {
        let models = ctx.models()?;
        let catalog = ctx.hardware()?;
        let hardware = catalog.select(&opts.hardware)?;
        let deploy_targets = catalog.select(&DEPLOY_TARGETS.map(String::from))?;
        // Validate the flags up front so a typo is reported before the screen switches.
        args.scenario(&ctx)?.prepare()?;
        let pricing = ctx.pricing().ok();
        let (mut providers, mut currencies) = (Vec::new(), Vec::new());
        let mut currency = None;
        if let Some(p) = &pricing {
            providers = p.tables.iter().map(|t| t.provider.clone()).collect();
            currencies = p.fx.currencies().map(str::to_string).collect();
            if let Some(name) = &opts.provider {
                p.table(name)?;
            }
            if let Some(c) = &opts.currency {
                currency = Some(p.fx.known(c)?);
            }
        }
        let mut app = App {
            model_ids: models.profiles().iter().map(|p| p.id.clone()).collect(),
            ctx,
            args,
            hardware,
            provider: opts.provider.map(|p| p.to_ascii_lowercase()),
            providers,
            currency,
            currencies,
            billing: opts.billing,
            pricing,
            all_hardware: catalog.profiles().to_vec(),
            deploy_targets,
            serve: Request {
                precision: Precision::Bf16,
                int4_format: Int4Format::Gptq,
                workload: deploy::Workload::default(),
                adapters: 0,
            },
            focus: Focus::Inputs,
            field: Field::Model,
            tab: Tab::Memory,
            editing: None,
            show_help: false,
            scroll: 0,
            status: "? for help · q to quit".into(),
            color: opts.color,
            estimate: None,
            error: None,
            deployment: None,
            deploy_error: None,
            pinned: None,
            plan_inputs: PlanInputs::default(),
            plan: None,
            plan_error: None,
        };
        app.recompute();
        Ok(app)
    }

    /// Call the core with the current inputs.
    pub fn recompute(&mut self) {
        let (result, scenario) = match self.args.scenario(&self.ctx) {
            Ok(s) => {
                let est = s.prepare().and_then(|p| {
                    let est = Estimate::new(&p, &self.hardware, &Assumptions::default());
                    match &self.pricing {
                        Some(pricing) => est.with_offers(&p, pricing, &self.offer_query()),
                        None => Ok(est),
                    }
                });
                (est, Some(s))
            }
            Err(e) => (Err(e), None),
        };
        match result {
            Ok(e) => {
                self.estimate = Some(e);
                self.error = None;
            }
            Err(e) => {
                self.estimate = None;
                self.error = Some(e.to_string());
            }
        }
        match self.deploy() {
            Ok(d) => {
                self.deployment = Some(d);
                self.deploy_error = None;
            }
            Err(e) => {
                self.deployment = None;
                self.deploy_error = Some(e.to_string());
            }
        }
        self.recompute_plan(scenario.as_ref());
    }

    /// Run the planner when the Plan tab is shown (about 3 ms in a release build); elsewhere drop
    /// the plan, which the inputs may have made stale.
    fn recompute_plan(&mut self, scenario: Option<&Scenario>) {
        (self.plan, self.plan_error) = (None, None);
        if self.tab != Tab::Plan {
            return;
        }
        let Some(scenario) = scenario else {
            self.plan_error = Some(self.error.clone().unwrap_or_default());
            return;
        };
        let Some(pricing) = &self.pricing else {
            self.plan_error = Some(
                "pricing not loaded: the planner needs the price tables (see `peftcost pricing validate`)"
                    .into(),
            );
            return;
        };
        match plan::plan(
            scenario,
            &self.hardware,
            pricing,
            &self.plan_query(),
            &Assumptions::default(),
        ) {
            Ok(r) => self.plan = Some(r),
            Err(e) => self.plan_error = Some(e.to_string()),
        }
    }

    /// The Plan tab's constraints and the Cost tab's filters as the planner's query (as
    /// `peftcost plan` builds it: the budget is in the chosen currency, USD when "auto").
    pub fn plan_query(&self) -> PlanQuery {
        let offers = self.offer_query();
        let pi = &self.plan_inputs;
        PlanQuery {
            budget_currency: offers.currency.clone().unwrap_or_else(|| "USD".into()),
            offers,
            max_gpus: pi.max_gpus,
            allow_quantization: pi.allow_quantization,
            deadline_hours: (pi.deadline_hours > 0.0).then_some(pi.deadline_hours),
            budget: (pi.budget > 0.0).then_some(pi.budget),
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

    /// Serve the current model on the deploy target classes (`peftcost deploy`'s model).
    fn deploy(&self) -> Result<Deployment> {
        let profile = self.args.profile(&self.ctx)?;
        let currency = self.currency.clone().unwrap_or_else(|| "USD".into());
        let quotes = match &self.pricing {
            Some(p) => crate::deploy::quotes(p, self.provider.as_slice(), &currency)?.0,
            None => Vec::new(),
        };
        let mut req = self.serve;
        if profile.family.is_encoder() {
            req.workload.output_tokens = 0;
        }
        // The server reserves KV cache for the whole request.
        req.workload.context = req.workload.input_tokens + req.workload.output_tokens;
        deploy::deploy(
            &profile,
            &self.deploy_targets,
            &self.all_hardware,
            &quotes,
            &req,
            &currency,
            &deploy::Assumptions::default(),
        )
    }

    pub fn method(&self) -> Option<MethodKind> {
        MethodKind::parse(&self.args.method).ok()
    }

    /// Whether a field means something for the current method.
    pub fn applies(&self, f: Field) -> bool {
        let m = self.method().unwrap_or_default();
        match f {
            Field::Rank => m.is_lora(),
            Field::Targets => m.is_lora() || m == MethodKind::Ia3,
            Field::AdapterStyle => m == MethodKind::Adapter,
            Field::VirtualTokens => m.is_prompt_learning(),
            _ => true,
        }
    }

    /// Whether a field is in the left panel now: it applies to the method, and the Plan tab
    /// swaps the serving inputs for the plan constraints (the panel fits 100x30 either way).
    pub fn shown(&self, f: Field) -> bool {
        let plan_tab = self.tab == Tab::Plan;
        let for_tab = if plan_tab {
            !f.is_serving()
        } else {
            !f.is_plan()
        };
        for_tab && self.applies(f)
    }

    /// The fields shown in the left panel, in order.
    pub fn visible_fields(&self) -> Vec<Field> {
        Field::ALL.into_iter().filter(|f| self.shown(*f)).collect()
    }

    /// The current value of a field, as shown.
    pub fn value(&self, f: Field) -> String {
        let a = &self.args;
        match f {
            Field::Model => match &a.model_config {
                Some(p) => p.display().to_string(),
                None => a.model.clone(),
            },
            Field::Method => a.method.clone(),
            Field::Rank => a.rank.to_string(),
            Field::Targets => a.targets.clone().unwrap_or_else(|| "default".into()),
            Field::AdapterStyle => value_name(&a.adapter_style),
            Field::VirtualTokens => a.virtual_tokens.to_string(),
            Field::Samples => a.workload.samples.to_string(),
            Field::SeqLen => a.workload.seq_len.to_string(),
            Field::Epochs => a.workload.epochs.to_string(),
            Field::MicroBatch => a.workload.micro_batch.to_string(),
            Field::GradAccum => a.workload.grad_accum.to_string(),
            Field::Dtype => a.workload.dtype.as_str().into(),
            Field::Checkpointing => if a.workload.grad_checkpointing {
                "on"
            } else {
                "off"
            }
            .into(),
            Field::Gpus => a.workload.gpus.to_string(),
            Field::Provider => self.provider.clone().unwrap_or_else(|| "all".into()),
            Field::Currency => self.currency.clone().unwrap_or_else(|| "auto".into()),
            Field::Billing => self
                .billing
                .map_or("on-demand+spot", Billing::as_str)
                .into(),
            Field::Precision => self.serve.precision.as_str().into(),
            Field::Qps => format!("{}", self.serve.workload.qps),
            Field::InputTokens => self.serve.workload.input_tokens.to_string(),
            Field::OutputTokens => self.serve.workload.output_tokens.to_string(),
            Field::Deadline => match self.plan_inputs.deadline_hours {
                d if d > 0.0 => format!("{d}"),
                _ => "none".into(),
            },
            Field::Budget => match self.plan_inputs.budget {
                b if b > 0.0 => format!("{b} {}", self.plan_query().budget_currency),
                _ => "none".into(),
            },
            Field::AllowQlora => if self.plan_inputs.allow_quantization {
                "on"
            } else {
                "off"
            }
            .into(),
            Field::MaxGpus => self.plan_inputs.max_gpus.to_string(),
        }
    }

    /// Handle one key event.
    pub fn handle_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        // In raw mode Ctrl-C is a key, not a signal.
        if key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c')) {
            return Action::Quit;
        }
        if self.show_help {
            self.show_help = false;
            return Action::Redraw;
        }
        if self.editing.is_some() {
            return self.handle_edit_key(key);
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
            KeyCode::Char('?') => self.show_help = true,
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    Focus::Inputs => Focus::Results,
                    Focus::Results => Focus::Inputs,
                }
            }
            KeyCode::Char(c @ '1'..='5') => self.set_tab(Tab::ALL[c as usize - '1' as usize]),
            KeyCode::Char('[') => self.set_tab(self.tab.step(-1)),
            KeyCode::Char(']') => self.set_tab(self.tab.step(1)),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Char('b') => {
                self.billing = match self.billing {
                    Some(Billing::OnDemand) => Some(Billing::Spot),
                    _ => Some(Billing::OnDemand),
                };
                self.recompute();
            }
            KeyCode::Char('p') => self.pin(),
            KeyCode::Char('u') => {
                self.pinned = None;
                self.status = "unpinned".into();
            }
            KeyCode::Char('e') => {
                let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                self.status = match self.export(&dir) {
                    Ok((path, rows)) => format!("exported {rows} rows to {}", path.display()),
                    Err(e) => format!("export failed: {e}"),
                };
            }
            KeyCode::Up | KeyCode::Char('k') => match self.focus {
                Focus::Inputs => self.move_field(-1),
                Focus::Results => self.scroll = self.scroll.saturating_sub(1),
            },
            KeyCode::Down | KeyCode::Char('j') => match self.focus {
                Focus::Inputs => self.move_field(1),
                Focus::Results => self.scroll = self.scroll.saturating_add(1),
            },
            KeyCode::Left | KeyCode::Char('h') | KeyCode::Char('-') => match self.focus {
                Focus::Inputs => self.change(-1),
                Focus::Results => self.set_tab(self.tab.step(-1)),
            },
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Char('+') | KeyCode::Char(' ') => {
                match self.focus {
                    Focus::Inputs => self.change(1),
                    Focus::Results => self.set_tab(self.tab.step(1)),
                }
            }
            KeyCode::Enter if self.focus == Focus::Inputs && self.field.is_numeric() => {
                self.editing = Some(Editing {
                    field: self.field,
                    buffer: String::new(),
                });
                self.status = format!("type {} and press Enter (Esc cancels)", self.field.label());
            }
            _ => return Action::None,
        }
        Action::Redraw
    }

    fn handle_edit_key(&mut self, key: KeyEvent) -> Action {
        let Some(ed) = self.editing.as_mut() else {
            return Action::None;
        };
        match key.code {
            KeyCode::Char(c)
                if (c.is_ascii_digit() || (c == '.' && ed.field.is_decimal()))
                    && ed.buffer.len() < 12 =>
            {
                ed.buffer.push(c)
            }
            KeyCode::Backspace => {
                ed.buffer.pop();
            }
            KeyCode::Esc => {
                self.editing = None;
                self.status = "cancelled".into();
            }
            KeyCode::Enter => {
                let ed = self.editing.take().expect("editing");
                let f = ed.field;
                match ed.buffer.parse::<f64>() {
                    Ok(v)
                        if (v > 0.0 || (v == 0.0 && f.zero_is_none()))
                            && v.is_finite()
                            && (f.is_decimal() || v.fract() == 0.0) =>
                    {
                        self.set_number(f, v);
                        self.status = format!("{} = {}", f.label(), self.value(f));
                        self.recompute();
                    }
                    _ if f.zero_is_none() => {
                        self.status = format!("{} needs a number (0: none)", f.label())
                    }
                    _ if f.is_decimal() => {
                        self.status = format!("{} needs a number > 0", f.label())
                    }
                    _ => self.status = format!("{} needs a whole number > 0", ed.field.label()),
                }
            }
            _ => return Action::None,
        }
        Action::Redraw
    }

    fn set_tab(&mut self, t: Tab) {
        if self.tab == t {
            return;
        }
        let was_plan = self.tab == Tab::Plan;
        self.tab = t;
        self.scroll = 0;
        // The Plan tab swaps the serving inputs for the plan constraints: keep the focus at the
        // same place in the panel.
        if !self.shown(self.field) {
            self.field = if t == Tab::Plan {
                Field::Deadline
            } else {
                Field::Precision
            };
        }
        if t == Tab::Plan {
            // Computed lazily: on entering the tab, then on every change while it is shown.
            self.recompute();
        } else if was_plan {
            (self.plan, self.plan_error) = (None, None);
        }
    }

    fn move_field(&mut self, d: isize) {
        let fields = self.visible_fields();
        let i = fields.iter().position(|f| *f == self.field).unwrap_or(0) as isize;
        let n = fields.len() as isize;
        self.field = fields[(i + d).clamp(0, n - 1) as usize];
    }

    fn set_number(&mut self, f: Field, v: f64) {
        let a = &mut self.args;
        let w = &mut self.serve.workload;
        match f {
            Field::Qps => return w.qps = v,
            Field::Deadline => return self.plan_inputs.deadline_hours = v,
            Field::Budget => return self.plan_inputs.budget = v,
            _ => {}
        }
        let v = v as u64;
        match f {
            Field::InputTokens => w.input_tokens = v,
            Field::OutputTokens => w.output_tokens = v,
            Field::Rank => a.rank = v,
            Field::VirtualTokens => a.virtual_tokens = v,
            Field::Samples => a.workload.samples = v,
            Field::SeqLen => a.workload.seq_len = v,
            Field::Epochs => a.workload.epochs = v,
            Field::MicroBatch => a.workload.micro_batch = v,
            Field::GradAccum => a.workload.grad_accum = v,
            Field::Gpus => a.workload.gpus = v,
            Field::MaxGpus => self.plan_inputs.max_gpus = v,
            _ => {}
        }
    }

    /// Step the focused field by `d` (-1 or +1) and recompute.
    fn change(&mut self, d: isize) {
        let a = &mut self.args;
        match self.field {
            Field::Model => {
                let cur = a.model.clone();
                a.model = cycle(&self.model_ids, Some(&cur), d).unwrap_or(cur);
                a.model_config = None;
            }
            Field::Method => {
                let names: Vec<String> = MethodKind::ALL
                    .iter()
                    .map(|m| m.as_str().to_string())
                    .collect();
                let cur = MethodKind::parse(&a.method)
                    .map(|m| m.as_str().to_string())
                    .ok();
                a.method = cycle(&names, cur.as_ref(), d).unwrap_or_else(|| names[0].clone());
                // A quantized load only goes with QLoRA; let the defaults follow the method.
                a.workload.weights_dtype = None;
            }
            Field::Rank => a.rank = step_preset(RANKS, a.rank, d),
            Field::Targets => {
                let i = TARGET_PRESETS
                    .iter()
                    .position(|p| p.map(str::to_string) == a.targets)
                    .map_or(0, |i| i as isize + d);
                let n = TARGET_PRESETS.len() as isize;
                a.targets = TARGET_PRESETS[i.rem_euclid(n) as usize].map(str::to_string);
            }
            Field::AdapterStyle => cycle_value(&mut a.adapter_style, d),
            Field::VirtualTokens => {
                a.virtual_tokens = step_preset(VIRTUAL_TOKENS, a.virtual_tokens, d)
            }
            Field::Samples => a.workload.samples = step_preset(ONE_TWO_FIVE, a.workload.samples, d),
            Field::SeqLen => a.workload.seq_len = step_preset(SEQ_LENS, a.workload.seq_len, d),
            Field::Epochs => a.workload.epochs = step_by(a.workload.epochs, d),
            Field::MicroBatch => a.workload.micro_batch = step_by(a.workload.micro_batch, d),
            Field::GradAccum => a.workload.grad_accum = step_by(a.workload.grad_accum, d),
            Field::Gpus => a.workload.gpus = step_by(a.workload.gpus, d),
            Field::Dtype => cycle_value(&mut a.workload.dtype, d),
            Field::Checkpointing => a.workload.grad_checkpointing = !a.workload.grad_checkpointing,
            Field::Provider => {
                self.provider = cycle_optional(&self.providers, self.provider.as_ref(), d)
            }
            Field::Currency => {
                self.currency = cycle_optional(&self.currencies, self.currency.as_ref(), d)
            }
            Field::Billing => {
                let all: Vec<String> = Billing::ALL
                    .iter()
                    .map(|b| b.as_str().to_string())
                    .collect();
                let cur = self.billing.map(|b| b.as_str().to_string());
                self.billing = cycle_optional(&all, cur.as_ref(), d)
                    .and_then(|b| Billing::ALL.into_iter().find(|x| x.as_str() == b));
            }
            Field::Precision => {
                let i = PRECISIONS
                    .iter()
                    .position(|p| *p == self.serve.precision)
                    .unwrap_or(0) as isize;
                self.serve.precision =
                    PRECISIONS[(i + d).rem_euclid(PRECISIONS.len() as isize) as usize];
            }
            Field::Qps => {
                self.serve.workload.qps = step_preset_f64(QPS, self.serve.workload.qps, d)
            }
            Field::Deadline => {
                let pi = &mut self.plan_inputs;
                pi.deadline_hours = step_preset_f64(DEADLINES, pi.deadline_hours, d)
            }
            Field::Budget => {
                let pi = &mut self.plan_inputs;
                pi.budget = step_preset_f64(BUDGETS, pi.budget, d)
            }
            Field::AllowQlora => {
                let pi = &mut self.plan_inputs;
                pi.allow_quantization = !pi.allow_quantization
            }
            Field::MaxGpus => {
                let pi = &mut self.plan_inputs;
                pi.max_gpus = step_by(pi.max_gpus, d)
            }
            Field::InputTokens => {
                let w = &mut self.serve.workload;
                w.input_tokens = step_preset(SEQ_LENS, w.input_tokens, d);
            }
            Field::OutputTokens => {
                let w = &mut self.serve.workload;
                w.output_tokens = step_preset(SEQ_LENS, w.output_tokens, d);
            }
        }
        // The method may have hidden the focused field.
        if !self.shown(self.field) {
            self.field = Field::Method;
        }
        self.recompute();
    }

    /// Pin the current scenario for the Compare tab.
    pub fn pin(&mut self) {
        match &self.estimate {
            Some(e) => {
                let label = format!("{} {}", e.model, e.method.describe());
                self.status = format!("pinned: {label}");
                self.pinned = Some(Pinned {
                    label,
                    estimate: e.clone(),
                });
            }
            None => self.status = "nothing to pin: the current inputs have an error".into(),
        }
    }

    /// The Compare tab's rows: the pinned scenario (base) against the current one.
    pub fn comparison(&self) -> Option<Vec<CompareRow>> {
        let p = &self.pinned.as_ref()?.estimate;
        let c = self.estimate.as_ref()?;
        // Money compares in one currency: the chosen one (USD when "auto").
        let currency = self.currency.clone().unwrap_or_else(|| "USD".into());
        Some(crate::estimate::compare(p, c, &currency))
    }

    /// The rows of the current tab as CSV, written by the same writer as the CLI.
    pub fn export_csv(&self) -> std::result::Result<(String, usize), String> {
        let est = self
            .estimate
            .as_ref()
            .ok_or("the current inputs have an error")?;
        let r = match self.tab {
            Tab::Memory => {
                let rows = est.csv_rows();
                report::to_csv(&rows).map(|t| (t, rows.len()))
            }
            Tab::Cost => {
                let o = offers(est, self.pricing.is_some())
                    .ok_or("pricing not loaded: nothing to export")?;
                let rows: Vec<OfferCsvRow> = o.iter().map(OfferCsvRow::from).collect();
                report::to_csv(&rows).map(|t| (t, rows.len()))
            }
            Tab::Deploy => {
                let d = self
                    .deployment
                    .as_ref()
                    .ok_or("the serving inputs have an error")?;
                let rows = d.csv_rows();
                report::to_csv(&rows).map(|t| (t, rows.len()))
            }
            Tab::Compare => {
                let rows = self.comparison().ok_or("nothing pinned: press p first")?;
                report::to_csv(&rows).map(|t| (t, rows.len()))
            }
            // The rows of `peftcost plan --format csv` (`PlanResult::csv_rows`).
            Tab::Plan => {
                let p = self.plan.as_ref().ok_or_else(|| {
                    self.plan_error
                        .clone()
                        .unwrap_or_else(|| "the plan is not computed".into())
                })?;
                if let Some(reason) = &p.infeasible {
                    return Err(format!("no feasible plan to export: {reason}"));
                }
                let rows = p.csv_rows();
                report::to_csv(&rows).map(|t| (t, rows.len()))
            }
        };
        r.map_err(|e| e.to_string())
    }

    /// Write the current tab to `dir/peftcost-export-<tab>[-N].csv`, never overwriting a file.
    pub fn export(&self, dir: &Path) -> std::result::Result<(PathBuf, usize), String> {
        let (text, rows) = self.export_csv()?;
        for n in 0..1000 {
            let name = match n {
                0 => format!("peftcost-export-{}.csv", self.tab.slug()),
                n => format!("peftcost-export-{}-{n}.csv", self.tab.slug()),
            };
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(text.as_bytes())
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    return Ok((path, rows));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        Err("too many export files in this directory".into())
    }
}

/// The ranked job costs of an estimate (`Estimate::offers`, cheapest first); `None` when the
/// price tables did not load (`priced` false), which the Cost tab says.
pub fn offers(est: &Estimate, priced: bool) -> Option<&[OfferResult]> {
    priced.then_some(est.offers.as_slice())
}

/// One flat CSV row per offer (the CLI's `estimate --format csv` has device rows only).
#[derive(Debug, Clone, Serialize)]
pub struct OfferCsvRow {
    pub provider: String,
    pub region: String,
    pub instance: String,
    pub hardware: String,
    pub gpus: u64,
    pub instances: u64,
    pub billing: String,
    pub price_per_hour: f64,
    pub currency: String,
    pub hours: f64,
    pub cost_setup: f64,
    pub cost_data: f64,
    pub cost_train: f64,
    pub cost_export: f64,
    pub cost: f64,
    pub display_currency: String,
    pub cost_display: f64,
    pub cost_usd: f64,
    pub cost_cny: f64,
    pub as_of: String,
}

impl From<&OfferResult> for OfferCsvRow {
    fn from(o: &OfferResult) -> Self {
        let j = &o.job;
        OfferCsvRow {
            provider: j.provider.clone(),
            region: j.region.clone(),
            instance: j.instance.clone(),
            hardware: j.hardware.clone(),
            gpus: j.gpus,
            instances: j.instances,
            billing: j.billing.as_str().into(),
            price_per_hour: j.price_per_hour,
            currency: j.currency.clone(),
            hours: j.hours,
            cost_setup: j.cost_breakdown.setup,
            cost_data: j.cost_breakdown.data,
            cost_train: j.cost_breakdown.train,
            cost_export: j.cost_breakdown.export,
            cost: j.cost,
            display_currency: j.display_currency.clone(),
            cost_display: j.cost_display,
            cost_usd: o.cost_usd,
            cost_cny: o.cost_cny,
            as_of: j.as_of.clone(),
        }
    }
}

/// The next value of a closed set (a clap `ValueEnum`, as on the command line).
fn cycle_value<T: ValueEnum + PartialEq + Clone>(v: &mut T, d: isize) {
    let all = T::value_variants();
    let n = all.len() as isize;
    let i = all.iter().position(|x| x == v).unwrap_or(0) as isize;
    *v = all[(i + d).rem_euclid(n) as usize].clone();
}

/// The command-line name of a value.
fn value_name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map_or_else(String::new, |p| p.get_name().to_string())
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
fn cycle_optional(items: &[String], cur: Option<&String>, d: isize) -> Option<String> {
    let n = items.len() as isize + 1;
    let i = cur
        .and_then(|c| items.iter().position(|x| x == c))
        .map_or(0, |i| i as isize + 1);
    let j = (i + d).rem_euclid(n);
    (j > 0).then(|| items[j as usize - 1].clone())
}
