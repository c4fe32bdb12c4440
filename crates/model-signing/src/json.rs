//! A strict JSON reader for untrusted documents: duplicate keys are an error
//! (not "last one wins"), nesting depth and size are bounded, and typed field
//! access reports the JSON path of anything missing or mistyped.
//!
//! Signatures are read under a [`Shape`] ([`parse_shaped`]): only the fields
//! the format defines are kept, strings are borrowed from the input, and
//! unknown fields are skipped as they are read, so a document costs little
//! more than its own bytes whatever it holds (a tree of `[0,0,0,...]` would
//! cost 16 times its text). Long arrays are read one item at a time
//! ([`for_each_item`]). [`parse_strict`] builds a whole [`Value`] tree, for
//! small trusted-size documents (trust roots, signing configurations).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

// ------------------------------------------------- bounded, tree-free reading

/// Longest string with escape sequences (`\"`, `\n`, `\uXXXX`, ...) accepted
/// in a bundle: 64 KiB. The JSON reader unescapes such a string into a buffer
/// of its own size, so a long one would cost its size again; base64 fields
/// (the payload, certificates) never need escaping, and no encoder of Sigstore
/// bundles escapes them.
pub const MAX_ESCAPED_STRING: usize = 64 << 10;

fn position(bytes: &[u8], at: usize) -> String {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    format!("at line {line} column {column}")
}

