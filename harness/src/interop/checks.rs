//! What the runner checks beyond "every RPC answered": strict decoding of everything a client
//! emits, and agreement of every member at every new epoch.
//!
//! Decoding uses the reference's codec, which rejects non-minimal varints, trailing bytes and
//! values outside the RFC's enums. A handshake message made by a member must also use the
//! case's handshake mode: PrivateMessage when handshakes are encrypted, PublicMessage when not.
//!
//! Agreement: after each commit, join, branch and reinit, every member that reached the new
//! epoch must report the same epoch authenticator, the same `Export` of a fixed label,
//! context and length, and the same `StateAuth`. An empty epoch authenticator fails the
//! case; an empty Export or StateAuth (a stub) is a finding of that client, reported once
//! for the run (`findings/client-N/export-empty`), and its cases go on without that check.

use concord_reference::codec::Codec;
use concord_reference::messages::{
    ContentBody, ContentType, ExternalSender, MlsMessage, MlsMessageBody, RatchetTree,
};

use super::runner::{CaseRun, Stop};
use super::worker::CallError;
use crate::client::{ClientError, proto};

/// The exporter label, context and length every member is asked for.
pub const EXPORT_LABEL: &str = "concord interop agreement";
pub const EXPORT_CONTEXT: &[u8] = b"concord";
pub const EXPORT_LENGTH: u32 = 32;

/// An epoch reached by a step: (step index, 0 for the step's commit or join, 1 for the new
/// group a reinit makes).
pub(super) type EpochKey = (usize, u8);

/// What the first member to reach an epoch reported, and who it was.
#[derive(Debug, Clone, Default)]
pub(super) struct EpochRecord {
    authenticator: Option<(Vec<u8>, String)>,
    export: Option<(Vec<u8>, String)>,
    state_auth: Option<(Vec<u8>, String)>,
}

/// What kind of message a field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    KeyPackage,
    Welcome,
    GroupInfo,
    /// A proposal; `member` if a member made it (then the handshake mode applies).
    Proposal {
        member: bool,
    },
    /// A commit; `member` unless it is an external commit.
    Commit {
        member: bool,
    },
    /// An application message (always a PrivateMessage).
    Application,
}

