//! End to end through the real Centrifugo 6.9.1, with the official SDKs (centrifuge-python,
//! centrifuge-js on Node with `ws`, centrifuge-go) over WebSocket and real JWTs. Every scenario
//! runs through all three SDKs and must give the same outcome.

mod common;

use common::stack::{drive, Options, Sdk, Stack, Transport, ALL_SDKS};
use serde_json::{json, Value};

/// The results of a report, asserting the connection came up.
fn results(sdk: Sdk, report: &Value) -> Vec<Value> {
    assert_eq!(
        report["connected"], true,
        "{sdk:?} did not connect: {report}"
    );
    report["results"].as_array().unwrap().clone()
}

fn error_of(v: &Value) -> (i64, String, bool) {
    let e = v
        .get("error")
        .unwrap_or_else(|| panic!("expected an error, got {v}"));
    (
        e["code"].as_i64().unwrap(),
        e["message"].as_str().unwrap().to_owned(),
        e["temporary"].as_bool().unwrap_or(false),
    )
}

#[test]
fn rpc_results_and_app_errors_reach_every_sdk_unchanged() {
    let stack = Stack::start(Options::default());
    for sdk in ALL_SDKS {
        let token = stack.token("42", Some(json!({"plan": "pro"})));
        let report = drive(sdk, &stack.script(&token, json!([
            {"op": "rpc", "method": "tasks.create", "data": {"title": format!("from {sdk:?}")}},
            {"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": "nobody"}},
            {"op": "rpc", "method": "tasks.fail", "data": {"kind": "app"}},
            {"op": "rpc", "method": "tasks.fail", "data": {"kind": "temporary"}},
            {"op": "rpc", "method": "tasks.fail", "data": {"kind": "panic"}},
            {"op": "rpc", "method": "tasks.missing", "data": {}},
            {"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": 42}},
            {"op": "rpc", "method": "system.whoami", "data": null},
        ])));
        let r = results(sdk, &report);
        let task = &r[0]["ok"];
        assert_eq!(
            (
                task["title"].as_str(),
                task["owner"].as_str(),
                &task["done"]
            ),
            (Some(&*format!("from {sdk:?}")), Some("42"), &json!(false)),
            "{sdk:?}: {report}"
        );
        assert_eq!(r[1]["ok"], json!({"total": 0, "completed": 0}), "{sdk:?}");
        assert_eq!(
            error_of(&r[2]),
            (1500, "demo failure".into(), false),
            "{sdk:?}"
        );
        assert_eq!(
            error_of(&r[3]),
            (1500, "demo failure, try again".into(), true),
            "{sdk:?}"
        );
        assert_eq!(
            error_of(&r[4]),
            (500, "internal error".into(), false),
            "{sdk:?}"
        );
        assert_eq!(
            error_of(&r[5]),
            (404, "method not found: \"tasks.missing\"".into(), false),
            "{sdk:?}"
        );
        let (code, message, _) = error_of(&r[6]);
        assert_eq!(code, 422, "{sdk:?}");
        assert!(
            message.starts_with(
                "invalid params: user_id: invalid type: integer `42`, expected a string"
            ),
            "{sdk:?}: {message}"
        );
        let who = &r[7]["ok"];
        assert_eq!(
            (
                who["user"].as_str(),
                who["transport"].as_str(),
                &who["meta"]
            ),
            (Some("42"), Some("websocket"), &json!({"plan": "pro"})),
            "{sdk:?}: {who}"
        );
    }
    let stats = drive(
        Sdk::Python,
        &stack.script(
            &stack.token("42", None),
            json!([{"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": "42"}}]),
        ),
    );
    assert_eq!(
        results(Sdk::Python, &stats)[0]["ok"],
        json!({"total": ALL_SDKS.len(), "completed": 0}),
        "one task per SDK"
    );
}

