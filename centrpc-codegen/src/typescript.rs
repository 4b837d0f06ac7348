//! The TypeScript client generator: an ESM package over centrifuge-js that runs in browsers and
//! in Node ≥ 20 (with a WebSocket implementation passed in), compiled with `tsc`.
//!
//! Layout of `DIR/typescript` (sources at the package root, so a bundler or TypeScript project can
//! import the directory itself, e.g. `import { APIClient } from './opensdk/typescript'`):
//!
//! - `types.ts`: one declaration per IR type: interfaces, string-literal unions, discriminated
//!   unions for tagged enums, `"Unit" | { Variant: T }` for externally tagged ones, plain unions
//!   for untagged ones, type aliases for newtypes;
//! - `errors.ts`: `RPCError`, `RPCTimeoutError`, `RPCResultError` and the built-in error codes;
//! - `validate.ts`: a run-time check per type a received value can have (`checkX`), built from
//!   the IR by [`Checks`], which the client applies to results, stream items, publications and
//!   the connect reply data;
//! - `client.ts`: `CentrifugoRPCClient`, the connection-level client with per-call timeouts;
//! - `streams.ts`: `TypedSubscription` (an `AsyncIterable` of a stream's or channel's items, with a
//!   callback form), `BidiStream` (one that also publishes) and `publishTo`;
//! - `api.ts`: `APIClient`, one typed method per RPC method, stream and typed channel;
//! - `json.ts`, with `--ts-int64 bigint` ([`TsInt64::Bigint`]) only: a lossless JSON reader and
//!   writer (integers beyond 2^53 − 1 as bigints), as the package then runs over centrifuge-js's
//!   protobuf build, whose data are bytes;
//! - `index.ts`, `package.json`, `tsconfig.json`, `README.md`.
//!
//! Every relative import carries its `.js` extension, so the compiled output runs in Node's ESM
//! loader unchanged. Object keys are the wire names (the values *are* the JSON), quoted when
//! they are not identifiers; type and method names are built from the IR's words.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::AutoEscape;
use serde::Serialize;

use crate::{
    ir::{
        Api, AppError, Channel, Dialect, Field, Namespace, Payload, Stream, TypeDef, TypeKind,
        TypeRef, Variant,
    },
    naming::{camel, pascal, screaming, words},
    CodegenError, File,
};

const TYPES_TS: &str = include_str!("templates/typescript/types.ts.j2");
const VALIDATE_TS: &str = include_str!("templates/typescript/validate.ts.j2");
const JSON_TS: &str = include_str!("templates/typescript/json.ts.j2");
const ERRORS_TS: &str = include_str!("templates/typescript/errors.ts.j2");
const CLIENT_TS: &str = include_str!("templates/typescript/client.ts.j2");
const API_TS: &str = include_str!("templates/typescript/api.ts.j2");
const STREAMS_TS: &str = include_str!("templates/typescript/streams.ts.j2");
const INDEX_TS: &str = include_str!("templates/typescript/index.ts.j2");
const PACKAGE_JSON: &str = include_str!("templates/typescript/package.json.j2");
const TSCONFIG_JSON: &str = include_str!("templates/typescript/tsconfig.json");
const README_MD: &str = include_str!("templates/typescript/README.md.j2");

/// The centrifuge-js range the package is written against.
pub const CENTRIFUGE_VERSION: &str = "^5.8.0";

/// The TypeScript compiler the package's `build` script is pinned to (a dev dependency).
pub const TYPESCRIPT_VERSION: &str = "5.9.3";

/// Names the package exports besides the generated types, and the global types `types.ts`
/// itself uses: a generated type under one of these names gets a trailing `_`.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "APIClient",
    "BidiListener",
    "BidiStream",
    "CallOptions",
    "CentrifugoRPCClient",
    "AppErrorCode",
    "AppErrorCodes",
    "ErrorCode",
    "ErrorCodes",
    "JsonValue",
    "RPCClientOptions",
    "RPCError",
    "RPCResultError",
    "RPCTimeoutError",
    "NOT_SUBSCRIBED_CODE",
    "Record",
    "STREAM_END_CODE",
    "SubscribeOptions",
    "SubscriptionHandlers",
    "TypedSubscription",
];

/// Members of `APIClient` a generated method must not replace: such a method gets a trailing `_`.
const RESERVED_METHOD_NAMES: &[&str] = &["constructor", "rpc", "connectReplyData"];

/// Checks an npm package name given as `--npm-package`, by npm's rules for new packages: at
/// most 214 characters, lowercase, URL-safe (letters, digits and `-._~`), not starting with a
/// dot or an underscore, optionally under a scope (`@scope/name`).
pub fn check_package(name: &str) -> Result<(), CodegenError> {
    let refuse = |problem: &str| CodegenError::Option {
        flag: "--npm-package",
        value: name.to_owned(),
        problem: problem.to_owned(),
    };
    if name.len() > 214 {
        return Err(refuse("an npm package name has at most 214 characters"));
    }
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with(['.', '_'])
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
    };
    let ok = match name.strip_prefix('@') {
        Some(scoped) => {
            matches!(scoped.split_once('/'), Some((scope, rest)) if part_ok(scope) && part_ok(rest))
        }
        None => part_ok(name),
    };
    if ok {
        Ok(())
    } else {
        Err(refuse(
            "an npm package name is lowercase letters, digits and `-._~`, not starting with `.` \
             or `_`, optionally scoped as `@scope/name`",
        ))
    }
}

/// How the TypeScript package represents 64-bit integers (`--ts-int64`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum TsInt64 {
    /// `number`, over centrifuge-js's JSON build: exact up to 2^53 − 1
    /// (`Number.MAX_SAFE_INTEGER`); a larger received value is an `RPCResultError`, never
    /// another number.
    #[default]
    Number,
    /// `bigint`, exact over the whole 64-bit range: the package runs over centrifuge-js's
    /// protobuf build, where data are bytes, and reads and writes their JSON itself.
    Bigint,
}

/// The module the package imports centrifuge-js from.
fn centrifuge_module(int64: TsInt64) -> &'static str {
    match int64 {
        TsInt64::Number => "centrifuge",
        // The same API, with the data of every command and reply as bytes.
        TsInt64::Bigint => "centrifuge/build/protobuf",
    }
}

