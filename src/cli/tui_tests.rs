//! The TUI driven from the command line's flags: state transitions, rendering snapshots, and the
//! CSV export against what `estimate`/`plan --format csv` print (so the two front-ends agree).
//! It lives beside the CLI because it parses real flags; the TUI itself never imports the CLI.

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use crate::cli::{Cli, Command, Context};
use crate::report::i18n::Lang;
use crate::tui::export::{default_path, export_to};
use crate::tui::input::Field;
use crate::tui::state::{Action, App, Focus, PlanView, StartOptions, Tab, DEFAULT_FOCUS};
use crate::tui::view;
use clap::Parser;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

/// An app from command-line flags, with the embedded catalogs only.
fn app_from(flags: &[&str]) -> App {
    let mut argv = vec!["peftcost", "tui"];
    argv.extend_from_slice(flags);
    let cli = Cli::try_parse_from(argv).expect("flags parse");
    // The language from `--lang` only (not the test machine's locale).
    let lang = cli
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default();
    let Command::Tui(args) = cli.command else {
        panic!("not the tui command");
    };
    App::new(
        Context::embedded().catalogs,
        args.scenario.spec().expect("spec"),
        StartOptions {
            hardware: args.hardware,
            provider: args.provider,
            currency: args.currency,
            billing: args.billing,
            fit: args.scenario.workload.fit_policy(),
            color: true,
            lang,
            // A fixed day, so the price-staleness note in the snapshots does not move.
            today: "2026-12-04".into(),
            export_dir: ".".into(),
        },
    )
    .expect("app starts")
}

fn small_app() -> App {
    app_from(&[
        "--model",
        "qwen-7b",
        "--hardware",
        "t4,a10,a100-40g,a100-80g,cpu-16c",
    ])
}

/// Export the current tab to the default name in `dir`, as the prompt's Enter does.
fn export(app: &App, dir: &std::path::Path) -> Result<(std::path::PathBuf, usize), String> {
    let path = default_path(dir, app.tab);
    export_to(app, &path).map(|rows| (path, rows))
}

/// Type text key by key.
fn type_keys(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_key(ch(c));
    }
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t
}

#[test]
fn starts_from_flags() {
    let app = app_from(&[
        "--model",
        "mistral-7b",
        "--method",
        "qlora",
        "--rank",
        "16",
        "--seq-len",
        "1024",
    ]);
    assert_eq!(app.value(Field::Model), "mistral-7b");
    assert_eq!(app.value(Field::Method), "qlora");
    assert_eq!(app.value(Field::Rank), "16");
    assert_eq!(app.value(Field::SeqLen), "1024");
    let e = app.estimate.as_ref().expect("estimate");
    assert_eq!(e.model, "mistral-7b");
    assert_eq!(e.method.rank, Some(16));
}

#[test]
fn arrows_move_and_change_and_recompute() {
    let mut app = small_app();
    let before = app.estimate.clone().unwrap();
    assert_eq!(app.field, Field::Model);
    assert_eq!(app.handle_key(key(KeyCode::Down)), Action::Redraw);
    assert_eq!(app.field, Field::Method);
    app.handle_key(key(KeyCode::Down));
    assert_eq!(app.field, Field::Rank);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.inputs.spec.method.rank, 16);
    let after = app.estimate.clone().unwrap();
    assert_eq!(after.method.rank, Some(16));
    assert!(after.params.trainable > before.params.trainable);
    app.handle_key(ch('-'));
    app.handle_key(ch('-'));
    assert_eq!(app.inputs.spec.method.rank, 4);
    // Up stops at the first field.
    for _ in 0..5 {
        app.handle_key(key(KeyCode::Up));
    }
    assert_eq!(app.field, Field::Model);
}

#[test]
fn method_hides_fields_that_do_not_apply() {
    let mut app = small_app();
    assert!(app.visible_fields().contains(&Field::Rank));
    app.field = Field::Method;
    // lora -> dora -> qlora -> adapter
    for _ in 0..3 {
        app.handle_key(key(KeyCode::Right));
    }
    assert_eq!(app.inputs.spec.method.kind.as_str(), "adapter");
    let v = app.visible_fields();
    assert!(v.contains(&Field::AdapterStyle) && !v.contains(&Field::Rank));
    app.handle_key(key(KeyCode::Down));
    assert_eq!(app.field, Field::AdapterStyle);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.value(Field::AdapterStyle), "houlsby");
    assert_eq!(
        app.estimate.as_ref().unwrap().method.adapter_style,
        Some(crate::core::peft::AdapterStyle::Houlsby)
    );
}

#[test]
fn enter_types_a_number_and_esc_cancels() {
    let mut app = small_app();
    app.field = Field::Samples;
    app.handle_key(key(KeyCode::Enter));
    assert!(app.editing.is_some());
    for c in "2500x0".chars() {
        app.handle_key(ch(c));
    }
    app.handle_key(key(KeyCode::Backspace));
    // Esc while typing cancels, it does not quit.
    assert_eq!(app.handle_key(key(KeyCode::Esc)), Action::Redraw);
    assert_eq!(app.inputs.spec.workload.samples, 10_000);
    app.handle_key(key(KeyCode::Enter));
    for c in "2500".chars() {
        app.handle_key(ch(c));
    }
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.inputs.spec.workload.samples, 2500);
    assert_eq!(app.estimate.as_ref().unwrap().workload.samples, 2500);
    // Zero is refused.
    app.handle_key(key(KeyCode::Enter));
    app.handle_key(ch('0'));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.inputs.spec.workload.samples, 2500);
    assert!(app.status.contains("> 0"));
}

