//! The searchable picker popup and the export prompt.

use super::*;
use crate::tui::picker::Picker;

/// Width of the id column in the picker.
const ID_W: usize = 16;

pub(super) fn draw_picker(f: &mut Frame, p: &Picker, lang: Lang, t: Theme, area: Rect) {
    let tr = |s: &str| lang.tr(s).into_owned();
    let w = 78.min(area.width.saturating_sub(2));
    let h = 20.min(area.height.saturating_sub(2));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let matches = p.matches();
    let inner_w = w.saturating_sub(2) as usize;
    // Two lines of head (query, count); the list scrolls to keep the cursor in view.
    let list_h = h.saturating_sub(4) as usize;
    let first = (p.cursor + 1).saturating_sub(list_h);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!(" {} ", tr("search:")), t.accent()),
            Span::raw(format!("{}_", p.query)),
        ]),
        Line::styled(
            format!(
                " {}",
                tr(&format!("{} of {} match", matches.len(), p.items.len()))
            ),
            t.dim(),
        ),
    ];
    for (i, id) in matches.iter().enumerate().skip(first).take(list_h) {
        let tick = match p.kind {
            PickKind::Hardware if p.is_ticked(id) => "[x] ",
            PickKind::Hardware => "[ ] ",
            _ => "",
        };
        // Ids stay as they are; the "all"/"auto" entry is a word.
        let head = format!(" {tick}{} ", pad(&tr(id), ID_W));
        let detail = clip(&tr(p.detail(id)), inner_w.saturating_sub(cells(&head)));
        let style = if i == p.cursor {
            t.selected()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(head, style),
            Span::styled(detail, if i == p.cursor { style } else { t.dim() }),
        ]));
    }
    if matches.is_empty() {
        lines.push(Line::styled(
            format!(" {}", tr("no match: Backspace widens the search")),
            t.bad(),
        ));
    }
    clear_popup(f, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", tr(&format!("Pick {}", p.kind.title()))))
                .border_style(t.accent()),
        ),
        r,
    );
}

/// The export prompt, over the status line: the path as typed, its end kept in view.
pub(super) fn prompt_line(path: &str, lang: Lang, width: u16, t: Theme) -> Line<'static> {
    let label = format!(" {} ", lang.tr("export to:"));
    let room = (width as usize).saturating_sub(cells(&label) + 2);
    let chars: Vec<char> = path.chars().collect();
    let shown: String = if chars.len() > room {
        let mut s = String::from("…");
        s.extend(&chars[chars.len() - room.saturating_sub(1)..]);
        s
    } else {
        path.to_string()
    };
    Line::from(vec![
        Span::styled(label, t.accent()),
        Span::raw(format!("{shown}_")),
    ])
}
