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
//! # #[cfg(feature = "cli")] mod doc {
//! use centrpc::{method, Context, Router, RpcError};
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
//!     let router = Router::new(())
//!         .rpc("tasks.get_stats", method(get_task_stats).describe("Get task statistics for a user."));
//!     centrpc::cli::run(router).await // `my-app serve --listen 127.0.0.1:10001`
//! }
//! # }
//! ```
//!
//! # Features
//!
//! Everything but the core is a Cargo feature, so a server links only what it uses. The default
//! set is the whole toolkit (the seed's workflow: one binary that serves, configures Centrifugo
//! and generates clients); `default-features = false` leaves the core: the router, handlers,
//! hooks, middleware, the error model and the `CentrifugoProxy` tonic service, ready to mount in
//! a tonic server of your own.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `server` | yes | `server`: the standalone gRPC server with health, reflection, credentials check, TLS/mTLS and graceful drain |
//! | `metrics` | yes | `metrics`: Prometheus series per call; with `server`, a `/metrics` endpoint |
//! | `cli` | yes | `cli`: the application binary's commands (`serve`, `centrifugo-config`, `schema`, `token`); implies `server` and `token` |
//! | `token` | yes | `token`: HS256 connection tokens for Centrifugo |
//! | `server-api` | yes | `ServerApi`: Centrifugo's server HTTP API, for publishing from handlers |
//! | `rate-limit` | yes | `middleware::RateLimitLayer`: per-user / per-method token buckets |
//! | `codegen` | yes | the `generate` command and `codegen` (typed Python, TypeScript, Go clients); implies `cli` |
//! | `devtools` | yes | the `call` and `docs` commands (try a method; an API reference page with a live console); implies `codegen` |
//! | `test-util` | no | `testing::TestClient`: drive the real pipeline in process, without a network |
//!
//! # Layout
//! - [`router`]: method names → handlers ([`method`]), plus application state and layers.
//! - [`handler`]: what a handler is, and how its JSON payload is decoded.
//! - [`context`]: what a handler knows about its call.
//! - [`error`]: [`RpcError`] and every built-in error code ([`codes`]).
//! - [`hooks`]: connect / refresh / subscribe / publish / sub_refresh hooks.
//! - [`stream`]: subscription streams, uni- and bidirectional, typed.
//! - [`channel`]: typed channels, their publications and their clients' publications.
//! - [`call`] and [`middleware`]: what flows through tower layers, and the layers centrpc ships.
//! - [`service`]: the `CentrifugoProxy` gRPC service (decode → route → middleware → handler →
//!   encode).
//! - [`schema`]: the API document the client generators read.
//! - `server` (feature `server`): the standalone server, and `Parts` to embed it in your own.
//! - `metrics`, `cli`, `testing`, `token`, `ServerApi`: the features of the same names.
//! - [`proto`]: the generated protocol types.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "server-api")]
pub mod api;
pub mod call;
#[cfg(feature = "cli")]
mod centrifugo_config;
pub mod channel;
#[cfg(feature = "cli")]
pub mod cli;
pub mod context;
#[cfg(feature = "devtools")]
mod devtools;
mod dispatch;
pub mod error;
pub mod handler;
pub mod hooks;
pub mod metrics;
pub mod middleware;
pub mod router;
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
pub mod service;
pub mod stream;
#[cfg(feature = "test-util")]
pub mod testing;
#[cfg(feature = "token")]
pub mod token;

/// The client generators (the `centrpc-codegen` crate), behind the `codegen` feature.
#[cfg(feature = "codegen")]
pub use centrpc_codegen as codegen;

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

#[cfg(feature = "server-api")]
pub use api::ServerApi;
pub use call::{Call, CallResult, Event, Reply};
pub use channel::{Channel, ChannelName};
pub use context::Context;
pub use error::{codes, DeclaredError, ErrorKind, ResultExt, RpcError};
pub use router::{method, MethodDef, Router};
