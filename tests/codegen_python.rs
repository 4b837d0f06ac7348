//! The Python client generator: golden files, `mypy --strict`, `pyright` (strict) and `ruff` on
//! the generated package, pip-installability, an edge-case API (awkward names, descriptions, defaults,
//! recursion), and the generated client end to end through the real Centrifugo.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use centrpc::{
    codegen::{
        self,
        ir::{self, Payload, TypeKind, TypeRef},
        Language,
    },
    method, schema,
    stream::{self, Incoming},
    Channel, Context, Router, RpcError,
};
use common::stack::{self, Options, Stack};
use futures_util::{Stream, StreamExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A tool of the Python venv (`scripts/setup.sh python` installs it).
fn venv(tool: &str) -> PathBuf {
    let cache = std::env::var("CENTRPC_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/centrpc"));
    let path = cache.join("venv/bin").join(tool);
    assert!(
        path.exists(),
        "{} is missing: run `scripts/setup.sh python` (make test does)",
        path.display()
    );
    path
}

/// `tasks generate --output <out> --python`, as a user runs it.
fn generate(out: &Path) {
    let result = Command::new(stack::example_bin())
        .args(["generate", "--python", "--output"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `mypy --strict` (with the package's own configuration, and with none, as in a user's project
/// that vendors it) and `ruff check`.
fn type_check(package: &Path) {
    run(Command::new(venv("mypy"))
        .args(["--strict", "--no-incremental", "."])
        .current_dir(package));
    let parent = package.parent().unwrap();
    run(Command::new(venv("mypy"))
        .args(["--strict", "--no-incremental", "--config-file", ""])
        .arg(package.file_name().unwrap())
        .current_dir(parent));
    // pyright in strict mode, from the package's own `[tool.pyright]`, against the venv's
    // packages (pydantic, centrifuge-python).
    run(Command::new(venv("pyright"))
        .args(["--pythonpath"])
        .arg(venv("python"))
        .arg(".")
        .current_dir(package));
    run(Command::new(venv("ruff"))
        .args(["check", "--no-cache", "."])
        .current_dir(package));
}

#[test]
fn the_generated_package_type_checks_and_installs() {
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path());
    let package = tmp.path().join("python");
    type_check(&package);
    run(Command::new(venv("ruff"))
        .args(["format", "--check", "--no-cache", "."])
        .current_dir(&package));

    // pip-installable as `tasks-client` / `tasks_client`, with its py.typed marker. Offline
    // when the venv can build wheels itself (setuptools ≥ 70.1 or `wheel`), else pip fetches
    // setuptools from PyPI into an isolated build environment.
    let site = tmp.path().join("site");
    let builds_wheels = Command::new(venv("python"))
        .args([
            "-c",
            "import importlib.util, sys, setuptools; \
             v = tuple(int(p) for p in setuptools.__version__.split('.')[:2]); \
             sys.exit(0 if v >= (70, 1) or importlib.util.find_spec('wheel') else 1)",
        ])
        .status()
        .unwrap()
        .success();
    let mut pip = Command::new(venv("python"));
    pip.args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
        .arg(&site)
        .arg(&package)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    if builds_wheels {
        pip.args(["--no-build-isolation", "--no-index"]);
    }
    run(&mut pip);
    assert!(
        site.join("tasks_client/py.typed").exists(),
        "py.typed is installed"
    );
    assert!(site.join("tasks_client/models.py").exists());
    let out = run(Command::new(venv("python"))
        .args([
            "-c",
            "import tasks_client as t; print(t.__version__, t.APIClient.__name__, \
             t.TaskStatsParams(user_id='1').model_dump())",
        ])
        .env("PYTHONPATH", &site)
        .current_dir(tmp.path()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0.1.0 APIClient {'user_id': '1'}"
    );

    // The README's example type-checks against the installed package.
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    let example = readme
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a Python example");
    std::fs::write(tmp.path().join("example.py"), example).unwrap();
    run(Command::new(venv("mypy"))
        .args(["--strict", "--no-incremental", "example.py"])
        .env("MYPYPATH", &site)
        .current_dir(tmp.path()));
}

#[test]
fn the_generated_client_works_end_to_end() {
    let stack = Stack::start(Options::default());
    let tmp = tempfile::tempdir().unwrap();
    generate(&tmp.path().join("opensdk"));
    let token = stack.token("42", Some(json!({"plan": "e2e"})));
    let samples = common::write_type_samples(tmp.path(), false);
    let out = Command::new(venv("python"))
        .arg(stack::root().join("e2e/generated/python/test_generated.py"))
        .arg(stack.ws_url())
        .arg(&token)
        .arg(&samples)
        .env("PYTHONPATH", tmp.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the generated Python client failed end to end:\n{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stack.logs()
    );
    assert!(stdout.contains("OK: all"), "{stdout}");
}

/// Streams and typed channels through the generated client: a stream that ends, a refused one,
/// leaving early (`break`, `aclose()`, cancellation; the app's metrics prove the server saw it),
/// a bidirectional stream, task events, the typed `chat`, `tasks` and `progress` channels, and a
/// stream that goes on across the app's restart (the program asks for it on stdout).
#[test]
fn the_generated_streams_and_channels_work_end_to_end() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let mut stack = Stack::start(Options::default());
    let tmp = tempfile::tempdir().unwrap();
    generate(&tmp.path().join("opensdk"));
    let token = stack.token("42", None);
    let mut child = Command::new(venv("python"))
        .arg(stack::root().join("e2e/generated/python/test_streams.py"))
        .arg(stack.ws_url())
        .arg(&token)
        .arg(format!("http://{}/metrics", stack.metrics_addr))
        .arg(format!("http://127.0.0.1:{}/api", stack.centrifugo_port))
        .arg(stack::API_KEY)
        .env("PYTHONPATH", tmp.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = String::new();
    let mut restarted = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        if line == "RESTART APP" {
            // SIGTERM: the app drains and ends its streams with an error; then it comes back.
            assert!(stack.stop_app().success());
            stack.restart_app();
            writeln!(stdin, "restarted").unwrap();
            restarted = true;
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(
        status.success(),
        "the generated Python client's streams failed end to end:\n{stdout}\n{stderr}\n{}",
        stack.logs()
    );
    assert!(restarted, "the program never asked for the restart");
    assert!(stdout.contains("OK: all"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// An API that exercises what the example app does not: names Python or Pydantic reserve,
// descriptions that are hard to quote, defaults of every kind, optional fields that may not be
// null, recursion, and an internally tagged newtype variant.

/// A description with "quotes", a backslash \ and """triple quotes""" that ends in a quote: "
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Awkward {
    /// User's ID.
    #[serde(rename = "from")]
    sender: String,
    /// A keyword.
    r#import: u8,
    /// A builtin used in annotations.
    list: Vec<i16>,
    /// A `BaseModel` method.
    json: bool,
    /// Another one.
    model_dump: i64,
    /// Starts with a digit.
    #[serde(rename = "2fa")]
    two_fa: bool,
    /// Unicode: naïve – “quoted”.
    #[serde(rename = "naïveValue")]
    naive_value: u32,
}

/// Default values of each kind.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Defaults {
    #[serde(default = "pi")]
    ratio: f64,
    #[serde(default = "blue")]
    color: Hue,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default = "label")]
    label: String,
    #[serde(default = "nested")]
    nested: Leaf,
    #[serde(default = "some_count")]
    maybe_count: Option<u16>,
    /// A 32-bit float: its range is checked client-side.
    #[serde(default)]
    scale: f32,
}

fn pi() -> f64 {
    3.25
}
fn blue() -> Hue {
    Hue::Blue
}
fn label() -> String {
    "it's \"quoted\"".into()
}
fn nested() -> Leaf {
    Leaf { value: 5 }
}
fn some_count() -> Option<u16> {
    Some(9)
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Hue {
    Red,
    Blue,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Leaf {
    value: i32,
}

/// A params-only type without a schema default: optional, but never `null`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Mode {
    #[default]
    Fast,
    Careful,
}

/// Params with an optional field that may not be null.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Options2 {
    #[serde(default)]
    mode: Mode,
    #[serde(default, rename = "retryLimit")]
    retry_limit: RetryLimit,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct RetryLimit(u8);

/// A recursive struct.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Tree {
    label: String,
    children: Vec<Tree>,
    expr: Option<Expr>,
}

/// A recursive untagged enum.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
enum Expr {
    Num(f64),
    /// Itself (left out: it adds nothing).
    Same(Box<Expr>),
    Not {
        not: Box<Expr>,
    },
    List(Vec<Expr>),
    Name(String),
}

/// An internally tagged enum with a newtype variant.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "t")]
enum Msg {
    Hello(Leaf),
    Bye { reason: String },
    Nop,
}

/// Named like something the package exports.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct ErrorCode {
    code: u16,
}

async fn awkward(_: Context<()>, p: Awkward) -> Result<Awkward, RpcError> {
    Ok(p)
}
async fn defaults(_: Context<()>, p: Defaults) -> Result<Defaults, RpcError> {
    Ok(p)
}
async fn options(_: Context<()>, _: Options2) -> Result<(), RpcError> {
    Ok(())
}
async fn forest(_: Context<()>, p: Vec<Tree>) -> Result<Option<Tree>, RpcError> {
    Ok(p.into_iter().next())
}
async fn expr(_: Context<()>, p: Expr) -> Result<Expr, RpcError> {
    Ok(p)
}
async fn msg(_: Context<()>, p: Msg) -> Result<Vec<Msg>, RpcError> {
    Ok(vec![p])
}
async fn code(_: Context<()>, p: ErrorCode) -> Result<ErrorCode, RpcError> {
    Ok(p)
}
async fn when(
    _: Context<()>,
    _: Vec<chrono::DateTime<chrono::Utc>>,
) -> Result<uuid::Uuid, RpcError> {
    Ok(uuid::Uuid::nil())
}
async fn ping(_: Context<()>, _: ()) -> Result<(), RpcError> {
    Ok(())
}
async fn maybe(_: Context<()>, p: Option<Leaf>) -> Result<Leaf, RpcError> {
    Ok(p.unwrap_or(Leaf { value: 0 }))
}

/// A stream without params, of plain numbers.
async fn ticks(
    _: Context<()>,
    _: (),
) -> Result<impl Stream<Item = Result<u64, RpcError>>, RpcError> {
    Ok(futures_util::stream::iter([Ok(1)]))
}

/// A keyed bidirectional stream named like a keyword, with optional params, list items and
/// list publications.
async fn classes(
    _: Context<()>,
    _: Option<Leaf>,
    incoming: Incoming<Vec<Hue>>,
) -> Result<impl Stream<Item = Result<Vec<Leaf>, RpcError>>, RpcError> {
    Ok(incoming.map(|hues| {
        hues.map(|h| {
            vec![Leaf {
                value: h.len() as i32,
            }]
        })
    }))
}

/// An exact channel (no key).
const NEWS: Channel<Vec<Leaf>> = Channel::new("news").describe("News, \"quoted\".");
/// A keyed channel whose publications and client publications are unions.
const ROOMS: Channel<Msg> = Channel::new("room:*");

fn edge_router() -> Router<()> {
    Router::new(())
        .info("edge cases", "1.2.3-rc.1")
        .rpc(
            "edge.awkward",
            method(awkward).describe("Awkward \"names\"; a backslash \\ and \"\"\" too."),
        )
        .rpc("edge.defaults", defaults)
        .rpc("edge.options", options)
        .rpc("edge.tree", forest)
        .rpc("edge.expr", expr)
        .rpc("edge.msg", msg)
        .rpc("import", code)
        .rpc("edge.when", when)
        .rpc("edge.ping", ping)
        .rpc("edge.maybe", maybe)
        .stream("edge:ticks", stream::uni(ticks))
        .stream(
            "class:*",
            stream::bidi(classes).describe("Named like a keyword."),
        )
        .channel(NEWS)
        .channel_with_publish::<Expr>(ROOMS)
}

#[test]
fn awkward_apis_generate_valid_typed_python() {
    let document = schema::document(&edge_router());
    let api = ir::read(&document).expect("reads");
    // `Msg` is internally tagged with a newtype variant `Hello(Leaf)`: the IR keeps the payload.
    let msg = api.types.iter().find(|t| t.name == "Msg").unwrap();
    match &msg.kind {
        TypeKind::Tagged {
            content: None,
            variants,
            ..
        } => assert!(
            matches!(&variants[0].payload, Payload::Type { ty: TypeRef::Named { name } } if name == "Leaf"),
            "{variants:?}"
        ),
        other => panic!("Msg read as {other:?}"),
    }
    let files = Language::Python
        .render(&api, &Default::default())
        .expect("renders");
    let tmp = tempfile::tempdir().unwrap();
    let package = tmp.path().join("edge").join("python");
    for file in &files {
        let path = package.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &file.contents).unwrap();
    }
    type_check(&package);
    let out = Command::new(venv("python"))
        .arg("-W")
        .arg("error")
        .arg(stack::root().join("e2e/generated/python/edge_cases.py"))
        .env("PYTHONPATH", tmp.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "edge cases failed:\n{stdout}\n{}\n--- models.py ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(package.join("models.py")).unwrap()
    );
    let pyproject = std::fs::read_to_string(package.join("pyproject.toml")).unwrap();
    assert!(
        pyproject.contains("name = \"edge-cases-client\""),
        "{pyproject}"
    );
    assert!(pyproject.contains("version = \"1.2.3rc1\""), "{pyproject}");
    assert!(
        pyproject.contains("\"edge_cases_client\" = \".\""),
        "{pyproject}"
    );
}

#[test]
fn colliding_python_names_are_reported() {
    // `Shape::Empty` (internally tagged, unit) becomes the class `ShapeEmpty`, which another type
    // already is.
    #[derive(Deserialize, Serialize, JsonSchema)]
    #[serde(tag = "kind")]
    enum Shape {
        Empty,
        Full { n: u8, m: u8 },
    }
    #[derive(Deserialize, Serialize, JsonSchema)]
    struct ShapeEmpty {
        x: u8,
    }
    #[derive(Deserialize, Serialize, JsonSchema)]
    struct Both {
        shape: Shape,
        other: ShapeEmpty,
    }
    async fn both(_: Context<()>, p: Both) -> Result<Both, RpcError> {
        Ok(p)
    }
    let document = schema::document(&Router::new(()).rpc("a.both", both));
    let err = codegen::render(&document, &[Language::Python], &Default::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "name collision: names of models.py: the class of variant `Empty` of `Shape` and type \
         `ShapeEmpty` would both be the Python identifier `ShapeEmpty`; rename one"
    );

    // A wire name that needs an escape and another that is the escaped form: `2fa` → `n2fa`.
    #[derive(Deserialize, Serialize, JsonSchema)]
    struct Fields {
        #[serde(rename = "2fa")]
        a: u8,
        n2fa: u8,
    }
    async fn fields(_: Context<()>, p: Fields) -> Result<Fields, RpcError> {
        Ok(p)
    }
    let document = schema::document(&Router::new(()).rpc("a.fields", fields));
    let err = codegen::render(&document, &[Language::Python], &Default::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "name collision: fields of `Fields`: field `2fa` and field `n2fa` would both be the \
         Python identifier `n2fa`; rename one"
    );
}

#[test]
fn a_custom_package_name_type_checks_and_installs_and_bad_ones_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let result = Command::new(stack::example_bin())
        .args([
            "generate",
            "--python",
            "--python-package",
            "acme-tasks",
            "--output",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let package = tmp.path().join("python");
    let pyproject = std::fs::read_to_string(package.join("pyproject.toml")).unwrap();
    assert!(
        pyproject.contains("name = \"acme-tasks\"")
            && pyproject.contains("packages = [\"acme_tasks\"]"),
        "{pyproject}"
    );
    type_check(&package);
    let site = tmp.path().join("site");
    // Installed without building (as a plain directory under its import name), then imported.
    std::fs::create_dir(&site).unwrap();
    std::os::unix::fs::symlink(&package, site.join("acme_tasks")).unwrap();
    let out = run(Command::new(venv("python"))
        .args([
            "-c",
            "import acme_tasks as t; print(t.AppErrorCode.TASK_NOT_FOUND.value)",
        ])
        .env("PYTHONPATH", &site)
        .current_dir(tmp.path()));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1004");

    for bad in ["9tasks", "tasks-", "acme.tasks", "class", "tâsks", ""] {
        let result = Command::new(stack::example_bin())
            .args(["generate", "--python", "--python-package", bad, "--output"])
            .arg(tmp.path().join("bad"))
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(2), "{bad:?} is refused");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            stderr.contains(&format!(
                "invalid --python-package {bad:?}: a Python package name is ASCII letters"
            )),
            "{stderr}"
        );
    }
}
