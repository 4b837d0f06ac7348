//! # centrpc-codegen
//!
//! Typed client generators for [centrpc](https://docs.rs/centrpc) APIs. They read the API
//! document a centrpc application writes (`my-app schema`), build the language-neutral model in
//! [`ir`], and render a complete package from templates: Python (Pydantic v2 over
//! centrifuge-python), TypeScript (over centrifuge-js) and Go (over centrifuge-go). All languages
//! are rendered in memory first; if any fails, nothing is written.
//!
//! The crate stands apart from the runtime, the way `tonic-build` stands apart from `tonic`: a
//! server never links it unless it asks for the `generate` command (centrpc's `codegen` feature),
//! and the `centrpc-codegen` binary generates clients from a document file alone:
//!
//! ```text
//! centrpc-codegen --schema tasks.openrpc.json --output clients --python
//! ```

use std::{
    fmt,
    path::{Path, PathBuf},
};

use serde_json::Value;

#[cfg(feature = "cli")]
mod args;
mod go;
pub mod ir;
mod naming;
mod python;
pub mod samples;
pub mod snippets;
mod typescript;

#[cfg(feature = "cli")]
pub use args::{read_document, GenerateArgs};
pub use typescript::TsInt64;

/// Where definitions live in the API document (`$ref: "#/components/schemas/Name"`); centrpc's
/// document builder writes them there.
pub const DEFINITIONS: &str = "#/components/schemas/";

/// The file that marks a directory as written by `generate` (and so safe to replace).
pub const MARKER: &str = ".centrpc-generated";

/// Why generation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodegenError {
    /// A schema construct no generator supports; `at` names the type and field.
    Unsupported {
        /// Where: `type \`Foo\`, field \`bar\``.
        at: String,
        /// What and what to do instead.
        problem: String,
    },
    /// Two names would become the same generated identifier.
    Collision(String),
    /// A template failed to render (a bug in centrpc).
    Template(String),
    /// Reading or writing files failed.
    Io(String),
    /// A generator option ([`Options`]) has a value its language refuses.
    Option {
        /// The option's flag, e.g. `--go-module`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported { at, problem } => write!(f, "cannot generate {at}: {problem}"),
            Self::Collision(m) => write!(f, "name collision: {m}"),
            Self::Template(m) => write!(f, "template error (please report): {m}"),
            Self::Io(m) => write!(f, "{m}"),
            Self::Option {
                flag,
                value,
                problem,
            } => write!(f, "invalid {flag} {value:?}: {problem}"),
        }
    }
}

impl std::error::Error for CodegenError {}

impl From<minijinja::Error> for CodegenError {
    fn from(e: minijinja::Error) -> Self {
        Self::Template(format!("{e:#}"))
    }
}

/// A target language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `DIR/python`.
    Python,
    /// `DIR/typescript`.
    TypeScript,
    /// `DIR/go`.
    Go,
}

impl Language {
    /// Every language.
    pub const ALL: [Language; 3] = [Language::Python, Language::TypeScript, Language::Go];

    /// The package directory under the output directory.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::TypeScript => "typescript",
            Self::Go => "go",
        }
    }

    /// Renders this language's package for `api`, named as `options` say.
    pub fn render(self, api: &ir::Api, options: &Options) -> Result<Vec<File>, CodegenError> {
        match self {
            Self::Python => python::render(api, options.python_package.as_deref()),
            Self::TypeScript => {
                typescript::render(api, options.npm_package.as_deref(), options.ts_int64)
            }
            Self::Go => go::render(api, options.go_module.as_deref()),
        }
    }
}

/// How the generated packages are named (each `None` keeps the default derived from the API's
/// title: `tasks` → Python `tasks-client` / `tasks_client`, npm `tasks-client`, Go module and
/// package `tasksclient`), and the TypeScript package's 64-bit integers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The Python import name (`acme_tasks`); the distribution name is it with `-` for `_`
    /// (`acme-tasks`). Either form is accepted.
    pub python_package: Option<String>,
    /// The npm package name (`package.json` `name`), optionally scoped: `@acme/tasks`.
    pub npm_package: Option<String>,
    /// The Go module path (`example.com/acme/tasks`); the package is named after its last
    /// element (`tasks`, or the one before a major version suffix such as `v2`).
    pub go_module: Option<String>,
    /// How the TypeScript package represents 64-bit integers.
    pub ts_int64: TsInt64,
}

impl Options {
    /// Refuses any value its language would not accept, whichever languages are generated.
    pub fn check(&self) -> Result<(), CodegenError> {
        if let Some(name) = &self.python_package {
            python::check_package(name)?;
        }
        if let Some(name) = &self.npm_package {
            typescript::check_package(name)?;
        }
        if let Some(path) = &self.go_module {
            go::check_module(path)?;
        }
        Ok(())
    }
}

/// A generated file, relative to its language directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative path, e.g. `models.py`.
    pub path: PathBuf,
    /// Contents.
    pub contents: String,
}

impl File {
    /// A file at `path` with `contents`.
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            contents: contents.into(),
        }
    }
}

/// Renders every language in `languages` from `document`, without touching the disk.
pub fn render(
    document: &Value,
    languages: &[Language],
    options: &Options,
) -> Result<Vec<(Language, Vec<File>)>, CodegenError> {
    options.check()?;
    let api = ir::read(document)?;
    languages
        .iter()
        .map(|&l| Ok((l, l.render(&api, options)?)))
        .collect()
}

/// Generates the packages into `out/<language>`, named as `options` say, replacing earlier generated output. Returns the
/// directories written. Refuses to replace a non-empty directory it did not write.
pub fn generate(
    document: &Value,
    languages: &[Language],
    out: &Path,
    options: &Options,
) -> Result<Vec<PathBuf>, CodegenError> {
    let rendered = render(document, languages, options)?;
    let io = |what: &str, p: &Path, e: std::io::Error| {
        CodegenError::Io(format!("cannot {what} {}: {e}", p.display()))
    };
    for (language, _) in &rendered {
        let dir = out.join(language.dir());
        let foreign = dir.is_dir()
            && !dir.join(MARKER).exists()
            && std::fs::read_dir(&dir)
                .map_err(|e| io("read", &dir, e))?
                .next()
                .is_some();
        if foreign {
            return Err(CodegenError::Io(format!(
                "{} exists and was not written by centrpc; remove it or choose another --output",
                dir.display()
            )));
        }
    }
    let mut written = Vec::new();
    for (language, files) in rendered {
        let dir = out.join(language.dir());
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| io("replace", &dir, e))?;
        }
        for file in files.iter().chain([&File::new(
            MARKER,
            "generated by centrpc; this directory is replaced on every run\n",
        )]) {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
            }
            std::fs::write(&path, &file.contents).map_err(|e| io("write", &path, e))?;
        }
        written.push(dir);
    }
    Ok(written)
}

/// A template environment with the filters every generator uses:
/// `{{ text | comment("# ") }}` prefixes each line of a doc comment.
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("comment", |text: String, prefix: String| -> String {
        text.lines()
            .map(|l| {
                if l.trim().is_empty() {
                    prefix.trim_end().to_owned()
                } else {
                    format!("{prefix}{l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    env
}
