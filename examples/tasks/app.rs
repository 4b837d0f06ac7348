//! The example application: a small task tracker behind Centrifugo, with the seed's
//! `tasks.get_stats` and methods that show state, context, errors and a slow, cancellable call.
//! The tests include this file, so the example is what they exercise.

use std::{
    collections::BTreeMap,
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Duration,
};

use centrpc::{
    hooks::{
        ConnectEvent, ConnectReply, Hooks, Json, PublishEvent, PublishReply, RefreshEvent,
        RefreshReply, SubscribeEvent, SubscribeReply,
    },
    method,
    middleware::{Quota, RateLimitLayer},
    stream::{self, Incoming},
    Channel, Context, DeclaredError, ResultExt, Router, RpcError, ServerApi,
};
use futures_util::{Stream, StreamExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::types::Everything;

// The generated clients' round-trip fixture of every named type lives with the tests; the app
// serves it as `types.echo`.
#[path = "../../tests/fixtures/typed_value.rs"]
pub mod typed_value;

/// Application error codes (centrpc's built-ins use 400–599; the app uses 1000+).
pub mod codes {
    /// No task with that id.
    pub const TASK_NOT_FOUND: u32 = 1004;
    /// The title is empty or too long.
    pub const INVALID_TITLE: u32 = 1001;
    /// The demo failure of `tasks.fail`.
    pub const DEMO_FAILURE: u32 = 1500;
    /// The temporary failure of `tasks.flaky` (one of a key's first calls).
    pub const FLAKY_FAILURE: u32 = 1501;
    /// The demo disconnect of `tasks.fail` (4500+: the client does not reconnect).
    pub const DEMO_DISCONNECT: u32 = 4501;
    /// The connect hook refused the login (terminal disconnect).
    pub const LOGIN_REFUSED: u32 = 4503;
    /// Subscribing to another user's task channel.
    pub const NOT_YOUR_CHANNEL: u32 = 1403;
    /// A chat message with an empty or over-long text.
    pub const INVALID_MESSAGE: u32 = 1422;
    /// `tasks.process` needs the Centrifugo server API, which is not configured.
    pub const PUBLISHING_DISABLED: u32 = 1503;
}

/// The password the demo's connect hook accepts for any user name.
pub const DEMO_PASSWORD: &str = "centrpc";

/// Shared application state: an in-memory task store.
pub struct App {
    tasks: Mutex<BTreeMap<u64, Task>>,
    next_id: AtomicU64,
    /// How many times `tasks.flaky` (or `tasks.flaky_unsafe`) was called, by key.
    flaky: Mutex<BTreeMap<String, u32>>,
    /// How many slow calls were cancelled before they finished (Centrifugo gave up on them).
    pub cancelled: AtomicU64,
    /// How many subscription streams ended because their subscriber left or the server closed them.
    pub streams_cancelled: AtomicU64,
    /// Centrifugo's server API, for publishing progress and task events.
    pub api: Option<ServerApi>,
    /// Task events for the `watch:tasks` streams (a bounded buffer per subscriber).
    events: broadcast::Sender<TaskEvent>,
}

/// How many task events a `watch:tasks` subscriber may fall behind before its stream is ended
/// (and its SDK resubscribes): the example's back-pressure bound.
pub const WATCH_BUFFER: usize = 256;

impl Default for App {
    fn default() -> Self {
        Self {
            tasks: Mutex::default(),
            next_id: AtomicU64::default(),
            flaky: Mutex::default(),
            cancelled: AtomicU64::default(),
            streams_cancelled: AtomicU64::default(),
            api: None,
            events: broadcast::channel(WATCH_BUFFER).0,
        }
    }
}

impl App {
    /// An app that publishes through `api` when given.
    pub fn new(api: Option<ServerApi>) -> Self {
        Self {
            api,
            ..Self::default()
        }
    }

    /// Tells `watch:tasks` streams and the owner's `tasks:<owner>` channel.
    async fn announce(&self, event: TaskEvent) -> Result<(), RpcError> {
        let _no_watchers = self.events.send(event.clone());
        if let Some(api) = &self.api {
            let owner = match &event {
                TaskEvent::Created { task } | TaskEvent::Completed { task } => &task.owner,
            };
            api.publish_to(&TASK_EVENTS.at(owner), &event).await?;
        }
        Ok(())
    }
}

/// Something that happened to a task.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskEvent {
    /// A task was created.
    Created {
        /// The new task.
        task: Task,
    },
    /// A task was marked done.
    Completed {
        /// The task, done.
        task: Task,
    },
}

