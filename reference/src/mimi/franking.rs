//! Message franking (draft-ietf-mimi-protocol section "Message Franking"): the sender
//! commits to its content with a `franking_tag` in the PrivateMessage's Safe AAD, the hub
//! stamps the message with a `server_frank` it can recompute and signs the context, and the
//! receiver checks the stamp against the decrypted content.
//!
//! ```text
//!  sender:   franking_tag = HMAC-SHA256(content.salt, application_data)
//!            authenticated_data = SafeAAD { frank_aad (0x0020): franking_tag }
//!  hub:      context = ServerFrankingContext { sendingUri, room, accepted_timestamp }
//!            server_frank = HMAC-SHA256(hub_key, franking_tag || context)
//!            signature = SignWithLabel(franking key, "FrankingIntegrityTBS",
//!                                      { server_frank, cipher suite, context })
//!            ──Frank in the success answer and in every FanoutMessage──>
//!  receiver: verify_received: suite, franking_agent (GroupContext component 0x0021),
//!            signature, franking_tag, sender and room
//!  hub, on reportAbuse: FrankingKeys::validate_report recomputes server_frank, checks
//!            the signature
//! ```
//!
//! Every failure is a [`FrankError`] naming the requirement it enforces
//! ([`FrankError::requirements`]).

use sha2::{Digest, Sha256};

use crate::codec::{Bytes, Codec, DecodeError, Reader, write_opaque};
use crate::content::MimiContent;
use crate::crypto::{CipherSuite, Kdf, Suite};
use crate::group::KeyPackageSecrets;
use crate::messages::{
    Credential, Extension, ExtensionType, KeyPackage, LeafNode, SignaturePublicKey,
};
use crate::tree_math::LeafIndex;

use super::wire::{AbusiveMessage, AppDataDictionary, Frank};

/// `frank_aad`: the Safe AAD component carrying the franking tag (MIMI-PROTOCOL-10.1-1).
pub const FRANK_AAD: u16 = 0x0020;
/// `franking_signature_key`: the GroupContext component carrying `FrankingAgentData`
/// (MIMI-PROTOCOL-10.2-1; the text calls it `franking_agent`, MIMI-PROTOCOL-5.4.1-4).
pub const FRANKING_SIGNATURE_KEY: u16 = 0x0021;
/// `app_data_dictionary` (draft-ietf-mls-extensions, suggested value 0x0006): the
/// GroupContext extension holding the application components.
pub const APP_DATA_DICTIONARY: ExtensionType = ExtensionType(0x0006);
/// The label of the `franking_integrity_signature`.
pub const INTEGRITY_LABEL: &[u8] = b"FrankingIntegrityTBS";

/// Why a frank does not verify, or a franked message is not well formed. Each variant is
/// one rule of the draft; [`FrankError::requirements`] names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrankError {
    /// A frank came with the message but its AAD carries no `frank_aad` component.
    #[error("a frank came with the message but its AAD carries no frank_aad ({0})")]
    MissingFrankAad(String),
    /// `franking_signature_ciphersuite` is not the group's cipher suite.
    #[error("franking_signature_ciphersuite {found} is not the group's cipher suite {group}")]
    CiphersuiteMismatch { group: u16, found: u16 },
    /// The GroupContext has no `franking_signature_key` component.
    #[error("the GroupContext carries no franking_signature_key component (0x0021)")]
    NoFrankingAgent,
    /// The component is there but does not decode.
    #[error("the franking_signature_key component: {0}")]
    MalformedAgent(String),
    /// The agent's credential does not name the hub's domain.
    #[error("franking_agent.credential names {found:?}, not the hub {hub:?}")]
    AgentDomain { hub: String, found: String },
    /// The agent's key is no public key of the suite's signature algorithm.
    #[error("franking_signature_key is not a key of the room's signature algorithm: {0}")]
    AgentKeyAlgorithm(String),
    /// The decrypted content is not MIMI content, or lacks the senderUri or roomUri
    /// extension a franked message carries.
    #[error("the franked content: {0}")]
    Content(String),
    /// `franking_integrity_signature` does not verify over the rebuilt context.
    #[error("franking_integrity_signature does not verify over the rebuilt context")]
    IntegritySignature,
    /// HMAC-SHA256(salt, application_data) is not the `frank_aad` tag.
    #[error("the franking_tag recomputed from the content is not the frank_aad value")]
    TagMismatch,
    /// The sender's LeafNode credential is not the content's senderUri.
    #[error("the sender's credential is {leaf:?}, the content's senderUri {content:?}")]
    SenderMismatch { leaf: String, content: String },
    /// The content's roomUri is not the room the message came in.
    #[error("the content's roomUri is {content:?}, the message came in room {room:?}")]
    RoomMismatch { room: String, content: String },
    /// Reported to the hub: the recomputed `server_frank` differs.
    #[error("the server_frank recomputed with the hub_key differs from the reported one")]
    ServerFrankMismatch,
    /// The hub has no franking key for the reported cipher suite.
    #[error("no franking key for cipher suite {0}")]
    UnsupportedSuite(u16),
}

