//! The planner's state: inputs, focus, tab, pinned scenario and the cached results of the core.
//!
//! Everything here is free of the terminal: [`App::handle_key`] turns a key event into a state
//! change and an [`Action`], and [`App::recompute`] resolves the inputs' spec against the
//! catalogues loaded once at start (`ScenarioSpec::resolve` -> `Scenario::prepare` ->
//! `Estimate::new`, and `plan::plan` while the Plan tab is shown) after every change: a
//! keystroke reads no file. The drawing code in [`super::view`] only reads this state.
//!

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::input::{message, Choices, Field, Inputs, PlanInputs};
use super::keys::{self, Command};
use crate::core::catalogs::Catalogs;
use crate::core::deploy::{self, Deployment};
use crate::core::error::Result;
use crate::core::estimate::{Assumptions, CompareRow, Estimate, FitPolicy, OfferResult, Scenario};
use crate::core::hardware::HardwareProfile;
use crate::core::plan::{self, PlanResult};
use crate::core::pricing::Billing;
use crate::core::spec::{ScenarioSpec, ServeSpec, DEFAULT_SERVE_TARGETS};

/// What the event loop does after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing changed: no redraw needed.
    None,
    /// The state changed: redraw.
    Redraw,
    /// Write the current tab to a CSV file (performed by the event loop, not by key handling).
    Export,
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

/// The last computed estimate of the pinned scenario.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub label: String,
    pub estimate: Estimate,
}

/// A number being typed into a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editing {
    pub field: Field,
    pub buffer: String,
}

/// The whole planner state.
pub struct App {
    /// Models, hardware and prices, loaded once before the app starts.
    catalogs: Catalogs,
    pub choices: Choices,
    /// Every input of the left panel.
    pub inputs: Inputs,
    pub hardware: Vec<HardwareProfile>,
    /// Whether the price tables loaded (the Cost tab and deploy costs need them).
    pub priced: bool,
    /// Every hardware profile (deploy suggestions read it).
    pub all_hardware: Vec<HardwareProfile>,
    pub deploy_targets: Vec<HardwareProfile>,

    pub focus: Focus,
    pub field: Field,
    pub tab: Tab,
    pub editing: Option<Editing>,
    pub show_help: bool,
    /// The terminal is below the minimum size: only the "too small" screen is shown, and `q`
    /// quits whatever is open (set by the event loop from the terminal's size).
    pub too_small: bool,
    /// Scroll offset of the results panel (rows).
    pub scroll: u16,
    pub status: String,
    /// Whether the theme may use colours (false when `NO_COLOR` is set).
    pub color: bool,
    /// Today (YYYY-MM-DD), for the staleness of price tables.
    today: String,

    /// The estimate of the inputs, or why they cannot be estimated.
    pub estimate: std::result::Result<Estimate, String>,
    /// The Deploy tab's answer, or why the serving inputs cannot be served.
    pub deployment: std::result::Result<Deployment, String>,
    pub pinned: Option<Pinned>,
    /// The Compare tab's rows (pinned against current), computed with the estimate.
    pub comparison: Option<Vec<CompareRow>>,
    /// The planner's answer, computed only while the Plan tab is shown (`None` elsewhere).
    pub plan: Option<std::result::Result<PlanResult, String>>,
}

/// Start-up choices besides the scenario.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub hardware: Vec<String>,
    pub provider: Option<String>,
    pub currency: Option<String>,
    pub billing: Option<Billing>,
    /// Auto-fit and QLoRA as the command line asked.
    pub fit: FitPolicy,
    pub color: bool,
    /// Today (YYYY-MM-DD, from the front-end's clock): price tables older than 90 days get a note.
    pub today: String,
}

impl App {
    /// Check the start-up inputs against the catalogues, then compute the first estimate.
    pub fn new(catalogs: Catalogs, spec: ScenarioSpec, opts: StartOptions) -> Result<Self> {
        let models = catalogs.models()?;
        let catalog = catalogs.hardware()?;
        let hardware = catalog.select(&opts.hardware)?;
        let deploy_targets = catalog.select(&DEFAULT_SERVE_TARGETS.map(String::from))?;
        // Validate the inputs up front so a typo is reported before the screen switches.
        spec.resolve(&catalogs)?.prepare()?;
        let mut choices = Choices {
            model_ids: models.profiles().iter().map(|p| p.id.clone()).collect(),
            ..Choices::default()
        };
        let mut currency = None;
        if let Ok(p) = catalogs.pricing() {
            choices.providers = p.tables.iter().map(|t| t.provider.clone()).collect();
            choices.currencies = p.fx.currencies().map(str::to_string).collect();
            if let Some(name) = &opts.provider {
                p.table(name)?;
            }
            if let Some(c) = &opts.currency {
                currency = Some(p.fx.known(c)?);
            }
        }
        let mut app = App {
            choices,
            inputs: Inputs {
                spec,
                serve: ServeSpec::default(),
                provider: opts.provider.map(|p| p.to_ascii_lowercase()),
                currency,
                billing: opts.billing,
                plan: PlanInputs {
                    allow_quantization: opts.fit.allow_quantization,
                    ..PlanInputs::default()
                },
                auto_fit: opts.fit.auto,
            },
            hardware,
            priced: catalogs.pricing().is_ok(),
            all_hardware: catalog.profiles().to_vec(),
            deploy_targets,
            catalogs,
            focus: Focus::Inputs,
            field: Field::Model,
            tab: Tab::Memory,
            editing: None,
            show_help: false,
            too_small: false,
            scroll: 0,
            status: "? for help · q to quit".into(),
            color: opts.color,
            today: opts.today,
            estimate: Err(String::new()),
            deployment: Err(String::new()),
            pinned: None,
            comparison: None,
            plan: None,
        };
        app.recompute();
        Ok(app)
    }

