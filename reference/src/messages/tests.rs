//! Unit tests of the rules the codec enforces beyond plain syntax, and of the
//! to-be-signed helpers.

use super::*;
use crate::crypto::CipherSuite;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn leaf_node(leaf_node_source: LeafNodeSource) -> LeafNode {
    LeafNode {
        encryption_key: HpkePublicKey::from(vec![1; 32]),
        signature_key: SignaturePublicKey::from(vec![2; 32]),
        credential: Credential::basic(b"alice".to_vec()),
        capabilities: Capabilities {
            versions: vec![ProtocolVersion::MLS10],
            cipher_suites: vec![CipherSuite(1), CipherSuite(0x0a0a)],
            extensions: vec![ExtensionType(0x1a1a)],
            proposals: vec![ProposalType(0x2a2a)],
            credentials: vec![CredentialType::BASIC],
        },
        leaf_node_source,
        extensions: vec![Extension::new(ExtensionType(0xff00), vec![9, 9])],
        signature: Bytes(vec![3; 64]),
    }
}

fn key_package() -> KeyPackage {
    KeyPackage {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(1),
        init_key: HpkePublicKey::from(vec![4; 32]),
        leaf_node: leaf_node(LeafNodeSource::KeyPackage {
            lifetime: Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        }),
        extensions: Vec::new(),
        signature: Bytes(vec![5; 64]),
    }
}

fn group_context() -> GroupContext {
    GroupContext::new(
        CipherSuite(1),
        b"group".to_vec(),
        7,
        vec![6; 32],
        vec![7; 32],
        Vec::new(),
    )
}

fn member_commit() -> PublicMessage {
    PublicMessage {
        content: FramedContent {
            group_id: Bytes(b"group".to_vec()),
            epoch: 7,
            sender: Sender::Member {
                leaf_index: LeafIndex(1),
            },
            authenticated_data: Bytes::default(),
            body: ContentBody::Commit(Commit {
                proposals: vec![ProposalOrRef::Proposal(Proposal::Remove(Remove {
                    removed: LeafIndex(2),
                }))],
                path: None,
            }),
        },
        auth: FramedContentAuthData {
            signature: Bytes(vec![8; 64]),
            confirmation_tag: Some(Bytes(vec![9; 32])),
        },
        membership_tag: Some(Bytes(vec![10; 32])),
    }
}

#[test]
fn key_package_message_round_trips() -> TestResult {
    let message = MlsMessage::new(MlsMessageBody::KeyPackage(key_package()));
    let bytes = message.to_bytes();
    assert_eq!(
        &bytes[..4],
        &[0, 1, 0, 5],
        "version mls10, wire format mls_key_package"
    );
    assert_eq!(MlsMessage::from_bytes(&bytes)?, message);
    Ok(())
}

