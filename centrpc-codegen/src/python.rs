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

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::{
    environment,
    ir::{
        Api, AppError, Channel, Field, Method, Payload, Stream, TypeDef, TypeKind, TypeRef,
        UntaggedVariant, Variant,
    },
    naming::{pascal, screaming, snake, words},
    CodegenError, File,
};

/// The templates, by output file.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("templates/python/__init__.py.j2"),
    ),
    ("api.py", include_str!("templates/python/api.py.j2")),
    ("client.py", include_str!("templates/python/client.py.j2")),
    ("models.py", include_str!("templates/python/models.py.j2")),
    (
        "pyproject.toml",
        include_str!("templates/python/pyproject.toml.j2"),
    ),
    ("README.md", include_str!("templates/python/README.md.j2")),
];

/// Python keywords and soft keywords.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// Lower-case names a field or method may not take: builtins the generated class bodies refer
/// to in annotations (a field named `list` would shadow `list[...]` for later fields), and every
/// public attribute of Pydantic's `BaseModel`.
const RESERVED_MEMBERS: &[&str] = &[
    "bool",
    "bytes",
    "dict",
    "float",
    "frozenset",
    "int",
    "list",
    "object",
    "set",
    "str",
    "tuple",
    "construct",
    "copy",
    "from_orm",
    "json",
    "parse_file",
    "parse_obj",
    "parse_raw",
    "schema",
    "schema_json",
    "update_forward_refs",
    "validate",
    "model_computed_fields",
    "model_config",
    "model_construct",
    "model_copy",
    "model_dump",
    "model_dump_json",
    "model_extra",
    "model_fields",
    "model_fields_set",
    "model_json_schema",
    "model_parametrized_name",
    "model_post_init",
    "model_rebuild",
    "model_validate",
    "model_validate_json",
    "model_validate_strings",
];

/// Capitalised names a type may not take: builtins, and every name the generated modules import
/// or define next to the models (they are all re-exported from the package).
const RESERVED_TYPES: &[&str] = &[
    // models.py's ranged number aliases.
    "Float32",
    "StrictFloat32",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "StrictInt8",
    "StrictInt16",
    "StrictInt32",
    "StrictInt64",
    "StrictUInt8",
    "StrictUInt16",
    "StrictUInt32",
    "StrictUInt64",
    "Annotated",
    "Any",
    "APIClient",
    "AppErrorCode",
    "AwareDatetime",
    "BaseModel",
    "CentrifugoRPCClient",
    "ClassVar",
    "ConfigDict",
    "ErrorCode",
    "Field",
    "Generic",
    "PublishingSubscription",
    "Literal",
    "RPCDisconnectedError",
    "RPCError",
    "RPCResultError",
    "RPCTimeoutError",
    "RetryPolicy",
    "SerializerFunctionWrapHandler",
    "Strict",
    "StrictBool",
    "StrictFloat",
    "StrictInt",
    "StrictStr",
    "Subscription",
    "SubscriptionState",
    "TypeAdapter",
    "TypeVar",
    "TypeAlias",
    "TypeAliasType",
    "TYPE_CHECKING",
    "UUID",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
];

/// Renders the python package, named `python_package` when given (`--python-package`).
pub fn render(api: &Api, python_package: Option<&str>) -> Result<Vec<File>, CodegenError> {
    let package = Package::build(api, python_package)?;
    let mut env = environment();
    env.add_filter("pystr", |s: String| py_str(&s));
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

/// Everything the templates render, with every Python expression already built.
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
    /// Imports of models.py (full lines, in isort order).
    model_imports: Vec<String>,
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
    /// Imports of api.py other than the models (full lines, in order).
    api_imports: Vec<String>,
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

#[derive(Debug, Serialize)]
struct Class {
    name: String,
    base: String,
    /// The body's blocks (docstring, class variables, one per field), to be separated by blank
    /// lines; each is indented and has no trailing newline.
    body: Vec<String>,
}

/// A field's declaration and docstring, indented.
#[derive(Debug)]
struct PyField {
    decl: String,
    doc: String,
}

#[derive(Debug, Serialize)]
struct Alias {
    name: String,
    /// The value expression.
    #[serde(skip)]
    value: String,
    /// Recursive: emitted as `TypeAliasType` at runtime.
    recursive: bool,
    /// The whole definition (set once every alias is known).
    statement: String,
    /// The docstring block (not indented), or empty.
    doc: String,
}

/// A typed part of connecting: its Python type and the codec function that encodes or decodes it.
#[derive(Debug, Serialize)]
struct PyConnectPart {
    ty: String,
    codec: String,
}

#[derive(Debug, Serialize)]
struct Adapter {
    name: String,
    ty: String,
}

#[derive(Debug, Serialize)]
struct PyMethod {
    name: String,
    wire: String,
    /// Quoted wire name.
    wire_literal: String,
    /// `params: TaskStatsParams, ` or empty.
    params_arg: Option<String>,
    /// The expression that turns `params` into JSON-ready data.
    params_expr: String,
    result_ty: String,
    /// Statement(s) after the call, each a full line at method-body indentation, that return the
    /// decoded result from `data`; `None` when the result is `None`.
    returns: Option<String>,
    /// Whether `returns` validates (and so runs inside `decoding(...)`).
    decodes: bool,
    /// Whether the method is idempotent (the client's retry policy applies).
    idempotent: bool,
    /// Docstring block, indented.
    doc: String,
    /// One line for the README.
    summary: String,
    params_ty: String,
}

/// A method that returns a typed subscription (a stream or a channel).
#[derive(Debug, Serialize)]
struct PySubscribe {
    name: String,
    /// The channel (pattern) for the README.
    pattern: String,
    /// `stream` or `channel`, for the README.
    what: String,
    keyed: bool,
    /// `params: WatchTasks` or `None`.
    params_arg: Option<String>,
    /// The subscribe data expression.
    params_expr: String,
    /// The channel expression: `"watch:count"` or `"tally:" + key`.
    channel_expr: String,
    /// `Subscription[Count]` or `PublishingSubscription[Tally, TallyAdd]`.
    return_ty: String,
    class: String,
    decode: String,
    encode: Option<String>,
    item_ty: String,
    publication_ty: Option<String>,
    doc: String,
    summary: String,
}

/// `publish_<channel>`.
#[derive(Debug, Serialize)]
struct PyPublish {
    name: String,
    pattern: String,
    keyed: bool,
    channel_expr: String,
    value_ty: String,
    encode: String,
    doc: String,
    summary: String,
}

/// A module-level function of api.py that decodes an item or encodes a publication.
#[derive(Debug, Serialize)]
struct Codec {
    name: String,
    /// The argument's annotation.
    arg_ty: String,
    /// The return annotation.
    ret_ty: String,
    /// The return expression (of `data` or `value`).
    body: String,
    /// `data` or `value`.
    arg: String,
}

#[derive(Debug, Serialize)]
struct PyError {
    name: String,
    code: u64,
    doc: String,
    message: String,
    temporary: bool,
}

#[derive(Debug, Serialize)]
struct Example {
    method: String,
    /// The params class to import, if any.
    params_type: Option<String>,
    /// The call's argument: `TaskRef(id=1)`, or empty.
    argument: String,
}

/// How a named IR type becomes Python.
#[derive(Debug, Clone)]
enum Shape {
    /// A model class.
    Class,
    /// A type alias.
    Alias,
}

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

/// A Python string literal (JSON escapes are valid Python escapes).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// A Python literal for a JSON value.
fn py_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A docstring block at `indent`: `"""text"""`, escaped so that any text (quotes, backslashes,
/// triple quotes) stays one valid string literal.
fn docstring(text: &str, indent: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut escaped = text.replace('\\', "\\\\").replace("\"\"\"", "\"\"\\\"");
    if escaped.ends_with('"') {
        escaped.pop();
        escaped.push_str("\\\"");
    }
    let lines: Vec<&str> = escaped.lines().collect();
    if lines.len() == 1 {
        return format!("{indent}\"\"\"{escaped}\"\"\"\n");
    }
    let mut out = format!("{indent}\"\"\"{}\n", lines[0]);
    for line in &lines[1..] {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{indent}{}\n", line.trim_end()));
        }
    }
    out.push_str(&format!("{indent}\"\"\"\n"));
    out
}

/// The default distribution and import names: `<title>-client`, `<title>_client`.
fn default_names(title: &str) -> (String, String) {
    let base = {
        let w = words(title);
        if w.is_empty() {
            vec!["api".to_owned()]
        } else {
            w
        }
    };
    let mut import_name = identifier(&format!("{}_client", base.join("_")));
    if import_name.starts_with(|c: char| c.is_ascii_digit()) {
        import_name = format!("api_{import_name}");
    }
    (format!("{}-client", base.join("-")), import_name)
}

/// Checks a package name given as `--python-package` and returns the distribution and import
/// names it stands for (`acme-tasks`, `acme_tasks`, from either form): ASCII letters, digits,
/// `_` and `-`, starting with a letter and ending with a letter or digit, and no keyword.
pub fn check_package(name: &str) -> Result<(String, String), CodegenError> {
    let import_name = name.replace('-', "_");
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !KEYWORDS.contains(&import_name.as_str());
    if !ok {
        return Err(CodegenError::Option {
            flag: "--python-package",
            value: name.to_owned(),
            problem: "a Python package name is ASCII letters, digits, `_` and `-` (read as `_` \
                      in the import name), starts with a letter, ends with a letter or digit, \
                      and is no keyword"
                .into(),
        });
    }
    Ok((import_name.replace('_', "-"), import_name))
}

/// The member of `AppErrorCode` for an application error: its name in SCREAMING_SNAKE_CASE
/// (`CODE_` first when it would start with a digit).
fn app_error_member(e: &AppError) -> String {
    let name = identifier(&screaming(&e.words));
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("CODE_{name}")
    } else {
        name
    }
}

