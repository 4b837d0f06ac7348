//! Middleware: behaviour around calls, as [tower] layers.
//!
//! Every call, RPC or hook, passes through a tower [`Service`] that takes a routed
//! [`Call`] and answers a [`CallResult`]. [`Router::layer`](crate::Router::layer) wraps every
//! call; [`MethodDef::layer`](crate::MethodDef::layer) wraps one method. Any tower layer whose
//! service is `Clone` fits, including tower's own timeout, load-shed and concurrency-limit
//! layers, and errors a layer raises travel in-band like handler errors: tower's timeout becomes
//! [`TIMED_OUT`](crate::codes::TIMED_OUT), load shedding [`OVERLOADED`](crate::codes::OVERLOADED),
//! and anything else a sanitised [`INTERNAL`](crate::codes::INTERNAL) error. A layer that answers
//! by itself returns `Ok(Err(rpc_error))`: application errors are values in the pipeline, as on
//! the wire, so an [`RpcError`] reaches the client unchanged.
//!
//! The simplest middleware is an async function, with [`from_fn`]:
//!
//! ```
//! use centrpc::{middleware, Router, RpcError};
//!
//! let router = Router::new(()).layer(middleware::from_fn(|call, next| async move {
//!     if call.user().is_empty() && call.kind() == "rpc" {
//!         return Err(RpcError::new(1401, "log in first"));
//!     }
//!     next.run(call).await
//! }));
//! # let _ = router;
//! ```
//!
//! A router without layers calls its handlers directly: layers cost nothing until used.

use std::{future::Future, marker::PhantomData, task::Poll};

use futures_util::{future::Map, FutureExt};
use tower::{util::BoxCloneSyncService, Layer, Service, ServiceExt};

use crate::{
    call::{Call, CallResult},
    error::RpcError,
};

#[cfg(feature = "rate-limit")]
mod rate_limit;
#[cfg(feature = "rate-limit")]
pub use rate_limit::{KeyBy, Quota, RateLimit, RateLimitLayer};

/// The error type of layered services: whatever a layer raises, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The call service every layer wraps: a [`Call`] in, a [`CallResult`] out.
pub type BoxCallService<S> = BoxCloneSyncService<Call<S>, CallResult, BoxError>;

/// A layer ready to wrap a call service.
pub(crate) type CallLayer<S> =
    Box<dyn FnOnce(BoxCallService<S>) -> BoxCallService<S> + Send + Sync>;

/// A tower [`Layer`] that can wrap calls: one whose service takes a [`Call`], answers a
/// [`CallResult`], and raises errors that convert into [`BoxError`]. Implemented for every such
/// layer; you never implement it yourself.
pub trait IntoCallLayer<S> {
    /// Erases the layer.
    fn into_call_layer(self) -> CallLayer<S>;
}

impl<S, L> IntoCallLayer<S> for L
where
    S: Send + Sync + 'static,
    L: Layer<BoxCallService<S>> + Send + Sync + 'static,
    L::Service: Service<Call<S>, Response = CallResult> + Clone + Send + Sync + 'static,
    <L::Service as Service<Call<S>>>::Error: Into<BoxError>,
    <L::Service as Service<Call<S>>>::Future: Send + 'static,
{
    fn into_call_layer(self) -> CallLayer<S> {
        Box::new(move |inner| BoxCallService::new(self.layer(inner).map_err(Into::into)))
    }
}

/// Turns what a layer raised into the in-band error the client receives.
pub(crate) fn layer_error(error: BoxError) -> RpcError {
    if error.is::<tower::timeout::error::Elapsed>() {
        return RpcError::timed_out().with_detail("a tower timeout layer fired");
    }
    if error.is::<tower::load_shed::error::Overloaded>() {
        return RpcError::overloaded().with_detail("a tower load-shed layer refused the call");
    }
    RpcError::internal(format_args!("a middleware layer failed: {error}"))
}

/// A layered service's answer with the layer's own failure folded in.
pub(crate) fn flatten(answer: Result<CallResult, BoxError>) -> CallResult {
    answer.unwrap_or_else(|e| Err(layer_error(e)))
}

/// Middleware from an async function `|call, next| async move { … next.run(call).await }`.
///
/// The function may answer by itself (an `Err(RpcError)` reaches the client in-band), change
/// nothing and pass the call on, or look at the result on the way out.
pub fn from_fn<S, F, Fut>(f: F) -> FromFnLayer<F, S>
where
    F: Fn(Call<S>, Next<S>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = CallResult> + Send + 'static,
{
    FromFnLayer {
        f,
        state: PhantomData,
    }
}

/// The layer [`from_fn`] builds.
pub struct FromFnLayer<F, S> {
    f: F,
    state: PhantomData<fn() -> S>,
}

impl<F: Clone, S> Clone for FromFnLayer<F, S> {
    fn clone(&self) -> Self {
        Self {
            f: self.f.clone(),
            state: PhantomData,
        }
    }
}

impl<F, S> std::fmt::Debug for FromFnLayer<F, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromFnLayer").finish_non_exhaustive()
    }
}

impl<F: Clone, S> Layer<BoxCallService<S>> for FromFnLayer<F, S> {
    type Service = FromFn<F, S>;

    fn layer(&self, inner: BoxCallService<S>) -> FromFn<F, S> {
        FromFn {
            f: self.f.clone(),
            inner,
        }
    }
}

/// The service [`from_fn`] builds around the rest of the pipeline.
pub struct FromFn<F, S> {
    f: F,
    inner: BoxCallService<S>,
}

impl<F: Clone, S> Clone for FromFn<F, S> {
    fn clone(&self) -> Self {
        Self {
            f: self.f.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<F, S> std::fmt::Debug for FromFn<F, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromFn").finish_non_exhaustive()
    }
}

impl<F, Fut, S> Service<Call<S>> for FromFn<F, S>
where
    F: Fn(Call<S>, Next<S>) -> Fut,
    Fut: Future<Output = CallResult>,
{
    type Response = CallResult;
    type Error = BoxError;
    type Future = Map<Fut, fn(CallResult) -> Result<CallResult, BoxError>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call<S>) -> Self::Future {
        let next = Next {
            inner: self.inner.clone(),
        };
        (self.f)(call, next).map(Ok)
    }
}

/// The rest of the pipeline, handed to a [`from_fn`] middleware.
pub struct Next<S> {
    inner: BoxCallService<S>,
}

impl<S> std::fmt::Debug for Next<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl<S> Next<S> {
    /// Passes the call on, to the next layer or the handler.
    pub async fn run(self, call: Call<S>) -> CallResult {
        flatten(self.inner.oneshot(call).await)
    }
}
