//! The HTML report in a real headless browser (Debian's chromium): it renders, shows the key
//! elements, and logs no console error. Without chromium the test fails, unless
//! CONCORD_NO_BROWSER=1 says to skip it.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_wanted() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CONCORD_NO_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("{CHROMIUM} is missing and CONCORD_NO_BROWSER=1: the browser check is skipped");
        return false;
    }
    panic!(
        "{CHROMIUM} is missing: install Debian's chromium package, or set CONCORD_NO_BROWSER=1 to skip this check"
    );
}

/// Loads `page` in headless chromium; returns the DOM it built and its log.
fn render_in_chromium(page: &Path, scratch: &Path) -> (String, String) {
    let profile = scratch.join("profile");
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-browser-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Console messages chromium logs (`CONSOLE(...)`, `Uncaught`, failed loads).
fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR_"))
        .collect()
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    if !browser_wanted() {
        return;
    }
    let dir = scratch("report");
    let bench = common::bench();
    let html =
        concord_reports::render::html::render(&common::fixture(), &common::catalog(), Some(&bench));
    let page = dir.join("index.html");
    std::fs::write(&page, &html).unwrap();
    let (dom, log) = render_in_chromium(&page, &dir);
    for id in [
        "summary",
        "counts",
        "matrix",
        "claims",
        "failures",
        "expectations",
        "coverage",
        "bench",
        "exit-code",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "no #{id} in the rendered page"
        );
    }
    assert!(dom.contains("<svg"), "no benchmark plot");
    assert_eq!(
        dom.matches("class=\"series\"").count(),
        2,
        "one line per implementation"
    );
    assert!(dom.contains("class=\"reproducer\""), "no reproducer");
    assert!(
        dom.contains("class=\"transcript\""),
        "no transcript excerpt"
    );
    assert!(
        dom.contains("Joining via Welcome Message"),
        "no requirement text"
    );
    let errors = console_errors(&log);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_console_check_catches_a_script_error() {
    if !browser_wanted() {
        return;
    }
    // The same check on a page that throws must see it, or it proves nothing.
    let dir = scratch("throws");
    let page = dir.join("index.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><title>t</title></head><body><p id=\"x\">x</p><script>console.error('broken report'); undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let (dom, log) = render_in_chromium(&page, &dir);
    assert!(dom.contains("id=\"x\""));
    assert!(!console_errors(&log).is_empty(), "log: {log}");
    std::fs::remove_dir_all(&dir).ok();
}
