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
//! - `bare_tonic centrpc-many --methods N [centrpc CLI args…]`: a centrpc app with `N` methods
//!   `bench.m0` … `bench.m<N-1>`, all sharing one `tasks.get_stats`-like handler, served by
//!   centrpc's own command line (`… centrpc-many --methods 10000 serve --listen 127.0.0.1:10003`),
//!   to show that dispatch cost does not depend on the number of registered methods.

use std::{future::Future, net::SocketAddr, process::ExitCode};

use centrpc::{
    proto::{
        centrifugo_proxy_server::{CentrifugoProxy, CentrifugoProxyServer},
        RpcRequest, RpcResponse, RpcResult, SubscribeRequest, SubscribeResponse, SubscribeResult,
        FILE_DESCRIPTOR_SET,
    },
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

async fn serve_bare(listen: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("bare_tonic: serving on {listen}");
    serve_bare_on(listener, centrpc::server::shutdown_signal()).await
}

/// Serves the bare service (and reflection) on `listener` until `shutdown` resolves.
pub async fn serve_bare_on(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Box<dyn std::error::Error>> {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let proxy = CentrifugoProxyServer::new(Bare)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    // The same TCP_NODELAY as centrpc's server, so the comparison is like for like.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
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
        "usage: bare_tonic [--listen ADDR]\n       \
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
        None | Some("--listen") => {
            let listen = match args.get(2) {
                Some(a) => match a.parse() {
                    Ok(a) => a,
                    Err(_) => return usage(),
                },
                None if args.len() == 1 => SocketAddr::from(([127, 0, 0, 1], 10002)),
                None => return usage(),
            };
            match serve_bare(listen).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bare_tonic: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(_) => usage(),
    }
}
