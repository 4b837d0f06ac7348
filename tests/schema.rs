//! The API document (determinism, contracts, `--check`, breaking-change diff) and the codegen
//! model read from it: every serde construct recognised, unsupported ones named.

mod common;

use centrpc::{
    codegen::{
        ir::{self, AppError, Payload, TypeKind, TypeRef},
        CodegenError,
    },
    method,
    schema::{self, diff},
    Context, DeclaredError, Router, RpcError,
};
use common::app;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn example_document() -> Value {
    schema::document(&app::router(app::App::default()))
}

#[test]
fn the_document_is_deterministic_and_complete() {
    let a = schema::to_string(&example_document());
    let b = schema::to_string(&example_document());
    assert_eq!(a, b);
    let doc: Value = serde_json::from_str(&a).unwrap();
    assert_eq!(doc["openrpc"], "1.3.2");
    assert_eq!(doc["info"]["title"], "tasks");
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "methods are sorted");
    let stats = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "tasks.get_stats")
        .unwrap();
    assert_eq!(stats["description"], "Get task statistics for a user.");
    assert_eq!(
        stats["params"][0]["schema"]["$ref"],
        "#/components/schemas/TaskStatsParams"
    );
    assert_eq!(
        stats["result"]["schema"]["$ref"],
        "#/components/schemas/TaskStatsResult"
    );
    let params = &doc["components"]["schemas"]["TaskStatsParams"];
    assert_eq!(
        params["properties"]["user_id"]["description"], "The user whose tasks are counted.",
        "doc comments become descriptions"
    );
    assert_eq!(doc["components"]["errors"]["METHOD_NOT_FOUND"]["code"], 404);
    let whoami = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "system.whoami")
        .unwrap();
    assert_eq!(
        whoami["params"][0]["required"], false,
        "`()` params may be left out"
    );
}

#[test]
fn params_use_the_deserialize_contract_and_results_the_serialize_contract() {
    let doc = example_document();
    let s = &doc["components"]["schemas"];
    let required = |name: &str| -> Vec<String> {
        serde_json::from_value(s[name]["required"].clone()).unwrap()
    };
    // An Option field may be left out by callers, but the server always writes it (as null).
    assert!(!required("EverythingInput").contains(&"maybe".to_owned()));
    assert!(required("Everything").contains(&"maybe".to_owned()));
    // A defaulted field is optional on input, present on output.
    assert!(!required("EverythingInput").contains(&"withDefault".to_owned()));
    assert!(required("Everything").contains(&"withDefault".to_owned()));
    // skip_serializing_if: absent on both sides.
    assert!(!required("Everything").contains(&"omittedWhenNone".to_owned()));
    // Types that refer to split types are split too, and refs point at the right side.
    assert_eq!(
        s["EventInput"]["oneOf"][0]["properties"]["data"]["$ref"],
        "#/components/schemas/InnerInput"
    );
    assert_eq!(
        s["Event"]["oneOf"][0]["properties"]["data"]["$ref"],
        "#/components/schemas/Inner"
    );
    // Types identical on both sides exist once.
    assert!(s.get("ColorInput").is_none() && s.get("ShapeInput").is_none());
}

