//! `my-app call`: call one method with JSON params as typed, print the result or the error.
//!
//! The params are checked first with the server's own decoding rules (the params type's
//! deserializer, so the message is the server's `422` with its field path); `--no-check` skips
//! that. The call then goes to the backend's gRPC port (default; the proxy credentials and TLS
//! settings come from the same flags and environment as `serve` / `centrifugo-config`), or
//! through Centrifugo over WebSocket as a user with a self-minted token (`--via-centrifugo`).
//!
//! Exit codes: see [`Exit`].

use std::{io::Read, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::Args;
use serde_json::{json, Value};

use super::{centrifugo, grpc, Failure, Outcome};
use crate::{
    error::BUILTIN_ERRORS,
    router::{MethodInfo, Router},
    schema::{self, example},
    token,
};

/// `call`'s exit codes, documented in the README and `call --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// The method returned a result (printed as pretty JSON on stdout).
    Ok = 0,
    /// The method answered with an error (or a disconnect); printed on stdout as
    /// `{"error": {"code", "message", "temporary"}}`.
    RpcError = 1,
    /// Usage: bad flags, unreadable `-d @file`, missing secret.
    Usage = 2,
    /// Refused before sending: an unknown method, or params that do not fit (`--no-check` skips).
    Rejected = 3,
    /// No answer: the backend or Centrifugo is unreachable, TLS failed, or the call timed out.
    Unreachable = 4,
    /// Refused credentials: proxy credentials or connection token (a refused client certificate shows as unreachable).
    Refused = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// Flags of `call`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 result; 1 the method answered with an error; 2 usage or unreadable input; \
3 refused before sending (unknown method, params that do not fit); 4 unreachable \
(connection, TLS, timeout); 5 credentials or token refused.")]
pub(crate) struct CallArgs {
    /// The method, e.g. tasks.get_stats.
    #[arg(required_unless_present = "list")]
    method: Option<String>,
    /// The params as JSON (or use -d).
    #[arg(conflicts_with = "data")]
    params: Option<String>,
    /// The params: JSON, `@FILE` to read a file, `@-` to read stdin.
    #[arg(long, short = 'd', value_name = "JSON|@FILE|@-")]
    data: Option<String>,
    /// List the methods with their descriptions, and exit.
    #[arg(long, conflicts_with_all = ["method", "example"])]
    list: bool,
    /// Print an example params document for METHOD, built from its schema, and exit.
    #[arg(long)]
    example: bool,
    /// Send the params without checking them first (to test the server's own validation).
    #[arg(long)]
    no_check: bool,
    /// Call through Centrifugo over WebSocket as --user, with a token signed by --hmac-secret.
    #[arg(long)]
    via_centrifugo: bool,

    /// The client ID sent to the backend (direct calls).
    #[arg(long, default_value = "centrpc-call")]
    client: String,
    /// The transport name sent to the backend (direct calls).
    #[arg(long, default_value = "websocket")]
    transport: String,
    /// Give up after this long (connecting included).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,

    /// The backend's gRPC address, as `serve --listen` (0.0.0.0 is dialled as 127.0.0.1).
    #[arg(long, env = "CENTRPC_LISTEN", default_value = "127.0.0.1:10001")]
    listen: SocketAddr,
    /// What to dial instead of --listen, as `centrifugo-config --endpoint` (grpc://host:port).
    #[arg(long, env = "CENTRPC_PROXY_ENDPOINT")]
    endpoint: Option<String>,
    /// The proxy credentials key, as for `serve`.
    #[arg(long, env = "CENTRPC_AUTH_KEY", requires = "auth_value")]
    auth_key: Option<String>,
    /// The proxy credentials value, as for `serve`. Prefer the env var.
    #[arg(
        long,
        env = "CENTRPC_AUTH_VALUE",
        requires = "auth_key",
        hide_env_values = true
    )]
    auth_value: Option<String>,
    /// Set when the backend serves TLS (`serve --tls-cert`); then --proxy-tls-ca is required.
    #[arg(long, env = "CENTRPC_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// How this command reaches the backend over TLS, as `centrifugo-config` tells Centrifugo.
    #[command(flatten)]
    proxy_tls: crate::cli::ProxyTlsArgs,

    /// Who calls, and how to reach Centrifugo as them.
    #[command(flatten)]
    as_user: AsUser,
}

