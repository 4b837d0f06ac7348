//! tmp
use super::{ir::Api, CodegenError, File};
/// tmp
pub fn render(api: &Api) -> Result<Vec<File>, CodegenError> {
    Ok(vec![File::new("ir.json", serde_json::to_string_pretty(api).unwrap())])
}
