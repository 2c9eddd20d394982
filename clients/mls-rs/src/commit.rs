//! One member's state, and the RPCs that move it to a new epoch: proposals handed over by
//! reference, Commit, HandleCommit and HandlePendingCommit (RFC 9420 section 12).

use std::collections::BTreeSet;

use concord_client::ClientError;
use concord_client::proto::*;
use mls_rs::error::MlsError;
use mls_rs::group::{CommitMessageDescription, ReceivedMessage};
use mls_rs::{Group, MlsMessage};

use crate::rules::Rules;
use crate::{MlsConfig, MlsRsClient, decode_message, encode, encode_tree, external, refused};

/// What a proposal mls-rs left out of a commit was, with the expiry of an Add's key package
/// (the usual reason: RFC9420-7.3-10 has the committer check it at its current time).
fn left_out(proposal: &mls_rs::group::proposal::Proposal) -> String {
    match proposal {
        mls_rs::group::proposal::Proposal::Add(add) => match add.key_package().expiration() {
            Ok(expiry) => format!(
                "Add of a key package expiring at {} (mls-rs's clock: {})",
                expiry.seconds_since_epoch(),
                mls_rs::time::MlsTime::now().seconds_since_epoch()
            ),
            Err(e) => format!("Add ({e})"),
        },
        other => format!("{:?}", other.proposal_type()),
    }
}

/// One member's state in one group.
pub(crate) struct Member {
    pub(crate) group: Group<MlsConfig>,
    pub(crate) rules: Rules,
    /// Proposal messages this member sent or already processed: handed back by reference
    /// (HandleCommit takes every proposal, the member's own included), they are not
    /// processed again.
    pub(crate) known_proposals: BTreeSet<Vec<u8>>,
}

impl Member {
    pub(crate) fn new(group: Group<MlsConfig>, rules: Rules) -> Self {
        Member {
            group,
            rules,
            known_proposals: BTreeSet::new(),
        }
    }

    /// Processes a proposal handed over by reference, unless this member already knows it.
    pub(crate) fn receive_proposal(
        &mut self,
        method: &'static str,
        bytes: &[u8],
    ) -> Result<(), ClientError> {
        if self.known_proposals.contains(bytes) {
            return Ok(());
        }
        let message = decode_message(method, bytes)?;
        match self
            .group
            .process_incoming_message(message)
            .map_err(|e| refused(method, e))?
        {
            ReceivedMessage::Proposal(_) => {
                self.known_proposals.insert(bytes.to_vec());
                Ok(())
            }
            _ => Err(refused(method, "a proposal by reference is not a proposal")),
        }
    }

    pub(crate) fn epoch_authenticator(&self, method: &'static str) -> Result<Vec<u8>, ClientError> {
        self.group
            .epoch_authenticator()
            .map(|secret| secret.as_bytes().to_vec())
            .map_err(|e| refused(method, e))
    }

    /// Answers a proposal this member just sent.
    pub(crate) fn sent(
        &mut self,
        method: &'static str,
        result: Result<MlsMessage, MlsError>,
    ) -> Result<ProposalResponse, ClientError> {
        let message = result.map_err(|e| refused(method, e))?;
        let proposal = encode(method, &message)?;
        self.known_proposals.insert(proposal.clone());
        Ok(ProposalResponse { proposal })
    }
}

impl MlsRsClient {
    /// Commits, keeping the commit pending (shared by Commit and ReInitCommit).
    pub(crate) fn commit_request(
        &mut self,
        method: &'static str,
        request: CommitRequest,
    ) -> Result<CommitResponse, ClientError> {
        let member = self.member(method, request.state_id)?;
        for bytes in &request.by_reference {
            member.receive_proposal(method, bytes)?;
        }
        member
            .rules
            .set_commit(request.force_path, request.external_tree);
        let described = request
            .by_value
            .iter()
            .map(|description| external::describe(method, member.group.roster(), description))
            .collect::<Result<Vec<_>, _>>()?;
        let version = member.group.protocol_version();
        let mut builder = member.group.commit_builder();
        for proposal in described {
            builder = external::into_commit(method, builder, proposal, version)?;
        }
        let output = builder.build().map_err(|e| refused(method, e))?;
        if !output.unused_proposals.is_empty() {
            // A committer leaves invalid proposals out (RFC9420-12.4-3; an Add whose key
            // package fails validation is invalid, RFC9420-12.1.1-2). The interface asked
            // for these ones, so a commit without them is not the one requested.
            let left_out: Vec<String> = output
                .unused_proposals
                .iter()
                .map(|info| left_out(&info.proposal))
                .collect();
            member.group.clear_pending_commit();
            return Err(refused(
                method,
                format!(
                    "mls-rs left proposals handed by reference out of the commit as invalid: {}",
                    left_out.join(", ")
                ),
            ));
        }
        let welcome = match output.welcome_messages.first() {
            Some(welcome) => encode(method, welcome)?,
            None => Vec::new(),
        };
        let ratchet_tree = match (&output.ratchet_tree, request.external_tree) {
            (Some(tree), true) => encode_tree(method, tree)?,
            _ => Vec::new(),
        };
        Ok(CommitResponse {
            commit: encode(method, &output.commit_message)?,
            welcome,
            ratchet_tree,
        })
    }

    /// Handles the proposals, then the commit, from another member.
    pub(crate) fn handle_commit_request(
        &mut self,
        method: &'static str,
        request: &HandleCommitRequest,
    ) -> Result<CommitMessageDescription, ClientError> {
        let member = self.member(method, request.state_id)?;
        for proposal in &request.proposal {
            member.receive_proposal(method, proposal)?;
        }
        let commit = decode_message(method, &request.commit)?;
        match member
            .group
            .process_incoming_message(commit)
            .map_err(|e| refused(method, e))?
        {
            ReceivedMessage::Commit(description) => {
                member.known_proposals.clear();
                Ok(description)
            }
            _ => Err(refused(method, "`commit` is not a commit")),
        }
    }

    /// The committer merges its pending commit.
    pub(crate) fn merge_pending(
        &mut self,
        method: &'static str,
        state_id: u32,
    ) -> Result<CommitMessageDescription, ClientError> {
        let member = self.member(method, state_id)?;
        let description = member
            .group
            .apply_pending_commit()
            .map_err(|e| refused(method, e))?;
        member.known_proposals.clear();
        Ok(description)
    }

    pub(crate) fn propose(
        &mut self,
        method: &'static str,
        state_id: u32,
        make: impl FnOnce(&mut Group<MlsConfig>) -> Result<MlsMessage, MlsError>,
    ) -> Result<ProposalResponse, ClientError> {
        let member = self.member(method, state_id)?;
        let result = make(&mut member.group);
        member.sent(method, result)
    }
}
