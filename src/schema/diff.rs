//! Classifies the changes between two API documents as breaking or not, from a client's point
//! of view: params are what clients send (the server must keep accepting it), results are what
//! they receive (clients must keep understanding it).

use std::{collections::BTreeSet, fmt};

use serde_json::Value;

use super::DEFINITIONS;

/// One change between two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Whether existing clients may break.
    pub breaking: bool,
    /// Where, e.g. `tasks.get_stats params.user_id`.
    pub at: String,
    /// What changed.
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.breaking {
            "BREAKING"
        } else {
            "compatible"
        };
        write!(f, "{kind:<10} {}: {}", self.at, self.what)
    }
}

/// Which way data flows through a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Client → server (params).
    Input,
    /// Server → client (results).
    Output,
}

struct Diff<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
    /// (old ref, new ref, flow) pairs already compared, so recursive types terminate.
    seen: BTreeSet<(String, String, bool)>,
}

/// What a document lists by name (methods, and centrpc's streams and typed channels), and
/// where each one's schemas are, with the way their data flows.
struct Listing {
    what: &'static str,
    key: &'static str,
    name: &'static str,
    parts: &'static [(&'static str, &'static str, Flow)],
}

const LISTINGS: [Listing; 4] = [
    Listing {
        what: "method",
        key: "methods",
        name: "name",
        parts: &[
            ("params", "/params/0/schema", Flow::Input),
            ("result", "/result/schema", Flow::Output),
        ],
    },
    Listing {
        what: "stream",
        key: "x-streams",
        name: "name",
        parts: &[
            ("params", "/params/schema", Flow::Input),
            ("item", "/item/schema", Flow::Output),
            ("publication", "/publication/schema", Flow::Input),
        ],
    },
    Listing {
        what: "channel",
        key: "x-channels",
        name: "pattern",
        parts: &[
            ("publication", "/publication/schema", Flow::Output),
            (
                "client publication",
                "/clientPublication/schema",
                Flow::Input,
            ),
        ],
    },
    // One object rather than a list: the connect hook's typed data, reply data and info.
    Listing {
        what: "connect",
        key: "x-connect",
        name: "",
        parts: &[
            ("data", "/data/schema", Flow::Input),
            ("reply data", "/replyData/schema", Flow::Output),
            ("info", "/info/schema", Flow::Output),
        ],
    },
];

/// Every change from `old` to `new`: methods, then streams, then channels, each in name order,
/// then the connect hook's types.
pub fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let mut d = Diff {
        old,
        new,
        changes: Vec::new(),
        seen: BTreeSet::new(),
    };
    for listing in &LISTINGS {
        let (old_items, new_items) = (listing.items(old), listing.items(new));
        for (name, o) in &old_items {
            let Some((_, n)) = new_items.iter().find(|(n, _)| n == name) else {
                d.push(true, name, format!("{} removed", listing.what));
                continue;
            };
            for (part, pointer, flow) in listing.parts {
                let at = format!("{name} {part}");
                match (o.pointer(pointer), n.pointer(pointer)) {
                    (Some(os), Some(ns)) => d.schema(&at, os, ns, *flow),
                    (Some(_), None) => d.push(true, &at, format!("{part} removed")),
                    (None, Some(_)) => d.push(false, &at, format!("{part} added")),
                    (None, None) => {}
                }
            }
            if listing.key == "methods" {
                d.idempotence(name, o, n);
            }
        }
        for (name, _) in &new_items {
            if !old_items.iter().any(|(n, _)| n == name) {
                d.push(false, name, format!("{} added", listing.what));
            }
        }
    }
    d.changes
}

impl Listing {
    fn items<'d>(&self, doc: &'d Value) -> Vec<(String, &'d Value)> {
        if let Some(single) = doc.get(self.key).filter(|v| v.is_object()) {
            return vec![(self.what.to_owned(), single)];
        }
        doc[self.key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| (m[self.name].as_str().unwrap_or_default().to_owned(), m))
            .collect()
    }
}

impl<'a> Diff<'a> {
    fn push(&mut self, breaking: bool, at: &str, what: String) {
        self.changes.push(Change {
            breaking,
            at: at.to_owned(),
            what,
        });
    }

    /// A method marked idempotent, or no longer: compatible either way. Clients generated from
    /// the new document retry it or stop; those generated before behave as the server did when
    /// they were generated (their retries of a method that stopped being idempotent are the
    /// application's to allow for).
    fn idempotence(&mut self, at: &str, old: &Value, new: &Value) {
        let marked = |m: &Value| m["x-idempotent"] == Value::Bool(true);
        match (marked(old), marked(new)) {
            (false, true) => self.push(false, at, "now idempotent (clients may retry it)".into()),
            (true, false) => self.push(
                false,
                at,
                "no longer idempotent (regenerated clients stop retrying it)".into(),
            ),
            _ => {}
        }
    }

