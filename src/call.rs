//! What flows through middleware: a routed [`Call`] in, a [`CallResult`] out.
//!
//! By the time a call reaches middleware, centrpc has decoded the proxy request, checked its
//! size, and routed it to a registered method or hook; unknown methods and refused channels never
//! get here. The handler's own params are decoded at the end of the pipeline, so a layer sees the
//! raw payload and the handler sees the typed value.

use crate::{
    context::Context,
    error::RpcError,
    hooks::{
        ConnectEvent, ConnectReply, PublishEvent, PublishReply, RefreshEvent, RefreshReply,
        SubRefreshEvent, SubRefreshReply, SubscribeEvent, SubscribeReply,
    },
};

/// One routed call on its way to a handler or hook: its [`Context`] and its [`Event`].
pub struct Call<S = ()> {
    ctx: Context<S>,
    event: Event,
    pub(crate) target: Target,
}

/// Where the router sent a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A registered RPC method, by registration index.
    Method(usize),
    /// The connect, refresh or sub_refresh hook.
    Single,
    /// A subscribe or publish hook, by its index in the pattern table.
    Pattern(usize),
}

/// What the client sent: an RPC payload or a proxy event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// An RPC call's JSON payload (already base64-decoded in binary mode).
    Rpc(Vec<u8>),
    /// A connect without a JWT.
    Connect(ConnectEvent),
    /// A connection to refresh.
    Refresh(RefreshEvent),
    /// A subscription request.
    Subscribe(SubscribeEvent),
    /// A client publication.
    Publish(PublishEvent),
    /// A subscription to refresh.
    SubRefresh(SubRefreshEvent),
}

/// What a handler or hook answered.
///
/// The connect hook's answer is boxed, so that a [`CallResult`] stays small: every layer moves
/// it, and the connect answer is three times the size of any other (an RPC result then moves
/// 96 bytes instead of 280).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reply {
    /// An RPC result, encoded as JSON.
    Rpc(Vec<u8>),
    /// The connect hook's answer.
    Connect(Box<ConnectReply>),
    /// The refresh hook's answer.
    Refresh(RefreshReply),
    /// The subscribe hook's answer.
    Subscribe(SubscribeReply),
    /// The publish hook's answer.
    Publish(PublishReply),
    /// The sub_refresh hook's answer.
    SubRefresh(SubRefreshReply),
}

/// The outcome of a call: a [`Reply`], or an [`RpcError`] the client receives in-band.
pub type CallResult = Result<Reply, RpcError>;

impl<S> Call<S> {
    pub(crate) fn new(ctx: Context<S>, event: Event, target: Target) -> Self {
        Self { ctx, event, target }
    }

    /// The call's context: state, user, client, headers, deadline, cancellation.
    pub fn context(&self) -> &Context<S> {
        &self.ctx
    }

    /// The RPC method name, or the hook's name (`connect`, `subscribe`…).
    pub fn method(&self) -> &str {
        self.ctx.method()
    }

    /// The user Centrifugo authenticated ("" when anonymous or connecting).
    pub fn user(&self) -> &str {
        self.ctx.user()
    }

    /// `rpc`, or the hook's name.
    pub fn kind(&self) -> &'static str {
        match self.event {
            Event::Rpc(_) => "rpc",
            Event::Connect(_) => "connect",
            Event::Refresh(_) => "refresh",
            Event::Subscribe(_) => "subscribe",
            Event::Publish(_) => "publish",
            Event::SubRefresh(_) => "sub_refresh",
        }
    }

    /// What the client sent.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// Takes the call apart.
    pub(crate) fn into_parts(self) -> (Context<S>, Event, Target) {
        (self.ctx, self.event, self.target)
    }
}

impl<S> std::fmt::Debug for Call<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("kind", &self.kind())
            .field("method", &self.method())
            .field("user", &self.user())
            .finish_non_exhaustive()
    }
}
