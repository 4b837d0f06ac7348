//! The generated TypeScript client: golden files, `tsc --strict` on the package (also as a
//! bundler project imports its sources, and for names that need escaping), and end to end: the
//! package built with its own `tsc` build, run as Node 20 ESM with `ws` against the example app
//! behind Centrifugo (`e2e/generated/typescript/test_generated.ts`), and its subscription streams
//! and typed channels (`test_streams.ts`); and the package generated with `--ts-int64 bigint`
//! (`test_bigint.ts`).
//!
//! Node packages (typescript, centrifuge, ws and their types) come from the lockfile in
//! `e2e/generated/typescript`, installed with `npm ci` when it changed.

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use centrpc::{
    codegen::{self, Language},
    method, schema, stream, Channel, Context, Router, RpcError,
};
use common::{
    app,
    stack::{root, Options, Stack},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn e2e_dir() -> PathBuf {
    root().join("e2e/generated/typescript")
}

/// `e2e/generated/typescript/node_modules`, installed from the lockfile when it changed since
/// the last install (the stamp scheme of `scripts/setup.sh node`).
fn node_modules() -> PathBuf {
    common::stack::npm_ci(&e2e_dir())
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `tsc` from the pinned typescript package, with `args`, in `dir`.
fn tsc(dir: &Path, args: &[&str]) {
    let tsc = node_modules().join("typescript/bin/tsc");
    run(Command::new("node").arg(tsc).args(args).current_dir(dir));
}

/// Generates the example app's package into `out/typescript` (what `tasks generate --typescript
/// --output OUT` writes, rendered in this process so it is never a stale binary's output).
fn generate_example(out: &Path) -> PathBuf {
    generate_example_with(out, &Default::default())
}

/// [`generate_example`] with generator options.
fn generate_example_with(out: &Path, options: &codegen::Options) -> PathBuf {
    let document = schema::document(&app::router(app::App::default()));
    codegen::generate(&document, &[Language::TypeScript], out, options).expect("generates");
    out.join("typescript")
}

/// A scratch directory with a `node_modules` holding the pinned packages (symlinked),
/// `tasks-client` pointing at the package generated into `client/typescript`, and
/// `tasks-client-bigint` at the one generated with `--ts-int64 bigint` into `bigint/typescript`.
struct Workspace {
    dir: tempfile::TempDir,
    package: PathBuf,
    bigint_package: PathBuf,
}

fn workspace() -> Workspace {
    let modules = node_modules();
    let dir = tempfile::tempdir().unwrap();
    let linked = dir.path().join("node_modules");
    std::fs::create_dir(&linked).unwrap();
    for entry in std::fs::read_dir(&modules).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), linked.join(entry.file_name())).unwrap();
    }
    let package = generate_example(&dir.path().join("client"));
    std::os::unix::fs::symlink(&package, linked.join("tasks-client")).unwrap();
    let bigint_package = generate_example_with(
        &dir.path().join("bigint"),
        &codegen::Options {
            npm_package: Some("tasks-client-bigint".into()),
            ts_int64: codegen::TsInt64::Bigint,
            ..Default::default()
        },
    );
    std::os::unix::fs::symlink(&bigint_package, linked.join("tasks-client-bigint")).unwrap();
    Workspace {
        dir,
        package,
        bigint_package,
    }
}

