//! The Deploy tab: serving cost per month on each target class.

use super::*;
use crate::core::deploy::Deployment;

pub(super) fn draw_deploy(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let lang = app.lang;
    let tr = |s: &str| lang.tr(s).into_owned();
    let d = match &app.deployment {
        Ok(d) => d,
        Err(e) => {
            let lines = vec![
                Line::styled(tr("These serving inputs cannot be estimated:"), t.bad()),
                Line::from(tr(e)),
            ];
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
            return;
        }
    };
    let w = &d.request.workload;
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(d.targets.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(tr(&format!(
            "serving {} at {} · {} req/s · {} in + {} out tokens · {}",
            d.model,
            d.request.precision.as_str(),
            w.qps,
            w.input_tokens,
            w.output_tokens,
            d.currency
        ))),
        head,
    );
    // Narrow (80 columns): no weights column, the month's cost as a number under a header
    // that names the currency; wide: the offer too.
    let (wide, narrow) = (area.width >= 110, area.width < NARROW);
    let month = format!("{}/month", d.currency);
    let mut header = vec![
        "target",
        "fits",
        "weights",
        "batch",
        "tok/s",
        "inst.",
        "per month",
        "per M",
    ];
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(6),
    ];
    if narrow {
        header.remove(2);
        widths.remove(2);
        header[5] = &month;
        widths[5] = Constraint::Length(9);
    }
    if wide {
        header.insert(6, "offer");
        widths.insert(6, Constraint::Fill(1));
    }
    // Chinese headers of the narrow columns are the short ones (tr_short).
    let header: Vec<String> = header
        .iter()
        .map(|h| lang.tr_short(h).into_owned())
        .collect();
    let rows = d.targets.iter().map(|x| {
        let tps = x.output_tokens_per_second.or(x.embeddings_per_second);
        let mut cells = vec![
            Span::raw(x.hardware.clone()),
            if x.fits {
                Span::styled(tr("yes"), t.good())
            } else {
                Span::styled(tr("NO"), t.bad())
            },
            Span::raw(fmt::gib(x.weights_bytes)),
            Span::raw(x.batch.to_string()),
            Span::raw(tps.map_or("-".into(), |v| format!("{v:.0}"))),
            Span::raw(x.instances.to_string()),
            Span::raw(x.monthly_cost.map_or("-".into(), |c| {
                if narrow {
                    format!("{c:.2}")
                } else {
                    fmt::money(c, &d.currency)
                }
            })),
            Span::raw(x.cost_per_million.map_or("-".into(), |c| format!("{c:.2}"))),
        ];
        if narrow {
            cells.remove(2);
        }
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
    // The month's cost per target as bars, longest = dearest (targets that do not fit: none).
    let mut notes: Vec<Line> = cost_bars(d, lang, area.width, t);
    notes.push(Line::from(tr(&format!(
        "per M = {} per million {}; the serving inputs are at the bottom left",
        d.currency,
        d.targets.first().map_or("tokens", |x| x.cost_unit.as_str())
    ))));
    notes.extend(
        d.suggestions
            .iter()
            .map(|s| Line::styled(tr(&deploy_suggestion(s)), t.dim())),
    );
    notes.extend(d.notes.iter().map(|s| Line::styled(tr(s), t.dim())));
    f.render_widget(
        Paragraph::new(notes)
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0)),
        foot,
    );
}

/// One bar a target, its length the month's cost against the dearest, the amount after it.
fn cost_bars(d: &Deployment, lang: Lang, width: u16, t: Theme) -> Vec<Line<'static>> {
    let costs: Vec<(&str, f64)> = d
        .targets
        .iter()
        .filter_map(|x| x.monthly_cost.map(|c| (x.hardware.as_str(), c)))
        .collect();
    let max = costs.iter().map(|(_, c)| *c).fold(0.0, f64::max);
    if costs.is_empty() || max <= 0.0 {
        return Vec::new();
    }
    let id_w = costs
        .iter()
        .map(|(h, _)| h.chars().count())
        .max()
        .unwrap_or(8);
    let amounts: Vec<String> = costs
        .iter()
        .map(|(_, c)| fmt::money(*c, &d.currency))
        .collect();
    let amount_w = amounts.iter().map(|a| a.chars().count()).max().unwrap_or(0);
    let bar_w = (width as usize).saturating_sub(id_w + amount_w + 3).max(1);
    let mut lines = vec![Line::styled(
        lang.tr(&format!("serving cost per month ({})", d.currency))
            .into_owned(),
        t.accent(),
    )];
    for ((hw, c), amount) in costs.iter().zip(amounts) {
        // Layout only: the cells a cost gets, at least one for any cost above zero.
        let cells = ((c / max) * bar_w as f64).round().max(1.0) as usize;
        lines.push(Line::from(vec![
            Span::raw(format!("{hw:<id_w$} ")),
            Span::styled("█".repeat(cells), t.fg(Color::Cyan)),
            Span::raw(format!(
                "{} {amount:>amount_w$}",
                " ".repeat(bar_w - cells.min(bar_w))
            )),
        ]));
    }
    lines.push(Line::from(""));
    lines
}

/// A serving remedy in the panel's own terms.
pub(super) fn deploy_suggestion(s: &DeploySuggestion) -> String {
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
