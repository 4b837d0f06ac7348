//! The Go client generator: the committed golden module matches what `generate --go` writes, the
//! generated module is gofmt-clean and passes `go vet` and `go build` with its go.mod/go.sum as
//! generated, and the generated client works end to end through the real Centrifugo
//! (`e2e/generated/go`, run against a fresh copy of the module): every RPC method, and the
//! subscription streams and typed channels, with the app's metrics showing a cancelled stream.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::stack::{example_bin, root, Options, Stack, API_KEY};

/// Runs `tasks generate --output out --go` and returns the module directory.
fn generate(out: &Path) -> PathBuf {
    let output = Command::new(example_bin())
        .arg("generate")
        .arg("--output")
        .arg(out)
        .arg("--go")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "generate --go failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.join("go")
}

/// `go` with the module files used as generated (`-mod=readonly`: a missing go.sum entry fails)
/// and the local toolchain.
fn go(dir: &Path, args: &[&str]) -> Output {
    Command::new("go")
        .args(args)
        .current_dir(dir)
        .env("GOFLAGS", "-mod=readonly")
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("go is installed (scripts/setup.sh go)")
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn generated_module_is_gofmt_clean_vets_and_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let module = generate(tmp.path());
    for file in ["go.mod", "go.sum", "types.go", "client.go", "README.md"] {
        assert!(module.join(file).is_file(), "{file} was not generated");
    }
    let gofmt = Command::new("gofmt")
        .arg("-l")
        .arg(".")
        .current_dir(&module)
        .output()
        .expect("gofmt is installed with go");
    assert_ok("gofmt -l", &gofmt);
    assert!(
        gofmt.stdout.is_empty(),
        "generated files are not gofmt-clean: {}",
        String::from_utf8_lossy(&gofmt.stdout)
    );
    assert_ok("go vet ./...", &go(&module, &["vet", "./..."]));
    assert_ok("go build ./...", &go(&module, &["build", "./..."]));
    // go.mod and go.sum are complete and tidy as generated.
    assert_ok("go mod tidy -diff", &go(&module, &["mod", "tidy", "-diff"]));
}

/// Copies the end-to-end program (`e2e/generated/go`) into `tmp`, points it at a freshly
/// generated module, vets and builds it; returns the binary.
fn build_program(tmp: &Path) -> PathBuf {
    let module = generate(&tmp.join("out"));
    let program = tmp.join("program");
    std::fs::create_dir(&program).unwrap();
    for file in ["main.go", "streams.go", "go.mod", "go.sum"] {
        std::fs::copy(
            root().join("e2e/generated/go").join(file),
            program.join(file),
        )
        .unwrap();
    }
    let replace = format!("-replace=tasksclient={}", module.display());
    assert_ok(
        "go mod edit -replace",
        &go(&program, &["mod", "edit", &replace]),
    );
    assert_ok("go vet (test program)", &go(&program, &["vet", "."]));
    let bin = tmp.join("generated-e2e");
    assert_ok(
        "go build (test program)",
        &go(&program, &["build", "-o", bin.to_str().unwrap(), "."]),
    );
    bin
}

#[test]
fn generated_client_calls_every_method_through_centrifugo() {
    let stack = Stack::start(Options::default());
    let tmp = tempfile::tempdir().unwrap();
    let bin = build_program(tmp.path());
    let token = stack.token("42", None);
    let url = stack.ws_url();
    let metrics = format!("http://{}/metrics", stack.metrics_addr);
    let api = format!("http://127.0.0.1:{}/api", stack.centrifugo_port);
    let samples = common::write_type_samples(tmp.path(), false);
    let out = Command::new(&bin)
        .args([
            "-url", &url, "-token", &token, "-metrics", &metrics, "-api", &api, "-api-key", API_KEY,
        ])
        .arg("-samples")
        .arg(&samples)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("RESULT: PASS"),
        "the generated Go client failed end to end:\n{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stack.logs()
    );
}

