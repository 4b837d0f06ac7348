//! Generated prose and layout: docstrings, wrapping, how docs name types and list application
//! errors, and import lines in isort order.

use crate::ir::AppError;

use super::names::app_error_member;

/// A docstring block at `indent`: `"""text"""`, escaped so that any text (quotes, backslashes,
/// triple quotes) stays one valid string literal.
pub(super) fn docstring(text: &str, indent: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut escaped = text.replace('\\', "\\\\").replace("\"\"\"", "\"\"\\\"");
    if escaped.ends_with('"') {
        escaped.pop();
        escaped.push_str("\\\"");
    }
    let lines: Vec<&str> = escaped.lines().collect();
    if lines.len() == 1 {
        return format!("{indent}\"\"\"{escaped}\"\"\"\n");
    }
    let mut out = format!("{indent}\"\"\"{}\n", lines[0]);
    for line in &lines[1..] {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{indent}{}\n", line.trim_end()));
        }
    }
    out.push_str(&format!("{indent}\"\"\"\n"));
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

/// `from module import a, b`, wrapped one name per line when longer than 100 columns.
pub(super) fn import_line(module: &str, names: &[String]) -> String {
    let one = format!("from {module} import {}", names.join(", "));
    if one.len() <= 100 {
        return one;
    }
    format!(
        "from {module} import (\n{})",
        names
            .iter()
            .map(|n| format!("    {n},\n"))
            .collect::<String>()
    )
}

/// The sort key ruff's isort uses for imported names and `__all__`: constants, then classes,
/// then the rest, each case-sensitively.
fn isort_key(name: &str) -> (u8, String) {
    let kind = if name.len() > 1 && name.chars().all(|c| !c.is_lowercase()) {
        0
    } else if name.starts_with(|c: char| c.is_uppercase()) {
        1
    } else {
        2
    };
    (kind, name.to_owned())
}

pub(super) fn isort(names: &mut [String]) {
    names.sort_by_key(|n| isort_key(n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docstrings_stay_valid_python() {
        assert_eq!(docstring("User's ID", ""), "\"\"\"User's ID\"\"\"\n");
        assert_eq!(
            docstring("ends with \"quote\"", ""),
            "\"\"\"ends with \"quote\\\"\"\"\"\n"
        );
        assert_eq!(
            docstring("a \"\"\" b \\ c", "  "),
            "  \"\"\"a \"\"\\\" b \\\\ c\"\"\"\n"
        );
        assert_eq!(
            docstring("one\n\ntwo", "    "),
            "    \"\"\"one\n\n    two\n    \"\"\"\n"
        );
        assert_eq!(docstring("  ", ""), "");
    }
}
