//! HPKE, RFC 9180, built from the primitives of this module: DHKEM (section 4.1),
//! DeriveKeyPair (section 7.1.3), the key schedule (section 5.1) and the single-shot
//! base-mode APIs: seal/open (section 6.1), which EncryptWithLabel uses (RFC 9420
//! section 5.1.3), and export (section 6.2), which external initialization uses
//! (RFC 9420 section 8.3).
//!
//! ```text
//! SealBase(pkR, info, aad, pt):
//!   skE, pkE      = DeriveKeyPair(random(Nsk))               (or a given ikmE)
//!   dh            = DH(skE, pkR)
//!   enc           = pkE
//!   shared_secret = LabeledExpand(LabeledExtract("", "eae_prk", dh),
//!                                 "shared_secret", enc || pkR, Nsecret)    KEM suite_id
//!   key, base_nonce, exporter_secret = KeySchedule(mode_base, shared_secret, info)
//!   ct            = AEAD.Seal(key, base_nonce, aad, pt)      (sequence number 0)
//! ```
//!
//! Two `suite_id`s separate the uses of the KDF: `"KEM" || kem_id` inside the DHKEM
//! (with the KEM's own KDF), `"HPKE" || kem_id || kdf_id || aead_id` in the key
//! schedule (with the cipher suite's KDF).

use zeroize::Zeroizing;

use super::{Aead, CryptoError, HpkeKeyPair, Kdf, Kem};

/// The version label of RFC 9180 section 4.
const VERSION_LABEL: &[u8] = b"HPKE-v1";

/// `mode_base` (RFC 9180 section 5).
const MODE_BASE: u8 = 0x00;

