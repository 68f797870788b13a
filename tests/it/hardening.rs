//! Issue 19's defects, each reproduced: inputs that gave wrong numbers with exit 0, writes that
//! went through planted links or replaced special files, reads that never ended, and hostile
//! but well-formed data. Every case ends in exit 2 with one line saying what is wrong, or in
//! the right number.

use std::path::Path;

use crate::common::peftcost;

/// Exit 2, one line, no panic; returns the line.
fn fails(args: &[&str], config: &Path) -> String {
    let err = crate::common::fails(args, config);
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn numbers_that_overflowed_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // u64::MAX labels made trainable (785,407) smaller than added (786,432).
    let e = fails(
        &[
            "estimate",
            "--model",
            "bge",
            "--task",
            "seq-cls",
            "--num-labels",
            "18446744073709551615",
        ],
        d,
    );
    assert!(
        e.contains("--num-labels") && e.contains("at most 1000000"),
        "{e}"
    );
    // 2^62 wrapped into a 4.6e18 trainable count; 0 was accepted.
    for v in ["4611686018427387904", "0"] {
        let e = fails(
            &[
                "estimate",
                "--method",
                "prefix",
                "--prefix-projection",
                "--encoder-hidden",
                v,
            ],
            d,
        );
        assert!(e.contains("--encoder-hidden"), "{e}");
    }
    // 2^36 tokens in a micro-batch saturated memory at u64::MAX with a positive headroom.
    let e = fails(
        &[
            "estimate",
            "--no-auto-fit",
            "--seq-len",
            "1048576",
            "--micro-batch",
            "65536",
            "--allow-rope-extension",
        ],
        d,
    );
    assert!(e.contains("tokens per micro-batch"), "{e}");
    // An empty target list trained nothing with exit 0.
    for t in ["", ",,"] {
        let e = fails(&["estimate", "--targets", t], d);
        assert!(e.contains("--targets"), "{e}");
    }
}

#[test]
fn a_profile_too_large_for_any_model_is_refused() {
    // Every dimension <= 1e7, but together 3e21 parameters (the counts wrapped at 2^64).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    let big = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/profiles/models/minicpm-2b.toml"
    ))
    .unwrap()
    .replace("id = \"minicpm-2b\"", "id = \"big\"")
    .replace("aliases = [", "aliases = [\"huge\", ")
    .replace("hidden_size = 2304", "hidden_size = 9000000")
    .replace("num_layers = 40", "num_layers = 9000000")
    .replace("intermediate_size = 5760", "intermediate_size = 9000000");
    std::fs::write(dir.path().join("models/big.toml"), big).unwrap();
    let e = fails(&["estimate", "--model", "big"], dir.path());
    assert!(e.contains("parameters") && e.contains("1e15"), "{e}");
}

#[cfg(unix)]
#[test]
fn out_never_writes_through_links_or_replaces_special_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    // A symlink at --out is refused; its target is untouched.
    let link = d.join("report.md");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let e = fails(
        &[
            "report",
            "--section",
            "deploy",
            "--format",
            "md",
            "--out",
            link.to_str().unwrap(),
        ],
        d,
    );
    assert!(e.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // A FIFO is refused (it was replaced by a regular file).
    let fifo = d.join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let e = fails(
        &[
            "report",
            "--section",
            "deploy",
            "--out",
            fifo.to_str().unwrap(),
        ],
        d,
    );
    assert!(e.contains("FIFO"), "{e}");
    // A regular file is replaced atomically and keeps its mode; a stale temporary file left
    // by a killed writer more than an hour ago is cleaned up.
    let out = d.join("r.md");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    let stale = d.join(".r.md.999.0000.tmp");
    std::fs::write(&stale, "junk").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    peftcost(d)
        .args([
            "report",
            "--section",
            "deploy",
            "--format",
            "md",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert!(std::fs::read_to_string(&out).unwrap().contains("## "));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!stale.exists());
}

#[cfg(unix)]
#[test]
fn special_files_are_never_read_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // /dev/zero read until allocation failed; a FIFO blocked forever.
    let e = fails(&["estimate", "--model-config", "/dev/zero"], d);
    assert!(e.contains("not a regular file"), "{e}");
    let fifo = d.join("config.json");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let e = fails(&["estimate", "--model-config", fifo.to_str().unwrap()], d);
    assert!(e.contains("not a regular file"), "{e}");
    let e = fails(&["estimate", "--calibration", "/dev/zero"], d);
    assert!(e.contains("not a regular file"), "{e}");
}

