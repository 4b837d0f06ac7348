//! The gRPC server around a [`Router`]: the `CentrifugoProxy` service plus grpc.health.v1 and
//! reflection (v1 and v1alpha), optional credentials check and TLS/mTLS, a Prometheus endpoint
//! on its own port, and a graceful shutdown (readiness NOT_SERVING → drain delay → in-flight
//! calls finish, bounded by a timeout).
//!
//! [`serve`] does all of it. To serve centrpc next to your own gRPC services, or behind tonic /
//! tower layers of your own, take the same services as [`Parts`] and add them to your server:
//!
//! ```no_run
//! # async fn f(router: centrpc::Router) -> Result<(), Box<dyn std::error::Error>> {
//! use centrpc::server::{Parts, ServerConfig};
//!
//! let config = ServerConfig::default();
//! let (routes, drain) = Parts::new(router, &config).await?.into_routes();
//! tonic::transport::Server::builder()
//!     // .layer(...) and .add_service(your_own_service) go here
//!     .add_routes(routes)
//!     .serve_with_shutdown(config.listen, drain.after(centrpc::server::shutdown_signal()))
//!     .await?;
//! # Ok(()) }
//! ```

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

#[cfg(feature = "metrics")]
use crate::metrics::Metrics;
use crate::{
    proto::FILE_DESCRIPTOR_SET,
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
#[non_exhaustive]
pub struct Credentials {
    /// The metadata key, lowercase (e.g. `authorization`).
    pub key: String,
    /// The expected value (e.g. `Bearer s3cret`); never logged.
    pub value: String,
}

impl Credentials {
    /// Credentials `key: value` (e.g. `authorization: Bearer s3cret`).
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl TlsFiles {
    /// A server certificate chain and key (PEM files).
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
        }
    }

    /// Requires client certificates signed by this CA (mTLS).
    pub fn client_ca(mut self, ca: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(ca.into());
        self
    }
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
#[non_exhaustive]
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
#[non_exhaustive]
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

macro_rules! setters {
    ($ty:ty { $($(#[$doc:meta])* $field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                pub fn $field(mut self, $field: $t) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

setters!(ServerConfig {
    /// Sets the gRPC listen address.
    listen: SocketAddr,
    /// Serves Prometheus `/metrics` at this address (`None` disables it).
    metrics_listen: Option<SocketAddr>,
    /// Requires these credentials from Centrifugo.
    credentials: Option<Credentials>,
    /// Serves TLS (and mTLS) with these files.
    tls: Option<TlsFiles>,
    /// Sets the per-call limits.
    limits: Limits,
    /// Sets how long readiness reports NOT_SERVING before the listener closes.
    shutdown_delay: Duration,
    /// Sets the bound on in-flight calls finishing after the drain starts.
    shutdown_timeout: Duration,
    /// Sends an HTTP/2 PING after this long without reading (`None`: never).
    http2_keepalive_interval: Option<Duration>,
    /// Closes the connection when a PING is not acknowledged within this.
    http2_keepalive_timeout: Duration,
    /// Sets the TCP keepalive idle time (`None`: off).
    tcp_keepalive: Option<Duration>,
});

/// Why the server could not start or stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
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

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Router(e) => Some(e),
            Self::Config(_) => None,
            Self::Io(e) => Some(e),
            Self::Transport(e) => Some(e),
        }
    }
}

/// centrpc's gRPC services, ready to add to a tonic server: the proxy (behind the credentials
/// check), grpc.health.v1 and reflection. [`into_routes`](Parts::into_routes) hands them over
/// with the [`Drain`] that turns readiness off when shutdown starts.
pub struct Parts {
    routes: tonic::service::Routes,
    drain: Drain,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("drain", &self.drain)
            .finish_non_exhaustive()
    }
}

impl Parts {
    /// Checks `router` and `config` and builds the services (health reports SERVING).
    pub async fn new<S: Send + Sync + 'static>(
        router: Router<S>,
        config: &ServerConfig,
    ) -> Result<Self, ServeError> {
        #[cfg(feature = "metrics")]
        let metrics = Metrics::new();
        Self::build(
            router,
            config,
            #[cfg(feature = "metrics")]
            metrics,
        )
        .await
    }

    /// Like [`new`](Parts::new), recording into `metrics` (e.g. registered in the application's
    /// own Prometheus registry with [`Metrics::with_registry`]).
    #[cfg(feature = "metrics")]
    pub async fn with_metrics<S: Send + Sync + 'static>(
        router: Router<S>,
        config: &ServerConfig,
        metrics: Metrics,
    ) -> Result<Self, ServeError> {
        Self::build(router, config, metrics).await
    }

    async fn build<S: Send + Sync + 'static>(
        router: Router<S>,
        config: &ServerConfig,
        #[cfg(feature = "metrics")] metrics: Metrics,
    ) -> Result<Self, ServeError> {
        router.check().map_err(ServeError::Router)?;
        if config.limits.max_concurrency == 0 {
            return Err(ServeError::Config(
                "max concurrency must be at least 1".into(),
            ));
        }
        let auth = AuthCheck::new(
            config.credentials.as_ref(),
            #[cfg(feature = "metrics")]
            metrics.auth_failures.clone(),
        )?;
        let service = ProxyService::new(router, config.limits.clone());
        let streams = service.closing();
        #[cfg(feature = "metrics")]
        let service = service.with_metrics(metrics.clone());
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in ["", PROXY_SERVICE, LIVENESS_SERVICE, READINESS_SERVICE] {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let routes = tonic::service::Routes::new(health_service)
            .add_service(reflection().build_v1().map_err(reflection_error)?)
            .add_service(reflection().build_v1alpha().map_err(reflection_error)?);
        // The credentials check wraps the proxy only when credentials are configured: an
        // interceptor that lets everything through still costs ~900 instructions a call.
        let routes = if auth.expected.is_some() {
            routes.add_service(InterceptedService::new(service.into_server(), move |req| {
                auth.check(req)
            }))
        } else {
            routes.add_service(service.into_server())
        };
        Ok(Self {
            routes,
            drain: Drain {
                health,
                streams,
                delay: config.shutdown_delay,
                #[cfg(feature = "metrics")]
                metrics,
            },
        })
    }

    /// The services as tonic [`Routes`](tonic::service::Routes), and the [`Drain`] for shutdown.
    pub fn into_routes(self) -> (tonic::service::Routes, Drain) {
        (self.routes, self.drain)
    }
}

