//! Hooks and authentication: a connect hook that logs users in from their connect data, a
//! subscribe rule that keeps users on their own channel, and a handler that reads who is calling.
//!
//! ```text
//! cargo run --example hooks_auth -- serve
//! cargo run --example hooks_auth -- centrifugo-config --omit-secrets   # enables the hooks
//! ```

use centrpc::{
    hooks::{ConnectEvent, ConnectReply, Hooks, Json, SubscribeEvent, SubscribeReply},
    Context, Router, RpcError,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// The connect data: typed, so it is in the API document and generated clients send it typed.
#[derive(Deserialize, JsonSchema)]
struct Login {
    user: String,
    password: String,
}

/// Accepts any user name with the password `demo`; a wrong password is a terminal disconnect.
/// Data that is not a `Login` never reaches the hook: the client gets centrpc's 400 / 422.
async fn connect(_: Context, event: ConnectEvent<Json<Login>>) -> Result<ConnectReply, RpcError> {
    let Json(login) = event.data;
    if login.password != "demo" || login.user.is_empty() {
        return Err(RpcError::disconnect(4503, "invalid credentials"));
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
