//! The `CentrifugoProxy` gRPC service: decodes each proxy request, routes it to a handler or hook,
//! runs it through the middleware under the server's limits (payload size, concurrency, deadline,
//! panic isolation) and encodes the outcome into the reply — application failures always inside
//! the reply, never as a gRPC status.
//!
//! Data flows one way: request → payload → route → guarded run (middleware → handler) →
//! encode → response.

use std::{
    borrow::Cow,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use futures_util::{
    future::{BoxFuture, Either},
    stream::{self, BoxStream},
    FutureExt, StreamExt,
};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::{
    codegen::http::HeaderName, metadata::MetadataMap, Request, Response, Status, Streaming,
};
use tower::ServiceExt;

use crate::{
    call::{Call, CallResult, Event, Reply, Target},
    context::{CallInfo, CallState, Context},
    dispatch::{self, Dispatch, Table},
    error::{RpcError, Wire},
    hooks::{self, ConnectEvent, PublishEvent, RefreshEvent, SubRefreshEvent, SubscribeEvent},
    metrics::{Direction, InFlight, Metrics, Outcome, Series, StreamSeries, UNKNOWN_METHOD},
    middleware::{flatten, BoxCallService},
    proto::{self, centrifugo_proxy_server::CentrifugoProxy},
    router::Router,
    stream::{Items, Publications},
};

/// Limits applied to every call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted payload (decoded `data`), in bytes.
    pub max_payload: usize,
    /// Longest a handler may run; a shorter `grpc-timeout` from Centrifugo wins.
    pub call_timeout: Duration,
    /// Most calls served at once across all connections; more are shed as overloaded.
    pub max_concurrency: usize,
    /// Most subscription streams open at once; more are refused as overloaded (temporary).
    pub max_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 1024 * 1024,
            call_timeout: Duration::from_secs(10),
            max_concurrency: 1024,
            max_streams: 10_000,
        }
    }
}

impl Limits {
    /// Sets the largest accepted payload, in bytes.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Sets the longest a handler may run.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Sets the most calls served at once.
    pub fn max_concurrency(mut self, calls: usize) -> Self {
        self.max_concurrency = calls;
        self
    }

    /// Sets the most subscription streams open at once.
    pub fn max_streams(mut self, streams: usize) -> Self {
        self.max_streams = streams;
        self
    }
}

/// The tonic service implementing Centrifugo's proxy protocol over a [`Router`].
///
/// [`server`](crate::server) serves it with health, reflection, auth and drain; to mount it in
/// an existing tonic server, see [`server::Parts`](crate::server::Parts).
pub struct ProxyService<S> {
    state: Arc<S>,
    table: Arc<Table<S>>,
    /// The router's layers around the endpoint; `None` calls handlers directly.
    stack: Option<BoxCallService<S>>,
    limits: Limits,
    /// Calls admitted and not finished, against `limits.max_concurrency`.
    running: Arc<AtomicUsize>,
    metrics: Metrics,
    /// Metric series: one per method (by registration index), then unknown methods, then hooks.
    series: Arc<[Series]>,
    /// Subscription streams open, against `limits.max_streams`.
    streams_open: Arc<AtomicUsize>,
    /// Metric series of the streams (by registration index), then of refused channels.
    stream_series: Arc<[StreamSeries]>,
    /// Cancelled when the server starts shutting down: open streams end, new ones are refused.
    closing: CancellationToken,
}

impl<S> Clone for ProxyService<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            table: self.table.clone(),
            stack: self.stack.clone(),
            limits: self.limits.clone(),
            running: self.running.clone(),
            metrics: self.metrics.clone(),
            series: self.series.clone(),
            streams_open: self.streams_open.clone(),
            stream_series: self.stream_series.clone(),
            closing: self.closing.clone(),
        }
    }
}

