//! The `CentrifugoProxy` gRPC service: decodes each proxy request, routes it to a handler or hook,
//! runs it under the server's limits (payload size, concurrency, deadline, panic isolation) and
//! encodes the outcome into the reply — application failures always inside the reply, never as a
//! gRPC status.
//!
//! Data flows one way: request → [`Payload`] → route → guarded run → encode → response.

use std::{
    borrow::Cow,
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use futures_util::{future::BoxFuture, FutureExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tonic::{metadata::MetadataMap, Request, Response, Status};

use crate::{
    context::{CallInfo, Context},
    error::{RpcError, Wire},
    hooks::{self, ConnectEvent, PublishEvent, RefreshEvent, SubRefreshEvent, SubscribeEvent},
    metrics::{Metrics, UNKNOWN_METHOD},
    proto::{self, centrifugo_proxy_server::CentrifugoProxy},
    router::Router,
};

/// Limits applied to every call.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted payload (decoded `data`), in bytes.
    pub max_payload: usize,
    /// Longest a handler may run; a shorter `grpc-timeout` from Centrifugo wins.
    pub call_timeout: Duration,
    /// Most calls served at once across all connections; more are shed as overloaded.
    pub max_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 1024 * 1024,
            call_timeout: Duration::from_secs(10),
            max_concurrency: 1024,
        }
    }
}

/// The tonic service implementing Centrifugo's proxy protocol over a [`Router`].
pub struct ProxyService<S> {
    router: Arc<Router<S>>,
    limits: Limits,
    permits: Arc<Semaphore>,
    metrics: Metrics,
}

