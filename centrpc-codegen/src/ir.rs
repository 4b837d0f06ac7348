//! The language-neutral model the generators render: methods and named types read from the API
//! document's JSON Schemas, with serde's enum representations recognised (unit, internally /
//! adjacently / externally tagged, untagged), inline variant structs hoisted into named types,
//! names split into words, and collisions and unsupported constructs reported by type and field
//! (collisions through [`Namespace`], the bookkeeping every emitter shares).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::DEFINITIONS;
use crate::{naming::words, CodegenError};

mod namespace;
pub use namespace::{Dialect, Namespace};

/// The whole API.
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// The API's name (`info.title`).
    pub title: String,
    /// The API's version.
    pub version: String,
    /// Methods, sorted by name.
    pub methods: Vec<Method>,
    /// Named types, sorted by name (definitions plus hoisted variant structs).
    pub types: Vec<TypeDef>,
    /// The built-in error codes.
    pub errors: Vec<ErrorCode>,
    /// The application errors methods and streams declare, one per code, sorted by code. Every
    /// declaration of a code must use one name; the description and `temporary` flag are those
    /// of its first declaration (methods by name, then streams by pattern), while each method's
    /// and stream's own `errors` keep theirs.
    pub app_errors: Vec<AppError>,
    /// Subscription streams, sorted by pattern (document key `x-streams`).
    pub streams: Vec<Stream>,
    /// Typed channels, sorted by name (document key `x-channels`).
    pub channels: Vec<Channel>,
    /// The connect hook's typed parts (document key `x-connect`).
    pub connect: Connect,
}

/// What the connect hook reads and answers, where the application typed it: each part is `None`
/// when untyped (raw data, any JSON), and clients then keep the SDK's untyped form.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Connect {
    /// The connect data clients send.
    pub data: Option<TypeRef>,
    /// The data of the connect reply clients receive.
    pub reply_data: Option<TypeRef>,
    /// The connection's public info (what other clients see in presence and join/leave).
    pub info: Option<TypeRef>,
}

/// A subscription stream: the client subscribes to a channel of `pattern` with `params` as its
/// subscribe data, and receives `item`s; when bidirectional, it may also publish `publication`s.
#[derive(Debug, Clone, Serialize)]
pub struct Stream {
    /// The channel pattern, e.g. `watch:tasks` or `tally:*`.
    pub pattern: String,
    /// The channel, or its prefix when `keyed`: `watch:tasks`, `tally:`.
    pub prefix: String,
    /// Whether the pattern ends with `*`: the client names the rest (its `key` argument).
    pub keyed: bool,
    /// Its words, e.g. `["watch", "tasks"]`, `["tally"]`; languages join them in their case.
    pub words: Vec<String>,
    /// From `StreamDef::describe`.
    pub description: Option<String>,
    /// The params type (the subscribe data); `None` for `()`.
    pub params: Option<TypeRef>,
    /// The type of each item.
    pub item: TypeRef,
    /// What the subscriber publishes; `Some` exactly for bidirectional streams.
    pub publication: Option<TypeRef>,
    /// The application errors a subscribe may be refused with (besides the built-in ones), in
    /// declaration order.
    pub errors: Vec<AppError>,
}

/// A typed channel: what is published into the channels of `pattern`, and what clients may
/// publish into them (`client_publication`, when they may).
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    /// The name clients know it by, e.g. `tasks`.
    pub name: String,
    /// Its words, e.g. `["tasks"]`.
    pub words: Vec<String>,
    /// The pattern, e.g. `tasks:*`, `#*`.
    pub pattern: String,
    /// The channel, or its prefix when `keyed`: `tasks:`, `#`.
    pub prefix: String,
    /// Whether the pattern ends with `*`: the client names the rest (its `key` argument).
    pub keyed: bool,
    /// From `Channel::describe`.
    pub description: Option<String>,
    /// The type of its publications.
    pub publication: TypeRef,
    /// The type of client publications, when clients may publish.
    pub client_publication: Option<TypeRef>,
}

/// One RPC method.
#[derive(Debug, Clone, Serialize)]
pub struct Method {
    /// The Centrifugo method name, e.g. `tasks.get_stats`.
    pub name: String,
    /// Its words, e.g. `["tasks", "get", "stats"]`; languages join them in their own case.
    pub words: Vec<String>,
    /// From `MethodDef::describe`.
    pub description: Option<String>,
    /// The params type; `None` when the method takes no params (`()`).
    pub params: Option<TypeRef>,
    /// The result type (`Null` for `()`).
    pub result: TypeRef,
    /// The application errors the method may return (besides the built-in ones), in
    /// declaration order.
    pub errors: Vec<AppError>,
    /// Whether the method is idempotent (`"x-idempotent": true`): the clients' opt-in retry
    /// policy applies to it.
    pub idempotent: bool,
}

/// An application error a method or stream declares (centrpc's `DeclaredError`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppError {
    /// The declared name, e.g. `TASK_NOT_FOUND`.
    pub name: String,
    /// Its words, e.g. `["task", "not", "found"]`; languages join them in their case.
    pub words: Vec<String>,
    /// The code, e.g. `1004`.
    pub code: u64,
    /// When it is returned.
    pub description: String,
    /// Whether retrying may help.
    pub temporary: bool,
}

impl AppError {
    /// Its description as one sentence on one line (its name when it has none), then
    /// `Temporary: a retry may succeed.` when it is: what every client's docs say of it.
    pub fn meaning(&self) -> String {
        let description = self
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let description = if description.is_empty() {
            self.name.clone()
        } else {
            description
        };
        let mut out = description.trim_end_matches('.').to_owned();
        if let Some(first) = out.chars().next() {
            out.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
        }
        out.push('.');
        if self.temporary {
            out.push_str(" Temporary: a retry may succeed.");
        }
        out
    }
}