impl<S> std::fmt::Debug for ProxyService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyService")
            .field("methods", &self.table.methods.len())
            .field("layered", &self.stack.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A request payload: the bytes to decode, and whether the reply must go back base64-encoded.
struct Payload {
    bytes: Vec<u8>,
    binary: bool,
}

impl Payload {
    /// Picks `data` or, in binary encoding mode, base64-decodes `b64data`; refuses oversize input.
    fn decode(
        data: Vec<u8>,
        b64data: &str,
        encoding: &str,
        limit: usize,
    ) -> Result<Self, RpcError> {
        let binary = encoding == "binary" || (data.is_empty() && !b64data.is_empty());
        if !binary {
            if data.len() > limit {
                return Err(RpcError::payload_too_large(data.len(), limit));
            }
            return Ok(Self {
                bytes: data,
                binary,
            });
        }
        let decoded_len = b64data.len() / 4 * 3;
        if decoded_len > limit + 3 {
            return Err(RpcError::payload_too_large(decoded_len, limit));
        }
        let bytes = B64
            .decode(b64data)
            .map_err(|e| RpcError::malformed_json(format_args!("b64data is not base64: {e}")))?;
        if bytes.len() > limit {
            return Err(RpcError::payload_too_large(bytes.len(), limit));
        }
        Ok(Self { bytes, binary })
    }
}

/// Reads Centrifugo's deadline from the `grpc-timeout` header (`<digits><H|M|S|m|u|n>`, at most
/// 8 digits as the gRPC spec says; anything else is ignored like a missing header).
fn grpc_timeout(metadata: &MetadataMap) -> Option<Duration> {
    // Parsed once at compile time: a `&str` key is parsed and validated on every lookup.
    const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
    let raw = metadata.as_ref().get(GRPC_TIMEOUT)?.to_str().ok()?;
    let (digits, unit) = raw.split_at(raw.len().checked_sub(1)?);
    if digits.len() > 8 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// What the proxy trait's methods return: tonic's trait boxes its futures (`async_trait`), so
/// they are written out, to make the request into a call before the future is made.
type Answer<'a, R> = BoxFuture<'a, Result<Response<R>, Status>>;

/// How much longer than the caller's own deadline (`grpc-timeout`) centrpc lets a call run before
/// answering it with its in-band timeout itself: the caller cancels at its deadline first.
const DEADLINE_GRACE: Duration = Duration::from_millis(500);

/// A proxy request sent on behalf of an established connection: it names the user and meta.
trait ConnectionRequest {
    /// Moves the connection's fields out of the request (no copies) into the call's facts.
    fn take_call_info(
        &mut self,
        method: Cow<'static, str>,
        metadata: MetadataMap,
        started: Instant,
    ) -> CallInfo;
}

macro_rules! connection_request {
    ($($request:ty),* $(,)?) => {$(
        impl ConnectionRequest for $request {
            fn take_call_info(&mut self, method: Cow<'static, str>, metadata: MetadataMap, started: Instant) -> CallInfo {
                CallInfo {
                    method,
                    user: std::mem::take(&mut self.user),
                    client: std::mem::take(&mut self.client),
                    transport: std::mem::take(&mut self.transport),
                    protocol: std::mem::take(&mut self.protocol),
                    encoding: std::mem::take(&mut self.encoding),
                    meta: std::mem::take(&mut self.meta),
                    deadline: grpc_timeout(&metadata).and_then(|d| started.checked_add(d)),
                    metadata,
                    channel: String::new(),
                }
            }
        }
    )*};
}

connection_request!(
    proto::RpcRequest,
    proto::RefreshRequest,
    proto::SubscribeRequest,
    proto::PublishRequest,
    proto::SubRefreshRequest,
);

impl ConnectionRequest for proto::ConnectRequest {
    fn take_call_info(
        &mut self,
        method: Cow<'static, str>,
        metadata: MetadataMap,
        started: Instant,
    ) -> CallInfo {
        // Nobody is connected yet: no user, no meta.
        CallInfo {
            method,
            client: std::mem::take(&mut self.client),
            transport: std::mem::take(&mut self.transport),
            protocol: std::mem::take(&mut self.protocol),
            encoding: std::mem::take(&mut self.encoding),
            deadline: grpc_timeout(&metadata).and_then(|d| started.checked_add(d)),
            metadata,
            ..CallInfo::default()
        }
    }
}

/// Logs and counts one call exactly once: with its outcome when it finishes, or as
/// `cancelled` when the caller (Centrifugo) gives up and tonic drops the call. Successful calls
/// log at DEBUG (an access log: `CENTRPC_LOG=info,centrpc::call=debug`), failures at INFO and
/// internal errors at ERROR.
struct CallLog<'a> {
    metrics: &'a Metrics,
    series: &'a Series,
    call: Arc<CallState>,
    started: Instant,
    finished: bool,
}

impl CallLog<'_> {
    fn finish<T>(mut self, outcome: &Result<T, RpcError>) {
        self.finished = true;
        let elapsed = self.started.elapsed();
        let label = match outcome {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::of(e),
        };
        self.series.record(self.metrics, label, elapsed);
        log_outcome(
            self.series,
            &self.call.info,
            label,
            outcome.as_ref().err(),
            elapsed,
        );
    }
}

/// Logs how a call or stream ended: successes at DEBUG, failures the caller caused at DEBUG,
/// other failures at INFO and internal errors at ERROR.
fn log_outcome(
    series: &Series,
    info: &CallInfo,
    label: Outcome,
    error: Option<&RpcError>,
    elapsed: Duration,
) {
    let (kind, method) = (series.kind(), series.method());
    let (user, client) = (info.user.as_str(), info.client.as_str());
    let duration_us = elapsed.as_micros() as u64;
    let outcome = label.label();
    match error {
        None => tracing::debug!(
            target: "centrpc::call", kind, method, user, client, outcome, duration_us
        ),
        Some(e) if label == Outcome::Internal => tracing::error!(
            target: "centrpc::call", kind, method, user, client, outcome,
            code = e.code(), duration_us, detail = e.detail().unwrap_or(""), "call failed"
        ),
        Some(e) if label.is_the_callers() => tracing::debug!(
            target: "centrpc::call", kind, method, user, client, outcome,
            code = e.code(), reason = e.message(), duration_us
        ),
        Some(e) => tracing::info!(
            target: "centrpc::call", kind, method, user, client, outcome,
            code = e.code(), reason = e.message(), detail = e.detail().unwrap_or(""), duration_us
        ),
    }
}

impl Drop for CallLog<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let elapsed = self.started.elapsed();
            self.series
                .record(self.metrics, Outcome::Cancelled, elapsed);
            tracing::info!(target: "centrpc::call", kind = self.series.kind(), method = self.series.method(),
                user = self.call.info.user, client = self.call.info.client, outcome = "cancelled",
                duration_us = elapsed.as_micros() as u64, "the caller gave up");
        }
    }
}

/// The proxy events with hooks, in the order of their metric series after the RPC methods.
const HOOK_KINDS: [&str; 5] = ["connect", "refresh", "subscribe", "publish", "sub_refresh"];

/// How a hook call was routed.
enum HookRoute {
    /// No hook of this kind is registered at all.
    Missing,
    /// Hooks exist, but none for this channel.
    Denied(RpcError),
    /// The call goes to this hook.
    Found(Target),
}

