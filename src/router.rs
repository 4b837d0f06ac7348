//! The method table: RPC method names mapped to typed handlers, with the application state they
//! share, the hooks, and the middleware around them. Registration problems (duplicate or invalid
//! names) are collected and refused, all at once, when the server starts.

use std::{fmt, sync::Arc};

use rustc_hash::FxHashMap;

use crate::{
    channel::{Channel, ChannelInfo},
    dispatch,
    error::DeclaredError,
    handler::{self, decode, CheckFn, ErasedHandler, Handler, SchemaFn},
    hooks::{self, Hooks, Pattern},
    middleware::{self, BoxCallService, CallLayer},
    stream::{ErasedStream, IntoStreamDef, StreamInfo},
};

/// Maps Centrifugo RPC method names to handlers, and holds the application state `S`.
///
/// ```
/// use centrpc::{method, Context, Router, RpcError};
/// # #[derive(serde::Deserialize, schemars::JsonSchema)] struct P { user_id: String }
/// # #[derive(serde::Serialize, schemars::JsonSchema)] struct R { total: u32 }
/// async fn get_stats(ctx: Context<u32>, p: P) -> Result<R, RpcError> {
///     Ok(R { total: *ctx.state() })
/// }
/// let router = Router::new(7u32)
///     .rpc("tasks.get_stats", method(get_stats).describe("Get task statistics for a user."));
/// assert!(router.check().is_ok());
/// ```
pub struct Router<S = ()> {
    state: Arc<S>,
    info: ApiInfo,
    methods: Vec<Method<S>>,
    by_name: FxHashMap<Box<str>, usize>,
    hooks: Hooks<S>,
    streams: Vec<StreamRoute<S>>,
    channels: Vec<ChannelInfo>,
    layers: Vec<CallLayer<S>>,
    problems: Vec<String>,
}

/// One registered subscription stream.
pub(crate) struct StreamRoute<S> {
    pub(crate) pattern: Pattern,
    pub(crate) open: ErasedStream<S>,
    pub(crate) info: StreamInfo,
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("info", &self.info)
            .field(
                "methods",
                &self
                    .methods
                    .iter()
                    .map(|m| &m.info.name)
                    .collect::<Vec<_>>(),
            )
            .field("hooks", &self.hooks.enabled())
            .field(
                "streams",
                &self
                    .streams
                    .iter()
                    .map(|s| &s.info.name)
                    .collect::<Vec<_>>(),
            )
            .field("channels", &self.channels)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

/// The API's name and version, as the schema document and generated packages show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiInfo {
    /// A short name, e.g. `tasks` (generated packages are named after it).
    pub title: String,
    /// The API version, e.g. `1.2.0`.
    pub version: String,
}

/// One registered method.
pub(crate) struct Method<S> {
    pub(crate) call: ErasedHandler<S>,
    /// The handler behind its own layers, when it has any.
    pub(crate) service: Option<BoxCallService<S>>,
    pub(crate) info: MethodInfo,
}

/// What the schema and client generators know about a method.
#[derive(Clone)]
#[non_exhaustive]
pub struct MethodInfo {
    /// The Centrifugo method name, e.g. `tasks.get_stats`.
    pub name: String,
    /// A human description (from [`MethodDef::describe`]).
    pub description: Option<String>,
    /// The application errors the method declares (from [`MethodDef::error`]).
    pub errors: Vec<DeclaredError>,
    /// Whether calling it twice has the effect of calling it once (from
    /// [`MethodDef::idempotent`]): generated clients may then retry it on temporary errors.
    pub idempotent: bool,
    /// Generates the params schema (the deserialize contract).
    pub params: SchemaFn,
    /// Generates the result schema (the serialize contract).
    pub result: SchemaFn,
    /// Checks a payload against the params type with the server's own decoding rules, without
    /// calling the handler (what `call` checks before sending).
    pub check: CheckFn,
}

impl fmt::Debug for MethodInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodInfo")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("errors", &self.errors)
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
    }
}

