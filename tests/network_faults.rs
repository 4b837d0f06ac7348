//! Network faults on the link between Centrifugo and centrpc, through a real TCP fault proxy:
//! toxiproxy (pinned by `scripts/setup.sh toxiproxy`) sits between Centrifugo's proxy client and
//! the example app, on loopback. Every drill runs under load from the official SDKs
//! (bench/loadgen on centrifuge-go, plus the Python and JS drivers of `e2e/`), with every reply
//! checked against its request, and prints what the clients saw: codes and whether they were
//! temporary, how many calls failed while the fault lasted, the time from healing to the last
//! failure, and whether anything was lost, executed twice or crossed.
//!
//! The assertions are about outcomes only: no reply crossed, no call lost (Centrifugo answers each
//! one before the client's timeout), every failure temporary, no call executed twice, and calls
//! succeed again once the fault heals. Durations are printed (and copied to the README), never
//! asserted. The drills share two cores, so they run one at a time.
//!
//! Drills: latency with jitter, then latency beyond the proxy timeout; a bandwidth cap with large
//! payloads; repeated resets of every connection; a silent drop (bytes discarded) and a stall
//! (nothing forwarded, nothing closed), each held past the proxy timeout, then healed; and
//! centrpc's HTTP/2 keepalive noticing a dead link and cancelling its handlers (and, as the
//! control, nothing noticing it without keepalive).

mod common;

use std::{
    collections::BTreeMap,
    process::Child,
    sync::{Mutex, MutexGuard, PoisonError},
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use centrpc::server::ServerConfig;
use common::{
    stack::{drive, finish_load, free_port, start_load, Options, Sdk, Stack},
    toxiproxy::{Stream, Toxiproxy},
};
use serde_json::{json, Value};

/// The toxiproxy proxy between Centrifugo and centrpc.
const PROXY: &str = "centrpc";

/// Long enough that a stalled byte never arrives while the stall is on.
const STALL_MS: u64 = 600_000;

static SERIAL: Mutex<()> = Mutex::new(());

/// The drills measure time under load on a small machine: one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wall-clock milliseconds, on the same axis as loadgen's `origin_unix_ms`.
fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// The example app and Centrifugo, with Centrifugo's proxy endpoint on toxiproxy.
struct Link {
    stack: Stack,
    toxiproxy: Toxiproxy,
}

impl Link {
    fn start(mut opts: Options) -> Self {
        let toxiproxy = Toxiproxy::start();
        let listen = free_port();
        opts.extra_env.push((
            "CENTRPC_PROXY_ENDPOINT",
            format!("grpc://127.0.0.1:{listen}"),
        ));
        // Centrifugo dials its proxy lazily, on the first call: the proxy can come second.
        let stack = Stack::start(opts);
        toxiproxy.create_proxy(PROXY, listen, stack.app_addr);
        Self { stack, toxiproxy }
    }

    /// Adds toxic `name` on `streams`; returns when the first one was asked for (unix ms).
    fn add(&self, name: &str, kind: &str, streams: &[Stream], attributes: Value) -> f64 {
        let at = now_ms();
        for s in streams {
            self.toxiproxy.add_toxic(
                PROXY,
                &format!("{name}-{s:?}"),
                kind,
                *s,
                attributes.clone(),
            );
        }
        at
    }

    /// Removes toxic `name` from `streams`; returns when the link healed (unix ms).
    fn heal(&self, name: &str, streams: &[Stream]) -> f64 {
        for s in streams {
            self.toxiproxy.remove_toxic(PROXY, &format!("{name}-{s:?}"));
        }
        now_ms()
    }

    /// Calls of `system.echo` that reached a handler, whatever their outcome.
    fn executed_echoes(&self) -> u64 {
        self.stack.rpc_outcomes("system.echo").values().sum()
    }

    fn logs(&self) -> String {
        format!(
            "{}\n--- toxiproxy ---\n{}",
            self.stack.logs(),
            self.toxiproxy.logs()
        )
    }
}

/// Polls `f` every 50 ms until it holds or `within` passes; whether it held.
fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep_ms(50);
    }
}

// ---- load -------------------------------------------------------------------------------------

