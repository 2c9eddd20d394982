//! Reinitialization and branching for the reference adapter (RFC 9420 section 11): the
//! RPCs that leave one group for a new one bound to it by a resumption PSK.

use concord_reference::codec::Codec;
use concord_reference::group::{Group, GroupError, SubgroupOptions};
use concord_reference::messages::MlsMessageBody;

use super::{
    ClientError, PendingReInit, ReferenceClient, answer_tree, decode_key_package, decode_message,
    decode_tree, extensions, refused,
};
use concord_client::proto::*;

impl ReferenceClient {
    pub(super) fn re_init_welcome_rpc(
        &mut self,
        request: ReInitWelcomeRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        const M: &str = "ReInitWelcome";
        let key_packages = request
            .key_package
            .iter()
            .map(|bytes| decode_key_package(M, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let pending = self
            .reinits
            .get(&request.reinit_id)
            .ok_or_else(|| refused(M, "no such reinit"))?;
        let options = SubgroupOptions {
            force_path: request.force_path,
            external_tree: self.external_tree(request.external_tree),
        };
        let (group, output) = pending
            .old
            .reinit_group(key_packages, options, self.clock.now(), &mut self.rng)
            .map_err(|e| refused(M, e))?;
        self.subgroup_response(group, output, request.external_tree)
    }

    pub(super) fn handle_re_init_welcome_rpc(
        &mut self,
        request: HandleReInitWelcomeRequest,
    ) -> Result<JoinGroupResponse, ClientError> {
        const M: &str = "HandleReInitWelcome";
        let pending = self
            .reinits
            .remove(&request.reinit_id)
            .ok_or_else(|| refused(M, "no such reinit"))?;
        let MlsMessageBody::Welcome(welcome) = decode_message(M, &request.welcome)?.body else {
            return Err(refused(M, "not an MLSMessage carrying a Welcome"));
        };
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let group = Group::join(
            &welcome,
            &pending.transaction.key_package,
            &pending.transaction.secrets,
            tree.as_ref(),
            &pending.old.psk_store(),
            *pending.old.config(),
        )
        .map_err(|e| refused(M, e))?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(JoinGroupResponse {
            state_id: self.insert_group(group),
            epoch_authenticator,
        })
    }

    pub(super) fn create_branch_rpc(
        &mut self,
        request: CreateBranchRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        const M: &str = "CreateBranch";
        let extensions = extensions(M, &request.extensions)?;
        let key_packages = request
            .key_packages
            .iter()
            .map(|bytes| decode_key_package(M, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let options = SubgroupOptions {
            force_path: request.force_path,
            external_tree: self.external_tree(request.external_tree),
        };
        let old = self
            .groups
            .get(&request.state_id)
            .ok_or_else(|| refused(M, "no such group"))?;
        let (group, output) = old
            .branch(
                request.group_id,
                extensions,
                key_packages,
                options,
                self.clock.now(),
                &mut self.rng,
            )
            .map_err(|e| refused(M, e))?;
        self.subgroup_response(group, output, request.external_tree)
    }

    pub(super) fn handle_branch_rpc(
        &mut self,
        request: HandleBranchRequest,
    ) -> Result<HandleBranchResponse, ClientError> {
        const M: &str = "HandleBranch";
        let transaction = self
            .transactions
            .remove(&request.transaction_id)
            .ok_or_else(|| refused(M, "no such key package"))?;
        let old = self
            .groups
            .get(&request.state_id)
            .ok_or_else(|| refused(M, "no such group"))?;
        let MlsMessageBody::Welcome(welcome) = decode_message(M, &request.welcome)?.body else {
            return Err(refused(M, "not an MLSMessage carrying a Welcome"));
        };
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let mut psks = old.psk_store();
        psks.external.extend(transaction.psks.external.clone());
        let group = Group::join(
            &welcome,
            &transaction.key_package,
            &transaction.secrets,
            tree.as_ref(),
            &psks,
            *old.config(),
        )
        .map_err(|e| refused(M, e))?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(HandleBranchResponse {
            state_id: self.insert_group(group),
            epoch_authenticator,
        })
    }

    /// After a committed ReInit: a key package for the new group, kept under a reinit id.
    pub(super) fn start_reinit(
        &mut self,
        method: &'static str,
        state_id: u32,
    ) -> Result<HandleReInitCommitResponse, ClientError> {
        let group = self
            .groups
            .remove(&state_id)
            .ok_or_else(|| refused(method, "no such group"))?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        let params = group.reinit_parameters().map_err(|e| refused(method, e))?;
        let identity = group
            .own_leaf_node()
            .map(|leaf| concord_reference::group::identity_of(&leaf.credential))
            .ok_or_else(|| refused(method, GroupError::Inactive))?;
        let (_, key_package, _) = self.new_transaction(method, params.cipher_suite, &identity)?;
        let transaction_id = self.next_id.wrapping_sub(1);
        let transaction = self
            .transactions
            .remove(&transaction_id)
            .ok_or_else(|| refused(method, "internal: lost the new key package"))?;
        let reinit_id = self.fresh_id();
        self.reinits.insert(
            reinit_id,
            PendingReInit {
                old: group,
                transaction,
            },
        );
        Ok(HandleReInitCommitResponse {
            reinit_id,
            key_package,
            epoch_authenticator,
        })
    }

    pub(super) fn subgroup_response(
        &mut self,
        group: Group,
        output: concord_reference::group::CommitOutput,
        external_tree_asked: bool,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(CreateSubgroupResponse {
            state_id: self.insert_group(group),
            ratchet_tree: answer_tree(&output, external_tree_asked),
            welcome: output.welcome.map(|w| w.to_bytes()).unwrap_or_default(),
            epoch_authenticator,
        })
    }
}
