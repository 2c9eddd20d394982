//! Joining a group (RFC 9420 section 12.4.3): GroupInfo, the Welcome and the group
//! secrets it carries.
//!
//! ```text
//! Welcome ── secrets[i]: EncryptedGroupSecrets ── HPKE ──> GroupSecrets
//!    └────── encrypted_group_info ── AEAD(welcome key) ──> GroupInfo
//! ```

use super::{
    Extension, GroupContext, HpkeCiphertext, KeyPackageRef, PreSharedKeyId, read_bytes,
    read_leaf_index, read_vec, write_leaf_index, write_vec,
};
use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::crypto::CipherSuite;
use crate::tree_math::LeafIndex;

/// RFC 9420 section 12.4.3.
///
/// ```text
/// struct {
///     GroupContext group_context;
///     Extension extensions<V>;
///     MAC confirmation_tag;
///     uint32 signer;
///     /* SignWithLabel(., "GroupInfoTBS", GroupInfoTBS) */
///     opaque signature<V>;
/// } GroupInfo;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub group_context: GroupContext,
    pub extensions: Vec<Extension>,
    pub confirmation_tag: Bytes,
    pub signer: LeafIndex,
    pub signature: Bytes,
}

impl GroupInfo {
    /// The `SignWithLabel` label of a GroupInfo signature.
    pub const SIGNATURE_LABEL: &'static [u8] = b"GroupInfoTBS";

    /// The signed content, every field above `signature`:
    ///
    /// ```text
    /// struct {
    ///     GroupContext group_context;
    ///     Extension extensions<V>;
    ///     MAC confirmation_tag;
    ///     uint32 signer;
    /// } GroupInfoTBS;
    /// ```
    pub fn tbs_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_unsigned(&mut out);
        out
    }

    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        self.group_context.encode(out);
        write_vec(out, &self.extensions);
        self.confirmation_tag.encode(out);
        write_leaf_index(out, self.signer);
    }
}

impl Codec for GroupInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_unsigned(out);
        self.signature.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GroupInfo {
            group_context: GroupContext::decode(reader)?,
            extensions: read_vec(reader, "GroupInfo.extensions")?,
            confirmation_tag: read_bytes(reader, "GroupInfo.confirmation_tag")?,
            signer: read_leaf_index(reader, "GroupInfo.signer")?,
            signature: read_bytes(reader, "GroupInfo.signature")?,
        })
    }
}

/// RFC 9420 section 12.4.3.1.
///
/// ```text
/// struct {
///   opaque path_secret<V>;
/// } PathSecret;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSecret {
    pub path_secret: Bytes,
}

impl Codec for PathSecret {
    fn encode(&self, out: &mut Vec<u8>) {
        self.path_secret.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PathSecret {
            path_secret: read_bytes(reader, "PathSecret.path_secret")?,
        })
    }
}

/// RFC 9420 section 12.4.3.1: what each new member decrypts from the Welcome.
///
/// ```text
/// struct {
///   opaque joiner_secret<V>;
///   optional<PathSecret> path_secret;
///   PreSharedKeyID psks<V>;
/// } GroupSecrets;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSecrets {
    pub joiner_secret: Bytes,
    pub path_secret: Option<PathSecret>,
    pub psks: Vec<PreSharedKeyId>,
}

impl Codec for GroupSecrets {
    fn encode(&self, out: &mut Vec<u8>) {
        self.joiner_secret.encode(out);
        self.path_secret.encode(out);
        write_vec(out, &self.psks);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GroupSecrets {
            joiner_secret: read_bytes(reader, "GroupSecrets.joiner_secret")?,
            path_secret: Option::<PathSecret>::decode(reader)?,
            psks: read_vec(reader, "GroupSecrets.psks")?,
        })
    }
}

/// RFC 9420 section 12.4.3.1.
///
/// ```text
/// struct {
///   KeyPackageRef new_member;
///   HPKECiphertext encrypted_group_secrets;
/// } EncryptedGroupSecrets;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedGroupSecrets {
    pub new_member: KeyPackageRef,
    pub encrypted_group_secrets: HpkeCiphertext,
}

impl Codec for EncryptedGroupSecrets {
    fn encode(&self, out: &mut Vec<u8>) {
        self.new_member.encode(out);
        self.encrypted_group_secrets.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(EncryptedGroupSecrets {
            new_member: KeyPackageRef::decode(reader)?,
            encrypted_group_secrets: HpkeCiphertext::decode(reader)?,
        })
    }
}

/// RFC 9420 section 12.4.3.1.
///
/// ```text
/// struct {
///   CipherSuite cipher_suite;
///   EncryptedGroupSecrets secrets<V>;
///   opaque encrypted_group_info<V>;
/// } Welcome;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub cipher_suite: CipherSuite,
    pub secrets: Vec<EncryptedGroupSecrets>,
    pub encrypted_group_info: Bytes,
}

impl Welcome {
    /// The entry addressed to the KeyPackage with reference `new_member`, if any.
    pub fn secrets_for(&self, new_member: &KeyPackageRef) -> Option<&EncryptedGroupSecrets> {
        self.secrets.iter().find(|s| &s.new_member == new_member)
    }
}

impl Codec for Welcome {
    fn encode(&self, out: &mut Vec<u8>) {
        self.cipher_suite.encode(out);
        write_vec(out, &self.secrets);
        self.encrypted_group_info.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Welcome {
            cipher_suite: CipherSuite::decode(reader)?,
            secrets: read_vec(reader, "Welcome.secrets")?,
            encrypted_group_info: read_bytes(reader, "Welcome.encrypted_group_info")?,
        })
    }
}