/// The docstring paragraph listing the application errors a method or stream declares (an RST
/// list of `AppErrorCode` members); empty when it declares none.
fn app_errors_doc(errors: &[AppError], verb: &str) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = wrap(
        &format!(
            "Besides the built-in codes, it {verb} these application errors (``RPCError.code``, \
             :class:`AppErrorCode`):"
        ),
        DOC_WIDTH,
    );
    out.push('\n');
    for e in errors {
        out.push_str(&format!(
            "\n- ``{}`` ({}): {}",
            app_error_member(e),
            e.code,
            e.meaning()
        ));
    }
    out
}

/// Keeps only characters valid in an identifier.
fn identifier(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphabetic() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A field or method name: snake_case, escaped with a trailing `_` when it is a keyword, a
/// builtin the generated code uses, or a `BaseModel` attribute.
pub(crate) fn member_name(w: &[String]) -> String {
    let mut s = identifier(&snake(w));
    if s.is_empty() {
        s = "field".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("n{s}");
    }
    if KEYWORDS.contains(&s.as_str()) || RESERVED_MEMBERS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A class or alias name: PascalCase, with `Type` appended when the name is taken (a trailing
/// `_` would not be CapWords).
pub(crate) fn type_name(w: &[String]) -> String {
    let mut s = identifier(&pascal(w));
    if s.is_empty() {
        s = "Type".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("T{s}");
    }
    if KEYWORDS.contains(&s.as_str()) || RESERVED_TYPES.contains(&s.as_str()) {
        s.push_str("Type");
    }
    s
}

/// `from module import a, b`, wrapped one name per line when longer than 100 columns.
fn import_line(module: &str, names: &[String]) -> String {
    let one = format!("from {module} import {}", names.join(", "));
    if one.len() <= 100 {
        return one;
    }
    format!(
        "from {module} import (\n{})",
        names
            .iter()
            .map(|n| format!("    {n},\n"))
            .collect::<String>()
    )
}

/// The sort key ruff's isort uses for imported names and `__all__`: constants, then classes,
/// then the rest, each case-sensitively.
fn isort_key(name: &str) -> (u8, String) {
    let kind = if name.len() > 1 && name.chars().all(|c| !c.is_lowercase()) {
        0
    } else if name.starts_with(|c: char| c.is_uppercase()) {
        1
    } else {
        2
    };
    (kind, name.to_owned())
}

fn isort(names: &mut [String]) {
    names.sort_by_key(|n| isort_key(n));
}

/// A tuple literal of strings.
fn tuple_literal(items: &[String]) -> String {
    match items {
        [] => "()".into(),
        [one] => format!("({},)", py_str(one)),
        _ => format!(
            "({})",
            items
                .iter()
                .map(|s| py_str(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
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

        let mut api_uses: BTreeSet<String> = BTreeSet::new();
        let mut api_model_uses: BTreeSet<String> = BTreeSet::new();
        let mut adapters = Vec::new();
        let mut methods = Vec::new();
        let mut codecs: Vec<Codec> = Vec::new();
        let mut method_names: BTreeMap<String, String> = BTreeMap::new();
        if api.connect.reply_data.is_some() {
            method_names.insert(
                "connect_reply_data".into(),
                "the client's own `connect_reply_data`".into(),
            );
        }
        for m in &api.methods {
            let pm = b.method(
                m,
                &mut api_uses,
                &mut api_model_uses,
                &mut adapters,
                &mut codecs,
            )?;
            if let Some(prev) = method_names.insert(pm.name.clone(), m.name.clone()) {
                return Err(CodegenError::Collision(format!(
                    "methods `{prev}` and `{}` would both be the Python method `{}`; rename one",
                    m.name, pm.name
                )));
            }
            methods.push(pm);
        }
        let mut subscriptions = Vec::new();
        let mut publishes = Vec::new();
        let mut client_imports: BTreeSet<String> = BTreeSet::new();
        client_imports.insert("CentrifugoRPCClient".into());
        for st in &api.streams {
            let ps = b.stream(
                st,
                &mut api_uses,
                &mut api_model_uses,
                &mut adapters,
                &mut codecs,
            );
            if let Some(prev) = method_names.insert(ps.name.clone(), st.pattern.clone()) {
                return Err(CodegenError::Collision(format!(
                    "`{prev}` and stream `{}` would both be the Python method `{}`; rename one",
                    st.pattern, ps.name
                )));
            }
            client_imports.insert(ps.class.clone());
            subscriptions.push(ps);
        }
        for ch in &api.channels {
            let (ps, publish) = b.channel(
                ch,
                &mut api_uses,
                &mut api_model_uses,
                &mut adapters,
                &mut codecs,
            );
            for name in std::iter::once(&ps.name).chain(publish.as_ref().map(|p| &p.name)) {
                if let Some(prev) = method_names.insert(name.clone(), ch.name.clone()) {
                    return Err(CodegenError::Collision(format!(
                        "`{prev}` and channel `{}` would both be the Python method `{name}`; rename one",
                        ch.name
                    )));
                }
            }
            client_imports.insert(ps.class.clone());
            subscriptions.push(ps);
            publishes.extend(publish);
        }
        let mut connect_part = |r: &Option<TypeRef>, decode: bool| {
            r.as_ref().map(|r| PyConnectPart {
                ty: b.api_ty(r, &mut api_uses),
                codec: b.codec(
                    r,
                    decode,
                    &mut api_uses,
                    &mut api_model_uses,
                    &mut adapters,
                    &mut codecs,
                ),
            })
        };
        let connect_data = connect_part(&api.connect.data, false);
        let connect_reply = connect_part(&api.connect.reply_data, true);
        if connect_reply.is_some() || methods.iter().any(|m| m.decodes) {
            client_imports.insert("decoding".into());
        }
        let mut client_imports: Vec<String> = client_imports.into_iter().collect();
        isort(&mut client_imports);
        let mut api_model_imports: Vec<String> = api_model_uses.into_iter().collect();
        isort(&mut api_model_imports);
        // Standard library, then third-party imports, a blank line apart.
        let mut standard = Vec::new();
        if api_uses.contains("json") {
            standard.push("import json".to_owned());
        }
        if api_uses.contains("Any") {
            standard.push("from typing import Any".to_owned());
        }
        if api_uses.contains("UUID") {
            standard.push("from uuid import UUID".to_owned());
        }
        let mut pydantic_names = Vec::new();
        if api_uses.contains("AwareDatetime") {
            pydantic_names.push("AwareDatetime".to_owned());
        }
        if !adapters.is_empty() {
            pydantic_names.push("TypeAdapter".to_owned());
        }
        let mut api_imports = standard;
        if !pydantic_names.is_empty() {
            if !api_imports.is_empty() {
                api_imports.push(String::new());
            }
            api_imports.push(import_line("pydantic", &pydantic_names));
        }

        let errors = api
            .errors
            .iter()
            .map(|e| PyError {
                name: screaming(&words(&e.name)),
                code: e.code,
                doc: docstring(
                    &format!(
                        "{}{}",
                        e.message,
                        if e.temporary {
                            " (temporary: a retry may succeed)"
                        } else {
                            ""
                        }
                    ),
                    "    ",
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
                doc: docstring(&e.meaning(), "    "),
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

        let mut model_imports = Vec::new();
        if b.omit_none {
            b.uses.insert("cast");
        }
        let typing: Vec<&str> = [
            "TYPE_CHECKING",
            "Annotated",
            "Any",
            "ClassVar",
            "Literal",
            "TypeAlias",
            "cast",
        ]
        .into_iter()
        .filter(|n| b.uses.contains(n))
        .collect();
        let typing: Vec<String> = typing.into_iter().map(str::to_owned).collect();
        model_imports.push(import_line("typing", &typing));
        if b.uses.contains("UUID") {
            model_imports.push("from uuid import UUID".to_owned());
        }
        model_imports.push(String::new());
        let mut pydantic: Vec<&str> = vec!["BaseModel", "ConfigDict", "Field"];
        for name in [
            "AwareDatetime",
            "Strict",
            "StrictBool",
            "StrictFloat",
            "StrictInt",
            "StrictStr",
        ] {
            if b.uses.contains(name) {
                pydantic.push(name);
            }
        }
        if b.omit_none {
            pydantic.push("SerializerFunctionWrapHandler");
            pydantic.push("model_serializer");
        }
        let mut pydantic: Vec<String> = pydantic.into_iter().map(str::to_owned).collect();
        isort(&mut pydantic);
        model_imports.push(import_line("pydantic", &pydantic));
        let mut extra_dependencies = Vec::new();
        if b.uses.contains("TypeAliasType") {
            model_imports.push("from typing_extensions import TypeAliasType".to_owned());
            extra_dependencies.push("typing-extensions>=4.6".to_owned());
        }

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
            adapters,
            methods,
            subscriptions,
            publishes,
            codecs,
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

impl<'a> Builder<'a> {
    fn new(api: &'a Api) -> Result<Self, CodegenError> {
        let mut names = BTreeMap::new();
        let mut shapes = BTreeMap::new();
        let mut defs = BTreeMap::new();
        for t in &api.types {
            names.insert(t.name.clone(), type_name(&t.words));
            defs.insert(t.name.clone(), t);
            let shape = match &t.kind {
                TypeKind::Struct { .. } => Shape::Class,
                _ => Shape::Alias,
            };
            shapes.insert(t.name.clone(), shape);
        }
        let internal_payloads = api.internal_variant_tags();
        // Hoisted variant structs of adjacently and externally tagged enums have no description
        // of their own: say where they come from.
        let payload_docs = api
            .variant_origins()
            .into_iter()
            .filter(|(_, o)| o.internal_tag.is_none())
            .map(|(name, o)| {
                let doc = format!(
                    "The content of the ``{}`` variant of :data:`{}`.",
                    o.tag_value, names[&o.enum_name]
                );
                (name, doc)
            })
            .collect();
        let mut b = Self {
            api,
            payload_docs,
            names,
            shapes,
            defs,
            internal_payloads,
            recursive: BTreeSet::new(),
            uses: BTreeSet::new(),
            omit_none: false,
            ranged_aliases: BTreeMap::new(),
            plain_ints: false,
        };
        b.recursive = b.alias_cycles();
        Ok(b)
    }

    fn py_name(&self, name: &str) -> String {
        self.names
            .get(name)
            .cloned()
            .unwrap_or_else(|| type_name(&words(name)))
    }

    /// The README's example call: the IR's example method, its params class written with a
    /// placeholder for each field a caller must give.
    fn example(&self, methods: &[PyMethod]) -> Option<Example> {
        let m = self.api.example_method()?;
        let pm = &methods[self.api.methods.iter().position(|x| std::ptr::eq(x, m))?];
        let args = |fields: &[crate::ir::Field]| -> Option<Vec<String>> {
            fields
                .iter()
                .filter(|f| f.required && f.default.is_none())
                .map(|f| {
                    let value = match self.api.resolve(&f.ty) {
                        TypeRef::String => "\"...\"".to_owned(),
                        TypeRef::Integer { .. } => "1".to_owned(),
                        TypeRef::Number { .. } => "1.0".to_owned(),
                        TypeRef::Bool => "True".to_owned(),
                        TypeRef::Named { name } => match self.defs.get(name).map(|d| &d.kind) {
                            Some(TypeKind::StringEnum { values }) => py_str(&values.first()?.value),
                            _ => return None,
                        },
                        _ => return None,
                    };
                    Some(format!("{}={value}", member_name(&f.words)))
                })
                .collect()
        };
        if let Some(TypeRef::Named { name }) = &m.params {
            if let Some(TypeKind::Struct { fields }) = self.defs.get(name).map(|d| &d.kind) {
                if let Some(args) = args(fields) {
                    let class = self.py_name(name);
                    return Some(Example {
                        method: pm.name.clone(),
                        argument: format!("{class}({})", args.join(", ")),
                        params_type: Some(class),
                    });
                }
            }
        }
        Some(Example {
            method: pm.name.clone(),
            params_type: None,
            argument: if pm.params_arg.is_some() {
                "...".into()
            } else {
                String::new()
            },
        })
    }

    /// The Python name of a synthesized variant class: `<Enum><Variant>[suffix]`.
    fn variant_class(&self, t: &TypeDef, v: &Variant, suffix: &str) -> String {
        let w: Vec<String> = t.words.iter().chain(&v.words).cloned().collect();
        let base = identifier(&pascal(&w));
        let name = format!("{base}{suffix}");
        if KEYWORDS.contains(&name.as_str()) || RESERVED_TYPES.contains(&name.as_str()) {
            type_name(&words(&name))
        } else {
            name
        }
    }

    /// Named aliases an alias's value refers to directly (not through a class).
    fn alias_refs(&self, t: &TypeDef) -> Vec<String> {
        fn walk(r: &TypeRef, out: &mut Vec<String>) {
            match r {
                TypeRef::Named { name } => out.push(name.clone()),
                TypeRef::Array { items } => walk(items, out),
                TypeRef::Map { keys, values } => {
                    walk(keys, out);
                    walk(values, out);
                }
                TypeRef::Nullable { inner } => walk(inner, out),
                _ => {}
            }
        }
        let mut out = Vec::new();
        match &t.kind {
            TypeKind::Alias { target } => walk(target, &mut out),
            TypeKind::Untagged { variants } => {
                for v in variants {
                    walk(&v.ty, &mut out);
                }
            }
            // Tagged and external unions refer to their variant classes only.
            _ => {}
        }
        out.retain(|n| matches!(self.shapes.get(n), Some(Shape::Alias)));
        out
    }

    /// Aliases on a cycle of alias references (`enum Expr { Num(f64), Neg(Box<Expr>) }`).
    fn alias_cycles(&self) -> BTreeSet<String> {
        let graph: BTreeMap<String, Vec<String>> = self
            .api
            .types
            .iter()
            .filter(|t| matches!(self.shapes.get(&t.name), Some(Shape::Alias)))
            .map(|t| (t.name.clone(), self.alias_refs(t)))
            .collect();
        let mut out = BTreeSet::new();
        for start in graph.keys() {
            // Is `start` reachable from itself?
            let mut stack: Vec<&String> = graph[start].iter().collect();
            let mut seen: BTreeSet<&String> = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if n == start {
                    out.insert(start.clone());
                    break;
                }
                if seen.insert(n) {
                    if let Some(next) = graph.get(n) {
                        stack.extend(next.iter());
                    }
                }
            }
        }
        out
    }

    /// The annotation for a type. `quote` names the aliases that must be forward references
    /// (inside a recursive alias's value).
    fn ty(&mut self, r: &TypeRef, quote: bool) -> String {
        self.ty_in(r, quote, false)
    }

    /// As [`Self::ty`]; `strict` renders the strict form for an untagged union's alternatives,
    /// so that constructing one from a Python value picks the alternative serde would (a `"3"`
    /// stays a string even when `float` comes first).
    fn ty_in(&mut self, r: &TypeRef, quote: bool, strict: bool) -> String {
        let strict_scalar = |b: &mut Self, lax: &str, strict_name: &'static str| {
            if strict {
                b.uses.insert(strict_name);
                strict_name.to_owned()
            } else {
                lax.to_owned()
            }
        };
        match r {
            TypeRef::String => strict_scalar(self, "str", "StrictStr"),
            TypeRef::Bool => strict_scalar(self, "bool", "StrictBool"),
            TypeRef::Integer { .. } if self.plain_ints => strict_scalar(self, "int", "StrictInt"),
            TypeRef::Integer { bits, signed } => {
                let base = strict_scalar(self, "int", "StrictInt");
                let (min, max) = r.integer_range().expect("an integer");
                let rust = format!("{}{bits}", if *signed { "i" } else { "u" });
                let name = format!(
                    "{}{}Int{bits}",
                    if strict { "Strict" } else { "" },
                    if *signed { "" } else { "U" }
                );
                self.uses.insert("Annotated");
                self.uses.insert("TypeAlias");
                self.ranged_aliases
                    .entry(name.clone())
                    .or_insert_with(|| RangedAlias {
                        name: name.clone(),
                        base,
                        min: min.to_string(),
                        max: max.to_string(),
                        doc: format!("An integer from {min} to {max} (Rust's `{rust}`)."),
                    });
                name
            }
            TypeRef::Number { bits: 32 } if !self.plain_ints => {
                let base = strict_scalar(self, "float", "StrictFloat");
                let max = r.float_limit().expect("a 32-bit float");
                let name = format!("{}Float32", if strict { "Strict" } else { "" });
                self.uses.insert("Annotated");
                self.uses.insert("TypeAlias");
                self.ranged_aliases
                    .entry(name.clone())
                    .or_insert_with(|| RangedAlias {
                        name: name.clone(),
                        base,
                        min: format!("{:?}", -max),
                        max: format!("{max:?}"),
                        doc: "A 32-bit float (Rust's `f32`): the server reads a larger magnitude \
                              as infinity."
                            .into(),
                    });
                name
            }
            TypeRef::Number { .. } => strict_scalar(self, "float", "StrictFloat"),
            TypeRef::DateTime => {
                self.uses.insert("AwareDatetime");
                "AwareDatetime".into()
            }
            TypeRef::Uuid => {
                self.uses.insert("UUID");
                "UUID".into()
            }
            TypeRef::Any => {
                self.uses.insert("Any");
                "Any".into()
            }
            TypeRef::Null => "None".into(),
            TypeRef::Named { name } => {
                let py = self.py_name(name);
                let py = if quote && self.recursive.contains(name) {
                    py_str(&py)
                } else {
                    py
                };
                let scalar_alias = matches!(
                    self.api.resolve(r),
                    TypeRef::String
                        | TypeRef::Bool
                        | TypeRef::Integer { .. }
                        | TypeRef::Number { .. }
                );
                if strict && scalar_alias {
                    self.uses.insert("Annotated");
                    self.uses.insert("Strict");
                    format!("Annotated[{py}, Strict()]")
                } else {
                    py
                }
            }
            TypeRef::Array { items } => format!("list[{}]", self.ty_in(items, quote, strict)),
            // Keys are always lax: JSON object keys are strings, and only lax `int` reads `"7"`.
            TypeRef::Map { keys, values } if matches!(**keys, TypeRef::Integer { .. }) => {
                format!("dict[int, {}]", self.ty_in(values, quote, strict))
            }
            TypeRef::Map { keys, values } => format!(
                "dict[{}, {}]",
                self.ty_in(keys, quote, false),
                self.ty_in(values, quote, strict)
            ),
            TypeRef::Nullable { inner } => {
                if inner.is_nullable() {
                    self.ty_in(inner, quote, strict)
                } else {
                    let i = self.ty_in(inner, quote, strict);
                    if i.starts_with('"') {
                        // `"A" | None` does not evaluate; quote the whole union instead.
                        py_str(&format!("{} | None", &i[1..i.len() - 1]))
                    } else {
                        format!("{i} | None")
                    }
                }
            }
        }
    }

    /// Whether `default` can be written as a plain Python literal of type `ty` (otherwise it is
    /// given to `Field(default=…, validate_default=True)`).
    fn plain_default(&self, ty: &TypeRef, default: &Value) -> bool {
        let ty = match self.api.resolve(ty) {
            TypeRef::Nullable { inner } => {
                if default.is_null() {
                    return true;
                }
                self.api.resolve(inner)
            }
            other => other,
        };
        match (ty, default) {
            (TypeRef::Any, _) => !default.is_array() && !default.is_object(),
            (TypeRef::Bool, Value::Bool(_)) => true,
            (TypeRef::Integer { .. }, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (TypeRef::Number { .. }, Value::Number(_)) => true,
            (TypeRef::String, Value::String(_)) => true,
            (TypeRef::Named { name }, Value::String(s)) => matches!(
                self.defs.get(name).map(|d| &d.kind),
                Some(TypeKind::StringEnum { values }) if values.iter().any(|v| &v.value == s)
            ),
            _ => false,
        }
    }

    /// One field declaration. Returns the field and whether it is always sent / left out when
    /// `None`.
    /// One field: its declaration, Python name, whether it is always sent, and whether `None`
    /// leaves it out.
    fn field(&mut self, f: &Field) -> (PyField, String, bool, bool) {
        let name = member_name(&f.words);
        let mut annotation = self.ty(&f.ty, false);
        let nullable = f.ty.is_nullable()
            || matches!(
                self.api.resolve(&f.ty),
                TypeRef::Any | TypeRef::Null | TypeRef::Nullable { .. }
            );
        let mut always_sent = false;
        let mut omit_none = false;
        let mut doc = f.description.clone().unwrap_or_default();
        // (expression, needs validate_default)
        let default: Option<(String, bool)> = match (&f.default, f.required) {
            (Some(d), required) => {
                always_sent = required;
                Some((py_literal(d), !self.plain_default(&f.ty, d)))
            }
            (None, true) => None,
            (None, false) => {
                if !nullable {
                    annotation = format!("{annotation} | None");
                    omit_none = true;
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str("``None`` (the default) leaves it out.");
                }
                Some(("None".into(), false))
            }
        };
        let decl = field_decl(&name, &annotation, &f.wire, default);
        (
            PyField {
                decl,
                doc: docstring(&doc, "    "),
            },
            name,
            always_sent,
            omit_none,
        )
    }

    fn class(
        &mut self,
        name: String,
        description: Option<&str>,
        tag: Option<(&str, &str)>,
        fields: &[Field],
        base: Option<String>,
    ) -> Result<Class, CodegenError> {
        let mut py_fields = Vec::new();
        let mut always_sent = Vec::new();
        let mut omit_none = Vec::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        if let Some((wire, value)) = tag {
            let field_name = member_name(&words(wire));
            self.uses.insert("Literal");
            let annotation = format!("Literal[{}]", py_str(value));
            py_fields.push(PyField {
                decl: field_decl(&field_name, &annotation, wire, Some((py_str(value), false))),
                doc: String::new(),
            });
            always_sent.push(field_name.clone());
            seen.insert(field_name, wire.to_owned());
        }
        for f in fields {
            let (pf, fname, sent, omit) = self.field(f);
            if let Some(prev) = seen.insert(fname.clone(), f.wire.clone()) {
                return Err(CodegenError::Collision(format!(
                    "fields `{prev}` and `{}` of `{name}` would both be the Python attribute `{fname}`; rename one",
                    f.wire
                )));
            }
            if sent {
                always_sent.push(fname.clone());
            }
            if omit {
                omit_none.push(fname.clone());
                if fname != f.wire {
                    omit_none.push(f.wire.clone());
                }
            }
            py_fields.push(pf);
        }
        if !always_sent.is_empty() || !omit_none.is_empty() {
            self.uses.insert("ClassVar");
        }
        if !omit_none.is_empty() {
            self.omit_none = true;
        }
        let parent = base.clone();
        let base = base.unwrap_or_else(|| {
            if omit_none.is_empty() {
                "_Model".into()
            } else {
                "_OmitNone".into()
            }
        });
        let mut body = Vec::new();
        let doc = docstring(description.unwrap_or_default(), "    ");
        if !doc.is_empty() {
            body.push(doc);
        }
        let mut class_vars = Vec::new();
        if !always_sent.is_empty() {
            let mut value = tuple_literal(&always_sent);
            if let Some(parent) = &parent {
                // Keep what the parent always sends.
                value = format!(
                    "(*{parent}._always_sent, {})",
                    always_sent
                        .iter()
                        .map(|s| py_str(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            class_vars.push(format!(
                "    _always_sent: ClassVar[tuple[str, ...]] = {value}"
            ));
        }
        if !omit_none.is_empty() {
            class_vars.push(format!(
                "    _omit_none: ClassVar[tuple[str, ...]] = {}",
                tuple_literal(&omit_none)
            ));
        }
        if !class_vars.is_empty() {
            body.push(class_vars.join("\n"));
        }
        for f in py_fields {
            body.push(format!("{}{}", f.decl, f.doc));
        }
        if body.is_empty() {
            body.push("    pass".into());
        }
        Ok(Class {
            name,
            base,
            body: body.into_iter().map(|b| b.trim_end().to_owned()).collect(),
        })
    }

    /// Every class and alias of models.py, classes first (sorted, subclasses last), aliases in
    /// dependency order.
    fn models(&mut self) -> Result<(Vec<Class>, Vec<Alias>), CodegenError> {
        let mut classes = Vec::new();
        let mut subclasses = Vec::new();
        let mut aliases: BTreeMap<String, Alias> = BTreeMap::new();
        let types: Vec<&TypeDef> = self.api.types.iter().collect();
        for t in types {
            let name = self.py_name(&t.name);
            match &t.kind {
                TypeKind::Struct { fields } => {
                    let tag = self.internal_payloads.get(&t.name).cloned();
                    let doc = t
                        .description
                        .clone()
                        .or_else(|| self.payload_docs.get(&t.name).cloned());
                    let c = self.class(
                        name,
                        doc.as_deref(),
                        tag.as_ref().map(|(w, v)| (w.as_str(), v.as_str())),
                        fields,
                        None,
                    )?;
                    classes.push(c);
                }
                TypeKind::StringEnum { values } => {
                    self.uses.insert("Literal");
                    self.uses.insert("TypeAlias");
                    let value = format!(
                        "Literal[{}]",
                        values
                            .iter()
                            .map(|v| py_str(&v.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    let mut doc = t.description.clone().unwrap_or_default();
                    let documented: Vec<String> = values
                        .iter()
                        .filter_map(|v| {
                            v.description
                                .as_ref()
                                .map(|d| format!("- ``{}``: {d}", py_str(&v.value)))
                        })
                        .collect();
                    if !documented.is_empty() {
                        if !doc.is_empty() {
                            doc.push_str("\n\n");
                        }
                        doc.push_str(&documented.join("\n"));
                    }
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: false,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::Tagged {
                    tag,
                    content,
                    variants,
                } => {
                    let mut members = Vec::new();
                    let tag_attr = member_name(&words(tag));
                    for v in variants {
                        let at = format!("type `{}`, variant `{}`", t.name, v.tag_value);
                        match (content, &v.payload) {
                            (None, Payload::Fields { type_name, .. }) => {
                                members.push(self.py_name(type_name));
                            }
                            (None, Payload::Unit) => {
                                let cname = self.variant_class(t, v, "");
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    Some((tag, &v.tag_value)),
                                    &[],
                                    None,
                                )?);
                                members.push(cname);
                            }
                            (None, Payload::Type { ty }) => {
                                let parent = match self.api.resolve(ty) {
                                    TypeRef::Named { name }
                                        if matches!(self.shapes.get(name), Some(Shape::Class)) =>
                                    {
                                        self.py_name(name)
                                    }
                                    _ => {
                                        return Err(CodegenError::Unsupported {
                                            at,
                                            problem: "an internally tagged variant must hold fields or a struct (serde cannot put the tag next to another value)".into(),
                                        })
                                    }
                                };
                                let cname = self.variant_class(t, v, "");
                                subclasses.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    Some((tag, &v.tag_value)),
                                    &[],
                                    Some(parent),
                                )?);
                                members.push(cname);
                            }
                            (Some(content), payload) => {
                                let cname = self.variant_class(t, v, "Variant");
                                let fields: Vec<Field> = match payload {
                                    Payload::Unit => vec![],
                                    Payload::Fields { type_name, .. } => vec![content_field(
                                        content,
                                        TypeRef::Named {
                                            name: type_name.clone(),
                                        },
                                    )],
                                    Payload::Type { ty } => {
                                        vec![content_field(content, ty.clone())]
                                    }
                                };
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    Some((tag, &v.tag_value)),
                                    &fields,
                                    None,
                                )?);
                                members.push(cname);
                            }
                        }
                    }
                    let union = members.join(" | ");
                    let value = if members.len() > 1 {
                        self.uses.insert("Annotated");
                        format!(
                            "Annotated[{union}, Field(discriminator={})]",
                            py_str(&tag_attr)
                        )
                    } else {
                        union
                    };
                    self.uses.insert("TypeAlias");
                    let mut doc = t.description.clone().unwrap_or_default();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str(&format!(
                        "One of {}, told apart by ``{}``.",
                        members
                            .iter()
                            .map(|m| format!(":class:`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        tag
                    ));
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: false,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::External { variants } => {
                    let mut units = Vec::new();
                    let mut members = Vec::new();
                    for v in variants {
                        match &v.payload {
                            Payload::Unit => units.push(py_str(&v.tag_value)),
                            Payload::Fields { type_name, .. } => {
                                let cname = self.variant_class(t, v, "Variant");
                                let f = content_field(
                                    &v.tag_value,
                                    TypeRef::Named {
                                        name: type_name.clone(),
                                    },
                                );
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    None,
                                    &[f],
                                    None,
                                )?);
                                members.push(cname);
                            }
                            Payload::Type { ty } => {
                                let cname = self.variant_class(t, v, "Variant");
                                let f = content_field(&v.tag_value, ty.clone());
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    None,
                                    &[f],
                                    None,
                                )?);
                                members.push(cname);
                            }
                        }
                    }
                    if !units.is_empty() {
                        self.uses.insert("Literal");
                        members.insert(0, format!("Literal[{}]", units.join(", ")));
                    }
                    let value = self.union(&members);
                    self.uses.insert("TypeAlias");
                    let mut doc = t.description.clone().unwrap_or_default();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    let described: Vec<String> = variants
                        .iter()
                        .map(|v| match &v.payload {
                            Payload::Unit => format!("``{}``", py_str(&v.tag_value)),
                            _ => format!(":class:`{}`", self.variant_class(t, v, "Variant")),
                        })
                        .collect();
                    doc.push_str(&format!("One of {}.", described.join(", ")));
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: false,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::Untagged { variants } => {
                    let quote = self.recursive.contains(&t.name);
                    // An alternative that is the enum itself adds nothing (and no type checker
                    // accepts a union containing itself).
                    let variants: Vec<&UntaggedVariant> = variants
                        .iter()
                        .filter(|v| !matches!(&v.ty, TypeRef::Named { name } if name == &t.name))
                        .collect();
                    let members: Vec<String> = variants
                        .iter()
                        .map(|v| self.ty_in(&v.ty, quote, true))
                        .collect();
                    let value = self.union(&members);
                    self.uses.insert("TypeAlias");
                    let shown: Vec<String> = {
                        let saved = self.uses.clone();
                        let shown = variants.iter().map(|v| self.ty(&v.ty, false)).collect();
                        self.uses = saved;
                        shown
                    };
                    let members = shown;
                    let mut doc = t.description.clone().unwrap_or_default();
                    let documented: Vec<String> = variants
                        .iter()
                        .zip(&members)
                        .filter_map(|(v, m)| {
                            v.description.as_ref().map(|d| format!("- ``{m}``: {d}"))
                        })
                        .collect();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str("The first alternative that fits, in this order:");
                    if documented.len() == variants.len() {
                        doc.push_str("\n\n");
                        doc.push_str(&documented.join("\n"));
                    } else {
                        doc.push_str(&format!(" ``{}``.", members.join("``, ``")));
                    }
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: quote,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::Alias { target } => {
                    let quote = self.recursive.contains(&t.name);
                    let value = self.ty(target, quote);
                    self.uses.insert("TypeAlias");
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: quote,
                            statement: String::new(),
                            doc: docstring(t.description.as_deref().unwrap_or_default(), ""),
                        },
                    );
                }
            }
        }
        if aliases.values().any(|a| a.recursive) {
            self.uses.insert("TYPE_CHECKING");
            self.uses.insert("TypeAliasType");
        }
        classes.sort_by(|a, b| a.name.cmp(&b.name));
        classes.extend(subclasses);

        // Every generated name must be unique.
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for n in classes
            .iter()
            .map(|c| (c.name.as_str(), "class"))
            .chain(aliases.values().map(|a| (a.name.as_str(), "alias")))
        {
            if seen.insert(n.0, n.1).is_some() {
                return Err(CodegenError::Collision(format!(
                    "two types would both be the Python name `{}` (an enum variant's generated class and another type); rename one",
                    n.0
                )));
            }
        }

        // Aliases in dependency order (recursive ones refer to each other by forward reference).
        let order = self.alias_order();
        let mut ordered = Vec::new();
        for name in order {
            if let Some(a) = aliases.remove(&name) {
                ordered.push(a);
            }
        }
        ordered.extend(aliases.into_values());
        for a in &mut ordered {
            a.statement = alias_statement(&a.name, &a.value, a.recursive);
        }
        Ok((classes, ordered))
    }

    /// A union of members: `A | B` in left-to-right mode, or the one member.
    fn union(&mut self, members: &[String]) -> String {
        if members.len() == 1 {
            return members[0].clone();
        }
        self.uses.insert("Annotated");
        let quoted = members.iter().any(|m| m.starts_with('"'));
        let union = if quoted {
            // A string forward reference cannot take part in `|` at runtime.
            py_str(
                &members
                    .iter()
                    .map(|m| {
                        if m.starts_with('"') {
                            serde_json::from_str::<String>(m).unwrap_or_else(|_| m.clone())
                        } else {
                            m.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            )
        } else {
            members.join(" | ")
        };
        format!("Annotated[{union}, Field(union_mode=\"left_to_right\")]")
    }

    /// Alias names, each after the aliases its value evaluates (cycles broken arbitrarily; their
    /// references are forward references).
    fn alias_order(&self) -> Vec<String> {
        let mut order = Vec::new();
        let mut state: BTreeMap<String, u8> = BTreeMap::new();
        fn visit(
            b: &Builder<'_>,
            n: &str,
            state: &mut BTreeMap<String, u8>,
            order: &mut Vec<String>,
        ) {
            if state.get(n).copied().unwrap_or(0) != 0 {
                return;
            }
            state.insert(n.to_owned(), 1);
            if let Some(t) = b.defs.get(n) {
                if !b.recursive.contains(n) {
                    for d in b.alias_refs(t) {
                        visit(b, &d, state, order);
                    }
                }
            }
            state.insert(n.to_owned(), 2);
            order.push(n.to_owned());
        }
        // Recursive aliases only use forward references to each other, but non-recursive
        // aliases they mention must come first.
        for t in &self.api.types {
            if matches!(self.shapes.get(&t.name), Some(Shape::Alias)) {
                if self.recursive.contains(&t.name) {
                    for d in self.alias_refs(t) {
                        if !self.recursive.contains(&d) {
                            visit(self, &d, &mut state, &mut order);
                        }
                    }
                }
                visit(self, &t.name, &mut state, &mut order);
            }
        }
        order
    }

    /// A type for api.py, noting the imports it needs there.
    fn api_ty(&mut self, r: &TypeRef, api_uses: &mut BTreeSet<String>) -> String {
        let saved = std::mem::take(&mut self.uses);
        self.plain_ints = true;
        let ty = self.ty(r, false);
        self.plain_ints = false;
        let used = std::mem::replace(&mut self.uses, saved);
        api_uses.extend(used.into_iter().map(str::to_owned));
        ty
    }

    fn method(
        &mut self,
        m: &Method,
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> Result<PyMethod, CodegenError> {
        let mut name = identifier(&snake(&m.words));
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name = format!("call_{name}");
        }
        if KEYWORDS.contains(&name.as_str()) || RESERVED_MEMBERS.contains(&name.as_str()) {
            name.push('_');
        }
        let screaming_name = name.trim_end_matches('_').to_uppercase();
        let note_models = |b: &Builder<'_>, r: &TypeRef, uses: &mut BTreeSet<String>| {
            fn walk(b: &Builder<'_>, r: &TypeRef, out: &mut BTreeSet<String>) {
                match r {
                    TypeRef::Named { name } => {
                        out.insert(b.py_name(name));
                    }
                    TypeRef::Array { items } => walk(b, items, out),
                    TypeRef::Map { keys, values } => {
                        walk(b, keys, out);
                        walk(b, values, out);
                    }
                    TypeRef::Nullable { inner } => walk(b, inner, out),
                    _ => {}
                }
            }
            walk(b, r, uses);
        };
        let is_class = |b: &Builder<'_>, r: &TypeRef| matches!(r, TypeRef::Named { name } if matches!(b.shapes.get(name), Some(Shape::Class)));

        let (params_arg, params_expr, params_ty) = match &m.params {
            None => (None, "None".to_owned(), String::new()),
            Some(p) => {
                let mut ty = self.api_ty(p, api_uses);
                note_models(self, p, model_uses);
                let expr = if let Some(output) = self.output_twin(p) {
                    // A result of the output twin is accepted too, read back through this
                    // type's contract, so a result can be modified and sent back.
                    let output = self.py_name(&output);
                    model_uses.insert(output.clone());
                    let convert = self.as_input(&ty, &output, codecs);
                    ty = format!("{ty} | {output}");
                    format!(
                        "{convert}(params).model_dump(mode=\"json\", by_alias=True, exclude_unset=True)"
                    )
                } else if is_class(self, p) {
                    "params.model_dump(mode=\"json\", by_alias=True, exclude_unset=True)".to_owned()
                } else {
                    let adapter = format!("_{screaming_name}_PARAMS");
                    adapters.push(Adapter {
                        name: adapter.clone(),
                        ty: ty.clone(),
                    });
                    format!(
                        "{adapter}.dump_python(params, mode=\"json\", by_alias=True, exclude_unset=True)"
                    )
                };
                (Some(format!("params: {ty}")), expr, ty)
            }
        };
        let result_ty = self.api_ty(&m.result, api_uses);
        note_models(self, &m.result, model_uses);
        let returns = match &m.result {
            TypeRef::Null => None,
            TypeRef::Any => Some("return data".to_owned()),
            r if is_class(self, r) => {
                api_uses.insert("json".into());
                Some(format!(
                    "return {result_ty}.model_validate_json(json.dumps(data), strict=True)"
                ))
            }
            _ => {
                api_uses.insert("json".into());
                let adapter = format!("_{screaming_name}_RESULT");
                adapters.push(Adapter {
                    name: adapter.clone(),
                    ty: result_ty.clone(),
                });
                Some(format!(
                    "return {adapter}.validate_json(json.dumps(data), strict=True)"
                ))
            }
        };
        let description = m.description.clone().unwrap_or_default();
        let mut doc = description.clone();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&format!("Calls ``{}``.", m.name));
        let errors = app_errors_doc(&m.errors, "may fail with");
        if !errors.is_empty() {
            doc.push_str("\n\n");
            doc.push_str(&errors);
        }
        Ok(PyMethod {
            wire: m.name.clone(),
            wire_literal: py_str(&m.name),
            params_arg,
            params_expr,
            result_ty,
            decodes: !matches!(m.result, TypeRef::Null | TypeRef::Any),
            idempotent: m.idempotent,
            returns,
            doc: docstring(&doc, "        "),
            summary: description.lines().next().unwrap_or_default().to_owned(),
            params_ty,
            name,
        })
    }
}

/// A method name of `APIClient` from words: snake_case, escaped like RPC methods.
fn method_ident(w: &[String]) -> String {
    let mut name = identifier(&snake(w));
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("call_{name}");
    }
    if KEYWORDS.contains(&name.as_str()) || RESERVED_MEMBERS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// `text` wrapped at `width` columns (words are not split).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// The width generated prose in a method's docstring is wrapped at.
const DOC_WIDTH: usize = 88;

/// How generated docs name a type: a cross-reference for a class or alias, else a literal.
fn doc_type(ty: &str) -> String {
    if ty.chars().all(|c| c.is_alphanumeric() || c == '_') {
        format!(":class:`{ty}`")
    } else {
        format!("``{ty}``")
    }
}

/// `return <call>(<args>)` at function-body indentation, split as ruff formats it when longer
/// than 100 columns.
fn return_call(call: &str, args: &str) -> String {
    let one = format!("    return {call}({args})");
    if one.len() <= 100 {
        return format!("{call}({args})");
    }
    format!("{call}(\n        {args}\n    )")
}

/// The channel expression of a pattern: the channel itself, or its prefix `+ key`.
fn channel_expr(prefix: &str, keyed: bool) -> String {
    if !keyed {
        py_str(prefix)
    } else if prefix.is_empty() {
        "key".to_owned()
    } else {
        format!("{} + key", py_str(prefix))
    }
}

/// How the README and docs show a pattern: `tally:<key>`.
fn shown_pattern(prefix: &str, keyed: bool) -> String {
    if keyed {
        format!("{prefix}<key>")
    } else {
        prefix.to_owned()
    }
}

impl Builder<'_> {
    /// Notes the model classes a type refers to, for api.py's imports.
    fn note_models(&self, r: &TypeRef, uses: &mut BTreeSet<String>) {
        match r {
            TypeRef::Named { name } => {
                uses.insert(self.py_name(name));
            }
            TypeRef::Array { items } => self.note_models(items, uses),
            TypeRef::Map { keys, values } => {
                self.note_models(keys, uses);
                self.note_models(values, uses);
            }
            TypeRef::Nullable { inner } => self.note_models(inner, uses),
            _ => {}
        }
    }

    fn is_class(&self, r: &TypeRef) -> bool {
        matches!(r, TypeRef::Named { name } if matches!(self.shapes.get(name), Some(Shape::Class)))
    }

    /// The name of a codec function for `r` (`_decode_task_event`), added once per type.
    #[allow(clippy::too_many_arguments)]
    /// The type a params class is the input copy of (`Everything` for `EverythingInput`), when
    /// both are classes.
    fn output_twin(&self, r: &TypeRef) -> Option<String> {
        let TypeRef::Named { name } = r else {
            return None;
        };
        let output = self.defs.get(name)?.input_of.as_deref()?;
        (self.is_class(r) && matches!(self.shapes.get(output), Some(Shape::Class)))
            .then(|| output.to_owned())
    }

    /// The function `_as_<input>` that returns an `input` as it is and reads an `output` (its
    /// output twin) back as one: through JSON, with the input's contract, as the server would.
    fn as_input(&self, input: &str, output: &str, codecs: &mut Vec<Codec>) -> String {
        let name = format!("_as_{}", snake(&words(input)));
        if !codecs.iter().any(|c| c.name == name) {
            codecs.push(Codec {
                name: name.clone(),
                arg_ty: format!("{input} | {output}"),
                ret_ty: input.to_owned(),
                body: format!(
                    "(\n        value\n        if isinstance(value, {input})\n        else \
                     {input}.model_validate_json(\n            value.model_dump_json(by_alias=True, \
                     exclude_unset=True), strict=True\n        )\n    )"
                ),
                arg: "value".into(),
            });
        }
        name
    }

    fn codec(
        &mut self,
        r: &TypeRef,
        decode: bool,
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> String {
        let ty = self.api_ty(r, api_uses);
        self.note_models(r, model_uses);
        api_uses.insert("Any".into());
        let verb = if decode { "decode" } else { "encode" };
        if let Some(c) = codecs.iter().find(|c| {
            c.name.starts_with(&format!("_{verb}_"))
                && if decode {
                    c.ret_ty == ty
                } else {
                    c.arg_ty == ty
                }
        }) {
            return c.name.clone();
        }
        let base = match r {
            TypeRef::Named { name } => snake(&words(&self.py_name(name))),
            _ => identifier(&ty.to_lowercase())
                .split('_')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_"),
        };
        let name = format!("_{verb}_{base}");
        let body = if decode {
            api_uses.insert("json".into());
            match r {
                TypeRef::Any => "data".to_owned(),
                r if self.is_class(r) => return_call(
                    &format!("{ty}.model_validate_json"),
                    "json.dumps(data), strict=True",
                ),
                _ => {
                    let adapter = format!("{}_ADAPTER", name.to_uppercase());
                    adapters.push(Adapter {
                        name: adapter.clone(),
                        ty: ty.clone(),
                    });
                    return_call(
                        &format!("{adapter}.validate_json"),
                        "json.dumps(data), strict=True",
                    )
                }
            }
        } else if self.is_class(r) {
            return_call(
                "value.model_dump",
                "mode=\"json\", by_alias=True, exclude_unset=True",
            )
        } else {
            let adapter = format!("{}_ADAPTER", name.to_uppercase());
            adapters.push(Adapter {
                name: adapter.clone(),
                ty: ty.clone(),
            });
            return_call(
                &format!("{adapter}.dump_python"),
                "value, mode=\"json\", by_alias=True, exclude_unset=True",
            )
        };
        codecs.push(if decode {
            Codec {
                name: name.clone(),
                arg_ty: "Any".into(),
                ret_ty: ty,
                body,
                arg: "data".into(),
            }
        } else {
            Codec {
                name: name.clone(),
                arg_ty: ty,
                ret_ty: "Any".into(),
                body,
                arg: "value".into(),
            }
        });
        name
    }

    fn stream(
        &mut self,
        st: &Stream,
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> PySubscribe {
        let name = method_ident(&st.words);
        let (params_arg, params_expr) = match &st.params {
            None => (None, "None".to_owned()),
            Some(p) => {
                let ty = self.api_ty(p, api_uses);
                self.note_models(p, model_uses);
                let expr = if self.is_class(p) {
                    "params.model_dump(mode=\"json\", by_alias=True, exclude_unset=True)".to_owned()
                } else {
                    let adapter = format!("_{}_PARAMS", name.trim_end_matches('_').to_uppercase());
                    adapters.push(Adapter {
                        name: adapter.clone(),
                        ty: ty.clone(),
                    });
                    format!(
                        "{adapter}.dump_python(params, mode=\"json\", by_alias=True, exclude_unset=True)"
                    )
                };
                (Some(format!("params: {ty}")), expr)
            }
        };
        let decode = self.codec(&st.item, true, api_uses, model_uses, adapters, codecs);
        let item_ty = self.api_ty(&st.item, api_uses);
        let (class, return_ty, encode, publication_ty) = match &st.publication {
            None => (
                "Subscription",
                format!("Subscription[{item_ty}]"),
                None,
                None,
            ),
            Some(p) => {
                let enc = self.codec(p, false, api_uses, model_uses, adapters, codecs);
                let pty = self.api_ty(p, api_uses);
                (
                    "PublishingSubscription",
                    format!("PublishingSubscription[{item_ty}, {pty}]"),
                    Some(enc),
                    Some(pty),
                )
            }
        };
        let shown = shown_pattern(&st.prefix, st.keyed);
        let description = st.description.clone().unwrap_or_default();
        let mut doc = description.clone();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        let mut generated = format!(
            "Subscribes to the stream ``{}`` (channel ``{shown}``) on the first iteration, or on \
             ``async with``; each item is {}.",
            st.pattern,
            doc_type(&item_ty)
        );
        if let Some(p) = &publication_ty {
            generated.push_str(&format!(
                " ``publish()`` sends {} to the stream.",
                doc_type(p)
            ));
        }
        generated.push_str(
            " A refusal raises :class:`RPCError`; the iteration ends when the server ends the stream.",
        );
        doc.push_str(&wrap(&generated, DOC_WIDTH));
        let errors = app_errors_doc(&st.errors, "may refuse with");
        if !errors.is_empty() {
            doc.push_str("\n\n");
            doc.push_str(&errors);
        }
        PySubscribe {
            name,
            pattern: st.pattern.clone(),
            what: "stream".into(),
            keyed: st.keyed,
            params_arg,
            params_expr,
            channel_expr: channel_expr(&st.prefix, st.keyed),
            return_ty,
            class: class.into(),
            decode,
            encode,
            item_ty,
            publication_ty,
            doc: docstring(&doc, "        "),
            summary: description.lines().next().unwrap_or_default().to_owned(),
        }
    }

    fn channel(
        &mut self,
        ch: &Channel,
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> (PySubscribe, Option<PyPublish>) {
        let prefixed = |verb: &str| {
            let mut w = vec![verb.to_owned()];
            w.extend(ch.words.iter().cloned());
            method_ident(&w)
        };
        let name = prefixed("subscribe");
        let decode = self.codec(
            &ch.publication,
            true,
            api_uses,
            model_uses,
            adapters,
            codecs,
        );
        let item_ty = self.api_ty(&ch.publication, api_uses);
        let shown = shown_pattern(&ch.prefix, ch.keyed);
        let description = ch.description.clone().unwrap_or_default();
        let summary = description.lines().next().unwrap_or_default().to_owned();
        let channel = channel_expr(&ch.prefix, ch.keyed);
        let mut generated = format!(
            "Subscribes to ``{shown}`` on the first iteration, or on ``async with``; each \
             publication is {}.",
            doc_type(&item_ty)
        );
        let (class, return_ty, encode, publication_ty, publish) = match &ch.client_publication {
            None => (
                "Subscription",
                format!("Subscription[{item_ty}]"),
                None,
                None,
                None,
            ),
            Some(p) => {
                let enc = self.codec(p, false, api_uses, model_uses, adapters, codecs);
                let pty = self.api_ty(p, api_uses);
                generated.push_str(&format!(
                    " ``publish()`` publishes {} into it.",
                    doc_type(&pty)
                ));
                let mut pdoc = description.clone();
                if !pdoc.is_empty() {
                    pdoc.push_str("\n\n");
                }
                pdoc.push_str(&wrap(
                    &format!(
                        "Publishes {} into ``{shown}``. A refusal raises :class:`RPCError` \
                         with the server's code and message.",
                        doc_type(&pty)
                    ),
                    DOC_WIDTH,
                ));
                let publish = PyPublish {
                    name: prefixed("publish"),
                    pattern: ch.pattern.clone(),
                    keyed: ch.keyed,
                    channel_expr: channel.clone(),
                    value_ty: pty.clone(),
                    encode: enc.clone(),
                    doc: docstring(&pdoc, "        "),
                    summary: summary.clone(),
                };
                (
                    "PublishingSubscription",
                    format!("PublishingSubscription[{item_ty}, {pty}]"),
                    Some(enc),
                    Some(pty),
                    Some(publish),
                )
            }
        };
        generated.push_str(" A refusal raises :class:`RPCError`.");
        let mut doc = description.clone();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&wrap(&generated, DOC_WIDTH));
        let sub = PySubscribe {
            name,
            pattern: ch.pattern.clone(),
            what: "channel".into(),
            keyed: ch.keyed,
            params_arg: None,
            params_expr: "None".into(),
            channel_expr: channel,
            return_ty,
            class: class.into(),
            decode,
            encode,
            item_ty,
            publication_ty,
            doc: docstring(&doc, "        "),
            summary,
        };
        (sub, publish)
    }
}

/// `value` at `indent`, after `prefix` on the first line: one line when it fits in 100
/// columns, else an `Annotated[...]` split into its type and metadata.
fn wrap_value(value: &str, indent: &str, prefix: &str, suffix: &str) -> String {
    let one = format!("{indent}{prefix}{value}{suffix}");
    if one.len() <= 100 {
        return one;
    }
    if let Some(inner) = value
        .strip_prefix("Annotated[")
        .and_then(|v| v.strip_suffix(']'))
    {
        if let Some(at) = inner.rfind(", Field(") {
            return format!(
                "{indent}{prefix}Annotated[\n{indent}    {},\n{indent}    {},\n{indent}]{suffix}",
                &inner[..at],
                &inner[at + 2..]
            );
        }
    }
    one
}

/// The definition of a type alias; a recursive one is a `TypeAliasType` at runtime (Pydantic
/// cannot follow a plain recursive alias) and a plain alias for type checkers.
fn alias_statement(name: &str, value: &str, recursive: bool) -> String {
    if !recursive {
        return wrap_value(value, "", &format!("{name}: TypeAlias = "), "");
    }
    let typed = wrap_value(value, "    ", &format!("{name}: TypeAlias = "), "");
    let one = format!("    {name} = TypeAliasType({}, {value})", py_str(name));
    let runtime = if one.len() <= 100 {
        one
    } else {
        format!(
            "    {name} = TypeAliasType(\n        {},\n{},\n    )",
            py_str(name),
            wrap_value(value, "        ", "", "")
        )
    };
    format!("if TYPE_CHECKING:\n{typed}\nelse:\n{runtime}")
}

/// The content field of an adjacently tagged variant or an externally tagged wrapper.
fn content_field(wire: &str, ty: TypeRef) -> Field {
    Field {
        wire: wire.to_owned(),
        words: words(wire),
        description: None,
        ty,
        required: true,
        default: None,
    }
}

/// `name: annotation[ = default]`, with the wire name as validation and serialization alias
/// when it differs. `default` is (expression, validate it).
fn field_decl(name: &str, annotation: &str, wire: &str, default: Option<(String, bool)>) -> String {
    let mut args = Vec::new();
    let aliased = name != wire;
    match &default {
        Some((expr, validate)) if aliased || *validate => {
            args.push(format!("default={expr}"));
            if *validate {
                args.push("validate_default=True".into());
            }
        }
        _ => {}
    }
    if aliased {
        args.push(format!("validation_alias={}", py_str(wire)));
        args.push(format!("serialization_alias={}", py_str(wire)));
    }
    let head = format!("    {name}: {annotation}");
    if args.is_empty() {
        return match default {
            Some((expr, _)) => format!("{head} = {expr}\n"),
            None => format!("{head}\n"),
        };
    }
    let one_line = format!("{head} = Field({})\n", args.join(", "));
    if one_line.len() <= 101 {
        return one_line;
    }
    let mut out = format!("{head} = Field(\n");
    for a in args {
        out.push_str(&format!("        {a},\n"));
    }
    out.push_str("    )\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docstrings_stay_valid_python() {
        assert_eq!(docstring("User's ID", ""), "\"\"\"User's ID\"\"\"\n");
        assert_eq!(
            docstring("ends with \"quote\"", ""),
            "\"\"\"ends with \"quote\\\"\"\"\"\n"
        );
        assert_eq!(
            docstring("a \"\"\" b \\ c", "  "),
            "  \"\"\"a \"\"\\\" b \\\\ c\"\"\"\n"
        );
        assert_eq!(
            docstring("one\n\ntwo", "    "),
            "    \"\"\"one\n\n    two\n    \"\"\"\n"
        );
        assert_eq!(docstring("  ", ""), "");
    }

    #[test]
    fn names_are_escaped() {
        let w = |s: &str| words(s);
        assert_eq!(member_name(&w("from")), "from_");
        assert_eq!(member_name(&w("type")), "type_");
        assert_eq!(member_name(&w("bigSigned")), "big_signed");
        assert_eq!(member_name(&w("json")), "json_");
        assert_eq!(member_name(&w("model_dump")), "model_dump_");
        assert_eq!(member_name(&w("2fa")), "n2fa");
        assert_eq!(member_name(&w("id")), "id");
        assert_eq!(type_name(&w("None")), "NoneType");
        assert_eq!(type_name(&w("ErrorCode")), "ErrorCodeType");
        assert_eq!(type_name(&w("TaskStatsParams")), "TaskStatsParams");
    }

    #[test]
    fn versions_become_pep440() {
        assert_eq!(pep440("0.1.0"), "0.1.0");
        assert_eq!(pep440("1.2.3-rc.1"), "1.2.3rc1");
        assert_eq!(pep440("1.2.3-beta"), "1.2.3b0");
        assert_eq!(pep440("1.2.3-foo.bar"), "1.2.3.dev0");
        assert_eq!(pep440("1.0.0+build.5"), "1.0.0");
        assert_eq!(pep440("v1"), "0.0.0");
    }
}
