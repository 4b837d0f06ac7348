//! `my-app docs --output DIR`: the API reference page, one self-contained HTML file
//! (`DIR/index.html`, inline CSS and JS, nothing from a CDN). It embeds the API document, an
//! example params document per method, the call snippets of the generated clients and of
//! `call`, and the Centrifugo config the app needs; the page's own script draws the type trees
//! and tables from them. With `--console-js FILE` (the generated TypeScript client bundled for
//! the browser, see `scripts/docs.sh`) the page also gets a live console that calls any method
//! through Centrifugo.

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode};

use clap::Args;
use serde_json::{json, Value};

use crate::{
    router::Router,
    schema::{self, example},
};

/// The page, with `/*DATA*/` and `/*CONSOLE*/` to fill in.
const TEMPLATE: &str = include_str!("docs.html");

/// Flags of `docs`.
#[derive(Debug, Args)]
pub(crate) struct DocsArgs {
    /// Directory to write `index.html` into (created if missing).
    #[arg(long, short)]
    output: PathBuf,
    /// The live console's script: the generated TypeScript client bundled for the browser
    /// (`scripts/docs.sh` builds it with esbuild), inlined into the page.
    #[arg(long, value_name = "FILE")]
    console_js: Option<PathBuf>,
}

/// Writes the page.
pub(crate) fn command<S: Send + Sync + 'static>(
    args: &DocsArgs,
    router: &Router<S>,
) -> Result<ExitCode, String> {
    let console = match &args.console_js {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let page = render(router, console.as_deref())?;
    std::fs::create_dir_all(&args.output)
        .map_err(|e| format!("cannot create {}: {e}", args.output.display()))?;
    let path = args.output.join("index.html");
    std::fs::write(&path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The page for `router`, with `console` (a browser script) inlined when given.
pub(crate) fn render<S: Send + Sync + 'static>(
    router: &Router<S>,
    console: Option<&str>,
) -> Result<String, String> {
    let document = schema::document(router);
    let examples: BTreeMap<String, Value> = router
        .methods()
        .iter()
        .map(|m| {
            let schema = example::params_schema(&document, &m.name).expect("listed");
            (m.name.clone(), example::example(schema, &document))
        })
        .collect();
    let mut snippets = serde_json::to_value(
        crate::codegen::snippets::snippets(&document, &examples).map_err(|e| e.to_string())?,
    )
    .expect("JSON");
    let bin = std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "my-app".into());
    for (name, example) in &examples {
        let params = if example.is_null() {
            String::new()
        } else {
            format!(" '{}'", example.to_string().replace('\'', "'\\''"))
        };
        snippets[name]["call"] = json!(format!("{bin} call {name}{params}"));
    }
    let stream_examples: BTreeMap<String, Value> = router
        .streams()
        .iter()
        .map(|s| {
            let schema = document["x-streams"]
                .as_array()
                .and_then(|all| all.iter().find(|d| d["name"] == s.name.as_str()))
                .map(|d| &d["params"]["schema"])
                .expect("listed");
            (s.name.clone(), example::example(schema, &document))
        })
        .collect();
    let data = json!({
        "document": document,
        "examples": examples,
        "streamExamples": stream_examples,
        "snippets": snippets,
        "centrifugo": crate::cli::centrifugo_config_without_secrets(router)?,
        "bin": bin,
        "console": console.is_some(),
    });
    // `</` cannot appear inside a <script> element; `<\/` means the same in JSON and JS strings.
    let data = data.to_string().replace("</", "<\\/");
    let console = console.unwrap_or("").replace("</script", "<\\/script");
    Ok(TEMPLATE
        .replacen("/*DATA*/", &data, 1)
        .replacen("/*CONSOLE*/", &console, 1))
}
