//! Deployment: the Dockerfile and the Kubernetes manifests agree with the binary (flags, env
//! names, ports, probe services, Centrifugo config and secret env), the probe services answer
//! grpc-health-probe, the manifests' secrets-from-env setup works through the real Centrifugo,
//! and two Centrifugo nodes sharing Redis with two centrpc instances scale out and fail apart.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    process::{Command, Stdio},
    time::Duration,
};

use common::stack::{self, drive, example_bin, free_port, root, Options, Sdk, Stack};
use serde_json::{json, Value};

/// Every `CENTRPC_*` variable the app reads: `serve`'s flags (from its own `--help`) and the
/// server API client's (`ServerApi::from_env`).
fn serve_env_names() -> BTreeSet<String> {
    let out = Command::new(example_bin())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut names: BTreeSet<String> = help
        .split("[env: ")
        .skip(1)
        .map(|s| s.split(['=', ']']).next().unwrap().to_owned())
        .collect();
    names.extend([
        centrpc::api::URL_ENV.to_owned(),
        centrpc::api::KEY_ENV.to_owned(),
    ]);
    names
}

fn yaml_docs(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| {
            let v: serde_norway::Value = serde::Deserialize::deserialize(d).unwrap();
            serde_json::to_value(v).unwrap()
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// The plain (non-secret) env of a container, and its secret refs as name → (secret, key).
fn container_env(c: &Value) -> (BTreeMap<String, String>, BTreeMap<String, (String, String)>) {
    let mut plain = BTreeMap::new();
    let mut secret = BTreeMap::new();
    for e in c["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap().to_owned();
        if let Some(v) = e["value"].as_str() {
            plain.insert(name, v.to_owned());
        } else {
            let r = &e["valueFrom"]["secretKeyRef"];
            secret.insert(
                name,
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["key"].as_str().unwrap().to_owned(),
                ),
            );
        }
    }
    (plain, secret)
}

/// Checks one centrpc container against the binary; returns its plain env.
fn check_centrpc_container(
    c: &Value,
    secrets: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, String> {
    let known = serve_env_names();
    assert_eq!(c["args"], json!(["serve"]), "the container runs `serve`");
    let (plain, secret) = container_env(c);
    for name in plain.keys().chain(secret.keys()) {
        assert!(
            known.contains(name),
            "{name} is not an env var of `serve` (known: {known:?})"
        );
    }
    for (name, (s, key)) in &secret {
        assert!(
            secrets.get(s).is_some_and(|keys| keys.contains(key)),
            "{name}: secret {s} has no key {key}"
        );
    }
    let port: u64 = plain["CENTRPC_LISTEN"]
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        plain["CENTRPC_LISTEN"].starts_with("0.0.0.0:"),
        "probes hit the pod IP: listen on all interfaces"
    );
    assert!(
        plain.contains_key("CENTRPC_AUTH_KEY") && secret.contains_key("CENTRPC_AUTH_VALUE"),
        "a pod-reachable port requires credentials"
    );
    let ports: Vec<u64> = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["containerPort"].as_u64().unwrap())
        .collect();
    assert!(ports.contains(&port), "containerPort {port} declared");
    for (probe, service) in [
        ("startupProbe", centrpc::server::LIVENESS_SERVICE),
        ("livenessProbe", centrpc::server::LIVENESS_SERVICE),
        ("readinessProbe", centrpc::server::READINESS_SERVICE),
    ] {
        assert_eq!(
            c[probe]["grpc"]["port"].as_u64(),
            Some(port),
            "{probe} port"
        );
        assert_eq!(c[probe]["grpc"]["service"], service, "{probe} service");
    }
    assert!(
        c["resources"]["requests"].is_object() && c["resources"]["limits"]["memory"].is_string()
    );
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    plain
}

