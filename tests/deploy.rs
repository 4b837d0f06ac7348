//! Deployment: the Dockerfile, the Kubernetes manifests and the pod the official Helm chart renders
//! from our values agree with the binary (flags, env names, ports, probe services, Centrifugo
//! config and secret env); every manifest passes Kubernetes' own types and validators
//! (deploy/validate), which refuse the values of issue #17; Centrifugo and centrpc read each
//! secret from the same Secret key in every file; the sidecar finds Centrifugo's API where the
//! chart runs it; the probe services answer grpc-health-probe; the secrets-from-env setup works
//! through the real Centrifugo; and two Centrifugo nodes sharing Redis with two centrpc instances
//! scale out and fail apart.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
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
    yaml_docs_of(&std::fs::read_to_string(root().join(path)).unwrap())
}

fn yaml_docs_of(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
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

/// The Kubernetes-rules validator (deploy/validate, Go on k8s.io/api and k8s.io/apimachinery),
/// built once per test process from the checkout; its modules come from `scripts/setup.sh go`.
fn k8s_validate() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("centrpc-k8s-validate-{}", std::process::id()));
        let build = Command::new("go")
            .args(["build", "-o"])
            .arg(&out)
            .arg(".")
            .current_dir(root().join("deploy/validate"))
            .output()
            .expect("go is installed (scripts/setup.sh needs it too)");
        assert!(
            build.status.success(),
            "building deploy/validate failed (its modules: `scripts/setup.sh go`):\n{}",
            String::from_utf8_lossy(&build.stderr)
        );
        out
    })
}

/// Runs the validator with `args` (paths relative to the repository root).
fn run_k8s_validate(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(k8s_validate())
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The ConfigMap and Deployment the official chart renders from deploy/helm/values.yaml.
fn helm_render() -> Vec<Value> {
    let (ok, out, err) = run_k8s_validate(&["--render-helm-values", "deploy/helm/values.yaml"]);
    assert!(ok, "rendering the Helm values failed:\n{err}");
    yaml_docs_of(&out)
}

fn find_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn container<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// The value of `--flag N` or `--flag=N` among a container's args.
fn arg_value(c: &Value, flag: &str) -> Option<String> {
    let args: Vec<&str> = c["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    args.iter().enumerate().find_map(|(i, a)| {
        if *a == flag {
            args.get(i + 1).map(|v| (*v).to_owned())
        } else {
            a.strip_prefix(&format!("{flag}=")).map(str::to_owned)
        }
    })
}

/// Where Centrifugo serves its server API: the internal port when one is set (flag or config),
/// else the HTTP server's port.
fn centrifugo_api_port(centrifugo: &Value, config: &Value) -> u64 {
    arg_value(centrifugo, "--http_server.internal_port")
        .map(|p| p.parse().unwrap())
        .or_else(|| config["http_server"]["internal_port"].as_u64())
        .or_else(|| arg_value(centrifugo, "--http_server.port").map(|p| p.parse().unwrap()))
        .or_else(|| config["http_server"]["port"].as_u64())
        .unwrap_or(8000)
}

