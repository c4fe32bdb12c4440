//! A set of paths kept as a tree of components, so that a walk tells whether
//! a directory entry is one of the paths, or a directory above one, with a
//! single lookup from the node of its directory: the cost of a walk does not
//! grow with the number or the depth of the paths.

use std::collections::HashMap;

/// A node of a [`PathTree`]: the model root, a path of the set, or a
/// directory above one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeId(usize);

/// Paths given as `/`-joined strings, borrowed from their owner. All edges
/// live in one map keyed by (parent node, component), about 40 bytes per
/// distinct component.
#[derive(Debug)]
pub(crate) struct PathTree<'a> {
    edges: HashMap<(usize, &'a str), usize>,
    /// Per node: whether its path is in the set.
    member: Vec<bool>,
    /// Per node: whether some path of the set lies below it.
    inner: Vec<bool>,
}

impl<'a> PathTree<'a> {
    /// The node of the empty path: the model root.
    pub(crate) const ROOT: NodeId = NodeId(0);

    /// The set of `paths`, each `/`-joined; the empty string is the model
    /// root itself (a single-file model).
    pub(crate) fn new(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tree = PathTree {
            edges: HashMap::new(),
            member: vec![false],
            inner: vec![false],
        };
        for path in paths {
            let mut node = 0;
            if !path.is_empty() {
                for c in path.split('/') {
                    tree.inner[node] = true;
                    let next = tree.member.len();
                    node = *tree.edges.entry((node, c)).or_insert(next);
                    if node == next {
                        tree.member.push(false);
                        tree.inner.push(false);
                    }
                }
            }
            tree.member[node] = true;
        }
        tree
    }

    /// The node of `name` in the directory of `node`, if some path of the
    /// set is or goes through it.
    pub(crate) fn child(&self, node: NodeId, name: &str) -> Option<NodeId> {
        // The map's keys borrow for 'a; a lookup needs them for as long as
        // `name` only, which the covariance of the map allows.
        let edges: &HashMap<(usize, &str), usize> = &self.edges;
        edges.get(&(node.0, name)).copied().map(NodeId)
    }

    /// Whether the path of `node` is in the set.
    pub(crate) fn is_member(&self, node: NodeId) -> bool {
        self.member[node.0]
    }

    /// Whether some path of the set lies below the path of `node`.
    pub(crate) fn is_inner(&self, node: NodeId) -> bool {
        self.inner[node.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_directories_above_them() {
        let t = PathTree::new(["a/b/c", "a/d", "e"]);
        let a = t.child(PathTree::ROOT, "a").expect("a");
        assert!(!t.is_member(a) && t.is_inner(a));
        let b = t.child(a, "b").expect("a/b");
        let c = t.child(b, "c").expect("a/b/c");
        assert!(t.is_member(c) && !t.is_inner(c));
        let d = t.child(a, "d").expect("a/d");
        assert!(t.is_member(d));
        assert!(t.child(a, "c").is_none());
        assert!(t.child(PathTree::ROOT, "b").is_none());
        let e = t.child(PathTree::ROOT, "e").expect("e");
        assert!(t.is_member(e) && !t.is_inner(e));
        assert!(!t.is_member(PathTree::ROOT));
    }

    #[test]
    fn a_path_and_one_below_it() {
        let t = PathTree::new(["a", "a/b"]);
        let a = t.child(PathTree::ROOT, "a").expect("a");
        assert!(t.is_member(a) && t.is_inner(a));
    }

    #[test]
    fn the_empty_path_is_the_root() {
        let t = PathTree::new([""]);
        assert!(t.is_member(PathTree::ROOT));
        assert!(!t.is_inner(PathTree::ROOT));
    }
}
