//! The generated TypeScript client in a real browser: the example page (examples/web), bundled
//! with esbuild for the browser, served on loopback, opened in Debian's headless Chromium by
//! playwright-core against the real Centrifugo and the example server. The screenshot lands in
//! target/browser/screenshot.png.

mod common;

use std::process::Command;

use common::stack::{example_bin, root};
use serde_json::json;

#[test]
fn the_generated_client_works_in_headless_chromium() {
    let (stack, web_port, origin) = common::stack::browser_stack();
    let out = root().join("target/browser");
    let build = Command::new("bash")
        .arg(root().join("scripts/web.sh"))
        .arg(&out)
        .env("APP", example_bin())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "web build: {}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let config = json!({"url": stack.ws_url(), "token": stack.token("web", None), "user": "web"});
    std::fs::write(out.join("site/config.json"), config.to_string()).unwrap();
    let _site = common::stack::serve_dir(web_port, &out.join("site"));
    let screenshot = out.join("screenshot.png");
    let page = format!("{origin}/");
    common::stack::browser_checks(
        &stack,
        "browser.test.mjs",
        &[page.as_ref(), screenshot.as_os_str()],
        &screenshot,
        5,
    );
}
