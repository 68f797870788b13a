//! The report's charts, drawn with plotters into SVG strings: cost vs training time per model
//! (Pareto front marked), memory per GPU as stacked bars against its capacity, and monthly
//! serving cost per target. Labels come from the message catalogue.
//!
//! Wart: plotters' SVG backend lays out text without font metrics, so long labels can crowd;
//! the browser draws the glyphs (CJK included).

use plotters::prelude::*;

use super::i18n::Text;
use super::tables::FinetuneTable;
use crate::core::deploy::TableRow;
use crate::core::error::{Error, Result};
use crate::core::units::GIB;

const SIZE: (u32, u32) = (760, 440);

/// Distinct series colours (colour-blind-safe Okabe-Ito palette).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
];

fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Internal(format!("drawing a chart: {e:?}"))
}

/// The cheapest-first points no other point beats on both cost and time.
fn pareto(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    let mut front = Vec::new();
    let mut best_hours = f64::INFINITY;
    for p in points {
        if p.0 < best_hours {
            best_hours = p.0;
            front.push(p);
        }
    }
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    front
}

/// Job cost against training hours (both on log scales: a CPU job takes 100x a GPU's), one
/// colour per model, its Pareto front as a line. Returns the caption and the SVG.
pub fn cost_vs_hours(ft: &FinetuneTable, t: &Text, currency: &str) -> Result<(String, String)> {
    let mut models: Vec<&str> = Vec::new();
    for r in &ft.rows {
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let points = |m: &str| -> Vec<(f64, f64)> {
        ft.rows
            .iter()
            .filter(|r| r.model == m)
            .filter_map(|r| r.train_hours.map(|h| (h, r.cost_display)))
            .collect()
    };
    let all: Vec<(f64, f64)> = models.iter().flat_map(|m| points(m)).collect();
    let (lo_h, hi_h) = bounds(all.iter().map(|p| p.0));
    let (lo_c, hi_c) = bounds(all.iter().map(|p| p.1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((lo_h..hi_h).log_scale(), (lo_c..hi_c).log_scale())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.12))
            .x_desc(t.chart_hours_axis)
            .y_desc(format!("{} ({currency})", t.chart_cost_axis))
            .draw()
            .map_err(draw_err)?;
        for (i, m) in models.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let pts = points(m);
            chart
                .draw_series(
                    pts.iter()
                        .map(|p| Circle::new(*p, 3, color.mix(0.6).filled())),
                )
                .map_err(draw_err)?
                .label(m.to_string())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
            chart
                .draw_series(LineSeries::new(pareto(pts), color.stroke_width(2)))
                .map_err(draw_err)?;
        }
        legend(&mut chart)?;
        root.present().map_err(draw_err)?;
    }
    Ok((t.chart_cost_title.to_string(), svg))
}

/// The label of a bar chart's x position: the category at each whole number, none between.
fn category<S: AsRef<str>>(names: &[S], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 0.01 && i >= 0.0 {
        names
            .get(i as usize)
            .map(|s| s.as_ref().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    }
}

/// The range of positive values, widened by 20% on a log scale.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() {
        (lo / 1.2, hi * 1.2)
    } else {
        (0.01, 1.0)
    }
}

/// The series legend, upper left, over a translucent box.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(draw_err)
}

