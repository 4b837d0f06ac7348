//! Names for the instantiations of generic types. schemars 1.x names every instantiation after
//! the type alone and numbers the later ones (`Page<Meta>` is `Page`, `Page<String>` `Page2`);
//! here each is named after its arguments instead: `PageMeta`, `PageString`, `PagePageMeta` for
//! `Page<Page<Meta>>`, `PageU32` for `Page<u32>`.
//!
//! Generic types are found among the definitions of one generator that holds every type of the
//! API: a name and its numbered twins (`Page`, `Page2`, …) with the same description and fields;
//! their instantiations are then named in the document's read and written definitions, which
//! number them in their own order.
//! Their arguments are what differs between their schemas: each position where they differ names
//! one argument, after the type it refers to (`Meta`), its primitive (`String`, `U32`, `I64`,
//! `F64`, `Bool`…), or the element of a list, map or option (`Vec<Meta>`, `Option<Meta>` and
//! `BTreeMap<String, Meta>` are all `Meta`). So structure the instantiations share drops out of
//! their names: `Page<Vec<u32>>` and `Page<Vec<String>>` are `PageU32` and `PageString`.
//!
//! Instantiations that show no difference, an argument that is none of the above (an inline
//! struct or enum, a tuple) or that refers back to its instantiation, two instantiations given one
//! name, or a name another type has, are refused: the generic type then needs a name per instantiation,
//! `#[schemars(rename = "Page_for_{T}")]`, which makes its names distinct for schemars already.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{rewrite_refs, DEFINITIONS};

/// Definitions by name.
type Definitions = BTreeMap<String, Value>;

/// The generic types of an API, each with where its instantiations differ.
pub(crate) struct Generics(Vec<Family>);

impl Generics {
    /// Finds the generic types among `all`, the definitions of one generator that holds every
    /// type of the API, and checks that all their instantiations there can be named.
    pub(crate) fn of(all: &Definitions) -> Result<Self, String> {
        let generics = Self(families(all)?);
        generics.names(all)?;
        Ok(generics)
    }

    /// The names schemars gave to instantiations among `defs`, each mapped to its name after its
    /// arguments. `defs` may hold fewer types than those the generic types were found in, and
    /// number them differently.
    pub(crate) fn names(&self, defs: &Definitions) -> Result<BTreeMap<String, String>, String> {
        let mut naming = Naming {
            defs,
            family: defs
                .iter()
                .filter_map(|(name, schema)| {
                    // The first family it fits, as in `families`.
                    self.0
                        .iter()
                        .find(|f| number(&f.base, name).is_some() && shape(schema) == f.shape)
                        .map(|f| (name.as_str(), f))
                })
                .collect(),
            names: BTreeMap::new(),
            pending: BTreeSet::new(),
        };
        for member in naming.family.keys().copied().collect::<Vec<_>>() {
            naming.name(member)?;
        }
        let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
        for (member, new) in &naming.names {
            let base = &naming.family[member.as_str()].base;
            if let Some(other) = owners.insert(new, member) {
                return Err(refusal(
                    base,
                    &format!(
                        "the instantiations `{other}` and `{member}` of the generic type `{base}` \
                         would both be named `{new}` after their arguments"
                    ),
                ));
            }
            if defs.contains_key(new) && !naming.family.contains_key(new.as_str()) {
                return Err(refusal(
                    base,
                    &format!(
                        "the name `{new}` derived for the instantiation `{member}` of the \
                         generic type `{base}` is taken by another type"
                    ),
                ));
            }
        }
        Ok(naming.names)
    }
}

/// The instantiations of one generic type: its name, what they share, where they differ.
struct Family {
    /// The name of the generic type, the one schemars gives its first instantiation.
    base: String,
    /// The description, field names and union-ness all instantiations share.
    shape: Shape,
    /// JSON pointers into the instantiations' schemas at which they differ: one per argument.
    arguments: Vec<String>,
}

