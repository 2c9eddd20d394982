//! `concord vectors generate --negative`: every family's file, deterministically from a
//! seed. Each case is run on the reference as it is made: a case the reference does not
//! judge as the recipe intends is an error (a wrong construction or a reference bug, to
//! be fixed either way), never written as a vector.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use concord_reference::crypto::{CipherSuite, Suite};

use super::case::{Case, Expected, NegativeFile, judge, run_on_reference};
use super::world::World;
use super::{Expect, FAMILIES, Family, GenError, Recipe, case_rng};

/// The seed `concord vectors generate --negative` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 0;

/// One written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub cases: usize,
}

/// The world of one suite for `seed`.
pub fn world(suite: &Suite, seed: u64) -> Result<World, GenError> {
    let mut rng = case_rng(seed, suite.id().0, "world");
    World::build(suite, None, super::world::NOW, &mut rng)
}

/// Builds one case of `recipe` in `world` and checks the reference judges it as meant.
pub fn build_case(
    family: &Family,
    recipe: &Recipe,
    world: &World,
    seed: u64,
) -> Result<Case, GenError> {
    let suite = world.suite.id().0;
    let name = format!("{}/suite-{suite}", recipe.name);
    let step = format!("{}: {name}", family.name);
    let mut rng = case_rng(seed, suite, &format!("{}/{}", family.name, recipe.name));
    let draft = (recipe.build)(world, &mut rng)
        .map_err(|e| GenError::new(format!("{step}: {}", e.step), e.detail))?;
    let (expected, error_class) = match recipe.expect {
        Expect::Reject(class) => (Expected::Reject, Some(class)),
        Expect::Accept => (Expected::Accept, None),
        Expect::Acceptable => (Expected::Acceptable, None),
    };
    let receiver = match draft.input_kind {
        super::InputKind::Message => Some(world.receiver_state(Some(&world.welcome))),
        super::InputKind::Welcome => Some(world.receiver_state(None)),
        super::InputKind::GroupInfo => None,
    };
    let case = Case {
        name,
        cipher_suite: suite,
        description: recipe.description.to_string(),
        level: draft.level,
        requirements: recipe.requirements.iter().map(|s| s.to_string()).collect(),
        flags: draft.flags.iter().map(|s| s.to_string()).collect(),
        expected,
        error_class,
        receiver,
        prior: draft
            .prior
            .into_iter()
            .map(crate::vectors::HexBytes)
            .collect(),
        input_kind: draft.input_kind,
        input: crate::vectors::HexBytes(draft.input),
    };
    let outcome = run_on_reference(&case).map_err(|e| GenError::new(&step, e))?;
    judge(&case, &outcome).map_err(|reason| GenError::new(&step, reason))?;
    // An `acceptable` case is still one the reference must be able to process: record
    // nothing more, but a setup failure above already stopped it.
    Ok(case)
}

/// The file of one family over `worlds` (one per suite, in suite order).
pub fn build_family(
    family: &Family,
    worlds: &BTreeMap<u16, World>,
    seed: u64,
) -> Result<NegativeFile, GenError> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for recipe in family.recipes {
        for world in worlds.values() {
            match build_case(family, recipe, world, seed) {
                Ok(case) => cases.push(case),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    if !errors.is_empty() {
        return Err(GenError::new(
            format!("{}: {} case(s) not as intended", family.name, errors.len()),
            errors.join("\n  "),
        ));
    }
    Ok(NegativeFile {
        family: family.name.to_string(),
        description: family.description.to_string(),
        cases,
    })
}

/// Writes every family's file into `out` for `suites`.
pub fn generate(
    out: &Path,
    suites: &[CipherSuite],
    seed: u64,
) -> Result<Vec<WrittenFile>, GenError> {
    if suites.is_empty() {
        return Err(GenError::new("suites", "no cipher suite asked for"));
    }
    let mut worlds = BTreeMap::new();
    for id in suites {
        let suite = Suite::new(*id).map_err(|e| GenError::new(format!("suite {}", id.0), e))?;
        worlds.insert(id.0, world(&suite, seed)?);
    }
    std::fs::create_dir_all(out)
        .map_err(|e| GenError::new(format!("create {}", out.display()), e))?;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for family in FAMILIES {
        match build_family(family, &worlds, seed) {
            Ok(file) => files.push((family, file)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(GenError::new("nothing written", errors.join("\n")));
    }
    let mut written = Vec::new();
    for (family, file) in files {
        let path = out.join(format!("{}.json", family.name));
        let mut text = serde_json::to_string_pretty(&file)
            .map_err(|e| GenError::new(format!("serialize {}", family.name), e))?;
        text.push('\n');
        std::fs::write(&path, text)
            .map_err(|e| GenError::new(format!("write {}", path.display()), e))?;
        written.push(WrittenFile {
            path,
            cases: file.cases.len(),
        });
    }
    Ok(written)
}