/// loadgen flags for sustained, paced echo load (each reply checked against its request).
fn echo_load(duration: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "-clients",
        "3",
        "-concurrency",
        "2",
        "-rate",
        "150",
        "-timeout",
        "5s",
        "-bucket",
        "20ms",
        "-duration",
        duration,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn loadgen(link: &Link, args: &[String]) -> Child {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start_load(&link.stack, &args)
}

/// One SDK driver running `calls` echo calls, 50 ms apart, in a thread.
struct SdkLoad {
    sdk: Sdk,
    sent: Vec<Value>,
    report: JoinHandle<Value>,
}

/// The Python and JS drivers, each sending `calls` echo calls of about `pad` bytes.
fn sdk_load(link: &Link, calls: usize, pad: usize) -> Vec<SdkLoad> {
    [Sdk::Python, Sdk::Js]
        .into_iter()
        .map(|sdk| {
            let sent: Vec<Value> = (0..calls)
                .map(|i| json!({"sdk": format!("{sdk:?}"), "i": i, "pad": "x".repeat(pad)}))
                .collect();
            let ops: Vec<Value> = sent
                .iter()
                .flat_map(|d| {
                    [
                        json!({"op": "rpc", "method": "system.echo", "data": d}),
                        json!({"op": "sleep", "ms": 50}),
                    ]
                })
                .collect();
            let script = link
                .stack
                .script(&link.stack.token("sdk", None), json!(ops));
            let report = std::thread::spawn(move || drive(sdk, &script));
            SdkLoad { sdk, sent, report }
        })
        .collect()
}

// ---- what the clients saw ---------------------------------------------------------------------

/// The outcomes one client saw.
#[derive(Debug, Default)]
struct Tally {
    who: String,
    calls: u64,
    ok: u64,
    /// Server errors marked temporary, by code.
    temporary: BTreeMap<String, u64>,
    /// Calls without any reply before the client's timeout.
    lost: u64,
    /// Replies that did not equal their request.
    crossed: u64,
    /// Anything else (a permanent error, a disconnect): must stay empty.
    other: Vec<String>,
}

impl Tally {
    fn failed(&self) -> u64 {
        self.calls - self.ok
    }

    fn from_loadgen(who: &str, r: &Value) -> Self {
        let n = |v: &Value| v.as_u64().unwrap();
        let mut t = Tally {
            who: who.into(),
            calls: n(&r["calls"]),
            ok: n(&r["ok"]),
            lost: n(&r["client_errors"]["timeout"]),
            crossed: n(&r["mismatched"]),
            ..Tally::default()
        };
        for (code, count) in r["errors"].as_object().unwrap() {
            let temporary = r["errors_temporary"][code].as_u64().unwrap_or(0);
            if temporary > 0 {
                t.temporary.insert(code.clone(), temporary);
            }
            if n(count) > temporary {
                t.other.push(format!(
                    "{} × code {code} not temporary: {}",
                    n(count) - temporary,
                    r["error_samples"][code]
                ));
            }
        }
        for kind in ["disconnected", "other"] {
            if n(&r["client_errors"][kind]) > 0 {
                t.other.push(format!(
                    "{} × client error {kind}: {}",
                    r["client_errors"][kind], r["error_samples"][kind]
                ));
            }
        }
        t
    }

    fn from_sdk(load: SdkLoad) -> Self {
        let report = match load.report.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        assert_eq!(
            report["connected"], true,
            "{:?} did not connect: {report}",
            load.sdk
        );
        let results: Vec<&Value> = report["results"].as_array().unwrap().iter().collect();
        let mut t = Tally {
            who: format!("{:?}", load.sdk).to_lowercase(),
            ..Tally::default()
        };
        for (sent, got) in load.sent.iter().zip(results.iter().step_by(2)) {
            t.calls += 1;
            if let Some(reply) = got.get("ok") {
                if reply == sent {
                    t.ok += 1;
                } else {
                    t.crossed += 1;
                }
                continue;
            }
            let e = &got["error"];
            let message = e["message"].as_str().unwrap_or("");
            if e["temporary"] == true {
                *t.temporary.entry(e["code"].to_string()).or_default() += 1;
            } else if message.to_lowercase().contains("timeout") {
                t.lost += 1;
            } else {
                t.other.push(e.to_string());
            }
        }
        assert_eq!(t.calls as usize, load.sent.len(), "one result per call");
        t
    }

    fn line(&self) -> String {
        format!(
            "{:>6}: {} calls, {} ok, {} failed {:?} (temporary, by code), {} lost, {} crossed{}",
            self.who,
            self.calls,
            self.ok,
            self.failed(),
            self.temporary,
            self.lost,
            self.crossed,
            if self.other.is_empty() {
                String::new()
            } else {
                format!(", OTHER: {:?}", self.other)
            }
        )
    }
}

/// The outcome assertions every drill shares; prints the tallies first.
fn check(drill: &str, link: &Link, tallies: &[Tally]) {
    let sent: u64 = tallies.iter().map(|t| t.calls).sum();
    let answered: u64 = tallies.iter().map(|t| t.ok).sum();
    let executed = link.executed_echoes();
    let completed = link
        .stack
        .rpc_outcomes("system.echo")
        .get("ok")
        .copied()
        .unwrap_or(0);
    eprintln!("[{drill}]");
    for t in tallies {
        eprintln!("  {}", t.line());
    }
    eprintln!(
        "  centrpc ran {executed} of the {sent} calls sent (none twice); {} of them completed there while their client got an error",
        completed.saturating_sub(answered)
    );
    for t in tallies {
        assert_eq!(
            t.crossed, 0,
            "{drill}: {} got a reply that was not its own",
            t.who
        );
        assert_eq!(t.lost, 0, "{drill}: {} had calls without any reply", t.who);
        assert!(
            t.other.is_empty(),
            "{drill}: {}: every failure is temporary: {:?}\n{}",
            t.who,
            t.other,
            link.logs()
        );
    }
    assert!(
        executed <= sent,
        "{drill}: centrpc ran {executed} calls for {sent} sent: some ran twice"
    );
}

/// When, relative to the heal at `healed_unix_ms`, the last failure of loadgen run `r` completed
/// (0 if none came after it), and how many calls succeeded after that last failure.
fn recovery(r: &Value, healed_unix_ms: f64) -> (f64, u64) {
    let origin = r["origin_unix_ms"]
        .as_f64()
        .expect("loadgen reports origin_unix_ms: rebuild it with `scripts/setup.sh loadgen`");
    let last_failure = r["last_failure_ms"].as_f64().unwrap_or(f64::NEG_INFINITY);
    let ok_after: u64 = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["t_ms"].as_f64().unwrap() > last_failure)
        .map(|b| b["ok"].as_u64().unwrap())
        .sum();
    ((origin + last_failure - healed_unix_ms).max(0.0), ok_after)
}

