//! The gRPC server around a [`Router`]: the `CentrifugoProxy` service plus grpc.health.v1 and
//! reflection (v1 and v1alpha), optional credentials check and TLS/mTLS, a Prometheus endpoint
//! on its own port, and a graceful shutdown (readiness NOT_SERVING → drain delay → in-flight
//! calls finish, bounded by a timeout).

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tonic::{
    metadata::{AsciiMetadataKey, AsciiMetadataValue},
    service::interceptor::InterceptedService,
    transport::{server::TcpIncoming, Certificate, Identity, ServerTlsConfig},
    Request, Status,
};
use tonic_health::{server::HealthReporter, ServingStatus};

use crate::{
    metrics::Metrics,
    proto::{centrifugo_proxy_server::CentrifugoProxyServer, FILE_DESCRIPTOR_SET},
    router::{Router, RouterError},
    service::{Limits, ProxyService},
};

/// The fully-qualified gRPC service name Centrifugo calls.
pub const PROXY_SERVICE: &str = "centrifugal.centrifugo.proxy.CentrifugoProxy";
/// Health service name that reports SERVING while the process is alive (liveness probes).
pub const LIVENESS_SERVICE: &str = "liveness";
/// Health service name that turns NOT_SERVING as soon as shutdown starts (readiness probes).
pub const READINESS_SERVICE: &str = "readiness";

/// Shared credentials Centrifugo must send as gRPC metadata on every proxy call
/// (its proxy `grpc.credentials_key` / `grpc.credentials_value`).
#[derive(Clone)]
pub struct Credentials {
    /// The metadata key, lowercase (e.g. `authorization`).
    pub key: String,
    /// The expected value (e.g. `Bearer s3cret`); never logged.
    pub value: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("key", &self.key)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// PEM files for TLS; with `client_ca` the server requires client certificates (mTLS).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA that client certificates must chain to; enables mTLS.
    pub client_ca: Option<PathBuf>,
}

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// gRPC listen address (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Prometheus `/metrics` listen address; `None` disables it.
    pub metrics_listen: Option<SocketAddr>,
    /// Require these credentials from Centrifugo.
    pub credentials: Option<Credentials>,
    /// Serve TLS (and mTLS) instead of plaintext.
    pub tls: Option<TlsFiles>,
    /// Per-call limits.
    pub limits: Limits,
    /// After a shutdown signal, how long to keep serving while readiness says NOT_SERVING, so
    /// load balancers stop sending new calls.
    pub shutdown_delay: Duration,
    /// The upper bound for in-flight calls to finish after the drain starts.
    pub shutdown_timeout: Duration,
    /// Send an HTTP/2 PING on a connection after this long without reading from it; `None`
    /// disables it. Centrifugo's proxy client sets no keepalive of its own, so this is what
    /// notices a silently dead link and cancels the handlers still running for it.
    pub http2_keepalive_interval: Option<Duration>,
    /// Close the connection (cancelling its calls) if a PING is not acknowledged within this.
    pub http2_keepalive_timeout: Duration,
    /// TCP keepalive: idle time before the kernel probes a connection (then every
    /// [`TCP_KEEPALIVE_INTERVAL`], closing it after [`TCP_KEEPALIVE_RETRIES`] unanswered probes);
    /// `None` disables it. Catches peers whose host vanished while HTTP/2 keepalive is off.
    pub tcp_keepalive: Option<Duration>,
}

/// Interval between TCP keepalive probes once [`ServerConfig::tcp_keepalive`] has elapsed.
pub const TCP_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered TCP keepalive probes before the kernel drops the connection.
pub const TCP_KEEPALIVE_RETRIES: u32 = 3;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 10001)),
            metrics_listen: None,
            credentials: None,
            tls: None,
            limits: Limits::default(),
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(25),
            http2_keepalive_interval: Some(Duration::from_secs(30)),
            http2_keepalive_timeout: Duration::from_secs(10),
            tcp_keepalive: Some(Duration::from_secs(60)),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug)]
