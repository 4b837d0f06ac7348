//! Testing handlers without a network: [`TestClient`] drives the real call pipeline in process.
//!
//! Every call goes through the same `CentrifugoProxy` service the server runs: payload limits,
//! routing, middleware, the concurrency limit, deadlines, panic isolation, metrics, and the
//! error mapping into the reply. Only the gRPC transport (and the credentials check on it) is
//! left out. The client sees what a Centrifugo client would: the typed result, or an
//! [`RpcError`] with the code, message and `temporary` flag the reply carried.
//!
//! ```
//! use centrpc::{testing::TestClient, Context, Router, RpcError};
//!
//! async fn double(ctx: Context, n: u32) -> Result<String, RpcError> {
//!     Ok(format!("{} asked for {}", ctx.user(), n * 2))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let client = TestClient::new(Router::new(()).rpc("math.double", double));
//! let answer: String = client.call("math.double", &21).user("42").await.unwrap();
//! assert_eq!(answer, "42 asked for 42");
//! let err = client.call::<String>("math.double", &"x").await.unwrap_err();
//! assert_eq!(err.code(), centrpc::codes::INVALID_PARAMS);
//! # }
//! ```

use std::{
    future::{Future, IntoFuture},
    marker::PhantomData,
    pin::Pin,
    time::Duration,
};

use futures_util::StreamExt;
use serde::{de::DeserializeOwned, Serialize};
use tonic::{metadata::MetadataMap, Request};

use crate::{
    error::RpcError,
    hooks::{ConnectReply, PublishReply, SubscribeReply},
    proto::{self, centrifugo_proxy_server::CentrifugoProxy},
    router::Router,
    service::{Limits, ProxyService},
};

/// Drives a router's calls and hooks through the real pipeline, in process.
#[derive(Debug, Clone)]
pub struct TestClient<S> {
    service: ProxyService<S>,
}

impl<S: Send + Sync + 'static> TestClient<S> {
    /// A client for `router` under the default [`Limits`].
    ///
    /// # Panics
    /// If the router has registration problems (the server would refuse to start).
    pub fn new(router: Router<S>) -> Self {
        Self::with_limits(router, Limits::default())
    }

    /// A client for `router` under `limits`.
    ///
    /// # Panics
    /// If the router has registration problems (the server would refuse to start).
    pub fn with_limits(router: Router<S>, limits: Limits) -> Self {
        Self {
            service: ProxyService::new(router, limits),
        }
    }

    /// The metrics the calls are recorded in.
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        self.service.metrics()
    }

    /// Calls RPC `method` with `params` encoded as JSON. Await the returned builder for the
    /// result decoded as `R`, after setting the caller with [`TestCall::user`] and friends.
    /// Awaiting panics if the result does not decode as `R` (the test asked for the wrong type).
    pub fn call<R>(&self, method: &str, params: &impl Serialize) -> TestCall<'_, S, R> {
        let data = serde_json::to_vec(params).expect("test params encode as JSON");
        self.call_raw(method, data)
    }

    /// Calls RPC `method` with a raw payload, e.g. malformed JSON.
    pub fn call_raw<R>(&self, method: &str, payload: impl Into<Vec<u8>>) -> TestCall<'_, S, R> {
        TestCall {
            client: self,
            request: proto::RpcRequest {
                method: method.to_owned(),
                data: payload.into(),
                ..Default::default()
            },
            meta: Meta::default(),
            result: PhantomData,
        }
    }

    /// Runs the connect hook with `data` as the client's connect data.
    pub async fn connect(&self, data: &impl Serialize) -> Result<ConnectReply, RpcError> {
        let request = proto::ConnectRequest {
            data: serde_json::to_vec(data).expect("test data encodes as JSON"),
            transport: "websocket".into(),
            protocol: "json".into(),
            encoding: "json".into(),
            ..Default::default()
        };
        let reply = self.service.connect(Request::new(request)).await;
        let reply = reply.map_err(status_error)?.into_inner();
        outcome(reply.result, reply.error, reply.disconnect).map(|r| {
            let mut c = ConnectReply::user(r.user);
            c.expire_at = (r.expire_at != 0).then_some(r.expire_at);
            c.info = json(&r.info);
            c.data = json(&r.data);
            c.channels = r.channels;
            c.meta = json(&r.meta);
            c
        })
    }

    /// Runs the subscribe hook of `channel` for `user`.
    pub async fn subscribe(&self, user: &str, channel: &str) -> Result<SubscribeReply, RpcError> {
        let request = proto::SubscribeRequest {
            user: user.to_owned(),
            channel: channel.to_owned(),
            encoding: "json".into(),
            ..Default::default()
        };
        let reply = self.service.subscribe(Request::new(request)).await;
        let reply = reply.map_err(status_error)?.into_inner();
        outcome(reply.result, reply.error, reply.disconnect).map(|r| SubscribeReply {
            info: json(&r.info),
            data: json(&r.data),
            expire_at: (r.expire_at != 0).then_some(r.expire_at),
        })
    }

    /// Runs the publish hook of `channel` for `user` publishing `data`.
    pub async fn publish(
        &self,
        user: &str,
        channel: &str,
        data: &impl Serialize,
    ) -> Result<PublishReply, RpcError> {
        let request = proto::PublishRequest {
            user: user.to_owned(),
            channel: channel.to_owned(),
            data: serde_json::to_vec(data).expect("test data encodes as JSON"),
            encoding: "json".into(),
            ..Default::default()
        };
        let reply = self.service.publish(Request::new(request)).await;
        let reply = reply.map_err(status_error)?.into_inner();
        outcome(reply.result, reply.error, reply.disconnect).map(|r| PublishReply {
            data: json(&r.data),
            skip_history: r.skip_history,
        })
    }
}

