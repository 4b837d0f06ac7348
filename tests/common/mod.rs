//! Shared test harness: starts a centrpc server on a free loopback port (in-process) and talks to
//! it over real gRPC with a tonic client, as Centrifugo would.
#![allow(dead_code)]

#[path = "../../examples/tasks/app.rs"]
pub mod app;
pub mod certs;
pub mod stack;
pub mod toxiproxy;
#[path = "../fixtures/everything.rs"]
pub mod types;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use centrpc::{
    metrics::Metrics,
    proto::{centrifugo_proxy_client::CentrifugoProxyClient, RpcRequest, RpcResponse},
    server::{self, ServerConfig},
    Router,
};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

/// A running server and the means to stop it.
pub struct TestServer {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub metrics: Metrics,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), server::ServeError>>,
}

impl TestServer {
    /// Starts `router` with `config` (its listen address is replaced by 127.0.0.1:0).
    pub async fn start<S: Send + Sync + 'static>(
        router: Router<S>,
        mut config: ServerConfig,
    ) -> Self {
        config.listen = "127.0.0.1:0".parse().unwrap();
        let bound = server::bind(router, config).await.expect("server binds");
        let (addr, metrics_addr, metrics) =
            (bound.local_addr(), bound.metrics_addr(), bound.metrics());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.run(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            metrics_addr,
            metrics,
            stop: Some(stop),
            task,
        }
    }

    /// Starts the example app with default limits.
    pub async fn example() -> Self {
        Self::start(app::router(app::App::default()), ServerConfig::default()).await
    }

    /// Sends the shutdown signal (as SIGTERM would).
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn client(&self) -> CentrifugoProxyClient<Channel> {
        CentrifugoProxyClient::new(channel(&self.url()).await)
    }

    pub async fn health(&self, service: &str) -> Result<ServingStatus, tonic::Status> {
        let mut h = HealthClient::new(channel(&self.url()).await);
        let r = h
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?
            .into_inner();
        Ok(ServingStatus::try_from(r.status).unwrap())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub async fn channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connects")
}

/// An RPC request as Centrifugo sends it for a JSON client.
pub fn rpc_request(method: &str, data: &[u8]) -> RpcRequest {
    RpcRequest {
        client: "c-1".into(),
        transport: "websocket".into(),
        protocol: "json".into(),
        encoding: "json".into(),
        user: "42".into(),
        method: method.into(),
        data: data.to_vec(),
        ..Default::default()
    }
}

/// Calls RPC and returns the reply (panics on a gRPC status: centrpc must never send one).
pub async fn call(client: &mut CentrifugoProxyClient<Channel>, req: RpcRequest) -> RpcResponse {
    client
        .rpc(req)
        .await
        .expect("RPC returns a reply, not a gRPC status")
        .into_inner()
}

/// The JSON result of a successful reply.
pub fn ok_json(reply: &RpcResponse) -> serde_json::Value {
    assert!(reply.error.is_none(), "unexpected error {:?}", reply.error);
    assert!(
        reply.disconnect.is_none(),
        "unexpected disconnect {:?}",
        reply.disconnect
    );
    let data = &reply.result.as_ref().expect("a result").data;
    serde_json::from_slice(data).expect("the result is JSON")
}

/// `(code, message, temporary)` of an error reply.
pub fn err(reply: &RpcResponse) -> (u32, String, bool) {
    let e = reply
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("expected an error, got {reply:?}"));
    (e.code, e.message.clone(), e.temporary)
}

/// The grpcurl binary that `make test` installs (scripts/setup.sh).
pub fn tool(name: &str) -> PathBuf {
    let cache = std::env::var("CENTRPC_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/centrpc"));
    let path = cache.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `scripts/setup.sh {name}` (make test does this)",
        path.display()
    );
    path
}

/// Every file under `dir` (recursively), by path relative to `dir`; empty if `dir` is missing.
pub fn files_under(dir: &std::path::Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(
        base: &std::path::Path,
        dir: &std::path::Path,
        out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(
                    path.strip_prefix(base).unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out);
    }
    out
}

/// The zero, minimal and maximal sample of every named type of the example's API document (from
/// the code generator's [`samples`](centrpc::codegen::samples)), as `types.echo` takes them, each
/// with what the server answers for it (its serde reading written back: the server's defaults
/// filled in, `null` for absent options):
/// `[{"type": "Task", "sample": "zero", "value": …, "expected": …}, …]`. `value` is a value of the
/// params-side type (`EverythingInput` for `Everything`), sent as `{"<type>": value}`; `expected`
/// is what comes back under the same key. With `js_safe`, the samples' integers stay within
/// ±(2^53 − 1), what a JavaScript number holds exactly.
pub fn type_samples(js_safe: bool) -> serde_json::Value {
    use centrpc::codegen::{
        ir::{self, Payload, TypeKind, TypeRef},
        samples::{Sample, Samples},
    };
    use serde_json::json;
    let api = ir::read(&centrpc::schema::document(
        &app::router(app::App::default()),
    ))
    .expect("the example's document reads");
    let params = api
        .methods
        .iter()
        .find(|m| m.name == "types.echo")
        .and_then(|m| match &m.params {
            Some(TypeRef::Named { name }) => api.type_def(name),
            _ => None,
        })
        .expect("types.echo takes a named type");
    let TypeKind::External { variants } = &params.kind else {
        panic!("types.echo's params are an externally tagged enum");
    };
    let samples = if js_safe {
        Samples::new(&api).js_safe()
    } else {
        Samples::new(&api)
    };
    let mut cases = Vec::new();
    for variant in variants {
        let (name, Payload::Type { ty }) = (&variant.tag_value, &variant.payload) else {
            panic!(
                "types.echo's variant {} carries one value",
                variant.tag_value
            );
        };
        for kind in Sample::ALL {
            let value = samples
                .of(ty, kind)
                .unwrap_or_else(|| panic!("{name} has no {} sample", kind.name()));
            let read: app::typed_value::TypedValue = serde_json::from_value(json!({ name: value }))
                .unwrap_or_else(|e| {
                    panic!(
                        "serde refuses the {} sample of {name} {value}: {e}",
                        kind.name()
                    )
                });
            let written = serde_json::to_value(read).unwrap();
            cases.push(json!({
                "type": name,
                "sample": kind.name(),
                "value": value,
                "expected": written[name],
            }));
        }
    }
    serde_json::Value::Array(cases)
}

/// [`type_samples`] written to `samples.json` in `dir`; returns its path.
pub fn write_type_samples(dir: &std::path::Path, js_safe: bool) -> PathBuf {
    let path = dir.join("samples.json");
    std::fs::write(&path, type_samples(js_safe).to_string()).unwrap();
    path
}
