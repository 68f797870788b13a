//! The Cost tab: every offer that fits, costed for the whole job, cheapest first.

use super::*;

pub(super) fn draw_cost(f: &mut Frame, app: &App, t: Theme, area: Rect) {
    let Ok(e) = &app.estimate else {
        return;
    };
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