impl HookRoute {
    fn single<T>(hook: Option<&T>) -> Self {
        hook.map_or(Self::Missing, |_| Self::Found(Target::Single))
    }

    fn by_channel<T>(table: &[(hooks::Pattern, T)], action: &str, channel: &str) -> Self {
        if table.is_empty() {
            return Self::Missing;
        }
        match hooks::route(table, channel) {
            Some(i) => Self::Found(Target::Pattern(i)),
            None => Self::Denied(RpcError::channel_not_allowed(action, channel)),
        }
    }
}

impl<S: Send + Sync + 'static> ProxyService<S> {
    /// Serves `router` under `limits`.
    ///
    /// # Panics
    /// If `limits.max_concurrency` is 0, or the router has registration problems (invalid or
    /// duplicate names), listing them all:
    /// like a route conflict in axum, it is a mistake in the program, found at startup.
    /// [`server::Parts`](crate::server::Parts) checks first and returns them as an error instead.
    pub fn new(router: Router<S>, limits: Limits) -> Self {
        if let Err(problems) = router.check() {
            panic!("{problems}");
        }
        assert!(
            limits.max_concurrency > 0,
            "max concurrency must be at least 1: with 0 every call is shed"
        );
        let parts = router.into_parts();
        let series = parts
            .methods
            .iter()
            .map(|m| Series::new("rpc", &m.info.name))
            .chain([Series::new("rpc", UNKNOWN_METHOD)])
            .chain(HOOK_KINDS.iter().map(|k| Series::new(k, k)))
            .collect();
        let stream_series = parts
            .streams
            .iter()
            .map(|s| StreamSeries::new(&s.info.name))
            .chain([StreamSeries::new(UNKNOWN_METHOD)])
            .collect();
        let table = Arc::new(Table {
            methods: parts.methods,
            by_name: parts.by_name,
            hooks: parts.hooks,
            streams: parts.streams,
            channels: parts.channels,
        });
        let stack = (!parts.layers.is_empty())
            .then(|| dispatch::stack(Dispatch(table.clone()), parts.layers));
        Self {
            state: parts.state,
            table,
            stack,
            running: Arc::new(AtomicUsize::new(0)),
            limits,
            metrics: Metrics::default(),
            series,
            streams_open: Arc::new(AtomicUsize::new(0)),
            stream_series,
            closing: CancellationToken::new(),
        }
    }

    /// Ends every open subscription stream with a temporary error (so its SDK resubscribes,
    /// to this server's successor) and refuses new ones. The server's drain calls it when
    /// shutdown starts; an application serving [`into_server`](Self::into_server) itself calls
    /// it before stopping, since a graceful shutdown waits for open streams to end.
    pub fn close_streams(&self) {
        self.closing.cancel();
    }

    /// The token [`close_streams`](Self::close_streams) cancels, for the server's drain.
    #[cfg(feature = "server")]
    pub(crate) fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// Records into `metrics` (e.g. ones registered in the application's own registry).
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The metrics this service records into.
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The limits it applies.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The tonic server for this service, with message limits that leave room for the payload
    /// limit, so oversize payloads get the in-band PAYLOAD_TOO_LARGE error rather than a
    /// transport error.
    pub fn into_server(self) -> proto::centrifugo_proxy_server::CentrifugoProxyServer<Self> {
        let max_message = self
            .limits
            .max_payload
            .saturating_mul(2)
            .saturating_add(64 * 1024);
        proto::centrifugo_proxy_server::CentrifugoProxyServer::new(self)
            .max_decoding_message_size(max_message)
            .max_encoding_message_size(max_message)
    }

    /// The series of an RPC method (`None`: not registered).
    fn rpc_series(&self, method: Option<usize>) -> &Series {
        let unknown = self.series.len() - HOOK_KINDS.len() - 1;
        &self.series[method.unwrap_or(unknown)]
    }

    /// The series of a hook kind.
    fn hook_series(&self, kind: &str) -> &Series {
        let first = self.series.len() - HOOK_KINDS.len();
        let i = HOOK_KINDS
            .iter()
            .position(|k| *k == kind)
            .expect("a known hook kind");
        &self.series[first + i]
    }

    /// The middleware and the endpoint for one call.
    fn pipeline(&self, call: Call<S>) -> impl Future<Output = CallResult> + Send + 'static {
        match &self.stack {
            Some(stack) => Either::Left(stack.clone().oneshot(call).map(flatten)),
            None => Either::Right(dispatch::run(&self.table, call)),
        }
    }

    /// Runs one routed call: admission (concurrency), deadline, cancellation, panic isolation
    /// around the middleware and the handler.
    async fn guarded(
        &self,
        call: Arc<CallState>,
        started: Instant,
        event: Event,
        target: Target,
    ) -> CallResult {
        let _in_flight = self.metrics.enter();
        let Some(_admitted) = Admitted::enter(&*self.running, self.limits.max_concurrency) else {
            return Err(RpcError::overloaded());
        };
        let limit = match call.info.deadline {
            // At its deadline Centrifugo gives up and cancels the call, which drops this future
            // (and fires the handler's cancellation); the client sees Centrifugo's 100. centrpc's
            // own timer for that deadline waits a grace period longer, so it never races
            // Centrifugo's on a loaded machine: it only bounds a caller that does not cancel.
            // `--call-timeout` below Centrifugo's timeout gives the in-band 504 instead.
            Some(deadline) => self
                .limits
                .call_timeout
                .min(deadline.saturating_duration_since(started) + DEADLINE_GRACE),
            None => self.limits.call_timeout,
        };
        // However this future ends (finished, timed out, or dropped by tonic when Centrifugo
        // cancels the stream), the handler's cancellation fires.
        let _cancel_on_drop = CancelOnDrop(&call);
        let ctx = Context::from_shared(self.state.clone(), call.clone());
        // Building the pipeline decodes the params and runs the layers' `call`s: a panic there
        // is isolated like one in the handler's future.
        let call = Call::new(ctx, event, target);
        let work = std::panic::catch_unwind(AssertUnwindSafe(|| self.pipeline(call)));
        let outcome = match work {
            Err(panic) => Ok(Err(panic)),
            Ok(work) => {
                let mut work = std::pin::pin!(AssertUnwindSafe(work).catch_unwind());
                // Most calls finish on their first poll; only one that waits arms the deadline
                // timer, counted from the call's start so the first poll's work is inside the
                // limit too. The timer is boxed: kept inline, its 112 bytes would be moved with
                // this future on every call, waiting or not.
                match (&mut work).now_or_never() {
                    Some(outcome) => Ok(outcome),
                    None => match started.checked_add(limit) {
                        Some(at) => Box::pin(tokio::time::timeout_at(at.into(), work)).await,
                        None => Ok(work.await),
                    },
                }
            }
        };
        match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => Err(RpcError::internal(format_args!(
                "handler panicked: {}",
                panic_message(&*panic)
            ))),
            Err(_) => Err(RpcError::timed_out().with_detail(format_args!("deadline {limit:?}"))),
        }
    }

    /// Routes a hook call and serves it: an `UNIMPLEMENTED` status when no hook of this kind is
    /// registered at all (Centrifugo's proxy is configured for an event the app does not handle).
    fn hook<'a, R: Send + 'a>(
        &'a self,
        kind: &'static str,
        call: Arc<CallState>,
        started: Instant,
        route: HookRoute,
        event: Result<Event, RpcError>,
        encode: impl FnOnce(CallResult) -> R + Send + 'a,
    ) -> Answer<'a, R> {
        let routed = match route {
            HookRoute::Missing => {
                return Box::pin(std::future::ready(Err(Status::unimplemented(format!(
                    "centrpc: no {kind} hook is registered; disable Centrifugo's {kind} proxy or add one"
                )))))
            }
            HookRoute::Denied(e) => Err(e),
            HookRoute::Found(target) => event.map(|event| (target, event)),
        };
        self.serve(self.hook_series(kind), call, started, routed, encode)
    }

    /// The part of a call that waits: the guarded run, then the record and the reply. Decoding
    /// the request, routing and the call's facts happen before this future is made, so it holds
    /// only what crosses the wait and stays small: every call allocates it (tonic's trait boxes
    /// its futures), and under 1 KiB it comes from the allocator's per-thread cache, where the
    /// whole request kept inside it made it 1.4–1.7 KiB and several hundred instructions dearer.
    fn serve<'a, R: Send + 'a>(
        &'a self,
        series: &'a Series,
        call: Arc<CallState>,
        started: Instant,
        routed: Result<(Target, Event), RpcError>,
        encode: impl FnOnce(CallResult) -> R + Send + 'a,
    ) -> Answer<'a, R> {
        Box::pin(async move {
            let log = CallLog {
                metrics: &self.metrics,
                series,
                call: call.clone(),
                started,
                finished: false,
            };
            let result = match routed {
                Err(e) => Err(e),
                Ok((target, event)) => self.guarded(call, started, event, target).await,
            };
            log.finish(&result);
            Ok(Response::new(encode(result)))
        })
    }
}

