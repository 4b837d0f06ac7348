//! Typed hooks for Centrifugo's other proxy events — connect, refresh, subscribe, publish and
//! sub_refresh — served next to RPC with the same context and error model.
//!
//! Each hook is an `async fn(Context<S>, Event) -> Result<Reply, E>`. Subscribe and publish hooks
//! are registered per channel pattern (`"chat:*"`, `"news"`, `"*"`); the first pattern that matches
//! the channel, in registration order, decides, and a channel no pattern matches is refused with
//! [`CHANNEL_NOT_ALLOWED`](crate::codes::CHANNEL_NOT_ALLOWED).

use std::{future::Future, sync::Arc};

use futures_util::future::BoxFuture;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    call::{CallResult, Reply},
    context::Context,
    error::RpcError,
    handler::decode,
};

/// A client connecting without a JWT (Centrifugo calls the connect proxy only then).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectEvent {
    /// The SDK's name (`js`, `python`, `go`…).
    pub name: String,
    /// The SDK's version.
    pub version: String,
    /// Channels the client asks to be subscribed to on connect.
    pub channels: Vec<String>,
    /// The raw connect data the client sent (JSON for JSON clients).
    pub data: Vec<u8>,
}

/// Whom Centrifugo should consider connected, and with what.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectReply {
    /// The user ID; required (an empty string means an anonymous connection).
    pub user: String,
    /// When the connection expires (unix seconds); Centrifugo then calls the refresh hook.
    pub expire_at: Option<i64>,
    /// Public connection info (shown in presence and join/leave).
    pub info: Option<serde_json::Value>,
    /// Data returned to the client in its connect reply.
    pub data: Option<serde_json::Value>,
    /// Server-side subscriptions.
    pub channels: Vec<String>,
    /// Server-only meta, forwarded in later proxy calls (`include_connection_meta`).
    pub meta: Option<serde_json::Value>,
}

impl ConnectReply {
    /// Accepts the connection as `user`.
    pub fn user(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            ..Self::default()
        }
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

/// The hook table; build it with [`Router::hooks`](crate::Router::hooks).
pub struct Hooks<S> {
    pub(crate) connect: Option<Hook<S, ConnectEvent>>,
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
            refresh: None,
            sub_refresh: None,
            subscribe: Vec::new(),
            publish: Vec::new(),
        }
    }
}

impl<S> Hooks<S> {
    /// Authenticates connections that carry no JWT.
    pub fn connect<Err: Into<RpcError> + 'static>(
        mut self,
        f: impl HookFn<S, ConnectEvent, ConnectReply, Err>,
    ) -> Self {
        self.connect = Some(erase(f, Reply::Connect));
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
