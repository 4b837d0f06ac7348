//! The end of the pipeline: runs the handler or hook a routed [`Call`] names, behind the
//! method's own layers when it has any.

use std::{sync::Arc, task::Poll};

use rustc_hash::FxHashMap;

use futures_util::{
    future::{ready, BoxFuture, Either, Map, Ready},
    FutureExt,
};
use tower::{Service, ServiceExt};

use crate::{
    call::{Call, CallResult, Event, Target},
    error::RpcError,
    handler::ErasedHandler,
    hooks::{Hook, Hooks},
    middleware::{flatten, BoxCallService, BoxError},
    router::Method,
};

/// Everything calls are routed to: methods by index and name, and the hooks.
pub(crate) struct Table<S> {
    pub(crate) methods: Vec<Method<S>>,
    pub(crate) by_name: FxHashMap<Box<str>, usize>,
    pub(crate) hooks: Hooks<S>,
    /// Subscription streams, by registration index.
    pub(crate) streams: Vec<crate::router::StreamRoute<S>>,
    /// Typed channels (their client publications are checked before the publish hooks).
    pub(crate) channels: Vec<crate::channel::ChannelInfo>,
}

/// What the end of the pipeline returns: an answer known at once, or the handler's work.
pub(crate) type EndpointFuture = Either<Ready<CallResult>, BoxFuture<'static, CallResult>>;

/// Runs the handler or hook `call` was routed to.
pub(crate) fn run<S: Send + Sync + 'static>(table: &Table<S>, call: Call<S>) -> EndpointFuture {
    let target = call.target;
    let (ctx, event, _) = call.into_parts();
    let hooks = &table.hooks;
    match (target, event) {
        (Target::Method(i), Event::Rpc(payload)) => match &table.methods[i].service {
            Some(layered) => {
                let call = Call::new(ctx, Event::Rpc(payload), target);
                Either::Right(Box::pin(layered.clone().oneshot(call).map(flatten)))
            }
            None => handler(&table.methods[i].call, ctx, &payload),
        },
        (Target::Single, Event::Connect(e)) => hook(hooks.connect.as_ref(), ctx, e),
        (Target::Single, Event::Refresh(e)) => hook(hooks.refresh.as_ref(), ctx, e),
        (Target::Single, Event::SubRefresh(e)) => hook(hooks.sub_refresh.as_ref(), ctx, e),
        (Target::Pattern(i), Event::Subscribe(e)) => {
            hook(hooks.subscribe.get(i).map(|(_, h)| h), ctx, e)
        }
        (Target::Pattern(i), Event::Publish(e)) => {
            hook(hooks.publish.get(i).map(|(_, h)| h), ctx, e)
        }
        (target, event) => mismatch(target, &event),
    }
}

/// Runs an RPC handler: params are decoded before its future exists, so bad params cost no task.
fn handler<S>(h: &ErasedHandler<S>, ctx: crate::Context<S>, payload: &[u8]) -> EndpointFuture {
    match h(ctx, payload) {
        Ok(work) => Either::Right(work),
        Err(e) => Either::Left(ready(Err(e))),
    }
}

fn hook<S, E>(hook: Option<&Hook<S, E>>, ctx: crate::Context<S>, event: E) -> EndpointFuture {
    match hook {
        Some(hook) => Either::Right(hook(ctx, event)),
        None => Either::Left(ready(Err(RpcError::internal(
            "a call was routed to a hook that is not registered",
        )))),
    }
}

fn mismatch(target: Target, event: &Event) -> EndpointFuture {
    Either::Left(ready(Err(RpcError::internal(format_args!(
        "a {event:?} call reached the {target:?} endpoint"
    )))))
}

/// The router's endpoint as a tower service, for the router-level layers to wrap.
pub(crate) struct Dispatch<S>(pub(crate) Arc<Table<S>>);

impl<S> Clone for Dispatch<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

type Infallibly = Map<EndpointFuture, fn(CallResult) -> Result<CallResult, BoxError>>;

impl<S: Send + Sync + 'static> Service<Call<S>> for Dispatch<S> {
    type Response = CallResult;
    type Error = BoxError;
    type Future = Infallibly;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call<S>) -> Self::Future {
        run(&self.0, call).map(Ok)
    }
}

/// One method's handler as a tower service, for the method's own layers to wrap.
pub(crate) struct HandlerService<S>(pub(crate) ErasedHandler<S>);

impl<S> Clone for HandlerService<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: Send + Sync + 'static> Service<Call<S>> for HandlerService<S> {
    type Response = CallResult;
    type Error = BoxError;
    type Future = Infallibly;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call<S>) -> Self::Future {
        let (ctx, event, target) = call.into_parts();
        match event {
            Event::Rpc(payload) => handler(&self.0, ctx, &payload),
            event => mismatch(target, &event),
        }
        .map(Ok)
    }
}

/// `service` wrapped in `layers`, the last one outermost.
pub(crate) fn stack<S, T>(
    service: T,
    layers: Vec<crate::middleware::CallLayer<S>>,
) -> BoxCallService<S>
where
    S: Send + Sync + 'static,
    T: Service<Call<S>, Response = CallResult, Error = BoxError> + Clone + Send + Sync + 'static,
    T::Future: Send + 'static,
{
    layers
        .into_iter()
        .fold(BoxCallService::new(service), |inner, layer| layer(inner))
}
