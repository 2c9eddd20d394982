//! Client access to a provider, **beyond the draft** (profile `concord-mimi-06`, choice 21):
//! the draft defines only provider-to-provider endpoints, so a provider's own clients reach it
//! through three endpoints Concord adds, used by live mode (`concord sim --live`) to drive
//! simulated clients against real servers. Each needs the provider's **own** certificate
//! (the client front end is the provider itself); any other caller gets 403.
//!
//! ```text
//!  POST /v1/clientKeyPackage/{client}   body: KeyPackage (MLSMessage)       -> 201
//!  POST /v1/clientInbox/{client}        body: uint64 cursor                 -> 200 Inbox
//!  POST /v1/publishGroupInfo/{room}     body: PublishGroupInfo (hub only)   -> 201, 409 stale
//! ```
//!
//! `publishGroupInfo` is sent by a member's provider with the member's certificate domain,
//! like `update`: a member publishes the GroupInfo of the epoch the hub is in, so that
//! external joiners can fetch it with `groupInfo`.

use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::messages::{MlsMessage, MlsMessageBody};

use super::super::{RoomEvent, provider_of};
use super::{ProviderService, Request, Response, Role, mimi, text};

/// The client-access endpoints.
pub const CLIENT_ENDPOINTS: &[&str] = &["clientKeyPackage", "clientInbox", "publishGroupInfo"];

/// What an inbox entry carries (`enum { handshake(0), application(1), welcome(2) }`).
pub const KIND_HANDSHAKE: u8 = 0;
pub const KIND_APPLICATION: u8 = 1;
pub const KIND_WELCOME: u8 = 2;

/// `struct { uint8 kind; uint64 epoch; opaque room<V>; opaque message<V>; } InboxEntry;`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    pub kind: u8,
    pub epoch: u64,
    pub room: Bytes,
    pub message: Bytes,
}

impl Codec for InboxEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        self.kind.encode(out);
        self.epoch.encode(out);
        self.room.encode(out);
        self.message.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let kind = reader.u8("InboxEntry.kind")?;
        if kind > KIND_WELCOME {
            return Err(DecodeError::InvalidValue {
                what: "InboxEntry.kind",
                value: u64::from(kind),
            });
        }
        Ok(InboxEntry {
            kind,
            epoch: reader.u64("InboxEntry.epoch")?,
            room: Bytes::decode(reader)?,
            message: Bytes::decode(reader)?,
        })
    }
}

/// `struct { uint64 next_cursor; InboxEntry entries<V>; } Inbox;`: what a client's provider
/// received for it since the cursor, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    pub next_cursor: u64,
    pub entries: Vec<InboxEntry>,
}

impl Codec for Inbox {
    fn encode(&self, out: &mut Vec<u8>) {
        self.next_cursor.encode(out);
        self.entries.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Inbox {
            next_cursor: reader.u64("Inbox.next_cursor")?,
            entries: Vec::decode(reader)?,
        })
    }
}

/// `struct { IdentifierUri sendingUri; uint64 epoch; MLSMessage group_info; } PublishGroupInfo;`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishGroupInfo {
    pub sending_uri: String,
    pub epoch: u64,
    /// An encoded MLSMessage holding a GroupInfo.
    pub group_info: Vec<u8>,
}

impl Codec for PublishGroupInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        Bytes(self.sending_uri.as_bytes().to_vec()).encode(out);
        self.epoch.encode(out);
        out.extend_from_slice(&self.group_info);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let uri = Bytes::decode(reader)?;
        let sending_uri = String::from_utf8(uri.0).map_err(|_| DecodeError::Malformed {
            what: "PublishGroupInfo.sendingUri",
            detail: "not UTF-8".into(),
        })?;
        let epoch = reader.u64("PublishGroupInfo.epoch")?;
        let start = reader.position();
        let message = MlsMessage::decode(reader)?;
        if !matches!(message.body, MlsMessageBody::GroupInfo(_)) {
            return Err(DecodeError::Malformed {
                what: "PublishGroupInfo.group_info",
                detail: "an MLSMessage that is not a GroupInfo".into(),
            });
        }
        let group_info = reader.input()[start..reader.position()].to_vec();
        Ok(PublishGroupInfo {
            sending_uri,
            epoch,
            group_info,
        })
    }
}

impl ProviderService {
    /// Whether `req` comes from this provider's own front end.
    fn own_front_end(&self, req: &Request) -> Result<(), Response> {
        match &req.peer {
            Some(peer) if *peer == self.domain => Ok(()),
            Some(peer) => Err(text(
                403,
                format!(
                    "client access to {} needs {}'s own certificate, not {peer}'s",
                    self.domain, self.domain
                ),
            )),
            None => Err(text(401, "a client certificate is required")),
        }
    }

