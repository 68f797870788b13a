//! The Plan tab: the planner's cheapest, fastest and Pareto plans under the constraints.

use super::*;
use crate::core::estimate::{Offload, Workload};
use crate::tui::state::PlanView;
use ratatui::symbols;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition};

pub(super) fn draw_plan(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let q = app.inputs.plan_query();
    let wide = area.width >= 120;
    let lang = app.lang;
    let tr = |s: &str| lang.tr(s).into_owned();
    let constraints = format!(
        "deadline {} · budget {} · ≤{} GPUs · QLoRA {}",
        q.deadline_hours.map_or("none".into(), |d| format!("{d} h")),
        q.budget
            .map_or("none".into(), |b| format!("{b} {}", q.budget_currency)),
        q.max_gpus,
        if q.allow_quantization {
            "allowed"
        } else {
            "off"
        },
    );
    let constraints = tr(&constraints);
    let filters = filter_line(app, area.width);
    // Wide: constraints and filters on one line; narrow: one line each.
    let mut head_lines = if wide {
        vec![Line::from(format!("{constraints} · {filters}"))]
    } else {
        vec![Line::from(constraints), Line::from(filters)]
    };
    let r = match &app.plan {
        Some(Ok(r)) => r,
        other => {
            let why = match other {
                Some(Err(e)) => e.clone(),
                _ => String::new(),
            };
            head_lines.extend([
                Line::from(""),
                Line::styled(tr("The planner cannot run on these inputs:"), t.bad()),
                Line::from(tr(&why)),
            ]);
            f.render_widget(Paragraph::new(head_lines).wrap(Wrap { trim: false }), area);
            return;
        }
    };
    let searched = format!(
        "{} configs searched · {} fit · {} feasible",
        fmt::count(r.configurations),
        fmt::count(r.candidates),
        fmt::count(r.feasible),
    );
    head_lines.push(Line::styled(tr(&searched), t.dim()));
    if let Some(reason) = &r.infeasible {
        let mut lines = head_lines;
        lines.extend([
            Line::from(""),
            Line::styled(tr("NO FEASIBLE PLAN"), t.bad()),
            Line::styled(tr(reason), t.bad()),
            Line::from(""),
            Line::styled(
                tr("raise the budget or the deadline (0 = none), allow QLoRA, raise max gpus, or change the provider/billing"),
                t.dim(),
            ),
        ]);
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    }
    let best: Vec<&Plan> = r.cheapest.iter().chain(r.fastest.iter()).collect();
    // Wide: the best plans as table rows. Narrow: a three-line card each.
    let best_h = if wide {
        best.len() as u16 + 1
    } else {
        3 * best.len() as u16
    };
    let chart = app.plan_view == PlanView::Chart;
    let front_h = if chart {
        // The chart takes what is left but the notes' two lines.
        area.height
            .saturating_sub(head_lines.len() as u16 + best_h + 2 + 3)
            .max(6)
    } else {
        (r.pareto.len().saturating_sub(app.scroll as usize) + 1) as u16
    };
    // The notes take what the tables leave (a blank line and at least two lines).
    let [head, best_area, _, front_title, front, foot] = Layout::vertical([
        Constraint::Length(head_lines.len() as u16),
        Constraint::Length(best_h),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(front_h),
        Constraint::Min(3),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(head_lines), head);
    if wide {
        f.render_widget(
            plan_table(
                best.into_iter(),
                0,
                (wide, lang),
                ("plan", &q.budget_currency),
                t,
            ),
            best_area,
        );
    } else {
        let lines: Vec<Line> = best.iter().flat_map(|p| plan_card(p, lang, t)).collect();
        f.render_widget(Paragraph::new(lines), best_area);
    }
    let title = if chart {
        format!(
            "Cost vs hours: {} feasible plans, the Pareto front ({}) drawn (v: table)",
            r.feasible_points.len(),
            r.pareto.len()
        )
    } else {
        format!(
            "Pareto front: cost vs time, cheapest first ({} plans) (v: chart)",
            r.pareto.len()
        )
    };
    f.render_widget(
        Paragraph::new(Line::styled(tr(&title), t.accent())),
        front_title,
    );
    if chart {
        draw_plan_chart(f, r, lang, t, front);
    } else {
        f.render_widget(
            plan_table(
                r.pareto.iter(),
                app.scroll as usize,
                (wide, lang),
                ("#", &q.budget_currency),
                t,
            ),
            front,
        );
    }
    f.render_widget(
        Paragraph::new(
            plan_notes(r)
                .into_iter()
                .map(|n| Line::styled(tr(&n), t.dim()))
                .collect::<Vec<_>>(),
        )
        .wrap(Wrap { trim: true }),
        foot,
    );
}

/// Every feasible plan as a point of (hours, cost) on log-log axes (plans span orders of
/// magnitude), the Pareto front as a line through its plans, the cheapest and fastest marked.
fn draw_plan_chart(f: &mut Frame, r: &PlanResult, lang: Lang, t: Theme, area: Rect) {
    let tr = |s: &str| lang.tr(s).into_owned();
    let log = |(h, c): (f64, f64)| (h.max(1e-6).log10(), c.max(1e-6).log10());
    let all: Vec<(f64, f64)> = r.feasible_points.iter().copied().map(log).collect();
    let front: Vec<(f64, f64)> = r
        .pareto
        .iter()
        .map(|p| log((p.wall_hours, p.cost)))
        .collect();
    let mark = |p: &Option<Plan>| -> Vec<(f64, f64)> {
        p.iter().map(|p| log((p.wall_hours, p.cost))).collect()
    };
    let (cheapest, fastest) = (mark(&r.cheapest), mark(&r.fastest));
    let bounds = |pick: fn(&(f64, f64)) -> f64| {
        let lo = all.iter().map(pick).fold(f64::INFINITY, f64::min);
        let hi = all.iter().map(pick).fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() {
            return [0.0, 1.0];
        }
        // A margin, and some width when every plan has the same value.
        let pad = ((hi - lo) * 0.05).max(0.05);
        [lo - pad, hi + pad]
    };
    let (xb, yb) = (bounds(|p| p.0), bounds(|p| p.1));
    let currency = r
        .cheapest
        .as_ref()
        .map_or("USD".to_string(), |p| p.currency.clone());
    let labels = |b: [f64; 2], fmt_v: &dyn Fn(f64) -> String| -> Vec<Line<'static>> {
        let mid = (b[0] + b[1]) / 2.0;
        [b[0], mid, b[1]]
            .iter()
            .map(|v| Line::from(fmt_v(10f64.powf(*v))))
            .collect()
    };
    let datasets = vec![
        Dataset::default()
            .name(tr("feasible"))
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Scatter)
            .style(t.dim())
            .data(&all),
        Dataset::default()
            .name(tr("Pareto front"))
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.fg(Color::Cyan))
            .data(&front),
        Dataset::default()
            .name(tr("cheapest"))
            .marker(symbols::Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(t.good())
            .data(&cheapest),
        Dataset::default()
            .name(tr("fastest"))
            .marker(symbols::Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(t.fg(Color::Magenta))
            .data(&fastest),
    ];
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .title(tr("hours (log)"))
                .bounds(xb)
                .labels(labels(xb, &|v| fmt::hours(v))),
        )
        .y_axis(
            Axis::default()
                .title(tr(&format!("{currency} (log)")))
                .bounds(yb)
                .labels(labels(yb, &|v| format!("{v:.2}"))),
        )
        .legend_position(Some(LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)));
    f.render_widget(chart, area);
}