#[test]
fn the_package_type_checks_strictly() {
    let ws = workspace();
    // With the package's own (strict, exactOptionalPropertyTypes, …) tsconfig, the real
    // centrifuge typings included.
    for package in [&ws.package, &ws.bigint_package] {
        tsc(
            package,
            &["-p", ".", "--noEmit", "--strict", "--skipLibCheck", "false"],
        );
    }

    // As the seed did it: a bundler-style TypeScript project importing the generated directory
    // (its sources, before any build) as `./opensdk/typescript`.
    let app = ws.dir.path().join("app");
    generate_example(&app.join("opensdk"));
    std::fs::write(
        app.join("tsconfig.json"),
        r#"{
  "compilerOptions": {
    "target": "ES2020", "lib": ["ES2020", "DOM"], "module": "ESNext",
    "moduleResolution": "bundler", "types": [], "strict": true, "noEmit": true,
    "exactOptionalPropertyTypes": true, "noUncheckedIndexedAccess": true,
    "verbatimModuleSyntax": true, "noUnusedLocals": true
  },
  "files": ["main.ts"]
}"#,
    )
    .unwrap();
    std::fs::write(
        app.join("main.ts"),
        r#"import { CentrifugoRPCClient, APIClient, RPCError, RPCTimeoutError } from './opensdk/typescript';
import type { TaskStatsResult, Everything } from './opensdk/typescript';

export async function stats(token: string): Promise<TaskStatsResult | undefined> {
  const rpc = new CentrifugoRPCClient('wss://example.com/connection/websocket', token, { timeout: 2000 });
  await rpc.connect();
  const api = new APIClient(rpc);
  try {
    const everything: Everything = await api.typesRoundtrip({} as never);
    void everything;
    return await api.tasksGetStats({ user_id: '42' }, { timeout: 1000 });
  } catch (e) {
    if (e instanceof RPCTimeoutError || (e instanceof RPCError && e.temporary)) return undefined;
    throw e;
  } finally {
    rpc.disconnect();
  }
}
"#,
    )
    .unwrap();
    tsc(&app, &["-p", "."]);
}

// Names and shapes that need care in TypeScript, served by a router of their own.

/// Named like the global `types.ts` uses */ and with a comment end in its doc.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Record {
    /// A key that is no identifier.
    #[serde(rename = "content-type")]
    content_type: String,
    /// A reserved word as a key.
    class: Option<Vec<Option<u64>>>,
    /// Nullable values in a map.
    map: BTreeMap<String, Option<Inner>>,
    /// An empty struct.
    empty: Empty,
    /// Internally tagged.
    tagged: Tagged,
    /// Externally tagged with newtypes.
    ext: Ext,
    /// Untagged, in a nested list.
    nested: Vec<Vec<Untagged>>,
    /// Any JSON in a list.
    any_list: Vec<serde_json::Value>,
    /// Adjacently tagged.
    adjacent: Adjacent,
    /// Shadows an export.
    error: RPCError,
    /// Shadows another export.
    codes: ErrorCodes,
}

/// An inner struct.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Inner {
    /// Small.
    v: i16,
}

/// Nothing inside.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Empty {}

/// Internally tagged.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(tag = "t")]
enum Tagged {
    /// With fields.
    B {
        /// A byte.
        x: i8,
    },
    /// Nothing.
    C,
}

/// Externally tagged.
#[derive(Deserialize, Serialize, JsonSchema)]
enum Ext {
    /// Unit.
    Unit,
    /// A number.
    New(u8),
    /// A struct.
    Wrapped(Inner),
}

/// Untagged.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
enum Untagged {
    /// Inline fields.
    A {
        /// A short.
        a: u16,
    },
    /// Words.
    B(Vec<String>),
    /// A flag.
    C(bool),
}

/// Adjacently tagged with odd keys.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind-of", content = "the value")]
enum Adjacent {
    /// A string.
    Text(String),
    /// Nothing.
    Nothing,
}

/// Named like the error class.
#[derive(Deserialize, Serialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)]
struct RPCError {
    /// A code.
    code: u32,
}

/// Named like the error codes constant.
#[derive(Deserialize, Serialize, JsonSchema)]
struct ErrorCodes {
    /// Codes.
    codes: Vec<u32>,
}

async fn echo<P: Send + 'static>(_: Context, p: P) -> Result<P, RpcError> {
    Ok(p)
}

async fn nothing(_: Context, _: ()) -> Result<ErrorCodes, RpcError> {
    Ok(ErrorCodes { codes: vec![] })
}

