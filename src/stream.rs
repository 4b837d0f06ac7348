//! Subscription streams, typed: Centrifugo's `SubscribeUnidirectional` and
//! `SubscribeBidirectional` proxy. A client subscribes to a channel in a stream namespace;
//! centrpc decodes the subscribe `data` into the handler's params, and the handler answers with a
//! stream of typed items, each delivered to that one subscriber as a publication. In the
//! bidirectional form the handler also receives the subscriber's own publications, typed.
//!
//! ```
//! use centrpc::{stream, Context, Router, RpcError};
//! use futures_util::stream::{iter, Stream};
//! # #[derive(serde::Deserialize, schemars::JsonSchema)] struct Watch { from: u32 }
//! # #[derive(serde::Serialize, schemars::JsonSchema)] struct Tick { n: u32 }
//!
//! /// Counts up from `from`, then ends the subscription.
//! async fn count(_ctx: Context, p: Watch) -> Result<impl Stream<Item = Result<Tick, RpcError>>, RpcError> {
//!     Ok(iter((p.from..p.from + 3).map(|n| Ok(Tick { n }))))
//! }
//!
//! let router = Router::new(()).stream("ticks:count", stream::uni(count).describe("Three ticks."));
//! assert!(router.check().is_ok());
//! ```
//!
//! # How a stream ends
//! - The handler's stream ends: the client is unsubscribed for good (Centrifugo code 2000).
//! - It yields an `Err`, panics, or the server shuts down: the stream ends with an error, and the
//!   SDK resubscribes (code 2500), to this server or, after a restart, its successor.
//! - The client unsubscribes or disconnects: Centrifugo cancels the stream; centrpc drops the
//!   handler's stream and cancels its [`Context`] (`ctx.cancelled()` resolves).
//! - Refusing to open (the handler returns `Err`) reaches the client as its subscribe error,
//!   with the code and message, or as a disconnect.
//!
//! # Back-pressure
//! Items are pulled: centrpc asks the handler's stream for the next item only when the HTTP/2
//! stream to Centrifugo has room (its flow-control window), so a generator is throttled, never
//! buffered without bound. A source that pushes (events for many subscribers) needs a bounded
//! buffer per subscriber and a rule for a full one; [`broadcast`] is that rule for a
//! `tokio::sync::broadcast` channel: a subscriber that falls more than the channel's capacity
//! behind is ended with a temporary error, and its SDK resubscribes (and gets a fresh start)
//! instead of holding memory for it. Centrifugo itself disconnects a WebSocket client that stops
//! reading once its queue passes `client.queue_max_size`.

use std::{
    fmt,
    future::Future,
    marker::PhantomData,
    pin::Pin,
    sync::Arc,
    task::{Context as TaskContext, Poll},
};

use futures_util::{
    future::BoxFuture,
    stream::{self, BoxStream},
    FutureExt, Stream, StreamExt, TryStreamExt,
};
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    context::Context,
    error::{DeclaredError, RpcError},
    handler::{decode, CheckFn, SchemaFn},
};

/// The encoded items of an open stream (JSON each), or the error that ends it.
pub(crate) type Items = BoxStream<'static, Result<Vec<u8>, RpcError>>;

/// The subscriber's raw publications on a bidirectional stream (size already checked).
pub(crate) type Publications = BoxStream<'static, Result<Vec<u8>, RpcError>>;

/// A stream handler with its types erased: subscribe data in; the opening future out.
pub(crate) type ErasedStream<S> = Arc<
    dyn Fn(
            Context<S>,
            &[u8],
            Publications,
        ) -> Result<BoxFuture<'static, Result<Items, RpcError>>, RpcError>
        + Send
        + Sync,
>;

/// The typed items a stream handler returns, boxed.
pub type ItemStream<T> = BoxStream<'static, Result<T, RpcError>>;

