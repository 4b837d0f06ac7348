//! The instruction-count harness behind `make bench-guard` (scripts/bench_guard.py); not an
//! example to copy.
//!
//! `bench_guard <scenario> [--warmup N] [--calls K]` starts, in this one process, a server (the
//! example app through centrpc's public `server::bind` + `run`, or the bare tonic service of
//! `bench/bare_tonic.rs`) on loopback and a tonic client, all on ONE current-thread tokio
//! runtime, so a call's client and server work run on this thread in a fixed order. It checks one
//! reply, makes `N` warm-up calls, then makes `K` calls inside [`centrpc_guard_measure`].
//! callgrind counts only that function (`--toggle-collect=*centrpc_guard_measure*`), so
//! instructions ÷ `K` is the cost of one call: client + server, including the runtime and the
//! loopback socket I/O in user space (the kernel's share is not counted).
//!
//! Scenarios (`bench_guard --list`): `small` (`tasks.get_stats {"user_id":"42"}`), `payload_10k`
//! (`types.roundtrip` with a 10 kB `Everything`), `invalid_params` (`tasks.get_stats
//! {"user_id":42}`, the 422 path), `subscribe` (the `tasks:*` hook, allowed), `bare` (bare tonic,
//! the same request as `small`, answered with pre-encoded bytes), `bare_subscribe` (bare tonic,
//! the same request as `subscribe`), and `hand_written` / `hand_written_invalid` /
//! `hand_written_subscribe` (the requests of `small`, `invalid_params` and `subscribe` answered
//! by a hand-written tonic service that does the application's own work and answers byte for
//! byte as centrpc does: serde in and out, the 422 with its field path, the hook's channel
//! check; the baseline of centrpc's own share).
//!
//! Determinism: the binary defines `clock_gettime` and `getrandom` itself (module
//! [`determinism`]), which the linker prefers over libc's. Time advances by a fixed step per clock
//! read and "random" bytes are a fixed stream, so hash seeds, hyper's `date` header, timer-wheel
//! positions, latency-histogram buckets and with them the heap's layout are the same in every run.
//! A real clock moves those by up to a few percent between runs on large payloads.
//!
//! `CENTRPC_GUARD_SLOWDOWN=<n>` makes every measured call also fill an `n`-element `Vec` (an extra
//! allocation and ~`4n` instructions): the deliberately slowed build that proves the guard trips.

#[allow(dead_code)]
#[path = "../examples/tasks/app.rs"]
mod app;
#[allow(dead_code, unreachable_pub)]
#[path = "bare_tonic.rs"]
mod bare_tonic;
#[allow(dead_code)]
#[path = "../tests/fixtures/everything.rs"]
mod types;

use std::{hint::black_box, net::SocketAddr, process::ExitCode};

use centrpc::{
    proto::{centrifugo_proxy_client::CentrifugoProxyClient, RpcRequest, SubscribeRequest},
    server::{self, ServerConfig},
};
use serde_json::json;
use tokio::runtime::Runtime;
use tonic::transport::{Channel, Endpoint};

type Client = CentrifugoProxyClient<Channel>;

/// The server a scenario calls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    /// The example app (`examples/tasks`) served by centrpc with default limits and logging.
    Centrpc,
    /// `bench/bare_tonic.rs`: tonic with pre-encoded replies.
    Bare,
    /// `bench/bare_tonic.rs`: tonic with a hand-written typed `tasks.get_stats`.
    HandWritten,
}

/// One proxy call, pre-built so the measured loop only sends it.
#[derive(Clone)]
enum Call {
    Rpc(RpcRequest),
    Subscribe(SubscribeRequest),
}