fn secret_keys() -> BTreeMap<String, BTreeSet<String>> {
    yaml_docs("deploy/kubernetes/secret.example.yaml")
        .iter()
        .map(|d| {
            (
                d["metadata"]["name"].as_str().unwrap().to_owned(),
                d["stringData"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect(),
            )
        })
        .collect()
}

/// `centrifugo-config` run with a container's plain env (and stand-in secrets).
fn config_for(env: &BTreeMap<String, String>, extra: &[&str]) -> String {
    let out = Command::new(example_bin())
        .arg("centrifugo-config")
        .args(extra)
        .env_clear()
        .envs(env)
        .env("CENTRPC_AUTH_VALUE", "stand-in")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Centrifugo's secret env as `--secret-env` lists it: name → centrpc variable.
fn secret_env_for(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    config_for(env, &["--secret-env"])
        .lines()
        .map(|l| {
            let (name, source) = l.split_once("=$").unwrap();
            (name.to_owned(), source.to_owned())
        })
        .collect()
}

/// Which secret key holds each centrpc variable's value, per secret.example.yaml's comment.
fn key_of(centrpc_env: &str) -> &'static str {
    match centrpc_env {
        "CENTRPC_HMAC_SECRET" => "hmac-secret",
        "CENTRPC_CENTRIFUGO_API_KEY" => "api-key",
        "CENTRPC_AUTH_VALUE" => "proxy-credentials",
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn kubernetes_sidecar_agrees_with_the_binary() {
    let docs = yaml_docs("deploy/kubernetes/sidecar.yaml");
    let secrets = secret_keys();
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let sidecar = &pod["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always", "a native sidecar");
    let env = check_centrpc_container(sidecar, &secrets);

    let config_map = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let shipped: Value =
        serde_json::from_str(config_map["data"]["config.json"].as_str().unwrap()).unwrap();
    let generated: Value = serde_json::from_str(&config_for(&env, &["--omit-secrets"])).unwrap();
    assert_eq!(
        shipped, generated,
        "the ConfigMap is stale: regenerate it with `centrifugo-config --omit-secrets`"
    );
    assert_eq!(
        shipped["rpc"]["proxy"]["endpoint"],
        "grpc://127.0.0.1:10001"
    );

    let centrifugo = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "centrifugo")
        .unwrap();
    let (_, cf_secrets) = container_env(centrifugo);
    let wanted = secret_env_for(&env);
    assert_eq!(
        cf_secrets.keys().collect::<Vec<_>>(),
        wanted.keys().collect::<Vec<_>>(),
        "Centrifugo's secret env = `--secret-env`"
    );
    for (name, (secret, key)) in &cf_secrets {
        assert_eq!(
            (secret.as_str(), key.as_str()),
            ("centrpc-secrets", key_of(&wanted[name])),
            "{name}"
        );
    }
    // The config really is a valid Centrifugo 6.9.1 config.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, shipped.to_string()).unwrap();
    let check = Command::new(common::tool("centrifugo"))
        .args(["checkconfig", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "centrifugo checkconfig: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn kubernetes_pool_and_helm_values_agree_with_the_binary() {
    let secrets = secret_keys();
    let pool = yaml_docs("deploy/kubernetes/pool.yaml");
    let deployment = pool.iter().find(|d| d["kind"] == "Deployment").unwrap();
    check_centrpc_container(
        &deployment["spec"]["template"]["spec"]["containers"][0],
        &secrets,
    );
    let service = pool.iter().find(|d| d["kind"] == "Service").unwrap();
    assert_eq!(
        service["spec"]["clusterIP"], "None",
        "a headless Service lists every pod"
    );
    assert_eq!(service["spec"]["ports"][0]["port"], 10001);
    assert!(pool.iter().any(|d| d["kind"] == "PodDisruptionBudget"));

    let values = &yaml_docs("deploy/helm/values.yaml")[0];
    let sidecar = &values["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always");
    let env = check_centrpc_container(sidecar, &secrets);
    let generated: Value = serde_json::from_str(&config_for(&env, &["--omit-secrets"])).unwrap();
    assert_eq!(
        values["config"], generated,
        "the Helm values' config is stale"
    );
    let names: BTreeSet<String> = values["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        secret_env_for(&env).into_keys().collect::<BTreeSet<_>>()
    );
}

#[test]
fn dockerfile_agrees_with_the_build() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let workdir = lines
        .iter()
        .find_map(|l| l.strip_prefix("WORKDIR "))
        .unwrap();
    let build = lines
        .iter()
        .find(|l| l.starts_with("RUN cargo build"))
        .unwrap();
    assert!(
        build.contains("--release") && build.contains("--locked"),
        "{build}"
    );
    let example = build
        .split("--example ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let copy = lines
        .iter()
        .find(|l| l.starts_with("COPY --from=build"))
        .unwrap();
    let copied = copy.split_whitespace().nth(2).unwrap();
    assert_eq!(
        copied,
        format!("{workdir}/target/release/examples/{example}"),
        "the image copies the binary the build stage builds"
    );
    assert!(
        example_bin().ends_with(format!("examples/{example}")),
        "that example is this crate's app"
    );
    for l in lines
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.starts_with("COPY --from"))
    {
        let parts: Vec<&str> = l.split_whitespace().collect();
        for src in &parts[1..parts.len() - 1] {
            assert!(root().join(src).exists(), "COPY source {src} exists");
        }
    }
    let from: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("FROM "))
        .collect();
    assert!(
        from.iter().all(|f| !f.contains(":latest")),
        "pinned base images"
    );
    assert!(
        from.last().unwrap().contains("distroless") && from.last().unwrap().contains("nonroot")
    );
    assert!(lines.contains(&"USER nonroot"));
    // ENV names and the CMD subcommand exist; EXPOSE matches the listen ports.
    let known = serve_env_names();
    let env_block = text
        .split("ENV ")
        .nth(1)
        .unwrap()
        .split("\nEXPOSE")
        .next()
        .unwrap();
    let mut ports = BTreeSet::new();
    for assignment in env_block.split_whitespace().filter(|w| w.contains('=')) {
        let (name, value) = assignment.split_once('=').unwrap();
        assert!(
            known.contains(name),
            "Dockerfile ENV {name} is not read by `serve`"
        );
        if name.ends_with("LISTEN") {
            ports.insert(value.rsplit(':').next().unwrap().to_owned());
        }
    }
    let exposed: BTreeSet<String> = lines
        .iter()
        .find_map(|l| l.strip_prefix("EXPOSE "))
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(ports, exposed);
    assert!(lines.contains(&r#"CMD ["serve"]"#));
}

#[test]
fn probe_services_answer_grpc_health_probe_and_readiness_flips_first() {
    let probe = common::tool("grpc-health-probe");
    let port = free_port();
    let mut app = Command::new(example_bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--shutdown-delay",
            "3s",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let check = |service: &str| {
        Command::new(&probe)
            .args([
                &format!("-addr=127.0.0.1:{port}"),
                &format!("-service={service}"),
                "-connect-timeout=2s",
            ])
            .output()
            .unwrap()
    };
    let mut ready = false;
    for _ in 0..100 {
        if check("").status.success() {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ready, "the server came up");
    for service in [
        "",
        "liveness",
        "readiness",
        "centrifugal.centrifugo.proxy.CentrifugoProxy",
    ] {
        let out = check(service);
        assert!(
            out.status.success(),
            "{service:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(
        !check("no.such.Service").status.success(),
        "unknown services are not SERVING"
    );
    Command::new("kill")
        .arg("-TERM")
        .arg(app.id().to_string())
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let readiness = check("readiness");
    assert!(
        !readiness.status.success(),
        "readiness is NOT_SERVING during the drain delay"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&readiness.stdout),
        String::from_utf8_lossy(&readiness.stderr)
    );
    assert!(said.contains("NOT_SERVING"), "{said}");
    assert!(
        check("liveness").status.success(),
        "liveness stays SERVING: the pod is not restarted"
    );
    assert!(app.wait().unwrap().success());
}

#[test]
fn secrets_from_the_environment_work_through_centrifugo() {
    // Centrifugo gets the --omit-secrets config and its secrets only from the env vars that
    // `--secret-env` lists, as in the Kubernetes manifests.
    let app_port = free_port();
    let cf_port = free_port();
    let env: BTreeMap<String, String> = [
        ("CENTRPC_LISTEN", format!("127.0.0.1:{app_port}")),
        ("CENTRPC_AUTH_KEY", "x-centrpc-auth".into()),
        ("CENTRPC_CENTRIFUGO_PORT", cf_port.to_string()),
        ("CENTRPC_CENTRIFUGO_ADDRESS", "127.0.0.1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let values: BTreeMap<&str, &str> = [
        ("CENTRPC_HMAC_SECRET", stack::HMAC_SECRET),
        ("CENTRPC_CENTRIFUGO_API_KEY", stack::API_KEY),
        ("CENTRPC_AUTH_VALUE", stack::AUTH_VALUE),
    ]
    .into();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, config_for(&env, &["--omit-secrets"])).unwrap();
    assert!(!std::fs::read_to_string(&config)
        .unwrap()
        .contains(stack::AUTH_VALUE));
    let mut cf = Command::new(common::tool("centrifugo"));
    cf.arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_clear();
    for (name, source) in secret_env_for(&env) {
        cf.env(name, values[source.as_str()]);
    }
    let mut cf = cf.spawn().unwrap();
    let mut app = Command::new(example_bin())
        .arg("serve")
        .envs(&env)
        .env("CENTRPC_AUTH_VALUE", stack::AUTH_VALUE)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", cf_port)).is_ok()
            && std::net::TcpStream::connect(("127.0.0.1", app_port)).is_ok()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = centrpc::token::sign(
        &centrpc::token::Claims::new("42", Some(Duration::from_secs(60))),
        stack::HMAC_SECRET,
    );
    let script = json!({"url": format!("ws://127.0.0.1:{cf_port}/connection/websocket"), "token": token, "timeout": 5.0,
        "ops": [{"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": "42"}}]});
    let report = drive(Sdk::Python, &script);
    let _ = (cf.kill(), app.kill(), cf.wait(), app.wait());
    assert_eq!(
        report["results"][0]["ok"],
        json!({"total": 0, "completed": 0}),
        "{report}"
    );
}

/// A Redis server on a free loopback port, stopped on drop.
struct Redis {
    child: std::process::Child,
    url: String,
}

impl Redis {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/setup.sh redis; make test does it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_centrifugo_nodes_on_redis_with_two_centrpc_instances() {
    let redis = Redis::start();
    let (port_a, port_b) = (free_port(), free_port());
    let node = |port: u16, other: u16| Options {
        redis: Some(redis.url.clone()),
        centrifugo_port: Some(port),
        // Each app publishes through the OTHER node's API: publications must cross Redis.
        api_url: Some(format!("http://127.0.0.1:{other}/api")),
        ..Options::default()
    };
    let mut a = Stack::start(node(port_a, port_b));
    let b = Stack::start(node(port_b, port_a));
    let progress = |s: &Stack, user: &str| {
        drive(
            Sdk::Go,
            &s.script(
                &s.token(user, None),
                json!([
                    {"op": "subscribe", "channel": format!("#{user}")},
                    {"op": "rpc", "method": "tasks.process", "data": {"steps": 2}},
                    {"op": "wait_publications", "channel": format!("#{user}"), "count": 2},
                    {"op": "rpc", "method": "system.whoami", "data": null},
                ]),
            ),
        )
    };
    for (stack, user) in [(&a, "alice"), (&b, "bob")] {
        let report = progress(stack, user);
        let r = &report["results"];
        assert_eq!(
            r[2]["ok"],
            json!([{"step":1,"of":2},{"step":2,"of":2}]),
            "{user}: publications made on the other node arrive: {report}\n{}",
            stack.logs()
        );
        assert_eq!(r[3]["ok"]["user"], user);
    }
    // A publication on one node reaches a subscriber on the other, whatever the origin.
    let call = |s: &Stack| {
        drive(
            Sdk::Python,
            &s.script(
                &s.token("carol", None),
                json!([
                    {"op": "rpc", "method": "tasks.get_stats", "data": {"user_id": "carol"}},
                ]),
            ),
        )
    };
    a.kill_app();
    let down = call(&a);
    let (code, temporary) = (
        down["results"][0]["error"]["code"].clone(),
        down["results"][0]["error"]["temporary"].clone(),
    );
    assert_eq!(
        (code, temporary),
        (json!(100), json!(true)),
        "node A's calls fail (temporary) while its centrpc is down: {down}"
    );
    assert_eq!(
        call(&b)["results"][0]["ok"],
        json!({"total": 0, "completed": 0}),
        "node B is unaffected"
    );
    a.restart_app();
    let mut back = Value::Null;
    for _ in 0..50 {
        back = call(&a);
        if back["results"][0].get("ok").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        back["results"][0]["ok"],
        json!({"total": 0, "completed": 0}),
        "node A recovers once centrpc is back: {back}"
    );
}
