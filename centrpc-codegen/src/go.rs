//! The Go client generator: a module `<title>client` over centrifuge-go v0.12.1 with
//! `types.go` (structs with json tags; enums as structs with one member per variant and custom
//! JSON that reads and writes exactly what serde does), `client.go` (`CentrifugoRPCClient`,
//! `APIClient` with one method per RPC method, one per subscription stream (returning a
//! `*Stream[Item]`, or a `*BidiStream[Item, Publication]`, whose `Items` is a range-over-func
//! iterator) and `Subscribe<Channel>` / `Publish<Channel>` per typed channel, `RPCError`,
//! `ErrTimeout`, options), `go.mod`,
//! `go.sum` and `README.md`. The templates produce gofmt-clean code: every field and constant
//! carries a doc comment, so gofmt has nothing to align.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::{
    environment,
    ir::{Api, AppError, Dialect, Field, Namespace, Payload, TypeDef, TypeKind, TypeRef},
    naming::words,
    CodegenError, File,
};

const TYPES: &str = include_str!("templates/go/types.go.j2");
const CLIENT: &str = include_str!("templates/go/client.go.j2");
const GO_MOD: &str = include_str!("templates/go/go.mod.j2");
const GO_SUM: &str = include_str!("templates/go/go.sum");
const README: &str = include_str!("templates/go/README.md.j2");

/// The version of centrifuge-go the module requires.
pub const CENTRIFUGE_GO: &str = "v0.12.1";

/// Words written in capitals in Go names (the list of golint), so `user_id` becomes `UserID`.
const INITIALISMS: &[&str] = &[
    "ACL", "API", "ASCII", "CPU", "CSS", "DNS", "EOF", "GUID", "HTML", "HTTP", "HTTPS", "ID", "IP",
    "JSON", "LHS", "QPS", "RAM", "RHS", "RPC", "SLA", "SMTP", "SQL", "SSH", "TCP", "TLS", "TTL",
    "UDP", "UI", "UID", "UUID", "URI", "URL", "UTF8", "VM", "XML", "XMPP", "XSRF", "XSS",
];

/// Package-level names the generated package declares itself.
const RESERVED: &[&str] = &[
    "APITitle",
    "APIVersion",
    "CodeTimeout",
    "ErrTimeout",
    "RPCError",
    "DisconnectedError",
    "Option",
    "WithGetToken",
    "WithTimeout",
    "WithHeader",
    "WithConnectData",
    "WithConfig",
    "CentrifugoRPCClient",
    "NewCentrifugoRPCClient",
    "APIClient",
    "NewAPIClient",
    "Stream",
    "BidiStream",
    "Bytes",
    "List",
    "Map",
];

/// Methods `APIClient` has besides the API's (its own and the embedded client's).
const CLIENT_METHODS: &[&str] = &[
    "Connect",
    "Close",
    "Call",
    "SDK",
    "CentrifugoRPCClient",
    "ConnectReplyData",
];

/// Methods the enum structs have, which no variant field may be named like.
const ENUM_METHODS: &[&str] = &["MarshalJSON", "UnmarshalJSON"];

/// The fields of an enum struct (its variants or alternatives), in the scope `scope`: the
/// struct's own methods are taken.
fn enum_fields(scope: String) -> Namespace {
    let mut fields = Namespace::new(scope, Dialect::Go);
    for m in ENUM_METHODS {
        fields.reserve(m, format!("the enum's method `{m}`"));
    }
    fields
}

/// A Go identifier in PascalCase from `words`, with initialisms in capitals (`UserID`, `APIKey`).
/// Characters that cannot appear in an identifier are written as `U<hex>`; a name that would not
/// start with an upper-case letter gets an `X` in front. Empty for no words.
pub fn go_name(words: &[String]) -> String {
    let safe = go_name_part(words);
    match safe.chars().next() {
        Some(c) if c.is_ascii_uppercase() => safe,
        Some(_) => format!("X{safe}"),
        None => safe,
    }
}

/// [`go_name`] for the end of an identifier (no `X` in front of a digit).
fn go_name_part(words: &[String]) -> String {
    let mut out = String::new();
    for w in words {
        let upper = w.to_uppercase();
        if INITIALISMS.contains(&upper.as_str()) {
            out.push_str(&upper);
            continue;
        }
        let mut chars = w.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("U{:04X}", c as u32)
            }
        })
        .collect()
}

/// The module and package name: the title's letters and digits, lowercase, plus `client`
/// (`tasks` → `tasksclient`).
pub fn package_name(title: &str) -> String {
    let base: String = words(title)
        .concat()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match base.chars().next() {
        Some(c) if c.is_ascii_lowercase() => format!("{base}client"),
        Some(_) => format!("api{base}client"),
        None => "apiclient".into(),
    }
}

/// A Go interpreted string literal.
fn lit(s: &str) -> String {
    serde_json::to_string(s)
        .expect("strings encode")
        .replace('\u{feff}', "\\ufeff")
}

/// Doc comment text: `Name description…` (Go's convention of starting with the name), or
/// `Name fallback` when there is no description; control characters removed, lines trimmed.
fn doc(name: &str, description: Option<&str>, fallback: &str) -> String {
    let text = clean(description).unwrap_or_else(|| fallback.to_owned());
    format!("{name} {}", text.trim_start())
}

/// A description as doc comment text: control characters removed, lines trimmed; `None` when
/// there is none.
fn clean(description: Option<&str>) -> Option<String> {
    description
        .map(|d| {
            d.replace("\r\n", "\n")
                .replace('\r', "\n")
                .chars()
                .map(|c| {
                    if c == '\n' || !(c.is_control() || c == '\u{feff}') {
                        c
                    } else {
                        ' '
                    }
                })
                .collect::<String>()
        })
        .map(|d| {
            d.lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n")
                .trim_matches('\n')
                .to_owned()
        })
        .filter(|d| !d.trim().is_empty())
}

/// Wraps text at 100 columns (a doc comment's own paragraphs, which have no line breaks).
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if line > 0 && line + 1 + word.len() > 96 {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// The doc paragraphs listing the application errors a method returns or a stream refuses
/// with (a Go doc list of their constants), `None` when it declares none.
fn app_errors_doc(
    errors: &[AppError],
    names: &BTreeMap<u64, String>,
    verb: &str,
) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let items: Vec<String> = errors
        .iter()
        .map(|e| format!("  - {} ({}): {}", names[&e.code], e.code, e.meaning()))
        .collect();
    Some(format!(
        "Besides the built-in codes, it {verb} these application errors (RPCError.Code):\n\n{}",
        items.join("\n")
    ))
}

