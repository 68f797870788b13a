//! Drawing only: reads [`App`] and formats the numbers the core produced (with `report::fmt`).
//! The only arithmetic here is layout (how many cells a bar segment gets).
//!
//! Text is built in English and translated as it is drawn (`app.lang.tr`, the catalogue of
//! `report::i18n::zh`), and padded, clipped and fitted by display width ([`cells`], [`pad`],
//! [`clip`]): a CJK glyph takes two cells.

mod compare;
mod cost;
mod deploy;
mod memory;
mod picker;
mod plan;

use compare::draw_compare;
use cost::draw_cost;
use deploy::draw_deploy;
use memory::memory_lines;
use picker::{draw_picker, prompt_line};
use plan::draw_plan;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Tabs, Wrap};
use ratatui::Frame;

use super::input::Field;
use super::keys::KEYS;
use super::picker::PickKind;
use super::state::{offers, App, Focus, Tab};
use crate::core::deploy::DeploySuggestion;
use crate::core::estimate::{Change, DeviceResult, Suggestion};
use crate::core::estimate::{CompareRow, Unit};
use crate::core::plan::{Plan, PlanResult};
use crate::report::fmt;
use crate::report::i18n::Lang;
use unicode_width::UnicodeWidthStr;

/// Smallest terminal the layout is drawn for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Width of the inputs panel, and of its labels: narrower (short labels) below 100 columns so
/// the results keep 52 columns at 80.
fn inputs_width(total: u16) -> (u16, usize) {
    if total >= 100 {
        (32, 14)
    } else {
        (26, 9)
    }
}

/// Below this inner width the result tabs use their narrow layouts (an 80-column terminal).
const NARROW: u16 = 60;

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
        draw_too_small(f, app.lang, area);
        return;
    }
    let [main, status, hints] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [left, right] = Layout::horizontal([
        Constraint::Length(inputs_width(area.width).0),
        Constraint::Min(1),
    ])
    .areas(main);
    draw_inputs(f, app, t, left);
    draw_results(f, app, t, right);
    draw_status(f, app, t, status);
    draw_hints(f, app.lang, t, hints);
    if let Some(p) = &app.picker {
        draw_picker(f, p, app.lang, t, area);
    }
    if app.show_help {
        draw_help(f, app.lang, t, area);
    }
}

fn draw_too_small(f: &mut Frame, lang: Lang, area: Rect) {
    let text = vec![
        Line::from(lang.tr("peftcost tui: terminal too small").into_owned()),
        Line::from(
            lang.tr(&format!(
                "{}x{} now, needs at least {MIN_WIDTH}x{MIN_HEIGHT}",
                area.width, area.height
            ))
            .into_owned(),
        ),
        Line::from(
            lang.tr("enlarge the window, or press q to quit")
                .into_owned(),
        ),
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
        .title(format!(" {} ", app.lang.tr("Inputs")))
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
            _ => app.lang.tr(&app.value(field)).into_owned(),
        };
        let style = if field == app.field && focused {
            t.selected()
        } else if field == app.field {
            Style::default().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::default()
        };
        let inner = area.width.saturating_sub(2) as usize;
        let mark = if field == app.field { '›' } else { ' ' };
        let label_w = inputs_width(f.area().width).1;
        // Chinese labels are short enough for either width (at most 9 cells).
        let name = if label_w < 14 && app.lang == Lang::En {
            field.short_label()
        } else {
            field.label()
        };
        let label = format!("{mark}{} ", pad(&app.lang.tr(name), label_w));
        let room = inner.saturating_sub(cells(&label) + 1);
        lines.push(Line::from(vec![
            Span::styled(label, style),
            Span::styled(format!("{} ", pad(&clip(&value, room), room)), style),
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
        .title(format!(" {} ", app.lang.tr("Results")))
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
        .map(|(i, t)| format!("{} {}", i + 1, app.lang.tr(t.title())))
        .collect();
    let idx = Tab::ALL.iter().position(|x| *x == app.tab).unwrap_or(0);
    f.render_widget(
        Tabs::new(titles)
            .select(idx)
            .highlight_style(t.accent().add_modifier(Modifier::REVERSED)),
        tabs,
    );
    f.render_widget(
        Paragraph::new(summary_lines(app, t, summary.width)),
        summary,
    );
    let lines = match (&app.estimate, app.tab) {
        (Err(e), _) => vec![
            Line::styled(
                app.lang
                    .tr("These inputs cannot be estimated:")
                    .into_owned(),
                t.bad(),
            ),
            Line::from(app.lang.tr(e).into_owned()),
        ],
        (Ok(_), Tab::Memory) => memory_lines(app, t, body.width),
        (Ok(_), Tab::Cost) => return draw_cost(f, app, t, body),
        (Ok(_), Tab::Deploy) => return draw_deploy(f, app, t, body),
        (Ok(_), Tab::Compare) => return draw_compare(f, app, t, body),
        (Ok(_), Tab::Plan) => return draw_plan(f, app, t, body),
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0)),
        body,
    );
}

fn summary_lines(app: &App, t: Theme, width: u16) -> Vec<Line<'static>> {
    let tr = |s: String| app.lang.tr(&s).into_owned();
    let Ok(e) = &app.estimate else {
        return vec![Line::styled(tr("error".into()), t.bad())];
    };
    let p = &e.params;
    let w = &e.workload;
    vec![
        Line::from(vec![
            Span::styled(e.model.clone(), t.accent()),
            Span::raw(format!(" · {}", tr(e.method.describe()))),
        ]),
        // Narrow: the export size goes (the Compare tab and `estimate` have it).
        Line::from(tr(if width < NARROW {
            format!(
                "train {} of {} ({:.4}%) · {} steps",
                fmt::short(p.trainable),
                fmt::short(p.all),
                p.trainable_percent,
                fmt::count(w.processed().steps()),
            )
        } else {
            format!(
                "train {} of {} ({:.4}%) · export {} · {} steps",
                fmt::short(p.trainable),
                fmt::short(p.all),
                p.trainable_percent,
                fmt::bytes(p.artifact.export_bytes as f64),
                fmt::count(w.processed().steps()),
            )
        })),
    ]
}

