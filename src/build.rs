//! Build script: the git commit `--version` prints (`PEFTCOST_COMMIT`), when built from a
//! checkout with git available; "unknown" otherwise.

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(c) = commit.filter(|c| !c.is_empty()) {
        println!("cargo:rustc-env=PEFTCOST_COMMIT={c}");
    }
    // Rebuild when HEAD moves (a commit or a checkout), not on every build.
    for path in [".git/HEAD", ".git/refs/heads"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
