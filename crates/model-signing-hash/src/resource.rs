//! Resource names: the one rule for what a path inside a model may be, and
//! the compact key that names a file or a shard of it.

use std::cmp::Ordering;
use std::fmt;

use crate::config::RelPath;

/// Why a path cannot name a file inside a model.
///
/// The rule is the one a POSIX directory entry obeys, and nothing more: a
/// component is any non-empty text other than `.` and `..`, without `/` or
/// NUL. A backslash, a colon, spaces, a leading dash or `...` are ordinary
/// characters, as they are for the reference implementation; names are
/// compared exactly and never interpreted. The walk applies this rule to
/// every name it signs ([`check_component`]) and verification to every
/// name it reads ([`check_path`]), so whatever is signed verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The whole path is empty.
    #[error("it is empty")]
    Empty,
    /// The path starts with `/`.
    #[error("it is an absolute path")]
    Absolute,
    /// Two `/` in a row, or a `/` at the end.
    #[error("it has an empty path component")]
    EmptyComponent,
    /// A `.` component.
    #[error("it has a `.` component")]
    Dot,
    /// A `..` component.
    #[error("it has a `..` component")]
    DotDot,
    /// A NUL character.
    #[error("it contains a NUL byte")]
    Nul,
    /// A single component that contains `/`.
    #[error("a path component contains `/`")]
    Slash,
}

impl NameError {
    /// The reason as a static phrase (`it has a `..` component`).
    pub fn reason(self) -> &'static str {
        match self {
            NameError::Empty => "it is empty",
            NameError::Absolute => "it is an absolute path",
            NameError::EmptyComponent => "it has an empty path component",
            NameError::Dot => "it has a `.` component",
            NameError::DotDot => "it has a `..` component",
            NameError::Nul => "it contains a NUL byte",
            NameError::Slash => "a path component contains `/`",
        }
    }
}

/// Checks one path component (a file or directory name) against the name
/// rule of [`NameError`].
pub fn check_component(component: &str) -> Result<(), NameError> {
    match component {
        "" => Err(NameError::EmptyComponent),
        "." => Err(NameError::Dot),
        ".." => Err(NameError::DotDot),
        c if c.contains('/') => Err(NameError::Slash),
        c if c.contains('\0') => Err(NameError::Nul),
        _ => Ok(()),
    }
}

/// Checks a `/`-separated path relative to the model root: not empty, not
/// absolute, and every component valid under [`check_component`].
pub fn check_path(path: &str) -> Result<(), NameError> {
    if path.is_empty() {
        return Err(NameError::Empty);
    }
    if path.starts_with('/') {
        return Err(NameError::Absolute);
    }
    path.split('/').try_for_each(check_component)
}

/// Identifies one resource of a manifest: a file, or a `[start, end)` shard of it.
///
/// The path is kept as one `/`-joined string (empty for a single-file model),
/// so a key costs its name's length plus 40 bytes however many components the
/// name has.
///
/// Ordering is the signing order of the reference implementation: by the tuple
/// of path components (each compared by Unicode code point), then by shard
/// start and end numerically.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceKey {
    /// `/`-joined components, every one valid under [`check_component`];
    /// empty for a single-file model.
    path: Box<str>,
    /// The byte range of a shard; `None` for a whole file.
    pub range: Option<(u64, u64)>,
}

impl ResourceKey {
    /// The key of a single-file model (named `.`).
    pub fn single_file(range: Option<(u64, u64)>) -> Self {
        ResourceKey {
            path: Box::default(),
            range,
        }
    }

    /// A key from a `/`-separated path relative to the model root, or `.`
    /// for a single-file model. The path must pass [`check_path`].
    pub fn from_path(path: &str, range: Option<(u64, u64)>) -> Result<Self, NameError> {
        if path == "." {
            return Ok(ResourceKey::single_file(range));
        }
        check_path(path)?;
        Ok(ResourceKey {
            path: path.into(),
            range,
        })
    }

