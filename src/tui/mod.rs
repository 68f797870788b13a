//! `peftcost tui`: the interactive planner.
//!
//! As in gitui/bottom: [`input`] (the fields over the core's specs), [`keys`] (the one key
//! table), [`state`] (focus, tab, cached results; key events -> state; calls the core after every
//! change), [`view`] (drawing only: formats what the core computed), [`export`] (the CSV side
//! effect) and this module (terminal setup and teardown, the event loop, the panic hook).
//!
//! The terminal is always restored: on a normal exit, on an error (a guard's `Drop`), on a
//! panic (a hook that restores before the panic message prints), on Ctrl-C (in raw mode it
//! arrives as a key event and quits) and on SIGTERM, SIGHUP, SIGINT and SIGQUIT (flags the
//! loop polls every 100 ms; it then returns and the guard restores). SIGTSTP restores the
//! terminal before stopping, and the loop sets it up again when the process continues. Pastes
//! arrive bracketed, as one event, never as keystrokes.
//!
//! Setting `PEFTCOST_TUI_TIMING=<file>` appends, for every key, the microseconds from reading the
//! key to the end of the frame it caused (state update + recompute + draw + flush).

pub mod export;
pub mod input;
pub mod keys;
pub mod picker;
pub mod state;
pub mod view;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;

pub use state::{Action, App};

use crate::core::error::{Error, Result};

/// Whether `NO_COLOR` asks for no colour (an empty value counts as unset, per no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Leave raw mode, bracketed paste and the alternate screen; never panics.
fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Raw mode, the alternate screen and bracketed paste (again after a stop).
fn setup() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)
}

/// Signals the loop acts on: quit (TERM, HUP, INT, QUIT) and stop (TSTP).
struct Signals {
    quit: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Signals {
    #[cfg(unix)]
    fn register() -> io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP};
        let s = Signals {
            quit: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        for sig in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
            signal_hook::flag::register(sig, s.quit.clone())?;
        }
        signal_hook::flag::register(SIGTSTP, s.stop.clone())?;
        Ok(s)
    }

    #[cfg(not(unix))]
    fn register() -> io::Result<Self> {
        Ok(Signals {
            quit: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Stop as the default SIGTSTP would, with the terminal restored; set it up on return.
    #[cfg(unix)]
    fn stop_now(&self) -> io::Result<()> {
        restore();
        signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGTSTP)?;
        setup()
    }

    #[cfg(not(unix))]
    fn stop_now(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Restores the terminal when dropped (normal return, `?` errors).
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Restore the terminal before the previous hook prints the panic message.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

fn io_err(e: io::Error) -> Error {
    Error::Internal(format!("terminal: {e}"))
}

/// Clear the screen and draw every cell again (after a start or a stop). Never asks the terminal
/// where its cursor is (ratatui's `Terminal::clear` does, and a terminal that does not answer
/// would make it fail after a timeout): a frame of blanks, then the real one, rewrites every
/// cell through the diff.
fn repaint(terminal: &mut Terminal<CrosstermBackend<io::Stdout>>, app: &App) -> Result<()> {
    use ratatui::crossterm::terminal::{Clear, ClearType};
    execute!(io::stdout(), Clear(ClearType::All)).map_err(io_err)?;
    terminal
        .draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))
        .map_err(io_err)?;
    terminal.draw(|f| view::draw(f, app)).map_err(io_err)?;
    Ok(())
}

/// Whether the terminal went away (its window closed, the ssh connection dropped): standard
/// input polls as hung up. The loop then ends even where no SIGHUP arrives, instead of polling
/// a dead terminal for ever.
#[cfg(unix)]
fn terminal_hung_up() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call, zero timeout.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

#[cfg(not(unix))]
fn terminal_hung_up() -> bool {
    false
}

/// Run the planner on the real terminal until the user quits.
pub fn run(mut app: App) -> Result<()> {
    install_panic_hook();
    let signals = Signals::register().map_err(io_err)?;
    let _guard = Guard;
    setup().map_err(io_err)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout())).map_err(io_err)?;
    repaint(&mut terminal, &app)?;

    let mut timing = std::env::var_os("PEFTCOST_TUI_TIMING").and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });

    loop {
        if signals.quit.load(Ordering::Relaxed) || terminal_hung_up() {
            break;
        }
        if signals.stop.swap(false, Ordering::Relaxed) {
            signals.stop_now().map_err(io_err)?;
            repaint(&mut terminal, &app)?;
            continue;
        }
        if !event::poll(Duration::from_millis(100)).map_err(io_err)? {
            continue;
        }
        let ev = event::read().map_err(io_err)?;
        let started = Instant::now();
        // The too-small screen promises that q quits, even with an edit open.
        let size = terminal.size().map_err(io_err)?;
        app.too_small = size.width < view::MIN_WIDTH || size.height < view::MIN_HEIGHT;
        let action = match ev {
            Event::Key(key) => app.handle_key(key),
            Event::Paste(ref text) => app.handle_paste(text),
            // Draw again at the new size.
            Event::Resize(_, _) => Action::Redraw,
            _ => Action::None,
        };
        match action {
            Action::Quit => break,
            Action::None => continue,
            Action::Export => {
                if let Some(path) = app.export_target.clone() {
                    let written = export::export_to(&app, &path).map(|rows| (path, rows));
                    app.export_done(written);
                }
                terminal.draw(|f| view::draw(f, &app)).map_err(io_err)?;
            }
            Action::Redraw => {
                terminal.draw(|f| view::draw(f, &app)).map_err(io_err)?;
                if let (Some(out), Event::Key(_)) = (timing.as_mut(), &ev) {
                    let _ = writeln!(out, "{}", started.elapsed().as_micros());
                }
            }
        }
    }
    Ok(())
}