    /// Call the core with the current inputs.
    pub fn recompute(&mut self) {
        let scenario = self.inputs.spec.resolve(&self.catalogs);
        let result = scenario.as_ref().map_err(Clone::clone).and_then(|s| {
            let p = s.prepare()?;
            let est = Estimate::fitted(
                &p,
                &self.hardware,
                &Assumptions::default(),
                &self.inputs.fit_policy(),
            )?;
            match self.catalogs.pricing() {
                Ok(pricing) => {
                    let mut est =
                        est.with_offers(&p, &self.hardware, pricing, &self.inputs.offer_query())?;
                    est.note_stale_prices(pricing, &self.today);
                    Ok(est)
                }
                Err(_) => Ok(est),
            }
        });
        self.estimate = result.map_err(|e| message(&e));
        self.deployment = self.deploy().map_err(|e| message(&e));
        self.comparison = self.compare();
        self.recompute_plan(scenario.as_ref().ok());
    }

    /// Run the planner when the Plan tab is shown (about 3 ms in a release build); elsewhere drop
    /// the plan, which the inputs may have made stale.
    fn recompute_plan(&mut self, scenario: Option<&Scenario>) {
        self.plan = None;
        if self.tab != Tab::Plan {
            return;
        }
        let Some(scenario) = scenario else {
            self.plan = Some(Err(self
                .estimate
                .as_ref()
                .err()
                .cloned()
                .unwrap_or_default()));
            return;
        };
        let Ok(pricing) = self.catalogs.pricing() else {
            self.plan = Some(Err(
                "pricing not loaded: the planner needs the price tables (see `peftcost pricing validate`)"
                    .into(),
            ));
            return;
        };
        self.plan = Some(
            plan::plan(
                scenario,
                &self.hardware,
                pricing,
                &self.inputs.plan_query(),
                &Assumptions::default(),
            )
            .map_err(|e| message(&e)),
        );
    }

    /// Serve the current model on the deploy target classes (`peftcost deploy`'s model).
    fn deploy(&self) -> Result<Deployment> {
        let profile = self.inputs.spec.model.profile(&self.catalogs)?;
        let currency = self.inputs.compare_currency();
        let quotes = match self.catalogs.pricing() {
            Ok(p) => deploy::quotes(p, self.inputs.provider.as_slice(), &currency)?.0,
            Err(_) => Vec::new(),
        };
        deploy::deploy(
            &profile,
            &self.deploy_targets,
            &self.all_hardware,
            &quotes,
            &self.inputs.serve.request(&profile),
            &currency,
            &deploy::Assumptions::default(),
        )
    }

    /// Whether a field is in the left panel now: it applies to the method, and the Plan tab
    /// swaps the serving inputs for the plan constraints (the panel fits 100x30 either way).
    pub fn shown(&self, f: Field) -> bool {
        let for_tab = if self.tab == Tab::Plan {
            !f.is_serving()
        } else {
            !f.is_plan()
        };
        for_tab && self.inputs.applies(f)
    }

    /// The fields shown in the left panel, in order.
    pub fn visible_fields(&self) -> Vec<Field> {
        Field::ALL.into_iter().filter(|f| self.shown(*f)).collect()
    }

