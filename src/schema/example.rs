//! Example values built from the API document's JSON Schemas: what `call --example` prints and
//! what the docs page's console is prefilled with. An example fits its schema: every required
//! field, the first alternative of an enum or union, one item of an array, `examples` or
//! `default` when the schema gives them, and bounds (`minimum`, `minLength`) respected.

use serde_json::{json, Map, Value};

use super::DEFINITIONS;

/// How deep examples follow nested and recursive types before settling for the smallest value.
const MAX_DEPTH: usize = 12;

/// An example value for `schema`, resolving `$ref`s against `document`'s `components.schemas`.
pub(crate) fn example(schema: &Value, document: &Value) -> Value {
    build(schema, document, 0)
}

/// The params schema of `method` in `document`, if the method exists.
pub(crate) fn params_schema<'a>(document: &'a Value, method: &str) -> Option<&'a Value> {
    find_method(document, method).map(|m| &m["params"][0]["schema"])
}

fn find_method<'a>(document: &'a Value, method: &str) -> Option<&'a Value> {
    document["methods"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == method)
}

/// The definition a `$ref` points to.
pub(crate) fn resolve<'a>(reference: &str, document: &'a Value) -> Option<&'a Value> {
    let name = reference.strip_prefix(DEFINITIONS)?;
    document["components"]["schemas"].get(name)
}

fn build(schema: &Value, document: &Value, depth: usize) -> Value {
    let Some(obj) = schema.as_object() else {
        // `true` (anything) or `false` (nothing): null is the least surprising.
        return Value::Null;
    };
    if let Some(v) = obj
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return v.clone();
    }
    if let Some(v) = obj.get("default") {
        return v.clone();
    }
    if let Some(v) = obj.get("const") {
        return v.clone();
    }
    if let Some(v) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|v| !v.is_null()).or(e.first()))
    {
        return v.clone();
    }
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        return match resolve(r, document) {
            Some(target) if depth < MAX_DEPTH => build(target, document, depth + 1),
            _ => Value::Null,
        };
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = obj.get(key).and_then(Value::as_array) {
            // Prefer an alternative that is not plain null: it shows the shape to fill in.
            let pick = alts.iter().find(|a| !is_null_schema(a)).or(alts.first());
            let mut value = pick.map_or(Value::Null, |a| build(a, document, depth + 1));
            // Sibling properties of the union (internally tagged enums put fields next to it).
            if let (Value::Object(map), Some(Value::Object(_))) =
                (&mut value, obj.get("properties"))
            {
                if let Value::Object(extra) = object(obj, document, depth) {
                    for (k, v) in extra {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            return value;
        }
    }
    if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(m) = build(part, document, depth + 1) {
                merged.extend(m);
            }
        }
        return Value::Object(merged);
    }
    let types: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if obj.contains_key("properties") => vec!["object"],
        _ => vec![],
    };
    let ty = types
        .iter()
        .find(|t| **t != "null")
        .or(types.first())
        .copied();
    match ty {
        Some("object") => object(obj, document, depth),
        Some("array") => {
            let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            if let Some(prefix) = obj.get("prefixItems").and_then(Value::as_array) {
                return Value::Array(
                    prefix
                        .iter()
                        .map(|p| build(p, document, depth + 1))
                        .collect(),
                );
            }
            let item = obj.get("items").cloned().unwrap_or(Value::Bool(true));
            let n = if depth >= MAX_DEPTH { min } else { min.max(1) };
            Value::Array(
                (0..n.min(16))
                    .map(|_| build(&item, document, depth + 1))
                    .collect(),
            )
        }
        Some("string") => string(obj),
        Some("integer") => json!(number(obj).round() as i64),
        Some("number") => json!(number(obj)),
        Some("boolean") => json!(false),
        Some("null") | None => Value::Null,
        Some(_) => Value::Null,
    }
}

fn object(obj: &Map<String, Value>, document: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            // Optional fields are shown too (one level deep is enough to see the shape), except
            // where a recursive type would run on.
            if required.contains(&name.as_str()) || depth < 2 {
                out.insert(name.clone(), build(prop, document, depth + 1));
            }
        }
    }
    if out.is_empty() && depth < MAX_DEPTH {
        if let Some(values) = obj.get("additionalProperties").filter(|v| v.is_object()) {
            out.insert("key".into(), build(values, document, depth + 1));
        }
    }
    Value::Object(out)
}

fn string(obj: &Map<String, Value>) -> Value {
    let by_format = match obj.get("format").and_then(Value::as_str) {
        Some("date-time") => Some("2025-01-01T12:00:00Z"),
        Some("date") => Some("2025-01-01"),
        Some("time") => Some("12:00:00"),
        Some("uuid") => Some("00000000-0000-4000-8000-000000000000"),
        Some("email") => Some("user@example.com"),
        Some("uri") => Some("https://example.com"),
        Some("ipv4") => Some("127.0.0.1"),
        Some("ipv6") => Some("::1"),
        _ => None,
    };
    let mut s = by_format.unwrap_or("string").to_owned();
    let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    while s.chars().count() < min {
        s.push('x');
    }
    if let Some(max) = obj.get("maxLength").and_then(Value::as_u64) {
        s = s.chars().take(max as usize).collect();
    }
    Value::String(s)
}

fn number(obj: &Map<String, Value>) -> f64 {
    let get = |k: &str| obj.get(k).and_then(Value::as_f64);
    match (
        get("minimum"),
        get("exclusiveMinimum"),
        get("maximum"),
        get("exclusiveMaximum"),
    ) {
        (Some(min), ..) => min.max(0.0).min(get("maximum").unwrap_or(f64::MAX)),
        (None, Some(min), ..) => min.max(0.0) + 1.0,
        (None, None, Some(max), _) => max.min(0.0),
        (None, None, None, Some(max)) => max.min(1.0) - 1.0,
        _ => 0.0,
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type") == Some(&json!("null")) || schema.get("const") == Some(&Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_refs_enums_formats_and_bounds() {
        let doc = json!({"components": {"schemas": {
            "Kind": {"type": "string", "enum": ["low", "high"]},
            "Item": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "format": "uint64", "minimum": 0},
                "kind": {"$ref": "#/components/schemas/Kind"},
                "at": {"type": "string", "format": "date-time"}
            }}
        }}});
        assert_eq!(
            example(&json!({"$ref": "#/components/schemas/Item"}), &doc),
            json!({"id": 0, "kind": "low", "at": "2025-01-01T12:00:00Z"})
        );
        let schema = json!({"type": "object", "required": ["items", "name"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "name": {"type": "string", "minLength": 8},
            "limit": {"type": ["integer", "null"], "default": 10}
        }});
        assert_eq!(
            example(&schema, &doc),
            json!({
                // Optional fields are shown two levels deep; below that only required ones.
                "items": [{"id": 0}],
                "name": "stringxx",
                "limit": 10
            })
        );
    }

    #[test]
    fn recursive_types_terminate() {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "required": ["children"], "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
            }}
        }}});
        let v = example(&json!({"$ref": "#/components/schemas/Node"}), &doc);
        assert!(v.is_object());
    }
}