fn draw_status(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let line = match (&app.export_prompt, &app.estimate) {
        (Some(path), _) => prompt_line(path, app.lang, area.width, t),
        (None, Err(e)) => Line::styled(
            format!(" {}{}", app.lang.tr("error: "), app.lang.tr(e)),
            t.bad(),
        ),
        (None, Ok(_)) => Line::from(format!(" {}", app.lang.tr(&app.status))),
    };
    f.render_widget(Paragraph::new(line), area);
}

/// The hint line: as many hints as fit whole, in the key table's order, with `? help` and
/// `q quit` always shown.
fn draw_hints(f: &mut Frame, lang: Lang, t: Theme, area: Rect) {
    let hints: Vec<(&str, String)> = KEYS
        .iter()
        .filter_map(|k| k.hint)
        .map(|(keys, label)| (keys, lang.tr(label).into_owned()))
        .collect();
    let always = |keys: &str| keys == "?" || keys == "q";
    let hint_w = |(keys, label): &(&str, String)| cells(keys) + cells(label) + 3;
    let mut room = (area.width as usize).saturating_sub(1);
    room = room.saturating_sub(hints.iter().filter(|h| always(h.0)).map(hint_w).sum());
    let mut spans = vec![Span::raw(" ")];
    for h in &hints {
        if !always(h.0) {
            if hint_w(h) > room {
                continue;
            }
            room -= hint_w(h);
        }
        spans.push(Span::styled(h.0.to_string(), t.accent()));
        spans.push(Span::styled(format!(" {}  ", h.1), t.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_help(f: &mut Frame, lang: Lang, t: Theme, area: Rect) {
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
                Span::styled(format!(" {}", pad(&lang.tr(k.keys), 16)), t.accent()),
                Span::raw(lang.tr(k.what).into_owned()),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::styled(
        format!(" {}", lang.tr("any key closes this help")),
        t.dim(),
    ));
    clear_popup(f, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", lang.tr("Keys")))
                .border_style(t.accent()),
        ),
        r,
    );
}

/// The offer filters in one line of `width` cells (shorter words when narrow).
fn filter_line(app: &App, width: u16) -> String {
    let (p, c, b) = (
        app.value(Field::Provider),
        app.value(Field::Currency),
        app.value(Field::Billing),
    );
    let line = if width < 70 {
        format!("prov. {p} · cur. {c} · {b} (b)")
    } else {
        format!("provider {p} · currency {c} · billing {b} (b: on-demand/spot)")
    };
    app.lang.tr(&line).into_owned()
}

/// Clear a popup's area, and the wide glyph just left of it whose second cell the popup's
/// border would cover (only Chinese text has such glyphs).
fn clear_popup(f: &mut Frame, r: Rect) {
    f.render_widget(Clear, r);
    if r.x == 0 {
        return;
    }
    let buf = f.buffer_mut();
    for y in r.top()..r.bottom() {
        let cell = &mut buf[(r.x - 1, y)];
        if cells(cell.symbol()) > 1 {
            cell.set_symbol(" ");
        }
    }
}

/// The cells `s` takes on a terminal (a CJK glyph takes two).
fn cells(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` with spaces after it up to `n` cells (as `{:<n}` pads one-cell text).
fn pad(s: &str, n: usize) -> String {
    format!("{s}{}", " ".repeat(n.saturating_sub(cells(s))))
}

/// Cut a value to `n` cells, marking the cut with `…` (never half a wide glyph).
fn clip(s: &str, n: usize) -> String {
    if cells(s) <= n {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > n.saturating_sub(1) {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}
