//! The event-driven half of the API as an AsyncAPI 3.0 document (`schema --asyncapi`), made from
//! the API document so it cannot drift from it: each subscription stream and typed channel is a
//! channel with its messages, and the operations say which way each message flows, from the
//! application's (centrpc's) point of view. The payload schemas are the API document's own.

use serde_json::{json, Map, Value};

/// A pattern's address: its `*` becomes the `{key}` parameter the client fills in.
fn address(pattern: &str) -> (String, bool) {
    match pattern.strip_suffix('*') {
        Some(prefix) => (format!("{prefix}{{key}}"), true),
        None => (pattern.to_owned(), false),
    }
}

/// A channel or operation id: the pattern's words joined by `_` (AsyncAPI allows `[\w.-]`).
fn id(kind: &str, name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    format!("{kind}.{}", words.join("_"))
}

/// One message of a channel: its payload schema, from the API document.
fn message(name: &str, title: &str, payload: &Value) -> (String, Value) {
    (
        name.to_owned(),
        json!({ "name": name, "title": title, "contentType": "application/json", "payload": payload }),
    )
}

/// Builds the AsyncAPI 3.0 document of the streams and typed channels of `document`.
pub fn asyncapi(document: &Value) -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut add = |channel_id: String,
                   pattern: &str,
                   description: Option<&Value>,
                   messages: Vec<(String, Value)>,
                   flows: Vec<(&str, &str, String)>| {
        let (address, keyed) = address(pattern);
        let mut channel = json!({
            "address": address,
            "messages": messages.into_iter().collect::<Map<String, Value>>(),
        });
        if let Some(d) = description.and_then(Value::as_str) {
            channel["description"] = json!(d);
        }
        if keyed {
            channel["parameters"] = json!({
                "key": { "description": format!("The rest of the channel name after `{}`.", pattern.trim_end_matches('*')) }
            });
        }
        for (action, message, summary) in flows {
            let op = format!("{action}.{}", channel_id.replace('.', "_"));
            operations.insert(
                format!("{op}.{message}"),
                json!({
                    "action": action,
                    "summary": summary,
                    "channel": { "$ref": format!("#/channels/{channel_id}") },
                    "messages": [{ "$ref": format!("#/channels/{channel_id}/messages/{message}") }],
                }),
            );
        }
        channels.insert(channel_id, channel);
    };
    for s in document["x-streams"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or_default();
        let mut messages = vec![
            message(
                "subscribe",
                "Subscribe data (the stream's params)",
                &s["params"]["schema"],
            ),
            message("item", "An item of the stream", &s["item"]["schema"]),
        ];
        let mut flows = vec![
            (
                "receive",
                "subscribe",
                "A client subscribes with these params: one stream for it.".to_owned(),
            ),
            (
                "send",
                "item",
                "Each item of the stream, to its one subscriber.".to_owned(),
            ),
        ];
        if let Some(p) = s.get("publication") {
            messages.push(message(
                "publication",
                "The subscriber's publication",
                &p["schema"],
            ));
            flows.push((
                "receive",
                "publication",
                "The subscriber publishes into its stream.".to_owned(),
            ));
        }
        add(
            id("stream", name),
            name,
            s.get("description"),
            messages,
            flows,
        );
    }
    for c in document["x-channels"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or_default();
        let pattern = c["pattern"].as_str().unwrap_or_default();
        let mut messages = vec![message(
            "publication",
            "A publication",
            &c["publication"]["schema"],
        )];
        let mut flows = vec![(
            "send",
            "publication",
            "The application publishes to subscribers.".to_owned(),
        )];
        if let Some(p) = c.get("clientPublication") {
            messages.push(message(
                "clientPublication",
                "A client's publication",
                &p["schema"],
            ));
            flows.push((
                "receive",
                "clientPublication",
                "A client publishes; it is checked against this type first.".to_owned(),
            ));
        }
        add(
            id("channel", name),
            pattern,
            c.get("description"),
            messages,
            flows,
        );
    }
    let info = &document["info"];
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": info["title"],
            "version": info["version"],
            "description": "Subscription streams and typed channels, served through Centrifugo (see the OpenRPC document for the RPC methods).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": { "schemas": document["components"]["schemas"] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_patterns_become_parameters_and_ids_are_words() {
        assert_eq!(address("tally:*"), ("tally:{key}".into(), true));
        assert_eq!(address("#*"), ("#{key}".into(), true));
        assert_eq!(address("watch:tasks"), ("watch:tasks".into(), false));
        assert_eq!(id("stream", "watch:tasks"), "stream.watch_tasks");
        assert_eq!(id("stream", "tally:*"), "stream.tally");
    }
}
