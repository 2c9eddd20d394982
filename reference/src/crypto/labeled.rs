//! The labeled operations of RFC 9420 that bind every use of a primitive to a purpose:
//! RefHash (section 5.2), SignWithLabel (5.1.2), EncryptWithLabel (5.1.3),
//! ExpandWithLabel and DeriveSecret (section 8), DeriveTreeSecret (section 9).
//!
//! ```text
//! RefHash(label, value)          = Hash(RefHashInput { label, value })
//! ExpandWithLabel(s, L, ctx, n)  = KDF.Expand(s, KDFLabel { n, "MLS 1.0 " + L, ctx }, n)
//! DeriveSecret(s, L)             = ExpandWithLabel(s, L, "", Nh)
//! DeriveTreeSecret(s, L, g, n)   = ExpandWithLabel(s, L, uint32(g), n)
//! SignWithLabel(sk, L, c)        = Sign(sk, SignContent { "MLS 1.0 " + L, c })
//! EncryptWithLabel(pk, L, ctx, p)= SealBase(pk, EncryptContext { "MLS 1.0 " + L, ctx }, "", p)
//! ```
//!
//! Every struct is serialized with the TLS presentation language of section 2.1: the
//! opaque fields carry a variable-length integer length prefix (section 2.1.2).
//! RefHash takes its label verbatim (callers pass "MLS 1.0 KeyPackage Reference" and
//! the like); the other operations prepend "MLS 1.0 " themselves.
//!
//! As in the codec, a field of 2^30 bytes or more cannot be encoded and panics:
//! such lengths come from this process's own buffers, never from a peer's vector.

use crate::codec::{write_opaque, write_varint};

use super::{CryptoError, Suite};

/// The prefix RFC 9420 puts in front of every label but RefHash's.
const LABEL_PREFIX: &[u8] = b"MLS 1.0 ";

/// `opaque label<V> = "MLS 1.0 " + label; opaque second<V> = second;`: the body of
/// SignContent and EncryptContext.
fn prefixed_label_and(label: &[u8], second: &[u8]) -> Vec<u8> {
    let full_label_length = LABEL_PREFIX.len() + label.len();
    let mut out = Vec::with_capacity(full_label_length + second.len() + 8);
    write_varint(&mut out, full_label_length as u64);
    out.extend_from_slice(LABEL_PREFIX);
    out.extend_from_slice(label);
    write_opaque(&mut out, second);
    out
}

impl Suite {
    /// `RefHash(label, value)` (RFC 9420 section 5.2).
    pub fn ref_hash(&self, label: &[u8], value: &[u8]) -> Vec<u8> {
        let mut input = Vec::with_capacity(label.len() + value.len() + 8);
        write_opaque(&mut input, label);
        write_opaque(&mut input, value);
        self.hash(&input)
    }

    /// `ExpandWithLabel(Secret, Label, Context, Length)` (RFC 9420 section 8):
    /// `KDF.Expand(Secret, KDFLabel, Length)` with
    /// `struct { uint16 length; opaque label<V>; opaque context<V>; } KDFLabel`.
    pub fn expand_with_label(
        &self,
        secret: &[u8],
        label: &[u8],
        context: &[u8],
        length: u16,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut kdf_label =
            Vec::with_capacity(2 + LABEL_PREFIX.len() + label.len() + context.len() + 8);
        kdf_label.extend_from_slice(&length.to_be_bytes());
        kdf_label.extend_from_slice(&prefixed_label_and(label, context));
        self.kdf_expand(secret, &kdf_label, usize::from(length))
    }

    /// `DeriveSecret(Secret, Label) = ExpandWithLabel(Secret, Label, "", KDF.Nh)`
    /// (RFC 9420 section 8).
    pub fn derive_secret(&self, secret: &[u8], label: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // Nh is 32, 48 or 64.
        let nh = u16::try_from(self.hash_length()).map_err(|_| CryptoError::KdfOutputTooLong {
            requested: self.hash_length(),
        })?;
        self.expand_with_label(secret, label, b"", nh)
    }

    /// `DeriveTreeSecret(Secret, Label, Generation, Length) =
    /// ExpandWithLabel(Secret, Label, Generation, Length)`, the generation encoded as a
    /// `uint32` (RFC 9420 section 9).
    pub fn derive_tree_secret(
        &self,
        secret: &[u8],
        label: &[u8],
        generation: u32,
        length: u16,
    ) -> Result<Vec<u8>, CryptoError> {
        self.expand_with_label(secret, label, &generation.to_be_bytes(), length)
    }

    /// `SignWithLabel(SignatureKey, Label, Content)` (RFC 9420 section 5.1.2).
    pub fn sign_with_label(
        &self,
        private: &[u8],
        label: &[u8],
        content: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.sign(private, &prefixed_label_and(label, content))
    }

    /// `VerifyWithLabel(VerificationKey, Label, Content, SignatureValue)` (RFC 9420
    /// section 5.1.2).
    pub fn verify_with_label(
        &self,
        public: &[u8],
        label: &[u8],
        content: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify(public, &prefixed_label_and(label, content), signature)
    }

    /// `EncryptWithLabel(PublicKey, Label, Context, Plaintext) =
    /// SealBase(PublicKey, EncryptContext, "", Plaintext)` (RFC 9420 section 5.1.3):
    /// returns `(kem_output, ciphertext)`.
    pub fn encrypt_with_label(
        &self,
        public: &[u8],
        label: &[u8],
        context: &[u8],
        plaintext: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke_seal(
            public,
            &prefixed_label_and(label, context),
            b"",
            plaintext,
            rng,
        )
    }

    /// `DecryptWithLabel(PrivateKey, Label, Context, KEMOutput, Ciphertext) =
    /// OpenBase(KEMOutput, PrivateKey, EncryptContext, "", Ciphertext)` (RFC 9420
    /// section 5.1.3).
    pub fn decrypt_with_label(
        &self,
        private: &[u8],
        label: &[u8],
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.hpke_open(
            private,
            kem_output,
            &prefixed_label_and(label, context),
            b"",
            ciphertext,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_prefixed_and_length_encoded() {
        // "MLS 1.0 " + "ab" is 10 bytes; context of 3 bytes.
        assert_eq!(
            prefixed_label_and(b"ab", b"xyz"),
            [&[10u8][..], b"MLS 1.0 ab", &[3], b"xyz"].concat()
        );
    }
}