    /// The current value of a field, as shown.
    pub fn value(&self, f: Field) -> String {
        self.inputs.value(f)
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
        // Nothing but the "too small" screen is visible: an edit or the help cannot be seen, so
        // `q` quits as that screen says.
        if self.too_small && matches!(key.code, KeyCode::Char('q') | KeyCode::Char('Q')) {
            return Action::Quit;
        }
        if self.show_help {
            self.show_help = false;
            return Action::Redraw;
        }
        if self.editing.is_some() {
            return self.handle_edit_key(key);
        }
        let Some(cmd) = keys::command(key.code) else {
            return Action::None;
        };
        match cmd {
            Command::Quit => return Action::Quit,
            Command::Export => return Action::Export,
            Command::Help => self.show_help = true,
            Command::SwitchPanel => {
                self.focus = match self.focus {
                    Focus::Inputs => Focus::Results,
                    Focus::Results => Focus::Inputs,
                }
            }
            Command::Tab => {
                if let KeyCode::Char(c @ '1'..='5') = key.code {
                    self.set_tab(Tab::ALL[c as usize - '1' as usize])
                }
            }
            Command::PrevTab => self.set_tab(self.tab.step(-1)),
            Command::NextTab => self.set_tab(self.tab.step(1)),
            Command::PageDown => self.scroll = self.scroll.saturating_add(10),
            Command::PageUp => self.scroll = self.scroll.saturating_sub(10),
            Command::ToggleBilling => {
                self.inputs.billing = match self.inputs.billing {
                    Some(Billing::OnDemand) => Some(Billing::Spot),
                    _ => Some(Billing::OnDemand),
                };
                self.recompute();
            }
            Command::Pin => self.pin(),
            Command::Unpin => {
                self.pinned = None;
                self.comparison = None;
                self.status = "unpinned".into();
            }
            Command::Up => match self.focus {
                Focus::Inputs => self.move_field(-1),
                Focus::Results => self.scroll = self.scroll.saturating_sub(1),
            },
            Command::Down => match self.focus {
                Focus::Inputs => self.move_field(1),
                Focus::Results => self.scroll = self.scroll.saturating_add(1),
            },
            Command::Left => match self.focus {
                Focus::Inputs => self.change(-1),
                Focus::Results => self.set_tab(self.tab.step(-1)),
            },
            Command::Right => match self.focus {
                Focus::Inputs => self.change(1),
                Focus::Results => self.set_tab(self.tab.step(1)),
            },
            Command::Type if self.focus == Focus::Inputs && self.field.is_numeric() => {
                self.editing = Some(Editing {
                    field: self.field,
                    buffer: String::new(),
                });
                self.status = format!("type {} and press Enter (Esc cancels)", self.field.label());
            }
            Command::Type => return Action::None,
        }
        Action::Redraw
    }

    /// A bracketed paste arrives as one event: typed into the number being edited (its digits,
    /// up to the field's length), never replayed as keystrokes (a pasted `e` must not export).
    pub fn handle_paste(&mut self, text: &str) -> Action {
        let Some(ed) = self.editing.as_mut() else {
            self.status = "paste ignored: press Enter on a number field to type into it".into();
            return Action::Redraw;
        };
        for c in text.chars() {
            if ed.buffer.len() >= 12 {
                break;
            }
            if c.is_ascii_digit() || (c == '.' && ed.field.is_decimal()) {
                ed.buffer.push(c);
            }
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
                let Some(ed) = self.editing.take() else {
                    return Action::None;
                };
                let f = ed.field;
                match ed.buffer.parse::<f64>() {
                    Ok(v)
                        if (v > 0.0 || (v == 0.0 && f.zero_is_none()))
                            && v.is_finite()
                            && (f.is_decimal() || v.fract() == 0.0) =>
                    {
                        self.inputs.set_number(f, v);
                        self.status = format!("{} = {}", f.label(), self.value(f));
                        self.recompute();
                    }
                    _ if f.zero_is_none() => {
                        self.status = format!("{} needs a number (0: none)", f.label())
                    }
                    _ if f.is_decimal() => {
                        self.status = format!("{} needs a number > 0", f.label())
                    }
                    _ => self.status = format!("{} needs a whole number > 0", f.label()),
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
            self.plan = None;
        }
    }

    fn move_field(&mut self, d: isize) {
        let fields = self.visible_fields();
        let i = fields.iter().position(|f| *f == self.field).unwrap_or(0) as isize;
        let n = fields.len() as isize;
        self.field = fields[(i + d).clamp(0, n - 1) as usize];
    }

    /// Step the focused field by `d` (-1 or +1) and recompute.
    fn change(&mut self, d: isize) {
        self.inputs.step(self.field, d, &self.choices);
        // The method may have hidden the focused field.
        if !self.shown(self.field) {
            self.field = Field::Method;
        }
        self.recompute();
    }

    /// Pin the current scenario for the Compare tab.
    pub fn pin(&mut self) {
        match &self.estimate {
            Ok(e) => {
                let label = format!("{} {}", e.model, e.method.describe());
                self.status = format!("pinned: {label}");
                self.pinned = Some(Pinned {
                    label,
                    estimate: e.clone(),
                });
                self.comparison = self.compare();
            }
            Err(_) => self.status = "nothing to pin: the current inputs have an error".into(),
        }
    }

    /// The pinned scenario (base) against the current one, money in one currency: the chosen
    /// one (USD when "auto").
    fn compare(&self) -> Option<Vec<CompareRow>> {
        let p = &self.pinned.as_ref()?.estimate;
        let c = self.estimate.as_ref().ok()?;
        Some(crate::core::estimate::compare(
            p,
            c,
            &self.inputs.compare_currency(),
        ))
    }
}

/// The ranked job costs of an estimate (`Estimate::offers`, cheapest first); `None` when the
/// price tables did not load (`priced` false), which the Cost tab says.
pub fn offers(est: &Estimate, priced: bool) -> Option<&[OfferResult]> {
    priced.then_some(est.offers.as_slice())
}