/// Asserts the calls succeed again after the fault heals (and keep succeeding); prints how long
/// after the heal the last failure was.
fn assert_recovers(drill: &str, r: &Value, healed_unix_ms: f64) -> f64 {
    let (after_heal, ok_after) = recovery(r, healed_unix_ms);
    eprintln!(
        "  last failure {after_heal:.0} ms after the heal; {ok_after} calls ok after it, none failed"
    );
    assert!(
        ok_after >= 20,
        "{drill}: calls succeed again once the fault heals (only {ok_after} after the last failure): {r}"
    );
    after_heal
}

fn latency(r: &Value) -> String {
    let l = &r["latency_ms"];
    format!(
        "p50 {} ms, p99 {} ms, max {} ms, {} calls/s ok",
        l["p50"], l["p99"], l["max"], r["rps"]
    )
}

// ---- drills -----------------------------------------------------------------------------------

#[test]
fn latency_with_jitter_then_latency_beyond_the_proxy_timeout() {
    let _serial = one_at_a_time();
    let link = Link::start(Options {
        proxy_timeout: Some("400ms"),
        ..Options::default()
    });
    let sdks = sdk_load(&link, 110, 16);

    let base = finish_load(loadgen(&link, &echo_load("1500ms", &[])));
    link.add(
        "lat50",
        "latency",
        &[Stream::Downstream],
        json!({"latency": 50, "jitter": 20}),
    );
    let slow = finish_load(loadgen(&link, &echo_load("2500ms", &[])));
    link.heal("lat50", &[Stream::Downstream]);

    // 500 ms on every reply against Centrifugo's 400 ms proxy timeout.
    let run = loadgen(&link, &echo_load("4500ms", &[]));
    sleep_ms(1000);
    link.add(
        "lat500",
        "latency",
        &[Stream::Downstream],
        json!({"latency": 500}),
    );
    sleep_ms(2000);
    let healed = link.heal("lat500", &[Stream::Downstream]);
    let late = finish_load(run);

    let mut tallies = vec![
        Tally::from_loadgen("go (no toxic)", &base),
        Tally::from_loadgen("go (50±20 ms)", &slow),
        Tally::from_loadgen("go (500 ms)", &late),
    ];
    tallies.extend(sdks.into_iter().map(Tally::from_sdk));
    check("latency", &link, &tallies);
    eprintln!("  no toxic: {}", latency(&base));
    eprintln!("  replies +50±20 ms: {}", latency(&slow));
    eprintln!(
        "  replies +500 ms for 2 s, proxy timeout 400 ms: {}",
        latency(&late)
    );
    assert_eq!(
        tallies[1].failed(),
        0,
        "50±20 ms stays well inside the proxy timeout"
    );
    assert!(
        tallies[2].failed() > 0,
        "every reply later than the proxy timeout fails"
    );
    assert_recovers("latency", &late, healed);
}

