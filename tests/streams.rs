//! Subscription streams and typed channels over real gRPC, as Centrifugo's proxy client speaks
//! them: `SubscribeUnidirectional` and `SubscribeBidirectional` against the example app (item
//! order, refusals as the first and only message, hostile subscribe data and publications,
//! cancellation, the stream limit, shutdown), a handler that fails or panics mid-stream, the
//! router's checks, and typed channel publications through the in-process TestClient.

mod common;

use std::{sync::atomic::Ordering, time::Duration};

use centrpc::{
    codes,
    proto::{
        centrifugo_proxy_client::CentrifugoProxyClient, Publication, StreamSubscribeRequest,
        StreamSubscribeResponse, SubscribeRequest,
    },
    server::ServerConfig,
    service::Limits,
    stream,
    testing::TestClient,
    Channel, Context, Router, RpcError,
};
use common::{app, TestServer};
use futures_util::{stream::BoxStream, Stream, StreamExt};
use serde_json::{json, Value};
use tonic::{transport::Channel as GrpcChannel, Code, Streaming};

/// A subscribe request as Centrifugo sends it for a JSON client of user 42.
fn subscribe(channel: &str, data: &[u8]) -> SubscribeRequest {
    SubscribeRequest {
        client: "c-1".into(),
        transport: "websocket".into(),
        protocol: "json".into(),
        encoding: "json".into(),
        user: "42".into(),
        channel: channel.into(),
        data: data.to_vec(),
        ..Default::default()
    }
}

/// Opens a unidirectional stream and returns the rest of it after an accepted first message.
async fn open(
    client: &mut CentrifugoProxyClient<GrpcChannel>,
    channel: &str,
    data: Value,
) -> Streaming<StreamSubscribeResponse> {
    let req = subscribe(channel, data.to_string().as_bytes());
    let mut replies = client
        .subscribe_unidirectional(req)
        .await
        .expect("a stream, not a status")
        .into_inner();
    let first = replies.message().await.unwrap().expect("a first message");
    let sub = first
        .subscribe_response
        .expect("the first message is the subscribe response");
    assert!(sub.error.is_none() && sub.disconnect.is_none(), "{sub:?}");
    assert!(sub.result.is_some());
    replies
}

/// The JSON of the next publication.
async fn item(replies: &mut Streaming<StreamSubscribeResponse>) -> Value {
    let msg = replies.message().await.unwrap().expect("another item");
    assert!(msg.subscribe_response.is_none());
    serde_json::from_slice(&msg.publication.expect("a publication").data).unwrap()
}

/// The refusal a stream opens with: `(code, message, temporary)`; the stream then ends.
async fn refusal(
    client: &mut CentrifugoProxyClient<GrpcChannel>,
    req: SubscribeRequest,
) -> (u32, String, bool) {
    let mut replies = client
        .subscribe_unidirectional(req)
        .await
        .unwrap()
        .into_inner();
    let first = replies.message().await.unwrap().expect("a first message");
    let e = first
        .subscribe_response
        .and_then(|s| s.error)
        .expect("a refusal");
    assert!(
        replies.message().await.unwrap().is_none(),
        "a refused stream ends after its refusal"
    );
    (e.code, e.message, e.temporary)
}