#[test]
fn names_that_need_escaping_type_check() {
    let router = Router::new(())
        .info("odd */ names\n", "1.2.3")
        .rpc(
            "rpc",
            method(echo::<Record>)
                .describe("Named like `APIClient.rpc`; its doc has a */ comment end."),
        )
        .rpc("constructor", nothing)
        .rpc("admin:users.list_all", echo::<Option<Inner>>)
        .rpc("v2.get", echo::<Vec<Untagged>>);
    let document = schema::document(&router);
    let ws = workspace();
    let out = ws.dir.path().join("odd");
    codegen::generate(
        &document,
        &[Language::TypeScript],
        &out,
        &Default::default(),
    )
    .expect("generates");
    let package = out.join("typescript");
    let read = |f: &str| std::fs::read_to_string(package.join(f)).unwrap();
    let (types, api, manifest) = (read("types.ts"), read("api.ts"), read("package.json"));
    for expected in [
        "export interface Record_ {",
        "\"content-type\": string;",
        "class?: (number | null)[] | null;",
        "map: Record<string, Inner | null>;",
        "export type Empty = Record<string, never>;",
        "nested: Untagged[][];",
        "any_list: JsonValue[];",
        "error: RpcError;",
        "codes: ErrorCodes_;",
        "| { \"kind-of\": \"Text\"; \"the value\": string }",
        "| { \"kind-of\": \"Nothing\" }",
        "| { New: number; Unit?: never; Wrapped?: never }",
        "| { Wrapped: Inner; Unit?: never; New?: never };",
        "| \"Unit\"",
        "| Untagged1",
        "*\\/",
    ] {
        assert!(
            types.contains(expected),
            "types.ts lacks {expected:?}:\n{types}"
        );
    }
    for expected in [
        "rpc_(params: types.RecordInput, opts?: CallOptions): Promise<types.Record_>",
        "constructor_(opts?: CallOptions): Promise<types.ErrorCodes_>",
        "adminUsersListAll(params: types.Inner | null, opts?: CallOptions): Promise<types.Inner | null>",
        "v2Get(params: types.Untagged[], opts?: CallOptions): Promise<types.Untagged[]>",
        "this.rpc.call<types.Record_>(\"rpc\", params, opts, validate.checkRecord_)",
        "\"admin:users.list_all\"",
    ] {
        assert!(api.contains(expected), "api.ts lacks {expected:?}:\n{api}");
    }
    assert!(
        manifest.contains("\"name\": \"odd-names-client\""),
        "{manifest}"
    );
    assert!(
        !types.contains("*/ and"),
        "a doc comment ends early:\n{types}"
    );
    tsc(
        &package,
        &["-p", ".", "--noEmit", "--strict", "--skipLibCheck", "false"],
    );
}

async fn ticks(
    _: Context,
    _: (),
) -> Result<impl futures_util::Stream<Item = Result<u32, RpcError>>, RpcError> {
    Ok(futures_util::stream::iter([Ok(1)]))
}

async fn pairs(
    _: Context,
    _: (),
    _: stream::Incoming<u32>,
) -> Result<impl futures_util::Stream<Item = Result<bool, RpcError>>, RpcError> {
    Ok(futures_util::stream::iter([Ok(true)]))
}

