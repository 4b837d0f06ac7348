use centrpc::{Context, Router, RpcError};

#[derive(serde::Deserialize)]
struct NoSchema {
    _x: u32,
}

async fn handler(_ctx: Context, _p: NoSchema) -> Result<u32, RpcError> {
    Ok(1)
}

fn main() {
    let _ = Router::new(()).rpc("m.handler", handler);
}
