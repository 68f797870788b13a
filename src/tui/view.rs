//! Drawing only: reads [`App`] and formats the numbers the core produced (with `report::fmt`).
//! The only arithmetic here is layout (how many cells a bar segment gets).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Tabs, Wrap};
use ratatui::Frame;

use super::input::Field;
use super::keys::KEYS;
use super::state::{offers, App, Focus, Tab};
use crate::core::deploy::DeploySuggestion;
use crate::core::estimate::{Change, DeviceResult, Suggestion};
use crate::core::estimate::{CompareRow, Unit};
use crate::core::plan::{Plan, PlanResult};
use crate::report::fmt;

/// Smallest terminal the layout is drawn for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Width of the inputs panel.
const INPUTS_WIDTH: u16 = 32;

/// Styles; without colour (`NO_COLOR`) only bold / reverse / underline / dim are used.
#[derive(Clone, Copy)]
struct Theme {
    color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    fn accent(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    fn dim(self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }
    fn good(self) -> Style {
        self.fg(Color::Green)
    }
    fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    fn border(self, focused: bool) -> Style {
        if focused {
            self.accent()
        } else {
            Style::default()
        }
    }
    /// Memory segments: weights, trainable state, activations, logits, overhead.
    fn segment(self, i: usize) -> Style {
        const C: [Color; 5] = [
            Color::Blue,
            Color::Magenta,
            Color::Yellow,
            Color::Cyan,
            Color::Gray,
        ];
        self.fg(C[i])
    }
}

/// Glyphs of the memory segments, so the bar reads without colour too.
const SEGMENTS: [(&str, &str); 5] = [
    ("█", "weights"),
    ("▓", "state"),
    ("▒", "activations"),
    ("░", "logits"),
    ("▪", "overhead"),
];

/// Draw the whole screen.
pub fn draw(f: &mut Frame, app: &App) {
    let t = Theme { color: app.color };
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(f, area);
        return;
    }
    let [main, status, hints] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Length(INPUTS_WIDTH), Constraint::Min(1)]).areas(main);
    draw_inputs(f, app, t, left);
    draw_results(f, app, t, right);
    draw_status(f, app, t, status);
    draw_hints(f, t, hints);
    if app.show_help {
        draw_help(f, t, area);
    }
}

fn draw_too_small(f: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("peftcost tui: terminal too small"),
        Line::from(format!(
            "{}x{} now, needs at least {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("enlarge the window, or press q to quit"),
    ];
    let h = (text.len() as u16).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    let r = Rect::new(area.x, y, area.width, h);
    f.render_widget(
        Paragraph::new(text)
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true }),
        r,
    );
}

fn draw_inputs(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let focused = app.focus == Focus::Inputs;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Inputs ")
        .border_style(t.border(focused));
    let mut lines = Vec::new();
    let mut focused_line = 0;
    for field in app.visible_fields() {
        if field.starts_group() {
            lines.push(Line::from(""));
        }
        if field == app.field {
            focused_line = lines.len() as u16;
        }
        let value = match &app.editing {
            Some(ed) if ed.field == field => format!("{}_", ed.buffer),
            _ => app.value(field),
        };
        let style = if field == app.field && focused {
            t.selected()
        } else if field == app.field {
            Style::default().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::default()
        };
        let inner = INPUTS_WIDTH.saturating_sub(2) as usize;
        let mark = if field == app.field { '›' } else { ' ' };
        let label = format!("{mark}{:<14} ", field.label());
        let room = inner.saturating_sub(label.chars().count() + 1);
        lines.push(Line::from(vec![
            Span::styled(label, style),
            Span::styled(format!("{:<room$} ", clip(&value, room)), style),
        ]));
    }
    // On a short terminal, scroll so that the focused field stays in view.
    let height = block.inner(area).height;
    let scroll = (focused_line + 1).saturating_sub(height);
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

fn draw_results(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let focused = app.focus == Focus::Results;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Results ")
        .border_style(t.border(focused));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [tabs, summary, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    let titles: Vec<String> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{} {}", i + 1, t.title()))
        .collect();
    let idx = Tab::ALL.iter().position(|x| *x == app.tab).unwrap_or(0);
    f.render_widget(
        Tabs::new(titles)
            .select(idx)
            .highlight_style(t.accent().add_modifier(Modifier::REVERSED)),
        tabs,
    );
    f.render_widget(Paragraph::new(summary_lines(app, t)), summary);
    let lines = match (&app.estimate, app.tab) {
        (None, _) => vec![
            Line::styled("These inputs cannot be estimated:", t.bad()),
            Line::from(app.error.clone().unwrap_or_default()),
        ],
        (Some(_), Tab::Memory) => memory_lines(app, t, body.width),
        (Some(_), Tab::Cost) => return draw_cost(f, app, t, body),
        (Some(_), Tab::Deploy) => return draw_deploy(f, app, t, body),
        (Some(_), Tab::Compare) => return draw_compare(f, app, t, body),
        (Some(_), Tab::Plan) => return draw_plan(f, app, t, body),
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0)),
        body,
    );
}

