//! The task tracker example served as a Centrifugo RPC proxy.
//!
//! Run with: `cargo run --example tasks -- serve --listen 127.0.0.1:10001`
//! (set `CENTRPC_CENTRIFUGO_API_URL` and `CENTRPC_CENTRIFUGO_API_KEY` so `tasks.process` can publish).

mod app;
// The every-construct fixture lives with the tests; the example serves it as `types.roundtrip`,
// so the generated clients' end-to-end suites round-trip every construct through the real app.
#[path = "../../tests/fixtures/everything.rs"]
mod types;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let app = app::App::new(centrpc::ServerApi::from_env());
    centrpc::cli::run(app::router(app)).await
}
