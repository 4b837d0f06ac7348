//! The app of `make bench`'s `streams` scenario (scripts/bench.py); not an example to copy.
//!
//! - the stream `bench:*` (`bench:<conn>-<sub>`, one per subscription, since a connection may
//!   subscribe to a channel once): params `{count, interval_us, gate}`, items `{n, at_us}` with
//!   `n` counting 0..count and `at_us` the unix time in microseconds when the item was produced,
//!   so the subscriber measures delivery latency on the same machine's clock. `interval_us` 0
//!   yields as fast as centrpc pulls (the HTTP/2 flow-control window decides); otherwise one item
//!   per interval, each stream's first tick offset by a spread fraction of the interval so the
//!   streams do not all fire at once. A stream with `gate` g > 0 stays idle until
//!   `control.go {gate: g}` (or a later gate) opens it, so a harness can open many streams, measure
//!   them idle, then start them all at once; each run uses the next g.
//! - the typed channel `feed:*` (`Channel<Item>`), the server-API path the stream is compared
//!   with. `control.publish {keys, count, interval_us, concurrency}` publishes the same items,
//!   paced the same way, to each `feed:<key>` through `centrpc::ServerApi` (Centrifugo's
//!   `/api/publish`, one request per item, `concurrency` requests in flight, each channel's items
//!   in order), as an app publishing from its handlers would. It needs
//!   `CENTRPC_CENTRIFUGO_API_URL` and `CENTRPC_CENTRIFUGO_API_KEY`. The channel has no subscribe
//!   hook, so `centrifugo-config` lets clients subscribe to it.
//! - `control.stats`: items published / failed through the API so far, streams opened.
//!
//! Served by centrpc's own command line (`serve`, `centrifugo-config`, …).

use std::{
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use centrpc::{method, stream, Channel, Context, Router, RpcError, ServerApi};
use futures_util::Stream;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{watch, Semaphore},
    time::{Instant, Interval, MissedTickBehavior},
};

/// Shared by the handlers.
struct Shared {
    /// The last gate `control.go` opened: streams gated at or below it run.
    gate: watch::Sender<u64>,
    /// Centrifugo's server API, for `control.publish`.
    api: Option<ServerApi>,
    /// Streams opened so far (also spreads their first ticks).
    opened: AtomicU64,
    /// Items published through the API so far, and publishes that failed.
    published: AtomicU64,
    failed: AtomicU64,
}

type State = Arc<Shared>;

/// Parameters of a `bench:<key>` stream.
#[derive(Debug, Deserialize, JsonSchema)]
struct ItemsParams {
    /// How many items, then the stream ends.
    count: u64,
    /// Microseconds between items (0: as fast as they are pulled).
    #[serde(default)]
    interval_us: u64,
    /// Stay idle until `control.go` opens this gate (0: no gate).
    #[serde(default)]
    gate: u64,
}

/// One item, on a stream or on a `feed:<key>` channel.
#[derive(Debug, Clone, Serialize, JsonSchema)]
struct Item {
    /// 0, 1, … count-1.
    n: u64,
    /// When the item was produced (unix time, microseconds).
    at_us: u64,
}

/// The server-API path: the same items, published to `feed:<key>`.
const FEED: Channel<Item> =
    Channel::new("feed:*").describe("Benchmark items published through the server API.");

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The pacing of the `k`-th stream or channel: `interval_us` apart, the first tick offset by a
/// spread fraction of the interval (Fibonacci hashing of `k`); `None` for as fast as possible.
fn pacing(k: u64, interval_us: u64) -> Option<Interval> {
    (interval_us > 0).then(|| {
        let offset = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) % interval_us;
        let mut t = tokio::time::interval_at(
            Instant::now() + Duration::from_micros(offset),
            Duration::from_micros(interval_us),
        );
        t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        t
    })
}

