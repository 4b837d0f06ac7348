//! Middleware through the real pipeline (in process, with `TestClient`): router-wide and
//! per-method layers in order, `from_fn` answering by itself, tower's own layers with their
//! errors in-band, the rate limiter, panics inside layers, and what layers never see.

use std::{
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use centrpc::{
    codes,
    hooks::{SubscribeEvent, SubscribeReply},
    method,
    middleware::{self, Quota, RateLimitLayer},
    testing::TestClient,
    Context, ErrorKind, Router, RpcError,
};

async fn echo(_: Context, v: serde_json::Value) -> Result<serde_json::Value, RpcError> {
    Ok(v)
}

async fn slow(_: Context, ms: u64) -> Result<u64, RpcError> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(ms)
}

async fn not_found_of_my_own(_: Context, _: ()) -> Result<(), RpcError> {
    Err(RpcError::new(404, "no such widget"))
}

async fn any_channel(_: Context, _: SubscribeEvent) -> Result<SubscribeReply, RpcError> {
    Ok(SubscribeReply::default())
}

/// A from_fn layer that notes `name` and the call's kind and method before passing it on.
fn note(name: &'static str, seen: &Arc<Mutex<Vec<String>>>) -> impl middleware::IntoCallLayer<()> {
    let seen = seen.clone();
    middleware::from_fn(move |call: centrpc::Call, next: middleware::Next<()>| {
        let seen = seen.clone();
        async move {
            seen.lock()
                .unwrap()
                .push(format!("{name} {} {}", call.kind(), call.method()));
            next.run(call).await
        }
    })
}

#[tokio::test]
async fn layers_run_outermost_last_added_and_per_method_inside() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let router = Router::new(())
        .rpc("plain", echo)
        .rpc("layered", method(echo).layer(note("method", &seen)))
        .hooks(|h| h.subscribe("*", any_channel))
        .layer(note("inner", &seen))
        .layer(note("outer", &seen));
    let client = TestClient::new(router);
    let v: serde_json::Value = client.call("layered", &1).await.unwrap();
    assert_eq!(v, 1);
    let _: serde_json::Value = client.call("plain", &2).await.unwrap();
    client.subscribe("42", "news").await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "outer rpc layered",
            "inner rpc layered",
            "method rpc layered",
            "outer rpc plain",
            "inner rpc plain",
            "outer subscribe subscribe",
            "inner subscribe subscribe",
        ]
    );
}

#[tokio::test]
async fn unknown_methods_never_reach_a_layer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(Router::new(()).rpc("echo", echo).layer(note("l", &seen)));
    let err = client
        .call::<serde_json::Value>("nope", &1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::METHOD_NOT_FOUND);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn from_fn_can_answer_by_itself_in_band() {
    let router = Router::new(()).rpc("echo", echo).layer(middleware::from_fn(
        |call: centrpc::Call, next: middleware::Next<()>| async move {
            if call.user().is_empty() {
                return Err(RpcError::new(1401, "log in first").temporary());
            }
            next.run(call).await
        },
    ));
    let client = TestClient::new(router);
    let err = client.call::<u32>("echo", &7).await.unwrap_err();
    assert_eq!(
        (err.code(), err.message(), err.is_temporary()),
        (1401, "log in first", true)
    );
    assert_eq!(client.call::<u32>("echo", &7).user("42").await.unwrap(), 7);
}

#[tokio::test]
async fn tower_layers_fit_and_their_errors_travel_in_band() {
    let router = Router::new(()).rpc(
        "slow",
        method(slow).layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(50))),
    );
    let client = TestClient::new(router);
    assert_eq!(client.call::<u64>("slow", &1).await.unwrap(), 1);
    let err = client.call::<u64>("slow", &5_000).await.unwrap_err();
    assert_eq!(err.code(), codes::TIMED_OUT, "{err}");
    assert!(err.is_temporary());
}

