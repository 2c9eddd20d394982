//! Known answers for the franking computations, written from the draft's structures byte
//! by byte, and the receiver's and the hub's checks against one altered field at a time.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::content::cbor::Value;
use crate::content::{ExtensionKey, NestedPart, PartBody};
use crate::group::{Group, GroupConfig};
use crate::mimi::{Hub, SubmitResponse};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(0))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const SALT: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

fn kat_context() -> ServerFrankingContext {
    ServerFrankingContext {
        sender_uri: "alice@a.example".into(),
        room_uri: "room-1".into(),
        accepted_timestamp: 0x0000_018c_0f1e_2d3c,
    }
}

#[test]
fn franking_tag_and_frank_aad_known_answer() {
    // HMAC-SHA256(key = 00 01 .. 0f, "hello franking").
    let tag = franking_tag(&SALT, b"hello franking");
    assert_eq!(
        hex(&tag),
        "06de3a2feec00e97159de50112d9ab613a691a47880d66a1d0d5793906cb0e9e"
    );
    // SafeAAD: aad_items<V> = 35 octets: component_id 0x0020, aad_item_data<V> = 32 octets.
    let aad = frank_aad(tag);
    assert_eq!(hex(&aad[..4]), "23002020");
    assert_eq!(&aad[4..], &tag);
    assert_eq!(tag_in_aad(&aad), Some(tag));
    // Another component, an empty SafeAAD, bytes that are no SafeAAD: no tag.
    let mut other = aad.clone();
    other[2] = 0x21;
    assert_eq!(tag_in_aad(&other), None);
    assert_eq!(tag_in_aad(&[0]), None);
    assert_eq!(tag_in_aad(b"plain"), None);
}

#[test]
fn server_frank_and_integrity_tbs_known_answer() {
    let context = kat_context();
    // IdentifierUri sender_uri<V>, IdentifierUri room_uri<V>, uint64 accepted_timestamp.
    assert_eq!(
        hex(&context.to_bytes()),
        "0f616c69636540612e6578616d706c65\
         06726f6f6d2d31\
         0000018c0f1e2d3c"
    );
    let tag = franking_tag(&SALT, b"hello franking");
    let frank = server_frank(&[0x42; 32], &tag, &context);
    assert_eq!(
        hex(&frank),
        "b79f4b89cbb5fbc57bc33a37fd947cd8f9c1ac613b01d8f59f65cfde0440189b"
    );
    // server_frank[32] || CipherSuite (uint16) || ServerFrankingContext.
    let tbs = integrity_tbs(&frank, CipherSuite(1), &context);
    assert_eq!(
        tbs,
        unhex(
            "b79f4b89cbb5fbc57bc33a37fd947cd8f9c1ac613b01d8f59f65cfde0440189b\
             0001\
             0f616c69636540612e6578616d706c6506726f6f6d2d310000018c0f1e2d3c"
        )
    );
}

#[test]
fn franking_agent_component_known_answer() -> TestResult {
    let agent = FrankingAgentData {
        franking_signature_key: SignaturePublicKey(Bytes(vec![0xaa; 32])),
        credential: Credential::basic(b"hub.example".to_vec()),
    };
    // SignaturePublicKey<V> (32 octets), Credential { credential_type basic(1), identity<V> }.
    let data = format!("20{}0001 0b{}", "aa".repeat(32), hex(b"hub.example")).replace(' ', "");
    assert_eq!(hex(&agent.to_bytes()), data);
    let extension = agent_extension(&agent);
    assert_eq!(extension.extension_type, ExtensionType(0x0006));
    // AppDataDictionary: component_data<V> = { 0x0021, data<V> }.
    let length = data.len() / 2;
    assert_eq!(length, 47);
    let dictionary = format!("{:02x}0021{length:02x}{data}", 2 + 1 + length);
    assert_eq!(hex(extension.extension_data.as_slice()), dictionary);
    assert_eq!(agent_in(&[extension])?, Some(agent.clone()));
    // Under another component ID it is not the franking agent.
    assert_eq!(agent_in(&[agent_extension_as(0x0020, &agent)])?, None);
    Ok(())
}

fn content(sender: &str, room: &str, text: &str) -> MimiContent {
    MimiContent {
        salt: SALT,
        replaces: None,
        topic_id: Vec::new(),
        expires: None,
        in_reply_to: None,
        extensions: vec![
            (ExtensionKey::SENDER_URI, Value::Text(sender.into())),
            (ExtensionKey::ROOM_URI, Value::Text(room.into())),
        ],
        nested_part: NestedPart {
            disposition: 1,
            language: String::new(),
            body: PartBody::Single {
                content_type: "text/plain;charset=utf-8".into(),
                content: text.as_bytes().to_vec(),
            },
        },
    }
}

