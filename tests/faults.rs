//! Faults under load, through the real Centrifugo with the load generator on centrifuge-go
//! (bench/loadgen): SIGTERM loses nothing, kill -9 and restart of centrpc costs only temporary
//! errors during the gap, a Centrifugo restart is survived by reconnecting SDK clients, and
//! handlers past their deadline are cancelled (nothing left in flight). Each reply is checked
//! against its request.

mod common;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::stack::{finish_load, start_load, sum_counts as count, Options, Stack};
use serde_json::Value;

fn readiness_is_serving(stack: &Stack) -> bool {
    Command::new(common::tool("grpc-health-probe"))
        .args([
            &format!("-addr={}", stack.app_addr),
            "-service=readiness",
            "-connect-timeout=1s",
            "-rpc-timeout=1s",
        ])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn sigterm_under_load_completes_every_call() {
    let mut stack = Stack::start(Options {
        extra_env: vec![
            ("CENTRPC_SHUTDOWN_DELAY", "1500ms".into()),
            ("CENTRPC_SHUTDOWN_TIMEOUT", "10s".into()),
        ],
        ..Options::default()
    });
    let stop = stack.dir.path().join("stop");
    // Calls that take 100 ms, so many are in flight when the signal arrives.
    let load = start_load(
        &stack,
        &[
            "-clients",
            "4",
            "-concurrency",
            "4",
            "-duration",
            "30s",
            "-method",
            "system.echo",
            "-stop-file",
            stop.to_str().unwrap(),
        ],
    );
    let slow = start_load(
        &stack,
        &[
            "-clients",
            "2",
            "-concurrency",
            "4",
            "-duration",
            "30s",
            "-method",
            "tasks.slow",
            "-params",
            r#"{"ms":100}"#,
            "-stop-file",
            stop.to_str().unwrap(),
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill")
        .arg("-TERM")
        .arg(stack.app_pid().to_string())
        .status()
        .unwrap();
    // As a load balancer would: stop sending new calls once readiness says NOT_SERVING.
    let t0 = Instant::now();
    while readiness_is_serving(&stack) {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "readiness never turned NOT_SERVING"
        );
    }
    std::fs::write(&stop, "").unwrap();
    let (echo, slow) = (finish_load(load), finish_load(slow));
    assert!(stack.wait_app().success(), "clean exit after the drain");
    for (name, r) in [("echo", &echo), ("slow", &slow)] {
        assert!(r["calls"].as_u64().unwrap() > 50, "{name}: under load: {r}");
        assert_eq!(
            r["ok"],
            r["calls"],
            "{name}: zero failed calls: {r}\n{}",
            stack.logs()
        );
        assert_eq!(
            (
                count(r, "errors"),
                count(r, "client_errors"),
                r["mismatched"].as_u64()
            ),
            (0, 0, Some(0)),
            "{name}: {r}"
        );
    }
}

#[test]
fn kill_and_restart_of_centrpc_costs_only_temporary_errors_during_the_gap() {
    let mut stack = Stack::start(Options::default());
    let started = Instant::now();
    let load = start_load(
        &stack,
        &[
            "-clients",
            "2",
            "-concurrency",
            "4",
            "-duration",
            "7s",
            "-rate",
            "400",
        ],
    );
    std::thread::sleep(Duration::from_millis(2000));
    stack.kill_app();
    std::thread::sleep(Duration::from_millis(700));
    stack.restart_app();
    let restarted_ms = started.elapsed().as_millis() as f64;
    let r = finish_load(load);
    let errors = r["errors"].as_object().unwrap();
    assert!(
        errors.keys().all(|code| code == "100"),
        "only Centrifugo's temporary 100 during the gap: {r}"
    );
    assert!(
        errors.get("100").is_some_and(|n| n.as_u64().unwrap() > 0),
        "the gap was seen: {r}"
    );
    assert_eq!(
        (count(&r, "client_errors"), r["mismatched"].as_u64()),
        (0, Some(0)),
        "{r}"
    );
    // Recovery is bounded by Centrifugo's gRPC reconnect backoff (grpc-go: 1 s, then ×1.6 with
    // jitter), not by centrpc, which serves as soon as it listens.
    let last_failure = r["last_failure_ms"].as_f64().unwrap();
    let recovered_after = last_failure - restarted_ms;
    assert!(
        recovered_after < 1000.0,
        "calls succeed again within 1 s of the restart ({recovered_after:.0} ms): {r}"
    );
    let tail: Vec<&Value> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["t_ms"].as_f64().unwrap() > last_failure)
        .collect();
    assert!(
        tail.iter().map(|b| b["ok"].as_u64().unwrap()).sum::<u64>() > 100,
        "and keep succeeding: {r}"
    );
    eprintln!("kill -9 gap: first failure {} ms, restart ~{restarted_ms:.0} ms, last failure {last_failure:.0} ms (recovered {recovered_after:.0} ms after restart)", r["first_failure_ms"]);
}

#[test]
fn sdk_clients_survive_a_centrifugo_restart() {
    let mut stack = Stack::start(Options::default());
    let load = start_load(
        &stack,
        &[
            "-clients",
            "3",
            "-concurrency",
            "2",
            "-duration",
            "8s",
            "-rate",
            "300",
            "-timeout",
            "2s",
        ],
    );
    std::thread::sleep(Duration::from_millis(2000));
    stack.kill_centrifugo();
    std::thread::sleep(Duration::from_millis(500));
    stack.restart_centrifugo();
    let r = finish_load(load);
    assert!(
        r["reconnects"].as_u64().unwrap_or(0) >= 3,
        "every client reconnected: {r}"
    );
    assert_eq!(r["mismatched"].as_u64(), Some(0), "{r}");
    let last_failure = r["last_failure_ms"]
        .as_f64()
        .expect("the restart was noticed");
    let after: u64 = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["t_ms"].as_f64().unwrap() > last_failure)
        .map(|b| b["ok"].as_u64().unwrap())
        .sum();
    assert!(after > 300, "calls resumed after the restart: {r}");
}

#[test]
fn handlers_past_the_deadline_are_cancelled_and_nothing_stays_in_flight() {
    let stack = Stack::start(Options {
        proxy_timeout: Some("300ms"),
        call_timeout: "10s",
        ..Options::default()
    });
    let r = finish_load(start_load(
        &stack,
        &[
            "-clients",
            "4",
            "-concurrency",
            "5",
            "-calls",
            "60",
            "-duration",
            "0",
            "-method",
            "tasks.slow",
            "-params",
            r#"{"ms":5000}"#,
            "-timeout",
            "3s",
        ],
    ));
    assert_eq!(
        r["errors"]["100"].as_u64(),
        Some(60),
        "every call hit Centrifugo's deadline: {r}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let outcomes = stack.rpc_outcomes("tasks.slow");
    let outcome = |o: &str| outcomes.get(o).copied().unwrap_or(0);
    assert_eq!(
        outcome("timed_out") + outcome("cancelled"),
        60,
        "each handler was stopped at the deadline: {outcomes:?}"
    );
    assert_eq!(outcome("ok"), 0, "none ran to completion");
    assert_eq!(stack.in_flight(), 0, "nothing left in flight");
}