/// Who a developer-tool call or subscription comes from, and how to reach Centrifugo as them
/// (shared by `call` and `subscribe`).
#[derive(Debug, Args)]
pub(crate) struct AsUser {
    /// The user it comes from (Centrifugo's authenticated user; the token's `sub`).
    #[arg(long, default_value = "cli")]
    pub(crate) user: String,
    /// Connection meta (JSON): sent as `meta` directly, or put in the token through Centrifugo.
    #[arg(long, value_parser = super::super::cli::parse_json)]
    pub(crate) meta: Option<Value>,
    /// Centrifugo's WebSocket URL (default: ws://127.0.0.1:<CENTRPC_CENTRIFUGO_PORT>/connection/websocket).
    #[arg(long, env = "CENTRPC_WS_URL")]
    url: Option<String>,
    /// Centrifugo's HTTP port, for the default --url.
    #[arg(long, env = "CENTRPC_CENTRIFUGO_PORT", default_value_t = 8000)]
    centrifugo_port: u16,
    /// Centrifugo's HMAC secret, to mint the connection token (as `token`).
    #[arg(long, env = "CENTRPC_HMAC_SECRET", hide_env_values = true)]
    hmac_secret: Option<String>,
    /// Use this connection token instead of minting one.
    #[arg(long, env = "CENTRPC_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl AsUser {
    /// Centrifugo's WebSocket URL.
    pub(crate) fn url(&self) -> String {
        self.url.clone().unwrap_or_else(|| {
            format!(
                "ws://127.0.0.1:{}/connection/websocket",
                self.centrifugo_port
            )
        })
    }

    /// The connection token: given, or minted for `user` (with `meta`), valid for 5 minutes.
    pub(crate) fn token(&self) -> Result<String, String> {
        match (&self.token, &self.hmac_secret) {
            (Some(t), _) => Ok(t.clone()),
            (None, Some(secret)) => {
                let mut claims = token::Claims::new(&self.user, Some(Duration::from_secs(300)));
                claims.meta = self.meta.clone();
                Ok(token::sign(&claims, secret))
            }
            (None, None) => Err(
                "going through Centrifugo needs --hmac-secret (CENTRPC_HMAC_SECRET) to mint a token, or --token".into(),
            ),
        }
    }
}

/// Runs `call`; every problem is printed and mapped to an [`Exit`] code.
pub(crate) async fn command<S: Send + Sync + 'static>(
    args: CallArgs,
    router: &Router<S>,
) -> ExitCode {
    match run(args, router).await {
        Ok(exit) => exit.into(),
        Err((exit, message)) => {
            eprintln!("error: {message}");
            exit.into()
        }
    }
}