/// The cost of a plan as the planner ranked it (its currency), then the offer's display currency
/// and USD where they differ.
pub(super) fn plan_costs(p: &Plan) -> String {
    let j = &p.offer.job;
    let mut out = fmt::money(p.cost, &p.currency);
    if j.display_currency != p.currency {
        out.push_str(&format!(
            " = {}",
            fmt::money(j.cost_display, &j.display_currency)
        ));
    }
    if p.currency != "USD" && j.display_currency != "USD" {
        out.push_str(&format!(" = {}", fmt::money(p.offer.cost_usd, "USD")));
    }
    out
}

pub(super) fn plan_card(p: &Plan, lang: Lang, t: Theme) -> Vec<Line<'static>> {
    let tr = |s: &str| lang.tr(s).into_owned();
    let j = &p.offer.job;
    let w = &p.workload;
    // The configuration line part by part, so each part is translated on its own.
    let mut config = vec![
        format!("{}×{}", j.hardware, w.gpus),
        p.method.kind.as_str().to_string(),
        tr(&format!("mb {}×{}", w.micro_batch, w.grad_accum)),
    ];
    if w.grad_checkpointing {
        config.push(tr("ckpt"));
    }
    config.push(sharding(w));
    if w.offload != Offload::None {
        config.push(tr(&format!("offload {}", w.offload.as_str())));
    }
    config.push(format!("{}/GPU", fmt::gib(p.device.memory.total as f64)));
    vec![
        Line::from(vec![
            Span::styled(pad(&tr(&p.label), 9), t.accent()),
            Span::styled(plan_costs(p), t.good()),
            Span::raw(format!(" · {}", tr(&fmt::hours(p.wall_hours)))),
        ]),
        Line::from(format!(
            "  {} {} ({}) · {}",
            j.provider,
            j.instance,
            tr(&j.region),
            tr(j.billing.as_str())
        )),
        Line::from(format!("  {}", config.join(" · "))),
    ]
}