    fn own_client(&self, client: &str) -> Result<(), Response> {
        if provider_of(client) == Some(self.domain.as_str()) {
            Ok(())
        } else {
            Err(text(
                404,
                format!("{client} is not a client of {}", self.domain),
            ))
        }
    }

    /// `clientKeyPackage/{client}`: one KeyPackage the client made, for `keyMaterial` to
    /// hand out once. The client becomes a local user.
    pub(super) fn client_key_package(
        &mut self,
        req: &Request,
        client: &str,
    ) -> Result<Response, Response> {
        self.own_front_end(req)?;
        self.own_client(client)?;
        let message: MlsMessage = self.decode(&req.body, "KeyPackage")?;
        let MlsMessageBody::KeyPackage(key_package) = &message.body else {
            return Err(text(400, "clientKeyPackage: the body is not a KeyPackage"));
        };
        let identity = match &key_package.leaf_node.credential {
            crate::messages::Credential::Basic { identity } => identity.0.as_slice(),
            _ => &[],
        };
        if identity != client.as_bytes() {
            return Err(text(
                400,
                format!("clientKeyPackage: the KeyPackage's credential is not {client}"),
            ));
        }
        if !self.local_users.iter().any(|u| u == client) {
            self.local_users.push(client.to_string());
        }
        if self.client_managed.insert(client.to_string()) {
            // From now on the client's own KeyPackages only: drop those the provider made
            // for it, whose private keys the client does not have.
            // (Bounded: with the reuse fault a claim never empties the pool.)
            for _ in 0..super::KEY_PACKAGES_PER_USER {
                if self.provider.claim_key_package(client).is_none() {
                    break;
                }
            }
        }
        // Stored bare, as keyMaterial hands KeyPackages out.
        self.provider
            .publish_key_package(client, key_package.to_bytes());
        Ok(Response {
            status: 201,
            content_type: String::new(),
            body: Vec::new(),
        })
    }

    /// `clientInbox/{client}`: the client's deliveries from the cursor on.
    pub(super) fn client_inbox(
        &mut self,
        req: &Request,
        client: &str,
    ) -> Result<Response, Response> {
        self.own_front_end(req)?;
        self.own_client(client)?;
        let cursor: u64 = self.decode(&req.body, "cursor")?;
        let start = usize::try_from(cursor)
            .unwrap_or(usize::MAX)
            .min(self.deliveries.len());
        let entries = self.deliveries[start..]
            .iter()
            .filter(|d| &*d.client == client)
            .map(|d| {
                let (kind, epoch) = match &d.event {
                    RoomEvent::Handshake { epoch, .. } => (KIND_HANDSHAKE, *epoch),
                    RoomEvent::Application { epoch, .. } => (KIND_APPLICATION, *epoch),
                    RoomEvent::Welcome { epoch, .. } => (KIND_WELCOME, *epoch),
                };
                InboxEntry {
                    kind,
                    epoch,
                    room: Bytes(d.room.as_bytes().to_vec()),
                    message: Bytes(d.event.message().to_vec()),
                }
            })
            .collect();
        Ok(mimi(
            200,
            &Inbox {
                next_cursor: self.deliveries.len() as u64,
                entries,
            },
        ))
    }

    /// `publishGroupInfo/{room}`: a member publishes the GroupInfo of the room's epoch.
    pub(super) fn publish_group_info(
        &mut self,
        req: &Request,
        room: &str,
    ) -> Result<Response, Response> {
        let request: PublishGroupInfo = self.decode(&req.body, "PublishGroupInfo")?;
        self.authorize(req, &request.sending_uri, "sendingUri")?;
        if self.role != Role::Hub {
            return Err(text(404, format!("{} hosts no rooms", self.domain)));
        }
        self.local_room(room)?;
        let member = self
            .hub
            .room(room)
            .is_some_and(|r| r.members().contains(&request.sending_uri));
        if !member {
            return Err(text(
                403,
                format!("{} is not a member of {room}", request.sending_uri),
            ));
        }
        if self
            .hub
            .publish_group_info(room, request.epoch, request.group_info)
        {
            Ok(Response {
                status: 201,
                content_type: String::new(),
                body: Vec::new(),
            })
        } else {
            Err(text(
                409,
                format!("room {room} is not in epoch {}", request.epoch),
            ))
        }
    }
}