/// Renders the TypeScript package, named `npm_package` when given (`--npm-package`), with
/// 64-bit integers as `int64` says (`--ts-int64`).
pub fn render(
    api: &Api,
    npm_package: Option<&str>,
    int64: TsInt64,
) -> Result<Vec<File>, CodegenError> {
    let package_name = match npm_package {
        Some(name) => {
            check_package(name)?;
            name.to_owned()
        }
        None => package_name(&api.title),
    };
    let names = Names::new(api, int64)?;
    let mut checks = Checks::new(api, &names);
    let check_views = checks.views();
    let types = api
        .types
        .iter()
        .map(|t| type_view(t, &names))
        .collect::<Result<Vec<_>, _>>()?;
    let methods = api
        .methods
        .iter()
        .map(|m| {
            let ident = method_ident(&m.words, &m.name)?;
            let params = m.params.as_ref().map(|p| ts_type(p, &names, "types.").0);
            Ok(MethodView {
                check: checks.expr(&m.result, "validate."),
                name: m.name.clone(),
                idempotent: m.idempotent,
                name_literal: js_string(&m.name),
                doc: jsdoc(
                    &[
                        m.description.clone().unwrap_or_default(),
                        format!("Calls the RPC method `{}`.", m.name),
                        app_errors_doc(&m.errors, "may fail with"),
                        "@throws {RPCError} the server's error reply (any code, e.g. 422 for \
                         invalid params), or a client-side failure.\n\
                         @throws {RPCResultError} the result does not match its type (e.g. an \
                         enum value this client does not know).\n\
                         @throws {RPCTimeoutError} no reply within the call's timeout.\n\
                         @throws {RPCAbortedError} `opts.signal` was aborted."
                            .into(),
                    ],
                    "  ",
                ),
                ident,
                params,
                result: ts_type(&m.result, &names, "types.").0,
                readme_params: m
                    .params
                    .as_ref()
                    .map(|p| ts_type(p, &names, "").0.replace('|', "\\|"))
                    .unwrap_or_else(|| "—".into()),
                readme_result: ts_type(&m.result, &names, "").0.replace('|', "\\|"),
                readme_description: m
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .replace('\n', " ")
                    .replace('|', "\\|"),
            })
        })
        .collect::<Result<Vec<_>, CodegenError>>()?;
    let errors: Vec<ErrorView> = api
        .errors
        .iter()
        .map(|e| ErrorView {
            name: js_key(&e.name),
            code: e.code,
            message: one_line(&e.message).replace('|', "\\|"),
            temporary: e.temporary,
            doc: jsdoc(
                &[format!(
                    "{}{}",
                    sentence(&e.message),
                    if e.temporary {
                        " Temporary: a retry may succeed."
                    } else {
                        ""
                    }
                )],
                "  ",
            ),
        })
        .collect();
    let app_errors: Vec<ErrorView> = api
        .app_errors
        .iter()
        .map(|e| ErrorView {
            name: app_error_key(e),
            code: e.code,
            message: one_line(&e.description).replace('|', "\\|"),
            temporary: e.temporary,
            doc: jsdoc(&[e.meaning()], "  "),
        })
        .collect();
    // The README's example call: the first method whose params can be written as a literal.
    // The README's example call: the IR's example method, with a literal of its params.
    let example = api.example_method().and_then(|m| {
        let view = &methods[api.methods.iter().position(|x| std::ptr::eq(x, m))?];
        let args = match &m.params {
            None => String::new(),
            Some(p) => match sample(p, api, int64, 0) {
                Some(literal) => format!("{literal}, "),
                None => "params, ".into(),
            },
        };
        Some(ExampleView {
            ident: view.ident.clone(),
            args,
        })
    });
    let streams = api
        .streams
        .iter()
        .map(|s| stream_view(s, &names, checks.expr(&s.item, "validate.")))
        .collect::<Result<Vec<_>, _>>()?;
    let channels = api
        .channels
        .iter()
        .map(|c| channel_view(c, &names, checks.expr(&c.publication, "validate.")))
        .collect::<Result<Vec<_>, _>>()?;
    check_members(&methods, &streams, &channels)?;
    let connect_data = api
        .connect
        .data
        .as_ref()
        .map(|t| ts_type(t, &names, "types.").0);
    let connect_reply = api
        .connect
        .reply_data
        .as_ref()
        .map(|t| ts_type(t, &names, "types.").0);
    let connect_reply_check = api
        .connect
        .reply_data
        .as_ref()
        .map(|t| checks.expr(t, "validate."));
    let uses_types = [&connect_data, &connect_reply]
        .into_iter()
        .flatten()
        .any(|t| t.contains("types."))
        || methods.iter().any(|m| {
            m.result.contains("types.") || m.params.as_ref().is_some_and(|p| p.contains("types."))
        })
        || streams.iter().any(|s| {
            [Some(&s.item), s.params.as_ref(), s.publication.as_ref()]
                .into_iter()
                .flatten()
                .any(|t| t.contains("types."))
        })
        || channels.iter().any(|c| {
            [Some(&c.publication), c.client_publication.as_ref()]
                .into_iter()
                .flatten()
                .any(|t| t.contains("types."))
        });
    let context = minijinja::context! {
        bigint => int64 == TsInt64::Bigint,
        centrifuge_module => centrifuge_module(int64),
        uses_types => uses_types,
        connect_data => connect_data,
        connect_reply => connect_reply,
        uses_checks => connect_reply_check.is_some() || !methods.is_empty() || !streams.is_empty() || !channels.is_empty(),
        connect_reply_check => connect_reply_check,
        checks => check_views,
        helpers => checks.helpers,
        title => one_line(&api.title),
        version => one_line(&api.version),
        package_name_json => serde_json::to_string(&package_name).expect("string"),
        package_name => package_name,
        version_json => serde_json::to_string(&api.version).expect("string"),
        description_json => serde_json::to_string(&format!(
            "Typed client for the {} API over Centrifugo RPC (generated by centrpc)",
            api.title
        )).expect("string"),
        centrifuge_version => CENTRIFUGE_VERSION,
        typescript_version => TYPESCRIPT_VERSION,
        types => types,
        methods => &methods,
        streams => &streams,
        // The README's stream example: a unidirectional one when there is one.
        example_stream => streams.iter().find(|s| s.publication.is_none()).or(streams.first()),
        channels => &channels,
        uses_bidi => streams.iter().any(|s| s.publication.is_some()),
        uses_publish => channels.iter().any(|c| c.client_publication.is_some()),
        uses_subscriptions => !streams.is_empty() || !channels.is_empty(),
        errors => errors,
        app_errors => app_errors,
        example => example,
    };
    let mut env = super::environment();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let render = |name: &str, source: &str| -> Result<String, CodegenError> {
        Ok(env.render_named_str(name, source, &context)?)
    };
    let mut files = vec![
        File::new("README.md", render("README.md.j2", README_MD)?),
        File::new("api.ts", render("api.ts.j2", API_TS)?),
        File::new("client.ts", render("client.ts.j2", CLIENT_TS)?),
        File::new("errors.ts", render("errors.ts.j2", ERRORS_TS)?),
        File::new("index.ts", render("index.ts.j2", INDEX_TS)?),
        File::new("package.json", render("package.json.j2", PACKAGE_JSON)?),
        File::new("streams.ts", render("streams.ts.j2", STREAMS_TS)?),
        File::new("tsconfig.json", TSCONFIG_JSON),
        File::new("types.ts", render("types.ts.j2", TYPES_TS)?),
        File::new("validate.ts", render("validate.ts.j2", VALIDATE_TS)?),
    ];
    if int64 == TsInt64::Bigint {
        files.push(File::new("json.ts", render("json.ts.j2", JSON_TS)?));
    }
    Ok(files)
}

