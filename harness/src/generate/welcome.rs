//! `welcome.json`: a Welcome for one new member (RFC 9420 section 12.4.3.1), one case per
//! suite as upstream. The new member's KeyPackage is signed by a fresh key; the GroupInfo
//! (a random epoch's GroupContext, confirmation tag from the key schedule, signer leaf 0)
//! by another; GroupSecrets carry a random joiner secret and no PSKs.

use crate::vectors::welcome::Case;
use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::key_schedule;
use concord_reference::messages::{
    EncryptedGroupSecrets, GroupContext, GroupInfo, GroupSecrets, HpkeCiphertext, MlsMessage,
    MlsMessageBody, Welcome,
};
use concord_reference::transcript;
use concord_reference::tree_math::LeafIndex;
use concord_reference::welcome::key_package_ref;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::group::{key_package, key_package_leaf};
use super::{random_secret, to_value, within};
use crate::vectors::{AtField, HexBytes, Mismatch};

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    let joiner = key_package_leaf(suite, rng).map_err(within("key_package"))?;
    let (key_package, init_private) =
        key_package(suite, &joiner, rng).map_err(within("key_package"))?;
    let signer = suite.signature_generate(rng).at("signer_pub")?;

    let group_context = GroupContext::new(
        suite.id(),
        random_secret(suite, rng).0,
        u64::from(rng.next_u32()),
        random_secret(suite, rng).0,
        random_secret(suite, rng).0,
        Vec::new(),
    );
    let joiner_secret = random_secret(suite, rng);
    let psk_secret = key_schedule::zero_secret(suite);
    let secrets = key_schedule::epoch_secrets(
        suite,
        &joiner_secret,
        &psk_secret,
        &group_context.to_bytes(),
    )
    .at("welcome (epoch secrets)")?;
    let confirmation_tag = transcript::confirmation_tag(
        suite,
        &secrets.confirmation_key,
        &group_context.confirmed_transcript_hash,
    );
    let mut group_info = GroupInfo {
        group_context,
        extensions: Vec::new(),
        confirmation_tag: Bytes(confirmation_tag),
        signer: LeafIndex(0),
        signature: Bytes::default(),
    };
    group_info.signature = Bytes(
        suite
            .sign_with_label(
                &signer.private,
                GroupInfo::SIGNATURE_LABEL,
                &group_info.tbs_bytes(),
            )
            .at("welcome (GroupInfo signature)")?,
    );

    let (key, nonce) =
        key_schedule::welcome_key_nonce(suite, &secrets.welcome_secret).at("welcome (key)")?;
    let encrypted_group_info = suite
        .aead_seal(&key, &nonce, b"", &group_info.to_bytes())
        .at("welcome (encrypted_group_info)")?;
    let group_secrets = GroupSecrets {
        joiner_secret: Bytes(joiner_secret.to_vec()),
        path_secret: None,
        psks: Vec::new(),
    };
    let (kem_output, ciphertext) = suite
        .encrypt_with_label(
            key_package.init_key.as_slice(),
            b"Welcome",
            &encrypted_group_info,
            &group_secrets.to_bytes(),
            rng,
        )
        .at("welcome (encrypted_group_secrets)")?;
    let welcome = Welcome {
        cipher_suite: suite.id(),
        secrets: vec![EncryptedGroupSecrets {
            new_member: key_package_ref(suite, &key_package),
            encrypted_group_secrets: HpkeCiphertext {
                kem_output: Bytes(kem_output),
                ciphertext: Bytes(ciphertext),
            },
        }],
        encrypted_group_info: Bytes(encrypted_group_info),
    };

    Ok(vec![to_value(&Case {
        cipher_suite: suite.id().0,
        init_priv: HexBytes(init_private),
        signer_pub: HexBytes(signer.public),
        key_package: HexBytes(MlsMessage::new(MlsMessageBody::KeyPackage(key_package)).to_bytes()),
        welcome: HexBytes(MlsMessage::new(MlsMessageBody::Welcome(welcome)).to_bytes()),
    })?])
}