/// The reflection service's builder, with centrpc's and the health service's descriptors.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

fn reflection_error(e: tonic_reflection::server::Error) -> ServeError {
    ServeError::Config(format!("reflection: {e}"))
}

/// Turns readiness NOT_SERVING when shutdown starts, then waits the drain delay, so load
/// balancers stop sending calls before the listener closes.
#[derive(Clone)]
pub struct Drain {
    health: HealthReporter,
    /// Ends open subscription streams (their SDKs resubscribe elsewhere or after the restart).
    streams: tokio_util::sync::CancellationToken,
    delay: Duration,
    #[cfg(feature = "metrics")]
    metrics: Metrics,
}

impl std::fmt::Debug for Drain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drain")
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

impl Drain {
    /// Readiness goes NOT_SERVING now (liveness stays SERVING).
    pub async fn start(&self) {
        for name in ["", PROXY_SERVICE, READINESS_SERVICE] {
            self.health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        #[cfg(feature = "metrics")]
        tracing::info!(target: "centrpc::server", delay = ?self.delay,
            in_flight = self.metrics.in_flight(), "shutdown: readiness NOT_SERVING");
        #[cfg(not(feature = "metrics"))]
        tracing::info!(target: "centrpc::server", delay = ?self.delay, "shutdown: readiness NOT_SERVING");
    }

    /// Ends open subscription streams with an error that makes their SDKs resubscribe, and
    /// refuses new ones: a graceful shutdown would otherwise wait for streams that never end.
    pub fn close_streams(&self) {
        self.streams.cancel();
    }

    /// A shutdown future for tonic's `serve_with_shutdown`: resolves after `signal`, the
    /// readiness switch and the drain delay, and closes the open streams. tonic then stops
    /// accepting and lets in-flight calls finish.
    pub async fn after(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.start().await;
        tokio::time::sleep(self.delay).await;
        self.close_streams();
    }
}

/// A server whose sockets are bound, ready to [`run`](Bound::run).
///
/// (The router's state type is gone by now: it lives inside the services.)
pub struct Bound {
    grpc: TcpListener,
    metrics_listener: Option<TcpListener>,
    parts: Parts,
    config: ServerConfig,
    tls: Option<ServerTlsConfig>,
}

impl std::fmt::Debug for Bound {
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
) -> Result<Bound, ServeError> {
    if config.http2_keepalive_interval.is_some() && config.http2_keepalive_timeout.is_zero() {
        return Err(ServeError::Config(
            "HTTP/2 keepalive timeout must be above zero (or turn keepalive off)".into(),
        ));
    }
    let parts = Parts::new(router, &config).await?;
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    let grpc = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let metrics_listener = match config.metrics_listen {
        #[cfg(feature = "metrics")]
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
            ServeError::Config(format!("cannot listen for metrics on {addr}: {e}"))
        })?),
        #[cfg(not(feature = "metrics"))]
        Some(_) => {
            return Err(ServeError::Config(
                "metrics_listen needs centrpc's `metrics` feature".into(),
            ))
        }
        None => None,
    };
    Ok(Bound {
        grpc,
        metrics_listener,
        parts,
        config,
        tls,
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
    #[cfg(feature = "metrics")]
    failures: prometheus::IntCounter,
}

impl AuthCheck {
    fn new(
        credentials: Option<&Credentials>,
        #[cfg(feature = "metrics")] failures: prometheus::IntCounter,
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
        Ok(Self {
            expected,
            #[cfg(feature = "metrics")]
            failures,
        })
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
            #[cfg(feature = "metrics")]
            self.failures.inc();
            tracing::warn!(target: "centrpc::auth", key = key.as_str(), present = sent.is_some(),
                "refused a proxy call: credentials missing or wrong");
            Err(Status::unauthenticated(
                "centrpc: missing or wrong proxy credentials",
            ))
        }
    }
}