/// The families among `defs`, in order of their names' length: a name with its numbered twins
/// of the same [`Shape`].
fn families(defs: &Definitions) -> Result<Vec<Family>, String> {
    let mut bases: Vec<&String> = defs.keys().collect();
    bases.sort_by_key(|name| name.len());
    let mut claimed: BTreeSet<&String> = BTreeSet::new();
    let mut families = Vec::new();
    for base in bases {
        if claimed.contains(base) {
            continue;
        }
        let family_shape = shape(&defs[base]);
        let mut twins: Vec<(u64, &String)> = defs
            .iter()
            .filter(|(name, schema)| !claimed.contains(name) && shape(schema) == family_shape)
            .filter_map(|(name, _)| Some((number(base, name)?, name)))
            .collect();
        if twins.len() < 2 {
            continue;
        }
        twins.sort_unstable();
        claimed.extend(twins.iter().map(|(_, name)| *name));
        // A twin's references to itself are alike in every twin (a recursive generic type).
        let schemas: Vec<Value> = twins
            .iter()
            .map(|(_, name)| {
                let mut schema = defs[*name].clone();
                rewrite_refs(
                    &mut schema,
                    &BTreeMap::from([((*name).clone(), String::new())]),
                );
                schema
            })
            .collect();
        let mut arguments = Vec::new();
        differences(&schemas.iter().collect::<Vec<_>>(), "", &mut arguments);
        if arguments.is_empty() {
            let twins: Vec<String> = twins.iter().map(|(_, name)| format!("`{name}`")).collect();
            return Err(refusal(
                base,
                &format!(
                    "the instantiations of the generic type `{base}` ({}) differ in no argument \
                     the API document shows, so they cannot be named after their arguments",
                    twins.join(", ")
                ),
            ));
        }
        families.push(Family {
            base: base.clone(),
            shape: family_shape,
            arguments,
        });
    }
    Ok(families)
}

/// What the instantiations of one generic type share: description, field names, being a union.
type Shape = (Option<Value>, Vec<String>, bool);

/// The [`Shape`] of a definition.
fn shape(schema: &Value) -> Shape {
    (
        schema.get("description").cloned(),
        schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
        schema.get("oneOf").is_some(),
    )
}

/// The number schemars gave `name` as a twin of `base`: 1 for `base` itself, `n` for `{base}{n}`.
fn number(base: &str, name: &str) -> Option<u64> {
    match name.strip_prefix(base)? {
        "" => Some(1),
        digits if !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().ok().filter(|n| *n >= 2)
        }
        _ => None,
    }
}

/// Keywords whose value is one schema.
const SUBSCHEMA: [&str; 10] = [
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
];
/// Keywords whose value maps names to schemas.
const SUBSCHEMA_MAP: [&str; 4] = [
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];
/// Keywords whose value is a list of schemas.
const SUBSCHEMA_LIST: [&str; 4] = ["anyOf", "oneOf", "allOf", "prefixItems"];

/// Appends to `out` the JSON pointers (under `at`) of the outermost schemas in which `schemas`
/// differ, in document order. Schemas differing only in subschemas are descended into; which
/// fields are `required` follows from the arguments (an `Option` one is not) and is passed over.
fn differences(schemas: &[&Value], at: &str, out: &mut Vec<String>) {
    fn keys(o: &serde_json::Map<String, Value>) -> BTreeSet<&String> {
        o.keys().collect()
    }
    let first = schemas[0];
    if schemas.iter().all(|s| *s == first) {
        return;
    }
    let Some(objects) = schemas
        .iter()
        .map(|s| s.as_object())
        .collect::<Option<Vec<_>>>()
    else {
        out.push(at.to_owned());
        return;
    };
    let differing: Vec<&String> = objects[0]
        .iter()
        .filter(|(key, value)| objects.iter().any(|o| o.get(*key) != Some(*value)))
        .map(|(key, _)| key)
        .collect();
    let descend = objects.iter().all(|o| keys(o) == keys(objects[0]))
        && differing.iter().all(|key| {
            let values = || objects.iter().map(|o| &o[key.as_str()]);
            key.as_str() == "required"
                || SUBSCHEMA.contains(&key.as_str())
                || (SUBSCHEMA_MAP.contains(&key.as_str())
                    && values()
                        .all(|v| v.as_object().map(keys) == objects[0][*key].as_object().map(keys)))
                || (SUBSCHEMA_LIST.contains(&key.as_str())
                    && values().all(|v| {
                        v.as_array().map(Vec::len) == objects[0][*key].as_array().map(Vec::len)
                    }))
        });
    if !descend {
        out.push(at.to_owned());
        return;
    }
    for key in differing {
        let values: Vec<&Value> = objects.iter().map(|o| &o[key.as_str()]).collect();
        let here = format!("{at}/{}", escape(key));
        if SUBSCHEMA.contains(&key.as_str()) {
            differences(&values, &here, out);
        } else if SUBSCHEMA_MAP.contains(&key.as_str()) {
            for entry in values[0].as_object().into_iter().flat_map(|m| m.keys()) {
                let entries: Vec<&Value> = values.iter().map(|v| &v[entry.as_str()]).collect();
                differences(&entries, &format!("{here}/{}", escape(entry)), out);
            }
        } else if SUBSCHEMA_LIST.contains(&key.as_str()) {
            for i in 0..values[0].as_array().map_or(0, Vec::len) {
                let items: Vec<&Value> = values.iter().map(|v| &v[i]).collect();
                differences(&items, &format!("{here}/{i}"), out);
            }
        }
    }
}

