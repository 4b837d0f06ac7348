//! Call accounting: every call's kind, method and outcome; with the `metrics` feature, the
//! Prometheus families they feed (calls by kind, method and outcome, a latency histogram, the
//! in-flight gauge and refused authentications), served as text on `/metrics`.

use std::time::Duration;

#[cfg(feature = "metrics")]
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
#[cfg(feature = "metrics")]
use std::sync::OnceLock;

use crate::error::{ErrorKind, RpcError};

/// The label used for methods that are not registered, so clients cannot grow the label set.
pub const UNKNOWN_METHOD: &str = "<unknown>";

/// How a call ended: the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    AppError,
    Disconnect,
    MalformedJson,
    MethodNotFound,
    PayloadTooLarge,
    InvalidParams,
    ChannelNotAllowed,
    RateLimited,
    Internal,
    Overloaded,
    TimedOut,
    /// The caller (Centrifugo) gave up and the call was dropped; for a stream, the subscriber
    /// left (unsubscribed or disconnected).
    Cancelled,
    /// A stream ended by the server's shutdown (its subscriber resubscribes).
    Shutdown,
}

impl Outcome {
    #[cfg(feature = "metrics")]
    const COUNT: usize = 14;

    /// The label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::AppError => "app_error",
            Self::Disconnect => "disconnect",
            Self::MalformedJson => "malformed_json",
            Self::MethodNotFound => "method_not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidParams => "invalid_params",
            Self::ChannelNotAllowed => "channel_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Overloaded => "overloaded",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Shutdown => "shutdown",
        }
    }

    /// Whether the caller's own request caused the failure (bad JSON or params, an unknown
    /// method, a refused channel, too large, rate limited): logged at DEBUG, since any client can
    /// produce these at will; the metrics count them all the same.
    pub(crate) fn is_the_callers(self) -> bool {
        matches!(
            self,
            Self::MalformedJson
                | Self::MethodNotFound
                | Self::PayloadTooLarge
                | Self::InvalidParams
                | Self::ChannelNotAllowed
                | Self::RateLimited
        )
    }

    /// The outcome of a failed call, from who produced the error (not from its number: an
    /// application's own 404 is an `app_error`).
    pub(crate) fn of(e: &RpcError) -> Self {
        match e.kind() {
            ErrorKind::Disconnect => Self::Disconnect,
            ErrorKind::MalformedJson => Self::MalformedJson,
            ErrorKind::MethodNotFound => Self::MethodNotFound,
            ErrorKind::PayloadTooLarge => Self::PayloadTooLarge,
            ErrorKind::InvalidParams => Self::InvalidParams,
            ErrorKind::ChannelNotAllowed => Self::ChannelNotAllowed,
            ErrorKind::RateLimited => Self::RateLimited,
            ErrorKind::Internal => Self::Internal,
            ErrorKind::Overloaded => Self::Overloaded,
            ErrorKind::TimedOut => Self::TimedOut,
            ErrorKind::App => Self::AppError,
        }
    }
}

/// The series of one `(kind, method)`, resolved on first use so the hot path neither hashes
/// labels nor takes the registry's lock; unused outcomes never appear in `/metrics`.
pub(crate) struct Series {
    kind: &'static str,
    method: String,
    #[cfg(feature = "metrics")]
    calls: [OnceLock<IntCounter>; Outcome::COUNT],
    #[cfg(feature = "metrics")]
    duration: OnceLock<Histogram>,
}

impl Series {
    pub(crate) fn new(kind: &'static str, method: &str) -> Self {
        Self {
            kind,
            method: method.to_owned(),
            #[cfg(feature = "metrics")]
            calls: Default::default(),
            #[cfg(feature = "metrics")]
            duration: OnceLock::new(),
        }
    }

