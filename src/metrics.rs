//! Prometheus metrics for one server: calls by kind, method and outcome, a latency histogram, the
//! in-flight gauge and refused authentications, served as text on `/metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The label used for methods that are not registered, so clients cannot grow the label set.
pub const UNKNOWN_METHOD: &str = "<unknown>";

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