#[test]
fn the_model_recognises_every_serde_construct() {
    let api = ir::read(&example_document()).unwrap();
    let ty = |name: &str| {
        api.types
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no type {name}"))
            .kind
            .clone()
    };

    let TypeKind::StringEnum { values } = ty("Color") else {
        panic!("Color")
    };
    assert_eq!(
        values.iter().map(|v| v.value.as_str()).collect::<Vec<_>>(),
        ["red", "dark_blue"]
    );

    let TypeKind::Tagged {
        tag,
        content,
        variants,
    } = ty("Shape")
    else {
        panic!("Shape")
    };
    assert_eq!((tag.as_str(), content), ("kind", None));
    assert!(
        matches!(&variants[0].payload, Payload::Fields { type_name, fields } if type_name == "ShapeCircle" && fields[0].wire == "radius")
    );
    assert!(matches!(variants[2].payload, Payload::Unit));

    let TypeKind::Tagged {
        tag,
        content,
        variants,
    } = ty("Event")
    else {
        panic!("Event")
    };
    assert_eq!((tag.as_str(), content.as_deref()), ("type", Some("data")));
    assert!(
        matches!(&variants[0].payload, Payload::Type { ty: TypeRef::Named { name } } if name == "Inner")
    );
    assert!(
        matches!(&variants[1].payload, Payload::Fields { type_name, .. } if type_name == "EventDeleted")
    );
    assert!(matches!(variants[2].payload, Payload::Unit));

    let TypeKind::External { variants } = ty("Command") else {
        panic!("Command")
    };
    let keys: Vec<_> = variants.iter().map(|v| v.tag_value.as_str()).collect();
    assert_eq!(keys, ["Start", "Stop", "Rename"]);
    assert!(matches!(variants[0].payload, Payload::Unit));
    assert!(matches!(
        &variants[2].payload,
        Payload::Type {
            ty: TypeRef::String
        }
    ));

    let TypeKind::Untagged { variants } = ty("Scalar") else {
        panic!("Scalar")
    };
    assert_eq!(
        variants.iter().map(|v| v.ty.clone()).collect::<Vec<_>>(),
        [
            TypeRef::Number { bits: 64 },
            TypeRef::String,
            TypeRef::Array {
                items: Box::new(TypeRef::String)
            },
        ]
    );

    assert!(matches!(
        ty("TaskId"),
        TypeKind::Alias {
            target: TypeRef::Integer {
                bits: 64,
                signed: false
            }
        }
    ));

    let TypeKind::Struct { fields } = ty("Everything") else {
        panic!("Everything")
    };
    let field = |wire: &str| fields.iter().find(|f| f.wire == wire).unwrap().clone();
    assert_eq!(
        field("maybe").ty,
        TypeRef::Nullable {
            inner: Box::new(TypeRef::String)
        }
    );
    assert!(field("maybe").required);
    assert!(!field("omittedWhenNone").required);
    assert_eq!(field("when").ty, TypeRef::DateTime);
    assert_eq!(field("uuid").ty, TypeRef::Uuid);
    assert_eq!(field("extra").ty, TypeRef::Any);
    let map = |keys: TypeRef, values: TypeRef| TypeRef::Map {
        keys: Box::new(keys),
        values: Box::new(values),
    };
    assert_eq!(
        field("scores").ty,
        map(TypeRef::String, TypeRef::Number { bits: 64 })
    );
    // schemars does not give integer keys' width: they read as 64-bit.
    assert_eq!(
        field("byId").ty,
        map(
            TypeRef::Integer {
                bits: 64,
                signed: false
            },
            TypeRef::String
        )
    );
    assert_eq!(
        field("byOffset").ty,
        map(
            TypeRef::Integer {
                bits: 64,
                signed: true
            },
            TypeRef::Number { bits: 64 }
        )
    );
    assert_eq!(
        field("byColor").ty,
        map(
            TypeRef::Named {
                name: "Color".into()
            },
            TypeRef::Integer {
                bits: 32,
                signed: false
            }
        )
    );
    assert_eq!(
        field("bigSigned").ty,
        TypeRef::Integer {
            bits: 64,
            signed: true
        }
    );
    assert_eq!(field("from").words, ["from"]);
    let TypeKind::Struct { fields } = ty("EverythingInput") else {
        panic!()
    };
    assert_eq!(
        fields
            .iter()
            .find(|f| f.wire == "withDefault")
            .unwrap()
            .default,
        Some(json!(7))
    );

    let whoami = api
        .methods
        .iter()
        .find(|m| m.name == "system.whoami")
        .unwrap();
    assert!(
        whoami.params.is_none(),
        "unit params become a method without params"
    );
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct WithTuple {
    pair: (u32, String),
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct WithTwinFields {
    a_b: u8,
    #[serde(rename = "aB")]
    other: u8,
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct WithIntKeys {
    counts: std::collections::HashMap<u32, u32>,
    offsets: BTreeMap<i64, String>,
    maybe: Option<BTreeMap<u16, bool>>,
}

/// Undocumented variants: schemars names a map's keys by their values.
#[derive(Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
enum Level {
    Low,
    VeryHigh,
}

/// Documented variants: schemars writes a `oneOf`, which it does not describe as map keys.
#[derive(Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
enum Documented {
    /// One.
    One,
    /// Two.
    Two,
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct WithEnumKeys {
    level: Level,
    by_level: BTreeMap<Level, f64>,
    by_documented: BTreeMap<Documented, u8>,
}

/// An enum used only as map keys: it has no definition to name.
#[derive(Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
enum Hidden {
    Left,
    Right,
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct WithHiddenKeys {
    by_side: BTreeMap<Hidden, u8>,
}

async fn takes<P: Send + 'static>(_: Context, _: P) -> Result<(), RpcError> {
    Ok(())
}

fn app_error(name: &str, code: u64, description: &str, temporary: bool) -> AppError {
    AppError {
        name: name.into(),
        words: name.split('_').map(str::to_lowercase).collect(),
        code,
        description: description.into(),
        temporary,
    }
}

#[test]
fn declared_errors_and_input_copies_are_in_the_model() {
    let api = ir::read(&example_document()).unwrap();
    let by_name = |name: &str| api.methods.iter().find(|m| m.name == name).unwrap();
    assert_eq!(
        by_name("tasks.complete").errors,
        [app_error(
            "TASK_NOT_FOUND",
            1004,
            "No task with that id.",
            false
        )]
    );
    assert_eq!(
        by_name("tasks.create").errors,
        [app_error(
            "INVALID_TITLE",
            1001,
            "The title is empty or longer than 200 characters.",
            false
        )]
    );
    assert!(by_name("system.echo").errors.is_empty());
    let watch = api
        .streams
        .iter()
        .find(|s| s.pattern == "watch:tasks")
        .unwrap();
    assert_eq!(
        watch.errors,
        [app_error(
            "NOT_YOUR_CHANNEL",
            1403,
            "Watching another user's tasks.",
            false
        )]
    );
    let codes: Vec<(&str, u64)> = api
        .app_errors
        .iter()
        .map(|e| (e.name.as_str(), e.code))
        .collect();
    assert_eq!(
        codes,
        [
            ("INVALID_TITLE", 1001),
            ("TASK_NOT_FOUND", 1004),
            ("NOT_YOUR_CHANNEL", 1403),
            ("DEMO_FAILURE", 1500),
            ("FLAKY_FAILURE", 1501),
            ("PUBLISHING_DISABLED", 1503),
        ]
    );
    let input_of = |name: &str| {
        api.types
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .input_of
            .clone()
    };
    assert_eq!(input_of("EverythingInput").as_deref(), Some("Everything"));
    assert_eq!(input_of("InnerInput").as_deref(), Some("Inner"));
    assert_eq!(input_of("Everything"), None);
    assert_eq!(input_of("Color"), None);

    // One code declared by two methods under one name is one constant, described by the first
    // method (by name); each method keeps its own description and flag.
    let declared = |code, name| method(takes::<u32>).error(DeclaredError::new(code, name, name));
    let doc = schema::document(
        &Router::new(())
            .rpc("b.second", declared(1004, "TASK_NOT_FOUND"))
            .rpc(
                "a.first",
                method(takes::<u32>)
                    .error(DeclaredError::new(1004, "TASK_NOT_FOUND", "Gone.").temporary()),
            ),
    );
    let api = ir::read(&doc).unwrap();
    assert_eq!(
        api.app_errors,
        [app_error("TASK_NOT_FOUND", 1004, "Gone.", true)]
    );
    assert_eq!(
        api.methods[1].errors,
        [app_error("TASK_NOT_FOUND", 1004, "TASK_NOT_FOUND", false)]
    );

    // One code under two names, or one name for two codes, is refused naming both methods.
    let doc = schema::document(
        &Router::new(())
            .rpc("a.first", declared(1004, "TASK_NOT_FOUND"))
            .rpc("b.second", declared(1004, "NO_SUCH_TASK")),
    );
    let err = ir::read(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "name collision: error code 1004 is declared as `TASK_NOT_FOUND` by method `a.first` \
         and as `NO_SUCH_TASK` by method `b.second`; one code needs one name"
    );
    let doc = schema::document(
        &Router::new(())
            .rpc("a.first", declared(1004, "TASK_NOT_FOUND"))
            .rpc("b.second", declared(1005, "task_not_found")),
    );
    let err = ir::read(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "name collision: the application error name `task_not_found` is declared with code 1004 \
         by method `a.first` and with code 1005 by method `b.second`; they would get the same \
         generated constant"
    );
    // A built-in code in a hand-edited document.
    let mut doc = schema::document(&Router::new(()).rpc("a.first", declared(1004, "GONE")));
    let own = doc["methods"][0]["errors"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e.get("$ref").is_none())
        .unwrap();
    own["code"] = json!(404);
    let err = ir::read(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "name collision: method `a.first` declares the application error `GONE` with code 404, \
         the code of the built-in error `METHOD_NOT_FOUND`; use a code in 1000–1999"
    );
}

#[test]
fn unsupported_constructs_and_collisions_are_named() {
    let doc = schema::document(&Router::new(()).rpc("t.tuple", takes::<WithTuple>));
    let err = ir::read(&doc).unwrap_err();
    assert!(
        matches!(&err, CodegenError::Unsupported { at, .. } if at == "type `WithTuple`, field `pair`"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("tuples are not supported; use a struct"),
        "{err}"
    );

    let doc = schema::document(
        &Router::new(())
            .rpc("a.b_c", takes::<u32>)
            .rpc("a_b.c", takes::<u32>),
    );
    let err = ir::read(&doc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "name collision: methods, streams and channels: method `a.b_c` and method `a_b.c` \
         would both be the generated name `a_b_c`; rename one"
    );
    // A stream is called like a method, and a channel is `subscribe_<name>` / `publish_<name>`.
    async fn nothing(
        _: Context,
        _: (),
    ) -> Result<futures_util::stream::Empty<Result<u8, RpcError>>, RpcError> {
        Ok(futures_util::stream::empty())
    }
    let doc = schema::document(
        &Router::new(())
            .rpc("watch.tasks", takes::<u32>)
            .stream("watch:tasks", nothing),
    );
    let err = ir::read(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "name collision: methods, streams and channels: method `watch.tasks` and stream \
         `watch:tasks` would both be the generated name `watch_tasks`; rename one"
    );
    let doc = schema::document(
        &Router::new(())
            .rpc("subscribe.news", takes::<u32>)
            .channel(centrpc::Channel::<u8>::new("news:*")),
    );
    let err = ir::read(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "name collision: methods, streams and channels: method `subscribe.news` and channel \
         `news` (subscribe) would both be the generated name `subscribe_news`; rename one"
    );
    // Fields whose words coincide, though their wire names differ.
    let doc = schema::document(&Router::new(()).rpc("t.twins", takes::<WithTwinFields>));
    let err = ir::read(&doc).unwrap_err().to_string();
    assert_eq!(
        err,
        "name collision: fields of `WithTwinFields`: field `a_b` and field `aB` would both be \
         the generated name `a_b`; rename one"
    );
}

#[test]
fn map_keys_are_strings_integers_or_unit_enums() {
    let field_ty = |api: &ir::Api, owner: &str, wire: &str| {
        let t = api.types.iter().find(|t| t.name == owner).unwrap();
        let TypeKind::Struct { fields } = &t.kind else {
            panic!("{owner}")
        };
        fields.iter().find(|f| f.wire == wire).unwrap().ty.clone()
    };
    let map = |keys: TypeRef, values: TypeRef| TypeRef::Map {
        keys: Box::new(keys),
        values: Box::new(values),
    };
    let int = |bits, signed| TypeRef::Integer { bits, signed };

    let doc = schema::document(&Router::new(()).rpc("t.keys", takes::<WithIntKeys>));
    let api = ir::read(&doc).unwrap();
    assert_eq!(
        field_ty(&api, "WithIntKeys", "counts"),
        map(int(64, false), int(32, false))
    );
    assert_eq!(
        field_ty(&api, "WithIntKeys", "offsets"),
        map(int(64, true), TypeRef::String)
    );
    assert_eq!(
        field_ty(&api, "WithIntKeys", "maybe"),
        TypeRef::Nullable {
            inner: Box::new(map(int(64, false), TypeRef::Bool))
        }
    );

    let doc = schema::document(&Router::new(()).rpc("t.keys", takes::<WithEnumKeys>));
    let api = ir::read(&doc).unwrap();
    assert_eq!(
        field_ty(&api, "WithEnumKeys", "by_level"),
        map(
            TypeRef::Named {
                name: "Level".into()
            },
            TypeRef::Number { bits: 64 }
        )
    );
    // Nothing in the document tells these keys from strings.
    assert_eq!(
        field_ty(&api, "WithEnumKeys", "by_documented"),
        map(TypeRef::String, int(8, false))
    );

    let doc = schema::document(&Router::new(()).rpc("t.keys", takes::<WithHiddenKeys>));
    let err = ir::read(&doc).unwrap_err();
    assert!(
        matches!(&err, CodegenError::Unsupported { at, .. } if at == "type `WithHiddenKeys`, field `by_side`"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("keys are the values `Left`, `Right` of a unit enum that has no definition"),
        "{err}"
    );

    // A struct as keys (serde_json refuses it at run time; schemars writes it as string keys,
    // another writer may name it).
    let mut doc = example_document();
    schemas(&mut doc)["Inner"]["properties"]["byInner"] = json!({
        "type": "object",
        "propertyNames": { "$ref": "#/components/schemas/Inner" },
        "additionalProperties": { "type": "integer" },
    });
    let err = ir::read(&doc).unwrap_err();
    assert!(
        matches!(&err, CodegenError::Unsupported { at, .. } if at == "type `Inner`, field `byInner`"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("map keys of type `Inner` are not supported"),
        "{err}"
    );
    // Keys matching several patterns.
    let mut doc = example_document();
    schemas(&mut doc)["Inner"]["properties"]["mixed"] = json!({
        "type": "object",
        "additionalProperties": false,
        "patternProperties": { "^\\d+$": { "type": "integer" }, "^[a-z]+$": { "type": "integer" } },
    });
    let err = ir::read(&doc).unwrap_err();
    assert!(
        err.to_string().contains("type `Inner`, field `mixed`")
            && err.to_string().contains("keys match several patterns"),
        "{err}"
    );
}

fn schemas(d: &mut Value) -> &mut Value {
    &mut d["components"]["schemas"]
}

/// The example document with `edit` applied.
fn edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = example_document();
    edit(&mut doc);
    doc
}

#[test]
fn diff_classifies_breaking_and_compatible_changes() {
    let base = example_document();
    assert!(diff::changes(&base, &base).is_empty());

    let cases: Vec<(&str, Value, bool, &str)> = vec![
        (
            "removed method",
            edited(|d| {
                d["methods"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|m| m["name"] != "tasks.slow")
            }),
            true,
            "method removed",
        ),
        (
            "new required param",
            edited(|d| {
                let p = &mut schemas(d)["TaskStatsParams"];
                p["properties"]["team"] = json!({"type": "string"});
                p["required"].as_array_mut().unwrap().push(json!("team"));
            }),
            true,
            "new required field",
        ),
        (
            "new optional param",
            edited(|d| {
                schemas(d)["TaskStatsParams"]["properties"]["team"] =
                    json!({"type": ["string", "null"]});
            }),
            false,
            "field added",
        ),
        (
            "removed result field",
            edited(|d| {
                let r = &mut schemas(d)["TaskStatsResult"];
                r["properties"].as_object_mut().unwrap().remove("completed");
                r["required"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|f| f != "completed");
            }),
            true,
            "field removed",
        ),
        (
            "added result field",
            edited(|d| {
                let r = &mut schemas(d)["TaskStatsResult"];
                r["properties"]["pending"] = json!({"type": "integer"});
                r["required"].as_array_mut().unwrap().push(json!("pending"));
            }),
            false,
            "field added",
        ),
        (
            "changed type",
            edited(|d| {
                schemas(d)["TaskStatsParams"]["properties"]["user_id"] = json!({"type": "integer"});
            }),
            true,
            "type changed: string → integer",
        ),
        (
            "param may be null",
            edited(|d| {
                schemas(d)["TaskStatsParams"]["properties"]["user_id"]["type"] =
                    json!(["string", "null"]);
            }),
            false,
            "now accepts null",
        ),
        (
            "result may be absent",
            edited(|d| {
                schemas(d)["TaskStatsResult"]["required"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|f| f != "total");
            }),
            true,
            "may now be absent",
        ),
        (
            "enum value added to a result",
            edited(|d| {
                schemas(d)["Color"]["enum"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("green"));
            }),
            true,
            "result.color: value \"green\" added",
        ),
        (
            "method added",
            edited(|d| {
                let m = d["methods"][0].clone();
                let mut m2 = m;
                m2["name"] = json!("zz.new");
                d["methods"].as_array_mut().unwrap().push(m2);
            }),
            false,
            "method added",
        ),
        (
            "method marked idempotent",
            edited(|d| {
                let slow = d["methods"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|m| m["name"] == "tasks.slow")
                    .unwrap();
                slow["x-idempotent"] = json!(true);
            }),
            false,
            "tasks.slow: now idempotent",
        ),
        (
            "method no longer idempotent",
            edited(|d| {
                let stats = d["methods"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|m| m["name"] == "tasks.get_stats")
                    .unwrap();
                stats.as_object_mut().unwrap().remove("x-idempotent");
            }),
            false,
            "tasks.get_stats: no longer idempotent",
        ),
        (
            "stream removed",
            edited(|d| {
                d["x-streams"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|s| s["name"] != "watch:count")
            }),
            true,
            "watch:count: stream removed",
        ),
        (
            "stream item field removed",
            edited(|d| {
                let c = &mut schemas(d)["Count"];
                c["properties"].as_object_mut().unwrap().remove("user");
                c["required"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|f| f != "user");
            }),
            true,
            "watch:count item.user: field removed",
        ),
        (
            "stream params gain a required field",
            edited(|d| {
                let p = &mut schemas(d)["CountParams"];
                p["properties"]["step"] = json!({"type": "integer"});
                p["required"].as_array_mut().unwrap().push(json!("step"));
            }),
            true,
            "watch:count params",
        ),
        (
            "a bidirectional stream becomes unidirectional",
            edited(|d| {
                let tally = d["x-streams"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|s| s["name"] == "tally:*")
                    .unwrap();
                tally.as_object_mut().unwrap().remove("publication");
                tally["bidirectional"] = json!(false);
            }),
            true,
            "tally:* publication: publication removed",
        ),
        (
            "stream added",
            edited(|d| {
                let mut s = d["x-streams"][0].clone();
                s["name"] = json!("zz:new");
                d["x-streams"].as_array_mut().unwrap().push(s);
            }),
            false,
            "zz:new: stream added",
        ),
        (
            "channel publication type changed",
            edited(|d| {
                schemas(d)["Progress"]["properties"]["step"] = json!({"type": "string"});
            }),
            true,
            "#* publication",
        ),
        (
            "clients may no longer publish into a channel",
            edited(|d| {
                let chat = d["x-channels"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|c| c["pattern"] == "chat:*")
                    .unwrap();
                chat.as_object_mut().unwrap().remove("clientPublication");
            }),
            true,
            "chat:* client publication: client publication removed",
        ),
        (
            "channel removed",
            edited(|d| {
                d["x-channels"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|c| c["pattern"] != "tasks:*")
            }),
            true,
            "tasks:*: channel removed",
        ),
    ];
    for (name, new, breaking, what) in cases {
        let changes = diff::changes(&base, &new);
        let found = changes
            .iter()
            .find(|c| format!("{}: {}", c.at, c.what).contains(what))
            .unwrap_or_else(|| panic!("{name}: no change saying {what:?} in {changes:#?}"));
        assert_eq!(found.breaking, breaking, "{name}: {found}");
    }
}

#[test]
fn the_committed_document_of_the_example_is_current() {
    let golden = common::stack::root().join("centrpc-codegen/tests/golden/tasks.openrpc.json");
    let out = std::process::Command::new(common::stack::example_bin())
        .args(["schema", "--check"])
        .arg(&golden)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\nrun `make golden`",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn schema_check_accepts_a_fresh_document_and_rejects_a_stale_one() {
    let bin = common::stack::example_bin();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api.json");
    let status = std::process::Command::new(&bin)
        .args(["schema", "--output"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let check = || {
        std::process::Command::new(&bin)
            .args(["schema", "--check"])
            .arg(&file)
            .output()
            .unwrap()
    };
    assert!(
        check().status.success(),
        "{}",
        String::from_utf8_lossy(&check().stderr)
    );
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    doc["methods"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["name"] != "tasks.slow");
    std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is stale") && stderr.contains("tasks.slow: method added"),
        "{stderr}"
    );
    let out = std::process::Command::new(&bin)
        .args(["schema", "--diff"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "adding a method is not breaking"
    );
}

// Types whose schemas only are read: their fields are never used.
#[allow(dead_code)]
mod generics {
    use super::*;
    use schemars::{Schema, SchemaGenerator};
    use std::borrow::Cow;

    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Meta {
        pub a: u32,
    }

    /// A page of items.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Page<T> {
        pub items: Vec<T>,
        /// Read as 0 when left out, always written: `PageMeta` read and written differ.
        #[serde(default)]
        pub total: u32,
    }

    /// A page of items, named per instantiation.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[schemars(rename = "Named_for_{T}")]
    pub struct Named<T> {
        pub items: Vec<T>,
    }

    /// A tree of values.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Tree<T> {
        pub value: T,
        pub children: Vec<Tree<T>>,
    }

    /// Two of them in one params type.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Both {
        pub metas: Page<Meta>,
        pub words: Page<String>,
    }

    /// Pages of pages, and recursive generic types.
    #[derive(Deserialize, JsonSchema)]
    pub struct Nested {
        pub pages: Page<Page<Meta>>,
        pub metas: Page<Meta>,
        pub meta_tree: Tree<Meta>,
        pub word_tree: Tree<String>,
    }

    /// Primitive arguments.
    #[derive(Deserialize, JsonSchema)]
    pub struct Primitives {
        pub a: Page<String>,
        pub b: Page<u32>,
        pub c: Page<i64>,
        pub d: Page<f64>,
        pub e: Page<bool>,
        pub f: Page<usize>,
        pub g: Page<serde_json::Value>,
    }

    /// Arguments named after their elements: lists, options, maps.
    #[derive(Deserialize, JsonSchema)]
    pub struct Containers {
        pub numbers: Page<Vec<u32>>,
        pub words: Page<Vec<String>>,
        pub metas: Page<Option<Meta>>,
        pub flags: Page<BTreeMap<String, bool>>,
    }

    /// Legitimately numbered names with their own fields.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Point {
        pub x: f64,
    }

    /// A point in two dimensions.
    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct Point2 {
        pub x: f64,
        pub y: f64,
    }

    /// A string, inlined like `String` but a type of its own to schemars.
    #[derive(Deserialize)]
    pub struct Word(pub String);

    impl JsonSchema for Word {
        fn inline_schema() -> bool {
            true
        }

        fn schema_name() -> Cow<'static, str> {
            "Word".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            schemars::json_schema!({ "type": "string" })
        }
    }

    /// Two types schemars names alike (`Loop`, `Loop2`), each referring to the other.
    #[derive(Deserialize)]
    pub struct LoopA;
    #[derive(Deserialize)]
    pub struct LoopB;

    impl JsonSchema for LoopA {
        fn schema_name() -> Cow<'static, str> {
            "Loop".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            schemars::json_schema!({ "properties": { "next": generator.subschema_for::<LoopB>() } })
        }
    }

    impl JsonSchema for LoopB {
        fn schema_name() -> Cow<'static, str> {
            "Loop".into()
        }

        fn schema_id() -> Cow<'static, str> {
            "LoopB".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            schemars::json_schema!({ "properties": { "next": generator.subschema_for::<LoopA>() } })
        }
    }

    /// Instantiations whose schemas are the same.
    #[derive(Deserialize, JsonSchema)]
    pub struct Identical {
        pub strings: Page<String>,
        pub words: Page<Word>,
    }

    /// An argument that is neither a named type nor a primitive.
    #[derive(Deserialize, JsonSchema)]
    pub struct Tuple {
        pub number: Page<u32>,
        pub pair: Page<(u32, String)>,
    }

    /// Two instantiations with one name after their arguments.
    #[derive(Deserialize, JsonSchema)]
    pub struct SameName {
        pub number: Page<u32>,
        pub numbers: Page<Vec<u32>>,
    }

    /// A type whose name is one an instantiation would get.
    #[derive(Deserialize, JsonSchema)]
    pub struct PageMeta {
        pub b: bool,
    }

    /// A taken name.
    #[derive(Deserialize, JsonSchema)]
    pub struct Taken {
        pub metas: Page<Meta>,
        pub words: Page<String>,
        pub other: PageMeta,
    }

    pub async fn read_write(_: Context, _: Page<Meta>) -> Result<Page<String>, RpcError> {
        unreachable!("only its schemas are read")
    }
    pub async fn echo(_: Context, _: Page<Meta>) -> Result<Page<Meta>, RpcError> {
        unreachable!("only its schemas are read")
    }
    pub async fn both(_: Context, _: Both) -> Result<(), RpcError> {
        Ok(())
    }
    pub async fn named(_: Context, _: Named<Meta>) -> Result<Named<String>, RpcError> {
        Ok(Named { items: vec![] })
    }
    pub async fn points(_: Context, _: Point) -> Result<Point2, RpcError> {
        Ok(Point2 { x: 0.0, y: 0.0 })
    }
}

