//! Typed connect: the connect hook's data decoded before the hook runs (over the real gRPC port,
//! with malformed, mistyped and oversized data), its reply data and info encoded, and all three
//! described in the API document (`x-connect`) and classified by `schema --diff`.

mod common;

use centrpc::{
    codes,
    hooks::{ConnectEvent, ConnectReply, Json},
    proto::ConnectRequest,
    schema::{self, diff},
    server::ServerConfig,
    testing::TestClient,
    Context, Router, RpcError,
};
use common::TestServer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Deserialize, JsonSchema)]
struct Login {
    user: String,
    pin: u16,
}

#[derive(Serialize, JsonSchema)]
struct Welcome {
    user: String,
    pin_tries_left: u8,
}

#[derive(Serialize, JsonSchema)]
struct Info {
    display_name: String,
}

async fn typed(
    _: Context,
    e: ConnectEvent<Json<Login>>,
) -> Result<ConnectReply<Welcome, Info>, RpcError> {
    let Json(login) = e.data;
    if login.pin != 1234 {
        return Err(RpcError::disconnect(4503, "wrong pin"));
    }
    let mut reply = ConnectReply::user(&login.user);
    reply.data = Some(Welcome {
        user: login.user.clone(),
        pin_tries_left: 3,
    });
    reply.info = Some(Info {
        display_name: login.user.to_uppercase(),
    });
    Ok(reply)
}

async fn raw(_: Context, e: ConnectEvent) -> Result<ConnectReply, RpcError> {
    Ok(ConnectReply::user(String::from_utf8_lossy(&e.data)))
}

fn typed_router() -> Router<()> {
    Router::new(()).hooks(|h| h.connect(typed))
}

#[tokio::test]
async fn typed_connect_data_reaches_the_hook_and_the_reply_is_encoded() {
    let client = TestClient::new(typed_router());
    let reply = client
        .connect(&json!({"user": "ann", "pin": 1234}))
        .await
        .unwrap();
    assert_eq!(reply.user, "ann");
    assert_eq!(
        reply.data,
        Some(json!({"user": "ann", "pin_tries_left": 3}))
    );
    assert_eq!(reply.info, Some(json!({"display_name": "ANN"})));

    // The hook's own refusal is untouched.
    let e = client
        .connect(&json!({"user": "ann", "pin": 1}))
        .await
        .unwrap_err();
    assert!(e.is_disconnect() && e.code() == 4503, "{e:?}");
}

#[tokio::test]
async fn raw_connect_data_is_unchanged() {
    let client = TestClient::new(Router::new(()).hooks(|h| h.connect(raw)));
    let reply = client.connect(&json!("x")).await.unwrap();
    assert_eq!(reply.user, "\"x\"");
    assert_eq!(reply.data, None);
}

/// Every bad connect data, sent as raw bytes through the real gRPC port: an in-band error with
/// the code and a message naming the problem, and the server keeps serving.
#[tokio::test]
async fn bad_connect_data_is_refused_in_band() {
    let server = TestServer::start(typed_router(), ServerConfig::default()).await;
    let mut client = server.client().await;
    let cases: [(&str, &[u8], u32, &str); 6] = [
        ("no data", b"", codes::INVALID_PARAMS, "null"),
        ("malformed", b"{\"user\":", codes::MALFORMED_JSON, "EOF"),
        (
            "wrong type",
            b"{\"user\":\"a\",\"pin\":\"1\"}",
            codes::INVALID_PARAMS,
            "pin",
        ),
        (
            "out of range",
            b"{\"user\":\"a\",\"pin\":70000}",
            codes::INVALID_PARAMS,
            "pin",
        ),
        (
            "missing field",
            b"{\"user\":\"a\"}",
            codes::INVALID_PARAMS,
            "pin",
        ),
        (
            "deeply nested array",
            &[b'['; 5000],
            codes::INVALID_PARAMS,
            "invalid type",
        ),
    ];
    for (name, data, code, says) in cases {
        let reply = client
            .connect(ConnectRequest {
                data: data.to_vec(),
                encoding: "json".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let error = reply.error.unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(error.code, code, "{name}: {error:?}");
        assert!(error.message.contains(says), "{name}: {error:?}");
        assert!(reply.result.is_none(), "{name}");
    }
    let ok = client
        .connect(ConnectRequest {
            data: br#"{"user":"bo","pin":1234}"#.to_vec(),
            encoding: "json".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let result = ok.result.expect("the server still serves");
    assert_eq!(result.user, "bo");
    let data: Value = serde_json::from_slice(&result.data).unwrap();
    assert_eq!(data, json!({"user": "bo", "pin_tries_left": 3}));
}

#[test]
fn the_document_describes_typed_connect_and_leaves_out_raw() {
    let doc = schema::document(&typed_router());
    let connect = &doc["x-connect"];
    let schemas = &doc["components"]["schemas"];
    for (part, ty, field) in [
        ("data", "Login", "pin"),
        ("replyData", "Welcome", "pin_tries_left"),
        ("info", "Info", "display_name"),
    ] {
        assert_eq!(connect[part]["name"], part);
        assert_eq!(
            connect[part]["schema"]["$ref"],
            format!("#/components/schemas/{ty}"),
            "{part}: {connect}"
        );
        assert!(
            schemas[ty]["properties"].get(field).is_some(),
            "{ty}: {}",
            schemas[ty]
        );
    }
    // Raw data and JSON-value reply data and info say nothing: no `x-connect` at all.
    let doc = schema::document(&Router::new(()).hooks(|h| h.connect(raw)));
    assert!(doc.get("x-connect").is_none(), "{doc}");
    // No connect hook: nothing either.
    assert!(schema::document(&Router::new(()))
        .get("x-connect")
        .is_none());
}

#[test]
fn diff_classifies_connect_changes() {
    let base = schema::document(&typed_router());
    assert!(diff::changes(&base, &base).is_empty());
    let mut renamed_field = base.clone();
    let login = &mut renamed_field["components"]["schemas"]["Login"];
    login["required"] = json!(["user", "pin", "otp"]);
    login["properties"]["otp"] = json!({"type": "string"});
    let changes = diff::changes(&base, &renamed_field);
    assert!(
        changes
            .iter()
            .any(|c| c.breaking && c.at.starts_with("connect data")),
        "{changes:?}"
    );
    let raw = schema::document(&Router::new(()).hooks(|h| h.connect(raw)));
    let changes = diff::changes(&raw, &base);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(!changes[0].breaking && changes[0].what == "connect added");
    let changes = diff::changes(&base, &raw);
    assert!(changes[0].breaking && changes[0].what == "connect removed");
}
