//! Centrifugo as a user sees it, for `call --via-centrifugo` and `subscribe`: a WebSocket with
//! Centrifugo's JSON client protocol (a `connect` command with a token, then `rpc` or
//! `subscribe` commands, replies matched by `id`, pushes for publications and unsubscribes).
//!
//! A minimal client on tokio-tungstenite: no maintained Rust Centrifugo SDK exists, and these two
//! commands need only the documented command/reply framing (newline-separated JSON objects, an
//! empty object as ping that is answered with one).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{
    tungstenite::{protocol::frame::coding::CloseCode, Message},
    MaybeTlsStream, WebSocketStream,
};

use super::{Failure, Outcome};

/// Centrifugo's disconnect codes that mean "who you are was refused".
const REFUSED_DISCONNECTS: &[u16] = &[3500, 3501, 3502, 3503, 3504];
/// Centrifugo's reply error codes that mean the token was refused (unauthorized, expired).
const REFUSED_ERRORS: &[u64] = &[101, 109];

/// What arrived on a connected session.
pub(crate) enum Incoming {
    /// A reply or push (JSON).
    Message(Value),
    /// Centrifugo closed the connection with an application disconnect (4000–4999).
    Disconnect { code: u32, reason: String },
}

/// A connected WebSocket session with Centrifugo.
pub(crate) struct Session {
    ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// Messages of the last frame not handed out yet (a frame may carry several).
    pending: std::collections::VecDeque<Value>,
}

impl Session {
    /// Opens a WebSocket to `url` and connects with `token` (as `name`), within `timeout`.
    pub(crate) async fn open(
        url: &str,
        token: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        let open = async {
            let (ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| {
                Failure::Unreachable(format!(
                    "cannot open a WebSocket to Centrifugo at {url}: {e}"
                ))
            })?;
            let mut session = Self {
                ws,
                pending: Default::default(),
            };
            session
                .send(json!({ "id": 1, "connect": { "token": token, "name": name } }))
                .await?;
            loop {
                match session.next(false).await? {
                    Incoming::Message(reply) if reply["id"] == 1 => {
                        let Some(e) = reply.get("error") else {
                            return Ok(session);
                        };
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
                    _ => continue,
                }
            }
        };
        tokio::time::timeout(timeout, open)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Unreachable(format!(
                    "no answer from Centrifugo at {url} within {}",
                    humantime::format_duration(timeout)
                )))
            })
    }

    /// Sends one command.
    pub(crate) async fn send(&mut self, command: Value) -> Result<(), Failure> {
        self.ws
            .send(Message::text(command.to_string()))
            .await
            .map_err(|e| Failure::Unreachable(format!("WebSocket send: {e}")))
    }

    /// The next reply or push, answering pings on the way. `connected` says whether a close
    /// with 4000–4999 is the application's disconnect (after connecting) or a refusal.
    pub(crate) async fn next(&mut self, connected: bool) -> Result<Incoming, Failure> {
        loop {
            if let Some(message) = self.pending.pop_front() {
                if message.as_object().is_some_and(|o| o.is_empty()) {
                    self.send(json!({})).await?;
                    continue;
                }
                return Ok(Incoming::Message(message));
            }
            let frame =
                self.ws.next().await.ok_or_else(|| {
                    Failure::Unreachable("Centrifugo closed the connection".into())
                })?;
            let frame = frame.map_err(|e| Failure::Unreachable(format!("WebSocket: {e}")))?;
            let text = match frame {
                Message::Text(t) => t.to_string(),
                Message::Close(close) => {
                    let (code, reason) = close
                        .map(|c| (u16::from(c.code), c.reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Status), String::new()));
                    if connected && (4000..=4999).contains(&code) {
                        return Ok(Incoming::Disconnect {
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
                let message: Value = serde_json::from_str(line).map_err(|e| {
                    Failure::Unreachable(format!("Centrifugo sent something that is not JSON: {e}"))
                })?;
                self.pending.push_back(message);
            }
        }
    }

    /// Closes the connection politely.
    pub(crate) async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// An error reply as an [`Outcome`].
pub(crate) fn error_outcome(e: &Value) -> Outcome {
    Outcome::Error {
        code: e["code"].as_u64().unwrap_or(0) as u32,
        message: e["message"].as_str().unwrap_or("").to_owned(),
        temporary: e["temporary"].as_bool().unwrap_or(false),
    }
}

/// Connects to `url` with `token`, calls `method` with `params` and returns what came back.
pub(crate) async fn call(
    url: &str,
    token: &str,
    method: &str,
    params: Option<Value>,
    timeout: Duration,
) -> Result<Outcome, Failure> {
    let exchange = async {
        let mut session = Session::open(url, token, "centrpc-call", timeout).await?;
        let mut rpc = json!({ "method": method });
        if let Some(p) = params {
            rpc["data"] = p;
        }
        session.send(json!({ "id": 2, "rpc": rpc })).await?;
        loop {
            match session.next(true).await? {
                Incoming::Disconnect { code, reason } => {
                    // The method ended the call with a disconnect (`RpcError::disconnect`).
                    return Ok(Outcome::Disconnect { code, reason });
                }
                Incoming::Message(reply) if reply["id"] == 2 => {
                    session.close().await;
                    return Ok(match reply.get("error") {
                        Some(e) => error_outcome(e),
                        None => Outcome::Result(
                            reply["rpc"].get("data").cloned().unwrap_or(Value::Null),
                        ),
                    });
                }
                // A push (e.g. a publication on a server-side subscription): not ours.
                Incoming::Message(_) => {}
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::Unreachable(format!(
            "no answer from Centrifugo at {url} within {}",
            humantime::format_duration(timeout)
        ))),
    }
}
