//! The negative recipes against any [`ClientUnderTest`], over what the MLSClient
//! interface can express.
//!
//! ```text
//! CreateKeyPackage ──> World::build(receiver = the client's KeyPackage) ──> recipe
//!   welcome input     JoinGroup(input)
//!   group-info input  ExternalJoin(input)
//!   message input     JoinGroup(world's Welcome), then each message in order:
//!                       proposals are held and handed with the next commit
//!                       (HandleCommit), application messages go to Unprotect; an input
//!                       proposal is handed with an honest commit of alice's
//! ```
//!
//! A vector file fixes the receiver's keys, which the interface cannot import, so the
//! recipes are run again with the client's own KeyPackage, one KeyPackage per case. A
//! client's refusal is free text: it is judged as reject versus accept; the expected
//! class is reported beside its message.

use concord_client::proto::{
    CreateKeyPackageRequest, ExternalJoinRequest, FreeRequest, HandleCommitRequest,
    JoinGroupRequest, StorePskRequest, UnprotectRequest,
};
use concord_client::{ClientError, ClientUnderTest};
use concord_reference::codec::Codec;
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::group::{CommitOptions, KeyPackageSecrets};
use concord_reference::messages::{ContentType, MlsMessage, MlsMessageBody};

use super::case::EXTERNAL_JOINER;
use super::world::{ALICE, ReceiverKeys, World, wire};
use super::{ErrorClass, Expect, FAMILIES, Family, GenError, InputKind, Recipe, case_rng};

/// How one recipe ended against the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientVerdict {
    Passed,
    /// The client accepted what it must reject, or refused what it must accept.
    Failed {
        detail: String,
    },
    /// The client does not support an operation the case needs, or the case cannot be
    /// built with this client's KeyPackage.
    Skipped {
        reason: String,
    },
    /// The client gave no answer: it crashed, hung, could not be reached, or answered
    /// something that is not a response (`error` is how the call failed).
    ClientFault {
        detail: String,
        error: ClientError,
    },
}

/// One recipe's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCase {
    pub family: &'static str,
    pub recipe: &'static str,
    pub requirements: &'static [&'static str],
    pub expect: Expect,
    pub verdict: ClientVerdict,
    /// For a refusal of an input it must refuse: the class the client's error text points
    /// to, beside the class expected (free text, so only noted, never judged).
    pub note: Option<String>,
}

/// What the client did with the input.
enum Answer {
    Accepted,
    Refused(String),
}

/// A call failed in a way that ends the case (not an answer about the input).
enum Abort {
    Unsupported(String),
    /// Before the input: the setup itself was refused.
    Setup(String),
    /// The call had no answer (crash, hang, unreachable, malformed answer).
    Client(ClientError),
}

fn call<T>(result: Result<T, ClientError>) -> Result<Result<T, String>, Abort> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(ClientError::Unsupported { method }) => Err(Abort::Unsupported(format!(
            "{method} is not supported by the client"
        ))),
        Err(ClientError::Refused { message, .. }) => Ok(Err(message)),
        Err(e) => Err(Abort::Client(e)),
    }
}

fn setup<T>(step: &str, result: Result<T, ClientError>) -> Result<T, Abort> {
    call(result)?.map_err(|refusal| Abort::Setup(format!("{step} was refused: {refusal}")))
}

/// Runs every recipe of every family (or of `only`) against `client` for `suite`.
/// `now` (seconds since the epoch) is when the group's leaves become valid: the
/// client's own idea of the time, since a client may check lifetimes (7.3).
/// `only` names families (`welcome`) or single recipes (`welcome/bad-signature`).
pub fn run_client(
    client: &mut dyn ClientUnderTest,
    suite: CipherSuite,
    seed: u64,
    now: u64,
    only: Option<&[&str]>,
) -> Result<Vec<ClientCase>, GenError> {
    let mut results = Vec::new();
    run_client_each(client, suite, seed, now, only, &mut |case| {
        results.push(case);
        true
    })?;
    Ok(results)
}

/// The recipes [`run_client`] runs, for `only` (families or `family/recipe`).
pub fn selected(only: Option<&[&str]>) -> Vec<(&'static Family, &'static Recipe)> {
    let wanted = |family: &Family, recipe: &Recipe| {
        only.is_none_or(|names| {
            names.iter().any(|name| {
                *name == family.name
                    || name
                        .split_once('/')
                        .is_some_and(|(f, r)| f == family.name && r == recipe.name)
            })
        })
    };
    FAMILIES
        .iter()
        .flat_map(|family| family.recipes.iter().map(move |recipe| (family, recipe)))
        .filter(|(family, recipe)| wanted(family, recipe))
        .collect()
}

