//! The task tracker example served as a Centrifugo RPC proxy.
//!
//! Run with: `cargo run --example tasks -- serve --listen 127.0.0.1:10001`

mod app;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    centrpc::cli::run(app::router(app::App::default())).await
}
