//! The Python client generator: a package (`DIR/python`) of Pydantic v2 models, a
//! connection-level `CentrifugoRPCClient` over centrifuge-python and a typed `APIClient` with one
//! `async def` per RPC method, plus `pyproject.toml`, `py.typed` and a README.
//!
//! Wire rules, from the serde contracts in the IR:
//! - every field is a snake_case attribute; when the wire name differs it is given as
//!   `validation_alias` + `serialization_alias` (not `alias`, which type checkers would take as
//!   the only keyword `__init__` accepts, making `from_=` a type error);
//! - params are sent with `exclude_unset`: a field the caller may leave out and did not set is
//!   left out; a field required on the wire (a tag, a result field with a default) is always
//!   counted as set; an optional field that may not be `null` is left out when it is `None`;
//! - results are validated in JSON mode, strictly, as serde reads them (no `"3"` → `3`), which
//!   is what makes untagged unions pick the same alternative serde does;
//! - internally and adjacently tagged enums are discriminated unions, externally tagged ones a
//!   union of the unit variants' string literals and one `{Variant: payload}` model per other
//!   variant, untagged ones a left-to-right union.
//!
//! The Rust side computes facts (names, annotations, defaults, docs as plain text, imports, how
//! each value is encoded and decoded) into a view model, `Package`; the templates
//! (`templates/python`, with `macros.j2` shared) lay out the Python code. This module holds the
//! entry point, the view model and the build state its parts share; `names` makes Python
//! identifiers and literals, `docs` the generated prose and docstring literals, `imports` the
//! import statements, `types` the models of models.py and `methods` the `APIClient` of api.py.

mod docs;
mod imports;
mod methods;
mod names;
mod types;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::{
    environment,
    ir::{Api, Dialect, Namespace, TypeDef, TypeRef},
    naming::{screaming, words},
    CodegenError, File,
};

use docs::docstring;
use imports::{api_imports, isort, model_imports, Import};
use methods::ApiParts;
pub use names::check_package;
use names::{app_error_member, default_names, py_str};
pub(crate) use names::{member_name, type_name};

/// The templates, by output file.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../templates/python/__init__.py.j2"),
    ),
    ("api.py", include_str!("../templates/python/api.py.j2")),
    (
        "client.py",
        include_str!("../templates/python/client.py.j2"),
    ),
    (
        "models.py",
        include_str!("../templates/python/models.py.j2"),
    ),
    (
        "pyproject.toml",
        include_str!("../templates/python/pyproject.toml.j2"),
    ),
    (
        "README.md",
        include_str!("../templates/python/README.md.j2"),
    ),
];

/// Renders the python package, named `python_package` when given (`--python-package`).
pub fn render(api: &Api, python_package: Option<&str>) -> Result<Vec<File>, CodegenError> {
    let package = Package::build(api, python_package)?;
    let mut env = environment();
    env.add_filter("pystr", |s: String| py_str(&s));
    env.add_filter("docstring", |s: String| docstring(&s));
    // A line's length as the layout measures it (UTF-8 bytes), against ruff's 100 columns.
    env.add_filter("width", |s: String| s.len());
    env.add_template("macros.j2", include_str!("../templates/python/macros.j2"))?;
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    let mut files = Vec::new();
    for (name, _) in TEMPLATES {
        let text = env.get_template(name)?.render(&package)?;
        files.push(File::new(*name, text));
    }
    files.push(File::new("py.typed", ""));
    Ok(files)
}

