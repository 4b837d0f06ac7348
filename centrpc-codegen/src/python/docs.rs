//! Generated prose: docstring literals (the templates' `docstring` filter), wrapping, how docs
//! name types and list application errors.

use crate::ir::AppError;

use super::names::app_error_member;

/// The docstring literal of `text` (trimmed; empty when there is none): `"""text"""`, escaped so
/// that any text (quotes, backslashes, triple quotes) stays one valid string literal. Later lines
/// are not indented (the template indents the block) and blank ones are empty. The templates'
/// `docstring` filter.
pub(super) fn docstring(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut escaped = text.replace('\\', "\\\\").replace("\"\"\"", "\"\"\\\"");
    if escaped.ends_with('"') {
        escaped.pop();
        escaped.push_str("\\\"");
    }
    let mut lines = escaped.lines();
    let mut out = format!("\"\"\"{}", lines.next().unwrap_or_default());
    let mut multiline = false;
    for line in lines {
        multiline = true;
        out.push('\n');
        out.push_str(line.trim_end());
    }
    if multiline {
        out.push('\n');
    }
    out.push_str("\"\"\"");
    out
}

/// `text` wrapped at `width` columns (words are not split).
pub(super) fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// The width generated prose in a method's docstring is wrapped at.
pub(super) const DOC_WIDTH: usize = 88;

/// How generated docs name a type: a cross-reference for a class or alias, else a literal.
pub(super) fn doc_type(ty: &str) -> String {
    if ty.chars().all(|c| c.is_alphanumeric() || c == '_') {
        format!(":class:`{ty}`")
    } else {
        format!("``{ty}``")
    }
}

/// The docstring paragraph listing the application errors a method or stream declares (an RST
/// list of `AppErrorCode` members); empty when it declares none.
pub(super) fn app_errors_doc(errors: &[AppError], verb: &str) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = wrap(
        &format!(
            "Besides the built-in codes, it {verb} these application errors (``RPCError.code``, \
             :class:`AppErrorCode`):"
        ),
        DOC_WIDTH,
    );
    out.push('\n');
    for e in errors {
        out.push_str(&format!(
            "\n- ``{}`` ({}): {}",
            app_error_member(e),
            e.code,
            e.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docstrings_stay_valid_python() {
        assert_eq!(docstring("User's ID"), "\"\"\"User's ID\"\"\"");
        assert_eq!(
            docstring("ends with \"quote\""),
            "\"\"\"ends with \"quote\\\"\"\"\""
        );
        assert_eq!(
            docstring("a \"\"\" b \\ c"),
            "\"\"\"a \"\"\\\" b \\\\ c\"\"\""
        );
        assert_eq!(docstring("one\n  \ntwo  \n"), "\"\"\"one\n\ntwo\n\"\"\"");
        assert_eq!(docstring("  "), "");
    }
}
