//! The command line of an application binary: `serve`, `centrifugo-config`, `token`, `schema`,
//! with the `codegen` feature `generate`, and with `devtools` `call` and `docs`. Every flag is
//! also an environment variable `CENTRPC_*`, so the same binary configures cleanly in a container.

use std::{ffi::OsString, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    centrifugo_config::{ConfigInput, ProxyTls},
    router::Router,
    schema::{self, diff},
    server::{self, Credentials, ServerConfig, TlsFiles},
    service::Limits,
    token,
};

/// The CLI of a centrpc application.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "A centrpc application: typed RPC behind Centrifugo's gRPC proxy"
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Centrifugo gRPC proxy.
    Serve(ServeArgs),
    /// Print the Centrifugo v6 config (JSON) that matches `serve` with the same flags/env.
    CentrifugoConfig(Box<CentrifugoConfigArgs>),
    /// Print an HS256 connection token (JWT) for Centrifugo.
    Token(TokenArgs),
    /// Print the API document (OpenRPC 1.3 style, JSON Schema 2020-12), check or diff it.
    Schema(SchemaArgs),
    /// Generate typed clients (Python, TypeScript, Go) from this app or a schema file.
    #[cfg(feature = "codegen")]
    Generate(centrpc_codegen::GenerateArgs),
    /// Call a method with JSON params (no base64): directly over gRPC, or --via-centrifugo.
    #[cfg(feature = "devtools")]
    Call(Box<crate::devtools::call::CallArgs>),
    /// Subscribe through Centrifugo and print each publication as a JSON line (streams: typed params).
    #[cfg(feature = "devtools")]
    Subscribe(crate::devtools::subscribe::SubscribeArgs),
    /// Write the API reference page (one self-contained HTML file) with a live console.
    #[cfg(feature = "devtools")]
    Docs(crate::devtools::docs::DocsArgs),
}

/// The Centrifugo config `centrifugo-config --omit-secrets` prints with the current environment,
/// for the docs page.
#[cfg(feature = "devtools")]
pub(crate) fn centrifugo_config_without_secrets<S: Send + Sync + 'static>(
    router: &Router<S>,
) -> Result<serde_json::Value, String> {
    let cli = Cli::try_parse_from(["app", "centrifugo-config", "--omit-secrets"])
        .map_err(|e| e.to_string())?;
    let Command::CentrifugoConfig(args) = cli.command else {
        unreachable!("parsed as centrifugo-config")
    };
    Ok(args.input(router)?.render())
}

/// Flags of `schema`.
#[derive(Debug, Args)]
struct SchemaArgs {
    /// Write the document to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Fail (exit 1) if FILE differs from the current document, e.g. in CI.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["output", "diff"])]
    check: Option<PathBuf>,
    /// Classify the changes from the document in FILE to the current one (or to --against);
    /// exit 1 if any is breaking.
    #[arg(long, value_name = "FILE", conflicts_with = "output")]
    diff: Option<PathBuf>,
    /// With --diff: compare against this document instead of the current one.
    #[arg(long, value_name = "FILE", requires = "diff")]
    against: Option<PathBuf>,
    /// Print (or write with --output) the AsyncAPI 3.0 document of the streams and typed channels
    /// instead.
    #[arg(long, conflicts_with_all = ["check", "diff"])]
    asyncapi: bool,
}

use crate::schema::read_document;

