//! What a handler knows about the call it serves: the application state, who is calling (as
//! Centrifugo authenticated them), over which transport, the forwarded headers, and a
//! cancellation signal for when Centrifugo gives up on the call.

use std::{
    borrow::Cow,
    sync::{
        atomic::{fence, AtomicBool, Ordering},
        Arc, OnceLock,
    },
    time::Instant,
};

use serde::de::DeserializeOwned;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tonic::metadata::MetadataMap;

use crate::error::RpcError;

/// The per-call context handed to every handler, together with shared application state `S`.
///
/// Cloning is cheap (two `Arc`s and a token). Everything in it comes from Centrifugo: `user` is
/// the identity Centrifugo verified (from the connection JWT or the connect hook); nothing the
/// client sent in its payload can change it.
pub struct Context<S = ()> {
    state: Arc<S>,
    call: Arc<CallState>,
}

/// One call's facts and its cancellation, shared by the context and the server's bookkeeping.
#[derive(Debug)]
pub(crate) struct CallState {
    pub(crate) info: CallInfo,
    cancel: Cancel,
}

impl CallState {
    pub(crate) fn new(info: CallInfo) -> Self {
        Self {
            info,
            cancel: Cancel::default(),
        }
    }

    /// Marks the call cancelled, firing its token if a handler asked for one.
    pub(crate) fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// A cancellation flag whose token is made only when a handler asks for it: most calls finish
/// without ever looking, and a token costs a lock and an allocation per call.
#[derive(Debug, Default)]
struct Cancel {
    cancelled: AtomicBool,
    token: OnceLock<CancellationToken>,
}

impl Cancel {
    fn with_token(token: CancellationToken) -> Self {
        Self {
            cancelled: AtomicBool::new(false),
            token: OnceLock::from(token),
        }
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // The fences pair with `token()`'s: either it sees the flag, or this sees its token.
        fence(Ordering::SeqCst);
        if let Some(token) = self.token.get() {
            token.cancel();
        }
    }

    fn token(&self) -> &CancellationToken {
        let token = self.token.get_or_init(CancellationToken::new);
        fence(Ordering::SeqCst);
        if self.cancelled.load(Ordering::SeqCst) {
            token.cancel();
        }
        token
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst) || self.token.get().is_some_and(|t| t.is_cancelled())
    }
}

/// The facts about one call, copied from the proxy request.
#[derive(Debug, Default, Clone)]
pub struct CallInfo {
    /// The RPC method name, the hook name (`connect`, `subscribe`…) for proxy hooks, or the
    /// stream's pattern (`watch:tasks`) for subscription streams.
    pub method: Cow<'static, str>,
    /// The channel of a subscription stream (empty for calls; hooks get theirs in the event).
    pub channel: String,
    /// The user ID Centrifugo authenticated; empty for anonymous connections.
    pub user: String,
    /// Centrifugo's connection ID.
    pub client: String,
    /// `websocket`, `http_stream`, `sse`, …
    pub transport: String,
    /// The client's wire protocol: `json` or `protobuf`.
    pub protocol: String,
    /// The proxy payload encoding: `json`, or `binary` with `binary_encoding: true`.
    pub encoding: String,
    /// Connection meta (a JSON object) when Centrifugo sends it (`include_connection_meta`).
    pub meta: Vec<u8>,
    /// The gRPC metadata of the call: headers Centrifugo forwards (`http_headers`, lowercased)
    /// and its `static_metadata`.
    pub metadata: MetadataMap,
    /// When Centrifugo stops waiting for the reply, if it said (`grpc-timeout`).
    pub deadline: Option<Instant>,
}

impl<S> std::fmt::Debug for Context<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("call", &self.call.info)
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl<S> Clone for Context<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            call: self.call.clone(),
        }
    }
}

impl<S> Context<S> {
    /// Builds a context; centrpc does this for every call, tests may do it by hand.
    pub fn new(state: Arc<S>, call: CallInfo, cancel: CancellationToken) -> Self {
        Self {
            state,
            call: Arc::new(CallState {
                info: call,
                cancel: Cancel::with_token(cancel),
            }),
        }
    }

    /// Builds a context around call state the server already shares.
    pub(crate) fn from_shared(state: Arc<S>, call: Arc<CallState>) -> Self {
        Self { state, call }
    }

    /// The application state registered with [`Router::new`](crate::Router::new).
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The method (or hook) being served.
    pub fn method(&self) -> &str {
        &self.call.info.method
    }

    /// The channel a subscription stream serves (empty for calls and hooks).
    pub fn channel(&self) -> &str {
        &self.call.info.channel
    }

    /// The user ID Centrifugo authenticated; empty for anonymous connections.
    pub fn user(&self) -> &str {
        &self.call.info.user
    }

    /// Centrifugo's ID of the client connection.
    pub fn client(&self) -> &str {
        &self.call.info.client
    }

    /// The client transport (`websocket`, `sse`, …).
    pub fn transport(&self) -> &str {
        &self.call.info.transport
    }

    /// The client protocol, `json` or `protobuf`.
    pub fn protocol(&self) -> &str {
        &self.call.info.protocol
    }

    /// The proxy payload encoding, `json` or `binary`.
    pub fn encoding(&self) -> &str {
        &self.call.info.encoding
    }

    /// The raw connection meta bytes (empty when Centrifugo sends none).
    pub fn meta_raw(&self) -> &[u8] {
        &self.call.info.meta
    }

    /// The connection meta decoded as `T`; `Ok(None)` when there is none.
    pub fn meta<T: DeserializeOwned>(&self) -> Result<Option<T>, RpcError> {
        if self.call.info.meta.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&self.call.info.meta)
            .map(Some)
            .map_err(|e| {
                RpcError::internal(format!("connection meta is not the expected type: {e}"))
            })
    }

    /// A forwarded header or metadata value (names are lowercase), if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.call
            .info
            .metadata
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// All call facts at once.
    pub fn call(&self) -> &CallInfo {
        &self.call.info
    }

    /// Whether Centrifugo has given up on this call (deadline passed or stream cancelled).
    pub fn is_cancelled(&self) -> bool {
        self.call.cancel.is_cancelled()
    }

    /// Resolves when the call is cancelled; `select!` on it around long work.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.call.cancel.token().cancelled()
    }

    /// The cancellation token, for work spawned onto other tasks.
    pub fn cancellation_token(&self) -> &CancellationToken {
        self.call.cancel.token()
    }

    /// When the caller stops waiting, if known.
    pub fn deadline(&self) -> Option<Instant> {
        self.call.info.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_asked_for_before_or_after_cancellation_fires() {
        let early = CallState::new(CallInfo::default());
        let token = early.cancel.token().clone();
        assert!(!token.is_cancelled());
        early.cancel();
        assert!(token.is_cancelled());

        let late = CallState::new(CallInfo::default());
        late.cancel();
        assert!(late.cancel.is_cancelled());
        // A token made after the call was cancelled is born cancelled.
        late.cancel.token().cancelled().await;
    }
}
