//! The python client generator (being written).

use super::{ir::Api, CodegenError, File};

/// Renders the python package.
pub fn render(_api: &Api) -> Result<Vec<File>, CodegenError> {
    Err(CodegenError::Template(
        "the python generator is not written yet".into(),
    ))
}
