//! Benchmark baselines for `make bench` (scripts/bench.py); not an example to copy.
//!
//! - `bare_tonic [--listen ADDR]`: a bare tonic server for Centrifugo's proxy protocol, the
//!   ceiling of tonic on this machine. `RPC` answers every method with one pre-encoded result
//!   (`{"total":0,"completed":0}`, what `tasks.get_stats` returns for a user without tasks) and
//!   `system.echo` with the request bytes unchanged — no JSON parsing, no routing, no limits, no
//!   logs, no metrics. It serves reflection (v1) like centrpc, so ghz needs no `.proto` file.
//!   `Subscribe` allows every channel with an empty result (what centrpc sends for
//!   `SubscribeReply::default()`). `make bench-guard` (examples/bench_guard.rs) includes this
//!   file, so its instruction counts use this very service.
//! - `bare_tonic --hand-written [--listen ADDR]`: what an application writes for
//!   `tasks.get_stats` without centrpc: the same tonic server, but `RPC` decodes the params with
//!   serde, counts the user's tasks in a locked store as the example's handler does, encodes the
//!   result with serde, and answers bad params in-band with centrpc's 422 (the same message,
//!   field path included); `Subscribe` runs the example's `tasks:*` check (own channel only).
//!   The application's own work is then the same on both sides, so `centrpc − hand-written` is
//!   what centrpc adds to a call (`make bench-guard`'s `hand_written` scenarios).
//! - `bare_tonic centrpc-many --methods N [centrpc CLI args…]`: a centrpc app with `N` methods
//!   `bench.m0` … `bench.m<N-1>`, all sharing one `tasks.get_stats`-like handler, served by
//!   centrpc's own command line (`… centrpc-many --methods 10000 serve --listen 127.0.0.1:10003`),
//!   to show that dispatch cost does not depend on the number of registered methods.

use std::{collections::BTreeMap, future::Future, net::SocketAddr, process::ExitCode, sync::Mutex};

use centrpc::{
    proto::{
        centrifugo_proxy_server::{CentrifugoProxy, CentrifugoProxyServer},
        Error, RpcRequest, RpcResponse, RpcResult, SubscribeRequest, SubscribeResponse,
        SubscribeResult, FILE_DESCRIPTOR_SET,
    },
    server::{TCP_KEEPALIVE_INTERVAL, TCP_KEEPALIVE_RETRIES},
    Context, Router, RpcError,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tonic::{transport::server::TcpIncoming, Request, Response, Status};

/// The pre-encoded result of `tasks.get_stats` for a user without tasks.
const STATS: &[u8] = br#"{"total":0,"completed":0}"#;

/// Messages up to 4 MiB + 64 KiB, enough for the 1 MB payload point with base64 and framing.
const MAX_MESSAGE: usize = 4 * 1024 * 1024 + 64 * 1024;

/// The bare proxy service.
#[derive(Debug)]
pub struct Bare;

#[tonic::async_trait]
impl CentrifugoProxy for Bare {
    async fn rpc(&self, request: Request<RpcRequest>) -> Result<Response<RpcResponse>, Status> {
        let req = request.into_inner();
        let data = if req.method == "system.echo" {
            req.data
        } else {
            STATS.to_vec()
        };
        Ok(Response::new(RpcResponse {
            result: Some(RpcResult {
                data,
                b64data: String::new(),
            }),
            error: None,
            disconnect: None,
        }))
    }

    async fn subscribe(
        &self,
        _request: Request<SubscribeRequest>,
    ) -> Result<Response<SubscribeResponse>, Status> {
        Ok(Response::new(SubscribeResponse {
            result: Some(SubscribeResult::default()),
            error: None,
            disconnect: None,
        }))
    }
}

/// A hand-written proxy service for `tasks.get_stats`: the example's handler without centrpc.
#[derive(Debug, Default)]
pub struct HandWritten {
    /// Task owner and done flag by id, as the example app keeps them (empty: a fresh app).
    tasks: Mutex<BTreeMap<u64, (String, bool)>>,
}

#[tonic::async_trait]
impl CentrifugoProxy for HandWritten {
    async fn rpc(&self, request: Request<RpcRequest>) -> Result<Response<RpcResponse>, Status> {
        let req = request.into_inner();
        let answer = match req.method.as_str() {
            "tasks.get_stats" => match serde_json::from_slice::<StatsParams>(&req.data) {
                Ok(p) => {
                    let tasks = self.tasks.lock().expect("task store lock");
                    let mine = tasks.values().filter(|(owner, _)| *owner == p.user_id);
                    let (total, completed) =
                        mine.fold((0, 0), |(t, c), (_, done)| (t + 1, c + u64::from(*done)));
                    let result = StatsResult { total, completed };
                    Ok(serde_json::to_vec(&result).expect("a result encodes"))
                }
                Err(_) => Err((422, explain::<StatsParams>(&req.data))),
            },
            _ => Err((404, "method not found".to_owned())),
        };
        let (result, error) = match answer {
            Ok(data) => (
                Some(RpcResult {
                    data,
                    b64data: String::new(),
                }),
                None,
            ),
            Err((code, message)) => (
                None,
                Some(Error {
                    code,
                    message,
                    temporary: false,
                }),
            ),
        };
        Ok(Response::new(RpcResponse {
            result,
            error,
            disconnect: None,
        }))
    }

    /// The example's `tasks:*` hook: a user may subscribe to their own channel only.
    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<SubscribeResponse>, Status> {
        let req = request.into_inner();
        let own = req.channel.strip_prefix("tasks:") == Some(req.user.as_str());
        Ok(Response::new(SubscribeResponse {
            result: own.then(SubscribeResult::default),
            error: (!own).then(|| Error {
                code: NOT_YOUR_CHANNEL,
                message: "you may only subscribe to your own tasks channel".into(),
                temporary: false,
            }),
            disconnect: None,
        }))
    }
}

/// The example's code for a channel that is not the caller's.
const NOT_YOUR_CHANNEL: u32 = 1403;

/// What a hand-written service does to answer bad params as centrpc does, field path included:
/// a second decoding pass with path tracking, taken only once the fast pass has failed.
fn explain<T: serde::de::DeserializeOwned>(data: &[u8]) -> String {
    let mut de = serde_json::Deserializer::from_slice(data);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => "invalid params: the params do not fit the method's type".into(),
        Err(e) => format!("invalid params: {}: {}", e.path(), e.inner()),
    }
}

