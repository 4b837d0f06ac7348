//! Splitting names into words and joining them in each language's case, so `tasks.get_stats`,
//! `TaskStatsParams` and `bigUnsigned` become `tasks_get_stats` / `tasksGetStats` /
//! `TasksGetStats` and friends without one language's rules leaking into another's.

/// Splits a name into lowercase words at separators (anything not alphanumeric), lower→upper
/// case changes (`getStats`), and acronym ends (`HTTPServer` → `http`, `server`).
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `get_task_stats`.
pub fn snake(words: &[String]) -> String {
    words.join("_")
}

/// `SCREAMING_SNAKE`.
pub fn screaming(words: &[String]) -> String {
    words.join("_").to_uppercase()
}

/// Capitalises the first letter.
pub fn capitalize(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `GetTaskStats`.
pub fn pascal(words: &[String]) -> String {
    words.iter().map(|w| capitalize(w)).collect()
}

/// `getTaskStats`.
pub fn camel(words: &[String]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i == 0 {
            out.push_str(w);
        } else {
            out.push_str(&capitalize(w));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn splits_every_naming_style() {
        assert_eq!(w("tasks.get_stats"), ["tasks", "get", "stats"]);
        assert_eq!(w("admin:users.ban"), ["admin", "users", "ban"]);
        assert_eq!(w("TaskStatsParams"), ["task", "stats", "params"]);
        assert_eq!(w("bigUnsigned"), ["big", "unsigned"]);
        assert_eq!(w("HTTPServer2Go"), ["http", "server2", "go"]);
        assert_eq!(w("dark_blue"), ["dark", "blue"]);
        assert_eq!(w("user_id"), ["user", "id"]);
        assert_eq!(w("EverythingInput"), ["everything", "input"]);
    }

    #[test]
    fn joins_in_each_case() {
        let m = w("tasks.get_stats");
        assert_eq!(snake(&m), "tasks_get_stats");
        assert_eq!(camel(&m), "tasksGetStats");
        assert_eq!(pascal(&m), "TasksGetStats");
        assert_eq!(screaming(&w("methodNotFound")), "METHOD_NOT_FOUND");
    }
}