struct Fixture {
    keys: FrankingKeys,
    extensions: Vec<Extension>,
    data: Vec<u8>,
    aad: Vec<u8>,
    frank: Frank,
}

const ALICE: &str = "alice@a.example";
const HUB: &str = "hub.example";
const ROOM: &str = "room-1";
const TIME: u64 = 1_700_000_000_000;

fn fixture() -> Result<Fixture, FrankError> {
    let keys = FrankingKeys::derive(7, HUB);
    let (data, aad) = franked_message(content("x", "y", "hi"), ALICE, ROOM);
    let tag = tag_in_aad(&aad).ok_or(FrankError::TagMismatch)?;
    let context = ServerFrankingContext {
        sender_uri: ALICE.into(),
        room_uri: ROOM.into(),
        accepted_timestamp: TIME,
    };
    let frank = keys.frank(CipherSuite(1), &tag, &context)?;
    Ok(Fixture {
        extensions: vec![agent_extension(&keys.agent(CipherSuite(1))?)],
        keys,
        data,
        aad,
        frank,
    })
}

impl Fixture {
    fn received(&self) -> ReceivedMessage<'_> {
        ReceivedMessage {
            suite: CipherSuite(1),
            group_context_extensions: &self.extensions,
            hub_domain: HUB,
            room: ROOM,
            sender_identity: ALICE,
            authenticated_data: &self.aad,
            application_data: &self.data,
            accepted_timestamp: TIME,
        }
    }
}

#[test]
fn a_genuine_frank_verifies_and_each_altered_part_is_refused() -> TestResult {
    let f = fixture()?;
    let context = verify_received(&f.received(), Some(&f.frank))?;
    assert_eq!(context.map(|c| c.sender_uri), Some(ALICE.to_string()));
    assert_eq!(verify_received(&f.received(), None)?, None);

    let refused =
        |message: ReceivedMessage<'_>, frank: &Frank| verify_received(&message, Some(frank)).err();
    let mut suite = f.frank.clone();
    suite.franking_signature_ciphersuite = CipherSuite(3);
    assert!(matches!(
        refused(f.received(), &suite),
        Some(FrankError::CiphersuiteMismatch { .. })
    ));
    let mut flipped = f.frank.clone();
    flipped.franking_integrity_signature.0[0] ^= 1;
    assert_eq!(
        refused(f.received(), &flipped),
        Some(FrankError::IntegritySignature)
    );
    let mut stamped = f.frank.clone();
    stamped.server_frank[0] ^= 1;
    assert_eq!(
        refused(f.received(), &stamped),
        Some(FrankError::IntegritySignature)
    );
    let later = ReceivedMessage {
        accepted_timestamp: TIME + 1,
        ..f.received()
    };
    assert_eq!(
        refused(later, &f.frank),
        Some(FrankError::IntegritySignature)
    );
    let no_aad = ReceivedMessage {
        authenticated_data: &[],
        ..f.received()
    };
    assert!(matches!(
        refused(no_aad, &f.frank),
        Some(FrankError::MissingFrankAad(_))
    ));
    let other_hub = ReceivedMessage {
        hub_domain: "other.example",
        ..f.received()
    };
    assert!(matches!(
        refused(other_hub, &f.frank),
        Some(FrankError::AgentDomain { .. })
    ));
    let no_agent = ReceivedMessage {
        group_context_extensions: &[],
        ..f.received()
    };
    assert_eq!(
        refused(no_agent, &f.frank),
        Some(FrankError::NoFrankingAgent)
    );
    let (edited, _) = franked_message(content("x", "y", "ho"), ALICE, ROOM);
    let tampered = ReceivedMessage {
        application_data: &edited,
        ..f.received()
    };
    assert_eq!(refused(tampered, &f.frank), Some(FrankError::TagMismatch));
    let impostor = ReceivedMessage {
        sender_identity: "mallory@a.example",
        ..f.received()
    };
    assert!(matches!(
        refused(impostor, &f.frank),
        Some(FrankError::SenderMismatch { .. })
    ));
    let elsewhere = ReceivedMessage {
        room: "room-2",
        ..f.received()
    };
    assert!(matches!(
        refused(elsewhere, &f.frank),
        Some(FrankError::RoomMismatch { .. })
    ));
    let bare = content("x", "y", "hi");
    let mut bare = bare;
    bare.extensions.clear();
    let bare = bare.to_bytes();
    let anonymous = ReceivedMessage {
        application_data: &bare,
        ..f.received()
    };
    assert!(matches!(
        refused(anonymous, &f.frank),
        Some(FrankError::Content(_))
    ));
    // Every refusal names a requirement of the catalog.
    for error in [
        FrankError::TagMismatch,
        FrankError::NoFrankingAgent,
        FrankError::ServerFrankMismatch,
    ] {
        assert!(error.requirements()[0].starts_with("MIMI-PROTOCOL-"));
    }
    Ok(())
}