fn schema_command<S: Send + Sync + 'static>(
    args: SchemaArgs,
    router: &Router<S>,
) -> Result<ExitCode, String> {
    let current = schema::checked_document(router)?;
    if let Some(file) = &args.check {
        let committed = read_document(file)?;
        if committed == current {
            eprintln!("{} is up to date", file.display());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "{} is stale; regenerate it with `schema --output {}`. Changes:",
            file.display(),
            file.display()
        );
        for change in diff::changes(&committed, &current) {
            eprintln!("  {change}");
        }
        return Ok(ExitCode::from(1));
    }
    if let Some(old) = &args.diff {
        let old = read_document(old)?;
        let new = match &args.against {
            Some(path) => read_document(path)?,
            None => current,
        };
        let changes = diff::changes(&old, &new);
        for change in &changes {
            println!("{change}");
        }
        let breaking = changes.iter().filter(|c| c.breaking).count();
        println!("{} change(s), {breaking} breaking", changes.len());
        return Ok(if breaking > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let text = match args.asyncapi {
        true => schema::to_string(&schema::asyncapi::asyncapi(&current)),
        false => schema::to_string(&current),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "codegen")]
fn generate_command<S: Send + Sync + 'static>(
    args: centrpc_codegen::GenerateArgs,
    router: &Router<S>,
) -> Result<ExitCode, String> {
    let document = match &args.schema {
        Some(path) => read_document(path)?,
        None => schema::checked_document(router)?,
    };
    let written =
        centrpc_codegen::generate(&document, &args.languages(), &args.output, &args.options())
            .map_err(|e| e.to_string())?;
    for dir in written {
        eprintln!("wrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Flags of `centrifugo-config`: everything `serve` takes, plus the Centrifugo side.
#[derive(Debug, Args)]
struct CentrifugoConfigArgs {
    /// The server this config must match.
    #[command(flatten)]
    serve: ServeArgs,
    /// What Centrifugo dials (default: grpc://<listen>, with 0.0.0.0 as 127.0.0.1).
    #[arg(long, env = "CENTRPC_PROXY_ENDPOINT")]
    endpoint: Option<String>,
    /// Centrifugo's proxy timeout (default: --call-timeout + 1s, so centrpc answers TIMED_OUT first).
    #[arg(long, env = "CENTRPC_PROXY_TIMEOUT", value_parser = humantime::parse_duration)]
    proxy_timeout: Option<Duration>,
    /// How Centrifugo reaches centrpc over TLS.
    #[command(flatten)]
    proxy_tls: ProxyTlsArgs,
    /// Centrifugo's HMAC secret for connection tokens.
    #[arg(long, env = "CENTRPC_HMAC_SECRET", hide_env_values = true, required_unless_present_any = ["omit_secrets", "secret_env"])]
    hmac_secret: Option<String>,
    /// Centrifugo's server API key.
    #[arg(long, env = "CENTRPC_CENTRIFUGO_API_KEY", hide_env_values = true, required_unless_present_any = ["omit_secrets", "secret_env"])]
    api_key: Option<String>,
    /// Leave secret values out of the config; Centrifugo then reads them from the environment
    /// variables that `--secret-env` lists (e.g. Kubernetes secretKeyRefs).
    #[arg(long)]
    omit_secrets: bool,
    /// Print the Centrifugo environment variables that carry the secrets, one per line as
    /// `CENTRIFUGO_NAME=$CENTRPC_NAME` (which centrpc variable holds the same value), and exit.
    #[arg(long)]
    secret_env: bool,
    /// Use Centrifugo's Redis engine at this address (repeatable), so several nodes share state.
    #[arg(
        long = "redis",
        env = "CENTRPC_CENTRIFUGO_REDIS",
        value_delimiter = ','
    )]
    redis: Vec<String>,
    /// Key prefix in Redis.
    #[arg(long, env = "CENTRPC_CENTRIFUGO_REDIS_PREFIX")]
    redis_prefix: Option<String>,
    /// Centrifugo's HTTP port.
    #[arg(long, env = "CENTRPC_CENTRIFUGO_PORT", default_value_t = 8000)]
    centrifugo_port: u16,
    /// Centrifugo's HTTP bind address (default: all interfaces).
    #[arg(long, env = "CENTRPC_CENTRIFUGO_ADDRESS")]
    centrifugo_address: Option<String>,
    /// RPCs one connection may run concurrently (Centrifugo's client.concurrency).
    #[arg(long, env = "CENTRPC_CLIENT_CONCURRENCY", default_value_t = 16)]
    client_concurrency: u32,
    /// Browser origins allowed to connect (repeatable), e.g. http://localhost:3000.
    #[arg(
        long = "allowed-origin",
        env = "CENTRPC_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// Client headers forwarded to the connect hook (repeatable).
    #[arg(
        long = "forward-header",
        env = "CENTRPC_FORWARD_HEADERS",
        value_delimiter = ',',
        default_value = "authorization"
    )]
    forward_headers: Vec<String>,
}

