//! A real deployment on loopback: the example app binary (`serve`), the Centrifugo config it
//! prints itself (`centrifugo-config`), and Centrifugo 6.9.1 — plus the official SDK drivers of
//! `e2e/` to talk to it over WebSocket.

use std::{
    io::Write,
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::certs::{self, Pki};

pub const HMAC_SECRET: &str = "e2e-hmac-secret";
pub const API_KEY: &str = "e2e-api-key";
pub const AUTH_KEY: &str = "x-centrpc-auth";
pub const AUTH_VALUE: &str = "e2e-proxy-secret";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example app binary, built by `cargo test` / `make test`.
pub fn example_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("tasks");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --examples` (make test does)",
        path.display()
    );
    path
}

/// A free loopback port for a child process to bind. Ports are handed out in sequence from a
/// per-process block below Linux's ephemeral range (32768+): parallel tests never get the same
/// port, and outgoing connections never take one between this check and the child's bind.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 20_000 + (std::process::id() % 400) as u16 * 30;
    let _ = NEXT.compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst);
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "ran out of test ports");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// How Centrifugo reaches centrpc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Tls,
    Mtls,
}

/// What to vary between stacks.
#[derive(Debug, Clone)]
pub struct Options {
    pub transport: Transport,
    /// centrpc requires credentials (on by default).
    pub auth: bool,
    /// Centrifugo sends them (turn off to see the refusal).
    pub centrifugo_sends_credentials: bool,
    /// Centrifugo presents its client certificate under mTLS (turn off to see the refusal).
    pub centrifugo_presents_cert: bool,
    /// centrpc's --call-timeout.
    pub call_timeout: &'static str,
    /// Centrifugo's proxy timeout (default: derived by centrifugo-config).
    pub proxy_timeout: Option<&'static str>,
    /// Centrifugo's Redis engine address (several nodes sharing state); `None`: memory engine.
    pub redis: Option<String>,
    /// Centrifugo's HTTP port (default: a free one).
    pub centrifugo_port: Option<u16>,
    /// The Centrifugo server API the app publishes through (default: its own node's).
    pub api_url: Option<String>,
    /// More `CENTRPC_*` settings for both `serve` and `centrifugo-config`.
    pub extra_env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            transport: Transport::Plain,
            auth: true,
            centrifugo_sends_credentials: true,
            centrifugo_presents_cert: true,
            call_timeout: "5s",
            proxy_timeout: None,
            redis: None,
            centrifugo_port: None,
            api_url: None,
            extra_env: Vec::new(),
        }
    }
}

/// A running example app + Centrifugo pair; both are killed on drop.
pub struct Stack {
    app: Child,
    env: Vec<(String, String)>,
    centrifugo: Child,
    pub app_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub centrifugo_port: u16,
    pub dir: tempfile::TempDir,
}

impl Stack {
    pub fn start(opts: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let app_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let metrics_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let centrifugo_port = opts.centrifugo_port.unwrap_or_else(free_port);
        let pki: Option<Pki> =
            (opts.transport != Transport::Plain).then(|| certs::generate(&dir.path().join("pki")));

        let mut env: Vec<(String, String)> = vec![
            ("CENTRPC_LISTEN".into(), app_addr.to_string()),
            ("CENTRPC_METRICS_LISTEN".into(), metrics_addr.to_string()),
            ("CENTRPC_CALL_TIMEOUT".into(), opts.call_timeout.into()),
            ("CENTRPC_HMAC_SECRET".into(), HMAC_SECRET.into()),
            ("CENTRPC_CENTRIFUGO_API_KEY".into(), API_KEY.into()),
            (
                "CENTRPC_CENTRIFUGO_API_URL".into(),
                format!("http://127.0.0.1:{centrifugo_port}/api"),
            ),
            (
                "CENTRPC_CENTRIFUGO_PORT".into(),
                centrifugo_port.to_string(),
            ),
            ("CENTRPC_CENTRIFUGO_ADDRESS".into(), "127.0.0.1".into()),
            ("CENTRPC_LOG".into(), "info".into()),
        ];
        if opts.auth {
            env.push(("CENTRPC_AUTH_KEY".into(), AUTH_KEY.into()));
            env.push(("CENTRPC_AUTH_VALUE".into(), AUTH_VALUE.into()));
        }
        if let Some(pki) = &pki {
            let p = |p: &Path| p.display().to_string();
            env.push(("CENTRPC_TLS_CERT".into(), p(&pki.server_cert)));
            env.push(("CENTRPC_TLS_KEY".into(), p(&pki.server_key)));
            env.push(("CENTRPC_PROXY_TLS_CA".into(), p(&pki.ca)));
            env.push(("CENTRPC_PROXY_TLS_SERVER_NAME".into(), "localhost".into()));
            if opts.transport == Transport::Mtls {
                env.push(("CENTRPC_TLS_CLIENT_CA".into(), p(&pki.ca)));
                env.push(("CENTRPC_PROXY_TLS_CERT".into(), p(&pki.client_cert)));
                env.push(("CENTRPC_PROXY_TLS_KEY".into(), p(&pki.client_key)));
            }
        }
        if let Some(t) = opts.proxy_timeout {
            env.push(("CENTRPC_PROXY_TIMEOUT".into(), t.into()));
        }
        if let Some(redis) = &opts.redis {
            env.push(("CENTRPC_CENTRIFUGO_REDIS".into(), redis.clone()));
        }
        env.extend(
            opts.extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone())),
        );

        // The config comes from the app itself, so it matches the server it is run with.
        let out = Command::new(example_bin())
            .arg("centrifugo-config")
            .envs(env.iter().cloned())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "centrifugo-config: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut config: Value = serde_json::from_slice(&out.stdout).unwrap();
        if !opts.centrifugo_sends_credentials {
            strip_everywhere(&mut config, &["credentials_key", "credentials_value"]);
        }
        if !opts.centrifugo_presents_cert {
            strip_everywhere(&mut config, &["cert_pem", "key_pem"]);
        }
        let config_path = dir.path().join("centrifugo.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

        let app = spawn_app(&env, dir.path());
        let centrifugo = spawn_centrifugo(dir.path());
        let stack = Self {
            app,
            env,
            centrifugo,
            app_addr,
            metrics_addr,
            centrifugo_port,
            dir,
        };
        stack.wait_for(app_addr, "centrpc");
        stack.wait_for_centrifugo();
        stack
    }

    /// Waits until Centrifugo's `/health` answers 200: an accepting socket is not yet a ready node.
    fn wait_for_centrifugo(&self) {
        use std::io::Read;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready =
                TcpStream::connect(("127.0.0.1", self.centrifugo_port)).is_ok_and(|mut s| {
                    let mut reply = String::new();
                    s.write_all(b"GET /health HTTP/1.0\r\n\r\n").is_ok()
                        && s.read_to_string(&mut reply).is_ok()
                        && reply.starts_with("HTTP/1.0 200") | reply.starts_with("HTTP/1.1 200")
                });
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Centrifugo did not become ready:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, addr: SocketAddr, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "{what} did not start:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Both processes' logs, for failure messages.
    pub fn logs(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!(
            "--- centrpc ---\n{}\n--- centrifugo ---\n{}",
            read("app.log"),
            read("centrifugo.log")
        )
    }

    /// The `CENTRPC_*` environment both processes were started with (listen address, proxy
    /// credentials, TLS files, HMAC secret, Centrifugo port…).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn ws_url(&self) -> String {
        format!(
            "ws://127.0.0.1:{}/connection/websocket",
            self.centrifugo_port
        )
    }

    /// A connection token for `user`, with `meta` forwarded to handlers.
    pub fn token(&self, user: &str, meta: Option<Value>) -> String {
        let mut claims = centrpc::token::Claims::new(user, Some(Duration::from_secs(600)));
        claims.meta = meta;
        centrpc::token::sign(&claims, HMAC_SECRET)
    }

    /// The app's /metrics text.
    pub fn metrics(&self) -> String {
        use std::io::Read;
        let mut s = TcpStream::connect(self.metrics_addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// `centrpc_calls_total` of RPC `method`, by outcome label.
    pub fn rpc_outcomes(&self, method: &str) -> std::collections::BTreeMap<String, u64> {
        let prefix = format!(r#"centrpc_calls_total{{kind="rpc",method="{method}",outcome=""#);
        self.metrics()
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .filter_map(|rest| rest.split_once("\"} "))
            .map(|(outcome, n)| (outcome.to_owned(), n.trim().parse().unwrap()))
            .collect()
    }

    /// `centrpc_in_flight_calls`: calls whose handler is still running.
    pub fn in_flight(&self) -> u64 {
        self.metrics()
            .lines()
            .find_map(|l| l.strip_prefix("centrpc_in_flight_calls "))
            .map(|n| n.trim().parse().unwrap())
            .expect("the in-flight gauge is exported")
    }

    /// The app's process id.
    pub fn app_pid(&self) -> u32 {
        self.app.id()
    }

    /// Kills Centrifugo with SIGKILL and waits for it.
    pub fn kill_centrifugo(&mut self) {
        self.centrifugo.kill().unwrap();
        self.centrifugo.wait().unwrap();
    }

    /// Starts Centrifugo again with the same config and waits until it listens.
    pub fn restart_centrifugo(&mut self) {
        self.centrifugo = spawn_centrifugo(self.dir.path());
        self.wait_for_centrifugo();
    }

    /// Waits for the app to exit and returns its status.
    pub fn wait_app(&mut self) -> std::process::ExitStatus {
        self.app.wait().unwrap()
    }

    /// Kills the app with SIGKILL (no drain) and waits for it.
    pub fn kill_app(&mut self) {
        self.app.kill().unwrap();
        self.app.wait().unwrap();
    }

    /// Starts the app again (same address and configuration) and waits until it listens.
    pub fn restart_app(&mut self) {
        self.app = spawn_app(&self.env, self.dir.path());
        self.wait_for(self.app_addr, "centrpc");
    }

    /// Sends SIGTERM to the app and waits for it to exit.
    pub fn stop_app(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.app.id().to_string())
            .status()
            .unwrap();
        self.app.wait().unwrap()
    }

    /// A script for the drivers (see e2e/DRIVER.md).
    pub fn script(&self, token: &str, ops: Value) -> Value {
        serde_json::json!({ "url": self.ws_url(), "token": token, "timeout": 5.0, "ops": ops })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.app.kill();
        let _ = self.centrifugo.kill();
        let _ = self.app.wait();
        let _ = self.centrifugo.wait();
    }
}

fn spawn_centrifugo(dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("centrifugo.log"))
        .unwrap();
    Command::new(super::tool("centrifugo"))
        .arg("-c")
        .arg(dir.join("centrifugo.json"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Starts the load generator (bench/loadgen, on centrifuge-go) against `stack` as user `bench`.
/// `args` are its flags (see bench/loadgen); its JSON report comes from [`finish_load`].
pub fn start_load(stack: &Stack, args: &[&str]) -> Child {
    Command::new(super::tool("loadgen"))
        .args([
            "-url",
            &stack.ws_url(),
            "-token",
            &stack.token("bench", None),
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the load generator and parses its report.
pub fn finish_load(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "loadgen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The sum of a `{code: count}` object in a load generator report (`errors`, `client_errors`).
pub fn sum_counts(report: &Value, field: &str) -> u64 {
    report[field]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_u64().unwrap()).sum())
}

fn spawn_app(env: &[(String, String)], dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("app.log"))
        .unwrap();
    Command::new(example_bin())
        .arg("serve")
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn strip_everywhere(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(map) => {
            for k in keys {
                map.remove(*k);
            }
            map.values_mut().for_each(|c| strip_everywhere(c, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|c| strip_everywhere(c, keys)),
        _ => {}
    }
}

/// The official SDKs under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    Python,
    Js,
    Go,
}

pub const ALL_SDKS: [Sdk; 3] = [Sdk::Python, Sdk::Js, Sdk::Go];

fn go_driver() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("centrpc-go-driver-{}", std::process::id()));
        let status = Command::new("go")
            .args(["build", "-o"])
            .arg(&out)
            .arg(".")
            .current_dir(root().join("e2e/go"))
            .status()
            .expect("go is installed");
        assert!(status.success(), "building the Go driver failed");
        out
    })
}

/// Runs `script` through `sdk`'s driver and returns its report.
pub fn drive(sdk: Sdk, script: &Value) -> Value {
    let child = start_driver(sdk, script);
    finish_driver(sdk, child)
}

/// Starts `sdk`'s driver on `script`; [`finish_driver`] collects its report.
pub fn start_driver(sdk: Sdk, script: &Value) -> Child {
    let cache = std::env::var("CENTRPC_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/centrpc"));
    let mut cmd = match sdk {
        Sdk::Python => {
            let python = cache.join("venv/bin/python");
            assert!(
                python.exists(),
                "run `scripts/setup.sh python` (make test does)"
            );
            let mut c = Command::new(python);
            c.arg(root().join("e2e/python/driver.py"));
            c
        }
        Sdk::Js => {
            assert!(
                root().join("e2e/js/node_modules/centrifuge").exists(),
                "run `scripts/setup.sh node` (make test does)"
            );
            let mut c = Command::new("node");
            c.arg(root().join("e2e/js/driver.mjs"));
            c
        }
        Sdk::Go => Command::new(go_driver()),
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.to_string().as_bytes())
        .unwrap();
    child
}

/// Waits for a driver started with [`start_driver`] and returns its report.
pub fn finish_driver(sdk: Sdk, child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{sdk:?} driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{sdk:?} driver printed no report ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `npm ci` in `dir` once per lockfile (a stamp in `node_modules` keyed on its hash), one test at a
/// time; returns the `node_modules` directory.
pub fn npm_ci(dir: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let lock = std::fs::read(dir.join("package-lock.json")).expect("the lockfile is committed");
    let digest = format!("{:x}", Sha256::digest(&lock));
    let modules = dir.join("node_modules");
    let stamp = modules.join(format!(".lock-{}", &digest[..16]));
    if !stamp.exists() {
        let out = Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .output()
            .expect("npm (Node.js >= 20) is installed");
        assert!(
            out.status.success(),
            "npm ci in {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, "").unwrap();
    }
    modules
}

/// A static file server that stops when dropped (also when a test panics).
pub struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `dir` over HTTP on 127.0.0.1:`port` (Python's http.server) and waits until it accepts
/// connections; it stops when the returned guard is dropped.
pub fn serve_dir(port: u16, dir: &Path) -> Served {
    let server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Served(server)
}

/// Runs one of the headless-Chromium scripts in `examples/web` (`node SCRIPT ARGS…`), which
/// prints `N passed, M failed`; asserts it passed exactly `checks` checks and saved a screenshot
/// at `screenshot`, showing the stack's logs on failure.
pub fn browser_checks(
    stack: &Stack,
    script: &str,
    args: &[&std::ffi::OsStr],
    screenshot: &Path,
    checks: u32,
) {
    let _ = std::fs::remove_file(screenshot);
    let run = Command::new("node")
        .arg(root().join("examples/web").join(script))
        .args(args)
        .output()
        .expect("node (Node.js >= 20) is installed");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.status.success(),
        "{script} failed:\n{said}\n{}",
        stack.logs()
    );
    assert!(
        said.contains(&format!("{checks} passed, 0 failed")),
        "{said}"
    );
    assert!(
        std::fs::metadata(screenshot).map_or(0, |m| m.len()) > 10_000,
        "{script} saved no screenshot at {}",
        screenshot.display()
    );
}

/// A stack for the headless-Chromium tests: Debian's Chromium is required, and Centrifugo allows
/// the origin of the page the test will serve on the returned port.
pub fn browser_stack() -> (Stack, u16, String) {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "run `scripts/setup.sh chromium` (make test does)"
    );
    let web_port = free_port();
    let origin = format!("http://127.0.0.1:{web_port}");
    let stack = Stack::start(Options {
        extra_env: vec![("CENTRPC_ALLOWED_ORIGINS", origin.clone())],
        ..Options::default()
    });
    (stack, web_port, origin)
}
