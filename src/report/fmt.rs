//! Number formatting with explicit units: GiB vs GB, hours, currency.

/// 1 GiB in bytes.
pub use crate::core::units::GIB;

/// Thousands separators: 6,243,584,000.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Short form of a count: 7.72B, 17.9M, 81.9K.
pub fn short(n: u64) -> String {
    let f = n as f64;
    if f >= 1e9 {
        format!("{:.2}B", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1}M", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1}K", f / 1e3)
    } else {
        n.to_string()
    }
}

/// Bytes in binary units: "23.81 GiB", "33.6 MiB".
pub fn bytes(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.2} {}", units[i])
    }
}

/// GiB with two decimals and the unit.
pub fn gib(b: f64) -> String {
    format!("{:.2} GiB", b / GIB)
}

/// Hours, with minutes for short jobs.
pub fn hours(h: f64) -> String {
    if h < 1.0 {
        format!("{:.1} min", h * 60.0)
    } else {
        format!("{h:.2} h")
    }
}

/// Money with its currency code.
pub fn money(amount: f64, currency: &str) -> String {
    format!("{amount:.2} {currency}")
}

/// A training configuration in a few characters: "mb 2 x ga 2, ckpt, 2 GPUs".
pub fn batch(micro_batch: u64, grad_accum: u64, checkpointing: bool, gpus: u64) -> String {
    let mut s = format!("mb {micro_batch} x ga {grad_accum}");
    if checkpointing {
        s.push_str(", ckpt");
    }
    if gpus > 1 {
        s.push_str(&format!(", {gpus} GPUs"));
    }
    s
}

/// A device configuration: [`batch`] plus ZeRO, machines and a method switch.
pub fn config(c: &crate::core::estimate::DeviceConfig) -> String {
    use crate::core::estimate::Offload;
    let mut s = batch(c.micro_batch, c.grad_accum, c.grad_checkpointing, c.gpus);
    if c.fsdp {
        s.push_str(" FSDP");
    } else if c.zero > 0 && (c.gpus > 1 || c.offload != Offload::None) {
        s.push_str(&format!(" ZeRO-{}", c.zero));
    }
    if c.offload != Offload::None {
        s.push_str(&format!(" + offload {}", c.offload.as_str()));
    }
    if c.nodes > 1 {
        s.push_str(&format!(" on {} machines", c.nodes));
    }
    if c.reason == crate::core::estimate::FitReason::Quantized {
        s.push_str(", qlora");
    }
    s
}

/// Fit levers in a few words: "qlora, ckpt, mb 1".
pub fn changes(cs: &[crate::core::estimate::Change]) -> String {
    use crate::core::estimate::Change;
    cs.iter()
        .map(|c| match *c {
            Change::GradCheckpointing => "ckpt".to_string(),
            Change::MicroBatchOne => "mb 1".into(),
            Change::MicroBatch { micro_batch } => format!("mb {micro_batch}"),
            Change::Qlora => "qlora".into(),
            Change::Zero3 { gpus } => format!("{gpus} GPUs ZeRO-3"),
            Change::Offload { offload } => format!("offload {}", offload.as_str()),
            Change::SyncEachBatch => "sync each batch".into(),
            Change::SeqLen { seq_len } => format!("seq {seq_len}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text from data or a user made safe for a terminal: control characters (ESC, BEL, C1, ...)
/// shown as `\u{..}` escapes instead of acting, so a hostile table cannot set the title, clear
/// the screen or write the clipboard. Newlines and tabs stay.
pub fn printable(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One line for stderr: [`printable`], newlines as spaces, at most 1,000 characters.
pub fn one_line(s: &str) -> String {
    const MAX: usize = 1000;
    let flat = printable(&s.replace(['\n', '\r'], " "));
    match flat.char_indices().nth(MAX) {
        Some((i, _)) => format!(
            "{}... ({} characters cut)",
            &flat[..i],
            flat.chars().count() - MAX
        ),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_counts_and_bytes() {
        assert_eq!(count(6_243_584_000), "6,243,584,000");
        assert_eq!(count(999), "999");
        assert_eq!(short(17_891_328), "17.9M");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(gib(GIB * 23.8), "23.80 GiB");
        assert_eq!(hours(0.5), "30.0 min");
    }
}