/// What a scenario's reply must be (checked once, before warming up).
enum Expect {
    /// `result.data`, byte for byte.
    Data(&'static [u8]),
    /// `result.data` decodes to the same `Everything` as the request.
    RoundTrip,
    /// An in-band error with this code and message, byte for byte: a baseline answers as centrpc
    /// does, so the two do the same work.
    Error(u32, &'static str),
    /// A subscribe `result`, no error.
    Allowed,
}

struct Scenario {
    name: &'static str,
    server: Server,
    call: Call,
    expect: Expect,
}

const SCENARIOS: [&str; 9] = [
    "small",
    "payload_10k",
    "invalid_params",
    "subscribe",
    "bare",
    "bare_subscribe",
    "hand_written",
    "hand_written_invalid",
    "hand_written_subscribe",
];

/// The 422 of `{"user_id":42}`, from centrpc and from the hand-written service alike.
const INVALID: Expect = Expect::Error(
    centrpc::codes::INVALID_PARAMS,
    "invalid params: user_id: invalid type: integer `42`, expected a string at line 1 column 13",
);

/// `tasks.get_stats` for user 42 on a fresh app, and bare tonic's pre-encoded answer.
const STATS: &[u8] = br#"{"total":0,"completed":0}"#;

fn rpc(method: &str, data: Vec<u8>) -> Call {
    // The fields ghz sends in `make bench` (and Centrifugo sends for a JSON client).
    Call::Rpc(RpcRequest {
        client: "c".into(),
        transport: "websocket".into(),
        protocol: "json".into(),
        encoding: "json".into(),
        user: "42".into(),
        method: method.into(),
        data,
        ..Default::default()
    })
}

fn subscribe() -> Call {
    Call::Subscribe(SubscribeRequest {
        client: "c".into(),
        transport: "websocket".into(),
        protocol: "json".into(),
        encoding: "json".into(),
        user: "42".into(),
        channel: "tasks:42".into(),
        ..Default::default()
    })
}

/// An `Everything` of at least 10 000 bytes of JSON: the fixed fields plus enough `items`.
fn everything_10k() -> Vec<u8> {
    let mut value = json!({
        "text": "a 10 kB typed payload for the instruction-count guard",
        "count": 3, "ratio": 0.5, "flag": true,
        "bigSigned": -9_007_199_254_740_991_i64, "bigUnsigned": 18_446_744_073_709_551_615_u64,
        "maybe": null, "withDefault": 7,
        "tags": ["alpha", "beta", "gamma", "delta"],
        "scores": {"a": 1.5, "b": 2.25, "c": -3.0},
        "byId": {"7": "seven"}, "byOffset": {"-3": 0.5}, "byColor": {"red": 1},
        "nested": {"label": "nested", "weight": 1.5},
        "items": [],
        "color": "dark_blue",
        "shape": {"kind": "rect", "w": 2.0, "h": 3.5},
        "event": {"type": "created", "data": {"label": "created", "weight": null}},
        "command": {"Stop": {"force": true}},
        "scalar": ["one", "two"],
        "id": 42,
        "when": "2026-11-29T12:00:00Z",
        "uuid": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "extra": {"k": [1, 2, 3], "nested": {"ok": true}},
        "from": "42",
        "type": "bench",
        "bytes": [0, 1, 127, 255],
    });
    let mut i = 0_u32;
    while serde_json::to_vec(&value).expect("JSON").len() < 10_000 {
        value["items"]
            .as_array_mut()
            .expect("items is an array")
            .push(json!({"label": format!("item-{i:04}"), "weight": f64::from(i) / 4.0}));
        i += 1;
    }
    serde_json::to_vec(&value).expect("JSON")
}

fn scenario(name: &str) -> Option<Scenario> {
    let (server, call, expect) = match name {
        "small" => (
            Server::Centrpc,
            rpc("tasks.get_stats", br#"{"user_id":"42"}"#.to_vec()),
            Expect::Data(STATS),
        ),
        "payload_10k" => (
            Server::Centrpc,
            rpc("types.roundtrip", everything_10k()),
            Expect::RoundTrip,
        ),
        "invalid_params" => (
            Server::Centrpc,
            rpc("tasks.get_stats", br#"{"user_id":42}"#.to_vec()),
            INVALID,
        ),
        "subscribe" => (Server::Centrpc, subscribe(), Expect::Allowed),
        "bare" => (
            Server::Bare,
            rpc("tasks.get_stats", br#"{"user_id":"42"}"#.to_vec()),
            Expect::Data(STATS),
        ),
        "bare_subscribe" => (Server::Bare, subscribe(), Expect::Allowed),
        "hand_written" => (
            Server::HandWritten,
            rpc("tasks.get_stats", br#"{"user_id":"42"}"#.to_vec()),
            Expect::Data(STATS),
        ),
        "hand_written_invalid" => (
            Server::HandWritten,
            rpc("tasks.get_stats", br#"{"user_id":42}"#.to_vec()),
            INVALID,
        ),
        "hand_written_subscribe" => (Server::HandWritten, subscribe(), Expect::Allowed),
        _ => return None,
    };
    let name = SCENARIOS.into_iter().find(|s| *s == name)?;
    Some(Scenario {
        name,
        server,
        call,
        expect,
    })
}

/// The outcome of one call, reduced to what the checks need.
enum Reply {
    Data(Vec<u8>),
    Error(u32, String),
    Allowed,
    Other(String),
}

impl Call {
    async fn send(self, client: &mut Client) -> Reply {
        match self {
            Call::Rpc(r) => match client.rpc(r).await.map(tonic::Response::into_inner) {
                Ok(r) => match (r.result, r.error) {
                    (Some(res), None) => Reply::Data(res.data),
                    (None, Some(e)) => Reply::Error(e.code, e.message),
                    other => Reply::Other(format!("{other:?}")),
                },
                Err(status) => Reply::Other(status.to_string()),
            },
            Call::Subscribe(r) => {
                match client.subscribe(r).await.map(tonic::Response::into_inner) {
                    Ok(r) if r.result.is_some() && r.error.is_none() => Reply::Allowed,
                    Ok(r) => Reply::Other(format!("{r:?}")),
                    Err(status) => Reply::Other(status.to_string()),
                }
            }
        }
    }
}

fn check(s: &Scenario, reply: Reply) -> Result<(), String> {
    let request_data = match &s.call {
        Call::Rpc(r) => &r.data[..],
        Call::Subscribe(_) => &[],
    };
    let ok = match (&s.expect, &reply) {
        (Expect::Data(want), Reply::Data(got)) => got == want,
        (Expect::RoundTrip, Reply::Data(got)) => {
            let parse = |b: &[u8]| serde_json::from_slice::<types::Everything>(b).ok();
            parse(got).is_some() && parse(got) == parse(request_data)
        }
        (Expect::Error(code, message), Reply::Error(got, text)) => code == got && message == text,
        (Expect::Allowed, Reply::Allowed) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let got = match reply {
        Reply::Data(d) => format!("data {}", String::from_utf8_lossy(&d)),
        Reply::Error(code, message) => format!("error {code} {message:?}"),
        Reply::Allowed => "allowed".into(),
        Reply::Other(o) => o,
    };
    Err(format!("scenario {}: unexpected reply: {got}", s.name))
}

/// Starts the scenario's server on 127.0.0.1:0 (as a task of `rt`) and returns its address.
fn start(rt: &Runtime, server: Server) -> Result<SocketAddr, String> {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    match server {
        Server::Centrpc => {
            let config = ServerConfig::default().listen(loopback);
            let router = app::router(app::App::new(None));
            let bound = rt
                .block_on(server::bind(router, config))
                .map_err(|e| e.to_string())?;
            let addr = bound.local_addr();
            rt.spawn(bound.run(std::future::pending()));
            Ok(addr)
        }
        Server::Bare | Server::HandWritten => {
            let listener = rt
                .block_on(tokio::net::TcpListener::bind(loopback))
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            rt.spawn(async move {
                let pending = std::future::pending();
                let served = match server {
                    Server::HandWritten => {
                        let service = bare_tonic::HandWritten::default();
                        bare_tonic::serve_on(listener, service, pending).await
                    }
                    _ => bare_tonic::serve_on(listener, bare_tonic::Bare, pending).await,
                };
                if let Err(e) = served {
                    eprintln!("bench_guard: bare tonic failed: {e}");
                }
            });
            Ok(addr)
        }
    }
}

/// The measured region: `calls` sent one after the other, each awaited, on the runtime that also
/// runs the server. callgrind collects only while this function is on the stack.
#[inline(never)]
fn centrpc_guard_measure(rt: &Runtime, client: &mut Client, calls: Vec<Call>, slowdown: usize) {
    rt.block_on(async {
        for call in calls {
            black_box(call.send(client).await);
            if slowdown > 0 {
                waste(slowdown);
            }
        }
    });
}

/// The deliberate slowdown: one extra allocation filled element by element.
#[inline(never)]
fn waste(n: usize) {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.push(black_box(i as u64));
    }
    black_box(v);
}

/// Deterministic stand-ins for the two libc functions through which wall-clock time and
/// randomness enter the process (std's `Instant`/`SystemTime` and `RandomState`, hence tokio,
/// hyper, h2 and centrpc). Defined in the executable, they win over libc's at link time.
#[cfg(target_os = "linux")]
mod determinism {
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

    /// `struct timespec` on 64-bit Linux.
    #[repr(C)]
    pub struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    /// Nanoseconds of simulated time; every clock read advances it by [`STEP_NS`].
    static NOW_NS: AtomicI64 = AtomicI64::new(0);
    const STEP_NS: i64 = 1_000;
    /// `CLOCK_REALTIME` starts at 2027-01-01T00:00:00Z; the other clocks at 1000 s.
    const REALTIME_START_S: i64 = 1_798_761_600;
    const OTHER_START_S: i64 = 1_000;

    /// `int clock_gettime(clockid_t, struct timespec *)`: simulated time, one step per read.
    ///
    /// # Safety
    /// `ts` must be valid for a write, as libc requires.
    #[no_mangle]
    pub unsafe extern "C" fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
        let ns = NOW_NS.fetch_add(STEP_NS, Ordering::Relaxed);
        let start = if clock == 0 {
            REALTIME_START_S
        } else {
            OTHER_START_S
        };
        // SAFETY: the caller passes a valid `timespec`, as for libc's function.
        unsafe {
            ts.write(Timespec {
                tv_sec: start + ns / 1_000_000_000,
                tv_nsec: ns % 1_000_000_000,
            });
        }
        0
    }

    /// The state of the "random" stream (splitmix64 from a fixed seed).
    static STREAM: AtomicU64 = AtomicU64::new(0x5eed_f00d_ce47_7bc0);

    /// `ssize_t getrandom(void *, size_t, unsigned)`: a fixed byte stream.
    ///
    /// # Safety
    /// `buf` must be valid for `len` bytes of writes, as libc requires.
    #[no_mangle]
    pub unsafe extern "C" fn getrandom(buf: *mut u8, len: usize, _flags: u32) -> isize {
        for i in 0..len {
            let mut z = STREAM
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
                .wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            // SAFETY: the caller passes `len` writable bytes, as for libc's function.
            unsafe { buf.add(i).write((z ^ (z >> 31)) as u8) };
        }
        len as isize
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: bench_guard <scenario> [--warmup N] [--calls K]\n       bench_guard --list\n\
         scenarios: {}",
        SCENARIOS.join(" ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        println!("{}", SCENARIOS.join("\n"));
        return ExitCode::SUCCESS;
    }
    let Some(s) = args.first().and_then(|a| scenario(a)) else {
        return usage();
    };
    let (mut warmup, mut calls) = (100_usize, 500_usize);
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let Some(n) = rest.next().and_then(|v| v.parse().ok()) else {
            return usage();
        };
        match flag.as_str() {
            "--warmup" => warmup = n,
            "--calls" => calls = n,
            _ => return usage(),
        }
    }
    let slowdown = match std::env::var("CENTRPC_GUARD_SLOWDOWN") {
        Ok(v) => match v.parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("bench_guard: CENTRPC_GUARD_SLOWDOWN must be a number, got {v:?}");
                return ExitCode::from(2);
            }
        },
        Err(_) => 0,
    };
    match run(&s, warmup, calls, slowdown) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_guard: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(s: &Scenario, warmup: usize, calls: usize, slowdown: usize) -> Result<(), String> {
    // The logging a default `serve` installs: failed calls log at INFO, successful ones at DEBUG.
    // The production log setup of `serve`: text lines on stderr at INFO.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .try_init();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let addr = start(&rt, s.server)?;
    let endpoint = Endpoint::from_shared(format!("http://{addr}")).map_err(|e| e.to_string())?;
    let channel = rt
        .block_on(endpoint.connect())
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let mut client = CentrifugoProxyClient::new(channel);
    check(s, rt.block_on(s.call.clone().send(&mut client)))?;
    rt.block_on(async {
        for _ in 0..warmup {
            black_box(s.call.clone().send(&mut client).await);
        }
    });
    let batch = vec![s.call.clone(); calls];
    centrpc_guard_measure(&rt, &mut client, batch, slowdown);
    eprintln!(
        "bench_guard: {} done: {warmup} warm-up + {calls} measured calls",
        s.name
    );
    Ok(())
}