/// A user price table: the shipped Alibaba table with one line changed.
fn alibaba_with(config: &Path, from: &str, to: &str) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pricing/alibaba.toml"))
            .unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::create_dir_all(config.join("pricing")).unwrap();
    std::fs::write(
        config.join("pricing/alibaba.toml"),
        text.replacen(from, to, 1),
    )
    .unwrap();
}

#[test]
fn hostile_tables_are_refused_or_escaped() {
    // Terminal escapes in a table string (set the title, ring the bell) print as escapes.
    let dir = tempfile::tempdir().unwrap();
    alibaba_with(
        dir.path(),
        "display_name = \"Alibaba Cloud ECS (mainland China)\"",
        "display_name = \"Evil\\u001b]0;pwned\\u0007\"",
    );
    let out = peftcost(dir.path())
        .args(["pricing", "show", "alibaba"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    assert!(text.contains("Evil\\u{1b}]0;pwned\\u{7}"), "{text}");

    // A billing increment of i64::MAX billed 0 hours and ranked first.
    for (from, to, says) in [
        (
            "billing_increment_seconds = 1",
            "billing_increment_seconds = 9223372036854775807",
            "billing_increment_seconds",
        ),
        ("on_demand = 11.71", "on_demand = 1e308", "at most"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        alibaba_with(dir.path(), from, to);
        let e = fails(&["pricing", "show", "alibaba"], dir.path());
        assert!(e.contains(says), "{e}");
        assert!(e.len() < 400, "{e}");
    }
    // An exchange rate of 1e-308 printed 300-digit amounts.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pricing")).unwrap();
    let fx = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pricing/fx.toml"))
        .unwrap()
        .replace("CNY = 6.7686", "CNY = 1e-308");
    std::fs::write(dir.path().join("pricing/fx.toml"), fx).unwrap();
    let e = fails(&["pricing", "show", "alibaba"], dir.path());
    assert!(e.contains("rate of CNY"), "{e}");
}

#[test]
fn hostile_hardware_and_calibrations_are_refused() {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/profiles/hardware.toml"
    ))
    .unwrap();
    let t4 = "id = \"t4\"";
    // Free communication (0, negative, NaN, infinite link), no memory, an empty or a
    // duplicate id, a bad date.
    for (from, to, says) in [
        (
            "interconnect_gbs = 16.0",
            "interconnect_gbs = 0.0",
            "interconnect_gbs",
        ),
        (
            "interconnect_gbs = 16.0",
            "interconnect_gbs = -5.0",
            "interconnect_gbs",
        ),
        (
            "interconnect_gbs = 16.0",
            "interconnect_gbs = nan",
            "interconnect_gbs",
        ),
        (
            "interconnect_gbs = 16.0",
            "interconnect_gbs = inf",
            "interconnect_gbs",
        ),
        ("memory_gib = 16.0", "memory_gib = 0.0", "memory_gib"),
        (t4, "id = \"\"", "empty id"),
        (t4, "id = \"a10\"", "listed twice"),
        ("as_of = \"2026-11-29\"", "as_of = \"yesterday\"", "as_of"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        // Only the first hardware entry (T4) is changed.
        let start = base.find(t4).unwrap();
        let (head, tail) = base.split_at(start);
        std::fs::write(
            dir.path().join("hardware.toml"),
            format!("{head}{}", tail.replacen(from, to, 1)),
        )
        .unwrap();
        let e = fails(&["estimate", "--hardware", "a10"], dir.path());
        assert!(e.contains(says), "{from} -> {to}: {e}");
    }
    // A calibration with an efficiency of 1e9 (more than the peak) or no memory.
    for (key, value) in [
        ("train_efficiency", serde_json::json!({"lora": 1e9})),
        ("memory_gib", serde_json::json!(0.0)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cal = serde_json::json!({
            "format_version": 1, "tool_version": "0.1.0", "created_unix": 1796000000u64,
            "device": "cpu: test", "device_kind": "cpu", "hardware_id": null,
            "model": "qwen-7b", "memory_gib": 24.0,
            "matmul_gflops": {"f32": 190.0}, "bandwidth_gbs": 25.0,
            "train_gflops": {"lora": 85.5}, "train_efficiency": {"lora": 0.45}
        });
        cal[key] = value;
        let path = dir.path().join("cal.json");
        std::fs::write(&path, cal.to_string()).unwrap();
        let e = fails(
            &[
                "estimate",
                "--calibration",
                path.to_str().unwrap(),
                "--hardware",
                "local",
            ],
            dir.path(),
        );
        assert!(e.contains(key), "{e}");
    }
}

#[cfg(unix)]
#[test]
fn models_import_creates_its_directory_names_the_profile_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/llama-2-7b.json");
    // The README's example on a fresh machine: the directory does not exist yet.
    let out = d.join("conf/models/my-llama.toml");
    peftcost(d)
        .args(["models", "import", config, "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("id = \"my-llama\""), "{text}");
    // `models list` says where each profile came from.
    let mut c = peftcost(d);
    c.env("PEFTCOST_CONFIG_DIR", d.join("conf"));
    let listed = c
        .args(["models", "list", "--format", "csv"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("my-llama,") && l.ends_with("my-llama.toml")),
        "{listed}"
    );
    assert!(listed
        .lines()
        .any(|l| l.starts_with("qwen-7b,") && l.contains("<embedded>")));
    // A second import to the same file is refused unless --force.
    let e = fails(
        &["models", "import", config, "--out", out.to_str().unwrap()],
        d,
    );
    assert!(e.contains("--force"), "{e}");
    peftcost(d)
        .args([
            "models",
            "import",
            config,
            "--out",
            out.to_str().unwrap(),
            "--force",
        ])
        .assert()
        .success();
    // A dangling symlink is never written through.
    let target = d.join("elsewhere.toml");
    let link = d.join("link.toml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    fails(
        &["models", "import", config, "--out", link.to_str().unwrap()],
        d,
    );
    let e = fails(
        &[
            "models",
            "import",
            config,
            "--out",
            link.to_str().unwrap(),
            "--force",
        ],
        d,
    );
    assert!(e.contains("symbolic link"), "{e}");
    assert!(!target.exists());
}

#[test]
fn errors_echo_hostile_arguments_escaped_and_short() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("\u{1b}[2J{}", "x".repeat(100_000));
    let e = fails(&["estimate", "--model", &long], dir.path());
    assert!(!e.contains('\u{1b}'), "escape echoed raw");
    assert!(e.len() < 1200, "{} bytes", e.len());
}

#[test]
fn errors_say_the_right_thing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Aliases resolve: `--hardware a100 --fail-if-not-fits A100-80GB` used to say "not among
    // the estimated hardware".
    peftcost(d)
        .args([
            "estimate",
            "--hardware",
            "a100",
            "--fail-if-not-fits",
            "A100-80GB",
        ])
        .assert()
        .success();
    // u64::MAX bytes wrapped to 0 and a valid table failed with "missing field `provider`".
    let e = fails(
        &[
            "pricing",
            "update",
            "--from",
            "https://127.0.0.1:9/t.toml",
            "--max-bytes",
            "18446744073709551615",
        ],
        d,
    );
    assert!(e.contains("--max-bytes must be between 1 and"), "{e}");
    // "must be between 0 and 3600 seconds, not 0" contradicted itself.
    let e = fails(
        &[
            "pricing",
            "update",
            "--from",
            "https://127.0.0.1:9/t.toml",
            "--timeout-secs",
            "0",
        ],
        d,
    );
    assert!(
        e.contains("more than 0 and at most 3600 seconds, not 0"),
        "{e}"
    );
    let e = fails(
        &[
            "pricing",
            "update",
            "--from",
            "https://127.0.0.1:9/t.toml",
            "--timeout-secs",
            "1e308",
        ],
        d,
    );
    assert!(e.contains("not 1e308"), "{e}");
}

