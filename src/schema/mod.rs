//! The API document: every method with its params schema (the deserialize contract: what the
//! server accepts), its result schema (the serialize contract: what it sends), descriptions from
//! doc comments, and the error codes — in the style of OpenRPC 1.3 with JSON Schema 2020-12.
//! It is deterministic (sorted), so it can be committed and checked for staleness, and it is the
//! one input of the client generators.

use std::collections::BTreeMap;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};

use crate::{error::BUILTIN_ERRORS, handler::SchemaFn, router::Router};
use generics::Generics;

pub mod asyncapi;
pub mod diff;
#[cfg_attr(not(feature = "devtools"), allow(dead_code))]
pub(crate) mod example;
mod generics;

/// Where definitions live in the document.
pub const DEFINITIONS: &str = "#/components/schemas/";
/// The suffix given to the params-side copy of a type whose two contracts differ.
pub(crate) const INPUT_SUFFIX: &str = "Input";

/// The document's generator settings: definitions under [`DEFINITIONS`], no `$schema`.
fn settings(s: SchemaSettings) -> SchemaSettings {
    s.with(|s| {
        s.definitions_path = DEFINITIONS.into();
        s.meta_schema = None;
    })
}

/// Builds the API document of `router`, the document `schema` writes and the generators read:
/// refused when the instantiations of a generic type cannot be named after their arguments
/// (`Page<Meta>` and `Page<String>` are `PageMeta` and `PageString`; `schema::generics`).
pub fn checked_document<S: Send + Sync + 'static>(router: &Router<S>) -> Result<Value, String> {
    let (document, named) = build(router);
    named.map(|()| document)
}

/// Builds the API document of `router` as [`checked_document`] does, except that the
/// instantiations of a generic type it refuses keep schemars' names (`Page`, `Page2`).
pub fn document<S: Send + Sync + 'static>(router: &Router<S>) -> Value {
    build(router).0
}

/// Every schema function of the API, params and results alike, in one fixed order.
fn roots<S: Send + Sync + 'static>(router: &Router<S>) -> Vec<SchemaFn> {
    let hooks = router.hook_table();
    let connect = hooks.connect.as_ref().map(|_| hooks.connect_types);
    let methods = router
        .methods()
        .into_iter()
        .flat_map(|m| [m.params, m.result]);
    let streams = router.streams().into_iter().flat_map(|s| {
        [Some(s.params), Some(s.item), s.publication]
            .into_iter()
            .flatten()
    });
    let channels = router.channels().into_iter().flat_map(|c| {
        [Some(c.publication), c.client_publication]
            .into_iter()
            .flatten()
    });
    let connect = connect.into_iter().flat_map(|c| {
        [c.data, Some(c.reply_data), Some(c.info)]
            .into_iter()
            .flatten()
    });
    methods
        .chain(streams)
        .chain(channels)
        .chain(connect)
        .collect()
}

