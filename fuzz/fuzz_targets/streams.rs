//! Stream messages: arbitrary subscribe data (JSON or base64 in binary mode) on arbitrary
//! channels, arbitrary publications into a bidirectional stream, and arbitrary client
//! publications into a typed channel. Every stream opens with exactly one outcome, every item is
//! JSON, a bidirectional stream answers each publication once and ends when its subscriber does,
//! and nothing panics.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use centrpc::proto::{centrifugo_proxy_server::CentrifugoProxy, SubscribeRequest};
use futures_util::StreamExt;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// An index into `common::CHANNELS`, or (past its end) `channel` as given.
    pick: u8,
    channel: String,
    data: Vec<u8>,
    b64data: String,
    binary: bool,
    publications: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let f = common::fixture();
    let channel = common::CHANNELS
        .get(usize::from(input.pick))
        .map_or(input.channel.clone(), |c| (*c).to_owned());
    let encoding = if input.binary { "binary" } else { "json" }.to_owned();
    // Unidirectional, raw subscribe data.
    let req = SubscribeRequest {
        channel: channel.clone(),
        data: input.data.clone(),
        b64data: input.b64data,
        encoding,
        user: "u".into(),
        ..Default::default()
    };
    f.rt.block_on(async {
        let replies = f.service.subscribe_unidirectional(tonic::Request::new(req)).await;
        let mut replies = replies.expect("streams are registered: no gRPC status").into_inner();
        let first = replies.next().await.expect("a first message").expect("no status");
        let sub = first.subscribe_response.expect("the first message is the subscribe response");
        common::check_reply(sub.result.is_some(), sub.error.is_some(), sub.disconnect.is_some());
        let mut items = 0;
        while let Some(next) = replies.next().await {
            let publication = next.expect("these handlers never fail").publication.expect("an item");
            serde_json::from_slice::<serde_json::Value>(&publication.data).expect("items are JSON");
            items += 1;
        }
        assert!(sub.result.is_none() || items == 2, "the echo stream sends its params twice");
    });
    // Bidirectional: arbitrary publications, each answered once, in order.
    f.rt.block_on(async {
        let params = serde_json::json!({"user_id": "u", "limit": null, "tags": []});
        let (mut items, publisher) = f
            .client
            .stream_bidi::<serde_json::Value>("u", "bi:x", &params)
            .await
            .expect("valid params open the stream");
        for p in &input.publications {
            assert!(publisher.publish_raw(p.clone()));
            let item = items.next().await.expect("one item per publication").expect("no status");
            if let Some(code) = item.get("refused") {
                assert!(matches!(code.as_u64(), Some(400 | 413 | 422)), "{item}");
            }
        }
        drop(publisher);
        assert!(items.next().await.is_none(), "the stream ends when its subscriber does");
    });
    // A typed channel's client publication: accepted exactly when it fits the type.
    f.rt.block_on(async {
        let data: serde_json::Value =
            serde_json::from_slice(&input.data).unwrap_or(serde_json::Value::Null);
        let fits = serde_json::from_value::<common::types::Everything>(data.clone()).is_ok();
        let outcome = f.client.publish("u", "typed:x", &data).await;
        match outcome {
            Ok(_) => assert!(fits, "accepted a publication that does not fit: {data}"),
            Err(e) => assert!(!fits && e.code() == 422, "{data}: {e:?}"),
        }
    });
});
