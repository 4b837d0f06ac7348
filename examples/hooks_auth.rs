//! Hooks and authentication: a connect hook that logs users in from their connect data, a
//! subscribe rule that keeps users on their own channel, and a handler that reads who is calling.
//!
//! ```text
//! cargo run --example hooks_auth -- serve
//! cargo run --example hooks_auth -- centrifugo-config --omit-secrets   # enables the hooks
//! ```

use centrpc::{
    hooks::{ConnectEvent, ConnectReply, Hooks, SubscribeEvent, SubscribeReply},
    Context, Router, RpcError,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

/// Accepts any user name with the password `demo`; anything else is a terminal disconnect.
async fn connect(_: Context, event: ConnectEvent) -> Result<ConnectReply, RpcError> {
    let refused = || RpcError::disconnect(4503, "invalid credentials");
    let login: Login = event.data().map_err(|_| refused())?;
    if login.password != "demo" || login.user.is_empty() {
        return Err(refused());
    }
    Ok(ConnectReply::user(login.user))
}

/// `inbox:<user>` is only for that user.
async fn own_inbox(ctx: Context, e: SubscribeEvent) -> Result<SubscribeReply, RpcError> {
    match e.channel.strip_prefix("inbox:") {
        Some(owner) if owner == ctx.user() => Ok(SubscribeReply::default()),
        _ => Err(RpcError::new(1403, "not your inbox")),
    }
}

async fn whoami(ctx: Context, _: ()) -> Result<String, RpcError> {
    Ok(ctx.user().to_owned())
}

fn hooks(h: Hooks<()>) -> Hooks<()> {
    h.connect(connect).subscribe("inbox:*", own_inbox)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let router = Router::new(()).rpc("system.whoami", whoami).hooks(hooks);
    centrpc::cli::run(router).await
}
