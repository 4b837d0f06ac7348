//! The flags of `generate`, shared by the `centrpc-codegen` binary and a centrpc application's
//! own `generate` command, so both read the same way.

use std::path::PathBuf;

use clap::Args;

use crate::{Language, Options, TsInt64};

/// Flags of `generate`.
#[derive(Debug, Args)]
#[non_exhaustive]
pub struct GenerateArgs {
    /// Output directory; packages go to DIR/python, DIR/typescript, DIR/go.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Generate the Python package.
    #[arg(long)]
    pub python: bool,
    /// Generate the TypeScript package.
    #[arg(long)]
    pub typescript: bool,
    /// Generate the Go module.
    #[arg(long)]
    pub go: bool,
    /// Generate all three (the default when no language is named).
    #[arg(long)]
    pub all: bool,
    /// Read the API from this document (`my-app schema --output FILE`).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The Python package's import name (`acme_tasks`; distribution `acme-tasks`). Default:
    /// `<title>_client`.
    #[arg(long, value_name = "NAME")]
    pub python_package: Option<String>,
    /// The npm package name (`package.json`), optionally scoped (`@acme/tasks`). Default:
    /// `<title>-client`.
    #[arg(long, value_name = "NAME")]
    pub npm_package: Option<String>,
    /// The Go module path (`example.com/acme/tasks`); the package is named after its last
    /// element. Default: `<title>client`.
    #[arg(long, value_name = "PATH")]
    pub go_module: Option<String>,
    /// How the TypeScript package represents 64-bit integers: `number` (exact up to 2^53 − 1; a
    /// larger received value is an error) or `bigint` (exact over the whole range, over
    /// centrifuge-js's protobuf build).
    #[arg(long, value_enum, value_name = "TYPE", default_value_t = TsInt64::Number)]
    pub ts_int64: TsInt64,
}

impl GenerateArgs {
    /// The package names asked for.
    pub fn options(&self) -> Options {
        Options {
            python_package: self.python_package.clone(),
            npm_package: self.npm_package.clone(),
            go_module: self.go_module.clone(),
            ts_int64: self.ts_int64,
        }
    }

    /// The languages asked for.
    pub fn languages(&self) -> Vec<Language> {
        let picked: Vec<Language> = [
            (self.python, Language::Python),
            (self.typescript, Language::TypeScript),
            (self.go, Language::Go),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, l)| l)
        .collect();
        if self.all || picked.is_empty() {
            Language::ALL.to_vec()
        } else {
            picked
        }
    }
}

/// Reads an API document from `path`.
pub fn read_document(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a JSON document: {e}", path.display()))
}
