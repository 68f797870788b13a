//! The Compare tab: the pinned scenarios (A, B, C) and the current one side by side; a value
//! that differs from A's is highlighted, and the last column is the current one's change
//! against A. Columns that do not fit are named, never cut.

use super::*;
use crate::report::compare::value;

/// Width of the quantity column and of each scenario's column.
const QUANTITY_W: u16 = 18;
const VALUE_W: u16 = 10;

pub(super) fn draw_compare(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let lang = app.lang;
    let tr = |s: &str| lang.tr(s).into_owned();
    let Some(first) = app.comparisons.first() else {
        let lines = vec![
            Line::from(tr("Nothing pinned yet.")),
            Line::from(""),
            Line::from(tr(
                "Press p to pin the current scenario (up to three: A, B, C), change the",
            )),
            Line::from(tr(
                "inputs, and this tab compares them side by side with the current one:",
            )),
            Line::from(tr(
                "parameters, memory, hours, cheapest cost. u unpins the newest.",
            )),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    };
    let cur = app
        .estimate
        .as_ref()
        .ok()
        .map(|e| format!("{} {}", e.model, tr(&e.method.describe())))
        .unwrap_or_default();
    // As many pins as fit beside the quantity and the current column; the change column only
    // when there is room after them.
    let room = area.width.saturating_sub(QUANTITY_W) / VALUE_W;
    let shown = (room.saturating_sub(1) as usize).clamp(1, app.pinned.len());
    // A change reads "+1.39 USD (+84.9%)": 22 cells or no column.
    let with_change = area.width >= QUANTITY_W + VALUE_W * (shown as u16 + 1) + 22;
    let mut head: Vec<Line> = app
        .pinned
        .iter()
        .map(|p| {
            Line::from(vec![
                Span::styled(format!("{}  ", p.name), t.accent()),
                // The label is the model and the method's description, as pinned.
                Span::raw(format!(
                    "{} {}",
                    p.estimate.model,
                    tr(&p.estimate.method.describe())
                )),
            ])
        })
        .collect();
    head.push(Line::from(vec![
        Span::styled(format!("{} ", tr("now")), t.accent()),
        Span::raw(cur),
    ]));
    if shown < app.pinned.len() {
        let hidden: Vec<String> = app.pinned[shown..]
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        head.push(Line::styled(
            tr(&format!(
                "{} not shown: widen the terminal",
                hidden.join(", ")
            )),
            t.dim(),
        ));
    }
    let [head_area, body] =
        Layout::vertical([Constraint::Length(head.len() as u16), Constraint::Min(1)]).areas(area);
    f.render_widget(Paragraph::new(head), head_area);

    let currency = app.inputs.compare_currency();
    let mut header: Vec<String> = vec![tr("quantity")];
    header.extend(app.pinned[..shown].iter().map(|p| p.name.to_string()));
    header.push(tr("now"));
    if with_change {
        header.push(tr("now vs A"));
    }
    let differs = t.fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let table_rows = first
        .iter()
        .enumerate()
        .skip(app.scroll as usize)
        .map(|(k, r)| {
            let base = value(r, r.base, &currency, true);
            let mut cells = vec![Span::raw(tr(&r.quantity))];
            for rows in &app.comparisons[..shown] {
                let v = value(&rows[k], rows[k].base, &currency, true);
                let v = (v != base, tr(&v));
                let style = if v.0 { differs } else { Style::default() };
                cells.push(Span::styled(v.1, style));
            }
            let now = value(r, r.other, &currency, true);
            let style = if now != base {
                differs
            } else {
                Style::default()
            };
            cells.push(Span::styled(tr(&now), style));
            if with_change {
                let change_style = match r.change {
                    Some(c) if c > 0.0 => t.fg(Color::Yellow),
                    Some(c) if c < 0.0 => t.good(),
                    _ => Style::default(),
                };
                cells.push(Span::styled(tr(&change(r, &currency)), change_style));
            }
            Row::new(cells)
        });
    let mut widths = vec![Constraint::Length(QUANTITY_W)];
    widths.extend((0..=shown).map(|_| Constraint::Length(VALUE_W)));
    if with_change {
        widths.push(Constraint::Fill(1));
    }
    f.render_widget(
        Table::new(table_rows, widths).header(Row::new(header).style(t.accent())),
        body,
    );
}

pub(super) fn change(r: &CompareRow, currency: &str) -> String {
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
    let abs = value(r, Some(c.abs()), currency, true);
    match r.change_percent {
        Some(p) => format!("{sign}{abs} ({p:+.1}%)"),
        None => format!("{sign}{abs}"),
    }
}
