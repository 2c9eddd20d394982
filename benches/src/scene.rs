//! The groups the benchmarks run in, built once per implementation, shape and size, and
//! checked before anything is measured.
//!
//! ```text
//! full   (every parent node set)   member-0 creates; member-1 .. member-(n-1) join one
//!        after another by external commit (each fills its whole direct path), the
//!        previous joiner processes each join. committer = leaf n-1, receiver = leaf n-2.
//! sparse (all added in one commit) member-0 creates and adds member-1 .. member-(n-1) in
//!        one commit without an UpdatePath; member-1 joins from the Welcome: no parent
//!        node is set. committer = leaf 0, receiver = leaf 1.
//! ```
//!
//! Building a full tree costs O(n^2) signature checks (each joiner checks every leaf):
//! about a minute per implementation at 1,024 members on two cores.

use concord_reference::codec::Codec;
use concord_reference::messages::{Node, RatchetTree};

use crate::engine::{BenchResult, Engine};

/// The shape of the ratchet tree a benchmark runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Full,
    Sparse,
}

impl Shape {
    pub const ALL: [Shape; 2] = [Shape::Full, Shape::Sparse];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Full => "full",
            Shape::Sparse => "sparse",
        }
    }
}

/// Two members of one group of `size`, in the same epoch.
pub struct Scene<E: Engine> {
    pub shape: Shape,
    pub size: usize,
    pub committer: E::Member,
    pub receiver: E::Member,
}

impl<E: Engine> std::fmt::Debug for Scene<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scene")
            .field("shape", &self.shape)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

fn identity(i: usize) -> Vec<u8> {
    format!("member-{i}").into_bytes()
}

/// Parent nodes set, parent nodes in all, and unmerged leaves, of an encoded ratchet tree.
pub fn tree_census(encoded: &[u8]) -> BenchResult<(usize, usize, usize)> {
    let tree = RatchetTree::from_bytes(encoded)?;
    let mut set = 0;
    let mut parents = 0;
    let mut unmerged = 0;
    for (index, node) in tree.0.iter().enumerate() {
        if index % 2 == 1 {
            parents += 1;
            if let Some(Node::Parent(parent)) = node {
                set += 1;
                unmerged += parent.unmerged_leaves.len();
            }
        }
    }
    Ok((set, parents, unmerged))
}

impl<E: Engine> Scene<E> {
    /// Builds and checks the group; `size` is at least 2.
    pub fn build(engine: &mut E, shape: Shape, size: usize) -> BenchResult<Scene<E>> {
        if size < 2 {
            return Err(format!("a group of {size}: the benchmarks need two members").into());
        }
        let scene = match shape {
            Shape::Full => Self::full(engine, size)?,
            Shape::Sparse => Self::sparse(engine, size)?,
        };
        scene.check(engine)?;
        Ok(scene)
    }

    fn full(engine: &mut E, size: usize) -> BenchResult<Scene<E>> {
        let mut head = engine.create_group(&identity(0))?;
        let mut previous = None;
        for i in 1..size {
            let info = engine.group_info(&head)?;
            let (joined, commit) = engine.external_join(&info, &identity(i))?;
            engine.process_commit(&mut head, &commit)?;
            previous = Some(head);
            head = joined;
        }
        Ok(Scene {
            shape: Shape::Full,
            size,
            committer: head,
            receiver: previous.ok_or("no second member")?,
        })
    }

    fn sparse(engine: &mut E, size: usize) -> BenchResult<Scene<E>> {
        let mut committer = engine.create_group(&identity(0))?;
        let mut key_packages = Vec::with_capacity(size - 1);
        let mut first = None;
        for i in 1..size {
            let (key_package, joiner) = engine.key_package(&identity(i))?;
            key_packages.push(key_package);
            if first.is_none() {
                first = Some(joiner);
            }
        }
        let (_, welcome) = engine.commit_add(&mut committer, &key_packages)?;
        engine.merge_pending(&mut committer)?;
        let receiver = engine.join(first.ok_or("no second member")?, &welcome)?;
        Ok(Scene {
            shape: Shape::Sparse,
            size,
            committer,
            receiver,
        })
    }

    /// The leaves, the agreement of both members and the shape of the tree.
    fn check(&self, engine: &E) -> BenchResult<()> {
        let name = engine.name();
        let (committer, receiver) = match self.shape {
            Shape::Full => (self.size - 1, self.size - 2),
            Shape::Sparse => (0, 1),
        };
        let leaves = (
            engine.leaf_index(&self.committer) as usize,
            engine.leaf_index(&self.receiver) as usize,
        );
        if leaves != (committer, receiver) {
            return Err(format!(
                "{name}: committer and receiver at leaves {leaves:?}, expected ({committer}, {receiver})"
            )
            .into());
        }
        if engine.epoch_authenticator(&self.committer)?
            != engine.epoch_authenticator(&self.receiver)?
        {
            return Err(format!("{name}: committer and receiver disagree").into());
        }
        let (set, parents, unmerged) = tree_census(&engine.ratchet_tree(&self.committer)?)?;
        let expected = match self.shape {
            Shape::Full => set == parents && unmerged == 0 && parents == self.size - 1,
            Shape::Sparse => set == 0,
        };
        if !expected {
            return Err(format!(
                "{name}: a {} tree of {} members has {set} of {parents} parent nodes set, {unmerged} unmerged leaves",
                self.shape.name(),
                self.size
            )
            .into());
        }
        Ok(())
    }
}
