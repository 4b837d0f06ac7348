//! The error model: application errors and disconnects, which travel *inside* Centrifugo's proxy
//! replies (`RPCResponse.error` / `.disconnect`), never as a gRPC status.
//!
//! Centrifugo turns any gRPC status into an opaque `100 internal server error` for the client, so
//! everything a client should see, including centrpc's own failures (bad JSON, unknown method,
//! overload…), is an [`RpcError`] with a code in the application range 400–1999. A handler can
//! also end the call by closing the client's connection with a [`disconnect`](RpcError::disconnect)
//! code in 4000–4999.
//!
//! Any `std::error::Error` converts into an [`RpcError`] with `?`: it becomes the sanitised
//! [`codes::INTERNAL`] error for the client, while the full error is logged on the server.

use std::{borrow::Cow, fmt};

use crate::proto;

/// The error codes centrpc itself returns, all in Centrifugo's application range 400–1999.
///
/// Applications may use any code in 400–1999; codes 1000–1999 never collide with these.
pub mod codes {
    /// The payload is not valid JSON (or `b64data` is not valid base64).
    pub const MALFORMED_JSON: u32 = 400;
    /// The method is not registered.
    pub const METHOD_NOT_FOUND: u32 = 404;
    /// The payload is larger than the server's `--max-payload`.
    pub const PAYLOAD_TOO_LARGE: u32 = 413;
    /// The payload is JSON but does not match the method's params type.
    pub const INVALID_PARAMS: u32 = 422;
    /// The handler failed or panicked; details are in the server log only.
    pub const INTERNAL: u32 = 500;
    /// The server is at its concurrency limit (temporary: retry later).
    pub const OVERLOADED: u32 = 503;
    /// The handler ran past its deadline and was cancelled (temporary).
    pub const TIMED_OUT: u32 = 504;
    /// No subscribe/publish hook pattern matches the channel.
    pub const CHANNEL_NOT_ALLOWED: u32 = 403;
    /// The caller is over a rate limit (temporary; the message says when to retry).
    pub const RATE_LIMITED: u32 = 429;

    /// The range Centrifugo accepts for application error codes.
    pub const APP_RANGE: std::ops::RangeInclusive<u32> = 400..=1999;
    /// The range Centrifugo accepts for application disconnect codes (4500–4999: no reconnect).
    pub const DISCONNECT_RANGE: std::ops::RangeInclusive<u32> = 4000..=4999;
    /// Longest disconnect reason, in bytes, that Centrifugo documents.
    pub const MAX_DISCONNECT_REASON: usize = 32;
}

/// A built-in error code, for the schema document and the docs.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinError {
    /// The code.
    pub code: u32,
    /// Its constant name in [`codes`].
    pub name: &'static str,
    /// Whether clients may retry.
    pub temporary: bool,
    /// When it is returned.
    pub meaning: &'static str,
}

/// Every error code centrpc itself returns.
pub const BUILTIN_ERRORS: &[BuiltinError] = &[
    BuiltinError {
        code: codes::MALFORMED_JSON,
        name: "MALFORMED_JSON",
        temporary: false,
        meaning: "the payload is not valid JSON",
    },
    BuiltinError {
        code: codes::CHANNEL_NOT_ALLOWED,
        name: "CHANNEL_NOT_ALLOWED",
        temporary: false,
        meaning: "no hook allows this channel",
    },
    BuiltinError {
        code: codes::METHOD_NOT_FOUND,
        name: "METHOD_NOT_FOUND",
        temporary: false,
        meaning: "no such method",
    },
    BuiltinError {
        code: codes::PAYLOAD_TOO_LARGE,
        name: "PAYLOAD_TOO_LARGE",
        temporary: false,
        meaning: "the payload exceeds the server's limit",
    },
    BuiltinError {
        code: codes::INVALID_PARAMS,
        name: "INVALID_PARAMS",
        temporary: false,
        meaning: "the params do not match the method's type",
    },
    BuiltinError {
        code: codes::RATE_LIMITED,
        name: "RATE_LIMITED",
        temporary: true,
        meaning: "the caller is over a rate limit; the message says when to retry",
    },
    BuiltinError {
        code: codes::INTERNAL,
        name: "INTERNAL",
        temporary: false,
        meaning: "the handler failed; details are in the server log",
    },
    BuiltinError {
        code: codes::OVERLOADED,
        name: "OVERLOADED",
        temporary: true,
        meaning: "the server is at its concurrency limit",
    },
    BuiltinError {
        code: codes::TIMED_OUT,
        name: "TIMED_OUT",
        temporary: true,
        meaning: "the handler ran past its deadline",
    },
];

