//! Toxiproxy (pinned by `scripts/setup.sh toxiproxy`), a real TCP fault proxy, driven over its
//! HTTP API: one server process per test on a free loopback port, killed on drop.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Child, Command},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use super::stack::free_port;

/// A running `toxiproxy-server`.
pub struct Toxiproxy {
    child: Child,
    api: u16,
    dir: tempfile::TempDir,
}

/// Which way a toxic acts: `Upstream` is client → server (Centrifugo → centrpc), `Downstream`
/// the replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Upstream,
    Downstream,
}

impl Stream {
    pub const BOTH: [Stream; 2] = [Stream::Upstream, Stream::Downstream];

    fn name(self) -> &'static str {
        match self {
            Self::Upstream => "upstream",
            Self::Downstream => "downstream",
        }
    }
}

impl Toxiproxy {
    /// Starts the server and waits until its API answers.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let api = free_port();
        let log = std::fs::File::create(dir.path().join("toxiproxy.log")).unwrap();
        let child = Command::new(super::tool("toxiproxy-server"))
            .args(["-host", "127.0.0.1", "-port", &api.to_string()])
            .env("LOG_LEVEL", "warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let t = Self { child, api, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while t.try_request("GET", "/version", None).is_err() {
            assert!(
                Instant::now() < deadline,
                "toxiproxy did not start:\n{}",
                t.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        t
    }

    /// The server's log, for failure messages.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("toxiproxy.log")).unwrap_or_default()
    }

    /// Listens on 127.0.0.1:`listen` and forwards every connection to `upstream`.
    pub fn create_proxy(&self, name: &str, listen: u16, upstream: SocketAddr) {
        self.request(
            "POST",
            "/proxies",
            Some(json!({
                "name": name,
                "listen": format!("127.0.0.1:{listen}"),
                "upstream": upstream.to_string(),
                "enabled": true,
            })),
        );
    }

    /// Adds toxic `name` of `kind` (latency, bandwidth, timeout, reset_peer, …) on `stream` of
    /// every connection of `proxy`, current and future.
    pub fn add_toxic(
        &self,
        proxy: &str,
        name: &str,
        kind: &str,
        stream: Stream,
        attributes: Value,
    ) {
        self.request(
            "POST",
            &format!("/proxies/{proxy}/toxics"),
            Some(json!({
                "name": name,
                "type": kind,
                "stream": stream.name(),
                "toxicity": 1.0,
                "attributes": attributes,
            })),
        );
    }

    /// Removes toxic `name`.
    pub fn remove_toxic(&self, proxy: &str, name: &str) {
        self.request("DELETE", &format!("/proxies/{proxy}/toxics/{name}"), None);
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_request(method, path, body) {
            Ok((status, reply)) if (200..300).contains(&status) => {
                serde_json::from_str(&reply).unwrap_or(Value::Null)
            }
            Ok((status, reply)) => panic!("toxiproxy {method} {path}: {status} {reply}"),
            Err(e) => panic!("toxiproxy {method} {path}: {e}\n{}", self.logs()),
        }
    }

    /// One HTTP/1.1 request (`Connection: close`); the status and body.
    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> std::io::Result<(u16, String)> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut s = TcpStream::connect(("127.0.0.1", self.api))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut reply = String::new();
        s.read_to_string(&mut reply)?;
        let status = reply
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not HTTP: {reply:?}")))?;
        let body = reply
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        Ok((status, body))
    }
}

impl Drop for Toxiproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
