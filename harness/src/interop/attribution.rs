//! Who is at fault: everything a client emits is validated by the reference when it is
//! emitted, with every rule and strictly, so that a violation is charged to the client that
//! made it (citing the rule it breaks) even when no peer refuses it, and a refusal of an
//! input that passed is charged to the refuser.
//!
//! ```text
//! CreateKeyPackage answer ──validate_key_package──> ok, or the maker charged (its rule)
//!     (its private keys kept: the interface hands them out so a test can follow a joiner)
//! Commit / CreateBranch / ReInitWelcome answer with a Welcome
//!     ──check_welcome, per joiner──> the reference opens the Welcome with the joiner's keys
//!                                    and joins: ok, or the committer charged (its rule);
//!                                    an `external_tree` request ignored: a finding
//! a later refusal of an input that passed ──> the refuser charged, with its own error text
//!
//! shadow members: a joiner's state, followed by the reference from the Welcome on with the
//! joiner's keys; each commit the joiner is handed is processed by its shadow first
//!     shadow refuses ──> the committer charged (the rule), whatever the member says
//!     shadow accepts, member refuses ──> the member charged
//! a shadow is dropped when its actor sends a handshake message of its own (its new keys
//! are its client's alone) or the reference cannot follow (a secret only the member has)
//! ```
//!
//! The requirement IDs come from the reference's typed errors
//! ([`concord_reference::requirement::Requirement`]), never from message text.

use concord_reference::codec::Codec;
use concord_reference::commit::CommitError;
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::join::{JoinError, JoinerKeys, join};
use concord_reference::messages::{
    Extension, KeyPackage, MlsMessage, MlsMessageBody, Psk, RatchetTree, Welcome,
};
use concord_reference::requirement::Requirement;
use concord_reference::welcome::{WelcomeError, open_welcome};

use concord_reference::group::{
    Group, GroupConfig, GroupError, HandshakeMode, KeyPackageSecrets, PskStore,
};

use super::findings::Finding;
use super::runner::{CaseRun, Stop};

/// A key package a client made in this case, with the private keys it handed out.
#[derive(Debug, Clone)]
pub(crate) struct KeyPackageRecord {
    pub key_package: KeyPackage,
    pub init_private: Vec<u8>,
    pub encryption_private: Vec<u8>,
    pub signature_private: Vec<u8>,
}

/// A rule an emitted message breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub detail: String,
    pub requirements: &'static [&'static str],
}

impl Violation {
    fn of<E: Requirement + std::fmt::Display>(error: &E) -> Self {
        Violation {
            detail: error.to_string(),
            requirements: error.requirements(),
        }
    }
}

/// How far a client's clock may be from Concord's before a lifetime that does not cover
/// Concord's current time is held against it (seconds).
pub(crate) const CLOCK_SKEW: u64 = 300;

/// The current time, for lifetimes (seconds since the Unix epoch).
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Section 10.1 on a KeyPackage a client emitted for `suite`: every check a member makes
/// before adding it (see [`concord_reference::commit::validate_key_package`]), with the
/// lifetime against the current time.
pub(crate) fn validate_key_package(suite: u16, bytes: &[u8]) -> Result<KeyPackage, Violation> {
    validate_key_package_for(Some(suite), bytes)
}

/// [`validate_key_package`], for `suite` or (`None`) for the suite the KeyPackage names
/// (a reinitialization may change the suite).
pub(crate) fn validate_key_package_for(
    suite: Option<u16>,
    bytes: &[u8],
) -> Result<KeyPackage, Violation> {
    let message = MlsMessage::from_bytes(bytes).map_err(|e| Violation::of(&e))?;
    let MlsMessageBody::KeyPackage(key_package) = message.body else {
        return Err(Violation {
            detail: "not an MLSMessage carrying a KeyPackage".into(),
            requirements: &["RFC9420-6-1"],
        });
    };
    if suite.is_some_and(|suite| key_package.cipher_suite.0 != suite) {
        return Err(Violation::of(&CommitError::AddCipherSuite(
            key_package.cipher_suite.0,
        )));
    }
    let suite = Suite::new(key_package.cipher_suite).map_err(|e| Violation::of(&e))?;
    concord_reference::commit::validate_key_package(&suite, &key_package, None)
        .map_err(|e| Violation::of(&e))?;
    // RFC9420-7.3-2: the lifetime covers the current time, give or take the clock skew
    // between two machines.
    if let concord_reference::messages::LeafNodeSource::KeyPackage { lifetime } =
        &key_package.leaf_node.leaf_node_source
    {
        let now = now();
        if lifetime.not_before > now.saturating_add(CLOCK_SKEW)
            || lifetime.not_after < now.saturating_sub(CLOCK_SKEW)
        {
            return Err(Violation::of(&CommitError::KeyPackageLifetime {
                not_before: lifetime.not_before,
                not_after: lifetime.not_after,
                now,
            }));
        }
    }
    Ok(key_package)
}