/// A user's task events, published to `tasks:<user>` (only that user may subscribe).
pub const TASK_EVENTS: Channel<TaskEvent> =
    Channel::new("tasks:*").describe("Task events of one user: `tasks:<user>`.");

/// The progress of `tasks.process`, on the caller's personal channel `#<user>`.
pub const PROGRESS: Channel<Progress> = Channel::new("#*")
    .named("progress")
    .describe("Progress of `tasks.process`, on the caller's personal channel `#<user>`.");

/// Chat rooms `chat:<room>`: clients publish a [`ChatMessage`], subscribers receive a [`ChatPost`].
pub const CHAT: Channel<ChatPost> = Channel::new("chat:*")
    .describe("Chat rooms: `chat:<room>`. Any logged-in user may join and post.");

/// Parameters of the `watch:tasks` stream.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WatchTasks {
    /// Whose task events: only your own may be watched (the default).
    #[serde(default)]
    pub owner: Option<String>,
}

/// Streams the caller's task events as they happen, until the subscriber leaves.
async fn watch_tasks(
    ctx: Context<App>,
    p: WatchTasks,
) -> Result<impl Stream<Item = Result<TaskEvent, RpcError>>, RpcError> {
    let owner = p.owner.unwrap_or_else(|| ctx.user().to_owned());
    if owner != ctx.user() {
        return Err(RpcError::new(
            codes::NOT_YOUR_CHANNEL,
            "you may only watch your own tasks",
        ));
    }
    let events = stream::broadcast(ctx.state().events.subscribe());
    let counted = CountWhenDropped(ctx.clone());
    Ok(events.filter(move |e| {
        let _keep_until_the_stream_ends = &counted;
        let wanted = match e {
            Ok(TaskEvent::Created { task } | TaskEvent::Completed { task }) => task.owner == owner,
            Err(_) => true,
        };
        std::future::ready(wanted)
    }))
}

/// Counts a stream into `App::streams_cancelled` when it ends other than by running out.
struct CountWhenDropped(Context<App>);

impl Drop for CountWhenDropped {
    fn drop(&mut self) {
        if self.0.is_cancelled() {
            self.0
                .state()
                .streams_cancelled
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Parameters of the `watch:count` stream.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CountParams {
    /// The first number.
    #[serde(default)]
    pub from: u64,
    /// How many numbers (at most 10 000 000).
    pub count: u64,
    /// Pause between numbers, in milliseconds (at most 10 000).
    #[serde(default)]
    pub interval_ms: u64,
}

/// One number of `watch:count`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Count {
    /// The number.
    pub n: u64,
    /// Who subscribed (as Centrifugo authenticated them).
    pub user: String,
}

/// Counts `count` numbers from `from`, then ends the subscription.
async fn watch_count(
    ctx: Context<App>,
    p: CountParams,
) -> Result<impl Stream<Item = Result<Count, RpcError>>, RpcError> {
    if p.count > 10_000_000 || p.interval_ms > 10_000 {
        return Err(RpcError::invalid_params(
            "count must be at most 10 000 000 and interval_ms at most 10 000",
        ));
    }
    let user = ctx.user().to_owned();
    let counted = CountWhenDropped(ctx);
    let interval = Duration::from_millis(p.interval_ms);
    Ok(
        futures_util::stream::iter(p.from..p.from.saturating_add(p.count)).then(move |n| {
            let (user, _counted) = (user.clone(), &counted);
            async move {
                if !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                Ok(Count { n, user })
            }
        }),
    )
}

/// Parameters of a `tally:<name>` stream.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TallyParams {
    /// The starting total.
    #[serde(default)]
    pub start: i64,
}

/// What a `tally:<name>` subscriber publishes.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TallyAdd {
    /// Added to the total (may be negative).
    pub add: i64,
}

/// The running total of a `tally:<name>` stream, sent after each of the subscriber's additions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tally {
    /// The total so far.
    pub total: i64,
    /// Additions received.
    pub adds: u64,
    /// Publications refused because they were not a [`TallyAdd`] (their error is logged).
    pub refused: u64,
}