/// Adds a paragraph to a doc comment.
fn with_paragraph(doc: String, paragraph: Option<String>) -> String {
    match paragraph {
        Some(p) => format!("{doc}\n\n{p}"),
        None => doc,
    }
}

#[derive(Serialize)]
struct Context {
    package: String,
    module: String,
    title_lit: String,
    version_lit: String,
    version_text: String,
    uses_time: bool,
    /// Whether `Bytes`, `List` and `Map` are used (and so declared in types.go).
    uses_bytes: bool,
    uses_list: bool,
    uses_map: bool,
    example_call: Option<String>,
    example_stream: Option<String>,
    types: Vec<GoType>,
    methods: Vec<GoMethod>,
    streams: Vec<GoStream>,
    channels: Vec<GoChannel>,
    errors: Vec<GoError>,
    /// The application's declared error codes.
    app_errors: Vec<GoError>,
    /// The Go type of the typed connect data, when typed (`WithConnectData` takes it).
    connect_data: Option<String>,
    /// The Go type of the typed connect reply data, when typed (`APIClient.ConnectReplyData`).
    connect_reply: Option<String>,
    centrifuge_go: &'static str,
}

#[derive(Serialize, Default)]
struct GoType {
    name: String,
    lit: String,
    doc: String,
    /// `struct`, `alias`, `enum`, `internal`, `adjacent`, `external` or `untagged`.
    kind: &'static str,
    fields: Vec<GoField>,
    values: Vec<GoValue>,
    target: String,
    alias: bool,
    tag: String,
    content: String,
    variants: Vec<GoVariant>,
}

#[derive(Serialize)]
struct GoField {
    name: String,
    ty: String,
    tag: String,
    doc: String,
}

#[derive(Serialize)]
struct GoValue {
    name: String,
    wire: String,
    doc: String,
}

#[derive(Serialize)]
struct GoVariant {
    field: String,
    ty: String,
    elem: String,
    set: String,
    doc: String,
    wire: String,
    unit: bool,
    null_only: bool,
    null_ok: bool,
    required: Vec<String>,
}

#[derive(Serialize)]
struct GoMethod {
    name: String,
    method: String,
    wire: String,
    doc: String,
    params: Option<String>,
    result: Option<String>,
    result_named: bool,
    result_elem: String,
    /// The signature, for the README and the `API` interface.
    signature: String,
    /// Whether the client's retry policy applies.
    idempotent: bool,
}

/// A subscription stream: an APIClient method that opens a `Stream` (`BidiStream`).
#[derive(Serialize)]
struct GoStream {
    name: String,
    pattern: String,
    doc: String,
    keyed: bool,
    params: Option<String>,
    /// The result type, without the `*`: `Stream[Count]`, `BidiStream[Tally, TallyAdd]`.
    ret: String,
    /// The opening function with its type arguments: `openStream[Count]`.
    open: String,
    /// The channel as a Go expression: `"watch:count"`, `"tally:" + key`.
    channel: String,
    signature: String,
}

/// A typed channel: `Subscribe<Name>`, and `Publish<Name>` when clients publish.
#[derive(Serialize)]
struct GoChannel {
    pattern: String,
    keyed: bool,
    channel: String,
    item: String,
    subscribe: String,
    subscribe_doc: String,
    subscribe_signature: String,
    publish: Option<String>,
    publish_doc: String,
    publication: String,
    publish_signature: String,
}

#[derive(Serialize)]
struct GoError {
    name: String,
    code: u64,
    doc: String,
    meaning: String,
}

fn unsupported(at: &str, problem: impl Into<String>) -> CodegenError {
    CodegenError::Unsupported {
        at: at.to_owned(),
        problem: problem.into(),
    }
}

/// Whether encoding/json accepts `name` as the name in a `json:"…"` tag (its `isValidTag`);
/// any other name would silently fall back to the Go field name.
fn valid_tag_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            "!#$%&()*+-./:;<=>?@[]^_{|}~ ".contains(c)
                || c.is_ascii_alphanumeric()
                || (!c.is_ascii() && c.is_alphanumeric())
        })
}

struct Generator<'a> {
    types: BTreeMap<&'a str, &'a TypeDef>,
    names: BTreeMap<&'a str, String>,
    uses_time: bool,
    uses_bytes: bool,
    uses_list: bool,
    uses_map: bool,
}

impl<'a> Generator<'a> {
    fn type_name(&self, name: &str) -> String {
        self.names
            .get(name)
            .cloned()
            .unwrap_or_else(|| go_name(&words(name)))
    }

    /// The Go type of a type reference. Lists and maps are the generated `List[T]` and `Map[V]`
    /// (a nil one sends `[]` / `{}`, as serde requires of a `Vec` or map that is not an
    /// `Option`; `[]T` and `map[string]V` values convert implicitly), byte strings `Bytes` (an
    /// array of numbers, not encoding/json's base64).
    fn go_type(&mut self, ty: &TypeRef, at: &str) -> Result<String, CodegenError> {
        Ok(match ty {
            TypeRef::String | TypeRef::Uuid => "string".into(),
            TypeRef::Bool => "bool".into(),
            TypeRef::Integer { bits, signed } => {
                if ![8, 16, 32, 64].contains(bits) {
                    return Err(unsupported(
                        at,
                        format!("a {bits}-bit integer has no Go type; use 64 bits or fewer"),
                    ));
                }
                format!("{}int{bits}", if *signed { "" } else { "u" })
            }
            TypeRef::Number { bits } => format!("float{bits}"),
            TypeRef::DateTime => {
                self.uses_time = true;
                "time.Time".into()
            }
            TypeRef::Any => "json.RawMessage".into(),
            TypeRef::Null => "*struct{}".into(),
            TypeRef::Named { name } => self.type_name(name),
            TypeRef::Array { .. } if ty.is_bytes() => {
                self.uses_bytes = true;
                "Bytes".into()
            }
            TypeRef::Array { items } => {
                self.uses_list = true;
                format!("List[{}]", self.go_type(items, at)?)
            }
            // encoding/json reads and writes integer and string-typed keys natively.
            TypeRef::Map { keys, values } => {
                self.uses_map = true;
                format!(
                    "Map[{}, {}]",
                    self.go_type(keys, at)?,
                    self.go_type(values, at)?
                )
            }
            TypeRef::Nullable { inner } => {
                let t = self.go_type(inner, at)?;
                if inner.is_nullable() {
                    t
                } else {
                    format!("*{t}")
                }
            }
        })
    }