/// Memory per GPU of one model and method as stacked bars (the five terms), with each GPU's
/// capacity as a black line. Returns the caption and the SVG, `None` without a line to draw.
pub fn memory_per_gpu(ft: &FinetuneTable, t: &Text) -> Result<Option<(String, String)>> {
    let Some(first) = ft.lines.iter().find(|l| l.memory.is_some()) else {
        return Ok(None);
    };
    let lines: Vec<_> = ft
        .lines
        .iter()
        .filter(|l| l.model == first.model && l.method == first.method && l.memory.is_some())
        .collect();
    let max = lines
        .iter()
        .map(|l| {
            let m = l.memory.unwrap_or_default();
            (m.total.max(l.capacity_bytes)) as f64 / GIB
        })
        .fold(0.0, f64::max)
        * 1.15;
    let n = lines.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let names: Vec<String> = lines.iter().map(|l| l.hardware.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..max.max(1.0))
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.12))
            .x_labels(n)
            .x_label_formatter(&|x| category(&names, *x))
            .y_desc(t.chart_memory_axis)
            .draw()
            .map_err(draw_err)?;
        for (seg, label) in t.step_memory.iter().take(5).enumerate() {
            let color = PALETTE[seg];
            let bars = lines.iter().enumerate().map(|(i, l)| {
                let m = l.memory.unwrap_or_default();
                let parts = [
                    m.weights,
                    m.trainable_state,
                    m.activations,
                    m.logits,
                    m.overhead,
                ];
                let below: u64 = parts[..seg].iter().sum();
                let x = i as f64;
                Rectangle::new(
                    [
                        (x - 0.3, below as f64 / GIB),
                        (x + 0.3, (below + parts[seg]) as f64 / GIB),
                    ],
                    color.filled(),
                )
            });
            chart
                .draw_series(bars)
                .map_err(draw_err)?
                .label(*label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        for (i, l) in lines.iter().enumerate() {
            let x = i as f64;
            let cap = l.capacity_bytes as f64 / GIB;
            chart
                .draw_series(LineSeries::new(
                    [(x - 0.4, cap), (x + 0.4, cap)],
                    BLACK.stroke_width(3),
                ))
                .map_err(draw_err)?;
        }
        legend(&mut chart)?;
        root.present().map_err(draw_err)?;
    }
    let caption = format!("{}: {} {}", t.chart_memory_title, first.model, first.method);
    Ok(Some((caption, svg)))
}

/// Monthly serving cost per target, one bar per model. Returns the caption and the SVG.
pub fn serving_per_target(rows: &[TableRow], t: &Text, currency: &str) -> Result<(String, String)> {
    let mut targets: Vec<&str> = Vec::new();
    let mut models: Vec<&str> = Vec::new();
    for r in rows {
        if !targets.contains(&r.hardware.as_str()) {
            targets.push(&r.hardware);
        }
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let max = rows
        .iter()
        .filter_map(|r| r.monthly_cost)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let n = targets.len();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..max)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.12))
            .x_labels(n)
            .x_label_formatter(&|x| category(&targets, *x))
            .y_desc(format!("{} ({currency})", t.chart_serving_axis))
            .draw()
            .map_err(draw_err)?;
        let width = 0.8 / models.len().max(1) as f64;
        for (mi, m) in models.iter().enumerate() {
            let color = PALETTE[mi % PALETTE.len()];
            let bars = rows.iter().filter(|r| r.model == *m).filter_map(|r| {
                let ti = targets.iter().position(|x| *x == r.hardware)? as f64;
                let x0 = ti - 0.4 + mi as f64 * width;
                r.monthly_cost
                    .map(|c| Rectangle::new([(x0, 0.0), (x0 + width * 0.9, c)], color.filled()))
            });
            chart
                .draw_series(bars)
                .map_err(draw_err)?
                .label(m.to_string())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        legend(&mut chart)?;
        root.present().map_err(draw_err)?;
    }
    Ok((t.chart_serving_title.to_string(), svg))
}

#[cfg(test)]
mod tests {
    use super::pareto;

    #[test]
    fn the_pareto_front_keeps_only_undominated_points() {
        // (hours, cost): (3, 10) is beaten by (2, 9) on both; (1, 20) and (5, 5) stay.
        let front = pareto(vec![(3.0, 10.0), (2.0, 9.0), (1.0, 20.0), (5.0, 5.0)]);
        assert_eq!(front, vec![(1.0, 20.0), (2.0, 9.0), (5.0, 5.0)]);
    }
}
