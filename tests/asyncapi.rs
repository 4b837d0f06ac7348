//! `schema --asyncapi`: the streams and typed channels as an AsyncAPI 3.0 document, valid by the
//! official parser (`@asyncapi/parser`, `e2e/asyncapi/validate.mjs`, the parser AsyncAPI Studio and
//! the generators use). The document checked is the one the example binary prints now; broken
//! copies prove the check can fail, naming the problem.
//!
//! Node packages come from the lockfile in `e2e/asyncapi`, installed with `npm ci` when it changed.

mod common;

use std::process::{Command, Output};

use common::stack::{example_bin, root};
use serde_json::{json, Value};

/// `node validate.mjs FILE` on `document`.
fn validate(document: &Value) -> Output {
    let dir = root().join("e2e/asyncapi");
    common::stack::npm_ci(&dir);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), document.to_string()).unwrap();
    Command::new("node")
        .arg(dir.join("validate.mjs"))
        .arg(file.path())
        .output()
        .expect("node (Node.js >= 20) is installed")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `tasks schema --asyncapi`, and the API document it is made from.
fn documents() -> (Value, Value) {
    let run = |args: &[&str]| -> Value {
        let out = Command::new(example_bin()).args(args).output().unwrap();
        assert!(out.status.success(), "{}", said(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    (run(&["schema", "--asyncapi"]), run(&["schema"]))
}

#[test]
fn the_example_is_valid_asyncapi_with_a_channel_per_stream_and_typed_channel() {
    let (asyncapi, api) = documents();
    let out = validate(&asyncapi);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "valid",
        "{}",
        said(&out)
    );
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    let addresses: Vec<&str> = asyncapi["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    let streams = api["x-streams"].as_array().unwrap();
    let channels = api["x-channels"].as_array().unwrap();
    assert_eq!(
        addresses.len(),
        streams.len() + channels.len(),
        "{addresses:?}"
    );
    for pattern in streams
        .iter()
        .map(|s| &s["name"])
        .chain(channels.iter().map(|c| &c["pattern"]))
    {
        let address = pattern.as_str().unwrap().replace('*', "{key}");
        assert!(
            addresses.contains(&address.as_str()),
            "{address} in {addresses:?}"
        );
    }
    // The bidirectional stream: the app sends items and receives the subscriber's publications.
    let tally = &asyncapi["channels"]["stream.tally"];
    assert_eq!(
        tally["messages"]["publication"]["payload"],
        json!({"$ref": "#/components/schemas/TallyAdd"})
    );
    let ops = asyncapi["operations"].as_object().unwrap();
    assert_eq!(ops["send.stream_tally.item"]["action"], "send");
    assert_eq!(ops["receive.stream_tally.publication"]["action"], "receive");
    assert_eq!(
        asyncapi["components"]["schemas"],
        api["components"]["schemas"]
    );
}

#[test]
fn broken_documents_are_refused_naming_the_problem() {
    let (asyncapi, _) = documents();
    let mut missing_schema = asyncapi.clone();
    missing_schema["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("TallyAdd");
    let mut wrong_action = asyncapi.clone();
    wrong_action["operations"]["send.stream_tally.item"]["action"] = json!("publish");
    for (what, broken, needle) in [
        ("a payload whose schema is gone", missing_schema, "TallyAdd"),
        ("an AsyncAPI 2 action", wrong_action, "action"),
    ] {
        let out = validate(&broken);
        assert!(!out.status.success(), "{what} was accepted: {}", said(&out));
        assert!(said(&out).contains(needle), "{what}: {}", said(&out));
    }
}