#[test]
fn the_hub_validates_reported_messages_by_recomputing_its_frank() -> TestResult {
    let f = fixture()?;
    let reported = AbusiveMessage {
        message_content: Bytes(f.data.clone()),
        frank: f.frank.clone(),
        accepted_timestamp: TIME,
    };
    f.keys.validate_report(ROOM, &reported)?;
    // Another content under the same salt, sender and room: only server_frank tells.
    let (edited, _) = franked_message(content("x", "y", "ho"), ALICE, ROOM);
    let edited = AbusiveMessage {
        message_content: Bytes(edited),
        ..reported.clone()
    };
    assert_eq!(
        f.keys.validate_report(ROOM, &edited),
        Err(FrankError::ServerFrankMismatch)
    );
    let later = AbusiveMessage {
        accepted_timestamp: TIME + 1,
        ..reported.clone()
    };
    assert_eq!(
        f.keys.validate_report(ROOM, &later),
        Err(FrankError::ServerFrankMismatch)
    );
    let mut flipped = reported.clone();
    flipped.frank.franking_integrity_signature.0[3] ^= 1;
    assert_eq!(
        f.keys.validate_report(ROOM, &flipped),
        Err(FrankError::IntegritySignature)
    );
    // The signature is checked with the algorithm of the stated suite.
    let mut suite = reported.clone();
    suite.frank.franking_signature_ciphersuite = CipherSuite(2);
    assert_eq!(
        f.keys.validate_report(ROOM, &suite),
        Err(FrankError::IntegritySignature)
    );
    // Another hub's key regenerates another server_frank.
    let other = FrankingKeys::derive(8, HUB);
    assert_eq!(
        other.validate_report(ROOM, &reported),
        Err(FrankError::ServerFrankMismatch)
    );
    Ok(())
}

#[test]
fn agent_keys_are_of_the_suite_algorithm() -> TestResult {
    let keys = FrankingKeys::derive(1, HUB);
    for suite in CipherSuite::ALL {
        let agent = keys.agent(suite)?;
        check_agent_key(suite, agent.franking_signature_key.0.as_slice())?;
    }
    // An Ed25519 key is no P-256 key.
    let ed25519 = keys.agent(CipherSuite(1))?;
    assert!(matches!(
        check_agent_key(CipherSuite(2), ed25519.franking_signature_key.0.as_slice()),
        Err(FrankError::AgentKeyAlgorithm(_))
    ));
    Ok(())
}

fn room_with(
    hub: &mut Hub,
    extensions: Vec<Extension>,
    rng: &mut ChaCha20Rng,
) -> Result<Group, Box<dyn std::error::Error>> {
    let alice = Group::create(
        CipherSuite(1),
        ROOM.as_bytes().to_vec(),
        ALICE.as_bytes(),
        None,
        extensions,
        GroupConfig::default(),
        TIME / 1000,
        rng,
    )?;
    let (info, _) = alice.group_info(false)?;
    hub.create_room(ROOM, ALICE, &info.to_bytes(), false)?;
    Ok(alice)
}

