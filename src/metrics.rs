//! Prometheus metrics for one server: calls by kind, method and outcome, a latency histogram, the
//! in-flight gauge and refused authentications, served as text on `/metrics`.

use std::{sync::OnceLock, time::Duration};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

use crate::error::{codes, RpcError};

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
    Internal,
    Overloaded,
    TimedOut,
    /// The caller (Centrifugo) gave up and the call was dropped.
    Cancelled,
}

impl Outcome {
    const COUNT: usize = 11;

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
            Self::Internal => "internal",
            Self::Overloaded => "overloaded",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// The outcome of a failed call.
    pub(crate) fn of(e: &RpcError) -> Self {
        if e.is_disconnect() {
            return Self::Disconnect;
        }
        match e.code() {
            codes::MALFORMED_JSON => Self::MalformedJson,
            codes::METHOD_NOT_FOUND => Self::MethodNotFound,
            codes::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            codes::INVALID_PARAMS => Self::InvalidParams,
            codes::INTERNAL => Self::Internal,
            codes::OVERLOADED => Self::Overloaded,
            codes::TIMED_OUT => Self::TimedOut,
            _ => Self::AppError,
        }
    }
}

/// The series of one `(kind, method)`, resolved on first use so the hot path neither hashes
/// labels nor takes the registry's lock; unused outcomes never appear in `/metrics`.
pub(crate) struct Series {
    kind: &'static str,
    method: String,
    calls: [OnceLock<IntCounter>; Outcome::COUNT],
    duration: OnceLock<Histogram>,
}

impl Series {
    pub(crate) fn new(kind: &'static str, method: &str) -> Self {
        Self {
            kind,
            method: method.to_owned(),
            calls: Default::default(),
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

    /// Counts one call and observes its duration.
    pub(crate) fn record(&self, metrics: &Metrics, outcome: Outcome, elapsed: Duration) {
        self.calls[outcome as usize]
            .get_or_init(|| {
                metrics
                    .calls
                    .with_label_values(&[self.kind, &self.method, outcome.label()])
            })
            .inc();
        self.duration
            .get_or_init(|| {
                metrics
                    .duration
                    .with_label_values(&[self.kind, &self.method])
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// The metric families of one server instance.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `centrpc_calls_total{kind, method, outcome}`.
    pub(crate) calls: IntCounterVec,
    /// `centrpc_call_duration_seconds{kind, method}`.
    pub(crate) duration: HistogramVec,
    /// `centrpc_in_flight_calls`.
    pub(crate) in_flight: IntGauge,
    /// `centrpc_auth_failures_total`.
    pub(crate) auth_failures: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers the metric families.
    pub fn new() -> Self {
        let registry = Registry::new();
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
        let auth_failures = IntCounter::new(
            "centrpc_auth_failures_total",
            "Proxy calls refused because the credentials were missing or wrong.",
        )
        .expect("valid metric");
        for c in [
            Box::new(calls.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(in_flight.clone()),
            Box::new(auth_failures.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Self {
            registry,
            calls,
            duration,
            in_flight,
            auth_failures,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encoding to a Vec cannot fail");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }

    /// The number of calls in flight now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.get()
    }
}