impl<S: Send + Sync + 'static> ProxyService<S> {
    /// A bidirectional stream's publications, each checked against the payload limit.
    pub(crate) fn publications(
        &self,
        raw: impl futures_util::Stream<Item = Vec<u8>> + Send + 'static,
    ) -> Publications {
        let limit = self.limits.max_payload;
        raw.map(move |data| match data.len() > limit {
            true => Err(RpcError::payload_too_large(data.len(), limit)),
            false => Ok(data),
        })
        .boxed()
    }

    /// Opens a subscription stream: routes the channel, admits the stream under
    /// `limits.max_streams`, decodes the subscribe data and runs the handler's opening under the
    /// call timeout with panic isolation. A refusal is the stream's only message (Centrifugo
    /// hands its error or disconnect to the client); otherwise the stream is [`Live`].
    pub(crate) async fn open_stream(
        &self,
        mut req: proto::SubscribeRequest,
        metadata: MetadataMap,
        publications: Publications,
    ) -> Result<ReplyStream, Status> {
        let started = Instant::now();
        let streams = &self.table.streams;
        if streams.is_empty() {
            return Err(Status::unimplemented(
                "centrpc: no subscription stream is registered; disable Centrifugo's \
                 subscribe_stream proxy or add one with Router::stream",
            ));
        }
        let route = streams.iter().position(|s| s.pattern.matches(&req.channel));
        let index = route.unwrap_or(streams.len());
        let name = route.map_or_else(|| req.channel.clone(), |i| streams[i].info.name.clone());
        let mut info = req.take_call_info(name.into(), metadata, started);
        info.channel = std::mem::take(&mut req.channel);
        let call = Arc::new(CallState::new(info));
        let opened = async {
            let i = route
                .ok_or_else(|| RpcError::channel_not_allowed("subscribe", &call.info.channel))?;
            if self.closing.is_cancelled() {
                return Err(RpcError::overloaded().with_detail("the server is shutting down"));
            }
            let admitted = Admitted::enter(self.streams_open.clone(), self.limits.max_streams)
                .ok_or_else(RpcError::overloaded)?;
            let payload = Payload::decode(
                std::mem::take(&mut req.data),
                &req.b64data,
                &call.info.encoding,
                self.limits.max_payload,
            )?;
            let (series, metrics) = (self.stream_series.clone(), self.metrics.clone());
            let publications = publications
                .inspect(move |_| series[i].message(&metrics, Direction::Received))
                .boxed();
            let ctx = Context::from_shared(self.state.clone(), call.clone());
            let open = AssertUnwindSafe(async {
                (streams[i].open)(ctx, &payload.bytes, publications)?.await
            })
            .catch_unwind();
            let limit = self.limits.call_timeout;
            match tokio::time::timeout(limit, open).await {
                Ok(Ok(items)) => Ok((items?, admitted)),
                Ok(Err(panic)) => Err(RpcError::internal(format_args!(
                    "stream handler panicked: {}",
                    panic_message(&*panic)
                ))),
                Err(_) => {
                    Err(RpcError::timed_out().with_detail(format_args!("deadline {limit:?}")))
                }
            }
        };
        let opened = opened.await;
        let series = &self.stream_series[index];
        series.series.observe(&self.metrics, started.elapsed());
        let (items, admitted) = match opened {
            Ok(open) => open,
            Err(e) => {
                // Resubscribes that arrive while the server drains are refused as overloaded;
                // they count as part of the shutdown.
                let label = match Outcome::of(&e) {
                    Outcome::Overloaded if self.closing.is_cancelled() => Outcome::Shutdown,
                    label => label,
                };
                series.series.count(&self.metrics, label);
                log_outcome(
                    &series.series,
                    &call.info,
                    label,
                    Some(&e),
                    started.elapsed(),
                );
                call.cancel();
                // Centrifugo 6.9.1 does not pass a stream refusal's `temporary` on to the client
                // (subscribe_stream_handler.go copies code and message only), so an SDK would
                // give up for good on an overload or a draining server. A temporary refusal goes
                // as a gRPC status instead: the client gets Centrifugo's temporary 100, and its
                // SDK subscribes again.
                if e.is_temporary() {
                    return Err(Status::unavailable(format!(
                        "temporary refusal {}: {}",
                        e.code(),
                        e.message()
                    )));
                }
                let refusal = proto::StreamSubscribeResponse {
                    subscribe_response: Some(reply(Err(e))),
                    publication: None,
                };
                return Ok(stream::once(std::future::ready(Ok(refusal))).boxed());
            }
        };
        let accepted = proto::StreamSubscribeResponse {
            subscribe_response: Some(reply(Ok(proto::SubscribeResult::default()))),
            publication: None,
        };
        Ok(Live {
            first: Some(accepted),
            items: Some(items),
            // A child token per stream: polling it locks only its own state, not the server-wide
            // token every open stream would share.
            closing: Box::pin(self.closing.child_token().cancelled_owned()),
            _active: series.open(&self.metrics),
            series: self.stream_series.clone(),
            index,
            metrics: self.metrics.clone(),
            call,
            started,
            _admitted: admitted,
        }
        .boxed())
    }
}

