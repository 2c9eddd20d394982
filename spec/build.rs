//! Compiles the catalog in: writes `$OUT_DIR/catalog_files.rs`, one `include_str!` per TOML
//! file of `catalog/` (every `rfc9420/sNN.toml`, every `mimi-*.toml` present at build time),
//! in a fixed order (RFC 9420 by section, then the drafts by name) so the load order, and with it every error message, is deterministic.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let catalog = manifest.join("catalog");
    // A directory as rerun trigger: cargo rescans it, so added and removed files count.
    println!("cargo:rerun-if-changed={}", catalog.display());
    println!(
        "cargo:rerun-if-changed={}",
        catalog.join("rfc9420").display()
    );

    // RFC 9420 first (its sections in order), then the MIMI drafts.
    let mut files = Vec::new();
    collect(
        &catalog.join("rfc9420"),
        "rfc9420/",
        |name| {
            name.len() == "s00.toml".len()
                && name.starts_with('s')
                && name.ends_with(".toml")
                && name[1..3].bytes().all(|b| b.is_ascii_digit())
        },
        &mut files,
    );
    files.sort();
    let mut drafts = Vec::new();
    collect(
        &catalog,
        "",
        |name| name.starts_with("mimi-") && name.ends_with(".toml"),
        &mut drafts,
    );
    drafts.sort();
    files.extend(drafts);

    let mut code = String::from(
        "/// Every catalog file compiled in: (path under `spec/catalog/`, contents).\n",
    );
    code.push_str("pub(crate) static FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        let _ = writeln!(code, "    ({relative:?}, include_str!({absolute:?})),");
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("catalog_files.rs");
    if let Err(error) = fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {error}", out.display());
        std::process::exit(1);
    }
}

fn collect(
    dir: &Path,
    prefix: &str,
    wanted: impl Fn(&str) -> bool,
    files: &mut Vec<(String, String)>,
) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_file() && wanted(name) {
            files.push((format!("{prefix}{name}"), path.display().to_string()));
        }
    }
}
