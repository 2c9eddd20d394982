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
];