/// The npm package name: `<title>-client`, lowercase and URL-safe.
fn package_name(title: &str) -> String {
    let w: Vec<String> = words(title)
        .iter()
        .map(|w| w.chars().filter(char::is_ascii_alphanumeric).collect())
        .filter(|w: &String| !w.is_empty())
        .collect();
    if w.is_empty() {
        "api-client".into()
    } else {
        format!("{}-client", w.join("-"))
    }
}

/// Generated TypeScript names of the IR's types, which hoisted structs are the variants of an
/// internally tagged enum (they carry the tag property themselves), and how 64-bit integers are
/// spelled.
struct Names {
    types: BTreeMap<String, String>,
    internal_tags: BTreeMap<String, (String, String)>,
    int64: TsInt64,
}

impl Names {
    fn new(api: &Api, int64: TsInt64) -> Result<Self, CodegenError> {
        let mut types = BTreeMap::new();
        let mut exported = Namespace::new("types of types.ts", Dialect::TypeScript);
        for t in &api.types {
            let ident = type_ident(&t.words, &t.name)?;
            exported.claim(&ident, format!("type `{}`", t.name))?;
            types.insert(t.name.clone(), ident);
        }
        Ok(Self {
            types,
            internal_tags: api.internal_variant_tags(),
            int64,
        })
    }

    fn get(&self, name: &str) -> String {
        // `ir::read` only produces references to types it defines; fall back to the pascal case
        // of the name so a bug there shows up as a type error in `tsc`, not a panic here.
        self.types
            .get(name)
            .cloned()
            .unwrap_or_else(|| pascal(&words(name)))
    }
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphabetic()
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_ident_start)
        && chars.all(|c| c == '_' || c == '$' || c.is_alphanumeric())
}

/// A type name: PascalCase words, `_`-prefixed when it would start with a digit, `_`-suffixed
/// when it would shadow one of the package's own exports or a global `types.ts` uses.
fn type_ident(w: &[String], original: &str) -> Result<String, CodegenError> {
    let mut ident = pascal(w);
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if RESERVED_TYPE_NAMES.contains(&ident.as_str()) {
        ident.push('_');
    }
    if !is_ident(&ident) {
        return Err(CodegenError::Unsupported {
            at: format!("type `{original}`"),
            problem: "its name has no letters or digits to build a TypeScript name from".into(),
        });
    }
    Ok(ident)
}

/// A method name: camelCase words, escaped like type names.
fn method_ident(w: &[String], original: &str) -> Result<String, CodegenError> {
    let mut ident = camel(w);
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if RESERVED_METHOD_NAMES.contains(&ident.as_str()) {
        ident.push('_');
    }
    if !is_ident(&ident) {
        return Err(CodegenError::Unsupported {
            at: format!("method `{original}`"),
            problem: "its name has no letters or digits to build a TypeScript name from".into(),
        });
    }
    Ok(ident)
}

/// A string literal (JSON strings are JavaScript string literals).
fn js_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// An object key: bare when it is an identifier, quoted otherwise.
fn js_key(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && is_ident(s)
    {
        s.to_owned()
    } else {
        js_string(s)
    }
}

/// Text for a one-line comment or a table cell: on one line, unable to end a block comment.
fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("*/", "*\\/")
}

/// The key of an application error in `AppErrorCodes`: its name in SCREAMING_SNAKE_CASE.
fn app_error_key(e: &AppError) -> String {
    js_key(&screaming(&e.words))
}

/// The doc paragraph listing the application errors a method or stream declares (a Markdown
/// list of `AppErrorCodes` keys); empty when it declares none.
fn app_errors_doc(errors: &[AppError], verb: &str) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = format!("Besides the built-in codes, it {verb} these application errors (`RPCError.code`, {{@link AppErrorCodes}}):");
    for e in errors {
        out.push_str(&format!(
            "\n- `{}` ({}): {}",
            app_error_key(e),
            e.code,
            e.meaning()
        ));
    }
    out
}