/// A built-in error code.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorCode {
    /// Constant name, e.g. `METHOD_NOT_FOUND`.
    pub name: String,
    /// The code.
    pub code: u64,
    /// What it means.
    pub message: String,
    /// Whether retrying may help.
    pub temporary: bool,
}

/// A named type.
#[derive(Debug, Clone, Serialize)]
pub struct TypeDef {
    /// The name as in the document (the Rust type name, or `<Parent><Variant>` when hoisted).
    pub name: String,
    /// Its words.
    pub words: Vec<String>,
    /// Doc comment.
    pub description: Option<String>,
    /// What it is.
    pub kind: TypeKind,
    /// For the params-side copy of a type whose two serde contracts differ (`EverythingInput`),
    /// the type it copies (`Everything`, what results carry): a result of that type read back
    /// through the copy's contract is what the server would read (document key `x-input-of`).
    pub input_of: Option<String>,
}

/// The shape of a named type.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeKind {
    /// An object with named fields.
    Struct {
        /// Fields, sorted by wire name.
        fields: Vec<Field>,
    },
    /// A unit-only enum: one of these strings.
    StringEnum {
        /// The values.
        values: Vec<EnumValue>,
    },
    /// `#[serde(tag = "…")]` (internally tagged, `content` is `None`) or
    /// `#[serde(tag = "…", content = "…")]` (adjacently tagged).
    Tagged {
        /// The tag property.
        tag: String,
        /// The content property, for adjacently tagged enums.
        content: Option<String>,
        /// The variants.
        variants: Vec<Variant>,
    },
    /// serde's default: a unit variant is the string `"Name"`, others `{"Name": payload}`.
    External {
        /// The variants; `tag_value` is the wire key.
        variants: Vec<Variant>,
    },
    /// `#[serde(untagged)]`: the first alternative that fits.
    Untagged {
        /// The alternatives, in order.
        variants: Vec<UntaggedVariant>,
    },
    /// Another type under this name (newtypes such as `struct TaskId(u64)`).
    Alias {
        /// The target type.
        target: TypeRef,
    },
}

/// A struct field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The JSON key.
    pub wire: String,
    /// Its words, for language-specific names.
    pub words: Vec<String>,
    /// Doc comment.
    pub description: Option<String>,
    /// The type (wrapped in `Nullable` when JSON `null` is allowed).
    pub ty: TypeRef,
    /// Whether the key is always present. On params types (deserialize contract) `false` means
    /// the caller may leave it out; on result types (serialize contract) that the server may.
    pub required: bool,
    /// The value the server uses when the key is left out, if declared (`#[serde(default = …)]`).
    pub default: Option<Value>,
}

/// A value of a [`TypeKind::StringEnum`].
#[derive(Debug, Clone, Serialize)]
pub struct EnumValue {
    /// The string on the wire.
    pub value: String,
    /// Its words.
    pub words: Vec<String>,
    /// Doc comment.
    pub description: Option<String>,
}

/// A variant of a tagged or externally tagged enum.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// The tag value (internally/adjacently) or the wire key (externally tagged).
    pub tag_value: String,
    /// Its words.
    pub words: Vec<String>,
    /// Doc comment.
    pub description: Option<String>,
    /// What it carries.
    pub payload: Payload,
}

/// What an enum variant carries.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// Nothing (only the tag).
    Unit,
    /// Named fields. For internally tagged enums they sit next to the tag; otherwise they form
    /// the content object. `type_name` is the hoisted struct holding exactly these fields.
    Fields {
        /// The hoisted struct's name (`<Enum><Variant>`).
        type_name: String,
        /// The fields (without the tag).
        fields: Vec<Field>,
    },
    /// One value of another type (newtype variants).
    Type {
        /// Its type.
        ty: TypeRef,
    },
}

/// An alternative of an untagged enum.
#[derive(Debug, Clone, Serialize)]
pub struct UntaggedVariant {
    /// Doc comment.
    pub description: Option<String>,
    /// Its type (inline structs are hoisted as `<Enum><n>`).
    pub ty: TypeRef,
}

/// A reference to a type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeRef {
    /// JSON string.
    String,
    /// JSON boolean.
    Bool,
    /// JSON integer of `bits` width (8–64), signed or not.
    Integer {
        /// Width in bits.
        bits: u8,
        /// Signed.
        signed: bool,
    },
    /// JSON number (float) of `bits` width: 32 (`f32`, schemars' `format: float`) or 64.
    Number {
        /// Width in bits.
        bits: u8,
    },
    /// RFC 3339 timestamp string.
    DateTime,
    /// UUID string.
    Uuid,
    /// Any JSON value.
    Any,
    /// JSON `null` only (the unit type `()`).
    Null,
    /// A named type.
    Named {
        /// Its name.
        name: String,
    },
    /// A JSON array.
    Array {
        /// Item type.
        items: Box<TypeRef>,
    },
    /// A JSON object used as a map. Its keys are JSON strings; `keys` says what they hold, as
    /// serde_json writes a Rust map's keys: `String` (any string), `Integer` (the decimal form,
    /// `"7"`, `"-3"`) or `Named` (a [`TypeKind::StringEnum`]: one of its values, `"red"`).
    Map {
        /// Key type: `String`, `Integer` or `Named` (a unit-only enum).
        keys: Box<TypeRef>,
        /// Value type.
        values: Box<TypeRef>,
    },
    /// The inner type or `null`.
    Nullable {
        /// The inner type.
        inner: Box<TypeRef>,
    },
}