/// How a client of centrpc (Centrifugo, or `call`) reaches it over TLS: the same flags and
/// environment for both, so they cannot drift apart.
#[derive(Debug, Args)]
pub(crate) struct ProxyTlsArgs {
    /// CA to trust for centrpc's TLS certificate (required when it serves TLS, --tls-cert).
    #[arg(long, env = "CENTRPC_PROXY_TLS_CA")]
    pub(crate) proxy_tls_ca: Option<PathBuf>,
    /// Client certificate presented to centrpc, for mTLS.
    #[arg(long, env = "CENTRPC_PROXY_TLS_CERT", requires = "proxy_tls_key")]
    pub(crate) proxy_tls_cert: Option<PathBuf>,
    /// Client key, for mTLS.
    #[arg(long, env = "CENTRPC_PROXY_TLS_KEY", requires = "proxy_tls_cert")]
    pub(crate) proxy_tls_key: Option<PathBuf>,
    /// Name to verify centrpc's certificate against (SNI; default: the host dialled).
    #[arg(long, env = "CENTRPC_PROXY_TLS_SERVER_NAME")]
    pub(crate) proxy_tls_server_name: Option<String>,
}

/// Flags of `token`.
#[derive(Debug, Args)]
struct TokenArgs {
    /// The user ID (the `sub` claim).
    #[arg(long)]
    user: String,
    /// Lifetime, e.g. 1h; `0s` for a token without expiry.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    ttl: Duration,
    /// Public connection info (JSON).
    #[arg(long, value_parser = parse_json)]
    info: Option<serde_json::Value>,
    /// Server-only connection meta (JSON), forwarded to handlers as `ctx.meta()`.
    #[arg(long, value_parser = parse_json)]
    meta: Option<serde_json::Value>,
    /// Server-side subscription (repeatable).
    #[arg(long = "channel")]
    channels: Vec<String>,
    /// Centrifugo's HMAC secret.
    #[arg(long, env = "CENTRPC_HMAC_SECRET", hide_env_values = true)]
    hmac_secret: String,
}

pub(crate) fn parse_json(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))
}

