//! `messages.json`: one of every RFC 9420 message, each field a whole encoding; the
//! family is suite-independent and its cases cycle through suites 1 to 7.
//!
//! Every message comes out of one epoch of a real group (built as in [`super::group`]):
//! in the epoch, a member sends application data and another an Update, as
//! PublicMessages with membership tags, and a PrivateMessage (application data or a
//! Remove) is encrypted with the epoch's secret tree. Then a commit adds a new client by
//! value, takes the Update by reference and carries the committer's UpdatePath; its
//! confirmation tag, the new epoch's GroupInfo (signed by the committer), the Welcome and
//! the joiner's GroupSecrets come from one key schedule (section 8). The remaining
//! proposal bodies carry real values: an external PSK id, a ReInit to a fresh group id,
//! an ExternalInit `kem_output` to the epoch's `external_pub`, required capabilities.

use crate::vectors::messages::Case;
use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::framing;
use concord_reference::key_schedule::{self, EpochSecrets};
use concord_reference::messages::{
    Add, AuthenticatedContent, Commit, ContentBody, CredentialType, Extension, ExternalInit,
    FramedContent, GroupContext, GroupContextExtensions, MlsMessage, MlsMessageBody, PreSharedKey,
    Proposal, ProposalOrRef, ProposalRef, ProtocolVersion, ReInit, Remove, RequiredCapabilities,
    Sender, Update, WireFormat,
};
use concord_reference::secret_tree::{RatchetPolicy, SecretTree};
use concord_reference::transcript;
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::group::Group;
use super::joining::{Invitation, Joiner, external_psks, welcome};
use super::{below, random_bytes, random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

/// Two cases per suite.
const CASES: u16 = 14;

pub fn cases(rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    (0..CASES)
        .map(|i| {
            let wrap = |m: Mismatch| Mismatch::new(format!("case {i}: {}", m.field), m.detail);
            let suite = Suite::new(CipherSuite(1 + i % 7))
                .at("cipher suite")
                .map_err(wrap)?;
            case(&suite, i % 2 == 1, rng).map_err(wrap)
        })
        .collect()
}

/// One epoch of a group, as its members see it.
struct Epoch {
    group: Group,
    context: GroupContext,
    secrets: EpochSecrets,
}

impl Epoch {
    /// Content from `leaf`, signed for `wire_format`.
    fn sign(
        &self,
        leaf: LeafIndex,
        wire_format: WireFormat,
        body: ContentBody,
        rng: &mut ChaCha20Rng,
    ) -> Result<AuthenticatedContent, Mismatch> {
        let length = below(rng, 3) as usize * 8;
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member { leaf_index: leaf },
            authenticated_data: Bytes(random_bytes(rng, length).0),
            body,
        };
        let member = self.group.member(leaf)?;
        framing::sign(
            &self.group.suite,
            &member.signature_private,
            wire_format,
            content,
            &self.context,
        )
        .at("signature")
    }

    fn public(&self, content: AuthenticatedContent) -> Result<HexBytes, Mismatch> {
        let message = framing::protect_public(
            &self.group.suite,
            content,
            &self.context,
            &self.secrets.membership_key,
        )
        .at("PublicMessage")?;
        Ok(HexBytes(
            MlsMessage::new(MlsMessageBody::PublicMessage(message)).to_bytes(),
        ))
    }

    fn private(
        &self,
        content: &AuthenticatedContent,
        rng: &mut ChaCha20Rng,
    ) -> Result<HexBytes, Mismatch> {
        let mut secret_tree = SecretTree::new(
            self.group.suite,
            &self.secrets.encryption_secret,
            self.group.tree.leaf_count(),
            RatchetPolicy::default(),
        );
        let mut reuse_guard = [0u8; 4];
        rng.fill_bytes(&mut reuse_guard);
        let padding = below(rng, 4) as usize * 4;
        let message = framing::protect_private(
            &self.group.suite,
            content,
            &mut secret_tree,
            &self.secrets.sender_data_secret,
            padding,
            reuse_guard,
        )
        .at("PrivateMessage")?;
        Ok(HexBytes(
            MlsMessage::new(MlsMessageBody::PrivateMessage(message)).to_bytes(),
        ))
    }
}

