//! The code generator's sample values ([`centrpc::codegen::samples`]) against the example app's
//! real types: the zero, minimal and maximal sample of every params type is accepted by its
//! serde, `types.echo` has a variant for every named type of the API document and returns each
//! type's samples as serde reads and writes them. The generated clients' end-to-end suites send
//! the same samples (`type_samples`).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use centrpc::{
    codegen::{
        ir::{self, Payload, TypeKind, TypeRef},
        samples::{Sample, Samples, JS_MAX_SAFE_INTEGER},
    },
    schema,
    testing::TestClient,
};
use common::{app, type_samples, types};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

fn api() -> ir::Api {
    ir::read(&schema::document(&app::router(app::App::default()))).unwrap()
}

/// Reads `value` as `T`, as the server reads a method's params.
fn reads<T: DeserializeOwned>(value: Value) -> Result<(), String> {
    serde_json::from_value::<T>(value)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Reads a JSON value as one of the app's types.
type Reader = fn(Value) -> Result<(), String>;

/// Each named params type of the example, by its name in the document, with its real type.
fn params_readers() -> BTreeMap<&'static str, Reader> {
    BTreeMap::from([
        ("TaskStatsParams", reads::<app::TaskStatsParams> as Reader),
        ("CreateTaskParams", reads::<app::CreateTaskParams>),
        ("TaskRef", reads::<app::TaskRef>),
        ("FailParams", reads::<app::FailParams>),
        ("FlakyParams", reads::<app::FlakyParams>),
        ("SlowParams", reads::<app::SlowParams>),
        ("ProcessParams", reads::<app::ProcessParams>),
        ("EverythingInput", reads::<types::Everything>),
        ("TypedValueInput", reads::<app::typed_value::TypedValue>),
    ])
}

