use centrpc::{Context, Router, RpcError};

async fn backwards(_p: u32, _ctx: Context) -> Result<u32, RpcError> {
    Ok(1)
}

fn main() {
    let _ = Router::new(()).rpc("m.backwards", backwards);
}
