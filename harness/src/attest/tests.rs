#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::dsse::{self, Envelope};
use super::key::{self, AttestKey};
use super::statement::{self, Executable, Predicate, VerdictCounts};
use super::{ATTESTATION_FILE, AttestError, verify, write_attestation};
use crate::exit;

/// RFC 8410 §10.3's example private key and, §10.1, its public key.
const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-attest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn predicate() -> Predicate {
    Predicate {
        profile: Some("quick".to_string()),
        suites: vec![1, 3],
        clients: vec![statement::ClientUnderTest::new(
            "reference",
            Some("concord-reference".to_string()),
        )],
        counts: VerdictCounts {
            pass: 7,
            fail: 1,
            ..VerdictCounts::default()
        },
        ..Predicate::new("run", "concord run --attest k", 5)
    }
}

/// A folder with a report.json, its attestation signed by `key`, and `key`'s attest.pub.
fn attested(name: &str, key: &AttestKey) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("report.json"), "{\"results\": []}\n").unwrap();
    std::fs::write(
        dir.join("attest.pub"),
        key::public_pem(&key.verifying_key()),
    )
    .unwrap();
    write_attestation(key, &dir, "report.json", &predicate()).unwrap();
    dir
}

fn test_key(byte: u8) -> AttestKey {
    AttestKey::from_seed([byte; 32], Path::new("test.key"))
}

fn check(dir: &Path) -> Result<super::Verified, AttestError> {
    verify(
        &dir.join(ATTESTATION_FILE),
        &dir.join("attest.pub"),
        Some(&dir.join("report.json")),
    )
}

fn envelope(dir: &Path) -> Envelope {
    serde_json::from_slice(&std::fs::read(dir.join(ATTESTATION_FILE)).unwrap()).unwrap()
}

fn save(dir: &Path, envelope: &Envelope) {
    std::fs::write(
        dir.join(ATTESTATION_FILE),
        serde_json::to_string(envelope).unwrap(),
    )
    .unwrap();
}

#[test]
fn pae_is_the_dsse_v1_encoding() {
    // DSSE protocol: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, by hand.
    assert_eq!(
        dsse::pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
    );
    assert_eq!(dsse::pae("", b""), b"DSSEv1 0  0 ".to_vec());
    // Lengths count bytes, not characters.
    assert_eq!(
        dsse::pae("t", "é".as_bytes()),
        b"DSSEv1 1 t 2 \xc3\xa9".to_vec()
    );
}

#[test]
fn a_signed_report_verifies_and_says_what_was_run() {
    let key = test_key(1);
    let dir = attested("roundtrip", &key);
    let verified = check(&dir).unwrap();
    assert_eq!(verified.keyid, key.keyid());
    assert_eq!(verified.statement.statement_type, statement::STATEMENT_TYPE);
    assert_eq!(verified.statement.predicate_type, statement::PREDICATE_TYPE);
    let subject = &verified.statement.subject[0];
    assert_eq!(subject.name, "report.json");
    let digest = statement::file_sha256(&dir.join("report.json")).unwrap();
    assert_eq!(subject.sha256(), Some(digest.as_str()));
    assert_eq!(verified.predicate, Some(predicate()));
    let envelope = envelope(&dir);
    assert_eq!(envelope.payload_type, dsse::PAYLOAD_TYPE);
    assert_eq!(envelope.signatures[0].keyid, key.keyid());
}

#[test]
fn a_tampered_payload_fails_the_signature_check() {
    let dir = attested("payload", &test_key(2));
    let mut envelope = envelope(&dir);
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut payload = base64.decode(&envelope.payload).unwrap();
    let text = String::from_utf8(payload.clone()).unwrap();
    let at = text.find("\"pass\":7").unwrap() + "\"pass\":".len();
    payload[at] = b'9';
    envelope.payload = base64.encode(&payload);
    save(&dir, &envelope);
    let error = check(&dir).unwrap_err();
    assert!(matches!(error, AttestError::Signature { .. }), "{error}");
    assert_eq!(error.exit_code(), exit::UNEXPECTED);
}

#[test]
fn a_changed_key_id_fails_the_signature_check() {
    let dir = attested("keyid", &test_key(10));
    let mut envelope = envelope(&dir);
    envelope.signatures[0].keyid = test_key(11).keyid();
    save(&dir, &envelope);
    assert!(matches!(check(&dir), Err(AttestError::Signature { .. })));
    // No key id at all: the signature is tried.
    envelope.signatures[0].keyid.clear();
    save(&dir, &envelope);
    assert!(check(&dir).is_ok());
}

