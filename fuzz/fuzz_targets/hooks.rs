//! Hook payload parsing: arbitrary connect data, and subscribe and publish data on arbitrary
//! channels. Every request gets exactly one outcome and nothing panics.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use centrpc::proto::{
    centrifugo_proxy_server::CentrifugoProxy, ConnectRequest, PublishRequest, SubscribeRequest,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    channel: String,
    data: Vec<u8>,
    b64data: String,
    binary: bool,
    /// 0: subscribe, 1: publish, otherwise connect.
    hook: u8,
}

fuzz_target!(|input: Input| {
    let f = common::fixture();
    let encoding = if input.binary { "binary" } else { "json" }.to_owned();
    if input.hook > 1 {
        let req = ConnectRequest {
            data: input.data,
            b64data: input.b64data,
            encoding,
            channels: vec![input.channel],
            ..Default::default()
        };
        let r =
            f.rt.block_on(f.service.connect(tonic::Request::new(req)))
                .expect("no gRPC status")
                .into_inner();
        common::check_reply(
            r.result.is_some(),
            r.error.is_some(),
            r.disconnect.is_some(),
        );
    } else if input.hook == 1 {
        let req = PublishRequest {
            channel: input.channel,
            data: input.data,
            b64data: input.b64data,
            encoding,
            user: "u".into(),
            ..Default::default()
        };
        let r =
            f.rt.block_on(f.service.publish(tonic::Request::new(req)))
                .expect("no gRPC status")
                .into_inner();
        common::check_reply(
            r.result.is_some(),
            r.error.is_some(),
            r.disconnect.is_some(),
        );
    } else {
        let req = SubscribeRequest {
            channel: input.channel,
            data: input.data,
            b64data: input.b64data,
            encoding,
            user: "u".into(),
            ..Default::default()
        };
        let r =
            f.rt.block_on(f.service.subscribe(tonic::Request::new(req)))
                .expect("no gRPC status")
                .into_inner();
        common::check_reply(
            r.result.is_some(),
            r.error.is_some(),
            r.disconnect.is_some(),
        );
    }
});