#[test]
fn launcher_and_offload_inputs_step_and_say_what_cannot_run() {
    // The launcher input cycles ddp -> fsdp -> zero1 and sets the core's (zero, fsdp); the
    // estimate follows. Offloading under DDP is refused by the core's rule, named on the
    // offload input; with ZeRO-1 it runs and the memory tab says how much host RAM it takes.
    let mut app = app_from(&["--model", "qwen-7b", "--method", "full", "--gpus", "8"]);
    app.field = Field::Launcher;
    app.handle_key(key(KeyCode::Right));
    let w = app.inputs.spec.workload;
    assert_eq!((w.zero, w.fsdp), (3, true));
    assert!(app.estimate.as_ref().unwrap().workload.fsdp);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.inputs.value(Field::Launcher), "zero1");
    app.handle_key(key(KeyCode::Left));
    app.handle_key(key(KeyCode::Left));
    assert_eq!(app.inputs.value(Field::Launcher), "ddp");
    app.field = Field::Offload;
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.inputs.value(Field::Offload), "optimizer");
    let refused = app.estimate.as_ref().unwrap_err();
    assert!(refused.starts_with("offload"), "{refused}");
    assert!(refused.contains("sharding engine"), "{refused}");
    app.field = Field::Launcher;
    app.handle_key(key(KeyCode::Right));
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.inputs.value(Field::Launcher), "zero1");
    let e = app.estimate.as_ref().unwrap();
    assert_eq!(
        e.workload.offload,
        crate::core::estimate::Offload::Optimizer
    );
    assert!(e.devices.iter().any(|d| d.memory.host_state_bytes > 0));
}

#[test]
fn q_quits_the_too_small_screen_even_with_an_edit_open() {
    let mut app = small_app();
    app.field = Field::Samples;
    app.handle_key(key(KeyCode::Enter));
    assert!(app.editing.is_some());
    // At full size a q in an edit is typed (and refused by the number field), not a quit.
    assert_ne!(app.handle_key(ch('q')), Action::Quit);
    // Only the "too small" screen shows, and it says q quits.
    let screen = format!("{:?}", render(&app, 60, 20).backend().buffer());
    assert!(screen.contains("press q to quit"), "{screen}");
    app.too_small = true;
    assert_eq!(app.handle_key(ch('q')), Action::Quit);
}

#[test]
fn tabs_focus_help_and_quit() {
    let mut app = small_app();
    app.handle_key(ch('3'));
    assert_eq!(app.tab, Tab::Deploy);
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.focus, Focus::Results);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.tab, Tab::Compare);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.tab, Tab::Plan);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.tab, Tab::Memory);
    app.handle_key(key(KeyCode::BackTab));
    assert_eq!(app.focus, Focus::Inputs);
    app.handle_key(ch('?'));
    assert!(app.show_help);
    // Any key closes the help, without acting.
    assert_eq!(app.handle_key(ch('q')), Action::Redraw);
    assert!(!app.show_help);
    assert_eq!(app.handle_key(ch('q')), Action::Quit);
    // Esc never quits: it only leaves an edit or closes the help (issue 18).
    assert_eq!(app.handle_key(key(KeyCode::Esc)), Action::None);
    assert_eq!(
        app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Action::Quit
    );
    assert_eq!(app.handle_key(ch('Z')), Action::None);
}

#[test]
fn pin_and_compare() {
    let mut app = small_app();
    assert!(app.comparisons.is_empty());
    app.handle_key(ch('p'));
    app.field = Field::Rank;
    app.handle_key(key(KeyCode::Right));
    let rows = app.comparisons[0].clone();
    let r = &rows[0];
    assert_eq!(r.quantity, "trainable params");
    assert!(r.change.unwrap() > 0.0);
    assert!(
        (r.change_percent.unwrap() - 100.0).abs() < 1e-9,
        "rank 8 -> 16 doubles LoRA params"
    );
    app.handle_key(ch('u'));
    assert!(app.pinned.is_empty() && app.comparisons.is_empty());
}

#[test]
fn bad_inputs_show_the_error_and_recover() {
    let mut app = small_app();
    app.inputs.spec.workload.seq_len = 0;
    app.recompute();
    assert!(app.estimate.is_err());

    let t = render(&app, 100, 30);
    assert!(format!("{}", t.backend()).contains("cannot be estimated"));
    app.field = Field::SeqLen;
    app.handle_key(key(KeyCode::Right));
    assert!(app.estimate.is_ok());
}