/// The API document of `router`, and whether every generic instantiation in it is named after its
/// arguments (when not, all keep schemars' names).
fn build<S: Send + Sync + 'static>(router: &Router<S>) -> (Value, Result<(), String>) {
    let mut de = SchemaGenerator::new(settings(SchemaSettings::draft2020_12().for_deserialize()));
    let mut ser = SchemaGenerator::new(settings(SchemaSettings::draft2020_12().for_serialize()));
    let methods = router.methods();
    let streams = router.streams();
    let channels = router.channels();
    let mut params: Vec<Value> = methods
        .iter()
        .map(|m| (m.params)(&mut de).to_value())
        .collect();
    let mut results: Vec<Value> = methods
        .iter()
        .map(|m| (m.result)(&mut ser).to_value())
        .collect();
    // What clients send is read with the server's deserialize contract, what they receive with
    // its serialize contract, as for methods.
    let mut stream_params: Vec<Value> = streams
        .iter()
        .map(|s| (s.params)(&mut de).to_value())
        .collect();
    let mut stream_publications: Vec<Option<Value>> = streams
        .iter()
        .map(|s| s.publication.map(|p| p(&mut de).to_value()))
        .collect();
    let mut stream_items: Vec<Value> = streams
        .iter()
        .map(|s| (s.item)(&mut ser).to_value())
        .collect();
    let mut client_publications: Vec<Option<Value>> = channels
        .iter()
        .map(|c| c.client_publication.map(|p| p(&mut de).to_value()))
        .collect();
    let mut publications: Vec<Value> = channels
        .iter()
        .map(|c| (c.publication)(&mut ser).to_value())
        .collect();
    // The connect hook's typed data (client → server), reply data and info (server → client).
    let hooks = router.hook_table();
    let connect = hooks.connect.as_ref().map(|_| hooks.connect_types);
    let mut connect_data = connect.and_then(|c| c.data).map(|d| d(&mut de).to_value());
    let mut connect_reply: Vec<(&str, Value)> = connect
        .map(|c| {
            vec![
                ("replyData", (c.reply_data)(&mut ser).to_value()),
                ("info", (c.info)(&mut ser).to_value()),
            ]
        })
        .unwrap_or_default();
    let de_defs: BTreeMap<String, Value> = de.take_definitions(true).into_iter().collect();
    let ser_defs: BTreeMap<String, Value> = ser.take_definitions(true).into_iter().collect();
    // Every type of the API in one generator shows the instantiations of each generic type side
    // by side (`Page`, `Page2`), wherever each is read or written.
    let mut all = SchemaGenerator::new(settings(SchemaSettings::draft2020_12()));
    for root in roots(router) {
        root(&mut all);
    }
    let named = Generics::of(&all.take_definitions(true).into_iter().collect())
        .and_then(|g| Ok((g.names(&de_defs)?, g.names(&ser_defs)?)));
    let (de_names, ser_names, named) = match named {
        Ok((de, ser)) => (de, ser, Ok(())),
        Err(e) => (BTreeMap::new(), BTreeMap::new(), Err(e)),
    };
    let mut de_defs = renamed(de_defs, &de_names);
    let ser_defs = renamed(ser_defs, &ser_names);
    let mut de_roots: Vec<&mut Value> = params
        .iter_mut()
        .chain(&mut stream_params)
        .chain(stream_publications.iter_mut().flatten())
        .chain(client_publications.iter_mut().flatten())
        .chain(connect_data.iter_mut())
        .collect();
    de_roots.iter_mut().for_each(|p| rewrite_refs(p, &de_names));
    results
        .iter_mut()
        .chain(&mut stream_items)
        .chain(&mut publications)
        .chain(connect_reply.iter_mut().map(|(_, schema)| schema))
        .for_each(|r| rewrite_refs(r, &ser_names));

    // A type that reads differently from how it is written (optional on input, always present on
    // output…), or that refers to such a type, becomes two definitions; the params-side one is
    // renamed `<Name>Input`. Renaming can make referring types differ, hence the fixpoint.
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let before = renames.len();
        for (name, schema) in &de_defs {
            if renames.contains_key(name) {
                continue;
            }
            let mut rewritten = schema.clone();
            rewrite_refs(&mut rewritten, &renames);
            if ser_defs.get(name).is_some_and(|s| *s != rewritten) {
                let mut new = format!("{name}{INPUT_SUFFIX}");
                let mut n = 2;
                while de_defs.contains_key(&new) || ser_defs.contains_key(&new) {
                    new = format!("{name}{INPUT_SUFFIX}{n}");
                    n += 1;
                }
                renames.insert(name.clone(), new);
            }
        }
        if renames.len() == before {
            break;
        }
    }
    de_defs = de_defs
        .into_iter()
        .map(|(name, mut schema)| {
            rewrite_refs(&mut schema, &renames);
            match renames.get(&name) {
                // The copy names the type it copies, so clients can read a result back as params.
                Some(new) => {
                    if let Some(object) = schema.as_object_mut() {
                        object.insert("x-input-of".into(), json!(name));
                    }
                    (new.clone(), schema)
                }
                None => (name, schema),
            }
        })
        .collect();
    de_roots.into_iter().for_each(|p| rewrite_refs(p, &renames));
    let mut schemas: Map<String, Value> = ser_defs.into_iter().collect();
    schemas.extend(de_defs);

    let errors: Map<String, Value> = BUILTIN_ERRORS
        .iter()
        .map(|e| {
            (
                e.name.to_owned(),
                json!({ "code": e.code, "message": e.meaning, "data": { "temporary": e.temporary } }),
            )
        })
        .collect();
    let info = router.api_info();
    let streams: Vec<Value> = streams
        .iter()
        .zip(stream_params)
        .zip(stream_items)
        .zip(stream_publications)
        .map(|(((s, p), item), publication)| {
            let mut stream = json!({
                "name": s.name,
                "bidirectional": s.bidirectional,
                "params": { "name": "params", "required": !accepts_null(&p), "schema": p },
                "item": { "name": "item", "schema": item },
                "errors": declared_errors(&s.errors),
            });
            if let Some(publication) = publication {
                stream["publication"] = json!({ "name": "publication", "schema": publication });
            }
            if let Some(d) = &s.description {
                stream["description"] = json!(d);
            }
            stream
        })
        .collect();
    let channels: Vec<Value> = channels
        .iter()
        .zip(publications)
        .zip(client_publications)
        .map(|((c, publication), client)| {
            let mut channel = json!({
                "name": c.name,
                "pattern": c.pattern,
                "publication": { "name": "publication", "schema": publication },
            });
            if let Some(client) = client {
                channel["clientPublication"] =
                    json!({ "name": "clientPublication", "schema": client });
            }
            if let Some(d) = &c.description {
                channel["description"] = json!(d);
            }
            channel
        })
        .collect();
    let mut document = json!({
        "openrpc": "1.3.2",
        "info": {
            "title": info.title,
            "version": info.version,
            "x-generator": format!("centrpc {}", env!("CARGO_PKG_VERSION")),
        },
        "methods": methods.iter().zip(params).zip(results).map(|((m, p), r)| {
            let mut method = json!({
                "name": m.name,
                "paramStructure": "by-name",
                "params": [{ "name": "params", "required": !accepts_null(&p), "schema": p }],
                "result": { "name": "result", "schema": r },
                "errors": declared_errors(&m.errors),
            });
            if let Some(d) = &m.description {
                method["description"] = json!(d);
            }
            // Present only when set, so the documents of APIs that mark nothing are unchanged.
            if m.idempotent {
                method["x-idempotent"] = json!(true);
            }
            method
        }).collect::<Vec<_>>(),
        "components": { "schemas": schemas, "errors": errors },
    });
    // Subscription streams and typed channels are centrpc's extensions of OpenRPC: present only
    // when the API has them, so a plain RPC API's document is unchanged.
    if !streams.is_empty() {
        document["x-streams"] = Value::Array(streams);
    }
    if !channels.is_empty() {
        document["x-channels"] = Value::Array(channels);
    }
    // Typed connect data, reply data and info; untyped ones (raw bytes, any JSON) are left out.
    let typed = connect_data
        .map(|d| ("data", d))
        .into_iter()
        .chain(connect_reply.into_iter().filter(|(_, s)| !says_nothing(s)));
    let connect: Map<String, Value> = typed
        .map(|(name, schema)| (name.to_owned(), json!({ "name": name, "schema": schema })))
        .collect();
    if !connect.is_empty() {
        document["x-connect"] = Value::Object(connect);
    }
    (document, named)
}