/// A handler with its options, ready to register with [`Router::rpc`]; build it with [`method`].
///
/// ```
/// use centrpc::{method, middleware, Context, DeclaredError, Router, RpcError};
/// async fn complete(_: Context, id: u64) -> Result<u64, RpcError> {
///     Err(RpcError::new(1004, "task not found"))
/// }
/// let router = Router::new(()).rpc(
///     "tasks.complete",
///     method(complete)
///         .describe("Mark a task as done.")
///         .error(DeclaredError::new(1004, "TASK_NOT_FOUND", "No task with that id."))
///         .layer(middleware::from_fn(|call, next| async move { next.run(call).await })),
/// );
/// assert!(router.check().is_ok());
/// ```
pub struct MethodDef<S> {
    call: ErasedHandler<S>,
    params: SchemaFn,
    result: SchemaFn,
    check: CheckFn,
    description: Option<String>,
    errors: Vec<DeclaredError>,
    idempotent: bool,
    layers: Vec<CallLayer<S>>,
}

impl<S> fmt::Debug for MethodDef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodDef")
            .field("description", &self.description)
            .field("errors", &self.errors)
            .field("idempotent", &self.idempotent)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

/// Wraps a handler `async fn(Context<S>, Params) -> Result<Output, E>` so it can be described,
/// given declared errors and layers, and registered with [`Router::rpc`].
pub fn method<S, M, H>(handler: H) -> MethodDef<S>
where
    H: Handler<S, M>,
    S: Send + Sync + 'static,
{
    let (params, result) = handler::schemas::<S, M, H>();
    MethodDef {
        call: handler::erase(handler),
        params,
        result,
        check: handler::checker::<S, M, H>(),
        description: None,
        errors: Vec::new(),
        idempotent: false,
        layers: Vec::new(),
    }
}

impl<S: Send + Sync + 'static> MethodDef<S> {
    /// A description for the schema and the generated clients' docs.
    pub fn describe(mut self, description: &str) -> Self {
        self.description = Some(description.trim().to_owned());
        self
    }

    /// Declares an application error the method may return; the API document lists it.
    pub fn error(mut self, error: DeclaredError) -> Self {
        self.errors.push(error);
        self
    }

    /// Marks the method idempotent: calling it again with the same params has no further effect
    /// (a read, or a write keyed by its params). The API document says so (`"x-idempotent": true`)
    /// and the generated clients' opt-in retry policy retries only such methods, on temporary
    /// errors and client-side timeouts.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Runs this method's calls through `layer` (inside the router's own layers). Any
    /// `tower::Layer` fits whose service answers a [`Call`](crate::Call) with a
    /// [`CallResult`](crate::CallResult); see [`middleware`].
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: middleware::IntoCallLayer<S>,
    {
        self.layers.push(layer.into_call_layer());
        self
    }
}

/// What [`Router::rpc`] accepts: a [`MethodDef`] from [`method`], or a bare handler.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a centrpc handler",
    label = "not an `async fn(Context<S>, Params) -> Result<Output, E>`",
    note = "a handler takes exactly (Context<S>, Params) where S is the Router's state type, \
            Params: serde::Deserialize + schemars::JsonSchema, and returns \
            Result<Output, E> with Output: serde::Serialize + schemars::JsonSchema and E: Into<RpcError>"
)]
pub trait IntoMethod<S, M> {
    /// The method definition.
    fn into_method(self) -> MethodDef<S>;
}

impl<S: Send + Sync + 'static> IntoMethod<S, MethodDef<S>> for MethodDef<S> {
    fn into_method(self) -> MethodDef<S> {
        self
    }
}

impl<S, M, H> IntoMethod<S, (M,)> for H
where
    H: Handler<S, M>,
    S: Send + Sync + 'static,
{
    fn into_method(self) -> MethodDef<S> {
        method(self)
    }
}

/// The registration problems found when the router was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the router has {} problem(s):", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RouterError {}