#[test]
fn export_writes_the_same_rows_as_estimate_csv() {
    let flags = [
        "--model",
        "chatglm3-6b",
        "--method",
        "lora",
        "--rank",
        "16",
        "--seq-len",
        "1024",
        "--hardware",
        "t4,a100-80g",
    ];
    let app = app_from(&flags);
    // What `peftcost estimate --format csv` prints for the same flags (cli::estimate::run).
    let mut argv = vec!["peftcost", "estimate"];
    argv.extend_from_slice(&flags);
    argv.extend_from_slice(&["--format", "csv"]);
    let Command::Estimate(est_args) = Cli::try_parse_from(argv).unwrap().command else {
        panic!()
    };
    let ctx = Context::embedded();
    let prepared = est_args.scenario.scenario(&ctx).unwrap().prepare().unwrap();
    let hw = ctx.hardware().unwrap().select(&est_args.hardware).unwrap();
    let pricing = ctx.pricing().unwrap();
    let est = crate::core::estimate::Estimate::fitted(
        &prepared,
        &hw,
        &crate::core::estimate::Assumptions::default(),
        &est_args.scenario.workload.fit_policy(),
    )
    .unwrap()
    .with_offers(
        &prepared,
        &hw,
        pricing,
        &crate::core::estimate::OfferQuery::default(),
    )
    .unwrap();
    let cli_csv = crate::report::to_csv(&est.csv_rows()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (p1, rows) = export(&app, dir.path()).unwrap();
    assert_eq!(rows, 2);
    assert_eq!(p1.file_name().unwrap(), "peftcost-export-memory.csv");
    assert_eq!(std::fs::read_to_string(&p1).unwrap(), cli_csv);
    // A second export does not overwrite the first.
    let (p2, _) = export(&app, dir.path()).unwrap();
    assert_eq!(p2.file_name().unwrap(), "peftcost-export-memory-1.csv");
    let (p3, _) = export(&app, dir.path()).unwrap();
    assert_eq!(p3.file_name().unwrap(), "peftcost-export-memory-2.csv");
    assert_eq!(std::fs::read_to_string(&p1).unwrap(), cli_csv);
}

#[test]
fn export_of_compare_and_empty_tabs() {
    let mut app = small_app();
    let dir = tempfile::tempdir().unwrap();
    app.tab = Tab::Compare;
    assert!(export(&app, dir.path())
        .unwrap_err()
        .contains("nothing pinned"));
    app.pin();
    let (p, rows) = export(&app, dir.path()).unwrap();
    let text = std::fs::read_to_string(p).unwrap();
    assert!(
        text.starts_with("pinned,pinned_label,quantity,unit,base,other,change,change_percent\n")
    );
    assert_eq!(text.lines().count(), rows + 1);
    app.tab = Tab::Deploy;
    let (p, rows) = export(&app, dir.path()).unwrap();
    assert_eq!(rows, 4, "one row per target class");
    assert!(std::fs::read_to_string(p)
        .unwrap()
        .starts_with("model,hardware,precision"));
    app.tab = Tab::Cost;
    let (p, rows) = export(&app, dir.path()).unwrap();
    assert!(rows > 0);
    assert!(std::fs::read_to_string(p)
        .unwrap()
        .starts_with("provider,region,instance"));
}

#[test]
fn plan_tab_recomputes_on_budget_change() {
    let mut app = small_app();
    assert!(
        app.plan.is_none(),
        "the plan is computed only on the Plan tab"
    );
    assert!(!app.visible_fields().contains(&Field::Budget));
    app.field = Field::Qps;
    assert_eq!(app.handle_key(ch('5')), Action::Redraw);
    assert_eq!(app.tab, Tab::Plan);
    // The plan inputs replace the serving ones, and the focus stays in that place.
    let v = app.visible_fields();
    assert!(v.contains(&Field::Budget) && !v.contains(&Field::Qps));
    assert_eq!(app.field, Field::Deadline);
    let before = app
        .plan
        .clone()
        .expect("plan computed on entering the tab")
        .unwrap();
    assert!(before.infeasible.is_none() && before.feasible > 0);
    assert_eq!(app.value(Field::Budget), "none");
    assert_eq!(app.inputs.plan_query().budget, None);

    // Type a budget below the cheapest plan: the plan says why nothing is feasible.
    app.handle_key(key(KeyCode::Down));
    assert_eq!(app.field, Field::Budget);
    app.handle_key(key(KeyCode::Enter));
    for c in "0.5".chars() {
        app.handle_key(ch(c));
    }
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.inputs.plan.budget, 0.5);
    assert_eq!(app.value(Field::Budget), "0.5 USD");
    let r = app.plan.clone().unwrap().unwrap();
    assert_eq!(r.feasible, 0);
    assert!(r.infeasible.as_deref().unwrap().contains("budget"));
    assert_eq!(r.configurations, before.configurations);
    let t = render(&app, 100, 30);
    assert!(format!("{}", t.backend()).contains("NO FEASIBLE PLAN"));

    // → steps the budget to the next preset; every feasible plan keeps within it.
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.inputs.plan.budget, 1.0);
    app.handle_key(key(KeyCode::Right));
    assert_eq!(app.inputs.plan.budget, 2.0);
    let r = app.plan.clone().unwrap().unwrap();
    assert!(r.feasible > 0 && r.feasible < before.feasible);
    assert!(r
        .plans()
        .iter()
        .all(|p| p.cost <= 2.0 && p.currency == "USD"));
    // ← back to 0 means no budget.
    for _ in 0..3 {
        app.handle_key(key(KeyCode::Left));
    }
    assert_eq!(app.value(Field::Budget), "none");
    assert_eq!(
        app.plan.as_ref().unwrap().as_ref().unwrap().feasible,
        before.feasible
    );

    // QLoRA and max gpus widen / narrow the search.
    app.handle_key(key(KeyCode::Down));
    assert_eq!(app.field, Field::AllowQlora);
    app.handle_key(ch(' '));
    assert!(app.plan.as_ref().unwrap().as_ref().unwrap().configurations > before.configurations);
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Enter));
    app.handle_key(ch('1'));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.inputs.plan.max_gpus, 1);
    assert!(app
        .plan
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .plans()
        .iter()
        .all(|p| p.workload.gpus == 1));

    // The Cost tab's filters apply: billing via `b`.
    app.handle_key(ch('b'));
    assert!(app
        .plan
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .plans()
        .iter()
        .all(|p| p.offer.job.billing == crate::core::pricing::Billing::OnDemand));

    // Leaving the tab drops the plan and restores the serving inputs.
    app.handle_key(ch('1'));
    assert!(app.plan.is_none());
    assert_eq!(app.field, Field::Precision);
    app.field = Field::Rank;
    app.handle_key(key(KeyCode::Right));
    assert!(
        app.plan.is_none(),
        "not computed while another tab is shown"
    );
}

