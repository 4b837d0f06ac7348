//! Hostile input through the real gRPC port: every case gets its documented outcome, and the
//! server stays up and healthy afterwards.

mod common;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use centrpc::{codes, proto::RpcRequest, server::ServerConfig, service::Limits};
use common::{app, call, rpc_request, TestServer};
use tonic_health::pb::health_check_response::ServingStatus;

/// What a case must produce.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A result (any JSON).
    Ok,
    /// An error reply with this code.
    Code(u32),
    /// A gRPC status before centrpc sees the request (transport limits); Centrifugo shows 100.
    Transport,
}

struct Case {
    name: &'static str,
    req: RpcRequest,
    expect: Expect,
    /// A fragment the error message must contain.
    says: &'static str,
}

fn case(name: &'static str, method: &str, data: &[u8], expect: Expect, says: &'static str) -> Case {
    Case {
        name,
        req: rpc_request(method, data),
        expect,
        says,
    }
}

fn binary(name: &'static str, method: &str, b64: &str, expect: Expect, says: &'static str) -> Case {
    let mut req = rpc_request(method, b"");
    req.encoding = "binary".into();
    req.b64data = b64.into();
    Case {
        name,
        req,
        expect,
        says,
    }
}

const LIMIT: usize = 256 * 1024;

fn cases() -> Vec<Case> {
    use Expect::*;
    let stats = "tasks.get_stats";
    let echo = "system.echo";
    let deep = "[".repeat(20_000) + &"]".repeat(20_000);
    let wide = {
        let fields: Vec<String> = (0..10_000).map(|i| format!("\"f{i}\":{i}")).collect();
        format!("{{\"user_id\":\"1\",{}}}", fields.join(","))
    };
    let mut v = vec![
        case(
            "empty payload for a struct",
            stats,
            b"",
            Code(codes::INVALID_PARAMS),
            "expected struct TaskStatsParams",
        ),
        case(
            "whitespace only",
            stats,
            b" \n\t ",
            Code(codes::INVALID_PARAMS),
            "invalid type: null",
        ),
        case(
            "unterminated object",
            stats,
            b"{",
            Code(codes::MALFORMED_JSON),
            "EOF while parsing",
        ),
        case(
            "missing value",
            stats,
            br#"{"user_id":}"#,
            Code(codes::MALFORMED_JSON),
            "expected value",
        ),
        case(
            "null params",
            stats,
            b"null",
            Code(codes::INVALID_PARAMS),
            "invalid type: null",
        ),
        case(
            "array instead of object",
            stats,
            b"[]",
            Code(codes::INVALID_PARAMS),
            "invalid length 0",
        ),
        case(
            "string instead of object",
            stats,
            br#""x""#,
            Code(codes::INVALID_PARAMS),
            "invalid type: string",
        ),
        case(
            "wrong field type",
            stats,
            br#"{"user_id":42}"#,
            Code(codes::INVALID_PARAMS),
            "user_id: invalid type: integer",
        ),
        case(
            "null field",
            stats,
            br#"{"user_id":null}"#,
            Code(codes::INVALID_PARAMS),
            "user_id: invalid type: null",
        ),
        case(
            "missing field",
            stats,
            br#"{}"#,
            Code(codes::INVALID_PARAMS),
            "missing field `user_id`",
        ),
        case(
            "duplicate field",
            stats,
            br#"{"user_id":"1","user_id":"2"}"#,
            Code(codes::INVALID_PARAMS),
            "duplicate field `user_id`",
        ),
        case(
            "trailing garbage",
            stats,
            br#"{"user_id":"1"} junk"#,
            Code(codes::MALFORMED_JSON),
            "trailing characters",
        ),
        case(
            "two JSON values",
            stats,
            br#"{"user_id":"1"}{"user_id":"2"}"#,
            Code(codes::MALFORMED_JSON),
            "trailing characters",
        ),
        case(
            "invalid UTF-8 bytes",
            stats,
            b"\xff\xfe\xfd",
            Code(codes::MALFORMED_JSON),
            "expected value",
        ),
        case(
            "invalid UTF-8 inside a string",
            stats,
            b"{\"user_id\":\"\xff\"}",
            Code(codes::MALFORMED_JSON),
            "invalid unicode",
        ),
        case(
            "lone surrogate escape",
            stats,
            br#"{"user_id":"\ud800"}"#,
            Code(codes::MALFORMED_JSON),
            "escape",
        ),
        case(
            "UTF-8 BOM prefix",
            stats,
            b"\xef\xbb\xbf{\"user_id\":\"1\"}",
            Code(codes::MALFORMED_JSON),
            "expected value",
        ),
        case(
            "deeply nested arrays",
            echo,
            deep.as_bytes(),
            Code(codes::MALFORMED_JSON),
            "recursion limit exceeded",
        ),
        case("object with 10 000 fields", stats, wide.as_bytes(), Ok, ""),
        case(
            "negative for unsigned",
            "tasks.slow",
            br#"{"ms":-1}"#,
            Code(codes::INVALID_PARAMS),
            "ms: invalid value: integer `-1`",
        ),
        case(
            "float for integer",
            "tasks.slow",
            br#"{"ms":1.5}"#,
            Code(codes::INVALID_PARAMS),
            "ms: invalid type: floating point",
        ),
        case(
            "number out of range",
            "tasks.slow",
            br#"{"ms":1e400}"#,
            Code(codes::MALFORMED_JSON),
            "number out of range",
        ),
        case(
            "huge integer",
            "tasks.slow",
            br#"{"ms":184467440737095516160}"#,
            Code(codes::INVALID_PARAMS),
            "ms: invalid type: floating point",
        ),
        case(
            "unknown enum variant",
            "tasks.fail",
            br#"{"kind":"explode"}"#,
            Code(codes::INVALID_PARAMS),
            "kind: unknown variant `explode`",
        ),
        case(
            "payload over the limit",
            echo,
            format!("\"{}\"", "x".repeat(LIMIT)).as_bytes(),
            Code(codes::PAYLOAD_TOO_LARGE),
            "payload too large",
        ),
        case(
            "unknown method",
            "tasks.drop_table",
            b"{}",
            Code(codes::METHOD_NOT_FOUND),
            "method not found",
        ),
        case(
            "empty method",
            "",
            b"{}",
            Code(codes::METHOD_NOT_FOUND),
            "method not found: \"\"",
        ),
        case(
            "path traversal method",
            "../../etc/passwd",
            b"{}",
            Code(codes::METHOD_NOT_FOUND),
            "method not found",
        ),
        case(
            "control characters in method",
            "tasks\0.get\nstats",
            b"{}",
            Code(codes::METHOD_NOT_FOUND),
            "\\0",
        ),
        case(
            "10 KB method name",
            &"m".repeat(10_000),
            b"{}",
            Code(codes::METHOD_NOT_FOUND),
            "mmmm",
        ),
        binary(
            "b64data that is not base64",
            echo,
            "!!not base64!!",
            Code(codes::MALFORMED_JSON),
            "b64data is not base64",
        ),
        binary(
            "b64data of invalid JSON",
            echo,
            &B64.encode(b"{oops"),
            Code(codes::MALFORMED_JSON),
            "key must be a string",
        ),
        binary(
            "b64data over the limit",
            echo,
            &B64.encode(vec![b' '; LIMIT + 3000]),
            Code(codes::PAYLOAD_TOO_LARGE),
            "payload too large",
        ),
        binary(
            "binary mode with empty b64data",
            stats,
            "",
            Code(codes::INVALID_PARAMS),
            "invalid type: null",
        ),
        binary("valid binary call", echo, &B64.encode(b"[1,2]"), Ok, ""),
    ];
    // b64data sent with encoding "json" and no data: decoded as binary (documented).
    let mut req = rpc_request(echo, b"");
    req.b64data = B64.encode(b"true");
    v.push(Case {
        name: "b64data without binary encoding",
        req,
        expect: Ok,
        says: "",
    });
    // Both data and b64data, json encoding: data wins.
    let mut req = rpc_request(echo, b"7");
    req.b64data = "!!".into();
    v.push(Case {
        name: "data and b64data both set",
        req,
        expect: Ok,
        says: "",
    });
    // A gRPC message beyond the transport limit never reaches the handler.
    v.push(case(
        "gRPC message over the transport limit",
        echo,
        &vec![b' '; LIMIT * 4],
        Transport,
        "",
    ));
    // Connection meta that is not JSON: the handler asking for it gets a sanitised internal error.
    let mut req = rpc_request("system.whoami", b"");
    req.meta = b"\x00not json".to_vec();
    v.push(Case {
        name: "meta that is not JSON",
        req,
        expect: Code(codes::INTERNAL),
        says: "internal error",
    });
    v
}