    /// The method label.
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The kind label.
    pub(crate) fn kind(&self) -> &'static str {
        self.kind
    }

    /// Counts one call and observes its duration (nothing without the `metrics` feature).
    #[cfg(not(feature = "metrics"))]
    pub(crate) fn record(&self, _: &Metrics, _: Outcome, _: Duration) {}

    /// Counts one call (nothing without the `metrics` feature).
    #[cfg(not(feature = "metrics"))]
    pub(crate) fn count(&self, _: &Metrics, _: Outcome) {}

    /// Observes one call's duration (nothing without the `metrics` feature).
    #[cfg(not(feature = "metrics"))]
    pub(crate) fn observe(&self, _: &Metrics, _: Duration) {}

    /// Counts one call and observes its duration.
    #[cfg(feature = "metrics")]
    pub(crate) fn record(&self, metrics: &Metrics, outcome: Outcome, elapsed: Duration) {
        self.count(metrics, outcome);
        self.observe(metrics, elapsed);
    }

    /// Counts one call.
    #[cfg(feature = "metrics")]
    pub(crate) fn count(&self, metrics: &Metrics, outcome: Outcome) {
        self.calls[outcome as usize]
            .get_or_init(|| {
                metrics
                    .calls
                    .with_label_values(&[self.kind, &self.method, outcome.label()])
            })
            .inc();
    }

    /// Observes one call's duration.
    #[cfg(feature = "metrics")]
    pub(crate) fn observe(&self, metrics: &Metrics, elapsed: Duration) {
        self.duration
            .get_or_init(|| {
                metrics
                    .duration
                    .with_label_values(&[self.kind, &self.method])
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// The series of one subscription stream: its calls (`kind="stream"`, counted once when the
/// stream ends, with the time it took to open), the open-streams gauge and its message counters.
pub(crate) struct StreamSeries {
    pub(crate) series: Series,
    #[cfg(feature = "metrics")]
    active: OnceLock<IntGauge>,
    /// The message counters, by [`Direction`].
    #[cfg(feature = "metrics")]
    messages: [OnceLock<IntCounter>; 2],
}

/// Which way a stream message went: the `direction` label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Direction {
    /// An item to the subscriber.
    Sent,
    /// A publication from the subscriber.
    Received,
}

impl StreamSeries {
    pub(crate) fn new(stream: &str) -> Self {
        Self {
            series: Series::new("stream", stream),
            #[cfg(feature = "metrics")]
            active: OnceLock::new(),
            #[cfg(feature = "metrics")]
            messages: Default::default(),
        }
    }

    /// Counts the stream open until the guard drops.
    #[cfg(feature = "metrics")]
    pub(crate) fn open(&self, metrics: &Metrics) -> InFlight {
        let gauge = self.active.get_or_init(|| {
            metrics
                .streams_active
                .with_label_values(&[self.series.method()])
        });
        gauge.inc();
        InFlight(gauge.clone())
    }

    /// Open streams are not tracked without the `metrics` feature.
    #[cfg(not(feature = "metrics"))]
    pub(crate) fn open(&self, _: &Metrics) -> InFlight {
        InFlight
    }

    /// Counts one message going `direction`.
    #[cfg(feature = "metrics")]
    pub(crate) fn message(&self, metrics: &Metrics, direction: Direction) {
        let label = match direction {
            Direction::Sent => "sent",
            Direction::Received => "received",
        };
        self.messages[direction as usize]
            .get_or_init(|| {
                metrics
                    .stream_messages
                    .with_label_values(&[self.series.method(), label])
            })
            .inc();
    }

    /// Messages are not counted without the `metrics` feature.
    #[cfg(not(feature = "metrics"))]
    pub(crate) fn message(&self, _: &Metrics, _: Direction) {}
}

/// Without the `metrics` feature there is nothing to record into.
#[cfg(not(feature = "metrics"))]
#[derive(Debug, Clone, Default)]
pub(crate) struct Metrics;

#[cfg(not(feature = "metrics"))]
impl Metrics {
    /// Calls in flight are not tracked without the `metrics` feature.
    pub(crate) fn enter(&self) -> InFlight {
        InFlight
    }
}

/// Counts a call in flight until dropped, so the gauge stays honest even when the call future is
/// dropped half-way.
#[cfg(not(feature = "metrics"))]
pub(crate) struct InFlight;

/// Counts a call in flight until dropped, so the gauge stays honest even when the call future is
/// dropped half-way.
#[cfg(feature = "metrics")]
pub(crate) struct InFlight(IntGauge);

#[cfg(feature = "metrics")]
impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The metric families of one server instance.
#[cfg(feature = "metrics")]
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `centrpc_calls_total{kind, method, outcome}`.
    pub(crate) calls: IntCounterVec,
    /// `centrpc_call_duration_seconds{kind, method}`.
    pub(crate) duration: HistogramVec,
    /// `centrpc_in_flight_calls`.
    pub(crate) in_flight: IntGauge,
    /// `centrpc_streams_active{stream}`.
    pub(crate) streams_active: IntGaugeVec,
    /// `centrpc_stream_messages_total{stream, direction}`.
    pub(crate) stream_messages: IntCounterVec,
    /// `centrpc_auth_failures_total`.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) auth_failures: IntCounter,
}

#[cfg(feature = "metrics")]
impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "metrics")]
impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "metrics")]
impl Metrics {
    /// Creates the metric families in a registry of their own.
    pub fn new() -> Self {
        Self::with_registry(&Registry::new()).expect("a fresh registry has no clashing names")
    }

    /// Registers the metric families into the application's own `registry`, so one endpoint
    /// shows the application's metrics and centrpc's. Fails if the names are already taken.
    pub fn with_registry(registry: &Registry) -> Result<Self, prometheus::Error> {
        let registry = registry.clone();
        let calls = IntCounterVec::new(
            Opts::new(
                "centrpc_calls_total",
                "Proxy calls served, by kind, method and outcome.",
            ),
            &["kind", "method", "outcome"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "centrpc_call_duration_seconds",
                "Time from request to reply inside centrpc.",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["kind", "method"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new("centrpc_in_flight_calls", "Calls being served right now.")
            .expect("valid metric");
        let streams_active = IntGaugeVec::new(
            Opts::new(
                "centrpc_streams_active",
                "Subscription streams open now, by stream.",
            ),
            &["stream"],
        )
        .expect("valid metric");
        let stream_messages = IntCounterVec::new(
            Opts::new(
                "centrpc_stream_messages_total",
                "Stream messages, by stream and direction (sent: items to the subscriber; received: its publications).",
            ),
            &["stream", "direction"],
        )
        .expect("valid metric");
        let auth_failures = IntCounter::new(
            "centrpc_auth_failures_total",
            "Proxy calls refused because the credentials were missing or wrong.",
        )
        .expect("valid metric");
        for c in [
            Box::new(calls.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(in_flight.clone()),
            Box::new(streams_active.clone()),
            Box::new(stream_messages.clone()),
            Box::new(auth_failures.clone()),
        ] {
            registry.register(c)?;
        }
        Ok(Self {
            registry,
            calls,
            duration,
            in_flight,
            streams_active,
            stream_messages,
            auth_failures,
        })
    }

    /// The registry the families are registered in.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encoding to a Vec cannot fail");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }

    /// Counts one call in flight until the guard drops.
    pub(crate) fn enter(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// The number of calls in flight now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.get()
    }
}