#[tokio::test]
async fn a_panicking_layer_is_isolated_like_a_panicking_handler() {
    let router = Router::new(()).rpc("echo", echo).layer(middleware::from_fn(
        |call: centrpc::Call, next: middleware::Next<()>| async move {
            if call.method() == "echo" && call.user() == "boom" {
                panic!("middleware bug");
            }
            next.run(call).await
        },
    ));
    let client = TestClient::new(router);
    let err = client
        .call::<u32>("echo", &1)
        .user("boom")
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (codes::INTERNAL, "internal error")
    );
    assert_eq!(client.call::<u32>("echo", &1).user("ok").await.unwrap(), 1);
}

#[tokio::test]
async fn the_rate_limiter_refuses_per_user_with_a_retry_hint_and_counts_it() {
    let quota = Quota::per_hour(NonZeroU32::new(2).unwrap());
    let router = Router::new(())
        .rpc("echo", echo)
        .layer(RateLimitLayer::per_user(quota));
    let client = TestClient::new(router);
    for _ in 0..2 {
        client.call::<u32>("echo", &1).user("alice").await.unwrap();
    }
    let err = client
        .call::<u32>("echo", &1)
        .user("alice")
        .await
        .unwrap_err();
    assert_eq!(err.code(), codes::RATE_LIMITED);
    assert!(err.is_temporary());
    let ms: u64 = err
        .message()
        .strip_prefix("rate limit exceeded, retry after ")
        .and_then(|m| m.strip_suffix(" ms"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no retry hint in {:?}", err.message()));
    // One token comes back every 30 minutes.
    assert!((1..=30 * 60 * 1000).contains(&ms), "{ms}");
    // Another user has a bucket of their own.
    client.call::<u32>("echo", &1).user("bob").await.unwrap();
    let text = client.metrics().render();
    assert!(
        text.contains(r#"centrpc_calls_total{kind="rpc",method="echo",outcome="rate_limited"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn per_method_keys_do_not_share_buckets() {
    let quota = Quota::per_hour(NonZeroU32::new(1).unwrap());
    let router = Router::new(())
        .rpc("a", echo)
        .rpc("b", echo)
        .layer(RateLimitLayer::per_user_and_method(quota));
    let client = TestClient::new(router);
    client.call::<u32>("a", &1).user("u").await.unwrap();
    client.call::<u32>("b", &1).user("u").await.unwrap();
    let err = client.call::<u32>("a", &1).user("u").await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::App,
        "a client-side RpcError is rebuilt from the wire"
    );
    assert_eq!(err.code(), codes::RATE_LIMITED);
}

#[tokio::test]
async fn outcomes_come_from_the_error_kind_not_its_number() {
    let client = TestClient::new(Router::new(()).rpc("widgets.get", not_found_of_my_own));
    let err = client.call::<()>("widgets.get", &()).await.unwrap_err();
    assert_eq!(err.code(), 404);
    let _ = client.call::<()>("widgets.nope", &()).await.unwrap_err();
    let text = client.metrics().render();
    assert!(
        text.contains(r#"method="widgets.get",outcome="app_error"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"method="<unknown>",outcome="method_not_found"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn per_method_buckets_are_shared_by_users_and_hooks_pass_through() {
    let quota = Quota::per_hour(NonZeroU32::new(1).unwrap());
    let router = Router::new(())
        .rpc("a", echo)
        .rpc("b", echo)
        .hooks(|h| h.subscribe("*", any_channel))
        .layer(RateLimitLayer::per_method(quota));
    let client = TestClient::new(router);
    client.call::<u32>("a", &1).user("u1").await.unwrap();
    // Another user spends the same method's bucket…
    let err = client.call::<u32>("a", &1).user("u2").await.unwrap_err();
    assert_eq!(err.code(), codes::RATE_LIMITED);
    // …while another method has its own.
    client.call::<u32>("b", &1).user("u2").await.unwrap();
    // Hooks are not RPC calls: a router-wide limiter lets them through.
    for user in ["", "u1", "u1"] {
        client.subscribe(user, "news").await.unwrap();
    }
}