fn summary_lines(app: &App, t: Theme) -> Vec<Line<'static>> {
    let Some(e) = &app.estimate else {
        return vec![Line::styled("error", t.bad())];
    };
    let p = &e.params;
    let w = &e.workload;
    vec![
        Line::from(vec![
            Span::styled(e.model.clone(), t.accent()),
            Span::raw(format!(" · {}", e.method.describe())),
        ]),
        Line::from(format!(
            "train {} of {} ({:.4}%) · export {} · {} steps",
            fmt::short(p.trainable),
            fmt::short(p.all),
            p.trainable_percent,
            fmt::bytes(p.artifact.export_bytes as f64),
            fmt::count(w.steps()),
        )),
    ]
}

fn memory_lines(app: &App, t: Theme, width: u16) -> Vec<Line<'static>> {
    let Some(e) = &app.estimate else {
        return Vec::new();
    };
    let mut legend: Vec<Span> = vec![Span::raw(" ")];
    for (i, (g, name)) in SEGMENTS.iter().enumerate() {
        legend.push(Span::styled(*g, t.segment(i)));
        legend.push(Span::raw(format!(" {name} ")));
    }
    legend.push(Span::raw("│ capacity"));
    let mut lines = vec![Line::from(legend)];
    let id_w = e
        .devices
        .iter()
        .map(|d| d.hardware.chars().count())
        .max()
        .unwrap_or(8);
    // hardware, bar, "23.81/80.00 GiB", fits, max micro-batch, hours
    let fixed = id_w + 1 + 2 + 1 + 16 + 1 + 4 + 1 + 6 + 1 + 9;
    let bar_w = (width as usize).saturating_sub(fixed).max(4);
    for d in &e.devices {
        let mut spans = vec![Span::raw(format!("{:<id_w$} [", d.hardware))];
        spans.extend(bar(d, bar_w, t));
        spans.push(Span::raw("] "));
        spans.push(Span::raw(format!(
            "{:>16} ",
            format!(
                "{:.2}/{}",
                d.memory.total as f64 / fmt::GIB,
                fmt::gib(d.capacity_bytes as f64)
            )
        )));
        spans.push(if d.fits {
            Span::styled("fits", t.good())
        } else {
            Span::styled("NO  ", t.bad())
        });
        spans.push(Span::raw(format!(" mb≤{:<3}", d.max_micro_batch)));
        spans.push(Span::raw(format!(
            " {:>9}",
            d.hours.map_or("-".into(), fmt::hours)
        )));
        lines.push(Line::from(spans));
    }
    let mut notes: Vec<String> = e.notes.clone();
    notes.extend(e.devices.iter().filter_map(|d| d.note.clone()));
    if !e.suggestions.is_empty() {
        notes.push("fits on no device; what would make it fit:".into());
        notes.extend(e.suggestions.iter().map(|s| format!("  {}", suggestion(s))));
    }
    if !notes.is_empty() {
        lines.push(Line::from(""));
        lines.extend(notes.into_iter().map(|n| Line::styled(n, t.dim())));
    }
    lines
}