    fn schema(&mut self, at: &str, old: &Value, new: &Value, flow: Flow) {
        if let (Some(o), Some(n)) = (old["$ref"].as_str(), new["$ref"].as_str()) {
            if !self
                .seen
                .insert((o.to_owned(), n.to_owned(), flow == Flow::Input))
            {
                return;
            }
        }
        let (o, n) = (resolve(self.old, old), resolve(self.new, new));
        if o == n && old.get("$ref").is_none() {
            return;
        }
        let (ot, nt) = (kind(o), kind(n));
        if ot != nt {
            // Widening to accept null is safe for input; narrowing away from null is safe for output.
            let (o_base, o_null) = split_null(&ot);
            let (n_base, n_null) = split_null(&nt);
            if o_base == n_base {
                match (flow, o_null, n_null) {
                    (Flow::Input, false, true) | (Flow::Output, true, false) => self.push(
                        false,
                        at,
                        format!("now {}", if n_null { "accepts null" } else { "never null" }),
                    ),
                    _ => self.push(true, at, format!("{} → {}", describe(&ot), describe(&nt))),
                }
            } else {
                self.push(
                    true,
                    at,
                    format!("type changed: {} → {}", describe(&ot), describe(&nt)),
                );
                return;
            }
        }
        self.properties(at, o, n, flow);
        self.enum_values(at, o, n, flow);
        for key in ["oneOf", "anyOf"] {
            if let (Some(oa), Some(na)) = (o[key].as_array(), n[key].as_array()) {
                if oa.len() == na.len() {
                    for (i, (x, y)) in oa.iter().zip(na).enumerate() {
                        self.schema(&format!("{at}.{key}[{i}]"), x, y, flow);
                    }
                } else if ov_len_changes_are_enum_values(o, n) {
                    // Counted value by value in `enum_values`.
                } else {
                    let widened = na.len() > oa.len();
                    let breaking = (flow == Flow::Input) != widened;
                    self.push(
                        breaking,
                        at,
                        format!("{} alternatives → {}", oa.len(), na.len()),
                    );
                }
            }
        }
        for key in ["items", "additionalProperties"] {
            if let (Some(x), Some(y)) = (
                o.get(key).filter(|v| v.is_object()),
                n.get(key).filter(|v| v.is_object()),
            ) {
                self.schema(&format!("{at}[]"), x, y, flow);
            }
        }
    }

    fn properties(&mut self, at: &str, o: &Value, n: &Value, flow: Flow) {
        let (Some(op), Some(np)) = (o["properties"].as_object(), n["properties"].as_object())
        else {
            return;
        };
        let required = |s: &Value| -> BTreeSet<String> {
            s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (or, nr) = (required(o), required(n));
        for (field, os) in op {
            let path = format!("{at}.{field}");
            match np.get(field) {
                None => self.push(true, &path, "field removed".into()),
                Some(ns) => {
                    match (flow, or.contains(field), nr.contains(field)) {
                        (Flow::Input, false, true) => self.push(true, &path, "now required".into()),
                        (Flow::Input, true, false) => {
                            self.push(false, &path, "now optional".into())
                        }
                        (Flow::Output, true, false) => {
                            self.push(true, &path, "may now be absent".into())
                        }
                        (Flow::Output, false, true) => {
                            self.push(false, &path, "now always present".into())
                        }
                        _ => {}
                    }
                    self.schema(&path, os, ns, flow);
                }
            }
        }
        for field in np.keys().filter(|f| !op.contains_key(*f)) {
            let path = format!("{at}.{field}");
            let breaking = flow == Flow::Input && nr.contains(field);
            self.push(
                breaking,
                &path,
                if breaking {
                    "new required field".into()
                } else {
                    "field added".into()
                },
            );
        }
    }

    fn enum_values(&mut self, at: &str, o: &Value, n: &Value, flow: Flow) {
        let values = |s: &Value| -> BTreeSet<String> {
            let alts = s["oneOf"].as_array().or_else(|| s["anyOf"].as_array());
            let mut out: BTreeSet<String> = s["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Value::to_string)
                .collect();
            for a in alts.into_iter().flatten() {
                if let Some(c) = a.get("const") {
                    out.insert(c.to_string());
                }
            }
            out
        };
        let (ov, nv) = (values(o), values(n));
        // Clients send input values (removing one breaks them) and must understand output
        // values (adding one breaks them).
        for removed in ov.difference(&nv) {
            self.push(flow == Flow::Input, at, format!("value {removed} removed"));
        }
        for added in nv.difference(&ov) {
            self.push(flow == Flow::Output, at, format!("value {added} added"));
        }
    }
}

/// A schema, or the definition it references.
fn resolve<'b>(doc: &'b Value, schema: &'b Value) -> &'b Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(DEFINITIONS))
    {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

/// Whether both unions consist only of constants (unit enum values), compared by value instead.
fn ov_len_changes_are_enum_values(o: &Value, n: &Value) -> bool {
    let consts = |s: &Value| {
        s["oneOf"]
            .as_array()
            .or_else(|| s["anyOf"].as_array())
            .is_some_and(|alts| alts.iter().all(|a| a.get("const").is_some()))
    };
    consts(o) && consts(n)
}

/// A coarse type label: `string`, `integer`, `object`, `array`, `oneOf`, `null|string`…
fn kind(s: &Value) -> String {
    match &s["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => {
            let mut v: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            v.sort_unstable();
            v.join("|")
        }
        _ if s.get("oneOf").is_some() => "oneOf".into(),
        _ if s.get("anyOf").is_some() => {
            let alts = s["anyOf"].as_array().map(Vec::len).unwrap_or(0);
            let nulls = s["anyOf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["type"] == "null")
                .count();
            if nulls > 0 && alts - nulls == 1 {
                "null|ref".into()
            } else {
                "anyOf".into()
            }
        }
        _ => "any".into(),
    }
}

fn split_null(kind: &str) -> (String, bool) {
    let parts: Vec<&str> = kind.split('|').filter(|p| *p != "null").collect();
    (parts.join("|"), kind.split('|').any(|p| p == "null"))
}

fn describe(kind: &str) -> String {
    kind.replace('|', " or ")
}
