//! `key-package.json`: KeyPackage validation (RFC 9420 section 10.1) of the KeyPackage
//! in an Add proposal carol sends. The KeyPackage is re-signed after each edit (and its
//! leaf node when the edit is in the leaf), so only the targeted rule is broken.

use concord_reference::codec::Bytes;
use concord_reference::crypto::CipherSuite;
use concord_reference::messages::{
    Add, ContentBody, Credential, CredentialType, Extension, ExtensionType, KeyPackage,
    LeafNodeSource, Proposal, ProtocolVersion, WireFormat,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{content, sign_key_package, sign_leaf};
use crate::adversary::world::{CAROL, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "key-package",
    description: "KeyPackage validation of an Add proposal (RFC 9420 section 10.1): signature, version, cipher suite, leaf node source and signature, init key distinct from the encryption key",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control",
        "carol proposes to Add a valid KeyPackage (re-signed like every case here)",
        &["RFC9420-10.1-2"],
        Expect::Accept,
        control,
    ),
    recipe(
        "signature-flipped",
        "one bit of the KeyPackage signature flipped",
        &["RFC9420-10.1-5", "RFC9420-12.1.1-2", "RFC9420-10-7"],
        Expect::Reject(C::KeyPackage),
        signature_flipped,
    ),
    recipe(
        "signed-by-another-key",
        "the KeyPackage signed with a key other than its leaf's signature key",
        &["RFC9420-10.1-5", "RFC9420-12.1.1-2", "RFC9420-10-7"],
        Expect::Reject(C::KeyPackage),
        signed_by_another_key,
    ),
    recipe(
        "version-unknown",
        "the KeyPackage claims protocol version 2 (re-signed)",
        &["RFC9420-10.1-3", "RFC9420-12.1.1-2"],
        Expect::Reject(C::KeyPackage),
        version_unknown,
    ),
    recipe(
        "cipher-suite-other",
        "the KeyPackage names another cipher suite than the group's (re-signed)",
        &["RFC9420-10.1-3", "RFC9420-12.1.1-2"],
        Expect::Reject(C::KeyPackage),
        cipher_suite_other,
    ),
    recipe(
        "init-key-is-encryption-key",
        "init_key equal to the leaf's encryption_key (re-signed)",
        &["RFC9420-10.1-6", "RFC9420-12.1.1-2"],
        Expect::Reject(C::KeyPackage),
        init_key_is_encryption_key,
    ),
    recipe(
        "credential-type-not-in-capabilities",
        "the leaf's capabilities list no credential type, not even its own basic (leaf and KeyPackage re-signed)",
        &["RFC9420-7.2-4"],
        Expect::Reject(C::KeyPackage),
        credential_type_not_in_capabilities,
    ),
    recipe(
        "grease-credential-type",
        "the leaf's credential has the GREASE type 0x0a0a, listed in its capabilities (leaf and KeyPackage re-signed)",
        &["RFC9420-13.5-11", "RFC9420-13.5-14"],
        Expect::Reject(C::KeyPackage),
        grease_credential_type,
    ),
    recipe(
        "leaf-extension-repeated",
        "the leaf carries two extensions of the listed type 0x1a1a (leaf and KeyPackage re-signed)",
        &["RFC9420-13.4-4"],
        Expect::Reject(C::KeyPackage),
        leaf_extension_repeated,
    ),
    recipe(
        "key-package-extension-repeated",
        "the KeyPackage carries two extensions of the type 0x1a1a its leaf lists (leaf and KeyPackage re-signed)",
        &["RFC9420-13.4-4"],
        Expect::Reject(C::KeyPackage),
        key_package_extension_repeated,
    ),
    recipe(
        "leaf-source-update",
        "the KeyPackage's leaf node has source update (leaf and KeyPackage re-signed)",
        &["RFC9420-10.1-4", "RFC9420-7.3-13"],
        Expect::Reject(C::KeyPackage),
        leaf_source_update,
    ),
    recipe(
        "leaf-signature-flipped",
        "one bit of the leaf node's signature flipped (KeyPackage re-signed)",
        &["RFC9420-10.1-4", "RFC9420-7.3-7", "RFC9420-7.3-4"],
        Expect::Reject(C::KeyPackage),
        leaf_signature_flipped,
    ),
    recipe(
        "extension-not-in-capabilities",
        "a GREASE extension (0xAAAA) in KeyPackage.extensions that the leaf's capabilities do not list (re-signed)",
        &["RFC9420-10-10", "RFC9420-10.1-4", "RFC9420-13.5-15"],
        Expect::Reject(C::KeyPackage),
        extension_not_in_capabilities,
    ),
    recipe(
        "grease-extension-listed",
        "a GREASE extension (0xAAAA) in KeyPackage.extensions, listed in the leaf's capabilities (leaf and KeyPackage re-signed): unknown, to be ignored",
        &["RFC9420-10-11", "RFC9420-13.4-2", "RFC9420-13.5-16"],
        Expect::Accept,
        grease_extension_listed,
    ),
];