#[test]
fn inputs_scroll_to_the_focused_field_on_a_short_terminal() {
    let mut app = small_app();
    app.handle_key(ch('5'));
    app.field = Field::MaxGpus;
    let text = format!("{}", render(&app, 80, 24).backend());
    assert!(text.contains("›max gpus"), "{text}");
    app.field = Field::Model;
    let text = format!("{}", render(&app, 80, 24).backend());
    assert!(text.contains("›model"), "{text}");
}

#[test]
fn plan_export_writes_the_same_rows_as_plan_csv() {
    let flags = [
        "--model",
        "mistral-7b",
        "--method",
        "lora",
        "--seq-len",
        "1024",
        "--hardware",
        "t4,a10,a100-80g,h100",
        "--currency",
        "CNY",
    ];
    let mut app = app_from(&flags);
    app.handle_key(ch('5'));
    app.inputs.plan = crate::tui::input::PlanInputs {
        deadline_hours: 3.0,
        budget: 200.0,
        allow_quantization: true,
        max_gpus: 4,
    };
    app.recompute();
    // What `peftcost plan --format csv` prints for the same flags (cli::plan::run).
    let mut argv = vec!["peftcost", "plan"];
    argv.extend_from_slice(&flags);
    argv.extend_from_slice(&[
        "--deadline",
        "3",
        "--budget",
        "200",
        "--allow-quantization",
        "--max-gpus",
        "4",
        "--format",
        "csv",
    ]);
    let Command::Plan(plan_args) = Cli::try_parse_from(argv).unwrap().command else {
        panic!()
    };
    let ctx = Context::embedded();
    let scenario = plan_args.scenario.scenario(&ctx).unwrap();
    let hw = ctx.hardware().unwrap().select(&plan_args.hardware).unwrap();
    let pricing = ctx.pricing().unwrap();
    let q = plan_args.query(&pricing.fx).unwrap();
    assert_eq!(app.inputs.plan_query(), q);
    let r = crate::core::plan::plan(
        &scenario,
        &hw,
        pricing,
        &q,
        &crate::core::estimate::Assumptions::default(),
    )
    .unwrap();
    assert!(r.infeasible.is_none());
    let cli_csv = crate::report::to_csv(&r.csv_rows()).unwrap();
    assert!(cli_csv.starts_with("label,provider,region,instance,hardware,gpus,billing,method,"));

    let dir = tempfile::tempdir().unwrap();
    let (p, rows) = export(&app, dir.path()).unwrap();
    assert_eq!(p.file_name().unwrap(), "peftcost-export-plan.csv");
    assert_eq!(rows, r.plans().len());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), cli_csv);

    // Nothing feasible: the export says why instead of writing an empty file.
    app.inputs.plan.budget = 0.01;
    app.recompute();
    assert!(export(&app, dir.path())
        .unwrap_err()
        .contains("no feasible plan"));
}

#[test]
fn no_color_means_no_colour_styles() {
    let mut app = small_app();
    app.color = false;
    app.pin();
    for tab in Tab::ALL {
        app.tab = tab;
        // The Plan tab computes its plan only while shown.
        app.recompute();
        app.show_help = tab == Tab::Compare;
        let t = render(&app, 160, 45);
        for cell in t.backend().buffer().content() {
            assert_eq!(cell.fg, ratatui::style::Color::Reset, "{tab:?} {cell:?}");
            assert_eq!(cell.bg, ratatui::style::Color::Reset, "{tab:?} {cell:?}");
        }
    }
    // With colour on, something is coloured.
    app.color = true;
    let t = render(&app, 160, 45);
    assert!(t
        .backend()
        .buffer()
        .content()
        .iter()
        .any(|c| c.fg != ratatui::style::Color::Reset));
}

mod snapshots {
    use super::*;

    fn snap(app: &App, name: &str) {
        for (w, h) in [(80, 24), (100, 30), (160, 45)] {
            let t = render(app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
        }
    }

    #[test]
    fn memory_tab() {
        snap(&small_app(), "memory");
    }

    #[test]
    fn memory_tab_adds_the_smallest_device_that_fits() {
        snap(
            &app_from(&["--model", "qwen-7b", "--method", "full", "--hardware", "t4"]),
            "memory_added_fit",
        );
    }

    #[test]
    fn cost_tab() {
        let mut app = small_app();
        app.tab = Tab::Cost;
        snap(&app, "cost");
    }

    #[test]
    fn deploy_tab() {
        let mut app = small_app();
        app.tab = Tab::Deploy;
        snap(&app, "deploy");
    }

    #[test]
    fn compare_tab() {
        let mut app = small_app();
        app.tab = Tab::Compare;
        snap(&app, "compare_empty");
        app.pin();
        app.field = Field::SeqLen;
        app.handle_key(key(KeyCode::Right));
        app.handle_key(ch('4'));
        snap(&app, "compare");
    }

    #[test]
    fn plan_tab() {
        let mut app = small_app();
        app.handle_key(ch('5'));
        snap(&app, "plan");
        app.inputs.plan.deadline_hours = 1.0;
        app.inputs.plan.budget = 1.0;
        app.recompute();
        snap(&app, "plan_infeasible");
    }

    #[test]
    fn help_popup() {
        let mut app = small_app();
        app.handle_key(ch('?'));
        snap(&app, "help");
    }

    #[test]
    fn too_small() {
        let app = small_app();
        let t = render(&app, 60, 20);
        insta::assert_snapshot!("too_small_60x20", t.backend());
    }
}

#[test]
fn the_default_hardware_is_the_focus_set_and_h_edits_it() {
    let mut app = app_from(&["--model", "qwen-7b"]);
    let ids: Vec<&str> = app.hardware.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, DEFAULT_FOCUS);
    // h opens the picker on the set; typing narrows it, Space ticks, Enter applies.
    app.handle_key(ch('h'));
    type_keys(&mut app, "h100-s");
    assert_eq!(app.picker.as_ref().unwrap().matches(), ["h100-sxm"]);
    app.handle_key(ch(' '));
    app.handle_key(key(KeyCode::Enter));
    assert!(app.picker.is_none());
    let ids: Vec<&str> = app.hardware.iter().map(|h| h.id.as_str()).collect();
    // Catalogue order: h100-sxm comes after the A100s and before the CPUs.
    assert_eq!(
        ids,
        ["t4", "a10", "a100-40g", "a100-80g", "h100-sxm", "cpu-16c"]
    );
    let e = app.estimate.as_ref().unwrap();
    assert_eq!(e.devices.len(), 6);
}

