//! Embedding: centrpc's services (proxy, health, reflection, drain) in a tonic server of your
//! own, next to your own gRPC services and behind tower layers of your own. Here the server
//! also serves grpc.health.v1 for the app itself... and a concurrency limit for the transport.
//!
//! ```text
//! cargo run --example embedding
//! ```

use centrpc::{
    server::{shutdown_signal, Parts, ServerConfig},
    Context, Router, RpcError,
};

async fn ping(_: Context, _: ()) -> Result<&'static str, RpcError> {
    Ok("pong")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::new(()).rpc("system.ping", ping);
    let config = ServerConfig::default();
    let (routes, drain) = Parts::new(router, &config).await?.into_routes();
    println!(
        "serving centrpc inside an application server on {}",
        config.listen
    );
    tonic::transport::Server::builder()
        // A transport-level tower layer of the application's own.
        .layer(tower::limit::ConcurrencyLimitLayer::new(256))
        .add_routes(routes)
        // .add_service(YourOwnServiceServer::new(...)) goes here.
        .serve_with_shutdown(config.listen, drain.after(shutdown_signal()))
        .await?;
    Ok(())
}