async fn run<S: Send + Sync + 'static>(
    args: CallArgs,
    router: &Router<S>,
) -> Result<Exit, (Exit, String)> {
    let usage = |m: String| (Exit::Usage, m);
    let methods = router.methods();
    if args.list {
        let width = methods.iter().map(|m| m.name.len()).max().unwrap_or(0);
        for m in &methods {
            let line = m.description.as_deref().unwrap_or("").lines().next();
            println!("{:width$}  {}", m.name, line.unwrap_or(""));
        }
        return Ok(Exit::Ok);
    }
    let name = args
        .method
        .clone()
        .expect("clap requires METHOD without --list");
    let info = methods.iter().find(|m| m.name == name).copied();
    if args.example {
        let info = info.ok_or_else(|| unknown(&name, &methods))?;
        let document = schema::document(router);
        let schema = example::params_schema(&document, &info.name).expect("listed");
        println!(
            "{}",
            serde_json::to_string_pretty(&example::example(schema, &document)).expect("JSON")
        );
        return Ok(Exit::Ok);
    }
    let payload = read_params(&args).map_err(usage)?;
    if !args.no_check {
        let info = info.ok_or_else(|| unknown(&name, &methods))?;
        if let Err(e) = (info.check)(&payload) {
            print_error(e.code(), e.message(), e.is_temporary());
            return Err((
                Exit::Rejected,
                format!(
                    "params refused before sending: {} {}: {} (--no-check sends them anyway)",
                    e.code(),
                    error_name(e.code(), info),
                    e.message()
                ),
            ));
        }
    }

    let outcome = if args.via_centrifugo {
        let token = args.as_user.token().map_err(usage)?;
        let params = json_data(&payload).map_err(usage)?;
        let url = args.as_user.url();
        centrifugo::call(&url, &token, &name, params, args.timeout).await
    } else {
        let target = grpc_target(&args).map_err(usage)?;
        let caller = grpc::Caller {
            user: args.as_user.user.clone(),
            client: args.client.clone(),
            transport: args.transport.clone(),
            meta: args
                .as_user
                .meta
                .as_ref()
                .map(|m| m.to_string().into_bytes()),
        };
        grpc::call(&target, &caller, &name, payload)
            .await
            .map_err(usage)?
    };
    match outcome {
        Ok(Outcome::Result(value)) => {
            println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
            Ok(Exit::Ok)
        }
        Ok(Outcome::Error {
            code,
            message,
            temporary,
        }) => {
            print_error(code, &message, temporary);
            let name = info.map_or_else(|| builtin_name(code), |i| error_name(code, i));
            let retry = if temporary { " (temporary)" } else { "" };
            eprintln!("error {code} {name}: {message}{retry}");
            Ok(Exit::RpcError)
        }
        Ok(Outcome::Disconnect { code, reason }) => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"disconnect": {"code": code, "reason": reason}})
                )
                .expect("JSON")
            );
            eprintln!("disconnect {code}: {reason}");
            Ok(Exit::RpcError)
        }
        Err(failure) => Err(failure.exit()),
    }
}

impl Failure {
    /// The exit code and message of a failure to get an answer.
    pub(crate) fn exit(self) -> (Exit, String) {
        match self {
            Failure::Unreachable(m) => (Exit::Unreachable, m),
            Failure::Refused(m) => (Exit::Refused, m),
        }
    }
}

/// Params or subscribe data for Centrifugo's JSON protocol: none when empty, else valid JSON.
pub(crate) fn json_data(payload: &[u8]) -> Result<Option<Value>, String> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(payload)
        .map(Some)
        .map_err(|e| format!("Centrifugo's JSON protocol carries only valid JSON data: {e}"))
}

/// The gRPC target the flags describe.
fn grpc_target(args: &CallArgs) -> Result<grpc::Target, String> {
    let address = match &args.endpoint {
        Some(e) => e
            .strip_prefix("grpc://")
            .or_else(|| e.strip_prefix("grpcs://"))
            .unwrap_or(e)
            .trim_end_matches('/')
            .to_owned(),
        None => {
            let mut addr = args.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            addr.to_string()
        }
    };
    let tls = match (&args.tls_cert, &args.proxy_tls.proxy_tls_ca) {
        (_, Some(ca)) => Some(grpc::Tls {
            ca: ca.clone(),
            identity: args.proxy_tls.proxy_tls_cert.clone().zip(args.proxy_tls.proxy_tls_key.clone()),
            server_name: args.proxy_tls.proxy_tls_server_name.clone(),
        }),
        (Some(_), None) => {
            return Err(
                "the backend serves TLS (--tls-cert / CENTRPC_TLS_CERT is set): give --proxy-tls-ca, the CA to trust".into(),
            )
        }
        (None, None) => None,
    };
    Ok(grpc::Target {
        address,
        credentials: args.auth_key.clone().zip(args.auth_value.clone()),
        tls,
        timeout: args.timeout,
    })
}