#[test]
fn a_handler_slower_than_centrifugo_gets_100_and_is_cancelled() {
    let stack = Stack::start(Options {
        call_timeout: "10s",
        proxy_timeout: Some("400ms"),
        ..Options::default()
    });
    for sdk in ALL_SDKS {
        let report = drive(
            sdk,
            &stack.script(
                &stack.token("42", None),
                json!([
                    {"op": "rpc", "method": "tasks.slow", "data": {"ms": 3000}},
                    {"op": "rpc", "method": "tasks.slow", "data": {"ms": 10}},
                ]),
            ),
        );
        let r = results(sdk, &report);
        let (code, _, temporary) = error_of(&r[0]);
        assert_eq!(
            (code, temporary),
            (100, true),
            "{sdk:?}: Centrifugo's own timeout is an opaque 100: {report}"
        );
        assert_eq!(
            r[1]["ok"],
            json!({"slept_ms": 10}),
            "{sdk:?}: the connection is still usable"
        );
    }
    let metrics = stack.metrics();
    let count = |outcome: &str| {
        let prefix = format!(
            r#"centrpc_calls_total{{kind="rpc",method="tasks.slow",outcome="{outcome}"}} "#
        );
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.parse::<usize>().unwrap())
    };
    assert_eq!(
        count("timed_out") + count("cancelled"),
        ALL_SDKS.len(),
        "centrpc stopped each slow call at Centrifugo's deadline:\n{metrics}"
    );
    assert!(metrics.contains("centrpc_in_flight_calls 0"), "{metrics}");
}

#[test]
fn call_timeout_below_centrifugo_timeout_gives_an_in_band_504() {
    let stack = Stack::start(Options {
        call_timeout: "300ms",
        proxy_timeout: Some("3s"),
        ..Options::default()
    });
    for sdk in ALL_SDKS {
        let report = drive(
            sdk,
            &stack.script(
                &stack.token("42", None),
                json!([
                    {"op": "rpc", "method": "tasks.slow", "data": {"ms": 3000}},
                ]),
            ),
        );
        assert_eq!(
            error_of(&results(sdk, &report)[0]),
            (504, "timed out".into(), true),
            "{sdk:?}: {report}"
        );
    }
}

#[test]
fn a_disconnect_outcome_closes_the_client_connection() {
    let stack = Stack::start(Options::default());
    for sdk in ALL_SDKS {
        let report = drive(
            sdk,
            &stack.script(
                &stack.token("42", None),
                json!([
                    {"op": "rpc", "method": "tasks.fail", "data": {"kind": "disconnect"}},
                ]),
            ),
        );
        assert_eq!(report["connected"], true);
        assert_eq!(
            report["disconnects"],
            json!([{"code": 4501, "reason": "demo disconnect"}]),
            "{sdk:?}: {report}"
        );
    }
}

#[test]
fn connect_hook_logs_in_and_refuses() {
    let stack = Stack::start(Options::default());
    let whoami = json!([{"op": "rpc", "method": "system.whoami", "data": null}]);
    for sdk in ALL_SDKS {
        let mut script = stack.script("", whoami.clone());
        script["connect_data"] = json!({"user": "alice", "password": "centrpc"});
        let report = drive(sdk, &script);
        let who = &results(sdk, &report)[0]["ok"];
        assert_eq!(who["user"], "alice", "{sdk:?}: {report}");
        assert_eq!(
            who["meta"],
            json!({"login": "connect-hook"}),
            "connect meta reaches handlers"
        );

        script["connect_data"] = json!({"user": "alice", "password": "wrong"});
        let report = drive(sdk, &script);
        assert_eq!(report["connected"], false, "{sdk:?}: {report}");
        assert_eq!(
            report["disconnects"][0],
            json!({"code": 4503, "reason": "invalid credentials"}),
            "{sdk:?}: {report}"
        );

        let mut script = stack.script("", whoami.clone());
        script["headers"] = json!({"authorization": "Demo bob:centrpc"});
        let report = drive(sdk, &script);
        assert_eq!(
            results(sdk, &report)[0]["ok"]["user"],
            "bob",
            "{sdk:?}: login from a forwarded header: {report}"
        );
    }
}

#[test]
fn subscribe_rules_publish_validation_and_server_publishing() {
    let stack = Stack::start(Options::default());
    for sdk in ALL_SDKS {
        let room = format!("chat:{sdk:?}");
        let report = drive(
            sdk,
            &stack.script(
                &stack.token("42", None),
                json!([
                    {"op": "subscribe", "channel": "tasks:42"},
                    {"op": "subscribe", "channel": "tasks:7"},
                    {"op": "subscribe", "channel": room},
                    {"op": "publish", "channel": room, "data": {"text": "  hello  "}},
                    {"op": "publish", "channel": room, "data": {"text": ""}},
                    {"op": "publish", "channel": room, "data": {"body": "no text"}},
                    {"op": "wait_publications", "channel": room, "count": 1},
                    {"op": "subscribe", "channel": "#42"},
                    {"op": "rpc", "method": "tasks.process", "data": {"steps": 3}},
                    {"op": "wait_publications", "channel": "#42", "count": 3},
                ]),
            ),
        );
        let r = results(sdk, &report);
        assert_eq!(r[0], json!({"ok": true}), "{sdk:?}: own channel allowed");
        assert_eq!(
            error_of(&r[1]).0,
            1403,
            "{sdk:?}: other user's channel refused: {report}"
        );
        assert_eq!(r[2], json!({"ok": true}), "{sdk:?}");
        assert_eq!(r[3], json!({"ok": true}), "{sdk:?}");
        assert_eq!(
            error_of(&r[4]),
            (1422, "text must be 1 to 500 characters".into(), false),
            "{sdk:?}"
        );
        assert_eq!(
            error_of(&r[5]).0,
            422,
            "{sdk:?}: publication data that does not fit the type"
        );
        assert_eq!(
            r[6]["ok"],
            json!([{"text": "hello", "from": "42"}]),
            "{sdk:?}: the hook's rewrite is what subscribers get"
        );
        assert_eq!(r[8]["ok"]["channel"], "#42", "{sdk:?}: {report}");
        assert_eq!(
            r[9]["ok"],
            json!([{"step":1,"of":3},{"step":2,"of":3},{"step":3,"of":3}]),
            "{sdk:?}: {report}"
        );
    }
}