/// A private running total: the subscriber publishes additions, the stream answers each with the
/// new total. A publication that is not a `TallyAdd` is counted as refused; the stream goes on.
async fn tally(
    _ctx: Context<App>,
    p: TallyParams,
    incoming: Incoming<TallyAdd>,
) -> Result<impl Stream<Item = Result<Tally, RpcError>>, RpcError> {
    let start = Tally {
        total: p.start,
        adds: 0,
        refused: 0,
    };
    Ok(incoming.scan(start, |tally, add| {
        match add {
            Ok(add) => {
                tally.total = tally.total.saturating_add(add.add);
                tally.adds += 1;
            }
            Err(e) => {
                tracing::debug!(
                    code = e.code(),
                    reason = e.message(),
                    "tally: refused a publication"
                );
                tally.refused += 1;
            }
        }
        std::future::ready(Some(Ok(tally.clone())))
    }))
}

/// Parameters of `tasks.get_stats`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskStatsParams {
    /// The user whose tasks are counted.
    pub user_id: String,
}

/// Task statistics for a user.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TaskStatsResult {
    /// Total tasks.
    pub total: u64,
    /// Completed tasks.
    pub completed: u64,
}

/// A task.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// Task id.
    pub id: u64,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// The user who created it (as Centrifugo authenticated them).
    pub owner: String,
}

/// Parameters of `tasks.create`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateTaskParams {
    /// What to do (1–200 characters).
    pub title: String,
}

/// Identifies one task.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskRef {
    /// Task id.
    pub id: u64,
}

/// Which failure `tasks.fail` should demonstrate.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An application error with code 1500.
    App,
    /// A temporary application error (the client may retry).
    Temporary,
    /// A handler error converted with `?` (the client sees a sanitised 500).
    Internal,
    /// A panic (isolated; the client sees a sanitised 500).
    Panic,
    /// Disconnect the client (4501, no reconnect).
    Disconnect,
}

/// Parameters of `tasks.fail`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FailParams {
    /// Which failure.
    pub kind: FailureKind,
}

/// Parameters of `tasks.slow`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SlowParams {
    /// How long to work, in milliseconds (at most 60 000).
    pub ms: u64,
}

/// Result of `tasks.slow`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SlowResult {
    /// How long it worked.
    pub slept_ms: u64,
}

/// Parameters of `tasks.flaky` and `tasks.flaky_unsafe`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlakyParams {
    /// Whose calls to count: each key has its own count.
    pub key: String,
    /// How many of the key's first calls fail, temporarily.
    pub failures: u32,
}

/// Result of `tasks.flaky` and `tasks.flaky_unsafe`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct FlakyResult {
    /// Which call of the key this is, from 1 (the failed ones count).
    pub attempt: u32,
}

/// Who is calling, as Centrifugo reports it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WhoAmI {
    /// The authenticated user ID ("" when anonymous).
    pub user: String,
    /// Centrifugo's connection ID.
    pub client: String,
    /// Client transport.
    pub transport: String,
    /// Client protocol.
    pub protocol: String,
    /// Proxy payload encoding.
    pub encoding: String,
    /// Connection meta, when Centrifugo includes it.
    pub meta: Option<serde_json::Value>,
}

/// Parameters of `tasks.process`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProcessParams {
    /// Number of steps (1–100).
    pub steps: u32,
    /// Pause between steps, in milliseconds (at most 5 000).
    #[serde(default)]
    pub delay_ms: u64,
}

/// Published to the caller's personal channel `#<user>` after each step of `tasks.process`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    /// Steps done.
    pub step: u32,
    /// Steps in all.
    pub of: u32,
}

/// Result of `tasks.process`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ProcessResult {
    /// Steps done.
    pub steps: u32,
    /// The channel progress went to.
    pub channel: String,
}

async fn process(ctx: Context<App>, p: ProcessParams) -> Result<ProcessResult, RpcError> {
    if !(1..=100).contains(&p.steps) {
        return Err(RpcError::invalid_params("steps must be 1 to 100"));
    }
    let api = ctx.state().api.as_ref().or_rpc(
        codes::PUBLISHING_DISABLED,
        "publishing is not configured (CENTRPC_CENTRIFUGO_API_URL / _KEY)",
    )?;
    let channel = PROGRESS.at(ctx.user());
    for step in 1..=p.steps {
        tokio::time::sleep(Duration::from_millis(p.delay_ms.min(5_000))).await;
        api.publish_to(&channel, &Progress { step, of: p.steps })
            .await?;
    }
    Ok(ProcessResult {
        steps: p.steps,
        channel: channel.to_string(),
    })
}

