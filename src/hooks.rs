//! Typed hooks for Centrifugo's other proxy events — connect, refresh, subscribe, publish and
//! sub_refresh — served next to RPC with the same context and error model.
//!
//! Each hook is an `async fn(Context<S>, Event) -> Result<Reply, E>`. Subscribe and publish hooks
//! are registered per channel pattern (`"chat:*"`, `"news"`, `"*"`); the first pattern that matches
//! the channel, in registration order, decides, and a channel no pattern matches is refused with
//! [`CHANNEL_NOT_ALLOWED`](crate::codes::CHANNEL_NOT_ALLOWED).

use std::{future::Future, sync::Arc};

use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    call::{CallResult, Reply},
    context::Context,
    error::RpcError,
    handler::{decode, SchemaFn},
};

/// A client connecting without a JWT (Centrifugo calls the connect proxy only then).
///
/// `D` is how the client's connect data arrives: raw bytes by default, or [`Json<T>`] for typed
/// data, decoded before the hook runs (malformed JSON and a mismatch are refused in-band with
/// [`MALFORMED_JSON`](crate::codes::MALFORMED_JSON) / [`INVALID_PARAMS`](crate::codes::INVALID_PARAMS)
/// and the field path) and described in the API document, so generated clients send it typed.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectEvent<D = Vec<u8>> {
    /// The SDK's name (`js`, `python`, `go`…).
    pub name: String,
    /// The SDK's version.
    pub version: String,
    /// Channels the client asks to be subscribed to on connect.
    pub channels: Vec<String>,
    /// The connect data the client sent: the raw bytes (JSON for JSON clients), or the decoded
    /// [`Json<T>`].
    pub data: D,
}

/// Typed connect data: a hook taking `ConnectEvent<Json<Login>>` receives the client's data
/// decoded as `Login` (empty data decodes as JSON `null`, so `Json<Option<Login>>` makes it
/// optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// How connect data reaches a connect hook: `Vec<u8>` (raw) or [`Json<T>`] (typed).
pub trait ConnectData: Sized + Send + 'static {
    /// Reads the client's raw data.
    fn decode(raw: Vec<u8>) -> Result<Self, RpcError>;
    /// The schema of the data, for the API document; `None` for raw data.
    fn schema() -> Option<SchemaFn>;
}

impl ConnectData for Vec<u8> {
    fn decode(raw: Vec<u8>) -> Result<Self, RpcError> {
        Ok(raw)
    }

    fn schema() -> Option<SchemaFn> {
        None
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> ConnectData for Json<T> {
    fn decode(raw: Vec<u8>) -> Result<Self, RpcError> {
        decode(&raw).map(Json)
    }

    fn schema() -> Option<SchemaFn> {
        Some(|g| g.subschema_for::<T>())
    }
}

/// Whom Centrifugo should consider connected, and with what.
///
/// `R` is the type of the `data` returned to the client in its connect reply, and `I` of the
/// connection's public `info` (what other clients see in presence and join/leave); both are JSON
/// values by default. Typed, they are described in the API document and generated clients read
/// the reply data typed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectReply<R = serde_json::Value, I = serde_json::Value> {
    /// The user ID; required (an empty string means an anonymous connection).
    pub user: String,
    /// When the connection expires (unix seconds); Centrifugo then calls the refresh hook.
    pub expire_at: Option<i64>,
    /// Public connection info (shown in presence and join/leave).
    pub info: Option<I>,
    /// Data returned to the client in its connect reply.
    pub data: Option<R>,
    /// Server-side subscriptions.
    pub channels: Vec<String>,
    /// Server-only meta, forwarded in later proxy calls (`include_connection_meta`).
    pub meta: Option<serde_json::Value>,
}

impl<R, I> Default for ConnectReply<R, I> {
    fn default() -> Self {
        Self {
            user: String::new(),
            expire_at: None,
            info: None,
            data: None,
            channels: Vec::new(),
            meta: None,
        }
    }
}

impl<R, I> ConnectReply<R, I> {
    /// Accepts the connection as `user`.
    pub fn user(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            ..Self::default()
        }
    }
}

