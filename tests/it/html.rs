//! `report --format html`: one self-contained page with both tables and three charts, checked
//! as text here and, where Chromium is installed, rendered in a real headless browser (DOM, console,
//! and a screenshot that is not blank). Without a browser the render test says it skipped.

use assert_cmd::Command;

fn write_report(dir: &std::path::Path, lang: &str) -> std::path::PathBuf {
    let out = dir.join(format!("report-{lang}.html"));
    Command::cargo_bin("peftcost")
        .unwrap()
        .env("PEFTCOST_CONFIG_DIR", dir)
        .env("PEFTCOST_DATA_DIR", dir.join("data"))
        .args([
            "report",
            "--format",
            "html",
            "--lang",
            lang,
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    out
}

/// Table cells of the Markdown rendering of the same document (header and separator excluded).
fn markdown_cells(dir: &std::path::Path) -> usize {
    let out = Command::cargo_bin("peftcost")
        .unwrap()
        .env("PEFTCOST_CONFIG_DIR", dir)
        .env("PEFTCOST_DATA_DIR", dir.join("data"))
        .args(["report", "--format", "md", "--lang", "en"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let mut cells = 0;
    let mut header = true;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = true;
            continue;
        }
        if line.starts_with("|---") {
            continue;
        }
        if header {
            header = false;
            continue;
        }
        cells += line.trim_matches('|').split(" | ").count();
    }
    cells
}

#[test]
fn the_page_is_self_contained_with_both_tables_and_three_charts() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(write_report(dir.path(), "en")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 3, "three charts");
    assert_eq!(page.matches("<td>").count(), markdown_cells(dir.path()));
    assert!(page.contains("Fine-tuning cost") && page.contains("Serving cost per month"));
    // Nothing to fetch: no script, no stylesheet link, no remote image.
    for bad in ["<script", "<link", "src=\"http", "url(http"] {
        assert!(!page.contains(bad), "{bad}");
    }
    let zh = std::fs::read_to_string(write_report(dir.path(), "zh")).unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("微调成本"));
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn the_page_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = write_report(dir.path(), "en");
    let url = format!("file://{}", page.display());
    let headless = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ];
    // The DOM the browser built: every table cell and the three charts.
    let dom = std::process::Command::new(browser)
        .args(headless)
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    assert!(dom.status.success());
    let html = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(html.matches("<svg").count(), 3);
    assert_eq!(html.matches("<td>").count(), markdown_cells(dir.path()));
    // No console errors (Chromium logs page console messages as "CONSOLE" lines).
    let log = String::from_utf8_lossy(&dom.stderr);
    for line in log.lines().filter(|l| l.contains("CONSOLE")) {
        assert!(
            !line.contains(":ERROR:") && !line.contains("Uncaught"),
            "console error: {line}"
        );
    }
    // A screenshot that is not blank: many distinct colours.
    let png_path = dir.path().join("shot.png");
    let shot = std::process::Command::new(browser)
        .args(headless)
        .args([
            "--window-size=1280,2400",
            &format!("--screenshot={}", png_path.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for px in bytes.chunks(step) {
        colours.insert(px.to_vec());
    }
    assert!(
        colours.len() > 20,
        "blank screenshot: {} colours",
        colours.len()
    );
}
