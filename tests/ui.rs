//! A handler that does not fit `async fn(Context<S>, Params) -> Result<Output, E>` is refused
//! at compile time, at the `.rpc(…)` call, with an error that names the cause: centrpc's own
//! message for something that is not a handler at all, and rustc's precise message where it
//! already says more (a future that is not `Send`, params without a JSON Schema, arguments in
//! the wrong order). The `.stderr` files pin each message.

#[test]
fn misfit_handlers_get_a_readable_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