/// Everything the templates render: the facts of the package (names, annotations, defaults,
/// docs as text, encoders and decoders), which the templates lay out as Python.
#[derive(Debug, Serialize)]
struct Package {
    title: String,
    version: String,
    /// The PEP 440 form of `version`.
    dist_version: String,
    /// `tasks-client`.
    dist: String,
    /// `tasks_client`.
    import_name: String,
    /// Imports of models.py, by group.
    model_imports: Vec<Vec<Import>>,
    /// Whether the `_OmitNone` base is needed.
    omit_none: bool,
    /// Ranged integer aliases, by name.
    ranged_aliases: Vec<RangedAlias>,
    classes: Vec<Class>,
    aliases: Vec<Alias>,
    /// Every model class, for `model_rebuild()`.
    rebuild: Vec<String>,
    /// Every public name of models.py, isort-ordered.
    model_names: Vec<String>,
    /// The names of models.py api.py uses.
    api_model_imports: Vec<String>,
    /// Imports of api.py other than its own package's, by group.
    api_imports: Vec<Vec<Import>>,
    adapters: Vec<Adapter>,
    methods: Vec<PyMethod>,
    /// Subscriptions: streams, then channels.
    subscriptions: Vec<PySubscribe>,
    /// `publish_<channel>` methods.
    publishes: Vec<PyPublish>,
    /// Module-level decode/encode functions of api.py.
    codecs: Vec<Codec>,
    /// The names api.py imports from `.client`.
    client_imports: Vec<String>,
    /// The connect hook's typed data (a `connect_data` function), when typed.
    connect_data: Option<PyConnectPart>,
    /// The connect reply's typed data (`APIClient.connect_reply_data`), when typed.
    connect_reply: Option<PyConnectPart>,
    errors: Vec<PyError>,
    /// The members of `AppErrorCode`: the application's declared errors.
    app_errors: Vec<PyError>,
    /// `__all__` of the package.
    all: Vec<String>,
    /// Extra runtime dependencies (beyond centrifuge-python and pydantic).
    extra_dependencies: Vec<String>,
    /// A method for the README example.
    example: Option<Example>,
}

/// A model class of models.py.
#[derive(Debug, Serialize)]
struct Class {
    name: String,
    /// The model it extends (an internally tagged variant holding a struct); without one it
    /// extends `_Model`, or `_OmitNone` when `omit_none` is not empty.
    parent: Option<String>,
    /// The docstring's text.
    doc: String,
    /// The attributes `model_dump(exclude_unset=True)` always sends (a tag, a field required on
    /// the wire that has a default), besides the parent's.
    always_sent: Vec<String>,
    /// The attributes, and their wire names, left out of the output when `None`.
    omit_none: Vec<String>,
    fields: Vec<PyField>,
}

/// A field of a model class.
#[derive(Debug, Serialize)]
struct PyField {
    name: String,
    annotation: String,
    /// The default's Python expression.
    default: Option<String>,
    /// Whether the default is no plain literal of the field's type, so Pydantic validates it.
    validate_default: bool,
    /// The wire name, when it is not `name` (the validation and serialization alias).
    alias: Option<String>,
    /// The docstring's text.
    doc: String,
}

/// A type alias of models.py.
#[derive(Debug, Serialize)]
struct Alias {
    name: String,
    /// The type: an annotation, or a union's members joined by `|`.
    ty: String,
    /// How Pydantic picks a union's member, when `ty` is a union annotated with it.
    mode: Option<UnionMode>,
    /// A union's members, one per line when the union does not fit on its own (as `ruff format`
    /// writes it); empty when `ty` is not a union that can be split.
    members: Vec<String>,
    /// Recursive: a `TypeAliasType` at runtime (Pydantic cannot follow a plain recursive alias)
    /// and a plain alias for type checkers.
    recursive: bool,
    /// The docstring's text.
    doc: String,
}

/// How Pydantic picks the member of a union alias (the `Field(...)` it is annotated with).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum UnionMode {
    /// The first member that validates, left to right (untagged and externally tagged enums).
    LeftToRight,
    /// By the tag attribute (internally and adjacently tagged enums).
    Discriminator { attribute: String },
}

/// A typed part of connecting: its Python type and the codec function that encodes or decodes it.
#[derive(Debug, Serialize)]
struct PyConnectPart {
    ty: String,
    codec: String,
}