#[test]
fn subscription_streams_reach_every_sdk_in_order_with_their_endings() {
    let mut stack = Stack::start(Options::default());
    for sdk in ALL_SDKS {
        let tally = format!("tally:{sdk:?}");
        let report = drive(
            sdk,
            &stack.script(
                &stack.token("42", None),
                json!([
                    {"op": "subscribe", "channel": "watch:count", "data": {"from": 7, "count": 20}},
                    {"op": "wait_publications", "channel": "watch:count", "count": 20},
                    {"op": "wait_unsubscribed", "channel": "watch:count"},
                    {"op": "unsubscribe", "channel": "watch:count"},
                    {"op": "subscribe", "channel": "watch:count", "data": {"count": "twenty"}},
                    {"op": "unsubscribe", "channel": "watch:count"},
                    {"op": "subscribe", "channel": tally, "data": {"start": 100}},
                    {"op": "publish", "channel": tally, "data": {"add": 5}},
                    {"op": "publish", "channel": tally, "data": {"add": "x"}},
                    {"op": "publish", "channel": tally, "data": {"add": -1}},
                    {"op": "wait_publications", "channel": tally, "count": 3},
                    {"op": "unsubscribe", "channel": tally},
                ]),
            ),
        );
        let r = results(sdk, &report);
        let want: Vec<Value> = (7..27).map(|n| json!({"n": n, "user": "42"})).collect();
        assert_eq!(
            r[1]["ok"],
            json!(want),
            "{sdk:?}: every item, in order: {report}"
        );
        assert_eq!(
            r[2]["ok"]["code"], 2000,
            "{sdk:?}: a stream that ends unsubscribes the client for good: {report}"
        );
        let (code, message, _) = error_of(&r[4]);
        assert_eq!(code, 422, "{sdk:?}: {report}");
        assert!(message.contains("count"), "{sdk:?}: {message}");
        assert_eq!(
            r[10]["ok"],
            json!([
                {"total": 105, "adds": 1, "refused": 0},
                {"total": 105, "adds": 1, "refused": 1},
                {"total": 104, "adds": 2, "refused": 1},
            ]),
            "{sdk:?}: the subscriber's publications reach the stream typed: {report}"
        );
    }
    // Every stream the SDKs opened was closed when they left: none is open.
    let metrics = stack.metrics();
    assert!(
        metrics.contains(r#"centrpc_streams_active{stream="tally:*"} 0"#),
        "{metrics}"
    );
    // A stream ended by a centrpc or a Centrifugo restart is resubscribed by the SDK by itself.
    let open = r#"centrpc_streams_active{stream="watch:tasks"} 1"#;
    for sdk in ALL_SDKS {
        let mut script = stack.script(
            &stack.token("42", None),
            json!([
                {"op": "subscribe", "channel": "watch:tasks", "data": {}},
                {"op": "wait_resubscribed", "channel": "watch:tasks"},
                {"op": "wait_resubscribed", "channel": "watch:tasks"},
            ]),
        );
        script["timeout"] = json!(30.0);
        let child = common::stack::start_driver(sdk, &script);
        // Waits until the stream is open on centrpc (at most 30 s, so a bug fails, not hangs).
        let opened = |stack: &Stack| {
            (0..300).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(100));
                stack.metrics().contains(open)
            })
        };
        assert!(opened(&stack), "{sdk:?} never opened the stream");
        // A graceful centrpc restart, then Centrifugo dying and coming back: each time the SDK
        // subscribes again by itself and the stream opens again.
        assert!(stack.stop_app().success());
        stack.restart_app();
        assert!(
            opened(&stack),
            "{sdk:?} did not reopen the stream after centrpc's restart"
        );
        stack.kill_centrifugo();
        stack.restart_centrifugo();
        let report = common::stack::finish_driver(sdk, child);
        let r = results(sdk, &report);
        assert_eq!(r[1], json!({"ok": true}), "{sdk:?}: {report}");
        assert_eq!(
            r[2],
            json!({"ok": true}),
            "{sdk:?} after Centrifugo's restart: {report}"
        );
    }
}

