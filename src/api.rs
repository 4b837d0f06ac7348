//! A client for Centrifugo's server HTTP API, so handlers can publish (progress of long work to
//! the caller's personal channel, notifications…). Failures come back as a typed [`ApiError`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The environment variable [`ServerApi::from_env`] reads the API URL from.
pub const URL_ENV: &str = "CENTRPC_CENTRIFUGO_API_URL";
/// The environment variable [`ServerApi::from_env`] reads the API key from.
pub const KEY_ENV: &str = "CENTRPC_CENTRIFUGO_API_KEY";

/// Why a server API call failed.
#[derive(Debug)]
pub enum ApiError {
    /// The request did not complete (connection refused, timeout…).
    Transport(String),
    /// Centrifugo answered with a non-success HTTP status (e.g. 401 for a wrong API key).
    Http(u16, String),
    /// Centrifugo answered with an API error (e.g. 102 unknown channel).
    Api {
        /// Centrifugo's error code.
        code: u32,
        /// Its message.
        message: String,
    },
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "Centrifugo API unreachable: {e}"),
            Self::Http(status, body) => write!(f, "Centrifugo API answered HTTP {status}: {body}"),
            Self::Api { code, message } => write!(f, "Centrifugo API error {code}: {message}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// Centrifugo's server API at `url` (e.g. `http://127.0.0.1:8000/api`), authenticated by `key`.
#[derive(Clone)]
pub struct ServerApi {
    url: String,
    key: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for ServerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerApi")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Reply {
    error: Option<ReplyError>,
}

#[derive(Deserialize)]
struct ReplyError {
    code: u32,
    message: String,
}

#[derive(Serialize)]
struct Publish<'a, T> {
    channel: &'a str,
    data: &'a T,
}

impl ServerApi {
    /// A client for the API at `url` with API key `key`.
    pub fn new(url: impl Into<String>, key: impl Into<String>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("the HTTP client builds");
        Self {
            url: url.into().trim_end_matches('/').to_owned(),
            key: key.into(),
            http,
        }
    }

    /// From `CENTRPC_CENTRIFUGO_API_URL` and `CENTRPC_CENTRIFUGO_API_KEY`, if both are set.
    pub fn from_env() -> Option<Self> {
        let url = std::env::var(URL_ENV).ok()?;
        let key = std::env::var(KEY_ENV).ok()?;
        Some(Self::new(url, key))
    }

    /// Publishes `data` (as JSON) into `channel`.
    pub async fn publish<T: Serialize>(&self, channel: &str, data: &T) -> Result<(), ApiError> {
        self.call("publish", &Publish { channel, data }).await
    }

    /// Publishes `data` into a channel of a typed [`Channel`](crate::Channel): only the
    /// channel's declared publication type compiles.
    ///
    /// ```compile_fail
    /// # async fn f(api: centrpc::ServerApi) {
    /// const TICKS: centrpc::Channel<u32> = centrpc::Channel::new("ticks:*");
    /// api.publish_to(&TICKS.at("a"), &"not a u32").await; // error: expected `&u32`
    /// # }
    /// ```
    pub async fn publish_to<T: Serialize>(
        &self,
        channel: &crate::ChannelName<T>,
        data: &T,
    ) -> Result<(), ApiError> {
        self.publish(channel.as_str(), data).await
    }

    /// Calls any API method (`publish`, `broadcast`, `disconnect`, …) with a JSON body.
    pub async fn call<B: Serialize>(&self, method: &str, body: &B) -> Result<(), ApiError> {
        let response = self
            .http
            .post(format!("{}/{method}", self.url))
            .header("X-API-Key", &self.key)
            .json(body)
            .send()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        if !status.is_success() {
            return Err(ApiError::Http(
                status.as_u16(),
                text.chars().take(200).collect(),
            ));
        }
        let reply: Reply = serde_json::from_str(&text)
            .map_err(|e| ApiError::Transport(format!("unexpected reply {text:?}: {e}")))?;
        match reply.error {
            Some(e) => Err(ApiError::Api {
                code: e.code,
                message: e.message,
            }),
            None => Ok(()),
        }
    }
}