impl FrankError {
    /// The catalog IDs (spec/catalog/mimi-protocol.toml) of the rule this error enforces.
    pub fn requirements(&self) -> &'static [&'static str] {
        match self {
            FrankError::MissingFrankAad(_) => {
                &["MIMI-PROTOCOL-5.4.1.3-1", "MIMI-PROTOCOL-5.4.1.1-3"]
            }
            FrankError::CiphersuiteMismatch { .. } => {
                &["MIMI-PROTOCOL-5.4.1.3-1", "MIMI-PROTOCOL-5.4.1.2-4"]
            }
            FrankError::NoFrankingAgent | FrankError::MalformedAgent(_) => {
                &["MIMI-PROTOCOL-5.4.1.3-2", "MIMI-PROTOCOL-10.2-1"]
            }
            FrankError::AgentDomain { .. } => &["MIMI-PROTOCOL-5.4.1.3-2"],
            FrankError::AgentKeyAlgorithm(_) => &["MIMI-PROTOCOL-5.4.1-3"],
            FrankError::Content(_) => &["MIMI-PROTOCOL-5.4.1.1-1"],
            FrankError::IntegritySignature => &[
                "MIMI-PROTOCOL-5.4.1.3-3",
                "MIMI-PROTOCOL-5.4.1.2-3",
                "MIMI-PROTOCOL-5.4.1.1-4",
            ],
            FrankError::TagMismatch => &["MIMI-PROTOCOL-5.4.1.3-4", "MIMI-PROTOCOL-5.4.1.1-2"],
            FrankError::SenderMismatch { .. } => &["MIMI-PROTOCOL-5.4.1.3-5"],
            FrankError::RoomMismatch { .. } => &["MIMI-PROTOCOL-5.4.1.3-6"],
            FrankError::ServerFrankMismatch => &["MIMI-PROTOCOL-5.9-3"],
            FrankError::UnsupportedSuite(_) => &["MIMI-PROTOCOL-5.9-4"],
        }
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mac = Kdf::HkdfSha256.mac(key, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac[..32]);
    out
}

// ---------------------------------------------------------------------------------------
// Wire structs

/// `struct { uint8 franking_tag[32]; } FrankAAD;`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrankAad {
    pub franking_tag: [u8; 32],
}

impl Codec for FrankAad {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.franking_tag);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut franking_tag = [0u8; 32];
        franking_tag.copy_from_slice(reader.take(32, "FrankAAD.franking_tag")?);
        Ok(FrankAad { franking_tag })
    }
}

/// ```text
/// struct {
///   SignaturePublicKey franking_signature_key;
///   Credential credential;
/// } FrankingAgentData;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrankingAgentData {
    pub franking_signature_key: SignaturePublicKey,
    pub credential: Credential,
}

impl Codec for FrankingAgentData {
    fn encode(&self, out: &mut Vec<u8>) {
        self.franking_signature_key.encode(out);
        self.credential.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FrankingAgentData {
            franking_signature_key: SignaturePublicKey::decode(reader)?,
            credential: Credential::decode(reader)?,
        })
    }
}

/// ```text
/// struct { ComponentID component_id; opaque aad_item_data<V>; } SafeAADItem;
/// struct { SafeAADItem aad_items<V>; } SafeAAD;
/// ```
/// Items in strictly increasing `component_id` order (draft-ietf-mls-extensions).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SafeAad(pub Vec<(u16, Bytes)>);