impl<S: Send + Sync + 'static> Router<S> {
    /// A router with no methods, sharing `state` with every handler through [`Context::state`](crate::Context::state).
    pub fn new(state: S) -> Self {
        Self {
            state: Arc::new(state),
            info: ApiInfo {
                title: "api".into(),
                version: "0.1.0".into(),
            },
            methods: Vec::new(),
            by_name: FxHashMap::default(),
            hooks: Hooks::default(),
            streams: Vec::new(),
            channels: Vec::new(),
            layers: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Names the API (`title`, e.g. `tasks`) and its `version` for the schema and generated clients.
    pub fn info(mut self, title: &str, version: &str) -> Self {
        self.info = ApiInfo {
            title: title.to_owned(),
            version: version.to_owned(),
        };
        self
    }

    /// Registers a handler (bare, or as [`method`]`(handler).describe(..)`) under the Centrifugo
    /// method `name`.
    ///
    /// A name is dot-separated identifiers (`tasks.get_stats`), optionally behind a Centrifugo RPC
    /// namespace (`admin:users.ban`). Invalid or duplicate names are reported by [`Router::check`].
    pub fn rpc<M>(mut self, name: &str, method: impl IntoMethod<S, M>) -> Self {
        if let Err(why) = validate_method_name(name) {
            self.problems
                .push(format!("invalid method name {name:?}: {why}"));
            return self;
        }
        if self.by_name.contains_key(name) {
            self.problems
                .push(format!("method {name:?} is registered more than once"));
            return self;
        }
        let def = method.into_method();
        let service = (!def.layers.is_empty())
            .then(|| dispatch::stack(dispatch::HandlerService(def.call.clone()), def.layers));
        self.by_name.insert(name.into(), self.methods.len());
        self.methods.push(Method {
            call: def.call,
            service,
            info: MethodInfo {
                name: name.to_owned(),
                description: def.description,
                errors: def.errors,
                idempotent: def.idempotent,
                params: def.params,
                result: def.result,
                check: def.check,
            },
        });
        self
    }

    /// Serves subscription streams on the channels matching `pattern` (`ns:name`, or `ns:*`):
    /// a bare handler, or [`stream::uni`](crate::stream::uni) / [`stream::bidi`](crate::stream::bidi)
    /// with a description. The pattern needs a namespace, which `centrifugo-config` turns into a
    /// stream namespace; such a namespace can have no subscribe or publish hooks (Centrifugo
    /// refuses the combination), which [`Router::check`] reports.
    pub fn stream<M>(mut self, pattern: &str, stream: impl IntoStreamDef<S, M>) -> Self {
        if let Err(why) = validate_channel_pattern(pattern).and_then(|()| {
            namespace(pattern)
                .map(drop)
                .ok_or_else(|| "a stream needs a namespace (`ns:name` or `ns:*`)".to_owned())
        }) {
            self.problems
                .push(format!("invalid stream pattern {pattern:?}: {why}"));
            return self;
        }
        if self.streams.iter().any(|s| s.info.name == pattern) {
            self.problems
                .push(format!("stream {pattern:?} is registered more than once"));
            return self;
        }
        let def = stream.into_stream_def();
        let mut info = def.info;
        info.name = pattern.to_owned();
        self.streams.push(StreamRoute {
            pattern: Pattern::new(pattern),
            open: def.open,
            info,
        });
        self
    }

    /// Declares a typed channel: its publications have type `T` (the API document and generated
    /// clients say so, and [`ServerApi::publish_to`](crate::ServerApi::publish_to) only takes a
    /// `T`). Only the server publishes into it; who may subscribe is up to a subscribe hook, or,
    /// without one, any connected client (`centrifugo-config` allows it).
    pub fn channel<T: schemars::JsonSchema>(self, channel: Channel<T>) -> Self {
        self.add_channel(ChannelInfo::new(&channel))
    }

    /// Declares a typed channel into which clients publish values of type `P`. Every client
    /// publication is decoded as `P` before any publish hook runs; one that does not fit is
    /// refused in-band (422 with the field path, or 400). Without a publish hook of its own the
    /// channel then accepts the publication unchanged.
    pub fn channel_with_publish<P>(self, channel: Channel<impl schemars::JsonSchema>) -> Self
    where
        P: serde::de::DeserializeOwned + schemars::JsonSchema,
    {
        let mut info = ChannelInfo::new(&channel);
        info.client_publication = Some(|g| g.subschema_for::<P>());
        info.check = Some(|data| decode::<P>(data).map(drop));
        self.add_channel(info)
    }

    fn add_channel(mut self, info: ChannelInfo) -> Self {
        let name_ok = info
            .name
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && info
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if let Err(why) = validate_channel_pattern(&info.pattern) {
            self.problems
                .push(format!("invalid channel pattern {:?}: {why}", info.pattern));
        } else if !name_ok {
            self.problems.push(format!(
                "channel {:?} needs a name for its clients, an identifier: Channel::named (it has {:?})",
                info.pattern, info.name
            ));
        } else if self.channels.iter().any(|c| c.name == info.name) {
            self.problems.push(format!(
                "channel {:?} has the name {:?} of another channel: Channel::named",
                info.pattern, info.name
            ));
        } else if self.channels.iter().any(|c| c.pattern == info.pattern) {
            self.problems.push(format!(
                "channel {:?} is declared more than once",
                info.pattern
            ));
        } else {
            self.channels.push(info);
        }
        self
    }

    /// Runs every call (RPC and hooks) through `layer`. The layer added last runs first.
    /// Calls to unknown methods or refused channels are answered before any layer, so a layer
    /// never sees a name the router does not know.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: middleware::IntoCallLayer<S>,
    {
        self.layers.push(layer.into_call_layer());
        self
    }

    /// Sets the proxy hooks (connect, subscribe…); see [`Hooks`].
    pub fn hooks(mut self, configure: impl FnOnce(Hooks<S>) -> Hooks<S>) -> Self {
        self.hooks = configure(std::mem::take(&mut self.hooks));
        self
    }

    /// Refuses the router if any registration was invalid, listing every problem.
    pub fn check(&self) -> Result<(), RouterError> {
        let mut problems = self.problems.clone();
        // Centrifugo refuses a namespace that proxies streams and also subscribe or publish.
        let proxied = self
            .hooks
            .subscribe_patterns()
            .into_iter()
            .chain(self.hooks.publish_patterns())
            .chain(
                self.channels
                    .iter()
                    .filter(|c| c.clients_publish())
                    .map(|c| c.pattern.clone()),
            );
        for pattern in proxied {
            let clash = namespace(&pattern).and_then(|ns| {
                self.streams
                    .iter()
                    .find(|s| namespace(&s.info.name) == Some(ns))
            });
            if let Some(stream) = clash {
                problems.push(format!(
                    "channel pattern {pattern:?} has a subscribe or publish hook in the namespace of stream {:?}: \
                     Centrifugo cannot proxy both in one namespace",
                    stream.info.name
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RouterError { problems })
        }
    }

    /// The registered methods, sorted by name.
    pub fn methods(&self) -> Vec<&MethodInfo> {
        let mut all: Vec<_> = self.methods.iter().map(|m| &m.info).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// The registered subscription streams, sorted by pattern.
    pub fn streams(&self) -> Vec<&StreamInfo> {
        let mut all: Vec<_> = self.streams.iter().map(|s| &s.info).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// The typed channels, sorted by pattern.
    pub fn channels(&self) -> Vec<&ChannelInfo> {
        let mut all: Vec<_> = self.channels.iter().collect();
        all.sort_by(|a, b| a.pattern.cmp(&b.pattern));
        all
    }

    /// The API's name and version.
    pub fn api_info(&self) -> &ApiInfo {
        &self.info
    }

    /// The shared application state.
    pub fn state(&self) -> &Arc<S> {
        &self.state
    }

    /// The hook table.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) fn hook_table(&self) -> &Hooks<S> {
        &self.hooks
    }

    /// Splits the router into what serves calls: state, methods, name index, hooks and layers.
    pub(crate) fn into_parts(self) -> RouterParts<S> {
        let mut hooks = self.hooks;
        // A typed channel clients publish into, with no publish hook of its own, accepts what
        // passed its type check: its allowing hook goes after every hook the app registered.
        for channel in self.channels.iter().filter(|c| c.clients_publish()) {
            hooks
                .publish
                .push((Pattern::new(&channel.pattern), hooks::allow_publication()));
        }
        RouterParts {
            state: self.state,
            methods: self.methods,
            by_name: self.by_name,
            hooks,
            streams: self.streams,
            channels: self.channels,
            layers: self.layers,
        }
    }
}

/// A router taken apart for serving.
pub(crate) struct RouterParts<S> {
    pub(crate) state: Arc<S>,
    pub(crate) methods: Vec<Method<S>>,
    pub(crate) by_name: FxHashMap<Box<str>, usize>,
    pub(crate) hooks: Hooks<S>,
    pub(crate) streams: Vec<StreamRoute<S>>,
    pub(crate) channels: Vec<ChannelInfo>,
    pub(crate) layers: Vec<CallLayer<S>>,
}

/// The namespace of a channel pattern or method name (`chat:*` → `chat`), if any.
pub(crate) fn namespace(name: &str) -> Option<&str> {
    name.split_once(':').map(|(ns, _)| ns)
}

/// Checks a channel pattern: at most 255 bytes, `*` only at the end, and a namespace (when it has
/// one) matching Centrifugo's `^[-a-zA-Z0-9_.]{2,}$`.
pub fn validate_channel_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("it is empty".into());
    }
    if pattern.len() > 255 {
        return Err("it is longer than 255 bytes".into());
    }
    if pattern.trim_end_matches('*').contains('*') || pattern.ends_with("**") {
        return Err("`*` may only end a pattern".into());
    }
    namespace(pattern).map_or(Ok(()), validate_namespace)
}

/// Checks a namespace against Centrifugo's `^[-a-zA-Z0-9_.]{2,}$`.
fn validate_namespace(ns: &str) -> Result<(), String> {
    let ok = ns.len() >= 2
        && ns
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "namespace {ns:?} must match Centrifugo's ^[-a-zA-Z0-9_.]{{2,}}$"
        ))
    }
}

