//! The planner's state: inputs, focus, tab, pinned scenarios, the open picker or prompt, and the
//! cached results of the core.
//!
//! Everything here is free of the terminal: [`App::handle_key`] turns a key event into a state
//! change and an [`Action`], and [`App::recompute`] resolves the inputs' spec against the
//! catalogues loaded once at start (`ScenarioSpec::resolve` -> `Scenario::prepare` ->
//! `Estimate::new`, and `plan::plan` while the Plan tab is shown) after every change: a
//! keystroke reads no file (the export prompt looks for a free default name when it opens).
//! The drawing code in [`super::view`] only reads this state.
//!
//! Wart: when none of the focus set fits, finding the smallest device that does estimates every
//! profile once more on each change (about a millisecond).

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::export::default_path;
use super::input::{message, Choices, Field, Inputs, PlanInputs};
use super::keys::{self, Command};
use super::picker::{self, PickKind, Picked, Picker};
use crate::core::catalogs::Catalogs;
use crate::core::deploy::{self, Deployment};
use crate::core::error::Result;
use crate::core::estimate::{Assumptions, CompareRow, Estimate, FitPolicy, OfferResult, Scenario};
use crate::core::hardware::HardwareProfile;
use crate::core::peft::{split_list, target_names};
use crate::core::plan::{self, PlanResult};
use crate::core::pricing::Billing;
use crate::core::spec::{ModelRef, ScenarioSpec, ServeSpec, DEFAULT_SERVE_TARGETS};
use crate::report::i18n::Lang;

/// The devices shown when `--hardware` is not given: the article's GPUs, the 80 GB A100 and a
/// CPU box (`h` edits the set).
pub const DEFAULT_FOCUS: [&str; 5] = ["t4", "a10", "a100-40g", "a100-80g", "cpu-16c"];

/// Scenarios the Compare tab holds side by side (three fit the 100-column layout).
pub const MAX_PINS: usize = 3;

/// Longest text typed into a field or the export prompt.
const MAX_TEXT: usize = 200;

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

/// A pinned scenario: its name (A, B, C), what it is, and its estimate when pinned.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub name: char,
    pub label: String,
    pub estimate: Estimate,
}

/// How the Plan tab shows the feasible plans besides the best ones (`v` switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanView {
    /// Cost against hours: every feasible plan, the Pareto front drawn.
    Chart,
    /// The Pareto front as a table.
    Table,
}

/// A number, or the LoRA targets, being typed into a field.
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
    /// The devices the user chose to see (`--hardware`, or [`DEFAULT_FOCUS`]; `h` edits).
    pub focus_set: Vec<HardwareProfile>,
    /// The device added to the focus set because none of it fits, if any.
    pub added_because_fits: Option<String>,
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
    /// The language the screen is drawn in (`--lang` or the locale); the state itself keeps
    /// English, which the view translates as it draws.
    pub lang: Lang,
    /// Today (YYYY-MM-DD), for the staleness of price tables.
    today: String,

    /// The estimate of the inputs, or why they cannot be estimated.
    pub estimate: std::result::Result<Estimate, String>,
    /// The Deploy tab's answer, or why the serving inputs cannot be served.
    pub deployment: std::result::Result<Deployment, String>,
    /// Pinned scenarios, oldest first (at most [`MAX_PINS`]).
    pub pinned: Vec<Pinned>,
    /// The Compare tab's rows: each pinned scenario against the current one, computed with the
    /// estimate (empty when nothing is pinned or the inputs have an error).
    pub comparisons: Vec<Vec<CompareRow>>,
    /// The open searchable picker, if any.
    pub picker: Option<Picker>,
    /// The export prompt's path while it is open.
    pub export_prompt: Option<String>,
    /// Where the export prompt proposes to write.
    export_dir: PathBuf,
    /// The path the user confirmed, for the event loop to write.
    pub export_target: Option<PathBuf>,
    /// `q` was pressed with pinned scenarios: a second `q` quits.
    pub confirm_quit: bool,
    pub plan_view: PlanView,
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
    /// The language of the screen (`--lang` or the locale).
    pub lang: Lang,
    /// Today (YYYY-MM-DD, from the front-end's clock): price tables older than 90 days get a note.
    pub today: String,
    /// Where the export prompt proposes to write (the front-end's current directory).
    pub export_dir: PathBuf,
}