/// The signature private key a client handed out, in the form the reference reads (RFC
/// 9420 leaves its encoding to the signature scheme): some clients hand out an Ed25519 or
/// Ed448 key as the seed followed by the public key. The first form whose public key is the
/// leaf's `signature_key` is taken; the bytes as given otherwise.
pub(crate) fn signature_private_key(key_package: &KeyPackage, given: &[u8]) -> Vec<u8> {
    let Ok(suite) = Suite::new(key_package.cipher_suite) else {
        return given.to_vec();
    };
    let public = key_package.leaf_node.signature_key.as_slice();
    let candidates = [given.len(), 32, 57, 48, 66];
    candidates
        .iter()
        .filter(|&&n| n <= given.len())
        .map(|&n| &given[..n])
        .find(|candidate| {
            suite
                .signature_public_key(candidate)
                .is_ok_and(|derived| derived == public)
        })
        .unwrap_or(given)
        .to_vec()
}

/// What opening a Welcome as one joiner showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WelcomeVerdict {
    /// The reference joins with it.
    Valid {
        /// The GroupInfo inside carries a `ratchet_tree` extension.
        tree_inside: bool,
        /// The new epoch's GroupContext extensions.
        extensions: Vec<Extension>,
    },
    /// It breaks a rule: its maker is at fault.
    Invalid(Violation),
    /// The reference cannot tell: it lacks a secret the joiner has (a resumption PSK), or
    /// the private keys the joiner's client handed out do not match its key package.
    Undecided(String),
}

/// Opens and joins `welcome` as the joiner of `record`, with the tree given out of band
/// (`tree`, empty for none) and the PSKs `psk` knows, and says whether it is valid.
pub(crate) fn judge_welcome(
    suite: u16,
    welcome: &[u8],
    tree: &[u8],
    record: &KeyPackageRecord,
    psk: &dyn Fn(&Psk) -> Option<Vec<u8>>,
) -> WelcomeVerdict {
    let invalid = |v: Violation| WelcomeVerdict::Invalid(v);
    let welcome: Welcome = match MlsMessage::from_bytes(welcome) {
        Ok(MlsMessage {
            body: MlsMessageBody::Welcome(w),
            ..
        }) => w,
        Ok(_) => {
            return invalid(Violation {
                detail: "not an MLSMessage carrying a Welcome".into(),
                requirements: &["RFC9420-6-1"],
            });
        }
        Err(e) => return invalid(Violation::of(&e)),
    };
    let tree = if tree.is_empty() {
        None
    } else {
        match RatchetTree::from_bytes(tree) {
            Ok(t) => Some(t),
            Err(e) => return invalid(Violation::of(&e)),
        }
    };
    let Ok(suite) = Suite::new(CipherSuite(suite)) else {
        return WelcomeVerdict::Undecided(format!("cipher suite {suite} is not one of RFC 9420's"));
    };
    if record.init_private.is_empty() {
        return WelcomeVerdict::Undecided("the joiner's client handed out no init key".into());
    }
    let psk_value = |id: &concord_reference::messages::PreSharedKeyId| psk(&id.psk);
    let opened = match open_welcome(
        &suite,
        &welcome,
        &record.key_package,
        &record.init_private,
        psk_value,
    ) {
        Ok(opened) => opened,
        Err(e) => return judge_join_error(&JoinError::Welcome(e)),
    };
    let tree_inside = matches!(
        Extension::find::<RatchetTree>(&opened.group_info.extensions),
        Ok(Some(_))
    );
    let extensions = opened.group_info.group_context.extensions.clone();
    let keys = JoinerKeys {
        init_private: &record.init_private,
        encryption_private: &record.encryption_private,
        signature_private: &record.signature_private,
    };
    match join(
        &suite,
        &welcome,
        &record.key_package,
        keys,
        tree.as_ref(),
        psk_value,
    ) {
        Ok(_) => WelcomeVerdict::Valid {
            tree_inside,
            extensions,
        },
        Err(e) => judge_join_error(&e),
    }
}