#[test]
fn trailing_byte_after_a_message_is_rejected() {
    let mut bytes = MlsMessage::new(MlsMessageBody::KeyPackage(key_package())).to_bytes();
    bytes.push(0);
    assert!(matches!(
        MlsMessage::from_bytes(&bytes),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn unknown_wire_format_is_a_typed_error() {
    let mut bytes = MlsMessage::new(MlsMessageBody::KeyPackage(key_package())).to_bytes();
    bytes[2..4].copy_from_slice(&0x0006u16.to_be_bytes());
    assert!(matches!(
        MlsMessage::from_bytes(&bytes),
        Err(DecodeError::InvalidValue { what, value: 6 }) if what.starts_with("MLSMessage.wire_format")
    ));
}

#[test]
fn versions_other_than_mls10_are_rejected_where_the_rfc_fixes_them() {
    let mut message = MlsMessage::new(MlsMessageBody::KeyPackage(key_package()));
    message.version = ProtocolVersion(2);
    assert_eq!(
        MlsMessage::from_bytes(&message.to_bytes()),
        Err(DecodeError::InvalidValue {
            what: "MLSMessage.version",
            value: 2
        })
    );
    let mut context = group_context();
    context.version = ProtocolVersion(0);
    assert_eq!(
        GroupContext::from_bytes(&context.to_bytes()),
        Err(DecodeError::InvalidValue {
            what: "GroupContext.version",
            value: 0
        })
    );
    // KeyPackage.version is not fixed: the engine compares it with the MLSMessage's.
    let mut package = key_package();
    package.version = ProtocolVersion(0x0a0a);
    assert_eq!(KeyPackage::from_bytes(&package.to_bytes()), Ok(package));
}

#[test]
fn optional_presence_other_than_zero_or_one_is_rejected() {
    // Commit { proposals: [], path: <presence 2> }
    assert_eq!(
        Commit::from_bytes(&[0x00, 0x02]),
        Err(DecodeError::InvalidOptionalPresence { value: 2 })
    );
    // GroupSecrets { joiner_secret: [], path_secret: <presence 0xff> ... }
    assert_eq!(
        GroupSecrets::from_bytes(&[0x00, 0xff, 0x00]),
        Err(DecodeError::InvalidOptionalPresence { value: 0xff })
    );
    // ratchet_tree with one entry whose presence byte is 2
    assert_eq!(
        RatchetTree::from_bytes(&[0x01, 0x02]),
        Err(DecodeError::InvalidOptionalPresence { value: 2 })
    );
}

#[test]
fn private_message_content_padding_must_be_zero() -> TestResult {
    let public = member_commit();
    let content = PrivateMessageContent {
        body: public.content.body,
        auth: public.auth,
        padding: 5,
    };
    let mut bytes = content.to_bytes();
    assert_eq!(&bytes[bytes.len() - 5..], &[0; 5]);
    assert_eq!(
        PrivateMessageContent::from_bytes(ContentType::Commit, &bytes)?,
        content
    );

    let last = bytes.len() - 2;
    bytes[last] = 1;
    assert!(matches!(
        PrivateMessageContent::from_bytes(ContentType::Commit, &bytes),
        Err(DecodeError::Malformed {
            what: "PrivateMessageContent.padding",
            ..
        })
    ));
    Ok(())
}

#[test]
fn private_message_content_body_follows_the_outer_content_type() -> TestResult {
    let content = PrivateMessageContent {
        body: ContentBody::Application {
            application_data: Bytes(b"hi".to_vec()),
        },
        auth: FramedContentAuthData {
            signature: Bytes(vec![1; 4]),
            confirmation_tag: None,
        },
        padding: 0,
    };
    let bytes = content.to_bytes();
    assert_eq!(
        PrivateMessageContent::from_bytes(ContentType::Application, &bytes)?,
        content
    );
    // Read as a commit, the same bytes are something else or nothing, never the same value.
    assert_ne!(
        PrivateMessageContent::from_bytes(ContentType::Commit, &bytes).ok(),
        Some(content)
    );
    Ok(())
}

#[test]
fn unknown_proposal_type_is_a_typed_error() {
    assert!(matches!(
        Proposal::from_bytes(&[0x0a, 0x0a, 0x00]),
        Err(DecodeError::InvalidValue { what, value: 0x0a0a }) if what.starts_with("proposal_type")
    ));
}

#[test]
fn reserved_values_of_closed_enums_are_rejected() {
    let mut bytes = member_commit().to_bytes();
    // group_id (1 + 5), epoch (8), sender (1 + 4), authenticated_data (1), then content_type.
    let content_type_at = 6 + 8 + 5 + 1;
    assert_eq!(bytes[content_type_at], 3);
    bytes[content_type_at] = 0;
    assert_eq!(
        PublicMessage::from_bytes(&bytes),
        Err(DecodeError::InvalidValue {
            what: "content_type",
            value: 0
        })
    );
    assert_eq!(
        Sender::from_bytes(&[5]),
        Err(DecodeError::InvalidValue {
            what: "sender_type",
            value: 5
        })
    );
    assert_eq!(
        Node::from_bytes(&[0]),
        Err(DecodeError::InvalidValue {
            what: "node_type",
            value: 0
        })
    );
}

#[test]
fn membership_tag_is_present_exactly_for_members() -> TestResult {
    let member = member_commit();
    let bytes = member.to_bytes();
    assert_eq!(PublicMessage::from_bytes(&bytes)?, member);
    // Without its membership tag the member's message is truncated.
    let without = PublicMessage {
        membership_tag: None,
        ..member.clone()
    }
    .to_bytes();
    assert!(matches!(
        PublicMessage::from_bytes(&without),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
    // An external sender's message carries none: the same tag is a trailing value.
    let mut external = member;
    external.content.sender = Sender::External { sender_index: 3 };
    assert!(matches!(
        PublicMessage::from_bytes(&external.to_bytes()),
        Err(DecodeError::TrailingBytes { .. })
    ));
    external.membership_tag = None;
    assert_eq!(PublicMessage::from_bytes(&external.to_bytes())?, external);
    Ok(())
}

#[test]
fn ratchet_tree_must_end_with_a_non_blank_node() -> TestResult {
    let leaf = Some(Node::Leaf(leaf_node(LeafNodeSource::Update)));
    let tree = RatchetTree(vec![leaf.clone(), None, leaf.clone()]);
    assert_eq!(RatchetTree::from_bytes(&tree.to_bytes())?, tree);
    let trailing_blank = RatchetTree(vec![leaf, None]).to_bytes();
    assert!(matches!(
        RatchetTree::from_bytes(&trailing_blank),
        Err(DecodeError::Malformed { .. })
    ));
    assert!(matches!(
        RatchetTree::from_bytes(&[0]),
        Err(DecodeError::Malformed { .. })
    ));
    Ok(())
}

#[test]
fn unknown_credential_types_round_trip_as_opaque() -> TestResult {
    let credential = Credential::Other {
        credential_type: CredentialType(0xf001),
        data: Bytes(vec![1, 2, 3]),
    };
    let bytes = credential.to_bytes();
    assert_eq!(bytes, [0xf0, 0x01, 0x03, 1, 2, 3]);
    assert_eq!(Credential::from_bytes(&bytes)?, credential);
    let x509 = Credential::X509 {
        certificates: vec![
            Certificate {
                cert_data: Bytes(vec![0x30, 0x00]),
            },
            Certificate {
                cert_data: Bytes(vec![]),
            },
        ],
    };
    assert_eq!(Credential::from_bytes(&x509.to_bytes())?, x509);
    Ok(())
}

#[test]
fn typed_extension_payloads_parse_strictly() -> TestResult {
    let required = RequiredCapabilities {
        extension_types: vec![ExtensionType(0xff01)],
        proposal_types: vec![ProposalType(0xff02)],
        credential_types: vec![CredentialType::X509],
    };
    let extension = Extension::from_content(&required);
    assert_eq!(
        extension.extension_type,
        ExtensionType::REQUIRED_CAPABILITIES
    );
    let extensions = vec![
        Extension::new(ExtensionType(0x0a0a), vec![]),
        extension.clone(),
    ];
    assert_eq!(
        Extension::find::<RequiredCapabilities>(&extensions)?,
        Some(required)
    );
    assert_eq!(Extension::find::<ExternalPub>(&extensions)?, None);
    assert!(
        extension.content::<ExternalSenders>().is_err(),
        "wrong type"
    );

    let mut padded = extension;
    padded.extension_data.0.push(0);
    assert!(matches!(
        padded.content::<RequiredCapabilities>(),
        Err(DecodeError::TrailingBytes { .. })
    ));

    let senders = ExternalSenders(vec![ExternalSender {
        signature_key: SignaturePublicKey::from(vec![1; 32]),
        credential: Credential::basic(b"ds".to_vec()),
    }]);
    assert_eq!(
        Extension::from_content(&senders).content::<ExternalSenders>()?,
        senders
    );
    Ok(())
}

#[test]
fn duplicate_extension_types_are_reported() {
    let a = Extension::new(ExtensionType(1), vec![1]);
    let b = Extension::new(ExtensionType(2), vec![]);
    assert_eq!(duplicate_extension_type(&[a.clone(), b.clone()]), None);
    assert_eq!(
        duplicate_extension_type(&[a.clone(), b, a]),
        Some(ExtensionType(1))
    );
}

#[test]
fn leaf_node_tbs_binds_group_and_index_only_outside_key_packages() {
    let in_key_package = leaf_node(LeafNodeSource::KeyPackage {
        lifetime: Lifetime {
            not_before: 1,
            not_after: 2,
        },
    });
    // The 64-byte signature takes a two-byte length prefix.
    let unsigned_len = in_key_package.to_bytes().len() - 2 - 64;
    let tbs = in_key_package.tbs_bytes(b"ignored", LeafIndex(9));
    assert_eq!(tbs, in_key_package.to_bytes()[..unsigned_len]);

    let updated = leaf_node(LeafNodeSource::Update);
    let tbs = updated.tbs_bytes(b"group", LeafIndex(0x0102_0304));
    assert!(tbs.ends_with(&[5, b'g', b'r', b'o', b'u', b'p', 1, 2, 3, 4]));
}

#[test]
fn framed_content_tbs_covers_the_context_for_members_only() {
    let message = member_commit();
    let context = group_context();
    assert_eq!(
        message
            .content
            .tbs_bytes(WireFormat::MLS_PUBLIC_MESSAGE, None),
        None
    );
    let tbs = message
        .content
        .tbs_bytes(WireFormat::MLS_PUBLIC_MESSAGE, Some(&context));
    let mut expected = vec![0, 1, 0, 1];
    expected.extend(message.content.to_bytes());
    expected.extend(context.to_bytes());
    assert_eq!(tbs, Some(expected.clone()));

    let mut tbm = expected;
    message.auth.encode(&mut tbm);
    assert_eq!(message.membership_tag_input(&context), tbm);

    let mut external = message.content;
    external.sender = Sender::NewMemberProposal;
    let tbs = external.tbs_bytes(WireFormat::MLS_PUBLIC_MESSAGE, Some(&context));
    let mut expected = vec![0, 1, 0, 1];
    expected.extend(external.to_bytes());
    assert_eq!(tbs, Some(expected));
}

#[test]
fn grease_values_are_recognised() {
    let grease: Vec<u16> = (0..=0xffff).filter(|&v| is_grease(v)).collect();
    assert_eq!(grease.len(), 15);
    assert_eq!(grease.first(), Some(&0x0a0a));
    assert_eq!(grease.last(), Some(&0xeaea));
    assert!(ExtensionType(0x3a3a).is_grease() && !ExtensionType::RATCHET_TREE.is_grease());
    assert!(ProposalType::GROUP_CONTEXT_EXTENSIONS.is_default() && !ProposalType(8).is_default());
    assert_eq!(
        format!("{:?}", ProposalType(0x0a0a)),
        "ProposalType(0x0a0a)"
    );
    assert_eq!(
        format!("{:?}", ExtensionType::EXTERNAL_PUB),
        "ExtensionType::EXTERNAL_PUB"
    );
}