#[test]
fn bandwidth_cap_with_large_payloads() {
    let _serial = one_at_a_time();
    let link = Link::start(Options {
        proxy_timeout: Some("1s"),
        ..Options::default()
    });
    let sdks = sdk_load(&link, 60, 30_000);
    let run = loadgen(
        &link,
        &[
            "-clients",
            "2",
            "-concurrency",
            "2",
            "-duration",
            "6s",
            "-payload-bytes",
            "30000",
            "-timeout",
            "5s",
            "-bucket",
            "20ms",
        ]
        .map(String::from),
    );
    sleep_ms(1500);
    let capped = link.add("bw", "bandwidth", &Stream::BOTH, json!({"rate": 256}));
    sleep_ms(3000);
    let healed = link.heal("bw", &Stream::BOTH);
    let r = finish_load(run);

    let mut tallies = vec![Tally::from_loadgen("go", &r)];
    tallies.extend(sdks.into_iter().map(Tally::from_sdk));
    check("bandwidth 256 KB/s, 30 kB payloads", &link, &tallies);
    let origin = r["origin_unix_ms"].as_f64().unwrap();
    let ok_per_s = |from: f64, to: f64| {
        let n: u64 = r["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| (from..to).contains(&b["t_ms"].as_f64().unwrap()))
            .map(|b| b["ok"].as_u64().unwrap())
            .sum();
        n as f64 / ((to - from) / 1000.0)
    };
    eprintln!(
        "  go calls ok per second: {:.0} before, {:.0} while capped, {:.0} after; {}",
        ok_per_s(0.0, capped - origin),
        ok_per_s(capped - origin, healed - origin),
        ok_per_s(
            healed - origin + 500.0,
            r["duration_s"].as_f64().unwrap() * 1000.0
        ),
        latency(&r)
    );
    assert_recovers("bandwidth", &r, healed);
}

#[test]
fn repeated_resets_of_every_connection_under_load() {
    let _serial = one_at_a_time();
    let link = Link::start(Options {
        proxy_timeout: Some("1s"),
        ..Options::default()
    });
    let sdks = sdk_load(&link, 100, 16);
    let run = loadgen(&link, &echo_load("6500ms", &[]));
    let mut resets = Vec::new();
    for _ in 0..3 {
        sleep_ms(1500);
        // Each connection is cut when its next bytes arrive; new ones are reset at once until
        // the toxic goes.
        let at = link.add("reset", "reset_peer", &Stream::BOTH, json!({"timeout": 0}));
        sleep_ms(200);
        resets.push((at, link.heal("reset", &Stream::BOTH)));
    }
    let r = finish_load(run);

    let mut tallies = vec![Tally::from_loadgen("go", &r)];
    tallies.extend(sdks.into_iter().map(Tally::from_sdk));
    check("3 resets of every connection, 200 ms each", &link, &tallies);
    let origin = r["origin_unix_ms"].as_f64().unwrap();
    let buckets = r["timeline"].as_array().unwrap();
    for (i, (at, _)) in resets.iter().enumerate() {
        // The 20 ms buckets from the one holding this reset to the one before the next reset.
        let until = resets.get(i + 1).map_or(f64::INFINITY, |(next, _)| *next);
        let window: Vec<&Value> = buckets
            .iter()
            .filter(|b| {
                (at - origin - 20.0..until - origin - 20.0).contains(&b["t_ms"].as_f64().unwrap())
            })
            .collect();
        let failed: u64 = window.iter().map(|b| b["failed"].as_u64().unwrap()).sum();
        let last = window
            .iter()
            .filter(|b| b["failed"].as_u64().unwrap() > 0)
            .map(|b| b["t_ms"].as_f64().unwrap() + 20.0 - (at - origin))
            .fold(0.0, f64::max);
        eprintln!(
            "  reset {}: {failed} go calls failed, the last ≤ {last:.0} ms after the reset",
            i + 1
        );
    }
    assert!(
        tallies[0].failed() >= 3,
        "every reset cut calls: {}",
        tallies[0].line()
    );
    assert_recovers("resets", &r, resets.last().unwrap().1);
}

/// A link that stops carrying bytes for 3 s under load, then heals: toxic `kind` on `streams`.
fn dead_link_under_load(drill: &str, kind: &str, streams: &[Stream], attributes: Value) {
    let link = Link::start(Options {
        proxy_timeout: Some("1s"),
        ..Options::default()
    });
    let sdks = sdk_load(&link, 80, 16);
    let run = loadgen(&link, &echo_load("7s", &[]));
    sleep_ms(1500);
    let cut = link.add("dead", kind, streams, attributes);
    sleep_ms(3000);
    let healed = link.heal("dead", streams);
    let r = finish_load(run);

    let mut tallies = vec![Tally::from_loadgen("go", &r)];
    tallies.extend(sdks.into_iter().map(Tally::from_sdk));
    check(drill, &link, &tallies);
    // Calls completing well inside the hold (past calls already in flight, before the heal).
    let origin = r["origin_unix_ms"].as_f64().unwrap();
    let inside = (cut - origin + 200.0)..(healed - origin - 200.0);
    let (ok_inside, failed_inside) = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| inside.contains(&b["t_ms"].as_f64().unwrap()))
        .fold((0, 0), |(o, f), b| {
            (
                o + b["ok"].as_u64().unwrap(),
                f + b["failed"].as_u64().unwrap(),
            )
        });
    eprintln!(
        "  held {:.1} s against a 1 s proxy timeout: inside it {ok_inside} go calls ok, {failed_inside} failed",
        (healed - cut) / 1000.0,
    );
    assert_eq!(ok_inside, 0, "{drill}: nothing gets through a dead link");
    assert!(
        failed_inside > 0,
        "{drill}: calls fail while the link is dead"
    );
    assert_recovers(drill, &r, healed);
}

