//! A set of paths that a walk descends through: from the node of a
//! directory, one lookup tells whether an entry of it is one of the paths,
//! or a directory above one.
//!
//! The paths are kept in one sorted list of borrowed strings, in the order
//! of their components, so that the paths below any directory form one run
//! of the list. A node is such a run; a lookup is two binary searches within
//! it. Memory is one pointer and length per path, whatever the number of
//! components in a path: a signed name of millions of components costs no
//! more than a short one.

use std::cmp::Ordering;

/// A node of a [`PathTree`]: the model root, a path of the set, or a
/// directory above one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeId {
    /// The run of the sorted paths that lie strictly below this node.
    lo: usize,
    hi: usize,
    /// Bytes of the node's path plus its separator, which every path in the
    /// run starts with (0 at the root).
    prefix: usize,
    member: bool,
}

/// Paths given as `/`-joined strings, borrowed from their owner.
#[derive(Debug)]
pub(crate) struct PathTree<'a> {
    /// Sorted by components (see [`by_components`]), without duplicates.
    paths: Vec<&'a str>,
}

/// The order of paths compared component by component: the byte order with
/// the separator below every other byte, so that `a/b` < `a/b/c` < `a/b0`
/// < `a/bc`. Every path below a directory then lies between the directory
/// and its next sibling.
fn by_components(a: &str, b: &str) -> Ordering {
    let key = |c: u8| if c == b'/' { 0u16 } else { u16::from(c) + 1 };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => key(a[i]).cmp(&key(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

/// The first component of `path` after its first `prefix` bytes.
fn component(path: &str, prefix: usize) -> &str {
    let rest = path.get(prefix..).unwrap_or_default();
    rest.split('/').next().unwrap_or(rest)
}

impl<'a> PathTree<'a> {
    /// The set of `paths`, each `/`-joined; the empty string is the model
    /// root itself (a single-file model).
    pub(crate) fn new(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut paths: Vec<&'a str> = paths.into_iter().collect();
        paths.sort_unstable_by(|a, b| by_components(a, b));
        paths.dedup();
        PathTree { paths }
    }

    /// The node of the empty path: the model root.
    pub(crate) fn root(&self) -> NodeId {
        // The empty path sorts first; everything else lies below the root.
        let member = self.paths.first().is_some_and(|p| p.is_empty());
        NodeId {
            lo: usize::from(member),
            hi: self.paths.len(),
            prefix: 0,
            member,
        }
    }

    /// The node of `name` in the directory of `node`, if some path of the
    /// set is or goes through it.
    pub(crate) fn child(&self, node: NodeId, name: &str) -> Option<NodeId> {
        let run = &self.paths[node.lo..node.hi];
        // Within a run, the first components after the prefix are sorted.
        let prefix = node.prefix;
        let start = run.partition_point(|p| component(p, prefix) < name);
        let end = start + run[start..].partition_point(|p| component(p, prefix) == name);
        if start == end {
            return None;
        }
        // The path that is `name` itself, if any, sorts first of its run.
        let own = node.prefix + name.len();
        let member = run[start].len() == own;
        Some(NodeId {
            lo: node.lo + start + usize::from(member),
            hi: node.lo + end,
            prefix: own + 1,
            member,
        })
    }

    /// Whether the path of `node` is in the set.
    pub(crate) fn is_member(&self, node: NodeId) -> bool {
        node.member
    }

    /// Whether some path of the set lies below the path of `node`.
    pub(crate) fn is_inner(&self, node: NodeId) -> bool {
        node.lo < node.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_directories_above_them() {
        let t = PathTree::new(["a/b/c", "a/d", "e"]);
        let root = t.root();
        let a = t.child(root, "a").expect("a");
        assert!(!t.is_member(a) && t.is_inner(a));
        let b = t.child(a, "b").expect("a/b");
        let c = t.child(b, "c").expect("a/b/c");
        assert!(t.is_member(c) && !t.is_inner(c));
        let d = t.child(a, "d").expect("a/d");
        assert!(t.is_member(d));
        assert!(t.child(a, "c").is_none());
        assert!(t.child(root, "b").is_none());
        let e = t.child(root, "e").expect("e");
        assert!(t.is_member(e) && !t.is_inner(e));
        assert!(!t.is_member(root) && t.is_inner(root));
    }

    #[test]
    fn a_path_and_one_below_it() {
        let t = PathTree::new(["a", "a/b"]);
        let a = t.child(t.root(), "a").expect("a");
        assert!(t.is_member(a) && t.is_inner(a));
        let b = t.child(a, "b").expect("a/b");
        assert!(t.is_member(b) && !t.is_inner(b));
    }

    #[test]
    fn the_empty_path_is_the_root() {
        let t = PathTree::new([""]);
        assert!(t.is_member(t.root()));
        assert!(!t.is_inner(t.root()));
    }

    #[test]
    fn an_empty_set_has_an_empty_root() {
        let t = PathTree::new([]);
        assert!(!t.is_member(t.root()) && !t.is_inner(t.root()));
        assert!(t.child(t.root(), "a").is_none());
    }

    #[test]
    fn names_that_share_a_prefix_stay_apart() {
        // `a` < `a.b` < `a0` < `a/...` in plain byte order, but the paths
        // below `a` must still form one run.
        let t = PathTree::new(["a.b", "a/x", "a0", "a/y/z", "a", "ab/c"]);
        let root = t.root();
        let a = t.child(root, "a").expect("a");
        assert!(t.is_member(a) && t.is_inner(a));
        assert!(t.is_member(t.child(a, "x").expect("a/x")));
        let y = t.child(a, "y").expect("a/y");
        assert!(!t.is_member(y) && t.is_inner(y));
        assert!(t.is_member(t.child(y, "z").expect("a/y/z")));
        assert!(t.child(a, "b").is_none());
        let ab = t.child(root, "a.b").expect("a.b");
        assert!(t.is_member(ab) && !t.is_inner(ab));
        assert!(t.is_member(t.child(root, "a0").expect("a0")));
        let abc = t.child(root, "ab").expect("ab");
        assert!(!t.is_member(abc) && t.is_inner(abc));
        assert!(t.child(root, "b").is_none());
    }

    #[test]
    fn duplicates_count_once() {
        let t = PathTree::new(["a/b", "a/b", "a"]);
        let a = t.child(t.root(), "a").expect("a");
        assert!(t.is_member(a) && t.is_inner(a));
        let b = t.child(a, "b").expect("a/b");
        assert!(t.is_member(b) && !t.is_inner(b));
    }

    #[test]
    fn every_prefix_of_every_path_is_found_and_nothing_else() {
        // Generated paths over a small alphabet, so that names share
        // prefixes of every kind; each is checked against a plain set.
        let alphabet = ["a", "b", "a.", "ab", "a-"];
        let mut paths = Vec::new();
        let mut seed = 7u32;
        for _ in 0..300 {
            let mut parts = Vec::new();
            for _ in 0..=(seed % 4) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                parts.push(alphabet[(seed >> 16) as usize % alphabet.len()]);
            }
            paths.push(parts.join("/"));
        }
        let t = PathTree::new(paths.iter().map(String::as_str));
        let set: std::collections::HashSet<&str> = paths.iter().map(String::as_str).collect();
        let inner = |p: &str| set.iter().any(|s| s.starts_with(&format!("{p}/")));
        // Walk every candidate path of up to four components.
        let mut frontier = vec![(String::new(), t.root())];
        while let Some((path, node)) = frontier.pop() {
            for name in alphabet {
                let child = if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}/{name}")
                };
                let expected = set.contains(child.as_str()) || inner(&child);
                match t.child(node, name) {
                    Some(n) => {
                        assert!(expected, "{child} found");
                        assert_eq!(t.is_member(n), set.contains(child.as_str()), "{child}");
                        assert_eq!(t.is_inner(n), inner(&child), "{child}");
                        frontier.push((child, n));
                    }
                    None => assert!(!expected, "{child} missing"),
                }
            }
        }
    }
}