    /// A key from path components, each of which must pass
    /// [`check_component`]; no components is a single-file model.
    pub fn from_components<I, S>(
        components: I,
        range: Option<(u64, u64)>,
    ) -> Result<Self, NameError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut path = String::new();
        for (i, c) in components.into_iter().enumerate() {
            let c = c.as_ref();
            check_component(c)?;
            if i > 0 {
                path.push('/');
            }
            path.push_str(c);
        }
        Ok(ResourceKey {
            path: path.into_boxed_str(),
            range,
        })
    }

    /// A key from the components of a walked file: directory entries, which
    /// the walk has already checked with [`check_component`].
    pub(crate) fn from_walked(components: &[String], range: Option<(u64, u64)>) -> Self {
        debug_assert!(components.iter().all(|c| check_component(c).is_ok()));
        ResourceKey {
            path: components.join("/").into_boxed_str(),
            range,
        }
    }

    /// Whether this is the key of a single-file model (named `.`).
    pub fn is_single_file(&self) -> bool {
        self.path.is_empty()
    }

    /// The `/`-joined path; empty for a single-file model.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path part of the name: `/`-joined components, or `.` for a
    /// single-file model.
    pub fn path_name(&self) -> &str {
        if self.path.is_empty() {
            "."
        } else {
            &self.path
        }
    }

    /// The path components, in order; none for a single-file model.
    pub fn components(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        (!self.path.is_empty())
            .then(|| self.path.split('/'))
            .into_iter()
            .flatten()
    }

    /// Whether `prefix` names this file or a directory above it (whole
    /// components: `d` covers `d/x`, not `d2`).
    pub fn is_under(&self, prefix: &RelPath) -> bool {
        prefix.is_prefix_of(&self.path)
    }

    /// The same resource renamed as the single file of a model (`.`).
    pub fn into_single_file(self) -> Self {
        ResourceKey::single_file(self.range)
    }
}

/// Compares two `/`-joined paths as tuples of components, each by Unicode
/// code point. UTF-8 byte order is code point order, and mapping `/` below
/// every other byte (no component holds NUL) makes the end of a component
/// sort before any continuation of it, which is exactly tuple order.
fn cmp_paths(a: &str, b: &str) -> Ordering {
    let rank = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.iter().zip(b).position(|(x, y)| x != y);
    match common {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

impl Ord for ResourceKey {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_paths(&self.path, &other.path).then_with(|| self.range.cmp(&other.range))
    }
}

impl PartialOrd for ResourceKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path_name())?;
        if let Some((start, end)) = self.range {
            write!(f, ":{start}:{end}")?;
        }
        Ok(())
    }
}

