//! GroupInfo (RFC 9420 section 12.4.3): what a joiner needs of the group, signed by a
//! member, with the `external_pub` extension for external commits (12.4.3.2) and the
//! ratchet tree in a `ratchet_tree` extension or out of band (12.4.3.3).

use crate::codec::Bytes;
use crate::commit::GroupState;
use crate::key_schedule;
use crate::messages::{
    Extension, ExternalPub, GroupInfo, HpkePublicKey, MlsMessage, MlsMessageBody,
    RatchetTree as WireTree,
};

use super::{Group, GroupError};

/// Signs the GroupInfo of `state`'s epoch as its own leaf (section 12.4.3).
pub(crate) fn sign_group_info(
    state: &GroupState,
    with_tree: bool,
) -> Result<GroupInfo, GroupError> {
    let group = &state.group;
    let suite = group.suite;
    let external = key_schedule::external_key_pair(&suite, &group.epoch_secrets.external_secret)?;
    let mut extensions = vec![Extension::from_content(&ExternalPub {
        external_pub: HpkePublicKey(Bytes(external.public)),
    })];
    if with_tree {
        extensions.push(Extension::from_content(&group.tree.to_wire()));
    }
    let mut info = GroupInfo {
        group_context: group.group_context.clone(),
        extensions,
        confirmation_tag: Bytes(group.confirmation_tag.clone()),
        signer: group.own_leaf,
        signature: Bytes::default(),
    };
    info.signature = Bytes(suite.sign_with_label(
        &group.signature_private_key,
        GroupInfo::SIGNATURE_LABEL,
        &info.tbs_bytes(),
    )?);
    Ok(info)
}

impl Group {
    /// The current epoch's GroupInfo as an MLSMessage (section 12.4.3). With
    /// `external_tree` the ratchet tree is returned beside it instead of inside it.
    pub fn group_info(
        &self,
        external_tree: bool,
    ) -> Result<(MlsMessage, Option<WireTree>), GroupError> {
        let info = sign_group_info(&self.state, !external_tree)?;
        let tree = external_tree.then(|| self.export_tree());
        Ok((MlsMessage::new(MlsMessageBody::GroupInfo(info)), tree))
    }
}