impl<R: Serialize, I: Serialize> ConnectReply<R, I> {
    /// The reply with its data and info as JSON values, the form the service encodes.
    fn into_json(self) -> Result<ConnectReply, RpcError> {
        fn json(
            what: &str,
            v: Option<impl Serialize>,
        ) -> Result<Option<serde_json::Value>, RpcError> {
            v.map(serde_json::to_value).transpose().map_err(|e| {
                RpcError::internal(format!("cannot encode the connect {what} as JSON: {e}"))
            })
        }
        Ok(ConnectReply {
            data: json("data", self.data)?,
            info: json("info", self.info)?,
            user: self.user,
            expire_at: self.expire_at,
            channels: self.channels,
            meta: self.meta,
        })
    }
}

/// A connection whose `expire_at` has come.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RefreshEvent {}

/// Whether the connection lives on, and until when.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RefreshReply {
    /// `true` disconnects the client as expired.
    pub expired: bool,
    /// The new expiry (unix seconds).
    pub expire_at: i64,
    /// Replaces the connection info.
    pub info: Option<serde_json::Value>,
}

/// A client subscribing to a channel.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SubscribeEvent {
    /// The channel.
    pub channel: String,
    /// The subscription token, if the client sent one.
    pub token: String,
    /// Raw subscribe data from the client.
    pub data: Vec<u8>,
}

/// The subscription is allowed; optional extras.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SubscribeReply {
    /// Channel info for this subscriber.
    pub info: Option<serde_json::Value>,
    /// Data returned to the client in the subscribe reply.
    pub data: Option<serde_json::Value>,
    /// When the subscription expires (unix seconds); then the sub_refresh hook is called.
    pub expire_at: Option<i64>,
}

/// A client publishing into a channel.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PublishEvent {
    /// The channel.
    pub channel: String,
    /// The raw publication data.
    pub data: Vec<u8>,
}

/// The publication is allowed; optionally rewritten.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PublishReply {
    /// Replaces the published data (`None` keeps the client's).
    pub data: Option<serde_json::Value>,
    /// Do not keep this publication in history.
    pub skip_history: bool,
}

/// A subscription whose `expire_at` has come.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SubRefreshEvent {
    /// The channel.
    pub channel: String,
}

/// Whether the subscription lives on, and until when.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SubRefreshReply {
    /// `true` unsubscribes the client as expired.
    pub expired: bool,
    /// The new expiry (unix seconds).
    pub expire_at: i64,
    /// Replaces the subscription info.
    pub info: Option<serde_json::Value>,
}

macro_rules! event_data {
    ($($event:ty),*) => {$(
        impl $event {
            /// Decodes the client's data as `T` (an empty payload is JSON `null`), with the same
            /// malformed-JSON and invalid-params errors as RPC params.
            pub fn data<T: DeserializeOwned>(&self) -> Result<T, RpcError> {
                decode(&self.data)
            }
        }
    )*};
}
event_data!(ConnectEvent, SubscribeEvent, PublishEvent);

macro_rules! expiry_reply {
    ($($reply:ty: $what:literal),*) => {$(
        impl $reply {
            #[doc = concat!("Keeps the ", $what, " until `expire_at` (unix seconds).")]
            pub fn extend_until(expire_at: i64) -> Self {
                Self {
                    expire_at,
                    ..Self::default()
                }
            }

            #[doc = concat!("Ends the ", $what, " as expired.")]
            pub fn expired() -> Self {
                Self {
                    expired: true,
                    ..Self::default()
                }
            }
        }
    )*};
}
expiry_reply!(RefreshReply: "connection", SubRefreshReply: "subscription");

impl PublishReply {
    /// Rewrites the publication with `value`.
    pub fn rewrite(value: &impl Serialize) -> Result<Self, RpcError> {
        Ok(Self {
            data: Some(serde_json::to_value(value)?),
            skip_history: false,
        })
    }
}

/// A type-erased hook: the event in, the [`Reply`] out.
pub(crate) type Hook<S, E> =
    Arc<dyn Fn(Context<S>, E) -> BoxFuture<'static, CallResult> + Send + Sync>;