/// A stream ended by the server with a temporary error (2500: here the app shuts down) is
/// resubscribed by the SDK, and the same loop over `Items` goes on with the new stream's items
/// (from the restarted app).
#[test]
fn a_generated_stream_goes_on_across_an_app_restart() {
    use std::io::{BufRead, BufReader, Write};

    let mut stack = Stack::start(Options::default());
    let tmp = tempfile::tempdir().unwrap();
    let bin = build_program(tmp.path());
    let token = stack.token("42", None);
    let url = stack.ws_url();
    let mut child = Command::new(&bin)
        .args(["-scenario", "resubscribe", "-url", &url, "-token", &token])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        seen.push_str(&line);
        assert!(n > 0, "the program ended before READY:\n{seen}");
        if line.trim() == "READY" {
            break;
        }
    }
    let before = stack.rpc_outcomes("tasks.create");
    stack.stop_app();
    stack.restart_app();
    assert!(!before.is_empty(), "the first app served tasks.create");
    child.stdin.take().unwrap().write_all(b"go on\n").unwrap();
    std::io::Read::read_to_string(&mut stdout, &mut seen).unwrap();
    let out = child.wait_with_output().unwrap();
    println!("{seen}");
    assert!(
        out.status.success() && seen.contains("RESULT: PASS"),
        "the stream did not go on across the restart:\n{seen}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stack.logs()
    );
    assert!(
        seen.contains("PASS resubscribe: the created event of after"),
        "{seen}"
    );
}

/// Constructs the example app does not use, checked without a server: the Rust values are
/// written by serde, read and written again by the generated Go types, and read back by serde.
mod edge {
    use std::collections::BTreeMap;

