//! Live mode's room operations over the MIMI endpoints: creating a room, claiming key
//! material, Commits until the hub accepts one, GroupInfo, application messages, leaving,
//! external joins, and concurrent steps.

use super::*;

impl Live<'_> {
    pub(super) fn hub_of(&self, room: &str) -> Result<String, String> {
        self.rooms
            .get(room)
            .map(|r| r.hub.clone())
            .ok_or_else(|| format!("no room {room}"))
    }

    pub(super) fn create(
        &mut self,
        room: &str,
        by: &str,
        hub: &str,
        open: bool,
    ) -> Result<(), String> {
        let group_id = self.wire(room).into_bytes();
        let m = self.member(by)?;
        let created = m
            .client
            .create_group(CreateGroupRequest {
                group_id,
                cipher_suite: u32::from(SUITE),
                encrypt_handshake: false,
                identity: by.as_bytes().to_vec(),
            })
            .map_err(|e| format!("{by}: CreateGroup: {e}"))?;
        let info = m
            .client
            .group_info(GroupInfoRequest {
                state_id: created.state_id,
                external_tree: false,
            })
            .map_err(|e| format!("{by}: GroupInfo: {e}"))?;
        m.rooms.insert(
            room.to_string(),
            View {
                state: created.state_id,
                epoch: 0,
                proposals: Vec::new(),
                removed: false,
            },
        );
        let body = CreateRoomRequest {
            creator: by.to_string(),
            group_info: info.group_info,
            open,
        }
        .to_bytes();
        let answer = self.net.post(
            hub,
            domain_of(by),
            &format!("/v1/createRoom/{}", self.wire(room)),
            body,
        )?;
        match CreateRoomResponse::from_bytes(&answer.body) {
            Ok(r) if r.code == CreateRoomCode::Created => {}
            _ => {
                return Err(format!(
                    "{hub} did not create room {room}: {}",
                    text_of(&answer)
                ));
            }
        }
        self.rooms.insert(
            room.to_string(),
            RoomModel {
                hub: hub.to_string(),
                members: BTreeSet::from([by.to_string()]),
                epoch: 0,
            },
        );
        Ok(())
    }

    /// A KeyPackage of `target`, claimed from its provider on behalf of `requester`.
    pub(super) fn claim(
        &mut self,
        requester: &str,
        target: &str,
        room: &str,
    ) -> Result<Vec<u8>, String> {
        let suite = Suite::new(CipherSuite(SUITE)).map_err(|e| e.to_string())?;
        let signer = suite
            .signature_generate(&mut self.rng)
            .map_err(|e| e.to_string())?;
        let mut request = KeyMaterialRequest {
            requesting_user: requester.to_string(),
            target_user: target.to_string(),
            room_id: self.wire(room),
            acceptable_ciphersuites: vec![CipherSuite(SUITE)],
            required_capabilities: RequiredCapabilities::default(),
            requester_signature_key: SignaturePublicKey(Bytes(signer.public.clone())),
            requester_credential: Credential::basic(requester.as_bytes().to_vec()),
            signature: Bytes::default(),
        };
        request.signature = Bytes(
            suite
                .sign_with_label(
                    &signer.private,
                    b"KeyMaterialRequestTBS",
                    &request.tbs_bytes(),
                )
                .map_err(|e| e.to_string())?,
        );
        let answer = self.net.post(
            domain_of(target),
            domain_of(requester),
            &format!("/v1/keyMaterial/{target}"),
            request.to_bytes(),
        )?;
        let response = KeyMaterialResponse::from_bytes(&answer.body)
            .map_err(|e| format!("keyMaterial for {target}: {e}: {}", text_of(&answer)))?;
        let bare = response
            .clients
            .iter()
            .find_map(|c| match c {
                ClientKeyMaterial::Success { key_package, .. } => Some(key_package.clone()),
                _ => None,
            })
            .ok_or_else(|| format!("no KeyPackage of {target}: {:?}", response.user_status))?;
        let kp =
            KeyPackage::from_bytes(&bare).map_err(|e| format!("{target}'s KeyPackage: {e}"))?;
        Ok(MlsMessage::new(MlsMessageBody::KeyPackage(kp)).to_bytes())
    }

    /// A Commit by `by` adding and removing; retried from the new epoch when it loses a race.
    pub(super) fn commit_until_accepted(
        &mut self,
        room: &str,
        by: &str,
        adds: &[String],
        removes: &[String],
    ) -> Result<(), String> {
        if self.cut_off(by, room) {
            self.deferred.push(Deferred::Commit {
                room: room.to_string(),
                by: by.to_string(),
                adds: adds.to_vec(),
                removes: removes.to_vec(),
            });
            return Ok(());
        }
        for _ in 0..5 {
            let prepared = self.prepare_commit(room, by, adds, removes)?;
            if self.submit_commit(room, by, prepared)? {
                return self.settle(room);
            }
            self.settle(room)?;
        }
        Err(format!("{by}'s Commit in {room} lost five races"))
    }

    pub(super) fn prepare_commit(
        &mut self,
        room: &str,
        by: &str,
        adds: &[String],
        removes: &[String],
    ) -> Result<Prepared, String> {
        let mut key_packages = Vec::new();
        for a in adds {
            key_packages.push(self.claim(by, a, room)?);
        }
        let view = self
            .view(by, room)
            .cloned()
            .ok_or_else(|| format!("{by} is not in {room}"))?;
        let mut by_value: Vec<ProposalDescription> = key_packages
            .into_iter()
            .map(|kp| ProposalDescription {
                proposal_type: b"add".to_vec(),
                key_package: kp,
                ..Default::default()
            })
            .collect();
        for r in removes {
            by_value.push(ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: r.as_bytes().to_vec(),
                ..Default::default()
            });
        }
        let m = self.member(by)?;
        let answer = m
            .client
            .commit(CommitRequest {
                state_id: view.state,
                by_reference: view.proposals.clone(),
                by_value,
                force_path: adds.is_empty() && removes.is_empty(),
                external_tree: false,
            })
            .map_err(|e| format!("{by}: Commit: {e}"))?;
        let mut changes: Vec<ParticipantChange> = adds
            .iter()
            .map(|a| ParticipantChange::Add(a.clone()))
            .collect();
        changes.extend(removes.iter().map(|r| ParticipantChange::Remove(r.clone())));
        Ok(Prepared {
            commit: answer.commit,
            welcome: (!answer.welcome.is_empty()).then_some(answer.welcome),
            changes,
            adds: adds.to_vec(),
            removes: removes.to_vec(),
            state: view.state,
        })
    }

    /// Sends a prepared Commit; `Ok(false)` when it lost its epoch's race.
    pub(super) fn submit_commit(
        &mut self,
        room: &str,
        by: &str,
        p: Prepared,
    ) -> Result<bool, String> {
        let hub = self.hub_of(room)?;
        let body = UpdateRequest {
            proposal_or_commit: p.commit.clone(),
            extra: BundleExtra::Commit {
                welcome: p.welcome.clone(),
                group_info: None,
            },
            sending_uri: by.to_string(),
            participant_changes: p.changes.clone(),
        }
        .to_bytes();
        let answer = self.net.post(
            &hub,
            domain_of(by),
            &format!("/v1/update/{}", self.wire(room)),
            body,
        )?;
        let response = UpdateRoomResponse::from_bytes(&answer.body)
            .map_err(|e| format!("update of {room}: {e}: {}", text_of(&answer)))?;
        match response.code {
            UpdateCode::Success { .. } => {}
            UpdateCode::WrongEpoch { .. } => return Ok(false),
            other => {
                return Err(format!(
                    "{hub} answered {by}'s Commit {other:?} ({})",
                    response.error_description
                ));
            }
        }
        let merged = self
            .member(by)?
            .client
            .handle_pending_commit(HandlePendingCommitRequest { state_id: p.state })
            .map_err(|e| format!("{by}: HandlePendingCommit: {e}"))?;
        let model = self
            .rooms
            .get_mut(room)
            .ok_or_else(|| format!("no room {room}"))?;
        model.epoch += 1;
        let epoch = model.epoch;
        for a in &p.adds {
            model.members.insert(a.clone());
        }
        // Removals by reference (a leave) are in the participant changes too.
        let mut removed: Vec<String> = p.removes.clone();
        removed.extend(self.pending_leaves.remove(room).unwrap_or_default());
        for r in &removed {
            if let Some(model) = self.rooms.get_mut(room) {
                model.members.remove(r);
            }
            let state = self.view(r, room).map(|v| v.state);
            if let Some(m) = self.members.get_mut(r)
                && let Some(v) = m.rooms.get_mut(room)
            {
                v.removed = true;
            }
            if let Some(state) = state {
                self.removals
                    .entry(room.to_string())
                    .or_default()
                    .push(Removal {
                        client: r.clone(),
                        since: epoch,
                        until: None,
                        state,
                    });
            }
        }
        if let Some(v) = self.members.get_mut(by).and_then(|m| m.rooms.get_mut(room)) {
            v.state = merged.state_id;
            v.epoch = epoch;
            v.proposals.clear();
        }
        self.record_auth(room, epoch, by, merged.epoch_authenticator);
        self.publish_group_info(room, by)?;
        Ok(true)
    }

    /// `client` is back in `room` at `epoch`: its removal window ends.
    pub(super) fn rejoined(&mut self, room: &str, client: &str, epoch: u64) {
        for r in self.removals.entry(room.to_string()).or_default() {
            if r.client == client && r.until.is_none() {
                r.until = Some(epoch);
            }
        }
    }

    pub(super) fn record_auth(&mut self, room: &str, epoch: u64, client: &str, auth: Vec<u8>) {
        self.auths
            .entry(room.to_string())
            .or_default()
            .entry(epoch)
            .or_default()
            .insert(client.to_string(), auth);
    }

    /// The member publishes the GroupInfo of its current epoch at the hub (for external
    /// joiners).
    pub(super) fn publish_group_info(&mut self, room: &str, by: &str) -> Result<(), String> {
        let hub = self.hub_of(room)?;
        let view = self
            .view(by, room)
            .cloned()
            .ok_or_else(|| format!("{by} is not in {room}"))?;
        let info = self
            .member(by)?
            .client
            .group_info(GroupInfoRequest {
                state_id: view.state,
                external_tree: false,
            })
            .map_err(|e| format!("{by}: GroupInfo: {e}"))?;
        let body = PublishGroupInfo {
            sending_uri: by.to_string(),
            epoch: view.epoch,
            group_info: info.group_info,
        }
        .to_bytes();
        let answer = self.net.post(
            &hub,
            domain_of(by),
            &format!("/v1/publishGroupInfo/{}", self.wire(room)),
            body,
        )?;
        if answer.status != 201 && answer.status != 409 {
            return Err(format!(
                "{hub} refused {by}'s GroupInfo of epoch {}: {}",
                view.epoch,
                text_of(&answer)
            ));
        }
        Ok(())
    }

    pub(super) fn send(&mut self, room: &str, sender: &str, text: &str) -> Result<(), String> {
        let id = self.next_message;
        self.next_message += 1;
        let view = self
            .view(sender, room)
            .cloned()
            .ok_or_else(|| format!("{sender} is not in {room}"))?;
        let ciphertext = self
            .member(sender)?
            .client
            .protect(ProtectRequest {
                state_id: view.state,
                authenticated_data: Vec::new(),
                plaintext: format!("m{id}:{text}").into_bytes(),
            })
            .map_err(|e| format!("{sender}: Protect: {e}"))?
            .ciphertext;
        let hub = self.hub_of(room)?;
        let body = SubmitMessageRequest {
            app_message: ciphertext.clone(),
            sending_uri: sender.to_string(),
        }
        .to_bytes();
        let answer = self.net.post(
            &hub,
            domain_of(sender),
            &format!("/v1/submitMessage/{}", self.wire(room)),
            body,
        )?;
        match SubmitMessageResponse::from_bytes(&answer.body) {
            Ok(SubmitMessageResponse::Accepted { .. }) => {}
            _ => {
                return Err(format!(
                    "{hub} did not accept {sender}'s message: {}",
                    text_of(&answer)
                ));
            }
        }
        let recipients = self
            .rooms
            .get(room)
            .map(|r| r.members.iter().filter(|m| *m != sender).cloned().collect())
            .unwrap_or_default();
        self.sent.insert(
            id,
            Sent {
                room: room.to_string(),
                epoch: view.epoch,
                ciphertext,
                recipients,
            },
        );
        Ok(())
    }

    pub(super) fn leave(
        &mut self,
        room: &str,
        leaver: &str,
        committer: Option<String>,
    ) -> Result<(), String> {
        let hub = self.hub_of(room)?;
        let view = self
            .view(leaver, room)
            .cloned()
            .ok_or_else(|| format!("{leaver} is not in {room}"))?;
        let proposal = self
            .member(leaver)?
            .client
            .remove_proposal(RemoveProposalRequest {
                state_id: view.state,
                removed_id: leaver.as_bytes().to_vec(),
            })
            .map_err(|e| format!("{leaver}: RemoveProposal: {e}"))?
            .proposal;
        let body = UpdateRequest {
            proposal_or_commit: proposal,
            extra: BundleExtra::Proposal {
                more_proposals: Vec::new(),
            },
            sending_uri: leaver.to_string(),
            participant_changes: vec![ParticipantChange::Remove(leaver.to_string())],
        }
        .to_bytes();
        let answer = self.net.post(
            &hub,
            domain_of(leaver),
            &format!("/v1/update/{}", self.wire(room)),
            body,
        )?;
        let response = UpdateRoomResponse::from_bytes(&answer.body)
            .map_err(|e| format!("{leaver}'s leave proposal: {e}: {}", text_of(&answer)))?;
        if !matches!(response.code, UpdateCode::Success { .. }) {
            return Err(format!(
                "{hub} answered {leaver}'s leave proposal {:?}",
                response.code
            ));
        }
        let committer = match committer {
            Some(c) => c,
            None => self
                .rooms
                .get(room)
                .and_then(|r| r.members.iter().find(|m| *m != leaver).cloned())
                .ok_or_else(|| format!("nobody left in {room} to commit {leaver}'s leave"))?,
        };
        // Wait until the committer has the proposal.
        let started = Instant::now();
        while self
            .view(&committer, room)
            .is_none_or(|v| v.proposals.is_empty())
        {
            if started.elapsed() > SETTLE_DEADLINE {
                return Err(format!(
                    "{committer} never received {leaver}'s leave proposal"
                ));
            }
            self.poll_all();
            std::thread::sleep(POLL);
        }
        self.pending_leaves
            .entry(room.to_string())
            .or_default()
            .push(leaver.to_string());
        let prepared = self.prepare_commit(room, &committer, &[], &[])?;
        if !self.submit_commit(room, &committer, prepared)? {
            return Err(format!(
                "{committer}'s Commit of {leaver}'s leave lost a race"
            ));
        }
        self.settle(room)
    }

    pub(super) fn join_external(&mut self, room: &str, joiner: &str) -> Result<(), String> {
        let hub = self.hub_of(room)?;
        let suite = Suite::new(CipherSuite(SUITE)).map_err(|e| e.to_string())?;
        let signer = suite
            .signature_generate(&mut self.rng)
            .map_err(|e| e.to_string())?;
        let hpke = suite
            .hpke_generate_key_pair(&mut self.rng)
            .map_err(|e| e.to_string())?;
        let mut request = MimiGroupInfoRequest {
            cipher_suite: CipherSuite(SUITE),
            requesting_signature_key: SignaturePublicKey(Bytes(signer.public.clone())),
            requesting_credential: Credential::basic(joiner.as_bytes().to_vec()),
            group_info_public_key: HpkePublicKey(Bytes(hpke.public.clone())),
            joining_code: Bytes::default(),
            signature: Bytes::default(),
        };
        request.signature = Bytes(
            suite
                .sign_with_label(
                    &signer.private,
                    b"GroupInfoRequestTBS",
                    &request.tbs_bytes(),
                )
                .map_err(|e| e.to_string())?,
        );
        let answer = self.net.post(
            &hub,
            domain_of(joiner),
            &format!("/v1/groupInfo/{}", self.wire(room)),
            request.to_bytes(),
        )?;
        let response = GroupInfoResponse::from_bytes(&answer.body)
            .map_err(|e| format!("groupInfo of {room}: {e}: {}", text_of(&answer)))?;
        if !matches!(response.status, GroupInfoStatus::Success(_)) {
            return Err(format!(
                "{hub} gave {joiner} no GroupInfo of {room}: {:?}",
                response.status
            ));
        }
        // MIMI-PROTOCOL-5.6-6: the hub's signature is verified before the GroupInfo is used.
        let tbe = open_response(&self.wire(room), &response, &hpke.private)
            .map_err(|e| format!("the GroupInfo of {room}: {e}"))?;
        let info = GroupInfo::from_bytes(&tbe.group_info).map_err(|e| e.to_string())?;
        let group_info = MlsMessage::new(MlsMessageBody::GroupInfo(info)).to_bytes();
        let joined = self
            .member(joiner)?
            .client
            .external_join(ExternalJoinRequest {
                group_info,
                ratchet_tree: Vec::new(),
                encrypt_handshake: false,
                identity: joiner.as_bytes().to_vec(),
                remove_prior: false,
                psks: Vec::new(),
            })
            .map_err(|e| format!("{joiner}: ExternalJoin: {e}"))?;
        let body = UpdateRequest {
            proposal_or_commit: joined.commit,
            extra: BundleExtra::Commit {
                welcome: None,
                group_info: None,
            },
            sending_uri: joiner.to_string(),
            participant_changes: vec![ParticipantChange::Add(joiner.to_string())],
        }
        .to_bytes();
        let answer = self.net.post(
            &hub,
            domain_of(joiner),
            &format!("/v1/update/{}", self.wire(room)),
            body,
        )?;
        let response = UpdateRoomResponse::from_bytes(&answer.body)
            .map_err(|e| format!("{joiner}'s external Commit: {e}: {}", text_of(&answer)))?;
        if !matches!(response.code, UpdateCode::Success { .. }) {
            return Err(format!(
                "{hub} answered {joiner}'s external Commit {:?} ({})",
                response.code, response.error_description
            ));
        }
        let model = self
            .rooms
            .get_mut(room)
            .ok_or_else(|| format!("no room {room}"))?;
        model.epoch += 1;
        model.members.insert(joiner.to_string());
        let epoch = model.epoch;
        let m = self.member(joiner)?;
        m.rooms.insert(
            room.to_string(),
            View {
                state: joined.state_id,
                epoch,
                proposals: Vec::new(),
                removed: false,
            },
        );
        // Its inbox may hold older traffic of the room: skip it.
        self.record_auth(room, epoch, joiner, joined.epoch_authenticator);
        self.rejoined(room, joiner, epoch);
        self.publish_group_info(room, joiner)?;
        self.settle(room)
    }

    pub(super) fn concurrent(&mut self, inner: &[Step]) -> Result<(), String> {
        let commits = |a: &Action| {
            matches!(
                a,
                Action::Update { by: Some(_), .. } | Action::Invite { .. }
            ) || matches!(a, Action::Remove { users, .. } if !users.is_empty())
        };
        // Messages first, from the epoch the race starts in; then every Commit is made
        // from that same epoch and sent: one wins, the others get wrongEpoch and retry.
        for step in inner.iter().filter(|s| !commits(&s.action)) {
            self.run_step(step)?;
        }
        let mut prepared = Vec::new();
        let mut retry = Vec::new();
        for step in inner.iter().filter(|s| commits(&s.action)) {
            match &step.action {
                Action::Update { room, by: Some(u) } => {
                    let by = self.id(u)?;
                    prepared.push((
                        room.clone(),
                        by.clone(),
                        self.prepare_commit(room, &by, &[], &[])?,
                    ));
                    retry.push((room.clone(), by, Vec::new(), Vec::new()));
                }
                Action::Invite {
                    room, by, users, ..
                } => {
                    let by = self.id(by)?;
                    let adds = users
                        .iter()
                        .map(|u| self.id(u))
                        .collect::<Result<Vec<_>, _>>()?;
                    prepared.push((
                        room.clone(),
                        by.clone(),
                        self.prepare_commit(room, &by, &adds, &[])?,
                    ));
                    retry.push((room.clone(), by, adds, Vec::new()));
                }
                Action::Remove { room, by, users } if !users.is_empty() => {
                    let by = self.id(by)?;
                    let removes = users
                        .iter()
                        .map(|u| self.id(u))
                        .collect::<Result<Vec<_>, _>>()?;
                    prepared.push((
                        room.clone(),
                        by.clone(),
                        self.prepare_commit(room, &by, &[], &removes)?,
                    ));
                    retry.push((room.clone(), by, Vec::new(), removes));
                }
                _ => self.run_step(step)?,
            }
        }
        let mut losers = Vec::new();
        for ((room, by, p), again) in prepared.into_iter().zip(retry) {
            if !self.submit_commit(&room, &by, p)? {
                losers.push(again);
            }
        }
        self.settle_all();
        for (room, by, adds, removes) in losers {
            // A loser's added users were not added; removed ones maybe already gone.
            let adds: Vec<String> = adds
                .into_iter()
                .filter(|a| !self.rooms.get(&room).is_some_and(|r| r.members.contains(a)))
                .collect();
            let removes: Vec<String> = removes
                .into_iter()
                .filter(|r| self.rooms.get(&room).is_some_and(|m| m.members.contains(r)))
                .collect();
            self.commit_until_accepted(&room, &by, &adds, &removes)?;
        }
        Ok(())
    }
}