/// `LabeledExtract(salt, label, ikm)` of RFC 9180 section 4.
pub(crate) fn labeled_extract(
    kdf: Kdf,
    suite_id: &[u8],
    salt: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> Vec<u8> {
    kdf.extract_parts(salt, &[VERSION_LABEL, suite_id, label, ikm])
}

/// `LabeledExpand(prk, label, info, L)` of RFC 9180 section 4. `L` is encoded in two
/// bytes, so it is at most 65535 (and at most 255 * Nh for HKDF).
pub(crate) fn labeled_expand(
    kdf: Kdf,
    suite_id: &[u8],
    prk: &[u8],
    label: &[u8],
    info: &[u8],
    length: usize,
) -> Result<Vec<u8>, CryptoError> {
    let encoded_length = u16::try_from(length)
        .map_err(|_| CryptoError::KdfOutputTooLong { requested: length })?
        .to_be_bytes();
    kdf.expand_parts(
        prk,
        &[&encoded_length, VERSION_LABEL, suite_id, label, info],
        length,
    )
}

impl Kem {
    /// `suite_id = concat("KEM", I2OSP(kem_id, 2))` (RFC 9180 section 4.1).
    fn suite_id(self) -> [u8; 5] {
        let [high, low] = self.id().to_be_bytes();
        [b'K', b'E', b'M', high, low]
    }

    /// `DeriveKeyPair(ikm)` of RFC 9180 section 7.1.3, with the KEM's KDF.
    ///
    /// X25519/X448: `sk = LabeledExpand(dkp_prk, "sk", "", Nsk)`. NIST curves:
    /// rejection sampling over `LabeledExpand(dkp_prk, "candidate", counter, Nsk)` with
    /// the first byte masked, counters 0 to 255.
    pub(crate) fn derive_key_pair(self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        let kdf = self.kdf();
        let suite_id = self.suite_id();
        let nsk = self.private_key_length();
        let dkp_prk = Zeroizing::new(labeled_extract(kdf, &suite_id, b"", b"dkp_prk", ikm));
        let private = match self.candidate_bitmask() {
            None => Zeroizing::new(labeled_expand(kdf, &suite_id, &dkp_prk, b"sk", b"", nsk)?),
            Some(bitmask) => {
                let mut found = None;
                for counter in 0..=255u8 {
                    let mut candidate = Zeroizing::new(labeled_expand(
                        kdf,
                        &suite_id,
                        &dkp_prk,
                        b"candidate",
                        &[counter],
                        nsk,
                    )?);
                    if let Some(first) = candidate.first_mut() {
                        *first &= bitmask;
                    }
                    if self.is_valid_private_key(&candidate) {
                        found = Some(candidate);
                        break;
                    }
                }
                found.ok_or(CryptoError::DeriveKeyPairFailed)?
            }
        };
        let public = self.public_key(&private)?;
        Ok(HpkeKeyPair {
            private: private.to_vec(),
            public,
        })
    }

    /// `GenerateKeyPair()` as `DeriveKeyPair(random(Nsk))` (RFC 9180 section 4).
    pub(crate) fn generate_key_pair(
        self,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<HpkeKeyPair, CryptoError> {
        let mut ikm = Zeroizing::new(vec![0u8; self.private_key_length()]);
        rng.fill_bytes(&mut ikm);
        self.derive_key_pair(&ikm)
    }

    /// `ExtractAndExpand(dh, kem_context)` of RFC 9180 section 4.1.
    fn extract_and_expand(
        self,
        dh: &[u8],
        kem_context: &[&[u8]],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let kdf = self.kdf();
        let suite_id = self.suite_id();
        let eae_prk = Zeroizing::new(labeled_extract(kdf, &suite_id, b"", b"eae_prk", dh));
        let context = kem_context.concat();
        Ok(Zeroizing::new(labeled_expand(
            kdf,
            &suite_id,
            &eae_prk,
            b"shared_secret",
            &context,
            self.shared_secret_length(),
        )?))
    }

    /// `Encap(pkR)` with the ephemeral key pair `DeriveKeyPair(ikm_e)`: returns
    /// `(shared_secret, enc)`.
    pub(crate) fn encap_with_ephemeral(
        self,
        public_r: &[u8],
        ikm_e: &[u8],
    ) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CryptoError> {
        // The sender validates the recipient's key (section 7.1.4) before anything else.
        self.validate_public_key(public_r)?;
        let ephemeral = self.derive_key_pair(ikm_e)?;
        let ephemeral_private = Zeroizing::new(ephemeral.private);
        let dh = self.dh(&ephemeral_private, public_r)?;
        let enc = ephemeral.public;
        let shared_secret = self.extract_and_expand(&dh, &[&enc, public_r])?;
        Ok((shared_secret, enc))
    }

    /// `Decap(enc, skR)` of RFC 9180 section 4.1.
    pub(crate) fn decap(
        self,
        enc: &[u8],
        private_r: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let public_r = self.public_key(private_r)?;
        self.validate_public_key(enc)?;
        let dh = self.dh(private_r, enc)?;
        self.extract_and_expand(&dh, &[enc, &public_r])
    }
}

/// The output of `KeySchedule` (RFC 9180 section 5.1), before any message is sealed.
pub(crate) struct KeyScheduleOutput {
    pub(crate) key: Zeroizing<Vec<u8>>,
    pub(crate) base_nonce: Vec<u8>,
    pub(crate) exporter_secret: Zeroizing<Vec<u8>>,
}

/// An HPKE cipher suite: (KEM, KDF, AEAD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hpke {
    kem: Kem,
    kdf: Kdf,
    aead: Aead,
}

impl Hpke {
    pub(crate) const fn new(kem: Kem, kdf: Kdf, aead: Aead) -> Self {
        Hpke { kem, kdf, aead }
    }

    /// `suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2),
    /// I2OSP(aead_id, 2))` (RFC 9180 section 5.1).
    fn suite_id(&self) -> [u8; 10] {
        let [kem_high, kem_low] = self.kem.id().to_be_bytes();
        let [kdf_high, kdf_low] = self.kdf.id().to_be_bytes();
        let [aead_high, aead_low] = self.aead.id().to_be_bytes();
        [
            b'H', b'P', b'K', b'E', kem_high, kem_low, kdf_high, kdf_low, aead_high, aead_low,
        ]
    }

    /// `KeySchedule(mode_base, shared_secret, info, "", "")` (RFC 9180 section 5.1).
    pub(crate) fn key_schedule_base(
        &self,
        shared_secret: &[u8],
        info: &[u8],
    ) -> Result<KeyScheduleOutput, CryptoError> {
        let suite_id = self.suite_id();
        let kdf = self.kdf;
        let psk_id_hash = labeled_extract(kdf, &suite_id, b"", b"psk_id_hash", b"");
        let info_hash = labeled_extract(kdf, &suite_id, b"", b"info_hash", info);
        let mut context = Vec::with_capacity(1 + psk_id_hash.len() + info_hash.len());
        context.push(MODE_BASE);
        context.extend_from_slice(&psk_id_hash);
        context.extend_from_slice(&info_hash);
        let secret = Zeroizing::new(labeled_extract(
            kdf,
            &suite_id,
            shared_secret,
            b"secret",
            b"",
        ));
        let key = labeled_expand(
            kdf,
            &suite_id,
            &secret,
            b"key",
            &context,
            self.aead.key_length(),
        )?;
        let base_nonce = labeled_expand(
            kdf,
            &suite_id,
            &secret,
            b"base_nonce",
            &context,
            self.aead.nonce_length(),
        )?;
        let exporter_secret =
            labeled_expand(kdf, &suite_id, &secret, b"exp", &context, kdf.hash_length())?;
        Ok(KeyScheduleOutput {
            key: Zeroizing::new(key),
            base_nonce,
            exporter_secret: Zeroizing::new(exporter_secret),
        })
    }

    /// `SealBase` (RFC 9180 section 6.1) with a fresh ephemeral key: `(enc, ct)`.
    pub(crate) fn seal_base(
        &self,
        public_r: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let mut ikm_e = Zeroizing::new(vec![0u8; self.kem.private_key_length()]);
        rng.fill_bytes(&mut ikm_e);
        self.seal_base_with_ephemeral(public_r, &ikm_e, info, aad, plaintext)
    }

    /// `SealBase` with the ephemeral key pair `DeriveKeyPair(ikm_e)`: `(enc, ct)`.
    pub(crate) fn seal_base_with_ephemeral(
        &self,
        public_r: &[u8],
        ikm_e: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let (shared_secret, enc) = self.kem.encap_with_ephemeral(public_r, ikm_e)?;
        let schedule = self.key_schedule_base(&shared_secret, info)?;
        // The first message of a context uses sequence number 0: nonce = base_nonce.
        let ciphertext = self
            .aead
            .seal(&schedule.key, &schedule.base_nonce, aad, plaintext)?;
        Ok((enc, ciphertext))
    }

    /// `Context.Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec",
    /// exporter_context, L)` (RFC 9180 section 5.3).
    pub(crate) fn export(
        &self,
        exporter_secret: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        labeled_expand(
            self.kdf,
            &self.suite_id(),
            exporter_secret,
            b"sec",
            exporter_context,
            length,
        )
    }

    /// `SendExport` in base mode (RFC 9180 section 6.2) with the ephemeral key pair
    /// `DeriveKeyPair(ikm_e)`: `(enc, exported_value)`.
    pub(crate) fn send_export_with_ephemeral(
        &self,
        public_r: &[u8],
        ikm_e: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let (shared_secret, enc) = self.kem.encap_with_ephemeral(public_r, ikm_e)?;
        let schedule = self.key_schedule_base(&shared_secret, info)?;
        let exported = self.export(&schedule.exporter_secret, exporter_context, length)?;
        Ok((enc, exported))
    }

    /// `SendExport` in base mode with a fresh ephemeral key.
    pub(crate) fn send_export(
        &self,
        public_r: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let mut ikm_e = Zeroizing::new(vec![0u8; self.kem.private_key_length()]);
        rng.fill_bytes(&mut ikm_e);
        self.send_export_with_ephemeral(public_r, &ikm_e, info, exporter_context, length)
    }

    /// `ReceiveExport` in base mode (RFC 9180 section 6.2).
    pub(crate) fn receive_export(
        &self,
        private_r: &[u8],
        enc: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        let shared_secret = self.kem.decap(enc, private_r)?;
        let schedule = self.key_schedule_base(&shared_secret, info)?;
        self.export(&schedule.exporter_secret, exporter_context, length)
    }

    /// `OpenBase(enc, skR, info, aad, ct)` (RFC 9180 section 6.1).
    pub(crate) fn open_base(
        &self,
        private_r: &[u8],
        enc: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let shared_secret = self.kem.decap(enc, private_r)?;
        let schedule = self.key_schedule_base(&shared_secret, info)?;
        self.aead
            .open(&schedule.key, &schedule.base_nonce, aad, ciphertext)
    }
}