    /// A struct field: optional ones are pointers with `omitempty`, nullable ones pointers
    /// without it (so nil sends `null`).
    ///
    /// An optional nullable field (`Option<T>` the caller may leave out) is one pointer, nil
    /// leaving it out, when serde's value for a left-out key is `None` (no `default`, or a
    /// `null` one): leaving it out and sending `null` are then the same value, so no caller
    /// needs both. With a non-null default (`#[serde(default = …)]` returning `Some`) they
    /// differ, and the field is a pointer to the pointer: nil leaves it out (the default), a
    /// pointer to nil sends `null` (`None`). `json.RawMessage` has the three states already
    /// (nil, `null`, a value).
    fn field(
        &mut self,
        owner: &str,
        f: &Field,
        scope: &mut Namespace,
    ) -> Result<GoField, CodegenError> {
        let at = format!("type `{owner}`, field `{}`", f.wire);
        if !valid_tag_name(&f.wire) {
            return Err(unsupported(
                &at,
                "Go's encoding/json cannot use this JSON name in a struct tag; use letters, digits and !#$%&()*+-./:;<=>?@[]^_{|}~ and spaces",
            ));
        }
        let mut name = go_name(&f.words);
        if name.is_empty() {
            name = hex_name("Field", &f.wire);
        }
        scope.claim(&name, format!("field `{}`", f.wire))?;
        let base = self.go_type(&f.ty, &at)?;
        let null_default = f.default.as_ref().is_none_or(Value::is_null);
        let three_state = !f.required && base.starts_with('*') && !null_default;
        let (ty, omit) = if f.required {
            (base, false)
        } else if (base.starts_with('*') && null_default) || base == "json.RawMessage" {
            (base, true)
        } else {
            (format!("*{base}"), true)
        };
        let wire = if f.wire == "-" { "-," } else { f.wire.as_str() };
        let tag = format!("\"{wire}{}\"", if omit { ",omitempty" } else { "" });
        let default = f.default.as_ref().filter(|_| !f.required).map(|d| {
            let null = if three_state {
                " A pointer to nil sends null."
            } else {
                ""
            };
            format!("Left out (nil), the server uses {d}.{null}")
        });
        Ok(GoField {
            doc: with_paragraph(
                doc(
                    &name,
                    f.description.as_deref(),
                    &format!("is the JSON member {}.", lit(&f.wire)),
                ),
                default,
            ),
            name,
            ty,
            tag,
        })
    }

    fn type_def(
        &mut self,
        t: &'a TypeDef,
        hoisted: &BTreeMap<String, String>,
    ) -> Result<GoType, CodegenError> {
        let name = self.type_name(&t.name);
        let fallback = hoisted
            .get(t.name.as_str())
            .cloned()
            .unwrap_or_else(|| format!("is the API type {}.", lit(&t.name)));
        let mut out = GoType {
            doc: doc(&name, t.description.as_deref(), &fallback),
            lit: lit(&name),
            name: name.clone(),
            ..GoType::default()
        };
        let at = format!("type `{}`", t.name);
        match &t.kind {
            TypeKind::Struct { fields } => {
                out.kind = "struct";
                let mut scope = Namespace::new(format!("fields of `{}`", t.name), Dialect::Go);
                for f in fields {
                    out.fields.push(self.field(&t.name, f, &mut scope)?);
                }
            }
            TypeKind::Alias { target } => {
                out.kind = "alias";
                out.target = self.go_type(target, &at)?;
                // A defined type keeps the JSON of basic types; anything else (time.Time,
                // json.RawMessage, Bytes, List, Map, named types with their own JSON methods,
                // pointers) would lose its methods, so it becomes an alias.
                let basic = matches!(
                    target,
                    TypeRef::String
                        | TypeRef::Uuid
                        | TypeRef::Bool
                        | TypeRef::Integer { .. }
                        | TypeRef::Number { .. }
                );
                out.alias = !basic;
            }
            TypeKind::StringEnum { values } => {
                out.kind = "enum";
                if values.is_empty() {
                    return Err(unsupported(&at, "an enum without values has no Go form"));
                }
                for (i, v) in values.iter().enumerate() {
                    let mut vname = format!("{name}{}", go_name_part(&v.words));
                    if v.words.is_empty() {
                        vname = format!("{name}Value{}", i + 1);
                    }
                    out.values.push(GoValue {
                        doc: doc(
                            &vname,
                            v.description.as_deref(),
                            &format!("is {}.", lit(&v.value)),
                        ),
                        name: vname,
                        wire: lit(&v.value),
                    });
                }
            }
            TypeKind::Tagged {
                tag,
                content,
                variants,
            } => {
                out.kind = if content.is_some() {
                    "adjacent"
                } else {
                    "internal"
                };
                out.tag = lit(tag);
                out.content = content.as_deref().map(lit).unwrap_or_default();
                out.variants = self.variants(&t.name, variants)?;
            }
            TypeKind::External { variants } => {
                out.kind = "external";
                out.variants = self.variants(&t.name, variants)?;
            }
            TypeKind::Untagged { variants } => {
                out.kind = "untagged";
                let mut scope = enum_fields(format!("alternatives of `{}`", t.name));
                for (i, v) in variants.iter().enumerate() {
                    let at = format!("{at}, alternative {}", i + 1);
                    let field = self.alternative_name(&v.ty);
                    scope.claim(&field, format!("alternative {}", i + 1))?;
                    let doc = doc(
                        &field,
                        v.description.as_deref(),
                        &format!("is alternative {}.", i + 1),
                    );
                    if v.ty == TypeRef::Null {
                        out.variants.push(GoVariant {
                            set: format!("v.{field}"),
                            field,
                            ty: "bool".into(),
                            elem: String::new(),
                            doc,
                            wire: String::new(),
                            unit: true,
                            null_only: true,
                            null_ok: true,
                            required: Vec::new(),
                        });
                        continue;
                    }
                    let elem = self.go_type(&v.ty, &at)?;
                    let required = match &v.ty {
                        TypeRef::Named { name } => {
                            match self.types.get(name.as_str()).map(|t| &t.kind) {
                                Some(TypeKind::Struct { fields }) => fields
                                    .iter()
                                    .filter(|f| f.required)
                                    .map(|f| lit(&f.wire))
                                    .collect(),
                                _ => Vec::new(),
                            }
                        }
                        _ => Vec::new(),
                    };
                    out.variants.push(GoVariant {
                        set: format!("v.{field} != nil"),
                        field,
                        ty: format!("*{elem}"),
                        elem,
                        doc,
                        wire: String::new(),
                        unit: false,
                        null_only: false,
                        null_ok: self.admits_null(&v.ty),
                        required,
                    });
                }
            }
        }
        if matches!(out.kind, "internal" | "adjacent" | "external" | "untagged")
            && out.variants.is_empty()
        {
            return Err(unsupported(&at, "an enum without variants has no Go form"));
        }
        Ok(out)
    }

