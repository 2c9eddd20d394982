//! Traceability: every check Concord has, the requirement IDs it cites, and what that covers.
//!
//! ```text
//! REGISTRY: [vector_families, ...] ──> checks() ──> Vec<CheckCitation { check, source, requirements }>
//!                                                        │
//!                concord_spec::catalog() ────────────────┼──> unknown_citations(): IDs the catalog lacks
//!                                                        ├──> justified_but_cited(): contradictions
//!                                                        └──> coverage(): per level, per section,
//!                                                             tested / justified / open
//! ```
//!
//! # Covered, justified, open
//!
//! A requirement is *tested* when at least one registered check cites it, *justified* when no
//! check cites it and the catalog carries a `justified = "reason"` for it (nothing outside an
//! implementation can observe it: erasure of secrets, local policy, IANA...), and *open*
//! otherwise. *Covered* is tested or justified: every such requirement is either exercised or
//! accounted for with a reason. The headline `MUST/MUST NOT covered: X% (a/b: t tested, j
//! justified)` is followed by `MUST/MUST NOT tested: Y% (t/b)` and the open count, so neither
//! number hides the other. A requirement both cited and justified is a contradiction (either
//! the check does not test it or the reason is wrong): `concord catalog check` names it and
//! exits 1; the numbers count it as tested.
//!
//! # Registering a subsystem
//!
//! A subsystem that checks something (a vector family, an interop check, a negative vector
//! set, a scenario, a property test) writes one function returning its [`CheckCitation`]s and
//! adds that function to [`REGISTRY`]; nothing else changes. `concord catalog check` then
//! refuses an ID the catalog lacks (naming the check), and the coverage numbers and the
//! report's coverage by section include the new checks.
//!
//! # Commands
//!
//! `concord catalog check [--uncovered] [--justified] [--json]`,
//! `concord catalog list [--section S] [--document D] [--json]`,
//! `concord catalog show ID`: see [`CatalogCommand`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use concord_spec::{Catalog, Document, Level, Requirement};
use serde::Serialize;
use serde_json::json;

use crate::exit;
use crate::vectors::FAMILIES;

pub use concord_spec::CheckCitation;

/// Every subsystem's citation list. Add one function here to register a subsystem.
pub static REGISTRY: &[fn() -> Vec<CheckCitation>] = &[
    vector_families,
    negative_vectors,
    interop_runner,
    simulator_assertions,
    reference_validation,
    crate::sim::adversary::citations,
    crate::property::citations,
    crate::provider::ptest::citations,
    crate::vectors::mimi_content::citations,
];

/// Every check of every registered subsystem.
pub fn checks() -> Vec<CheckCitation> {
    REGISTRY.iter().flat_map(|subsystem| subsystem()).collect()
}

/// The official vector families (`concord vectors verify`), one check per family.
fn vector_families() -> Vec<CheckCitation> {
    FAMILIES
        .iter()
        .map(|family| CheckCitation {
            check: format!("vectors/{}", family.name),
            source: "vectors/src/lib.rs",
            requirements: family
                .requirements
                .iter()
                .map(|id| id.to_string())
                .collect(),
        })
        .collect()
}

/// The negative vectors (`concord vectors generate --negative`), one check per recipe.
fn negative_vectors() -> Vec<CheckCitation> {
    crate::adversary::FAMILIES
        .iter()
        .flat_map(|family| {
            family.recipes.iter().map(move |recipe| CheckCitation {
                check: format!("negative/{}/{}", family.name, recipe.name),
                source: "harness/src/adversary/families",
                requirements: ids(recipe.requirements),
            })
        })
        .collect()
}

/// The interop runner (`concord interop`): what every case, each action and each check cites.
fn interop_runner() -> Vec<CheckCitation> {
    crate::interop::requirements::citations()
        .into_iter()
        .map(|(check, requirements)| CheckCitation {
            check,
            source: "harness/src/interop/requirements.rs",
            requirements: ids(&requirements),
        })
        .collect()
}

/// The simulator's scenario assertions (`concord sim`).
fn simulator_assertions() -> Vec<CheckCitation> {
    use crate::sim::scenario::Check;
    [
        Check::Converged,
        Check::DeliveredOnce,
        Check::ParticipantsOnly,
        Check::RemovedCannotRead,
    ]
    .into_iter()
    .map(|check| CheckCitation {
        check: format!("sim/{}", check.name()),
        source: "harness/src/sim/checks.rs",
        requirements: crate::sim::checks::requirements(check),
    })
    .collect()
}