impl<S> Clone for ProxyService<S> {
    fn clone(&self) -> Self {
        Self {
            router: self.router.clone(),
            limits: self.limits.clone(),
            permits: self.permits.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// A request payload: the bytes to decode, and whether the reply must go back base64-encoded.
struct Payload<'a> {
    bytes: Cow<'a, [u8]>,
    binary: bool,
}

impl<'a> Payload<'a> {
    /// Picks `data` or, in binary encoding mode, base64-decodes `b64data`; refuses oversize input.
    fn decode(
        data: &'a [u8],
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
                bytes: Cow::Borrowed(data),
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
        Ok(Self {
            bytes: Cow::Owned(bytes),
            binary,
        })
    }
}

/// Reads Centrifugo's deadline from the `grpc-timeout` header (`<digits><H|M|S|m|u|n>`).
fn grpc_timeout(metadata: &MetadataMap) -> Option<Duration> {
    let raw = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = raw.split_at(raw.len().checked_sub(1)?);
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

/// The common request fields every proxy request carries.
struct Common<'a> {
    client: &'a str,
    transport: &'a str,
    protocol: &'a str,
    encoding: &'a str,
    user: &'a str,
    meta: &'a [u8],
}

impl<'a> Common<'a> {
    /// The fields of a request from an authenticated connection (all but connect).
    fn of(r: &'a impl ConnectionRequest) -> Self {
        r.common()
    }
}

/// A proxy request sent on behalf of an established connection: it names the user and meta.
trait ConnectionRequest {
    fn common(&self) -> Common<'_>;
}

macro_rules! connection_request {
    ($($request:ty),* $(,)?) => {$(
        impl ConnectionRequest for $request {
            fn common(&self) -> Common<'_> {
                Common {
                    client: &self.client,
                    transport: &self.transport,
                    protocol: &self.protocol,
                    encoding: &self.encoding,
                    user: &self.user,
                    meta: &self.meta,
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

fn call_info(kind: &str, c: Common<'_>, metadata: MetadataMap, started: Instant) -> CallInfo {
    let deadline = grpc_timeout(&metadata).map(|d| started + d);
    CallInfo {
        method: kind.to_owned(),
        user: c.user.to_owned(),
        client: c.client.to_owned(),
        transport: c.transport.to_owned(),
        protocol: c.protocol.to_owned(),
        encoding: c.encoding.to_owned(),
        meta: c.meta.to_vec(),
        metadata,
        deadline,
    }
}

/// Keeps the in-flight gauge honest even when the call future is dropped half-way.
struct InFlight(prometheus::IntGauge);

impl InFlight {
    fn enter(gauge: &prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Logs and counts one call exactly once: with its outcome when it finishes, or as
/// `cancelled` when the caller (Centrifugo) gives up and tonic drops the call.
struct CallLog<'a> {
    metrics: &'a Metrics,
    kind: &'static str,
    method: &'a str,
    user: &'a str,
    client: &'a str,
    started: Instant,
    finished: bool,
}

impl<'a> CallLog<'a> {
    fn finish<T>(mut self, outcome: &Result<T, RpcError>) {
        self.finished = true;
        let elapsed = self.started.elapsed();
        let label = match outcome {
            Ok(_) => "ok",
            Err(e) => outcome_label(e),
        };
        self.count(label, elapsed);
        let (kind, method, user, client) = (self.kind, self.method, self.user, self.client);
        let duration_us = elapsed.as_micros() as u64;
        match outcome {
            Ok(_) => tracing::info!(
                target: "centrpc::call", kind, method, user, client, outcome = "ok", duration_us
            ),
            Err(e) if e.code() == crate::error::codes::INTERNAL => tracing::error!(
                target: "centrpc::call", kind, method, user, client, outcome = label,
                code = e.code(), duration_us, detail = e.detail().unwrap_or(""), "call failed"
            ),
            Err(e) => tracing::info!(
                target: "centrpc::call", kind, method, user, client, outcome = label,
                code = e.code(), reason = e.message(), detail = e.detail().unwrap_or(""), duration_us
            ),
        }
    }

    fn count(&self, label: &str, elapsed: Duration) {
        let m = self.metrics;
        m.calls
            .with_label_values(&[self.kind, self.method, label])
            .inc();
        m.duration
            .with_label_values(&[self.kind, self.method])
            .observe(elapsed.as_secs_f64());
    }
}

impl Drop for CallLog<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let elapsed = self.started.elapsed();
            self.count("cancelled", elapsed);
            tracing::info!(target: "centrpc::call", kind = self.kind, method = self.method,
                user = self.user, client = self.client, outcome = "cancelled",
                duration_us = elapsed.as_micros() as u64, "the caller gave up");
        }
    }
}

impl<S: Send + Sync + 'static> ProxyService<S> {
    /// Serves `router` under `limits`, recording into `metrics`.
    pub fn new(router: Router<S>, limits: Limits, metrics: Metrics) -> Self {
        Self {
            router: Arc::new(router),
            permits: Arc::new(Semaphore::new(limits.max_concurrency)),
            limits,
            metrics,
        }
    }

    /// Runs one call: admission (concurrency), deadline, cancellation, panic isolation, then
    /// records the outcome. `run` receives the context and produces the work.
    async fn guarded<T>(
        &self,
        info: CallInfo,
        started: Instant,
        run: impl FnOnce(Context<S>) -> Result<BoxFuture<'static, Result<T, RpcError>>, RpcError>,
    ) -> Result<T, RpcError> {
        let _in_flight = InFlight::enter(&self.metrics.in_flight);
        let Ok(_permit) = self.permits.try_acquire() else {
            return Err(RpcError::overloaded());
        };
        let limit = match info.deadline {
            // Centrifugo's deadline always passes first at its end, so past it the client sees
            // Centrifugo's 100; `--call-timeout` below its timeout gives the in-band 504 instead.
            Some(deadline) => self
                .limits
                .call_timeout
                .min(deadline.saturating_duration_since(started)),
            None => self.limits.call_timeout,
        };
        let cancel = CancellationToken::new();
        // If tonic drops this future (Centrifugo cancelled the stream), the handler's token fires.
        let _cancel_on_drop = cancel.clone().drop_guard();
        let ctx = Context::new(self.router.state().clone(), info, cancel.clone());
        let work = run(ctx)?;
        let outcome = match tokio::time::timeout(limit, AssertUnwindSafe(work).catch_unwind()).await
        {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => Err(RpcError::internal(format_args!(
                "handler panicked: {}",
                panic_message(&*panic)
            ))),
            Err(_) => {
                cancel.cancel();
                Err(RpcError::timed_out().with_detail(format_args!("deadline {limit:?}")))
            }
        };
        outcome
    }

    /// Runs a hook call end to end: context, guarded run, record, and the reply shape.
    async fn hook<E, R, Reply>(
        &self,
        kind: &'static str,
        common: Common<'_>,
        metadata: MetadataMap,
        route: HookRoute<'_, S, E, R>,
        event: Result<E, RpcError>,
        encode: impl FnOnce(Result<R, RpcError>) -> Reply,
    ) -> Result<Response<Reply>, Status>
    where
        E: Send + 'static,
        R: Send + 'static,
    {
        if matches!(route, HookRoute::Missing) {
            return Err(Status::unimplemented(format!(
                "centrpc: no {kind} hook is registered; disable Centrifugo's {kind} proxy or add one"
            )));
        }
        let started = Instant::now();
        let (user, client) = (common.user.to_owned(), common.client.to_owned());
        let log = CallLog {
            metrics: &self.metrics,
            kind,
            method: kind,
            user: &user,
            client: &client,
            started,
            finished: false,
        };
        let result = match (route, event) {
            (HookRoute::Missing, _) => unreachable!("handled above"),
            (HookRoute::Denied(e), _) | (_, Err(e)) => Err(e),
            (HookRoute::Found(hook), Ok(event)) => {
                let info = call_info(kind, common, metadata, started);
                let hook = hook.clone();
                self.guarded(info, started, move |ctx| Ok(hook(ctx, event)))
                    .await
            }
        };
        log.finish(&result);
        Ok(Response::new(encode(result)))
    }
}

/// Which hook serves a proxy event.
enum HookRoute<'a, S, E, R> {
    /// No hook of this kind is registered at all.
    Missing,
    /// Hooks exist, but none for this channel.
    Denied(RpcError),
    /// The hook to run.
    Found(&'a hooks::Hook<S, E, R>),
}

impl<'a, S, E, R> HookRoute<'a, S, E, R> {
    fn single(hook: Option<&'a hooks::Hook<S, E, R>>) -> Self {
        hook.map_or(Self::Missing, Self::Found)
    }

    fn by_channel(
        table: &'a [(hooks::Pattern, hooks::Hook<S, E, R>)],
        action: &str,
        channel: &str,
    ) -> Self {
        if table.is_empty() {
            return Self::Missing;
        }
        hooks::route(table, channel).map_or_else(
            || {
                Self::Denied(RpcError::new(
                    hooks::codes::CHANNEL_NOT_ALLOWED,
                    format!("{action} to {channel:?} is not allowed"),
                ))
            },
            Self::Found,
        )
    }
}

fn outcome_label(e: &RpcError) -> &'static str {
    use crate::error::codes::*;
    if e.is_disconnect() {
        return "disconnect";
    }
    match e.code() {
        MALFORMED_JSON => "malformed_json",
        METHOD_NOT_FOUND => "method_not_found",
        PAYLOAD_TOO_LARGE => "payload_too_large",
        INVALID_PARAMS => "invalid_params",
        INTERNAL => "internal",
        OVERLOADED => "overloaded",
        TIMED_OUT => "timed_out",
        _ => "app_error",
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

#[tonic::async_trait]
impl<S: Send + Sync + 'static> CentrifugoProxy for ProxyService<S> {
    async fn rpc(
        &self,
        request: Request<proto::RpcRequest>,
    ) -> Result<Response<proto::RpcResponse>, Status> {
        let started = Instant::now();
        let (metadata, _, req) = request.into_parts();
        let method = self.router.get(&req.method);
        let label = method.map_or(UNKNOWN_METHOD, |m| m.info.name.as_str());
        let common = Common::of(&req);
        let mut info = call_info("rpc", common, metadata, started);
        info.method.clone_from(&req.method);
        let log = CallLog {
            metrics: &self.metrics,
            kind: "rpc",
            method: label,
            user: &req.user,
            client: &req.client,
            started,
            finished: false,
        };

        let payload = Payload::decode(
            &req.data,
            &req.b64data,
            &req.encoding,
            self.limits.max_payload,
        );
        let binary = payload.as_ref().is_ok_and(|p| p.binary) || req.encoding == "binary";
        let result = match (payload, method) {
            (Err(e), _) => Err(e),
            (Ok(_), None) => Err(RpcError::method_not_found(&req.method)),
            (Ok(payload), Some(m)) => {
                self.guarded(info, started, |ctx| (m.call)(ctx, &payload.bytes))
                    .await
            }
        };
        log.finish(&result);
        let result = result.map(|bytes| match binary {
            true => proto::RpcResult {
                b64data: B64.encode(bytes),
                ..Default::default()
            },
            false => proto::RpcResult {
                data: bytes,
                ..Default::default()
            },
        });
        Ok(Response::new(reply(result)))
    }

    async fn connect(
        &self,
        request: Request<proto::ConnectRequest>,
    ) -> Result<Response<proto::ConnectResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let limit = self.limits.max_payload;
        let event =
            Payload::decode(&req.data, &req.b64data, &req.encoding, limit).map(|p| ConnectEvent {
                name: req.name.clone(),
                version: req.version.clone(),
                channels: req.channels.clone(),
                data: p.bytes.into_owned(),
            });
        let common = Common {
            client: &req.client,
            transport: &req.transport,
            protocol: &req.protocol,
            encoding: &req.encoding,
            user: "",
            meta: &[],
        };
        let route = HookRoute::single(self.router.hook_table().connect.as_ref());
        self.hook("connect", common, metadata, route, event, |r| {
            reply(r.map(|c| proto::ConnectResult {
                user: c.user,
                expire_at: c.expire_at.unwrap_or_default(),
                info: json_bytes(c.info),
                data: json_bytes(c.data),
                channels: c.channels,
                meta: json_bytes(c.meta),
                ..Default::default()
            }))
        })
        .await
    }

    async fn refresh(
        &self,
        request: Request<proto::RefreshRequest>,
    ) -> Result<Response<proto::RefreshResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let common = Common::of(&req);
        let route = HookRoute::single(self.router.hook_table().refresh.as_ref());
        self.hook(
            "refresh",
            common,
            metadata,
            route,
            Ok(RefreshEvent {}),
            |r| {
                reply(r.map(|c| proto::RefreshResult {
                    expired: c.expired,
                    expire_at: c.expire_at,
                    info: json_bytes(c.info),
                    ..Default::default()
                }))
            },
        )
        .await
    }

    async fn subscribe(
        &self,
        request: Request<proto::SubscribeRequest>,
    ) -> Result<Response<proto::SubscribeResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let limit = self.limits.max_payload;
        let event = Payload::decode(&req.data, &req.b64data, &req.encoding, limit).map(|p| {
            SubscribeEvent {
                channel: req.channel.clone(),
                token: req.token.clone(),
                data: p.bytes.into_owned(),
            }
        });
        let common = Common::of(&req);
        let table = &self.router.hook_table().subscribe;
        let route = HookRoute::by_channel(table, "subscribe", &req.channel);
        self.hook("subscribe", common, metadata, route, event, |r| {
            reply(r.map(|c| proto::SubscribeResult {
                expire_at: c.expire_at.unwrap_or_default(),
                info: json_bytes(c.info),
                data: json_bytes(c.data),
                ..Default::default()
            }))
        })
        .await
    }

    async fn publish(
        &self,
        request: Request<proto::PublishRequest>,
    ) -> Result<Response<proto::PublishResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let limit = self.limits.max_payload;
        let event =
            Payload::decode(&req.data, &req.b64data, &req.encoding, limit).map(|p| PublishEvent {
                channel: req.channel.clone(),
                data: p.bytes.into_owned(),
            });
        let common = Common::of(&req);
        let table = &self.router.hook_table().publish;
        let route = HookRoute::by_channel(table, "publish", &req.channel);
        self.hook("publish", common, metadata, route, event, |r| {
            reply(r.map(|c| proto::PublishResult {
                data: json_bytes(c.data),
                skip_history: c.skip_history,
                ..Default::default()
            }))
        })
        .await
    }