/// An application error a method declares it may return, for the API document and the
/// generated clients' docs: `DeclaredError::new(1004, "TASK_NOT_FOUND", "No task with that id.")`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeclaredError {
    /// The code, in the application range 400–1999 (1000–1999 never collide with centrpc's own).
    pub code: u32,
    /// A constant-style name, e.g. `TASK_NOT_FOUND`.
    pub name: &'static str,
    /// When the method returns it.
    pub description: &'static str,
    /// Whether clients may retry.
    pub temporary: bool,
}

impl DeclaredError {
    /// A permanent application error `code` named `name`.
    pub const fn new(code: u32, name: &'static str, description: &'static str) -> Self {
        Self {
            code,
            name,
            description,
            temporary: false,
        }
    }

    /// Marks the error as temporary (retrying may succeed).
    pub const fn temporary(mut self) -> Self {
        self.temporary = true;
        self
    }
}

/// The outcome of a failed call: an error reply to the client, or a disconnect of its connection.
///
/// Build one with [`RpcError::new`] (application error), a built-in constructor such as
/// [`RpcError::invalid_params`], or [`RpcError::disconnect`]. Any `std::error::Error` converts
/// with `?` into an [`codes::INTERNAL`] error whose detail is logged, not sent.
pub struct RpcError {
    kind: Kind,
    /// Who produced it: the application, or one of centrpc's built-in checks.
    origin: ErrorKind,
    /// What is logged but never sent to the client (the original error, a panic message…).
    detail: Option<String>,
}

/// What produced an [`RpcError`]: the application, or one of centrpc's own checks. Metrics and
/// logs label calls by it, so an application's own code 404 is still an application error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An error the application built with [`RpcError::new`].
    App,
    /// A disconnect ([`RpcError::disconnect`]).
    Disconnect,
    /// [`codes::MALFORMED_JSON`].
    MalformedJson,
    /// [`codes::METHOD_NOT_FOUND`].
    MethodNotFound,
    /// [`codes::PAYLOAD_TOO_LARGE`].
    PayloadTooLarge,
    /// [`codes::INVALID_PARAMS`].
    InvalidParams,
    /// [`codes::CHANNEL_NOT_ALLOWED`].
    ChannelNotAllowed,
    /// [`codes::RATE_LIMITED`].
    RateLimited,
    /// [`codes::INTERNAL`]: a failed or panicking handler.
    Internal,
    /// [`codes::OVERLOADED`].
    Overloaded,
    /// [`codes::TIMED_OUT`].
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Error {
        code: u32,
        message: Cow<'static, str>,
        temporary: bool,
    },
    Disconnect {
        code: u32,
        reason: Cow<'static, str>,
    },
}

