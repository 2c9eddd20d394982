//! Step by step parsing of an interop script: fields, types, and references to earlier steps.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use super::config::{
    Action, CommitSpec, ConfigError, ExtensionSpec, Object, ProposalSpec, ReInitSpec, Script, Step,
    StepIndexDisplay, StepRef,
};

/// What an earlier step leaves for later steps to refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    KeyPackage,
    Proposal,
    Commit,
    Psk,
    Ciphertext,
    Other,
}

impl Output {
    fn describe(self) -> &'static str {
        match self {
            Output::KeyPackage => "a key package (createKeyPackage)",
            Output::Proposal => "a proposal",
            Output::Commit => "a commit and its Welcome (commit, fullCommit)",
            Output::Psk => "an external PSK (installExternalPSK)",
            Output::Ciphertext => "a ciphertext (protect)",
            Output::Other => "nothing another step can use",
        }
    }
}

pub(super) struct StepParser {
    path: PathBuf,
    script: String,
    steps: Vec<Step>,
    outputs: Vec<Output>,
    unknown_fields: Vec<(usize, String)>,
}

/// One step's object, remembering which fields were read.
struct Fields<'a> {
    object: &'a Object,
    read: RefCell<BTreeSet<&'static str>>,
}

impl StepParser {
    pub(super) fn new(path: &Path, script: &str) -> Self {
        StepParser {
            path: path.to_path_buf(),
            script: script.to_string(),
            steps: Vec::new(),
            outputs: Vec::new(),
            unknown_fields: Vec::new(),
        }
    }

