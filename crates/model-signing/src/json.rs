//! A strict JSON reader for untrusted documents: duplicate keys are an error
//! (not "last one wins"), nesting depth and size are bounded, and typed field
//! access reports the JSON path of anything missing or mistyped.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Deepest nesting accepted. Bundles and statements need fewer than 10 levels.
pub const MAX_DEPTH: usize = 32;

/// Why a document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON, or JSON with a duplicate key or too deep nesting.
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// The document is larger than allowed.
    #[error("document is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Size of the document.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(String),
    /// A field has the wrong JSON type or an invalid value.
    #[error("field `{path}` {reason}")]
    Invalid {
        /// JSON path of the field.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

struct StrictSeed {
    depth: usize,
}

struct StrictVisitor {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor { depth: self.depth })
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictSeed {
                depth: self.depth + 1,
            })?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Parses `bytes` as one JSON document, rejecting duplicate keys, nesting
/// deeper than [`MAX_DEPTH`], documents over `limit` bytes and trailing data.
pub fn parse_strict(bytes: &[u8], limit: usize) -> Result<Value, JsonError> {
    if bytes.len() > limit {
        return Err(JsonError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Typed access to an object, remembering where it is in the document.
#[derive(Clone, Copy)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    /// Views `value` as an object located at `path`.
    pub fn new(value: &'a Value, path: &'a str) -> Result<Self, JsonError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(JsonError::Invalid {
                path: if path.is_empty() {
                    "(document)".to_owned()
                } else {
                    path.to_owned()
                },
                reason: format!("must be an object, found {}", type_name(other)),
            }),
        }
    }

    /// JSON path of `key` in this object.
    pub fn path_of(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// The keys present.
    pub fn keys(&self) -> impl Iterator<Item = &'a String> {
        self.map.keys()
    }

    /// The raw value of `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// Whether `key` is present (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn invalid(&self, key: &str, reason: impl Into<String>) -> JsonError {
        JsonError::Invalid {
            path: self.path_of(key),
            reason: reason.into(),
        }
    }

    /// A required value.
    pub fn req(&self, key: &str) -> Result<&'a Value, JsonError> {
        self.get(key)
            .ok_or_else(|| JsonError::Missing(self.path_of(key)))
    }

    /// A required string.
    pub fn str(&self, key: &str) -> Result<&'a str, JsonError> {
        match self.req(key)? {
            Value::String(s) => Ok(s),
            other => {
                Err(self.invalid(key, format!("must be a string, found {}", type_name(other))))
            }
        }
    }

    /// An optional string.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, JsonError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.invalid(key, format!("must be a string, found {}", type_name(other))))
            }
        }
    }

    /// A required boolean.
    pub fn bool(&self, key: &str) -> Result<bool, JsonError> {
        match self.req(key)? {
            Value::Bool(b) => Ok(*b),
            other => Err(self.invalid(
                key,
                format!("must be a boolean, found {}", type_name(other)),
            )),
        }
    }

    /// A required array.
    pub fn array(&self, key: &str) -> Result<&'a [Value], JsonError> {
        match self.req(key)? {
            Value::Array(a) => Ok(a),
            other => {
                Err(self.invalid(key, format!("must be an array, found {}", type_name(other))))
            }
        }
    }

    /// An optional array (absent or null gives an empty slice).
    pub fn opt_array(&self, key: &str) -> Result<&'a [Value], JsonError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => {
                Err(self.invalid(key, format!("must be an array, found {}", type_name(other))))
            }
        }
    }

    /// A required object. The returned object's path is `path_buf`, which the
    /// caller keeps alive: `let p = o.path_of("k"); let k = o.obj("k", &p)?;`.
    pub fn obj<'b>(&self, key: &str, path_buf: &'b str) -> Result<Obj<'b>, JsonError>
    where
        'a: 'b,
    {
        Obj::new(self.req(key)?, path_buf)
    }

    /// A required positive integer; integral floats (`1000000000.0`, as the
    /// reference implementation writes) are accepted.
    pub fn positive_int(&self, key: &str) -> Result<u64, JsonError> {
        let v = self.req(key)?;
        let bad = || self.invalid(key, "must be a positive integer");
        match v {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    return if u > 0 { Ok(u) } else { Err(bad()) };
                }
                if n.is_i64() {
                    return Err(bad());
                }
                match n.as_f64() {
                    Some(f)
                        if f.is_finite()
                            && f >= 1.0
                            && f.fract() == 0.0
                            && f <= 9.007_199_254_740_992e15 =>
                    {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        Ok(f as u64)
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

/// Pretty-prints `v` with two-space indentation, writing object keys in the
/// order given by `order` (keys not listed follow, alphabetically). Output is
/// deterministic whatever the map implementation.
pub fn to_pretty_ordered(v: &Value, order: &[&str]) -> String {
    fn write(v: &Value, indent: usize, order: &[&str], out: &mut String) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                out.push_str("{\n");
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by_key(|k| {
                    (
                        order.iter().position(|o| o == k).unwrap_or(order.len()),
                        (*k).clone(),
                    )
                });
                for (i, k) in keys.iter().enumerate() {
                    out.push_str(&"  ".repeat(indent + 1));
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push_str(": ");
                    if let Some(val) = map.get(*k) {
                        write(val, indent + 1, order, out);
                    }
                    if i + 1 < keys.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
            Value::Array(items) if !items.is_empty() => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&"  ".repeat(indent + 1));
                    write(item, indent + 1, order, out);
                    if i + 1 < items.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(indent));
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, 0, order, &mut out);
    out
}

/// Wraps a string for error messages, shortened to `max` characters.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicates_and_depth() {
        assert!(parse_strict(br#"{"a":1,"b":2}"#, 100).is_ok());
        let e = parse_strict(br#"{"a":1,"a":2}"#, 100).expect_err("dup");
        assert!(e.to_string().contains("duplicate key `a`"), "{e}");
        assert!(parse_strict(br#"{"x":{"a":1,"a":1}}"#, 100).is_err());
        assert!(parse_strict(br#"[{"a":1},{"a":1}]"#, 100).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse_strict(deep.as_bytes(), 1000).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_strict(ok.as_bytes(), 1000).is_ok());
        assert!(matches!(
            parse_strict(b"{}", 1),
            Err(JsonError::TooLarge { .. })
        ));
        assert!(parse_strict(b"{} {}", 100).is_err());
        assert!(parse_strict(b"", 100).is_err());
    }

    #[test]
    fn positive_int_accepts_integral_floats_only() {
        let v = parse_strict(
            br#"{"a":5,"b":1000000000.0,"c":0,"d":-3,"e":1.5,"f":"7","g":0.0,"h":1e300}"#,
            1000,
        )
        .expect("json");
        let o = Obj::new(&v, "").expect("obj");
        assert_eq!(o.positive_int("a"), Ok(5));
        assert_eq!(o.positive_int("b"), Ok(1_000_000_000));
        for k in ["c", "d", "e", "f", "g", "h", "missing"] {
            assert!(o.positive_int(k).is_err(), "{k}");
        }
    }
}