async fn get_stats(ctx: Context<App>, p: TaskStatsParams) -> Result<TaskStatsResult, RpcError> {
    let tasks = ctx.state().tasks.lock().expect("task store lock");
    let mine = tasks.values().filter(|t| t.owner == p.user_id);
    let (total, completed) = mine.fold((0, 0), |(t, c), task| (t + 1, c + u64::from(task.done)));
    Ok(TaskStatsResult { total, completed })
}

async fn create(ctx: Context<App>, p: CreateTaskParams) -> Result<Task, RpcError> {
    let title = p.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(RpcError::new(
            codes::INVALID_TITLE,
            "title must be 1 to 200 characters",
        ));
    }
    let app = ctx.state();
    let task = Task {
        id: app.next_id.fetch_add(1, Ordering::Relaxed) + 1,
        title: title.to_owned(),
        done: false,
        owner: ctx.user().to_owned(),
    };
    app.tasks
        .lock()
        .expect("task store lock")
        .insert(task.id, task.clone());
    app.announce(TaskEvent::Created { task: task.clone() })
        .await?;
    Ok(task)
}

async fn complete(ctx: Context<App>, p: TaskRef) -> Result<Task, RpcError> {
    let task = {
        let mut tasks = ctx.state().tasks.lock().expect("task store lock");
        let task = tasks
            .get_mut(&p.id)
            .or_rpc(codes::TASK_NOT_FOUND, "task not found")?;
        task.done = true;
        task.clone()
    };
    ctx.state()
        .announce(TaskEvent::Completed { task: task.clone() })
        .await?;
    Ok(task)
}

async fn fail(_ctx: Context<App>, p: FailParams) -> Result<(), RpcError> {
    match p.kind {
        FailureKind::App => Err(RpcError::new(codes::DEMO_FAILURE, "demo failure")),
        FailureKind::Temporary => {
            Err(RpcError::new(codes::DEMO_FAILURE, "demo failure, try again").temporary())
        }
        FailureKind::Internal => {
            let _n: u32 = "not a number".parse()?;
            Ok(())
        }
        FailureKind::Panic => panic!("demo panic with a secret: hunter2"),
        FailureKind::Disconnect => Err(RpcError::disconnect(
            codes::DEMO_DISCONNECT,
            "demo disconnect",
        )),
    }
}

/// Counts the call under its key and fails temporarily while the count is at most `failures`:
/// a stand-in for a dependency that is briefly unavailable, to show clients' retries.
async fn flaky(ctx: Context<App>, p: FlakyParams) -> Result<FlakyResult, RpcError> {
    let attempt = {
        let mut counts = ctx.state().flaky.lock().expect("not poisoned");
        let count = counts.entry(p.key).or_default();
        *count += 1;
        *count
    };
    if attempt <= p.failures {
        return Err(RpcError::new(codes::FLAKY_FAILURE, "flaky failure, try again").temporary());
    }
    Ok(FlakyResult { attempt })
}

async fn slow(ctx: Context<App>, p: SlowParams) -> Result<SlowResult, RpcError> {
    let ms = p.ms.min(60_000);
    // Count the call as cancelled unless it runs to the end: tokio drops this future when
    // Centrifugo gives up, and the guard's Drop runs either way.
    struct CountUnlessDone<'a>(&'a AtomicU64, bool);
    impl Drop for CountUnlessDone<'_> {
        fn drop(&mut self) {
            if !self.1 {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let mut guard = CountUnlessDone(&ctx.state().cancelled, false);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    guard.1 = true;
    Ok(SlowResult { slept_ms: ms })
}

async fn whoami(ctx: Context<App>, _: ()) -> Result<WhoAmI, RpcError> {
    Ok(WhoAmI {
        user: ctx.user().to_owned(),
        client: ctx.client().to_owned(),
        transport: ctx.transport().to_owned(),
        protocol: ctx.protocol().to_owned(),
        encoding: ctx.encoding().to_owned(),
        meta: ctx.meta()?,
    })
}

async fn roundtrip(_ctx: Context<App>, value: Everything) -> Result<Everything, RpcError> {
    Ok(value)
}

async fn echo(_ctx: Context<App>, value: serde_json::Value) -> Result<serde_json::Value, RpcError> {
    Ok(value)
}

/// The connect data a client logs in with (when no JWT and no forwarded header logs it in).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Login {
    /// Any user name, 1 to 64 bytes.
    pub user: String,
    /// The demo's password, `centrpc`.
    pub password: String,
}