/// Checks a document in one pass over its bytes, without allocating: at
/// most `limit` bytes, nesting no deeper than [`MAX_DEPTH`], and no string
/// with escape sequences longer than `max_escaped` bytes. Syntax is left to
/// the parser that follows.
pub fn check_text(bytes: &[u8], limit: usize, max_escaped: usize) -> Result<(), JsonError> {
    if bytes.len() > limit {
        return Err(JsonError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                let mut escaped = false;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        escaped = true;
                        i += 1;
                    }
                    i += 1;
                }
                // The length of the string's text between the quotes.
                if escaped && i - start - 1 > max_escaped {
                    return Err(JsonError::Syntax(format!(
                        "a string with escape sequences is longer than {max_escaped} bytes {}",
                        position(bytes, start)
                    )));
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(JsonError::Syntax(format!(
                        "nesting deeper than {MAX_DEPTH} levels {}",
                        position(bytes, i)
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What of a document to keep. Object keys that are not listed, array items
/// past the bound and containers where a scalar is expected are read and
/// dropped without being stored, so that unknown or oversized content costs
/// no memory.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Keep a scalar (strings borrowed from the input where they have no
    /// escape sequences); an array or object here is skipped, and only its
    /// kind is kept.
    Scalar,
    /// An object whose listed keys are kept, each with its shape. A listed
    /// key given twice is an error.
    Object(Vec<(&'static str, Shape)>),
    /// An array whose first `max` items are kept with the item shape; the
    /// others are counted (`Array::len`).
    Array(usize, Box<Shape>),
}

impl Shape {
    /// [`Shape::Object`] from its fields.
    pub fn object(fields: impl IntoIterator<Item = (&'static str, Shape)>) -> Self {
        Shape::Object(fields.into_iter().collect())
    }

    /// [`Shape::Array`] keeping at most `max` items.
    pub fn array(max: usize, item: Shape) -> Self {
        Shape::Array(max, Box::new(item))
    }
}

/// A JSON value read under a [`Shape`]: only what the shape keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string, borrowed from the input unless it had escape sequences.
    Str(Cow<'a, str>),
    /// An array: the items kept, and how many there were.
    Array(Array<'a>),
    /// An object: the keys the shape lists that are present, in document
    /// order (none when the shape expected no object here).
    Object(Vec<(&'static str, Node<'a>)>),
}

/// The items kept of an array, and its length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Array<'a> {
    /// The first items, as many as the shape keeps.
    pub items: Vec<Node<'a>>,
    /// How many items the array has.
    pub len: usize,
}

impl Node<'_> {
    /// The node as a [`Value`] (the kept parts only).
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::Str(s) => Value::String(s.clone().into_owned()),
            Node::Array(a) => Value::Array(a.items.iter().map(Node::to_value).collect()),
            Node::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::Str(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }

    /// The first string longer than `max(path)` bytes, or array longer than
    /// the items kept (unless `counted(path)`: its length is the caller's to
    /// check), below this node (at `path`): an error naming it.
    pub fn check_bounds(
        &self,
        path: &str,
        max: &dyn Fn(&str) -> usize,
        counted: &dyn Fn(&str) -> bool,
    ) -> Result<(), JsonError> {
        match self {
            Node::Str(s) if s.len() > max(path) => Err(JsonError::Invalid {
                path: path.to_owned(),
                reason: format!(
                    "is {} bytes long; at most {} are accepted",
                    s.len(),
                    max(path)
                ),
            }),
            Node::Array(a) => {
                if a.len > a.items.len() && !counted(path) {
                    return Err(JsonError::Invalid {
                        path: path.to_owned(),
                        reason: format!(
                            "has {} items; at most {} are accepted",
                            a.len,
                            a.items.len()
                        ),
                    });
                }
                for (i, item) in a.items.iter().enumerate() {
                    item.check_bounds(&format!("{path}[{i}]"), max, counted)?;
                }
                Ok(())
            }
            Node::Object(fields) => {
                for (k, v) in fields {
                    v.check_bounds(&join(path, k), max, counted)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Reads a document under `shape`, after `check_text` with `limit` and
/// `max_escaped`: no tree of the whole document is built, and what the shape
/// does not keep is never stored.
pub fn parse_shaped<'a>(
    bytes: &'a [u8],
    limit: usize,
    max_escaped: usize,
    shape: &Shape,
) -> Result<Node<'a>, JsonError> {
    check_text(bytes, limit, max_escaped)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let node = ShapeSeed(shape)
        .deserialize(&mut de)
        .map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(node)
}

/// Calls `each` with the index and the item (read under `item`) of every
/// element of the array at `path` (object keys from the document root),
/// one at a time: the array is never held whole. The rest of the document
/// is skipped. An error from `each` stops the read and is returned as is.
/// Call it on a document already read with [`parse_shaped`], which checked
/// its syntax and that `path` leads to an array.
pub fn for_each_item<'a, E>(
    bytes: &'a [u8],
    path: &[&'static str],
    item: &Shape,
    each: &mut dyn FnMut(usize, Node<'a>) -> Result<(), E>,
) -> Result<(), ItemError<E>> {
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = PathSeed {
        path,
        item,
        each,
        failure: &mut failure,
    };
    let result = seed.deserialize(&mut de).and_then(|()| de.end());
    match (failure, result) {
        (Some(e), _) => Err(ItemError::Item(e)),
        (None, Err(e)) => Err(ItemError::Json(JsonError::Syntax(e.to_string()))),
        (None, Ok(())) => Ok(()),
    }
}

/// Why [`for_each_item`] stopped.
#[derive(Debug)]
pub enum ItemError<E> {
    /// The document is not valid JSON.
    Json(JsonError),
    /// The callback refused an item.
    Item(E),
}

struct ShapeSeed<'s>(&'s Shape);

impl<'de> DeserializeSeed<'de> for ShapeSeed<'_> {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(ShapeVisitor(self.0))
    }
}

struct ShapeVisitor<'s>(&'s Shape);

impl<'de> Visitor<'de> for ShapeVisitor<'_> {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node<'de>, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let (max, item) = match self.0 {
            Shape::Array(max, item) => (*max, Some(&**item)),
            _ => (0, None),
        };
        let mut out = Array::default();
        loop {
            match item {
                Some(item) if out.len < max => match seq.next_element_seed(ShapeSeed(item))? {
                    Some(node) => out.items.push(node),
                    None => break,
                },
                _ => {
                    if seq.next_element::<IgnoredAny>()?.is_none() {
                        break;
                    }
                }
            }
            out.len += 1;
        }
        Ok(Node::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let fields: &[(&'static str, Shape)] = match self.0 {
            Shape::Object(fields) => fields,
            _ => &[],
        };
        let mut out: Vec<(&'static str, Node<'de>)> = Vec::new();
        while let Some(found) = map.next_key_seed(KeySeed(fields))? {
            match found {
                Some(i) => {
                    let (name, shape) = &fields[i];
                    let value = map.next_value_seed(ShapeSeed(shape))?;
                    if out.iter().any(|(k, _)| k == name) {
                        return Err(de::Error::custom(format_args!("duplicate key `{name}`")));
                    }
                    out.push((name, value));
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Node::Object(out))
    }
}

/// Reads an object key, answering which listed field it is, without
/// storing it.
struct KeySeed<'s>(&'s [(&'static str, Shape)]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|(k, _)| *k == v))
    }
}

/// Walks down `path` (object keys), then hands each array item to `each`.
struct PathSeed<'p, 'f, 'a, E> {
    path: &'p [&'static str],
    item: &'p Shape,
    each: &'f mut dyn FnMut(usize, Node<'a>) -> Result<(), E>,
    failure: &'f mut Option<E>,
}

/// The error that stops the JSON reader when the callback refused an item;
/// the callback's own error is kept aside.
const STOPPED: &str = "stopped by the item callback";

impl<'de, E> DeserializeSeed<'de> for PathSeed<'_, '_, 'de, E> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, E> Visitor<'de> for PathSeed<'_, '_, 'de, E> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<X>(self, _: bool) -> Result<(), X> {
        Ok(())
    }
    fn visit_i64<X>(self, _: i64) -> Result<(), X> {
        Ok(())
    }
    fn visit_u64<X>(self, _: u64) -> Result<(), X> {
        Ok(())
    }
    fn visit_f64<X>(self, _: f64) -> Result<(), X> {
        Ok(())
    }
    fn visit_str<X>(self, _: &str) -> Result<(), X> {
        Ok(())
    }
    fn visit_unit<X>(self) -> Result<(), X> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.path.is_empty() {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut i = 0;
        while let Some(node) = seq.next_element_seed(ShapeSeed(self.item))? {
            if let Err(e) = (self.each)(i, node) {
                *self.failure = Some(e);
                return Err(de::Error::custom(STOPPED));
            }
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let wanted = [(*first, Shape::Scalar)];
        let PathSeed {
            item,
            each,
            failure,
            ..
        } = self;
        while let Some(found) = map.next_key_seed(KeySeed(&wanted))? {
            if found.is_some() {
                map.next_value_seed(PathSeed {
                    path: rest,
                    item,
                    each: &mut *each,
                    failure: &mut *failure,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Typed access to an object read under a [`Shape`], remembering where it is
/// in the document.
#[derive(Clone, Copy)]
pub struct Obj<'a> {
    fields: &'a [(&'static str, Node<'a>)],
    path: &'a str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Obj<'a> {
    /// Views `node` as an object located at `path`.
    pub fn new(node: &'a Node<'a>, path: &'a str) -> Result<Self, JsonError> {
        match node {
            Node::Object(fields) => Ok(Obj { fields, path }),
            other => Err(JsonError::Invalid {
                path: if path.is_empty() {
                    "(document)".to_owned()
                } else {
                    path.to_owned()
                },
                reason: format!("must be an object, found {}", other.type_name()),
            }),
        }
    }

    /// JSON path of `key` in this object.
    pub fn path_of(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// The keys present (among those the shape keeps).
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + 'a {
        self.fields.iter().map(|(k, _)| *k)
    }

    /// The value of `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Node<'a>> {
        match self.fields.iter().find(|(k, _)| *k == key) {
            None | Some((_, Node::Null)) => None,
            Some((_, v)) => Some(v),
        }
    }

    /// Whether `key` is present (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| *k == key)
    }

    fn invalid(&self, key: &str, reason: impl Into<String>) -> JsonError {
        JsonError::Invalid {
            path: self.path_of(key),
            reason: reason.into(),
        }
    }

    fn mistyped(&self, key: &str, expected: &str, found: &Node<'_>) -> JsonError {
        self.invalid(
            key,
            format!("must be {expected}, found {}", found.type_name()),
        )
    }

    /// A required value.
    pub fn req(&self, key: &str) -> Result<&'a Node<'a>, JsonError> {
        self.get(key)
            .ok_or_else(|| JsonError::Missing(self.path_of(key)))
    }

    /// A required string.
    pub fn str(&self, key: &str) -> Result<&'a str, JsonError> {
        match self.req(key)? {
            Node::Str(s) => Ok(s),
            other => Err(self.mistyped(key, "a string", other)),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, JsonError> {
        match self.get(key) {
            None => Ok(None),
            Some(Node::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.mistyped(key, "a string", other)),
        }
    }

    /// A required boolean.
    pub fn bool(&self, key: &str) -> Result<bool, JsonError> {
        match self.req(key)? {
            Node::Bool(b) => Ok(*b),
            other => Err(self.mistyped(key, "a boolean", other)),
        }
    }

    /// A required array.
    pub fn array(&self, key: &str) -> Result<&'a Array<'a>, JsonError> {
        match self.req(key)? {
            Node::Array(a) => Ok(a),
            other => Err(self.mistyped(key, "an array", other)),
        }
    }

    /// An optional array (absent or null gives `None`).
    pub fn opt_array(&self, key: &str) -> Result<Option<&'a Array<'a>>, JsonError> {
        match self.get(key) {
            None => Ok(None),
            Some(Node::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.mistyped(key, "an array", other)),
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
            Node::Number(n) => {
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
    fn nesting_at_the_limit_is_read_one_level_more_is_refused() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        parse_strict(nested(MAX_DEPTH).as_bytes(), 1 << 10).expect("depth at the limit");
        let e = parse_strict(nested(MAX_DEPTH + 1).as_bytes(), 1 << 10).expect_err("too deep");
        assert!(
            matches!(&e, JsonError::Syntax(m) if m.contains(&format!("deeper than {MAX_DEPTH} levels"))),
            "{e}"
        );
        let objects = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        parse_strict(objects(MAX_DEPTH).as_bytes(), 1 << 10).expect("objects at the limit");
        assert!(parse_strict(objects(MAX_DEPTH + 1).as_bytes(), 1 << 10).is_err());
    }

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
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "missing"];
        let shape = Shape::object(keys.map(|k| (k, Shape::Scalar)));
        let v = parse_shaped(
            br#"{"a":5,"b":1000000000.0,"c":0,"d":-3,"e":1.5,"f":"7","g":0.0,"h":1e300}"#,
            1000,
            MAX_ESCAPED_STRING,
            &shape,
        )
        .expect("json");
        let o = Obj::new(&v, "").expect("obj");
        assert_eq!(o.positive_int("a"), Ok(5));
        assert_eq!(o.positive_int("b"), Ok(1_000_000_000));
        for k in ["c", "d", "e", "f", "g", "h", "missing"] {
            assert!(o.positive_int(k).is_err(), "{k}");
        }
    }

    fn shape() -> Shape {
        Shape::object([
            ("a", Shape::Scalar),
            (
                "list",
                Shape::array(2, Shape::object([("x", Shape::Scalar)])),
            ),
            ("obj", Shape::object([("y", Shape::Scalar)])),
        ])
    }

    fn read(text: &str) -> Result<Node<'_>, JsonError> {
        parse_shaped(text.as_bytes(), 1 << 20, MAX_ESCAPED_STRING, &shape())
    }

    fn field<'n>(node: &'n Node<'n>, key: &str) -> Option<&'n Node<'n>> {
        Obj::new(node, "").expect("object").get(key)
    }

    #[test]
    fn unknown_fields_are_skipped_and_not_kept() {
        let zeros = vec!["0"; 10_000].join(",");
        let text = format!(r#"{{"huge":[{zeros}],"a":"kept","x":{{"deep":[[[1]]]}},"a2":"b"}}"#);
        let node = read(&text).expect("reads");
        assert_eq!(node, Node::Object(vec![("a", Node::Str("kept".into()))]));
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let node = read(r#"{"a":"plain","obj":{"y":"with \"quote\""}}"#).expect("reads");
        assert!(matches!(
            field(&node, "a"),
            Some(Node::Str(Cow::Borrowed("plain")))
        ));
        let obj = field(&node, "obj").expect("obj");
        assert!(matches!(field(obj, "y"), Some(Node::Str(Cow::Owned(s))) if s == "with \"quote\""));
    }

    #[test]
    fn arrays_keep_their_bound_and_count_the_rest() {
        let node = read(r#"{"list":[{"x":1},{"x":2},{"x":3},{"x":4}]}"#).expect("reads");
        let Some(Node::Array(a)) = field(&node, "list") else {
            panic!("array")
        };
        assert_eq!((a.items.len(), a.len), (2, 4));
        let e = node
            .check_bounds("", &|_| usize::MAX, &|_| false)
            .expect_err("truncated");
        assert!(
            e.to_string().contains("`list` has 4 items; at most 2"),
            "{e}"
        );
        node.check_bounds("", &|_| usize::MAX, &|p| p == "list")
            .expect("counted by the caller");
    }

    #[test]
    fn containers_where_a_scalar_is_expected_keep_only_their_kind() {
        let node = read(r#"{"a":[1,2,3],"obj":{"y":{"z":1}}}"#).expect("reads");
        assert_eq!(
            field(&node, "a"),
            Some(&Node::Array(Array {
                items: Vec::new(),
                len: 3
            }))
        );
        let o = Obj::new(&node, "").expect("object");
        let e = o.str("a").expect_err("not a string");
        assert_eq!(e.to_string(), "field `a` must be a string, found an array");
    }

    #[test]
    fn duplicate_known_keys_are_refused_unknown_ones_ignored() {
        let e = read(r#"{"a":1,"a":2}"#).expect_err("duplicate");
        assert!(e.to_string().contains("duplicate key `a`"), "{e}");
        assert!(read(r#"{"obj":{"y":1,"y":1}}"#).is_err());
        assert!(read(r#"{"list":[{"x":1,"x":1}]}"#).is_err());
        // Never read, never used, never handed on.
        assert!(read(r#"{"z":1,"z":2}"#).is_ok());
    }

    #[test]
    fn text_checks_refuse_depth_size_and_long_escaped_strings() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = check_text(deep.as_bytes(), 1000, 10).expect_err("too deep");
        assert!(
            e.to_string().contains("nesting deeper than 32 levels"),
            "{e}"
        );
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        check_text(ok.as_bytes(), 1000, 10).expect("at the limit");
        // Brackets inside strings are text.
        let quoted = format!(r#"["{}"]"#, "[".repeat(100));
        check_text(quoted.as_bytes(), 1000, 10).expect("brackets in a string");
        assert!(matches!(
            check_text(b"[1]", 2, 10),
            Err(JsonError::TooLarge { size: 3, limit: 2 })
        ));
        // 10 bytes between the quotes: at the limit; one more is refused.
        check_text(br#"["abc\"defgh"]"#, 100, 10).expect("at the limit");
        let e = check_text(br#"["abc\"defghi"]"#, 100, 10).expect_err("escaped and long");
        assert!(e.to_string().contains("escape sequences"), "{e}");
        check_text(format!(r#"["{}"]"#, "a".repeat(1000)).as_bytes(), 2000, 10)
            .expect("a long string without escapes");
        // An escaped quote does not end the string.
        let e = check_text(
            br#"["\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"",1]"#,
            1000,
            1000,
        );
        assert!(e.is_ok(), "{e:?}");
    }

    #[test]
    fn shaped_reads_refuse_what_json_refuses() {
        for bad in [
            "",
            "{",
            r#"{"a":1} {}"#,
            r#"{"a":}"#,
            "[1,]",
            r#"{"a":1,}"#,
            "nul",
        ] {
            assert!(read(bad).is_err(), "{bad:?}");
        }
        let deep = format!(
            "{{\"x\":{}{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(read(&deep).is_err(), "depth counts inside skipped fields");
    }

    #[test]
    fn items_are_handed_over_one_at_a_time_in_order() {
        let text =
            r#"{"skip":[1,2],"outer":{"other":{"items":[]},"items":[{"x":1},{"x":2},{"x":3}]}}"#;
        let item = Shape::object([("x", Shape::Scalar)]);
        let mut seen = Vec::new();
        for_each_item::<()>(
            text.as_bytes(),
            &["outer", "items"],
            &item,
            &mut |i, node| {
                seen.push((i, node.to_value()));
                Ok(())
            },
        )
        .expect("reads");
        assert_eq!(
            seen,
            [
                (0, serde_json::json!({"x": 1})),
                (1, serde_json::json!({"x": 2})),
                (2, serde_json::json!({"x": 3}))
            ]
        );
    }

    #[test]
    fn an_item_refused_stops_the_read_with_its_own_error() {
        let text = r#"{"items":[1,2,3,4]}"#;
        let mut calls = 0;
        let result = for_each_item(text.as_bytes(), &["items"], &Shape::Scalar, &mut |i, _| {
            calls += 1;
            if i == 1 {
                Err("second")
            } else {
                Ok(())
            }
        });
        assert!(matches!(result, Err(ItemError::Item("second"))));
        assert_eq!(calls, 2);
        let broken = for_each_item::<()>(
            br#"{"items":[1,"#,
            &["items"],
            &Shape::Scalar,
            &mut |_, _| Ok(()),
        );
        assert!(matches!(broken, Err(ItemError::Json(JsonError::Syntax(_)))));
        let mut none = 0;
        for_each_item::<()>(
            br#"{"other":[1]}"#,
            &["items"],
            &Shape::Scalar,
            &mut |_, _| {
                none += 1;
                Ok(())
            },
        )
        .expect("reads");
        assert_eq!(none, 0, "no array at the path");
    }

    #[test]
    fn long_strings_are_named_by_path() {
        let node = read(r#"{"list":[{"x":"abcdef"}]}"#).expect("reads");
        let e = node
            .check_bounds("", &|p| if p == "list[0].x" { 5 } else { 100 }, &|_| false)
            .expect_err("too long");
        assert_eq!(
            e.to_string(),
            "field `list[0].x` is 6 bytes long; at most 5 are accepted"
        );
    }
}