impl RpcError {
    /// An application error with `code` (400–1999) and a message for the client.
    pub fn new(code: u32, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: Kind::Error {
                code,
                message: message.into(),
                temporary: false,
            },
            origin: ErrorKind::App,
            detail: None,
        }
    }

    /// A built-in error of `origin`.
    fn builtin(origin: ErrorKind, code: u32, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            origin,
            ..Self::new(code, message)
        }
    }

    /// Ends the call by closing the client's connection with `code` (4000–4499: the client
    /// reconnects; 4500–4999: it does not) and a short `reason` (at most 32 bytes).
    pub fn disconnect(code: u32, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: Kind::Disconnect {
                code,
                reason: reason.into(),
            },
            origin: ErrorKind::Disconnect,
            detail: None,
        }
    }

    /// Marks the error as temporary, telling clients that retrying may succeed.
    pub fn temporary(mut self) -> Self {
        if let Kind::Error { temporary, .. } = &mut self.kind {
            *temporary = true;
        }
        self
    }

    /// Attaches server-side detail that is logged with the call but never sent to the client.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// [`codes::MALFORMED_JSON`]: the payload could not be parsed.
    pub fn malformed_json(message: impl fmt::Display) -> Self {
        Self::builtin(
            ErrorKind::MalformedJson,
            codes::MALFORMED_JSON,
            format!("malformed JSON: {message}"),
        )
    }

    /// [`codes::INVALID_PARAMS`]: the payload does not match the params type.
    pub fn invalid_params(message: impl fmt::Display) -> Self {
        Self::builtin(
            ErrorKind::InvalidParams,
            codes::INVALID_PARAMS,
            format!("invalid params: {message}"),
        )
    }

    /// [`codes::METHOD_NOT_FOUND`]: no handler is registered under `method`.
    pub fn method_not_found(method: &str) -> Self {
        let shown: String = method.chars().take(64).collect();
        Self::builtin(
            ErrorKind::MethodNotFound,
            codes::METHOD_NOT_FOUND,
            format!("method not found: {shown:?}"),
        )
    }

    /// [`codes::PAYLOAD_TOO_LARGE`]: the payload exceeds `limit` bytes.
    pub fn payload_too_large(size: usize, limit: usize) -> Self {
        Self::builtin(
            ErrorKind::PayloadTooLarge,
            codes::PAYLOAD_TOO_LARGE,
            format!("payload too large: {size} bytes, the limit is {limit}"),
        )
    }

    /// [`codes::TIMED_OUT`] (temporary): the handler did not finish in time.
    pub fn timed_out() -> Self {
        Self::builtin(ErrorKind::TimedOut, codes::TIMED_OUT, "timed out").temporary()
    }

    /// [`codes::OVERLOADED`] (temporary): the server is at its concurrency limit.
    pub fn overloaded() -> Self {
        Self::builtin(
            ErrorKind::Overloaded,
            codes::OVERLOADED,
            "server overloaded, retry later",
        )
        .temporary()
    }

    /// [`codes::INTERNAL`]: a sanitised "internal error" for the client; `detail` is only logged.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::builtin(ErrorKind::Internal, codes::INTERNAL, "internal error").with_detail(detail)
    }

    /// [`codes::CHANNEL_NOT_ALLOWED`]: no hook allows `action` on `channel`.
    pub fn channel_not_allowed(action: &str, channel: &str) -> Self {
        let shown: String = channel.chars().take(128).collect();
        Self::builtin(
            ErrorKind::ChannelNotAllowed,
            codes::CHANNEL_NOT_ALLOWED,
            format!("{action} to {shown:?} is not allowed"),
        )
    }

    /// [`codes::RATE_LIMITED`] (temporary): over a rate limit; the client may retry after
    /// `retry_after`, which the message states as `retry after <n> ms`.
    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        let ms = retry_after.as_millis().max(1);
        Self::builtin(
            ErrorKind::RateLimited,
            codes::RATE_LIMITED,
            format!("rate limit exceeded, retry after {ms} ms"),
        )
        .temporary()
    }

    /// What produced this error: the application or one of centrpc's checks.
    pub fn kind(&self) -> ErrorKind {
        self.origin
    }

    /// The error or disconnect code.
    pub fn code(&self) -> u32 {
        match &self.kind {
            Kind::Error { code, .. } | Kind::Disconnect { code, .. } => *code,
        }
    }

    /// The message (or disconnect reason) the client sees.
    pub fn message(&self) -> &str {
        match &self.kind {
            Kind::Error { message, .. } => message,
            Kind::Disconnect { reason, .. } => reason,
        }
    }

    /// Whether the client may retry.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.kind,
            Kind::Error {
                temporary: true,
                ..
            }
        )
    }

    /// Whether this outcome disconnects the client rather than answering with an error.
    pub fn is_disconnect(&self) -> bool {
        matches!(self.kind, Kind::Disconnect { .. })
    }

    /// Server-side detail (logged, never sent).
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// Checks the codes against Centrifugo's ranges. An out-of-range code becomes an internal
    /// error (the handler's mistake is logged), and an over-long reason is cut at 32 bytes.
    pub(crate) fn sanitized(self) -> Self {
        match &self.kind {
            Kind::Error { code, .. } if !codes::APP_RANGE.contains(code) => Self::internal(
                format!("handler returned error code {code} outside 400..=1999: {self}"),
            ),
            Kind::Disconnect { code, .. } if !codes::DISCONNECT_RANGE.contains(code) => {
                Self::internal(format!(
                    "handler returned disconnect code {code} outside 4000..=4999: {self}"
                ))
            }
            Kind::Disconnect { code, reason }
                if reason.len() > codes::MAX_DISCONNECT_REASON || !reason.is_ascii() =>
            {
                let cut: String = reason
                    .chars()
                    .filter(char::is_ascii)
                    .take(codes::MAX_DISCONNECT_REASON)
                    .collect();
                Self {
                    kind: Kind::Disconnect {
                        code: *code,
                        reason: cut.into(),
                    },
                    origin: ErrorKind::Disconnect,
                    detail: Some(format!("disconnect reason shortened from {reason:?}")),
                }
            }
            _ => self,
        }
    }

    /// The wire form: either `Error` or `Disconnect` for a proxy reply.
    pub(crate) fn into_wire(self) -> Wire {
        match self.sanitized().kind {
            Kind::Error {
                code,
                message,
                temporary,
            } => Wire::Error(proto::Error {
                code,
                message: message.into_owned(),
                temporary,
            }),
            Kind::Disconnect { code, reason } => Wire::Disconnect(proto::Disconnect {
                code,
                reason: reason.into_owned(),
            }),
        }
    }
}

