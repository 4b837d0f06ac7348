//! The README's typed-client quick start, run as a new user would: its marked code blocks
//! (`<!-- readme-test: file PATH -->` and `<!-- readme-test: sh NAME -->`) are written and run
//! verbatim in a fresh directory against the example app behind the real Centrifugo.

mod common;

use std::{path::Path, process::Command};

use common::stack::{example_bin, root, Options, Stack};

/// The marked blocks, in order: (kind, name, body).
fn blocks() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(marker) = line
            .strip_prefix("<!-- readme-test: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let (kind, name) = marker.split_once(' ').unwrap();
        let fence = lines.next().unwrap();
        assert!(
            fence.starts_with("```"),
            "a code block follows the marker {marker}"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        out.push((kind.to_owned(), name.to_owned(), body.join("\n") + "\n"));
    }
    out
}

/// A `cargo` on PATH that runs the already-built example for `cargo run -q --example tasks -- …`
/// (a nested `cargo run` inside `cargo test` would rebuild the world); any other use fails.
fn cargo_shim(dir: &Path) {
    let shim = dir.join("cargo");
    std::fs::write(
        &shim,
        format!(
            "#!/usr/bin/env bash\n[ \"$1 $2 $3 $4 $5\" = \"run -q --example tasks --\" ] || {{ echo \"unexpected cargo $*\" >&2; exit 1; }}\nshift 5\nexec {} \"$@\"\n",
            example_bin().display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&shim).status().unwrap();
}

#[test]
fn the_quick_start_works_as_written() {
    let stack = Stack::start(Options::default());
    let user_dir = tempfile::tempdir().unwrap();
    let bin_dir = tempfile::tempdir().unwrap();
    cargo_shim(bin_dir.path());
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let all = blocks();
    assert_eq!(
        all.iter().filter(|b| b.0 == "sh").count(),
        7,
        "generate + three languages' quick starts + three languages' streams"
    );
    for (kind, name, body) in &all {
        if kind == "file" {
            let file = user_dir.path().join(name);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, body).unwrap();
            continue;
        }
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", body])
            .current_dir(user_dir.path())
            .env("PATH", &path)
            .env("CENTRPC_WS_URL", stack.ws_url())
            .env("CENTRPC_TOKEN", stack.token("42", None))
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "README block `{name}` failed:\n{body}\n{said}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let expected: &[&str] = match name.as_str() {
            "generate" => &[],
            n if n.starts_with("streams-") => &["count: 1 2 3", "refused: 422", "tally: 15 13"],
            _ => &["Tasks: 0, Completed: 0", "error 1004: task not found"],
        };
        for line in expected {
            assert!(
                stdout.lines().any(|l| l == *line),
                "README block `{name}` did not print {line:?}:\n{said}"
            );
        }
    }
}