pub enum ServeError {
    /// The router has invalid registrations.
    Router(RouterError),
    /// A configuration value is invalid.
    Config(String),
    /// Binding or serving failed.
    Io(std::io::Error),
    /// tonic's transport failed.
    Transport(tonic::transport::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Router(e) => write!(f, "{e}"),
            Self::Config(e) => write!(f, "invalid configuration: {e}"),
            Self::Io(e) => write!(f, "{e}"),
            Self::Transport(e) => write!(f, "gRPC transport error: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// A server whose sockets are bound, ready to [`run`](Bound::run).
pub struct Bound<S> {
    grpc: TcpListener,
    metrics_listener: Option<TcpListener>,
    service: ProxyService<S>,
    metrics: Metrics,
    config: ServerConfig,
    tls: Option<ServerTlsConfig>,
    auth: AuthCheck,
}

impl<S> std::fmt::Debug for Bound<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Checks the router and config, loads TLS files and binds the listeners.
pub async fn bind<S: Send + Sync + 'static>(
    router: Router<S>,
    config: ServerConfig,
) -> Result<Bound<S>, ServeError> {
    router.check().map_err(ServeError::Router)?;
    if config.limits.max_concurrency == 0 {
        return Err(ServeError::Config(
            "max concurrency must be at least 1".into(),
        ));
    }
    if config.http2_keepalive_interval.is_some() && config.http2_keepalive_timeout.is_zero() {
        return Err(ServeError::Config(
            "HTTP/2 keepalive timeout must be above zero (or turn keepalive off)".into(),
        ));
    }
    let metrics = Metrics::new();
    let auth = AuthCheck::new(config.credentials.as_ref(), metrics.auth_failures.clone())?;
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    let grpc = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
            ServeError::Config(format!("cannot listen for metrics on {addr}: {e}"))
        })?),
        None => None,
    };
    let service = ProxyService::new(router, config.limits.clone(), metrics.clone());
    Ok(Bound {
        grpc,
        metrics_listener,
        service,
        metrics,
        config,
        tls,
        auth,
    })
}

fn load_tls(files: &TlsFiles) -> Result<ServerTlsConfig, ServeError> {
    let read = |p: &PathBuf, what: &str| {
        std::fs::read(p)
            .map_err(|e| ServeError::Config(format!("cannot read TLS {what} {}: {e}", p.display())))
    };
    let identity = Identity::from_pem(read(&files.cert, "certificate")?, read(&files.key, "key")?);
    let mut tls = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
    }
    Ok(tls)
}

/// The credentials check run before every proxy call (health and reflection stay open for probes).
#[derive(Clone)]
struct AuthCheck {
    expected: Option<(AsciiMetadataKey, Arc<[u8]>)>,
    failures: prometheus::IntCounter,
}

impl AuthCheck {
    fn new(
        credentials: Option<&Credentials>,
        failures: prometheus::IntCounter,
    ) -> Result<Self, ServeError> {
        let expected = credentials
            .map(|c| {
                let key = AsciiMetadataKey::from_bytes(c.key.to_ascii_lowercase().as_bytes())
                    .map_err(|_| {
                        ServeError::Config(format!(
                            "auth key {:?} is not a valid gRPC metadata name",
                            c.key
                        ))
                    })?;
                if c.value.is_empty() || AsciiMetadataValue::try_from(c.value.as_str()).is_err() {
                    return Err(ServeError::Config(
                        "auth value must be non-empty printable ASCII".into(),
                    ));
                }
                Ok((key, Arc::from(c.value.as_bytes())))
            })
            .transpose()?;
        Ok(Self { expected, failures })
    }

    fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some((key, value)) = &self.expected else {
            return Ok(request);
        };
        let sent = request.metadata().get(key).map(|v| v.as_bytes());
        let ok = sent.is_some_and(|sent| bool::from(sent.ct_eq(value)));
        if ok {
            Ok(request)
        } else {
            self.failures.inc();
            tracing::warn!(target: "centrpc::auth", key = key.as_str(), present = sent.is_some(),
                "refused a proxy call: credentials missing or wrong");
            Err(Status::unauthenticated(
                "centrpc: missing or wrong proxy credentials",
            ))
        }
    }
}