#[test]
fn silent_drop_past_the_proxy_timeout_then_healed() {
    let _serial = one_at_a_time();
    // Every byte from Centrifugo is discarded, so nothing comes back either. One direction only:
    // toxiproxy closes the connections when it removes this toxic, and a second removal would
    // race Centrifugo's redial (whose connection the second removal would close again).
    dead_link_under_load(
        "silent drop (timeout toxic) for 3 s",
        "timeout",
        &[Stream::Upstream],
        json!({"timeout": 0}),
    );
}

#[test]
fn stall_past_the_proxy_timeout_then_healed() {
    let _serial = one_at_a_time();
    // Nothing is forwarded and nothing closed; once it heals, the held bytes arrive, as TCP
    // retransmission would deliver them.
    dead_link_under_load(
        "stall (nothing forwarded, nothing closed) for 3 s",
        "latency",
        &Stream::BOTH,
        json!({ "latency": STALL_MS }),
    );
}

/// Four calls of an 8 s handler, then the link stalls (nothing forwarded, nothing closed), with
/// Centrifugo's proxy timeout and centrpc's call timeout far away. Returns the link, the running
/// load and when the stall began.
fn stall_during_slow_calls(keepalive: &str) -> (Link, Child, Instant) {
    let link = Link::start(Options {
        proxy_timeout: Some("20s"),
        call_timeout: "20s",
        extra_env: vec![
            ("CENTRPC_HTTP2_KEEPALIVE_INTERVAL", keepalive.into()),
            ("CENTRPC_HTTP2_KEEPALIVE_TIMEOUT", "500ms".into()),
        ],
        ..Options::default()
    });
    let load = loadgen(
        &link,
        &[
            "-clients",
            "1",
            "-concurrency",
            "4",
            "-calls",
            "4",
            "-duration",
            "0",
            "-method",
            "tasks.slow",
            "-params",
            r#"{"ms":8000}"#,
            "-timeout",
            "25s",
        ]
        .map(String::from),
    );
    assert!(
        eventually(Duration::from_secs(10), || link.stack.in_flight() == 4),
        "four handlers running:\n{}",
        link.logs()
    );
    link.add(
        "stall",
        "latency",
        &Stream::BOTH,
        json!({ "latency": STALL_MS }),
    );
    (link, load, Instant::now())
}

