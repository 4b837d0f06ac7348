#!/usr/bin/env bash
# Packages both crates as `cargo publish` would, then builds a scratch application OUTSIDE the
# repository that depends on the packaged `centrpc` tarball with the minimal feature set plus
# `server` (so the proto and build.rs must be inside the package), serves one call on loopback
# and checks the reply. Run by `make test`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
cargo package --workspace --allow-dirty --no-verify --quiet
version=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "centrpc"))')

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tar xzf "target/package/centrpc-$version.crate" -C "$scratch"
tar xzf "target/package/centrpc-codegen-$version.crate" -C "$scratch"
mkdir -p "$scratch/app/src"
cat > "$scratch/app/Cargo.toml" <<TOML
[package]
name = "scratch-app"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
centrpc = { path = "../centrpc-$version", default-features = false, features = ["server"] }
serde = { version = "1", features = ["derive"] }
schemars = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
tonic = "0.14"

# centrpc-codegen is not on crates.io yet: resolve it from its packaged tarball too.
[patch.crates-io]
centrpc-codegen = { path = "../centrpc-codegen-$version" }

[workspace]
TOML
cat > "$scratch/app/src/main.rs" <<'RUST'
use centrpc::{proto, server, Context, Router, RpcError};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Params { name: String }

async fn hello(ctx: Context, p: Params) -> Result<String, RpcError> {
    Ok(format!("hello {} from {}", p.name, ctx.user()))
}

#[tokio::main]
async fn main() {
    let config = server::ServerConfig::default().listen("127.0.0.1:0".parse().unwrap());
    let bound = server::bind(Router::new(()).rpc("greet.hello", hello), config).await.unwrap();
    let addr = bound.local_addr();
    tokio::spawn(bound.run(std::future::pending()));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap()
        .connect().await.unwrap();
    let mut client = proto::centrifugo_proxy_client::CentrifugoProxyClient::new(channel);
    let reply = client.rpc(proto::RpcRequest {
        method: "greet.hello".into(),
        data: br#"{"name":"package"}"#.to_vec(),
        user: "42".into(),
        ..Default::default()
    }).await.unwrap().into_inner();
    let data = reply.result.expect("a result").data;
    assert_eq!(data, br#""hello package from 42""#, "{}", String::from_utf8_lossy(&data));
    println!("package: a scratch crate on the packaged centrpc tarball served a call");
}
RUST
(cd "$scratch/app" && CARGO_TARGET_DIR="$ROOT/target/package-check" cargo run --quiet)