    use centrpc::{Context, Router, RpcError};
    use chrono::{DateTime, Utc};
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    /// A point.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct Point {
        /// Across.
        pub x: i16,
        /// Up.
        pub y: u8,
    }

    /// Internally tagged with a newtype variant.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(tag = "t")]
    pub enum Internal {
        /// A point, its fields next to the tag.
        At(Point),
        /// Nothing.
        Nowhere,
        /// Inline fields.
        Small {
            /// A byte.
            a: i8,
            /// A flag.
            b: bool,
        },
    }

    /// Externally tagged and recursive.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    pub enum Ext {
        /// A unit.
        Leaf,
        /// An optional string.
        MaybeText(Option<String>),
        /// Recursion.
        Node {
            /// The child.
            child: Option<Box<Ext>>,
        },
    }

    /// Adjacently tagged.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(tag = "k", content = "c")]
    pub enum Adj {
        /// A float.
        Num(f32),
        /// A list of points.
        Points(Vec<Point>),
        /// A unit.
        Off,
    }

    /// Untagged, in order: struct, bool, integer, text, null, list of optional points.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(untagged)]
    pub enum Loose {
        /// A point.
        P(Point),
        /// A flag.
        Flag(bool),
        /// An integer.
        Int(i64),
        /// Text.
        Text(String),
        /// Null.
        Nothing(()),
        /// Optional points.
        Mixed(Vec<Option<Point>>),
    }

    /// A newtype over a struct.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct Wrapper(pub Point);

    /// A newtype over a list.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct Names(pub Vec<String>);

    /// A newtype over a timestamp.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct Stamp(pub DateTime<Utc>);

    /// A newtype over an option.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct MaybeInt(pub Option<i32>);

    /// A unit enum.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum Level {
        /// Low.
        Low,
        /// Very high.
        VeryHigh,
    }

    /// Everything else.
    /// Its description has two lines.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct Edge {
        /// A nullable unit enum.
        pub level: Option<Level>,
        /// A list the caller may leave out.
        #[serde(default)]
        pub list: Vec<Point>,
        /// A map of lists of enums.
        pub map_of_lists: BTreeMap<String, Vec<Internal>>,
        /// Optional items.
        pub nested_opt: Vec<Option<Point>>,
        /// The unit value.
        pub nothing: (),
        /// Any JSON or nothing.
        pub any_opt: Option<serde_json::Value>,
        /// Small integers.
        pub small: i8,
        /// Unsigned 16 bits.
        pub word: u16,
        /// A dash in the wire name.
        #[serde(rename = "a-b")]
        pub dash: u32,
        /// Initialisms in the wire name.
        #[serde(rename = "HTTPServerURL")]
        pub http_server_url: String,
        /// The wire name "-".
        #[serde(rename = "-")]
        pub minus: bool,
        /// Externally tagged.
        pub ext: Ext,
        /// Untagged.
        pub loose: Loose,
        /// Adjacently tagged.
        pub adj: Adj,
        /// Internally tagged.
        pub internal: Internal,
        /// Newtype over a struct.
        pub wrapper: Wrapper,
        /// Newtype over a list.
        pub names: Names,
        /// Newtype over a timestamp.
        pub stamp: Stamp,
        /// Newtype over an option.
        pub maybe_int: MaybeInt,
        /// Recursion through a struct.
        pub next: Option<Box<Edge>>,
        /// Bytes: an array of numbers, not a base64 string.
        pub bytes: Vec<u8>,
        /// Lists of bytes.
        pub byte_lists: Vec<Vec<u8>>,
        /// A map of bytes.
        pub bytes_map: BTreeMap<String, Vec<u8>>,
        /// Bytes or null.
        pub opt_bytes: Option<Vec<u8>>,
    }

    async fn echo(_: Context<()>, e: Edge) -> Result<Edge, RpcError> {
        Ok(e)
    }
    async fn nothing(_: Context<()>, _: ()) -> Result<(), RpcError> {
        Ok(())
    }
    async fn optional(_: Context<()>, p: Option<Point>) -> Result<Option<Point>, RpcError> {
        Ok(p)
    }
    async fn list(_: Context<()>, p: Vec<Point>) -> Result<Vec<Point>, RpcError> {
        Ok(p)
    }
    async fn alias(_: Context<()>, _: Wrapper) -> Result<Names, RpcError> {
        Ok(Names(vec![]))
    }
    async fn stamp(_: Context<()>, s: Stamp) -> Result<Stamp, RpcError> {
        Ok(s)
    }

    pub fn router() -> Router<()> {
        Router::new(())
            .info("Edge Cases", "2.0.0-beta.1")
            .rpc("edge.echo", echo)
            .rpc("edge.nothing", nothing)
            .rpc("edge.optional", optional)
            .rpc("edge.list", list)
            .rpc("edge.alias", alias)
            .rpc("api.http_stamp", stamp)
    }

    fn point(x: i16, y: u8) -> Point {
        Point { x, y }
    }

    /// Values covering every variant.
    pub fn samples() -> Vec<Edge> {
        let base = Edge {
            level: None,
            list: vec![],
            map_of_lists: BTreeMap::new(),
            nested_opt: vec![],
            nothing: (),
            any_opt: None,
            small: i8::MIN,
            word: u16::MAX,
            dash: u32::MAX,
            http_server_url: "http://x".into(),
            minus: true,
            ext: Ext::Leaf,
            loose: Loose::P(point(1, 2)),
            adj: Adj::Num(1.5),
            internal: Internal::At(point(-3, 4)),
            wrapper: Wrapper(point(5, 6)),
            names: Names(vec!["a".into()]),
            stamp: Stamp("2030-01-02T03:04:05.5Z".parse().unwrap()),
            maybe_int: MaybeInt(None),
            next: None,
            bytes: vec![],
            byte_lists: vec![],
            bytes_map: BTreeMap::new(),
            opt_bytes: None,
        };
        let mut out = vec![base.clone()];
        let mut e = base.clone();
        e.level = Some(Level::VeryHigh);
        e.list = vec![point(i16::MIN, u8::MAX)];
        e.map_of_lists = BTreeMap::from([
            (
                "k".into(),
                vec![Internal::Nowhere, Internal::Small { a: 127, b: true }],
            ),
            ("".into(), vec![]),
        ]);
        e.nested_opt = vec![None, Some(point(0, 0))];
        e.any_opt = Some(serde_json::json!({"z": [1, null]}));
        e.ext = Ext::MaybeText(Some("t".into()));
        e.loose = Loose::Flag(false);
        e.adj = Adj::Points(vec![point(1, 1)]);
        e.internal = Internal::Nowhere;
        e.maybe_int = MaybeInt(Some(-7));
        e.next = Some(Box::new(base.clone()));
        e.bytes = vec![0, 1, 128, 255];
        e.byte_lists = vec![vec![], vec![255, 0]];
        e.bytes_map = BTreeMap::from([("k".into(), vec![7]), ("".into(), vec![])]);
        e.opt_bytes = Some(vec![]);
        out.push(e.clone());
        e.level = Some(Level::Low);
        e.ext = Ext::MaybeText(None);
        e.loose = Loose::Int(i64::MIN);
        e.adj = Adj::Off;
        e.internal = Internal::Small { a: -1, b: false };
        out.push(e.clone());
        e.ext = Ext::Node {
            child: Some(Box::new(Ext::Node { child: None })),
        };
        e.loose = Loose::Text("3".into());
        out.push(e.clone());
        e.loose = Loose::Nothing(());
        e.ext = Ext::Node {
            child: Some(Box::new(Ext::Leaf)),
        };
        out.push(e.clone());
        e.loose = Loose::Mixed(vec![None, Some(point(9, 9))]);
        out.push(e);
        out
    }
}

