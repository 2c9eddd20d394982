//! Reinitialization and branching (RFC 9420 section 11): the RPCs that leave one group for a
//! new one bound to it by a resumption PSK, over mls-rs's `ReinitClient` and
//! `Group::branch` / `Group::join_subgroup`.

use concord_client::ClientError;
use concord_client::proto::*;
use mls_rs::group::{CommitEffect, CommitMessageDescription, ReinitClient};
use mls_rs::{ExtensionList, Group, MlsMessage};

use crate::rules::Rules;
use crate::{
    Member, MlsConfig, MlsRsClient, decode_message, decode_tree, encode, encode_tree,
    extension_list, refused, unsupported,
};

/// A member whose group committed a ReInit: mls-rs's client for the new group (holding the
/// resumption PSK of the old one), and the member's rules.
pub(crate) struct PendingReInit {
    client: ReinitClient<MlsConfig>,
    rules: Rules,
}

fn decode_key_packages(
    method: &'static str,
    key_packages: &[Vec<u8>],
) -> Result<Vec<MlsMessage>, ClientError> {
    key_packages
        .iter()
        .map(|bytes| decode_message(method, bytes))
        .collect()
}

impl MlsRsClient {
    /// After a committed ReInit: the member's key package for the new group, kept under a
    /// reinit id with the old group's resumption secret.
    pub(crate) fn start_reinit(
        &mut self,
        method: &'static str,
        state_id: u32,
        commit: CommitMessageDescription,
    ) -> Result<HandleReInitCommitResponse, ClientError> {
        let CommitEffect::ReInit(reinit) = &commit.effect else {
            return Err(refused(
                method,
                "the commit does not reinitialize the group",
            ));
        };
        let new_suite = reinit.proposal.new_cipher_suite();
        let member = self
            .members
            .remove(&state_id)
            .ok_or_else(|| refused(method, format!("no group with state_id {state_id}")))?;
        let epoch_authenticator = member.epoch_authenticator(method)?;
        let identity = member
            .group
            .current_member_signing_identity()
            .map_err(|e| refused(method, e))?
            .credential
            .as_basic()
            .map(|basic| basic.identifier().to_vec())
            .ok_or_else(|| refused(method, "own credential is not a basic credential"))?;
        // A new cipher suite needs a signing key of that suite.
        let (signer, signing_identity) = if new_suite == member.group.cipher_suite() {
            (None, None)
        } else {
            let signer = self.signer(method, &identity, new_suite)?;
            (Some(signer.secret), Some(signer.identity))
        };
        let client = member
            .group
            .get_reinit_client(signer, signing_identity)
            .map_err(|e| refused(method, e))?;
        let key_package = client
            .generate_key_package(None)
            .map_err(|e| refused(method, e))?;
        let reinit_id = self.fresh_id();
        self.reinits.insert(
            reinit_id,
            PendingReInit {
                client,
                rules: member.rules,
            },
        );
        Ok(HandleReInitCommitResponse {
            reinit_id,
            key_package: encode(method, &key_package)?,
            epoch_authenticator,
        })
    }

    pub(crate) fn re_init_welcome_rpc(
        &mut self,
        request: ReInitWelcomeRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        const M: &str = "ReInitWelcome";
        let key_packages = decode_key_packages(M, &request.key_package)?;
        let pending = self
            .reinits
            .remove(&request.reinit_id)
            .ok_or_else(|| refused(M, format!("no reinit with id {}", request.reinit_id)))?;
        pending
            .rules
            .set_commit(request.force_path, request.external_tree);
        let (group, welcomes) = pending
            .client
            .commit(key_packages, ExtensionList::new(), None)
            .map_err(|e| refused(M, e))?;
        self.subgroup_response(M, group, pending.rules, &welcomes, request.external_tree)
    }

    pub(crate) fn handle_re_init_welcome_rpc(
        &mut self,
        request: HandleReInitWelcomeRequest,
    ) -> Result<JoinGroupResponse, ClientError> {
        const M: &str = "HandleReInitWelcome";
        let welcome = decode_message(M, &request.welcome)?;
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let pending = self
            .reinits
            .remove(&request.reinit_id)
            .ok_or_else(|| refused(M, format!("no reinit with id {}", request.reinit_id)))?;
        let (group, _) = pending
            .client
            .join(&welcome, tree, None)
            .map_err(|e| refused(M, e))?;
        let member = Member::new(group, pending.rules);
        let epoch_authenticator = member.epoch_authenticator(M)?;
        Ok(JoinGroupResponse {
            state_id: self.insert_member(member),
            epoch_authenticator,
        })
    }

    pub(crate) fn create_branch_rpc(
        &mut self,
        request: CreateBranchRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        const M: &str = "CreateBranch";
        let key_packages = decode_key_packages(M, &request.key_packages)?;
        let extensions = extension_list(M, &request.extensions)?;
        let member = self.member(M, request.state_id)?;
        // mls-rs's Group::branch carries the old group's context extensions over and takes
        // no others (RFC9420-11.3-2 to -4 do not restrict them; the interface may ask).
        if !request.extensions.is_empty() && &extensions != member.group.context().extensions() {
            return Err(unsupported(M));
        }
        member
            .rules
            .set_commit(request.force_path, request.external_tree);
        let (group, welcomes) = member
            .group
            .branch(request.group_id, key_packages, None)
            .map_err(|e| refused(M, e))?;
        // The branch shares the old group's configuration, rules included.
        let rules = member.rules.clone();
        self.subgroup_response(M, group, rules, &welcomes, request.external_tree)
    }

    pub(crate) fn handle_branch_rpc(
        &mut self,
        request: HandleBranchRequest,
    ) -> Result<HandleBranchResponse, ClientError> {
        const M: &str = "HandleBranch";
        let welcome = decode_message(M, &request.welcome)?;
        let tree = decode_tree(M, &request.ratchet_tree)?;
        // The key package's private keys are in the identity's key package store, which the
        // old group's configuration reads.
        self.transactions
            .remove(&request.transaction_id)
            .ok_or_else(|| {
                refused(
                    M,
                    format!(
                        "no key package with transaction_id {}",
                        request.transaction_id
                    ),
                )
            })?;
        let member = self.member(M, request.state_id)?;
        let (group, _) = member
            .group
            .join_subgroup(&welcome, tree, None)
            .map_err(|e| refused(M, e))?;
        let member = Member::new(group, member.rules.clone());
        let epoch_authenticator = member.epoch_authenticator(M)?;
        Ok(HandleBranchResponse {
            state_id: self.insert_member(member),
            epoch_authenticator,
        })
    }

    fn subgroup_response(
        &mut self,
        method: &'static str,
        group: Group<MlsConfig>,
        rules: Rules,
        welcomes: &[MlsMessage],
        external_tree: bool,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        let welcome = match welcomes.first() {
            Some(welcome) => encode(method, welcome)?,
            None => Vec::new(),
        };
        let ratchet_tree = if external_tree {
            encode_tree(method, &group.export_tree())?
        } else {
            Vec::new()
        };
        let member = Member::new(group, rules);
        let epoch_authenticator = member.epoch_authenticator(method)?;
        Ok(CreateSubgroupResponse {
            state_id: self.insert_member(member),
            welcome,
            ratchet_tree,
            epoch_authenticator,
        })
    }
}