/// A resource and the digest of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDigest {
    /// Which file or shard.
    pub key: ResourceKey,
    /// The raw digest bytes.
    pub digest: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &str, range: Option<(u64, u64)>) -> ResourceKey {
        ResourceKey::from_path(p, range).expect("valid")
    }

    #[test]
    fn names() {
        assert_eq!(key("a/b", None).to_string(), "a/b");
        assert_eq!(key("a:b", Some((4, 8))).to_string(), "a:b:4:8");
        let single = ResourceKey::single_file(Some((0, 6)));
        assert_eq!(single.to_string(), ".:0:6");
        assert_eq!(key(".", None), ResourceKey::single_file(None));
        assert!(single.is_single_file());
        assert_eq!(single.path(), "");
        assert_eq!(single.components().count(), 0);
    }

    #[test]
    fn components_round_trip() {
        let k = ResourceKey::from_components(["a", "b c", "d\\e"], None).expect("valid");
        assert_eq!(k.path(), "a/b c/d\\e");
        assert_eq!(k.components().collect::<Vec<_>>(), ["a", "b c", "d\\e"]);
        assert_eq!(k, key("a/b c/d\\e", None));
        let none: [&str; 0] = [];
        assert_eq!(
            ResourceKey::from_components(none, None).expect("valid"),
            ResourceKey::single_file(None)
        );
    }

    #[test]
    fn ordering_is_by_components_then_offsets() {
        let mut keys = [
            key("a.b/c", None),
            key("a-b", None),
            key("a/b", None),
            key("A", None),
        ];
        keys.sort();
        let names: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["A", "a/b", "a-b", "a.b/c"]);
        let mut shards = [key("a", Some((12, 16))), key("a", Some((4, 8)))];
        shards.sort();
        assert_eq!(shards[0].range, Some((4, 8)));
    }

    /// The joined-string comparison agrees with comparing component tuples,
    /// on names built from the characters that make the difference: `/`,
    /// bytes just below and above it, a multi-byte character, and ends of
    /// names at every point.
    #[test]
    fn ordering_matches_component_tuple_order() {
        let alphabet = ["a", "!", "-", ".", "0", "\u{1}", "é", "\u{10FFFF}", "ab"];
        let mut names: Vec<String> = Vec::new();
        for x in alphabet {
            names.push(x.to_owned());
            for y in alphabet {
                names.push(format!("{x}{y}"));
                names.push(format!("{x}/{y}"));
                for z in ["a", "-", "é"] {
                    names.push(format!("{x}/{y}/{z}"));
                    names.push(format!("{x}{y}/{z}"));
                    names.push(format!("{x}/{y}{z}"));
                }
            }
        }
        names.retain(|n| check_path(n).is_ok());
        let keys: Vec<ResourceKey> = names.iter().map(|n| key(n, None)).collect();
        for a in &keys {
            for b in &keys {
                let tuples = a.components().cmp(b.components());
                assert_eq!(a.cmp(b), tuples, "{a} vs {b}");
            }
        }
        assert!(ResourceKey::single_file(None) < key("\u{1}", None));
    }

    #[test]
    fn offsets_compare_numerically_not_as_text() {
        assert!(key("a", Some((4, 8))) < key("a", Some((12, 16))));
        assert!(key("a", Some((0, 4))) < key("a", Some((0, 5))));
        assert!(key("a", None) < key("a", Some((0, 1))));
        assert!(key("a", Some((u64::MAX - 1, u64::MAX))) < key("a/b", Some((0, 1))));
    }

    #[test]
    fn under_is_by_whole_components() {
        let d = RelPath::parse("d").expect("valid");
        let dx = RelPath::parse("d/x").expect("valid");
        assert!(key("d", None).is_under(&d));
        assert!(key("d/x", None).is_under(&d));
        assert!(key("d/x/y", None).is_under(&dx));
        assert!(!key("d2", None).is_under(&d));
        assert!(!key("x/d", None).is_under(&d));
        assert!(!key("d", None).is_under(&dx));
        assert!(!ResourceKey::single_file(None).is_under(&d));
    }

    #[test]
    fn unusual_legal_names_are_accepted() {
        for ok in [
            "back\\slash.bin",
            "a:1:2",
            "with space",
            " lead",
            "-dash",
            "...",
            "..a",
            ".hidden",
            "ünï/cödé",
            "日本/語",
            "tab\there",
            "new\nline",
            "C:\\x",
        ] {
            assert_eq!(check_path(ok), Ok(()), "{ok:?}");
            assert_eq!(key(ok, None).path(), ok);
        }
    }

    #[test]
    fn invalid_paths_are_refused_with_their_reason() {
        for (bad, why) in [
            ("", NameError::Empty),
            ("/etc/passwd", NameError::Absolute),
            ("/", NameError::Absolute),
            ("a//b", NameError::EmptyComponent),
            ("a/", NameError::EmptyComponent),
            ("./a", NameError::Dot),
            ("a/.", NameError::Dot),
            ("..", NameError::DotDot),
            ("a/../b", NameError::DotDot),
            ("a\0", NameError::Nul),
        ] {
            assert_eq!(check_path(bad), Err(why), "{bad:?}");
            assert_eq!(ResourceKey::from_path(bad, None), Err(why), "{bad:?}");
        }
        for (bad, why) in [
            ("", NameError::EmptyComponent),
            (".", NameError::Dot),
            ("..", NameError::DotDot),
            ("a/b", NameError::Slash),
            ("a\0b", NameError::Nul),
        ] {
            assert_eq!(check_component(bad), Err(why), "{bad:?}");
            assert_eq!(ResourceKey::from_components([bad], None), Err(why));
        }
    }
}