impl<S: Send + Sync + 'static> Bound<S> {
    /// The bound gRPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.grpc
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The bound metrics address, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    /// The server's metrics (the same ones `/metrics` shows).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Serves until `shutdown` resolves, then drains: readiness goes NOT_SERVING, new calls are
    /// still served for `shutdown_delay`, then the listener closes and in-flight calls get up to
    /// `shutdown_timeout` to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Bound {
            grpc,
            metrics_listener,
            service,
            metrics,
            config,
            tls,
            auth,
        } = self;
        let addr = grpc.local_addr().map_err(ServeError::Io)?;
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in ["", PROXY_SERVICE, LIVENESS_SERVICE, READINESS_SERVICE] {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| ServeError::Config(format!("reflection: {e}")))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| ServeError::Config(format!("reflection: {e}")))?;

        // gRPC framing adds a little over the payload; leave room so oversize payloads get the
        // in-band PAYLOAD_TOO_LARGE error rather than a transport error.
        let max_message = config
            .limits
            .max_payload
            .saturating_mul(2)
            .saturating_add(64 * 1024);
        let proxy = InterceptedService::new(
            CentrifugoProxyServer::new(service)
                .max_decoding_message_size(max_message)
                .max_encoding_message_size(max_message),
            move |req| auth.check(req),
        );

        let mut builder = tonic::transport::Server::builder()
            .http2_keepalive_interval(config.http2_keepalive_interval)
            .http2_keepalive_timeout(Some(config.http2_keepalive_timeout));
        if let Some(tls) = tls {
            builder = builder.tls_config(tls).map_err(ServeError::Transport)?;
        }
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let incoming = TcpIncoming::from(grpc)
            .with_nodelay(Some(true))
            .with_keepalive(config.tcp_keepalive)
            .with_keepalive_interval(config.tcp_keepalive.map(|_| TCP_KEEPALIVE_INTERVAL))
            .with_keepalive_retries(config.tcp_keepalive.map(|_| TCP_KEEPALIVE_RETRIES));
        let server = builder
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(proxy)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            });
        tokio::pin!(server);

        let metrics_task =
            metrics_listener.map(|l| tokio::spawn(serve_metrics(l, metrics.clone())));
        tracing::info!(target: "centrpc::server", %addr, tls = config.tls.is_some(),
            auth = config.credentials.is_some(), "serving Centrifugo proxy");

        let result = tokio::select! {
            r = &mut server => r.map_err(ServeError::Transport),
            () = shutdown => drain(server, stop_tx, &health, &metrics, &config).await,
        };
        if let Some(task) = metrics_task {
            task.abort();
        }
        result
    }
}

/// The shutdown sequence after the signal.
async fn drain(
    mut server: std::pin::Pin<&mut impl Future<Output = Result<(), tonic::transport::Error>>>,
    stop: tokio::sync::oneshot::Sender<()>,
    health: &HealthReporter,
    metrics: &Metrics,
    config: &ServerConfig,
) -> Result<(), ServeError> {
    for name in ["", PROXY_SERVICE, READINESS_SERVICE] {
        health
            .set_service_status(name, ServingStatus::NotServing)
            .await;
    }
    tracing::info!(target: "centrpc::server", delay = ?config.shutdown_delay,
        in_flight = metrics.in_flight(), "shutdown: readiness NOT_SERVING");
    tokio::select! {
        r = &mut server => return r.map_err(ServeError::Transport),
        () = tokio::time::sleep(config.shutdown_delay) => {}
    }
    let _ = stop.send(());
    match tokio::time::timeout(config.shutdown_timeout, server).await {
        Ok(r) => {
            tracing::info!(target: "centrpc::server", "shutdown complete");
            r.map_err(ServeError::Transport)
        }
        Err(_) => {
            tracing::warn!(target: "centrpc::server", in_flight = metrics.in_flight(),
                timeout = ?config.shutdown_timeout, "shutdown timeout: abandoning in-flight calls");
            Ok(())
        }
    }
}

async fn serve_metrics(listener: TcpListener, metrics: Metrics) {
    use axum::{http::header, routing::get};
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let body = metrics.render();
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body) }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(target: "centrpc::server", error = %e, "metrics endpoint failed");
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(target: "centrpc::server", "SIGINT received"),
        () = term => tracing::info!(target: "centrpc::server", "SIGTERM received"),
    }
}

/// Binds and serves `router` until SIGINT/SIGTERM, then shuts down gracefully.
pub async fn serve<S: Send + Sync + 'static>(
    router: Router<S>,
    config: ServerConfig,
) -> Result<(), ServeError> {
    bind(router, config).await?.run(shutdown_signal()).await
}