/// A module-level `TypeAdapter` of api.py.
#[derive(Debug, Serialize)]
struct Adapter {
    name: String,
    ty: String,
}

/// An RPC method of `APIClient`.
#[derive(Debug, Serialize)]
struct PyMethod {
    name: String,
    /// The RPC method's name on the wire.
    wire: String,
    params: Option<Params>,
    result_ty: String,
    /// How the result is read; `None` when it is `None`.
    decoder: Option<Decoder>,
    /// Whether the method is idempotent (the client's retry policy applies).
    idempotent: bool,
    /// The docstring's text.
    doc: String,
    /// One line for the README.
    summary: String,
}

/// The `params` argument of a method or stream.
#[derive(Debug, Serialize)]
struct Params {
    /// Its annotation.
    ty: String,
    /// How it is sent.
    encoder: Encoder,
}

/// How a typed value becomes JSON-ready data.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Encoder {
    /// The model's own `model_dump`.
    Model,
    /// A module-level `TypeAdapter`'s `dump_python`.
    Adapter { adapter: String },
    /// Read as the params class by the `convert` codec first (which takes the class's output
    /// twin too), then dumped.
    Converted { convert: String },
}

/// How JSON data from the server becomes a typed value.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Decoder {
    /// Taken as it is (the type is `Any`).
    Raw,
    /// The model class's `model_validate_json`, strictly.
    Model { class: String },
    /// A module-level `TypeAdapter`'s `validate_json`, strictly.
    Adapter { adapter: String },
}

impl Decoder {
    /// Whether it validates (and so runs inside `decoding(...)`, which turns a failure into an
    /// `RPCResultError`).
    fn validates(&self) -> bool {
        !matches!(self, Self::Raw)
    }
}

/// A method that returns a typed subscription (a stream or a channel).
#[derive(Debug, Serialize)]
struct PySubscribe {
    name: String,
    /// The channel (pattern) for the README.
    pattern: String,
    /// `stream` or `channel`, for the README.
    what: String,
    /// The channel, or its prefix when keyed (the method takes the rest as `key`).
    prefix: String,
    keyed: bool,
    params: Option<Params>,
    /// `Subscription`, or `PublishingSubscription` when the subscriber may publish.
    class: String,
    /// The codec that decodes an item.
    decode: String,
    /// The codec that encodes a publication.
    encode: Option<String>,
    item_ty: String,
    publication_ty: Option<String>,
    /// The docstring's text.
    doc: String,
    summary: String,
}

/// `publish_<channel>`.
#[derive(Debug, Serialize)]
struct PyPublish {
    name: String,
    pattern: String,
    /// The channel, or its prefix when keyed.
    prefix: String,
    keyed: bool,
    value_ty: String,
    /// The codec that encodes the value.
    encode: String,
    /// The docstring's text.
    doc: String,
    summary: String,
}

/// A module-level function of api.py that decodes an item, encodes a publication or reads a
/// params class's output twin back as the class.
#[derive(Debug, Serialize)]
struct Codec {
    name: String,
    /// The argument's annotation.
    arg_ty: String,
    /// The return annotation.
    ret_ty: String,
    body: CodecBody,
}

/// What a codec does with its argument.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum CodecBody {
    /// Decodes `data`.
    Decode { decoder: Decoder },
    /// Encodes `value`.
    Encode { encoder: Encoder },
    /// Returns `value` when it is an `input` and reads it back as one otherwise: through JSON,
    /// with the input's contract, as the server would.
    AsInput { input: String },
}

/// A member of `ErrorCode` or `AppErrorCode`.
#[derive(Debug, Serialize)]
struct PyError {
    name: String,
    code: u64,
    /// The docstring's text.
    doc: String,
    /// The message, for the README's table.
    message: String,
    temporary: bool,
}