#[tokio::test]
async fn hostile_inputs_get_documented_errors_and_the_server_survives() {
    let config = ServerConfig::default().limits(Limits::default().max_payload(LIMIT));
    let server = TestServer::start(app::router(app::App::default()), config).await;
    let mut client = server.client().await;
    let all = cases();
    assert!(all.len() >= 25, "the table must hold at least 25 cases");
    let mut failures = Vec::new();
    for c in &all {
        let got = match client.rpc(c.req.clone()).await {
            Err(status) => (Expect::Transport, status.message().to_owned()),
            Ok(reply) => {
                let reply = reply.into_inner();
                match (&reply.result, &reply.error) {
                    (Some(_), None) => (Expect::Ok, String::new()),
                    (None, Some(e)) => (Expect::Code(e.code), e.message.clone()),
                    _ => panic!("{}: neither result nor error: {reply:?}", c.name),
                }
            }
        };
        if got.0 != c.expect || !got.1.contains(c.says) {
            failures.push(format!(
                "{}: expected {:?} saying {:?}, got {:?} {:?}",
                c.name, c.expect, c.says, got.0, got.1
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    // Still healthy, still serving.
    assert_eq!(server.health("").await.unwrap(), ServingStatus::Serving);
    let reply = call(
        &mut client,
        rpc_request("tasks.get_stats", br#"{"user_id":"1"}"#),
    )
    .await;
    common::ok_json(&reply);
    assert_eq!(server.metrics.in_flight(), 0);
}