/// A call (or stream) admitted under its limit, until dropped; `R` is how the counter is held
/// (borrowed by a call, shared by a stream that outlives the request).
struct Admitted<R: std::ops::Deref<Target = AtomicUsize>>(R);

impl<R: std::ops::Deref<Target = AtomicUsize>> Admitted<R> {
    /// Admits one if fewer than `max` are running (exactly: a refused one never counts).
    fn enter(running: R, max: usize) -> Option<Self> {
        running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(running))
    }
}

impl<R: std::ops::Deref<Target = AtomicUsize>> Drop for Admitted<R> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The replies of an open subscription stream.
type ReplyStream = BoxStream<'static, Result<proto::StreamSubscribeResponse, Status>>;

/// An open stream: the subscribe result first, then each item as a publication, until the
/// handler's stream ends (a clean end: Centrifugo unsubscribes the client with 2000), fails or
/// the server closes streams (an error status: the SDK resubscribes after 2500), or Centrifugo
/// cancels it and tonic drops this (the subscriber left).
struct Live {
    first: Option<proto::StreamSubscribeResponse>,
    items: Option<Items>,
    closing: Pin<Box<WaitForCancellationFutureOwned>>,
    series: Arc<[StreamSeries]>,
    index: usize,
    metrics: Metrics,
    call: Arc<CallState>,
    started: Instant,
    _admitted: Admitted<Arc<AtomicUsize>>,
    _active: InFlight,
}

impl Live {
    /// Records the ending (once) and stops pulling items.
    fn end(&mut self, label: Outcome, error: Option<&RpcError>) {
        let Some(items) = self.items.take() else {
            return;
        };
        // A stream cut short sees its context cancelled before it is dropped, so its cleanup
        // can tell a subscriber that left (or a shutdown) from a natural end.
        if label != Outcome::Ok {
            self.call.cancel();
        }
        drop(items);
        let series = &self.series[self.index].series;
        series.count(&self.metrics, label);
        log_outcome(
            series,
            &self.call.info,
            label,
            error,
            self.started.elapsed(),
        );
        self.call.cancel();
    }
}

