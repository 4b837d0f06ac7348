//! Sample values of an API's types, read from the model ([`crate::ir`]) once for every language:
//! the zero, minimal and maximal JSON value of a type, each one serde accepts for it. Tests send
//! them from each generated client and compare what comes back.
//!
//! - [`Sample::Zero`]: every required field at its zero (`0`, `""`, `false`, `[]`, `{}`, the
//!   first enum value, the first variant); optional fields left out.
//! - [`Sample::Min`]: required fields only, integers at the minimum of their range, strings
//!   empty, collections empty, the first variant.
//! - [`Sample::Max`]: every optional field set, every collection with one or two elements
//!   (a minimal and a maximal one where they differ), integers at the maximum of their range,
//!   each enum at its last value and each union at its last variant (so `Min` and `Max` together
//!   cover the first and the last).
//!
//! Integer map keys: the API document says whether they are signed, not their width (see
//! [`TypeRef::Map`]), so maximal maps use the ends of the 8-bit range, which every width admits.
//! Floats use small numbers that `f32` and `f64` both represent exactly (an `f32` end would come
//! back as its shortest single-precision form, another `f64`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::ir::{Api, Field, Payload, TypeDef, TypeKind, TypeRef, Variant};

/// Which sample of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sample {
    /// Required fields at their zero, optional ones left out.
    Zero,
    /// Required fields only, integers at their minimum, the first variants.
    Min,
    /// Every optional field set, collections non-empty, integers at their maximum, the last
    /// variants.
    Max,
}

impl Sample {
    /// Every sample, in order.
    pub const ALL: [Sample; 3] = [Sample::Zero, Sample::Min, Sample::Max];