/// Checks a method name: `[namespace:]ident(.ident)*`, where an ident is `[A-Za-z_][A-Za-z0-9_]*`
/// and a namespace matches Centrifugo's `^[-a-zA-Z0-9_.]{2,}$`; at most 128 bytes.
pub fn validate_method_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > 128 {
        return Err("it is longer than 128 bytes".into());
    }
    let path = match name.split_once(':') {
        Some((ns, path)) => {
            validate_namespace(ns)?;
            path
        }
        None => name,
    };
    for segment in path.split('.') {
        let mut chars = segment.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "segment {segment:?} must be an identifier ([A-Za-z_][A-Za-z0-9_]*), segments are joined by '.'"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, RpcError};

    async fn ok(_: Context<()>, p: u32) -> Result<u32, RpcError> {
        Ok(p + 1)
    }

    #[test]
    fn valid_and_invalid_names() {
        for good in [
            "ping",
            "tasks.get_stats",
            "admin:users.ban",
            "a_b.c1",
            "ns-1.x:_m",
        ] {
            validate_method_name(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "", "tasks.", ".x", "a..b", "1abc", "a-b", "x:", "a:b:c", "a b", "é",
        ] {
            assert!(validate_method_name(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(validate_method_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn duplicates_and_invalid_names_are_all_reported() {
        let r = Router::new(())
            .rpc("a.b", ok)
            .rpc("a.b", method(ok).describe("again"))
            .rpc("bad name", ok);
        let err = r.check().unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().contains("more than once"));
        assert!(err.to_string().contains("invalid method name \"bad name\""));
    }

    #[test]
    fn methods_are_listed_sorted_with_descriptions_and_errors() {
        let r = Router::new(()).rpc("z.last", ok).rpc(
            "a.first",
            method(ok).describe("  First. ").error(DeclaredError::new(
                1004,
                "NOT_FOUND",
                "Nothing there.",
            )),
        );
        r.check().unwrap();
        let names: Vec<_> = r.methods().iter().map(|m| m.name.clone()).collect();
        assert_eq!(names, ["a.first", "z.last"]);
        assert_eq!(r.methods()[0].description.as_deref(), Some("First."));
        assert_eq!(r.methods()[0].errors[0].code, 1004);
        assert!(r.methods()[1].errors.is_empty());
    }

    #[test]
    fn methods_are_not_idempotent_unless_marked() {
        let r = Router::new(())
            .rpc("a.read", method(ok).idempotent())
            .rpc("b.write", method(ok))
            .rpc("c.bare", ok);
        let idempotent: Vec<_> = r.methods().iter().map(|m| m.idempotent).collect();
        assert_eq!(idempotent, [true, false, false]);
    }
}
