//! Key packages (RFC 9420 section 10) and their hash reference (section 5.2).

use super::{Extension, HpkePublicKey, LeafNode, ProtocolVersion, read_bytes, read_vec, write_vec};
use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::crypto::CipherSuite;

/// RFC 9420 section 10.
///
/// ```text
/// struct {
///     ProtocolVersion version;
///     CipherSuite cipher_suite;
///     HPKEPublicKey init_key;
///     LeafNode leaf_node;
///     Extension extensions<V>;
///     /* SignWithLabel(., "KeyPackageTBS", KeyPackageTBS) */
///     opaque signature<V>;
/// } KeyPackage;
/// ```
///
/// `version` is not fixed here (unlike MLSMessage's): "MUST verify that the `version`
/// field of the KeyPackage has the same value as the `version` field of the MLSMessage"
/// is a check for the engine, so any value decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackage {
    pub version: ProtocolVersion,
    pub cipher_suite: CipherSuite,
    pub init_key: HpkePublicKey,
    pub leaf_node: LeafNode,
    pub extensions: Vec<Extension>,
    pub signature: Bytes,
}

impl KeyPackage {
    /// The `SignWithLabel` label of a KeyPackage signature.
    pub const SIGNATURE_LABEL: &'static [u8] = b"KeyPackageTBS";

    /// The signed content, every field above `signature`:
    ///
    /// ```text
    /// struct {
    ///     ProtocolVersion version;
    ///     CipherSuite cipher_suite;
    ///     HPKEPublicKey init_key;
    ///     LeafNode leaf_node;
    ///     Extension extensions<V>;
    /// } KeyPackageTBS;
    /// ```
    pub fn tbs_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_unsigned(&mut out);
        out
    }

    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.cipher_suite.encode(out);
        self.init_key.encode(out);
        self.leaf_node.encode(out);
        write_vec(out, &self.extensions);
    }
}

impl Codec for KeyPackage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_unsigned(out);
        self.signature.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(KeyPackage {
            version: ProtocolVersion::decode(reader)?,
            cipher_suite: CipherSuite::decode(reader)?,
            init_key: HpkePublicKey::decode(reader)?,
            leaf_node: LeafNode::decode(reader)?,
            extensions: read_vec(reader, "KeyPackage.extensions")?,
            signature: read_bytes(reader, "KeyPackage.signature")?,
        })
    }
}

/// RFC 9420 section 5.2: `RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)`, under the
/// KeyPackage's own cipher suite.
///
/// ```text
/// opaque HashReference<V>;
/// HashReference KeyPackageRef;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPackageRef(pub Bytes);

impl KeyPackageRef {
    /// The RefHash label (taken verbatim, "MLS 1.0 " included).
    pub const LABEL: &'static [u8] = b"MLS 1.0 KeyPackage Reference";
}

impl Codec for KeyPackageRef {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(KeyPackageRef(read_bytes(reader, "KeyPackageRef")?))
    }
}
