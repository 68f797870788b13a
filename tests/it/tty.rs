//! The TUI on a real terminal (tmux, where installed): signals, a stop and continue, and a
//! large bracketed paste must leave the terminal as it was — cooked mode, echo, the normal
//! screen. Without tmux the test says it skipped (`.ci/run` installs it with apt-get where it
//! can).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The terminal modes of a tty as `stty -a` prints them.
fn stty(tty: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("stty -a < {tty}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cooked(modes: &str) -> bool {
    let words: Vec<&str> = modes.split_whitespace().collect();
    words.contains(&"icanon") && words.contains(&"echo")
}

/// A tmux session running `peftcost tui` under `sh` at 120x36; returns (session, tty, tui pid).
fn start(dir: &Path, name: &str) -> (String, String, String) {
    start_at(dir, name, (120, 36))
}

fn start_at(dir: &Path, name: &str, size: (u16, u16)) -> (String, String, String) {
    start_with(dir, name, size, &[], "Inputs")
}

/// As [`start_at`], with global flags before `tui` (`--lang zh`) and the text that shows the
/// TUI has drawn.
fn start_with(
    dir: &Path,
    name: &str,
    (cols, rows): (u16, u16),
    global: &[&str],
    drawn: &str,
) -> (String, String, String) {
    let bin = assert_cmd::cargo::cargo_bin("peftcost");
    let shpid = dir.join("sh.pid");
    let script = format!(
        "cd {d} && echo $$ > {p} && PEFTCOST_CONFIG_DIR={d} PEFTCOST_DATA_DIR={d} {b} {g} tui --model qwen-7b; echo EXITED; sleep 30",
        d = dir.display(),
        p = shpid.display(),
        b = bin.display(),
        g = global.join(" ")
    );
    let session = format!("peftcost-{name}-{}", std::process::id());
    let status = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            &script,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let tty = tmux(&["display", "-p", "-t", &session, "#{pane_tty}"])
        .trim()
        .to_string();
    wait_for("the TUI to draw", || {
        tmux(&["capture-pane", "-p", "-t", &session]).contains(drawn)
    });
    let sh = std::fs::read_to_string(&shpid).unwrap().trim().to_string();
    let out = Command::new("pgrep").args(["-P", &sh]).output().unwrap();
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(!pid.is_empty(), "no TUI process under sh {sh}");
    (session, tty, pid)
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

/// Send tmux key names (`Enter`, `Down`, `BSpace`) or, with `-l` first, literal text.
fn keys(session: &str, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", session];
    args.extend(keys);
    tmux(&args);
}

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(unix)]
#[test]
fn signals_and_pastes_leave_the_terminal_as_it_was() {
    if !have_tmux() {
        eprintln!("skipped: no tmux on this machine (apt-get install tmux)");
        return;
    }
    for signal in ["TERM", "HUP", "INT", "QUIT"] {
        let dir = tempfile::tempdir().unwrap();
        let (session, tty, pid) = start(dir.path(), &signal.to_lowercase());
        assert!(!cooked(&stty(&tty)), "the TUI runs in raw mode");
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        wait_for("the TUI to exit", || {
            tmux(&["capture-pane", "-p", "-t", &session]).contains("EXITED")
        });
        let modes = stty(&tty);
        let alternate = tmux(&["display", "-p", "-t", &session, "#{alternate_on}"]);
        let cursor = tmux(&["display", "-p", "-t", &session, "#{cursor_flag}"]);
        tmux(&["kill-session", "-t", &session]);
        assert!(cooked(&modes), "SIGTERM left the tty raw: {modes}");
        assert_eq!(
            alternate.trim(),
            "0",
            "SIG{signal} left the alternate screen on"
        );
        assert_eq!(cursor.trim(), "1", "SIG{signal} left the cursor hidden");
    }

    // Stop and continue: cooked while stopped, raw again after, and still answering keys.
    let dir = tempfile::tempdir().unwrap();
    let (session, tty, pid) = start(dir.path(), "tstp");
    Command::new("kill").args(["-TSTP", &pid]).status().unwrap();
    wait_for("the terminal to be restored on stop", || {
        cooked(&stty(&tty))
    });
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    wait_for("raw mode again after continue", || !cooked(&stty(&tty)));
    // A 10 KB bracketed paste full of command keys (e exports, q quits) is one event: nothing
    // is exported, nothing quits, and the keys after it still work.
    let paste = "e q 1 2 3 x ".repeat(900);
    tmux(&["set-buffer", "-b", "big", &paste]);
    tmux(&["paste-buffer", "-p", "-b", "big", "-t", &session]);
    std::thread::sleep(Duration::from_millis(500));
    let exported = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref().is_ok_and(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("peftcost-export")
            })
        })
        .count();
    assert_eq!(exported, 0, "a paste was replayed as keystrokes");
    assert!(!tmux(&["capture-pane", "-p", "-t", &session]).contains("EXITED"));
    tmux(&["send-keys", "-t", &session, "q"]);
    wait_for("q to quit after the paste", || {
        tmux(&["capture-pane", "-p", "-t", &session]).contains("EXITED")
    });
    let modes = stty(&tty);
    tmux(&["kill-session", "-t", &session]);
    assert!(cooked(&modes), "{modes}");
}

