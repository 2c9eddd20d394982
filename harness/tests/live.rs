//! Live mode end to end, as the user runs it: a hub and a follower started with
//! `concord serve-provider` on loopback, and `concord sim --live` playing every honest
//! cross-provider scenario against them (the other providers of a scenario are Concord's
//! own servers), behind the impairing proxies.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn concord() -> Command {
    Command::new(env!("CARGO_BIN_EXE_concord"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A running `concord serve-provider`, killed on drop.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(tls: &Path, domain: &str, role: &str) -> Served {
    let mut child = concord()
        .args([
            "serve-provider",
            "--listen",
            "127.0.0.1:0",
            "--domain",
            domain,
        ])
        .args(["--role", role, "--tls-dir"])
        .arg(tls)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("concord serve-provider starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in `{line}`"))
        .trim_end_matches(',')
        .to_string();
    Served { child, url }
}

#[test]
fn honest_scenarios_pass_live_against_a_served_hub_and_follower() {
    let dir = std::env::temp_dir().join(format!("concord-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls = dir.join("tls");
    let made = concord()
        .args(["certs", "--out"])
        .arg(&tls)
        .args([
            "--domains",
            "a.example,b.example,c.example,d.example,hub.example",
        ])
        .output()
        .unwrap();
    assert!(made.status.success());
    let hub = serve(&tls, "a.example", "hub");
    let follower = serve(&tls, "b.example", "follower");
    let scenarios: Vec<PathBuf> = std::fs::read_dir(workspace().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.ends_with(".toml") && (name.starts_with('0') || name.starts_with('1'))
        })
        .collect();
    assert!(scenarios.len() >= 12, "{scenarios:?}");
    let output = concord()
        .args(["sim", "--live", "--tls-dir"])
        .arg(&tls)
        .arg("--provider")
        .arg(format!("a.example={}", hub.url))
        .arg("--provider")
        .arg(format!("b.example={}", follower.url))
        .args(&scenarios)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let closing = text.lines().last().unwrap_or_default().to_string();
    assert!(
        output.status.success() && closing.contains(" 0 failed"),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!closing.starts_with("sim: 0 passed"), "{closing}");
    drop(hub);
    drop(follower);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_url_provider_needs_live_mode_and_a_tls_folder() {
    let dir = std::env::temp_dir().join(format!("concord-live-url-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("url.toml");
    std::fs::write(
        &file,
        "name = \"url\"\n[[provider]]\nname = \"a.example\"\nurl = \"https://127.0.0.1:9\"\n\
         [[user]]\nname = \"alice\"\nprovider = \"a.example\"\n\
         [[step]]\naction = \"create\"\nroom = \"r\"\nby = \"alice\"\n",
    )
    .unwrap();
    let sim = concord().arg("sim").arg(&file).output().unwrap();
    assert_eq!(sim.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&sim.stderr).contains("--live"));
    let live = concord()
        .args(["sim", "--live"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&live.stdout);
    assert!(text.contains("--tls-dir"), "{text}");
    assert_eq!(live.status.code(), Some(1), "{text}");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n[[provider]]\nname = \"a.example\"\nurl = \"http://x\"\n",
    )
    .unwrap();
    let out = concord().arg("sim").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("provider.url"));
    let _ = std::fs::remove_dir_all(&dir);
}