impl<S: Send + Sync + 'static> TestClient<S> {
    /// Subscribes `user` to the subscription stream on `channel` with `params` as subscribe data,
    /// as Centrifugo would for a client in a stream namespace. A refusal is the `Err`; an open
    /// stream yields its items decoded as `T`. A bidirectional stream's handler sees no
    /// publications (see [`stream_bidi`](Self::stream_bidi)).
    pub async fn stream<T: DeserializeOwned>(
        &self,
        user: &str,
        channel: &str,
        params: &impl Serialize,
    ) -> Result<TestStream<T>, RpcError> {
        let publications = self.service.publications(futures_util::stream::empty());
        self.open(user, channel, params, publications).await
    }

    /// Like [`stream`](Self::stream), with a [`TestPublisher`] whose publications reach a
    /// bidirectional handler as the subscriber's own (dropping it ends them).
    pub async fn stream_bidi<T: DeserializeOwned>(
        &self,
        user: &str,
        channel: &str,
        params: &impl Serialize,
    ) -> Result<(TestStream<T>, TestPublisher), RpcError> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let raw = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|data| (data, rx))
        });
        let stream = self
            .open(user, channel, params, self.service.publications(raw))
            .await?;
        Ok((stream, TestPublisher(tx)))
    }

    async fn open<T>(
        &self,
        user: &str,
        channel: &str,
        params: &impl Serialize,
        publications: crate::stream::Publications,
    ) -> Result<TestStream<T>, RpcError> {
        let request = proto::SubscribeRequest {
            user: user.to_owned(),
            channel: channel.to_owned(),
            data: serde_json::to_vec(params).expect("test params encode as JSON"),
            encoding: "json".into(),
            transport: "websocket".into(),
            protocol: "json".into(),
            ..Default::default()
        };
        let mut replies = self
            .service
            .open_stream(request, MetadataMap::new(), publications)
            .await
            .map_err(status_error)?;
        let first = replies.next().await;
        let first = first
            .ok_or_else(|| RpcError::internal("the stream ended before its first message"))?
            .map_err(status_error)?
            .subscribe_response
            .ok_or_else(|| RpcError::internal("the first message was not a subscribe response"))?;
        outcome(first.result, first.error, first.disconnect)?;
        Ok(TestStream {
            replies,
            item: PhantomData,
        })
    }
}

/// An open subscription stream, as its subscriber sees it. See [`TestClient::stream`].
pub struct TestStream<T> {
    replies: futures_util::stream::BoxStream<
        'static,
        Result<proto::StreamSubscribeResponse, tonic::Status>,
    >,
    item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for TestStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStream").finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> TestStream<T> {
    /// The next item; `None` when the stream ended cleanly (Centrifugo unsubscribes the client
    /// with 2000), `Some(Err(status))` when it ended with an error (the SDK resubscribes, 2500).
    ///
    /// # Panics
    /// If an item does not decode as `T` (the test asked for the wrong type).
    pub async fn next(&mut self) -> Option<Result<T, tonic::Status>> {
        let reply = match self.replies.next().await? {
            Ok(reply) => reply,
            Err(status) => return Some(Err(status)),
        };
        let data = reply.publication.map(|p| p.data).unwrap_or_default();
        Some(Ok(serde_json::from_slice(&data).unwrap_or_else(|e| {
            panic!(
                "TestStream: the item {} does not decode as {}: {e}",
                String::from_utf8_lossy(&data),
                std::any::type_name::<T>()
            )
        })))
    }
}