/// What the connect hook answers a logged-in client with (its connect reply data).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Welcome {
    /// The user the connection is logged in as.
    pub user: String,
    /// When the login expires (unix seconds); Centrifugo refreshes the connection before.
    pub expires_at: i64,
    /// How the client logged in: `connect_data` or `header`.
    pub via: String,
}

/// A connection's public info: what other clients see of it in presence and join/leave events.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ConnInfo {
    /// The name to show.
    pub display_name: String,
}

/// Logs in from connect data [`Login`] or a forwarded header
/// `authorization: Demo <user>:<password>`; any user name with [`DEMO_PASSWORD`].
async fn connect(
    ctx: Context<App>,
    event: ConnectEvent<Json<Option<Login>>>,
) -> Result<ConnectReply<Welcome, ConnInfo>, RpcError> {
    let from_header = ctx.header("authorization").and_then(|h| {
        let (user, password) = h.strip_prefix("Demo ")?.split_once(':')?;
        Some(Login {
            user: user.into(),
            password: password.into(),
        })
    });
    let (login, via) = match (from_header, event.data.0) {
        (Some(login), _) => (login, "header"),
        (None, Some(login)) => (login, "connect_data"),
        (None, None) => return Err(refused()),
    };
    if login.password != DEMO_PASSWORD || login.user.is_empty() || login.user.len() > 64 {
        return Err(refused());
    }
    let expires_at = unix_now() + 3600;
    let mut reply = ConnectReply::user(&login.user);
    reply.meta = Some(serde_json::json!({"login": "connect-hook"}));
    reply.expire_at = Some(expires_at);
    reply.info = Some(ConnInfo {
        display_name: login.user.clone(),
    });
    reply.data = Some(Welcome {
        user: login.user,
        expires_at,
        via: via.into(),
    });
    Ok(reply)
}

fn refused() -> RpcError {
    RpcError::disconnect(codes::LOGIN_REFUSED, "invalid credentials")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn refresh(_ctx: Context<App>, _: RefreshEvent) -> Result<RefreshReply, RpcError> {
    Ok(RefreshReply::extend_until(unix_now() + 3600))
}

/// `tasks:<user>` carries a user's task events: only that user may subscribe.
async fn subscribe_tasks(ctx: Context<App>, e: SubscribeEvent) -> Result<SubscribeReply, RpcError> {
    if e.channel.strip_prefix("tasks:") == Some(ctx.user()) {
        Ok(SubscribeReply::default())
    } else {
        Err(RpcError::new(
            codes::NOT_YOUR_CHANNEL,
            "you may only subscribe to your own tasks channel",
        ))
    }
}

/// Any logged-in user may join a chat room.
async fn subscribe_chat(ctx: Context<App>, _: SubscribeEvent) -> Result<SubscribeReply, RpcError> {
    if ctx.user().is_empty() {
        return Err(RpcError::new(codes::NOT_YOUR_CHANNEL, "log in to chat"));
    }
    Ok(SubscribeReply::default())
}

/// A chat message as clients publish it.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChatMessage {
    /// The text (1–500 characters).
    pub text: String,
}

/// A chat message as subscribers receive it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ChatPost {
    /// The text, trimmed.
    pub text: String,
    /// The sender, as Centrifugo authenticated them.
    pub from: String,
}

/// Chat publications must be `{"text": "1–500 chars"}`; they are stored with the sender.
async fn publish_chat(ctx: Context<App>, e: PublishEvent) -> Result<PublishReply, RpcError> {
    let msg: ChatMessage = e.data()?;
    let text = msg.text.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(RpcError::new(
            codes::INVALID_MESSAGE,
            "text must be 1 to 500 characters",
        ));
    }
    PublishReply::rewrite(&ChatPost {
        text: text.to_owned(),
        from: ctx.user().to_owned(),
    })
}