impl CentrifugoConfigArgs {
    /// The config input for `router`.
    fn input<S: Send + Sync + 'static>(&self, router: &Router<S>) -> Result<ConfigInput, String> {
        let config = self.serve.config();
        let endpoint = self.endpoint.clone().unwrap_or_else(|| {
            let mut addr = config.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("grpc://{addr}")
        });
        let tls = match (&config.tls, &self.proxy_tls.proxy_tls_ca) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(
                    "--tls-cert is set: give --proxy-tls-ca, the CA Centrifugo should trust".into(),
                )
            }
            (Some(server), Some(ca)) => {
                if server.client_ca.is_some() && self.proxy_tls.proxy_tls_cert.is_none() {
                    return Err("--tls-client-ca requires Centrifugo to present a certificate: give --proxy-tls-cert and --proxy-tls-key".into());
                }
                Some(ProxyTls {
                    server_ca: ca.clone(),
                    client_identity: self
                        .proxy_tls
                        .proxy_tls_cert
                        .clone()
                        .zip(self.proxy_tls.proxy_tls_key.clone()),
                    server_name: self.proxy_tls.proxy_tls_server_name.clone(),
                })
            }
        };
        let hook_table = router.hook_table();
        // A typed channel clients publish into is served by a publish hook of its own.
        let typed_publish = router
            .channels()
            .into_iter()
            .filter(|c| c.clients_publish());
        let mut publish_patterns = hook_table.publish_patterns();
        publish_patterns.extend(typed_publish.map(|c| c.pattern.clone()));
        let mut hooks = hook_table.enabled();
        if !publish_patterns.is_empty() && !hooks.contains(&"publish") {
            hooks.push("publish");
        }
        Ok(ConfigInput {
            endpoint,
            proxy_timeout: self
                .proxy_timeout
                .unwrap_or(config.limits.call_timeout + Duration::from_secs(1)),
            credentials: config.credentials,
            tls,
            hmac_secret: self.hmac_secret.clone().unwrap_or_default(),
            api_key: self.api_key.clone().unwrap_or_default(),
            port: self.centrifugo_port,
            address: self.centrifugo_address.clone(),
            client_concurrency: self.client_concurrency,
            allowed_origins: self.allowed_origins.clone(),
            forward_headers: self
                .forward_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            methods: router.methods().iter().map(|m| m.name.clone()).collect(),
            hooks,
            subscribe_patterns: hook_table.subscribe_patterns(),
            publish_patterns,
            streams: router
                .streams()
                .iter()
                .map(|s| (s.name.clone(), s.bidirectional))
                .collect(),
            channels: router
                .channels()
                .iter()
                .map(|c| c.pattern.clone())
                .collect(),
            redis: self.redis.clone(),
            redis_prefix: self.redis_prefix.clone(),
            omit_secrets: self.omit_secrets,
        })
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `serve`.
#[derive(Debug, Args)]
struct ServeArgs {
    /// gRPC listen address; Centrifugo's proxy endpoint is grpc://<this address>.
    #[arg(long, env = "CENTRPC_LISTEN", default_value = "127.0.0.1:10001")]
    listen: SocketAddr,
    /// Serve Prometheus metrics at http://<address>/metrics.
    #[arg(long, env = "CENTRPC_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Require this gRPC metadata key on proxy calls (Centrifugo's grpc.credentials_key).
    #[arg(long, env = "CENTRPC_AUTH_KEY", requires = "auth_value")]
    auth_key: Option<String>,
    /// The value the key must carry (Centrifugo's grpc.credentials_value). Prefer the env var.
    #[arg(
        long,
        env = "CENTRPC_AUTH_VALUE",
        requires = "auth_key",
        hide_env_values = true
    )]
    auth_value: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "CENTRPC_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "CENTRPC_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (mTLS).
    #[arg(long, env = "CENTRPC_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Most calls served at once; more are refused with the temporary OVERLOADED error.
    #[arg(long, env = "CENTRPC_MAX_CONCURRENCY", default_value_t = 1024)]
    max_concurrency: usize,
    /// Most subscription streams open at once; more are refused with the temporary OVERLOADED error.
    #[arg(long, env = "CENTRPC_MAX_STREAMS", default_value_t = 10_000)]
    max_streams: usize,
    /// Longest a handler may run (a shorter grpc-timeout from Centrifugo wins), e.g. 10s, 500ms.
    #[arg(long, env = "CENTRPC_CALL_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    call_timeout: Duration,
    /// Largest accepted payload in bytes.
    #[arg(long, env = "CENTRPC_MAX_PAYLOAD", default_value_t = 1024 * 1024)]
    max_payload: usize,
    /// After SIGTERM, keep serving this long with readiness NOT_SERVING.
    #[arg(long, env = "CENTRPC_SHUTDOWN_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    shutdown_delay: Duration,
    /// Then wait at most this long for in-flight calls.
    #[arg(long, env = "CENTRPC_SHUTDOWN_TIMEOUT", default_value = "25s", value_parser = humantime::parse_duration)]
    shutdown_timeout: Duration,
    /// HTTP/2 PING after this long without reading from a connection; `0s` disables. Notices a
    /// silently dead link to Centrifugo and cancels its calls.
    #[arg(long, env = "CENTRPC_HTTP2_KEEPALIVE_INTERVAL", default_value = "30s", value_parser = humantime::parse_duration)]
    http2_keepalive_interval: Duration,
    /// Close the connection if the PING is not acknowledged within this.
    #[arg(long, env = "CENTRPC_HTTP2_KEEPALIVE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    http2_keepalive_timeout: Duration,
    /// TCP keepalive idle time (then probes every 10s, 3 unanswered close); `0s` disables.
    #[arg(long, env = "CENTRPC_TCP_KEEPALIVE", default_value = "60s", value_parser = humantime::parse_duration)]
    tcp_keepalive: Duration,
    /// Log format.
    #[arg(long, env = "CENTRPC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. info or centrpc=debug.
    #[arg(long, env = "CENTRPC_LOG", default_value = "info")]
    log: String,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    fn config(&self) -> ServerConfig {
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
                max_streams: self.max_streams,
            },
            shutdown_delay: self.shutdown_delay,
            shutdown_timeout: self.shutdown_timeout,
            http2_keepalive_interval: nonzero(self.http2_keepalive_interval),
            http2_keepalive_timeout: self.http2_keepalive_timeout,
            tcp_keepalive: nonzero(self.tcp_keepalive),
        }
    }
}

