//! `concord vectors verify`: the official families and the MIMI content examples
//! (crate `concord-vectors`), and Concord's negative vectors (the adversary's runner),
//! picked by what the folder holds.

use std::path::Path;

pub use concord_vectors::*;

/// Verifies every recognised file in `directory` (or the one file it names), or only the
/// families in `only` (see [`concord_vectors::verify_directory`]); a folder of negative
/// vectors (`{"family", "cases"}` files) goes to [`crate::adversary::verify`].
pub fn verify_directory(
    directory: &Path,
    only: Option<&[String]>,
) -> Result<Summary, VerifyUsageError> {
    let (directory, only) = resolve_target(directory, only)?;
    if crate::adversary::verify::is_negative_directory(&directory) {
        return crate::adversary::verify::verify_directory(&directory, only.as_deref());
    }
    verify_families(&directory, only.as_deref())
}

/// `concord vectors verify PATH` for content examples: a line per example and the closing
/// line; exit 0 all passed, 1 a failure, 2 bad input.
pub fn mimi_content_main(path: &Path, only: Option<&[String]>, json: bool) -> u8 {
    let verdicts = match mimi_content::verify(path, only) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("concord vectors verify: {e}");
            return crate::exit::BAD_INPUT;
        }
    };
    let failed = verdicts.iter().filter(|v| !v.passed && !v.skipped).count();
    let skipped = verdicts.iter().filter(|v| v.skipped).count();
    if json {
        match serde_json::to_string_pretty(&verdicts) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("concord vectors verify: {e}");
                return crate::exit::BAD_INPUT;
            }
        }
    } else {
        for v in &verdicts {
            println!(
                "{:<4}  mimi-content/{:<18} [{}]  {}",
                match (v.passed, v.skipped) {
                    (_, true) => "skip",
                    (true, _) => "pass",
                    _ => "FAIL",
                },
                v.name,
                v.requirements.join(" "),
                v.detail
            );
        }
    }
    if !json {
        println!(
            "vectors: {} passed, {failed} failed, {skipped} skipped",
            verdicts.len() - failed - skipped
        );
    }
    if failed > 0 {
        crate::exit::UNEXPECTED
    } else {
        crate::exit::OK
    }
}