#[test]
fn nothing_in_the_set_fits_so_the_smallest_device_that_does_is_added() {
    // Full fine-tuning of Qwen-7B with the model loaded in bf16: weights 2 B, gradients 2 B and
    // AdamW's two moments 2 B each (torch keeps them in the parameter's dtype) = 8 B a parameter,
    // 7,721,324,544 x 8 B = 57.5 GiB before activations: nothing under 80 GiB holds it, and the
    // first 80 GiB profile of the catalogue is the A100 80GB SXM4 (76.42 GiB at mb 4 there).
    let app = app_from(&["--model", "qwen-7b", "--method", "full", "--hardware", "t4"]);
    assert_eq!(app.added_because_fits.as_deref(), Some("a100-80g"));
    let e = app.estimate.as_ref().unwrap();
    let fits: Vec<(&str, bool)> = e
        .devices
        .iter()
        .map(|d| (d.hardware.as_str(), d.fits))
        .collect();
    assert_eq!(fits, [("t4", false), ("a100-80g", true)]);
}

#[test]
fn picking_a_model_by_typing_part_of_its_name() {
    let mut app = small_app();
    assert_eq!(app.field, Field::Model);
    app.handle_key(key(KeyCode::Enter));
    let p = app
        .picker
        .as_ref()
        .expect("Enter on the model opens the picker");
    // It opens on the current model, so Enter alone keeps it.
    assert_eq!(p.matches()[p.cursor], "qwen-7b");
    type_keys(&mut app, "mist");
    assert_eq!(app.picker.as_ref().unwrap().matches()[0], "mistral-7b");
    let t = render(&app, 100, 30);
    let screen = format!("{}", t.backend());
    assert!(
        screen.contains("Pick model") && screen.contains("mistral-7b"),
        "{screen}"
    );
    app.handle_key(key(KeyCode::Enter));
    assert!(app.picker.is_none());
    assert_eq!(app.value(Field::Model), "mistral-7b");
    assert_eq!(app.estimate.as_ref().unwrap().model, "mistral-7b");
    // `/` opens it too; Esc closes it and changes nothing (and never quits).
    app.handle_key(ch('/'));
    type_keys(&mut app, "qwen");
    assert_eq!(app.handle_key(key(KeyCode::Esc)), Action::Redraw);
    assert!(app.picker.is_none());
    assert_eq!(app.value(Field::Model), "mistral-7b");
    // The provider picker has "all" first and filters by the detail too.
    app.field = Field::Provider;
    app.handle_key(key(KeyCode::Enter));
    type_keys(&mut app, "aws");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.value(Field::Provider), "aws");
}

#[test]
fn typing_targets_completes_validates_and_counts_as_peft_does() {
    let mut app = small_app();
    app.field = Field::Targets;
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.editing.as_ref().unwrap().field, Field::Targets);
    // Tab completes the last name from the model's modules.
    type_keys(&mut app, "c_at");
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.editing.as_ref().unwrap().buffer, "c_attn");
    type_keys(&mut app, ",w2");
    assert!(app.status.starts_with("ok: c_attn,w2"), "{}", app.status);
    app.handle_key(key(KeyCode::Enter));
    assert!(app.editing.is_none());
    assert_eq!(app.value(Field::Targets), "c_attn,w2");
    // LoRA r=8 adds r x (in + out) per Linear: c_attn 8 x (4096 + 12288) = 131,072 and w2
    // 8 x (4096 + 11008) = 120,832, over 32 layers: 8,060,928 (worked by hand from models.md).
    assert_eq!(app.estimate.as_ref().unwrap().params.trainable, 8_060_928);
    // A name the model does not have is refused on Enter, and the edit stays open.
    app.handle_key(key(KeyCode::Enter));
    for _ in 0..20 {
        app.handle_key(key(KeyCode::Backspace));
    }
    type_keys(&mut app, "q_proj");
    assert!(app.status.contains("q_proj"), "{}", app.status);
    app.handle_key(key(KeyCode::Enter));
    assert!(app.editing.is_some());
    assert_eq!(app.value(Field::Targets), "c_attn,w2");
    // Esc leaves the edit, never the app.
    assert_eq!(app.handle_key(key(KeyCode::Esc)), Action::Redraw);
    assert!(app.editing.is_none());
}

