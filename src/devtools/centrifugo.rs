//! `call --via-centrifugo`: through the real Centrifugo as a user, over WebSocket with
//! Centrifugo's JSON client protocol (one `connect` command with a token, then one `rpc`).
//!
//! A minimal client on tokio-tungstenite: no maintained Rust Centrifugo SDK exists, and one
//! connect plus one RPC needs only the documented command/reply framing (newline-separated JSON
//! objects, replies matched by `id`, an empty object as ping that is answered with one).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, protocol::frame::coding::CloseCode, Message};

use super::{Failure, Outcome};

/// Centrifugo's disconnect codes that mean "who you are was refused".
const REFUSED_DISCONNECTS: &[u16] = &[3500, 3501, 3502, 3503, 3504];
/// Centrifugo's reply error codes that mean the token was refused (unauthorized, expired).
const REFUSED_ERRORS: &[u64] = &[101, 109];

/// Connects to `url` with `token`, calls `method` with `params` and returns what came back.
pub(crate) async fn call(
    url: &str,
    token: &str,
    method: &str,
    params: Option<Value>,
    timeout: Duration,
) -> Result<Outcome, Failure> {
    match tokio::time::timeout(timeout, exchange(url, token, method, params)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::Unreachable(format!(
            "no answer from Centrifugo at {url} within {}",
            humantime::format_duration(timeout)
        ))),
    }
}

async fn exchange(
    url: &str,
    token: &str,
    method: &str,
    params: Option<Value>,
) -> Result<Outcome, Failure> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| {
        Failure::Unreachable(format!(
            "cannot open a WebSocket to Centrifugo at {url}: {e}"
        ))
    })?;
    let mut rpc = json!({ "method": method });
    if let Some(p) = params {
        rpc["data"] = p;
    }
    let commands = [
        json!({ "id": 1, "connect": { "token": token, "name": "centrpc-call" } }),
        json!({ "id": 2, "rpc": rpc }),
    ];
    let send_err = |e: tungstenite::Error| Failure::Unreachable(format!("WebSocket send: {e}"));
    ws.send(Message::text(commands[0].to_string()))
        .await
        .map_err(send_err)?;
    let mut connected = false;
    while let Some(frame) = ws.next().await {
        let frame = frame.map_err(|e| Failure::Unreachable(format!("WebSocket: {e}")))?;
        let text = match frame {
            Message::Text(t) => t.to_string(),
            Message::Close(close) => {
                let (code, reason) = close
                    .map(|c| (u16::from(c.code), c.reason.to_string()))
                    .unwrap_or((u16::from(CloseCode::Status), String::new()));
                if connected && (4000..=4999).contains(&code) {
                    // The method ended the call with a disconnect (`RpcError::disconnect`).
                    return Ok(Outcome::Disconnect {
                        code: u32::from(code),
                        reason,
                    });
                }
                let said = format!("Centrifugo closed the connection: {code} {reason}");
                return Err(if REFUSED_DISCONNECTS.contains(&code) {
                    Failure::Refused(format!(
                        "{said} (is the token signed with Centrifugo's HMAC secret, CENTRPC_HMAC_SECRET?)"
                    ))
                } else {
                    Failure::Unreachable(said)
                });
            }
            _ => continue,
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let reply: Value = serde_json::from_str(line).map_err(|e| {
                Failure::Unreachable(format!("Centrifugo sent something that is not JSON: {e}"))
            })?;
            if reply.as_object().is_some_and(|o| o.is_empty()) {
                // A ping: answer with a pong.
                ws.send(Message::text("{}")).await.map_err(send_err)?;
                continue;
            }
            match reply["id"].as_u64() {
                Some(1) if !connected => {
                    if let Some(e) = reply.get("error") {
                        let code = e["code"].as_u64().unwrap_or(0);
                        let said = format!(
                            "Centrifugo refused the connection: {code} {}",
                            e["message"].as_str().unwrap_or("")
                        );
                        return Err(if REFUSED_ERRORS.contains(&code) {
                            Failure::Refused(said)
                        } else {
                            Failure::Unreachable(said)
                        });
                    }
                    connected = true;
                    ws.send(Message::text(commands[1].to_string()))
                        .await
                        .map_err(send_err)?;
                }
                Some(2) => {
                    let _ = ws.close(None).await;
                    if let Some(e) = reply.get("error") {
                        return Ok(Outcome::Error {
                            code: e["code"].as_u64().unwrap_or(0) as u32,
                            message: e["message"].as_str().unwrap_or("").to_owned(),
                            temporary: e["temporary"].as_bool().unwrap_or(false),
                        });
                    }
                    return Ok(Outcome::Result(
                        reply["rpc"].get("data").cloned().unwrap_or(Value::Null),
                    ));
                }
                _ => {
                    // A push (e.g. a publication on a server-side subscription): not ours.
                }
            }
        }
    }
    Err(Failure::Unreachable(
        "Centrifugo closed the connection before answering".into(),
    ))
}