#[test]
fn the_hub_franks_only_in_rooms_naming_its_agent() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let keys = FrankingKeys::derive(7, HUB);
    let agent = keys.agent(CipherSuite(1))?;
    let (data, aad) = franked_message(content("x", "y", "hi"), ALICE, ROOM);
    for (extensions, franks) in [
        (vec![agent_extension(&agent)], true),
        (Vec::new(), false),
        (vec![agent_extension_as(0x0020, &agent)], false),
        (
            vec![agent_extension(
                &FrankingKeys::derive(9, HUB).agent(CipherSuite(1))?,
            )],
            false,
        ),
    ] {
        let mut hub = Hub::default();
        hub.set_franking(keys.clone());
        let mut alice = room_with(&mut hub, extensions.clone(), &mut rng)?;
        let message = alice.protect(&aad, &data, &mut rng)?.to_bytes();
        let (answer, _) = hub.submit(ROOM, ALICE, 1, &message, TIME)?;
        let SubmitResponse::Accepted { frank, .. } = answer else {
            return Err(format!("refused: {answer:?}").into());
        };
        assert_eq!(frank.is_some(), franks, "{extensions:?}");
        if let Some(frank) = frank {
            let received = ReceivedMessage {
                suite: CipherSuite(1),
                group_context_extensions: &extensions,
                hub_domain: HUB,
                room: ROOM,
                sender_identity: ALICE,
                authenticated_data: &aad,
                application_data: &data,
                accepted_timestamp: TIME,
            };
            verify_received(&received, Some(&frank))?;
        }
        // Without a frank_aad the message is accepted unfranked.
        let plain = alice.protect(b"", &data, &mut rng)?.to_bytes();
        let (answer, _) = hub.submit(ROOM, ALICE, 2, &plain, TIME)?;
        assert!(matches!(
            answer,
            SubmitResponse::Accepted { frank: None, .. }
        ));
    }
    Ok(())
}

#[test]
fn the_frank_is_fanned_out_with_the_message_and_verifies_at_the_receiver() -> TestResult {
    use crate::group::{CommitOptions, PskStore, Received};
    use crate::messages::{Add, MlsMessageBody, Proposal};
    use crate::mimi::{HandshakeBundle, ParticipantChange, RoomEvent};
    const BOB: &str = "bob@b.example";
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let keys = FrankingKeys::derive(7, HUB);
    let mut hub = Hub::default();
    hub.set_franking(keys.clone());
    let extensions = vec![agent_extension(&keys.agent(CipherSuite(1))?)];
    let mut alice = room_with(&mut hub, extensions, &mut rng)?;
    let suite = Suite::new(CipherSuite(1))?;
    let (key_package, secrets) =
        key_package_for_franked_rooms(&suite, BOB.as_bytes(), TIME / 1000, &mut rng)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(Add {
            key_package: key_package.clone(),
        })],
        ..CommitOptions::default()
    };
    let output = alice.commit(&options, &mut rng)?;
    let bundle = HandshakeBundle {
        message: output.commit.to_bytes(),
        welcome: output.welcome.as_ref().map(|w| w.to_bytes()),
        participant_changes: vec![ParticipantChange::Add(BOB.into())],
    };
    let (answer, _) = hub.update(ROOM, ALICE, 1, &bundle, TIME)?;
    assert!(
        matches!(answer, crate::mimi::UpdateResponse::Success { .. }),
        "{answer:?}"
    );
    alice.merge_pending_commit()?;
    let welcome = output.welcome.ok_or("no Welcome")?;
    let MlsMessageBody::Welcome(welcome) = &welcome.body else {
        return Err("not a Welcome".into());
    };
    let mut bob = Group::join(
        welcome,
        &key_package,
        &secrets,
        None,
        &PskStore::default(),
        GroupConfig::default(),
    )?;
    let (data, aad) = franked_message(content("x", "y", "hi"), ALICE, ROOM);
    let message = alice.protect(&aad, &data, &mut rng)?.to_bytes();
    let (answer, fanout) = hub.submit(ROOM, ALICE, 2, &message, TIME + 5)?;
    let SubmitResponse::Accepted { frank, .. } = answer else {
        return Err(format!("refused: {answer:?}").into());
    };
    let [(_, to_bob)] = fanout.as_slice() else {
        return Err(format!("{} fanouts", fanout.len()).into());
    };
    assert!(frank.is_some());
    assert_eq!(to_bob.frank, frank);
    let RoomEvent::Application { message, .. } = &to_bob.event else {
        return Err("not an application message".into());
    };
    let Received::Application {
        sender,
        authenticated_data,
        data: opened,
        ..
    } = bob.process_message_bytes(message)?
    else {
        return Err("not application data".into());
    };
    let leaf = bob.tree().leaf(sender).ok_or("no sender leaf")?;
    let identity = String::from_utf8(crate::group::identity_of(&leaf.credential))?;
    let received = ReceivedMessage {
        suite: CipherSuite(1),
        group_context_extensions: &bob.group_context().extensions,
        hub_domain: HUB,
        room: ROOM,
        sender_identity: &identity,
        authenticated_data: &authenticated_data,
        application_data: &opened,
        accepted_timestamp: to_bob.timestamp,
    };
    let context = verify_received(&received, to_bob.frank.as_ref())?;
    assert_eq!(context.map(|c| c.accepted_timestamp), Some(TIME + 5));
    Ok(())
}