/// The reference's validation checks: one per variant of its typed errors that a peer's
/// input can raise (`concord_reference::requirement`), named after the variant, e.g.
/// `reference/CommitError::DuplicatePsk`. Variants only API misuse raises cite nothing
/// and are left out.
fn reference_validation() -> Vec<CheckCitation> {
    concord_reference::requirement::citations()
        .into_iter()
        .flat_map(|(_, table)| table.iter())
        .filter(|citation| !citation.requirements.is_empty())
        .map(|citation| CheckCitation {
            check: format!("reference/{}", variant_name(citation.error)),
            source: "reference/src/requirement.rs",
            requirements: ids(citation.requirements),
        })
        .collect()
}

/// A match pattern as a check name: `CommitError::WrongEpoch { .. }` becomes
/// `CommitError::WrongEpoch`, `CommitError::UpdateLeaf { reason: leaf_reason::SIGNATURE, .. }`
/// becomes `CommitError::UpdateLeaf(SIGNATURE)`.
fn variant_name(pattern: &str) -> String {
    let compact: String = pattern.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = compact.find([' ', '(', '{']).unwrap_or(compact.len());
    let (variant, rest) = compact.split_at(end);
    let reason = rest
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter_map(|word| word.rsplit("::").next())
        .find(|word| word.len() > 1 && word.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
    match reason {
        Some(reason) => format!("{variant}({reason})"),
        None => variant.to_string(),
    }
}

fn ids(cited: &[&str]) -> Vec<String> {
    cited.iter().map(|id| id.to_string()).collect()
}

/// A cited ID that the catalog does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownCitation {
    pub check: String,
    pub source: &'static str,
    pub id: String,
}

/// Every cited ID the catalog lacks, in check order.
pub fn unknown_citations(catalog: &Catalog, checks: &[CheckCitation]) -> Vec<UnknownCitation> {
    checks
        .iter()
        .flat_map(|check| {
            check
                .requirements
                .iter()
                .filter(|id| catalog.get(id).is_none())
                .map(|id| UnknownCitation {
                    check: check.check.clone(),
                    source: check.source,
                    id: id.clone(),
                })
        })
        .collect()
}

/// A cited requirement that the catalog also marks as not observable from outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JustifiedButCited {
    pub id: String,
    /// The checks citing it.
    pub checks: Vec<String>,
}

/// Every requirement of `catalog` that carries a justification and that a check cites, in
/// catalog order: one of the two is wrong.
pub fn justified_but_cited(catalog: &Catalog, checks: &[CheckCitation]) -> Vec<JustifiedButCited> {
    catalog
        .requirements()
        .filter(|r| r.is_justified())
        .filter_map(|r| {
            let citing: Vec<String> = checks
                .iter()
                .filter(|c| c.requirements.contains(&r.id))
                .map(|c| c.check.clone())
                .collect();
            (!citing.is_empty()).then(|| JustifiedButCited {
                id: r.id.clone(),
                checks: citing,
            })
        })
        .collect()
}

/// Where one requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// At least one check cites it.
    Tested,
    /// No check cites it; the catalog says why none can.
    Justified,
    /// Neither.
    Open,
}

/// Tested, justified and open out of total; covered is tested plus justified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Tested or justified.
    pub covered: usize,
    pub tested: usize,
    pub justified: usize,
    pub open: usize,
    pub total: usize,
}

impl Tally {
    fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::Tested => self.tested += 1,
            Status::Justified => self.justified += 1,
            Status::Open => self.open += 1,
        }
        self.covered = self.tested + self.justified;
    }

    /// Covered (tested or justified) percentage, truncated to one decimal; 0 of 0 is 0.0.
    pub fn covered_percent(self) -> f64 {
        permille_percent(self.covered, self.total)
    }

    /// Tested percentage, truncated to one decimal; 0 of 0 is 0.0.
    pub fn tested_percent(self) -> f64 {
        permille_percent(self.tested, self.total)
    }
}

/// `part` of `total` in percent, truncated to one decimal (never rounds up to a share not
/// reached); 0 of 0 is 0.0.
fn permille_percent(part: usize, total: usize) -> f64 {
    (part * 1000)
        .checked_div(total)
        .map_or(0.0, |permille| permille as f64 / 10.0)
}

/// One level's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LevelCoverage {
    /// `MUST`, `MUST NOT`, `SHOULD`, `SHOULD NOT` or `MAY`.
    pub level: &'static str,
    #[serde(flatten)]
    pub tally: Tally,
}