    /// Its name: `zero`, `min`, `max`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Zero => "zero",
            Self::Min => "min",
            Self::Max => "max",
        }
    }
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`, 2^53 − 1).
pub const JS_MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// How many named types deep a maximal sample goes before it continues minimal (so recursive
/// types end: minimal values leave optional fields out, collections empty, and take no variant
/// that leads back to a type they are inside of).
const MAX_DEPTH: usize = 4;

/// The samples of one API's types.
#[derive(Debug, Clone)]
pub struct Samples<'a> {
    types: BTreeMap<&'a str, &'a TypeDef>,
    js_safe: bool,
}

/// Where a value is built: how many named types deep, and the named types whose minimal values
/// it is inside of (a minimal value that needs one of them again has no end).
#[derive(Debug, Clone, Copy)]
struct At<'s, 'a> {
    depth: usize,
    inside: &'s [&'a str],
}

impl<'a> Samples<'a> {
    /// The samples of `api`'s types.
    pub fn new(api: &'a Api) -> Self {
        Self {
            types: api.types.iter().map(|t| (t.name.as_str(), t)).collect(),
            js_safe: false,
        }
    }

    /// The samples with every integer clamped to what a JavaScript number holds exactly
    /// (±[`JS_MAX_SAFE_INTEGER`]): 64-bit integers beyond it are no JS number, so a TypeScript
    /// client cannot send them (map keys are strings on the wire and stay as they are).
    pub fn js_safe(mut self) -> Self {
        self.js_safe = true;
        self
    }

    /// The `sample` of `ty`; `None` when it has none: a reference to an unknown type, or a
    /// recursive type with no finite value (a required field of its own type).
    pub fn of(&self, ty: &TypeRef, sample: Sample) -> Option<Value> {
        self.value(
            ty,
            sample,
            At {
                depth: 0,
                inside: &[],
            },
        )
    }

    /// The `sample` of the named type `name` (see [`Samples::of`]).
    pub fn of_type(&self, name: &str, sample: Sample) -> Option<Value> {
        self.of(
            &TypeRef::Named {
                name: name.to_owned(),
            },
            sample,
        )
    }

    fn value(&self, ty: &TypeRef, sample: Sample, at: At<'_, 'a>) -> Option<Value> {
        use Sample::*;
        Some(match ty {
            TypeRef::String => match sample {
                Zero | Min => json!(""),
                Max => json!("Max ü \"q\" \\ / 😀\n"),
            },
            TypeRef::Bool => json!(sample == Max),
            TypeRef::Integer { .. } => {
                let (lo, hi) = ty.integer_range().expect("an integer type");
                let (lo, hi) = if self.js_safe {
                    (lo.max(-JS_MAX_SAFE_INTEGER), hi.min(JS_MAX_SAFE_INTEGER))
                } else {
                    (lo, hi)
                };
                integer(match sample {
                    Zero => 0,
                    Min => lo,
                    Max => hi,
                })
            }
            TypeRef::Number { .. } => json!(match sample {
                Zero => 0.0,
                Min => -1.5,
                Max => 2.5,
            }),
            TypeRef::DateTime => json!("2024-01-01T00:00:00Z"),
            TypeRef::Uuid => match sample {
                Zero | Min => json!("00000000-0000-0000-0000-000000000000"),
                Max => json!("ffffffff-ffff-ffff-ffff-ffffffffffff"),
            },
            TypeRef::Any => match sample {
                Zero | Min => json!({}),
                Max => json!({"k": [1, "x", null]}),
            },
            TypeRef::Null => Value::Null,
            TypeRef::Nullable { inner } => match sample {
                Zero | Min => Value::Null,
                Max => self.value(inner, Max, at).unwrap_or(Value::Null),
            },
            TypeRef::Array { items } => match sample {
                Zero | Min => json!([]),
                Max => {
                    let min = self.value(items, Min, at)?;
                    let max = self.value(items, Max, at)?;
                    Value::Array(if min == max {
                        vec![max]
                    } else {
                        vec![min, max]
                    })
                }
            },
            TypeRef::Map { keys, values } => match sample {
                Zero | Min => json!({}),
                Max => {
                    let (first, last) = self.keys(keys)?;
                    let mut map = Map::new();
                    map.insert(first, self.value(values, Min, at)?);
                    map.insert(last, self.value(values, Max, at)?);
                    Value::Object(map)
                }
            },
            TypeRef::Named { name } => {
                let (&name, &def) = self.types.get_key_value(name.as_str())?;
                let sample = if sample == Max && at.depth >= MAX_DEPTH {
                    Min
                } else {
                    sample
                };
                let mut inside = at.inside.to_vec();
                if sample != Max {
                    if inside.contains(&name) {
                        return None;
                    }
                    inside.push(name);
                }
                let at = At {
                    depth: at.depth + 1,
                    inside: &inside,
                };
                return self.named(def, sample, at);
            }
        })
    }

    /// The first and the last key of a maximal map with `keys`.
    fn keys(&self, keys: &TypeRef) -> Option<(String, String)> {
        match keys {
            TypeRef::Integer { signed: true, .. } => Some(("-128".into(), "127".into())),
            TypeRef::Integer { signed: false, .. } => Some(("0".into(), "255".into())),
            TypeRef::Named { name } => match &self.types.get(name.as_str())?.kind {
                TypeKind::StringEnum { values } => {
                    Some((values.first()?.value.clone(), values.last()?.value.clone()))
                }
                _ => None,
            },
            _ => Some((String::new(), "key".into())),
        }
    }

    fn named(&self, def: &TypeDef, sample: Sample, at: At<'_, 'a>) -> Option<Value> {
        match &def.kind {
            TypeKind::Struct { fields } => self.fields(fields, sample, at).map(Value::Object),
            TypeKind::StringEnum { values } => {
                let value = match sample {
                    Sample::Zero | Sample::Min => values.first(),
                    Sample::Max => values.last(),
                };
                Some(json!(value?.value))
            }
            TypeKind::Tagged {
                tag,
                content,
                variants,
            } => self.variants(variants, sample, |v| {
                let mut out = Map::new();
                out.insert(tag.clone(), json!(v.tag_value));
                let payload = self.payload(&v.payload, sample, at)?;
                match (content, payload) {
                    (_, None) => {}
                    (Some(content), Some(payload)) => {
                        out.insert(content.clone(), payload);
                    }
                    // Internally tagged: the payload's fields sit next to the tag.
                    (None, Some(Value::Object(fields))) => out.extend(fields),
                    (None, Some(_)) => return None,
                }
                Some(Value::Object(out))
            }),
            TypeKind::External { variants } => self.variants(variants, sample, |v| {
                Some(match self.payload(&v.payload, sample, at)? {
                    None => json!(v.tag_value),
                    Some(payload) => json!({ v.tag_value.clone(): payload }),
                })
            }),
            TypeKind::Untagged { variants } => {
                let tys: Vec<&TypeRef> = variants.iter().map(|v| &v.ty).collect();
                let order: Vec<usize> = match sample {
                    Sample::Zero | Sample::Min => (0..tys.len()).collect(),
                    // serde takes the first alternative that accepts the JSON: the last one
                    // whose JSON no earlier alternative can take.
                    Sample::Max => (0..tys.len())
                        .rev()
                        .filter(|&i| {
                            let earlier: BTreeSet<Kind> = tys[..i]
                                .iter()
                                .flat_map(|t| self.kinds(t, &mut BTreeSet::new()))
                                .collect();
                            self.kinds(tys[i], &mut BTreeSet::new())
                                .is_disjoint(&earlier)
                        })
                        .chain(0..1)
                        .collect(),
                };
                order
                    .into_iter()
                    .find_map(|i| self.value(tys[i], sample, at))
            }
            TypeKind::Alias { target } => self.value(target, sample, at),
        }
    }

    /// The first variant (the last for [`Sample::Max`]) that has a sample, by `build`.
    fn variants(
        &self,
        variants: &[Variant],
        sample: Sample,
        build: impl Fn(&Variant) -> Option<Value>,
    ) -> Option<Value> {
        match sample {
            Sample::Zero | Sample::Min => variants.iter().find_map(build),
            Sample::Max => variants.iter().rev().find_map(build),
        }
    }

    /// A variant's payload: `Some(None)` for a unit variant, `None` when it has no sample.
    fn payload(&self, payload: &Payload, sample: Sample, at: At<'_, 'a>) -> Option<Option<Value>> {
        match payload {
            Payload::Unit => Some(None),
            Payload::Fields { fields, .. } => self
                .fields(fields, sample, at)
                .map(|f| Some(Value::Object(f))),
            Payload::Type { ty } => self.value(ty, sample, at).map(Some),
        }
    }

    /// A struct's fields: the required ones, and for [`Sample::Max`] the optional ones too.
    fn fields(
        &self,
        fields: &[Field],
        sample: Sample,
        at: At<'_, 'a>,
    ) -> Option<Map<String, Value>> {
        let mut out = Map::new();
        for f in fields {
            if f.required {
                out.insert(f.wire.clone(), self.value(&f.ty, sample, at)?);
            } else if sample == Sample::Max {
                if let Some(value) = self.value(&f.ty, sample, at) {
                    out.insert(f.wire.clone(), value);
                }
            }
        }
        Some(out)
    }

    /// The kinds of JSON value `ty` may be (every kind where it cannot tell, e.g. recursion).
    fn kinds(&self, ty: &TypeRef, seen: &mut BTreeSet<String>) -> BTreeSet<Kind> {
        let one = |k: Kind| BTreeSet::from([k]);
        match ty {
            TypeRef::String | TypeRef::DateTime | TypeRef::Uuid => one(Kind::String),
            TypeRef::Bool => one(Kind::Bool),
            TypeRef::Integer { .. } | TypeRef::Number { .. } => one(Kind::Number),
            TypeRef::Null => one(Kind::Null),
            TypeRef::Any => Kind::ALL.into(),
            TypeRef::Array { .. } => one(Kind::Array),
            TypeRef::Map { .. } => one(Kind::Object),
            TypeRef::Nullable { inner } => {
                let mut kinds = self.kinds(inner, seen);
                kinds.insert(Kind::Null);
                kinds
            }
            TypeRef::Named { name } => {
                let Some(def) = self.types.get(name.as_str()) else {
                    return Kind::ALL.into();
                };
                if !seen.insert(name.clone()) {
                    return Kind::ALL.into();
                }
                let kinds = match &def.kind {
                    TypeKind::Struct { .. } | TypeKind::Tagged { .. } => one(Kind::Object),
                    TypeKind::StringEnum { .. } => one(Kind::String),
                    TypeKind::External { variants } => variants
                        .iter()
                        .map(|v| match v.payload {
                            Payload::Unit => Kind::String,
                            _ => Kind::Object,
                        })
                        .collect(),
                    TypeKind::Untagged { variants } => variants
                        .iter()
                        .flat_map(|v| self.kinds(&v.ty, seen))
                        .collect(),
                    TypeKind::Alias { target } => self.kinds(target, seen),
                };
                seen.remove(name);
                kinds
            }
        }
    }
}

/// The kinds of JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Null,
        Kind::Bool,
        Kind::Number,
        Kind::String,
        Kind::Array,
        Kind::Object,
    ];
}

/// An integer as JSON: unsigned when it is not negative (`u64`'s maximum fits), else signed.
fn integer(n: i128) -> Value {
    match u64::try_from(n) {
        Ok(n) => json!(n),
        Err(_) => json!(i64::try_from(n).expect("integers are at most 64-bit")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir;

    /// The model of a document with `schemas` as its definitions.
    fn api(schemas: Value) -> Api {
        ir::read(&json!({
            "openrpc": "1.3.2",
            "info": {"title": "t", "version": "1"},
            "methods": [],
            "components": {"schemas": schemas},
        }))
        .unwrap()
    }

    #[test]
    fn integers_are_at_the_ends_of_their_range_and_js_safe_clamps_them() {
        let api = api(json!({}));
        let i64_ty = TypeRef::Integer {
            bits: 64,
            signed: true,
        };
        let u8_ty = TypeRef::Integer {
            bits: 8,
            signed: false,
        };
        let s = Samples::new(&api);
        assert_eq!(s.of(&i64_ty, Sample::Min), Some(json!(i64::MIN)));
        assert_eq!(s.of(&i64_ty, Sample::Max), Some(json!(i64::MAX)));
        assert_eq!(s.of(&i64_ty, Sample::Zero), Some(json!(0)));
        assert_eq!(s.of(&u8_ty, Sample::Max), Some(json!(255)));
        let js = Samples::new(&api).js_safe();
        assert_eq!(js.of(&i64_ty, Sample::Min), Some(json!(-(1i64 << 53) + 1)));
        assert_eq!(js.of(&i64_ty, Sample::Max), Some(json!((1u64 << 53) - 1)));
        assert_eq!(js.of(&u8_ty, Sample::Max), Some(json!(255)));
    }

    #[test]
    fn optional_fields_are_set_only_in_max_and_recursion_ends() {
        let api = api(json!({
            "Tree": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
                    "parent": {"anyOf": [{"$ref": "#/components/schemas/Tree"}, {"type": "null"}]},
                },
                "required": ["label", "children"],
            },
        }));
        let s = Samples::new(&api);
        assert_eq!(
            s.of_type("Tree", Sample::Zero),
            Some(json!({"label": "", "children": []}))
        );
        let max = s.of_type("Tree", Sample::Max).unwrap();
        assert!(max["parent"].is_object(), "{max}");
        assert_eq!(max["children"].as_array().map(Vec::len), Some(2), "{max}");
        // Deep down, the maximal sample continues minimal: the recursion ends.
        let mut depth = 0;
        let mut node = &max;
        while let Some(parent) = node.get("parent") {
            node = parent;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH, "{max}");
    }

    #[test]
    fn unions_take_their_first_variant_and_max_the_last_unambiguous_one() {
        let api = api(json!({
            "Scalar": {"anyOf": [
                {"type": "number"},
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "string", "format": "uuid"},
            ]},
            "Shape": {"oneOf": [
                {"type": "object", "properties": {"kind": {"type": "string", "const": "empty"}},
                 "required": ["kind"]},
                {"type": "object", "properties": {"kind": {"type": "string", "const": "circle"},
                 "r": {"type": "integer", "format": "uint8"}}, "required": ["kind", "r"]},
            ]},
            "Command": {"oneOf": [
                {"type": "string", "const": "Start"},
                {"type": "object", "properties": {"Rename": {"type": "string"}},
                 "required": ["Rename"], "additionalProperties": false},
            ]},
        }));
        let s = Samples::new(&api);
        assert_eq!(s.of_type("Scalar", Sample::Min), Some(json!(-1.5)));
        // The uuid would read as the string alternative: the list is the last unambiguous one.
        assert_eq!(
            s.of_type("Scalar", Sample::Max),
            Some(json!(["", "Max ü \"q\" \\ / 😀\n"]))
        );
        assert_eq!(
            s.of_type("Shape", Sample::Zero),
            Some(json!({"kind": "empty"}))
        );
        assert_eq!(
            s.of_type("Shape", Sample::Max),
            Some(json!({"kind": "circle", "r": 255}))
        );
        assert_eq!(s.of_type("Command", Sample::Min), Some(json!("Start")));
        assert_eq!(
            s.of_type("Command", Sample::Max),
            Some(json!({"Rename": "Max ü \"q\" \\ / 😀\n"}))
        );
    }

    #[test]
    fn a_type_without_a_finite_value_has_no_sample() {
        let api = api(json!({
            "Loop": {
                "type": "object",
                "properties": {"next": {"$ref": "#/components/schemas/Loop"}},
                "required": ["next"],
            },
        }));
        assert_eq!(Samples::new(&api).of_type("Loop", Sample::Zero), None);
        assert_eq!(Samples::new(&api).of_type("Missing", Sample::Zero), None);
    }

    #[test]
    fn a_minimal_value_takes_a_variant_that_ends_even_when_it_is_not_the_first() {
        let api = api(json!({
            "Expr": {"oneOf": [
                {"type": "object", "properties": {"Add": {"$ref": "#/components/schemas/Pair"}},
                 "required": ["Add"], "additionalProperties": false},
                {"type": "string", "const": "Lit"},
            ]},
            "Pair": {
                "type": "object",
                "properties": {
                    "l": {"$ref": "#/components/schemas/Expr"},
                    "r": {"$ref": "#/components/schemas/Expr"},
                },
                "required": ["l", "r"],
            },
        }));
        let s = Samples::new(&api);
        assert_eq!(s.of_type("Expr", Sample::Min), Some(json!("Lit")));
        assert_eq!(
            s.of_type("Pair", Sample::Zero),
            Some(json!({"l": "Lit", "r": "Lit"}))
        );
        assert_eq!(s.of_type("Expr", Sample::Max), Some(json!("Lit")));
    }
}