    /// Whether JSON `null` is a value of the type (following aliases).
    fn admits_null(&self, ty: &TypeRef) -> bool {
        match ty {
            TypeRef::Named { name } => match self.types.get(name.as_str()).map(|t| &t.kind) {
                Some(TypeKind::Alias { target }) => self.admits_null(target),
                _ => false,
            },
            other => other.is_nullable(),
        }
    }

    /// The variants of a tagged or externally tagged enum `owner`, names checked for clashes.
    fn variants(
        &mut self,
        owner: &str,
        variants: &[crate::ir::Variant],
    ) -> Result<Vec<GoVariant>, CodegenError> {
        let mut scope = enum_fields(format!("variants of `{owner}`"));
        variants
            .iter()
            .map(|v| {
                self.variant(
                    owner,
                    &v.words,
                    &v.tag_value,
                    v.description.as_deref(),
                    &v.payload,
                    &mut scope,
                )
            })
            .collect()
    }

    fn variant(
        &mut self,
        owner: &str,
        vwords: &[String],
        tag_value: &str,
        description: Option<&str>,
        payload: &Payload,
        scope: &mut Namespace,
    ) -> Result<GoVariant, CodegenError> {
        let at = format!("type `{owner}`, variant `{tag_value}`");
        let mut field = go_name(vwords);
        if field.is_empty() {
            field = hex_name("Variant", tag_value);
        }
        scope.claim(&field, format!("variant `{tag_value}`"))?;
        let doc = doc(
            &field,
            description,
            &format!("is the variant {}.", lit(tag_value)),
        );
        let (ty, elem, unit) = match payload {
            Payload::Unit => ("bool".to_owned(), String::new(), true),
            Payload::Fields { type_name, .. } => {
                let t = self.type_name(type_name);
                (format!("*{t}"), t, false)
            }
            Payload::Type { ty } => {
                let t = self.go_type(ty, &at)?;
                (format!("*{t}"), t, false)
            }
        };
        Ok(GoVariant {
            set: if unit {
                format!("v.{field}")
            } else {
                format!("v.{field} != nil")
            },
            field,
            ty,
            elem,
            doc,
            wire: lit(tag_value),
            unit,
            null_only: false,
            null_ok: false,
            required: Vec::new(),
        })
    }

    /// The field name of an untagged alternative, after its type: `Float64`, `String`,
    /// `StringList`, `Inner`…
    fn alternative_name(&self, ty: &TypeRef) -> String {
        match ty {
            TypeRef::String => "String".into(),
            TypeRef::Uuid => "UUID".into(),
            TypeRef::Bool => "Bool".into(),
            TypeRef::Integer { bits, signed } => {
                format!("{}{bits}", if *signed { "Int" } else { "Uint" })
            }
            TypeRef::Number { bits } => format!("Float{bits}"),
            TypeRef::DateTime => "Time".into(),
            TypeRef::Any => "Any".into(),
            TypeRef::Null => "Null".into(),
            TypeRef::Named { name } => self.type_name(name),
            TypeRef::Array { .. } if ty.is_bytes() => "Bytes".into(),
            TypeRef::Array { items } => format!("{}List", self.alternative_name(items)),
            TypeRef::Map { keys, values } => match keys.as_ref() {
                TypeRef::String => format!("{}Map", self.alternative_name(values)),
                _ => format!(
                    "{}By{}Map",
                    self.alternative_name(values),
                    self.alternative_name(keys)
                ),
            },
            TypeRef::Nullable { inner } => format!("Nullable{}", self.alternative_name(inner)),
        }
    }
}

/// A name for something whose name has no letters or digits (`-` → `Field2D`): a prefix and
/// the name's bytes in hex.
fn hex_name(prefix: &str, name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02X}")).collect();
    format!("{prefix}{hex}")
}

/// The channel of a stream or typed channel as a Go string expression: the literal channel, or
/// the prefix plus the `key` argument.
fn channel_expr(prefix: &str, keyed: bool) -> String {
    if keyed {
        format!("{}+key", lit(prefix))
    } else {
        lit(prefix)
    }
}

/// Go's keywords: a package may not be named after one.
const GO_KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

/// Checks a module path given as `--go-module` and returns the package name it implies: its last
/// element (or the one before a major version suffix `v2`, `v3`…), lowercased, with what is not
/// a letter or digit left out. Refuses paths `go mod` would not accept (empty elements, other
/// characters than letters, digits and `-._~`, elements starting or ending with a dot) and
/// paths whose package name would not be a Go identifier.
pub fn check_module(path: &str) -> Result<String, CodegenError> {
    let refuse = |problem: &str| CodegenError::Option {
        flag: "--go-module",
        value: path.to_owned(),
        problem: problem.to_owned(),
    };
    let elements: Vec<&str> = path.split('/').collect();
    for e in &elements {
        if e.is_empty() {
            return Err(refuse(
                "a module path has no empty elements (no leading, trailing or double `/`)",
            ));
        }
        if !e
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        {
            return Err(refuse(
                "a module path's elements hold only ASCII letters, digits and `-._~`",
            ));
        }
        if e.starts_with('.') || e.ends_with('.') {
            return Err(refuse(
                "a module path's elements neither start nor end with a dot",
            ));
        }
    }
    let last = match elements.as_slice() {
        [.., before, last]
            if last.len() > 1
                && last.starts_with('v')
                && last[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            *before
        }
        [.., last] => *last,
        [] => unreachable!("split yields one element at least"),
    };
    let package: String = last
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if !package.starts_with(|c: char| c.is_ascii_lowercase())
        || GO_KEYWORDS.contains(&package.as_str())
    {
        return Err(refuse(&format!(
            "the package is named after the path's last element, and `{package}` is no Go \
             package name (it must start with a letter and not be a keyword)"
        )));
    }
    Ok(package)
}