impl Codec for SafeAad {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut inner = Vec::new();
        for (id, data) in &self.0 {
            id.encode(&mut inner);
            data.encode(&mut inner);
        }
        write_opaque(out, &inner);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "SafeAAD.aad_items";
        let mut inner = reader.sub_reader(WHAT)?;
        let mut items: Vec<(u16, Bytes)> = Vec::new();
        while !inner.is_empty() {
            let id = inner.u16(WHAT)?;
            if items.last().is_some_and(|(last, _)| *last >= id) {
                return Err(DecodeError::Malformed {
                    what: WHAT,
                    detail: format!("component {id} out of increasing order"),
                });
            }
            items.push((id, Bytes::decode(&mut inner)?));
        }
        Ok(SafeAad(items))
    }
}

impl SafeAad {
    /// The data of component `id`, if present.
    pub fn item(&self, id: u16) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, d)| d.as_slice())
    }
}

/// ```text
/// struct {
///     IdentifierUri sender_uri;
///     IdentifierUri room_uri;
///     uint64 accepted_timestamp;
/// } ServerFrankingContext;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFrankingContext {
    pub sender_uri: String,
    pub room_uri: String,
    pub accepted_timestamp: u64,
}

impl ServerFrankingContext {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_opaque(&mut out, self.sender_uri.as_bytes());
        write_opaque(&mut out, self.room_uri.as_bytes());
        self.accepted_timestamp.encode(&mut out);
        out
    }
}

/// ```text
/// struct {
///     opaque server_frank[32];
///     CipherSuite franking_signature_ciphersuite;
///     ServerFrankingContext context;
/// } FrankingIntegrityTBS;
/// ```
pub fn integrity_tbs(
    server_frank: &[u8; 32],
    suite: CipherSuite,
    context: &ServerFrankingContext,
) -> Vec<u8> {
    let mut out = server_frank.to_vec();
    suite.encode(&mut out);
    out.extend_from_slice(&context.to_bytes());
    out
}

// ---------------------------------------------------------------------------------------
// Sender (section "Client creation and sending")

/// `franking_tag = HMAC_SHA256(salt, application_data)` (MIMI-PROTOCOL-5.4.1.1-2).
pub fn franking_tag(salt: &[u8; 16], application_data: &[u8]) -> [u8; 32] {
    hmac_sha256(salt, application_data)
}

/// The PrivateMessage `authenticated_data` of a franked message: a SafeAAD holding the
/// `frank_aad` component (MIMI-PROTOCOL-5.4.1.1-3, 10.1-1).
pub fn frank_aad(franking_tag: [u8; 32]) -> Vec<u8> {
    SafeAad(vec![(
        FRANK_AAD,
        Bytes(FrankAad { franking_tag }.to_bytes()),
    )])
    .to_bytes()
}

/// A sender's franked message: `content` with its senderUri (key 1) and roomUri (key 2)
/// extensions set (MIMI-PROTOCOL-5.4.1.1-1), encoded; and the `authenticated_data`
/// carrying its franking tag.
pub fn franked_message(
    mut content: MimiContent,
    sender_uri: &str,
    room_uri: &str,
) -> (Vec<u8>, Vec<u8>) {
    use crate::content::ExtensionKey;
    use crate::content::cbor::Value;
    content
        .extensions
        .retain(|(k, _)| *k != ExtensionKey::SENDER_URI && *k != ExtensionKey::ROOM_URI);
    content
        .extensions
        .push((ExtensionKey::SENDER_URI, Value::Text(sender_uri.into())));
    content
        .extensions
        .push((ExtensionKey::ROOM_URI, Value::Text(room_uri.into())));
    let application_data = content.to_bytes();
    let aad = frank_aad(franking_tag(&content.salt, &application_data));
    (application_data, aad)
}

/// The franking tag in a PrivateMessage's `authenticated_data`: `None` when it is not a
/// SafeAAD or carries no well-formed `frank_aad` component (the hub then does not frank).
pub fn tag_in_aad(authenticated_data: &[u8]) -> Option<[u8; 32]> {
    let aad = SafeAad::from_bytes(authenticated_data).ok()?;
    FrankAad::from_bytes(aad.item(FRANK_AAD)?)
        .ok()
        .map(|a| a.franking_tag)
}

// ---------------------------------------------------------------------------------------
// GroupContext component

/// The GroupContext extension naming `agent` as the room's franking agent: an
/// `app_data_dictionary` with the `franking_signature_key` component (MIMI-PROTOCOL-10.2-1).
pub fn agent_extension(agent: &FrankingAgentData) -> Extension {
    agent_extension_as(FRANKING_SIGNATURE_KEY, agent)
}

