//! `my-app call` against the real example app and Centrifugo 6.9.1: direct gRPC with the proxy
//! credentials and TLS/mTLS settings of `serve` (the same environment), `--via-centrifugo` over
//! WebSocket with a self-minted token, and every error path with its documented exit code:
//! 0 result, 1 the method's error, 2 usage, 3 refused before sending, 4 unreachable, 5 refused
//! credentials.

mod common;

use std::{
    io::Write,
    process::{Command, Stdio},
};

use common::stack::{example_bin, free_port, Options, Stack, Transport};
use serde_json::{json, Value};

/// What one `call` printed and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `tasks call ARGS` with `env` (and nothing of the caller's CENTRPC_* settings).
fn call(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Run {
    command("call", env, args, stdin)
}

/// Runs `tasks SUBCOMMAND ARGS` with `env` (and nothing of the caller's CENTRPC_* settings).
fn command(subcommand: &str, env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(example_bin());
    cmd.arg(subcommand).args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CENTRPC_")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().cloned());
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn without(env: &[(String, String)], keys: &[&str]) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .cloned()
        .collect()
}

fn with(env: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut env = without(env, &[key]);
    env.push((key.into(), value.into()));
    env
}

#[test]
fn list_and_example_need_no_server_and_every_example_passes_the_check() {
    let list = call(&[], &["--list"], None);
    assert_eq!(list.code, 0, "{list:?}");
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("tasks.get_stats")
                && l.ends_with("Get task statistics for a user.")),
        "{list:?}"
    );
    let names: Vec<&str> = list
        .stdout
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert!(
        names.len() >= 9 && names.contains(&"types.roundtrip"),
        "{names:?}"
    );

    let example = call(&[], &["tasks.get_stats", "--example"], None);
    assert_eq!(example.code, 0, "{example:?}");
    assert_eq!(example.json(), json!({"user_id": "string"}));

    // Every example fits its method: the check passes, so the call gets as far as dialling a
    // port nobody listens on (exit 4), never "refused before sending" (exit 3).
    let nobody = [(
        "CENTRPC_LISTEN".to_owned(),
        format!("127.0.0.1:{}", free_port()),
    )];
    for name in names {
        let example = call(&[], &[name, "--example"], None);
        assert_eq!(example.code, 0, "{name}: {example:?}");
        let run = call(&nobody, &[name, "-d", example.stdout.trim()], None);
        assert_eq!(
            run.code, 4,
            "{name} with its example {}: {run:?}",
            example.stdout
        );
    }

    let unknown = call(&[], &["tasks.nope", "--example"], None);
    assert_eq!(unknown.code, 3, "{unknown:?}");
    assert!(
        unknown.stderr.contains("no method \"tasks.nope\""),
        "{unknown:?}"
    );
}

