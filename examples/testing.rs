//! Testing handlers without a network: `TestClient` (feature `test-util`) runs calls through
//! the real pipeline (limits, middleware, error mapping) in process.
//!
//! ```text
//! cargo test --example testing --features test-util
//! ```

use centrpc::{method, Context, DeclaredError, Router, RpcError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct Transfer {
    to: String,
    amount: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Receipt {
    from: String,
    to: String,
    amount: u32,
}

const INSUFFICIENT_FUNDS: u32 = 1402;

async fn transfer(ctx: Context, t: Transfer) -> Result<Receipt, RpcError> {
    if t.amount > 100 {
        return Err(RpcError::new(INSUFFICIENT_FUNDS, "insufficient funds"));
    }
    Ok(Receipt {
        from: ctx.user().to_owned(),
        to: t.to,
        amount: t.amount,
    })
}

fn router() -> Router {
    Router::new(()).rpc(
        "bank.transfer",
        method(transfer).error(DeclaredError::new(
            INSUFFICIENT_FUNDS,
            "INSUFFICIENT_FUNDS",
            "The balance is lower than the amount.",
        )),
    )
}

fn main() {
    println!("run the tests: cargo test --example testing --features test-util");
    let _ = router();
}

#[cfg(test)]
mod tests {
    use super::*;
    use centrpc::{codes, testing::TestClient};
    use serde_json::json;

    #[tokio::test]
    async fn a_transfer_is_made_by_the_calling_user() {
        let client = TestClient::new(router());
        let receipt: Receipt = client
            .call("bank.transfer", &json!({"to": "bob", "amount": 30}))
            .user("alice")
            .await
            .unwrap();
        assert_eq!(
            receipt,
            Receipt {
                from: "alice".into(),
                to: "bob".into(),
                amount: 30
            }
        );
    }

    #[tokio::test]
    async fn errors_arrive_as_the_client_sees_them() {
        let client = TestClient::new(router());
        let err = client
            .call::<Receipt>("bank.transfer", &json!({"to": "bob", "amount": 500}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), INSUFFICIENT_FUNDS);
        let err = client
            .call::<Receipt>("bank.transfer", &json!({"to": "bob"}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), codes::INVALID_PARAMS);
        assert!(
            err.message().contains("missing field `amount`"),
            "{}",
            err.message()
        );
    }
}
