//! RFC 9420 requirements, in section order. The catalog grows with the checks that cite it.

use crate::{Level::*, Requirement};

macro_rules! req {
    ($id:literal, $section:literal, $title:literal, $level:expr, $summary:literal) => {
        Requirement {
            id: $id,
            section: $section,
            title: $title,
            level: $level,
            summary: $summary,
        }
    };
}

pub static RFC9420: &[Requirement] = &[
    req!(
        "RFC9420-2.1.2-1",
        "2.1.2",
        "Variable-Size Vector Length Headers",
        Must,
        "A variable-length integer is encoded in its minimal form; a longer encoding is rejected."
    ),
    req!(
        "RFC9420-2.1.2-2",
        "2.1.2",
        "Variable-Size Vector Length Headers",
        MustNot,
        "The two-bit prefix 0b11 is reserved; a length header using it is invalid."
    ),
    req!(
        "RFC9420-4.1.1-1",
        "4.1.1",
        "Ratchet Tree Nodes",
        Must,
        "The resolution of a node is itself and its unmerged leaves if non-blank, empty for a blank leaf, else the left then right children's resolutions."
    ),
    req!(
        "RFC9420-4.1.2-1",
        "4.1.2",
        "Paths through a Ratchet Tree",
        Must,
        "The filtered direct path omits every direct-path node whose copath child has an empty resolution."
    ),
    req!(
        "RFC9420-4.2-1",
        "4.2",
        "Ratchet Tree Terminology",
        Must,
        "Tree nodes are numbered left to right in a left-balanced binary tree (Appendix C arithmetic)."
    ),
    req!(
        "RFC9420-5.1.2-1",
        "5.1.2",
        "Signing",
        Must,
        "SignWithLabel signs SignContent{\"MLS 1.0 \" + Label, Content}; VerifyWithLabel checks it."
    ),
    req!(
        "RFC9420-5.1.3-1",
        "5.1.3",
        "Public Key Encryption",
        Must,
        "EncryptWithLabel seals with HPKE base mode, info = EncryptContext{\"MLS 1.0 \" + Label, Context}."
    ),
    req!(
        "RFC9420-5.2-1",
        "5.2",
        "Hash-Based Identifiers",
        Must,
        "RefHash(label, value) hashes RefHashInput{label, value}."
    ),
    req!(
        "RFC9420-6.1-1",
        "6.1",
        "Content Authentication",
        Must,
        "A receiver verifies the FramedContentTBS signature with the sender's signature key."
    ),
    req!(
        "RFC9420-6.2-1",
        "6.2",
        "Encoding and Decoding a Public Message",
        Must,
        "A member's PublicMessage carries a membership_tag = MAC(membership_key, AuthenticatedContentTBM) that the receiver verifies."
    ),
    req!(
        "RFC9420-6.3.1-1",
        "6.3.1",
        "Content Encryption",
        Must,
        "PrivateMessage content is encrypted with the sender's ratchet key and the nonce XORed with reuse_guard."
    ),
    req!(
        "RFC9420-6.3.1-2",
        "6.3.1",
        "Content Encryption",
        Must,
        "The padding of a PrivateMessageContent is all zero; a receiver rejects non-zero padding."
    ),
    req!(
        "RFC9420-6.3.2-1",
        "6.3.2",
        "Sender Data Encryption",
        Must,
        "Sender data is encrypted with a key and nonce derived from sender_data_secret and a sample of the ciphertext."
    ),
    req!(
        "RFC9420-6.3.2-2",
        "6.3.2",
        "Sender Data Encryption",
        Must,
        "A receiver verifies that the sender data's leaf_index names a non-blank leaf before using its ratchet."
    ),
    req!(
        "RFC9420-7.3-2",
        "7.3",
        "Leaf Node Validation",
        Must,
        "A leaf of source key_package is accepted only within its lifetime (not_before to not_after)."
    ),
    req!(
        "RFC9420-7.4-1",
        "7.4",
        "Ratchet Tree Evolution",
        Must,
        "path_secret[n] = DeriveSecret(path_secret[n-1], \"path\"); node key pairs are DeriveKeyPair(DeriveSecret(path_secret[n], \"node\"))."
    ),
    req!(
        "RFC9420-7.5-1",
        "7.5",
        "Synchronizing Views of the Tree",
        Must,
        "A recipient merges the UpdatePath (blank the direct path, set filtered-path keys, empty unmerged leaves), decrypts one path secret and checks the derived public keys."
    ),
    req!(
        "RFC9420-7.6-1",
        "7.6",
        "Update Paths",
        Must,
        "Each path secret is encrypted with EncryptWithLabel(\"UpdatePathNode\", provisional GroupContext) to every node of the copath child's resolution, new members excluded."
    ),
    req!(
        "RFC9420-7.7-1",
        "7.7",
        "Adding and Removing Leaves",
        Must,
        "The tree is extended with a new blank root and right subtree, and truncated while the right subtree is all blank."
    ),
    req!(
        "RFC9420-7.8-1",
        "7.8",
        "Tree Hashes",
        Must,
        "The tree hash of a node hashes its TreeHashInput: LeafNodeHashInput (leaf index, optional LeafNode) or ParentNodeHashInput (optional ParentNode, child hashes)."
    ),
    req!(
        "RFC9420-7.9-1",
        "7.9",
        "Parent Hashes",
        Must,
        "The parent hash of P hashes ParentHashInput (P's key, P's parent_hash, the original sibling tree hash without P's unmerged leaves)."
    ),
    req!(
        "RFC9420-7.9.2-1",
        "7.9.2",
        "Verifying Parent Hashes",
        Must,
        "A joiner verifies that each non-blank parent node is parent-hash valid; a Commit's receiver checks the committer leaf's parent_hash."
    ),
    req!(
        "RFC9420-8-1",
        "8",
        "Key Schedule",
        Must,
        "Each epoch's secrets are derived from init_secret, commit_secret, psk_secret and the GroupContext as the key schedule figure shows."
    ),
    req!(
        "RFC9420-8.2-1",
        "8.2",
        "Transcript Hashes",
        Must,
        "The confirmed and interim transcript hashes are chained over each Commit's AuthenticatedContent and confirmation tag."
    ),
    req!(
        "RFC9420-8.4-1",
        "8.4",
        "Pre-Shared Keys",
        Must,
        "psk_secret chains Extract and ExpandWithLabel(\"derived psk\", PSKLabel) over the PSKs in order."
    ),
    req!(
        "RFC9420-8.5-1",
        "8.5",
        "Exporters",
        Must,
        "MLS-Exporter(Label, Context, Length) = ExpandWithLabel(DeriveSecret(exporter_secret, Label), \"exported\", Hash(Context), Length)."
    ),
    req!(
        "RFC9420-9-1",
        "9",
        "Secret Tree",
        Must,
        "Secret tree node secrets derive from their parent with ExpandWithLabel(\"tree\", \"left\"|\"right\")."
    ),
    req!(
        "RFC9420-9.1-1",
        "9.1",
        "Encryption Keys",
        Must,
        "Sender ratchets derive keys, nonces and the next secret with DeriveTreeSecret at each generation."
    ),
    req!(
        "RFC9420-12.1.1-1",
        "12.1.1",
        "Add",
        Must,
        "An Add takes the leftmost blank leaf (else extends the tree) and adds the leaf to the unmerged_leaves of its non-blank ancestors."
    ),
    req!(
        "RFC9420-12.1.2-1",
        "12.1.2",
        "Update",
        Must,
        "An Update replaces the sender's leaf and blanks its direct path."
    ),
    req!(
        "RFC9420-12.1.3-1",
        "12.1.3",
        "Remove",
        Must,
        "A Remove blanks the leaf and its direct path, then truncates the tree."
    ),
    req!(
        "RFC9420-12.2-1",
        "12.2",
        "Proposal List Validation",
        Must,
        "A recipient rejects a commit whose proposal list breaks a rule of section 12.2: the committer's own Update or Remove, several Update/Remove for one leaf, duplicate PSKs or Adds, more than one GroupContextExtensions, ReInit with other proposals, ExternalInit outside an external commit, or a missing path where one is required."
    ),
    req!(
        "RFC9420-12.3-1",
        "12.3",
        "Applying a Proposal List",
        Must,
        "Proposals are applied in order: GroupContextExtensions, then Update, Remove, Add, then PreSharedKey (and ExternalInit for external commits)."
    ),
    req!(
        "RFC9420-12.4.2-1",
        "12.4.2",
        "Processing a Commit",
        Must,
        "A member processing a commit resolves proposal references from the proposals of the current epoch, merges and decrypts the UpdatePath, derives the next epoch's secrets from the provisional GroupContext and verifies the confirmation tag."
    ),
    req!(
        "RFC9420-12.4.3.1-1",
        "12.4.3.1",
        "Joining via Welcome Message",
        Must,
        "A new member decrypts its GroupSecrets with its init key and the GroupInfo with the welcome key and nonce."
    ),
    req!(
        "RFC9420-12.4.3.1-2",
        "12.4.3.1",
        "Joining via Welcome Message",
        Must,
        "A new member verifies the GroupInfo signature with the signer's key."
    ),
    req!(
        "RFC9420-12.4.3.1-3",
        "12.4.3.1",
        "Joining via Welcome Message",
        Must,
        "A new member verifies the GroupInfo confirmation_tag against its derived confirmation key."
    ),
    req!(
        "RFC9420-12.4.3.1-4",
        "12.4.3.1",
        "Joining via Welcome Message",
        Must,
        "A new member verifies the ratchet tree: tree hash, parent hashes, leaf signatures, unmerged leaves and unique encryption keys."
    ),
    req!(
        "RFC9420-12.4.3.1-5",
        "12.4.3.1",
        "Joining via Welcome Message",
        Must,
        "A new member finds its own leaf (the KeyPackage's leaf node) in the tree, holds its private key, and derives path secrets from the common ancestor of its leaf and the signer's, each matching the tree's public key."
    ),
];