impl futures_util::Stream for Live {
    type Item = Result<proto::StreamSubscribeResponse, Status>;

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        let Some(items) = this.items.as_mut() else {
            return Poll::Ready(None);
        };
        if this.closing.as_mut().poll(cx).is_ready() {
            this.end(Outcome::Shutdown, None);
            return Poll::Ready(Some(Err(Status::unavailable(
                "centrpc is shutting down; subscribe again",
            ))));
        }
        let next = std::panic::catch_unwind(AssertUnwindSafe(|| items.poll_next_unpin(cx)))
            .unwrap_or_else(|panic| {
                Poll::Ready(Some(Err(RpcError::internal(format_args!(
                    "stream handler panicked: {}",
                    panic_message(&*panic)
                )))))
            });
        match next {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.end(Outcome::Ok, None);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(data))) => {
                this.series[this.index].message(&this.metrics, Direction::Sent);
                Poll::Ready(Some(Ok(proto::StreamSubscribeResponse {
                    subscribe_response: None,
                    publication: Some(proto::Publication {
                        data,
                        tags: Default::default(),
                    }),
                })))
            }
            Poll::Ready(Some(Err(e))) => {
                let status = Status::unavailable(format!(
                    "stream ended with error {}: {}",
                    e.code(),
                    e.message()
                ));
                this.end(Outcome::of(&e), Some(&e));
                Poll::Ready(Some(Err(status)))
            }
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.end(Outcome::Cancelled, None);
    }
}

/// Cancels the call when the future serving it ends, however it ends.
struct CancelOnDrop<'a>(&'a CallState);

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

/// Encodes an optional JSON value as reply bytes (empty when absent).
fn json_bytes(value: Option<serde_json::Value>) -> Vec<u8> {
    value
        .map(|v| serde_json::to_vec(&v).expect("a Value always encodes"))
        .unwrap_or_default()
}

/// The hook's own reply out of a call's reply.
macro_rules! expect_reply {
    ($result:expr, $variant:ident) => {
        $result.and_then(|r| match r {
            Reply::$variant(r) => Ok(r),
            other => Err(RpcError::internal(format_args!(
                "a middleware answered a {} call with {other:?}",
                stringify!($variant)
            ))),
        })
    };
}

