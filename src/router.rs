//! The method table: RPC method names mapped to typed handlers, with the application state they
//! share. Registration problems (duplicate or invalid names) are collected and refused, all at
//! once, when the server starts.

use std::{collections::HashMap, fmt, sync::Arc};

use crate::{
    handler::{self, ErasedHandler, Handler, SchemaFn},
    hooks::Hooks,
};

/// Maps Centrifugo RPC method names to handlers, and holds the application state `S`.
///
/// ```
/// use centrpc::{Context, Router, RpcError};
/// # #[derive(serde::Deserialize, schemars::JsonSchema)] struct P { user_id: String }
/// # #[derive(serde::Serialize, schemars::JsonSchema)] struct R { total: u32 }
/// async fn get_stats(ctx: Context<u32>, p: P) -> Result<R, RpcError> {
///     Ok(R { total: *ctx.state() })
/// }
/// let router = Router::new(7u32)
///     .rpc("tasks.get_stats", get_stats)
///     .describe("Get task statistics for a user.");
/// assert!(router.check().is_ok());
/// ```
pub struct Router<S = ()> {
    state: Arc<S>,
    info: ApiInfo,
    methods: HashMap<Box<str>, Method<S>>,
    hooks: Hooks<S>,
    errors: Vec<String>,
    last: Option<Box<str>>,
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
    pub(crate) info: MethodInfo,
    /// Registration order: 0, 1, 2… (indexes per-method state such as metric series).
    pub(crate) index: usize,
}

/// What the schema and client generators know about a method.
#[derive(Clone)]
pub struct MethodInfo {
    /// The Centrifugo method name, e.g. `tasks.get_stats`.
    pub name: String,
    /// A human description (from [`Router::describe`]).
    pub description: Option<String>,
    /// Generates the params schema (the deserialize contract).
    pub params: SchemaFn,
    /// Generates the result schema (the serialize contract).
    pub result: SchemaFn,
}

impl fmt::Debug for MethodInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodInfo")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish_non_exhaustive()
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
            methods: HashMap::new(),
            hooks: Hooks::default(),
            errors: Vec::new(),
            last: None,
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

    /// Registers `handler` under the Centrifugo method `name`.
    ///
    /// A name is dot-separated identifiers (`tasks.get_stats`), optionally behind a Centrifugo RPC
    /// namespace (`admin:users.ban`). Invalid or duplicate names are reported by [`Router::check`].
    pub fn rpc<M, H: Handler<S, M>>(mut self, name: &str, handler: H) -> Self {
        if let Err(why) = validate_method_name(name) {
            self.errors
                .push(format!("invalid method name {name:?}: {why}"));
            self.last = None;
            return self;
        }
        if self.methods.contains_key(name) {
            self.errors
                .push(format!("method {name:?} is registered more than once"));
            self.last = None;
            return self;
        }
        let (params, result) = handler::schemas::<S, M, H>();
        let method = Method {
            index: self.methods.len(),
            call: handler::erase(handler),
            info: MethodInfo {
                name: name.to_owned(),
                description: None,
                params,
                result,
            },
        };
        self.methods.insert(name.into(), method);
        self.last = Some(name.into());
        self
    }

    /// Describes the method registered just before; the text goes into the schema and the
    /// generated clients' docs.
    pub fn describe(mut self, description: &str) -> Self {
        match self.last.as_deref().and_then(|n| self.methods.get_mut(n)) {
            Some(m) => m.info.description = Some(description.trim().to_owned()),
            None => self.errors.push(format!(
                "describe({description:?}) must follow a successful rpc(...) registration"
            )),
        }
        self
    }

    /// Sets the proxy hooks (connect, subscribe…); see [`Hooks`].
    pub fn hooks(mut self, configure: impl FnOnce(Hooks<S>) -> Hooks<S>) -> Self {
        self.hooks = configure(std::mem::take(&mut self.hooks));
        self
    }

    /// Refuses the router if any registration was invalid, listing every problem.
    pub fn check(&self) -> Result<(), RouterError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(RouterError {
                problems: self.errors.clone(),
            })
        }
    }

    /// The registered methods, sorted by name.
    pub fn methods(&self) -> Vec<&MethodInfo> {
        let mut all: Vec<_> = self.methods.values().map(|m| &m.info).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
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

    pub(crate) fn get(&self, name: &str) -> Option<&Method<S>> {
        self.methods.get(name)
    }

    /// Every method, in no particular order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Method<S>> {
        self.methods.values()
    }

    pub(crate) fn hook_table(&self) -> &Hooks<S> {
        &self.hooks
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
            let ok = ns.len() >= 2
                && ns
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err(format!(
                    "namespace {ns:?} must match Centrifugo's ^[-a-zA-Z0-9_.]{{2,}}$"
                ));
            }
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
            .rpc("a.b", ok)
            .rpc("bad name", ok)
            .describe("orphan");
        let err = r.check().unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.to_string().contains("more than once"));
        assert!(err.to_string().contains("invalid method name \"bad name\""));
        assert!(err.to_string().contains("must follow"));
    }

    #[test]
    fn methods_are_listed_sorted_with_descriptions() {
        let r = Router::new(())
            .rpc("z.last", ok)
            .rpc("a.first", ok)
            .describe("  First. ");
        r.check().unwrap();
        let names: Vec<_> = r.methods().iter().map(|m| m.name.clone()).collect();
        assert_eq!(names, ["a.first", "z.last"]);
        assert_eq!(r.methods()[0].description.as_deref(), Some("First."));
    }

    #[tokio::test]
    async fn dispatches_by_name() {
        let r = Router::new(()).rpc("inc", ok);
        let m = r.get("inc").unwrap();
        let ctx = Context::new(r.state().clone(), Default::default(), Default::default());
        let out = (m.call)(ctx, b"41").unwrap().await.unwrap();
        assert_eq!(out, b"42");
        assert!(r.get("dec").is_none());
    }
}
