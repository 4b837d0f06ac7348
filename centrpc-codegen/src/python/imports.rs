//! Import statements: what models.py and api.py import, in groups (the standard library, then
//! third-party packages) and in the order ruff's isort keeps; the templates write them out.

use std::collections::BTreeSet;

use serde::Serialize;

/// One import statement: `import module`, or `from module import names` when there are names.
#[derive(Debug, Serialize)]
pub(super) struct Import {
    module: &'static str,
    names: Vec<String>,
}

impl Import {
    fn from(module: &'static str, names: &[&str]) -> Self {
        Self {
            module,
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        }
    }
}

/// models.py's imports, from the names its models use; `omit_none` when the `_OmitNone` base
/// (a `model_serializer` that `cast`s) is needed.
pub(super) fn model_imports(uses: &BTreeSet<&'static str>, omit_none: bool) -> Vec<Vec<Import>> {
    let typing: Vec<&str> = [
        "TYPE_CHECKING",
        "Annotated",
        "Any",
        "ClassVar",
        "Literal",
        "TypeAlias",
    ]
    .into_iter()
    .filter(|n| uses.contains(n))
    .chain(omit_none.then_some("cast"))
    .collect();
    let mut standard = vec![Import::from("typing", &typing)];
    if uses.contains("UUID") {
        standard.push(Import::from("uuid", &["UUID"]));
    }
    let mut pydantic: Vec<String> = ["BaseModel", "ConfigDict", "Field"]
        .into_iter()
        .chain(
            [
                "AwareDatetime",
                "Strict",
                "StrictBool",
                "StrictFloat",
                "StrictInt",
                "StrictStr",
            ]
            .into_iter()
            .filter(|n| uses.contains(n)),
        )
        .chain(
            ["SerializerFunctionWrapHandler", "model_serializer"]
                .into_iter()
                .filter(|_| omit_none),
        )
        .map(str::to_owned)
        .collect();
    isort(&mut pydantic);
    let mut third_party = vec![Import {
        module: "pydantic",
        names: pydantic,
    }];
    if uses.contains("TypeAliasType") {
        third_party.push(Import::from("typing_extensions", &["TypeAliasType"]));
    }
    vec![standard, third_party]
}

/// api.py's imports other than its own package's, from the names its signatures use; `adapters`
/// when it declares `TypeAdapter`s.
pub(super) fn api_imports(uses: &BTreeSet<String>, adapters: bool) -> Vec<Vec<Import>> {
    let used = |n: &str| uses.contains(n);
    let mut standard = Vec::new();
    if used("json") {
        standard.push(Import::from("json", &[]));
    }
    if used("Any") {
        standard.push(Import::from("typing", &["Any"]));
    }
    if used("UUID") {
        standard.push(Import::from("uuid", &["UUID"]));
    }
    let pydantic: Vec<&str> = used("AwareDatetime")
        .then_some("AwareDatetime")
        .into_iter()
        .chain(adapters.then_some("TypeAdapter"))
        .collect();
    let third_party = if pydantic.is_empty() {
        vec![]
    } else {
        vec![Import::from("pydantic", &pydantic)]
    };
    [standard, third_party]
        .into_iter()
        .filter(|group| !group.is_empty())
        .collect()
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

/// Sorts names as ruff's isort does.
pub(super) fn isort(names: &mut [String]) {
    names.sort_by_key(|n| isort_key(n));
}
