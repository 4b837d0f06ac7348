//! `call`'s default target: the backend's own gRPC port, as Centrifugo dials it, with the same
//! proxy credentials and TLS settings (a `CentrifugoProxy.RPC` request built from flags).

use std::{path::PathBuf, time::Duration};

use tonic::{
    metadata::{MetadataKey, MetadataValue},
    transport::{Certificate, ClientTlsConfig, Endpoint, Identity},
    Code,
};

use super::{Failure, Outcome};
use crate::proto::{centrifugo_proxy_client::CentrifugoProxyClient, RpcRequest};

/// Where and how to dial the backend.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `host:port`.
    pub address: String,
    /// Proxy credentials: metadata key and value.
    pub credentials: Option<(String, String)>,
    /// TLS, when the backend serves it.
    pub tls: Option<Tls>,
    /// Bound on connecting plus the call.
    pub timeout: Duration,
}

/// Client-side TLS: the CA to trust, an optional client identity (mTLS), the name to verify.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    pub ca: PathBuf,
    pub identity: Option<(PathBuf, PathBuf)>,
    pub server_name: Option<String>,
}

/// Who the call claims to come from (what Centrifugo would fill in).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user: String,
    pub client: String,
    pub transport: String,
    pub meta: Option<Vec<u8>>,
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Sends one RPC. `Err(String)` is a local configuration problem (unreadable PEM, bad address).
pub(crate) async fn call(
    target: &Target,
    caller: &Caller,
    method: &str,
    payload: Vec<u8>,
) -> Result<Result<Outcome, Failure>, String> {
    let scheme = if target.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", target.address))
        .map_err(|e| format!("invalid backend address {:?}: {e}", target.address))?
        .connect_timeout(target.timeout)
        .timeout(target.timeout);
    if let Some(tls) = &target.tls {
        let mut config =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&tls.ca)?));
        if let Some((cert, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        let host = target
            .address
            .rsplit_once(':')
            .map_or(target.address.as_str(), |(h, _)| h);
        config = config.domain_name(tls.server_name.clone().unwrap_or_else(|| host.to_owned()));
        endpoint = endpoint
            .tls_config(config)
            .map_err(|e| format!("invalid TLS settings: {e}"))?;
    }
    let channel = match endpoint.connect().await {
        Ok(c) => c,
        Err(e) => return Ok(Err(transport_failure(describe_transport(&e)))),
    };
    let mut request = tonic::Request::new(RpcRequest {
        client: caller.client.clone(),
        transport: caller.transport.clone(),
        protocol: "json".into(),
        encoding: "json".into(),
        user: caller.user.clone(),
        method: method.to_owned(),
        data: payload,
        meta: caller.meta.clone().unwrap_or_default(),
        ..RpcRequest::default()
    });
    if let Some((key, value)) = &target.credentials {
        let key = MetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
            .map_err(|_| format!("--auth-key {key:?} is not a valid gRPC metadata key"))?;
        let value = MetadataValue::try_from(value.as_str())
            .map_err(|_| "--auth-value is not a valid gRPC metadata value".to_owned())?;
        request.metadata_mut().insert(key, value);
    }
    let reply = match CentrifugoProxyClient::new(channel).rpc(request).await {
        Ok(r) => r.into_inner(),
        Err(status) => {
            let said = format!("{:?}: {}", status.code(), status.message());
            return Ok(Err(match status.code() {
                Code::Unauthenticated | Code::PermissionDenied => Failure::Refused(format!(
                    "the backend refused the proxy credentials ({said}); set --auth-key/--auth-value (CENTRPC_AUTH_KEY/CENTRPC_AUTH_VALUE) as for `serve`"
                )),
                Code::Unavailable => transport_failure(format!(
                    "the backend at {} is unavailable ({}; {})",
                    target.address,
                    said,
                    source_chain(&status)
                )),
                _ => transport_failure(format!(
                    "the backend answered gRPC {said} ({})",
                    source_chain(&status)
                )),
            }));
        }
    };
    if let Some(e) = reply.error {
        return Ok(Ok(Outcome::Error {
            code: e.code,
            message: e.message,
            temporary: e.temporary,
        }));
    }
    if let Some(d) = reply.disconnect {
        return Ok(Ok(Outcome::Disconnect {
            code: d.code,
            reason: d.reason,
        }));
    }
    let result = reply.result.unwrap_or_default();
    let bytes = if result.b64data.is_empty() {
        result.data
    } else {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(result.b64data)
            .map_err(|e| format!("the backend sent invalid b64data: {e}"))?
    };
    Ok(Ok(Outcome::Result(json_or_string(&bytes))))
}

/// The result as JSON, or as a string when the backend sent something else.
fn json_or_string(bytes: &[u8]) -> serde_json::Value {
    if bytes.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// A transport error with its causes, which carry the useful part (refused, TLS, timeout).
/// A transport failure (exit 4). With TLS 1.3 a server that turns the client certificate away
/// does so after the client's handshake, so the client sees either that alert or just a closed
/// connection, depending on timing: both are the same exit code, and the message hints at the
/// certificate when the alert came through.
fn transport_failure(text: String) -> Failure {
    if text.contains("received fatal alert: CertificateRequired") {
        return Failure::Unreachable(format!(
            "{text} (the backend requires a client certificate: set --proxy-tls-cert/--proxy-tls-key as for `centrifugo-config`)"
        ));
    }
    Failure::Unreachable(text)
}

fn describe_transport(e: &tonic::transport::Error) -> String {
    let mut text = format!("cannot connect to the backend: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn source_chain(status: &tonic::Status) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        "no further detail".into()
    } else {
        parts.join(": ")
    }
}