/// The README's example call.
#[derive(Debug, Serialize)]
struct Example {
    method: String,
    /// The params class the call builds, if any.
    params_type: Option<String>,
    /// The arguments of the params class: a placeholder for each field a caller must give.
    arguments: Vec<ExampleArgument>,
    /// Whether the method takes params (shown as `...` without a params class).
    takes_params: bool,
}

/// `name=value` in the README's example call.
#[derive(Debug, Serialize)]
struct ExampleArgument {
    name: String,
    /// A Python literal.
    value: String,
}

/// How a named IR type becomes Python.
#[derive(Debug, Clone)]
enum Shape {
    /// A model class.
    Class,
    /// A type alias.
    Alias,
}

/// The state of building a `Package`, shared by `types` (the models) and `methods` (api.py).
struct Builder<'a> {
    api: &'a Api,
    /// IR type name → Python name.
    names: BTreeMap<String, String>,
    shapes: BTreeMap<String, Shape>,
    defs: BTreeMap<String, &'a TypeDef>,
    /// Hoisted struct → (tag wire name, tag value) for internally tagged variants.
    internal_payloads: BTreeMap<String, (String, String)>,
    /// Docs for hoisted variant payload structs that have none of their own.
    payload_docs: BTreeMap<String, String>,
    /// Aliases that take part in a cycle of aliases.
    recursive: BTreeSet<String>,
    uses: BTreeSet<&'static str>,
    omit_none: bool,
    /// The integer aliases models.py needs, by name (`UInt32` →
    /// `Annotated[int, Field(ge=0, le=4294967295)]`), so a value out of the Rust type's range is
    /// refused when a model is built, as the server would refuse it.
    ranged_aliases: BTreeMap<String, RangedAlias>,
    /// Renders integers and floats as plain `int` / `float` (api.py's signatures, which do not
    /// import the aliases; the models they take check the ranges).
    plain_ints: bool,
}

/// A ranged number alias of models.py (`UInt32`, `Float32`).
#[derive(Debug, Clone, Serialize)]
struct RangedAlias {
    name: String,
    base: String,
    min: String,
    max: String,
    doc: String,
}

