//! One bookkeeping for name collisions, shared by the IR and every emitter: a [`Namespace`] is
//! one scope of identifiers (the client's methods, a struct's fields, a module's names), names
//! are reserved (what the generated code declares itself) or claimed by their owners (a method,
//! a field, a variant), and a second claim of an identifier is refused with one message:
//! ``<scope>: <owner a> and <owner b> would both be the <dialect's identifier> `<x>`; rename one``.
//! How each language spells an identifier stays with its emitter; this only keeps the ledger.

use std::{collections::BTreeMap, fmt};

use crate::{naming::snake, CodegenError};

/// Whose identifiers a [`Namespace`] holds: one target language's, or the IR's language-neutral
/// generated names (a name's words joined, before any language spells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The IR's generated names: words joined by `_` (`tasks_get_stats`).
    Generated,
    /// Python identifiers.
    Python,
    /// TypeScript identifiers.
    TypeScript,
    /// Go identifiers.
    Go,
}

impl fmt::Display for Dialect {
    /// What an identifier of this dialect is called: `generated name`, `Go identifier`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Generated => "generated name",
            Self::Python => "Python identifier",
            Self::TypeScript => "TypeScript identifier",
            Self::Go => "Go identifier",
        })
    }
}

/// One scope of identifiers that must stay distinct, with who holds each.
#[derive(Debug, Clone)]
pub struct Namespace {
    scope: String,
    dialect: Dialect,
    owners: BTreeMap<String, String>,
}

impl Namespace {
    /// An empty namespace; `scope` names it in messages (`methods of APIClient`).
    pub fn new(scope: impl Into<String>, dialect: Dialect) -> Self {
        Self {
            scope: scope.into(),
            dialect,
            owners: BTreeMap::new(),
        }
    }

    /// Marks `ident` as taken already, `why` saying by what (``the client's own `Connect` ``); a
    /// later claim of it is refused naming `why`. Reserving a name twice keeps the first reason.
    pub fn reserve(&mut self, ident: &str, why: impl Into<String>) {
        self.owners
            .entry(ident.to_owned())
            .or_insert_with(|| why.into());
    }

    /// Records that `owner` (``method `tasks.get` ``) becomes `ident`; refuses an identifier
    /// that is reserved or claimed already, naming both owners.
    pub fn claim(&mut self, ident: &str, owner: impl Into<String>) -> Result<(), CodegenError> {
        let owner = owner.into();
        match self.owners.get(ident) {
            Some(first) => Err(CodegenError::Collision(format!(
                "{}: {first} and {owner} would both be the {} `{ident}`; rename one",
                self.scope, self.dialect
            ))),
            None => {
                self.owners.insert(ident.to_owned(), owner);
                Ok(())
            }
        }
    }

    /// [`claim`](Self::claim) for a name given as the IR's words: the identifier is the words
    /// joined by `_` (words hold letters and digits only, so that is one-to-one).
    pub fn claim_words(
        &mut self,
        words: &[String],
        owner: impl Into<String>,
    ) -> Result<(), CodegenError> {
        self.claim(&snake(words), owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_naming_both_owners() {
        let mut ns = Namespace::new("methods of APIClient", Dialect::Go);
        ns.claim("GetStats", "method `tasks.get_stats`").unwrap();
        ns.claim("Other", "method `tasks.other`").unwrap();
        let err = ns
            .claim("GetStats", "stream `get:stats`")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "name collision: methods of APIClient: method `tasks.get_stats` and stream \
             `get:stats` would both be the Go identifier `GetStats`; rename one"
        );
    }

    #[test]
    fn a_reserved_name_is_refused_naming_why() {
        let mut ns = Namespace::new("members of APIClient", Dialect::TypeScript);
        ns.reserve("rpc", "the client's own `rpc`");
        ns.reserve("rpc", "a second reason");
        let err = ns.claim("rpc", "method `rpc`").unwrap_err();
        assert_eq!(
            err,
            CodegenError::Collision(
                "members of APIClient: the client's own `rpc` and method `rpc` would both be \
                 the TypeScript identifier `rpc`; rename one"
                    .into()
            )
        );
    }

    #[test]
    fn words_are_claimed_as_the_generated_name() {
        let mut ns = Namespace::new("types", Dialect::Generated);
        let w = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        ns.claim_words(&w(&["get", "stats"]), "type `GetStats`")
            .unwrap();
        ns.claim_words(&w(&["get", "stat", "s"]), "type `GetStatS`")
            .unwrap();
        let err = ns
            .claim_words(&w(&["get", "stats"]), "type `get_stats`")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "name collision: types: type `GetStats` and type `get_stats` would both be the \
             generated name `get_stats`; rename one"
        );
        let mut py = Namespace::new("models.py", Dialect::Python);
        let err = py
            .claim("X", "a")
            .and_then(|()| py.claim("X", "b"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "name collision: models.py: a and b would both be the Python identifier `X`; \
             rename one"
        );
    }
}
