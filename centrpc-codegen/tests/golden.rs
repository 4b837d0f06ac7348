//! The committed clients of the example app (`tests/golden/<language>`) are exactly what the
//! generators render from its committed API document (`tests/golden/tasks.openrpc.json`, which the
//! runtime's tests hold to the app). A generator change that moves a byte shows up here, with the
//! first differing line; `make golden` refreshes both.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use centrpc_codegen::{Language, MARKER};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every file under `dir` by relative path (the generated-output marker aside).
fn files_under(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name() != Some(MARKER.as_ref()) {
                let text = std::fs::read_to_string(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
            }
        }
    }
    out
}

#[test]
fn golden_files_are_what_the_generators_render() {
    let text = std::fs::read_to_string(golden().join("tasks.openrpc.json")).unwrap();
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut problems = Vec::new();
    for (language, files) in
        centrpc_codegen::render(&document, &Language::ALL, &Default::default()).unwrap()
    {
        let committed = files_under(&golden().join(language.dir()));
        let fresh: BTreeMap<PathBuf, String> =
            files.into_iter().map(|f| (f.path, f.contents)).collect();
        assert!(!fresh.is_empty(), "{language:?} rendered no files");
        let paths: BTreeSet<&PathBuf> = committed.keys().chain(fresh.keys()).collect();
        for path in paths {
            let shown = Path::new(language.dir()).join(path);
            match (committed.get(path), fresh.get(path)) {
                (Some(_), None) => {
                    problems.push(format!("{}: no longer generated", shown.display()))
                }
                (None, Some(_)) => problems.push(format!("{}: not committed", shown.display())),
                (Some(old), Some(new)) if old != new => {
                    let line = old
                        .lines()
                        .zip(new.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or_else(|| old.lines().count().min(new.lines().count()));
                    problems.push(format!(
                        "{}: differs from line {}:\n    committed: {:?}\n    generated: {:?}",
                        shown.display(),
                        line + 1,
                        old.lines().nth(line).unwrap_or("<end>"),
                        new.lines().nth(line).unwrap_or("<end>")
                    ));
                }
                _ => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the golden clients are stale: run `make golden`\n  {}",
        problems.join("\n  ")
    );
}