/// The Go side of `edge_constructs_read_and_write_exactly_as_serde`: each stdin line is
/// `{"type": "...", "json": ...}`; it decodes the JSON into that generated type, encodes it again
/// and prints the result (or `ERROR: …`) on one line.
const EDGE_HARNESS: &str = r#"package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	client "edgecasesclient"
)

func main() {
	types := map[string]func() any{
		"Edge":      func() any { return new(client.Edge) },
		"EdgeInput": func() any { return new(client.EdgeInput) },
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		var line struct {
			Type string          `json:"type"`
			JSON json.RawMessage `json:"json"`
		}
		if err := json.Unmarshal(in.Bytes(), &line); err != nil {
			fmt.Println("ERROR: bad line:", err)
			continue
		}
		v := types[line.Type]()
		if err := json.Unmarshal(line.JSON, v); err != nil {
			fmt.Println("ERROR: decode:", err)
			continue
		}
		out, err := json.Marshal(v)
		if err != nil {
			fmt.Println("ERROR: encode:", err)
			continue
		}
		fmt.Println(string(out))
	}
}
"#;

#[test]
fn edge_constructs_read_and_write_exactly_as_serde() {
    use centrpc::codegen;

    let document = centrpc::schema::document(&edge::router());
    let api = codegen::ir::read(&document).expect("the document reads");
    let rendered = codegen::Language::Go
        .render(&api, &Default::default())
        .expect("the Go client renders");
    let tmp = tempfile::tempdir().unwrap();
    let module = tmp.path().join("go");
    for file in &rendered {
        let path = module.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &file.contents).unwrap();
    }
    let types = std::fs::read_to_string(module.join("types.go")).unwrap();
    let client = std::fs::read_to_string(module.join("client.go")).unwrap();
    for expected in [
        "package edgecasesclient",
        "HTTPServerURL string `json:\"HTTPServerURL\"`",
        "AB uint32 `json:\"a-b\"`",
        "Field2D bool `json:\"-,\"`",
        "type Wrapper = Point",
        "type Names = List[string]",
        "Bytes Bytes `json:\"bytes\"`",
        "ByteLists List[Bytes] `json:\"byte_lists\"`",
        "BytesMap Map[string, Bytes] `json:\"bytes_map\"`",
        "OptBytes *Bytes `json:\"opt_bytes\"`",
        "type Stamp = time.Time",
        "type MaybeInt = *int32",
        "Next *Edge `json:\"next\"`",
        "List *List[Point] `json:\"list,omitempty\"`",
        "LevelVeryHigh Level = \"VERY_HIGH\"",
        "// Edge Everything else.\n// Its description has two lines.\ntype Edge struct",
    ] {
        assert!(
            types.contains(expected),
            "types.go lacks {expected:?}:\n{types}"
        );
    }
    for expected in [
        "func (c *APIClient) EdgeNothing(ctx context.Context) error {",
        "func (c *APIClient) EdgeOptional(ctx context.Context, params *Point) (*Point, error) {",
        "func (c *APIClient) EdgeList(ctx context.Context, params List[Point]) (List[Point], error) {",
        "func (c *APIClient) EdgeAlias(ctx context.Context, params Wrapper) (*Names, error) {",
        "func (c *APIClient) APIHTTPStamp(ctx context.Context, params Stamp) (*Stamp, error) {",
    ] {
        assert!(client.contains(expected), "client.go lacks {expected:?}");
    }
    let gofmt = Command::new("gofmt")
        .arg("-l")
        .arg(".")
        .current_dir(&module)
        .output()
        .unwrap();
    assert!(
        gofmt.status.success() && gofmt.stdout.is_empty(),
        "not gofmt-clean: {}{}",
        String::from_utf8_lossy(&gofmt.stdout),
        String::from_utf8_lossy(&gofmt.stderr)
    );
    assert_ok("go vet ./...", &go(&module, &["vet", "./..."]));

    let harness = tmp.path().join("harness");
    std::fs::create_dir(&harness).unwrap();
    std::fs::write(harness.join("main.go"), EDGE_HARNESS).unwrap();
    let go_mod = std::fs::read_to_string(module.join("go.mod"))
        .unwrap()
        .replace("module edgecasesclient", "module harness")
        .replace(
            "require github.com/centrifugal/centrifuge-go v0.12.1",
            "require (\n\tedgecasesclient v0.0.0\n\tgithub.com/centrifugal/centrifuge-go v0.12.1\n)",
        );
    std::fs::write(
        harness.join("go.mod"),
        format!(
            "{go_mod}\nreplace edgecasesclient => {}\n",
            module.display()
        ),
    )
    .unwrap();
    std::fs::copy(module.join("go.sum"), harness.join("go.sum")).unwrap();
    let built = harness.join("harness");
    assert_ok(
        "go build (harness)",
        &go(&harness, &["build", "-o", built.to_str().unwrap(), "."]),
    );

    let samples = edge::samples();
    let mut input = String::new();
    for ty in ["Edge", "EdgeInput"] {
        for s in &samples {
            input.push_str(&serde_json::json!({"type": ty, "json": s}).to_string());
            input.push('\n');
        }
    }
    let mut child = Command::new(&built)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), samples.len() * 2, "{stdout}");
    for (i, line) in lines.iter().enumerate() {
        let sent = &samples[i % samples.len()];
        let back: edge::Edge = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "serde cannot read what Go wrote ({e}):\nsent {}\nGo   {line}",
                serde_json::to_string(sent).unwrap()
            )
        });
        assert_eq!(
            &back,
            sent,
            "Go changed the value:\nsent {}\nGo   {line}",
            serde_json::to_string(sent).unwrap()
        );
    }
}