/// How the job shares its GPUs, as the card shows it.
fn sharding(w: &Workload) -> String {
    if w.fsdp {
        "FSDP".to_string()
    } else {
        format!("ZeRO {}", w.zero)
    }
}

pub(super) fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Plans as a table: every column when wide; the ranking columns when narrow. `(first,
/// currency)`: the first column's header and the ranking currency, one per money column (the
/// offer's own currency in "original").
pub(super) fn plan_table<'a>(
    plans: impl Iterator<Item = &'a Plan>,
    skip: usize,
    (wide, lang): (bool, Lang),
    (first, currency): (&'a str, &str),
    t: Theme,
) -> Table<'a> {
    let cost = format!("job {currency}");
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
        (
            vec![
                first, "provider", "instance", "hw×n", "billing", "method", "mb×acc", "ckpt",
                "ZeRO", "mem/GPU", "wall", &cost, "original",
            ],
            vec![
                Constraint::Length(8),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(12),
            ],
        )
    } else {
        (
            vec![
                first, "provider", "hw×n", "billing", "wall", &cost, "original",
            ],
            vec![
                Constraint::Length(3),
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(11),
            ],
        )
    };
    let rows = plans.enumerate().skip(skip).map(move |(i, p)| {
        let j = &p.offer.job;
        let w = &p.workload;
        // The best plans by name, the Pareto front by rank.
        let name = match p.label.as_str() {
            "pareto" => (i + 1).to_string(),
            l => lang.tr(l).into_owned(),
        };
        let mut cells = vec![name, j.provider.clone()];
        if wide {
            cells.push(j.instance.clone());
        }
        cells.push(format!("{}×{}", j.hardware, w.gpus));
        cells.push(lang.tr(j.billing.as_str()).into_owned());
        if wide {
            cells.push(p.method.kind.as_str().into());
            cells.push(format!("{}×{}", w.micro_batch, w.grad_accum));
            cells.push(lang.tr(on_off(w.grad_checkpointing)).into_owned());
            cells.push(if w.fsdp {
                "FSDP".to_string()
            } else {
                w.zero.to_string()
            });
            cells.push(fmt::gib(p.device.memory.total as f64));
        }
        cells.push(fmt::hours(p.wall_hours));
        cells.push(format!("{:.2}", p.cost));
        cells.push(fmt::money(j.cost, &j.currency));
        Row::new(cells)
    });
    // Narrow columns take the short Chinese (`tr_short`).
    let header: Vec<String> = header
        .into_iter()
        .map(|h| lang.tr_short(h).into_owned())
        .collect();
    Table::new(rows, widths).header(Row::new(header).style(t.accent()))
}

/// Why the best plans were chosen, their caveats, then the planner's notes.
pub(super) fn plan_notes(r: &PlanResult) -> Vec<String> {
    // (labels, caveat), one entry per distinct caveat.
    let mut caveats: Vec<(Vec<&str>, &str)> = Vec::new();
    for p in r.cheapest.iter().chain(r.fastest.iter()) {
        if let Some(c) = &p.offer.job.caveat {
            match caveats.iter_mut().find(|(_, x)| x == c) {
                Some((labels, _)) => labels.push(&p.label),
                None => caveats.push((vec![&p.label], c)),
            }
        }
    }
    let mut notes = vec![String::new()];
    notes.extend(
        caveats
            .into_iter()
            .map(|(labels, c)| format!("{}: {c}", labels.join(", "))),
    );
    notes.extend(r.notes.iter().cloned());
    if r.qlora_not_considered {
        notes.push("QLoRA not considered: set \"allow QLoRA\" on".into());
    }
    notes
}