#[tonic::async_trait]
impl<S: Send + Sync + 'static> CentrifugoProxy for ProxyService<S> {
    fn rpc<'a, 'b>(
        &'a self,
        mut request: Request<proto::RpcRequest>,
    ) -> Answer<'b, proto::RpcResponse>
    where
        'a: 'b,
        Self: 'b,
    {
        let started = Instant::now();
        let (metadata, req) = split(&mut request);
        let method = self.table.by_name.get(req.method.as_str()).copied();
        let name = std::mem::take(&mut req.method);
        let call = Arc::new(CallState::new(req.take_call_info(
            name.into(),
            metadata,
            started,
        )));
        let limit = self.limits.max_payload;
        let encoding = call.info.encoding.as_str();
        let payload = Payload::decode(std::mem::take(&mut req.data), &req.b64data, encoding, limit);
        let binary = payload.as_ref().is_ok_and(|p| p.binary) || encoding == "binary";
        let routed = match (payload, method) {
            (Err(e), _) => Err(e),
            (Ok(_), None) => Err(RpcError::method_not_found(&call.info.method)),
            (Ok(payload), Some(i)) => Ok((Target::Method(i), Event::Rpc(payload.bytes))),
        };
        self.serve(self.rpc_series(method), call, started, routed, move |r| {
            reply(expect_reply!(r, Rpc).map(|bytes| match binary {
                true => proto::RpcResult {
                    b64data: B64.encode(bytes),
                    ..Default::default()
                },
                false => proto::RpcResult {
                    data: bytes,
                    ..Default::default()
                },
            }))
        })
    }

    fn connect<'a, 'b>(
        &'a self,
        mut request: Request<proto::ConnectRequest>,
    ) -> Answer<'b, proto::ConnectResponse>
    where
        'a: 'b,
        Self: 'b,
    {
        let started = Instant::now();
        let (metadata, req) = split(&mut request);
        let call = Arc::new(CallState::new(req.take_call_info(
            "connect".into(),
            metadata,
            started,
        )));
        let limit = self.limits.max_payload;
        let data = std::mem::take(&mut req.data);
        let event = Payload::decode(data, &req.b64data, &call.info.encoding, limit).map(|p| {
            Event::Connect(ConnectEvent {
                name: std::mem::take(&mut req.name),
                version: std::mem::take(&mut req.version),
                channels: std::mem::take(&mut req.channels),
                data: p.bytes,
            })
        });
        let route = HookRoute::single(self.table.hooks.connect.as_ref());
        self.hook("connect", call, started, route, event, |r| {
            reply(expect_reply!(r, Connect).map(|c| proto::ConnectResult {
                user: c.user,
                expire_at: c.expire_at.unwrap_or_default(),
                info: json_bytes(c.info),
                data: json_bytes(c.data),
                channels: c.channels,
                meta: json_bytes(c.meta),
                ..Default::default()
            }))
        })
    }

    fn refresh<'a, 'b>(
        &'a self,
        mut request: Request<proto::RefreshRequest>,
    ) -> Answer<'b, proto::RefreshResponse>
    where
        'a: 'b,
        Self: 'b,
    {
        let started = Instant::now();
        let (metadata, req) = split(&mut request);
        let call = Arc::new(CallState::new(req.take_call_info(
            "refresh".into(),
            metadata,
            started,
        )));
        let route = HookRoute::single(self.table.hooks.refresh.as_ref());
        let event = Ok(Event::Refresh(RefreshEvent {}));
        self.hook("refresh", call, started, route, event, |r| {
            reply(expect_reply!(r, Refresh).map(|c| proto::RefreshResult {
                expired: c.expired,
                expire_at: c.expire_at,
                info: json_bytes(c.info),
                ..Default::default()
            }))
        })
    }

    fn subscribe<'a, 'b>(
        &'a self,
        mut request: Request<proto::SubscribeRequest>,
    ) -> Answer<'b, proto::SubscribeResponse>
    where
        'a: 'b,
        Self: 'b,
    {
        let started = Instant::now();
        let (metadata, req) = split(&mut request);
        let call = Arc::new(CallState::new(req.take_call_info(
            "subscribe".into(),
            metadata,
            started,
        )));
        let limit = self.limits.max_payload;
        let route = HookRoute::by_channel(&self.table.hooks.subscribe, "subscribe", &req.channel);
        let data = std::mem::take(&mut req.data);
        let event = Payload::decode(data, &req.b64data, &call.info.encoding, limit).map(|p| {
            Event::Subscribe(SubscribeEvent {
                channel: std::mem::take(&mut req.channel),
                token: std::mem::take(&mut req.token),
                data: p.bytes,
            })
        });
        self.hook("subscribe", call, started, route, event, |r| {
            reply(expect_reply!(r, Subscribe).map(|c| proto::SubscribeResult {
                expire_at: c.expire_at.unwrap_or_default(),
                info: json_bytes(c.info),
                data: json_bytes(c.data),
                ..Default::default()
            }))
        })
    }

    fn publish<'a, 'b>(
        &'a self,
        mut request: Request<proto::PublishRequest>,
    ) -> Answer<'b, proto::PublishResponse>
    where
        'a: 'b,
        Self: 'b,
    {
        let started = Instant::now();
        let (metadata, req) = split(&mut request);
        let call = Arc::new(CallState::new(req.take_call_info(
            "publish".into(),
            metadata,
            started,
        )));
        let limit = self.limits.max_payload;
        let route = HookRoute::by_channel(&self.table.hooks.publish, "publish", &req.channel);
        let data = std::mem::take(&mut req.data);
        let typed = self.table.channels.iter();
        let check = typed
            .filter(|c| hooks::matches(&c.pattern, &req.channel))
            .find_map(|c| c.check);
        let payload = Payload::decode(data, &req.b64data, &call.info.encoding, limit);
        // A typed channel's publications are checked against their type before any hook.
        let payload =
            payload.and_then(|p| check.map_or(Ok(()), |check| check(&p.bytes)).map(|()| p));
        let event = payload.map(|p| {
            Event::Publish(PublishEvent {
                channel: std::mem::take(&mut req.channel),
                data: p.bytes,
            })
        });
        self.hook("publish", call, started, route, event, |r| {
            reply(expect_reply!(r, Publish).map(|c| proto::PublishResult {
                data: json_bytes(c.data),
                skip_history: c.skip_history,
                ..Default::default()
            }))
        })
    }

    fn sub_refresh<'a, 'b>(
        &'a self,
        mut request: Request<proto::SubRefreshRequest>,
    ) -> Answer<'b, proto::SubRefreshResponse>
    where
        'a: 'b,
        Self: 'b,
    {
        let started = Instant::now();
        let (metadata, req) = split(&mut request);
        let call = Arc::new(CallState::new(req.take_call_info(
            "sub_refresh".into(),
            metadata,
            started,
        )));
        let event = Ok(Event::SubRefresh(SubRefreshEvent {
            channel: std::mem::take(&mut req.channel),
        }));
        let route = HookRoute::single(self.table.hooks.sub_refresh.as_ref());
        self.hook("sub_refresh", call, started, route, event, |r| {
            reply(
                expect_reply!(r, SubRefresh).map(|c| proto::SubRefreshResult {
                    expired: c.expired,
                    expire_at: c.expire_at,
                    info: json_bytes(c.info),
                    ..Default::default()
                }),
            )
        })
    }

    async fn subscribe_unidirectional(
        &self,
        request: Request<proto::SubscribeRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        let (metadata, _, req) = request.into_parts();
        let replies = self.open_stream(req, metadata, stream::empty().boxed());
        replies.await.map(Response::new)
    }

    async fn subscribe_bidirectional(
        &self,
        request: Request<Streaming<proto::StreamSubscribeRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        let (metadata, _, mut incoming) = request.into_parts();
        let Some(req) = incoming.message().await?.and_then(|m| m.subscribe_request) else {
            return Err(Status::invalid_argument(
                "centrpc: a bidirectional stream must start with a subscribe_request",
            ));
        };
        // The subscriber's publications until its side ends (or breaks); other messages carry
        // nothing for the handler.
        let raw = incoming
            .take_while(|m| std::future::ready(m.is_ok()))
            .filter_map(|m| std::future::ready(m.ok().and_then(|m| m.publication).map(|p| p.data)));
        let publications = self.publications(raw);
        let replies = self.open_stream(req, metadata, publications);
        replies.await.map(Response::new)
    }
}

/// A proxy reply: `result`, or an `error`, or a `disconnect`.
trait ProxyReply {
    type Result;
    fn new(
        result: Option<Self::Result>,
        error: Option<proto::Error>,
        disconnect: Option<proto::Disconnect>,
    ) -> Self;
}