#[test]
fn every_params_type_reads_its_samples() {
    let api = api();
    let named: BTreeSet<&str> = api
        .methods
        .iter()
        .filter_map(|m| match &m.params {
            Some(TypeRef::Named { name }) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let readers = params_readers();
    assert_eq!(
        named,
        readers.keys().copied().collect(),
        "every named params type has its real type here"
    );
    for (name, read) in readers {
        for samples in [Samples::new(&api), Samples::new(&api).js_safe()] {
            for kind in Sample::ALL {
                let sample = samples
                    .of_type(name, kind)
                    .unwrap_or_else(|| panic!("{name} has no {} sample", kind.name()));
                if let Err(e) = read(sample.clone()) {
                    panic!(
                        "serde refuses the {} sample of {name}: {e}\n{sample:#}",
                        kind.name()
                    );
                }
            }
        }
    }
}

/// `sample`'s every part is in `got` as sent: `got` may only add keys (the server's defaults).
fn contained(sample: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (sample, got) {
        (Value::Object(s), Value::Object(g)) => s.iter().try_for_each(|(k, v)| {
            let at = format!("{at}.{k}");
            contained(v, g.get(k).ok_or(format!("{at} is missing"))?, &at)
        }),
        (Value::Array(s), Value::Array(g)) if s.len() == g.len() => s
            .iter()
            .zip(g)
            .enumerate()
            .try_for_each(|(i, (s, g))| contained(s, g, &format!("{at}[{i}]"))),
        _ if sample == got => Ok(()),
        _ => Err(format!("{at}: sent {sample}, got {got}")),
    }
}

#[test]
fn types_echo_has_a_variant_for_every_named_type() {
    let document = schema::document(&app::router(app::App::default()));
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let api = ir::read(&document).unwrap();
    let echo = api
        .methods
        .iter()
        .find(|m| m.name == "types.echo")
        .expect("the example serves types.echo");
    let (Some(TypeRef::Named { name: params }), TypeRef::Named { name: result }) =
        (&echo.params, &echo.result)
    else {
        panic!("types.echo takes and returns a named type");
    };
    // Each variant carries the type it is named after: written as it, read as it or its `…Input`.
    let variants = |enum_name: &str| -> BTreeMap<String, String> {
        let Some(TypeKind::External { variants }) = api.type_def(enum_name).map(|t| &t.kind) else {
            panic!("{enum_name} is an externally tagged enum");
        };
        variants
            .iter()
            .map(|v| match &v.payload {
                Payload::Type {
                    ty: TypeRef::Named { name },
                } => (v.tag_value.clone(), name.clone()),
                other => panic!("{enum_name}'s variant {} carries {other:?}", v.tag_value),
            })
            .collect()
    };
    let written = variants(result);
    for (variant, ty) in &written {
        assert_eq!(variant, ty, "{result}'s variant {variant} carries {ty}");
    }
    let read = variants(params);
    assert_eq!(
        read.keys().collect::<Vec<_>>(),
        written.keys().collect::<Vec<_>>(),
        "{params} and {result} have the same variants"
    );
    for (variant, ty) in &read {
        let input_of = api.type_def(ty).and_then(|t| t.input_of.as_deref());
        assert!(
            ty == variant || input_of == Some(variant.as_str()),
            "{params}'s variant {variant} carries {ty}"
        );
    }
    for (name, schema) in schemas {
        if [params, result].contains(&name) {
            continue;
        }
        let of = schema["x-input-of"].as_str().unwrap_or(name);
        assert!(
            written.contains_key(of),
            "the API document's type {name} has no variant in types.echo: add `{of}` to \
             TypedValue (tests/fixtures/typed_value.rs)"
        );
    }
}

#[tokio::test]
async fn types_echo_returns_every_sample_as_serde_reads_it() {
    let client = TestClient::new(app::router(app::App::default()));
    for js_safe in [false, true] {
        for case in type_samples(js_safe).as_array().unwrap() {
            let (ty, value, expected) = (
                case["type"].as_str().unwrap(),
                &case["value"],
                &case["expected"],
            );
            let name = format!("{ty} {} (js_safe: {js_safe})", case["sample"]);
            let got: Value = client
                .call("types.echo", &json!({ ty: value }))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(got, json!({ ty: expected }), "{name}");
            if let Err(e) = contained(value, expected, "") {
                panic!("{name}: {e}\n{expected:#}");
            }
            if ty == "Everything" {
                let got: Value = client
                    .call("types.roundtrip", value)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(&got, expected, "types.roundtrip of {name}");
            }
        }
    }
}

#[tokio::test]
async fn types_echo_refuses_a_value_its_type_does_not_read() {
    let client = TestClient::new(app::router(app::App::default()));
    // A type the app only reads comes back as sent, but only once it reads as its type.
    for (value, why) in [
        (json!({"TaskRef": {"id": -1}}), "invalid value"),
        (json!({"TallyParams": {"start": "1"}}), "invalid type"),
        (json!({"Task": {"id": 1}}), "missing field"),
        (json!({"Nothing": {}}), "unknown variant"),
    ] {
        match client.call::<Value>("types.echo", &value).await {
            Err(e) => assert!(
                e.code() == 422 && e.message().contains(why),
                "{value}: want 422 saying {why}, got {e:?}"
            ),
            Ok(v) => panic!("{value} ({why}) came back as {v}"),
        }
    }
}

/// The `kind` sample of `Everything` (its params-side value, `EverythingInput`).
fn everything(cases: &Value, kind: &str) -> Value {
    cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Everything" && c["sample"] == kind)
        .unwrap_or_else(|| panic!("Everything has a {kind} sample"))["value"]
        .clone()
}

#[test]
fn the_samples_are_zero_minimal_and_maximal() {
    let api = api();
    let Some(TypeKind::Struct { fields }) = api
        .types
        .iter()
        .find(|t| t.name == "EverythingInput")
        .map(|t| &t.kind)
    else {
        panic!("EverythingInput is a struct");
    };
    let all: BTreeSet<&str> = fields.iter().map(|f| f.wire.as_str()).collect();
    let required: BTreeSet<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.wire.as_str())
        .collect();
    assert!(required.len() < all.len(), "some fields are optional");
    let samples = type_samples(false);
    let [zero, min, max] = ["zero", "min", "max"].map(|kind| everything(&samples, kind));
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let owned =
        |s: &BTreeSet<&str>| -> BTreeSet<String> { s.iter().map(|k| k.to_string()).collect() };
    assert_eq!(keys(&zero), owned(&required), "zero: required fields only");
    assert_eq!(keys(&min), owned(&required), "min: required fields only");
    assert_eq!(keys(&max), owned(&all), "max: every field");

    for (key, z, lo, hi) in [
        ("count", json!(0), json!(i32::MIN), json!(i32::MAX)),
        ("bigSigned", json!(0), json!(i64::MIN), json!(i64::MAX)),
        ("bigUnsigned", json!(0), json!(0), json!(u64::MAX)),
        ("id", json!(0), json!(0), json!(u64::MAX)),
        ("flag", json!(false), json!(false), json!(true)),
        ("color", json!("red"), json!("red"), json!("dark_blue")),
        (
            "shape",
            json!({"kind": "circle", "radius": 0.0}),
            json!({"kind": "circle", "radius": -1.5}),
            json!({"kind": "empty"}),
        ),
        (
            "command",
            json!("Start"),
            json!("Start"),
            max["command"].clone(),
        ),
        ("bytes", json!([]), json!([]), json!([0, 255])),
    ] {
        assert_eq!((key, &zero[key]), (key, &z), "zero");
        assert_eq!((key, &min[key]), (key, &lo), "min");
        assert_eq!((key, &max[key]), (key, &hi), "max");
    }
    assert_eq!(max["withDefault"], json!(u32::MAX));
    assert_eq!(
        max["command"]["Rename"].as_str().map(str::is_empty),
        Some(false)
    );
    assert!(
        max["scalar"].is_array(),
        "the last alternative: {}",
        max["scalar"]
    );
    assert_eq!(max["event"]["type"], "ping", "the last variant");
    assert_eq!(min["event"]["type"], "created", "the first variant");
    for key in ["tags", "items", "bytes"] {
        assert!(!max[key].as_array().unwrap().is_empty(), "max {key}");
    }
    for key in ["scores", "byId", "byOffset", "byColor", "extra"] {
        assert!(!max[key].as_object().unwrap().is_empty(), "max {key}");
    }
    assert_eq!(
        keys(&max["byColor"]),
        keys(&json!({"red": 0, "dark_blue": 0}))
    );

    let js_max = &everything(&type_samples(true), "max");
    assert_eq!(js_max["bigSigned"], json!(JS_MAX_SAFE_INTEGER as i64));
    assert_eq!(js_max["bigUnsigned"], json!(JS_MAX_SAFE_INTEGER as i64));
    assert_eq!(
        js_max["count"],
        json!(i32::MAX),
        "within the safe range: as it is"
    );
}