impl App {
    /// Check the start-up inputs against the catalogues, then compute the first estimate.
    pub fn new(catalogs: Catalogs, spec: ScenarioSpec, opts: StartOptions) -> Result<Self> {
        let models = catalogs.models()?;
        let catalog = catalogs.hardware()?;
        let focus_set = if opts.hardware.is_empty() {
            catalog.select(&DEFAULT_FOCUS.map(String::from))?
        } else {
            catalog.select(&opts.hardware)?
        };
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
            hardware: focus_set.clone(),
            focus_set,
            added_because_fits: None,
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
            lang: opts.lang,
            today: opts.today,
            estimate: Err(String::new()),
            deployment: Err(String::new()),
            pinned: Vec::new(),
            comparisons: Vec::new(),
            picker: None,
            export_prompt: None,
            export_dir: opts.export_dir,
            export_target: None,
            confirm_quit: false,
            plan_view: PlanView::Chart,
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
            let (policy, a) = (self.inputs.fit_policy(), Assumptions::default());
            self.hardware = self.focus_set.clone();
            self.added_because_fits = None;
            let mut est = Estimate::fitted(&p, &self.hardware, &a, &policy)?;
            // None of the chosen devices fits: add the smallest one that does, so the tables
            // always show a way to run the job.
            if !est.devices.iter().any(|d| d.fits) {
                let all = Estimate::fitted(&p, &self.all_hardware, &a, &policy)?;
                let smallest = all
                    .devices
                    .iter()
                    .zip(&self.all_hardware)
                    .filter(|(d, _)| d.fits)
                    .min_by(|x, y| x.1.memory_gib.total_cmp(&y.1.memory_gib));
                if let Some((_, h)) = smallest {
                    self.added_because_fits = Some(h.id.clone());
                    self.hardware.push(h.clone());
                    est = Estimate::fitted(&p, &self.hardware, &a, &policy)?;
                }
            }
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
        self.comparisons = self.compare();
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
        // Nothing but the "too small" screen is visible: an edit or the help cannot be seen, so
        // `q` quits as that screen says.
        if self.too_small && matches!(key.code, KeyCode::Char('q') | KeyCode::Char('Q')) {
            return Action::Quit;
        }
        // In raw mode Ctrl-C is a key, not a signal.
        if key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c')) {
            return self.quit();
        }
        if self.show_help {
            self.show_help = false;
            return Action::Redraw;
        }
        if self.picker.is_some() {
            return self.handle_picker_key(key.code);
        }
        if self.export_prompt.is_some() {
            return self.handle_prompt_key(key.code);
        }
        if self.editing.is_some() {
            return self.handle_edit_key(key);
        }
        let Some(cmd) = keys::command(key.code) else {
            self.confirm_quit = false;
            return Action::None;
        };
        if cmd != Command::Quit {
            self.confirm_quit = false;
        }
        match cmd {
            Command::Quit => return self.quit(),
            Command::Export => {
                let path = default_path(&self.export_dir, self.tab);
                self.export_prompt = Some(path.display().to_string());
                self.status =
                    "export to: edit the path, Enter writes, Esc cancels (never overwrites)".into();
            }
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
            Command::Unpin => self.unpin(),
            Command::Hardware => self.open_picker(PickKind::Hardware),
            Command::Search => match pick_kind(self.field) {
                Some(kind) => self.open_picker(kind),
                None => self.open_picker(PickKind::Model),
            },
            Command::PlanView => {
                self.plan_view = match self.plan_view {
                    PlanView::Chart => PlanView::Table,
                    PlanView::Table => PlanView::Chart,
                };
                self.scroll = 0;
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
            Command::Type if self.focus != Focus::Inputs => return Action::None,
            Command::Type => match pick_kind(self.field) {
                Some(kind) => self.open_picker(kind),
                None if self.field == Field::Targets => {
                    let buffer = self
                        .inputs
                        .spec
                        .method
                        .targets
                        .as_ref()
                        .map_or_else(String::new, |t| t.join(","));
                    self.status = self.check_targets(&buffer);
                    self.editing = Some(Editing {
                        field: Field::Targets,
                        buffer,
                    });
                }
                None if self.field.is_numeric() => {
                    self.editing = Some(Editing {
                        field: self.field,
                        buffer: String::new(),
                    });
                    self.status =
                        format!("type {} and press Enter (Esc cancels)", self.field.label());
                }
                None => return Action::None,
            },
        }
        Action::Redraw
    }