    async fn sub_refresh(
        &self,
        request: Request<proto::SubRefreshRequest>,
    ) -> Result<Response<proto::SubRefreshResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let common = Common::of(&req);
        let event = Ok(SubRefreshEvent {
            channel: req.channel.clone(),
        });
        let route = HookRoute::single(self.router.hook_table().sub_refresh.as_ref());
        self.hook("sub_refresh", common, metadata, route, event, |r| {
            reply(r.map(|c| proto::SubRefreshResult {
                expired: c.expired,
                expire_at: c.expire_at,
                info: json_bytes(c.info),
                ..Default::default()
            }))
        })
        .await
    }
}

/// A proxy reply: `result`, or an `error`, or a `disconnect`.
trait ProxyReply: Default {
    type Result;
    fn set(
        &mut self,
        result: Option<Self::Result>,
        error: Option<proto::Error>,
        disconnect: Option<proto::Disconnect>,
    );
}

macro_rules! proxy_reply {
    ($($reply:ty => $result:ty),* $(,)?) => {$(
        impl ProxyReply for $reply {
            type Result = $result;
            fn set(&mut self, result: Option<$result>, error: Option<proto::Error>, disconnect: Option<proto::Disconnect>) {
                (self.result, self.error, self.disconnect) = (result, error, disconnect);
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

/// Builds a proxy reply from an outcome.
fn reply<R: ProxyReply>(outcome: Result<R::Result, RpcError>) -> R {
    let mut reply = R::default();
    match outcome {
        Ok(result) => reply.set(Some(result), None, None),
        Err(err) => match err.into_wire() {
            Wire::Error(e) => reply.set(None, Some(e), None),
            Wire::Disconnect(d) => reply.set(None, None, Some(d)),
        },
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["", "S", "10x", "-1S"] {
            m.insert("grpc-timeout", bad.parse().unwrap());
            assert_eq!(grpc_timeout(&m), None, "{bad}");
        }
    }

    #[test]
    fn payload_prefers_b64_in_binary_mode_and_enforces_the_limit() {
        let p = Payload::decode(b"", "eyJhIjoxfQ==", "binary", 100).unwrap();
        assert_eq!((&*p.bytes, p.binary), (&b"{\"a\":1}"[..], true));
        let p = Payload::decode(b"{}", "", "json", 100).unwrap();
        assert!(!p.binary);
        assert_eq!(
            Payload::decode(b"", "!!", "binary", 100)
                .err()
                .unwrap()
                .code(),
            crate::error::codes::MALFORMED_JSON
        );
        assert_eq!(
            Payload::decode(&[b' '; 101], "", "json", 100)
                .err()
                .unwrap()
                .code(),
            crate::error::codes::PAYLOAD_TOO_LARGE
        );
        let big = B64.encode([b' '; 200]);
        assert_eq!(
            Payload::decode(b"", &big, "binary", 100)
                .err()
                .unwrap()
                .code(),
            crate::error::codes::PAYLOAD_TOO_LARGE
        );
    }
}