/// A stacked bar of the memory segments against the device's capacity. The bar spans
/// max(total, capacity); when the total exceeds the capacity, `│` marks where the card ends.
fn bar(d: &DeviceResult, width: usize, t: Theme) -> Vec<Span<'static>> {
    let m = &d.memory;
    let parts = [
        m.weights,
        m.trainable_state,
        m.activations,
        m.logits,
        m.overhead,
    ];
    let scale = (m.total.max(d.capacity_bytes)).max(1) as f64;
    let cells = |b: u64| ((b as f64 / scale) * width as f64).round() as usize;
    let mut glyphs: Vec<(usize, char)> = Vec::with_capacity(width);
    let mut used = 0;
    for (i, b) in parts.iter().enumerate() {
        let n = cells(*b).min(width - used);
        glyphs.extend(std::iter::repeat_n(
            (i, SEGMENTS[i].0.chars().next().unwrap_or('#')),
            n,
        ));
        used += n;
    }
    glyphs.extend(std::iter::repeat_n((usize::MAX, ' '), width - used));
    if !d.fits {
        let cap = cells(d.capacity_bytes).min(width.saturating_sub(1));
        glyphs[cap] = (usize::MAX - 1, '│');
    }
    // Group runs of the same segment into spans.
    let mut spans = Vec::new();
    let mut i = 0;
    while i < glyphs.len() {
        let (seg, c) = glyphs[i];
        let mut j = i;
        while j < glyphs.len() && glyphs[j].0 == seg {
            j += 1;
        }
        let text: String = std::iter::repeat_n(c, j - i).collect();
        let style = match seg {
            s if s < SEGMENTS.len() => t.segment(s),
            s if s == usize::MAX - 1 => t.bad(),
            _ => Style::default(),
        };
        spans.push(Span::styled(text, style));
        i = j;
    }
    spans
}

fn draw_cost(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let e = app.estimate.as_ref().expect("checked by the caller");
    let filters = format!(
        "provider {} · currency {} · billing {} (b: on-demand/spot)",
        app.value(Field::Provider),
        app.value(Field::Currency),
        app.value(Field::Billing),
    );
    let Some(offers) = offers(e, app.priced) else {
        let lines = vec![
            Line::from(filters),
            Line::from(""),
            Line::styled("pricing not loaded", t.bad()),
            Line::from("the price tables could not be loaded (see `peftcost pricing validate`)."),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    };
    if offers.is_empty() {
        let lines = vec![
            Line::from(filters),
            Line::from(""),
            Line::styled("no offer: no priced hardware fits these inputs with these filters", t.bad()),
            Line::from("try another provider or billing, more GPUs, a smaller micro-batch or checkpointing"),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    }
    let [head, table, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(filters), head);
    // Wide: every column. Narrow: the ranking, and the breakdown of the cheapest below it.
    let wide = area.width >= 120;
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
        (
            vec![
                "#", "provider", "instance", "hw×n", "billing", "price/h", "billed h", "setup",
                "data", "train", "export", "job cost", "USD",
            ],
            vec![
                Constraint::Length(3),
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(11),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(12),
                Constraint::Length(8),
            ],
        )
    } else {
        (
            vec![
                "#", "provider", "hw×n", "billing", "billed h", "job cost", "USD",
            ],
            vec![
                Constraint::Length(3),
                Constraint::Length(10),
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(8),
                Constraint::Fill(1),
                Constraint::Length(8),
            ],
        )
    };
    let rows = offers
        .iter()
        .enumerate()
        .skip(app.scroll as usize)
        .map(|(i, o)| {
            let j = &o.job;
            let b = &j.cost_breakdown;
            let mut cells = vec![(i + 1).to_string(), j.provider.clone()];
            if wide {
                cells.push(j.instance.clone());
            }
            cells.push(format!("{}×{}", j.hardware, j.gpus * j.instances));
            cells.push(j.billing.as_str().to_string());
            if wide {
                cells.push(fmt::money(j.price_per_hour, &j.currency));
            }
            cells.push(format!("{:.2}", j.hours));
            if wide {
                for v in [b.setup, b.data, b.train, b.export] {
                    cells.push(format!("{v:.2}"));
                }
            }
            cells.push(fmt::money(j.cost_display, &j.display_currency));
            // The ranking is by USD: show it so mixed currencies compare at a glance.
            cells.push(format!("{:.2}", o.cost_usd));
            Row::new(cells)
        });
    f.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.accent())),
        table,
    );
    let j = &offers[0].job;
    let b = &j.cost_breakdown;
    let note = if wide {
        format!(
            "{} offers, cheapest first. price/h and setup/data/train/export in the offer's currency; job cost in the display currency.",
            offers.len()
        )
    } else {
        format!(
            "#1 {}: {}/h; setup {:.2} + data {:.2} + train {:.2} + export {:.2} {}. {} offers (wider: all columns)",
            j.instance,
            fmt::money(j.price_per_hour, &j.currency),
            b.setup,
            b.data,
            b.train,
            b.export,
            j.currency,
            offers.len()
        )
    };
    f.render_widget(
        Paragraph::new(Line::styled(note, t.dim())).wrap(Wrap { trim: true }),
        foot,
    );
}

