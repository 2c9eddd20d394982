//! `messages.json`: every RFC 9420 message type decodes with the reference's strict codec
//! and re-encodes to exactly the same bytes (300 cases, suite-independent).

use concord_reference::codec::Codec;
use concord_reference::messages::{
    Add, AuthenticatedContent, Commit, ContentType, ExternalInit, GroupContextExtensions,
    GroupSecrets, MlsMessage, MlsMessageBody, PreSharedKey, Proposal, ProposalType, RatchetTree,
    ReInit, Remove, Update, WireFormat,
};
use serde::{Deserialize, Serialize};

use super::{CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, expect_eq, parse_case};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub mls_welcome: HexBytes,
    pub mls_group_info: HexBytes,
    pub mls_key_package: HexBytes,
    pub ratchet_tree: HexBytes,
    pub group_secrets: HexBytes,
    pub add_proposal: HexBytes,
    pub update_proposal: HexBytes,
    pub remove_proposal: HexBytes,
    pub pre_shared_key_proposal: HexBytes,
    pub re_init_proposal: HexBytes,
    pub external_init_proposal: HexBytes,
    pub group_context_extensions_proposal: HexBytes,
    pub commit: HexBytes,
    pub public_message_application: HexBytes,
    pub public_message_proposal: HexBytes,
    pub public_message_commit: HexBytes,
    pub private_message: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(match verify(&case) {
        Ok(()) => CaseVerdict::Passed,
        Err(Mismatch { field, detail }) => CaseVerdict::Failed { field, detail },
    })
}

/// Decodes all of `bytes` as `T` and re-encodes it: the same bytes must come back.
fn round_trip<T: Codec>(field: &str, bytes: &[u8]) -> Result<T, Mismatch> {
    let value =
        T::from_bytes(bytes).map_err(|e| Mismatch::new(field, format!("does not decode: {e}")))?;
    expect_bytes(&format!("{field} (re-encoded)"), &value.to_bytes(), bytes)?;
    Ok(value)
}

fn message(field: &str, bytes: &[u8], wire_format: WireFormat) -> Result<MlsMessage, Mismatch> {
    let message: MlsMessage = round_trip(field, bytes)?;
    expect_eq(
        &format!("{field} (wire format)"),
        message.wire_format(),
        wire_format,
    )?;
    Ok(message)
}

/// A bare proposal body; it must also decode as a `Proposal` once its type is prefixed.
fn proposal<T: Codec>(
    field: &str,
    bytes: &[u8],
    proposal_type: ProposalType,
    wrap: fn(T) -> Proposal,
) -> Result<(), Mismatch> {
    let body: T = round_trip(field, bytes)?;
    let prefixed = [proposal_type.to_bytes(), bytes.to_vec()].concat();
    let whole: Proposal = round_trip(&format!("{field} (as Proposal)"), &prefixed)?;
    expect_eq(&format!("{field} (as Proposal)"), whole, wrap(body))
}

fn public_message(field: &str, bytes: &[u8], content_type: ContentType) -> Result<(), Mismatch> {
    let MlsMessageBody::PublicMessage(public) =
        message(field, bytes, WireFormat::MLS_PUBLIC_MESSAGE)?.body
    else {
        return Err(Mismatch::new(field, "not a PublicMessage"));
    };
    expect_eq(
        &format!("{field} (content type)"),
        public.content.content_type(),
        content_type,
    )?;
    round_trip::<AuthenticatedContent>(
        &format!("{field} (AuthenticatedContent)"),
        &public.authenticated_content().to_bytes(),
    )
    .map(drop)
}

fn verify(case: &Case) -> Result<(), Mismatch> {
    message("mls_welcome", &case.mls_welcome, WireFormat::MLS_WELCOME)?;
    message(
        "mls_group_info",
        &case.mls_group_info,
        WireFormat::MLS_GROUP_INFO,
    )?;
    message(
        "mls_key_package",
        &case.mls_key_package,
        WireFormat::MLS_KEY_PACKAGE,
    )?;
    round_trip::<RatchetTree>("ratchet_tree", &case.ratchet_tree)?;
    round_trip::<GroupSecrets>("group_secrets", &case.group_secrets)?;
    proposal::<Add>(
        "add_proposal",
        &case.add_proposal,
        ProposalType::ADD,
        Proposal::Add,
    )?;
    proposal::<Update>(
        "update_proposal",
        &case.update_proposal,
        ProposalType::UPDATE,
        Proposal::Update,
    )?;
    proposal::<Remove>(
        "remove_proposal",
        &case.remove_proposal,
        ProposalType::REMOVE,
        Proposal::Remove,
    )?;
    proposal::<PreSharedKey>(
        "pre_shared_key_proposal",
        &case.pre_shared_key_proposal,
        ProposalType::PSK,
        Proposal::PreSharedKey,
    )?;
    proposal::<ReInit>(
        "re_init_proposal",
        &case.re_init_proposal,
        ProposalType::REINIT,
        Proposal::ReInit,
    )?;
    proposal::<ExternalInit>(
        "external_init_proposal",
        &case.external_init_proposal,
        ProposalType::EXTERNAL_INIT,
        Proposal::ExternalInit,
    )?;
    proposal::<GroupContextExtensions>(
        "group_context_extensions_proposal",
        &case.group_context_extensions_proposal,
        ProposalType::GROUP_CONTEXT_EXTENSIONS,
        Proposal::GroupContextExtensions,
    )?;
    round_trip::<Commit>("commit", &case.commit)?;
    public_message(
        "public_message_application",
        &case.public_message_application,
        ContentType::Application,
    )?;
    public_message(
        "public_message_proposal",
        &case.public_message_proposal,
        ContentType::Proposal,
    )?;
    public_message(
        "public_message_commit",
        &case.public_message_commit,
        ContentType::Commit,
    )?;
    message(
        "private_message",
        &case.private_message,
        WireFormat::MLS_PRIVATE_MESSAGE,
    )
    .map(drop)
}
