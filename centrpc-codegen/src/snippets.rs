//! Copy-paste call snippets per method, in each generated client's own names (`tasks_get_stats`,
//! `tasksGetStats`, `TasksGetStats`, the params classes), for the API reference page.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::{
    go::{go_name, package_name},
    ir::{self, TypeRef},
    naming::{camel, words},
    python, CodegenError,
};

/// One method's snippets.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Snippets {
    /// Python, over the generated package (`pip install ./opensdk/python`).
    pub python: String,
    /// TypeScript, over the generated package (`./opensdk/typescript`).
    pub typescript: String,
    /// Go, over the generated module.
    pub go: String,
}

/// Snippets for every method of `document`, calling it with `examples[method]` as params.
pub fn snippets(
    document: &Value,
    examples: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Snippets>, CodegenError> {
    let api = ir::read(document)?;
    let title = words(&api.title);
    let py_module = format!(
        "{}_client",
        if title.is_empty() {
            "api".to_owned()
        } else {
            title.join("_")
        }
    );
    let go_package = package_name(&api.title);
    let mut out = BTreeMap::new();
    for m in &api.methods {
        let example = examples.get(&m.name).cloned().unwrap_or(Value::Null);
        let compact = serde_json::to_string(&example).expect("JSON");
        let pretty = serde_json::to_string_pretty(&example).expect("JSON");
        let named = match &m.params {
            Some(TypeRef::Named { name }) => Some(name.as_str()),
            _ => None,
        };
        let py_method = python::member_name(&m.words);
        let (py_import, py_arg) = match (&m.params, named) {
            (None, _) => (String::new(), String::new()),
            (_, Some(n)) => {
                let class = python::type_name(&words(n));
                (
                    format!(", {class}"),
                    format!("{class}.model_validate({})", python_literal(&example)),
                )
            }
            (Some(_), None) => (String::new(), python_literal(&example)),
        };
        let python = format!(
            "from {py_module} import APIClient, CentrifugoRPCClient{py_import}\n\n\
             async with CentrifugoRPCClient(url, token) as rpc:\n    \
             api = APIClient(rpc)\n    \
             result = await api.{py_method}({py_arg})\n    \
             print(result)\n"
        );
        let ts_arg = if m.params.is_some() {
            pretty.clone()
        } else {
            String::new()
        };
        let typescript = format!(
            "import {{ APIClient, CentrifugoRPCClient }} from './opensdk/typescript';\n\n\
             const rpc = new CentrifugoRPCClient(url, token);\n\
             await rpc.connect();\n\
             const api = new APIClient(rpc);\n\
             const result = await api.{}({ts_arg});\n\
             console.log(result);\n",
            camel(&m.words)
        );
        let go_method = go_name(&m.words);
        let go_result = if m.result == TypeRef::Null {
            "err"
        } else {
            "result, err"
        };
        let go_print = if m.result == TypeRef::Null {
            ""
        } else {
            "\nfmt.Printf(\"%+v\\n\", result)"
        };
        let go = match (&m.params, named) {
            (None, _) => format!(
                "import client \"{go_package}\"\n\n\
                 api := client.NewAPIClient(url, token)\n\
                 if err := api.Connect(ctx); err != nil {{\n\tlog.Fatal(err)\n}}\n\
                 defer api.Close()\n\
                 {go_result} := api.{go_method}(ctx)\n\
                 if err != nil {{\n\tlog.Fatal(err)\n}}{go_print}\n"
            ),
            (Some(_), param_type) => {
                let ty = param_type.map_or_else(
                    || "any".to_owned(),
                    |n| format!("client.{}", go_name(&words(n))),
                );
                format!(
                    "import client \"{go_package}\"\n\n\
                     api := client.NewAPIClient(url, token)\n\
                     if err := api.Connect(ctx); err != nil {{\n\tlog.Fatal(err)\n}}\n\
                     defer api.Close()\n\
                     var params {ty}\n\
                     if err := json.Unmarshal([]byte(`{compact}`), &params); err != nil {{\n\tlog.Fatal(err)\n}}\n\
                     {go_result} := api.{go_method}(ctx, params)\n\
                     if err != nil {{\n\tlog.Fatal(err)\n}}{go_print}\n"
                )
            }
        };
        out.insert(
            m.name.clone(),
            Snippets {
                python,
                typescript,
                go,
            },
        );
    }
    Ok(out)
}

/// A JSON value as a Python literal.
fn python_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).expect("JSON"),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    serde_json::to_string(k).expect("JSON"),
                    python_literal(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
