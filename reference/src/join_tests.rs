//! Joining by Welcome against the official `passive-client-welcome` cases: the happy
//! path, and each rule of section 12.4.3.1 broken on purpose.

use std::path::PathBuf;

use serde_json::Value;

use super::*;
use crate::crypto::CipherSuite;
use crate::messages::{MlsMessage, MlsMessageBody, Node};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One vector case, decoded.
struct Fixture {
    suite: Suite,
    welcome: Welcome,
    key_package: KeyPackage,
    init_priv: Vec<u8>,
    encryption_priv: Vec<u8>,
    signature_priv: Vec<u8>,
    tree: Option<messages::RatchetTree>,
    psks: Vec<(Vec<u8>, Vec<u8>)>,
    epoch_authenticator: Vec<u8>,
}

impl Fixture {
    fn keys(&self) -> JoinerKeys<'_> {
        JoinerKeys {
            init_private: &self.init_priv,
            encryption_private: &self.encryption_priv,
            signature_private: &self.signature_priv,
        }
    }

    fn psk(&self, id: &PreSharedKeyId) -> Option<Vec<u8>> {
        match &id.psk {
            Psk::External { psk_id } => self
                .psks
                .iter()
                .find(|(known, _)| known == &psk_id.0)
                .map(|(_, value)| value.clone()),
            Psk::Resumption { .. } => None,
        }
    }

    fn join_with(
        &self,
        keys: JoinerKeys<'_>,
        tree: Option<&messages::RatchetTree>,
    ) -> Result<JoinedGroup, JoinError> {
        join(
            &self.suite,
            &self.welcome,
            &self.key_package,
            keys,
            tree,
            |id| self.psk(id),
        )
    }

    fn join(&self) -> Result<JoinedGroup, JoinError> {
        self.join_with(self.keys(), self.tree.as_ref())
    }
}

fn hex_field(object: &Value, key: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let text = object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing hex field {key}"))?;
    Ok(hex::decode(text)?)
}

fn fixtures() -> Result<Vec<Fixture>, Box<dyn std::error::Error>> {
    let folder = std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/mls-vectors"
            ))
        });
    let path = folder.join("passive-client-welcome.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Value::Array(cases) = serde_json::from_str(&text)? else {
        return Err("passive-client-welcome.json: not a JSON array".into());
    };
    let mut out = Vec::new();
    for case in &cases {
        let suite_id = case
            .get("cipher_suite")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or("cipher_suite")?;
        let MlsMessageBody::KeyPackage(key_package) =
            MlsMessage::from_bytes(&hex_field(case, "key_package")?)?.body
        else {
            return Err("key_package is not a KeyPackage".into());
        };
        let MlsMessageBody::Welcome(welcome) =
            MlsMessage::from_bytes(&hex_field(case, "welcome")?)?.body
        else {
            return Err("welcome is not a Welcome".into());
        };
        let tree = match case.get("ratchet_tree") {
            Some(Value::Null) | None => None,
            Some(_) => Some(decode_ratchet_tree(&hex_field(case, "ratchet_tree")?)?),
        };
        let mut psks = Vec::new();
        for psk in case
            .get("external_psks")
            .and_then(Value::as_array)
            .ok_or("external_psks")?
        {
            psks.push((hex_field(psk, "psk_id")?, hex_field(psk, "psk")?));
        }
        out.push(Fixture {
            suite: Suite::new(CipherSuite(suite_id))?,
            welcome,
            key_package,
            init_priv: hex_field(case, "init_priv")?,
            encryption_priv: hex_field(case, "encryption_priv")?,
            signature_priv: hex_field(case, "signature_priv")?,
            tree,
            psks,
            epoch_authenticator: hex_field(case, "initial_epoch_authenticator")?,
        });
    }
    Ok(out)
}

/// The first case with the tree given out of band.
fn with_given_tree(fixtures: &[Fixture]) -> Result<&Fixture, Box<dyn std::error::Error>> {
    Ok(fixtures
        .iter()
        .find(|f| f.tree.is_some())
        .ok_or("no case with an out-of-band tree")?)
}

#[test]
fn every_case_joins_and_holds_keys_matching_the_tree() -> TestResult {
    let fixtures = fixtures()?;
    let mut with_path = 0;
    for (i, fixture) in fixtures.iter().enumerate() {
        let joined = fixture.join().map_err(|e| format!("case {i}: {e}"))?;
        assert_eq!(joined.epoch_authenticator(), fixture.epoch_authenticator);
        for (node, private) in &joined.private_keys {
            let public = match joined.tree.node(*node) {
                Some(Node::Leaf(l)) => l.encryption_key.as_slice().to_vec(),
                Some(Node::Parent(p)) => p.encryption_key.as_slice().to_vec(),
                None => return Err(format!("case {i}: key for blank node {}", node.0).into()),
            };
            assert_eq!(fixture.suite.hpke_public_key(private)?, public, "case {i}");
        }
        if !joined.path_secrets.is_empty() {
            with_path += 1;
        }
    }
    assert!(with_path > 0, "no case exercises a path secret");
    Ok(())
}

#[test]
fn wrong_init_key_is_rejected() -> TestResult {
    let fixtures = fixtures()?;
    let fixture = with_given_tree(&fixtures)?;
    let wrong = fixture.encryption_priv.clone();
    let keys = JoinerKeys {
        init_private: &wrong,
        ..fixture.keys()
    };
    assert_eq!(
        fixture.join_with(keys, fixture.tree.as_ref()).err(),
        Some(JoinError::InitKeyMismatch)
    );
    Ok(())
}

