//! Python names: keywords and reserved names, identifiers for types, members, methods and
//! error codes, the package names, and string and JSON literals.

use serde_json::Value;

use crate::{
    ir::AppError,
    naming::{pascal, screaming, snake, words},
    CodegenError,
};

/// Python keywords and soft keywords.
pub(super) const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// Lower-case names a field or method may not take: builtins the generated class bodies refer
/// to in annotations (a field named `list` would shadow `list[...]` for later fields), and every
/// public attribute of Pydantic's `BaseModel`.
pub(super) const RESERVED_MEMBERS: &[&str] = &[
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
pub(super) const RESERVED_TYPES: &[&str] = &[
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

/// Keeps only characters valid in an identifier.
pub(super) fn identifier(s: &str) -> String {
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

/// A method name of `APIClient` from words: snake_case, escaped like RPC methods.
pub(super) fn method_ident(w: &[String]) -> String {
    let mut name = identifier(&snake(w));
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("call_{name}");
    }
    if KEYWORDS.contains(&name.as_str()) || RESERVED_MEMBERS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// The member of `AppErrorCode` for an application error: its name in SCREAMING_SNAKE_CASE
/// (`CODE_` first when it would start with a digit).
pub(super) fn app_error_member(e: &AppError) -> String {
    let name = identifier(&screaming(&e.words));
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("CODE_{name}")
    } else {
        name
    }
}

/// The default distribution and import names: `<title>-client`, `<title>_client`.
pub(super) fn default_names(title: &str) -> (String, String) {
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

/// A Python string literal (JSON escapes are valid Python escapes).
pub(super) fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// A Python literal for a JSON value.
pub(super) fn py_literal(v: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