fn draw_deploy(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let Some(d) = &app.deployment else {
        let lines = vec![
            Line::styled("These serving inputs cannot be estimated:", t.bad()),
            Line::from(app.deploy_error.clone().unwrap_or_default()),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    };
    let w = &d.request.workload;
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(d.targets.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(format!(
            "serving {} at {} · {} req/s · {} in + {} out tokens · {}",
            d.model,
            d.request.precision.as_str(),
            w.qps,
            w.input_tokens,
            w.output_tokens,
            d.currency
        )),
        head,
    );
    let wide = area.width >= 110;
    let mut header = vec![
        "target",
        "fits",
        "weights",
        "batch",
        "tokens/s",
        "inst.",
        "per month",
        "per M",
    ];
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(6),
    ];
    if wide {
        header.insert(6, "offer");
        widths.insert(6, Constraint::Fill(1));
    }
    let rows = d.targets.iter().map(|x| {
        let tps = x.output_tokens_per_second.or(x.embeddings_per_second);
        let mut cells = vec![
            Span::raw(x.hardware.clone()),
            if x.fits {
                Span::styled("yes", t.good())
            } else {
                Span::styled("NO", t.bad())
            },
            Span::raw(fmt::gib(x.weights_bytes)),
            Span::raw(x.batch.to_string()),
            Span::raw(tps.map_or("-".into(), |v| format!("{v:.0}"))),
            Span::raw(x.instances.to_string()),
            Span::raw(
                x.monthly_cost
                    .map_or("-".into(), |c| fmt::money(c, &d.currency)),
            ),
            Span::raw(x.cost_per_million.map_or("-".into(), |c| format!("{c:.2}"))),
        ];
        if wide {
            let offer = x
                .offer
                .as_ref()
                .map_or("-".into(), |o| format!("{} {}", o.provider, o.instance));
            cells.insert(6, Span::raw(offer));
        }
        Row::new(cells)
    });
    f.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.accent())),
        body,
    );
    let mut notes: Vec<Line> = vec![Line::from(format!(
        "per M = {} per million {}; the serving inputs are at the bottom left",
        d.currency,
        d.targets.first().map_or("tokens", |x| x.cost_unit.as_str())
    ))];
    notes.extend(
        d.suggestions
            .iter()
            .map(|s| Line::styled(deploy_suggestion(s), t.dim())),
    );
    notes.extend(d.notes.iter().map(|s| Line::styled(s.clone(), t.dim())));
    f.render_widget(
        Paragraph::new(notes)
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0)),
        foot,
    );
}

fn draw_compare(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let (Some(pin), Some(rows)) = (&app.pinned, &app.comparison) else {
        let lines = vec![
            Line::from("Nothing pinned yet."),
            Line::from(""),
            Line::from("Press p to pin the current scenario, change the inputs, and this tab"),
            Line::from("compares the two side by side: parameters, memory, hours, cheapest cost."),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let cur = app
        .estimate
        .as_ref()
        .map(|e| format!("{} {}", e.model, e.method.describe()))
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled("pinned  ", t.accent()),
                Span::raw(pin.label.clone()),
            ]),
            Line::from(vec![Span::styled("current ", t.accent()), Span::raw(cur)]),
        ]),
        head,
    );
    let currency = app.inputs.compare_currency();
    let header = Row::new(["quantity", "pinned", "current", "change"]).style(t.accent());
    let table_rows = rows.iter().skip(app.scroll as usize).map(|r| {
        let change_style = match r.change {
            Some(c) if c > 0.0 => t.fg(Color::Yellow),
            Some(c) if c < 0.0 => t.good(),
            _ => Style::default(),
        };
        Row::new(vec![
            Span::raw(r.quantity.clone()),
            Span::raw(value(r, r.base, &currency)),
            Span::raw(value(r, r.other, &currency)),
            Span::styled(change(r, &currency), change_style),
        ])
    });
    let widths = [
        Constraint::Length(18),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Fill(1),
    ];
    f.render_widget(Table::new(table_rows, widths).header(header), body);
}

