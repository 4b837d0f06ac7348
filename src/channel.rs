//! Typed channels: a channel pattern declared with the type of what is published into it, and,
//! where clients may publish, the type of their publications.
//!
//! A [`Channel`] is a constant the application shares between the router, which puts it in the
//! API document (so generated clients get typed subscriptions), and the code that publishes,
//! which can only publish that type into it ([`ServerApi::publish_to`](crate::ServerApi::publish_to)).
//! Client publications into a channel registered with
//! [`Router::channel_with_publish`](crate::Router::channel_with_publish) are checked against
//! their type before any publish hook runs: one that does not fit is refused in-band with
//! [`INVALID_PARAMS`](crate::codes::INVALID_PARAMS) and the field path, or
//! [`MALFORMED_JSON`](crate::codes::MALFORMED_JSON).
//!
//! ```
//! use centrpc::{Channel, Router};
//! # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)] struct TaskEvent { id: u64 }
//! # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)] struct ChatMessage { text: String }
//! /// A user's task events, on `tasks:<user>`.
//! pub const TASK_EVENTS: Channel<TaskEvent> = Channel::new("tasks:*").describe("Task events of one user.");
//! /// Chat rooms, `chat:<room>`, where clients publish messages.
//! pub const CHAT: Channel<ChatMessage> = Channel::new("chat:*");
//!
//! let router = Router::new(()).channel(TASK_EVENTS).channel_with_publish::<ChatMessage>(CHAT);
//! assert!(router.check().is_ok());
//! assert_eq!(TASK_EVENTS.at("42").as_str(), "tasks:42");
//! ```

use std::{fmt, marker::PhantomData};

use crate::handler::{CheckFn, SchemaFn};

/// A channel pattern (`tasks:*`, `#*` for personal channels, or an exact name) and the type `T`
/// of its publications.
pub struct Channel<T> {
    pattern: &'static str,
    name: &'static str,
    description: &'static str,
    _type: PhantomData<fn(T)>,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Channel<T> {}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("pattern", &self.pattern)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> Channel<T> {
    /// Declares the channels matching `pattern` (a trailing `*` matches any suffix).
    pub const fn new(pattern: &'static str) -> Self {
        Self {
            pattern,
            name: "",
            description: "",
            _type: PhantomData,
        }
    }

    /// The name generated clients use for it (`subscribe_<name>`); by default the pattern's
    /// words (`tasks:*` → `tasks`, `chat:room:*` → `chat_room`). A pattern with no words, such
    /// as `#*` (personal channels), needs one.
    pub const fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// A description for the API document and the generated clients' docs.
    pub const fn describe(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// The pattern.
    pub const fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// The description ("" when none).
    pub const fn description(&self) -> &'static str {
        self.description
    }

    /// The channel that fills the pattern's `*` with `key` (`tasks:*` at `42` is `tasks:42`).
    ///
    /// # Panics
    /// If the pattern has no `*` and `key` is not empty (an exact pattern names one channel:
    /// use `at("")`).
    pub fn at(&self, key: &str) -> ChannelName<T> {
        let name = match self.pattern.strip_suffix('*') {
            Some(prefix) => format!("{prefix}{key}"),
            None => {
                assert!(
                    key.is_empty(),
                    "channel pattern {:?} has no `*` to fill with {key:?}",
                    self.pattern
                );
                self.pattern.to_owned()
            }
        };
        ChannelName {
            name,
            _type: PhantomData,
        }
    }
}

/// One channel of a [`Channel`] pattern, carrying the pattern's publication type.
pub struct ChannelName<T> {
    name: String,
    _type: PhantomData<fn(T)>,
}

impl<T> ChannelName<T> {
    /// The channel name.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl<T> fmt::Debug for ChannelName<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ChannelName").field(&self.name).finish()
    }
}

impl<T> fmt::Display for ChannelName<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// What the schema, the config generator and the publish check know about a typed channel.
#[derive(Clone)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// The pattern, e.g. `tasks:*`.
    pub pattern: String,
    /// The name clients know it by (an identifier, e.g. `tasks`; empty when it has none).
    pub name: String,
    /// A human description.
    pub description: Option<String>,
    /// Generates the schema of its publications.
    pub publication: SchemaFn,
    /// Generates the schema of client publications, when clients may publish.
    pub client_publication: Option<SchemaFn>,
    /// Checks a client publication against its type (clients may publish only when set).
    pub(crate) check: Option<CheckFn>,
}

impl ChannelInfo {
    pub(crate) fn new<T: schemars::JsonSchema>(channel: &Channel<T>) -> Self {
        let words = channel
            .pattern
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty());
        let name = match channel.name {
            "" => words.collect::<Vec<_>>().join("_"),
            name => name.to_owned(),
        };
        Self {
            pattern: channel.pattern.to_owned(),
            name,
            description: (!channel.description.is_empty())
                .then(|| channel.description.trim().to_owned()),
            publication: |g| g.subschema_for::<T>(),
            client_publication: None,
            check: None,
        }
    }

    /// Whether clients may publish into it.
    pub fn clients_publish(&self) -> bool {
        self.check.is_some()
    }
}

impl fmt::Debug for ChannelInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelInfo")
            .field("pattern", &self.pattern)
            .field("description", &self.description)
            .field("clients_publish", &self.clients_publish())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Channel<u32> = Channel::new("tasks:*").describe("d");
    const EXACT: Channel<u32> = Channel::new("news");
    const PERSONAL: Channel<u32> = Channel::new("#*");

    #[test]
    fn patterns_fill_their_star() {
        assert_eq!(T.at("42").as_str(), "tasks:42");
        assert_eq!(PERSONAL.at("7").to_string(), "#7");
        assert_eq!(EXACT.at("").as_str(), "news");
        assert_eq!(T.description(), "d");
        assert_eq!(ChannelInfo::new(&T).name, "tasks");
        assert_eq!(
            ChannelInfo::new(&Channel::<u32>::new("chat:room:*")).name,
            "chat_room"
        );
        assert_eq!(ChannelInfo::new(&PERSONAL).name, "");
        assert_eq!(
            ChannelInfo::new(&PERSONAL.named("progress")).name,
            "progress"
        );
    }

    #[test]
    #[should_panic(expected = "has no `*` to fill")]
    fn an_exact_pattern_takes_no_key() {
        let _ = EXACT.at("x");
    }
}