/// A terminal that goes away (the window closed, tmux killed): the TUI must exit, not poll the
/// dead terminal for ever. crossterm's default reader loops on the 0-byte reads of a hung-up
/// tty and never returned, keeping a core busy (found with orphaned TUIs at 64% CPU each).
#[cfg(unix)]
#[test]
fn a_terminal_that_goes_away_ends_the_tui() {
    if !have_tmux() {
        eprintln!("skipped: no tmux on this machine (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (session, _tty, pid) = start(dir.path(), "hangup");
    tmux(&["kill-session", "-t", &session]);
    wait_for("the TUI to exit after its terminal closed", || {
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
    });
}

/// A terminal that never answers the cursor-position query (`ESC [ 6 n`): `script` gives the TUI
/// a pty whose output goes to a file, so nobody answers. The TUI must not ask (ratatui's
/// `Terminal::clear` did, and failed after crossterm's 2 s timeout with exit 1), must run, and
/// must quit on `q` with exit 0. Skipped where util-linux `script` is missing.
#[test]
fn a_terminal_that_never_answers_the_cursor_query_still_runs() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("peftcost");
    let out = dir.path().join("out");
    let cmd = format!(
        "(sleep 4; printf q) | timeout 30 script -qfec 'stty cols 120 rows 40; PEFTCOST_CONFIG_DIR={d} PEFTCOST_DATA_DIR={d} {b} tui --model qwen-7b; echo EXIT=$?' /dev/null > {o} 2>&1",
        d = dir.path().display(),
        b = bin.display(),
        o = out.display()
    );
    let status = Command::new("sh").arg("-c").arg(&cmd).status().unwrap();
    assert!(status.success(), "{status}");
    let screen = String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned();
    assert!(
        !screen.contains("\x1b[6n"),
        "the TUI asked for the cursor position"
    );
    assert!(
        screen.contains("EXIT=0"),
        "{}",
        screen.chars().rev().take(400).collect::<String>()
    );
    assert!(screen.contains("Memory"), "the planner never drew");
}

/// A new user's session on an 80x24 terminal, keys as typed: pick a model by part of its name,
/// pin three scenarios, type the targets with completion, Esc out of an edit, plan with a
/// deadline and a budget (the chart), export to a chosen path, and quit (confirmed, as pins
/// would be lost).
#[cfg(unix)]
#[test]
fn a_session_at_80x24_picks_types_pins_plans_and_exports() {
    if !have_tmux() {
        eprintln!("skipped: no tmux on this machine (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (s, _, _) = start_at(dir.path(), "session", (80, 24));
    let s = s.as_str();
    keys(s, &["Enter"]);
    wait_for("the model picker", || screen(s).contains("Pick model"));
    keys(s, &["-l", "mist"]);
    keys(s, &["Enter"]);
    wait_for("mistral-7b picked", || {
        let sc = screen(s);
        sc.contains("model = mistral-7b") && sc.contains("mistral-7b · lora")
    });
    // Rank 8, 16 and 32 pinned as A, B, C; the Compare tab shows them.
    keys(s, &["Down", "Down", "p", "Right", "p", "Right", "p", "4"]);
    wait_for("three pins", || {
        let sc = screen(s);
        sc.contains("pinned C") && sc.contains("quantity")
    });
    // Targets typed with completion: "q_pr" + Tab is q_proj.
    keys(s, &["Down", "Enter"]);
    keys(s, &["-l", "q_pr"]);
    keys(s, &["Tab"]);
    keys(s, &["-l", ",v_proj"]);
    wait_for("the targets checked live", || {
        screen(s).contains("ok: q_proj,v_proj")
    });
    keys(s, &["Enter"]);
    wait_for("the targets applied", || {
        screen(s).contains("targets = q_proj,v_proj")
    });
    // Esc leaves an edit and nothing else.
    keys(s, &["Up", "Enter"]);
    keys(s, &["-l", "9"]);
    keys(s, &["Escape"]);
    wait_for("the edit cancelled", || screen(s).contains("cancelled"));
    assert!(!screen(s).contains("EXITED"));
    // The Plan tab shows its constraints below the offer filters: from the rank, 16 fields
    // down to the deadline (24 h), then the budget (100).
    keys(s, &["5"]);
    wait_for("the plan", || screen(s).contains("Cost vs hours"));
    for _ in 0..16 {
        keys(s, &["Down"]);
    }
    keys(s, &["Enter"]);
    keys(s, &["-l", "24"]);
    keys(s, &["Enter", "Down", "Enter"]);
    keys(s, &["-l", "100"]);
    keys(s, &["Enter"]);
    wait_for("the constrained plan's chart", || {
        let sc = screen(s);
        sc.contains("deadline 24 h") && sc.contains("budget 100 USD") && sc.contains("(log)")
    });
    // Export to a chosen path.
    let out = dir.path().join("mine.csv");
    keys(s, &["e"]);
    wait_for("the export prompt", || screen(s).contains("export to:"));
    for _ in 0..60 {
        keys(s, &["BSpace"]);
    }
    keys(s, &["-l", out.to_str().unwrap()]);
    keys(s, &["Enter"]);
    wait_for("the export", || screen(s).contains("exported"));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("label,"), "{csv}");
    // q asks first (three pins would be lost), a second q quits.
    keys(s, &["q"]);
    wait_for("the quit confirmation", || {
        screen(s).contains("q again quits")
    });
    keys(s, &["q"]);
    wait_for("the TUI to exit", || screen(s).contains("EXITED"));
    tmux(&["kill-session", "-t", s]);
}

/// `peftcost --lang zh tui` on a real 80x24 terminal: the tabs and hints are Chinese, the
/// layout holds with double-width glyphs (the hint line keeps `q 退出`), and `q` quits cleanly.
#[cfg(unix)]
#[test]
fn chinese_at_80x24_draws_and_quits() {
    if !have_tmux() {
        eprintln!("skipped: no tmux on this machine (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (s, tty, _) = start_with(dir.path(), "zh", (80, 24), &["--lang", "zh"], "输入");
    let s = s.as_str();
    wait_for("the Chinese tabs", || {
        let sc = screen(s);
        sc.contains("1 显存") && sc.contains("5 方案") && sc.contains("q 退出")
    });
    assert!(!screen(s).contains("Memory"), "{}", screen(s));
    keys(s, &["q"]);
    wait_for("the TUI to exit", || screen(s).contains("EXITED"));
    let modes = stty(&tty);
    tmux(&["kill-session", "-t", s]);
    assert!(cooked(&modes), "{modes}");
}