/// An async function that serves a unidirectional stream:
/// `async fn(Context<S>, Params) -> Result<impl Stream<Item = Result<Item, E>>, E>`.
///
/// Implemented for every such function where `Params: DeserializeOwned + JsonSchema`,
/// `Item: Serialize + JsonSchema` and the errors convert into [`RpcError`]; you never implement it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a centrpc stream handler",
    label = "not an `async fn(Context<S>, Params) -> Result<impl Stream<Item = Result<Item, E>>, E>`",
    note = "a unidirectional stream handler takes (Context<S>, Params); a bidirectional one also \
            takes an Incoming<Publication> (register it with stream::bidi); items are \
            Result<Item, E> with Item: serde::Serialize + schemars::JsonSchema and E: Into<RpcError>"
)]
pub trait StreamHandler<S, M>: Clone + Send + Sync + 'static {
    /// The params type, decoded from the client's subscribe data.
    type Params: DeserializeOwned + JsonSchema + Send + 'static;
    /// The type of each item sent to the subscriber.
    type Item: Serialize + JsonSchema + Send + 'static;
    /// Opens the stream.
    fn open(
        &self,
        ctx: Context<S>,
        params: Self::Params,
    ) -> BoxFuture<'static, Result<ItemStream<Self::Item>, RpcError>>;
}

impl<F, Fut, S, P, St, T, E, E2> StreamHandler<S, (P, St, T, E, E2)> for F
where
    F: Fn(Context<S>, P) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<St, E>> + Send + 'static,
    St: Stream<Item = Result<T, E2>> + Send + 'static,
    P: DeserializeOwned + JsonSchema + Send + 'static,
    T: Serialize + JsonSchema + Send + 'static,
    E: Into<RpcError> + 'static,
    E2: Into<RpcError> + 'static,
{
    type Params = P;
    type Item = T;

    fn open(
        &self,
        ctx: Context<S>,
        params: P,
    ) -> BoxFuture<'static, Result<ItemStream<T>, RpcError>> {
        boxed(self(ctx, params))
    }
}

/// An async function that serves a bidirectional stream: like [`StreamHandler`], and it also
/// receives the subscriber's publications on the channel as [`Incoming`]:
/// `async fn(Context<S>, Params, Incoming<Publication>) -> Result<impl Stream<Item = Result<Item, E>>, E>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a centrpc bidirectional stream handler",
    label = "not an `async fn(Context<S>, Params, Incoming<Publication>) -> Result<impl Stream<Item = Result<Item, E>>, E>`",
    note = "Publication: serde::Deserialize + schemars::JsonSchema is the type clients publish"
)]
pub trait BidiHandler<S, M>: Clone + Send + Sync + 'static {
    /// The params type, decoded from the client's subscribe data.
    type Params: DeserializeOwned + JsonSchema + Send + 'static;
    /// The type of each item sent to the subscriber.
    type Item: Serialize + JsonSchema + Send + 'static;
    /// The type of the subscriber's own publications.
    type Publication: DeserializeOwned + JsonSchema + Send + 'static;
    /// Opens the stream.
    fn open(
        &self,
        ctx: Context<S>,
        params: Self::Params,
        incoming: Incoming<Self::Publication>,
    ) -> BoxFuture<'static, Result<ItemStream<Self::Item>, RpcError>>;
}

impl<F, Fut, S, P, C, St, T, E, E2> BidiHandler<S, (P, C, St, T, E, E2)> for F
where
    F: Fn(Context<S>, P, Incoming<C>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<St, E>> + Send + 'static,
    St: Stream<Item = Result<T, E2>> + Send + 'static,
    P: DeserializeOwned + JsonSchema + Send + 'static,
    C: DeserializeOwned + JsonSchema + Send + 'static,
    T: Serialize + JsonSchema + Send + 'static,
    E: Into<RpcError> + 'static,
    E2: Into<RpcError> + 'static,
{
    type Params = P;
    type Item = T;
    type Publication = C;

    fn open(
        &self,
        ctx: Context<S>,
        params: P,
        incoming: Incoming<C>,
    ) -> BoxFuture<'static, Result<ItemStream<T>, RpcError>> {
        boxed(self(ctx, params, incoming))
    }
}