#[test]
fn wrong_encryption_key_is_rejected() -> TestResult {
    let fixtures = fixtures()?;
    let fixture = with_given_tree(&fixtures)?;
    let wrong = fixture.init_priv.clone();
    let keys = JoinerKeys {
        encryption_private: &wrong,
        ..fixture.keys()
    };
    assert!(matches!(
        fixture.join_with(keys, fixture.tree.as_ref()),
        Err(JoinError::EncryptionKeyMismatch(_))
    ));
    Ok(())
}

#[test]
fn tampered_tree_fails_validation() -> TestResult {
    let fixtures = fixtures()?;
    let fixture = with_given_tree(&fixtures)?;
    let joined = fixture.join()?;
    let mut tree = fixture.tree.clone().ok_or("no tree")?;
    // Re-sign nothing: change one byte of a leaf other than the signer's.
    let target = joined
        .tree
        .leaves()
        .map(|(index, _)| index)
        .find(|&index| index != joined.signer)
        .ok_or("no leaf besides the signer")?;
    let Some(Some(Node::Leaf(leaf))) = tree.0.get_mut(target.node().as_usize()) else {
        return Err("target leaf missing from the wire tree".into());
    };
    let mut signature = leaf.signature.0.clone();
    if let Some(byte) = signature.first_mut() {
        *byte ^= 1;
    }
    leaf.signature.0 = signature;
    assert_eq!(
        fixture.join_with(fixture.keys(), Some(&tree)).err(),
        Some(JoinError::TreeValidation(
            TreeValidationError::TreeHashMismatch
        ))
    );
    Ok(())
}

#[test]
fn a_tree_from_neither_source_is_refused_and_a_different_second_tree_too() -> TestResult {
    let fixtures = fixtures()?;
    let given = with_given_tree(&fixtures)?;
    assert_eq!(
        given.join_with(given.keys(), None).err(),
        Some(JoinError::MissingRatchetTree)
    );
    let in_extension = fixtures
        .iter()
        .find(|f| f.tree.is_none())
        .ok_or("no case with the tree in the GroupInfo")?;
    let tree = given.tree.as_ref();
    assert_eq!(
        in_extension.join_with(in_extension.keys(), tree).err(),
        Some(JoinError::ConflictingRatchetTrees)
    );
    Ok(())
}

#[test]
fn wrong_path_secret_gives_a_key_mismatch() -> TestResult {
    let fixtures = fixtures()?;
    let (fixture, joined) = fixtures
        .iter()
        .filter_map(|f| f.join().ok().map(|j| (f, j)))
        .find(|(_, j)| !j.path_secrets.is_empty())
        .ok_or("no case with a path secret")?;
    let lowest = joined
        .path_secrets
        .keys()
        .copied()
        .min_by_key(|n| n.level())
        .ok_or("no path node")?;
    let wrong = vec![0x42; fixture.suite.hash_length()];
    assert_eq!(
        derive_path(
            &fixture.suite,
            &joined.tree,
            joined.own_leaf,
            joined.signer,
            &wrong
        )
        .err(),
        Some(JoinError::PathKeyMismatch(lowest.0))
    );
    assert_eq!(
        derive_path(
            &fixture.suite,
            &joined.tree,
            joined.own_leaf,
            joined.own_leaf,
            &wrong
        )
        .err(),
        Some(JoinError::PathSecretFromOwnLeaf(joined.own_leaf.0))
    );
    Ok(())
}

#[test]
fn reinit_or_branch_psks_need_epoch_one_and_uniqueness() {
    let resumption = |usage| PreSharedKeyId {
        psk: Psk::Resumption {
            usage,
            psk_group_id: crate::codec::Bytes(vec![1]),
            psk_epoch: 3,
        },
        psk_nonce: crate::codec::Bytes(vec![0; 32]),
    };
    let reinit = resumption(ResumptionPskUsage::Reinit);
    let branch = resumption(ResumptionPskUsage::Branch);
    let application = resumption(ResumptionPskUsage::Application);
    assert_eq!(
        check_reinit_branch_psks(std::slice::from_ref(&application), 7),
        Ok(())
    );
    assert_eq!(
        check_reinit_branch_psks(std::slice::from_ref(&reinit), 1),
        Ok(())
    );
    assert_eq!(
        check_reinit_branch_psks(std::slice::from_ref(&branch), 2),
        Err(JoinError::ReinitOrBranchEpoch(2))
    );
    assert_eq!(
        check_reinit_branch_psks(&[reinit, application, branch], 1),
        Err(JoinError::MultipleReinitOrBranchPsks(2))
    );
}

#[test]
fn the_same_tree_from_both_sources_is_accepted() -> TestResult {
    let fixtures = fixtures()?;
    let in_extension = fixtures
        .iter()
        .find(|f| f.tree.is_none())
        .ok_or("no case with the tree in the GroupInfo")?;
    let joined = in_extension.join()?;
    let wire = joined.tree.to_wire();
    let again = in_extension.join_with(in_extension.keys(), Some(&wire))?;
    assert_eq!(
        again.epoch_authenticator(),
        in_extension.epoch_authenticator
    );
    Ok(())
}