/// Where a hoisted variant struct comes from: the enum and the variant whose content it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariantOrigin {
    /// The enum's IR name.
    pub enum_name: String,
    /// The variant's tag value on the wire.
    pub tag_value: String,
    /// The enum's tag property when it is internally tagged (the struct then carries the tag
    /// on the wire itself); `None` for adjacently and externally tagged enums.
    pub internal_tag: Option<String>,
}

impl Api {
    /// Every hoisted variant struct, by name, with where it comes from (its docs say so).
    pub fn variant_origins(&self) -> BTreeMap<String, VariantOrigin> {
        let mut out = BTreeMap::new();
        for t in &self.types {
            let (variants, internal_tag) = match &t.kind {
                TypeKind::Tagged {
                    tag,
                    content,
                    variants,
                } => (variants, content.is_none().then(|| tag.clone())),
                TypeKind::External { variants } => (variants, None),
                _ => continue,
            };
            for v in variants {
                if let Payload::Fields { type_name, .. } = &v.payload {
                    let origin = VariantOrigin {
                        enum_name: t.name.clone(),
                        tag_value: v.tag_value.clone(),
                        internal_tag: internal_tag.clone(),
                    };
                    out.insert(type_name.clone(), origin);
                }
            }
        }
        out
    }

    /// The named type `name` (the types are sorted by name).
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.types[i])
    }

    /// `r` with aliases followed to what they name (a cycle stops where it is).
    pub fn resolve<'r>(&'r self, r: &'r TypeRef) -> &'r TypeRef {
        let mut cur = r;
        for _ in 0..64 {
            match cur {
                TypeRef::Named { name } => match self.type_def(name).map(|d| &d.kind) {
                    Some(TypeKind::Alias { target }) => cur = target,
                    _ => return cur,
                },
                _ => return cur,
            }
        }
        cur
    }

    /// The method the generated READMEs show first: the one whose params are a struct with the
    /// fewest fields a caller must give, all of them scalars (strings, numbers, booleans, unit
    /// enums), so every language can write a literal of it; else the first method without
    /// params; else the first method.
    pub fn example_method(&self) -> Option<&Method> {
        let scalar = |ty: &TypeRef| match self.resolve(ty) {
            TypeRef::String | TypeRef::Bool | TypeRef::Integer { .. } | TypeRef::Number { .. } => {
                true
            }
            TypeRef::Named { name } => matches!(
                self.type_def(name).map(|d| &d.kind),
                Some(TypeKind::StringEnum { values }) if !values.is_empty()
            ),
            _ => false,
        };
        let given = |m: &Method| {
            let Some(TypeRef::Named { name }) = &m.params else {
                return None;
            };
            let Some(TypeKind::Struct { fields }) = self.type_def(name).map(|d| &d.kind) else {
                return None;
            };
            let given: Vec<&Field> = fields
                .iter()
                .filter(|f| f.required && f.default.is_none())
                .collect();
            given.iter().all(|f| scalar(&f.ty)).then_some(given.len())
        };
        self.methods
            .iter()
            .filter_map(|m| Some((given(m)?, m)))
            .min_by_key(|(n, _)| *n)
            .map(|(_, m)| m)
            .or_else(|| self.methods.iter().find(|m| m.params.is_none()))
            .or_else(|| self.methods.first())
    }

    /// The hoisted structs that are the payload of an internally tagged variant, each with its
    /// enum's tag property and the variant's tag value: such a struct carries the tag on the wire.
    pub fn internal_variant_tags(&self) -> BTreeMap<String, (String, String)> {
        self.variant_origins()
            .into_iter()
            .filter_map(|(name, o)| Some((name, (o.internal_tag?, o.tag_value))))
            .collect()
    }
}

impl TypeRef {
    /// Whether the type admits JSON `null`.
    pub fn is_nullable(&self) -> bool {
        matches!(self, Self::Nullable { .. } | Self::Null | Self::Any)
    }

    /// Whether the type is a byte string, serde's `Vec<u8>`: schemars describes it as an array
    /// of `uint8` integers, and serde reads and writes exactly that (an array of numbers 0–255,
    /// never a string), which languages whose JSON libraries write bytes otherwise (Go's
    /// encoding/json: base64) must know.
    pub fn is_bytes(&self) -> bool {
        matches!(self, Self::Array { items } if **items == Self::Integer { bits: 8, signed: false })
    }

    /// The largest magnitude a float type takes: `f32::MAX` for 32-bit floats (serde turns a
    /// larger value into infinity, which it then writes as `null`); `None` otherwise.
    pub fn float_limit(&self) -> Option<f64> {
        match self {
            Self::Number { bits: 32 } => Some(f64::from(f32::MAX)),
            _ => None,
        }
    }

    /// The values an integer type takes (serde refuses any other), e.g. `(0, 4294967295)` for
    /// `u32`; `None` for other types.
    pub fn integer_range(&self) -> Option<(i128, i128)> {
        match *self {
            Self::Integer { bits, signed: true } => {
                let half = 1i128 << (bits.clamp(1, 64) - 1);
                Some((-half, half - 1))
            }
            Self::Integer {
                bits,
                signed: false,
            } => Some((0, (1i128 << bits.clamp(1, 64)) - 1)),
            _ => None,
        }
    }
}

