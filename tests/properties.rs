//! Property tests through the real `ProxyService` (in-process, as tonic calls it): arbitrary
//! JSON round-trips exactly in both payload encodings, typed params round-trip, and arbitrary
//! bytes always get exactly one outcome — never a gRPC status.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use centrpc::{
    codes,
    proto::{centrifugo_proxy_server::CentrifugoProxy, RpcRequest, RpcResponse},
    service::{Limits, ProxyService},
    Context, Router, RpcError,
};
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Op {
    Add { amount: i64 },
    Rename { name: String },
    Clear,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Batch {
    id: u64,
    label: Option<String>,
    ops: Vec<Op>,
    weights: std::collections::BTreeMap<String, f64>,
}

async fn echo(_: Context, v: Value) -> Result<Value, RpcError> {
    Ok(v)
}
async fn batch(_: Context, b: Batch) -> Result<Batch, RpcError> {
    Ok(b)
}

fn service() -> ProxyService<()> {
    let router = Router::new(()).rpc("echo", echo).rpc("batch", batch);
    ProxyService::new(router, Limits::default())
}

fn call(svc: &ProxyService<()>, method: &str, data: &[u8], binary: bool) -> RpcResponse {
    let mut req = RpcRequest {
        method: method.into(),
        protocol: "json".into(),
        ..Default::default()
    };
    if binary {
        req.encoding = "binary".into();
        req.b64data = B64.encode(data);
    } else {
        req.encoding = "json".into();
        req.data = data.to_vec();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(svc.rpc(tonic::Request::new(req)))
        .expect("never a gRPC status")
        .into_inner()
}

fn result_bytes(reply: &RpcResponse, binary: bool) -> Vec<u8> {
    let r = reply
        .result
        .as_ref()
        .unwrap_or_else(|| panic!("expected a result: {reply:?}"));
    if binary {
        B64.decode(&r.b64data).unwrap()
    } else {
        r.data.clone()
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".*", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn batch_value() -> impl Strategy<Value = Batch> {
    let op = prop_oneof![
        any::<i64>().prop_map(|amount| Op::Add { amount }),
        ".*".prop_map(|name| Op::Rename { name }),
        Just(Op::Clear),
    ];
    (
        any::<u64>(),
        proptest::option::of(".*"),
        prop::collection::vec(op, 0..6),
        prop::collection::btree_map(
            ".*",
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            0..5,
        ),
    )
        .prop_map(|(id, label, ops, weights)| Batch {
            id,
            label,
            ops,
            weights,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    #[test]
    fn any_json_round_trips_in_both_encodings(v in json_value(), binary in any::<bool>()) {
        let svc = service();
        let reply = call(&svc, "echo", &serde_json::to_vec(&v).unwrap(), binary);
        let back: Value = serde_json::from_slice(&result_bytes(&reply, binary)).unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn typed_params_round_trip(b in batch_value(), binary in any::<bool>()) {
        let svc = service();
        let reply = call(&svc, "batch", &serde_json::to_vec(&b).unwrap(), binary);
        let back: Batch = serde_json::from_slice(&result_bytes(&reply, binary)).unwrap();
        prop_assert_eq!(back, b);
    }

    #[test]
    fn arbitrary_bytes_get_exactly_one_documented_outcome(bytes in prop::collection::vec(any::<u8>(), 0..256), binary in any::<bool>(), method in prop_oneof![Just("echo".to_owned()), Just("batch".to_owned()), ".*"]) {
        let svc = service();
        let reply = call(&svc, &method, &bytes, binary);
        let outcomes = u8::from(reply.result.is_some()) + u8::from(reply.error.is_some()) + u8::from(reply.disconnect.is_some());
        prop_assert_eq!(outcomes, 1);
        if let Some(e) = &reply.error {
            prop_assert!([codes::MALFORMED_JSON, codes::INVALID_PARAMS, codes::METHOD_NOT_FOUND].contains(&e.code), "{:?}", e);
        }
    }

    #[test]
    fn valid_json_of_the_wrong_shape_is_invalid_params_not_malformed(v in json_value()) {
        prop_assume!(serde_json::from_value::<Batch>(v.clone()).is_err());
        let svc = service();
        let reply = call(&svc, "batch", &serde_json::to_vec(&v).unwrap(), false);
        prop_assert_eq!(reply.error.map(|e| e.code), Some(codes::INVALID_PARAMS));
    }
}