fn case(
    suite: &Suite,
    private_proposal: bool,
    rng: &mut ChaCha20Rng,
) -> Result<serde_json::Value, Mismatch> {
    let members = 2 + below(rng, 4) as u32;
    let group_id = random_secret(suite, rng).0;
    let group = Group::populated(suite, group_id.clone(), members as usize, false, rng)?;
    let context = GroupContext::new(
        suite.id(),
        group_id,
        1 + below(rng, 1 << 16),
        group.tree.tree_hash(suite),
        random_secret(suite, rng).0,
        Vec::new(),
    );
    let secrets = key_schedule::epoch_secrets(
        suite,
        &random_secret(suite, rng),
        &key_schedule::zero_secret(suite),
        &context.to_bytes(),
    )
    .at("epoch secrets")?;
    let mut epoch = Epoch {
        group,
        context,
        secrets,
    };
    let committer = LeafIndex(below(rng, u64::from(members)) as u32);
    let updater = LeafIndex((committer.0 + 1) % members);

    let application = ContentBody::Application {
        application_data: application_data(rng),
    };
    let signed = epoch.sign(committer, WireFormat::MLS_PUBLIC_MESSAGE, application, rng)?;
    let public_message_application = epoch.public(signed)?;

    let (leaf_node, _) = epoch.group.update_leaf(updater, rng)?;
    let update = Update { leaf_node };
    let body = ContentBody::Proposal(Proposal::Update(update.clone()));
    let update_content = epoch.sign(updater, WireFormat::MLS_PUBLIC_MESSAGE, body, rng)?;
    let update_ref = ProposalRef(Bytes(
        suite.ref_hash(ProposalRef::LABEL, &update_content.to_bytes()),
    ));
    let public_message_proposal = epoch.public(update_content)?;

    let remove = Remove { removed: updater };
    let body = if private_proposal {
        ContentBody::Proposal(Proposal::Remove(remove.clone()))
    } else {
        ContentBody::Application {
            application_data: application_data(rng),
        }
    };
    let signed = epoch.sign(updater, WireFormat::MLS_PRIVATE_MESSAGE, body, rng)?;
    let private_message = epoch.private(&signed, rng)?;

    let psk = PreSharedKey {
        psk: external_psks(suite, 1, rng)
            .pop()
            .map(|p| p.id)
            .ok_or_else(|| Mismatch::new("pre_shared_key_proposal", "no PSK"))?,
    };
    let re_init = ReInit {
        group_id: Bytes(random_secret(suite, rng).0),
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        extensions: Vec::new(),
    };
    let external = key_schedule::external_key_pair(suite, &epoch.secrets.external_secret)
        .at("external_pub")?;
    let (kem_output, _) = suite
        .hpke_send_export(
            &external.public,
            b"",
            b"MLS 1.0 external init secret",
            suite.hash_length(),
            rng,
        )
        .at("external_init_proposal")?;
    let external_init = ExternalInit {
        kem_output: Bytes(kem_output),
    };
    let group_context_extensions = GroupContextExtensions {
        extensions: vec![Extension::from_content(&RequiredCapabilities {
            extension_types: Vec::new(),
            proposal_types: Vec::new(),
            credential_types: vec![CredentialType::BASIC],
        })],
    };

    // The commit: the Update by reference, a new client by value, the committer's path.
    let joiner = Joiner::new(suite, rng)?;
    let add = Add {
        key_package: joiner.key_package.clone(),
    };
    epoch
        .group
        .tree
        .update_leaf(updater, update.leaf_node.clone())
        .at("update")?;
    epoch.group.add_leaf(joiner.leaf.clone())?;
    let (path, commit_secret) = epoch.group.commit(committer, rng)?;
    let commit = Commit {
        proposals: vec![
            ProposalOrRef::Reference(update_ref),
            ProposalOrRef::Proposal(Proposal::Add(add.clone())),
        ],
        path: Some(path),
    };
    let body = ContentBody::Commit(commit.clone());
    let mut commit_content = epoch.sign(committer, WireFormat::MLS_PUBLIC_MESSAGE, body, rng)?;
    let confirmed_transcript_hash = transcript::confirmed_transcript_hash(
        suite,
        &random_secret(suite, rng),
        &commit_content.confirmed_transcript_hash_input(),
    );
    let invitation = Invitation {
        committer,
        epoch: epoch.context.epoch + 1,
        tree_in_extension: below(rng, 2) == 1,
        with_path: true,
        commit_secret,
        previous_init_secret: epoch.secrets.init_secret.clone(),
        confirmed_transcript_hash,
        psks: &[],
    };
    let welcomed = welcome(&epoch.group, &[&joiner], &invitation, rng)?;
    commit_content.auth.confirmation_tag = Some(welcomed.group_info.confirmation_tag.clone());
    let public_message_commit = epoch.public(commit_content)?;
    let group_secrets = welcomed
        .group_secrets
        .first()
        .ok_or_else(|| Mismatch::new("group_secrets", "none"))?;

    let message = |body| HexBytes(MlsMessage::new(body).to_bytes());
    to_value(&Case {
        mls_welcome: message(MlsMessageBody::Welcome(welcomed.welcome.clone())),
        mls_group_info: message(MlsMessageBody::GroupInfo(welcomed.group_info.clone())),
        mls_key_package: message(MlsMessageBody::KeyPackage(joiner.key_package.clone())),
        ratchet_tree: HexBytes(epoch.group.tree.to_wire().to_bytes()),
        group_secrets: HexBytes(group_secrets.to_bytes()),
        add_proposal: HexBytes(add.to_bytes()),
        update_proposal: HexBytes(update.to_bytes()),
        remove_proposal: HexBytes(remove.to_bytes()),
        pre_shared_key_proposal: HexBytes(psk.to_bytes()),
        re_init_proposal: HexBytes(re_init.to_bytes()),
        external_init_proposal: HexBytes(external_init.to_bytes()),
        group_context_extensions_proposal: HexBytes(group_context_extensions.to_bytes()),
        commit: HexBytes(commit.to_bytes()),
        public_message_application,
        public_message_proposal,
        public_message_commit,
        private_message,
    })
}

/// 16 to 63 random bytes.
fn application_data(rng: &mut ChaCha20Rng) -> Bytes {
    let length = 16 + below(rng, 48) as usize;
    Bytes(random_bytes(rng, length).0)
}
