//! The command line of an application binary: `serve` today (and `schema`, `generate`,
//! `centrifugo-config`, `token` as they land). Every flag is also an environment variable
//! `CENTRPC_*`, so the same binary configures cleanly in a container.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    router::Router,
    server::{self, Credentials, ServerConfig, TlsFiles},
    service::Limits,
};

/// The CLI of a centrpc application.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "A centrpc application: typed RPC behind Centrifugo's gRPC proxy"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Centrifugo gRPC proxy.
    Serve(ServeArgs),
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// gRPC listen address; Centrifugo's proxy endpoint is grpc://<this address>.
    #[arg(long, env = "CENTRPC_LISTEN", default_value = "127.0.0.1:10001")]
    pub listen: SocketAddr,
    /// Serve Prometheus metrics at http://<address>/metrics.
    #[arg(long, env = "CENTRPC_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Require this gRPC metadata key on proxy calls (Centrifugo's grpc.credentials_key).
    #[arg(long, env = "CENTRPC_AUTH_KEY", requires = "auth_value")]
    pub auth_key: Option<String>,
    /// The value the key must carry (Centrifugo's grpc.credentials_value). Prefer the env var.
    #[arg(
        long,
        env = "CENTRPC_AUTH_VALUE",
        requires = "auth_key",
        hide_env_values = true
    )]
    pub auth_value: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "CENTRPC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "CENTRPC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (mTLS).
    #[arg(long, env = "CENTRPC_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Most calls served at once; more are refused with the temporary OVERLOADED error.
    #[arg(long, env = "CENTRPC_MAX_CONCURRENCY", default_value_t = 1024)]
    pub max_concurrency: usize,
    /// Longest a handler may run (a shorter grpc-timeout from Centrifugo wins), e.g. 10s, 500ms.
    #[arg(long, env = "CENTRPC_CALL_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub call_timeout: Duration,
    /// Largest accepted payload in bytes.
    #[arg(long, env = "CENTRPC_MAX_PAYLOAD", default_value_t = 1024 * 1024)]
    pub max_payload: usize,
    /// After SIGTERM, keep serving this long with readiness NOT_SERVING.
    #[arg(long, env = "CENTRPC_SHUTDOWN_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub shutdown_delay: Duration,
    /// Then wait at most this long for in-flight calls.
    #[arg(long, env = "CENTRPC_SHUTDOWN_TIMEOUT", default_value = "25s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
    /// Log format.
    #[arg(long, env = "CENTRPC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. info or centrpc=debug.
    #[arg(long, env = "CENTRPC_LOG", default_value = "info")]
    pub log: String,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            listen: self.listen,
            metrics_listen: self.metrics_listen,
            credentials: match (&self.auth_key, &self.auth_value) {
                (Some(key), Some(value)) => Some(Credentials {
                    key: key.clone(),
                    value: value.clone(),
                }),
                _ => None,
            },
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: self.tls_client_ca.clone(),
                }),
                _ => None,
            },
            limits: Limits {
                max_payload: self.max_payload,
                call_timeout: self.call_timeout,
                max_concurrency: self.max_concurrency,
            },
            shutdown_delay: self.shutdown_delay,
            shutdown_timeout: self.shutdown_timeout,
        }
    }
}

/// Installs the global tracing subscriber (text or JSON lines on stderr).
pub fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Parses the process arguments and runs the chosen command for `router`.
///
/// ```no_run
/// # async fn f(router: centrpc::Router<()>) -> std::process::ExitCode {
/// centrpc::cli::run(router).await
/// # }
/// ```
pub async fn run<S: Send + Sync + 'static>(router: Router<S>) -> ExitCode {
    run_with(Cli::parse(), router).await
}

/// Runs an already-parsed [`Cli`].
pub async fn run_with<S: Send + Sync + 'static>(cli: Cli, router: Router<S>) -> ExitCode {
    match cli.command {
        Command::Serve(args) => {
            init_logging(args.log_format, &args.log);
            match server::serve(router, args.config()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