/// A handler's opening future, with its errors and its items' errors converted, boxed.
fn boxed<Fut, St, T, E, E2>(fut: Fut) -> BoxFuture<'static, Result<ItemStream<T>, RpcError>>
where
    Fut: Future<Output = Result<St, E>> + Send + 'static,
    St: Stream<Item = Result<T, E2>> + Send + 'static,
    T: Send + 'static,
    E: Into<RpcError> + 'static,
    E2: Into<RpcError> + 'static,
{
    Box::pin(async move {
        let items = fut.await.map_err(Into::into)?;
        Ok(items.map_err(Into::into).boxed())
    })
}

/// The subscriber's publications on a bidirectional stream, decoded as `C`.
///
/// A publication that is not valid JSON, does not fit `C`, or is larger than the payload limit
/// arrives as an `Err` with the same error a call would get (400, 422 with the field path, 413),
/// and the stream goes on: Centrifugo has already told the client its publish succeeded, so the
/// handler decides what a bad one means (ignore it, answer with an item, or end the stream).
/// The stream ends when the client unsubscribes or disconnects.
pub struct Incoming<C> {
    raw: Publications,
    _type: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for Incoming<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming").finish_non_exhaustive()
    }
}

impl<C> Incoming<C> {
    pub(crate) fn new(raw: Publications) -> Self {
        Self {
            raw,
            _type: PhantomData,
        }
    }
}

impl<C: DeserializeOwned> Stream for Incoming<C> {
    type Item = Result<C, RpcError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.raw
            .poll_next_unpin(cx)
            .map(|next| next.map(|raw| raw.and_then(|bytes| decode(&bytes))))
    }
}

/// Items from a `tokio::sync::broadcast` receiver, with centrpc's back-pressure rule: a subscriber
/// that falls further behind than the channel's capacity gets a temporary
/// [`OVERLOADED`](crate::codes::OVERLOADED) error, which ends its stream, and its SDK resubscribes.
/// The stream ends when every sender is gone.
pub fn broadcast<T: Clone + Send + 'static>(
    receiver: tokio::sync::broadcast::Receiver<T>,
) -> impl Stream<Item = Result<T, RpcError>> + Send + 'static {
    use tokio::sync::broadcast::error::RecvError;
    stream::unfold(Some(receiver), |receiver| async move {
        let mut receiver = receiver?;
        match receiver.recv().await {
            Ok(item) => Some((Ok(item), Some(receiver))),
            Err(RecvError::Lagged(missed)) => Some((
                Err(RpcError::overloaded().with_detail(format_args!(
                    "the subscriber fell {missed} items behind; ending its stream so it resubscribes"
                ))),
                None,
            )),
            Err(RecvError::Closed) => None,
        }
    })
}

/// A stream handler with its options, ready to register with
/// [`Router::stream`](crate::Router::stream); build it with [`uni`] or [`bidi`].
pub struct StreamDef<S> {
    pub(crate) open: ErasedStream<S>,
    pub(crate) info: StreamInfo,
}

impl<S> fmt::Debug for StreamDef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamDef")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// What the schema and client generators know about a stream.
#[derive(Clone)]
#[non_exhaustive]
pub struct StreamInfo {
    /// The channel pattern it serves, e.g. `watch:tasks` or `rooms:*`.
    pub name: String,
    /// A human description (from [`StreamDef::describe`]).
    pub description: Option<String>,
    /// The application errors a refusal may carry (from [`StreamDef::error`]).
    pub errors: Vec<DeclaredError>,
    /// Whether subscribers may publish into it.
    pub bidirectional: bool,
    /// Generates the params schema (the subscribe data).
    pub params: SchemaFn,
    /// Generates the item schema.
    pub item: SchemaFn,
    /// Generates the schema of the subscriber's publications (bidirectional only).
    pub publication: Option<SchemaFn>,
    /// Checks subscribe data against the params type with the server's own rules.
    pub check: CheckFn,
}