#[test]
fn a_custom_module_path_builds_and_bad_ones_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(example_bin())
        .args([
            "generate",
            "--go",
            "--go-module",
            "example.com/acme/tasks-api/v2",
            "--output",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_ok("generate --go-module", &output);
    let module = tmp.path().join("go");
    let go_mod = std::fs::read_to_string(module.join("go.mod")).unwrap();
    assert!(
        go_mod.contains("\nmodule example.com/acme/tasks-api/v2\n"),
        "{go_mod}"
    );
    let client = std::fs::read_to_string(module.join("client.go")).unwrap();
    assert!(client.contains("\npackage tasksapi\n"), "{client}");
    assert_ok("go vet ./...", &go(&module, &["vet", "./..."]));
    assert_ok("go build ./...", &go(&module, &["build", "./..."]));
    assert_ok("go mod tidy -diff", &go(&module, &["mod", "tidy", "-diff"]));

    let output = Command::new(example_bin())
        .args([
            "generate",
            "--go",
            "--go-module",
            "example.com//tasks",
            "--output",
        ])
        .arg(tmp.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "invalid --go-module \"example.com//tasks\": a module path has no empty elements"
        ),
        "{stderr}"
    );
    assert!(!tmp.path().join("bad").exists(), "nothing is written");
}
