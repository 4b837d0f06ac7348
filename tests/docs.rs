//! `tasks docs`: the API reference page. Without a console it is one self-contained file; with
//! the console (scripts/docs.sh bundles the generated TypeScript client) it is opened in Debian's
//! headless Chromium by playwright-core against the real Centrifugo and the example server: every
//! method listed with its types, one successful and one typed-error call from the console. The
//! screenshot lands in target/docs/screenshot.png.

mod common;

use std::process::Command;

use common::stack::{example_bin, root};

#[test]
fn the_page_is_one_self_contained_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(example_bin())
        .args(["docs", "--output"])
        .arg(dir.path().join("site"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path().join("site"))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1, "only index.html");
    let page = std::fs::read_to_string(dir.path().join("site/index.html")).unwrap();
    for remote in [" src=", "@import", "url(", "http://", "https://"] {
        assert!(
            !page.contains(remote),
            "the page refers to something outside itself: {remote}"
        );
    }
    assert!(page.contains("\"tasks.get_stats\""));
    assert!(
        page.contains("\"rpc_proxy\"") || page.contains("proxy"),
        "the Centrifugo config"
    );

    let bad = Command::new(example_bin())
        .args(["docs", "--output"])
        .arg(dir.path().join("x"))
        .args(["--console-js", "/nonexistent/console.js"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot read /nonexistent/console.js"));
}

#[test]
fn the_console_calls_methods_in_headless_chromium() {
    let (stack, web_port, origin) = common::stack::browser_stack();
    let out = root().join("target/docs");
    let build = Command::new("bash")
        .arg(root().join("scripts/docs.sh"))
        .arg(out.join("site"))
        .env("APP", example_bin())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "docs build: {}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let list = Command::new(example_bin())
        .args(["call", "--list"])
        .output()
        .unwrap();
    let methods: Vec<String> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    assert!(methods.len() >= 9);
    let _site = common::stack::serve_dir(web_port, &out.join("site"));
    let screenshot = out.join("screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    let url = format!(
        "{origin}/#url={}&token={}",
        stack.ws_url(),
        stack.token("docs", None)
    );
    let methods = serde_json::to_string(&methods).unwrap();
    common::stack::browser_checks(
        &stack,
        "docs.test.mjs",
        &[url.as_ref(), screenshot.as_os_str(), methods.as_ref()],
        &screenshot,
        7,
    );
}