impl fmt::Debug for StreamInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamInfo")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("bidirectional", &self.bidirectional)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

/// Decodes a stream's subscribe data as its params. No data at all reads as JSON `null` (as for
/// calls) or, when the params type refuses `null`, as `{}`: some SDKs send nothing for empty
/// data (centrifuge-python leaves out any falsy value), so params whose fields all have
/// defaults still open.
pub(crate) fn decode_params<P: DeserializeOwned>(data: &[u8]) -> Result<P, RpcError> {
    match decode(data) {
        Err(e) if data.iter().all(u8::is_ascii_whitespace) => decode(b"{}").map_err(|_| e),
        decoded => decoded,
    }
}

/// Encodes each item as JSON; an item that cannot be encoded ends the stream as internal.
fn encode<T: Serialize + Send + 'static>(items: ItemStream<T>) -> Items {
    items
        .map(|item| {
            item.and_then(|item| {
                serde_json::to_vec(&item).map_err(|e| {
                    RpcError::internal(format_args!("cannot encode a stream item as JSON: {e}"))
                })
            })
        })
        .boxed()
}

/// A unidirectional stream: the handler's items go to the subscriber.
pub fn uni<S, M, H>(handler: H) -> StreamDef<S>
where
    H: StreamHandler<S, M>,
    S: Send + Sync + 'static,
{
    let open: ErasedStream<S> = Arc::new(move |ctx, payload, _publications| {
        let params: H::Params = decode_params(payload)?;
        Ok(handler.open(ctx, params).map(|r| r.map(encode)).boxed())
    });
    StreamDef::new::<H::Params, H::Item>(open, None)
}

/// A bidirectional stream: the handler's items go to the subscriber, and the subscriber's
/// publications on the channel come to the handler as [`Incoming`].
pub fn bidi<S, M, H>(handler: H) -> StreamDef<S>
where
    H: BidiHandler<S, M>,
    S: Send + Sync + 'static,
{
    let open: ErasedStream<S> = Arc::new(move |ctx, payload, publications| {
        let params: H::Params = decode_params(payload)?;
        let incoming = Incoming::new(publications);
        Ok(handler
            .open(ctx, params, incoming)
            .map(|r| r.map(encode))
            .boxed())
    });
    let publication: SchemaFn = |g| g.subschema_for::<H::Publication>();
    StreamDef::new::<H::Params, H::Item>(open, Some(publication))
}

impl<S> StreamDef<S> {
    /// A definition of a stream with params `P` and items `T`; bidirectional when it has the
    /// schema of the subscriber's `publication`s.
    fn new<P: DeserializeOwned + JsonSchema, T: JsonSchema>(
        open: ErasedStream<S>,
        publication: Option<SchemaFn>,
    ) -> Self {
        StreamDef {
            open,
            info: StreamInfo {
                name: String::new(),
                description: None,
                errors: Vec::new(),
                bidirectional: publication.is_some(),
                params: |g| g.subschema_for::<P>(),
                item: |g| g.subschema_for::<T>(),
                publication,
                check: |payload| decode_params::<P>(payload).map(drop),
            },
        }
    }

    /// A description for the schema and the generated clients' docs.
    pub fn describe(mut self, description: &str) -> Self {
        self.info.description = Some(description.trim().to_owned());
        self
    }

    /// Declares an application error a refusal may carry; the API document lists it.
    pub fn error(mut self, error: DeclaredError) -> Self {
        self.info.errors.push(error);
        self
    }
}