/// Publishes into a bidirectional stream as its subscriber. See [`TestClient::stream_bidi`].
#[derive(Debug, Clone)]
pub struct TestPublisher(tokio::sync::mpsc::UnboundedSender<Vec<u8>>);

impl TestPublisher {
    /// Publishes `data` encoded as JSON; `false` once the stream is gone.
    pub fn publish(&self, data: &impl Serialize) -> bool {
        self.publish_raw(serde_json::to_vec(data).expect("test data encodes as JSON"))
    }

    /// Publishes raw bytes, e.g. malformed JSON; `false` once the stream is gone.
    pub fn publish_raw(&self, data: impl Into<Vec<u8>>) -> bool {
        self.0.send(data.into()).is_ok()
    }
}

/// Who is calling, and how.
#[derive(Debug, Default)]
struct Meta {
    headers: MetadataMap,
    timeout: Option<Duration>,
}

/// One RPC call being set up; `.await` it for the result. See [`TestClient::call`].
#[derive(Debug)]
#[must_use = "a TestCall does nothing until awaited"]
pub struct TestCall<'a, S, R> {
    client: &'a TestClient<S>,
    request: proto::RpcRequest,
    meta: Meta,
    result: PhantomData<fn() -> R>,
}

impl<S, R> TestCall<'_, S, R> {
    /// The authenticated user (default: anonymous, "").
    pub fn user(mut self, user: &str) -> Self {
        self.request.user = user.to_owned();
        self
    }

    /// Centrifugo's connection ID.
    pub fn client_id(mut self, client: &str) -> Self {
        self.request.client = client.to_owned();
        self
    }

    /// Connection meta, as `include_connection_meta` forwards it.
    pub fn meta(mut self, meta: &impl Serialize) -> Self {
        self.request.meta = serde_json::to_vec(meta).expect("test meta encodes as JSON");
        self
    }

    /// A forwarded header (lowercase name).
    ///
    /// # Panics
    /// If the name or value is not valid gRPC metadata.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        let value = value.parse().expect("a valid metadata value");
        self.meta.headers.insert(name, value);
        self
    }

    /// Centrifugo's deadline for the call (its proxy timeout), sent as `grpc-timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.meta.timeout = Some(timeout);
        self
    }
}

impl<'a, S, R> IntoFuture for TestCall<'a, S, R>
where
    S: Send + Sync + 'static,
    R: DeserializeOwned + 'a,
{
    type Output = Result<R, RpcError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R, RpcError>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut request = self.request;
            if request.encoding.is_empty() {
                request.encoding = "json".into();
            }
            let mut request = Request::new(request);
            *request.metadata_mut() = self.meta.headers;
            if let Some(t) = self.meta.timeout {
                let value = format!("{}m", t.as_millis().max(1));
                request.metadata_mut().insert(
                    "grpc-timeout",
                    value.parse().expect("digits and a unit are valid metadata"),
                );
            }
            let reply = self.client.service.rpc(request).await;
            let reply = reply.map_err(status_error)?.into_inner();
            let result = outcome(reply.result, reply.error, reply.disconnect)?;
            // A result of another type is the test's mistake, not the server's: say so loudly
            // rather than as an error code a test might be asserting on.
            match serde_json::from_slice(&result.data) {
                Ok(value) => Ok(value),
                Err(e) => panic!(
                    "TestClient: the result {} does not decode as {}: {e}",
                    String::from_utf8_lossy(&result.data),
                    std::any::type_name::<R>()
                ),
            }
        })
    }
}

/// The result of a reply, or its error or disconnect as an [`RpcError`] (code, message and
/// `temporary` as the client sees them; its [`kind`](RpcError::kind) is `App`, since the wire does
/// not say who produced it).
fn outcome<T>(
    result: Option<T>,
    error: Option<proto::Error>,
    disconnect: Option<proto::Disconnect>,
) -> Result<T, RpcError> {
    if let Some(e) = error {
        let err = RpcError::new(e.code, e.message);
        return Err(if e.temporary { err.temporary() } else { err });
    }
    if let Some(d) = disconnect {
        return Err(RpcError::disconnect(d.code, d.reason));
    }
    result.ok_or_else(|| RpcError::internal("the reply carried neither a result nor an error"))
}

/// A gRPC status, as a Centrifugo client would see it: code 100.
fn status_error(status: tonic::Status) -> RpcError {
    RpcError::new(100, "internal server error").with_detail(status.message())
}

fn json(bytes: &[u8]) -> Option<serde_json::Value> {
    (!bytes.is_empty()).then(|| serde_json::from_slice(bytes).expect("centrpc encodes JSON"))
}
