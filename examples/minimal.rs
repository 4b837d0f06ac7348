//! The smallest centrpc server: one typed method behind Centrifugo's gRPC proxy, with the
//! command line that serves it and writes Centrifugo's matching config.
//!
//! ```text
//! cargo run --example minimal -- serve --listen 127.0.0.1:10001
//! cargo run --example minimal -- centrifugo-config --omit-secrets
//! ```

use centrpc::{method, Context, Router, RpcError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `tasks.get_stats`.
#[derive(Deserialize, JsonSchema)]
struct TaskStatsParams {
    /// The user whose tasks are counted.
    user_id: String,
}

/// Task statistics for a user.
#[derive(Serialize, JsonSchema)]
struct TaskStatsResult {
    total: u32,
    completed: u32,
}

async fn get_task_stats(_ctx: Context, p: TaskStatsParams) -> Result<TaskStatsResult, RpcError> {
    let total = p.user_id.len() as u32;
    Ok(TaskStatsResult {
        total,
        completed: total / 2,
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let router = Router::new(()).rpc(
        "tasks.get_stats",
        method(get_task_stats).describe("Get task statistics for a user."),
    );
    centrpc::cli::run(router).await
}
