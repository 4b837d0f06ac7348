//! Hostile connections through the real gRPC port: hundreds of idle TCP connections and
//! slowloris-style HTTP/2 prefaces do not starve real calls or health checks, and a flood far
//! above the concurrency limit is shed with the temporary OVERLOADED error while health answers.

mod common;

use std::time::Duration;

use centrpc::{codes, server::ServerConfig, service::Limits};
use common::{app, rpc_request, TestServer};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tonic_health::pb::health_check_response::ServingStatus;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_do_not_starve_real_calls() {
    let server = TestServer::example().await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // Slowloris: the HTTP/2 preface one byte at a time, then nothing.
    let mut slow = Vec::new();
    for _ in 0..30 {
        let addr = server.addr;
        slow.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            for b in PREFACE.iter().take(PREFACE.len() - 1) {
                if s.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }));
    }
    let mut client = server.client().await;
    for i in 0..200 {
        let reply = common::call(
            &mut client,
            rpc_request("system.echo", format!("{i}").as_bytes()),
        )
        .await;
        assert_eq!(common::ok_json(&reply), serde_json::json!(i));
    }
    assert_eq!(server.health("").await.unwrap(), ServingStatus::Serving);
    // Garbage instead of a preface is dropped without harm.
    let mut junk = TcpStream::connect(server.addr).await.unwrap();
    junk.write_all(&[0xff; 4096]).await.unwrap();
    drop(idle);
    for t in slow {
        t.abort();
    }
    let reply = common::call(
        &mut client,
        rpc_request("tasks.get_stats", br#"{"user_id":"1"}"#),
    )
    .await;
    common::ok_json(&reply);
    assert_eq!(
        server.health("readiness").await.unwrap(),
        ServingStatus::Serving
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_above_the_limit_is_shed_while_health_answers() {
    let config = ServerConfig::default().limits(Limits::default().max_concurrency(8));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    // 300 concurrent calls over 10 connections, against a limit of 8.
    let mut calls = Vec::new();
    for _ in 0..10 {
        let client = server.client().await;
        for _ in 0..30 {
            let mut c = client.clone();
            calls.push(tokio::spawn(async move {
                c.rpc(rpc_request("tasks.slow", br#"{"ms":300}"#))
                    .await
                    .map(|r| r.into_inner())
            }));
        }
    }
    // Health answers while 300 calls press against a limit of 8.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.metrics.in_flight() > 0);
    assert_eq!(server.health("").await.unwrap(), ServingStatus::Serving);
    let (mut ok, mut shed) = (0, 0);
    for t in calls {
        let reply = t
            .await
            .unwrap()
            .expect("shedding is in-band, never a gRPC status");
        match reply.error {
            None => ok += 1,
            Some(e) => {
                assert_eq!((e.code, e.temporary), (codes::OVERLOADED, true), "{e:?}");
                shed += 1;
            }
        }
    }
    assert_eq!(ok + shed, 300);
    assert!(ok >= 8 && shed > 0, "ok {ok}, shed {shed}");
    assert_eq!(server.metrics.in_flight(), 0);
    // Once the flood passes, calls succeed again.
    let mut client = server.client().await;
    common::ok_json(&common::call(&mut client, rpc_request("tasks.slow", br#"{"ms":1}"#)).await);
}