/// A metric's value in the Prometheus text, 0 when the series does not exist.
fn metric(server: &TestServer, series: &str) -> f64 {
    let text = server.metrics.render();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits (at most 10 s, so a bug fails instead of hanging) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn a_stream_delivers_every_item_in_order_then_ends_cleanly() {
    let server = TestServer::example().await;
    let mut client = server.client().await;
    let mut replies = open(&mut client, "watch:count", json!({"from": 5, "count": 300})).await;
    for n in 5..305 {
        assert_eq!(item(&mut replies).await, json!({"n": n, "user": "42"}));
    }
    assert!(
        replies.message().await.unwrap().is_none(),
        "a clean end (Centrifugo: unsubscribe 2000), not an error status"
    );
    let ok = r#"centrpc_calls_total{kind="stream",method="watch:count",outcome="ok"}"#;
    eventually("the stream counted as ok", || metric(&server, ok) == 1.0).await;
    let sent = r#"centrpc_stream_messages_total{direction="sent",stream="watch:count"}"#;
    assert_eq!(metric(&server, sent), 300.0);
    assert_eq!(
        metric(&server, r#"centrpc_streams_active{stream="watch:count"}"#),
        0.0
    );
}

#[tokio::test]
async fn refusals_and_hostile_subscribe_data_are_the_first_and_only_message() {
    let limits = Limits::default().max_payload(1024);
    let config = ServerConfig::default().limits(limits);
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut client = server.client().await;
    let big = format!(r#"{{"count": 1, "pad": "{}"}}"#, "x".repeat(2000));
    let cases: Vec<(&str, &[u8], u32, &str)> = vec![
        (
            "watch:count",
            br#"{"count": "x"}"#,
            codes::INVALID_PARAMS,
            "count",
        ),
        ("watch:count", b"{", codes::MALFORMED_JSON, "malformed"),
        ("watch:count", b"", codes::INVALID_PARAMS, "invalid params"),
        (
            "watch:count",
            br#"{"count": 20000000}"#,
            codes::INVALID_PARAMS,
            "at most",
        ),
        (
            "watch:count",
            big.as_bytes(),
            codes::PAYLOAD_TOO_LARGE,
            "too large",
        ),
        ("nowhere:x", b"{}", codes::CHANNEL_NOT_ALLOWED, "nowhere:x"),
        (
            "watch:countdown",
            b"{}",
            codes::CHANNEL_NOT_ALLOWED,
            "watch:countdown",
        ),
        (
            "watch:count",
            &[0xff, 0xfe, b'{'],
            codes::MALFORMED_JSON,
            "malformed",
        ),
    ];
    for (channel, data, code, needle) in cases {
        let (got, message, _) = refusal(&mut client, subscribe(channel, data)).await;
        assert_eq!(
            got,
            code,
            "{channel} {:?}: {message}",
            String::from_utf8_lossy(data)
        );
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    // None of them left a stream open or crashed the server.
    assert_eq!(
        metric(&server, r#"centrpc_streams_active{stream="watch:count"}"#),
        0.0
    );
    let mut replies = open(&mut client, "watch:count", json!({"count": 1})).await;
    assert_eq!(item(&mut replies).await["n"], 0);
}

/// A bidirectional stream's request side: the subscribe request, then what `publications` sends.
fn bidi_requests(
    channel: &str,
    data: Value,
) -> (
    tokio::sync::mpsc::UnboundedSender<StreamSubscribeRequest>,
    BoxStream<'static, StreamSubscribeRequest>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tx.send(StreamSubscribeRequest {
        subscribe_request: Some(subscribe(channel, data.to_string().as_bytes())),
        publication: None,
    })
    .unwrap();
    let requests =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
    (tx, requests.boxed())
}

fn publication(data: &[u8]) -> StreamSubscribeRequest {
    StreamSubscribeRequest {
        subscribe_request: None,
        publication: Some(Publication {
            data: data.to_vec(),
            tags: Default::default(),
        }),
    }
}

#[tokio::test]
async fn a_bidirectional_stream_hands_typed_publications_to_its_handler() {
    let config = ServerConfig::default().limits(Limits::default().max_payload(256));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut client = server.client().await;
    let (tx, requests) = bidi_requests("tally:k1", json!({"start": 10}));
    let mut replies = client
        .subscribe_bidirectional(requests)
        .await
        .unwrap()
        .into_inner();
    let first = replies.message().await.unwrap().unwrap();
    assert!(first.subscribe_response.unwrap().result.is_some());
    let oversized = format!(r#"{{"add": 1, "pad": "{}"}}"#, "x".repeat(300));
    let sends: [&[u8]; 6] = [
        br#"{"add": 5}"#,
        br#"{"add": "five"}"#,
        b"{",
        oversized.as_bytes(),
        br#"{"add": -2}"#,
        br#"{"add": 9223372036854775807}"#,
    ];
    let want = [
        (15, 1, 0),
        (15, 1, 1),
        (15, 1, 2),
        (15, 1, 3),
        (13, 2, 3),
        (i64::MAX, 3, 3),
    ];
    for (data, (total, adds, refused)) in sends.into_iter().zip(want) {
        tx.send(publication(data)).unwrap();
        assert_eq!(
            item(&mut replies).await,
            json!({"total": total, "adds": adds, "refused": refused})
        );
    }
    let received = r#"centrpc_stream_messages_total{direction="received",stream="tally:*"}"#;
    assert_eq!(metric(&server, received), 6.0);
    // The subscriber leaving ends the stream.
    drop(tx);
    drop(replies);
    let gone = r#"centrpc_calls_total{kind="stream",method="tally:*",outcome="cancelled"}"#;
    eventually("the bidi stream counted as cancelled", || {
        metric(&server, gone) == 1.0
    })
    .await;
}

#[tokio::test]
async fn a_bidirectional_stream_must_open_with_a_subscribe_request() {
    let server = TestServer::example().await;
    let mut client = server.client().await;
    let requests = futures_util::stream::iter([publication(br#"{"add": 1}"#)]);
    let status = client.subscribe_bidirectional(requests).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

#[tokio::test]
async fn a_subscriber_that_leaves_cancels_the_handler() {
    let app = app::App::default();
    let router = app::router(app);
    let state = router.state().clone();
    let server = TestServer::start(router, ServerConfig::default()).await;
    let mut client = server.client().await;
    let mut replies = open(
        &mut client,
        "watch:count",
        json!({"count": 1_000_000, "interval_ms": 5}),
    )
    .await;
    for n in 0..3 {
        assert_eq!(item(&mut replies).await["n"], n);
    }
    drop(replies);
    eventually("the handler saw its stream cancelled", || {
        state.streams_cancelled.load(Ordering::Relaxed) == 1
    })
    .await;
    let gone = r#"centrpc_calls_total{kind="stream",method="watch:count",outcome="cancelled"}"#;
    eventually("counted as cancelled", || metric(&server, gone) == 1.0).await;
    assert_eq!(
        metric(&server, r#"centrpc_streams_active{stream="watch:count"}"#),
        0.0
    );
}

#[tokio::test]
async fn the_stream_limit_sheds_new_streams_with_a_temporary_overload() {
    let config = ServerConfig::default().limits(Limits::default().max_streams(2));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut client = server.client().await;
    let long = json!({"count": 1_000_000, "interval_ms": 50});
    let first = open(&mut client, "watch:count", long.clone()).await;
    let _second = open(&mut client, "watch:count", long.clone()).await;
    // A temporary refusal is a gRPC status, so Centrifugo answers its temporary 100 and the SDK
    // subscribes again (Centrifugo drops `temporary` from an in-band stream refusal).
    let status = client
        .subscribe_unidirectional(subscribe("watch:count", long.to_string().as_bytes()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("503"), "{status:?}");
    let shed = r#"centrpc_calls_total{kind="stream",method="watch:count",outcome="overloaded"}"#;
    assert_eq!(metric(&server, shed), 1.0);
    drop(first);
    let active = r#"centrpc_streams_active{stream="watch:count"}"#;
    eventually("one stream closed", || metric(&server, active) == 1.0).await;
    let mut third = open(&mut client, "watch:count", long).await;
    assert_eq!(item(&mut third).await["n"], 0);
}

#[tokio::test]
async fn shutdown_ends_open_streams_with_an_error_so_subscribers_resubscribe() {
    let app = app::App::default();
    let router = app::router(app);
    let state = router.state().clone();
    let config = ServerConfig::default().shutdown_timeout(Duration::from_secs(60));
    let mut server = TestServer::start(router, config).await;
    let mut client = server.client().await;
    let mut replies = open(&mut client, "watch:tasks", json!({})).await;
    server.shutdown();
    let status = replies.message().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("shutting down"), "{status:?}");
    // The graceful shutdown does not wait for a stream that would never end.
    let stopped = tokio::time::timeout(Duration::from_secs(30), &mut server.task).await;
    stopped.expect("the server stopped").unwrap().unwrap();
    assert_eq!(state.streams_cancelled.load(Ordering::Relaxed), 1);
    let shutdown = r#"centrpc_calls_total{kind="stream",method="watch:tasks",outcome="shutdown"}"#;
    assert_eq!(metric(&server, shutdown), 1.0);
}

#[tokio::test]
async fn without_streams_the_stream_proxy_is_unimplemented() {
    async fn ping(_: Context, _: ()) -> Result<(), RpcError> {
        Ok(())
    }
    let server =
        TestServer::start(Router::new(()).rpc("ping", ping), ServerConfig::default()).await;
    let mut client = server.client().await;
    let status = client
        .subscribe_unidirectional(subscribe("a:b", b"{}"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert!(status.message().contains("Router::stream"), "{status:?}");
}

/// One item, then the end given by `how`: an error item, or a panic.
async fn one_then(
    _: Context,
    how: String,
) -> Result<impl Stream<Item = Result<u32, RpcError>>, RpcError> {
    Ok(
        futures_util::stream::iter(0..2).map(move |n| match (n, how.as_str()) {
            (0, _) => Ok(7),
            (_, "fail") => Err(RpcError::new(1503, "the source went away").temporary()),
            _ => panic!("the stream broke"),
        }),
    )
}

/// Refuses to open with a disconnect.
async fn disconnects(
    _: Context,
    _: (),
) -> Result<futures_util::stream::Empty<Result<u32, RpcError>>, RpcError> {
    Err(RpcError::disconnect(4503, "go away"))
}

#[tokio::test]
async fn a_stream_that_fails_or_panics_ends_with_an_error_status_and_the_server_lives_on() {
    let router = Router::new(())
        .stream("tt:*", one_then)
        .stream("gone:x", disconnects);
    let server = TestServer::start(router, ServerConfig::default()).await;
    let mut client = server.client().await;
    for (how, outcome) in [("fail", "app_error"), ("panic", "internal")] {
        let mut replies = open(&mut client, "tt:x", json!(how)).await;
        assert_eq!(item(&mut replies).await, json!(7));
        let status = replies.message().await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{how}: {status:?}");
        let series =
            format!(r#"centrpc_calls_total{{kind="stream",method="tt:*",outcome="{outcome}"}}"#);
        eventually(&series, || metric(&server, &series) == 1.0).await;
    }
    let mut replies = client
        .subscribe_unidirectional(subscribe("gone:x", b""))
        .await
        .unwrap()
        .into_inner();
    let first = replies
        .message()
        .await
        .unwrap()
        .unwrap()
        .subscribe_response
        .unwrap();
    let d = first.disconnect.expect("a refusal by disconnect");
    assert_eq!((d.code, d.reason.as_str()), (4503, "go away"));
    assert_eq!(
        metric(&server, r#"centrpc_streams_active{stream="tt:*"}"#),
        0.0
    );
}

#[tokio::test]
async fn the_test_client_drives_streams_in_process() {
    let client = TestClient::new(app::router(app::App::default()));
    let mut count = client
        .stream::<Value>("alice", "watch:count", &json!({"from": 1, "count": 3}))
        .await
        .unwrap();
    for n in 1..4 {
        assert_eq!(
            count.next().await.unwrap().unwrap(),
            json!({"n": n, "user": "alice"})
        );
    }
    assert!(count.next().await.is_none());
    let refused = client
        .stream::<Value>("alice", "watch:count", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), codes::INVALID_PARAMS);
    assert!(refused.message().contains("count"), "{}", refused.message());
    let theirs = client
        .stream::<Value>("bob", "watch:tasks", &json!({"owner": "alice"}))
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), app::codes::NOT_YOUR_CHANNEL);

    let (mut tally, publisher) = client
        .stream_bidi::<Value>("alice", "tally:mine", &json!({"start": 1}))
        .await
        .unwrap();
    assert!(publisher.publish(&json!({"add": 2})));
    assert_eq!(tally.next().await.unwrap().unwrap()["total"], 3);
    assert!(publisher.publish_raw("not json"));
    assert_eq!(tally.next().await.unwrap().unwrap()["refused"], 1);
}

#[tokio::test]
async fn a_typed_channel_checks_client_publications_before_its_hook() {
    const FREE: Channel<Value> = Channel::new("free:*");
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Note {
        text: String,
        #[serde(default)]
        tags: Vec<String>,
    }
    let router = app::router(app::App::default()).channel_with_publish::<Note>(FREE);
    let client = TestClient::new(router);
    // The example's chat channel: typed ChatMessage in, and its own hook after the check.
    let e = client
        .publish("alice", "chat:room", &json!({"text": 5}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), codes::INVALID_PARAMS);
    assert!(e.message().contains("text"), "{}", e.message());
    let e = client
        .publish("alice", "chat:room", &json!({"text": " "}))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        app::codes::INVALID_MESSAGE,
        "the app's own check runs after the type's"
    );
    let ok = client
        .publish("alice", "chat:room", &json!({"text": " hi "}))
        .await
        .unwrap();
    assert_eq!(ok.data, Some(json!({"text": "hi", "from": "alice"})));
    // A typed channel without a hook of its own accepts what fits, unchanged.
    let ok = client
        .publish("bob", "free:x", &json!({"text": "a", "tags": ["b"]}))
        .await
        .unwrap();
    assert_eq!(ok.data, None);
    let e = client
        .publish("bob", "free:x", &json!({"text": "a", "tags": [1]}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), codes::INVALID_PARAMS);
    assert!(e.message().contains("tags[0]"), "{}", e.message());
}

#[test]
fn the_router_refuses_streams_and_channels_centrifugo_cannot_serve() {
    async fn none(
        _: Context,
        _: (),
    ) -> Result<futures_util::stream::Empty<Result<u32, RpcError>>, RpcError> {
        Ok(futures_util::stream::empty())
    }
    async fn sub(
        _: Context,
        _: centrpc::hooks::SubscribeEvent,
    ) -> Result<centrpc::hooks::SubscribeReply, RpcError> {
        Ok(Default::default())
    }
    let router = Router::new(())
        .stream("nonamespace", none)
        .stream("ws:x", none)
        .stream("ws:x", stream::uni(none))
        .stream("ws:*x", none)
        .stream("live:*", none)
        .hooks(|h| h.subscribe("live:feed", sub))
        .channel(Channel::<u8>::new("#*"))
        .channel(Channel::<u8>::new("news:*"))
        .channel(Channel::<u16>::new("news:*"));
    let problems = router.check().unwrap_err().problems;
    let expect = [
        "\"nonamespace\": a stream needs a namespace",
        "stream \"ws:x\" is registered more than once",
        "\"ws:*x\": `*` may only end a pattern",
        "\"live:feed\" has a subscribe or publish hook in the namespace of stream \"live:*\"",
        "channel \"#*\" needs a name",
        "\"news:*\" has the name \"news\" of another channel",
    ];
    for needle in expect {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{needle:?} not in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
}

#[test]
fn typed_channels_name_their_channels() {
    assert_eq!(app::TASK_EVENTS.at("alice").as_str(), "tasks:alice");
    assert_eq!(app::PROGRESS.at("alice").as_str(), "#alice");
}