/// One top-level section's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionCoverage {
    /// Top-level section number, e.g. `12`.
    pub section: String,
    /// Its title (empty when the catalog does not know it).
    pub title: String,
    /// All requirements of the section.
    pub all: Tally,
    /// Its MUST and MUST NOT requirements.
    pub absolute: Tally,
}

/// How much of one document the registered checks cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub document: String,
    pub profile: Option<String>,
    pub all: Tally,
    /// MUST and MUST NOT together: the headline numbers.
    pub absolute: Tally,
    /// Per level, in `Level::ALL` order (levels without requirements left out).
    pub by_level: Vec<LevelCoverage>,
    /// Per top-level section, in section order.
    pub by_section: Vec<SectionCoverage>,
    /// Open IDs (no check cites them, no justification), in catalog order.
    pub open: Vec<String>,
    /// Justified IDs no check cites, in catalog order, with the catalog's reason.
    pub justified: Vec<JustifiedRequirement>,
    /// For each tested ID, the checks citing it.
    #[serde(skip)]
    pub cited_by: BTreeMap<String, Vec<String>>,
}

/// A requirement the catalog marks as not observable from outside, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JustifiedRequirement {
    pub id: String,
    pub reason: String,
}

/// Coverage of `document` by `checks`: a requirement is tested when at least one check
/// cites its ID, else justified when the catalog says why no check can, else open.
pub fn coverage(document: &Document, checks: &[CheckCitation]) -> Coverage {
    let mut cited_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for check in checks {
        for id in &check.requirements {
            let citing = cited_by.entry(id.clone()).or_default();
            if !citing.contains(&check.check) {
                citing.push(check.check.clone());
            }
        }
    }
    let mut all = Tally::default();
    let mut absolute = Tally::default();
    let mut levels: BTreeMap<Level, Tally> = BTreeMap::new();
    let mut sections: Vec<SectionCoverage> = Vec::new();
    let mut open = Vec::new();
    let mut justified = Vec::new();
    for requirement in &document.requirements {
        let status = match (
            cited_by.contains_key(&requirement.id),
            &requirement.justified,
        ) {
            (true, _) => Status::Tested,
            (false, Some(reason)) => {
                justified.push(JustifiedRequirement {
                    id: requirement.id.clone(),
                    reason: reason.clone(),
                });
                Status::Justified
            }
            (false, None) => {
                open.push(requirement.id.clone());
                Status::Open
            }
        };
        all.add(status);
        levels.entry(requirement.level).or_default().add(status);
        if requirement.level.is_absolute() {
            absolute.add(status);
        }
        let top = requirement.top_section();
        let slot = match sections.iter().position(|s| s.section == top) {
            Some(slot) => slot,
            None => {
                sections.push(SectionCoverage {
                    section: top.to_owned(),
                    title: document
                        .top_section_title(top)
                        .unwrap_or_default()
                        .to_owned(),
                    all: Tally::default(),
                    absolute: Tally::default(),
                });
                sections.len() - 1
            }
        };
        sections[slot].all.add(status);
        if requirement.level.is_absolute() {
            sections[slot].absolute.add(status);
        }
    }
    sections.sort_by_key(|s| section_key(&s.section));
    cited_by.retain(|id, _| document.requirements.iter().any(|r| &r.id == id));
    Coverage {
        document: document.name.clone(),
        profile: document.profile.clone(),
        all,
        absolute,
        by_level: levels
            .into_iter()
            .map(|(level, tally)| LevelCoverage {
                level: level.as_str(),
                tally,
            })
            .collect(),
        by_section: sections,
        open,
        justified,
        cited_by,
    }
}

/// Numeric order of dotted sections (`2` before `10`; an appendix letter after numbers).
fn section_key(section: &str) -> Vec<(u8, u64)> {
    section
        .split('.')
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (0, n),
            Err(_) => (1, part.bytes().next().map(u64::from).unwrap_or(0)),
        })
        .collect()
}