/// An [`RpcError`] as it goes on the wire.
pub(crate) enum Wire {
    Error(proto::Error),
    Disconnect(proto::Disconnect),
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for RpcError {
    fn from(err: E) -> Self {
        let mut detail = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        Self::internal(detail)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Error { code, message, .. } => write!(f, "error {code}: {message}")?,
            Kind::Disconnect { code, reason } => write!(f, "disconnect {code}: {reason}")?,
        }
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcError")
            .field("kind", &self.kind)
            .field("origin", &self.origin)
            .field("detail", &self.detail)
            .finish()
    }
}

/// Adds an application code to any `Result` or `Option`, keeping the original error as
/// server-side detail: `store.get(id).or_rpc(1004, "task not found")?`.
pub trait ResultExt<T> {
    /// Replaces the error (or `None`) with `RpcError::new(code, message)`.
    fn or_rpc(self, code: u32, message: impl Into<Cow<'static, str>>) -> Result<T, RpcError>;
}

impl<T, E: fmt::Display> ResultExt<T> for Result<T, E> {
    fn or_rpc(self, code: u32, message: impl Into<Cow<'static, str>>) -> Result<T, RpcError> {
        self.map_err(|e| RpcError::new(code, message).with_detail(e))
    }
}

impl<T> ResultExt<T> for Option<T> {
    fn or_rpc(self, code: u32, message: impl Into<Cow<'static, str>>) -> Result<T, RpcError> {
        self.ok_or_else(|| RpcError::new(code, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_error(e: RpcError) -> proto::Error {
        match e.into_wire() {
            Wire::Error(e) => e,
            Wire::Disconnect(d) => panic!("expected an error, got disconnect {d:?}"),
        }
    }

    #[test]
    fn std_errors_become_sanitised_internal_errors() {
        let err: RpcError = "x".parse::<u32>().unwrap_err().into();
        assert_eq!(err.code(), codes::INTERNAL);
        assert_eq!(err.message(), "internal error");
        assert!(err.detail().unwrap().contains("invalid digit"));
        let wire = wire_error(err);
        assert_eq!(wire.message, "internal error");
        assert!(!wire.temporary);
    }

    #[test]
    fn out_of_range_codes_become_internal() {
        assert_eq!(wire_error(RpcError::new(100, "x")).code, codes::INTERNAL);
        assert_eq!(wire_error(RpcError::new(2000, "x")).code, codes::INTERNAL);
        assert_eq!(wire_error(RpcError::new(1999, "x")).code, 1999);
        assert_eq!(
            wire_error(RpcError::disconnect(3000, "x")).code,
            codes::INTERNAL
        );
    }

    #[test]
    fn long_disconnect_reasons_are_cut_to_32_ascii_bytes() {
        match RpcError::disconnect(4500, "é".repeat(5) + &"x".repeat(40)).into_wire() {
            Wire::Disconnect(d) => {
                assert_eq!(d.code, 4500);
                assert_eq!(d.reason, "x".repeat(32));
            }
            Wire::Error(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn the_kind_comes_from_the_constructor_not_the_code() {
        assert_eq!(RpcError::new(404, "mine").kind(), ErrorKind::App);
        assert_eq!(
            RpcError::method_not_found("x").kind(),
            ErrorKind::MethodNotFound
        );
        let limited = RpcError::rate_limited(std::time::Duration::from_millis(250));
        assert_eq!(
            (limited.kind(), limited.code()),
            (ErrorKind::RateLimited, 429)
        );
        assert!(limited.is_temporary());
        assert!(
            limited.message().contains("retry after 250 ms"),
            "{}",
            limited.message()
        );
        let internal: RpcError = "x".parse::<u32>().unwrap_err().into();
        assert_eq!(internal.kind(), ErrorKind::Internal);
        assert_eq!(
            RpcError::disconnect(4500, "bye").kind(),
            ErrorKind::Disconnect
        );
    }

    #[test]
    fn temporary_only_applies_to_errors() {
        assert!(RpcError::overloaded().is_temporary());
        assert!(!RpcError::disconnect(4000, "bye").temporary().is_temporary());
    }

    #[test]
    fn or_rpc_keeps_the_cause_as_detail() {
        let e = Err::<(), _>("disk on fire")
            .or_rpc(1500, "storage failed")
            .unwrap_err();
        assert_eq!((e.code(), e.message()), (1500, "storage failed"));
        assert_eq!(e.detail(), Some("disk on fire"));
        let e = None::<u8>.or_rpc(1004, "not found").unwrap_err();
        assert_eq!(e.code(), 1004);
    }
}
