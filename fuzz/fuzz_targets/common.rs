//! The service under fuzzing: the example app's every-construct types behind a real
//! `ProxyService`, called in-process exactly as tonic calls it for a gRPC request.

use std::sync::OnceLock;

use centrpc::{
    hooks::{
        ConnectEvent, ConnectReply, Json, PublishEvent, PublishReply, SubscribeEvent, SubscribeReply,
    },
    service::{Limits, ProxyService},
    stream::{self, Incoming},
    testing::TestClient,
    Channel, Context, Router, RpcError,
};
use futures_util::{Stream, StreamExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[path = "../../tests/fixtures/everything.rs"]
#[allow(dead_code)]
pub mod types;

#[derive(Serialize, Deserialize, JsonSchema)]
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
/// Typed connect: data decoded before the hook, reply data and info encoded after it.
async fn connect(
    _: Context,
    e: ConnectEvent<Json<Filter>>,
) -> Result<ConnectReply<Filter, Vec<String>>, RpcError> {
    let Json(f) = e.data;
    let mut reply = ConnectReply::user(&f.user_id);
    reply.info = Some(f.tags.clone());
    reply.data = Some(f);
    Ok(reply)
}
async fn subscribe(_: Context, e: SubscribeEvent) -> Result<SubscribeReply, RpcError> {
    let _: Option<Filter> = e.data()?;
    Ok(SubscribeReply::default())
}
async fn publish(_: Context, e: PublishEvent) -> Result<PublishReply, RpcError> {
    let v: types::Everything = e.data()?;
    PublishReply::rewrite(&v)
}

/// Sends its params back twice.
async fn twice(
    _: Context,
    v: types::Everything,
) -> Result<impl Stream<Item = Result<types::Everything, RpcError>>, RpcError> {
    let again = serde_json::to_value(&v).map_err(RpcError::internal)?;
    let again: types::Everything = serde_json::from_value(again).map_err(RpcError::internal)?;
    Ok(futures_util::stream::iter([Ok(v), Ok(again)]))
}

/// Answers each publication with one item: the publication, or the error's code.
async fn echo_publications(
    _: Context,
    _: Filter,
    incoming: Incoming<types::Everything>,
) -> Result<impl Stream<Item = Result<serde_json::Value, RpcError>>, RpcError> {
    Ok(incoming.map(|p| {
        Ok(match p {
            Ok(v) => serde_json::to_value(v).map_err(RpcError::internal)?,
            Err(e) => serde_json::json!({ "refused": e.code() }),
        })
    }))
}

/// The streams and typed channel the fuzzer picks from (plus arbitrary channels).
pub const CHANNELS: &[&str] = &["st:twice", "bi:x", "typed:x", "st:", "bi:"];

/// The methods the fuzzer picks from (plus arbitrary names).
pub const METHODS: &[&str] = &["types.roundtrip", "system.echo", "t.filter", "t.nothing"];

pub struct Fixture {
    pub rt: tokio::runtime::Runtime,
    pub service: ProxyService<()>,
    /// The same router, for bidirectional streams (their publications need no gRPC stream).
    pub client: TestClient<()>,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let router = || Router::new(())
            .rpc(METHODS[0], roundtrip)
            .rpc(METHODS[1], echo)
            .rpc(METHODS[2], filter)
            .rpc(METHODS[3], nothing)
            .hooks(|h| {
                h.connect(connect)
                    .subscribe("*", subscribe)
                    .publish("*", publish)
            })
            .stream(CHANNELS[0], twice)
            .stream("bi:*", stream::bidi(echo_publications))
            .channel_with_publish::<types::Everything>(Channel::<types::Everything>::new("typed:*"));
        router().check().expect("valid router");
        let limits = Limits::default().max_payload(64 * 1024);
        Fixture {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            service: ProxyService::new(router(), limits.clone()),
            client: TestClient::with_limits(router(), limits),
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
