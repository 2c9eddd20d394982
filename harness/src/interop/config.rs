//! Interop scripts in the MLS working group's config format, parsed into typed steps.
//!
//! ```text
//! { "scripts": { "<name>": [ { "action": "...", "actor": "...", ...fields }, ... ] } }
//! ```
//!
//! A number in a step refers to an earlier step of the same script, whose output it uses.
//! Parsing checks everything a run would otherwise trip over halfway: required fields, their
//! types, references that point forward or out of range, references to a step that produces
//! nothing usable. Errors name the file, the script, the step index and the field.
//! The upstream files spell a few fields in two styles (`force_path` and `forcePath`); both
//! are accepted. Fields this parser does not know are kept as warnings, not errors, so a
//! newer script still runs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Where in which file something is wrong, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: script `{script}`, step {step}, field `{field}`: {detail}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub script: String,
    /// Step index in the script (`None` for the file or the script as a whole).
    pub step: StepIndexDisplay,
    pub field: String,
    pub detail: String,
}

/// A step index for messages: `-` when the problem is not in a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepIndexDisplay(pub Option<usize>);

impl std::fmt::Display for StepIndexDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(i) => write!(f, "{i}"),
            None => f.write_str("-"),
        }
    }
}

/// An earlier step of the same script, whose output this step uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StepRef(pub usize);

/// A group context extension given in a script (`extension_data` is base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionSpec {
    pub extension_type: u16,
    pub extension_data: Vec<u8>,
}

/// A proposal described by value (`byValue`, `description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalSpec {
    Add {
        key_package: StepRef,
    },
    Remove {
        removed: String,
    },
    ExternalPsk {
        psk_id: StepRef,
    },
    ResumptionPsk {
        epoch_id: u64,
    },
    GroupContextExtensions {
        extensions: Vec<ExtensionSpec>,
    },
    ReInit {
        change_cipher_suite: bool,
        change_group_id: bool,
        extensions: Vec<ExtensionSpec>,
    },
}

/// What a step does; the fields are the action's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    CreateGroup {
        members: Vec<String>,
    },
    CreateKeyPackage,
    JoinGroup {
        welcome: StepRef,
    },
    ExternalJoin {
        joiner: String,
        members: Vec<String>,
        external_tree: bool,
        remove_prior: bool,
        psks: Vec<StepRef>,
    },
    InstallExternalPsk {
        clients: Vec<String>,
    },
    GroupInfo {
        external_tree: bool,
    },
    AddProposal {
        key_package: StepRef,
    },
    RemoveProposal {
        removed: String,
    },
    UpdateProposal,
    ExternalPskProposal {
        psk_id: StepRef,
    },
    ResumptionPskProposal {
        epoch_id: u64,
    },
    GroupContextExtensionsProposal {
        extensions: Vec<ExtensionSpec>,
    },
    FullCommit {
        commit: CommitSpec,
        members: Vec<String>,
        joiners: Vec<String>,
    },
    Commit(CommitSpec),
    HandleCommit {
        commit: StepRef,
        by_reference: Vec<StepRef>,
    },
    HandlePendingCommit,
    Protect {
        authenticated_data: String,
        plaintext: String,
    },
    Unprotect {
        ciphertext: StepRef,
    },
    ReInit(ReInitSpec),
    Branch {
        members: Vec<String>,
        extensions: Vec<ExtensionSpec>,
        force_path: bool,
        external_tree: bool,
    },
    NewMemberAddProposal {
        joiner: String,
    },
    AddExternalSigner {
        signer: String,
    },
    ExternalSignerProposal {
        member: String,
        description: ProposalSpec,
    },
}

/// The proposals and options of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitSpec {
    pub by_reference: Vec<StepRef>,
    pub by_value: Vec<ProposalSpec>,
    pub force_path: bool,
    pub external_tree: bool,
}

/// A ReInit: who proposes, commits and welcomes, and what changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReInitSpec {
    pub proposer: Option<String>,
    pub committer: String,
    pub welcomer: String,
    pub members: Vec<String>,
    pub change_cipher_suite: bool,
    pub change_group_id: bool,
    pub extensions: Vec<ExtensionSpec>,
    pub force_path: bool,
    pub external_tree: bool,
    /// A ReInit proposal made earlier (by an external signer) that the committer commits,
    /// instead of `proposer` proposing one.
    pub external_reinit_proposal: Option<StepRef>,
}

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The upstream action name, as written.
    pub action_name: String,
    /// The acting participant (absent for `installExternalPSK` and `reinit`).
    pub actor: Option<String>,
    pub action: Action,
}

