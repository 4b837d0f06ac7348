//! Every serde construct the client generators support, in one round-trip method
//! (`types.roundtrip`), so each generated client proves it reads and writes them exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A unit-only enum: a string in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    /// Warm.
    Red,
    /// Cool.
    DarkBlue,
}

/// A nested struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Inner {
    /// A label.
    pub label: String,
    /// An optional weight.
    pub weight: Option<f64>,
}

/// Internally tagged: `{"kind": "circle", "radius": 1.0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A circle.
    Circle {
        /// Its radius.
        radius: f64,
    },
    /// A rectangle.
    Rect {
        /// Width.
        w: f64,
        /// Height.
        h: f64,
    },
    /// Nothing.
    Empty,
}

/// Adjacently tagged: `{"type": "created", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// Something was created.
    Created(Inner),
    /// Something was deleted.
    Deleted {
        /// Which.
        id: u64,
    },
    /// A heartbeat.
    Ping,
}

/// Externally tagged (serde's default): `"Start"`, `{"Stop": {"force": true}}`, `{"Rename": "x"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum Command {
    /// Start.
    Start,
    /// Stop.
    Stop {
        /// Without waiting.
        force: bool,
    },
    /// Rename.
    Rename(String),
}

/// Untagged: whichever shape fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    /// A number.
    Number(f64),
    /// Some text.
    Text(String),
    /// A list of words.
    Words(Vec<String>),
}

/// A newtype: a task id on the wire as a plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskId(pub u64);

/// Every construct at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Everything {
    /// A string.
    pub text: String,
    /// A 32-bit integer.
    pub count: i32,
    /// A float.
    pub ratio: f64,
    /// A boolean.
    pub flag: bool,
    /// A signed 64-bit integer (exact in Python and Go; in TypeScript exact up to 2^53 − 1).
    pub big_signed: i64,
    /// An unsigned 64-bit integer.
    pub big_unsigned: u64,
    /// An optional value, `null` when absent.
    pub maybe: Option<String>,
    /// Defaults to 7 when the caller leaves it out.
    #[serde(default = "seven")]
    pub with_default: u32,
    /// Left out of the JSON entirely when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_when_none: Option<String>,
    /// A list.
    pub tags: Vec<String>,
    /// A map with string keys.
    pub scores: BTreeMap<String, f64>,
    /// A nested struct.
    pub nested: Inner,
    /// A list of structs.
    pub items: Vec<Inner>,
    /// A unit enum.
    pub color: Color,
    /// An internally tagged enum.
    pub shape: Shape,
    /// An adjacently tagged enum.
    pub event: Event,
    /// An externally tagged enum.
    pub command: Command,
    /// An untagged enum.
    pub scalar: Scalar,
    /// A newtype.
    pub id: TaskId,
    /// A timestamp (RFC 3339).
    pub when: DateTime<Utc>,
    /// A UUID.
    pub uuid: Uuid,
    /// Any JSON.
    pub extra: serde_json::Value,
    /// A field whose wire name is a keyword in Python and Go.
    #[serde(rename = "from")]
    pub sender: String,
    /// A field named like a keyword.
    pub r#type: String,
}

fn seven() -> u32 {
    7
}
