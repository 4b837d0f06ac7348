//! The typescript client generator (being written).

use super::{ir::Api, CodegenError, File};

/// Renders the typescript package.
pub fn render(_api: &Api) -> Result<Vec<File>, CodegenError> {
    Err(CodegenError::Template(
        "the typescript generator is not written yet".into(),
    ))
}