/// An async function usable as a hook for event `E` returning `R`:
/// `async fn(Context<S>, E) -> Result<R, Err>` with `Err: Into<RpcError>`.
pub trait HookFn<S, E, R, Err>: Send + Sync + 'static {
    /// The hook's future.
    type Future: Future<Output = Result<R, Err>> + Send + 'static;
    /// Runs the hook.
    fn call_hook(&self, ctx: Context<S>, event: E) -> Self::Future;
}

impl<F, Fut, S, E, R, Err> HookFn<S, E, R, Err> for F
where
    F: Fn(Context<S>, E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Err>> + Send + 'static,
    Err: Into<RpcError> + 'static,
{
    type Future = Fut;

    fn call_hook(&self, ctx: Context<S>, event: E) -> Fut {
        self(ctx, event)
    }
}

/// Erases `f`; `reply` says which [`Reply`] its answer becomes.
fn erase<S, E, R, Err>(f: impl HookFn<S, E, R, Err>, reply: fn(R) -> Reply) -> Hook<S, E>
where
    R: Send + 'static,
    Err: Into<RpcError> + 'static,
{
    Arc::new(move |ctx, event| {
        let work = f.call_hook(ctx, event);
        Box::pin(async move { work.await.map(reply).map_err(Into::into) })
    })
}

/// A channel pattern: `*` matches everything, `prefix*` matches by prefix, anything else exactly.
#[derive(Debug, Clone)]
pub(crate) struct Pattern(String);

impl Pattern {
    pub(crate) fn new(pattern: &str) -> Self {
        Self(pattern.to_owned())
    }

    pub(crate) fn matches(&self, channel: &str) -> bool {
        matches(&self.0, channel)
    }
}

/// Whether `channel` matches `pattern`: `*` matches everything, `prefix*` by prefix, anything
/// else exactly.
pub(crate) fn matches(pattern: &str, channel: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => channel.starts_with(prefix),
        None => pattern == channel,
    }
}

/// The schemas of the connect hook's data, reply data and info (raw data has none; untyped
/// reply data and info are JSON values, whose schema says nothing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectTypes {
    pub(crate) data: Option<SchemaFn>,
    pub(crate) reply_data: SchemaFn,
    pub(crate) info: SchemaFn,
}

impl Default for ConnectTypes {
    fn default() -> Self {
        Self {
            data: None,
            reply_data: |g| g.subschema_for::<serde_json::Value>(),
            info: |g| g.subschema_for::<serde_json::Value>(),
        }
    }
}

/// The hook table; build it with [`Router::hooks`](crate::Router::hooks).
pub struct Hooks<S> {
    pub(crate) connect: Option<Hook<S, ConnectEvent>>,
    pub(crate) connect_types: ConnectTypes,
    pub(crate) refresh: Option<Hook<S, RefreshEvent>>,
    pub(crate) sub_refresh: Option<Hook<S, SubRefreshEvent>>,
    pub(crate) subscribe: Vec<(Pattern, Hook<S, SubscribeEvent>)>,
    pub(crate) publish: Vec<(Pattern, Hook<S, PublishEvent>)>,
}

impl<S> std::fmt::Debug for Hooks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("enabled", &self.enabled())
            .field("subscribe", &self.subscribe_patterns())
            .field("publish", &self.publish_patterns())
            .finish()
    }
}

impl<S> Default for Hooks<S> {
    fn default() -> Self {
        Self {
            connect: None,
            connect_types: ConnectTypes::default(),
            refresh: None,
            sub_refresh: None,
            subscribe: Vec::new(),
            publish: Vec::new(),
        }
    }
}