#[test]
fn a_changed_payload_type_fails_the_signature_check() {
    let dir = attested("type", &test_key(3));
    let mut envelope = envelope(&dir);
    envelope.payload_type = "application/json".to_string();
    save(&dir, &envelope);
    assert!(matches!(check(&dir), Err(AttestError::Signature { .. })));
}

#[test]
fn a_tampered_report_fails_the_digest_check() {
    let dir = attested("report", &test_key(4));
    std::fs::write(dir.join("report.json"), "{\"results\": [1]}\n").unwrap();
    let error = check(&dir).unwrap_err();
    let AttestError::Digest { subject, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(subject, "report.json");
    assert_eq!(error.exit_code(), exit::UNEXPECTED);
    // Without --report only the signature is checked.
    assert!(verify(&dir.join(ATTESTATION_FILE), &dir.join("attest.pub"), None).is_ok());
}

#[test]
fn another_key_fails_the_signature_check() {
    let dir = attested("wrong-key", &test_key(5));
    let other = test_key(6);
    std::fs::write(
        dir.join("attest.pub"),
        key::public_pem(&other.verifying_key()),
    )
    .unwrap();
    let error = check(&dir).unwrap_err();
    let AttestError::Signature {
        keyid,
        envelope_keyids,
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(keyid, &other.keyid());
    assert_eq!(envelope_keyids, &test_key(5).keyid());
}

#[test]
fn malformed_input_is_bad_input_naming_file_and_field() {
    let dir = attested("malformed", &test_key(7));
    let attestation = dir.join(ATTESTATION_FILE);
    let cases: [(&str, &str); 4] = [
        ("not json", "(document)"),
        (
            "{\"payloadType\": \"x\", \"payload\": \"e30=\"}",
            "signatures",
        ),
        (
            "{\"payloadType\": \"x\", \"payload\": \"%%%\", \"signatures\": [{\"sig\": \"AA==\"}]}",
            "payload",
        ),
        (
            "{\"payloadType\": \"x\", \"payload\": \"e30=\", \"signatures\": [{\"sig\": \"AA==\"}]}",
            "signatures[0].sig",
        ),
    ];
    for (text, field) in cases {
        std::fs::write(&attestation, text).unwrap();
        let error = check(&dir).unwrap_err();
        assert_eq!(error.exit_code(), exit::BAD_INPUT, "{error}");
        let AttestError::Malformed {
            file, field: at, ..
        } = &error
        else {
            panic!("{text}: {error}");
        };
        assert_eq!((file, at.as_str()), (&attestation, field), "{text}");
    }
    let missing = verify(&dir.join("absent.json"), &dir.join("attest.pub"), None);
    assert!(matches!(missing, Err(AttestError::Read { .. })));
}

#[test]
fn a_bad_key_file_is_bad_input() {
    let dir = attested("bad-key", &test_key(8));
    let public = dir.join("attest.pub");
    for (text, field) in [
        ("hello", "PEM label"),
        (RFC8410_PRIVATE, "PEM label"),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "SubjectPublicKeyInfo",
        ),
        (
            "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n",
            "PEM body",
        ),
    ] {
        std::fs::write(&public, text).unwrap();
        let error = check(&dir).unwrap_err();
        assert_eq!(error.exit_code(), exit::BAD_INPUT);
        assert!(
            matches!(&error, AttestError::Malformed { file, field: at, .. } if file == &public && at == field),
            "{error}"
        );
    }
    let private = dir.join("attest.key");
    std::fs::write(&private, RFC8410_PUBLIC).unwrap();
    assert!(matches!(
        AttestKey::load(&private),
        Err(AttestError::Malformed { .. })
    ));
}

#[test]
fn keys_are_rfc8410_pem() {
    let dir = scratch("rfc8410");
    let private = dir.join("attest.key");
    std::fs::write(&private, RFC8410_PRIVATE).unwrap();
    let key = AttestKey::load(&private).unwrap();
    assert_eq!(key::public_pem(&key.verifying_key()), RFC8410_PUBLIC);
    let public = dir.join("attest.pub");
    std::fs::write(&public, RFC8410_PUBLIC).unwrap();
    assert_eq!(key::load_public(&public).unwrap(), key.verifying_key());
    // The key id: SHA-256 of the 32 public key bytes.
    let bytes =
        hex::decode("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1").unwrap();
    use sha2::Digest as _;
    assert_eq!(key.keyid(), hex::encode(sha2::Sha256::digest(bytes)));
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_never_replaces_one() {
    let dir = scratch("keygen").join("keys");
    let key = key::generate(&dir, false).unwrap();
    let loaded = AttestKey::load(&dir.join(key::PRIVATE_FILE)).unwrap();
    assert_eq!(loaded.keyid(), key.keyid());
    assert_eq!(
        key::load_public(&dir.join(key::PUBLIC_FILE)).unwrap(),
        key.verifying_key()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(key::PRIVATE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = key::generate(&dir, false).unwrap_err();
    assert_eq!(
        again,
        AttestError::KeyExists {
            file: dir.join(key::PRIVATE_FILE)
        }
    );
    assert_eq!(again.exit_code(), exit::BAD_INPUT);
    // Two keys from the operating system's randomness differ.
    let replaced = key::generate(&dir, true).unwrap();
    assert_ne!(replaced.keyid(), key.keyid());
    assert_eq!(
        AttestKey::load(&dir.join(key::PRIVATE_FILE))
            .unwrap()
            .keyid(),
        replaced.keyid()
    );
}

#[test]
fn an_exec_client_names_its_program_and_digest() {
    let dir = scratch("exec");
    let program = dir.join("server");
    std::fs::write(&program, "#!/bin/sh\n").unwrap();
    let command = format!("'{}' --port {{port}}", program.display());
    let found = Executable::of_command(&command);
    assert_eq!(found.word, program.display().to_string());
    assert_eq!(
        found.sha256.as_deref(),
        Some(statement::file_sha256(&program).unwrap().as_str())
    );
    let missing = Executable::of_command("no-such-program-anywhere -p {port}");
    assert_eq!(missing.word, "no-such-program-anywhere");
    assert_eq!(missing.error.as_deref(), Some("not found on PATH"));
    // A bare word is looked up on PATH.
    let shell = Executable::of_command("sh -c 'serve {port}'");
    assert!(shell.sha256.is_some(), "{shell:?}");
}

#[test]
fn the_catalog_digest_is_the_documented_listing_of_the_catalog_files() {
    // `cd spec/catalog && sha256sum rfc9420/s??.toml mimi-*.toml | sha256sum`, from disk.
    use sha2::Digest as _;
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/catalog"));
    let names = |dir: &Path, keep: &dyn Fn(&str) -> bool| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| keep(n))
            .collect();
        names.sort();
        names
    };
    let mut files: Vec<String> = names(&root.join("rfc9420"), &|n| {
        n.len() == 8 && n.starts_with('s') && n.ends_with(".toml")
    })
    .into_iter()
    .map(|n| format!("rfc9420/{n}"))
    .collect();
    files.extend(names(root, &|n| {
        n.starts_with("mimi-") && n.ends_with(".toml")
    }));
    let listing: String = files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(root.join(path)).unwrap();
            format!("{}  {path}\n", hex::encode(sha2::Sha256::digest(bytes)))
        })
        .collect();
    assert_eq!(files.len(), concord_spec::compiled_files().len());
    assert_eq!(
        statement::catalog_sha256(),
        hex::encode(sha2::Sha256::digest(listing.as_bytes()))
    );
}

#[test]
fn a_signed_payload_that_is_no_statement_is_bad_input_naming_the_field() {
    let key = test_key(9);
    let dir = attested("no-statement", &key);
    let cases: [(&[u8], &str, &str); 3] = [
        (b"{\"_type\": \"x\"}", dsse::PAYLOAD_TYPE, "payload.subject"),
        (b"{\"subject\": []}", dsse::PAYLOAD_TYPE, "payload._type"),
        (b"{}", "application/json", "payloadType"),
    ];
    for (payload, payload_type, field) in cases {
        save(&dir, &dsse::sign(&key, payload_type, payload));
        let error = check(&dir).unwrap_err();
        assert_eq!(error.exit_code(), exit::BAD_INPUT, "{error}");
        assert!(
            matches!(&error, AttestError::Malformed { field: at, .. } if at == field),
            "{field}: {error}"
        );
    }
}
