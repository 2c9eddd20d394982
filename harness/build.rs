//! Records the git commit the `concord` binary is built from, for signed attestations:
//! sets `CONCORD_SOURCE_COMMIT` to the 40 hex digits of `HEAD`, or to `unknown` when the
//! sources are not a git checkout (a tarball, a vendored copy) or git is not installed.
//! A build never fails for want of git. `CONCORD_SOURCE_COMMIT` set in the build's
//! environment wins (a packager building from an exported tree knows the commit).

use std::path::{Path, PathBuf};
use std::process::Command;

const UNKNOWN: &str = "unknown";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CONCORD_SOURCE_COMMIT");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = match std::env::var("CONCORD_SOURCE_COMMIT") {
        Ok(given) if !given.trim().is_empty() => given.trim().to_string(),
        _ => {
            watch_head(&manifest);
            git(&manifest, &["rev-parse", "HEAD"])
                .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
                .unwrap_or_else(|| UNKNOWN.to_string())
        }
    };
    println!("cargo:rustc-env=CONCORD_SOURCE_COMMIT={commit}");
}

/// Runs the build script again when `HEAD` moves: a checkout changes `HEAD`, a commit
/// changes the branch's ref (a loose file in its folder, or `packed-refs`).
fn watch_head(manifest: &Path) {
    let mut watched = Vec::new();
    if let Some(head) = git(manifest, &["rev-parse", "--git-path", "HEAD"]) {
        watched.push(manifest.join(head));
    }
    if let Some(branch) = git(manifest, &["symbolic-ref", "-q", "HEAD"])
        && let Some(file) = git(manifest, &["rev-parse", "--git-path", &branch])
    {
        // The folder, not the file: a ref that is only packed has no file yet.
        if let Some(folder) = manifest.join(file).parent() {
            watched.push(folder.to_path_buf());
        }
    }
    if let Some(packed) = git(manifest, &["rev-parse", "--git-path", "packed-refs"]) {
        watched.push(manifest.join(packed));
    }
    // A path that does not exist would rerun the script on every build.
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The trimmed output of `git ARGS` run in `dir`, or `None` when git fails or is absent.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}