/// `bench:<key>`: `count` items, `interval_us` apart, then the end.
async fn items(
    ctx: Context<State>,
    p: ItemsParams,
) -> Result<impl Stream<Item = Result<Item, RpcError>>, RpcError> {
    let shared = ctx.state().clone();
    let k = shared.opened.fetch_add(1, Ordering::Relaxed);
    let count = p.count;
    let (gate, opens) = ((p.gate > 0).then(|| shared.gate.subscribe()), p.gate);
    Ok(futures_util::stream::unfold(
        (0u64, None::<Interval>, gate),
        move |(n, mut ticks, mut gate)| async move {
            if n >= count {
                return None;
            }
            if n == 0 {
                if let Some(gate) = gate.as_mut() {
                    // The sender lives as long as the app, so this waits for `control.go`.
                    let _ = gate.wait_for(|open| *open >= opens).await;
                }
                ticks = pacing(k, p.interval_us);
            }
            if let Some(t) = ticks.as_mut() {
                t.tick().await;
            }
            Some((Ok(Item { n, at_us: now_us() }), (n + 1, ticks, gate)))
        },
    ))
}

/// Nothing.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Empty {}

/// Parameters of `control.go`.
#[derive(Debug, Deserialize, JsonSchema)]
struct GoParams {
    /// Starts the streams gated at or below this.
    gate: u64,
}

/// Opens a gate: the streams waiting for it start.
async fn go(ctx: Context<State>, p: GoParams) -> Result<Empty, RpcError> {
    ctx.state().gate.send_if_modified(|open| {
        let opens = p.gate > *open;
        *open = (*open).max(p.gate);
        opens
    });
    Ok(Empty {})
}

/// Parameters of `control.publish`.
#[derive(Debug, Deserialize, JsonSchema)]
struct PublishParams {
    /// Publishes to `feed:<key>` for each key.
    keys: Vec<String>,
    /// Items per channel.
    count: u64,
    /// Microseconds between a channel's items (0: back to back).
    #[serde(default)]
    interval_us: u64,
    /// API requests in flight at most.
    concurrency: usize,
}

/// Starts publishing (returns at once).
async fn publish(ctx: Context<State>, p: PublishParams) -> Result<Empty, RpcError> {
    let shared = ctx.state().clone();
    if shared.api.is_none() {
        return Err(RpcError::invalid_params(
            "set CENTRPC_CENTRIFUGO_API_URL and CENTRPC_CENTRIFUGO_API_KEY",
        ));
    }
    let permits = Arc::new(Semaphore::new(p.concurrency.max(1)));
    for (k, key) in p.keys.into_iter().enumerate() {
        let (shared, permits) = (shared.clone(), permits.clone());
        let (count, interval_us) = (p.count, p.interval_us);
        tokio::spawn(async move {
            let api = shared.api.as_ref().expect("checked above");
            let channel = FEED.at(&key);
            let mut ticks = pacing(k as u64, interval_us);
            for n in 0..count {
                if let Some(t) = ticks.as_mut() {
                    t.tick().await;
                }
                let _permit = permits.acquire().await.expect("never closed");
                let item = Item { n, at_us: now_us() };
                match api.publish_to(&channel, &item).await {
                    Ok(()) => shared.published.fetch_add(1, Ordering::Relaxed),
                    Err(_) => shared.failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    Ok(Empty {})
}

/// What `control.stats` returns.
#[derive(Debug, Serialize, JsonSchema)]
struct Stats {
    /// Items published through the API.
    published: u64,
    /// Publishes that failed.
    failed: u64,
    /// Streams opened.
    opened: u64,
}

async fn stats(ctx: Context<State>, _: Empty) -> Result<Stats, RpcError> {
    let s = ctx.state();
    Ok(Stats {
        published: s.published.load(Ordering::Relaxed),
        failed: s.failed.load(Ordering::Relaxed),
        opened: s.opened.load(Ordering::Relaxed),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let shared = Arc::new(Shared {
        gate: watch::channel(0).0,
        api: ServerApi::from_env(),
        opened: AtomicU64::new(0),
        published: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    let router = Router::new(shared)
        .info("centrpc stream bench", "0.1.0")
        .stream(
            "bench:*",
            stream::uni(items).describe("`count` items `interval_us` apart."),
        )
        .channel(FEED)
        .rpc(
            "control.go",
            method(go).describe("Starts the gated streams."),
        )
        .rpc(
            "control.publish",
            method(publish).describe("Publishes items to `feed:<key>` channels."),
        )
        .rpc("control.stats", method(stats).describe("Publish counters."));
    centrpc::cli::run(router).await
}