    /// `q` or Ctrl-C: quit, after a second press when pinned scenarios would be lost.
    fn quit(&mut self) -> Action {
        if self.pinned.is_empty() || self.confirm_quit {
            return Action::Quit;
        }
        self.confirm_quit = true;
        self.status = format!(
            "{} pinned scenario(s) will be lost: q again quits, any other key stays",
            self.pinned.len()
        );
        Action::Redraw
    }

    /// A bracketed paste arrives as one event: typed into the open picker, prompt or field,
    /// never replayed as keystrokes (a pasted `e` must not export).
    pub fn handle_paste(&mut self, text: &str) -> Action {
        if let Some(p) = self.picker.as_mut() {
            p.type_text(text);
            return Action::Redraw;
        }
        if let Some(path) = self.export_prompt.as_mut() {
            push_text(path, text, |c| !c.is_control());
            return Action::Redraw;
        }
        let Some(ed) = self.editing.as_mut() else {
            self.status = "paste ignored: press Enter on a field to type into it".into();
            return Action::Redraw;
        };
        if ed.field == Field::Targets {
            push_text(&mut ed.buffer, text, is_target_char);
            let buffer = ed.buffer.clone();
            self.status = self.check_targets(&buffer);
            return Action::Redraw;
        }
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

    /// Open the searchable picker on the current value.
    fn open_picker(&mut self, kind: PickKind) {
        let pricing = self.catalogs.pricing().ok();
        let (items, current) = match kind {
            PickKind::Model => (
                picker::model_items(&self.catalogs),
                vec![self.inputs.spec.model.label().to_string()],
            ),
            PickKind::Provider => (
                picker::provider_items(pricing),
                self.inputs.provider.iter().cloned().collect(),
            ),
            PickKind::Currency => (
                picker::currency_items(pricing),
                self.inputs.currency.iter().cloned().collect(),
            ),
            PickKind::Hardware => (
                picker::hardware_items(&self.all_hardware, pricing),
                self.focus_set.iter().map(|h| h.id.clone()).collect(),
            ),
        };
        self.status = match kind {
            PickKind::Hardware => "type to search · Space ticks · Enter applies · Esc cancels",
            _ => "type to search · ↑↓ choose · Enter picks · Esc cancels",
        }
        .into();
        self.picker = Some(Picker::new(kind, items, &current));
    }

    fn handle_picker_key(&mut self, code: KeyCode) -> Action {
        let Some(p) = self.picker.as_mut() else {
            return Action::None;
        };
        let kind = p.kind;
        match p.key(code) {
            Picked::Open => return Action::Redraw,
            Picked::Cancelled => self.status = "cancelled".into(),
            Picked::One(choice) => {
                match (kind, choice) {
                    (PickKind::Model, Some(id)) => self.inputs.spec.model = ModelRef::Id(id),
                    (PickKind::Provider, v) => self.inputs.provider = v,
                    (PickKind::Currency, v) => self.inputs.currency = v,
                    _ => {}
                }
                let field = match kind {
                    PickKind::Model => Field::Model,
                    PickKind::Provider => Field::Provider,
                    _ => Field::Currency,
                };
                self.status = format!("{} = {}", field.label(), self.value(field));
                self.recompute();
            }
            Picked::Set(ids) => {
                self.focus_set = self
                    .all_hardware
                    .iter()
                    .filter(|h| ids.contains(&h.id))
                    .cloned()
                    .collect();
                self.status = format!("hardware shown: {}", ids.join(", "));
                self.recompute();
            }
        }
        self.picker = None;
        Action::Redraw
    }

    fn handle_prompt_key(&mut self, code: KeyCode) -> Action {
        let Some(path) = self.export_prompt.as_mut() else {
            return Action::None;
        };
        match code {
            KeyCode::Char(c) if !c.is_control() && path.len() < MAX_TEXT => path.push(c),
            KeyCode::Backspace => {
                path.pop();
            }
            KeyCode::Esc => {
                self.export_prompt = None;
                self.status = "export cancelled".into();
            }
            KeyCode::Enter if path.trim().is_empty() => {
                self.status = "type a file name to export to (Esc cancels)".into()
            }
            KeyCode::Enter => {
                self.export_target = Some(PathBuf::from(path.trim()));
                self.export_prompt = None;
                return Action::Export;
            }
            _ => return Action::None,
        }
        Action::Redraw
    }

    /// What the event loop's write of [`App::export_target`] gave: where it wrote, or why not
    /// (then the prompt opens again on the same path, to choose another name).
    pub fn export_done(&mut self, result: std::result::Result<(PathBuf, usize), String>) {
        match result {
            Ok((path, rows)) => self.status = format!("exported {rows} rows to {}", path.display()),
            Err(e) => {
                self.export_prompt = self.export_target.take().map(|p| p.display().to_string());
                self.status = format!("export failed: {e}");
            }
        }
        self.export_target = None;
    }

    fn handle_edit_key(&mut self, key: KeyEvent) -> Action {
        let Some(ed) = self.editing.as_mut() else {
            return Action::None;
        };
        if ed.field == Field::Targets {
            return self.handle_targets_key(key.code);
        }
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

    /// Typing the LoRA/IA3 targets as a comma list: checked against the model's modules on
    /// every key, Tab completes the last name, Enter applies only a list that resolves.
    fn handle_targets_key(&mut self, code: KeyCode) -> Action {
        let Some(ed) = self.editing.as_mut() else {
            return Action::None;
        };
        match code {
            KeyCode::Char(c) if is_target_char(c) && ed.buffer.len() < MAX_TEXT => {
                ed.buffer.push(c)
            }
            KeyCode::Backspace => {
                ed.buffer.pop();
            }
            KeyCode::Tab => {
                let mut buffer = ed.buffer.clone();
                let note = complete_last(&mut buffer, &self.target_choices());
                if let Some(ed) = self.editing.as_mut() {
                    ed.buffer = buffer;
                }
                self.status = note;
                return Action::Redraw;
            }
            KeyCode::Esc => {
                self.editing = None;
                self.status = "cancelled".into();
                return Action::Redraw;
            }
            KeyCode::Enter => {
                let targets = (!ed.buffer.trim().is_empty()).then(|| split_list(&ed.buffer));
                let mut spec = self.inputs.spec.clone();
                spec.method.targets = targets.clone();
                match spec.resolve(&self.catalogs).and_then(|s| s.prepare()) {
                    Ok(_) => {
                        self.editing = None;
                        self.inputs.spec.method.targets = targets;
                        self.status = format!("targets = {}", self.value(Field::Targets));
                        self.recompute();
                    }
                    Err(e) => self.status = format!("{} (Esc cancels)", message(&e)),
                }
                return Action::Redraw;
            }
            _ => return Action::None,
        }
        let buffer = ed.buffer.clone();
        self.status = self.check_targets(&buffer);
        Action::Redraw
    }

    /// Whether a typed target list resolves on the current model, as the status line says it.
    fn check_targets(&self, buffer: &str) -> String {
        if buffer.trim().is_empty() {
            return "empty: Enter keeps the method's default targets · Tab completes".into();
        }
        let mut spec = self.inputs.spec.clone();
        spec.method.targets = Some(split_list(buffer));
        match spec.resolve(&self.catalogs).and_then(|s| s.prepare()) {
            Ok(p) => format!(
                "ok: {} · {} trainable · Enter applies · Tab completes",
                p.method.target_names.join(","),
                crate::report::fmt::count(p.method.counts.trainable)
            ),
            Err(e) => message(&e),
        }
    }

    /// The names the targets field completes: the current model's Linear names and the aliases.
    fn target_choices(&self) -> Vec<String> {
        let mut spec = self.inputs.spec.clone();
        spec.method.targets = None;
        spec.resolve(&self.catalogs)
            .and_then(|s| s.prepare())
            .map(|p| target_names(&p.inventory))
            .unwrap_or_default()
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

    /// Pin the current scenario for the Compare tab, named by the first free letter.
    pub fn pin(&mut self) {
        let Ok(e) = &self.estimate else {
            self.status = "nothing to pin: the current inputs have an error".into();
            return;
        };
        if self.pinned.len() >= MAX_PINS {
            self.status = format!("{MAX_PINS} scenarios pinned already: u unpins the newest");
            return;
        }
        let Some(name) = ('A'..='Z').find(|c| self.pinned.iter().all(|p| p.name != *c)) else {
            return;
        };
        let label = format!("{} {}", e.model, e.method.describe());
        self.status = format!("pinned {name}: {label}");
        self.pinned.push(Pinned {
            name,
            label,
            estimate: e.clone(),
        });
        self.comparisons = self.compare();
    }

    /// Unpin the newest pinned scenario.
    pub fn unpin(&mut self) {
        self.status = match self.pinned.pop() {
            Some(p) => format!("unpinned {}: {}", p.name, p.label),
            None => "nothing pinned".into(),
        };
        self.comparisons = self.compare();
    }

    /// Each pinned scenario (base) against the current one, money in one currency: the chosen
    /// one (USD when "auto").
    fn compare(&self) -> Vec<Vec<CompareRow>> {
        let Ok(current) = &self.estimate else {
            return Vec::new();
        };
        let currency = self.inputs.compare_currency();
        self.pinned
            .iter()
            .map(|p| crate::core::estimate::compare(&p.estimate, current, &currency))
            .collect()
    }
}

/// The picker a field opens with Enter or `/`, if any.
fn pick_kind(f: Field) -> Option<PickKind> {
    match f {
        Field::Model => Some(PickKind::Model),
        Field::Provider => Some(PickKind::Provider),
        Field::Currency => Some(PickKind::Currency),
        _ => None,
    }
}

/// Characters of a target list: module names, dots, dashes, commas.
fn is_target_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ',')
}

/// Append the accepted characters of `text`, up to [`MAX_TEXT`] bytes.
fn push_text(buffer: &mut String, text: &str, accept: impl Fn(char) -> bool) {
    for c in text.chars().filter(|c| accept(*c)) {
        if buffer.len() + c.len_utf8() > MAX_TEXT {
            break;
        }
        buffer.push(c);
    }
}

/// Complete the last name of a comma list from `choices`: to the one match, or to the longest
/// prefix several share; the note says what matched.
fn complete_last(buffer: &mut String, choices: &[String]) -> String {
    let start = buffer.rfind(',').map_or(0, |i| i + 1);
    let token = buffer[start..].trim().to_string();
    let matches: Vec<&String> = choices
        .iter()
        .filter(|c| c.starts_with(token.as_str()))
        .collect();
    let Some(first) = matches.first() else {
        return format!("no target starts with '{token}': {}", choices.join(" "));
    };
    let common = matches.iter().fold(first.as_str(), |acc, m| {
        let n = acc
            .chars()
            .zip(m.chars())
            .take_while(|(a, b)| a == b)
            .count();
        &acc[..acc.char_indices().nth(n).map_or(acc.len(), |(i, _)| i)]
    });
    buffer.truncate(start);
    buffer.push_str(common);
    if matches.len() == 1 {
        "completed · Enter applies".into()
    } else {
        let names: Vec<&str> = matches.iter().map(|m| m.as_str()).collect();
        format!("matches: {}", names.join(" "))
    }
}

/// The ranked job costs of an estimate (`Estimate::offers`, cheapest first); `None` when the
/// price tables did not load (`priced` false), which the Cost tab says.
pub fn offers(est: &Estimate, priced: bool) -> Option<&[OfferResult]> {
    priced.then_some(est.offers.as_slice())
}