#[test]
fn bench_checks_everything_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A profile whose 2304 x 9,000,000 Linear would need ~80 GiB in f32 (SIGABRT or the OOM
    // killer before): refused at once.
    std::fs::create_dir_all(d.join("models")).unwrap();
    let wide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/profiles/models/minicpm-2b.toml"
    ))
    .unwrap()
    .replace("id = \"minicpm-2b\"", "id = \"wide\"")
    .replace("aliases = [", "aliases = [\"widebench\", ")
    .replace("intermediate_size = 5760", "intermediate_size = 9000000");
    std::fs::write(d.join("models/wide.toml"), wide).unwrap();
    let started = std::time::Instant::now();
    let e = fails(&["bench", "--quick", "--model", "wide"], d);
    assert!(e.contains("GiB at once"), "{e}");
    // An unknown --hardware-id and a bad --out fail before the measurement, not after it.
    let e = fails(&["bench", "--quick", "--hardware-id", "nonsense"], d);
    assert!(e.contains("unknown hardware"), "{e}");
    #[cfg(unix)]
    {
        let link = d.join("cal.json");
        std::os::unix::fs::symlink(d.join("elsewhere.json"), &link).unwrap();
        let e = fails(&["bench", "--quick", "--out", link.to_str().unwrap()], d);
        assert!(e.contains("symbolic link"), "{e}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A price recorded in the future cannot be true (`as_of = "2999-01-01"` used to show as
/// "-355047 days" old): every data file's dates are checked against today where they are
/// parsed, with the file, line and field.
#[test]
fn dates_in_the_future_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("pricing/aws.toml")
        .unwrap()
        .replacen("as_of = \"2025-06-01\"", "as_of = \"2999-01-01\"", 1);
    let line = text.lines().position(|l| l.contains("2999-01-01")).unwrap() + 1;
    let table = dir.path().join("aws.toml");
    std::fs::write(&table, &text).unwrap();
    let err = fails(
        &["pricing", "validate", table.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        err.contains(&format!("aws.toml:{line}:")) && err.contains("in the future"),
        "{err}"
    );
    // The same in an installed table stops every command that loads prices, with the reason.
    std::fs::create_dir_all(dir.path().join("pricing")).unwrap();
    std::fs::write(dir.path().join("pricing/aws.toml"), &text).unwrap();
    let err = fails(&["estimate", "--hardware", "a10g"], dir.path());
    assert!(err.contains("in the future"), "{err}");
    let hw = std::fs::read_to_string("profiles/hardware.toml")
        .unwrap()
        .replacen("as_of = \"20", "as_of = \"29", 1);
    std::fs::write(dir.path().join("hardware.toml"), hw).unwrap();
    std::fs::remove_file(dir.path().join("pricing/aws.toml")).unwrap();
    let err = fails(&["hardware", "list"], dir.path());
    assert!(err.contains("in the future"), "{err}");
}

/// Found by the rerun of issue 19's sweep (tests/truth/hardening_sweep.py), each exit 0 before.
#[test]
fn the_sweeps_exit_zero_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A region no offer has gave "no offer matches" and exit 0: a typo, not an empty answer.
    let e = fails(&["estimate", "--region", "cn-hangzou"], d);
    assert!(
        e.contains("unknown region 'cn-hangzou'") && e.contains("did you mean 'cn-hangzhou'"),
        "{e}"
    );
    // A region of another provider than the one named.
    let e = fails(
        &["estimate", "--provider", "alibaba", "--region", "us-east-1"],
        d,
    );
    assert!(e.contains("unknown region 'us-east-1'"), "{e}");
    // Empty filters meant "every one" here and were errors elsewhere: now errors everywhere.
    for args in [
        &["estimate", "--hardware", ""][..],
        &["estimate", "--provider", " "],
        &["plan", "--region", ""],
        &["deploy", "--model", "qwen-7b", "--hardware", ""],
        &["report", "--provider", ""],
        &["pricing", "list", "--region", ""],
    ] {
        let e = crate::common::fails(args, d);
        assert!(e.contains("empty value"), "{args:?}: {e}");
    }
    // Values beyond any job, each accepted before.
    for (args, flag) in [
        (
            &["estimate", "--alpha", "18446744073709551616"][..],
            "--alpha",
        ),
        (&["estimate", "--max-price", "1e23"], "--max-price"),
        (
            &["estimate", "--fail-if-cost-over", "1e23"],
            "--fail-if-cost-over",
        ),
        (&["plan", "--deadline", "1e23"], "--deadline"),
        (&["plan", "--budget", "1e23"], "--budget"),
        (
            &["deploy", "--model", "qwen-7b", "--max-ttft", "1e23"],
            "--max-ttft",
        ),
        (&["report", "--max-tpot", "1e23"], "--max-tpot"),
        // 1e-308 requests/s priced a million tokens at 5.9e307.
        (
            &["deploy", "--model", "qwen-7b", "--qps", "1e-308"],
            "--qps",
        ),
        // 2^63 adapters held 3.3e26 bytes.
        (
            &[
                "deploy",
                "--model",
                "qwen-7b",
                "--adapters",
                "9223372036854775808",
            ],
            "--adapters",
        ),
    ] {
        let e = fails(args, d);
        assert!(e.contains(flag), "{args:?}: {e}");
    }
}

#[test]
fn headroom_is_capacity_minus_memory_to_the_byte() {
    // The H200's 141 GB datasheet figure is a fractional number of bytes in GiB: the headroom
    // was truncated separately from the capacity and came out one byte off.
    let v = crate::common::json_of(&[
        "estimate",
        "--rank",
        "65536",
        "--hardware",
        "h200",
        "--format",
        "json",
    ]);
    let d = &v["devices"][0];
    let (cap, total) = (
        d["capacity_bytes"].as_i64().unwrap(),
        d["memory"]["total"].as_i64().unwrap(),
    );
    assert_eq!(d["headroom_bytes"].as_i64().unwrap(), cap - total, "{d}");
    assert_eq!(d["fits"].as_bool().unwrap(), total <= cap);
}

#[test]
fn pricing_validate_refuses_a_cut_table_as_update_does() {
    // A prefix of the shipped fx.toml that ends on a whole line still parsed: exit 0.
    let dir = tempfile::tempdir().unwrap();
    let fx =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pricing/fx.toml")).unwrap();
    let cut = &fx[..fx.find("# end of peftcost table").unwrap()];
    let path = dir.path().join("fx.toml");
    std::fs::write(&path, cut).unwrap();
    let e = fails(&["pricing", "validate", path.to_str().unwrap()], dir.path());
    assert!(
        e.contains("does not end with '# end of peftcost table'"),
        "{e}"
    );
    // Every whole-line prefix of a shipped price table is refused too.
    let aws =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pricing/aws.toml")).unwrap();
    let path = dir.path().join("aws.toml");
    for (i, _) in aws.match_indices('\n').step_by(7) {
        if aws[i..].contains("# end of peftcost table") {
            std::fs::write(&path, &aws[..=i]).unwrap();
            let out = peftcost(dir.path())
                .args(["pricing", "validate", path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(!out.status.success(), "prefix of {i} bytes accepted");
        }
    }
}