/// The same under another component ID (for tests of the component ID).
pub fn agent_extension_as(component: u16, agent: &FrankingAgentData) -> Extension {
    Extension {
        extension_type: APP_DATA_DICTIONARY,
        extension_data: Bytes(
            AppDataDictionary(vec![(component, Bytes(agent.to_bytes()))]).to_bytes(),
        ),
    }
}

/// The franking agent in GroupContext `extensions`: `Ok(None)` when there is no
/// `app_data_dictionary` or it has no `franking_signature_key` component.
pub fn agent_in(extensions: &[Extension]) -> Result<Option<FrankingAgentData>, FrankError> {
    let Some(extension) = extensions
        .iter()
        .find(|e| e.extension_type == APP_DATA_DICTIONARY)
    else {
        return Ok(None);
    };
    let dictionary = AppDataDictionary::from_bytes(extension.extension_data.as_slice())
        .map_err(|e| FrankError::MalformedAgent(e.to_string()))?;
    let Some((_, data)) = dictionary
        .0
        .iter()
        .find(|(id, _)| *id == FRANKING_SIGNATURE_KEY)
    else {
        return Ok(None);
    };
    FrankingAgentData::from_bytes(data.as_slice())
        .map(Some)
        .map_err(|e| FrankError::MalformedAgent(e.to_string()))
}

/// MIMI-PROTOCOL-5.4.1-3: `key` is a public key of `suite`'s signature algorithm (a
/// signature check on it fails on the signature, not on the key).
pub fn check_agent_key(suite: CipherSuite, key: &[u8]) -> Result<(), FrankError> {
    use crate::crypto::CryptoError;
    let suite = Suite::new(suite).map_err(|e| FrankError::AgentKeyAlgorithm(e.to_string()))?;
    match suite.verify_with_label(key, INTEGRITY_LABEL, b"", b"") {
        Err(CryptoError::InvalidPublicKey { what }) => {
            Err(FrankError::AgentKeyAlgorithm(what.to_string()))
        }
        _ => Ok(()),
    }
}

fn identity(credential: &Credential) -> String {
    String::from_utf8_lossy(&crate::group::identity_of(credential)).into_owned()
}

// ---------------------------------------------------------------------------------------
// Hub (section "Hub processing", section "Report abuse")

/// The hub's franking secrets: `hub_key` and the seed of its franking signature keys (one
/// per cipher suite, derived on demand).
#[derive(Clone)]
pub struct FrankingKeys {
    domain: String,
    hub_key: [u8; 32],
    signature_seed: [u8; 32],
}

