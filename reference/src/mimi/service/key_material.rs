//! `keyMaterial` (section 5.2): the target provider's answer, and the hub passing a request
//! for one of its rooms on to the target's provider (profile choice 11), with the routes of
//! the KeyPackages it passed on.

use super::*;

impl ProviderService {
    /// Makes `user`'s [`KEY_PACKAGES_PER_USER`] key packages if it is a local user whose
    /// key packages the provider manages and they are not made yet. Each user's come from
    /// their own generator (the seed, the domain and the user), so they do not depend on the
    /// order in which users are asked for.
    pub(super) fn ensure_key_packages(&mut self, user: &str) {
        if self.client_managed.contains(user)
            || self.key_packages_made.contains(user)
            || !self.local_users.iter().any(|u| u == user)
        {
            return;
        }
        self.key_packages_made.insert(user.to_string());
        let Ok(suite) = Suite::new(CIPHER_SUITE) else {
            return;
        };
        // An hour back, for the clocks of the providers that check the lifetime.
        let first = self.first_request_ms.unwrap_or_default();
        let not_before = (first / 1000).saturating_sub(3600);
        let mut rng = Drbg::new(self.seed, &format!("{}/{user}", self.domain));
        for _ in 0..KEY_PACKAGES_PER_USER {
            if let Ok((key_package, _)) = crate::group::create_key_package(
                &suite,
                user.as_bytes(),
                None,
                not_before,
                &mut rng,
            ) {
                self.provider
                    .publish_key_package(user, key_package.to_bytes());
            }
        }
    }

    pub(super) fn key_material(
        &mut self,
        req: &Request,
        target: &str,
    ) -> Result<Response, Response> {
        // Made before the request is judged: a refused request uses none up.
        let identity = self.identity(target);
        self.ensure_key_packages(&identity);
        let request: KeyMaterialRequest = self.decode(&req.body, "KeyMaterialRequest")?;
        // A request for a room may come from the room's hub, which passes it on for the
        // requester's provider (MIMI-PROTOCOL-5.2-1; profile choice 11): the requester is
        // then vouched for by the hub and by the request's signature, below.
        if request.room_id.is_empty() || req.peer.is_none() {
            self.authorize(req, &request.requesting_user, "requestingUser")?;
        }
        // MIMI-PROTOCOL-5.2-4: the signature over KeyMaterialRequestTBS verifies with
        // requesterSignatureKey. The request names no suite for its key: the acceptable
        // suites are tried first, then every suite this reference implements.
        let tbs = request.tbs_bytes();
        let mut suites = request.acceptable_ciphersuites.clone();
        suites.extend(CipherSuite::ALL);
        let verified = suites.iter().any(|suite| {
            Suite::new(*suite).is_ok_and(|suite| {
                suite
                    .verify_with_label(
                        &request.requester_signature_key.0,
                        b"KeyMaterialRequestTBS",
                        &tbs,
                        &request.signature,
                    )
                    .is_ok()
            })
        });
        if !verified {
            return Err(text(
                403,
                "KeyMaterialRequest.key_material_request_signature does not verify with \
                 requesterSignatureKey",
            ));
        }
        let target = self.identity(target);
        if self.identity(&request.target_user) != target {
            return Err(text(
                400,
                format!(
                    "KeyMaterialRequest.targetUser {} differs from the path's {target}",
                    request.target_user
                ),
            ));
        }
        if !self.local_users.contains(&target) {
            return Ok(mimi(
                404,
                &KeyMaterialResponse {
                    user_status: KeyMaterialUserCode::UserUnknown,
                    user_uri: target,
                    clients: Vec::new(),
                },
            ));
        }
        if !request.acceptable_ciphersuites.contains(&CIPHER_SUITE) {
            let capabilities = crate::group::leaf_capabilities(CIPHER_SUITE);
            return Ok(mimi(
                409,
                &KeyMaterialResponse {
                    user_status: KeyMaterialUserCode::NoCompatibleMaterial,
                    user_uri: target.clone(),
                    clients: vec![ClientKeyMaterial::NothingCompatible {
                        client_uri: target,
                        capabilities: Some(capabilities),
                    }],
                },
            ));
        }
        // One client per user (profile choice 1): the client URI is the user's.
        Ok(match self.provider.claim_key_package(&target) {
            Some(key_package) => mimi(
                200,
                &KeyMaterialResponse {
                    user_status: KeyMaterialUserCode::Success,
                    user_uri: target.clone(),
                    clients: vec![ClientKeyMaterial::Success {
                        client_uri: target,
                        key_package,
                    }],
                },
            ),
            None => mimi(
                409,
                &KeyMaterialResponse {
                    user_status: KeyMaterialUserCode::NoCompatibleMaterial,
                    user_uri: target.clone(),
                    clients: vec![ClientKeyMaterial::Exhausted { client_uri: target }],
                },
            ),
        })
    }