/// The params bytes: the positional JSON, `-d JSON`, `-d @FILE` or `-d @-`; empty when none.
fn read_params(args: &CallArgs) -> Result<Vec<u8>, String> {
    read_data(args.params.as_deref(), args.data.as_deref())
}

/// Data given positionally or with `-d` (JSON, `@FILE`, `@-` for stdin); empty when none.
pub(crate) fn read_data(positional: Option<&str>, flag: Option<&str>) -> Result<Vec<u8>, String> {
    let given = positional.or(flag);
    match given {
        None => Ok(Vec::new()),
        Some("@-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read the params from stdin: {e}"))?;
            Ok(buf)
        }
        Some(s) if s.starts_with('@') && flag.is_some() => std::fs::read(&s[1..])
            .map_err(|e| format!("cannot read the params file {}: {e}", &s[1..])),
        Some(s) => Ok(s.as_bytes().to_vec()),
    }
}

fn unknown(name: &str, methods: &[&MethodInfo]) -> (Exit, String) {
    let close: Vec<&str> = methods
        .iter()
        .map(|m| m.name.as_str())
        .filter(|m| {
            let (a, b) = (m.split('.').next_back(), name.split('.').next_back());
            m.contains(name) || name.contains(m) || a == b
        })
        .collect();
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", close.join(", "))
    };
    (
        Exit::Rejected,
        format!(
            "this app has no method {name:?}{hint}; `call --list` lists them, --no-check sends it anyway"
        ),
    )
}

pub(crate) fn print_error(code: u32, message: &str, temporary: bool) {
    let body = json!({"error": {"code": code, "message": message, "temporary": temporary}});
    println!("{}", serde_json::to_string_pretty(&body).expect("JSON"));
}

/// The name of `code` for `method`: a declared error of the method, or a built-in one.
fn error_name(code: u32, method: &MethodInfo) -> String {
    method
        .errors
        .iter()
        .find(|e| e.code == code)
        .map_or_else(|| builtin_name(code), |e| e.name.to_owned())
}

pub(crate) fn builtin_name(code: u32) -> String {
    BUILTIN_ERRORS
        .iter()
        .find(|e| e.code == code)
        .map_or_else(|| "ERROR".to_owned(), |e| e.name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{method, Context, RpcError};

    fn check(info: &MethodInfo, payload: &str) -> Result<(), RpcError> {
        (info.check)(payload.as_bytes())
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct P {
        user_id: String,
        items: Vec<Item>,
        kind: Kind,
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Item {
        id: u32,
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Low,
        High,
    }
    async fn h(_: Context, _: P) -> Result<u8, RpcError> {
        Ok(1)
    }

    #[test]
    fn the_check_gives_the_servers_field_paths_and_the_example_passes_it() {
        let router = Router::new(()).rpc("t.h", method(h));
        let info = router.methods()[0];
        let good = r#"{"user_id":"1","items":[{"id":1}],"kind":"low"}"#;
        check(info, good).unwrap();
        for (bad, expect) in [
            (
                r#"{"user_id":1,"items":[],"kind":"low"}"#,
                "user_id: invalid type",
            ),
            (
                r#"{"user_id":"1","items":[{"id":1},{"id":"x"}],"kind":"low"}"#,
                "items[1].id: invalid type",
            ),
            (
                r#"{"user_id":"1","items":[],"kind":"medium"}"#,
                "kind: unknown variant `medium`",
            ),
            (r#"{"items":[],"kind":"low"}"#, "missing field `user_id`"),
        ] {
            let e = check(info, bad).unwrap_err();
            assert_eq!(e.code(), 422);
            assert!(e.message().contains(expect), "{bad}: {}", e.message());
        }
        assert_eq!(check(info, "{").unwrap_err().code(), 400);
        let document = schema::document(&router);
        let ex = example::example(example::params_schema(&document, "t.h").unwrap(), &document);
        check(info, &ex.to_string()).unwrap();
    }
}