#[test]
fn three_pinned_scenarios_side_by_side() {
    let mut app = small_app();
    app.field = Field::Rank;
    for _ in 0..3 {
        app.handle_key(ch('p'));
        app.handle_key(key(KeyCode::Right));
    }
    // A fourth is refused rather than dropping one silently.
    app.handle_key(ch('p'));
    assert!(app.status.contains("3 scenarios pinned"), "{}", app.status);
    let names: Vec<char> = app.pinned.iter().map(|p| p.name).collect();
    assert_eq!(names, ['A', 'B', 'C']);
    // Ranks 8, 16, 32 pinned, 64 now: LoRA parameters scale with the rank.
    let trainable: Vec<f64> = app
        .comparisons
        .iter()
        .map(|rows| rows[0].base.unwrap())
        .collect();
    assert_eq!(trainable[1], 2.0 * trainable[0]);
    assert_eq!(trainable[2], 4.0 * trainable[0]);
    assert_eq!(app.comparisons[0][0].other.unwrap(), 8.0 * trainable[0]);
    app.handle_key(ch('4'));
    let screen = format!("{}", render(&app, 160, 45).backend());
    for col in [" A ", " B ", " C ", " now ", "now vs A"] {
        assert!(screen.contains(col), "{col}: {screen}");
    }
    // At 80 columns the columns that do not fit are named, not cut.
    let narrow = format!("{}", render(&app, 80, 24).backend());
    assert!(narrow.contains("not shown: widen the terminal"), "{narrow}");
    // The export has every pin's rows, named.
    let dir = tempfile::tempdir().unwrap();
    let (p, rows) = export(&app, dir.path()).unwrap();
    assert_eq!(rows, 3 * app.comparisons[0].len());
    let text = std::fs::read_to_string(p).unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("A,"));
    assert!(text.lines().last().unwrap().starts_with("C,"));
    // q asks first when pinned scenarios would be lost; another key stays.
    assert_eq!(app.handle_key(ch('q')), Action::Redraw);
    assert!(app.status.contains("3 pinned"), "{}", app.status);
    app.handle_key(ch('3'));
    assert_eq!(app.handle_key(ch('q')), Action::Redraw);
    assert_eq!(app.handle_key(ch('q')), Action::Quit);
}

#[test]
fn export_asks_for_the_path_and_never_overwrites() {
    let mut app = small_app();
    let dir = tempfile::tempdir().unwrap();
    let chosen = dir.path().join("mine.csv");
    app.handle_key(ch('e'));
    // The prompt offers the default name in the current directory.
    assert_eq!(
        app.export_prompt.as_deref(),
        Some("./peftcost-export-memory.csv")
    );
    for _ in 0..40 {
        app.handle_key(key(KeyCode::Backspace));
    }
    // A pasted path goes into the prompt (and a pasted `e` does not export).
    assert_eq!(app.handle_paste(chosen.to_str().unwrap()), Action::Redraw);
    assert_eq!(app.handle_key(key(KeyCode::Enter)), Action::Export);
    let target = app.export_target.clone().unwrap();
    assert_eq!(target, chosen);
    let written = export_to(&app, &target).map(|rows| (target.clone(), rows));
    app.export_done(written);
    assert!(
        app.status.starts_with("exported 5 rows to"),
        "{}",
        app.status
    );
    let first = std::fs::read_to_string(&chosen).unwrap();
    // The same path again: refused, the file untouched, the prompt open on it again.
    app.inputs.spec.method.rank = 64;
    app.recompute();
    app.handle_key(ch('e'));
    for _ in 0..40 {
        app.handle_key(key(KeyCode::Backspace));
    }
    app.handle_paste(chosen.to_str().unwrap());
    app.handle_key(key(KeyCode::Enter));
    let target = app.export_target.clone().unwrap();
    let written = export_to(&app, &target).map(|rows| (target.clone(), rows));
    app.export_done(written);
    assert!(
        app.status.contains("exists: not overwritten"),
        "{}",
        app.status
    );
    assert_eq!(app.export_prompt.as_deref(), chosen.to_str());
    assert_eq!(std::fs::read_to_string(&chosen).unwrap(), first);
    // Esc closes the prompt and writes nothing.
    assert_eq!(app.handle_key(key(KeyCode::Esc)), Action::Redraw);
    assert!(app.export_prompt.is_none() && app.export_target.is_none());
}

#[test]
fn a_plan_with_deadline_and_budget_draws_the_chart() {
    let mut app = small_app();
    app.handle_key(ch('5'));
    app.inputs.plan.deadline_hours = 24.0;
    app.inputs.plan.budget = 100.0;
    app.recompute();
    let Some(Ok(r)) = &app.plan else {
        panic!("plan: {:?}", app.plan.as_ref().map(|p| p.as_ref().err()));
    };
    // Every feasible candidate is a point; the front and the best plans are among them.
    assert_eq!(r.feasible_points.len() as u64, r.feasible);
    let cheapest = r.cheapest.as_ref().unwrap();
    assert!(r
        .feasible_points
        .iter()
        .all(|(h, c)| *c >= cheapest.cost && *h <= 24.0 && *c <= 100.0));
    assert_eq!(app.plan_view, PlanView::Chart);
    let screen = format!("{}", render(&app, 160, 45).backend());
    for s in [
        "Cost vs hours",
        "hours (log)",
        "Pareto front",
        "cheapest",
        "fastest",
    ] {
        assert!(screen.contains(s), "{s}: {screen}");
    }
    // v shows the front as a table instead.
    app.handle_key(ch('v'));
    let screen = format!("{}", render(&app, 160, 45).backend());
    assert!(screen.contains("Pareto front: cost vs time"), "{screen}");
}

