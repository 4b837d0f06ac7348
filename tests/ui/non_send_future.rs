use std::sync::Mutex;

use centrpc::{Context, Router, RpcError};

static COUNTER: Mutex<u32> = Mutex::new(0);

async fn holds_guard(_ctx: Context, _p: u32) -> Result<u32, RpcError> {
    let guard = COUNTER.lock().unwrap();
    tokio::task::yield_now().await;
    Ok(*guard)
}

fn main() {
    let _ = Router::new(()).rpc("m.holds_guard", holds_guard);
}
