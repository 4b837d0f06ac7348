//! A handler that does not fit `async fn(Context<S>, Params) -> Result<Output, E>` is refused
//! at compile time with centrpc's own explanation, not an opaque trait error.

#[test]
fn misfit_handlers_get_a_readable_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
