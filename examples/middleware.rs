//! Middleware: a per-user rate limit on one method, an access check for every call written as
//! an async function, and one of tower's own layers (a timeout) on a slow method.
//!
//! ```text
//! cargo run --example middleware -- serve
//! ```

use std::{num::NonZeroU32, time::Duration};

use centrpc::{
    method,
    middleware::{self, Next, Quota, RateLimitLayer},
    Call, Context, Router, RpcError,
};

async fn send(_: Context, text: String) -> Result<usize, RpcError> {
    Ok(text.len())
}

async fn report(_: Context, _: ()) -> Result<&'static str, RpcError> {
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok("done")
}

/// Anonymous connections may not call anything.
async fn require_login(call: Call, next: Next<()>) -> centrpc::CallResult {
    if call.kind() == "rpc" && call.user().is_empty() {
        return Err(RpcError::new(1401, "log in first"));
    }
    next.run(call).await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let five_a_second = Quota::per_second(NonZeroU32::new(5).expect("non-zero"));
    let router = Router::new(())
        .rpc(
            "chat.send",
            method(send).layer(RateLimitLayer::per_user(five_a_second)),
        )
        .rpc(
            "reports.build",
            method(report).layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(2))),
        )
        .layer(middleware::from_fn(require_login));
    centrpc::cli::run(router).await
}