/// [`run_client`], handing each case to `each` as it ends; `each` returns whether to go
/// on (a caller stops at a client found down).
pub fn run_client_each(
    client: &mut dyn ClientUnderTest,
    suite: CipherSuite,
    seed: u64,
    now: u64,
    only: Option<&[&str]>,
    each: &mut dyn FnMut(ClientCase) -> bool,
) -> Result<(), GenError> {
    let suite = Suite::new(suite).map_err(|e| GenError::new("suite", e))?;
    for (family, recipe) in selected(only) {
        let (verdict, note) = match run_recipe(client, family, recipe, &suite, seed, now) {
            Ok(judged) => judged,
            Err(abort) => (aborted(abort), None),
        };
        let case = ClientCase {
            family: family.name,
            recipe: recipe.name,
            requirements: recipe.requirements,
            expect: recipe.expect,
            verdict,
            note,
        };
        if !each(case) {
            break;
        }
    }
    Ok(())
}

/// The verdict of a case that ended before the client's answer about its input.
fn aborted(abort: Abort) -> ClientVerdict {
    match abort {
        Abort::Unsupported(reason) => ClientVerdict::Skipped { reason },
        Abort::Setup(detail) => ClientVerdict::Failed {
            detail: format!("setup: {detail}"),
        },
        Abort::Client(error) => ClientVerdict::ClientFault {
            detail: error.to_string(),
            error,
        },
    }
}

/// One recipe against the client: the verdict, and for a refusal the class its text
/// points to.
fn run_recipe(
    client: &mut dyn ClientUnderTest,
    family: &Family,
    recipe: &Recipe,
    suite: &Suite,
    seed: u64,
    now: u64,
) -> Result<(ClientVerdict, Option<String>), Abort> {
    let label = format!("client/{}/{}", family.name, recipe.name);
    let mut rng = case_rng(seed, suite.id().0, &label);
    let package = setup(
        "CreateKeyPackage",
        client.create_key_package(CreateKeyPackageRequest {
            cipher_suite: u32::from(suite.id().0),
            identity: b"receiver".to_vec(),
        }),
    )?;
    let key_package = match MlsMessage::from_bytes(&package.key_package).map(|m| m.body) {
        Ok(MlsMessageBody::KeyPackage(kp)) => kp,
        _ => {
            return Ok((
                ClientVerdict::Failed {
                    detail: "CreateKeyPackage returned no MLSMessage carrying a KeyPackage"
                        .to_string(),
                },
                None,
            ));
        }
    };
    let receiver = ReceiverKeys {
        key_package,
        secrets: KeyPackageSecrets {
            init_private: package.init_priv,
            encryption_private: package.encryption_priv,
            signature_private: package.signature_priv,
        },
    };
    let world = match World::build(suite, Some(receiver), now, &mut rng) {
        Ok(world) => world,
        // The world is the reference's own group adding the client's KeyPackage: what
        // stops it is the KeyPackage, which a conformant member refuses to add. A control
        // (a valid input the client must accept) then fails, since no conformant group can
        // welcome this client; the negative cases cannot be built and are skipped.
        Err(e) if recipe.expect == Expect::Accept => {
            return Ok((
                ClientVerdict::Failed {
                    detail: format!(
                        "a conformant member cannot add the client's own KeyPackage: {e}"
                    ),
                },
                None,
            ));
        }
        Err(e) => {
            return Ok((
                ClientVerdict::Skipped {
                    reason: format!("the group cannot be built with this KeyPackage: {e}"),
                },
                None,
            ));
        }
    };
    let draft = match (recipe.build)(&world, &mut rng) {
        Ok(draft) => draft,
        Err(e) => {
            return Ok((
                ClientVerdict::Skipped {
                    reason: format!("the case cannot be built for this client: {e}"),
                },
                None,
            ));
        }
    };
    setup(
        "StorePSK",
        client.store_psk(StorePskRequest {
            state_or_transaction_id: package.transaction_id,
            psk_id: world.psk_id.clone(),
            psk_secret: world.psk.clone(),
        }),
    )?;
    // A client may refuse handshake messages in the framing its group does not use
    // (a local policy): join in the framing of the case's handshake messages.
    let encrypt_handshake = draft
        .prior
        .iter()
        .chain(std::iter::once(&draft.input))
        .any(|m| is_private_handshake(m));
    let mut states = Vec::new();
    let answer = match draft.input_kind {
        InputKind::Welcome => settle(
            client.join_group(JoinGroupRequest {
                transaction_id: package.transaction_id,
                welcome: draft.input.clone(),
                encrypt_handshake: false,
                identity: b"receiver".to_vec(),
                ratchet_tree: Vec::new(),
            }),
            |r| states.push(r.state_id),
        )?,
        InputKind::GroupInfo => settle(
            client.external_join(ExternalJoinRequest {
                group_info: draft.input.clone(),
                ratchet_tree: Vec::new(),
                encrypt_handshake: false,
                identity: EXTERNAL_JOINER.to_vec(),
                remove_prior: false,
                psks: Vec::new(),
            }),
            |r| states.push(r.state_id),
        )?,
        InputKind::Message => {
            let joined = setup(
                "JoinGroup",
                client.join_group(JoinGroupRequest {
                    transaction_id: package.transaction_id,
                    welcome: wire(&MlsMessage::new(MlsMessageBody::Welcome(
                        world.welcome.clone(),
                    ))),
                    encrypt_handshake,
                    identity: b"receiver".to_vec(),
                    ratchet_tree: Vec::new(),
                }),
            )?;
            states.push(joined.state_id);
            deliver(
                client,
                &world,
                &draft.prior,
                &draft.input,
                encrypt_handshake,
                &mut states,
                &mut rng,
            )?
        }
    };
    for state_id in states {
        let _ = client.free(FreeRequest { state_id });
    }
    Ok(judge(recipe, answer))
}

