//! The API document is valid OpenRPC by the official tooling: `@open-rpc/schema-utils-js`
//! (`e2e/openrpc/validate.mjs`) checks the example app's document against the OpenRPC
//! meta-schema, resolves every `$ref` to `#/components/...`, and checks the result again. The
//! document checked is the one the example binary prints now (`tasks schema`), and the committed
//! golden copy; deliberately broken copies prove the check can fail, naming the problem.
//!
//! Node packages come from the lockfile in `e2e/openrpc`, installed with `npm ci` when it changed.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::stack::{example_bin, root};
use serde_json::Value;

fn openrpc_dir() -> PathBuf {
    root().join("e2e/openrpc")
}

/// `node validate.mjs path`: its output (one line per problem, or `valid`).
fn validate(path: &Path) -> Output {
    common::stack::npm_ci(&openrpc_dir());
    Command::new("node")
        .arg(openrpc_dir().join("validate.mjs"))
        .arg(path)
        .output()
        .expect("node (Node.js >= 20) is installed")
}

fn report(out: &Output) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_valid(path: &Path) {
    let out = validate(path);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "valid",
        "{} is not valid OpenRPC by @open-rpc/schema-utils-js:\n{}",
        path.display(),
        report(&out)
    );
}

/// The document the example binary prints now.
fn current_document() -> Value {
    let out = Command::new(example_bin())
        .arg("schema")
        .output()
        .expect("the example binary runs");
    assert!(out.status.success(), "tasks schema: {}", report(&out));
    serde_json::from_slice(&out.stdout).expect("tasks schema prints JSON")
}

#[test]
fn the_current_document_is_valid_openrpc() {
    let doc = current_document();
    assert!(
        !doc["methods"].as_array().unwrap().is_empty(),
        "the example has methods"
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tasks.openrpc.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    assert_valid(&path);
}

#[test]
fn the_committed_document_is_valid_openrpc() {
    assert_valid(&root().join("centrpc-codegen/tests/golden/tasks.openrpc.json"));
}

#[test]
fn broken_documents_are_rejected_with_the_problem_named() {
    let doc = current_document();
    let tmp = tempfile::tempdir().unwrap();

    // (name, breakage, what the output must say)
    type Breakage = fn(&mut Value);
    let cases: [(&str, Breakage, &str); 3] = [
        (
            "a method without a name",
            |d| {
                d["methods"][0].as_object_mut().unwrap().remove("name");
            },
            ".methods[0]: should have required property 'name'",
        ),
        (
            "an unknown OpenRPC version",
            |d| d["openrpc"] = 7.into(),
            "Unsupported OpenRPC schema version: 7",
        ),
        (
            "an error $ref to a missing component",
            |d| {
                let errors = d["methods"][0]["errors"].as_array_mut().unwrap();
                let r = errors
                    .iter_mut()
                    .find(|e| e.get("$ref").is_some())
                    .expect("methods list the built-in errors by $ref");
                r["$ref"] = "#/components/errors/NO_SUCH_ERROR".into();
            },
            "pointer: #/components/errors/NO_SUCH_ERROR",
        ),
    ];
    for (i, (name, breakage, expected)) in cases.into_iter().enumerate() {
        let mut broken = doc.clone();
        breakage(&mut broken);
        let path = tmp.path().join(format!("broken-{i}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&broken).unwrap()).unwrap();
        let out = validate(&path);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: expected a rejection\n{}",
            report(&out)
        );
        assert!(
            stdout.contains(expected),
            "{name}: the output does not name the problem ({expected:?}):\n{}",
            report(&out)
        );
        assert!(
            !stdout.lines().any(|l| l == "valid"),
            "{name}: printed valid:\n{}",
            report(&out)
        );
    }
}