/// Reads the API document into the model.
pub fn read(document: &Value) -> Result<Api, CodegenError> {
    let mut reader = Reader {
        defs: document["components"]["schemas"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        types: BTreeMap::new(),
    };
    let names: Vec<String> = reader.defs.keys().cloned().collect();
    for name in names {
        let schema = reader.defs[&name].clone();
        let def = reader.type_def(&name, &schema)?;
        reader.types.insert(name, def);
    }
    let mut methods = Vec::new();
    for m in document["methods"].as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default().to_owned();
        let at = |what: &str| format!("method `{name}`, {what}");
        let params_schema = &m["params"][0]["schema"];
        let params = match reader.type_ref(params_schema, &at("params"))? {
            TypeRef::Null => None,
            other => Some(other),
        };
        let result = reader.type_ref(&m["result"]["schema"], &at("result"))?;
        methods.push(Method {
            words: words(&name),
            description: m["description"].as_str().map(str::to_owned),
            errors: app_errors(&m["errors"], &at("errors"))?,
            name,
            params,
            result,
            idempotent: m["x-idempotent"] == Value::Bool(true),
        });
    }
    methods.sort_by(|a, b| a.name.cmp(&b.name));
    let mut streams = Vec::new();
    for s in document["x-streams"].as_array().into_iter().flatten() {
        let pattern = s["name"].as_str().unwrap_or_default().to_owned();
        let at = |what: &str| format!("stream `{pattern}`, {what}");
        let params = match reader.type_ref(&s["params"]["schema"], &at("params"))? {
            TypeRef::Null => None,
            other => Some(other),
        };
        let item = reader.type_ref(&s["item"]["schema"], &at("item"))?;
        let publication = match s.get("publication") {
            Some(p) => Some(reader.type_ref(&p["schema"], &at("publication"))?),
            None => None,
        };
        let errors = app_errors(&s["errors"], &at("errors"))?;
        let (prefix, keyed) = split_pattern(&pattern);
        streams.push(Stream {
            errors,
            words: words(&prefix),
            prefix,
            keyed,
            description: s["description"].as_str().map(str::to_owned),
            params,
            item,
            publication,
            pattern,
        });
    }
    streams.sort_by(|a, b| a.pattern.cmp(&b.pattern));
    let mut channels = Vec::new();
    for c in document["x-channels"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or_default().to_owned();
        let pattern = c["pattern"].as_str().unwrap_or_default().to_owned();
        let at = |what: &str| format!("channel `{name}`, {what}");
        let publication = reader.type_ref(&c["publication"]["schema"], &at("publication"))?;
        let client_publication = match c.get("clientPublication") {
            Some(p) => Some(reader.type_ref(&p["schema"], &at("client publication"))?),
            None => None,
        };
        let (prefix, keyed) = split_pattern(&pattern);
        channels.push(Channel {
            words: words(&name),
            name,
            pattern,
            prefix,
            keyed,
            description: c["description"].as_str().map(str::to_owned),
            publication,
            client_publication,
        });
    }
    channels.sort_by(|a, b| a.name.cmp(&b.name));
    let mut connect = Connect::default();
    for (part, slot) in [
        ("data", &mut connect.data),
        ("replyData", &mut connect.reply_data),
        ("info", &mut connect.info),
    ] {
        if let Some(p) = document["x-connect"].get(part) {
            *slot = Some(reader.type_ref(&p["schema"], &format!("connect {part}"))?);
        }
    }
    let errors: Vec<ErrorCode> = document["components"]["errors"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, e)| ErrorCode {
            name: name.clone(),
            code: e["code"].as_u64().unwrap_or_default(),
            message: e["message"].as_str().unwrap_or_default().to_owned(),
            temporary: e["data"]["temporary"].as_bool().unwrap_or(false),
        })
        .collect();
    let api = Api {
        title: document["info"]["title"]
            .as_str()
            .unwrap_or("api")
            .to_owned(),
        version: document["info"]["version"]
            .as_str()
            .unwrap_or("0.0.0")
            .to_owned(),
        app_errors: merge_app_errors(&methods, &streams, &errors)?,
        methods,
        types: reader.types.into_values().collect(),
        errors,
        streams,
        channels,
        connect,
    };
    check_collisions(&api)?;
    Ok(api)
}

