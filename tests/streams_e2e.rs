//! Subscription streams end to end: the example app behind the real Centrifugo 6.9.1, driven by
//! the official centrifuge-python SDK (`e2e/python/streams.py`): 200 concurrent bidirectional
//! streams from 10 clients with nothing lost or crossed, SDKs resubscribing by themselves after a
//! centrpc restart and a Centrifugo restart, a subscriber that stops reading, and open streams
//! across network faults between Centrifugo and centrpc (through toxiproxy).

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::Duration,
};

use common::{
    stack::{free_port, root, Options, Stack},
    toxiproxy::{Stream, Toxiproxy},
};
use serde_json::{json, Value};

/// The venv's Python (`scripts/setup.sh python`).
fn python() -> std::path::PathBuf {
    let cache = std::env::var("CENTRPC_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/centrpc")
        });
    cache.join("venv/bin/python")
}

/// Runs a scenario; `between` runs at each `READY` line, before the script goes on.
fn scenario(stack: &mut Stack, script: Value, mut between: impl FnMut(&mut Stack, usize)) -> Value {
    let mut child = Command::new(python())
        .arg(root().join("e2e/python/streams.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{script}").unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut readies = 0;
    let report = loop {
        let line = lines
            .next()
            .expect("the script reports before it exits")
            .unwrap();
        if line == "READY" {
            between(stack, readies);
            readies += 1;
            writeln!(stdin, "go").unwrap();
            continue;
        }
        break serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    };
    assert!(child.wait().unwrap().success(), "the script failed");
    report
}

/// A metric's value (0 when absent).
fn metric(stack: &Stack, series: &str) -> f64 {
    stack
        .metrics()
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits (at most 20 s, so a bug fails rather than hangs) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("never happened: {what}");
}

#[test]
fn two_hundred_concurrent_streams_from_ten_clients_lose_and_cross_nothing() {
    let mut stack = Stack::start(Options::default());
    let tokens: Vec<String> = (0..10)
        .map(|c| stack.token(&format!("u{c}"), None))
        .collect();
    let script = json!({
        "scenario": "many", "url": stack.ws_url(), "tokens": tokens,
        "streams": 20, "adds": 25, "timeout": 20.0,
    });
    let report = scenario(&mut stack, script, |_, _| {});
    assert_eq!(report, json!({"matched": 200, "mismatched": 0}));
    let received = r#"centrpc_stream_messages_total{direction="received",stream="tally:*"}"#;
    assert_eq!(metric(&stack, received), 5000.0);
    let sent = r#"centrpc_stream_messages_total{direction="sent",stream="tally:*"}"#;
    assert_eq!(metric(&stack, sent), 5000.0);
    // The clients disconnected: every stream was cancelled and none is left open.
    let active = r#"centrpc_streams_active{stream="tally:*"}"#;
    let cancelled = r#"centrpc_calls_total{kind="stream",method="tally:*",outcome="cancelled"}"#;
    eventually("all 200 streams closed", || {
        metric(&stack, active) == 0.0 && metric(&stack, cancelled) == 200.0
    });
}

#[test]
fn sdks_resubscribe_after_centrpc_and_centrifugo_restart_and_streams_start_again() {
    let mut stack = Stack::start(Options::default());
    let script = json!({
        "scenario": "restart", "url": stack.ws_url(), "tokens": [stack.token("alice", None)],
        "rounds": 2, "timeout": 30.0,
    });
    let report = scenario(&mut stack, script, |stack, round| match round {
        // A graceful centrpc restart: the drain ends the stream with an error (2500).
        0 => {
            assert!(stack.stop_app().success());
            stack.restart_app();
        }
        // Centrifugo dies and comes back: the SDK reconnects and subscribes again.
        _ => {
            stack.kill_centrifugo();
            stack.restart_centrifugo();
        }
    });
    // Each round's new stream starts from `start` (100) again and adds that round's number.
    let totals: Vec<i64> = report["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_i64().unwrap())
        .collect();
    assert_eq!(totals, [101, 102, 103], "{report}");
    assert_eq!(
        report["unsubscribed"],
        json!([]),
        "the SDK never gave up on the subscription: {report}"
    );
}

/// The app's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_subscriber_that_stops_reading_is_dropped_and_memory_stays_bounded() {
    let mut stack = Stack::start(Options::default());
    let pid = stack.app_pid();
    let before = rss_kib(pid);
    let script = json!({
        "scenario": "slow", "url": stack.ws_url(), "tokens": [stack.token("slowpoke", None)],
    });
    let mut peak = before;
    let report = scenario(&mut stack, script, |stack, _| {
        // The stream runs at full speed into a client that reads nothing: Centrifugo's queue for
        // it fills, Centrifugo disconnects it, and the stream is cancelled.
        let cancelled =
            r#"centrpc_calls_total{kind="stream",method="watch:count",outcome="cancelled"}"#;
        eventually("the slow subscriber's stream was cancelled", || {
            peak = peak.max(rss_kib(pid));
            metric(stack, cancelled) == 1.0
        });
    });
    assert_eq!(report, json!({"ok": true}));
    let sent = metric(
        &stack,
        r#"centrpc_stream_messages_total{direction="sent",stream="watch:count"}"#,
    );
    assert!(
        sent < 10_000_000.0,
        "the stream was cut short ({sent} items sent)"
    );
    let after = rss_kib(pid);
    eprintln!(
        "slow subscriber: {sent} items sent before the drop; centrpc RSS {before} KiB before, peak {peak} KiB, {after} KiB after"
    );
    assert!(
        peak.saturating_sub(before) < 32 * 1024,
        "centrpc's memory grew by {} KiB for one slow subscriber",
        peak - before
    );
    assert_eq!(
        metric(&stack, r#"centrpc_streams_active{stream="watch:count"}"#),
        0.0
    );
}

#[test]
fn open_streams_survive_resets_and_a_silent_drop_of_the_link_without_losing_or_crossing_items() {
    // Centrifugo reaches centrpc through toxiproxy (pinned by `scripts/setup.sh toxiproxy`).
    let toxiproxy = Toxiproxy::start();
    let listen = free_port();
    let mut opts = Options {
        proxy_timeout: Some("1s"),
        ..Options::default()
    };
    opts.extra_env.push((
        "CENTRPC_PROXY_ENDPOINT",
        format!("grpc://127.0.0.1:{listen}"),
    ));
    let mut stack = Stack::start(opts);
    toxiproxy.create_proxy("centrpc", listen, stack.app_addr);
    let tokens: Vec<String> = (0..2)
        .map(|c| stack.token(&format!("f{c}"), None))
        .collect();
    let script = json!({
        "scenario": "fault", "url": stack.ws_url(), "tokens": tokens, "streams": 10, "timeout": 10.0,
        "recover_within": 60.0,
    });
    let faults = |_: &mut Stack, _: usize| {
        let pause = |ms| std::thread::sleep(Duration::from_millis(ms));
        pause(1000);
        for round in 0..2 {
            // Every connection is reset when its next bytes arrive, for 200 ms.
            for s in Stream::BOTH {
                toxiproxy.add_toxic(
                    "centrpc",
                    &format!("reset{round}-{s:?}"),
                    "reset_peer",
                    s,
                    json!({"timeout": 0}),
                );
            }
            pause(200);
            for s in Stream::BOTH {
                toxiproxy.remove_toxic("centrpc", &format!("reset{round}-{s:?}"));
            }
            pause(1500);
        }
        // Then every byte from Centrifugo vanishes for 3 s, past the 1 s proxy timeout.
        toxiproxy.add_toxic(
            "centrpc",
            "drop",
            "timeout",
            Stream::Upstream,
            json!({"timeout": 0}),
        );
        pause(3000);
        toxiproxy.remove_toxic("centrpc", "drop");
    };
    let report = scenario(&mut stack, script, faults);
    eprintln!("streams across link faults: {report}");
    assert_eq!(report["streams"], 20);
    assert_eq!(
        report["crossed"], 0,
        "an item reached another stream: {report}"
    );
    assert_eq!(
        report["gaps"], 0,
        "an item was lost inside a stream: {report}"
    );
    assert_eq!(
        report["recovered"], 20,
        "every stream delivers again after the heal (SDK backoff: reported, not asserted): {report}"
    );
    assert!(
        report["resubscribes"].as_u64().unwrap() >= 20,
        "the faults ended the streams with an error and the SDK resubscribed: {report}"
    );
    // The clients left: every stream, including those of the broken connections, ended on
    // centrpc's side too (none leaked).
    let active = r#"centrpc_streams_active{stream="tally:*"}"#;
    eventually("no stream left open", || metric(&stack, active) == 0.0);
}
