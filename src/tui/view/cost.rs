//! The Cost tab: every offer that fits, costed for the whole job, cheapest first.

use super::*;
use crate::core::pricing::Billing;

pub(super) fn draw_cost(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let Ok(e) = &app.estimate else {
        return;
    };
    let lang = app.lang;
    let tr = |s: &str| lang.tr(s).into_owned();
    let filters = filter_line(app, area.width);
    let Some(offers) = offers(e, app.priced) else {
        let lines = vec![
            Line::from(filters),
            Line::from(""),
            Line::styled(tr("pricing not loaded"), t.bad()),
            Line::from(tr(
                "the price tables could not be loaded (see `peftcost pricing validate`).",
            )),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        return;
    };
    if offers.is_empty() {
        let lines = vec![
            Line::from(filters),
            Line::from(""),
            Line::styled(tr("no offer: no priced hardware fits these inputs with these filters"), t.bad()),
            Line::from(tr("try another provider or billing, more GPUs, a smaller micro-batch or checkpointing")),
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
    // One currency per money column: the chosen one, or with "auto" the ranking currency (USD)
    // and each offer's own in an "original" column. Wide: every column; medium: the ranking;
    // narrow (80 columns): the ranking in short cells. The cheapest's breakdown is below.
    let ranking = app.inputs.compare_currency();
    let auto = app.inputs.currency.is_none();
    let (wide, narrow) = (area.width >= 120, area.width < NARROW);
    // Short billing ("od"/"spot") and hours cells unless wide.
    let short = !wide;
    let mut header: Vec<String> = vec!["#".into(), "provider".into()];
    let mut widths = vec![Constraint::Length(3), Constraint::Length(9)];
    if wide {
        header.push("instance".into());
        widths.push(Constraint::Fill(1));
    }
    header.push("hw×n".into());
    widths.push(Constraint::Length(if narrow { 15 } else { 16 }));
    // Short: "bill" is what a 4-cell column shows of "billing" (and has its own Chinese).
    header.push(if short { "bill" } else { "billing" }.into());
    widths.push(Constraint::Length(match (short, lang) {
        (false, _) => 9,
        // Chinese 按量 / 抢占 are two glyphs: four cells too.
        (true, _) => 4,
    }));
    if wide {
        for h in ["price/h", "setup", "data", "train", "export"] {
            header.push(h.into());
        }
        widths.extend([11, 7, 6, 8, 6].map(Constraint::Length));
    }
    header.push(if short { "hours" } else { "billed h" }.into());
    widths.push(Constraint::Length(if short { 6 } else { 8 }));
    header.push(format!("job {ranking}"));
    widths.push(Constraint::Length(if narrow { 9 } else { 10 }));
    // The offer's own currency as a second column where "11.00 CNY"-sized cells fit whole.
    let used: u16 = widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => n + 1,
            _ => 1,
        })
        .sum();
    let original = auto && area.width >= used + 12;
    if original {
        header.push("original".into());
        widths.push(Constraint::Fill(1));
    }
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
            cells.push(match (short, j.billing) {
                (true, Billing::OnDemand) => tr("od"),
                (true, Billing::Spot) if lang == Lang::Zh => tr("sp"),
                (_, b) => tr(b.as_str()),
            });
            if wide {
                cells.push(fmt::money(j.price_per_hour, &j.currency));
                for v in [b.setup, b.data, b.train, b.export] {
                    cells.push(format!("{v:.2}"));
                }
            }
            cells.push(format!("{:.2}", j.hours));
            // The ranking is by USD; a chosen currency is the display one.
            cells.push(format!(
                "{:.2}",
                if auto { o.cost_usd } else { j.cost_display }
            ));
            if original {
                cells.push(fmt::money(j.cost, &j.currency));
            }
            Row::new(cells)
        });
    let header: Vec<String> = header.iter().map(|h| tr(h)).collect();
    f.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.accent())),
        table,
    );
    let j = &offers[0].job;
    let b = &j.cost_breakdown;
    let note = if wide {
        format!(
            "{} offers, cheapest first. price/h, setup/data/train/export and original in the offer's currency.",
            offers.len()
        )
    } else {
        format!(
            "#1 {}: {}/h; setup {:.2} + data {:.2} + train {:.2} + export {:.2} {}. {} offers (od: on-demand; wider: all columns)",
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
        Paragraph::new(Line::styled(tr(&note), t.dim())).wrap(Wrap { trim: true }),
        foot,
    );
}