/// The application errors of a method's or stream's `errors` list: the entries that are no
/// `$ref` to a built-in error (`{"code", "message": name, "data": {"description", "temporary"}}`).
fn app_errors(list: &Value, at: &str) -> Result<Vec<AppError>, CodegenError> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e.get("$ref").is_none())
        .map(|e| {
            let name = e["message"].as_str().unwrap_or_default();
            let code = e["code"].as_u64().ok_or_else(|| {
                unsupported(
                    at,
                    format!("the application error `{name}` has no non-negative integer code"),
                )
            })?;
            if words(name).is_empty() {
                return Err(unsupported(
                    at,
                    format!(
                        "the application error {code} has no name (a constant-style `message`)"
                    ),
                ));
            }
            Ok(AppError {
                words: words(name),
                name: name.to_owned(),
                code,
                description: e["data"]["description"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                temporary: e["data"]["temporary"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// The API-wide application errors, one per code (sorted by code): the first declaration of
/// each code (methods by name, then streams by pattern). Refuses one code declared under two
/// names, two codes under one name (they would get one constant) and a built-in error's code,
/// naming the declarations.
fn merge_app_errors(
    methods: &[Method],
    streams: &[Stream],
    builtin: &[ErrorCode],
) -> Result<Vec<AppError>, CodegenError> {
    let declarations = methods
        .iter()
        .map(|m| (format!("method `{}`", m.name), &m.errors))
        .chain(
            streams
                .iter()
                .map(|s| (format!("stream `{}`", s.pattern), &s.errors)),
        );
    let mut by_code: BTreeMap<u64, (AppError, String)> = BTreeMap::new();
    let mut by_words: BTreeMap<Vec<String>, (u64, String)> = BTreeMap::new();
    for (owner, errors) in declarations {
        for e in errors {
            if let Some(b) = builtin.iter().find(|b| b.code == e.code) {
                return Err(CodegenError::Collision(format!(
                    "{owner} declares the application error `{}` with code {}, the code of the \
                     built-in error `{}`; use a code in 1000–1999",
                    e.name, e.code, b.name
                )));
            }
            if let Some((first, first_owner)) = by_code.get(&e.code) {
                if first.words != e.words {
                    return Err(CodegenError::Collision(format!(
                        "error code {} is declared as `{}` by {first_owner} and as `{}` by \
                         {owner}; one code needs one name",
                        e.code, first.name, e.name
                    )));
                }
                continue;
            }
            if let Some((code, first_owner)) = by_words.get(&e.words) {
                return Err(CodegenError::Collision(format!(
                    "the application error name `{}` is declared with code {code} by \
                     {first_owner} and with code {} by {owner}; they would get the same \
                     generated constant",
                    e.name, e.code
                )));
            }
            by_words.insert(e.words.clone(), (e.code, owner.clone()));
            by_code.insert(e.code, (e.clone(), owner.clone()));
        }
    }
    Ok(by_code.into_values().map(|(e, _)| e).collect())
}

/// A channel pattern's fixed part, and whether a `*` follows it (`tally:*` → `tally:`, keyed).
fn split_pattern(pattern: &str) -> (String, bool) {
    match pattern.strip_suffix('*') {
        Some(prefix) => (prefix.to_owned(), true),
        None => (pattern.to_owned(), false),
    }
}

struct Reader {
    defs: BTreeMap<String, Value>,
    types: BTreeMap<String, TypeDef>,
}

fn description(schema: &Value) -> Option<String> {
    schema["description"].as_str().map(|s| s.trim().to_owned())
}

fn unsupported(at: &str, problem: impl Into<String>) -> CodegenError {
    CodegenError::Unsupported {
        at: at.to_owned(),
        problem: problem.into(),
    }
}

/// The alternatives of a `oneOf`/`anyOf`, if the schema is one.
fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema["oneOf"]
        .as_array()
        .or_else(|| schema["anyOf"].as_array())
}

fn is_null_schema(s: &Value) -> bool {
    s["type"] == "null"
}

/// The string constants of an alternative: `{"const": "x"}` or `{"enum": ["x", "y"]}` (schemars
/// merges undocumented unit variants into one `enum`).
fn string_consts(s: &Value) -> Option<Vec<String>> {
    if let Some(c) = s["const"].as_str() {
        return Some(vec![c.to_owned()]);
    }
    let values = s["enum"].as_array()?;
    values
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

impl Reader {
    fn type_def(&mut self, name: &str, schema: &Value) -> Result<TypeDef, CodegenError> {
        let at = format!("type `{name}`");
        let kind = if let Some(alts) = alternatives(schema) {
            self.union(name, alts, &at)?
        } else if let Some(values) = schema["enum"]
            .as_array()
            .filter(|_| schema["type"] == "string")
        {
            TypeKind::StringEnum {
                values: values
                    .iter()
                    .map(|v| {
                        let value = v.as_str().unwrap_or_default().to_owned();
                        EnumValue {
                            words: words(&value),
                            value,
                            description: None,
                        }
                    })
                    .collect(),
            }
        } else if schema["type"] == "object"
            && schema.get("patternProperties").is_none()
            && schema
                .get("additionalProperties")
                .is_none_or(|a| a == &Value::Bool(false))
            || schema["properties"].is_object()
        {
            TypeKind::Struct {
                fields: self.fields(name, schema, &[])?,
            }
        } else {
            TypeKind::Alias {
                target: self.type_ref(schema, &at)?,
            }
        };
        Ok(TypeDef {
            name: name.to_owned(),
            words: words(name),
            description: description(schema),
            kind,
            input_of: schema["x-input-of"].as_str().map(str::to_owned),
        })
    }

    /// The fields of an object schema, leaving out `skip` (a tag property).
    fn fields(
        &mut self,
        owner: &str,
        schema: &Value,
        skip: &[&str],
    ) -> Result<Vec<Field>, CodegenError> {
        if schema
            .get("additionalProperties")
            .is_some_and(|a| a.is_object())
        {
            return Err(unsupported(
                &format!("type `{owner}`"),
                "a struct with extra map entries (`#[serde(flatten)]` of a map) is not supported",
            ));
        }
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut fields = Vec::new();
        for (wire, prop) in schema["properties"].as_object().into_iter().flatten() {
            if skip.contains(&wire.as_str()) {
                continue;
            }
            let at = format!("type `{owner}`, field `{wire}`");
            fields.push(Field {
                words: words(wire),
                description: description(prop),
                ty: self.type_ref(prop, &at)?,
                required: required.contains(wire.as_str()),
                default: prop.get("default").cloned(),
                wire: wire.clone(),
            });
        }
        Ok(fields)
    }

    /// Recognises serde's enum representations in a `oneOf`/`anyOf`.
    fn union(&mut self, name: &str, alts: &[Value], at: &str) -> Result<TypeKind, CodegenError> {
        let non_null: Vec<&Value> = alts.iter().filter(|a| !is_null_schema(a)).collect();
        if non_null.len() < alts.len() && non_null.len() == 1 {
            // `Option<T>` as a named alias.
            return Ok(TypeKind::Alias {
                target: self.type_ref(
                    &Value::Object(
                        [("anyOf".to_owned(), Value::Array(alts.to_vec()))]
                            .into_iter()
                            .collect(),
                    ),
                    at,
                )?,
            });
        }
        // Unit-only enum.
        if alts.iter().all(|a| string_consts(a).is_some()) {
            return Ok(TypeKind::StringEnum {
                values: alts
                    .iter()
                    .flat_map(|a| {
                        let d = description(a);
                        string_consts(a)
                            .expect("checked")
                            .into_iter()
                            .map(move |value| EnumValue {
                                words: words(&value),
                                value,
                                description: d.clone(),
                            })
                    })
                    .collect(),
            });
        }
        if let Some(tag) = common_tag(alts) {
            let content = adjacent_content(alts, &tag);
            let mut variants = Vec::new();
            for a in alts {
                let tag_value = a["properties"][&tag]["const"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let vname = format!("{name}{}", pascal(&tag_value));
                let payload = match &content {
                    Some(c) => match a["properties"].get(c) {
                        None => Payload::Unit,
                        Some(inner) => self.variant_payload(
                            &vname,
                            inner,
                            &format!("{at}, variant `{tag_value}`"),
                        )?,
                    },
                    // An internally tagged newtype variant, `A(Inner)`: Inner's fields sit
                    // next to the tag, which schemars writes as a `$ref` beside `properties`.
                    None if a.get("$ref").is_some() => Payload::Type {
                        ty: self.type_ref(
                            &serde_json::json!({ "$ref": a["$ref"] }),
                            &format!("{at}, variant `{tag_value}`"),
                        )?,
                    },
                    None => {
                        let fields = self.fields(&vname, a, &[tag.as_str()])?;
                        if fields.is_empty() {
                            Payload::Unit
                        } else {
                            self.hoist(&vname, description(a), fields.clone());
                            Payload::Fields {
                                type_name: vname,
                                fields,
                            }
                        }
                    }
                };
                variants.push(Variant {
                    words: words(&tag_value),
                    tag_value,
                    description: description(a),
                    payload,
                });
            }
            return Ok(TypeKind::Tagged {
                tag,
                content,
                variants,
            });
        }
        if alts
            .iter()
            .all(|a| string_consts(a).is_some() || single_key_object(a).is_some())
        {
            let mut variants = Vec::new();
            for a in alts {
                if let Some(keys) = string_consts(a) {
                    for key in keys {
                        variants.push(Variant {
                            words: words(&key),
                            tag_value: key,
                            description: description(a),
                            payload: Payload::Unit,
                        });
                    }
                    continue;
                }
                let (key, inner) = single_key_object(a).expect("checked");
                let vname = format!("{name}{}", pascal(key));
                let payload =
                    self.variant_payload(&vname, inner, &format!("{at}, variant `{key}`"))?;
                variants.push(Variant {
                    words: words(key),
                    tag_value: key.to_owned(),
                    description: description(a),
                    payload,
                });
            }
            return Ok(TypeKind::External { variants });
        }
        // Untagged: each alternative as a type; inline objects are hoisted.
        let mut variants = Vec::new();
        for (i, a) in alts.iter().enumerate() {
            let ty = if a["properties"].is_object() {
                let vname = format!("{name}{}", i + 1);
                let fields = self.fields(&vname, a, &[])?;
                self.hoist(&vname, description(a), fields);
                TypeRef::Named { name: vname }
            } else {
                self.type_ref(a, &format!("{at}, alternative {}", i + 1))?
            };
            variants.push(UntaggedVariant {
                description: description(a),
                ty,
            });
        }
        Ok(TypeKind::Untagged { variants })
    }

    /// The content of a non-internally-tagged variant: inline fields (hoisted) or a type.
    fn variant_payload(
        &mut self,
        vname: &str,
        inner: &Value,
        at: &str,
    ) -> Result<Payload, CodegenError> {
        if inner["properties"].is_object() && inner.get("$ref").is_none() {
            let fields = self.fields(vname, inner, &[])?;
            self.hoist(vname, description(inner), fields.clone());
            Ok(Payload::Fields {
                type_name: vname.to_owned(),
                fields,
            })
        } else {
            Ok(Payload::Type {
                ty: self.type_ref(inner, at)?,
            })
        }
    }

    fn hoist(&mut self, name: &str, description: Option<String>, fields: Vec<Field>) {
        self.types.insert(
            name.to_owned(),
            TypeDef {
                name: name.to_owned(),
                words: words(name),
                description,
                kind: TypeKind::Struct { fields },
                input_of: None,
            },
        );
    }

    /// A reference to a type, from a property, item or top-level schema.
    fn type_ref(&mut self, schema: &Value, at: &str) -> Result<TypeRef, CodegenError> {
        if schema == &Value::Bool(true)
            || schema.as_object().is_some_and(|o| {
                o.keys()
                    .all(|k| k == "description" || k == "default" || k == "title")
            })
        {
            return Ok(TypeRef::Any);
        }
        if let Some(r) = schema["$ref"].as_str() {
            let name = r.strip_prefix(DEFINITIONS).ok_or_else(|| {
                unsupported(at, format!("reference {r} is outside {DEFINITIONS}"))
            })?;
            if !self.defs.contains_key(name) {
                return Err(unsupported(
                    at,
                    format!("reference to undefined type `{name}`"),
                ));
            }
            return Ok(TypeRef::Named {
                name: name.to_owned(),
            });
        }
        if let Some(all) = schema["allOf"].as_array() {
            return match all.as_slice() {
                [one] => self.type_ref(one, at),
                _ => Err(unsupported(at, "`allOf` with several schemas (e.g. `#[serde(flatten)]` of an enum) is not supported")),
            };
        }
        if let Some(alts) = alternatives(schema) {
            let non_null: Vec<&Value> = alts.iter().filter(|a| !is_null_schema(a)).collect();
            return match non_null.as_slice() {
                [one] if non_null.len() < alts.len() => Ok(TypeRef::Nullable {
                    inner: Box::new(self.type_ref(one, at)?),
                }),
                _ => Err(unsupported(
                    at,
                    "an inline union is not supported; give the enum a name (a Rust enum type)",
                )),
            };
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => {
                return Err(unsupported(
                    at,
                    format!("cannot tell the type of schema {schema}"),
                ))
            }
        };
        let nullable = types.contains(&"null") && types.len() > 1;
        let base: Vec<&str> = types
            .iter()
            .copied()
            .filter(|t| !nullable || *t != "null")
            .collect();
        let ty = match base.as_slice() {
            ["string"] => match schema["format"].as_str() {
                Some("date-time") => TypeRef::DateTime,
                Some("uuid") => TypeRef::Uuid,
                _ => TypeRef::String,
            },
            ["boolean"] => TypeRef::Bool,
            ["number"] => TypeRef::Number {
                bits: if schema["format"] == "float" { 32 } else { 64 },
            },
            ["integer"] => {
                let format = schema["format"].as_str().unwrap_or("int64");
                let signed = !format.starts_with("uint");
                let bits = format
                    .trim_start_matches("uint")
                    .trim_start_matches("int")
                    .parse()
                    .unwrap_or(64);
                TypeRef::Integer { bits, signed }
            }
            ["null"] => TypeRef::Null,
            ["array"] => {
                if schema.get("prefixItems").is_some() {
                    return Err(unsupported(
                        at,
                        "tuples are not supported; use a struct with named fields",
                    ));
                }
                let items = schema
                    .get("items")
                    .ok_or_else(|| unsupported(at, "an array without an item type"))?;
                TypeRef::Array {
                    items: Box::new(self.type_ref(items, at)?),
                }
            }
            ["object"] => self.map(schema, at)?.ok_or_else(|| {
                unsupported(
                    at,
                    "an inline struct is not supported here; give it a name (a Rust struct type)",
                )
            })?,
            other => return Err(unsupported(at, format!("unsupported JSON type {other:?}"))),
        };
        Ok(if nullable {
            TypeRef::Nullable {
                inner: Box::new(ty),
            }
        } else {
            ty
        })
    }
}

impl Reader {
    /// An object schema read as a map, with its keys' type; `None` when it is no map (an inline
    /// struct). schemars writes a Rust map's keys as serde_json does (JSON strings) and describes
    /// them as: `additionalProperties` alone for `String` keys (and for keys it cannot describe,
    /// such as a unit enum with documented variants, which therefore read as strings);
    /// `patternProperties` `^\d+$` / `^-?\d+$` for unsigned / signed integer keys (without their
    /// width: they are read as 64-bit); one optional property per value for a unit enum whose
    /// variants are undocumented. `propertyNames` (from other writers) is read too.
    fn map(&mut self, schema: &Value, at: &str) -> Result<Option<TypeRef>, CodegenError> {
        let additional = schema
            .get("additionalProperties")
            .filter(|v| v.is_object() || **v == Value::Bool(true));
        let patterns = schema["patternProperties"]
            .as_object()
            .filter(|p| !p.is_empty());
        let properties = schema["properties"].as_object().filter(|p| !p.is_empty());
        let (keys, values) = match (additional, patterns, properties) {
            (None, None, None) => return Ok(None),
            (Some(values), None, None) => {
                let keys = match schema.get("propertyNames") {
                    Some(names) => self.key_names(names, at)?,
                    None => TypeRef::String,
                };
                (keys, values)
            }
            (None, Some(patterns), None) => match patterns.iter().collect::<Vec<_>>().as_slice() {
                [(pattern, values)] => (pattern_key(pattern), *values),
                _ => {
                    return Err(unsupported(
                        at,
                        format!(
                            "a map whose keys match several patterns ({}) is not supported; use \
                             one key type (a string, an integer or a unit enum)",
                            patterns
                                .keys()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ))
                }
            },
            (None, None, Some(properties)) => {
                // Unit enum keys: every property optional and of one type, no other keys.
                let first = properties.values().next().expect("not empty");
                if schema["additionalProperties"] != Value::Bool(false)
                    || schema["required"].as_array().is_some_and(|r| !r.is_empty())
                    || properties.values().any(|v| v != first)
                {
                    return Ok(None);
                }
                let names: BTreeSet<String> = properties.keys().cloned().collect();
                (self.enum_keys(&names, at)?, first)
            }
            (Some(_), _, Some(_)) => {
                return Err(unsupported(
                    at,
                    "an object with both fields and extra map entries is not supported",
                ))
            }
            _ => {
                return Err(unsupported(
                    at,
                    "a map mixing several kinds of keys (fields, patterns, any string) is not \
                     supported; use one key type (a string, an integer or a unit enum)",
                ))
            }
        };
        Ok(Some(TypeRef::Map {
            keys: Box::new(keys),
            values: Box::new(self.type_ref(values, at)?),
        }))
    }

    /// The keys' type from a map's `propertyNames` schema.
    fn key_names(&self, names: &Value, at: &str) -> Result<TypeRef, CodegenError> {
        if let Some(r) = names["$ref"].as_str() {
            let name = r.strip_prefix(DEFINITIONS).unwrap_or(r);
            return match self.defs.get(name) {
                Some(def) if unit_enum_values(def).is_some() => Ok(TypeRef::Named {
                    name: name.to_owned(),
                }),
                Some(_) => Err(unsupported(
                    at,
                    format!(
                        "map keys of type `{name}` are not supported: JSON object keys are \
                         strings, integers or unit enum values"
                    ),
                )),
                None => Err(unsupported(
                    at,
                    format!("map keys of undefined type `{name}`"),
                )),
            };
        }
        if let Some(values) = unit_enum_values(names) {
            return self.enum_keys(&values, at);
        }
        match (names["type"].as_str(), names["pattern"].as_str()) {
            (Some("string"), Some(pattern)) => Ok(pattern_key(pattern)),
            (Some("string"), None) => Ok(TypeRef::String),
            _ if names == &Value::Bool(true) || names.as_object().is_some_and(|o| o.is_empty()) => {
                Ok(TypeRef::String)
            }
            _ => Err(unsupported(
                at,
                format!(
                    "map keys described as {names} are not supported: JSON object keys are \
                     strings, integers or unit enum values"
                ),
            )),
        }
    }

    /// The named unit enum whose values are exactly `values` (the first by name when several
    /// are: they are alike on the wire).
    fn enum_keys(&self, values: &BTreeSet<String>, at: &str) -> Result<TypeRef, CodegenError> {
        self.defs
            .iter()
            .find(|(_, def)| unit_enum_values(def).as_ref() == Some(values))
            .map(|(name, _)| TypeRef::Named { name: name.clone() })
            .ok_or_else(|| {
                unsupported(
                    at,
                    format!(
                        "a map whose keys are the values {} of a unit enum that has no definition \
                         (an enum used only as map keys is not in the document); use that enum \
                         in a field too, or `String` keys",
                        values
                            .iter()
                            .map(|v| format!("`{v}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }
}

/// The keys matching a `patternProperties` pattern: schemars's unsigned and signed integer
/// patterns, or strings.
fn pattern_key(pattern: &str) -> TypeRef {
    match pattern {
        r"^\d+$" => TypeRef::Integer {
            bits: 64,
            signed: false,
        },
        r"^-?\d+$" => TypeRef::Integer {
            bits: 64,
            signed: true,
        },
        _ => TypeRef::String,
    }
}

/// The values of a unit-only enum's schema: `{"type": "string", "enum": […]}` or a `oneOf` of
/// string constants.
fn unit_enum_values(schema: &Value) -> Option<BTreeSet<String>> {
    if schema["type"] == "string" {
        if let Some(values) = schema["enum"].as_array() {
            return values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
        }
    }
    let alts = alternatives(schema)?;
    let mut out = BTreeSet::new();
    for a in alts {
        out.extend(string_consts(a)?);
    }
    Some(out)
}

/// `{"Name": payload}` with exactly one required key and no others: an externally tagged variant.
fn single_key_object(s: &Value) -> Option<(&str, &Value)> {
    let props = s["properties"].as_object()?;
    if props.len() != 1 || s["additionalProperties"] != Value::Bool(false) {
        return None;
    }
    let (k, v) = props.iter().next()?;
    Some((k.as_str(), v))
}

/// The property every alternative has as a required string constant: the serde tag.
fn common_tag(alts: &[Value]) -> Option<String> {
    let first = alts.first()?["properties"].as_object()?;
    first
        .iter()
        .filter(|(_, v)| v["const"].is_string())
        .map(|(k, _)| k.clone())
        .find(|k| {
            alts.iter().all(|a| {
                a["properties"][k]["const"].is_string()
                    && a["required"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|x| x == k))
            })
        })
}

/// For an adjacently tagged enum, the content property: every alternative has only the tag and,
/// optionally, this one property.
fn adjacent_content(alts: &[Value], tag: &str) -> Option<String> {
    // A `$ref` beside the tag is an internally tagged newtype variant; adjacent content always
    // sits under the content key.
    if alts
        .iter()
        .any(|a| a.get("$ref").is_some() || a.get("allOf").is_some())
    {
        return None;
    }
    let mut content: Option<String> = None;
    for a in alts {
        let others: Vec<&String> = a["properties"]
            .as_object()?
            .keys()
            .filter(|k| *k != tag)
            .collect();
        match others.as_slice() {
            [] => {}
            [one] => match &content {
                Some(c) if c != *one => return None,
                _ => content = Some((*one).clone()),
            },
            _ => return None,
        }
    }
    // An internally tagged enum whose variants each have one field named alike would look the
    // same; serde's adjacent content is always required alongside the tag.
    let c = content?;
    let all_required = alts.iter().all(|a| {
        a["properties"].get(&c).is_none()
            || a["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == &c))
    });
    all_required.then_some(c)
}

fn pascal(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Methods, types, fields and enum values whose words coincide would generate the same name.
fn check_collisions(api: &Api) -> Result<(), CodegenError> {
    // Methods, streams and channel subscriptions share the client's namespace: a stream is
    // called like a method (`watch_tasks`), a channel is `subscribe_<name>` / `publish_<name>`.
    let mut calls = Namespace::new("methods, streams and channels", Dialect::Generated);
    for m in &api.methods {
        calls.claim_words(&m.words, format!("method `{}`", m.name))?;
    }
    for s in &api.streams {
        calls.claim_words(&s.words, format!("stream `{}`", s.pattern))?;
    }
    for c in &api.channels {
        for verb in ["subscribe", "publish"] {
            let mut w = vec![verb.to_owned()];
            w.extend(c.words.iter().cloned());
            calls.claim_words(&w, format!("channel `{}` ({verb})", c.name))?;
        }
    }
    let mut types = Namespace::new("types", Dialect::Generated);
    for t in &api.types {
        types.claim_words(&t.words, format!("type `{}`", t.name))?;
    }
    for t in &api.types {
        let (what, members): (&str, Vec<(&[String], &str)>) = match &t.kind {
            TypeKind::Struct { fields } => (
                "field",
                fields
                    .iter()
                    .map(|f| (f.words.as_slice(), f.wire.as_str()))
                    .collect(),
            ),
            TypeKind::StringEnum { values } => (
                "value",
                values
                    .iter()
                    .map(|v| (v.words.as_slice(), v.value.as_str()))
                    .collect(),
            ),
            TypeKind::Tagged { variants, .. } | TypeKind::External { variants } => (
                "variant",
                variants
                    .iter()
                    .map(|v| (v.words.as_slice(), v.tag_value.as_str()))
                    .collect(),
            ),
            _ => continue,
        };
        let mut scope = Namespace::new(format!("{what}s of `{}`", t.name), Dialect::Generated);
        for (words, name) in members {
            scope.claim_words(words, format!("{what} `{name}`"))?;
        }
    }
    Ok(())
}