async fn serve_bare(
    listen: SocketAddr,
    service: impl CentrifugoProxy,
) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("bare_tonic: serving on {listen}");
    serve_on(listener, service, centrpc::server::shutdown_signal()).await
}

/// Serves `service` (`Bare` or `HandWritten`) and reflection on `listener` until `shutdown`
/// resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    service: impl CentrifugoProxy,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Box<dyn std::error::Error>> {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let proxy = CentrifugoProxyServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    // The transport settings of centrpc's server by default (TCP_NODELAY, HTTP/2 and TCP
    // keepalive), so the comparison is like for like: hyper's keepalive bookkeeping costs a call
    // 1,000–1,900 instructions (README, "Performance guard"), and it is tonic's work.
    let config = centrpc::server::ServerConfig::default();
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(config.tcp_keepalive)
        .with_keepalive_interval(config.tcp_keepalive.map(|_| TCP_KEEPALIVE_INTERVAL))
        .with_keepalive_retries(config.tcp_keepalive.map(|_| TCP_KEEPALIVE_RETRIES));
    tonic::transport::Server::builder()
        .http2_keepalive_interval(config.http2_keepalive_interval)
        .http2_keepalive_timeout(Some(config.http2_keepalive_timeout))
        .add_service(reflection)
        .add_service(proxy)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

/// Parameters of the shared handler (the same shape as `tasks.get_stats`).
#[derive(Deserialize, JsonSchema)]
struct StatsParams {
    /// The user whose tasks are counted.
    user_id: String,
}

/// Its result.
#[derive(Serialize, JsonSchema)]
struct StatsResult {
    /// Total tasks.
    total: u64,
    /// Completed tasks.
    completed: u64,
}

/// Counts nothing: like `tasks.get_stats` on a fresh app, every user has no tasks.
async fn stats(_ctx: Context, p: StatsParams) -> Result<StatsResult, RpcError> {
    let _ = p.user_id;
    Ok(StatsResult {
        total: 0,
        completed: 0,
    })
}

fn many_methods_router(n: usize) -> Router {
    let mut router = Router::new(()).info("bench-many", "0.1.0");
    for i in 0..n {
        router = router.rpc(&format!("bench.m{i}"), stats);
    }
    router
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: bare_tonic [--hand-written] [--listen ADDR]\n       \
         bare_tonic centrpc-many --methods N <centrpc CLI args, e.g. serve --listen ADDR>"
    );
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("centrpc-many") => {
            let (Some("--methods"), Some(n)) = (args.get(2).map(String::as_str), args.get(3))
            else {
                return usage();
            };
            let Ok(n) = n.parse::<usize>() else {
                return usage();
            };
            if n == 0 {
                return usage();
            }
            let cli_args = std::iter::once("bare_tonic centrpc-many".to_owned())
                .chain(args[4..].iter().cloned());
            centrpc::cli::run_from(cli_args, many_methods_router(n)).await
        }
        _ => {
            let hand_written = args.get(1).map(String::as_str) == Some("--hand-written");
            let rest = &args[1 + usize::from(hand_written)..];
            let listen = match rest {
                [] => SocketAddr::from(([127, 0, 0, 1], 10002)),
                [flag, a] if flag == "--listen" => match a.parse() {
                    Ok(a) => a,
                    Err(_) => return usage(),
                },
                _ => return usage(),
            };
            let served = match hand_written {
                true => serve_bare(listen, HandWritten::default()).await,
                false => serve_bare(listen, Bare).await,
            };
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bare_tonic: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
