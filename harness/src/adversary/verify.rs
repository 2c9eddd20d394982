//! `concord vectors verify vectors/negative`: every negative case run on the reference.
//! A case passes when the reference's outcome is the expected one (the right error class
//! for `reject`); a case of a suite the reference does not implement is skipped. The
//! summary is the official verifier's, so the closing line is the same.

use std::path::Path;

use std::time::Instant;

use super::case::{NegativeFile, Outcome, judge, run_on_reference};
use crate::vectors::{
    CaseReport, CaseVerdict, FileReport, Summary, VerifyUsageError, parse_selectors, select_cases,
};

/// Whether `directory` holds negative vector files (a top-level object with `family`
/// and `cases`) rather than official ones (a top-level array).
pub fn is_negative_directory(directory: &Path) -> bool {
    negative_files(directory).next().is_some()
}

fn negative_files(directory: &Path) -> impl Iterator<Item = std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .is_some_and(|value| value.get("family").is_some() && value.get("cases").is_some())
        })
        .collect();
    paths.sort();
    paths.into_iter()
}

/// Verifies every negative file in `directory` (or only the families, or `FAMILY:CASE`
/// cases, in `only`).
pub fn verify_directory(
    directory: &Path,
    only: Option<&[String]>,
) -> Result<Summary, VerifyUsageError> {
    let selectors = only.map(parse_selectors).transpose()?;
    let mut files = Vec::new();
    let mut unrecognised_files = Vec::new();
    for path in negative_files(directory) {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cases = match &selectors {
            None => None,
            Some(selectors) => match selectors.iter().find(|s| s.family == stem) {
                Some(selector) => selector.cases.as_deref(),
                None => continue,
            },
        };
        if !super::FAMILIES.iter().any(|f| f.name == stem) {
            unrecognised_files.push(format!("{stem}.json"));
        }
        files.push(verify_file_cases(&path, cases));
    }
    for selector in selectors.iter().flatten() {
        let name = &selector.family;
        if !files.iter().any(|f: &FileReport| &f.family == name) {
            return Err(VerifyUsageError::MissingFile {
                family: name.clone(),
                path: directory.join(format!("{name}.json")),
            });
        }
    }
    if files.is_empty() {
        return Err(VerifyUsageError::NoVectorFiles(directory.to_path_buf()));
    }
    let absent_families = super::FAMILIES
        .iter()
        .filter(|f| only.is_none() && !files.iter().any(|r| r.family == f.name))
        .map(|f| f.name.to_string())
        .collect();
    Ok(Summary {
        directory: directory.to_path_buf(),
        passed: files.iter().map(|f| f.passed).sum(),
        failed: files.iter().map(|f| f.failed).sum(),
        skipped: files.iter().map(|f| f.skipped).sum(),
        files,
        unrecognised_files,
        absent_families,
    })
}

/// Checks one negative file against the reference.
pub fn verify_file(path: &Path) -> FileReport {
    verify_file_cases(path, None)
}

/// Checks the cases of one negative file that `cases` selects (all when `None`). Each
/// case's report cites the case's requirements and, when the reference refused the
/// input, those of the error it refused it with.
pub fn verify_file_cases(path: &Path, cases: Option<&[usize]>) -> FileReport {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = FileReport::new(&stem, path);
    let file = match read(path) {
        Ok(file) => file,
        Err(e) => {
            report.input_error = Some(e);
            return report;
        }
    };
    report.family = file.family.clone();
    let selected = match select_cases(&file.cases, cases, path) {
        Ok(selected) => selected,
        Err(e) => {
            report.input_error = Some(e);
            return report;
        }
    };
    report.cases = selected.len();
    for (case_index, case) in selected {
        let started = Instant::now();
        let mut requirements = case.requirements.clone();
        let verdict = match crate::vectors::suite_or_skip(case.cipher_suite) {
            Err(skip) => skip,
            Ok(_) => match run_on_reference(case) {
                Err(e) => CaseVerdict::Failed {
                    field: format!("{} ({})", case.name, e.step),
                    detail: e.detail,
                },
                Ok(outcome) => {
                    if let Outcome::Rejected {
                        requirements: refused_by,
                        ..
                    } = &outcome
                    {
                        for id in refused_by.iter() {
                            if !requirements.iter().any(|known| known == id) {
                                requirements.push(id.to_string());
                            }
                        }
                    }
                    match judge(case, &outcome) {
                        Ok(()) => CaseVerdict::Passed,
                        Err(detail) => CaseVerdict::Failed {
                            field: case.name.clone(),
                            detail: cite(detail, &outcome),
                        },
                    }
                }
            },
        };
        report.record(CaseReport {
            index: case_index,
            name: Some(case.name.clone()),
            cipher_suite: Some(u64::from(case.cipher_suite)),
            verdict,
            duration: started.elapsed(),
            requirements,
        });
    }
    report
}

/// A failure's detail, followed by the requirements of the reference's error if it
/// refused the input with one.
fn cite(detail: String, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Rejected { requirements, .. } if !requirements.is_empty() => {
            format!("{detail} [refused under {}]", requirements.join(", "))
        }
        _ => detail,
    }
}

fn read(path: &Path) -> Result<NegativeFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| format!("{}: field `{}`: {}", path.display(), e.path(), e.inner()))
}