/// A named script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub name: String,
    pub steps: Vec<Step>,
    /// Fields present in the file that this parser does not know (step index, field).
    pub unknown_fields: Vec<(usize, String)>,
}

impl Script {
    /// Every participant the script names, in order of first appearance.
    pub fn actors(&self) -> Vec<String> {
        let mut actors: Vec<String> = Vec::new();
        let mut note = |name: &String| {
            if !actors.contains(name) {
                actors.push(name.clone());
            }
        };
        for step in &self.steps {
            if let Some(actor) = &step.actor {
                note(actor);
            }
            for name in step.action.participants() {
                note(name);
            }
        }
        actors
    }
}

impl Action {
    /// Participants named in the action's fields (members, joiners, signers, ...).
    pub fn participants(&self) -> Vec<&String> {
        match self {
            Action::CreateGroup { members } | Action::InstallExternalPsk { clients: members } => {
                members.iter().collect()
            }
            Action::ExternalJoin {
                joiner, members, ..
            } => std::iter::once(joiner).chain(members).collect(),
            Action::FullCommit {
                members, joiners, ..
            } => members.iter().chain(joiners).collect(),
            Action::ReInit(spec) => spec
                .proposer
                .iter()
                .chain([&spec.committer, &spec.welcomer])
                .chain(&spec.members)
                .collect(),
            Action::Branch { members, .. } => members.iter().collect(),
            Action::NewMemberAddProposal { joiner } => vec![joiner],
            Action::AddExternalSigner { signer } => vec![signer],
            Action::ExternalSignerProposal { member, .. } => vec![member],
            Action::RemoveProposal { removed } => vec![removed],
            _ => Vec::new(),
        }
    }
}

/// A parsed config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub scripts: Vec<Script>,
}

impl ConfigFile {
    /// One line per field the parser does not know, with its place: a typo in a script
    /// (`force_pth`) is reported, never dropped silently.
    pub fn warnings(&self) -> Vec<String> {
        self.scripts
            .iter()
            .flat_map(|script| {
                script.unknown_fields.iter().map(move |(step, field)| {
                    format!(
                        "{}: script `{}`, step {step}: unknown field `{field}` (ignored; not \
                         part of the interop format Concord reads)",
                        self.path.display(),
                        script.name
                    )
                })
            })
            .collect()
    }
}

/// Reads and parses a config file.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let whole = |field: &str, detail: String| ConfigError {
        path: path.to_path_buf(),
        script: "-".into(),
        step: StepIndexDisplay(None),
        field: field.into(),
        detail,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| whole("-", format!("cannot read: {e}")))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        whole(
            "-",
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    parse(path, &value)
}

/// Parses a config already read as JSON.
pub fn parse(path: &Path, value: &Value) -> Result<ConfigFile, ConfigError> {
    let fail = |field: &str, detail: &str| ConfigError {
        path: path.to_path_buf(),
        script: "-".into(),
        step: StepIndexDisplay(None),
        field: field.into(),
        detail: detail.into(),
    };
    let scripts = value
        .get("scripts")
        .ok_or_else(|| {
            fail(
                "scripts",
                "missing: a config is {\"scripts\": {\"name\": [steps]}}",
            )
        })?
        .as_object()
        .ok_or_else(|| fail("scripts", "expected an object of named scripts"))?;
    let mut parsed = Vec::new();
    for (name, steps) in scripts {
        let mut parser = super::config_steps::StepParser::new(path, name);
        let steps = steps
            .as_array()
            .ok_or_else(|| parser.error(None, "-", "expected an array of steps"))?;
        for (index, step) in steps.iter().enumerate() {
            parser.step(index, step)?;
        }
        parsed.push(parser.finish());
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        scripts: parsed,
    })
}

/// Field access for step parsing, shared with `config_steps`.
pub(super) type Object = Map<String, Value>;