impl Bound {
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
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> Metrics {
        self.parts.drain.metrics.clone()
    }

    /// Serves until `shutdown` resolves, then drains: readiness goes NOT_SERVING, new calls are
    /// still served for `shutdown_delay`, then the listener closes and in-flight calls get up to
    /// `shutdown_timeout` to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Bound {
            grpc,
            metrics_listener,
            parts,
            config,
            tls,
        } = self;
        let addr = grpc.local_addr().map_err(ServeError::Io)?;
        #[cfg(feature = "metrics")]
        let metrics_task =
            metrics_listener.map(|l| tokio::spawn(serve_metrics(l, parts.drain.metrics.clone())));
        #[cfg(not(feature = "metrics"))]
        let _ = metrics_listener;
        let (routes, drain) = parts.into_routes();

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
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            });
        tokio::pin!(server);

        tracing::info!(target: "centrpc::server", %addr, tls = config.tls.is_some(),
            auth = config.credentials.is_some(), "serving Centrifugo proxy");

        let result = tokio::select! {
            r = &mut server => r.map_err(ServeError::Transport),
            () = shutdown => drain_then_stop(server, stop_tx, &drain, &config).await,
        };
        #[cfg(feature = "metrics")]
        if let Some(task) = metrics_task {
            task.abort();
        }
        result
    }
}

/// The shutdown sequence after the signal.
async fn drain_then_stop(
    mut server: std::pin::Pin<&mut impl Future<Output = Result<(), tonic::transport::Error>>>,
    stop: tokio::sync::oneshot::Sender<()>,
    drain: &Drain,
    config: &ServerConfig,
) -> Result<(), ServeError> {
    drain.start().await;
    tokio::select! {
        r = &mut server => return r.map_err(ServeError::Transport),
        () = tokio::time::sleep(config.shutdown_delay) => {}
    }
    let _ = stop.send(());
    drain.close_streams();
    match tokio::time::timeout(config.shutdown_timeout, server).await {
        Ok(r) => {
            tracing::info!(target: "centrpc::server", "shutdown complete");
            r.map_err(ServeError::Transport)
        }
        Err(_) => {
            tracing::warn!(target: "centrpc::server", timeout = ?config.shutdown_timeout,
                "shutdown timeout: abandoning in-flight calls");
            Ok(())
        }
    }
}

#[cfg(feature = "metrics")]
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