/// `key` as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The refusal of a generic type whose instantiations cannot be named after their arguments.
fn refusal(base: &str, why: &str) -> String {
    format!(
        "{why}; give each instantiation its own name, e.g. \
         `#[schemars(rename = \"{base}_for_{{T}}\")]` on the generic type"
    )
}

/// Names instantiations after their arguments, those that refer to others after theirs.
struct Naming<'a> {
    defs: &'a Definitions,
    family: BTreeMap<&'a str, &'a Family>,
    names: BTreeMap<String, String>,
    /// Instantiations being named, to refuse one whose argument refers back to it.
    pending: BTreeSet<String>,
}

impl Naming<'_> {
    /// The name of the definition `name`: after its arguments if it is an instantiation.
    fn name(&mut self, name: &str) -> Result<String, String> {
        let Some(family) = self.family.get(name).copied() else {
            return Ok(name.to_owned());
        };
        if let Some(new) = self.names.get(name) {
            return Ok(new.clone());
        }
        let base = &family.base;
        let cannot = |why: &str| {
            refusal(
                base,
                &format!(
                    "the instantiation `{name}` of the generic type `{base}` cannot be named \
                     after its arguments: {why}"
                ),
            )
        };
        if !self.pending.insert(name.to_owned()) {
            return Err(cannot("they refer back to it"));
        }
        let mut new = base.clone();
        for at in &family.arguments {
            let argument = self.defs[name].pointer(at).unwrap_or(&Value::Null);
            match self.argument(argument)? {
                Some(part) => new.push_str(&part),
                None => {
                    return Err(cannot(&format!(
                        "the argument at `{at}` is not a named type, a primitive, or a list, \
                         map or option of one"
                    )))
                }
            }
        }
        self.pending.remove(name);
        self.names.insert(name.to_owned(), new.clone());
        Ok(new)
    }

    /// The name of an argument's schema, or `None` when it is not one this module names.
    fn argument(&mut self, schema: &Value) -> Result<Option<String>, String> {
        let Some(object) = schema.as_object() else {
            // `true`: any JSON value.
            return Ok((*schema == Value::Bool(true)).then(|| "Value".to_owned()));
        };
        if object.is_empty() {
            return Ok(Some("Value".to_owned()));
        }
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            return match reference.strip_prefix(DEFINITIONS) {
                Some(target) => self.name(target).map(Some),
                None => Ok(None),
            };
        }
        let null = |s: &Value| s.get("type").and_then(Value::as_str) == Some("null");
        // An option: the other alternative.
        if let Some([a, b]) = object
            .get("anyOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return match (null(a), null(b)) {
                (true, false) => self.argument(b),
                (false, true) => self.argument(a),
                _ => Ok(None),
            };
        }
        let types: Vec<&str> = match object.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return Ok(None),
        };
        let types: Vec<&str> = match types.as_slice() {
            ["null"] => return Ok(Some("Unit".to_owned())),
            _ => types.into_iter().filter(|t| *t != "null").collect(),
        };
        let format = object.get("format").and_then(Value::as_str);
        let name = match types.as_slice() {
            _ if object.contains_key("enum") || object.contains_key("const") => None,
            ["array"] if !object.contains_key("prefixItems") => match object.get("items") {
                Some(items) => return self.argument(items),
                None => None,
            },
            ["object"] => match object.get("additionalProperties") {
                Some(values) if !object.contains_key("properties") => return self.argument(values),
                _ => None,
            },
            ["string"] => Some(format.map_or_else(|| "String".to_owned(), camel)),
            ["integer"] => Some(format.map_or_else(|| "Integer".to_owned(), integer)),
            ["number"] => Some(
                match format {
                    Some("double") => "F64",
                    Some("float") => "F32",
                    _ => "Number",
                }
                .to_owned(),
            ),
            ["boolean"] => Some("Bool".to_owned()),
            _ => None,
        };
        Ok(name)
    }
}

/// An integer format as Rust spells the type: `uint32` → `U32`, `int64` → `I64`, `uint` → `Usize`.
fn integer(format: &str) -> String {
    let (sign, rest) = match format.strip_prefix('u') {
        Some(rest) => ("U", rest),
        None => ("I", format),
    };
    match rest.strip_prefix("int") {
        Some("") => format!("{sign}size"),
        Some(bits) if bits.bytes().all(|b| b.is_ascii_digit()) => format!("{sign}{bits}"),
        _ => camel(format),
    }
}

/// A string format in upper camel case: `date-time` → `DateTime`, `uuid` → `Uuid`.
fn camel(format: &str) -> String {
    format
        .split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
