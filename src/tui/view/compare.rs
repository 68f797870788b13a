//! The Compare tab: the pinned scenario against the current one.

use super::*;
use crate::report::compare::value;

pub(super) fn draw_compare(f: &mut Frame, app: &App, t: Theme, area: Rect) {
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
        .ok()
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
            Span::raw(value(r, r.base, &currency, true)),
            Span::raw(value(r, r.other, &currency, true)),
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
