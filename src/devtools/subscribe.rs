//! `my-app subscribe CHANNEL`: subscribes through the real Centrifugo as a user and prints each
//! publication's data as one JSON line, until interrupted, `--count` publications, or the
//! server ends the subscription.
//!
//! For a subscription stream the subscribe data (`-d`) is checked first against the stream's
//! params type with the server's own rules (`--no-check` skips that). A stream that fails is
//! resubscribed, as the SDKs do (Centrifugo's unsubscribe code 2500); one that ends
//! (2000) ends the command with exit 0.

use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};

use super::{
    call::{builtin_name, json_data, print_error, read_data, AsUser, Exit},
    centrifugo::{error_outcome, Incoming, Session},
    Failure, Outcome,
};
use crate::router::Router;

/// Centrifugo's unsubscribe code after which SDKs subscribe again ("insufficient state").
const RESUBSCRIBE: u64 = 2500;

/// Flags of `subscribe`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 interrupted, --count reached or the server ended the subscription; 1 the \
subscription was refused or ended with an error; 2 usage or unreadable input; 3 subscribe data \
that does not fit the stream's params; 4 unreachable; 5 token refused.")]
pub(crate) struct SubscribeArgs {
    /// The channel, e.g. watch:tasks, tasks:alice or '#alice'.
    channel: String,
    /// The subscribe data as JSON (or use -d): a stream's params.
    #[arg(conflicts_with = "data")]
    params: Option<String>,
    /// The subscribe data: JSON, `@FILE` to read a file, `@-` to read stdin.
    #[arg(long, short = 'd', value_name = "JSON|@FILE|@-")]
    data: Option<String>,
    /// Exit after this many publications.
    #[arg(long)]
    count: Option<u64>,
    /// Send the subscribe data without checking it against the stream's params first.
    #[arg(long)]
    no_check: bool,
    /// Give up connecting and subscribing after this long.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: std::time::Duration,
    /// Who subscribes, and how to reach Centrifugo as them.
    #[command(flatten)]
    as_user: AsUser,
}

/// Runs `subscribe`; every problem is printed and mapped to an [`Exit`] code.
pub(crate) async fn command<S: Send + Sync + 'static>(
    args: SubscribeArgs,
    router: &Router<S>,
) -> ExitCode {
    let run = run(args, router);
    let outcome = tokio::select! {
        outcome = run => outcome,
        _ = tokio::signal::ctrl_c() => Ok(Exit::Ok),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err((exit, message)) => {
            eprintln!("error: {message}");
            exit.into()
        }
    }
}

async fn run<S: Send + Sync + 'static>(
    args: SubscribeArgs,
    router: &Router<S>,
) -> Result<Exit, (Exit, String)> {
    let usage = |m: String| (Exit::Usage, m);
    let payload = read_data(args.params.as_deref(), args.data.as_deref()).map_err(usage)?;
    let streams = router.streams();
    let stream = streams
        .iter()
        .find(|s| crate::hooks::matches(&s.name, &args.channel));
    if let (Some(stream), false) = (stream, args.no_check) {
        if let Err(e) = (stream.check)(&payload) {
            print_error(e.code(), e.message(), e.is_temporary());
            return Err((
                Exit::Rejected,
                format!(
                    "subscribe data refused before sending: {} {}: {} (--no-check sends it anyway)",
                    e.code(),
                    builtin_name(e.code()),
                    e.message()
                ),
            ));
        }
    }
    let data = json_data(&payload).map_err(usage)?;
    let token = args.as_user.token().map_err(usage)?;
    let url = args.as_user.url();
    let failure = Failure::exit;
    let mut session = Session::open(&url, &token, "centrpc-subscribe", args.timeout)
        .await
        .map_err(failure)?;
    let mut subscribe = json!({ "channel": args.channel });
    if let Some(d) = data {
        subscribe["data"] = d;
    }
    let mut id = 2;
    session
        .send(json!({ "id": id, "subscribe": subscribe }))
        .await
        .map_err(failure)?;
    let mut printed = 0;
    loop {
        if args.count.is_some_and(|n| printed >= n) {
            session.close().await;
            return Ok(Exit::Ok);
        }
        let message = match session.next(true).await.map_err(failure)? {
            Incoming::Disconnect { code, reason } => {
                return Err((Exit::RpcError, format!("disconnected: {code} {reason}")));
            }
            Incoming::Message(m) => m,
        };
        if message["id"] == id {
            if let Some(e) = message.get("error") {
                if let Outcome::Error {
                    code,
                    message,
                    temporary,
                } = error_outcome(e)
                {
                    print_error(code, &message, temporary);
                    let name = builtin_name(code);
                    return Err((
                        Exit::RpcError,
                        format!("subscribe refused: {code} {name}: {message}"),
                    ));
                }
            }
            continue;
        }
        let push = &message["push"];
        if push["channel"] != args.channel.as_str() {
            continue;
        }
        if let Some(publication) = push.get("pub") {
            println!("{}", publication.get("data").unwrap_or(&Value::Null));
            printed += 1;
        } else if let Some(unsubscribe) = push.get("unsubscribe") {
            let code = unsubscribe["code"].as_u64().unwrap_or(0);
            let reason = unsubscribe["reason"].as_str().unwrap_or("");
            if code == RESUBSCRIBE {
                eprintln!("the stream failed ({code} {reason}); subscribing again");
                id += 1;
                session
                    .send(json!({ "id": id, "subscribe": subscribe }))
                    .await
                    .map_err(failure)?;
                continue;
            }
            eprintln!("unsubscribed by the server: {code} {reason}");
            session.close().await;
            return if code == 2000 {
                Ok(Exit::Ok)
            } else {
                Err((Exit::RpcError, format!("unsubscribed: {code} {reason}")))
            };
        }
    }
}