impl Package {
    fn build(api: &Api, python_package: Option<&str>) -> Result<Self, CodegenError> {
        let mut b = Builder::new(api)?;
        // The base model's `model_post_init` takes `Any`.
        b.uses.insert("Any");
        let (classes, aliases) = b.models()?;
        let ranged_aliases: Vec<RangedAlias> = b.ranged_aliases.values().cloned().collect();
        let mut rebuild: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
        rebuild.sort();
        let mut model_names: Vec<String> = classes
            .iter()
            .map(|c| c.name.clone())
            .chain(aliases.iter().map(|a| a.name.clone()))
            .collect();
        isort(&mut model_names);

        let mut parts = ApiParts::default();
        let mut methods = Vec::new();
        let mut method_names = Namespace::new("methods of APIClient", Dialect::Python);
        if api.connect.reply_data.is_some() {
            method_names.reserve(
                "connect_reply_data",
                "the client's own `connect_reply_data`",
            );
        }
        for m in &api.methods {
            let pm = b.method(m, &mut parts)?;
            method_names.claim(&pm.name, format!("method `{}`", m.name))?;
            methods.push(pm);
        }
        let mut subscriptions = Vec::new();
        let mut publishes = Vec::new();
        let mut client_imports: BTreeSet<String> = BTreeSet::new();
        client_imports.insert("CentrifugoRPCClient".into());
        for st in &api.streams {
            let ps = b.stream(st, &mut parts);
            method_names.claim(&ps.name, format!("stream `{}`", st.pattern))?;
            client_imports.insert(ps.class.clone());
            subscriptions.push(ps);
        }
        for ch in &api.channels {
            let (ps, publish) = b.channel(ch, &mut parts);
            method_names.claim(&ps.name, format!("channel `{}`", ch.name))?;
            if let Some(p) = &publish {
                method_names.claim(&p.name, format!("channel `{}` (publish)", ch.name))?;
            }
            client_imports.insert(ps.class.clone());
            subscriptions.push(ps);
            publishes.extend(publish);
        }
        let mut connect_part = |r: &Option<TypeRef>, decode: bool| {
            r.as_ref().map(|r| PyConnectPart {
                ty: b.api_ty(r, &mut parts.uses),
                codec: b.codec(r, decode, &mut parts),
            })
        };
        let connect_data = connect_part(&api.connect.data, false);
        let connect_reply = connect_part(&api.connect.reply_data, true);
        if connect_reply.is_some()
            || methods
                .iter()
                .any(|m| m.decoder.as_ref().is_some_and(Decoder::validates))
        {
            client_imports.insert("decoding".into());
        }
        let mut client_imports: Vec<String> = client_imports.into_iter().collect();
        isort(&mut client_imports);
        let mut api_model_imports: Vec<String> = parts.models.into_iter().collect();
        isort(&mut api_model_imports);
        let api_imports = api_imports(&parts.uses, !parts.adapters.is_empty());

        let errors = api
            .errors
            .iter()
            .map(|e| PyError {
                name: screaming(&words(&e.name)),
                code: e.code,
                doc: format!(
                    "{}{}",
                    e.message,
                    if e.temporary {
                        " (temporary: a retry may succeed)"
                    } else {
                        ""
                    }
                ),
                message: e.message.clone(),
                temporary: e.temporary,
            })
            .collect();

        let app_errors = api
            .app_errors
            .iter()
            .map(|e| PyError {
                name: app_error_member(e),
                code: e.code,
                doc: e.meaning(),
                message: e.meaning().replace('|', "\\|"),
                temporary: e.temporary,
            })
            .collect();

        let mut all: Vec<String> = [
            "APIClient",
            "AppErrorCode",
            "CentrifugoRPCClient",
            "DEFAULT_TIMEOUT",
            "ErrorCode",
            "PublishingSubscription",
            "RPCDisconnectedError",
            "RPCError",
            "RPCResultError",
            "RPCTimeoutError",
            "RetryPolicy",
            "Subscription",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(connect_data.as_ref().map(|_| "connect_data".to_owned()))
        .chain(model_names.iter().cloned())
        .collect();
        isort(&mut all);

        let (dist, import_name) = match python_package {
            Some(name) => check_package(name)?,
            None => default_names(&api.title),
        };

        let example = b.example(&methods);

        let model_imports = model_imports(&b.uses, b.omit_none);
        let extra_dependencies = if b.uses.contains("TypeAliasType") {
            vec!["typing-extensions>=4.6".to_owned()]
        } else {
            vec![]
        };

        Ok(Self {
            title: api.title.clone(),
            version: api.version.clone(),
            dist_version: pep440(&api.version),
            dist,
            import_name,
            model_imports,
            omit_none: b.omit_none,
            ranged_aliases,
            classes,
            aliases,
            rebuild,
            model_names,
            api_model_imports,
            api_imports,
            adapters: parts.adapters,
            methods,
            subscriptions,
            publishes,
            codecs: parts.codecs,
            client_imports,
            connect_data,
            connect_reply,
            errors,
            app_errors,
            all,
            extra_dependencies,
            example,
        })
    }
}

/// The PEP 440 form of a (semver) version: `1.2.3`, `1.2.3-rc.1` → `1.2.3rc1`, `1.2.3-beta` →
/// `1.2.3b0`; anything else keeps its numeric core and becomes a `.dev0` release.
fn pep440(version: &str) -> String {
    let version = version.split('+').next().unwrap_or_default();
    let (core, pre) = match version.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (version, None),
    };
    let core_ok = !core.is_empty()
        && core
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !core_ok {
        return "0.0.0".into();
    }
    let Some(pre) = pre else {
        return core.into();
    };
    let (label, number) = match pre.split_once('.') {
        Some((l, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => (l, n),
        _ => (pre, "0"),
    };
    let tag = match label.to_ascii_lowercase().as_str() {
        "alpha" | "a" => "a",
        "beta" | "b" => "b",
        "rc" | "c" | "pre" | "preview" => "rc",
        "dev" => return format!("{core}.dev{number}"),
        _ => return format!("{core}.dev0"),
    };
    format!("{core}{tag}{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_become_pep440() {
        assert_eq!(pep440("0.1.0"), "0.1.0");
        assert_eq!(pep440("1.2.3-rc.1"), "1.2.3rc1");
        assert_eq!(pep440("1.2.3-beta"), "1.2.3b0");
        assert_eq!(pep440("1.2.3-foo.bar"), "1.2.3.dev0");
        assert_eq!(pep440("1.0.0+build.5"), "1.0.0");
        assert_eq!(pep440("v1"), "0.0.0");
    }

    /// The collision `render` refuses a document of one method `method` taking `params`, with
    /// `schemas` as its definitions and `connect` as its `x-connect`.
    fn collision(
        method: &str,
        params: serde_json::Value,
        schemas: serde_json::Value,
        connect: serde_json::Value,
    ) -> String {
        let doc = serde_json::json!({
            "info": {"title": "t", "version": "1"},
            "methods": [{
                "name": method,
                "params": [{"name": "params", "schema": params}],
                "result": {"name": "result", "schema": {"type": "null"}},
            }],
            "components": {"schemas": schemas},
            "x-connect": connect,
        });
        let api = crate::ir::read(&doc).unwrap();
        render(&api, None).unwrap_err().to_string()
    }

    #[test]
    fn colliding_python_names_are_refused_naming_both_owners() {
        let tag = |value: &str| serde_json::json!({"type": "string", "const": value});
        let byte = serde_json::json!({"type": "integer", "format": "uint8"});
        let reference =
            |name: &str| serde_json::json!({"$ref": format!("#/components/schemas/{name}")});
        // `Shape::Empty` (internally tagged, unit) becomes the class `ShapeEmpty`, which another
        // type already is.
        let schemas = serde_json::json!({
            "Shape": {"oneOf": [
                {"type": "object", "properties": {"kind": tag("Empty")}, "required": ["kind"]},
                {
                    "type": "object",
                    "properties": {"kind": tag("Full"), "n": byte, "m": byte},
                    "required": ["kind", "n", "m"],
                },
            ]},
            "ShapeEmpty": {
                "type": "object",
                "properties": {"x": byte},
                "required": ["x"],
            },
            "Both": {
                "type": "object",
                "properties": {"shape": reference("Shape"), "other": reference("ShapeEmpty")},
                "required": ["shape", "other"],
            },
        });
        assert_eq!(
            collision("a.both", reference("Both"), schemas, serde_json::json!({})),
            "name collision: names of models.py: the class of variant `Empty` of `Shape` and \
             type `ShapeEmpty` would both be the Python identifier `ShapeEmpty`; rename one"
        );
        // A wire name that needs an escape and another that is the escaped form: `2fa` → `n2fa`.
        let schemas = serde_json::json!({"Fields": {
            "type": "object",
            "properties": {"2fa": byte, "n2fa": byte},
            "required": ["2fa", "n2fa"],
        }});
        assert_eq!(
            collision(
                "a.fields",
                reference("Fields"),
                schemas,
                serde_json::json!({})
            ),
            "name collision: fields of `Fields`: field `2fa` and field `n2fa` would both be the \
             Python identifier `n2fa`; rename one"
        );
        // A typed connect reply gives the client its own `connect_reply_data`.
        let connect = serde_json::json!({"replyData": {"name": "data", "schema": byte}});
        assert_eq!(
            collision("connect.reply_data", byte, serde_json::json!({}), connect),
            "name collision: methods of APIClient: the client's own `connect_reply_data` and \
             method `connect.reply_data` would both be the Python identifier \
             `connect_reply_data`; rename one"
        );
    }
}