#[test]
fn a_package_without_named_types_type_checks() {
    // Also streams and channels without params or keys, and with primitive types.
    const NEWS: Channel<u32> = Channel::new("news:today");
    const SHOUT: Channel<String> = Channel::new("shout:*");
    let router = Router::new(())
        .rpc("math.double", echo::<u32>)
        .rpc("any.echo", echo::<serde_json::Value>)
        .rpc("ping", nothing_at_all)
        .stream("ticks:all", ticks)
        .stream("pairs:*", stream::bidi(pairs))
        .channel(NEWS)
        .channel_with_publish::<String>(SHOUT);
    let ws = workspace();
    let out = ws.dir.path().join("bare");
    codegen::generate(
        &schema::document(&router),
        &[Language::TypeScript],
        &out,
        &Default::default(),
    )
    .expect("generates");
    let package = out.join("typescript");
    let api = std::fs::read_to_string(package.join("api.ts")).unwrap();
    assert!(
        api.contains("mathDouble(params: number, opts?: CallOptions): Promise<number>")
            && api.contains("ping(opts?: CallOptions): Promise<null>")
            // Any JSON is the `JsonValue` of types.ts, the only type there.
            && api.contains(
                "anyEcho(params: types.JsonValue, opts?: CallOptions): Promise<types.JsonValue>"
            )
            && api.contains("import type * as types"),
        "{api}"
    );
    for expected in [
        "ticksAll(opts?: SubscribeOptions): TypedSubscription<number> {",
        "new TypedSubscription<number>(this.rpc, \"ticks:all\", undefined, opts, validate.integer(0, 4294967295))",
        "onTicksAll(handlers: SubscriptionHandlers<number>, opts?: SubscribeOptions): () => void {",
        "pairs(key: string, opts?: SubscribeOptions): BidiStream<boolean, number> {",
        "new BidiStream<boolean, number>(this.rpc, \"pairs:\" + key, undefined, opts, validate.isBoolean)",
        "onPairs(key: string, handlers: SubscriptionHandlers<boolean>, opts?: SubscribeOptions): BidiListener<number> {",
        "subscribeNewsToday(opts?: SubscribeOptions): TypedSubscription<number> {",
        "new TypedSubscription<number>(this.rpc, \"news:today\", undefined, opts, validate.integer(0, 4294967295))",
        "onNewsToday(handlers: SubscriptionHandlers<number>, opts?: SubscribeOptions): () => void {",
        "publishShout(key: string, value: string, opts?: CallOptions): Promise<void> {",
        "publishTo(this.rpc, \"shout:\" + key, value, opts)",
    ] {
        assert!(api.contains(expected), "api.ts lacks {expected:?}:\n{api}");
    }
    assert!(!api.contains("publishNewsToday"), "{api}");
    tsc(
        &package,
        &["-p", ".", "--noEmit", "--strict", "--skipLibCheck", "false"],
    );
}

async fn nothing_at_all(_: Context, _: ()) -> Result<(), RpcError> {
    Ok(())
}

/// A workspace with the package built by its own build and the e2e test programs compiled.
fn built_workspace() -> Workspace {
    let ws = workspace();
    // The packages' own build (`npm run build` = `tsc -p tsconfig.json`): dist/*.js + *.d.ts.
    for package in [&ws.package, &ws.bigint_package] {
        tsc(package, &["-p", "tsconfig.json"]);
        for f in [
            "index.js",
            "index.d.ts",
            "client.js",
            "api.js",
            "streams.js",
            "types.js",
        ] {
            assert!(package.join("dist").join(f).exists(), "dist/{f} missing");
        }
    }
    assert!(ws.bigint_package.join("dist/json.js").exists());
    // The test programs import the package by name (its `exports`), compiled as Node ESM.
    for f in [
        "test_generated.ts",
        "test_streams.ts",
        "test_bigint.ts",
        "tsconfig.json",
        "package.json",
    ] {
        std::fs::copy(e2e_dir().join(f), ws.dir.path().join(f)).unwrap();
    }
    tsc(ws.dir.path(), &["-p", "."]);
    ws
}

#[test]
fn the_generated_client_works_end_to_end() {
    let ws = built_workspace();

    let stack = Stack::start(Options::default());
    // JS-safe: a 64-bit integer beyond 2^53 − 1 is no JavaScript number.
    let samples = common::write_type_samples(ws.dir.path(), true);
    let (out, stdout) = run_e2e(&ws, &stack, "test_generated.js", &samples);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "the generated TypeScript client failed end to end ({}; its report is above):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        stack.logs()
    );
}

/// Runs the compiled end-to-end program `script` against `stack` as user 42 with a samples file;
/// prints and returns its output.
fn run_e2e(
    ws: &Workspace,
    stack: &Stack,
    script: &str,
    samples: &std::path::Path,
) -> (std::process::Output, String) {
    let out = Command::new("node")
        .arg(ws.dir.path().join("out").join(script))
        .arg(stack.ws_url())
        .arg(stack.token("42", None))
        .arg(samples)
        .current_dir(ws.dir.path())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    (out, stdout)
}