/// `0s` on the command line turns a periodic setting off.
fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Installs the global tracing subscriber (text or JSON lines on stderr).
fn init_logging(format: LogFormat, filter: &str) {
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
    run_from(std::env::args_os(), router).await
}

/// Parses `args` (the program name first) and runs the chosen command for `router`; a usage
/// error prints clap's message and exits 2, as `run` does.
pub async fn run_from<S, I, T>(args: I, router: Router<S>) -> ExitCode
where
    S: Send + Sync + 'static,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let outcome = match cli.command {
        Command::Serve(args) => serve_command(&args, router).await,
        Command::CentrifugoConfig(args) => config_command(&args, &router),
        Command::Token(args) => Ok(token_command(args)),
        Command::Schema(args) => schema_command(args, &router),
        #[cfg(feature = "codegen")]
        Command::Generate(args) => generate_command(args, &router),
        #[cfg(feature = "devtools")]
        Command::Call(args) => Ok(crate::devtools::call::command(*args, &router).await),
        #[cfg(feature = "devtools")]
        Command::Subscribe(args) => Ok(crate::devtools::subscribe::command(args, &router).await),
        #[cfg(feature = "devtools")]
        Command::Docs(args) => crate::devtools::docs::command(&args, &router),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve_command<S: Send + Sync + 'static>(
    args: &ServeArgs,
    router: Router<S>,
) -> Result<ExitCode, String> {
    init_logging(args.log_format, &args.log);
    server::serve(router, args.config())
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn config_command<S: Send + Sync + 'static>(
    args: &CentrifugoConfigArgs,
    router: &Router<S>,
) -> Result<ExitCode, String> {
    let input = args.input(router)?;
    if args.secret_env {
        for (name, secret) in input.secret_env() {
            println!("{name}=${}", secret.centrpc_env());
        }
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&input.render()).expect("JSON encodes")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn token_command(args: TokenArgs) -> ExitCode {
    let ttl = (!args.ttl.is_zero()).then_some(args.ttl);
    let mut claims = token::Claims::new(args.user, ttl);
    claims.info = args.info;
    claims.meta = args.meta;
    claims.channels = args.channels;
    println!("{}", token::sign(&claims, &args.hmac_secret));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_bind_is_loopback() {
        assert!(ServerConfig::default().listen.ip().is_loopback());
        let cli = Cli::try_parse_from(["app", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        if std::env::var_os("CENTRPC_LISTEN").is_none() {
            assert_eq!(args.listen.to_string(), "127.0.0.1:10001");
        }
    }

    #[test]
    fn keepalive_is_on_by_default_and_0s_turns_it_off() {
        let config = |args: &[&str]| {
            let argv = ["app", "serve"].iter().chain(args).copied();
            let cli = Cli::try_parse_from(argv).unwrap();
            let Command::Serve(serve) = cli.command else {
                panic!("serve")
            };
            serve.config()
        };
        let env_set = [
            "CENTRPC_HTTP2_KEEPALIVE_INTERVAL",
            "CENTRPC_HTTP2_KEEPALIVE_TIMEOUT",
            "CENTRPC_TCP_KEEPALIVE",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
        if !env_set {
            let (flags, library) = (config(&[]), ServerConfig::default());
            for c in [&flags, &library] {
                assert_eq!(
                    (
                        c.http2_keepalive_interval,
                        c.http2_keepalive_timeout,
                        c.tcp_keepalive
                    ),
                    (
                        Some(Duration::from_secs(30)),
                        Duration::from_secs(10),
                        Some(Duration::from_secs(60))
                    ),
                    "the documented defaults, the same for the CLI and the library"
                );
            }
        }
        let off = config(&["--http2-keepalive-interval", "0s", "--tcp-keepalive", "0s"]);
        assert_eq!(
            (off.http2_keepalive_interval, off.tcp_keepalive),
            (None, None)
        );
    }
}