#[test]
fn direct_calls_with_the_serve_environment() {
    let stack = Stack::start(Options::default());
    let env = stack.env();

    let ok = call(env, &["tasks.get_stats", r#"{"user_id":"42"}"#], None);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json(), json!({"total": 0, "completed": 0}));
    assert!(ok.stdout.contains("\n  \"total\""), "pretty JSON: {ok:?}");

    // -d @file and -d @-
    let file = stack.dir.path().join("params.json");
    std::fs::write(&file, r#"{"title":"from a file"}"#).unwrap();
    let created = call(
        env,
        &[
            "tasks.create",
            "-d",
            &format!("@{}", file.display()),
            "--user",
            "ann",
        ],
        None,
    );
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(created.json()["title"], "from a file");
    assert_eq!(created.json()["owner"], "ann", "--user reaches the handler");
    let stdin = call(
        env,
        &["tasks.get_stats", "-d", "@-"],
        Some(r#"{"user_id":"ann"}"#),
    );
    assert_eq!(stdin.code, 0, "{stdin:?}");
    assert_eq!(stdin.json()["total"], 1);

    // user, client, transport and meta come from flags.
    let who = call(
        env,
        &[
            "system.whoami",
            "--user",
            "u7",
            "--client",
            "c1",
            "--transport",
            "http_stream",
            "--meta",
            r#"{"plan":"pro"}"#,
        ],
        None,
    );
    assert_eq!(who.code, 0, "{who:?}");
    let who = who.json();
    assert_eq!(
        (&who["user"], &who["client"], &who["transport"]),
        (&json!("u7"), &json!("c1"), &json!("http_stream"))
    );
    assert_eq!(who["meta"], json!({"plan": "pro"}));

    // The method's own error: printed with code, message and temporary; exit 1.
    let missing = call(env, &["tasks.complete", r#"{"id":999}"#], None);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert_eq!(
        missing.json(),
        json!({"error": {"code": 1004, "message": "task not found", "temporary": false}})
    );
    assert!(
        missing
            .stderr
            .contains("error 1004 TASK_NOT_FOUND: task not found"),
        "{missing:?}"
    );
}

#[test]
fn params_are_checked_before_sending_with_the_servers_message() {
    let stack = Stack::start(Options::default());
    let env = stack.env();
    let cases = [
        (
            r#"{"user_id":42}"#,
            "tasks.get_stats",
            422,
            "user_id: invalid type: integer `42`, expected a string",
        ),
        (r#"{}"#, "tasks.get_stats", 422, "missing field `user_id`"),
        (r#"{"user_id":"1"} trailing"#, "tasks.get_stats", 400, ""),
        (
            r#"{"title":5}"#,
            "tasks.create",
            422,
            "title: invalid type: integer `5`",
        ),
    ];
    for (params, method, code, message) in cases {
        let local = call(env, &[method, params], None);
        assert_eq!(local.code, 3, "{params}: {local:?}");
        assert_eq!(local.json()["error"]["code"], code, "{params}: {local:?}");
        let local_message = local.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(local_message.contains(message), "{params}: {local:?}");
        assert!(local.stderr.contains("--no-check"), "{local:?}");

        // --no-check sends it anyway, and the server says exactly the same.
        let remote = call(env, &[method, params, "--no-check"], None);
        assert_eq!(remote.code, 1, "{params}: {remote:?}");
        assert_eq!(
            remote.json(),
            local.json(),
            "{params}: the local check matches the server"
        );
    }
    // A nested path, from the schema-built example of the every-construct method.
    let mut everything = call(env, &["types.roundtrip", "--example"], None).json();
    everything["items"][0]["label"] = json!(5);
    let nested = call(env, &["types.roundtrip", &everything.to_string()], None);
    assert_eq!(nested.code, 3, "{nested:?}");
    assert!(
        nested.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("items[0].label: invalid type"),
        "{nested:?}"
    );
    let remote = call(
        env,
        &["types.roundtrip", &everything.to_string(), "--no-check"],
        None,
    );
    assert_eq!(remote.json(), nested.json());
    assert_eq!(
        stack
            .rpc_outcomes("tasks.get_stats")
            .get("invalid_params")
            .copied(),
        Some(2),
        "only the --no-check calls reached the server"
    );

    // An unknown method is refused before sending; with --no-check the server answers 404.
    let unknown = call(env, &["tasks.get_stat", "{}"], None);
    assert_eq!(unknown.code, 3, "{unknown:?}");
    assert!(
        unknown.stderr.contains("did you mean tasks.get_stats"),
        "{unknown:?}"
    );
    let sent = call(env, &["tasks.get_stat", "{}", "--no-check"], None);
    assert_eq!(sent.code, 1, "{sent:?}");
    assert_eq!(sent.json()["error"]["code"], 404);
}

#[test]
fn unreachable_backends_wrong_credentials_and_usage_errors() {
    let stack = Stack::start(Options::default());
    let env = stack.env();

    let nobody = with(env, "CENTRPC_LISTEN", &format!("127.0.0.1:{}", free_port()));
    let down = call(&nobody, &["tasks.get_stats", r#"{"user_id":"1"}"#], None);
    assert_eq!(down.code, 4, "{down:?}");
    assert!(
        down.stderr.contains("cannot connect to the backend"),
        "{down:?}"
    );

    let wrong = with(env, "CENTRPC_AUTH_VALUE", "not-the-secret");
    let refused = call(&wrong, &["tasks.get_stats", r#"{"user_id":"1"}"#], None);
    assert_eq!(refused.code, 5, "{refused:?}");
    assert!(
        refused.stderr.contains("refused the proxy credentials"),
        "{refused:?}"
    );
    let none = without(env, &["CENTRPC_AUTH_KEY", "CENTRPC_AUTH_VALUE"]);
    assert_eq!(
        call(&none, &["tasks.get_stats", r#"{"user_id":"1"}"#], None).code,
        5
    );

    let unreadable = call(
        env,
        &["tasks.get_stats", "-d", "@/nonexistent/params.json"],
        None,
    );
    assert_eq!(unreadable.code, 2, "{unreadable:?}");
    assert!(
        unreadable.stderr.contains("cannot read the params file"),
        "{unreadable:?}"
    );
    assert_eq!(call(env, &[], None).code, 2, "METHOD is required");
    let both = call(env, &["tasks.get_stats", "{}", "-d", "{}"], None);
    assert_eq!(both.code, 2, "{both:?}");
    let no_secret = without(env, &["CENTRPC_HMAC_SECRET"]);
    let r = call(
        &no_secret,
        &["tasks.get_stats", r#"{"user_id":"1"}"#, "--via-centrifugo"],
        None,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--hmac-secret"), "{r:?}");
}

#[test]
fn tls_and_mtls_with_the_serve_environment() {
    for transport in [Transport::Tls, Transport::Mtls] {
        let stack = Stack::start(Options {
            transport,
            ..Options::default()
        });
        let env = stack.env();
        let ok = call(env, &["tasks.get_stats", r#"{"user_id":"1"}"#], None);
        assert_eq!(ok.code, 0, "{transport:?}: {ok:?}");
        assert_eq!(ok.json(), json!({"total": 0, "completed": 0}));

        // The server serves TLS but no CA is given: a usage error naming the flag.
        let no_ca = without(env, &["CENTRPC_PROXY_TLS_CA"]);
        let r = call(&no_ca, &["tasks.get_stats", r#"{"user_id":"1"}"#], None);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("--proxy-tls-ca"), "{r:?}");

        // A CA that did not sign the server's certificate: the handshake fails, exit 4.
        let other = stack.dir.path().join("other-ca.pem");
        std::fs::copy(
            env.iter()
                .find(|(k, _)| k == "CENTRPC_TLS_CERT")
                .unwrap()
                .1
                .clone(),
            &other,
        )
        .unwrap();
        let untrusted = with(env, "CENTRPC_PROXY_TLS_CA", &other.display().to_string());
        let r = call(
            &untrusted,
            &[
                "tasks.get_stats",
                r#"{"user_id":"1"}"#,
                "--proxy-tls-server-name",
                "not-localhost",
            ],
            None,
        );
        assert_eq!(r.code, 4, "{transport:?}: {r:?}");

        if transport == Transport::Mtls {
            // No client certificate: the server drops the connection after the client's TLS 1.3
            // handshake, which the client sees as a transport failure (whether or not the alert
            // arrives first).
            let anonymous = without(env, &["CENTRPC_PROXY_TLS_CERT", "CENTRPC_PROXY_TLS_KEY"]);
            let r = call(&anonymous, &["tasks.get_stats", r#"{"user_id":"1"}"#], None);
            assert_eq!(r.code, 4, "{r:?}");
        }
    }
}

#[test]
fn via_centrifugo_with_a_self_minted_token() {
    let stack = Stack::start(Options::default());
    let env = stack.env();
    let via = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--via-centrifugo");
        call(env, &all, None)
    };

    let who = via(&[
        "system.whoami",
        "--user",
        "alice",
        "--meta",
        r#"{"plan":"pro"}"#,
    ]);
    assert_eq!(who.code, 0, "{who:?}\n{}", stack.logs());
    let who = who.json();
    assert_eq!(
        who["user"], "alice",
        "the token's user, as Centrifugo authenticated it"
    );
    assert_eq!(who["transport"], "websocket");
    assert_eq!(
        who["meta"],
        json!({"plan": "pro"}),
        "meta travels in the token"
    );
    assert_ne!(who["client"], "centrpc-call", "Centrifugo's own client ID");

    let ok = via(&["tasks.get_stats", r#"{"user_id":"42"}"#]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json(), json!({"total": 0, "completed": 0}));

    let missing = via(&["tasks.complete", r#"{"id":999}"#]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert_eq!(
        missing.json(),
        json!({"error": {"code": 1004, "message": "task not found", "temporary": false}})
    );
    let invalid = via(&["tasks.get_stats", r#"{"user_id":42}"#, "--no-check"]);
    assert_eq!(invalid.code, 1, "{invalid:?}");
    assert_eq!(invalid.json()["error"]["code"], 422);
    // A method that ends the call with a disconnect: exit 1, the disconnect on stdout, directly
    // and through Centrifugo alike.
    for r in [
        via(&["tasks.fail", r#"{"kind":"disconnect"}"#]),
        call(env, &["tasks.fail", r#"{"kind":"disconnect"}"#], None),
    ] {
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(
            r.json(),
            json!({"disconnect": {"code": 4501, "reason": "demo disconnect"}})
        );
    }

    let wrong = with(env, "CENTRPC_HMAC_SECRET", "not-the-secret");
    let refused = call(
        &wrong,
        &["tasks.get_stats", r#"{"user_id":"1"}"#, "--via-centrifugo"],
        None,
    );
    assert_eq!(refused.code, 5, "{refused:?}");

    let nobody = with(env, "CENTRPC_CENTRIFUGO_PORT", &free_port().to_string());
    let down = call(
        &nobody,
        &["tasks.get_stats", r#"{"user_id":"1"}"#, "--via-centrifugo"],
        None,
    );
    assert_eq!(down.code, 4, "{down:?}");
}

#[test]
fn subscribe_prints_typed_publications_as_json_lines() {
    let stack = Stack::start(Options::default());
    let env = stack.env();
    let subscribe = |args: &[&str]| command("subscribe", env, args, None);

    // A stream that ends by itself: every item, one JSON line each, then exit 0.
    let count = subscribe(&["watch:count", r#"{"from": 3, "count": 4}"#, "--user", "bob"]);
    assert_eq!(count.code, 0, "{count:?}\n{}", stack.logs());
    let lines: Vec<Value> = count
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: Vec<Value> = (3..7).map(|n| json!({"n": n, "user": "bob"})).collect();
    assert_eq!(lines, want);
    assert!(count.stderr.contains("2000"), "{count:?}");

    // Subscribe data that does not fit the stream's params: refused before sending (exit 3),
    // or by the server with --no-check (exit 1, the error as JSON).
    let bad = subscribe(&["watch:count", r#"{"count": "x"}"#]);
    assert_eq!(bad.code, 3, "{bad:?}");
    assert!(bad.stderr.contains("count"), "{bad:?}");
    let refused = subscribe(&["watch:count", r#"{"count": 20000000}"#, "--no-check"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert_eq!(refused.json()["error"]["code"], 422);

    // --count ends a stream that would go on: a bidi stream answers nothing until published
    // to, so use the personal channel with a call that publishes into it.
    let mut child = Command::new(example_bin())
        .args(["subscribe", "#carol", "--user", "carol", "--count", "3"])
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Publish until the subscription has seen three steps (it may start after the first).
    let mut out = None;
    for _ in 0..50 {
        let run = call(
            env,
            &[
                "tasks.process",
                r#"{"steps": 3}"#,
                "--via-centrifugo",
                "--user",
                "carol",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        if let Some(status) = child.try_wait().unwrap() {
            out = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        out.is_some_and(|s| s.success()),
        "subscribe --count 3 did not finish"
    );
    let output = child.wait_with_output().unwrap();
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["of"] == 3), "{lines:?}");
}