/// carol's Add proposal for a KeyPackage edited by `edit` (which gets the KeyPackage's
/// signature private key), then re-signed.
fn add_with(
    world: &World,
    rng: &mut ChaCha20Rng,
    level: Level,
    edit: impl FnOnce(&mut KeyPackage, &[u8], &mut ChaCha20Rng) -> Result<bool, GenError>,
) -> Result<Draft, GenError> {
    let (mut key_package, secrets) = world.outsider(b"outsider", rng)?;
    let resign = edit(&mut key_package, &secrets.signature_private, rng)?;
    if resign {
        sign_key_package(&world.suite, &mut key_package, &secrets.signature_private)?;
    }
    let mut carol = world.sender(CAROL)?;
    let framed = content(
        &carol,
        ContentBody::Proposal(Proposal::Add(Add { key_package })),
    );
    let message = at(
        "frame",
        carol
            .group
            .frame_forged(framed, WireFormat::MLS_PUBLIC_MESSAGE, None, rng),
    )?;
    let draft = Draft::message(level, wire(&message));
    Ok(if resign {
        draft.flags(&["resigned"])
    } else {
        draft
    })
}

fn control(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    add_with(world, rng, Level::None, |_, _, _| Ok(true))
}

fn signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    add_with(world, rng, Level::Structure, |kp, _, _| {
        crate::adversary::mutate::flip_in_place(&mut kp.signature.0);
        Ok(false)
    })
}

fn signed_by_another_key(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let suite = world.suite;
    add_with(world, rng, Level::Structure, |kp, _, rng| {
        let other = at("key", suite.signature_generate(rng))?;
        sign_key_package(&suite, kp, &other.private)?;
        Ok(false)
    })
}

fn version_unknown(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    add_with(world, rng, Level::Structure, |kp, _, _| {
        kp.version = ProtocolVersion(2);
        Ok(true)
    })
}

fn cipher_suite_other(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let other = if world.suite.id() == CipherSuite(1) {
        CipherSuite(3)
    } else {
        CipherSuite(1)
    };
    add_with(world, rng, Level::Structure, |kp, _, _| {
        kp.cipher_suite = other;
        Ok(true)
    })
}

fn init_key_is_encryption_key(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    add_with(world, rng, Level::Structure, |kp, _, _| {
        kp.init_key = kp.leaf_node.encryption_key.clone();
        Ok(true)
    })
}

fn leaf_source_update(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let suite = world.suite;
    let group_id = world.sender(CAROL)?.group.group_id().to_vec();
    add_with(world, rng, Level::Structure, |kp, private, _| {
        kp.leaf_node.leaf_node_source = LeafNodeSource::Update;
        sign_leaf(&suite, &mut kp.leaf_node, private, &group_id, LeafIndex(5))?;
        Ok(true)
    })
}

fn leaf_signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    add_with(world, rng, Level::Structure, |kp, _, _| {
        crate::adversary::mutate::flip_in_place(&mut kp.leaf_node.signature.0);
        Ok(true)
    })
}

/// The leaf edited by `edit`, the leaf and the KeyPackage re-signed.
fn leaf_edited(
    world: &World,
    rng: &mut ChaCha20Rng,
    edit: impl FnOnce(&mut concord_reference::messages::LeafNode),
) -> Result<Draft, GenError> {
    let suite = world.suite;
    add_with(world, rng, Level::Structure, |kp, private, _| {
        edit(&mut kp.leaf_node);
        sign_leaf(&suite, &mut kp.leaf_node, private, &[], LeafIndex(0))?;
        Ok(true)
    })
}

fn credential_type_not_in_capabilities(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    leaf_edited(world, rng, |leaf| leaf.capabilities.credentials.clear())
}

fn grease_credential_type(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    leaf_edited(world, rng, |leaf| {
        leaf.credential = Credential::Other {
            credential_type: CredentialType(0x0a0a),
            data: Bytes(b"outsider".to_vec()),
        };
        leaf.capabilities.credentials.push(CredentialType(0x0a0a));
    })
}

fn leaf_extension_repeated(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    leaf_edited(world, rng, |leaf| {
        leaf.capabilities.extensions.push(ExtensionType(0x1a1a));
        for data in [b"first", b"again"] {
            leaf.extensions
                .push(Extension::new(ExtensionType(0x1a1a), data.to_vec()));
        }
    })
}

fn key_package_extension_repeated(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let suite = world.suite;
    add_with(world, rng, Level::Structure, |kp, private, _| {
        kp.leaf_node
            .capabilities
            .extensions
            .push(ExtensionType(0x1a1a));
        sign_leaf(&suite, &mut kp.leaf_node, private, &[], LeafIndex(0))?;
        for data in [b"first", b"again"] {
            kp.extensions
                .push(Extension::new(ExtensionType(0x1a1a), data.to_vec()));
        }
        Ok(true)
    })
}

fn extension_not_in_capabilities(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    add_with(world, rng, Level::Structure, |kp, _, _| {
        kp.extensions
            .push(concord_reference::messages::Extension::new(
                ExtensionType(0xaaaa),
                vec![0x5a; 3],
            ));
        Ok(true)
    })
}

fn grease_extension_listed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let suite = world.suite;
    add_with(world, rng, Level::None, |kp, private, _| {
        kp.extensions
            .push(concord_reference::messages::Extension::new(
                ExtensionType(0xaaaa),
                vec![0x5a; 3],
            ));
        kp.leaf_node
            .capabilities
            .extensions
            .push(ExtensionType(0xaaaa));
        sign_leaf(&suite, &mut kp.leaf_node, private, &[], LeafIndex(0))?;
        Ok(true)
    })
}
