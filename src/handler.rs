//! The shape of a handler, `async fn(Context<S>, Params) -> Result<Output, E>`, and how the router
//! erases it into a method it can call by name with raw JSON bytes.

use std::{future::Future, sync::Arc};

use futures_util::{
    future::{BoxFuture, MapErr},
    TryFutureExt,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    call::{CallResult, Reply},
    context::Context,
    error::RpcError,
};

/// An async function that serves one RPC method.
///
/// Implemented for every `Fn(Context<S>, P) -> impl Future<Output = Result<R, E>>` where
/// `P: DeserializeOwned + JsonSchema`, `R: Serialize + JsonSchema` and `E: Into<RpcError>`;
/// you never implement it yourself. `M` is a marker that lets the compiler infer `P`, `R`, `E`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a centrpc handler",
    label = "not an `async fn(Context<S>, Params) -> Result<Output, E>`",
    note = "a handler takes exactly (Context<S>, Params) where S is the Router's state type, \
            Params: serde::Deserialize + schemars::JsonSchema, and returns \
            Result<Output, E> with Output: serde::Serialize + schemars::JsonSchema and E: Into<RpcError>",
    note = "the returned future must be Send + 'static: don't hold a non-Send value (e.g. a std MutexGuard) across an .await"
)]
pub trait Handler<S, M>: Clone + Send + Sync + 'static {
    /// The params type, decoded from the client's JSON payload.
    type Params: DeserializeOwned + JsonSchema + Send + 'static;
    /// The result type, encoded as the JSON reply.
    type Output: Serialize + JsonSchema + Send + 'static;
    /// The future the handler returns (its error already converted).
    type Future: Future<Output = Result<Self::Output, RpcError>> + Send + 'static;
    /// Runs the handler.
    fn call(&self, ctx: Context<S>, params: Self::Params) -> Self::Future;
}

impl<F, Fut, S, P, R, E> Handler<S, (P, R, E)> for F
where
    F: Fn(Context<S>, P) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    P: DeserializeOwned + JsonSchema + Send + 'static,
    R: Serialize + JsonSchema + Send + 'static,
    E: Into<RpcError> + 'static,
{
    type Params = P;
    type Output = R;
    type Future = MapErr<Fut, fn(E) -> RpcError>;

    fn call(&self, ctx: Context<S>, params: P) -> Self::Future {
        self(ctx, params).map_err(Into::into as fn(E) -> RpcError)
    }
}

/// A handler with its types erased: JSON bytes in, the encoded [`Reply::Rpc`] out.
///
/// Decoding happens before the future is created, so a malformed payload costs no task.
pub(crate) type ErasedHandler<S> = Arc<
    dyn Fn(Context<S>, &[u8]) -> Result<BoxFuture<'static, CallResult>, RpcError> + Send + Sync,
>;

/// Produces the JSON Schema of a params or result type into a shared generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// Erases `handler`: the returned closure decodes params, runs the handler and encodes the result.
pub(crate) fn erase<S, M, H>(handler: H) -> ErasedHandler<S>
where
    H: Handler<S, M>,
    S: Send + Sync + 'static,
{
    Arc::new(move |ctx: Context<S>, payload: &[u8]| {
        let params: H::Params = decode(payload)?;
        let fut = handler.call(ctx, params);
        // One allocation per call: the handler's future and the encoding share this box.
        Ok(Box::pin(async move {
            let output = fut.await?;
            serde_json::to_vec(&output)
                .map(Reply::Rpc)
                .map_err(|e| RpcError::internal(format!("cannot encode the result as JSON: {e}")))
        }) as BoxFuture<'static, _>)
    })
}

/// Decodes a payload the way the server will, and drops the value: `Ok` exactly when the server
/// would hand the params to the handler, otherwise the server's own `400` / `422` error.
pub type CheckFn = fn(&[u8]) -> Result<(), RpcError>;

/// The params check of a handler (its params type's [`decode`], the value dropped).
pub(crate) fn checker<S, M, H: Handler<S, M>>() -> CheckFn {
    |payload| decode::<H::Params>(payload).map(drop)
}

/// The params and result schema generators of a handler.
pub(crate) fn schemas<S, M, H: Handler<S, M>>() -> (SchemaFn, SchemaFn) {
    (
        |g| g.subschema_for::<H::Params>(),
        |g| g.subschema_for::<H::Output>(),
    )
}

/// Decodes a JSON payload into `T`, telling malformed JSON apart from a type mismatch, and
/// naming the field path of a mismatch (`items[2].id: invalid type…`).
///
/// An empty payload (a client that sent no data) decodes as JSON `null`, so `()` and `Option`
/// params accept it. Nesting deeper than 128 levels is refused as malformed, never a stack overflow.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, RpcError> {
    let payload: &[u8] = if payload.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        payload
    };
    // The fast path: no path tracking. Only a failure pays for a second, tracked pass.
    serde_json::from_slice(payload).map_err(|_| explain::<T>(payload))
}

/// Decodes `payload` again with path tracking, to say where and why it does not fit `T`.
fn explain<T: DeserializeOwned>(payload: &[u8]) -> RpcError {
    let mut de = serde_json::Deserializer::from_slice(payload);
    let err = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => {
            return de.end().map_or_else(RpcError::malformed_json, |()| {
                RpcError::invalid_params("the params do not fit the method's type")
            })
        }
        Err(err) => err,
    };
    // The message is formatted once, path and serde's reason together.
    let (path, inner) = (err.path(), err.inner());
    match (inner.is_data(), path.iter().next()) {
        (false, _) => RpcError::malformed_json(inner),
        (true, None) => RpcError::invalid_params(inner),
        (true, Some(_)) => RpcError::invalid_params(format_args!("{path}: {inner}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::codes;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Params {
        user_id: String,
        #[serde(default)]
        tags: Vec<Inner>,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        #[allow(dead_code)]
        id: u32,
    }

    #[test]
    fn decodes_valid_params() {
        let p: Params = decode(br#"{"user_id":"42"}"#).unwrap();
        assert_eq!(p.user_id, "42");
    }

    #[test]
    fn names_the_field_path_of_a_mismatch() {
        let e = decode::<Params>(br#"{"user_id":"42","tags":[{"id":1},{"id":"x"}]}"#).unwrap_err();
        assert_eq!(e.code(), codes::INVALID_PARAMS);
        assert!(e.message().contains("tags[1].id"), "{}", e.message());
        let e = decode::<Params>(br#"{}"#).unwrap_err();
        assert!(
            e.message().contains("missing field `user_id`"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn malformed_and_trailing_json_is_malformed() {
        for bad in [
            &b"{"[..],
            b"{\"user_id\":}",
            b"{\"user_id\":\"1\"} x",
            b"\xff\xfe",
        ] {
            assert_eq!(
                decode::<Params>(bad).unwrap_err().code(),
                codes::MALFORMED_JSON
            );
        }
    }

    #[test]
    fn empty_payload_is_null() {
        decode::<()>(b"").unwrap();
        assert_eq!(decode::<Option<u8>>(b"  ").unwrap(), None);
        assert_eq!(
            decode::<Params>(b"").unwrap_err().code(),
            codes::INVALID_PARAMS
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let e = decode::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(e.code(), codes::MALFORMED_JSON);
        assert!(e.message().contains("recursion limit"), "{}", e.message());
    }
}