    pub(super) fn error(
        &self,
        step: Option<usize>,
        field: &str,
        detail: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            path: self.path.clone(),
            script: self.script.clone(),
            step: StepIndexDisplay(step),
            field: field.to_string(),
            detail: detail.into(),
        }
    }

    pub(super) fn finish(self) -> Script {
        Script {
            name: self.script,
            steps: self.steps,
            unknown_fields: self.unknown_fields,
        }
    }

    pub(super) fn step(&mut self, index: usize, value: &Value) -> Result<(), ConfigError> {
        let object = value
            .as_object()
            .ok_or_else(|| self.error(Some(index), "-", "expected an object"))?;
        let fields = Fields {
            object,
            read: RefCell::new(BTreeSet::new()),
        };
        let action_name = self.string(index, &fields, "action")?;
        let actor = self.optional_string(index, &fields, "actor")?;
        let (action, output) = self.action(index, &fields, &action_name)?;
        let needs_actor = !matches!(
            action,
            Action::InstallExternalPsk { .. } | Action::ReInit(_)
        );
        if needs_actor && actor.is_none() {
            return Err(self.error(
                Some(index),
                "actor",
                format!("missing: `{action_name}` needs an actor"),
            ));
        }
        let read = fields.read.into_inner();
        for key in object.keys() {
            if !read.contains(key.as_str()) {
                self.unknown_fields.push((index, key.clone()));
            }
        }
        self.steps.push(Step {
            action_name,
            actor,
            action,
        });
        self.outputs.push(output);
        Ok(())
    }

    fn action(
        &self,
        i: usize,
        f: &Fields<'_>,
        name: &str,
    ) -> Result<(Action, Output), ConfigError> {
        use Output as O;
        Ok(match name {
            "createGroup" => (
                Action::CreateGroup {
                    members: self.strings(i, f, "members")?,
                },
                O::Other,
            ),
            "createKeyPackage" => (Action::CreateKeyPackage, O::KeyPackage),
            "joinGroup" => (
                Action::JoinGroup {
                    welcome: self.reference(i, f, "welcome", &[O::Commit])?,
                },
                O::Other,
            ),
            "externalJoin" => (
                Action::ExternalJoin {
                    joiner: self.string(i, f, "joiner")?,
                    members: self.strings(i, f, "members")?,
                    external_tree: self.flag(i, f, &["externalTree", "external_tree"])?,
                    remove_prior: self.flag(i, f, &["removePrior", "remove_prior"])?,
                    psks: self.references(i, f, "psks", &[O::Psk])?,
                },
                O::Commit,
            ),
            "installExternalPSK" => (
                Action::InstallExternalPsk {
                    clients: self.strings(i, f, "clients")?,
                },
                O::Psk,
            ),
            "groupInfo" => (
                Action::GroupInfo {
                    external_tree: self.flag(i, f, &["externalTree", "external_tree"])?,
                },
                O::Other,
            ),
            "addProposal" => (
                Action::AddProposal {
                    key_package: self.reference(i, f, "keyPackage", &[O::KeyPackage])?,
                },
                O::Proposal,
            ),
            "removeProposal" => (
                Action::RemoveProposal {
                    removed: self.string(i, f, "removed")?,
                },
                O::Proposal,
            ),
            "updateProposal" => (Action::UpdateProposal, O::Proposal),
            "externalPSKProposal" => (
                Action::ExternalPskProposal {
                    psk_id: self.reference(i, f, "pskID", &[O::Psk])?,
                },
                O::Proposal,
            ),
            "resumptionPSKProposal" => (
                Action::ResumptionPskProposal {
                    epoch_id: self.number(i, f, "epochID")?,
                },
                O::Proposal,
            ),
            "groupContextExtensionsProposal" => (
                Action::GroupContextExtensionsProposal {
                    extensions: self.extensions(i, f.get("extensions", &f.read), "extensions")?,
                },
                O::Proposal,
            ),
            "fullCommit" => (
                Action::FullCommit {
                    commit: self.commit_spec(i, f)?,
                    members: self.strings(i, f, "members")?,
                    joiners: self.strings(i, f, "joiners")?,
                },
                O::Commit,
            ),
            "commit" => (Action::Commit(self.commit_spec(i, f)?), O::Commit),
            "handleCommit" => (
                Action::HandleCommit {
                    commit: self.reference(i, f, "commit", &[O::Commit])?,
                    by_reference: self.references(i, f, "byReference", &[O::Proposal])?,
                },
                O::Other,
            ),
            "handlePendingCommit" => (Action::HandlePendingCommit, O::Other),
            "protect" => (
                Action::Protect {
                    authenticated_data: self
                        .optional_string(i, f, "authenticatedData")?
                        .unwrap_or_default(),
                    plaintext: self.string(i, f, "plaintext")?,
                },
                O::Ciphertext,
            ),
            "unprotect" => (
                Action::Unprotect {
                    ciphertext: self.reference(i, f, "ciphertext", &[O::Ciphertext])?,
                },
                O::Other,
            ),
            "reinit" => (
                Action::ReInit(ReInitSpec {
                    proposer: self.optional_string(i, f, "proposer")?,
                    committer: self.string(i, f, "committer")?,
                    welcomer: self.string(i, f, "welcomer")?,
                    members: self.strings(i, f, "members")?,
                    change_cipher_suite: self.flag(i, f, &["changeCipherSuite"])?,
                    change_group_id: self.flag(i, f, &["changeGroupID"])?,
                    extensions: self.extensions(i, f.get("extensions", &f.read), "extensions")?,
                    force_path: self.flag(i, f, &["forcePath", "force_path"])?,
                    external_tree: self.flag(i, f, &["externalTree", "external_tree"])?,
                    external_reinit_proposal: match f.get("externalReinitProposal", &f.read) {
                        None | Some(Value::Null) => None,
                        Some(value) => Some(self.check_reference(
                            i,
                            "externalReinitProposal",
                            value,
                            &[O::Proposal],
                        )?),
                    },
                }),
                O::Other,
            ),
            "branch" => (
                Action::Branch {
                    members: self.strings(i, f, "members")?,
                    extensions: self.extensions(i, f.get("extensions", &f.read), "extensions")?,
                    force_path: self.flag(i, f, &["forcePath", "force_path"])?,
                    external_tree: self.flag(i, f, &["externalTree", "external_tree"])?,
                },
                O::Other,
            ),
            "newMemberAddProposal" => (
                Action::NewMemberAddProposal {
                    joiner: self.string(i, f, "joiner")?,
                },
                O::Proposal,
            ),
            "addExternalSigner" => (
                Action::AddExternalSigner {
                    signer: self.string(i, f, "signer")?,
                },
                O::Proposal,
            ),
            "externalSignerProposal" => {
                let description = f
                    .get("description", &f.read)
                    .ok_or_else(|| self.error(Some(i), "description", "missing"))?;
                (
                    Action::ExternalSignerProposal {
                        member: self.string(i, f, "member")?,
                        description: self.proposal(i, description, "description")?,
                    },
                    O::Proposal,
                )
            }
            other => {
                return Err(self.error(Some(i), "action", format!("unknown action `{other}`")));
            }
        })
    }

    fn commit_spec(&self, i: usize, f: &Fields<'_>) -> Result<CommitSpec, ConfigError> {
        let by_value = match f.get("byValue", &f.read) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(k, item)| self.proposal(i, item, &format!("byValue[{k}]")))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(self.error(
                    Some(i),
                    "byValue",
                    "expected an array of proposal descriptions",
                ));
            }
        };
        Ok(CommitSpec {
            by_reference: self.references(i, f, "byReference", &[Output::Proposal])?,
            by_value,
            force_path: self.flag(i, f, &["force_path", "forcePath"])?,
            external_tree: self.flag(i, f, &["external_tree", "externalTree"])?,
        })
    }

    fn proposal(&self, i: usize, value: &Value, at: &str) -> Result<ProposalSpec, ConfigError> {
        let object = value
            .as_object()
            .ok_or_else(|| self.error(Some(i), at, "expected a proposal description object"))?;
        let f = Fields {
            object,
            read: RefCell::new(BTreeSet::new()),
        };
        let field = |name: &str| format!("{at}.{name}");
        let kind = self
            .string(i, &f, "proposalType")
            .map_err(|e| ConfigError {
                field: field("proposalType"),
                ..e
            })?;
        let with_prefix = |e: ConfigError| ConfigError {
            field: format!("{at}.{}", e.field),
            ..e
        };
        Ok(match kind.as_str() {
            "add" => ProposalSpec::Add {
                key_package: self
                    .reference(i, &f, "keyPackage", &[Output::KeyPackage])
                    .map_err(with_prefix)?,
            },
            "remove" => ProposalSpec::Remove {
                removed: self.string(i, &f, "removed").map_err(with_prefix)?,
            },
            "externalPSK" => ProposalSpec::ExternalPsk {
                psk_id: self
                    .reference(i, &f, "pskID", &[Output::Psk])
                    .map_err(with_prefix)?,
            },
            "resumptionPSK" => ProposalSpec::ResumptionPsk {
                epoch_id: self.number(i, &f, "epochID").map_err(with_prefix)?,
            },
            "groupContextExtensions" => ProposalSpec::GroupContextExtensions {
                extensions: self.extensions(
                    i,
                    f.get("extensions", &f.read),
                    &field("extensions"),
                )?,
            },
            "reinit" => ProposalSpec::ReInit {
                change_cipher_suite: self
                    .flag(i, &f, &["changeCipherSuite"])
                    .map_err(with_prefix)?,
                change_group_id: self.flag(i, &f, &["changeGroupID"]).map_err(with_prefix)?,
                extensions: self.extensions(
                    i,
                    f.get("extensions", &f.read),
                    &field("extensions"),
                )?,
            },
            other => {
                return Err(self.error(
                    Some(i),
                    &field("proposalType"),
                    format!("unknown proposal type `{other}`"),
                ));
            }
        })
    }

    fn string(&self, i: usize, f: &Fields<'_>, name: &'static str) -> Result<String, ConfigError> {
        self.optional_string(i, f, name)?
            .ok_or_else(|| self.error(Some(i), name, "missing"))
    }

    fn optional_string(
        &self,
        i: usize,
        f: &Fields<'_>,
        name: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        match f.get(name, &f.read) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(self.error(Some(i), name, format!("expected a string, found {other}")))
            }
        }
    }

    fn strings(
        &self,
        i: usize,
        f: &Fields<'_>,
        name: &'static str,
    ) -> Result<Vec<String>, ConfigError> {
        match f.get(name, &f.read) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        self.error(
                            Some(i),
                            &format!("{name}[{k}]"),
                            "expected a participant name",
                        )
                    })
                })
                .collect(),
            Some(_) => Err(self.error(Some(i), name, "expected an array of participant names")),
        }
    }

    fn flag(&self, i: usize, f: &Fields<'_>, names: &[&'static str]) -> Result<bool, ConfigError> {
        for &name in names {
            match f.get(name, &f.read) {
                None | Some(Value::Null) => continue,
                Some(Value::Bool(b)) => return Ok(*b),
                Some(other) => {
                    return Err(self.error(
                        Some(i),
                        name,
                        format!("expected true or false, found {other}"),
                    ));
                }
            }
        }
        Ok(false)
    }

    fn number(&self, i: usize, f: &Fields<'_>, name: &'static str) -> Result<u64, ConfigError> {
        f.get(name, &f.read)
            .ok_or_else(|| self.error(Some(i), name, "missing"))?
            .as_u64()
            .ok_or_else(|| self.error(Some(i), name, "expected a non-negative integer"))
    }

    fn reference(
        &self,
        i: usize,
        f: &Fields<'_>,
        name: &'static str,
        kinds: &[Output],
    ) -> Result<StepRef, ConfigError> {
        let value = f
            .get(name, &f.read)
            .ok_or_else(|| self.error(Some(i), name, "missing"))?;
        self.check_reference(i, name, value, kinds)
    }

    fn references(
        &self,
        i: usize,
        f: &Fields<'_>,
        name: &'static str,
        kinds: &[Output],
    ) -> Result<Vec<StepRef>, ConfigError> {
        match f.get(name, &f.read) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(k, v)| self.check_reference(i, &format!("{name}[{k}]"), v, kinds))
                .collect(),
            Some(_) => Err(self.error(Some(i), name, "expected an array of step indices")),
        }
    }

    fn check_reference(
        &self,
        i: usize,
        field: &str,
        value: &Value,
        kinds: &[Output],
    ) -> Result<StepRef, ConfigError> {
        let target = value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                self.error(
                    Some(i),
                    field,
                    format!("expected the index of an earlier step, found {value}"),
                )
            })?;
        let Some(&output) = self.outputs.get(target).filter(|_| target < i) else {
            return Err(self.error(
                Some(i),
                field,
                format!("step {target} is not an earlier step of this script"),
            ));
        };
        if !kinds.contains(&output) {
            let wanted: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
            return Err(self.error(
                Some(i),
                field,
                format!(
                    "step {target} produces {}, not {}",
                    output.describe(),
                    wanted.join(" or ")
                ),
            ));
        }
        Ok(StepRef(target))
    }

    fn extensions(
        &self,
        i: usize,
        value: Option<&Value>,
        field: &str,
    ) -> Result<Vec<ExtensionSpec>, ConfigError> {
        let items = match value {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(self.error(Some(i), field, "expected an array of extensions")),
        };
        items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let at = |name: &str| format!("{field}[{k}].{name}");
                let extension_type = item
                    .get("extension_type")
                    .and_then(Value::as_u64)
                    .and_then(|t| u16::try_from(t).ok())
                    .ok_or_else(|| {
                        self.error(
                            Some(i),
                            &at("extension_type"),
                            "expected an integer 0..65535",
                        )
                    })?;
                let data = item
                    .get("extension_data")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        self.error(Some(i), &at("extension_data"), "expected a base64 string")
                    })?;
                let extension_data = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| {
                        self.error(Some(i), &at("extension_data"), format!("not base64: {e}"))
                    })?;
                Ok(ExtensionSpec {
                    extension_type,
                    extension_data,
                })
            })
            .collect()
    }
}

impl<'a> Fields<'a> {
    /// Looks a field up and remembers that it is known.
    fn get(&self, name: &'static str, read: &RefCell<BTreeSet<&'static str>>) -> Option<&'a Value> {
        read.borrow_mut().insert(name);
        self.object.get(name)
    }
}
