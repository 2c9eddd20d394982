//! The recipes, one module per vector file.

use super::world::World;
use super::{Draft, Expect, Family, GenError, Recipe};
use rand_chacha::ChaCha20Rng;

mod codec;
mod commit;
mod external_commit;
mod group_info;
mod key_package;
mod leaf_node;
mod private_message;
mod proposal_list;
mod public_message;
mod ratchet_tree;
mod welcome;

type Build = fn(&World, &mut ChaCha20Rng) -> Result<Draft, GenError>;

/// A recipe (a `const` table entry).
pub(crate) const fn recipe(
    name: &'static str,
    description: &'static str,
    requirements: &'static [&'static str],
    expect: Expect,
    build: Build,
) -> Recipe {
    Recipe {
        name,
        description,
        requirements,
        expect,
        build,
    }
}

/// Every family, in file-name order.
pub const FAMILIES: &[Family] = &[
    codec::FAMILY,
    commit::FAMILY,
    external_commit::FAMILY,
    group_info::FAMILY,
    key_package::FAMILY,
    leaf_node::FAMILY,
    private_message::FAMILY,
    proposal_list::FAMILY,
    public_message::FAMILY,
    ratchet_tree::FAMILY,
    welcome::FAMILY,
];
