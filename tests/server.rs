//! The server over real loopback gRPC, spoken to with a tonic client the way Centrifugo speaks to
//! it: results, every built-in error, binary payloads, context, deadlines, shedding, shutdown,
//! auth, TLS/mTLS, metrics, and grpcurl through reflection.

mod common;

use std::{sync::atomic::Ordering, time::Duration};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use centrpc::{
    codes,
    server::{Credentials, ServerConfig, TlsFiles},
    service::Limits,
};
use common::{app, call, err, ok_json, rpc_request, TestServer};
use serde_json::json;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn typed_result_and_state() {
    let server = TestServer::example().await;
    let mut c = server.client().await;
    let created = ok_json(
        &call(
            &mut c,
            rpc_request("tasks.create", br#"{"title":"write tests"}"#),
        )
        .await,
    );
    assert_eq!(
        created["owner"], "42",
        "owner comes from Centrifugo's user, not the payload"
    );
    let id = created["id"].as_u64().unwrap();
    ok_json(
        &call(
            &mut c,
            rpc_request("tasks.complete", format!(r#"{{"id":{id}}}"#).as_bytes()),
        )
        .await,
    );
    ok_json(
        &call(
            &mut c,
            rpc_request("tasks.create", br#"{"title":"second"}"#),
        )
        .await,
    );
    let stats = ok_json(
        &call(
            &mut c,
            rpc_request("tasks.get_stats", br#"{"user_id":"42"}"#),
        )
        .await,
    );
    assert_eq!(stats, json!({"total": 2, "completed": 1}));
}

#[tokio::test]
async fn every_builtin_error_travels_inside_the_reply() {
    let server = TestServer::example().await;
    let mut c = server.client().await;
    let cases: &[(&str, &[u8], u32, &str)] = &[
        (
            "tasks.get_stats",
            b"{",
            codes::MALFORMED_JSON,
            "malformed JSON",
        ),
        (
            "tasks.get_stats",
            br#"{"user_id":7}"#,
            codes::INVALID_PARAMS,
            "user_id: invalid type: integer `7`, expected a string",
        ),
        (
            "tasks.missing",
            b"{}",
            codes::METHOD_NOT_FOUND,
            "method not found: \"tasks.missing\"",
        ),
        (
            "tasks.fail",
            br#"{"kind":"internal"}"#,
            codes::INTERNAL,
            "internal error",
        ),
        (
            "tasks.fail",
            br#"{"kind":"panic"}"#,
            codes::INTERNAL,
            "internal error",
        ),
        (
            "tasks.fail",
            br#"{"kind":"app"}"#,
            app::codes::DEMO_FAILURE,
            "demo failure",
        ),
        (
            "tasks.complete",
            br#"{"id":999}"#,
            app::codes::TASK_NOT_FOUND,
            "task not found",
        ),
        (
            "tasks.create",
            br#"{"title":"  "}"#,
            app::codes::INVALID_TITLE,
            "title must be 1 to 200 characters",
        ),
    ];
    for (method, data, code, message) in cases {
        let reply = call(&mut c, rpc_request(method, data)).await;
        let (got_code, got_message, temporary) = err(&reply);
        assert_eq!(
            got_code,
            *code,
            "{method} {}",
            String::from_utf8_lossy(data)
        );
        assert!(
            got_message.contains(message),
            "{method}: {got_message:?} lacks {message:?}"
        );
        assert!(!temporary);
        assert!(
            !got_message.contains("hunter2"),
            "panic detail leaked: {got_message}"
        );
    }
    let (code, _, temporary) = err(&call(
        &mut c,
        rpc_request("tasks.fail", br#"{"kind":"temporary"}"#),
    )
    .await);
    assert_eq!((code, temporary), (app::codes::DEMO_FAILURE, true));
    let reply = call(
        &mut c,
        rpc_request("tasks.fail", br#"{"kind":"disconnect"}"#),
    )
    .await;
    let d = reply.disconnect.expect("a disconnect");
    assert_eq!(
        (d.code, d.reason.as_str()),
        (app::codes::DEMO_DISCONNECT, "demo disconnect")
    );
    assert!(reply.error.is_none() && reply.result.is_none());
    // A panic did not take the server down.
    assert_eq!(server.health("").await.unwrap(), ServingStatus::Serving);
}

#[tokio::test]
async fn payload_too_large_is_in_band() {
    let config = ServerConfig::default().limits(Limits::default().max_payload(1000));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut c = server.client().await;
    let big = format!(r#"{{"user_id":"{}"}}"#, "x".repeat(2000));
    let (code, message, _) =
        err(&call(&mut c, rpc_request("tasks.get_stats", big.as_bytes())).await);
    assert_eq!(code, codes::PAYLOAD_TOO_LARGE);
    assert!(message.contains("the limit is 1000"), "{message}");
}

#[tokio::test]
async fn binary_encoding_reads_and_writes_b64data() {
    let server = TestServer::example().await;
    let mut c = server.client().await;
    let mut req = rpc_request("system.echo", b"");
    req.encoding = "binary".into();
    req.b64data = B64.encode(br#"{"a":[1,2,3]}"#);
    let reply = call(&mut c, req).await;
    let result = reply.result.expect("a result");
    assert!(result.data.is_empty(), "binary mode answers in b64data");
    let value: serde_json::Value =
        serde_json::from_slice(&B64.decode(result.b64data).unwrap()).unwrap();
    assert_eq!(value, json!({"a": [1, 2, 3]}));
}

#[tokio::test]
async fn context_carries_what_centrifugo_sent() {
    let server = TestServer::example().await;
    let mut c = server.client().await;
    let mut req = rpc_request("system.whoami", b"");
    req.meta = br#"{"plan":"pro"}"#.to_vec();
    req.protocol = "protobuf".into();
    let who = ok_json(&call(&mut c, req).await);
    assert_eq!(
        who,
        json!({"user":"42","client":"c-1","transport":"websocket","protocol":"protobuf","encoding":"json","meta":{"plan":"pro"}})
    );
}

#[tokio::test]
async fn server_timeout_cancels_the_handler_with_a_temporary_error() {
    let app = app::App::default();
    let router = app::router(app);
    let state = router.state().clone();
    let config =
        ServerConfig::default().limits(Limits::default().call_timeout(Duration::from_millis(200)));
    let server = TestServer::start(router, config).await;
    let mut c = server.client().await;
    let (code, _, temporary) =
        err(&call(&mut c, rpc_request("tasks.slow", br#"{"ms":5000}"#)).await);
    assert_eq!((code, temporary), (codes::TIMED_OUT, true));
    assert_eq!(
        state.cancelled.load(Ordering::Relaxed),
        1,
        "the slow handler was dropped"
    );
    assert_eq!(server.metrics.in_flight(), 0);
}

#[tokio::test]
async fn grpc_timeout_from_centrifugo_cancels_the_handler() {
    let router = app::router(app::App::default());
    let state = router.state().clone();
    let server = TestServer::start(router, ServerConfig::default()).await;
    let mut c = server.client().await;
    let mut req = tonic::Request::new(rpc_request("tasks.slow", br#"{"ms":5000}"#));
    req.set_timeout(Duration::from_millis(150));
    let status = c.rpc(req).await.expect_err("the client gave up");
    assert!(
        matches!(
            status.code(),
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        "{status:?}"
    );
    wait_until(|| state.cancelled.load(Ordering::Relaxed) == 1).await;
    wait_until(|| server.metrics.in_flight() == 0).await;
}

#[tokio::test]
async fn sheds_load_at_the_concurrency_limit_while_health_answers() {
    let config = ServerConfig::default().limits(Limits::default().max_concurrency(2));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut slow_calls = Vec::new();
    for _ in 0..2 {
        let mut c = server.client().await;
        slow_calls.push(tokio::spawn(async move {
            call(&mut c, rpc_request("tasks.slow", br#"{"ms":800}"#)).await
        }));
    }
    wait_until(|| server.metrics.in_flight() == 2).await;
    let mut c = server.client().await;
    let (code, message, temporary) = err(&call(
        &mut c,
        rpc_request("tasks.get_stats", br#"{"user_id":"1"}"#),
    )
    .await);
    assert_eq!((code, temporary), (codes::OVERLOADED, true), "{message}");
    assert_eq!(server.health("").await.unwrap(), ServingStatus::Serving);
    for t in slow_calls {
        ok_json(&t.await.unwrap());
    }
    ok_json(
        &call(
            &mut c,
            rpc_request("tasks.get_stats", br#"{"user_id":"1"}"#),
        )
        .await,
    );
}

#[tokio::test]
async fn shutdown_flips_readiness_then_drains_in_flight_calls() {
    let config = ServerConfig::default()
        .shutdown_delay(Duration::from_millis(700))
        .shutdown_timeout(Duration::from_secs(10));
    let mut server = TestServer::start(app::router(app::App::default()), config).await;
    let mut c = server.client().await;
    let in_flight =
        tokio::spawn(
            async move { call(&mut c, rpc_request("tasks.slow", br#"{"ms":1200}"#)).await },
        );
    wait_until(|| server.metrics.in_flight() == 1).await;
    assert_eq!(
        server.health("readiness").await.unwrap(),
        ServingStatus::Serving
    );
    server.shutdown();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        server.health("readiness").await.unwrap(),
        ServingStatus::NotServing
    );
    assert_eq!(server.health("").await.unwrap(), ServingStatus::NotServing);
    assert_eq!(
        server.health("liveness").await.unwrap(),
        ServingStatus::Serving
    );
    // The call outlives both the delay and the listener closing, and still succeeds.
    assert_eq!(
        ok_json(&in_flight.await.unwrap()),
        json!({"slept_ms": 1200})
    );
    let finished = tokio::time::timeout(Duration::from_secs(10), &mut server.task).await;
    finished
        .expect("server stopped")
        .unwrap()
        .expect("clean shutdown");
}

#[tokio::test]
async fn shutdown_timeout_bounds_the_drain() {
    let config = ServerConfig::default().shutdown_timeout(Duration::from_millis(300));
    let mut server = TestServer::start(app::router(app::App::default()), config).await;
    let mut c = server.client().await;
    let _stuck =
        tokio::spawn(async move { c.rpc(rpc_request("tasks.slow", br#"{"ms":30000}"#)).await });
    wait_until(|| server.metrics.in_flight() == 1).await;
    server.shutdown();
    let finished = tokio::time::timeout(Duration::from_secs(5), &mut server.task).await;
    finished.expect("the drain is bounded").unwrap().unwrap();
}

#[tokio::test]
async fn credentials_are_required_when_configured() {
    let config = ServerConfig::default()
        .credentials(Some(Credentials::new("x-centrpc-auth", "s3cret-value")))
        .metrics_listen(Some("127.0.0.1:0".parse().unwrap()));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut c = server.client().await;
    let request = |auth: Option<&str>| {
        let mut r = tonic::Request::new(rpc_request("tasks.get_stats", br#"{"user_id":"1"}"#));
        if let Some(v) = auth {
            r.metadata_mut()
                .insert("x-centrpc-auth", v.parse().unwrap());
        }
        r
    };
    for bad in [
        None,
        Some("wrong"),
        Some("s3cret-valuE"),
        Some("s3cret-value-and-more"),
    ] {
        let status = c.rpc(request(bad)).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{bad:?}");
    }
    let ok = c
        .rpc(request(Some("s3cret-value")))
        .await
        .unwrap()
        .into_inner();
    ok_json(&ok);
    // Probes need no credentials.
    assert_eq!(server.health("").await.unwrap(), ServingStatus::Serving);
    let text = http_get(server.metrics_addr.unwrap(), "/metrics").await;
    assert!(text.contains("centrpc_auth_failures_total 4"), "{text}");
    assert!(!text.contains("s3cret"), "the secret leaked into metrics");
}

#[tokio::test]
async fn tls_and_mtls_handshakes() {
    let dir = tempfile::tempdir().unwrap();
    let pki = common::certs::generate(dir.path());
    let wrong = common::certs::generate(&dir.path().join("other"));
    let pem = |p: &std::path::Path| std::fs::read(p).unwrap();
    let tls_client = |ca: &std::path::Path,
                      identity: Option<(&std::path::Path, &std::path::Path)>| {
        let mut cfg = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pem(ca)))
            .domain_name("localhost");
        if let Some((cert, key)) = identity {
            cfg = cfg.identity(Identity::from_pem(pem(cert), pem(key)));
        }
        cfg
    };
    let connect = |addr: std::net::SocketAddr, cfg: ClientTlsConfig| async move {
        let channel = Endpoint::from_shared(format!("https://{addr}"))
            .unwrap()
            .tls_config(cfg)
            .unwrap()
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let mut c = centrpc::proto::centrifugo_proxy_client::CentrifugoProxyClient::new(channel);
        c.rpc(rpc_request("system.echo", b"1"))
            .await
            .map(|r| r.into_inner())
            .map_err(|s| s.to_string())
    };
    // TLS only.
    let tls = ServerConfig::default().tls(Some(TlsFiles::new(
        pki.server_cert.clone(),
        pki.server_key.clone(),
    )));
    let server = TestServer::start(app::router(app::App::default()), tls).await;
    let reply = connect(server.addr, tls_client(&pki.ca, None))
        .await
        .expect("TLS call works");
    assert_eq!(ok_json(&reply), json!(1));
    assert!(
        connect(server.addr, tls_client(&wrong.ca, None))
            .await
            .is_err(),
        "a wrong CA is refused"
    );
    // Plaintext to a TLS port fails.
    let plain = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(ch) = plain {
        let mut c = centrpc::proto::centrifugo_proxy_client::CentrifugoProxyClient::new(ch);
        assert!(c.rpc(rpc_request("system.echo", b"1")).await.is_err());
    }
    // mTLS.
    let mtls = ServerConfig::default().tls(Some(
        TlsFiles::new(pki.server_cert.clone(), pki.server_key.clone()).client_ca(pki.ca.clone()),
    ));
    let server = TestServer::start(app::router(app::App::default()), mtls).await;
    let ok = connect(
        server.addr,
        tls_client(&pki.ca, Some((&pki.client_cert, &pki.client_key))),
    )
    .await;
    assert_eq!(ok_json(&ok.expect("mTLS call works")), json!(1));
    assert!(
        connect(server.addr, tls_client(&pki.ca, None))
            .await
            .is_err(),
        "no client cert is refused"
    );
    let foreign = connect(
        server.addr,
        tls_client(&pki.ca, Some((&wrong.client_cert, &wrong.client_key))),
    )
    .await;
    assert!(foreign.is_err(), "a client cert from another CA is refused");
}

#[tokio::test]
async fn invalid_configuration_is_refused_clearly() {
    let bad_router = centrpc::Router::new(()).rpc("bad name", |_: centrpc::Context, _: ()| async {
        Ok::<_, centrpc::RpcError>(())
    });
    let e = centrpc::server::bind(bad_router, ServerConfig::default())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("invalid method name \"bad name\""),
        "{e}"
    );
    let missing_tls = ServerConfig::default()
        .listen("127.0.0.1:0".parse().unwrap())
        .tls(Some(TlsFiles::new(
            "/nonexistent/c.pem",
            "/nonexistent/k.pem",
        )));
    let e = centrpc::server::bind(app::router(app::App::default()), missing_tls)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot read TLS certificate /nonexistent/c.pem"),
        "{e}"
    );
    let bad_key = ServerConfig::default()
        .listen("127.0.0.1:0".parse().unwrap())
        .credentials(Some(Credentials::new("Bad Key", "v")));
    let e = centrpc::server::bind(app::router(app::App::default()), bad_key)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("not a valid gRPC metadata name"),
        "{e}"
    );
}

#[tokio::test]
async fn metrics_count_calls_by_method_and_outcome() {
    let config = ServerConfig::default().metrics_listen(Some("127.0.0.1:0".parse().unwrap()));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut c = server.client().await;
    ok_json(
        &call(
            &mut c,
            rpc_request("tasks.get_stats", br#"{"user_id":"1"}"#),
        )
        .await,
    );
    err(&call(&mut c, rpc_request("tasks.get_stats", b"{")).await);
    err(&call(&mut c, rpc_request("random.junk.12345", b"{}")).await);
    let text = http_get(server.metrics_addr.unwrap(), "/metrics").await;
    for line in [
        r#"centrpc_calls_total{kind="rpc",method="tasks.get_stats",outcome="ok"} 1"#,
        r#"centrpc_calls_total{kind="rpc",method="tasks.get_stats",outcome="malformed_json"} 1"#,
        r#"centrpc_calls_total{kind="rpc",method="<unknown>",outcome="method_not_found"} 1"#,
        "centrpc_in_flight_calls 0",
        "centrpc_call_duration_seconds_bucket",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(
        !text.contains("random.junk"),
        "unknown method names must not become labels"
    );
}

#[tokio::test]
#[cfg_attr(
    not(feature = "_external-tools"),
    ignore = "needs grpcurl from `make setup`; `make test` runs it"
)]
async fn grpcurl_lists_services_and_calls_rpc_by_reflection() {
    let grpcurl = common::tool("grpcurl");
    let server = TestServer::example().await;
    let addr = server.addr.to_string();
    let run = |args: Vec<String>| {
        let grpcurl = grpcurl.clone();
        async move {
            let out = tokio::process::Command::new(grpcurl)
                .args(args)
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "grpcurl failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let list = run(vec!["-plaintext".into(), addr.clone(), "list".into()]).await;
    for service in [
        "centrifugal.centrifugo.proxy.CentrifugoProxy",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(list.contains(service), "{service} not listed:\n{list}");
    }
    let methods = run(vec![
        "-plaintext".into(),
        addr.clone(),
        "list".into(),
        "centrifugal.centrifugo.proxy.CentrifugoProxy".into(),
    ])
    .await;
    assert_eq!(methods.lines().count(), 13, "{methods}");
    let data = B64.encode(br#"{"user_id":"42"}"#);
    let body = json!({"method": "tasks.get_stats", "user": "42", "data": data}).to_string();
    let out = run(vec![
        "-plaintext".into(),
        "-d".into(),
        body,
        addr.clone(),
        "centrifugal.centrifugo.proxy.CentrifugoProxy/RPC".into(),
    ])
    .await;
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    let result = B64
        .decode(reply["result"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&result).unwrap(),
        json!({"total":0,"completed":0})
    );
    let health = run(vec![
        "-plaintext".into(),
        "-d".into(),
        r#"{"service":"readiness"}"#.into(),
        addr,
        "grpc.health.v1.Health/Check".into(),
    ])
    .await;
    assert!(health.contains("SERVING"), "{health}");
}

/// Polls `cond` for up to 5 s.
async fn wait_until(cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 5 s");
}

/// A minimal HTTP/1.0 GET over a raw socket.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// Counts the requests a transport layer of the application's own sees.
#[derive(Clone)]
struct CountingLayer(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl<S> tower::Layer<S> for CountingLayer {
    type Service = Counting<S>;
    fn layer(&self, inner: S) -> Counting<S> {
        Counting(self.0.clone(), inner)
    }
}

#[derive(Clone)]
struct Counting<S>(std::sync::Arc<std::sync::atomic::AtomicUsize>, S);

impl<S: tower::Service<R>, R> tower::Service<R> for Counting<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.1.poll_ready(cx)
    }
    fn call(&mut self, req: R) -> S::Future {
        self.0.fetch_add(1, Ordering::SeqCst);
        self.1.call(req)
    }
}

#[tokio::test]
async fn parts_serve_inside_an_application_server_with_its_layers_and_registry() {
    use centrpc::{metrics::Metrics, server::Parts};
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

    // The application's own registry, with a metric of its own.
    let registry = prometheus::Registry::new();
    let mine = prometheus::IntCounter::new("app_things_total", "The app's own.").unwrap();
    registry.register(Box::new(mine.clone())).unwrap();
    mine.inc();
    let metrics = Metrics::with_registry(&registry).unwrap();
    assert!(
        Metrics::with_registry(&registry).is_err(),
        "registering twice is refused, not silently doubled"
    );

    let config = ServerConfig::default()
        .shutdown_delay(Duration::from_millis(300))
        .credentials(Some(Credentials::new("x-centrpc-auth", "s3cret")));
    let parts = Parts::with_metrics(app::router(app::App::default()), &config, metrics)
        .await
        .unwrap();
    let (routes, drain) = parts.into_routes();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(CountingLayer(seen.clone()))
            .add_routes(routes)
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                drain.after(async {
                    let _ = stopped.await;
                }),
            ),
    );

    // The proxy answers behind the credentials check…
    let mut client = centrpc::proto::centrifugo_proxy_client::CentrifugoProxyClient::new(
        common::channel(&url).await,
    );
    let refused = client
        .rpc(rpc_request("tasks.get_stats", br#"{"user_id":"42"}"#))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let mut request = tonic::Request::new(rpc_request("tasks.get_stats", br#"{"user_id":"42"}"#));
    request
        .metadata_mut()
        .insert("x-centrpc-auth", "s3cret".parse().unwrap());
    let reply = client.rpc(request).await.unwrap().into_inner();
    assert_eq!(ok_json(&reply), json!({"total": 0, "completed": 0}));

    // …health answers, and the application's transport layer saw every request.
    let mut health = HealthClient::new(common::channel(&url).await);
    let status = |s: &str| HealthCheckRequest { service: s.into() };
    let ready = health
        .check(status("readiness"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ready.status, ServingStatus::Serving as i32);
    assert!(
        seen.load(Ordering::SeqCst) >= 3,
        "the app's layer saw the calls"
    );

    // centrpc's series and the application's own metric come out of one registry.
    let text = {
        use prometheus::Encoder;
        let mut buf = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&registry.gather(), &mut buf)
            .unwrap();
        String::from_utf8(buf).unwrap()
    };
    assert!(text.contains("app_things_total 1"), "{text}");
    assert!(
        text.contains(r#"centrpc_calls_total{kind="rpc",method="tasks.get_stats",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(text.contains("centrpc_auth_failures_total 1"), "{text}");

    // Shutdown through the Drain: readiness goes NOT_SERVING while the delay runs, liveness stays.
    stop.send(()).unwrap();
    let mut readiness = ServingStatus::Serving as i32;
    for _ in 0..50 {
        readiness = health
            .check(status("readiness"))
            .await
            .unwrap()
            .into_inner()
            .status;
        if readiness == ServingStatus::NotServing as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(readiness, ServingStatus::NotServing as i32);
    let live = health.check(status("liveness")).await.unwrap().into_inner();
    assert_eq!(live.status, ServingStatus::Serving as i32);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops after the drain")
        .unwrap()
        .unwrap();
}