fn draw_plan(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let q = app.inputs.plan_query();
    let wide = area.width >= 120;
    let constraints = format!(
        "deadline {} · budget {} · max {} GPUs · QLoRA {}",
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
    let filters = format!(
        "provider {} · currency {} · billing {}",
        app.value(Field::Provider),
        app.value(Field::Currency),
        app.value(Field::Billing),
    );
    // Wide: constraints and filters on one line; narrow: one line each.
    let mut head_lines = if wide {
        vec![Line::from(format!("{constraints} · {filters}"))]
    } else {
        vec![Line::from(constraints), Line::from(filters)]
    };
    let Some(r) = &app.plan else {
        head_lines.extend([
            Line::from(""),
            Line::styled("The planner cannot run on these inputs:", t.bad()),
            Line::from(app.plan_error.clone().unwrap_or_default()),
        ]);
        f.render_widget(Paragraph::new(head_lines).wrap(Wrap { trim: false }), area);
        return;
    };
    let searched = format!(
        "searched {} configurations · {} candidates fit · {} feasible",
        fmt::count(r.configurations),
        fmt::count(r.candidates),
        fmt::count(r.feasible),
    );
    head_lines.push(Line::styled(searched, t.dim()));
    if let Some(reason) = &r.infeasible {
        let mut lines = head_lines;
        lines.extend([
            Line::from(""),
            Line::styled("NO FEASIBLE PLAN", t.bad()),
            Line::styled(reason.clone(), t.bad()),
            Line::from(""),
            Line::styled(
                "raise the budget or the deadline (0 = none), allow QLoRA, raise max gpus, or change the provider/billing",
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
    let front_h = (r.pareto.len().saturating_sub(app.scroll as usize) + 1) as u16;
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
        f.render_widget(plan_table(best.into_iter(), 0, wide, "plan", t), best_area);
    } else {
        let lines: Vec<Line> = best.iter().flat_map(|p| plan_card(p, t)).collect();
        f.render_widget(Paragraph::new(lines), best_area);
    }
    f.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "Pareto front: cost vs time, cheapest first ({} plans)",
                r.pareto.len()
            ),
            t.accent(),
        )),
        front_title,
    );
    f.render_widget(
        plan_table(r.pareto.iter(), app.scroll as usize, wide, "#", t),
        front,
    );
    f.render_widget(
        Paragraph::new(
            plan_notes(r)
                .into_iter()
                .map(|n| Line::styled(n, t.dim()))
                .collect::<Vec<_>>(),
        )
        .wrap(Wrap { trim: true }),
        foot,
    );
}

/// The cost of a plan as the planner ranked it (its currency), then the offer's display currency
/// and USD where they differ.
fn plan_costs(p: &Plan) -> String {
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

fn plan_card(p: &Plan, t: Theme) -> Vec<Line<'static>> {
    let j = &p.offer.job;
    let w = &p.workload;
    vec![
        Line::from(vec![
            Span::styled(format!("{:<9}", p.label), t.accent()),
            Span::styled(plan_costs(p), t.good()),
            Span::raw(format!(" · {}", fmt::hours(p.wall_hours))),
        ]),
        Line::from(format!(
            "  {} {} ({}) · {}",
            j.provider,
            j.instance,
            j.region,
            j.billing.as_str()
        )),
        Line::from(format!(
            "  {}×{} · {} · mb {}×{} · ckpt {} · ZeRO {} · {}/GPU",
            j.hardware,
            w.gpus,
            p.method.kind.as_str(),
            w.micro_batch,
            w.grad_accum,
            on_off(w.grad_checkpointing),
            w.zero,
            fmt::gib(p.device.memory.total as f64),
        )),
    ]
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Plans as a table: every column when wide; the ranking columns when narrow.
fn plan_table<'a>(
    plans: impl Iterator<Item = &'a Plan>,
    skip: usize,
    wide: bool,
    first: &'a str,
    t: Theme,
) -> Table<'a> {
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
        (
            vec![
                first, "provider", "instance", "hw×n", "billing", "method", "mb×acc", "ckpt",
                "ZeRO", "mem/GPU", "wall", "job cost", "USD",
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
                Constraint::Length(12),
                Constraint::Length(8),
            ],
        )
    } else {
        (
            vec![
                first, "provider", "hw×n", "billing", "wall", "job cost", "USD",
            ],
            vec![
                Constraint::Length(3),
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Length(9),
                Constraint::Length(8),
                Constraint::Length(11),
                Constraint::Length(8),
            ],
        )
    };
    let rows = plans.enumerate().skip(skip).map(move |(i, p)| {
        let j = &p.offer.job;
        let w = &p.workload;
        // The best plans by name, the Pareto front by rank.
        let name = match p.label.as_str() {
            "pareto" => (i + 1).to_string(),
            l => l.to_string(),
        };
        let mut cells = vec![name, j.provider.clone()];
        if wide {
            cells.push(j.instance.clone());
        }
        cells.push(format!("{}×{}", j.hardware, w.gpus));
        cells.push(j.billing.as_str().into());
        if wide {
            cells.push(p.method.kind.as_str().into());
            cells.push(format!("{}×{}", w.micro_batch, w.grad_accum));
            cells.push(on_off(w.grad_checkpointing).into());
            cells.push(w.zero.to_string());
            cells.push(fmt::gib(p.device.memory.total as f64));
        }
        cells.push(fmt::hours(p.wall_hours));
        cells.push(fmt::money(j.cost_display, &j.display_currency));
        cells.push(format!("{:.2}", p.offer.cost_usd));
        Row::new(cells)
    });
    Table::new(rows, widths).header(Row::new(header).style(t.accent()))
}