macro_rules! proxy_reply {
    ($($reply:ty => $result:ty),* $(,)?) => {$(
        impl ProxyReply for $reply {
            type Result = $result;
            #[inline]
            fn new(result: Option<$result>, error: Option<proto::Error>, disconnect: Option<proto::Disconnect>) -> Self {
                Self { result, error, disconnect }
            }
        }
    )*};
}

proxy_reply!(
    proto::RpcResponse => proto::RpcResult,
    proto::ConnectResponse => proto::ConnectResult,
    proto::RefreshResponse => proto::RefreshResult,
    proto::SubscribeResponse => proto::SubscribeResult,
    proto::PublishResponse => proto::PublishResult,
    proto::SubRefreshResponse => proto::SubRefreshResult,
);

/// Builds a proxy reply from an outcome, in place (inlined into each method's encoder).
#[inline]
fn reply<R: ProxyReply>(outcome: Result<R::Result, RpcError>) -> R {
    match outcome {
        Ok(result) => R::new(Some(result), None, None),
        Err(err) => match err.into_wire() {
            Wire::Error(e) => R::new(None, Some(e), None),
            Wire::Disconnect(d) => R::new(None, None, Some(d)),
        },
    }
}

/// The metadata and the message of a request, taken in place: moving the whole request apart
/// (`into_parts`) copies its ~400 bytes once more on every call.
fn split<T>(request: &mut Request<T>) -> (MetadataMap, &mut T) {
    (std::mem::take(request.metadata_mut()), request.get_mut())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every call allocates its proxy future (tonic's trait boxes them): up to 1,032 bytes glibc
    /// serves it from a per-thread cache, above that from its bins, several hundred instructions
    /// dearer a call (README, "Where a call's instructions go").
    #[test]
    fn the_proxy_futures_stay_in_the_allocators_thread_cache() {
        use crate::hooks::{ConnectReply, PublishReply, RefreshReply, SubscribeReply};
        async fn rpc(_: Context, _: ()) -> Result<(), RpcError> {
            Ok(())
        }
        let router = Router::new(()).rpc("a.b", rpc).hooks(|h| {
            h.connect(|_: Context, _: ConnectEvent| async {
                Ok::<ConnectReply, RpcError>(ConnectReply::user("u"))
            })
            .refresh(|_: Context, _: RefreshEvent| async {
                Ok::<_, RpcError>(RefreshReply::default())
            })
            .subscribe("*", |_: Context, _: SubscribeEvent| async {
                Ok::<_, RpcError>(SubscribeReply::default())
            })
            .publish("*", |_: Context, _: PublishEvent| async {
                Ok::<_, RpcError>(PublishReply::default())
            })
        });
        let svc = ProxyService::new(router, Limits::default());
        let sizes = [
            (
                "rpc",
                std::mem::size_of_val(&*svc.rpc(Request::new(Default::default()))),
            ),
            (
                "connect",
                std::mem::size_of_val(&*svc.connect(Request::new(Default::default()))),
            ),
            (
                "refresh",
                std::mem::size_of_val(&*svc.refresh(Request::new(Default::default()))),
            ),
            (
                "subscribe",
                std::mem::size_of_val(&*svc.subscribe(Request::new(Default::default()))),
            ),
            (
                "publish",
                std::mem::size_of_val(&*svc.publish(Request::new(Default::default()))),
            ),
        ];
        for (name, size) in sizes {
            assert!(size <= 1032, "the {name} future is {size} bytes: {sizes:?}");
        }
        eprintln!("proxy future sizes: {sizes:?}");
    }

    #[test]
    #[should_panic(expected = "invalid method name \"bad name\"")]
    fn an_invalid_router_is_refused_at_construction() {
        async fn nothing(_: Context, _: ()) -> Result<(), RpcError> {
            Ok(())
        }
        let _ = ProxyService::new(Router::new(()).rpc("bad name", nothing), Limits::default());
    }

    #[test]
    fn parses_grpc_timeout_units() {
        let mut m = MetadataMap::new();
        for (raw, want) in [
            ("1S", Duration::from_secs(1)),
            ("250m", Duration::from_millis(250)),
            ("2M", Duration::from_secs(120)),
            ("7u", Duration::from_micros(7)),
        ] {
            m.insert("grpc-timeout", raw.parse().unwrap());
            assert_eq!(grpc_timeout(&m), Some(want), "{raw}");
        }
        for bad in ["", "S", "10x", "-1S", "123456789S", "99999999999999999H"] {
            m.insert("grpc-timeout", bad.parse().unwrap());
            assert_eq!(grpc_timeout(&m), None, "{bad}");
        }
    }

    #[test]
    fn payload_prefers_b64_in_binary_mode_and_enforces_the_limit() {
        let p = Payload::decode(vec![], "eyJhIjoxfQ==", "binary", 100).unwrap();
        assert_eq!((&*p.bytes, p.binary), (&b"{\"a\":1}"[..], true));
        let p = Payload::decode(b"{}".to_vec(), "", "json", 100).unwrap();
        assert!(!p.binary);
        assert_eq!(
            Payload::decode(vec![], "!!", "binary", 100)
                .err()
                .unwrap()
                .code(),
            crate::error::codes::MALFORMED_JSON
        );
        assert_eq!(
            Payload::decode(vec![b' '; 101], "", "json", 100)
                .err()
                .unwrap()
                .code(),
            crate::error::codes::PAYLOAD_TOO_LARGE
        );
        let big = B64.encode([b' '; 200]);
        assert_eq!(
            Payload::decode(vec![], &big, "binary", 100)
                .err()
                .unwrap()
                .code(),
            crate::error::codes::PAYLOAD_TOO_LARGE
        );
    }
}