/// The example's hooks.
pub fn hooks(h: Hooks<App>) -> Hooks<App> {
    h.connect(connect)
        .refresh(refresh)
        .subscribe("tasks:*", subscribe_tasks)
        .subscribe("chat:*", subscribe_chat)
        .publish("chat:*", publish_chat)
}

/// How many tasks one user may create per minute (in bursts of up to as many).
pub const CREATES_PER_MINUTE: u32 = 60;

/// The temporary failure of `tasks.flaky` and `tasks.flaky_unsafe`.
fn flaky_failure() -> DeclaredError {
    DeclaredError::new(
        codes::FLAKY_FAILURE,
        "FLAKY_FAILURE",
        "One of the key's first `failures` calls.",
    )
    .temporary()
}

/// The example's router.
pub fn router(app: App) -> Router<App> {
    let creates = Quota::per_minute(NonZeroU32::new(CREATES_PER_MINUTE).expect("non-zero"));
    Router::new(app)
        .info("tasks", "0.1.0")
        .rpc(
            "tasks.get_stats",
            method(get_stats)
                .describe("Get task statistics for a user.")
                .idempotent(),
        )
        .rpc(
            "tasks.create",
            method(create)
                .describe("Create a task owned by the calling user.")
                .error(DeclaredError::new(
                    codes::INVALID_TITLE,
                    "INVALID_TITLE",
                    "The title is empty or longer than 200 characters.",
                ))
                .layer(RateLimitLayer::per_user(creates)),
        )
        .rpc(
            "tasks.complete",
            method(complete)
                .describe("Mark a task as done.")
                .error(DeclaredError::new(
                    codes::TASK_NOT_FOUND,
                    "TASK_NOT_FOUND",
                    "No task with that id.",
                )),
        )
        .rpc(
            "tasks.fail",
            method(fail)
                .describe("Fail on purpose, to show each error outcome.")
                .error(DeclaredError::new(
                    codes::DEMO_FAILURE,
                    "DEMO_FAILURE",
                    "The demo failure (temporary when asked for).",
                )),
        )
        .rpc(
            "tasks.flaky",
            method(flaky)
                .describe("Count the call under `key`; fail temporarily while the count is at most `failures`. Idempotent, so clients with a retry policy retry it.")
                .idempotent()
                .error(flaky_failure()),
        )
        .rpc(
            "tasks.flaky_unsafe",
            method(flaky)
                .describe("`tasks.flaky` not marked idempotent (the same count): clients never retry it.")
                .error(flaky_failure()),
        )
        .rpc(
            "tasks.slow",
            method(slow).describe("Work for `ms` milliseconds; cancelled if the caller gives up."),
        )
        .rpc(
            "system.whoami",
            method(whoami).describe("Who is calling, as Centrifugo reports it."),
        )
        .rpc(
            "system.echo",
            method(echo).describe("Return the params unchanged (any JSON value)."),
        )
        .rpc(
            "tasks.process",
            method(process)
                .describe("Run `steps` steps, publishing progress to the caller's personal channel `#<user>`.")
                .error(DeclaredError::new(
                    codes::PUBLISHING_DISABLED,
                    "PUBLISHING_DISABLED",
                    "The server API for publishing is not configured.",
                )),
        )
        .rpc(
            "types.roundtrip",
            method(roundtrip).describe("Return every serde construct unchanged, to prove generated clients read and write them exactly."),
        )
        .rpc(
            "types.echo",
            method(typed_value::echo).describe("Return a value of any of the API's named types, under the type's name, as the server reads and writes it: generated clients round-trip every type through it."),
        )
        .hooks(hooks)
        .stream(
            "watch:tasks",
            stream::uni(watch_tasks)
                .describe("Your task events as they happen, until you unsubscribe.")
                .error(DeclaredError::new(
                    codes::NOT_YOUR_CHANNEL,
                    "NOT_YOUR_CHANNEL",
                    "Watching another user's tasks.",
                )),
        )
        .stream(
            "watch:count",
            stream::uni(watch_count).describe("Count `count` numbers from `from`, one every `interval_ms`, then end."),
        )
        .stream(
            "tally:*",
            stream::bidi(tally).describe("A private running total: publish additions, receive the total after each."),
        )
        .channel(TASK_EVENTS)
        .channel(PROGRESS)
        .channel_with_publish::<ChatMessage>(CHAT)
}
