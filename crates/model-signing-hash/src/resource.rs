use std::fmt;

/// Identifies one resource of a manifest: a file, or a `[start, end)` shard of it.
///
/// Ordering is the signing order of the reference implementation: by the tuple
/// of path components (each compared by Unicode code point), then by shard
/// start and end numerically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    /// Components relative to the model root; empty for a single-file model.
    pub path: Vec<String>,
    /// The byte range of a shard; `None` for a whole file.
    pub range: Option<(u64, u64)>,
}

impl ResourceKey {
    /// The path part of the name: `/`-joined components, or `.` for a
    /// single-file model.
    pub fn path_name(&self) -> String {
        if self.path.is_empty() {
            ".".to_owned()
        } else {
            self.path.join("/")
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path_name())?;
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
        ResourceKey {
            path: p.split('/').map(str::to_owned).collect(),
            range,
        }
    }

    #[test]
    fn names() {
        assert_eq!(key("a/b", None).to_string(), "a/b");
        assert_eq!(key("a:b", Some((4, 8))).to_string(), "a:b:4:8");
        let single = ResourceKey {
            path: vec![],
            range: Some((0, 6)),
        };
        assert_eq!(single.to_string(), ".:0:6");
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
}
