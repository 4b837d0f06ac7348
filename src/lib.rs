//! # centrpc
//!
//! Typed RPC handlers in Rust, served to real-time clients through
//! [Centrifugo](https://centrifugal.dev)'s gRPC proxy.
//!
//! A client calls `rpc("tasks.get_stats", {...})` over its WebSocket; Centrifugo forwards the call
//! to centrpc over gRPC (`CentrifugoProxy.RPC`); centrpc decodes the JSON payload into the
//! handler's params type, runs the handler and returns its result — or an [`RpcError`] carried
//! inside the reply, so the client sees your code and message, not Centrifugo's opaque `100`.
//!
//! ```no_run
//! use centrpc::{Context, Router, RpcError};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct TaskStatsParams { user_id: String }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct TaskStatsResult { total: u32, completed: u32 }
//!
//! /// Get task statistics for a user.
//! async fn get_task_stats(_ctx: Context, p: TaskStatsParams) -> Result<TaskStatsResult, RpcError> {
//!     Ok(TaskStatsResult { total: 100, completed: 75 })
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let router = Router::new(()).rpc("tasks.get_stats", get_task_stats)
//!         .describe("Get task statistics for a user.");
//!     centrpc::cli::run(router).await // `my-app serve --listen 127.0.0.1:10001`
//! }
//! ```
//!
//! # Layout
//! - [`router`]: method names → handlers, plus application state.
//! - [`handler`]: what a handler is, and how its JSON payload is decoded.
//! - [`context`]: what a handler knows about its call.
//! - [`error`]: [`RpcError`] and the built-in error codes.
//! - [`hooks`]: connect / refresh / subscribe / publish / sub_refresh hooks.
//! - [`service`]: the `CentrifugoProxy` gRPC service (decode → route → run → encode).
//! - [`server`]: tonic server with health, reflection, auth, TLS, metrics and shutdown.
//! - [`metrics`]: Prometheus metrics.
//! - [`cli`]: the application binary's command line.
//! - [`centrifugo_config`]: the matching Centrifugo config; [`token`]: connection JWTs;
//!   [`api`]: Centrifugo's server API, for publishing from handlers.
//! - [`proto`]: the generated protocol types.

pub mod api;
pub mod centrifugo_config;
pub mod cli;
pub mod codegen;
pub mod context;
pub mod error;
pub mod handler;
pub mod hooks;
pub mod metrics;
pub mod router;
pub mod schema;
pub mod server;
pub mod service;
pub mod token;

/// Centrifugo's proxy protocol (`centrifugal.centrifugo.proxy`), generated from `proto/proxy.proto`.
pub mod proto {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("centrifugal.centrifugo.proxy");

    /// The encoded descriptor set, served by the reflection service.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("proxy_descriptor");
}

/// The README's Rust examples are compiled as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use api::ServerApi;
pub use context::Context;
pub use error::{codes, ResultExt, RpcError};
pub use router::Router;
