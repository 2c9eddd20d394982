//! Peer resolution: where a provider domain is reached on loopback (profile `concord-mimi-06`,
//! beyond the draft): (1) a `--resolve DOMAIN=URL` flag, else (2) the line `DOMAIN = "URL"`
//! of `peers.toml` in the TLS folder, read again at each lookup (so `concord provider-test`
//! can write its followers' addresses there while servers run), else (3) `https://DOMAIN`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::https::BaseUrl;

/// The peers file of a TLS folder.
pub const PEERS_FILE: &str = "peers.toml";

/// Resolves provider domains to base URLs.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    flags: BTreeMap<String, BaseUrl>,
    peers_file: Option<PathBuf>,
}

impl Resolver {
    /// From `--resolve DOMAIN=URL` flags and a TLS folder.
    pub fn new(flags: &[String], tls_dir: Option<&Path>) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for flag in flags {
            let (domain, url) = flag
                .split_once('=')
                .ok_or_else(|| format!("--resolve `{flag}`: expected DOMAIN=https://HOST:PORT"))?;
            let url = BaseUrl::parse(url).map_err(|e| format!("--resolve {domain}: {e}"))?;
            map.insert(domain.trim().to_ascii_lowercase(), url);
        }
        Ok(Self {
            flags: map,
            peers_file: tls_dir.map(|d| d.join(PEERS_FILE)),
        })
    }

    /// Where `domain` is reached now.
    pub fn lookup(&self, domain: &str) -> Result<BaseUrl, String> {
        let domain = domain.to_ascii_lowercase();
        if let Some(url) = self.flags.get(&domain) {
            return Ok(url.clone());
        }
        if let Some(file) = &self.peers_file
            && let Some(url) = read_peers(file)?.remove(&domain)
        {
            return Ok(url);
        }
        BaseUrl::parse(&format!("https://{domain}"))
    }
}

/// The entries of a peers file (none when it does not exist).
pub fn read_peers(path: &Path) -> Result<BTreeMap<String, BaseUrl>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let expected = "expected DOMAIN = \"https://HOST:PORT\" lines";
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {expected}: {e}", path.display()))?;
    // An unquoted `f1.example = "..."` is a dotted key (nested tables): join it back.
    let mut flat = Vec::new();
    flatten("", &table, &mut flat);
    flat.into_iter()
        .map(|(domain, value)| match value {
            toml::Value::String(url) => BaseUrl::parse(url)
                .map(|u| (domain.to_ascii_lowercase(), u))
                .map_err(|e| format!("{}: {domain}: {e}", path.display())),
            other => Err(format!(
                "{}: {domain}: {expected}, found a {}",
                path.display(),
                other.type_str()
            )),
        })
        .collect()
}

fn flatten<'a>(prefix: &str, table: &'a toml::Table, out: &mut Vec<(String, &'a toml::Value)>) {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&name, inner, out),
            other => out.push((name, other)),
        }
    }
}

/// Writes (replacing) the peers file of a TLS folder.
pub fn write_peers(dir: &Path, peers: &BTreeMap<String, String>) -> Result<(), String> {
    let mut text =
        String::from("# Provider addresses on loopback (written by concord provider-test).\n");
    for (domain, url) in peers {
        text.push_str(&format!("\"{domain}\" = \"{url}\"\n"));
    }
    let path = dir.join(PEERS_FILE);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_then_file_then_https_domain() {
        let dir = std::env::temp_dir().join(format!("concord-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = Resolver::new(&["a.example=https://127.0.0.1:1".to_string()], Some(&dir)).unwrap();
        assert_eq!(
            r.lookup("b.example").unwrap().to_url(),
            "https://b.example:443"
        );
        let mut peers = BTreeMap::new();
        peers.insert("b.example".to_string(), "https://127.0.0.1:2".to_string());
        peers.insert("a.example".to_string(), "https://127.0.0.1:3".to_string());
        write_peers(&dir, &peers).unwrap();
        assert_eq!(r.lookup("b.example").unwrap().port, 2);
        assert_eq!(r.lookup("A.example").unwrap().port, 1);
        std::fs::write(dir.join(PEERS_FILE), "c.example = \"https://127.0.0.1:4\"").unwrap();
        assert_eq!(r.lookup("c.example").unwrap().port, 4);
        std::fs::write(dir.join(PEERS_FILE), "x = 1").unwrap();
        assert!(r.lookup("b.example").unwrap_err().contains("peers.toml"));
        assert!(Resolver::new(&["nourl".to_string()], None).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