/// What [`Router::stream`](crate::Router::stream) accepts: a [`StreamDef`] from [`uni`] or
/// [`bidi`], or a bare unidirectional handler.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a centrpc stream handler",
    label = "not an `async fn(Context<S>, Params) -> Result<impl Stream<Item = Result<Item, E>>, E>`",
    note = "wrap a bidirectional handler (one that also takes Incoming<Publication>) in stream::bidi(..)"
)]
pub trait IntoStreamDef<S, M> {
    /// The stream definition.
    fn into_stream_def(self) -> StreamDef<S>;
}

impl<S> IntoStreamDef<S, StreamDef<S>> for StreamDef<S> {
    fn into_stream_def(self) -> StreamDef<S> {
        self
    }
}

impl<S, M, H> IntoStreamDef<S, (M,)> for H
where
    H: StreamHandler<S, M>,
    S: Send + Sync + 'static,
{
    fn into_stream_def(self) -> StreamDef<S> {
        uni(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;

    #[tokio::test]
    async fn incoming_decodes_and_reports_bad_publications_without_ending() {
        let raw = stream::iter([
            Ok(br#"{"n":1}"#.to_vec()),
            Ok(br#"{"n":"x"}"#.to_vec()),
            Ok(b"{".to_vec()),
            Err(RpcError::payload_too_large(10, 5)),
            Ok(br#"{"n":2}"#.to_vec()),
        ]);
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct N {
            n: u32,
        }
        let got: Vec<_> = Incoming::<N>::new(raw.boxed()).collect().await;
        assert_eq!(got[0].as_ref().unwrap(), &N { n: 1 });
        assert_eq!(got[1].as_ref().unwrap_err().code(), codes::INVALID_PARAMS);
        assert!(got[1].as_ref().unwrap_err().message().contains("n:"));
        assert_eq!(got[2].as_ref().unwrap_err().code(), codes::MALFORMED_JSON);
        assert_eq!(
            got[3].as_ref().unwrap_err().code(),
            codes::PAYLOAD_TOO_LARGE
        );
        assert_eq!(got[4].as_ref().unwrap(), &N { n: 2 });
    }

    #[test]
    fn no_subscribe_data_opens_params_whose_fields_all_have_defaults() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Defaults {
            #[serde(default)]
            owner: Option<String>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Required {
            count: u32,
        }
        assert_eq!(
            decode_params::<Defaults>(b"").unwrap(),
            Defaults { owner: None }
        );
        assert_eq!(decode_params::<Option<u8>>(b" ").unwrap(), None);
        assert_eq!(decode_params::<()>(b"").unwrap(), ());
        let e = decode_params::<Required>(b"").unwrap_err();
        assert_eq!(e.code(), codes::INVALID_PARAMS);
        assert!(
            e.message().contains("expected struct Required"),
            "{}",
            e.message()
        );
        assert_eq!(
            decode_params::<Defaults>(b"null").unwrap_err().code(),
            codes::INVALID_PARAMS,
            "an explicit null is still refused"
        );
    }

    #[tokio::test]
    async fn a_lagging_broadcast_subscriber_gets_a_temporary_error_and_its_stream_ends() {
        let (tx, rx) = tokio::sync::broadcast::channel(2);
        for n in 0..5 {
            tx.send(n).unwrap();
        }
        let got: Vec<_> = broadcast(rx).collect().await;
        assert_eq!(got.len(), 1, "the stream ends after the lag error");
        let err = got[0].as_ref().unwrap_err();
        assert_eq!(err.code(), codes::OVERLOADED);
        assert!(err.is_temporary());
        assert!(err.detail().unwrap().contains("3 items behind"), "{err:?}");

        let (tx, rx) = tokio::sync::broadcast::channel(4);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(tx);
        let got: Vec<u32> = broadcast(rx).map(Result::unwrap).collect().await;
        assert_eq!(
            got,
            [1, 2],
            "items in order, then the end when the senders are gone"
        );
    }
}