/// `--lang zh`: the whole screen in Chinese, fitted by display width (a CJK glyph is two
/// cells), the English screens unchanged (their snapshots above).
mod chinese {
    use super::*;
    use crate::tui::keys::KEYS;
    use std::collections::HashSet;

    fn zh_app() -> App {
        app_from(&[
            "--lang",
            "zh",
            "--model",
            "qwen-7b",
            "--hardware",
            "t4,a10,a100-40g,a100-80g,cpu-16c",
        ])
    }

    /// The screen's rows as text (the snapshots' lines without their quotes and the test
    /// backend's note on the cells a wide glyph covers).
    fn rows(app: &App, w: u16, h: u16) -> Vec<String> {
        format!("{}", render(app, w, h).backend())
            .lines()
            .map(|l| {
                let l = l.strip_prefix('"').unwrap_or(l);
                match l.find("\" Hidden by multi-width symbols") {
                    Some(i) => l[..i].to_string(),
                    None => l.strip_suffix('"').unwrap_or(l).to_string(),
                }
            })
            .collect()
    }

    /// Runs of three or more ASCII letters (with inner `_`), as `words()` of the integration
    /// tests: what an English word looks like.
    fn words(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        for c in s.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphabetic() || (c == '_' && !cur.is_empty()) {
                cur.push(c);
            } else {
                if cur.trim_end_matches('_').len() >= 3 {
                    out.push(cur.trim_end_matches('_').to_string());
                }
                cur.clear();
            }
        }
        out
    }

    /// What may stay in Latin letters: the catalogues' ids and names (models, GPUs, providers,
    /// instances, regions, currencies, as their owners spell them), method ids, units and terms
    /// Chinese ML writing keeps (GiB, GPU, token, LoRA, ZeRO, logits, min), and the names of
    /// keys as printed on the keyboard (Enter, Tab, Esc, ...).
    fn allowed(app: &App) -> HashSet<String> {
        let mut ok: HashSet<String> = [
            "LoRA",
            "QLoRA",
            "lora",
            "qlora",
            "dora",
            "ZeRO",
            "DDP",
            "FSDP",
            "GPU",
            "CPU",
            "GiB",
            "token",
            "logits",
            "min",
            "CSV",
            "peft",
            "peftcost",
            "tui",
            "Enter",
            "Tab",
            "Shift",
            "Ctrl",
            "Esc",
            "PgUp",
            "PgDn",
            "Backspace",
            // Kept as the CLI's Chinese keeps them (tests/it/i18n.rs): formats, units, tools.
            "GGUF",
            "FLOPs",
            "KiB",
            "MiB",
            "int",
            "cpp",
            "URL",
            "PROVIDER",
            "bge",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let catalogs = Context::embedded().catalogs;
        for m in catalogs.models().expect("models").profiles() {
            ok.extend(words(&m.id));
            ok.extend(words(&m.hf_repo));
            ok.extend(words(m.family.as_str()));
        }
        for h in catalogs.hardware().expect("hardware").profiles() {
            ok.extend(words(&h.id));
            ok.extend(words(&h.name));
        }
        let p = catalogs.pricing().expect("pricing");
        for t in &p.tables {
            ok.extend(words(&t.provider));
            ok.extend(words(&t.display_name));
            for o in &t.offers {
                ok.extend(words(&o.instance));
                ok.extend(words(&o.region));
            }
        }
        ok.extend(app.choices.currencies.iter().cloned());
        ok
    }

    /// The cells `from..to` of a row (a popup's columns).
    fn cells_of(line: &str, from: usize, to: usize) -> String {
        let mut at = 0;
        let mut out = String::new();
        for c in line.chars() {
            if (from..to).contains(&at) {
                out.push(c);
            }
            at += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        }
        out
    }

    /// Only the popup of a screen with one open (the screen around it is checked on its own),
    /// so that background text the popup cuts through is not taken for words.
    fn popup(app: &App, screen: Vec<String>, (w, h): (u16, u16)) -> Vec<String> {
        let (pw, ph) = if app.show_help {
            (70.min(w - 4), (KEYS.len() as u16 + 4).min(h - 2))
        } else if app.picker.is_some() {
            (78.min(w - 2), 20.min(h - 2))
        } else {
            return screen;
        };
        let (x, y) = (((w - pw) / 2) as usize, ((h - ph) / 2) as usize);
        screen[y..y + ph as usize]
            .iter()
            .map(|l| cells_of(l, x, x + pw as usize))
            .collect()
    }

    /// Latin words of a screen that are not allowed; flags (`--x`), `key=value`, paths and
    /// quoted commands are names, not English (as in `tests/it/i18n.rs`), and so is the start
    /// of an id a column cuts (`ecs.c7.4xla`, as in English).
    fn english_left(screen: &[String], ok: &HashSet<String>) -> Vec<String> {
        let mut left = Vec::new();
        for line in screen {
            let unquoted: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
            for token in unquoted.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
                let is_name = token.starts_with("--")
                    || token.contains('=')
                    || token.contains('/')
                    || [".py", ".json", ".toml", ".csv"]
                        .iter()
                        .any(|e| token.contains(e));
                if is_name {
                    continue;
                }
                let cut_id = |w: &str| token.ends_with(w) && ok.iter().any(|o| o.starts_with(w));
                for w in words(token) {
                    if !ok.contains(&w) && !w.contains('_') && !cut_id(&w) {
                        left.push(format!("'{w}' in {line}"));
                    }
                }
            }
        }
        left
    }

    /// Every screen worth reading: each tab (Compare empty and with a pin, Plan as chart and
    /// as table), the help and the pickers.
    fn screens() -> Vec<(String, App)> {
        let mut out = Vec::new();
        for (i, tab) in ["memory", "cost", "deploy", "compare", "plan"]
            .iter()
            .enumerate()
        {
            let mut app = zh_app();
            app.handle_key(ch(char::from(b'1' + i as u8)));
            out.push((tab.to_string(), app));
        }
        let mut pinned = zh_app();
        pinned.pin();
        pinned.field = Field::SeqLen;
        pinned.handle_key(key(KeyCode::Right));
        pinned.handle_key(ch('4'));
        out.push(("compare pinned".into(), pinned));
        let mut table = zh_app();
        table.handle_key(ch('5'));
        table.handle_key(ch('v'));
        out.push(("plan table".into(), table));
        let mut infeasible = zh_app();
        infeasible.handle_key(ch('5'));
        infeasible.inputs.plan.deadline_hours = 1.0;
        infeasible.inputs.plan.budget = 1.0;
        infeasible.recompute();
        out.push(("plan infeasible".into(), infeasible));
        let mut help = zh_app();
        help.handle_key(ch('?'));
        out.push(("help".into(), help));
        let mut picker = zh_app();
        picker.handle_key(key(KeyCode::Enter));
        out.push(("model picker".into(), picker));
        let mut hw = zh_app();
        hw.handle_key(ch('h'));
        out.push(("hardware picker".into(), hw));
        out
    }

    #[test]
    fn every_tab_and_the_help_leave_no_english() {
        let ok = allowed(&zh_app());
        let mut left = Vec::new();
        for (name, app) in screens() {
            assert_eq!(app.lang, Lang::Zh);
            for (w, h) in [(80, 24), (100, 30), (160, 45)] {
                let screen = popup(&app, rows(&app, w, h), (w, h));
                assert!(
                    screen
                        .iter()
                        .any(|l| l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
                    "{name} {w}x{h}: no Chinese at all"
                );
                left.extend(
                    english_left(&screen, &ok)
                        .into_iter()
                        .map(|l| format!("{name} {w}x{h}: {l}")),
                );
            }
        }
        left.dedup();
        assert!(left.is_empty(), "English left:\n{}", left.join("\n"));
    }

    /// Nothing is cut at 80x24: the hint line keeps `? 帮助` and `q 退出` whole, every line of
    /// the help is there in full, every input label is whole, and no row is wider than the
    /// terminal when measured in cells.
    #[test]
    fn chinese_fits_80x24_whole() {
        let mut app = zh_app();
        let screen = rows(&app, 80, 24);
        let hints = screen.last().expect("hint line");
        assert!(
            hints.contains("? 帮助") && hints.contains("q 退出"),
            "{hints}"
        );
        assert!(hints.contains("↑↓ 移动"), "{hints}");
        assert!(screen[22].contains("? 帮助 · q 退出"), "{}", screen[22]);
        assert!(screen[1].contains("1 显存") && screen[1].contains("5 方案"));
        // Every label fits the narrow column (9 cells), and shows whole where the panel is
        // tall enough for all of them.
        let tall = rows(&app, 160, 45);
        for f in app.visible_fields() {
            let label = app.lang.tr(f.label()).into_owned();
            assert!(
                unicode_width::UnicodeWidthStr::width(label.as_str()) <= 9,
                "{label} is wider than the narrow label column"
            );
            assert!(tall.iter().any(|l| l.contains(&label)), "{label} cut");
        }
        assert!(screen[2].contains("│ 方法      lora"), "{}", screen[2]);
        app.handle_key(ch('?'));
        let help = rows(&app, 80, 24);
        for k in KEYS {
            let what = app.lang.tr(k.what).into_owned();
            assert!(help.iter().any(|l| l.contains(&what)), "help cut: {what}");
        }
        assert!(help.iter().any(|l| l.contains("按任意键关闭帮助")));
        for (name, app) in screens() {
            for (w, h) in [(80, 24), (100, 30), (160, 45)] {
                for l in rows(&app, w, h) {
                    let cells = unicode_width::UnicodeWidthStr::width(l.as_str());
                    assert_eq!(cells, w as usize, "{name} {w}x{h}: {cells} cells: {l}");
                }
            }
        }
    }

    #[test]
    fn english_stays_english() {
        let app = small_app();
        assert_eq!(app.lang, Lang::En);
        let screen = rows(&app, 80, 24);
        assert!(screen[1].contains("1 Memory"), "{}", screen[1]);
        assert!(!screen.iter().any(|l| l.contains("显存")));
    }

    fn snap(app: &App, name: &str) {
        for (w, h) in [(80, 24), (160, 45)] {
            let t = render(app, w, h);
            insta::assert_snapshot!(format!("zh_{name}_{w}x{h}"), t.backend());
        }
    }

    #[test]
    fn snapshots_in_chinese() {
        snap(&zh_app(), "memory");
        for (i, tab) in ["cost", "deploy", "compare", "plan"].iter().enumerate() {
            let mut app = zh_app();
            app.handle_key(ch(char::from(b'2' + i as u8)));
            snap(&app, tab);
        }
        let mut app = zh_app();
        app.pin();
        app.field = Field::SeqLen;
        app.handle_key(key(KeyCode::Right));
        app.handle_key(ch('4'));
        snap(&app, "compare_pinned");
        let mut app = zh_app();
        app.handle_key(ch('?'));
        snap(&app, "help");
    }
}
