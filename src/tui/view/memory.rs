//! The Memory tab: a stacked bar per device against its capacity, and what would make it fit.

use super::*;

pub(super) fn memory_lines(app: &App, t: Theme, width: u16) -> Vec<Line<'static>> {
    let Ok(e) = &app.estimate else {
        return Vec::new();
    };
    let narrow = width < NARROW;
    let lang = app.lang;
    let mut legend: Vec<Span> = vec![Span::raw(" ")];
    for (i, (g, name)) in SEGMENTS.iter().enumerate() {
        legend.push(Span::styled(*g, t.segment(i)));
        // Narrow: the first five letters, so the legend stays on one line.
        let name: String = if narrow {
            name.chars().take(5).collect()
        } else {
            name.to_string()
        };
        legend.push(Span::raw(format!(" {} ", lang.tr(&name))));
    }
    let cap = if narrow { "cap." } else { "capacity" };
    legend.push(Span::raw(format!("│ {}", lang.tr(cap))));
    let mut lines = vec![Line::from(legend)];
    let id_w = e
        .devices
        .iter()
        .map(|d| d.hardware.chars().count())
        .max()
        .unwrap_or(8);
    // hardware, bar, "23.81/80.00 GiB", fits, configuration (or fix; not when narrow), hours
    let (yes, no) = (lang.tr("fits"), lang.tr("NO"));
    let fits_w = cells(&yes).max(cells(&no));
    let config_w = if narrow { 0 } else { 11 };
    let fixed = id_w + 1 + 2 + 1 + 16 + 1 + fits_w + config_w + 1 + 9;
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
            Span::styled(pad(&yes, fits_w), t.good())
        } else {
            Span::styled(pad(&no, fits_w), t.bad())
        });
        if !narrow {
            spans.push(Span::raw(format!(
                " {}",
                pad(&lang.tr(&config_cell(d)), 10)
            )));
        }
        spans.push(Span::raw(format!(
            " {:>9}",
            d.hours.map_or("-".into(), fmt::hours)
        )));
        lines.push(Line::from(spans));
    }
    let mut notes: Vec<String> = Vec::new();
    if let Some(id) = &app.added_because_fits {
        notes.push(format!(
            "{id} added: the smallest device that fits, as none of the chosen ones does (h edits the set)"
        ));
    }
    notes.extend(e.notes.iter().cloned());
    notes.extend(e.devices.iter().filter_map(|d| d.note.clone()));
    let mut notes: Vec<String> = notes.iter().map(|n| lang.tr(n).into_owned()).collect();
    if !e.suggestions.is_empty() {
        notes.push(
            lang.tr("fits on no device; what would make it fit:")
                .into_owned(),
        );
        notes.extend(
            e.suggestions
                .iter()
                .map(|s| format!("  {}", lang.tr(&suggestion(s)))),
        );
    }
    if !notes.is_empty() {
        lines.push(Line::from(""));
        lines.extend(notes.into_iter().map(|n| Line::styled(n, t.dim())));
    }
    lines
}

/// The device's configuration in 10 cells ("mb2×ga2", "mb1×ga4 ck"), or where it does not fit
/// the first lever of its fix ("→qlora").
fn config_cell(d: &DeviceResult) -> String {
    let c = &d.config;
    if d.fits {
        let ck = if c.grad_checkpointing { " ck" } else { "" };
        return format!("mb{}×ga{}{ck}", c.micro_batch, c.grad_accum);
    }
    match d.fix.as_ref().and_then(|f| f.changes.first()) {
        None => "no fix".into(),
        Some(Change::Qlora) => "→qlora".into(),
        Some(Change::Zero3 { gpus }) => format!("→{gpus}gpu z3"),
        Some(Change::Offload { .. }) => "→offload".to_string(),
        Some(Change::SyncEachBatch) => "→sync".into(),
        Some(Change::SeqLen { seq_len }) => format!("→seq {seq_len}"),
        Some(Change::GradCheckpointing) => "→ckpt".into(),
        Some(Change::MicroBatchOne) => "→mb1".into(),
        Some(Change::MicroBatch { micro_batch }) => format!("→mb{micro_batch}"),
    }
}

/// A stacked bar of the memory segments against the device's capacity. The bar spans
/// max(total, capacity); when the total exceeds the capacity, `│` marks where the card ends.
pub(super) fn bar(d: &DeviceResult, width: usize, t: Theme) -> Vec<Span<'static>> {
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

/// A fit remedy in the panel's own terms (its inputs, not flags).
pub(super) fn suggestion(s: &Suggestion) -> String {
    let changes: Vec<String> = s
        .changes
        .iter()
        .map(|c| match *c {
            Change::GradCheckpointing => "checkpointing on".to_string(),
            Change::MicroBatchOne => "micro-batch 1".into(),
            Change::MicroBatch { micro_batch } => format!("micro-batch {micro_batch}"),
            Change::Qlora => "method qlora".into(),
            Change::Zero3 { gpus } => format!("gpus {gpus}, ZeRO-3"),
            Change::Offload { offload } => format!("offload {}", offload.as_str()),
            Change::SyncEachBatch => "sync each batch".into(),
            Change::SeqLen { seq_len } => format!("seq-len {seq_len}"),
        })
        .collect();
    crate::report::estimate::remedy(&changes.join(", "), s)
}