impl std::fmt::Debug for FrankingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrankingKeys")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl FrankingKeys {
    /// The keys of the hub `domain`, derived from `seed` (the same seed, the same keys).
    pub fn derive(seed: u64, domain: &str) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut hash = Sha256::new();
            hash.update(b"concord mimi franking ");
            hash.update(label);
            hash.update(seed.to_be_bytes());
            hash.update(domain.as_bytes());
            hash.finalize().into()
        };
        FrankingKeys {
            domain: domain.to_string(),
            hub_key: derive(b"hub_key"),
            signature_seed: derive(b"signature"),
        }
    }

    /// The hub's domain, which its agents' credentials name.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The franking signature key pair for `suite`: (private, public).
    fn key_pair(&self, suite: CipherSuite) -> Result<(Suite, Vec<u8>, Vec<u8>), FrankError> {
        use rand_core::SeedableRng;
        let crypto = Suite::new(suite).map_err(|_| FrankError::UnsupportedSuite(suite.0))?;
        let mut seed = self.signature_seed;
        for (byte, s) in seed.iter_mut().zip(suite.0.to_be_bytes()) {
            *byte ^= s;
        }
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
        let pair = crypto
            .signature_generate(&mut rng)
            .map_err(|_| FrankError::UnsupportedSuite(suite.0))?;
        Ok((crypto, pair.private, pair.public))
    }

    /// The `FrankingAgentData` naming this hub for rooms of `suite`: its franking
    /// signature key and a basic credential holding its domain.
    pub fn agent(&self, suite: CipherSuite) -> Result<FrankingAgentData, FrankError> {
        let (_, _, public) = self.key_pair(suite)?;
        Ok(FrankingAgentData {
            franking_signature_key: SignaturePublicKey(Bytes(public)),
            credential: Credential::basic(self.domain.as_bytes().to_vec()),
        })
    }

    /// `server_frank = HMAC_SHA256(hub_key, franking_tag || context)`
    /// (MIMI-PROTOCOL-5.4.1.2-2).
    pub fn server_frank(
        &self,
        franking_tag: &[u8; 32],
        context: &ServerFrankingContext,
    ) -> [u8; 32] {
        server_frank(&self.hub_key, franking_tag, context)
    }

    /// The Frank of a message with `franking_tag` accepted in `context`, in a room of
    /// `suite` (MIMI-PROTOCOL-5.4.1.2-2 to 5.4.1.2-4).
    pub fn frank(
        &self,
        suite: CipherSuite,
        franking_tag: &[u8; 32],
        context: &ServerFrankingContext,
    ) -> Result<Frank, FrankError> {
        let (crypto, private, _) = self.key_pair(suite)?;
        let server_frank = self.server_frank(franking_tag, context);
        let signature = crypto
            .sign_with_label(
                &private,
                INTEGRITY_LABEL,
                &integrity_tbs(&server_frank, suite, context),
            )
            .map_err(|_| FrankError::UnsupportedSuite(suite.0))?;
        Ok(Frank {
            server_frank,
            franking_signature_ciphersuite: suite,
            franking_integrity_signature: Bytes(signature),
        })
    }

    /// Whether `agent` is this hub's agent for `suite` (its key and its domain): only then
    /// can the hub frank in that room (MIMI-PROTOCOL-5.4.1.2-1).
    pub fn is_own_agent(&self, suite: CipherSuite, agent: &FrankingAgentData) -> bool {
        self.agent(suite).is_ok_and(|own| own == *agent)
    }

    /// Validates one reported message of room `room` (section "Report abuse"): the salt,
    /// senderUri and roomUri from the content and the `accepted_timestamp` rebuild the
    /// franking tag and the context, the hub_key regenerates `server_frank`
    /// (MIMI-PROTOCOL-5.9-3), and the integrity signature verifies with the algorithm of
    /// `franking_signature_ciphersuite` (MIMI-PROTOCOL-5.9-4).
    pub fn validate_report(&self, room: &str, message: &AbusiveMessage) -> Result<(), FrankError> {
        let content = MimiContent::from_bytes(message.message_content.as_slice())
            .map_err(|e| FrankError::Content(e.to_string()))?;
        let context = context_of(&content, message.accepted_timestamp)?;
        if context.room_uri != room {
            return Err(FrankError::RoomMismatch {
                room: room.to_string(),
                content: context.room_uri,
            });
        }
        let tag = franking_tag(&content.salt, message.message_content.as_slice());
        if self.server_frank(&tag, &context) != message.frank.server_frank {
            return Err(FrankError::ServerFrankMismatch);
        }
        let suite = message.frank.franking_signature_ciphersuite;
        let (crypto, _, public) = self.key_pair(suite)?;
        crypto
            .verify_with_label(
                &public,
                INTEGRITY_LABEL,
                &integrity_tbs(&message.frank.server_frank, suite, &context),
                message.frank.franking_integrity_signature.as_slice(),
            )
            .map_err(|_| FrankError::IntegritySignature)
    }
}

/// `HMAC_SHA256(hub_key, franking_tag || context)`.
pub fn server_frank(
    hub_key: &[u8],
    franking_tag: &[u8; 32],
    context: &ServerFrankingContext,
) -> [u8; 32] {
    let mut data = franking_tag.to_vec();
    data.extend_from_slice(&context.to_bytes());
    hmac_sha256(hub_key, &data)
}

/// The context a franked content asserts: its senderUri and roomUri, with the hub's
/// acceptance time.
fn context_of(
    content: &MimiContent,
    accepted_timestamp: u64,
) -> Result<ServerFrankingContext, FrankError> {
    let sender_uri = content
        .sender_uri()
        .ok_or_else(|| FrankError::Content("no senderUri extension (key 1)".into()))?;
    let room_uri = content
        .room_uri()
        .ok_or_else(|| FrankError::Content("no roomUri extension (key 2)".into()))?;
    Ok(ServerFrankingContext {
        sender_uri: sender_uri.to_string(),
        room_uri: room_uri.to_string(),
        accepted_timestamp,
    })
}

// ---------------------------------------------------------------------------------------
// Receiver (section "Receiver verification of frank")

