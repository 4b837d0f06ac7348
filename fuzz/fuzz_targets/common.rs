//! The service under fuzzing: the example app's every-construct types behind a real
//! `ProxyService`, called in-process exactly as tonic calls it for a gRPC request.

use std::sync::OnceLock;

use centrpc::{
    hooks::{
        ConnectEvent, ConnectReply, PublishEvent, PublishReply, SubscribeEvent, SubscribeReply,
    },
    service::{Limits, ProxyService},
    Context, Router, RpcError,
};
use schemars::JsonSchema;
use serde::Deserialize;

#[path = "../../tests/fixtures/everything.rs"]
#[allow(dead_code)]
pub mod types;

#[derive(Deserialize, JsonSchema)]
pub struct Filter {
    pub user_id: String,
    pub limit: Option<u32>,
    pub tags: Vec<String>,
}

async fn roundtrip(_: Context, v: types::Everything) -> Result<types::Everything, RpcError> {
    Ok(v)
}
async fn echo(_: Context, v: serde_json::Value) -> Result<serde_json::Value, RpcError> {
    Ok(v)
}
async fn filter(_: Context, f: Filter) -> Result<u32, RpcError> {
    Ok(f.limit.unwrap_or(0) + f.tags.len() as u32 + f.user_id.len() as u32)
}
async fn nothing(_: Context, _: ()) -> Result<(), RpcError> {
    Ok(())
}
async fn connect(_: Context, e: ConnectEvent) -> Result<ConnectReply, RpcError> {
    let f: Filter = e.data()?;
    Ok(ConnectReply::user(f.user_id))
}
async fn subscribe(_: Context, e: SubscribeEvent) -> Result<SubscribeReply, RpcError> {
    let _: Option<Filter> = e.data()?;
    Ok(SubscribeReply::default())
}
async fn publish(_: Context, e: PublishEvent) -> Result<PublishReply, RpcError> {
    let v: types::Everything = e.data()?;
    PublishReply::rewrite(&v)
}

/// The methods the fuzzer picks from (plus arbitrary names).
pub const METHODS: &[&str] = &["types.roundtrip", "system.echo", "t.filter", "t.nothing"];

pub struct Fixture {
    pub rt: tokio::runtime::Runtime,
    pub service: ProxyService<()>,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let router = Router::new(())
            .rpc(METHODS[0], roundtrip)
            .rpc(METHODS[1], echo)
            .rpc(METHODS[2], filter)
            .rpc(METHODS[3], nothing)
            .hooks(|h| {
                h.connect(connect)
                    .subscribe("*", subscribe)
                    .publish("*", publish)
            });
        router.check().expect("valid router");
        let limits = Limits::default().max_payload(64 * 1024);
        Fixture {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            service: ProxyService::new(router, limits),
        }
    })
}

/// Exactly one outcome, and any `data` result is JSON.
pub fn check_reply(result: bool, error: bool, disconnect: bool) {
    assert_eq!(
        u8::from(result) + u8::from(error) + u8::from(disconnect),
        1,
        "a reply carries exactly one outcome"
    );
}