/// Why the best plans were chosen, their caveats, then the planner's notes.
fn plan_notes(r: &PlanResult) -> Vec<String> {
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
    notes
}

fn value(r: &CompareRow, v: Option<f64>, currency: &str) -> String {
    match (v, r.unit) {
        (None, Unit::Money) => "pricing n/a".into(),
        (None, _) => "-".into(),
        (Some(v), Unit::Count) => fmt::short(v as u64),
        (Some(v), Unit::Bytes) => fmt::bytes(v),
        (Some(v), Unit::Hours) => fmt::hours(v),
        (Some(v), Unit::Money) => fmt::money(v, currency),
        (Some(v), Unit::Fits) => if v > 0.5 { "yes" } else { "NO" }.into(),
    }
}

fn change(r: &CompareRow, currency: &str) -> String {
    let Some(c) = r.change else {
        return if r.unit == Unit::Fits && r.base.is_some() && r.base != r.other {
            "changed".into()
        } else {
            String::new()
        };
    };
    if c == 0.0 {
        return "=".into();
    }
    let sign = if c > 0.0 { "+" } else { "-" };
    let abs = value(r, Some(c.abs()), currency);
    match r.change_percent {
        Some(p) => format!("{sign}{abs} ({p:+.1}%)"),
        None => format!("{sign}{abs}"),
    }
}

fn draw_status(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let line = match &app.error {
        Some(e) => Line::styled(format!(" error: {e}"), t.bad()),
        None => Line::from(format!(" {}", app.status)),
    };
    f.render_widget(Paragraph::new(line), area);
}

fn draw_hints(f: &mut Frame, t: Theme, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    for k in KEYS {
        if let Some((keys, label)) = k.hint {
            spans.push(Span::styled(keys, t.accent()));
            spans.push(Span::styled(format!(" {label}  "), t.dim()));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_help(f: &mut Frame, t: Theme, area: Rect) {
    let w = 70.min(area.width.saturating_sub(4));
    let h = (KEYS.len() as u16 + 4).min(area.height.saturating_sub(2));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|k| {
            Line::from(vec![
                Span::styled(format!(" {:<16}", k.keys), t.accent()),
                Span::raw(k.what),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::styled(" any key closes this help", t.dim()));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys ")
                .border_style(t.accent()),
        ),
        r,
    );
}

/// Cut a value to `n` characters, marking the cut with `…`.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A fit remedy in the panel's own terms (its inputs, not flags).
fn suggestion(s: &Suggestion) -> String {
    let change = match s.change {
        Change::GradCheckpointing => "checkpointing on".to_string(),
        Change::MicroBatchOne => "micro-batch 1 (grad-accum up to keep the batch)".into(),
        Change::QloraCheckpointedMicroBatchOne => {
            "method qlora, checkpointing on, micro-batch 1".into()
        }
        Change::Zero3 { gpus } => format!("gpus {gpus}, ZeRO-3, checkpointing on"),
    };
    let verdict = if s.fits { "fits" } else { "still does not fit" };
    format!(
        "{change}: {} on {} ({verdict})",
        fmt::gib(s.memory as f64),
        s.hardware
    )
}

/// A serving remedy in the panel's own terms.
fn deploy_suggestion(s: &DeploySuggestion) -> String {
    match s {
        DeploySuggestion::Precision {
            precision,
            hardware,
        } => format!(
            "serve dtype {} fits on {}",
            precision.as_str(),
            hardware.join(", ")
        ),
        DeploySuggestion::OtherHardware {
            precision,
            hardware,
        } => format!(
            "serve dtype {} fits on other hardware: {}",
            precision.as_str(),
            hardware.join(", ")
        ),
        DeploySuggestion::ShorterContext { context } => {
            format!("nothing fits; fewer serve tokens than {context} may help")
        }
    }
}