/// The client's answer about the input; `keep` sees an accepted response.
fn settle<T>(result: Result<T, ClientError>, keep: impl FnOnce(T)) -> Result<Answer, Abort> {
    Ok(match call(result)? {
        Ok(value) => {
            keep(value);
            Answer::Accepted
        }
        Err(refusal) => Answer::Refused(refusal),
    })
}

/// Whether `bytes` is a PrivateMessage carrying a proposal or commit.
fn is_private_handshake(bytes: &[u8]) -> bool {
    matches!(
        MlsMessage::from_bytes(bytes).map(|m| m.body),
        Ok(MlsMessageBody::PrivateMessage(private)) if private.content_type != ContentType::Application
    )
}

/// What kind of handshake or application message `bytes` is, if it decodes.
fn content_type(bytes: &[u8]) -> Option<ContentType> {
    match MlsMessage::from_bytes(bytes).ok()?.body {
        MlsMessageBody::PublicMessage(public) => Some(public.content.body.content_type()),
        MlsMessageBody::PrivateMessage(private) => Some(private.content_type),
        _ => None,
    }
}

/// Hands the prior messages (each must be accepted) and then the input to the client.
fn deliver(
    client: &mut dyn ClientUnderTest,
    world: &World,
    prior: &[Vec<u8>],
    input: &[u8],
    encrypt_handshake: bool,
    states: &mut Vec<u32>,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> Result<Answer, Abort> {
    let mut held = Vec::new();
    for message in prior {
        let state_id = states.last().copied().unwrap_or_default();
        match content_type(message) {
            Some(ContentType::Proposal) => held.push(message.clone()),
            Some(ContentType::Application) => {
                setup(
                    "Unprotect (prior)",
                    client.unprotect(UnprotectRequest {
                        state_id,
                        ciphertext: message.clone(),
                    }),
                )?;
            }
            _ => {
                let handled = setup(
                    "HandleCommit (prior)",
                    client.handle_commit(HandleCommitRequest {
                        state_id,
                        proposal: std::mem::take(&mut held),
                        commit: message.clone(),
                    }),
                )?;
                states.push(handled.state_id);
            }
        }
    }
    let state_id = states.last().copied().unwrap_or_default();
    match content_type(input) {
        Some(ContentType::Application) => settle(
            client.unprotect(UnprotectRequest {
                state_id,
                ciphertext: input.to_vec(),
            }),
            |_| (),
        ),
        Some(ContentType::Proposal) => {
            // The interface hands proposals only with a commit: an honest one of alice's
            // that does not cover it, at the epoch the prior messages led to.
            held.push(input.to_vec());
            let alice = if encrypt_handshake {
                world.private_sender(ALICE)
            } else {
                world.sender(ALICE)
            };
            let mut alice = alice.map_err(|e| Abort::Setup(e.to_string()))?;
            // alice first goes where the prior messages took the client.
            for message in prior {
                if content_type(message) != Some(ContentType::Application) {
                    alice
                        .group
                        .process_message_bytes(message)
                        .map_err(|e| Abort::Setup(format!("alice's prior message: {e}")))?;
                }
            }
            let commit = alice
                .group
                .commit(&CommitOptions::default(), rng)
                .map_err(|e| Abort::Setup(format!("alice's commit: {e}")))?;
            settle(
                client.handle_commit(HandleCommitRequest {
                    state_id,
                    proposal: held,
                    commit: wire(&commit.commit),
                }),
                |r| states.push(r.state_id),
            )
        }
        // Commits, and bytes that do not decode at all.
        _ => settle(
            client.handle_commit(HandleCommitRequest {
                state_id,
                proposal: held,
                commit: input.to_vec(),
            }),
            |r| states.push(r.state_id),
        ),
    }
}

fn judge(recipe: &Recipe, answer: Answer) -> (ClientVerdict, Option<String>) {
    if let (Expect::Reject(expected), Answer::Refused(refusal)) = (recipe.expect, &answer) {
        return (ClientVerdict::Passed, Some(refusal_note(expected, refusal)));
    }
    let verdict = match (recipe.expect, answer) {
        (Expect::Acceptable, _)
        | (Expect::Accept, Answer::Accepted)
        | (Expect::Reject(_), Answer::Refused(_)) => ClientVerdict::Passed,
        (Expect::Accept, Answer::Refused(refusal)) => ClientVerdict::Failed {
            detail: format!("refused a valid input: {refusal}"),
        },
        // A SHOULD leaves the bound to the client (how far ahead a generation may be, ...):
        // accepting the case's input is the client's policy, reported, not a failure.
        (Expect::Reject(_), Answer::Accepted) if only_recommended(recipe.requirements) => {
            ClientVerdict::Skipped {
                reason: format!(
                    "accepted; the rule is only recommended ({}): the client's policy, noted, not judged",
                    recipe.requirements.join(", ")
                ),
            }
        }
        (Expect::Reject(class), Answer::Accepted) => ClientVerdict::Failed {
            detail: format!(
                "accepted; a conformant client rejects it ({class}, {})",
                recipe.requirements.join(", ")
            ),
        },
    };
    (verdict, None)
}

/// Whether every requirement the recipe cites is a SHOULD, SHOULD NOT or MAY (none binds
/// the client absolutely).
fn only_recommended(requirements: &[&str]) -> bool {
    !requirements.is_empty()
        && requirements
            .iter()
            .all(|id| concord_spec::requirement(id).is_some_and(|r| !r.level.is_absolute()))
}

/// What a refusal's text says beside the class a conformant client reports: `rejected as
/// expected (signature); the client's text points to signature` or `... is not
/// classified`. Clients word their errors freely, so this is a note, not a verdict.
fn refusal_note(expected: ErrorClass, refusal: &str) -> String {
    let first_line = refusal.lines().next().unwrap_or_default();
    let said: String = first_line.chars().take(160).collect();
    match ErrorClass::from_text(refusal) {
        Some(found) if found == expected => {
            format!("rejected as expected ({expected}); its error names the same class: {said}")
        }
        Some(found) => format!(
            "rejected as expected ({expected}); its error points to {found} instead: {said}"
        ),
        None => format!("rejected as expected ({expected}); its error is not classified: {said}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(requirements: &'static [&'static str], expect: Expect) -> Recipe {
        Recipe {
            name: "case",
            description: "a case",
            requirements,
            expect,
            build: |_, _| Err(GenError::new("unused", "not built")),
        }
    }

    #[test]
    fn accepting_what_only_a_should_forbids_is_noted_and_what_a_must_forbids_fails() {
        let should = recipe(
            &["RFC9420-15.3-3", "RFC9420-15.3-2"],
            Expect::Reject(ErrorClass::Generation),
        );
        let (verdict, _) = judge(&should, Answer::Accepted);
        let ClientVerdict::Skipped { reason } = verdict else {
            panic!("a SHOULD-only case accepted is not a failure: {verdict:?}");
        };
        assert!(reason.contains("RFC9420-15.3-3"), "{reason}");

        let must = recipe(
            &["RFC9420-15.3-3", "RFC9420-7.1-1"],
            Expect::Reject(ErrorClass::Generation),
        );
        assert!(matches!(
            judge(&must, Answer::Accepted).0,
            ClientVerdict::Failed { .. }
        ));
        let (refused, note) = judge(&should, Answer::Refused("generation too far".into()));
        assert_eq!(refused, ClientVerdict::Passed);
        assert!(note.is_some_and(|n| n.contains("generation")));
    }
}