/// The package generated with `--ts-int64 bigint` (`test_bigint.ts`): i64::MIN, i64::MAX,
/// u64::MAX and 2^53 + 1 round-trip exactly as bigints through `types.roundtrip` (and the full
/// range samples, a stream's params and items, a bidi publication, the connect reply data);
/// strings of digits are untouched; a received value out of range is `RPCResultError` 30; and
/// the default package still reports 2^53 + 1 as that visible error.
#[test]
fn the_bigint_client_keeps_64_bit_integers_exact_end_to_end() {
    let ws = built_workspace();
    let stack = Stack::start(Options::default());
    // The full ranges (what a bigint holds) of `Everything`'s samples, the type with every
    // 64-bit construct: `[{"name": "zero", "sample": …, "expected": …}, …]`.
    let everything: Vec<serde_json::Value> = common::type_samples(false)
        .as_array()
        .expect("an array of cases")
        .iter()
        .filter(|c| c["type"] == "Everything")
        .map(|c| serde_json::json!({"name": c["sample"], "sample": c["value"], "expected": c["expected"]}))
        .collect();
    assert_eq!(
        everything.len(),
        3,
        "Everything's zero, min and max samples"
    );
    let samples = ws.dir.path().join("everything_samples.json");
    std::fs::write(&samples, serde_json::Value::from(everything).to_string()).unwrap();
    let (out, stdout) = run_e2e(&ws, &stack, "test_bigint.js", &samples);
    assert!(
        out.status.success() && stdout.contains("\n14 passed, 0 failed"),
        "the bigint TypeScript client failed end to end ({}; its report is above):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        stack.logs()
    );
}

/// Streams and typed channels through the generated client (`test_streams.ts`): a stream's items
/// in order and its end, a refusal and subscribing again, leaving early (the app's metrics show
/// the stream cancelled), bidi publications, events of the client's own calls, chat publications
/// and their refusals, the `tasks:<user>` and personal channels, and a stream going on across the
/// app's crash and restart (the program asks for it on stdout).
#[test]
fn the_generated_client_streams_end_to_end() {
    use std::io::{BufRead, BufReader, Write};
    let ws = built_workspace();
    let mut stack = Stack::start(Options::default());
    let user = "alice";
    let mut child = Command::new("node")
        .arg(ws.dir.path().join("out/test_streams.js"))
        .arg(stack.ws_url())
        .arg(stack.token(user, None))
        .arg(user)
        .arg(format!("http://{}/metrics", stack.metrics_addr))
        .current_dir(ws.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        if line == "RESTART-APP" {
            // Killed, not stopped: the stream breaks (Centrifugo ends it with 2500) and every
            // resubscribe fails with Centrifugo's temporary 100 until the app is back. A draining
            // app refuses with 503, which Centrifugo 6.9.1 relays without `temporary`, so the SDK
            // would give up on that subscription.
            stack.kill_app();
            stack.restart_app();
            writeln!(stdin, "restarted").unwrap();
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && stdout.contains("\n15 passed, 0 failed"),
        "the generated TypeScript client's streams failed end to end ({}; its report is above):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        stack.logs()
    );
}

#[test]
fn a_custom_npm_package_name_type_checks_and_bad_ones_are_refused() {
    let ws = workspace();
    let document = schema::document(&app::router(app::App::default()));
    let named = |name: &str| codegen::Options {
        npm_package: Some(name.into()),
        ..Default::default()
    };
    let out = ws.dir.path().join("scoped");
    codegen::generate(
        &document,
        &[Language::TypeScript],
        &out,
        &named("@acme/tasks-api"),
    )
    .expect("generates");
    let package = out.join("typescript");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(package.join("package.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["name"], "@acme/tasks-api");
    // The workspace's node_modules resolves the package's own imports.
    std::os::unix::fs::symlink(ws.dir.path().join("node_modules"), out.join("node_modules"))
        .unwrap();
    tsc(
        &package,
        &["-p", ".", "--noEmit", "--strict", "--skipLibCheck", "false"],
    );
    for bad in [
        "Tasks",
        "@acme",
        "@acme/",
        ".tasks",
        "_tasks",
        "tasks client",
        "a/b",
    ] {
        let err = codegen::render(&document, &[Language::TypeScript], &named(bad)).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "invalid --npm-package {bad:?}: an npm package name"
            )),
            "{err}"
        );
    }
}