fn judge_join_error(error: &JoinError) -> WelcomeVerdict {
    match error {
        JoinError::Welcome(WelcomeError::UnknownPsk(_)) => WelcomeVerdict::Undecided(format!(
            "the Welcome uses a PSK only the joiner holds ({error})"
        )),
        JoinError::InitKeyMismatch
        | JoinError::EncryptionKeyMismatch(_)
        | JoinError::SignatureKeyMismatch(_) => WelcomeVerdict::Undecided(format!(
            "the private keys the joiner's client handed out do not match its key package ({error})"
        )),
        other => WelcomeVerdict::Invalid(Violation::of(other)),
    }
}

/// What the reference, as a member's shadow, says of a commit handed to that member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CommitVerdict {
    /// The shadow processed it (and moved to the new epoch).
    Valid,
    /// The commit breaks a rule.
    Invalid(Violation),
    /// No shadow, or it could not follow (it was dropped).
    Unknown,
}

impl CaseRun<'_> {
    /// Starts following `joiner` with a reference member joined from `welcome` with the
    /// joiner's keys (after [`CaseRun::check_welcome`] found it valid).
    fn start_shadow(
        &mut self,
        joiner: &str,
        record: &KeyPackageRecord,
        welcome: &[u8],
        tree: &[u8],
    ) {
        // One shadow judges the group's commits for every member.
        if !self.shadows.is_empty() {
            return;
        }
        let Ok(MlsMessage {
            body: MlsMessageBody::Welcome(welcome),
            ..
        }) = MlsMessage::from_bytes(welcome)
        else {
            return;
        };
        let tree = if tree.is_empty() {
            None
        } else {
            RatchetTree::from_bytes(tree).ok()
        };
        let secrets = KeyPackageSecrets {
            init_private: record.init_private.clone(),
            encryption_private: record.encryption_private.clone(),
            signature_private: record.signature_private.clone(),
        };
        let psks = PskStore {
            external: self.psk_secrets.clone(),
            ..PskStore::default()
        };
        let config = GroupConfig {
            handshake: if self.spec.encrypt_handshake {
                HandshakeMode::Private
            } else {
                HandshakeMode::Public
            },
            ..GroupConfig::default()
        };
        match Group::join(
            &welcome,
            &record.key_package,
            &secrets,
            tree.as_ref(),
            &psks,
            config,
        ) {
            Ok(group) => {
                self.shadows.insert(joiner.to_string(), group);
            }
            Err(_) => {
                self.shadows.remove(joiner);
            }
        }
    }

    /// Keeps the resumption secret of every group a shadow follows (at its current
    /// epoch), for the Welcomes of a branch or reinitialization, which use it as a PSK.
    pub(super) fn keep_resumption_secrets(&mut self) {
        for shadow in self.shadows.values() {
            if let Some(secret) = shadow.resumption_psk(shadow.epoch()) {
                self.resumption_secrets.insert(
                    (shadow.group_id().to_vec(), shadow.epoch()),
                    secret.to_vec(),
                );
            }
        }
    }

    /// Judges `welcome` for `joiner` with one join that also starts the shadow member (the
    /// tree validation, the costly part, done once).
    fn judge_and_follow(
        &mut self,
        joiner: &str,
        record: &KeyPackageRecord,
        welcome: &[u8],
        tree: &[u8],
    ) -> WelcomeVerdict {
        let message = match MlsMessage::from_bytes(welcome) {
            Ok(MlsMessage {
                body: MlsMessageBody::Welcome(w),
                ..
            }) => w,
            Ok(_) => {
                return WelcomeVerdict::Invalid(Violation {
                    detail: "not an MLSMessage carrying a Welcome".into(),
                    requirements: &["RFC9420-6-1"],
                });
            }
            Err(e) => return WelcomeVerdict::Invalid(Violation::of(&e)),
        };
        let tree = if tree.is_empty() {
            None
        } else {
            match RatchetTree::from_bytes(tree) {
                Ok(t) => Some(t),
                Err(e) => return WelcomeVerdict::Invalid(Violation::of(&e)),
            }
        };
        if record.init_private.is_empty() {
            return WelcomeVerdict::Undecided("the joiner's client handed out no init key".into());
        }
        let Ok(suite) = Suite::new(record.key_package.cipher_suite) else {
            return WelcomeVerdict::Undecided("not one of RFC 9420's cipher suites".into());
        };
        let psks = PskStore {
            external: self.psk_secrets.clone(),
            resumption: self.resumption_secrets.clone(),
        };
        let opened = match open_welcome(
            &suite,
            &message,
            &record.key_package,
            &record.init_private,
            |id| psks.get(&id.psk),
        ) {
            Ok(opened) => opened,
            Err(e) => return judge_join_error(&JoinError::Welcome(e)),
        };
        let tree_inside = matches!(
            Extension::find::<RatchetTree>(&opened.group_info.extensions),
            Ok(Some(_))
        );
        let extensions = opened.group_info.group_context.extensions.clone();
        let secrets = KeyPackageSecrets {
            init_private: record.init_private.clone(),
            encryption_private: record.encryption_private.clone(),
            signature_private: record.signature_private.clone(),
        };
        let config = GroupConfig {
            handshake: if self.spec.encrypt_handshake {
                HandshakeMode::Private
            } else {
                HandshakeMode::Public
            },
            ..GroupConfig::default()
        };
        match Group::join(
            &message,
            &record.key_package,
            &secrets,
            tree.as_ref(),
            &psks,
            config,
        ) {
            Ok(group) => {
                self.shadows.insert(joiner.to_string(), group);
                WelcomeVerdict::Valid {
                    tree_inside,
                    extensions,
                }
            }
            Err(GroupError::Join(e)) => judge_join_error(&e),
            Err(GroupError::UnknownPsk(_)) => {
                WelcomeVerdict::Undecided("the Welcome uses a PSK only the joiner holds".into())
            }
            Err(e) => WelcomeVerdict::Invalid(Violation::of(&e)),
        }
    }

    /// `actor` sent a handshake message of its own: its shadow cannot follow its new
    /// keys, so it stops.
    pub(super) fn drop_shadow(&mut self, actor: &str) {
        self.shadows.remove(actor);
    }

    /// The reference, as the group's shadow member, processes the proposals and the commit
    /// `member` is about to be handed (once per commit: every member is handed the same).
    pub(super) fn shadow_commit(
        &mut self,
        member: &str,
        proposals: &[Vec<u8>],
        commit: &[u8],
    ) -> CommitVerdict {
        let _ = member;
        if let Some(verdict) = self.judged_commits.get(commit) {
            return verdict.clone();
        }
        // A shadow of the commit's epoch: one that missed a commit (its member was removed
        // and no one else was asked to handle it) has fallen behind for good, and judging
        // by it would charge the committer with an epoch the shadow never reached.
        let epoch = MlsMessage::from_bytes(commit)
            .ok()
            .and_then(|message| match message.body {
                MlsMessageBody::PublicMessage(public) => Some(public.content.epoch),
                MlsMessageBody::PrivateMessage(private) => Some(private.epoch),
                _ => None,
            });
        self.shadows
            .retain(|_, shadow| epoch.is_none_or(|epoch| shadow.epoch() >= epoch));
        let Some(actor) = self
            .shadows
            .iter()
            .find(|(_, shadow)| epoch.is_none_or(|epoch| shadow.epoch() == epoch))
            .map(|(actor, _)| actor.clone())
        else {
            return CommitVerdict::Unknown;
        };
        let Some(mut shadow) = self.shadows.remove(&actor) else {
            return CommitVerdict::Unknown;
        };
        for (id, secret) in &self.psk_secrets {
            shadow.store_external_psk(id.clone(), secret.clone());
        }
        let mut verdict = CommitVerdict::Valid;
        for proposal in proposals {
            let taken = MlsMessage::from_bytes(proposal)
                .ok()
                .is_some_and(|message| shadow.cache_proposal_message(&message).is_ok());
            // A proposal the shadow cannot take (its own member's, in a PrivateMessage)
            // ends the shadow rather than charging anyone.
            if !taken {
                verdict = CommitVerdict::Unknown;
                break;
            }
        }
        if verdict == CommitVerdict::Valid {
            verdict = match shadow.process_message_bytes(commit) {
                Ok(concord_reference::group::Received::Commit(
                    concord_reference::commit::CommitOutcome::Removed,
                )) => CommitVerdict::Unknown,
                Ok(_) => {
                    self.shadows.insert(actor, shadow);
                    CommitVerdict::Valid
                }
                Err(GroupError::UnknownPsk(_) | GroupError::Inactive) => CommitVerdict::Unknown,
                Err(e) => CommitVerdict::Invalid(Violation::of(&e)),
            };
        }
        self.judged_commits.insert(commit.to_vec(), verdict.clone());
        verdict
    }

    /// Validates a key package `actor`'s client emitted and keeps it with its private keys
    /// for the Welcomes made for it; a violation charges `actor`'s client.
    pub(super) fn record_key_package(
        &mut self,
        actor: &str,
        transaction: u32,
        made: &crate::client::proto::CreateKeyPackageResponse,
    ) -> Result<(), Stop> {
        let key_package = validate_key_package(self.suite, &made.key_package).map_err(|v| {
            Stop::violation(
                "invalid-key-package",
                actor,
                format!("the key package from {actor} is invalid: {}", v.detail),
                v.requirements,
            )
        })?;
        let signature_private = signature_private_key(&key_package, &made.signature_priv);
        self.key_packages.insert(
            (actor.to_string(), transaction),
            KeyPackageRecord {
                key_package,
                init_private: made.init_priv.clone(),
                encryption_private: made.encryption_priv.clone(),
                signature_private,
            },
        );
        Ok(())
    }

    /// Validates a key package `actor`'s client emitted outside CreateKeyPackage (in a
    /// reinitialization, in a new member's Add proposal): a violation charges `actor`.
    pub(super) fn check_emitted_key_package(
        &self,
        actor: &str,
        what: &str,
        bytes: &[u8],
        suite: Option<u16>,
    ) -> Result<KeyPackage, Stop> {
        validate_key_package_for(suite, bytes).map_err(|v| {
            Stop::violation(
                "invalid-key-package",
                actor,
                format!("{what} from {actor} is invalid: {}", v.detail),
                v.requirements,
            )
        })
    }

    /// Before `joiner` is handed `welcome` (made by `maker`): the reference opens it with
    /// the joiner's keys and joins. An invalid Welcome charges its maker with the rule it
    /// breaks; a Welcome carrying the tree although `external_tree` was asked for is a
    /// finding of the maker ("request ignored"), and the case goes on.
    pub(super) fn check_welcome(
        &mut self,
        maker: &str,
        joiner: &str,
        transaction: u32,
        welcome: &[u8],
        tree: &[u8],
        external_tree: bool,
    ) -> Result<(), Stop> {
        let Some(record) = self
            .key_packages
            .get(&(joiner.to_string(), transaction))
            .cloned()
        else {
            return Ok(());
        };
        if external_tree && tree.is_empty() {
            self.report_finding(
                maker,
                "external-tree-missing",
                format!(
                    "{maker} was asked for the ratchet tree out of band (external_tree) and returned none"
                ),
                &[],
            );
        }
        let (external, resumption) = (self.psk_secrets.clone(), self.resumption_secrets.clone());
        // One Welcome, several joiners: judged once (the full join validates the tree).
        let cached = self.judged_welcomes.get(welcome).cloned();
        let cached = match cached {
            None if self.shadows.is_empty() => {
                Some(self.judge_and_follow(joiner, &record, welcome, tree))
            }
            other => other,
        };
        let verdict = cached.unwrap_or_else(|| {
            judge_welcome(self.suite, welcome, tree, &record, &|psk| match psk {
                Psk::External { psk_id } => external.get(psk_id.as_slice()).cloned(),
                Psk::Resumption {
                    psk_group_id,
                    psk_epoch,
                    ..
                } => resumption
                    .get(&(psk_group_id.as_slice().to_vec(), *psk_epoch))
                    .cloned(),
            })
        });
        self.judged_welcomes
            .insert(welcome.to_vec(), verdict.clone());
        match verdict {
            WelcomeVerdict::Valid {
                tree_inside,
                extensions,
            } => {
                self.welcomed_extensions = Some(extensions);
                self.start_shadow(joiner, &record, welcome, tree);
                if external_tree && tree_inside {
                    self.report_finding(
                        maker,
                        "external-tree-ignored",
                        format!(
                            "{maker} was asked for the ratchet tree out of band (external_tree), and its Welcome's GroupInfo still carries a ratchet_tree extension: the request was ignored"
                        ),
                        &[],
                    );
                }
                Ok(())
            }
            WelcomeVerdict::Invalid(v) => Err(Stop::violation(
                "invalid-welcome",
                maker,
                format!(
                    "the Welcome from {maker} for {joiner} is invalid: the reference, joining with {joiner}'s keys, finds: {}",
                    v.detail
                ),
                v.requirements,
            )),
            WelcomeVerdict::Undecided(why) => {
                self.notes
                    .push(format!("the Welcome for {joiner} was not validated: {why}"));
                Ok(())
            }
        }
    }

    /// Reports a finding of `actor`'s client (once per client and check over the run).
    pub(super) fn report_finding(
        &mut self,
        actor: &str,
        check: &'static str,
        detail: String,
        requirements: &[&'static str],
    ) {
        let Some(client) = self.client_index(actor) else {
            return;
        };
        self.pool().findings.report(Finding {
            client,
            check,
            actor: actor.to_string(),
            detail,
            case: self.spec.id.clone(),
            position: self.spec.position,
            seen: 0,
            requirements: requirements.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_reference::codec::Bytes;
    use concord_reference::group::create_key_package;
    use concord_reference::messages::{ExtensionType, LeafNode, ProposalType};
    use concord_reference::tree_math::LeafIndex;
    use rand_core::SeedableRng;

    /// A key package of suite 1, changed by `tamper` and signed again (leaf and package),
    /// as an implementation that builds it that way would.
    fn key_package_bytes(tamper: impl FnOnce(&mut KeyPackage)) -> Vec<u8> {
        let suite = Suite::new(CipherSuite(1)).unwrap_or_else(|e| panic!("{e}"));
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let (mut key_package, secrets) = create_key_package(&suite, b"bob", None, now(), &mut rng)
            .unwrap_or_else(|e| panic!("{e}"));
        tamper(&mut key_package);
        let private = &secrets.signature_private;
        let sign = |label: &[u8], tbs: &[u8]| {
            Bytes(
                suite
                    .sign_with_label(private, label, tbs)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        };
        key_package.leaf_node.signature = sign(
            LeafNode::SIGNATURE_LABEL,
            &key_package.leaf_node.tbs_bytes(&[], LeafIndex(0)),
        );
        key_package.signature = sign(KeyPackage::SIGNATURE_LABEL, &key_package.tbs_bytes());
        MlsMessage::new(MlsMessageBody::KeyPackage(key_package)).to_bytes()
    }

    #[test]
    fn a_valid_key_package_passes() {
        assert!(validate_key_package(1, &key_package_bytes(|_| {})).is_ok());
    }

    #[test]
    fn listed_default_extension_types_are_charged_under_7_2_1() {
        let bytes = key_package_bytes(|kp| {
            kp.leaf_node.capabilities.extensions.push(ExtensionType(2));
        });
        let v = validate_key_package(1, &bytes).unwrap_err();
        assert_eq!(v.requirements, ["RFC9420-7.2-1"], "{v:?}");
    }

    #[test]
    fn listed_default_proposal_types_are_charged_under_7_2_1() {
        let bytes = key_package_bytes(|kp| {
            kp.leaf_node.capabilities.proposals.push(ProposalType(3));
        });
        let v = validate_key_package(1, &bytes).unwrap_err();
        assert_eq!(v.requirements, ["RFC9420-7.2-1"], "{v:?}");
    }

    #[test]
    fn an_expired_key_package_is_charged_under_7_3_2() {
        let bytes = key_package_bytes(|kp| {
            if let concord_reference::messages::LeafNodeSource::KeyPackage { lifetime } =
                &mut kp.leaf_node.leaf_node_source
            {
                lifetime.not_before = 1;
                lifetime.not_after = 2;
            }
        });
        let v = validate_key_package(1, &bytes).unwrap_err();
        assert!(v.requirements.contains(&"RFC9420-7.3-2"), "{v:?}");
    }

    #[test]
    fn a_tampered_key_package_fails_its_signature() {
        let mut bytes = key_package_bytes(|_| {});
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        let v = validate_key_package(1, &bytes).unwrap_err();
        assert!(v.detail.contains("signature"), "{v:?}");
    }

    #[test]
    fn a_key_package_for_another_suite_is_charged() {
        let v = validate_key_package(2, &key_package_bytes(|_| {})).unwrap_err();
        assert!(v.detail.contains("cipher suite"), "{v:?}");
    }

    #[test]
    fn garbage_is_a_decode_violation() {
        let v = validate_key_package(1, &[0, 1, 0, 5]).unwrap_err();
        assert!(!v.requirements.is_empty());
    }
}
