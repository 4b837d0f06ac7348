//! The go client generator (being written).

use super::{ir::Api, CodegenError, File};

/// Renders the go package.
pub fn render(_api: &Api) -> Result<Vec<File>, CodegenError> {
    Err(CodegenError::Template(
        "the go generator is not written yet".into(),
    ))
}