/// `defs` with the definitions `names` maps renamed, and every reference to them.
fn renamed(
    defs: BTreeMap<String, Value>,
    names: &BTreeMap<String, String>,
) -> BTreeMap<String, Value> {
    defs.into_iter()
        .map(|(name, mut schema)| {
            rewrite_refs(&mut schema, names);
            (names.get(&name).cloned().unwrap_or(name), schema)
        })
        .collect()
}

/// The errors a method or stream may answer with: the built-ins by reference, then its own.
fn declared_errors(own: &[crate::DeclaredError]) -> Vec<Value> {
    BUILTIN_ERRORS
        .iter()
        .map(|e| json!({ "$ref": format!("#/components/errors/{}", e.name) }))
        .chain(own.iter().map(|e| {
            json!({
                "code": e.code,
                "message": e.name,
                "data": { "description": e.description, "temporary": e.temporary },
            })
        }))
        .collect()
}

/// Whether a schema allows any JSON value (`true`, `{}`): that of `serde_json::Value`.
fn says_nothing(schema: &Value) -> bool {
    *schema == Value::Bool(true) || schema.as_object().is_some_and(Map::is_empty)
}

/// Whether a params schema accepts JSON `null` (then the params may be left out).
fn accepts_null(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(|a| a.get("type") == Some(&json!("null")))),
    }
}

/// Renames the references in `schema` to the definitions `renames` maps.
fn rewrite_refs(schema: &mut Value, renames: &BTreeMap<String, String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(new) = r.strip_prefix(DEFINITIONS).and_then(|n| renames.get(n)) {
                    *r = format!("{DEFINITIONS}{new}");
                }
            }
            map.values_mut().for_each(|v| rewrite_refs(v, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

/// Reads an API document from `path`.
pub fn read_document(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a JSON document: {e}", path.display()))
}

/// The document as pretty JSON with a trailing newline, the form `schema` writes.
pub fn to_string(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("JSON encodes");
    text.push('\n');
    text
}