impl CaseRun<'_> {
    /// Decodes `bytes` as the MLSMessage `expect` says, or fails naming the client.
    pub(super) fn check_message(
        &self,
        actor: &str,
        what: &str,
        bytes: &[u8],
        expect: Expect,
    ) -> Result<(), Stop> {
        let message = MlsMessage::from_bytes(bytes).map_err(|e| {
            Stop::failed(
                "decode",
                Some(actor),
                format!(
                    "{what} from {actor} is not a valid MLSMessage ({} bytes): {e}",
                    bytes.len()
                ),
            )
        })?;
        let encrypted = self.spec.encrypt_handshake;
        let (ok, wanted) = match (&message.body, expect) {
            (MlsMessageBody::KeyPackage(_), Expect::KeyPackage) => (true, ""),
            (_, Expect::KeyPackage) => (false, "a KeyPackage"),
            (MlsMessageBody::Welcome(_), Expect::Welcome) => (true, ""),
            (_, Expect::Welcome) => (false, "a Welcome"),
            (MlsMessageBody::GroupInfo(_), Expect::GroupInfo) => (true, ""),
            (_, Expect::GroupInfo) => (false, "a GroupInfo"),
            (MlsMessageBody::PrivateMessage(m), Expect::Application) => {
                (m.content_type == ContentType::Application, "")
            }
            (_, Expect::Application) => (false, "an application PrivateMessage"),
            (body, Expect::Proposal { member } | Expect::Commit { member }) => {
                let want = if matches!(expect, Expect::Commit { .. }) {
                    ContentType::Commit
                } else {
                    ContentType::Proposal
                };
                let content = match body {
                    MlsMessageBody::PublicMessage(m) => Some((false, m.content.content_type())),
                    MlsMessageBody::PrivateMessage(m) => Some((true, m.content_type)),
                    _ => None,
                };
                match content {
                    Some((_, kind)) if kind != want => (false, "another content type"),
                    Some((private, _)) if member && private != encrypted => {
                        return Err(Stop::failed(
                            "handshake-mode",
                            Some(actor),
                            format!(
                                "{what} from {actor} is a {}, but handshakes in this case are {}",
                                if private {
                                    "PrivateMessage"
                                } else {
                                    "PublicMessage"
                                },
                                if encrypted {
                                    "encrypted (PrivateMessage)"
                                } else {
                                    "public (PublicMessage)"
                                },
                            ),
                        ));
                    }
                    Some((true, _)) if !member => (false, "a PublicMessage (non-member sender)"),
                    Some(_) => (true, ""),
                    None => (false, "a PublicMessage or PrivateMessage"),
                }
            }
        };
        if ok {
            return Ok(());
        }
        let found = match &message.body {
            MlsMessageBody::PublicMessage(m) => match m.content.body {
                ContentBody::Application { .. } => "an application PublicMessage",
                ContentBody::Proposal(_) => "a proposal PublicMessage",
                ContentBody::Commit(_) => "a commit PublicMessage",
            },
            MlsMessageBody::PrivateMessage(_) => "a PrivateMessage",
            MlsMessageBody::Welcome(_) => "a Welcome",
            MlsMessageBody::GroupInfo(_) => "a GroupInfo",
            MlsMessageBody::KeyPackage(_) => "a KeyPackage",
        };
        let wanted = if wanted.is_empty() {
            "an application message"
        } else {
            wanted
        };
        Err(Stop::failed(
            "wire-format",
            Some(actor),
            format!("{what} from {actor} should be {wanted}, found {found}"),
        ))
    }

    /// Decodes a ratchet tree, when one was sent (an empty field means "none").
    pub(super) fn check_tree(&self, actor: &str, what: &str, bytes: &[u8]) -> Result<(), Stop> {
        if bytes.is_empty() {
            return Ok(());
        }
        RatchetTree::from_bytes(bytes).map(|_| ()).map_err(|e| {
            Stop::failed(
                "decode",
                Some(actor),
                format!("{what} from {actor} is not a valid ratchet tree: {e}"),
            )
        })
    }

    pub(super) fn check_external_sender(&self, actor: &str, bytes: &[u8]) -> Result<(), Stop> {
        ExternalSender::from_bytes(bytes).map(|_| ()).map_err(|e| {
            Stop::failed(
                "decode",
                Some(actor),
                format!("the external sender from {actor} is not a valid ExternalSender: {e}"),
            )
        })
    }

    /// Records or compares what `actor` reports at epoch `key`: the epoch authenticator it
    /// returned (if the RPC returns one) and, if `probe` (it holds a state there), its
    /// `Export` and `StateAuth`.
    pub(super) fn agree(
        &mut self,
        key: EpochKey,
        actor: &str,
        authenticator: Option<&[u8]>,
        probe: bool,
    ) -> Result<(), Stop> {
        if let Some(value) = authenticator {
            self.compare(key, actor, "epoch-authenticator", value)?;
        }
        if !probe {
            return Ok(());
        }
        let state_id = self.state(actor)?;
        let request = proto::ExportRequest {
            state_id,
            label: EXPORT_LABEL.into(),
            context: EXPORT_CONTEXT.to_vec(),
            key_length: EXPORT_LENGTH,
        };
        if let Some(answer) = self.optional_call(actor, "Export", request, |c, r| c.export(r))? {
            let secret = answer.exported_secret;
            if !secret.is_empty() && secret.len() != EXPORT_LENGTH as usize {
                return Err(Stop::failed(
                    "export-length",
                    Some(actor),
                    format!(
                        "{actor} exported {} bytes when asked for {EXPORT_LENGTH}",
                        secret.len()
                    ),
                ));
            }
            self.compare(key, actor, "export", &secret)?;
        }
        let request = proto::StateAuthRequest { state_id };
        if let Some(answer) =
            self.optional_call(actor, "StateAuth", request, |c, r| c.state_auth(r))?
        {
            self.compare(key, actor, "state-auth", &answer.state_auth_secret)?;
        }
        Ok(())
    }

    /// A call whose Unsupported answer is a note, not a verdict.
    fn optional_call<Req, Resp>(
        &mut self,
        actor: &str,
        method: &'static str,
        request: Req,
        f: fn(&mut dyn crate::client::ClientUnderTest, Req) -> Result<Resp, ClientError>,
    ) -> Result<Option<Resp>, Stop>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        match self.call_raw(actor, method, request, f)? {
            Ok(answer) => Ok(Some(answer)),
            Err(CallError::Client(ClientError::Unsupported { .. })) => {
                let client = self.client_name(actor).unwrap_or(actor).to_string();
                let note = format!("{client} does not support {method}: not compared");
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
                Ok(None)
            }
            Err(e) => Err(super::runner::stop_for(actor, e)),
        }
    }

    fn compare(
        &mut self,
        key: EpochKey,
        actor: &str,
        check: &str,
        value: &[u8],
    ) -> Result<(), Stop> {
        if value.is_empty() {
            // An empty Export or StateAuth is a stub: a finding of that client, reported
            // once, and the case goes on (the epoch authenticator still decides).
            let finding = match check {
                "export" => Some("export-empty"),
                "state-auth" => Some("state-auth-empty"),
                _ => None,
            };
            if let Some(finding) = finding {
                let client = self.client_name(actor).unwrap_or(actor).to_string();
                self.report_finding(
                    actor,
                    finding,
                    format!(
                        "{client} answered an empty {} (as {actor}); the {check} check is skipped for it",
                        describe(check)
                    ),
                    super::requirements::for_check(finding),
                );
                return Ok(());
            }
            return Err(Stop::failed(
                &format!("{check}-empty"),
                Some(actor),
                format!("{actor} answered an empty {}", describe(check)),
            ));
        }
        let record = self.epochs.entry(key).or_default();
        let slot = match check {
            "export" => &mut record.export,
            "state-auth" => &mut record.state_auth,
            _ => &mut record.authenticator,
        };
        match slot {
            None => {
                *slot = Some((value.to_vec(), actor.to_string()));
                Ok(())
            }
            Some((first, _)) if first == value => Ok(()),
            Some((first, who)) => Err(Stop::failed(
                check,
                Some(actor),
                format!(
                    "{actor} and {who} disagree on the {}: {} vs {}",
                    describe(check),
                    hex::encode(value),
                    hex::encode(first)
                ),
            )),
        }
    }
}

fn describe(check: &str) -> &'static str {
    match check {
        "export" => "exported secret",
        "state-auth" => "StateAuth secret",
        _ => "epoch authenticator",
    }
}