/// Holds a pod with centrpc as a native sidecar of Centrifugo (sidecar.yaml, or what the chart
/// renders from the Helm values) to the binary; returns the sidecar's plain env and Centrifugo's
/// config as shipped.
fn check_sidecar_pod(docs: &[Value], what: &str) -> (BTreeMap<String, String>, Value) {
    let secrets = secret_keys();
    let pod = &find_kind(docs, "Deployment")["spec"]["template"]["spec"];
    let sidecar = container(&pod["initContainers"], "centrpc");
    assert_eq!(
        sidecar["restartPolicy"], "Always",
        "{what}: a native sidecar"
    );
    let env = check_centrpc_container(sidecar, &secrets);

    let config_map = find_kind(docs, "ConfigMap");
    let config: Value =
        serde_json::from_str(config_map["data"]["config.json"].as_str().unwrap()).unwrap();
    assert_eq!(
        config["rpc"]["proxy"]["endpoint"], "grpc://127.0.0.1:10001",
        "{what}: Centrifugo dials the sidecar over loopback"
    );
    let centrifugo = container(&pod["containers"], "centrifugo");
    let mounted = pod["volumes"].as_array().unwrap().iter().any(|v| {
        v["configMap"]["name"] == config_map["metadata"]["name"]
            && centrifugo["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == v["name"] && m["mountPath"] == "/centrifugo")
    });
    assert!(
        mounted,
        "{what}: Centrifugo mounts the config at /centrifugo"
    );

    let (_, cf_secrets) = container_env(centrifugo);
    let wanted = secret_env_for(&env);
    assert_eq!(
        cf_secrets.keys().collect::<Vec<_>>(),
        wanted.keys().collect::<Vec<_>>(),
        "{what}: Centrifugo's secret env = `--secret-env`"
    );
    for (name, (secret, key)) in &cf_secrets {
        assert_eq!(
            (secret.as_str(), key.as_str()),
            ("centrpc-secrets", key_of(&wanted[name])),
            "{what}: {name}"
        );
    }
    assert_eq!(
        env["CENTRPC_CENTRIFUGO_API_URL"],
        format!(
            "http://127.0.0.1:{}/api",
            centrifugo_api_port(centrifugo, &config)
        ),
        "{what}: the sidecar calls Centrifugo's server API where Centrifugo serves it"
    );
    // The config really is a valid Centrifugo 6.9.1 config.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let check = Command::new(common::tool("centrifugo"))
        .args(["checkconfig", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{what}: centrifugo checkconfig: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    (env, config)
}

#[test]
fn kubernetes_sidecar_agrees_with_the_binary() {
    let docs = yaml_docs("deploy/kubernetes/sidecar.yaml");
    let (env, shipped) = check_sidecar_pod(&docs, "sidecar.yaml");
    let generated: Value = serde_json::from_str(&config_for(&env, &["--omit-secrets"])).unwrap();
    assert_eq!(
        shipped, generated,
        "the ConfigMap is stale: regenerate it with `centrifugo-config --omit-secrets`"
    );
}

#[test]
fn kubernetes_pool_agrees_with_the_binary() {
    let pool = yaml_docs("deploy/kubernetes/pool.yaml");
    check_centrpc_container(
        &find_kind(&pool, "Deployment")["spec"]["template"]["spec"]["containers"][0],
        &secret_keys(),
    );
    let service = find_kind(&pool, "Service");
    assert_eq!(
        service["spec"]["clusterIP"], "None",
        "a headless Service lists every pod"
    );
    assert_eq!(service["spec"]["ports"][0]["port"], 10001);
    find_kind(&pool, "PodDisruptionBudget");
}

#[test]
fn helm_values_render_a_pod_that_agrees_with_the_binary() {
    let docs = helm_render();
    let (env, mut rendered) = check_sidecar_pod(&docs, "Helm values");
    // The chart merges `config` into its default config, which enables the admin UI and names
    // the memory engine; the values switch the admin UI off, the rest is the generated config.
    let config = rendered.as_object_mut().unwrap();
    assert_eq!(
        config.remove("admin"),
        Some(json!({"enabled": false})),
        "the chart's default config turns the admin UI on; centrpc's config has no use for it: off"
    );
    assert_eq!(config.remove("engine"), Some(json!({"type": "memory"})));
    let generated: Value = serde_json::from_str(&config_for(&env, &["--omit-secrets"])).unwrap();
    assert_eq!(
        rendered, generated,
        "the Helm values' config is stale: regenerate it with `centrifugo-config --omit-secrets`"
    );
    let pod = &find_kind(&docs, "Deployment")["spec"]["template"]["spec"];
    for c in pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["initContainers"].as_array().unwrap())
    {
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap();
            assert!(
                name.starts_with("CENTRIFUGO_") || name.starts_with("CENTRPC_"),
                "{}: env var {name:?}",
                c["name"]
            );
        }
    }
}

#[tokio::test]
async fn helm_sidecar_reaches_the_server_api_where_the_chart_runs_centrifugo() {
    let docs = helm_render();
    let pod = &find_kind(&docs, "Deployment")["spec"]["template"]["spec"];
    let centrifugo = container(&pod["containers"], "centrifugo");
    let (sidecar_env, _) = container_env(container(&pod["initContainers"], "centrpc"));
    assert_eq!(centrifugo["command"], json!(["centrifugo"]));
    // Centrifugo as the chart runs it: its args, config.json in the working directory (the
    // image's WORKDIR /centrifugo, where the ConfigMap is mounted), secrets from `envSecret`;
    // each port moves to a free one.
    let mut moved: BTreeMap<String, String> = BTreeMap::new();
    let mut args: Vec<String> = Vec::new();
    for a in centrifugo["args"].as_array().unwrap() {
        let a = a.as_str().unwrap().to_owned();
        if args.last().is_some_and(|flag| flag.ends_with("port")) {
            let port = free_port().to_string();
            moved.insert(a, port.clone());
            args.push(port);
        } else {
            args.push(a);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let config = find_kind(&docs, "ConfigMap")["data"]["config.json"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    let value_of = |key: &str| match key {
        "hmac-secret" => stack::HMAC_SECRET,
        "api-key" => stack::API_KEY,
        "proxy-credentials" => stack::AUTH_VALUE,
        other => panic!("unexpected key {other}"),
    };
    let mut cf = Command::new(common::tool("centrifugo"));
    cf.args(&args)
        .current_dir(dir.path())
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, (_, key)) in container_env(centrifugo).1 {
        cf.env(name, value_of(&key));
    }
    let mut cf = cf.spawn().unwrap();

    let url = &sidecar_env["CENTRPC_CENTRIFUGO_API_URL"];
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/api"))
        .unwrap_or_else(|| panic!("a loopback API URL: {url}"));
    let api_port = moved
        .get(port)
        .unwrap_or_else(|| panic!("{url}: port {port} is none of Centrifugo's ({moved:?})"));
    let external = &moved[&arg_value(centrifugo, "--http_server.port").unwrap()];
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", api_port.parse::<u16>().unwrap())).is_ok()
            && std::net::TcpStream::connect(("127.0.0.1", external.parse::<u16>().unwrap())).is_ok()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let info = |port: &str| {
        centrpc::api::ServerApi::new(format!("http://127.0.0.1:{port}/api"), stack::API_KEY)
    };
    let at_sidecar_url = info(api_port).call("info", &json!({})).await;
    let at_external_port = info(external).call("info", &json!({})).await;
    let _ = cf.kill();
    let output = cf.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(
        at_sidecar_url.is_ok(),
        "the sidecar's {url} answers with the Secret's API key: {at_sidecar_url:?}\n{logs}"
    );
    assert!(
        matches!(at_external_port, Err(centrpc::api::ApiError::Http(404, _))),
        "the chart's external port does not serve the API, so the port matters: {at_external_port:?}\n{logs}"
    );
}

#[test]
fn every_manifest_passes_kubernetes_validation() {
    let mut args: Vec<String> = std::fs::read_dir(root().join("deploy/kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(args.len(), 3, "sidecar, pool and the Secret example");
    args.extend(["--helm-values".into(), "deploy/helm/values.yaml".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out, err) = run_k8s_validate(&args);
    assert!(ok, "k8s-validate found problems:\n{out}{err}");
    // 3 + 3 + 1 objects in the manifests, a ConfigMap and a Deployment from the Helm values.
    assert_eq!(out.trim(), "k8s-validate: ok, 9 object(s) in 4 file(s)");
}

#[test]
fn kubernetes_validation_refuses_the_helm_values_of_issue_17() {
    // The values as shipped before #17: `env` as a list of EnvVar objects, which the chart
    // renders as seven variables named 0-6 holding "map[…]" strings.
    let (ok, out, _) =
        run_k8s_validate(&["--helm-values", "tests/fixtures/helm-values-before-17.yaml"]);
    assert!(!ok, "the old values must be refused:\n{out}");
    let names: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(".env[") && l.contains(".name: Invalid value:"))
        .collect();
    assert_eq!(names.len(), 7, "{out}");
    assert!(
        names[0].starts_with(r#"tests/fixtures/helm-values-before-17.yaml: Deployment "centrifugo" (as chart centrifugo 13.5.0 renders it): spec.template.spec.containers[0].env[0].name: Invalid value: "0": a valid environment variable name must consist of"#),
        "{out}"
    );
    assert!(
        out.contains("values: env: is a list; the chart ranges over it as a map"),
        "{out}"
    );
    // Other mistakes are reported by object and field, one line each.
    let dir = tempfile::tempdir().unwrap();
    let sidecar = std::fs::read_to_string(root().join("deploy/kubernetes/sidecar.yaml")).unwrap();
    let broken_sidecar = sidecar
        .replace(
            "{ name: http, containerPort: 8000 }",
            "{ name: http_port, containerPort: 8000 }",
        )
        .replace(
            "grpc: { port: 10001, service: readiness }",
            "grpc: { port: 10001, service: readiness }\n            tcpSocket: { port: 10001 }",
        )
        .replace("name: CENTRPC_AUTH_VALUE", "name: 1CENTRPC_AUTH_VALUE")
        .replace(
            "  selector: { app: centrifugo }\n  ports:",
            "  selektor: { app: centrifugo }\n  ports:",
        );
    let pool = std::fs::read_to_string(root().join("deploy/kubernetes/pool.yaml")).unwrap();
    let broken_pool = pool.replace("memory: 128Mi", "memory: 128MB");
    for (name, text, original) in [
        ("sidecar.yaml", &broken_sidecar, &sidecar),
        ("pool.yaml", &broken_pool, &pool),
    ] {
        assert_ne!(text, original, "{name}: the breakage applies");
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (sidecar_path, pool_path) = (
        dir.path().join("sidecar.yaml").display().to_string(),
        dir.path().join("pool.yaml").display().to_string(),
    );
    let (ok, out, _) = run_k8s_validate(&[&sidecar_path, &pool_path]);
    assert!(!ok, "{out}");
    let deployment = format!(r#"{sidecar_path}: Deployment "centrifugo" (document 2): "#);
    let expected = [
        format!(
            r#"{deployment}spec.template.spec.initContainers[0].env[7].name: Invalid value: "1CENTRPC_AUTH_VALUE": a valid environment variable name must consist of"#
        ),
        format!(
            r#"{deployment}spec.template.spec.initContainers[0].readinessProbe: Forbidden: must specify exactly one handler type (exec, httpGet, tcpSocket, grpc), not tcpSocket and grpc"#
        ),
        format!(
            r#"{deployment}spec.template.spec.containers[0].ports[0].name: Invalid value: "http_port": "#
        ),
        format!(
            r#"{sidecar_path}: Service "centrifugo" (document 3): strict decoding into v1/Service: error unmarshaling JSON: while decoding JSON: json: unknown field "selektor""#
        ),
        format!(
            r#"{pool_path}: Deployment "centrpc-pool" (document 1): strict decoding into apps/v1/Deployment: "#
        ),
    ];
    let lines: Vec<&str> = out.lines().collect();
    for want in &expected {
        assert!(
            lines.iter().any(|l| l.starts_with(want.as_str())),
            "missing {want}\nin:\n{out}"
        );
    }
    assert_eq!(lines.len(), expected.len(), "one line per problem:\n{out}");
    assert!(
        out.contains("quantities must match the regular expression"),
        "{out}"
    );
}

/// Every (Secret, key) a container reads, by env var name.
fn secret_refs(c: &Value) -> BTreeMap<String, (String, String)> {
    container_env(c).1
}

#[test]
fn centrifugo_and_centrpc_read_the_same_secret_keys_everywhere() {
    let secrets = secret_keys();
    // Which Secret key each secret value comes from, seen from every reader in every file.
    let mut readers: BTreeMap<&str, BTreeSet<(String, String, String)>> = BTreeMap::new();
    let mut note = |value: &'static str, file: &str, name: &str, r: &(String, String)| {
        assert!(
            secrets.get(&r.0).is_some_and(|keys| keys.contains(&r.1)),
            "{file}: {name} reads secret {}/{}, which secret.example.yaml does not define",
            r.0,
            r.1
        );
        readers.entry(value).or_default().insert((
            r.0.clone(),
            r.1.clone(),
            format!("{file}: {name}"),
        ));
    };
    // centrpc's own variables, and Centrifugo's as `--secret-env` maps them to centrpc's.
    let centrpc_value = |name: &str| -> &'static str {
        match name {
            "CENTRPC_AUTH_VALUE" => "proxy credentials",
            "CENTRPC_CENTRIFUGO_API_KEY" => "API key",
            "CENTRPC_HMAC_SECRET" => "HMAC secret",
            other => panic!("unexpected secret variable {other}"),
        }
    };
    let full_env: BTreeMap<String, String> = [
        ("CENTRPC_LISTEN", "0.0.0.0:10001"),
        ("CENTRPC_AUTH_KEY", "x-centrpc-auth"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let centrifugo_value: BTreeMap<String, &'static str> = secret_env_for(&full_env)
        .into_iter()
        .map(|(cf, centrpc)| (cf, centrpc_value(&centrpc)))
        .collect();

    let sidecar = yaml_docs("deploy/kubernetes/sidecar.yaml");
    let pod = &find_kind(&sidecar, "Deployment")["spec"]["template"]["spec"];
    for (name, r) in secret_refs(container(&pod["initContainers"], "centrpc")) {
        note(centrpc_value(&name), "sidecar.yaml centrpc", &name, &r);
    }
    for (name, r) in secret_refs(container(&pod["containers"], "centrifugo")) {
        note(
            centrifugo_value[&name],
            "sidecar.yaml centrifugo",
            &name,
            &r,
        );
    }
    let pool = yaml_docs("deploy/kubernetes/pool.yaml");
    for (name, r) in
        secret_refs(&find_kind(&pool, "Deployment")["spec"]["template"]["spec"]["containers"][0])
    {
        note(centrpc_value(&name), "pool.yaml centrpc", &name, &r);
    }
    // The Helm values, read as the chart's interface: `env` a map of plain strings,
    // `envSecret` a list of exactly {name, secretKeyRef: {name, key}}.
    let values = &yaml_docs("deploy/helm/values.yaml")[0];
    let env = values["env"]
        .as_object()
        .expect("`env` is a map (the chart ranges over it)");
    for (name, v) in env {
        assert!(v.is_string(), "env.{name}: a plain string value, not {v}");
    }
    for entry in values["envSecret"]
        .as_array()
        .expect("`envSecret` is a list")
    {
        let keys: BTreeSet<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["name", "secretKeyRef"]), "{entry}");
        let r = &entry["secretKeyRef"];
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["key", "name"]), "{entry}");
        let name = entry["name"].as_str().unwrap();
        note(
            centrifugo_value[name],
            "Helm values envSecret",
            name,
            &(
                r["name"].as_str().unwrap().to_owned(),
                r["key"].as_str().unwrap().to_owned(),
            ),
        );
    }
    for (name, r) in secret_refs(container(&values["initContainers"], "centrpc")) {
        note(centrpc_value(&name), "Helm values centrpc", &name, &r);
    }

    // Each secret value comes from one Secret key, whoever reads it, in every file.
    for (value, refs) in &readers {
        let keys: BTreeSet<(&String, &String)> = refs.iter().map(|(s, k, _)| (s, k)).collect();
        assert_eq!(
            keys.len(),
            1,
            "{value}: read from different Secret keys: {refs:#?}"
        );
    }
    // And both sides read the proxy credentials and the API key (in each topology file).
    let readers_of = |value: &str| -> BTreeSet<String> {
        readers[value]
            .iter()
            .map(|(_, _, who)| who.split(':').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        readers_of("proxy credentials"),
        BTreeSet::from(
            [
                "Helm values centrpc",
                "Helm values envSecret",
                "pool.yaml centrpc",
                "sidecar.yaml centrifugo",
                "sidecar.yaml centrpc"
            ]
            .map(String::from)
        )
    );
    assert_eq!(readers_of("API key"), readers_of("proxy credentials"));
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
