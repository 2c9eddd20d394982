//! Pre-shared keys in the key schedule (RFC 9420 section 8.4).
//!
//! ```text
//! psk_extracted_[i] = KDF.Extract(0, psk_[i])
//! psk_input_[i]     = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, KDF.Nh)
//! psk_secret_[0]    = 0
//! psk_secret_[i]    = KDF.Extract(psk_input_[i-1], psk_secret_[i-1])
//! psk_secret        = psk_secret_[n]
//! ```

use crate::codec::Codec;
use crate::crypto::{CryptoError, Suite};
use crate::messages::{PreSharedKeyId, PskLabel};

/// `psk_secret` for PSKs injected in the order given, each with its `PreSharedKeyID`
/// and the PSK's value.
pub fn psk_secret(
    suite: &Suite,
    psks: &[(PreSharedKeyId, Vec<u8>)],
) -> Result<Vec<u8>, CryptoError> {
    let zero = vec![0u8; suite.hash_length()];
    // PSKLabel.count is a uint16: more PSKs than that cannot be labelled.
    let count = u16::try_from(psks.len()).map_err(|_| CryptoError::InvalidKeyLength {
        what: "number of PSKs (PSKLabel.count)",
        expected: usize::from(u16::MAX),
        actual: psks.len(),
    })?;
    let mut secret = zero.clone();
    for (index, (id, psk)) in psks.iter().enumerate() {
        let extracted = suite.kdf_extract(&zero, psk);
        let label = PskLabel {
            id: id.clone(),
            index: index as u16,
            count,
        }
        .to_bytes();
        let input = suite.expand_with_label(
            &extracted,
            b"derived psk",
            &label,
            suite.hash_length() as u16,
        )?;
        secret = suite.kdf_extract(&input, &secret);
    }
    Ok(secret)
}
