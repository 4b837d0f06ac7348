//! Request decoding and dispatch: method choice × arbitrary bytes × encodings. Every request
//! gets exactly one outcome, results are valid JSON, and nothing panics or runs away.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use centrpc::proto::{centrifugo_proxy_server::CentrifugoProxy, RpcRequest};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Index into the registered methods; out of range means `other_method`.
    method: u8,
    other_method: String,
    data: Vec<u8>,
    /// Send the bytes base64-encoded in `b64data` (binary encoding mode).
    binary: bool,
    /// With `binary`, a raw `b64data` string that may not be base64 at all.
    raw_b64: Option<String>,
    meta: Vec<u8>,
    protocol_protobuf: bool,
}

fuzz_target!(|input: Input| {
    let f = common::fixture();
    let method = common::METHODS
        .get(usize::from(input.method))
        .map_or(input.other_method.clone(), |m| (*m).to_owned());
    let mut req = RpcRequest {
        client: "fuzz".into(),
        transport: "websocket".into(),
        protocol: if input.protocol_protobuf { "protobuf" } else { "json" }.into(),
        encoding: "json".into(),
        user: "u".into(),
        method,
        meta: input.meta,
        ..Default::default()
    };
    if input.binary {
        req.encoding = "binary".into();
        req.b64data = input.raw_b64.unwrap_or_else(|| B64.encode(&input.data));
    } else {
        req.data = input.data;
    }
    let binary = req.encoding == "binary";
    let reply = f
        .rt
        .block_on(f.service.rpc(tonic::Request::new(req)))
        .expect("centrpc never answers RPC with a gRPC status")
        .into_inner();
    common::check_reply(reply.result.is_some(), reply.error.is_some(), reply.disconnect.is_some());
    if let Some(r) = reply.result {
        let bytes = if binary { B64.decode(r.b64data).expect("b64data is base64") } else { r.data };
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("results are JSON");
    }
    if let Some(e) = reply.error {
        assert!((400..=1999).contains(&e.code), "error codes stay in Centrifugo's application range");
    }
});
