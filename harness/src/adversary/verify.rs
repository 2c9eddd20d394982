//! `concord vectors verify vectors/negative`: every negative case run on the reference.
//! A case passes when the reference's outcome is the expected one (the right error class
//! for `reject`); a case of a suite the reference does not implement is skipped. The
//! summary is the official verifier's, so the closing line is the same.

use std::path::Path;

use super::case::{NegativeFile, judge, run_on_reference};
use crate::vectors::{CaseVerdict, FileReport, FirstFailure, Summary, VerifyUsageError};

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

/// Verifies every negative file in `directory` (or only the families in `only`).
pub fn verify_directory(
    directory: &Path,
    only: Option<&[String]>,
) -> Result<Summary, VerifyUsageError> {
    let mut files = Vec::new();
    let mut unrecognised_files = Vec::new();
    for path in negative_files(directory) {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(only) = only
            && !only.contains(&stem)
        {
            continue;
        }
        if !super::FAMILIES.iter().any(|f| f.name == stem) {
            unrecognised_files.push(format!("{stem}.json"));
        }
        files.push(verify_file(&path));
    }
    if let Some(only) = only {
        for name in only {
            if !files.iter().any(|f: &FileReport| &f.family == name) {
                return Err(VerifyUsageError::MissingFile {
                    family: name.clone(),
                    path: directory.join(format!("{name}.json")),
                });
            }
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
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = FileReport {
        family: stem,
        path: path.to_path_buf(),
        cases: 0,
        passed: 0,
        failed: 0,
        skipped: 0,
        cipher_suites: Vec::new(),
        first_failure: None,
        skip_reason: None,
        input_error: None,
    };
    let file = match read(path) {
        Ok(file) => file,
        Err(e) => {
            report.input_error = Some(e);
            return report;
        }
    };
    report.family = file.family.clone();
    report.cases = file.cases.len();
    for (case_index, case) in file.cases.iter().enumerate() {
        let suite = u64::from(case.cipher_suite);
        if !report.cipher_suites.contains(&suite) {
            report.cipher_suites.push(suite);
        }
        let verdict = match crate::vectors::suite_or_skip(case.cipher_suite) {
            Err(skip) => skip,
            Ok(_) => match run_on_reference(case) {
                Err(e) => CaseVerdict::Failed {
                    field: format!("{} ({})", case.name, e.step),
                    detail: e.detail,
                },
                Ok(outcome) => match judge(case, &outcome) {
                    Ok(()) => CaseVerdict::Passed,
                    Err(detail) => CaseVerdict::Failed {
                        field: case.name.clone(),
                        detail,
                    },
                },
            },
        };
        match verdict {
            CaseVerdict::Passed => report.passed += 1,
            CaseVerdict::Failed { field, detail } => {
                report.failed += 1;
                report.first_failure.get_or_insert(FirstFailure {
                    case_index,
                    cipher_suite: Some(suite),
                    field,
                    detail,
                });
            }
            CaseVerdict::Skipped { reason } => {
                report.skipped += 1;
                report.skip_reason.get_or_insert(reason);
            }
        }
    }
    report
}

fn read(path: &Path) -> Result<NegativeFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| format!("{}: field `{}`: {}", path.display(), e.path(), e.inner()))
}
