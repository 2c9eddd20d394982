//! `crypto-basics.json`: the labeled operations of RFC 9420 sections 5.1 and 5.2 and
//! DeriveTreeSecret (section 9.1), one case per suite as upstream, over random inputs
//! and freshly generated signature and HPKE key pairs.

use crate::vectors::crypto_basics::{
    Case, DeriveSecret, DeriveTreeSecret, EncryptWithLabel, ExpandWithLabel, RefHash, SignWithLabel,
};
use concord_reference::crypto::Suite;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::{random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

/// The output length of the ExpandWithLabel case (upstream's).
const EXPAND_LENGTH: u16 = 16;

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    let nh = suite.hash_length() as u16;

    let value = random_secret(suite, rng);
    let ref_hash = RefHash {
        out: HexBytes(suite.ref_hash(b"RefHash", &value)),
        label: "RefHash".into(),
        value,
    };

    let (secret, context) = (random_secret(suite, rng), random_secret(suite, rng));
    let out = suite
        .expand_with_label(&secret, b"ExpandWithLabel", &context, EXPAND_LENGTH)
        .at("expand_with_label.out")?;
    let expand_with_label = ExpandWithLabel {
        secret,
        label: "ExpandWithLabel".into(),
        context,
        length: EXPAND_LENGTH,
        out: HexBytes(out),
    };

    let secret = random_secret(suite, rng);
    let out = suite
        .derive_secret(&secret, b"DeriveSecret")
        .at("derive_secret.out")?;
    let derive_secret = DeriveSecret {
        secret,
        label: "DeriveSecret".into(),
        out: HexBytes(out),
    };

    let secret = random_secret(suite, rng);
    let generation = rng.next_u32();
    let out = suite
        .derive_tree_secret(&secret, b"DeriveTreeSecret", generation, nh)
        .at("derive_tree_secret.out")?;
    let derive_tree_secret = DeriveTreeSecret {
        secret,
        label: "DeriveTreeSecret".into(),
        generation,
        length: nh,
        out: HexBytes(out),
    };

    let keys = suite.signature_generate(rng).at("sign_with_label.priv")?;
    let content = random_secret(suite, rng);
    let signature = suite
        .sign_with_label(&keys.private, b"SignWithLabel", &content)
        .at("sign_with_label.signature")?;
    let sign_with_label = SignWithLabel {
        private: HexBytes(keys.private),
        public: HexBytes(keys.public),
        content,
        label: "SignWithLabel".into(),
        signature: HexBytes(signature),
    };

    let keys = suite
        .hpke_generate_key_pair(rng)
        .at("encrypt_with_label.priv")?;
    let (context, plaintext) = (random_secret(suite, rng), random_secret(suite, rng));
    let (kem_output, ciphertext) = suite
        .encrypt_with_label(&keys.public, b"EncryptWithLabel", &context, &plaintext, rng)
        .at("encrypt_with_label.ciphertext")?;
    let encrypt_with_label = EncryptWithLabel {
        private: HexBytes(keys.private),
        public: HexBytes(keys.public),
        label: "EncryptWithLabel".into(),
        context,
        plaintext,
        kem_output: HexBytes(kem_output),
        ciphertext: HexBytes(ciphertext),
    };

    Ok(vec![to_value(&Case {
        cipher_suite: suite.id().0,
        ref_hash,
        expand_with_label,
        derive_secret,
        derive_tree_secret,
        sign_with_label,
        encrypt_with_label,
    })?])
}