/// What a receiver knows of a decrypted application message.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedMessage<'a> {
    /// The group's cipher suite and GroupContext extensions.
    pub suite: CipherSuite,
    pub group_context_extensions: &'a [Extension],
    /// The domain of the room's hub.
    pub hub_domain: &'a str,
    /// The room the message came in (the fanout's room ID).
    pub room: &'a str,
    /// The identity in the sender's LeafNode credential.
    pub sender_identity: &'a str,
    /// The PrivateMessage's `authenticated_data` and the decrypted `application_data`.
    pub authenticated_data: &'a [u8],
    pub application_data: &'a [u8],
    /// The hub's acceptance time (the fanout's timestamp).
    pub accepted_timestamp: u64,
}

/// The receiver's check of a frank (MIMI-PROTOCOL-5.4.1.3-1 to 5.4.1.3-6). `Ok(None)` when
/// the message came without a frank; otherwise the verified context the receiver stores.
pub fn verify_received(
    message: &ReceivedMessage<'_>,
    frank: Option<&Frank>,
) -> Result<Option<ServerFrankingContext>, FrankError> {
    let Some(frank) = frank else {
        return Ok(None);
    };
    // 5.4.1.3-1: every part present, the group's suite.
    let tag = tag_in_aad(message.authenticated_data).ok_or_else(|| {
        FrankError::MissingFrankAad(format!(
            "{} octets of authenticated_data",
            message.authenticated_data.len()
        ))
    })?;
    if frank.franking_signature_ciphersuite != message.suite {
        return Err(FrankError::CiphersuiteMismatch {
            group: message.suite.0,
            found: frank.franking_signature_ciphersuite.0,
        });
    }
    // 5.4.1.3-2: the franking agent of the GroupContext names the hub.
    let agent = agent_in(message.group_context_extensions)?.ok_or(FrankError::NoFrankingAgent)?;
    let named = identity(&agent.credential);
    if named != message.hub_domain {
        return Err(FrankError::AgentDomain {
            hub: message.hub_domain.to_string(),
            found: named,
        });
    }
    let key = agent.franking_signature_key.0.as_slice();
    check_agent_key(message.suite, key)?;
    // 5.4.1.3-3: the signature over the context the content asserts.
    let content = MimiContent::from_bytes(message.application_data)
        .map_err(|e| FrankError::Content(e.to_string()))?;
    let context = context_of(&content, message.accepted_timestamp)?;
    let crypto =
        Suite::new(message.suite).map_err(|_| FrankError::UnsupportedSuite(message.suite.0))?;
    crypto
        .verify_with_label(
            key,
            INTEGRITY_LABEL,
            &integrity_tbs(&frank.server_frank, message.suite, &context),
            frank.franking_integrity_signature.as_slice(),
        )
        .map_err(|_| FrankError::IntegritySignature)?;
    // 5.4.1.3-4: the tag is the content's.
    if franking_tag(&content.salt, message.application_data) != tag {
        return Err(FrankError::TagMismatch);
    }
    // 5.4.1.3-5: the sender is who the content says.
    if context.sender_uri != message.sender_identity {
        return Err(FrankError::SenderMismatch {
            leaf: message.sender_identity.to_string(),
            content: context.sender_uri,
        });
    }
    // 5.4.1.3-6: the room is the one the message came in.
    if context.room_uri != message.room {
        return Err(FrankError::RoomMismatch {
            room: message.room.to_string(),
            content: context.room_uri,
        });
    }
    Ok(Some(context))
}

#[cfg(test)]
#[path = "franking_tests.rs"]
mod tests;

/// A KeyPackage for `identity` whose leaf lists `app_data_dictionary` in its capabilities,
/// so that it can join a room whose GroupContext carries the franking agent (RFC 9420
/// section 12.1.1: an added leaf supports the GroupContext's extensions).
pub fn key_package_for_franked_rooms(
    suite: &Suite,
    identity: &[u8],
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<(KeyPackage, KeyPackageSecrets), crate::group::GroupError> {
    let (mut key_package, secrets) =
        crate::group::create_key_package(suite, identity, None, now, rng)?;
    let leaf = &mut key_package.leaf_node;
    leaf.capabilities.extensions.push(APP_DATA_DICTIONARY);
    leaf.signature = Bytes(suite.sign_with_label(
        &secrets.signature_private,
        LeafNode::SIGNATURE_LABEL,
        &leaf.tbs_bytes(&[], LeafIndex(0)),
    )?);
    key_package.signature = Bytes(suite.sign_with_label(
        &secrets.signature_private,
        KeyPackage::SIGNATURE_LABEL,
        &key_package.tbs_bytes(),
    )?);
    Ok((key_package, secrets))
}
