//! Developer tools built from the app's own API: `call` (try a method without base64, over the
//! backend's gRPC port or through Centrifugo), `subscribe` (print a channel's or a stream's
//! publications as JSON lines) and `docs` (a one-file API reference page with a live console). Both read the router the binary already has, so they never drift from it.
//!
//! Behind the `devtools` feature (on by default).

pub(crate) mod call;
mod centrifugo;
pub(crate) mod docs;
mod grpc;
pub(crate) mod subscribe;

/// What one call came back with, from either target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The method's result (JSON).
    Result(serde_json::Value),
    /// An error carried in the reply: the method's own, centrpc's, or Centrifugo's.
    Error {
        /// The error code.
        code: u32,
        /// Its message.
        message: String,
        /// Whether a retry may work.
        temporary: bool,
    },
    /// The reply asked to disconnect the client.
    Disconnect {
        /// The disconnect code.
        code: u32,
        /// Its reason.
        reason: String,
    },
}

/// Why a call did not get an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The target could not be reached or did not answer (connection, TLS, timeout, protocol).
    Unreachable(String),
    /// The target refused who we are (proxy credentials, connection token).
    Refused(String),
}