#[test]
fn http2_keepalive_notices_a_dead_link_and_cancels_its_handlers() {
    let _serial = one_at_a_time();
    let (link, load, stalled) = stall_during_slow_calls("500ms");
    // The handlers would run 8 s; keepalive (500 ms + 500 ms) is the only thing that can end
    // them sooner.
    let cleaned = eventually(Duration::from_secs(6), || link.stack.in_flight() == 0);
    let detected = stalled.elapsed();
    let outcomes = link.stack.rpc_outcomes("tasks.slow");
    let healed = link.heal("stall", &Stream::BOTH);
    let r = finish_load(load);
    let after = finish_load(loadgen(&link, &echo_load("1s", &[])));
    check(
        "HTTP/2 keepalive 500 ms + 500 ms, link stalled under 4 running 8 s handlers",
        &link,
        &[
            Tally::from_loadgen("go", &r),
            Tally::from_loadgen("go after", &after),
        ],
    );
    eprintln!(
        "  centrpc closed the dead connection and cancelled its handlers {:.1} s into the stall: {outcomes:?}",
        detected.as_secs_f64()
    );
    assert!(
        cleaned,
        "keepalive noticed the dead link: in flight {}, {outcomes:?}\n{}",
        link.stack.in_flight(),
        link.logs()
    );
    assert_eq!(
        outcomes.get("cancelled"),
        Some(&4),
        "all four handlers cancelled, none ran to the end: {outcomes:?}"
    );
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    // What the clients saw: their calls were answered once the link healed (Centrifugo then
    // learns the connection is gone), and new calls work.
    assert_eq!(r["calls"], 4, "{r}");
    assert_recovers("keepalive", &after, healed);
}

#[test]
fn without_keepalive_a_dead_link_leaves_its_handlers_running() {
    let _serial = one_at_a_time();
    let (link, mut load, _) = stall_during_slow_calls("0s");
    sleep_ms(3000);
    let running = link.stack.in_flight();
    let outcomes = link.stack.rpc_outcomes("tasks.slow");
    eprintln!(
        "[no HTTP/2 keepalive, link stalled under 4 running 8 s handlers]\n  3 s into the stall: {running} handlers still running, {outcomes:?}"
    );
    let _ = load.kill();
    let _ = load.wait();
    assert_eq!(
        (running, outcomes.len()),
        (4, 0),
        "nothing on centrpc's side notices a dead link without keepalive"
    );
}

#[tokio::test]
async fn a_zero_keepalive_timeout_is_refused() {
    let config = ServerConfig::default()
        .listen("127.0.0.1:0".parse().unwrap())
        .http2_keepalive_timeout(Duration::ZERO);
    let e = centrpc::server::bind(centrpc::Router::new(()), config)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("keepalive timeout"), "{e}");
}

/// The TCP keepalive timer of the server's end of `client` (Linux: `/proc/net/tcp`), as
/// `(timer kind, seconds left)`: kind 2 is keepalive here (an idle connection has no delayed ACK).
#[cfg(target_os = "linux")]
fn server_side_timer(
    server: std::net::SocketAddr,
    client: &std::net::TcpStream,
) -> Option<(u8, f64)> {
    let (local, remote) = (server.port(), client.local_addr().unwrap().port());
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let port = |addr: &str| u16::from_str_radix(addr.split(':').nth(1)?, 16).ok();
        if port(f[1]) != Some(local) || port(f[2]) != Some(remote) {
            return None;
        }
        let (kind, when) = f[5].split_once(':')?;
        Some((
            kind.parse().ok()?,
            u64::from_str_radix(when, 16).ok()? as f64 / 100.0,
        ))
    })
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn tcp_keepalive_is_set_on_accepted_connections_unless_off() {
    use common::{app, TestServer};
    for (tcp_keepalive, want) in [(Some(Duration::from_secs(60)), 2), (None, 0)] {
        let server = TestServer::start(
            app::router(app::App::default()),
            ServerConfig::default().tcp_keepalive(tcp_keepalive),
        )
        .await;
        let client = std::net::TcpStream::connect(server.addr).unwrap();
        let mut seen = None;
        for _ in 0..40 {
            seen = server_side_timer(server.addr, &client);
            if seen.is_some_and(|(kind, _)| kind == want) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (kind, left) = seen.expect("the server's end of the connection is in /proc/net/tcp");
        assert_eq!(kind, want, "{tcp_keepalive:?}: timer {kind}, {left} s left");
        if tcp_keepalive.is_some() {
            assert!(
                left > 30.0,
                "the keepalive idle timer, not another one: {left} s"
            );
        }
    }
}
