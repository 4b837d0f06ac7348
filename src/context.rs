//! What a handler knows about the call it serves: the application state, who is calling (as
//! Centrifugo authenticated them), over which transport, the forwarded headers, and a
//! cancellation signal for when Centrifugo gives up on the call.

use std::{sync::Arc, time::Instant};

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
    call: Arc<CallInfo>,
    cancel: CancellationToken,
}

/// The facts about one call, copied from the proxy request.
#[derive(Debug, Default, Clone)]
pub struct CallInfo {
    /// The RPC method name, or the hook name (`connect`, `subscribe`…) for proxy hooks.
    pub method: String,
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
            .field("call", &self.call)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl<S> Clone for Context<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            call: self.call.clone(),
            cancel: self.cancel.clone(),
        }
    }
}

impl<S> Context<S> {
    /// Builds a context; centrpc does this for every call, tests may do it by hand.
    pub fn new(state: Arc<S>, call: CallInfo, cancel: CancellationToken) -> Self {
        Self {
            state,
            call: Arc::new(call),
            cancel,
        }
    }

    /// Builds a context around call facts that are already shared.
    pub(crate) fn from_shared(
        state: Arc<S>,
        call: Arc<CallInfo>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            state,
            call,
            cancel,
        }
    }

    /// The application state registered with [`Router::new`](crate::Router::new).
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The method (or hook) being served.
    pub fn method(&self) -> &str {
        &self.call.method
    }

    /// The user ID Centrifugo authenticated; empty for anonymous connections.
    pub fn user(&self) -> &str {
        &self.call.user
    }

    /// Centrifugo's ID of the client connection.
    pub fn client(&self) -> &str {
        &self.call.client
    }

    /// The client transport (`websocket`, `sse`, …).
    pub fn transport(&self) -> &str {
        &self.call.transport
    }

    /// The client protocol, `json` or `protobuf`.
    pub fn protocol(&self) -> &str {
        &self.call.protocol
    }

    /// The proxy payload encoding, `json` or `binary`.
    pub fn encoding(&self) -> &str {
        &self.call.encoding
    }

    /// The raw connection meta bytes (empty when Centrifugo sends none).
    pub fn meta_raw(&self) -> &[u8] {
        &self.call.meta
    }

    /// The connection meta decoded as `T`; `Ok(None)` when there is none.
    pub fn meta<T: DeserializeOwned>(&self) -> Result<Option<T>, RpcError> {
        if self.call.meta.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&self.call.meta)
            .map(Some)
            .map_err(|e| {
                RpcError::internal(format!("connection meta is not the expected type: {e}"))
            })
    }

    /// A forwarded header or metadata value (names are lowercase), if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.call.metadata.get(name).and_then(|v| v.to_str().ok())
    }

    /// All call facts at once.
    pub fn call(&self) -> &CallInfo {
        &self.call
    }

    /// Whether Centrifugo has given up on this call (deadline passed or stream cancelled).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves when the call is cancelled; `select!` on it around long work.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    /// The cancellation token, for work spawned onto other tasks.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// When the caller stops waiting, if known.
    pub fn deadline(&self) -> Option<Instant> {
        self.call.deadline
    }
}