    /// `keyMaterial/{target}` at a hub, for another provider's user and a room this hub
    /// hosts, from one of the room's participants: passed on to the target's provider
    /// (MIMI-PROTOCOL-5.2-1; profile choice 11), whose answer [`Self::key_material_passed`]
    /// returns. `None`: answered here (a local user, no such room, or a request the
    /// checks of [`Self::key_material`] refuse).
    pub(super) fn key_material_via_hub(&mut self, req: &Request, target: &str) -> Option<Fetch> {
        if self.role != Role::Hub || self.faults.no_key_material_relay {
            return None;
        }
        let target = self.identity(target);
        let provider = provider_of(&target)?.to_string();
        if provider == self.domain {
            return None;
        }
        let request = KeyMaterialRequest::from_bytes(&req.body).ok()?;
        let room = self.hub.room(&request.room_id)?;
        if self.identity(&request.target_user) != target
            || !room.participants().contains(&request.requesting_user)
            || self
                .authorize(req, &request.requesting_user, "requestingUser")
                .is_err()
        {
            return None;
        }
        let token = self.next_fetch;
        self.next_fetch += 1;
        self.deferred.insert(
            token,
            Deferred::KeyMaterial {
                room: request.room_id.clone(),
                provider: provider.clone(),
            },
        );
        let argument = percent_encode(&target);
        Some(Fetch {
            token,
            to_domain: provider.clone(),
            request: Request {
                method: "POST".into(),
                path: format!("/v1/keyMaterial/{argument}"),
                peer: Some(self.domain.clone()),
                headers: vec![
                    ("host".into(), provider),
                    ("from".into(), format!("mimi@{}", self.domain)),
                    ("content-type".into(), wire::CONTENT_TYPE.into()),
                ],
                body: req.body.clone(),
            },
            endpoint: Some(Endpoint {
                name: "keyMaterial".into(),
                argument,
            }),
        })
    }

    /// The target provider's answer to a keyMaterial request this hub passed on: returned
    /// as it is, after recording each KeyPackageRef it hands out with `provider`
    /// (MIMI-PROTOCOL-4.3.1-2). No answer, or one that is no KeyMaterialResponse, is 502.
    pub(super) fn key_material_passed(
        &mut self,
        room: &str,
        provider: &str,
        answer: Option<Fetched>,
    ) -> Response {
        let Some(answer) = answer else {
            return text(
                502,
                format!("{provider} did not answer the keyMaterial request"),
            );
        };
        let Ok(response) = KeyMaterialResponse::from_bytes(&answer.body) else {
            return text(
                502,
                format!(
                    "{provider} answered the keyMaterial request {} with no KeyMaterialResponse",
                    answer.status
                ),
            );
        };
        for client in &response.clients {
            // The draft's bare KeyPackage, or one wrapped in an MLSMessage.
            let key_package = match client {
                ClientKeyMaterial::Success { key_package, .. } => {
                    match MlsMessage::from_bytes(key_package).map(|m| m.body) {
                        Ok(MlsMessageBody::KeyPackage(key_package)) => Some(key_package),
                        _ => crate::messages::KeyPackage::from_bytes(key_package).ok(),
                    }
                }
                _ => None,
            };
            if let Some(key_package) = key_package
                && let Ok(suite) = Suite::new(key_package.cipher_suite)
            {
                let reference = crate::welcome::key_package_ref(&suite, &key_package);
                self.key_package_routes.insert(
                    (room.to_string(), reference.0.0.clone()),
                    provider.to_string(),
                );
            }
        }
        mimi(answer.status, &response)
    }

    /// Why a Commit of `room` may not be accepted because of where its KeyPackages came
    /// from: an Add whose KeyPackage this hub passed on from one provider names a client of
    /// another, so its Welcome would go astray (MIMI-PROTOCOL-4.3.1-2).
    pub(super) fn misrouted_key_package(&self, room: &str, message: &[u8]) -> Option<String> {
        let MlsMessageBody::PublicMessage(public) = MlsMessage::from_bytes(message).ok()?.body
        else {
            return None;
        };
        let ContentBody::Commit(commit) = &public.content.body else {
            return None;
        };
        commit.proposals.iter().find_map(|p| {
            let ProposalOrRef::Proposal(Proposal::Add(add)) = p else {
                return None;
            };
            let suite = Suite::new(add.key_package.cipher_suite).ok()?;
            let reference = crate::welcome::key_package_ref(&suite, &add.key_package);
            let from = self.key_package_route(room, &reference.0.0)?;
            let identity = match &add.key_package.leaf_node.credential {
                Credential::Basic { identity } => String::from_utf8_lossy(identity).into_owned(),
                _ => String::new(),
            };
            (provider_of(&identity) != Some(from)).then(|| {
                format!(
                    "an Add's KeyPackage came from {from} through this hub, but names {identity}, \
                     not a client of {from} (MIMI-PROTOCOL-4.3.1-2)"
                )
            })
        })
    }
}