/// The names of the document's definitions, and of the types `ir::read` makes of them.
fn definition_names(doc: &Value) -> (Vec<String>, Vec<String>) {
    let mut schemas: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    schemas.sort_unstable();
    let api = ir::read(doc).unwrap();
    (schemas, api.types.into_iter().map(|t| t.name).collect())
}

#[test]
fn instantiations_of_a_generic_type_are_named_after_their_arguments() {
    use generics::*;
    let names = |router: Router<()>| definition_names(&schema::checked_document(&router).unwrap());
    let read_write_names = ["Meta", "PageMeta", "PageString"].map(String::from);
    // Read in the params, written in the result.
    let router = Router::new(()).rpc("p.rw", read_write);
    let doc = schema::checked_document(&router).unwrap();
    assert_eq!(
        definition_names(&doc),
        (read_write_names.to_vec(), read_write_names.to_vec())
    );
    assert_eq!(
        doc["methods"][0]["params"][0]["schema"]["$ref"],
        "#/components/schemas/PageMeta"
    );
    assert_eq!(
        doc["methods"][0]["result"]["schema"]["$ref"],
        "#/components/schemas/PageString"
    );
    assert_eq!(
        doc["components"]["schemas"]["PageMeta"]["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/Meta"
    );
    // Two fields of one params type.
    let both_fields = ["Both", "Meta", "PageMeta", "PageString"].map(String::from);
    assert_eq!(
        names(Router::new(()).rpc("p.both", both)),
        (both_fields.to_vec(), both_fields.to_vec())
    );
    // Read and written differently: the params-side copy of the named instantiation.
    let doc =
        schema::checked_document(&Router::new(()).rpc("p.echo", echo).rpc("p.rw", read_write))
            .unwrap();
    let split = ["Meta", "PageMeta", "PageMetaInput", "PageString"].map(String::from);
    assert_eq!(definition_names(&doc), (split.to_vec(), split.to_vec()));
    assert_eq!(
        doc["components"]["schemas"]["PageMetaInput"]["x-input-of"],
        "PageMeta"
    );
    // Nested, and recursive.
    let nested = [
        "Meta",
        "Nested",
        "PageMeta",
        "PagePageMeta",
        "TreeMeta",
        "TreeString",
    ]
    .map(String::from);
    let doc = schema::checked_document(&Router::new(()).rpc("p.nested", takes::<Nested>)).unwrap();
    assert_eq!(definition_names(&doc), (nested.to_vec(), nested.to_vec()));
    let s = &doc["components"]["schemas"];
    assert_eq!(
        s["PagePageMeta"]["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/PageMeta"
    );
    assert_eq!(
        s["TreeString"]["properties"]["children"]["items"]["$ref"],
        "#/components/schemas/TreeString"
    );
    // Primitives.
    let primitives = [
        "PageBool",
        "PageF64",
        "PageI64",
        "PageString",
        "PageU32",
        "PageUsize",
        "PageValue",
        "Primitives",
    ]
    .map(String::from);
    assert_eq!(
        names(Router::new(()).rpc("p.primitives", takes::<Primitives>)),
        (primitives.to_vec(), primitives.to_vec())
    );
    // Lists, options and maps after their elements; what they share drops out of the names.
    let containers = [
        "Containers",
        "Meta",
        "PageBool",
        "PageMeta",
        "PageString",
        "PageU32",
    ]
    .map(String::from);
    assert_eq!(
        names(Router::new(()).rpc("p.containers", takes::<Containers>)),
        (containers.to_vec(), containers.to_vec())
    );
}

#[test]
fn explicit_and_legitimately_numbered_names_are_kept() {
    use generics::*;
    // Named per instantiation: the rename wins.
    let doc = schema::checked_document(&Router::new(()).rpc("p.named", named)).unwrap();
    let named = ["Meta", "Named_for_Meta", "Named_for_string"].map(String::from);
    assert_eq!(definition_names(&doc), (named.to_vec(), named.to_vec()));
    // Names that only look numbered.
    let doc = schema::checked_document(&Router::new(()).rpc("p.points", points)).unwrap();
    let points = ["Point", "Point2"].map(String::from);
    assert_eq!(definition_names(&doc), (points.to_vec(), points.to_vec()));
    // The example app's document is the one `document` builds.
    let app = app::router(app::App::default());
    assert_eq!(
        schema::checked_document(&app).unwrap(),
        schema::document(&app)
    );
}

#[test]
fn instantiations_that_cannot_be_named_after_their_arguments_are_refused() {
    use generics::*;
    let fix = |base: &str| {
        format!(
            "; give each instantiation its own name, e.g. \
             `#[schemars(rename = \"{base}_for_{{T}}\")]` on the generic type"
        )
    };
    let cases = [
        (
            Router::new(()).rpc("p.identical", takes::<Identical>),
            "Page",
            "the instantiations of the generic type `Page` (`Page`, `Page2`) differ in no argument \
             the API document shows, so they cannot be named after their arguments",
        ),
        (
            Router::new(()).rpc("p.tuple", takes::<Tuple>),
            "Page",
            "the instantiation `Page2` of the generic type `Page` cannot be named after its \
             arguments: the argument at `/properties/items/items` is not a named type, a \
             primitive, or a list, map or option of one",
        ),
        (
            Router::new(()).rpc("p.same", takes::<SameName>),
            "Page",
            "the instantiations `Page` and `Page2` of the generic type `Page` would both be named \
             `PageU32` after their arguments",
        ),
        (
            Router::new(()).rpc("p.taken", takes::<Taken>),
            "Page",
            "the name `PageMeta` derived for the instantiation `Page` of the generic type `Page` \
             is taken by another type",
        ),
        (
            Router::new(()).rpc("p.loop", takes::<LoopA>),
            "Loop",
            "the instantiation `Loop` of the generic type `Loop` cannot be named after its \
             arguments: they refer back to it",
        ),
    ];
    for (router, base, why) in cases {
        assert_eq!(
            schema::checked_document(&router).unwrap_err(),
            format!("{why}{}", fix(base))
        );
    }
    // `document` keeps schemars' names instead.
    let doc = schema::document(&Router::new(()).rpc("p.same", takes::<SameName>));
    let schemars = ["Page", "Page2", "SameName"].map(String::from);
    assert_eq!(definition_names(&doc).0, schemars);
}

// Params types only read (schemas), never built.
#[allow(dead_code)]
mod examples {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    pub struct Two {
        pub a: String,
        pub b: u32,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct One {
        pub a: bool,
        #[serde(default)]
        pub optional: Vec<String>,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Listy {
        pub items: Vec<String>,
    }
}

#[test]
fn the_readme_example_is_the_method_easiest_to_write_in_every_language() {
    use examples::*;
    let pick = |router: Router<()>| {
        let api = ir::read(&schema::document(&router)).unwrap();
        api.example_method().map(|m| m.name.clone())
    };
    // Fewest fields to give, all scalars (a list is not, an optional field does not count).
    let router = Router::new(())
        .rpc("a.two", takes::<Two>)
        .rpc("b.listy", takes::<Listy>)
        .rpc("c.one", takes::<One>);
    assert_eq!(pick(router).as_deref(), Some("c.one"));
    // None writable: the first method without params, else the first method.
    let router = Router::new(())
        .rpc("a.listy", takes::<Listy>)
        .rpc("b.none", takes::<()>);
    assert_eq!(pick(router).as_deref(), Some("b.none"));
    let router = Router::new(()).rpc("a.listy", takes::<Listy>);
    assert_eq!(pick(router).as_deref(), Some("a.listy"));
    assert_eq!(pick(Router::new(())), None);
}