/// Text with a full stop, for generated sentences.
fn sentence(s: &str) -> String {
    let mut s = s.trim().to_owned();
    if let Some(first) = s.chars().next() {
        s.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// A JSDoc block from paragraphs (empty ones skipped), each line prefixed with `indent`; `""`
/// when there is nothing to say. `*/` in the text cannot end the comment.
fn jsdoc(paragraphs: &[String], indent: &str) -> String {
    let text = paragraphs
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
        .replace("*/", "*\\/");
    if text.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    if let [one] = lines.as_slice() {
        return format!("{indent}/** {one} */\n");
    }
    let mut out = format!("{indent}/**\n");
    for l in lines {
        if l.trim().is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {}\n", l.trim_end()));
        }
    }
    out.push_str(&format!("{indent} */\n"));
    out
}

/// What a reader should know about the wire format of `ty` beyond its TypeScript type, with
/// 64-bit integers as `int64` says.
fn wire_notes(ty: &TypeRef, int64: TsInt64) -> Vec<String> {
    match ty {
        TypeRef::Nullable { inner } => wire_notes(inner, int64),
        TypeRef::Array { items } => wire_notes(items, int64),
        TypeRef::Map { keys, values } => {
            let mut notes = match keys.as_ref() {
                TypeRef::Integer { bits, signed } => vec![format!(
                    "Keys: {}{bits} integers, decimal strings in JSON. At run time they are \
                     strings, as every object key (`Object.keys` gives `'7'`; `m[7]` finds it): \
                     received keys stay exact at any size, number keys you write up to 2^53 − 1.",
                    if *signed { "int" } else { "uint" }
                )],
                _ => vec![],
            };
            notes.extend(wire_notes(values, int64));
            notes
        }
        TypeRef::Integer { bits: 64, signed } if int64 == TsInt64::Bigint => vec![format!(
            "{}: a `bigint`, exact over the whole range.",
            if *signed { "int64" } else { "uint64" }
        )],
        TypeRef::Integer { bits: 64, signed } => vec![format!(
            "{}: exact in JavaScript only up to 2^53 − 1 (`Number.MAX_SAFE_INTEGER`); larger \
             values lose precision.",
            if *signed { "int64" } else { "uint64" }
        )],
        TypeRef::Integer { bits, signed } => vec![format!(
            "Integer ({}{bits}).",
            if *signed { "int" } else { "uint" }
        )],
        TypeRef::Number { bits: 32 } => vec![
            "32-bit float (f32): the server rounds it to single precision, and reads a magnitude \
             above 3.4e38 as infinity."
                .into(),
        ],
        TypeRef::DateTime => vec!["RFC 3339 date-time string, e.g. `2024-05-01T12:00:00Z`.".into()],
        TypeRef::Uuid => vec!["UUID string, e.g. `67e55044-10b1-426f-9247-bb680e5fe0c8`.".into()],
        _ => vec![],
    }
}

/// A type expression, and whether it is a union (needs parentheses inside `T[]`).
fn ts_type(ty: &TypeRef, names: &Names, prefix: &str) -> (String, bool) {
    match ty {
        TypeRef::String | TypeRef::DateTime | TypeRef::Uuid => ("string".into(), false),
        TypeRef::Bool => ("boolean".into(), false),
        TypeRef::Integer { bits: 64, .. } if names.int64 == TsInt64::Bigint => {
            ("bigint".into(), false)
        }
        TypeRef::Integer { .. } | TypeRef::Number { .. } => ("number".into(), false),
        // Not `unknown`, which would take `undefined` and bigints that JSON cannot carry.
        TypeRef::Any => (format!("{prefix}JsonValue"), false),
        TypeRef::Null => ("null".into(), false),
        TypeRef::Named { name } => (format!("{prefix}{}", names.get(name)), false),
        TypeRef::Array { items } => match ts_type(items, names, prefix) {
            (t, true) => (format!("({t})[]"), false),
            (t, false) => (format!("{t}[]"), false),
        },
        // Integer keys are `number` (strings at run time, as every object key); an enum's
        // keys are each optional.
        TypeRef::Map { keys, values } => {
            let v = ts_type(values, names, prefix).0;
            let t = match keys.as_ref() {
                TypeRef::Named { .. } => {
                    format!("Partial<Record<{}, {v}>>", ts_type(keys, names, prefix).0)
                }
                TypeRef::Integer { .. } => format!("Record<number, {v}>"),
                _ => format!("Record<string, {v}>"),
            };
            (t, false)
        }
        TypeRef::Nullable { inner } => match inner.as_ref() {
            TypeRef::Any | TypeRef::Null => ts_type(inner, names, prefix),
            _ => (format!("{} | null", ts_type(inner, names, prefix).0), true),
        },
    }
}

#[derive(Serialize)]
struct TypeView {
    name: String,
    doc: String,
    /// `interface` (with `fields`), `union` (with `members`) or `alias` (with `target`).
    kind: &'static str,
    fields: Vec<FieldView>,
    members: Vec<MemberView>,
    target: String,
}

#[derive(Serialize)]
struct FieldView {
    key: String,
    optional: bool,
    ty: String,
    doc: String,
}

#[derive(Serialize)]
struct MemberView {
    doc: String,
    ty: String,
}

#[derive(Serialize)]
struct MethodView {
    name: String,
    /// The check of its result (`validate.…`).
    check: String,
    /// Whether the client's retry policy applies.
    idempotent: bool,
    name_literal: String,
    ident: String,
    doc: String,
    params: Option<String>,
    result: String,
    readme_params: String,
    readme_result: String,
    readme_description: String,
}

#[derive(Serialize)]
struct StreamView {
    pattern: String,
    /// The channel expression: a string literal, or `prefix + key` when keyed.
    channel: String,
    keyed: bool,
    ident: String,
    on_ident: String,
    doc: String,
    on_doc: String,
    params: Option<String>,
    item: String,
    publication: Option<String>,
    /// The check of its items (`validate.…`).
    check: String,
    /// `TypedSubscription<Item>` or `BidiStream<Item, Publication>`.
    class: String,
    /// What the callback form returns.
    listener: String,
    readme_item: String,
    readme_params: String,
    readme_publication: String,
    readme_description: String,
}

#[derive(Serialize)]
struct ChannelView {
    name: String,
    pattern: String,
    channel: String,
    keyed: bool,
    subscribe_ident: String,
    on_ident: String,
    publish_ident: Option<String>,
    subscribe_doc: String,
    on_doc: String,
    publish_doc: String,
    publication: String,
    /// The check of its publications (`validate.…`).
    check: String,
    client_publication: Option<String>,
    readme_publication: String,
    readme_client_publication: String,
    readme_description: String,
}

/// A member name of `APIClient` from a verb and words (`on` + `watch tasks` → `onWatchTasks`).
fn member_ident(verb: &str, w: &[String], original: &str) -> Result<String, CodegenError> {
    let mut all = vec![verb.to_owned()];
    all.extend(w.iter().cloned());
    method_ident(&all, original)
}

/// The channel a subscription of `prefix` goes to: the prefix itself, or the prefix and the
/// caller's `key`.
fn channel_expr(prefix: &str, keyed: bool) -> String {
    if keyed {
        format!("{} + key", js_string(prefix))
    } else {
        js_string(prefix)
    }
}

fn readme_cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

fn stream_view(s: &Stream, names: &Names, check: String) -> Result<StreamView, CodegenError> {
    let ident = method_ident(&s.words, &s.pattern)?;
    let on_ident = member_ident("on", &s.words, &s.pattern)?;
    let params = s.params.as_ref().map(|p| ts_type(p, names, "types.").0);
    let item = ts_type(&s.item, names, "types.").0;
    let publication = s
        .publication
        .as_ref()
        .map(|p| ts_type(p, names, "types.").0);
    let (class, listener) = match &publication {
        Some(p) => (
            format!("BidiStream<{item}, {p}>"),
            format!("BidiListener<{p}>"),
        ),
        None => (
            format!("TypedSubscription<{item}>"),
            "() => void".to_owned(),
        ),
    };
    let channel_doc = if s.keyed {
        format!(
            "Subscribes to the stream `{}` on the channel `{}<key>`",
            s.pattern, s.prefix
        )
    } else {
        format!("Subscribes to the stream `{}`", s.pattern)
    };
    let mut paragraphs = vec![
        s.description.clone().unwrap_or_default(),
        format!(
            "{channel_doc}{} when the iteration starts, and yields each item. The iteration \
             completes when the server ends the stream, goes on across a stream error (the SDK \
             resubscribes), and unsubscribes when left early (`break`, or aborting `opts.signal`).",
            if params.is_some() {
                ", with `params` as the subscribe data,"
            } else {
                ""
            }
        ),
    ];
    if publication.is_some() {
        paragraphs.push(
            "Bidirectional: `publish(value)` on the returned stream sends a value to the \
             stream's handler while the iteration is in progress."
                .into(),
        );
    }
    paragraphs.push(app_errors_doc(&s.errors, "may refuse with"));
    paragraphs.push(
        "@throws {RPCError} (from the iteration) the refusal, with the server's code and \
         message (e.g. 422 for invalid params, 403 when the channel is not allowed), an ending \
         the client does not recover from, or a disconnect.\n\
         @throws {RPCResultError} (from the iteration) an item does not match its type."
            .into(),
    );
    let key_param = if s.keyed {
        "\n@param key The rest of the channel name after the prefix."
    } else {
        ""
    };
    let mut on_paragraphs = vec![
        s.description.clone().unwrap_or_default(),
        format!(
            "The callback form of {{@link APIClient.{ident}}}: subscribes now, calls \
             `handlers.onItem` with each item, then `onEnd` (the server ended the stream) or \
             `onError` (refused, or failed for good). The returned function unsubscribes.{}",
            if publication.is_some() {
                " It also has `publish(value)`, sending a value to the stream's handler."
            } else {
                ""
            }
        ),
    ];
    if !key_param.is_empty() {
        on_paragraphs.push(key_param.trim().to_owned());
        paragraphs.push(key_param.trim().to_owned());
    }
    Ok(StreamView {
        pattern: s.pattern.clone(),
        channel: channel_expr(&s.prefix, s.keyed),
        keyed: s.keyed,
        doc: jsdoc(&paragraphs, "  "),
        on_doc: jsdoc(&on_paragraphs, "  "),
        readme_item: ts_type(&s.item, names, "").0.replace('|', "\\|"),
        readme_params: s
            .params
            .as_ref()
            .map(|p| ts_type(p, names, "").0.replace('|', "\\|"))
            .unwrap_or_else(|| "—".into()),
        readme_publication: s
            .publication
            .as_ref()
            .map(|p| ts_type(p, names, "").0.replace('|', "\\|"))
            .unwrap_or_else(|| "—".into()),
        readme_description: readme_cell(s.description.as_deref().unwrap_or("")),
        ident,
        on_ident,
        params,
        item,
        publication,
        check,
        class,
        listener,
    })
}

fn channel_view(c: &Channel, names: &Names, check: String) -> Result<ChannelView, CodegenError> {
    let subscribe_ident = member_ident("subscribe", &c.words, &c.name)?;
    let on_ident = member_ident("on", &c.words, &c.name)?;
    let publish_ident = c
        .client_publication
        .as_ref()
        .map(|_| member_ident("publish", &c.words, &c.name))
        .transpose()?;
    let publication = ts_type(&c.publication, names, "types.").0;
    let client_publication = c
        .client_publication
        .as_ref()
        .map(|p| ts_type(p, names, "types.").0);
    let which = if c.keyed {
        format!("the channel `{}<key>` (pattern `{}`)", c.prefix, c.pattern)
    } else {
        format!("the channel `{}`", c.pattern)
    };
    let key_param = if c.keyed {
        vec!["@param key The rest of the channel name after the prefix.".to_owned()]
    } else {
        vec![]
    };
    let description = c.description.clone().unwrap_or_default();
    let mut subscribe = vec![
        description.clone(),
        format!(
            "Subscribes to {which} when the iteration starts, and yields each publication. \
             Leaving the loop early (`break`, or aborting `opts.signal`) unsubscribes; the \
             iteration completes when the server unsubscribes the client normally."
        ),
        "@throws {RPCError} (from the iteration) the refusal, with the server's code and \
         message (e.g. 403 when the channel is not allowed), or a disconnect.\n\
         @throws {RPCResultError} (from the iteration) a publication does not match its type."
            .into(),
    ];
    subscribe.extend(key_param.clone());
    let mut on = vec![
        description.clone(),
        format!(
            "The callback form of {{@link APIClient.{subscribe_ident}}}: subscribes now, calls \
             `handlers.onItem` with each publication, then `onEnd` or `onError`. The returned \
             function unsubscribes."
        ),
    ];
    on.extend(key_param.clone());
    let mut publish = vec![
        description,
        format!(
            "Publishes `value` into {which}. The server checks \
             the value's type before the application sees it."
        ),
        "@throws {RPCError} the server's refusal: 422 (with the field path) or 400 when the \
         value does not fit, or the application's own code.\n\
         @throws {RPCTimeoutError} no reply within the call's timeout."
            .into(),
    ];
    publish.extend(key_param);
    Ok(ChannelView {
        name: c.name.clone(),
        pattern: c.pattern.clone(),
        channel: channel_expr(&c.prefix, c.keyed),
        keyed: c.keyed,
        subscribe_doc: jsdoc(&subscribe, "  "),
        on_doc: jsdoc(&on, "  "),
        publish_doc: jsdoc(&publish, "  "),
        readme_publication: ts_type(&c.publication, names, "").0.replace('|', "\\|"),
        readme_client_publication: c
            .client_publication
            .as_ref()
            .map(|p| ts_type(p, names, "").0.replace('|', "\\|"))
            .unwrap_or_else(|| "—".into()),
        readme_description: readme_cell(c.description.as_deref().unwrap_or("")),
        subscribe_ident,
        on_ident,
        publish_ident,
        publication,
        check,
        client_publication,
    })
}

/// Every member of `APIClient` is distinct: the IR keeps methods, streams and channel
/// subscriptions apart, but not the callback forms (`onX`) TypeScript adds.
fn check_members(
    methods: &[MethodView],
    streams: &[StreamView],
    channels: &[ChannelView],
) -> Result<(), CodegenError> {
    let mut members = Namespace::new("members of APIClient", Dialect::TypeScript);
    for m in methods {
        members.claim(&m.ident, format!("method `{}`", m.name))?;
    }
    for s in streams {
        members.claim(&s.ident, format!("stream `{}`", s.pattern))?;
        members.claim(
            &s.on_ident,
            format!("stream `{}` (callback form)", s.pattern),
        )?;
    }
    for c in channels {
        members.claim(&c.subscribe_ident, format!("channel `{}`", c.name))?;
        members.claim(&c.on_ident, format!("channel `{}` (callback form)", c.name))?;
        if let Some(p) = &c.publish_ident {
            members.claim(p, format!("channel `{}` (publish)", c.name))?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ExampleView {
    ident: String,
    /// The params literal and a comma, or nothing.
    args: String,
}

/// A value of type `ty` written as a TypeScript literal for the README, when it is simple
/// enough: required struct fields, primitives, the first enum value.
fn sample(ty: &TypeRef, api: &Api, int64: TsInt64, depth: usize) -> Option<String> {
    if depth > 3 {
        return None;
    }
    Some(match ty {
        TypeRef::String => "'…'".into(),
        TypeRef::Bool => "false".into(),
        TypeRef::Integer { bits: 64, .. } if int64 == TsInt64::Bigint => "1n".into(),
        TypeRef::Integer { .. } | TypeRef::Number { .. } => "1".into(),
        TypeRef::DateTime => "'2024-05-01T12:00:00Z'".into(),
        TypeRef::Uuid => "'67e55044-10b1-426f-9247-bb680e5fe0c8'".into(),
        TypeRef::Array { .. } => "[]".into(),
        TypeRef::Map { .. } => "{}".into(),
        TypeRef::Nullable { .. } | TypeRef::Null => "null".into(),
        TypeRef::Any => return None,
        TypeRef::Named { name } => {
            let def = api.type_def(name)?;
            match &def.kind {
                TypeKind::Struct { fields } => {
                    let entries = fields
                        .iter()
                        .filter(|f| f.required)
                        .map(|f| {
                            Some(format!(
                                "{}: {}",
                                js_key(&f.wire),
                                sample(&f.ty, api, int64, depth + 1)?
                            ))
                        })
                        .collect::<Option<Vec<_>>>()?;
                    if entries.is_empty() {
                        "{}".into()
                    } else {
                        format!("{{ {} }}", entries.join(", "))
                    }
                }
                TypeKind::StringEnum { values } => js_string(&values.first()?.value),
                TypeKind::Alias { target } => sample(target, api, int64, depth + 1)?,
                _ => return None,
            }
        }
    })
}

#[derive(Serialize)]
struct ErrorView {
    name: String,
    code: u64,
    message: String,
    temporary: bool,
    doc: String,
}

fn field_view(f: &Field, names: &Names) -> FieldView {
    let mut paragraphs = vec![f.description.clone().unwrap_or_default()];
    paragraphs.extend(wire_notes(&f.ty, names.int64));
    if let Some(d) = &f.default {
        paragraphs.push(format!("@defaultValue `{d}`"));
    }
    FieldView {
        key: js_key(&f.wire),
        optional: !f.required,
        ty: ts_type(&f.ty, names, "").0,
        doc: jsdoc(&paragraphs, "  "),
    }
}

/// `{ key: value; … }` on one line.
fn inline_object(entries: &[(String, String)]) -> String {
    let body: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}: {v}", js_key(k)))
        .collect();
    format!("{{ {} }}", body.join("; "))
}

fn type_view(t: &TypeDef, names: &Names) -> Result<TypeView, CodegenError> {
    let name = names.get(&t.name);
    let mut view = TypeView {
        doc: String::new(),
        name,
        kind: "union",
        fields: vec![],
        members: vec![],
        target: String::new(),
    };
    let mut paragraphs = vec![t.description.clone().unwrap_or_default()];
    let member = |doc: &Option<String>, ty: String| MemberView {
        doc: jsdoc(&[doc.clone().unwrap_or_default()], "  "),
        ty,
    };
    match &t.kind {
        TypeKind::Struct { fields } => {
            view.kind = "interface";
            if let Some((tag, value)) = names.internal_tags.get(&t.name) {
                view.fields.push(FieldView {
                    key: js_key(tag),
                    optional: false,
                    ty: js_string(value),
                    doc: String::new(),
                });
            }
            view.fields
                .extend(fields.iter().map(|f| field_view(f, names)));
        }
        TypeKind::StringEnum { values } => {
            view.members = values
                .iter()
                .map(|v| member(&v.description, js_string(&v.value)))
                .collect();
        }
        TypeKind::Tagged {
            tag,
            content,
            variants,
        } => {
            paragraphs.push(match content {
                None => format!("Discriminated by `{tag}`."),
                Some(c) => format!("Discriminated by `{tag}`; the variant's data is in `{c}`."),
            });
            for v in variants {
                let tag_entry = (tag.clone(), js_string(&v.tag_value));
                let ty = match (content, &v.payload) {
                    (_, Payload::Unit) => inline_object(&[tag_entry]),
                    (None, Payload::Fields { type_name, .. }) => names.get(type_name),
                    (None, Payload::Type { ty }) => {
                        format!(
                            "{} & {}",
                            inline_object(&[tag_entry]),
                            ts_type(ty, names, "").0
                        )
                    }
                    (Some(c), Payload::Fields { type_name, .. }) => {
                        inline_object(&[tag_entry, (c.clone(), names.get(type_name))])
                    }
                    (Some(c), Payload::Type { ty }) => {
                        inline_object(&[tag_entry, (c.clone(), ts_type(ty, names, "").0)])
                    }
                };
                view.members.push(member(&v.description, ty));
            }
        }
        TypeKind::External { variants } => {
            paragraphs.push(
                "Externally tagged: a variant without data is its name as a string, any other \
                 an object with the variant's name as its only key."
                    .into(),
            );
            for v in variants {
                let content = match &v.payload {
                    Payload::Unit => None,
                    Payload::Fields { type_name, .. } => Some(names.get(type_name)),
                    Payload::Type { ty } => Some(ts_type(ty, names, "").0),
                };
                // The other variants' keys are `?: never`, so an object with two keys (which
                // serde refuses) does not type-check.
                let ty = match content {
                    None => js_string(&v.tag_value),
                    Some(content) => {
                        let mut body = vec![format!("{}: {content}", js_key(&v.tag_value))];
                        body.extend(
                            variants
                                .iter()
                                .filter(|o| o.tag_value != v.tag_value)
                                .map(|o| format!("{}?: never", js_key(&o.tag_value))),
                        );
                        format!("{{ {} }}", body.join("; "))
                    }
                };
                view.members.push(member(&v.description, ty));
            }
        }
        TypeKind::Untagged { variants } => {
            paragraphs.push(
                "Untagged: the server reads the first alternative the JSON fits, in this order."
                    .into(),
            );
            view.members = variants
                .iter()
                .map(|v| member(&v.description, ts_type(&v.ty, names, "").0))
                .collect();
        }
        TypeKind::Alias { target } => {
            view.kind = "alias";
            paragraphs.extend(wire_notes(target, names.int64));
            view.target = ts_type(target, names, "").0;
        }
    }
    view.doc = jsdoc(&paragraphs, "");
    Ok(view)
}

/// `Number.MAX_SAFE_INTEGER`: JSON.parse gives the integers up to it (and down to its negative)
/// exactly, and rounds larger ones.
const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// The checks of `validate.ts`: one per named type a received value can have (what results,
/// stream items, channel publications and the connect reply data reach), each a combinator
/// expression, and the helpers (combinators) they and the client's checks use.
struct Checks<'a> {
    api: &'a Api,
    names: &'a Names,
    /// The IR names of the named types a received value can have.
    received: BTreeSet<String>,
    /// The helpers of `validate.ts` the expressions use.
    helpers: BTreeSet<&'static str>,
}

#[derive(Serialize)]
struct CheckView {
    /// The TypeScript type name: the check is `check<name>`, its combinator `$<name>`.
    name: String,
    /// What it accepts, as a combinator expression.
    expr: String,
}

impl<'a> Checks<'a> {
    /// The checks of what `api` sends to clients.
    fn new(api: &'a Api, names: &'a Names) -> Self {
        let mut checks = Self {
            api,
            names,
            received: BTreeSet::new(),
            helpers: BTreeSet::new(),
        };
        let roots = api
            .methods
            .iter()
            .map(|m| &m.result)
            .chain(api.streams.iter().map(|s| &s.item))
            .chain(api.channels.iter().map(|c| &c.publication))
            .chain(&api.connect.reply_data);
        for ty in roots {
            checks.reach(ty);
        }
        checks
    }

    /// Marks the named types `ty` refers to, and theirs, as received.
    fn reach(&mut self, ty: &TypeRef) {
        match ty {
            TypeRef::Named { name } => {
                if !self.received.insert(name.clone()) {
                    return;
                }
                let Some(def) = self.api.types.iter().find(|t| &t.name == name) else {
                    return;
                };
                match &def.kind {
                    TypeKind::Struct { fields } => fields.iter().for_each(|f| self.reach(&f.ty)),
                    TypeKind::StringEnum { .. } => {}
                    TypeKind::Tagged { variants, .. } | TypeKind::External { variants } => {
                        for v in variants {
                            match &v.payload {
                                Payload::Unit => {}
                                Payload::Fields { type_name, .. } => self.reach(&TypeRef::Named {
                                    name: type_name.clone(),
                                }),
                                Payload::Type { ty } => self.reach(ty),
                            }
                        }
                    }
                    TypeKind::Untagged { variants } => {
                        variants.iter().for_each(|v| self.reach(&v.ty))
                    }
                    TypeKind::Alias { target } => self.reach(target),
                }
            }
            TypeRef::Array { items } => self.reach(items),
            TypeRef::Map { keys, values } => {
                self.reach(keys);
                self.reach(values);
            }
            TypeRef::Nullable { inner } => self.reach(inner),
            _ => {}
        }
    }

    /// Notes that the expressions use `helper` (and what it uses).
    fn helper(&mut self, helper: &'static str) -> &'static str {
        let uses: &[&str] = match helper {
            "mapOf" | "struct" | "tagged" | "externallyTagged" => &["object", "member"],
            _ => &[],
        };
        self.helpers.extend(uses);
        self.helpers.insert(helper);
        helper
    }

    /// The check of `ty` as an expression, its names prefixed with `prefix` (`validate.` outside
    /// the module).
    fn expr(&mut self, ty: &TypeRef, prefix: &str) -> String {
        match ty {
            TypeRef::String => format!("{prefix}{}", self.helper("isString")),
            TypeRef::Bool => format!("{prefix}{}", self.helper("isBoolean")),
            TypeRef::Number { .. } => format!("{prefix}{}", self.helper("isNumber")),
            TypeRef::DateTime => format!("{prefix}{}", self.helper("isDateTime")),
            TypeRef::Uuid => format!("{prefix}{}", self.helper("isUuid")),
            TypeRef::Any => format!("{prefix}{}", self.helper("anyJson")),
            TypeRef::Null => format!("{prefix}{}", self.helper("isNull")),
            TypeRef::Integer { bits: 64, .. } if self.names.int64 == TsInt64::Bigint => {
                let (min, max) = ty.integer_range().expect("an integer type");
                format!("{prefix}{}({min}n, {max}n)", self.helper("int64"))
            }
            TypeRef::Integer { .. } => {
                let (min, max) = ty.integer_range().expect("an integer type");
                format!(
                    "{prefix}{}({}, {})",
                    self.helper("integer"),
                    min.max(-MAX_SAFE_INTEGER),
                    max.min(MAX_SAFE_INTEGER)
                )
            }
            TypeRef::Named { name } => format!("{prefix}check{}", self.names.get(name)),
            TypeRef::Array { items } => {
                let items = self.expr(items, prefix);
                format!("{prefix}{}({items})", self.helper("arrayOf"))
            }
            TypeRef::Map { keys, values } => {
                let keys = match keys.as_ref() {
                    TypeRef::Integer { .. } => {
                        let (min, max) = keys.integer_range().expect("an integer type");
                        format!("{prefix}{}({min}n, {max}n)", self.helper("integerKey"))
                    }
                    // Every key is a string.
                    TypeRef::String => format!("{prefix}{}", self.helper("anyJson")),
                    other => self.expr(other, prefix),
                };
                let values = self.expr(values, prefix);
                format!("{prefix}{}({keys}, {values})", self.helper("mapOf"))
            }
            TypeRef::Nullable { inner } => match inner.as_ref() {
                TypeRef::Any | TypeRef::Null => self.expr(inner, prefix),
                _ => {
                    let inner = self.expr(inner, prefix);
                    format!("{prefix}{}({inner})", self.helper("nullable"))
                }
            },
        }
    }

    /// What a named type accepts, inside the module.
    fn type_expr(&mut self, t: &TypeDef) -> String {
        // A tagged enum's variants as `[tag, check of the content]` pairs (`null`: no content).
        let tagged_variants = |this: &mut Self, variants: &[Variant]| {
            let pairs: Vec<String> = variants
                .iter()
                .map(|v| {
                    let check = match &v.payload {
                        Payload::Unit => "null".to_owned(),
                        Payload::Fields { type_name, .. } => {
                            format!("check{}", this.names.get(type_name))
                        }
                        Payload::Type { ty } => this.expr(ty, ""),
                    };
                    format!("[{}, {check}]", js_string(&v.tag_value))
                })
                .collect();
            pairs.join(", ")
        };
        match &t.kind {
            TypeKind::Struct { fields } => {
                let mut members = Vec::new();
                if let Some((tag, value)) = self.names.internal_tags.get(&t.name) {
                    let one = self.helper("oneOf");
                    members.push(format!(
                        "[{}, true, {one}([{}])]",
                        js_string(tag),
                        js_string(value)
                    ));
                }
                for f in fields {
                    let check = self.expr(&f.ty, "");
                    members.push(format!("[{}, {}, {check}]", js_string(&f.wire), f.required));
                }
                // One member a line.
                let members: String = members.iter().map(|m| format!("\n  {m},")).collect();
                format!("{}([{members}\n])", self.helper("struct"))
            }
            TypeKind::StringEnum { values } => {
                let values: Vec<String> = values.iter().map(|v| js_string(&v.value)).collect();
                format!("{}([{}])", self.helper("oneOf"), values.join(", "))
            }
            TypeKind::Tagged {
                tag,
                content,
                variants,
            } => {
                let variants = tagged_variants(self, variants);
                format!(
                    "{}({}, {}, [{variants}])",
                    self.helper("tagged"),
                    js_string(tag),
                    content.as_deref().map_or("undefined".into(), js_string),
                )
            }
            TypeKind::External { variants } => {
                let variants = tagged_variants(self, variants);
                format!("{}([{variants}])", self.helper("externallyTagged"))
            }
            TypeKind::Untagged { variants } => {
                let alternatives: Vec<String> =
                    variants.iter().map(|v| self.expr(&v.ty, "")).collect();
                format!(
                    "{}({}, [{}])",
                    self.helper("untagged"),
                    js_string(&self.names.get(&t.name)),
                    alternatives.join(", ")
                )
            }
            TypeKind::Alias { target } => self.expr(target, ""),
        }
    }

    /// The module's checks, one per received named type, in the order of the API's types.
    fn views(&mut self) -> Vec<CheckView> {
        let api = self.api;
        let mut views = Vec::new();
        for t in &api.types {
            if !self.received.contains(&t.name) {
                continue;
            }
            views.push(CheckView {
                name: self.names.get(&t.name),
                expr: self.type_expr(t),
            });
        }
        views
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsdoc_escapes_comment_ends_and_wraps_lines() {
        assert_eq!(jsdoc(&["a */ b".into()], ""), "/** a *\\/ b */\n");
        assert_eq!(
            jsdoc(&["one".into(), String::new(), "two\n\nthree".into()], "  "),
            "  /**\n   * one\n   *\n   * two\n   *\n   * three\n   */\n"
        );
        assert_eq!(jsdoc(&[String::new()], ""), "");
    }

    #[test]
    fn callback_forms_must_not_collide_with_other_members() {
        let doc = |method: &str| {
            serde_json::json!({
                "info": {"title": "t", "version": "1"},
                "methods": [{
                    "name": method,
                    "params": [{"name": "params", "schema": {"type": "null"}}],
                    "result": {"name": "result", "schema": {"type": "null"}},
                }],
                "x-streams": [{
                    "name": "watch:tasks",
                    "params": {"name": "params", "schema": {"type": "null"}},
                    "item": {"name": "item", "schema": {"type": "string"}},
                }],
                "x-channels": [{
                    "name": "news",
                    "pattern": "news:*",
                    "publication": {"name": "publication", "schema": {"type": "string"}},
                }],
            })
        };
        let render_doc = |method: &str| {
            render(
                &crate::ir::read(&doc(method)).unwrap(),
                None,
                TsInt64::Number,
            )
        };
        for (method, owner, member) in [
            ("on.watch_tasks", "stream `watch:tasks`", "onWatchTasks"),
            ("on_news", "channel `news`", "onNews"),
        ] {
            let err = render_doc(method).expect_err("a collision");
            assert_eq!(
                err.to_string(),
                format!(
                    "name collision: members of APIClient: method `{method}` and {owner} \
                     (callback form) would both be the TypeScript identifier `{member}`; \
                     rename one"
                )
            );
        }
        let files = render_doc("watch.all").unwrap();
        let api = &files
            .iter()
            .find(|f| f.path.ends_with("api.ts"))
            .unwrap()
            .contents;
        assert!(api.contains("watchTasks(opts?: SubscribeOptions): TypedSubscription<string>"));
        assert!(api.contains("subscribeNews(key: string, opts?: SubscribeOptions)"));
    }

    #[test]
    fn types_spelled_alike_are_refused() {
        // `A_1` is the words `a`, `1` and `A1` the word `a1`: distinct in the IR, both `A1` here.
        let doc = serde_json::json!({
            "info": {"title": "t", "version": "1"},
            "methods": [{
                "name": "get",
                "params": [{"name": "params", "schema": {"$ref": "#/components/schemas/A_1"}}],
                "result": {"name": "result", "schema": {"$ref": "#/components/schemas/A1"}},
            }],
            "components": {"schemas": {
                "A_1": {"type": "string"},
                "A1": {"type": "boolean"},
            }},
        });
        let api = crate::ir::read(&doc).unwrap();
        let err = render(&api, None, TsInt64::Number).unwrap_err();
        assert_eq!(
            err.to_string(),
            "name collision: types of types.ts: type `A1` and type `A_1` would both be the \
             TypeScript identifier `A1`; rename one"
        );
    }

    #[test]
    fn bigint_mode_types_64_bit_integers_as_bigint_and_reads_json_losslessly() {
        let doc = serde_json::json!({
            "info": {"title": "t", "version": "1"},
            "methods": [{
                "name": "get",
                "params": [{"name": "params", "schema": {"type": "integer", "format": "int64"}}],
                "result": {"name": "result", "schema": {"$ref": "#/components/schemas/Big"}},
            }],
            "components": {"schemas": {"Big": {
                "type": "object",
                "properties": {
                    "signed": {"type": "integer", "format": "int64"},
                    "unsigned": {"type": ["integer", "null"], "format": "uint64", "minimum": 0},
                    "small": {"type": "integer", "format": "uint32", "minimum": 0},
                    "by_id": {
                        "type": "object",
                        "additionalProperties": {"type": "integer", "format": "int64"},
                        "propertyNames": {"type": "string", "pattern": "^-?[0-9]+$", "format": "int64"},
                    },
                    "any": true,
                },
                "required": ["signed", "small", "by_id", "any"],
            }}},
        });
        let api = crate::ir::read(&doc).unwrap();
        let file = |files: &[File], name: &str| {
            files
                .iter()
                .find(|f| f.path.ends_with(name))
                .map(|f| f.contents.clone())
        };
        let big = render(&api, None, TsInt64::Bigint).unwrap();
        let types = file(&big, "types.ts").unwrap();
        for expected in [
            "  signed: bigint;",
            "  unsigned?: bigint | null;",
            "  small: number;",
            "int64: a `bigint`, exact over the whole range.",
            "export type JsonValue = null | boolean | number | bigint | string",
        ] {
            assert!(
                types.contains(expected),
                "types.ts lacks {expected:?}:\n{types}"
            );
        }
        let validate = file(&big, "validate.ts").unwrap();
        for expected in [
            "[\"signed\", true, int64(-9223372036854775808n, 9223372036854775807n)],",
            "[\"unsigned\", false, nullable(int64(0n, 18446744073709551615n))],",
            "[\"small\", true, integer(0, 4294967295)],",
            "export function int64(min: bigint, max: bigint): Check {",
        ] {
            assert!(
                validate.contains(expected),
                "validate.ts lacks {expected:?}:\n{validate}"
            );
        }
        let api_ts = file(&big, "api.ts").unwrap();
        assert!(
            api_ts.contains("get(params: bigint, opts?: CallOptions): Promise<types.Big>"),
            "{api_ts}"
        );
        let client = file(&big, "client.ts").unwrap();
        assert!(
            client.contains("import { Centrifuge, State } from 'centrifuge/build/protobuf';")
                && client.contains("this.centrifuge.rpc(method, encodeJson(params))"),
            "{client}"
        );
        let json = file(&big, "json.ts").expect("json.ts in bigint mode");
        assert!(json.contains("export function parseJson(text: string): unknown {"));
        let index = file(&big, "index.ts").unwrap();
        assert!(index.contains("export { decodeJson, encodeJson, parseJson, stringifyJson }"));

        // The default: numbers, the JSON build, no json.ts.
        let plain = render(&api, None, TsInt64::Number).unwrap();
        assert!(file(&plain, "json.ts").is_none());
        let types = file(&plain, "types.ts").unwrap();
        assert!(types.contains("  signed: number;") && !types.contains("bigint;"));
        let validate = file(&plain, "validate.ts").unwrap();
        assert!(
            !validate.contains("int64(")
                && validate.contains("integer(-9007199254740991, 9007199254740991)"),
            "{validate}"
        );
        for f in &plain {
            assert!(
                !f.contents.contains("centrifuge/build/protobuf")
                    && !f.contents.contains("json.js"),
                "{} in number mode: {}",
                f.path.display(),
                f.contents
            );
        }
    }

    #[test]
    fn names_are_escaped() {
        let w = |s: &str| words(s);
        assert_eq!(type_ident(&w("Record"), "Record").unwrap(), "Record_");
        assert_eq!(type_ident(&w("RPCError"), "RPCError").unwrap(), "RpcError");
        assert_eq!(
            type_ident(&w("APIClient"), "APIClient").unwrap(),
            "ApiClient"
        );
        assert_eq!(
            type_ident(&w("ErrorCodes"), "ErrorCodes").unwrap(),
            "ErrorCodes_"
        );
        assert_eq!(type_ident(&w("3d_point"), "3d_point").unwrap(), "_3dPoint");
        assert!(type_ident(&w("__"), "__").is_err());
        assert_eq!(method_ident(&w("rpc"), "rpc").unwrap(), "rpc_");
        assert_eq!(
            method_ident(&w("tasks.delete"), "tasks.delete").unwrap(),
            "tasksDelete"
        );
        assert_eq!(js_key("type"), "type");
        assert_eq!(js_key("content-type"), "\"content-type\"");
        assert_eq!(js_key("2x"), "\"2x\"");
        assert_eq!(package_name("My API"), "my-api-client");
        assert_eq!(package_name("Café API"), "caf-api-client");
        assert_eq!(package_name("∆"), "api-client");
    }
}