#[test]
fn many_concurrent_calls_from_many_clients_each_get_their_own_reply() {
    let stack = Stack::start(Options::default());
    for sdk in ALL_SDKS {
        let report = drive(
            sdk,
            &stack.script(
                &stack.token("42", None),
                json!([
                    {"op": "rpc_many", "method": "system.echo", "clients": 8, "calls": 40},
                ]),
            ),
        );
        let r = results(sdk, &report);
        assert_eq!(
            r[0]["ok"],
            json!({"matched": 320, "mismatched": 0, "errors": []}),
            "{sdk:?}: {report}"
        );
    }
}

#[test]
fn centrifugo_must_authenticate_to_centrpc() {
    let refused = Stack::start(Options {
        centrifugo_sends_credentials: false,
        ..Options::default()
    });
    let report = drive(
        Sdk::Python,
        &refused.script(
            &refused.token("42", None),
            json!([
                {"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": "42"}},
            ]),
        ),
    );
    let (code, _, temporary) = error_of(&results(Sdk::Python, &report)[0]);
    assert_eq!(
        (code, temporary),
        (100, true),
        "an unauthenticated proxy call never runs: {report}"
    );
    let metrics = refused.metrics();
    assert!(
        metrics.contains("centrpc_auth_failures_total 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains(common::stack::AUTH_VALUE),
        "the secret never appears in metrics"
    );
    assert!(
        !refused.logs().contains(common::stack::AUTH_VALUE),
        "the secret never appears in logs"
    );
}

fn get_stats_works(stack: &Stack) -> Value {
    drive(
        Sdk::Python,
        &stack.script(
            &stack.token("42", None),
            json!([
                {"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": "42"}},
            ]),
        ),
    )
}

#[test]
fn tls_and_mtls_between_centrifugo_and_centrpc() {
    for transport in [Transport::Tls, Transport::Mtls] {
        let stack = Stack::start(Options {
            transport,
            ..Options::default()
        });
        let report = get_stats_works(&stack);
        assert_eq!(
            results(Sdk::Python, &report)[0]["ok"],
            json!({"total": 0, "completed": 0}),
            "{transport:?}: {report}\n{}",
            stack.logs()
        );
    }
    let no_client_cert = Stack::start(Options {
        transport: Transport::Mtls,
        centrifugo_presents_cert: false,
        ..Options::default()
    });
    let report = get_stats_works(&no_client_cert);
    assert_eq!(
        error_of(&results(Sdk::Python, &report)[0]).0,
        100,
        "mTLS refuses a Centrifugo without a client certificate: {report}"
    );
}

#[test]
fn the_per_user_rate_limit_reaches_every_sdk_as_a_temporary_429() {
    // The example limits `tasks.create` to 60 per minute per user, in bursts of 60 (one token
    // back per second): 60 quick creates pass, the next ones are refused with a retry hint.
    let stack = Stack::start(Options::default());
    for sdk in ALL_SDKS {
        let user = format!("creator-{sdk:?}");
        let token = stack.token(&user, None);
        let ops: Vec<Value> = (0..70)
            .map(|i| json!({"op": "rpc", "method": "tasks.create", "data": {"title": format!("t{i}")}}))
            .collect();
        let report = drive(sdk, &stack.script(&token, json!(ops)));
        let r = results(sdk, &report);
        assert!(
            r[..60].iter().all(|v| v.get("ok").is_some()),
            "{sdk:?}: {report}"
        );
        let refused: Vec<_> = r[60..]
            .iter()
            .filter(|v| v.get("error").is_some())
            .collect();
        assert!(
            !refused.is_empty(),
            "{sdk:?}: nothing was limited: {report}"
        );
        for e in refused {
            let (code, message, temporary) = error_of(e);
            assert_eq!((code, temporary), (429, true), "{sdk:?}: {e}");
            assert!(
                message.starts_with("rate limit exceeded, retry after "),
                "{sdk:?}: {message}"
            );
        }
    }
}
