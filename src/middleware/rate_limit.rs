//! Per-user (and per-method) rate limiting, the command rate limits that Centrifugo OSS lacks.
//!
//! Token buckets from [`governor`], keyed by the user Centrifugo authenticated, by method, or by
//! both. A call over the limit never reaches its handler: the client receives the temporary
//! [`RATE_LIMITED`](crate::codes::RATE_LIMITED) error (429) whose message ends in
//! `retry after <n> ms`, and the call is counted with the outcome `rate_limited`.
//!
//! ```
//! use std::num::NonZeroU32;
//! use centrpc::{middleware::{Quota, RateLimitLayer}, Router};
//!
//! // 20 calls per second per user, in bursts of up to 20.
//! let quota = Quota::per_second(NonZeroU32::new(20).unwrap());
//! let router = Router::new(()).layer(RateLimitLayer::per_user(quota));
//! # let _ = router;
//! ```
//!
//! It limits RPC calls only; hook calls (connect, subscribe, publish…) pass through, so a
//! router-wide limit does not put every connecting client, who has no user yet, into one bucket.
//! Buckets are kept per key; anonymous connections all share the user `""`. With
//! [`KeyBy::Method`] or [`KeyBy::UserAndMethod`], only registered method names become keys
//! (unknown methods are refused before any layer), so clients cannot grow the table at will; and
//! every 4096 checks, buckets that are full again are dropped (`retain_recent`), so a user who
//! came once does not keep memory forever.

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    task::Poll,
};

use futures_util::future::{ready, Either, Ready};
use governor::{clock::Clock, DefaultKeyedRateLimiter, RateLimiter};
use tower::{Layer, Service};

pub use governor::Quota;

use super::{BoxCallService, BoxError};
use crate::{
    call::{Call, CallResult, Event},
    error::RpcError,
};

/// How many checks pass between two prunings of buckets that are full again.
const PRUNE_EVERY: u32 = 4096;

/// What a bucket is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyBy {
    /// One bucket per authenticated user, across methods.
    User,
    /// One bucket per method (or hook), across users.
    Method,
    /// One bucket per user and method.
    UserAndMethod,
}

/// Limits calls with token buckets, keyed as [`KeyBy`] says; over the limit the client gets the
/// temporary [`RATE_LIMITED`](crate::codes::RATE_LIMITED) error with a retry hint.
#[derive(Clone)]
pub struct RateLimitLayer {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    key: KeyBy,
    /// Checks since the last pruning of idle buckets.
    checks: Arc<AtomicU32>,
}

impl std::fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("key", &self.key)
            .field("buckets", &self.limiter.len())
            .finish()
    }
}

impl RateLimitLayer {
    /// `quota` per key, with buckets kept per `key`.
    pub fn new(quota: Quota, key: KeyBy) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            key,
            checks: Arc::new(AtomicU32::new(0)),
        }
    }

    /// `quota` for each authenticated user.
    pub fn per_user(quota: Quota) -> Self {
        Self::new(quota, KeyBy::User)
    }

    /// `quota` for each method, shared by all users.
    pub fn per_method(quota: Quota) -> Self {
        Self::new(quota, KeyBy::Method)
    }

    /// `quota` for each user on each method.
    pub fn per_user_and_method(quota: Quota) -> Self {
        Self::new(quota, KeyBy::UserAndMethod)
    }
}

impl<S> Layer<BoxCallService<S>> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: BoxCallService<S>) -> RateLimit<S> {
        RateLimit {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RateLimitLayer`] builds.
pub struct RateLimit<S> {
    inner: BoxCallService<S>,
    layer: RateLimitLayer,
}

impl<S> Clone for RateLimit<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S> std::fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl<S> Service<Call<S>> for RateLimit<S> {
    type Response = CallResult;
    type Error = BoxError;
    type Future = Either<
        Ready<Result<CallResult, BoxError>>,
        <BoxCallService<S> as Service<Call<S>>>::Future,
    >;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call<S>) -> Self::Future {
        if !matches!(call.event(), Event::Rpc(_)) {
            return Either::Right(self.inner.call(call));
        }
        if self.layer.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.layer.limiter.retain_recent();
        }
        let key = match self.layer.key {
            KeyBy::User => call.user().to_owned(),
            KeyBy::Method => call.method().to_owned(),
            KeyBy::UserAndMethod => format!("{}\u{0}{}", call.user(), call.method()),
        };
        match self.layer.limiter.check_key(&key) {
            Ok(()) => Either::Right(self.inner.call(call)),
            Err(not_until) => {
                let now = governor::clock::DefaultClock::default().now();
                let wait = not_until.wait_time_from(now);
                Either::Left(ready(Ok(Err(RpcError::rate_limited(wait)))))
            }
        }
    }
}