impl<S> Hooks<S> {
    /// Authenticates connections that carry no JWT.
    ///
    /// The hook may take typed connect data (`ConnectEvent<Json<Login>>`) and answer with typed
    /// reply data and info (`ConnectReply<Welcome, UserInfo>`); their types go into the API
    /// document (`x-connect`), and generated clients send and read them typed.
    pub fn connect<D, R, I, Err>(
        mut self,
        f: impl HookFn<S, ConnectEvent<D>, ConnectReply<R, I>, Err>,
    ) -> Self
    where
        D: ConnectData,
        R: Serialize + JsonSchema + Send + 'static,
        I: Serialize + JsonSchema + Send + 'static,
        Err: Into<RpcError> + 'static,
    {
        self.connect = Some(Arc::new(move |ctx, event: ConnectEvent| {
            // Decoded before the hook's future exists, as RPC params are.
            let work = D::decode(event.data).map(|data| {
                let event = ConnectEvent {
                    name: event.name,
                    version: event.version,
                    channels: event.channels,
                    data,
                };
                f.call_hook(ctx, event)
            });
            Box::pin(async move {
                let reply = work?.await.map_err(Into::into)?;
                reply.into_json().map(|r| Reply::Connect(Box::new(r)))
            })
        }));
        self.connect_types = ConnectTypes {
            data: D::schema(),
            reply_data: |g| g.subschema_for::<R>(),
            info: |g| g.subschema_for::<I>(),
        };
        self
    }

    /// Extends (or ends) expiring connections.
    pub fn refresh<Err: Into<RpcError> + 'static>(
        mut self,
        f: impl HookFn<S, RefreshEvent, RefreshReply, Err>,
    ) -> Self {
        self.refresh = Some(erase(f, Reply::Refresh));
        self
    }

    /// Allows or refuses subscriptions to channels matching `pattern`.
    pub fn subscribe<Err: Into<RpcError> + 'static>(
        mut self,
        pattern: &str,
        f: impl HookFn<S, SubscribeEvent, SubscribeReply, Err>,
    ) -> Self {
        self.subscribe
            .push((Pattern(pattern.to_owned()), erase(f, Reply::Subscribe)));
        self
    }

    /// Validates or rewrites client publications to channels matching `pattern`.
    pub fn publish<Err: Into<RpcError> + 'static>(
        mut self,
        pattern: &str,
        f: impl HookFn<S, PublishEvent, PublishReply, Err>,
    ) -> Self {
        self.publish
            .push((Pattern(pattern.to_owned()), erase(f, Reply::Publish)));
        self
    }

    /// Extends (or ends) expiring subscriptions.
    pub fn sub_refresh<Err: Into<RpcError> + 'static>(
        mut self,
        f: impl HookFn<S, SubRefreshEvent, SubRefreshReply, Err>,
    ) -> Self {
        self.sub_refresh = Some(erase(f, Reply::SubRefresh));
        self
    }

    /// The channel patterns of the subscribe hooks, in registration order.
    pub fn subscribe_patterns(&self) -> Vec<String> {
        self.subscribe.iter().map(|(p, _)| p.0.clone()).collect()
    }

    /// The channel patterns of the publish hooks, in registration order.
    pub fn publish_patterns(&self) -> Vec<String> {
        self.publish.iter().map(|(p, _)| p.0.clone()).collect()
    }

    /// The names of the proxy events that have hooks, for `centrifugo-config`.
    pub fn enabled(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.connect.is_some() {
            out.push("connect");
        }
        if self.refresh.is_some() {
            out.push("refresh");
        }
        if !self.subscribe.is_empty() {
            out.push("subscribe");
        }
        if !self.publish.is_empty() {
            out.push("publish");
        }
        if self.sub_refresh.is_some() {
            out.push("sub_refresh");
        }
        out
    }
}

/// The publish hook of a typed channel that has none of its own: its publications were checked
/// against their type already, so it allows them unchanged.
pub(crate) fn allow_publication<S>() -> Hook<S, PublishEvent> {
    Arc::new(|_, _| {
        Box::pin(std::future::ready(Ok(Reply::Publish(
            PublishReply::default(),
        ))))
    })
}

/// The index of the first `(pattern, hook)` pair whose pattern matches `channel`.
pub(crate) fn route<T>(table: &[(Pattern, T)], channel: &str) -> Option<usize> {
    table.iter().position(|(p, _)| p.matches(channel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exactly_by_prefix_or_all() {
        let table = vec![
            (Pattern("news".into()), 1),
            (Pattern("chat:*".into()), 2),
            (Pattern("*".into()), 3),
        ];
        assert_eq!(route(&table, "news"), Some(0));
        assert_eq!(route(&table, "news2"), Some(2));
        assert_eq!(route(&table, "chat:room"), Some(1));
        assert_eq!(route(&table[..2], "other"), None);
    }
}