/// `concord catalog ...`
#[derive(clap::Subcommand, Debug)]
pub enum CatalogCommand {
    /// Check that every ID a check cites is in the catalog and that no cited requirement is
    /// marked justified (exit 1 otherwise), and print the coverage: total, per level,
    /// MUST/MUST NOT covered (tested or justified), tested and open, per top-level section.
    Check {
        /// Also list the open requirements (no check cites them, no justification).
        #[arg(long)]
        uncovered: bool,
        /// Also list the justified requirements with their reasons.
        #[arg(long)]
        justified: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List requirements, optionally of one document and of one section and its subsections.
    List {
        /// Only this section and its subsections, e.g. 12.4.
        #[arg(long)]
        section: Option<String>,
        /// Only this document: its name or ID prefix (RFC9420, draft-ietf-mimi-protocol-06,
        /// MIMI-PROTOCOL).
        #[arg(long)]
        document: Option<String>,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show one requirement and the checks that cite it.
    Show {
        /// The requirement ID, e.g. RFC9420-12.4.2-1.
        id: String,
    },
}

/// Runs a `concord catalog` command against the compiled-in catalog and the registry;
/// returns the exit code (2 if the catalog itself does not load).
pub fn run(command: CatalogCommand) -> u8 {
    let catalog = match concord_spec::catalog() {
        Ok(catalog) => catalog,
        Err(error) => {
            eprintln!("error: the requirement catalog does not load: {error}");
            return exit::BAD_INPUT;
        }
    };
    let checks = checks();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    let result = match command {
        CatalogCommand::Check {
            uncovered,
            justified,
            json,
        } => {
            let lists = Lists {
                open: uncovered,
                justified,
            };
            check(catalog, &checks, lists, json, &mut out, &mut err)
        }
        CatalogCommand::List {
            section,
            document,
            json,
        } => list(
            catalog,
            Selection {
                section: section.as_deref(),
                document: document.as_deref(),
            },
            json,
            &mut out,
            &mut err,
        ),
        CatalogCommand::Show { id } => show(catalog, &checks, &id, &mut out, &mut err),
    };
    match result {
        Ok(code) => code,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => exit::OK,
        Err(error) => {
            eprintln!("error: cannot write the output: {error}");
            exit::BAD_INPUT
        }
    }
}

/// Which requirement lists `concord catalog check` prints beside the numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lists {
    /// The open requirements (`--uncovered`).
    pub open: bool,
    /// The justified requirements and their reasons (`--justified`).
    pub justified: bool,
}

/// `concord catalog check`: unknown citations and justified requirements that a check cites
/// are named on `err` and give exit 1; the coverage of every document goes to `out`.
pub fn check(
    catalog: &Catalog,
    checks: &[CheckCitation],
    lists: Lists,
    as_json: bool,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<u8> {
    let unknown = unknown_citations(catalog, checks);
    for citation in &unknown {
        writeln!(
            err,
            "error: check {} ({}) cites {}, which the catalog does not have",
            citation.check, citation.source, citation.id
        )?;
    }
    let contradictions = justified_but_cited(catalog, checks);
    for contradiction in &contradictions {
        writeln!(
            err,
            "error: {} is justified as not observable, yet cited by {}",
            contradiction.id,
            contradiction.checks.join(", ")
        )?;
    }
    let coverages: Vec<Coverage> = catalog
        .documents()
        .iter()
        .map(|document| coverage(document, checks))
        .collect();
    if as_json {
        let documents: Vec<serde_json::Value> = coverages
            .iter()
            .map(|c| {
                let mut value = json!(c);
                if let Some(object) = value.as_object_mut() {
                    if !lists.open {
                        object.remove("open");
                    }
                    if !lists.justified {
                        object.remove("justified");
                    }
                }
                value
            })
            .collect();
        let value = json!({
            "checks": checks.len(),
            "unknown_citations": unknown,
            "justified_but_cited": contradictions,
            "documents": documents,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "checks registered: {}", checks.len())?;
        for c in &coverages {
            write_coverage(c, catalog, lists, out)?;
        }
    }
    Ok(if unknown.is_empty() && contradictions.is_empty() {
        exit::OK
    } else {
        exit::UNEXPECTED
    })
}

fn write_coverage(
    c: &Coverage,
    catalog: &Catalog,
    lists: Lists,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out)?;
    match &c.profile {
        Some(profile) => writeln!(out, "{} (profile {profile})", c.document)?,
        None => writeln!(out, "{}", c.document)?,
    }
    writeln!(
        out,
        "  requirements: {} ({} tested by at least one check, {} justified, {} open)",
        c.all.total, c.all.tested, c.all.justified, c.all.open
    )?;
    let levels: Vec<String> = c
        .by_level
        .iter()
        .map(|l| format!("{} {}", l.level, l.tally.total))
        .collect();
    writeln!(out, "  per level: {}", levels.join(", "))?;
    let a = c.absolute;
    writeln!(
        out,
        "  MUST/MUST NOT covered: {:.1}% ({}/{}: {} tested, {} justified)",
        a.covered_percent(),
        a.covered,
        a.total,
        a.tested,
        a.justified
    )?;
    writeln!(
        out,
        "  MUST/MUST NOT tested: {:.1}% ({}/{})",
        a.tested_percent(),
        a.tested,
        a.total
    )?;
    writeln!(out, "  MUST/MUST NOT open: {}", a.open)?;
    writeln!(
        out,
        "  per section (tested/justified/open/total; all levels, then MUST/MUST NOT):"
    )?;
    for s in &c.by_section {
        writeln!(
            out,
            "    {:>4} {:<40} {:>15}  {:>15}",
            s.section,
            s.title,
            fractions(s.all),
            fractions(s.absolute)
        )?;
    }
    if lists.open {
        writeln!(out, "  open ({}):", c.open.len())?;
        for id in &c.open {
            if let Some(r) = catalog.get(id) {
                writeln!(
                    out,
                    "    {:<22} {:<10} {}",
                    r.id,
                    r.level.as_str(),
                    r.summary
                )?;
            }
        }
    }
    if lists.justified {
        writeln!(out, "  justified ({}):", c.justified.len())?;
        for j in &c.justified {
            if let Some(r) = catalog.get(&j.id) {
                writeln!(
                    out,
                    "    {:<22} {:<10} {}",
                    r.id,
                    r.level.as_str(),
                    j.reason
                )?;
            }
        }
    }
    Ok(())
}

/// `tested/justified/open/total`, e.g. `93/10/43/146`.
fn fractions(t: Tally) -> String {
    format!("{}/{}/{}/{}", t.tested, t.justified, t.open, t.total)
}

/// What `concord catalog list` shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    /// A section and its subsections.
    pub section: Option<&'a str>,
    /// A document, by name or ID prefix.
    pub document: Option<&'a str>,
}

/// `concord catalog list`: exit 2 (with the reason on `err`) when the selection names an
/// unknown document or matches nothing.
pub fn list(
    catalog: &Catalog,
    selection: Selection<'_>,
    as_json: bool,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<u8> {
    let documents: Vec<&Document> = catalog
        .documents()
        .iter()
        .filter(|d| {
            selection
                .document
                .is_none_or(|n| d.name == n || d.id_prefix == n)
        })
        .collect();
    if documents.is_empty() {
        let known: Vec<&str> = catalog
            .documents()
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        writeln!(
            err,
            "error: no document {:?} in the catalog (known: {})",
            selection.document.unwrap_or_default(),
            known.join(", ")
        )?;
        return Ok(exit::BAD_INPUT);
    }
    let selected: Vec<&Requirement> = documents
        .iter()
        .flat_map(|d| d.requirements.iter())
        .filter(|r| selection.section.is_none_or(|s| r.is_in_section(s)))
        .collect();
    if selected.is_empty() {
        writeln!(
            err,
            "error: no requirement in section {:?}",
            selection.section.unwrap_or_default()
        )?;
        return Ok(exit::BAD_INPUT);
    }
    if as_json {
        let value: Vec<serde_json::Value> = selected.iter().map(|r| requirement_json(r)).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(exit::OK);
    }
    for r in selected {
        writeln!(
            out,
            "{:<24} {:<10} {:<16} {}",
            r.id,
            r.level.as_str(),
            r.binds.as_str(),
            r.summary
        )?;
    }
    Ok(exit::OK)
}

fn requirement_json(r: &Requirement) -> serde_json::Value {
    json!({
        "id": r.id,
        "section": r.section,
        "title": r.title,
        "level": r.level.as_str(),
        "binds": r.binds.as_str(),
        "summary": r.summary,
        "justified": r.justified,
    })
}

/// `concord catalog show ID`: exit 2 for an ID the catalog lacks.
pub fn show(
    catalog: &Catalog,
    checks: &[CheckCitation],
    id: &str,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<u8> {
    let Some(r) = catalog.get(id) else {
        writeln!(err, "error: no requirement {id:?} in the catalog")?;
        return Ok(exit::BAD_INPUT);
    };
    writeln!(out, "{}", r.id)?;
    writeln!(out, "  section: {} {}", r.section, r.title)?;
    writeln!(out, "  level:   {}", r.level.as_str())?;
    writeln!(out, "  binds:   {}", r.binds.as_str())?;
    writeln!(out, "  summary: {}", r.summary)?;
    if let Some(reason) = &r.justified {
        writeln!(out, "  justified: {reason}")?;
    }
    let citing: Vec<&CheckCitation> = checks
        .iter()
        .filter(|c| c.requirements.iter().any(|cited| cited == id))
        .collect();
    if citing.is_empty() {
        let status = if r.is_justified() {
            "justified"
        } else {
            "open"
        };
        writeln!(out, "  checks:  none ({status})")?;
    } else {
        writeln!(out, "  checks:")?;
        for c in citing {
            writeln!(out, "    {} ({})", c.check, c.source)?;
        }
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, section: &str, level: &str) -> String {
        format!(
            "[[requirement]]\nid = \"{id}\"\nsection = \"{section}\"\ntitle = \"T{section}\"\n\
             level = \"{level}\"\nbinds = \"client\"\nsummary = \"S {id}\"\n"
        )
    }

    /// Five requirements in sections 7 and 8: three MUST/MUST NOT (one of them justified),
    /// a SHOULD, a MAY.
    fn fixture() -> Catalog {
        let s07 = [
            entry("RFC9420-7-1", "7", "MUST"),
            entry("RFC9420-7.3-1", "7.3", "MUST NOT"),
            entry("RFC9420-7.3-2", "7.3", "SHOULD"),
        ]
        .concat();
        let s08 = [
            format!(
                "{}justified = \"erasure of secrets from memory\"\n",
                entry("RFC9420-8.2-1", "8.2", "MUST")
            ),
            entry("RFC9420-8.2-2", "8.2", "MAY"),
        ]
        .concat();
        Catalog::from_files(&[("rfc9420/s07.toml", &s07), ("rfc9420/s08.toml", &s08)])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn citation(check: &str, ids: &[&str]) -> CheckCitation {
        CheckCitation {
            check: check.to_owned(),
            source: "fixture",
            requirements: ids.iter().map(|id| id.to_string()).collect(),
        }
    }

    /// tested, justified, open, total.
    fn tally(tested: usize, justified: usize, open: usize, total: usize) -> Tally {
        Tally {
            covered: tested + justified,
            tested,
            justified,
            open,
            total,
        }
    }

    fn run_check(
        catalog: &Catalog,
        checks: &[CheckCitation],
        lists: Lists,
        json: bool,
    ) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = check(catalog, checks, lists, json, &mut out, &mut err)
            .unwrap_or_else(|e| panic!("{e}"));
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    const BOTH_LISTS: Lists = Lists {
        open: true,
        justified: true,
    };

    #[test]
    fn coverage_counts_levels_and_sections() {
        let catalog = fixture();
        let checks = [
            citation("a", &["RFC9420-7-1", "RFC9420-7.3-2"]),
            citation("b", &["RFC9420-7-1", "RFC9420-8.2-2"]),
        ];
        let c = coverage(&catalog.documents()[0], &checks);
        assert_eq!(c.all, tally(3, 1, 1, 5));
        assert_eq!(c.absolute, tally(1, 1, 1, 3));
        // Covered counts tested and justified; tested only what a check cites.
        assert_eq!(c.absolute.covered_percent(), 66.6);
        assert_eq!(c.absolute.tested_percent(), 33.3);
        let levels: Vec<(&str, Tally)> = c.by_level.iter().map(|l| (l.level, l.tally)).collect();
        assert_eq!(
            levels,
            vec![
                ("MUST", tally(1, 1, 0, 2)),
                ("MUST NOT", tally(0, 0, 1, 1)),
                ("SHOULD", tally(1, 0, 0, 1)),
                ("MAY", tally(1, 0, 0, 1)),
            ]
        );
        let sections: Vec<(&str, &str, Tally, Tally)> = c
            .by_section
            .iter()
            .map(|s| (s.section.as_str(), s.title.as_str(), s.all, s.absolute))
            .collect();
        assert_eq!(
            sections,
            vec![
                (
                    "7",
                    "Ratchet Tree Operations",
                    tally(2, 0, 1, 3),
                    tally(1, 0, 1, 2)
                ),
                ("8", "Key Schedule", tally(1, 1, 0, 2), tally(0, 1, 0, 1)),
            ]
        );
        assert_eq!(c.open, vec!["RFC9420-7.3-1"]);
        assert_eq!(
            c.justified,
            vec![JustifiedRequirement {
                id: "RFC9420-8.2-1".into(),
                reason: "erasure of secrets from memory".into(),
            }]
        );
        assert_eq!(c.cited_by["RFC9420-7-1"], vec!["a", "b"]);

        let (code, out, err) = run_check(&catalog, &checks, BOTH_LISTS, false);
        assert_eq!(code, exit::OK, "{err}");
        assert!(
            out.contains("requirements: 5 (3 tested by at least one check, 1 justified, 1 open)"),
            "{out}"
        );
        assert!(
            out.contains("MUST/MUST NOT covered: 66.6% (2/3: 1 tested, 1 justified)"),
            "{out}"
        );
        assert!(out.contains("MUST/MUST NOT tested: 33.3% (1/3)"), "{out}");
        assert!(out.contains("MUST/MUST NOT open: 1"), "{out}");
        assert!(out.contains("2/0/1/3"), "{out}");
        assert!(out.contains("open (1):"), "{out}");
        assert!(out.contains("justified (1):"), "{out}");
        let open_list = out.split("open (1):").nth(1).unwrap_or_default();
        let (open_list, justified_list) = open_list.split_once("justified").unwrap_or_default();
        assert!(open_list.contains("RFC9420-7.3-1"), "{out}");
        assert!(!open_list.contains("RFC9420-8.2-1"), "{out}");
        assert!(
            justified_list.contains("RFC9420-8.2-1") && justified_list.contains("erasure"),
            "{out}"
        );

        // Without the lists, neither is printed; JSON carries the same numbers and lists.
        let (_, out, _) = run_check(&catalog, &checks, Lists::default(), false);
        assert!(
            !out.contains("open (1):") && !out.contains("justified (1):"),
            "{out}"
        );
        let (code, out, _) = run_check(&catalog, &checks, BOTH_LISTS, true);
        assert_eq!(code, exit::OK);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
        let document = &value["documents"][0];
        assert_eq!(document["absolute"]["justified"], 1);
        assert_eq!(document["absolute"]["open"], 1);
        assert_eq!(document["by_section"][1]["absolute"]["justified"], 1);
        assert_eq!(document["open"][0], "RFC9420-7.3-1");
        assert_eq!(document["justified"][0]["id"], "RFC9420-8.2-1");
        assert_eq!(
            value["justified_but_cited"].as_array().map(Vec::len),
            Some(0)
        );
    }

    #[test]
    fn a_justified_requirement_that_a_check_cites_fails_the_check() {
        let catalog = fixture();
        let checks = [citation("negative/erasure", &["RFC9420-8.2-1"])];
        assert_eq!(
            justified_but_cited(&catalog, &checks),
            vec![JustifiedButCited {
                id: "RFC9420-8.2-1".into(),
                checks: vec!["negative/erasure".into()],
            }]
        );
        let (code, out, err) = run_check(&catalog, &checks, Lists::default(), false);
        assert_eq!(code, exit::UNEXPECTED);
        assert!(
            err.contains("RFC9420-8.2-1") && err.contains("negative/erasure"),
            "{err}"
        );
        // It counts as tested, not justified.
        assert!(
            out.contains("MUST/MUST NOT covered: 33.3% (1/3: 1 tested, 0 justified)"),
            "{out}"
        );
        assert!(out.contains("MUST/MUST NOT open: 2"), "{out}");
        let (code, out, _) = run_check(&catalog, &checks, Lists::default(), true);
        assert_eq!(code, exit::UNEXPECTED);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["justified_but_cited"][0]["id"], "RFC9420-8.2-1");
    }

    #[test]
    fn an_unknown_citation_fails_the_check_and_names_the_check() {
        let catalog = fixture();
        let checks = [
            citation("vectors/good", &["RFC9420-7-1"]),
            citation("vectors/typo", &["RFC9420-7-1", "RFC9420-7.3-9"]),
        ];
        assert_eq!(
            unknown_citations(&catalog, &checks),
            vec![UnknownCitation {
                check: "vectors/typo".into(),
                source: "fixture",
                id: "RFC9420-7.3-9".into(),
            }]
        );
        let (code, _, err) = run_check(&catalog, &checks, Lists::default(), false);
        assert_eq!(code, exit::UNEXPECTED);
        assert!(
            err.contains("vectors/typo") && err.contains("RFC9420-7.3-9"),
            "{err}"
        );

        let (code, out, _) = run_check(&catalog, &checks, Lists::default(), true);
        assert_eq!(code, exit::UNEXPECTED);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["unknown_citations"][0]["id"], "RFC9420-7.3-9");
        assert_eq!(value["documents"][0]["absolute"]["tested"], 1);
        // 8.2-1 is justified: covered counts it beside the tested one.
        assert_eq!(value["documents"][0]["absolute"]["covered"], 2);
        assert_eq!(value["documents"][0]["by_level"][1]["level"], "MUST NOT");
        assert_eq!(value["documents"][0]["by_level"][1]["total"], 1);
        assert!(value["documents"][0].get("open").is_none());
        assert!(value["documents"][0].get("justified").is_none());
    }

    #[test]
    fn every_registered_citation_is_in_the_shipped_catalog() {
        let catalog = concord_spec::catalog().unwrap_or_else(|e| panic!("{e}"));
        for subsystem in REGISTRY {
            assert!(
                !subsystem().is_empty(),
                "a registered subsystem has no checks"
            );
        }
        let checks = checks();
        assert!(checks.len() >= FAMILIES.len());
        let names: std::collections::BTreeSet<&str> =
            checks.iter().map(|c| c.check.as_str()).collect();
        assert_eq!(names.len(), checks.len(), "two checks share a name");
        assert!(
            checks.iter().all(|c| !c.requirements.is_empty()),
            "a check cites nothing"
        );
        let (code, out, err) = run_check(catalog, &checks, Lists::default(), false);
        assert_eq!(code, exit::OK, "{err}");
        assert!(out.contains("RFC9420"), "{out}");
    }

    #[test]
    fn the_reference_validation_checks_are_registered_under_their_variants() {
        let catalog = concord_spec::catalog().unwrap_or_else(|e| panic!("{e}"));
        let checks = reference_validation();
        assert!(checks.len() > 100, "{} checks", checks.len());
        for check in &checks {
            for id in &check.requirements {
                assert!(
                    catalog.get(id).is_some(),
                    "{} cites {id}, which the catalog does not have",
                    check.check
                );
            }
        }
        let named = |name: &str| {
            checks
                .iter()
                .find(|c| c.check == name)
                .map(|c| c.requirements.clone())
                .unwrap_or_else(|| panic!("no check {name}"))
        };
        assert_eq!(
            named("reference/CommitError::PskNonceLength"),
            ["RFC9420-12.1.4-3"]
        );
        assert_eq!(
            named("reference/CommitError::UpdateLeaf(ENCRYPTION_KEY_UNCHANGED)"),
            ["RFC9420-7.3-14"]
        );
        assert_eq!(
            named("reference/CommitError::RequiredCapabilityUnsupported"),
            ["RFC9420-12.1.7-1", "RFC9420-11.1-2"]
        );
        assert!(
            !checks
                .iter()
                .any(|c| c.check == "reference/GroupError::Inactive"),
            "API misuse is not a validation check"
        );
        // The registry counts them: 12.1.4-3 is tested.
        let coverage = coverage(&catalog.documents()[0], &self::checks());
        assert!(!coverage.open.iter().any(|id| id == "RFC9420-12.1.4-3"));
    }

    #[test]
    fn list_filters_by_section_and_show_refuses_unknown_ids() {
        let catalog = fixture();
        let listed = |section: Option<&str>, document: Option<&str>, json: bool| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let selection = Selection { section, document };
            let code = list(&catalog, selection, json, &mut out, &mut err)
                .unwrap_or_else(|e| panic!("{e}"));
            (code, out, String::from_utf8_lossy(&err).into_owned())
        };
        let (code, out, _) = listed(Some("7.3"), None, false);
        assert_eq!(code, exit::OK);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.lines().all(|l| l.starts_with("RFC9420-7.3-")),
            "{text}"
        );

        let (code, out, _) = listed(Some("8"), Some("RFC9420"), true);
        assert_eq!(code, exit::OK);
        let value: serde_json::Value =
            serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value.as_array().map(Vec::len), Some(2));
        assert_eq!(value[1]["level"], "MAY");

        let (code, _, err) = listed(Some("7.4"), None, false);
        assert_eq!(code, exit::BAD_INPUT);
        assert!(err.contains("7.4"), "{err}");
        let (code, _, err) = listed(None, Some("MIMI-PROTOCOL"), false);
        assert_eq!(code, exit::BAD_INPUT);
        assert!(err.contains("known: RFC9420"), "{err}");

        let checks = [citation("a", &["RFC9420-7-1"])];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = show(&catalog, &checks, "RFC9420-7-1", &mut out, &mut err)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, exit::OK);
        assert!(String::from_utf8_lossy(&out).contains("    a (fixture)"));
        let code = show(&catalog, &checks, "RFC9420-7-2", &mut out, &mut err)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, exit::BAD_INPUT);
        let mut out = Vec::new();
        let code = show(&catalog, &checks, "RFC9420-8.2-1", &mut out, &mut err)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, exit::OK);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("justified: erasure of secrets from memory")
                && text.contains("none (justified)"),
            "{text}"
        );
    }
}