/// Renders the Go module, at the path `module` when given (`--go-module`).
pub fn render(api: &Api, module: Option<&str>) -> Result<Vec<File>, CodegenError> {
    let (module, package) = match module {
        Some(path) => (path.to_owned(), check_module(path)?),
        None => {
            let name = package_name(&api.title);
            (name.clone(), name)
        }
    };
    let mut globals = Namespace::new("package-level names", Dialect::Go);
    for r in RESERVED {
        globals.reserve(r, format!("the client's own `{r}`"));
    }
    let mut names = BTreeMap::new();
    for t in &api.types {
        let mut name = go_name(&t.words);
        if name.is_empty() {
            name = hex_name("Type", &t.name);
        }
        globals.claim(&name, format!("type `{}`", t.name))?;
        names.insert(t.name.as_str(), name);
    }
    // Hoisted variant structs have no description of their own: say where they come from.
    let hoisted: BTreeMap<String, String> = api
        .variant_origins()
        .into_iter()
        .map(|(name, o)| {
            let doc = format!(
                "is the content of the variant {} of {}.",
                lit(&o.tag_value),
                names[o.enum_name.as_str()]
            );
            (name, doc)
        })
        .collect();
    let mut gen = Generator {
        types: api.types.iter().map(|t| (t.name.as_str(), t)).collect(),
        names,
        uses_time: false,
        uses_bytes: false,
        uses_list: false,
        uses_map: false,
    };
    let mut types = Vec::new();
    for t in &api.types {
        let def = gen.type_def(t, &hoisted)?;
        for v in &def.values {
            globals.claim(&v.name, format!("value {} of `{}`", v.wire, t.name))?;
        }
        types.push(def);
    }
    // types.go imports "time" only if its own types use it (client.go always imports it).
    let uses_time = gen.uses_time;
    let mut errors = Vec::new();
    let mut codes: Vec<_> = api.errors.iter().collect();
    codes.sort_by_key(|e| (e.code, &e.name));
    for e in codes {
        let name = format!("Code{}", go_name(&words(&e.name)));
        globals.claim(&name, format!("error code `{}`", e.name))?;
        let temporary = if e.temporary {
            " It is temporary: a retry may work."
        } else {
            ""
        };
        let meaning = format!("{}.{temporary}", e.message.trim_end_matches('.'));
        errors.push(GoError {
            doc: format!("{name} ({}): {meaning}", e.code),
            meaning,
            name,
            code: e.code,
        });
    }
    let mut app_errors = Vec::new();
    let mut app_names = BTreeMap::new();
    for e in &api.app_errors {
        let name = format!("Code{}", go_name(&e.words));
        globals.claim(
            &name,
            format!("application error `{}` ({})", e.name, e.code),
        )?;
        app_names.insert(e.code, name.clone());
        let meaning = e.meaning();
        app_errors.push(GoError {
            doc: wrap(&format!("{name} ({}): {meaning}", e.code)),
            meaning,
            name,
            code: e.code,
        });
    }
    let mut method_scope = Namespace::new("methods of APIClient", Dialect::Go);
    for m in CLIENT_METHODS {
        method_scope.reserve(m, format!("the client's own `{m}`"));
    }
    let mut methods = Vec::new();
    for m in &api.methods {
        let name = go_name(&m.words);
        if name.is_empty() {
            return Err(unsupported(
                &format!("method `{}`", m.name),
                "a method name needs letters",
            ));
        }
        method_scope.claim(&name, format!("method `{}`", m.name))?;
        let at = format!("method `{}`", m.name);
        let params = m
            .params
            .as_ref()
            .map(|p| gen.go_type(p, &format!("{at}, params")))
            .transpose()?;
        let (result, result_named, result_elem) = match &m.result {
            TypeRef::Null => (None, false, String::new()),
            TypeRef::Named { name } => {
                let t = gen.type_name(name);
                (Some(format!("*{t}")), true, t)
            }
            other => (
                Some(gen.go_type(other, &format!("{at}, result"))?),
                false,
                String::new(),
            ),
        };
        let signature = format!(
            "{name}(ctx context.Context{}) {}",
            params
                .as_ref()
                .map(|p| format!(", params {p}"))
                .unwrap_or_default(),
            result
                .as_ref()
                .map(|r| format!("({r}, error)"))
                .unwrap_or_else(|| "error".into())
        );
        methods.push(GoMethod {
            doc: with_paragraph(
                with_paragraph(
                    doc(&name, m.description.as_deref(), "calls the RPC method."),
                    Some(format!("It calls {}.", lit(&m.name))),
                ),
                app_errors_doc(&m.errors, &app_names, "returns"),
            ),
            wire: lit(&m.name),
            method: m.name.clone(),
            name,
            params,
            result,
            result_named,
            result_elem,
            signature,
            idempotent: m.idempotent,
        });
    }
    let mut streams = Vec::new();
    for st in &api.streams {
        let at = format!("stream `{}`", st.pattern);
        let name = go_name(&st.words);
        if name.is_empty() {
            return Err(unsupported(&at, "a stream's pattern needs letters"));
        }
        method_scope.claim(&name, at.clone())?;
        let params = st
            .params
            .as_ref()
            .map(|p| gen.go_type(p, &format!("{at}, params")))
            .transpose()?;
        let item = gen.go_type(&st.item, &format!("{at}, item"))?;
        let publication = st
            .publication
            .as_ref()
            .map(|p| gen.go_type(p, &format!("{at}, publication")))
            .transpose()?;
        let (ret, open) = match &publication {
            Some(p) => (
                format!("BidiStream[{item}, {p}]"),
                format!("openBidi[{item}, {p}]"),
            ),
            None => (format!("Stream[{item}]"), format!("openStream[{item}]")),
        };
        let channel = channel_expr(&st.prefix, st.keyed);
        let mut about = format!(
            "It subscribes to the stream {} (the channel {channel}) with {} as the subscribe data, and returns once the server accepts; its refusal is an *RPCError (such as CodeInvalidParams). Range over Items for the {item} items, and Close the stream when done.",
            lit(&st.pattern),
            if params.is_some() { "params" } else { "null" },
        );
        if let Some(p) = &publication {
            about.push_str(&format!(
                " Publish sends {p} values to the stream's handler."
            ));
        }
        let args = format!(
            "ctx context.Context{}{}",
            if st.keyed { ", key string" } else { "" },
            params
                .as_ref()
                .map(|p| format!(", params {p}"))
                .unwrap_or_default()
        );
        streams.push(GoStream {
            doc: with_paragraph(
                with_paragraph(
                    doc(
                        &name,
                        st.description.as_deref(),
                        "opens the subscription stream.",
                    ),
                    Some(wrap(&about)),
                ),
                app_errors_doc(&st.errors, &app_names, "refuses with"),
            ),
            signature: format!("{name}({args}) (*{ret}, error)"),
            pattern: st.pattern.clone(),
            keyed: st.keyed,
            name,
            params,
            ret,
            open,
            channel,
        });
    }
    let mut channels = Vec::new();
    for ch in &api.channels {
        let at = format!("channel `{}` ({})", ch.name, ch.pattern);
        let base = go_name(&ch.words);
        if base.is_empty() {
            return Err(unsupported(&at, "a channel's name needs letters"));
        }
        let subscribe = format!("Subscribe{base}");
        method_scope.claim(&subscribe, at.clone())?;
        let item = gen.go_type(&ch.publication, &format!("{at}, publication"))?;
        let channel = channel_expr(&ch.prefix, ch.keyed);
        let key_arg = if ch.keyed { ", key string" } else { "" };
        let description = clean(ch.description.as_deref());
        let subscribe_doc = with_paragraph(
            wrap(&format!(
                "{subscribe} subscribes to the channel {channel}, of the typed channel {} ({}), and returns once subscribed; its refusal is an *RPCError. Range over Items for the {item} publications, and Close the subscription when done.",
                lit(&ch.name),
                lit(&ch.pattern),
            )),
            description.clone(),
        );
        let (publish, publish_doc, publication, publish_signature) = match &ch.client_publication {
            Some(p) => {
                let publish = format!("Publish{base}");
                method_scope.claim(&publish, format!("{at}, publish"))?;
                let p = gen.go_type(p, &format!("{at}, client publication"))?;
                let doc = with_paragraph(
                    wrap(&format!(
                        "{publish} publishes publication into the channel {channel}, of the typed channel {} ({}). The server checks it before anyone receives it: its refusal is an *RPCError (CodeInvalidParams for a value that does not fit, or the application's code), as is a client-side timeout (see Call).",
                        lit(&ch.name),
                        lit(&ch.pattern),
                    )),
                    description,
                );
                let signature =
                    format!("{publish}(ctx context.Context{key_arg}, publication {p}) error");
                (Some(publish), doc, p, signature)
            }
            None => (None, String::new(), String::new(), String::new()),
        };
        channels.push(GoChannel {
            subscribe_signature: format!(
                "{subscribe}(ctx context.Context{key_arg}) (*Stream[{item}], error)"
            ),
            pattern: ch.pattern.clone(),
            keyed: ch.keyed,
            channel,
            item,
            subscribe,
            subscribe_doc,
            publish,
            publish_doc,
            publication,
            publish_signature,
        });
    }
    // The README's example: the IR's example method, its params a composite literal.
    let example_call = api.example_method().map(|m| {
        let g = &methods[api
            .methods
            .iter()
            .position(|x| std::ptr::eq(x, m))
            .expect("one of the API's methods")];
        let is_struct = |r: &TypeRef| {
            matches!(r, TypeRef::Named { name }
                if matches!(api.type_def(name).map(|t| &t.kind), Some(TypeKind::Struct { .. })))
        };
        match (&m.params, &g.params) {
            (Some(r), Some(p)) if is_struct(r) => {
                format!("{}(ctx, client.{p}{{ /* … */ }})", g.name)
            }
            (Some(_), _) => format!("{}(ctx, params)", g.name),
            (None, _) => format!("{}(ctx)", g.name),
        }
    });
    // The README's stream example: the first stream, its params a composite literal when a type.
    let example_stream = streams.first().map(|s| {
        let key = if s.keyed { ", \"key\"" } else { "" };
        let params = match &s.params {
            Some(p) if p.chars().all(|c| c.is_ascii_alphanumeric()) => {
                format!(", client.{p}{{ /* … */ }}")
            }
            Some(_) => ", params".to_owned(),
            None => String::new(),
        };
        format!("{}(ctx{key}{params})", s.name)
    });
    let connect_data = match &api.connect.data {
        Some(r) => Some(gen.go_type(r, "connect data")?),
        None => None,
    };
    let connect_reply = match &api.connect.reply_data {
        Some(r) => Some(gen.go_type(r, "connect reply data")?),
        None => None,
    };
    let ctx = Context {
        connect_data,
        connect_reply,
        example_call,
        example_stream,
        module,
        package,
        title_lit: lit(&api.title),
        version_lit: lit(&api.version),
        version_text: api
            .version
            .chars()
            .map(|c| {
                if c.is_control() || c == '\u{feff}' {
                    ' '
                } else {
                    c
                }
            })
            .collect(),
        uses_time,
        uses_bytes: gen.uses_bytes,
        uses_list: gen.uses_list,
        uses_map: gen.uses_map,
        types,
        methods,
        streams,
        channels,
        errors,
        app_errors,
        centrifuge_go: CENTRIFUGE_GO,
    };
    let env = environment();
    let render = |name: &str, source: &str| -> Result<String, CodegenError> {
        Ok(env.render_named_str(name, source, &ctx)?)
    };
    Ok(vec![
        File::new("go.mod", render("go.mod", GO_MOD)?),
        File::new("go.sum", GO_SUM),
        File::new("types.go", render("types.go", TYPES)?),
        File::new("client.go", render("client.go", CLIENT)?),
        File::new("README.md", render("README.md", README)?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        go_name(&words(s))
    }

    #[test]
    fn names_are_idiomatic_go() {
        assert_eq!(n("user_id"), "UserID");
        assert_eq!(n("bigUnsigned"), "BigUnsigned");
        assert_eq!(n("TaskId"), "TaskID");
        assert_eq!(n("api_url"), "APIURL");
        assert_eq!(n("httpJsonUuid"), "HTTPJSONUUID");
        assert_eq!(n("tasks.get_stats"), "TasksGetStats");
        assert_eq!(n("WhoAmI"), "WhoAmI");
        assert_eq!(n("from"), "From");
        assert_eq!(n("type"), "Type");
        assert_eq!(n("2fa"), "X2fa");
        assert_eq!(n("ñame"), "U00D1ame");
        assert_eq!(n("__"), "");
        assert_eq!(package_name("tasks"), "tasksclient");
        assert_eq!(package_name("My API"), "myapiclient");
        assert_eq!(package_name("9lives"), "api9livesclient");
        assert_eq!(package_name(""), "apiclient");
    }

    fn api(types: Vec<TypeDef>, methods: Vec<&str>) -> Api {
        Api {
            title: "t".into(),
            version: "1".into(),
            methods: methods
                .into_iter()
                .map(|m| crate::ir::Method {
                    name: m.into(),
                    words: words(m),
                    description: None,
                    params: None,
                    result: TypeRef::Null,
                    errors: Vec::new(),
                    idempotent: false,
                })
                .collect(),
            types,
            errors: Vec::new(),
            app_errors: Vec::new(),
            streams: Vec::new(),
            channels: Vec::new(),
            connect: Default::default(),
        }
    }

    fn strukt(name: &str, wire: &str, ty: TypeRef) -> TypeDef {
        TypeDef {
            name: name.into(),
            words: words(name),
            description: None,
            kind: TypeKind::Struct {
                fields: vec![Field {
                    wire: wire.into(),
                    words: words(wire),
                    description: None,
                    ty,
                    required: true,
                    default: None,
                }],
            },
            input_of: None,
        }
    }

    #[test]
    fn refuses_what_go_cannot_express() {
        let err = |a: Api| render(&a, None).unwrap_err().to_string();
        let e = err(api(vec![strukt("RPCError", "a", TypeRef::Bool)], vec![]));
        assert_eq!(
            e,
            "name collision: package-level names: the client's own `RPCError` and type \
             `RPCError` would both be the Go identifier `RPCError`; rename one"
        );
        let e = err(api(vec![], vec!["connect"]));
        assert_eq!(
            e,
            "name collision: methods of APIClient: the client's own `Connect` and method \
             `connect` would both be the Go identifier `Connect`; rename one"
        );
        let wide = TypeRef::Integer {
            bits: 128,
            signed: true,
        };
        let e = err(api(vec![strukt("A", "a", wide)], vec![]));
        assert!(
            e.contains("type `A`, field `a`") && e.contains("128-bit"),
            "{e}"
        );
        let e = err(api(vec![strukt("A", "a\"b", TypeRef::Bool)], vec![]));
        assert!(e.contains("struct tag"), "{e}");
        let e = err(api(
            vec![
                strukt("Color", "a", TypeRef::Bool),
                TypeDef {
                    name: "Colors".into(),
                    words: words("Color"),
                    description: None,
                    kind: TypeKind::Alias {
                        target: TypeRef::Bool,
                    },
                    input_of: None,
                },
            ],
            vec![],
        ));
        assert_eq!(
            e,
            "name collision: package-level names: type `Color` and type `Colors` would both \
             be the Go identifier `Color`; rename one"
        );
        // An enum struct's field may not be named like one of its methods.
        let e = err(api(
            vec![TypeDef {
                name: "Codec".into(),
                words: words("Codec"),
                description: None,
                kind: TypeKind::External {
                    variants: vec![crate::ir::Variant {
                        tag_value: "marshal_json".into(),
                        words: words("marshal_json"),
                        description: None,
                        payload: Payload::Unit,
                    }],
                },
                input_of: None,
            }],
            vec![],
        ));
        assert_eq!(
            e,
            "name collision: variants of `Codec`: the enum's method `MarshalJSON` and variant \
             `marshal_json` would both be the Go identifier `MarshalJSON`; rename one"
        );
    }

    #[test]
    fn imports_time_only_where_used() {
        let mut a = api(vec![strukt("A", "a", TypeRef::Bool)], vec![]);
        a.methods = vec![crate::ir::Method {
            name: "x.at".into(),
            words: words("x.at"),
            description: None,
            params: Some(TypeRef::DateTime),
            result: TypeRef::DateTime,
            errors: Vec::new(),
            idempotent: false,
        }];
        let files = render(&a, None).unwrap();
        let types = &files
            .iter()
            .find(|f| f.path.ends_with("types.go"))
            .unwrap()
            .contents;
        assert!(!types.contains("\"time\""), "{types}");
        let client = &files
            .iter()
            .find(|f| f.path.ends_with("client.go"))
            .unwrap()
            .contents;
        assert!(
            client.contains("XAt(ctx context.Context, params time.Time) (time.Time, error)"),
            "{client}"
        );
    }

    fn stream(pattern: &str, publication: Option<TypeRef>) -> crate::ir::Stream {
        let keyed = pattern.ends_with('*');
        crate::ir::Stream {
            pattern: pattern.into(),
            prefix: pattern.trim_end_matches('*').into(),
            keyed,
            words: words(pattern.trim_end_matches('*')),
            description: None,
            params: None,
            item: TypeRef::Bool,
            publication,
            errors: Vec::new(),
        }
    }

    fn channel(name: &str, pattern: &str, client: Option<TypeRef>) -> crate::ir::Channel {
        crate::ir::Channel {
            name: name.into(),
            words: words(name),
            pattern: pattern.into(),
            prefix: pattern.trim_end_matches('*').into(),
            keyed: pattern.ends_with('*'),
            description: None,
            publication: TypeRef::String,
            client_publication: client,
        }
    }

    #[test]
    fn app_error_constants_claim_their_names() {
        let timeout = crate::ir::AppError {
            name: "TIMEOUT".into(),
            words: words("TIMEOUT"),
            code: 1001,
            description: "Too slow.".into(),
            temporary: true,
        };
        let mut a = api(vec![], vec!["x.y"]);
        a.app_errors = vec![timeout.clone()];
        let e = render(&a, None).unwrap_err().to_string();
        assert!(
            e.contains("the client's own `CodeTimeout` and application error `TIMEOUT` (1001)"),
            "{e}"
        );
        let gone = crate::ir::AppError {
            name: "GONE".into(),
            words: words("GONE"),
            ..timeout
        };
        a.app_errors = vec![gone.clone()];
        a.methods[0].errors = vec![gone];
        let client = client_go(&a);
        assert!(
            client.contains("\tCodeGone uint32 = 1001\n")
                && client.contains(
                    "//   - CodeGone (1001): Too slow. Temporary: a retry may succeed.\n"
                ),
            "{client}"
        );
    }

    #[test]
    fn module_paths_are_checked_and_name_the_package() {
        assert_eq!(
            check_module("example.com/acme/tasks-api").unwrap(),
            "tasksapi"
        );
        assert_eq!(check_module("example.com/acme/tasks/v2").unwrap(), "tasks");
        assert_eq!(check_module("tasks").unwrap(), "tasks");
        for bad in [
            "",
            "a//b",
            "/a",
            "a/",
            "a b",
            "a/.b",
            "example.com/9lives",
            "x/type",
            "ü",
        ] {
            let e = check_module(bad).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("invalid --go-module {bad:?}: ")),
                "{e}"
            );
        }
    }

    fn client_go(a: &Api) -> String {
        render(a, None)
            .unwrap()
            .into_iter()
            .find(|f| f.path.ends_with("client.go"))
            .unwrap()
            .contents
    }

    #[test]
    fn streams_and_channels_are_methods_of_the_api_client() {
        let mut a = api(vec![], vec![]);
        a.streams = vec![
            stream("ticks", None),
            stream(
                "room:chat:*",
                Some(TypeRef::Integer {
                    bits: 32,
                    signed: true,
                }),
            ),
        ];
        a.channels = vec![
            channel("news", "news", None),
            channel("chat_room", "chat:room:*", Some(TypeRef::String)),
        ];
        let client = client_go(&a);
        for expected in [
            "func (c *APIClient) Ticks(ctx context.Context) (*Stream[bool], error) {\n\treturn openStream[bool](ctx, c.CentrifugoRPCClient, \"ticks\", nil)",
            "func (c *APIClient) RoomChat(ctx context.Context, key string) (*BidiStream[bool, int32], error) {\n\treturn openBidi[bool, int32](ctx, c.CentrifugoRPCClient, \"room:chat:\"+key, nil)",
            "func (c *APIClient) SubscribeNews(ctx context.Context) (*Stream[string], error) {\n\treturn subscribe[string](ctx, c.CentrifugoRPCClient, \"news\", nil)",
            "func (c *APIClient) SubscribeChatRoom(ctx context.Context, key string) (*Stream[string], error) {",
            "func (c *APIClient) PublishChatRoom(ctx context.Context, key string, publication string) error {\n\treturn publishTo(ctx, c.CentrifugoRPCClient, \"chat:room:\"+key, publication)",
            "// Ticks opens the subscription stream.\n//\n// It subscribes to the stream \"ticks\"",
        ] {
            assert!(client.contains(expected), "client.go lacks {expected:?}:\n{client}");
        }
        assert!(
            !client.contains("PublishNews"),
            "news has no client publication"
        );

        let err = |a: Api| render(&a, None).unwrap_err().to_string();
        let mut clash = api(vec![], vec!["subscribe_news"]);
        clash.channels = vec![channel("news", "news", None)];
        let e = err(clash);
        assert!(
            e.contains("`SubscribeNews`") && e.contains("channel `news`"),
            "{e}"
        );
        let mut clash = api(vec![], vec![]);
        clash.streams = vec![stream("close", None)];
        let e = err(clash);
        assert!(e.contains("`Close`"), "{e}");
    }

    /// Leaving an `Option` out and sending `null` differ only when serde's default is not
    /// `None`: then, and only then, the field has a pointer for each.
    #[test]
    fn optional_nullable_fields_are_three_state_only_with_a_non_null_default() {
        let field = |default: Option<Value>| {
            let mut t = strukt(
                "A",
                "a",
                TypeRef::Nullable {
                    inner: Box::new(TypeRef::Integer {
                        bits: 32,
                        signed: false,
                    }),
                },
            );
            if let TypeKind::Struct { fields } = &mut t.kind {
                fields[0].required = false;
                fields[0].default = default;
            }
            let files = render(&api(vec![t], vec![]), None).unwrap();
            let types = &files
                .iter()
                .find(|f| f.path.ends_with("types.go"))
                .unwrap()
                .contents;
            types
                .lines()
                .find(|l| l.contains("json:\"a"))
                .unwrap()
                .trim()
                .to_owned()
        };
        assert_eq!(field(None), "A *uint32 `json:\"a,omitempty\"`");
        assert_eq!(field(Some(Value::Null)), "A *uint32 `json:\"a,omitempty\"`");
        assert_eq!(
            field(Some(serde_json::json!(3))),
            "A **uint32 `json:\"a,omitempty\"`"
        );
    }

    #[test]
    fn byte_strings_lists_and_maps_have_their_own_types() {
        let bytes = TypeRef::Array {
            items: Box::new(TypeRef::Integer {
                bits: 8,
                signed: false,
            }),
        };
        assert!(bytes.is_bytes());
        let t = strukt(
            "A",
            "a",
            TypeRef::Map {
                keys: Box::new(TypeRef::String),
                values: Box::new(TypeRef::Array {
                    items: Box::new(bytes),
                }),
            },
        );
        let files = render(&api(vec![t], vec![]), None).unwrap();
        let types = &files
            .iter()
            .find(|f| f.path.ends_with("types.go"))
            .unwrap()
            .contents;
        for expected in [
            "A Map[string, List[Bytes]] `json:\"a\"`",
            "type Bytes []byte",
            "type List[T any] []T",
            "type Map[K comparable, V any] map[K]V",
        ] {
            assert!(
                types.contains(expected),
                "types.go lacks {expected:?}:\n{types}"
            );
        }
        let plain = render(&api(vec![strukt("A", "a", TypeRef::Bool)], vec![]), None).unwrap();
        let types = &plain
            .iter()
            .find(|f| f.path.ends_with("types.go"))
            .unwrap()
            .contents;
        assert!(
            !types.contains("type List"),
            "declared only where used:\n{types}"
        );
    }

    #[test]
    fn docs_start_with_the_name_and_stay_comments() {
        assert_eq!(
            doc("X", Some("Line one.\r\nLine two.  \n"), "f"),
            "X Line one.\nLine two."
        );
        assert_eq!(doc("X", None, "is a thing."), "X is a thing.");
        assert_eq!(doc("X", Some("a\u{0}b\u{feff}"), "f"), "X a b");
        assert!(!valid_tag_name("a\"b"));
        assert!(!valid_tag_name("a,b"));
        assert!(!valid_tag_name(""));
        assert!(valid_tag_name("user-id.x y"));
    }
}
