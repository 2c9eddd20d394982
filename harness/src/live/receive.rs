//! Live mode's receiving side: polling each member's inbox at its provider, joining by
//! Welcome, handling Commits, opening application messages, waiting for a room to settle,
//! and judging the scenario's assertions from what the clients did.

use super::*;

impl Live<'_> {
    pub(super) fn poll_all(&mut self) {
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            if let Err(e) = self.poll(&id) {
                self.errors.push(e);
            }
        }
    }

    pub(super) fn poll(&mut self, identity: &str) -> Result<(), String> {
        let Some(m) = self.members.get(identity) else {
            return Ok(());
        };
        if self.crashed.contains(&m.provider) {
            return Ok(());
        }
        if let Some((room, until)) = &m.offline
            && self.rooms.get(room).is_some_and(|r| r.epoch < *until)
        {
            return Ok(());
        }
        let (provider, cursor) = (m.provider.clone(), m.cursor);
        if let Some(m) = self.members.get_mut(identity) {
            m.offline = None;
        }
        let answer = self.net.own(
            &provider,
            &format!("/v1/clientInbox/{identity}"),
            cursor.to_bytes(),
        )?;
        let inbox = Inbox::from_bytes(&answer.body).map_err(|e| {
            format!(
                "{identity}'s inbox at {provider}: {e}: {}",
                text_of(&answer)
            )
        })?;
        self.member(identity)?.cursor = inbox.next_cursor;
        for entry in inbox.entries {
            let Some(room) = self.unwire(&String::from_utf8_lossy(&entry.room.0)) else {
                continue;
            };
            self.process(identity, &room, entry.kind, entry.epoch, entry.message.0);
        }
        Ok(())
    }

    pub(super) fn process(
        &mut self,
        identity: &str,
        room: &str,
        kind: u8,
        epoch: u64,
        message: Vec<u8>,
    ) {
        let view = self.view(identity, room).cloned();
        let outcome = match (kind, view) {
            (KIND_WELCOME, Some(v)) if !v.removed => Ok(()),
            (KIND_WELCOME, _) => self.join_welcome(identity, room, epoch, &message),
            (KIND_HANDSHAKE, Some(v)) if !v.removed => {
                if !is_commit(&message) {
                    if let Some(v) = self
                        .members
                        .get_mut(identity)
                        .and_then(|m| m.rooms.get_mut(room))
                    {
                        v.proposals.push(message);
                    }
                    Ok(())
                } else if epoch < v.epoch {
                    Ok(()) // its own Commit back, or one it already has
                } else if epoch > v.epoch {
                    Err(format!(
                        "{identity}: a Commit of epoch {epoch} while in epoch {}",
                        v.epoch
                    ))
                } else {
                    self.handle_commit(identity, room, v, message)
                }
            }
            (KIND_APPLICATION, Some(v)) => self.open(identity, room, v, epoch, message),
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            self.errors.push(format!("{room}: {e}"));
        }
    }

    pub(super) fn join_welcome(
        &mut self,
        identity: &str,
        room: &str,
        epoch: u64,
        welcome: &[u8],
    ) -> Result<(), String> {
        let for_us: Vec<Vec<u8>> = match MlsMessage::from_bytes(welcome).map(|m| m.body) {
            Ok(MlsMessageBody::Welcome(w)) => w
                .secrets
                .iter()
                .map(|s| s.new_member.0.as_slice().to_vec())
                .collect(),
            _ => {
                return Err(format!(
                    "{identity}: a Welcome for {room} that does not decode"
                ));
            }
        };
        let m = self.member(identity)?;
        let Some(n) = m
            .transactions
            .iter()
            .position(|(_, reference)| for_us.contains(reference))
        else {
            return Err(format!(
                "{identity}: a Welcome for {room} naming none of its KeyPackages"
            ));
        };
        let (tx, _) = m.transactions.remove(n);
        let joined = m
            .client
            .join_group(JoinGroupRequest {
                transaction_id: tx,
                welcome: welcome.to_vec(),
                encrypt_handshake: false,
                identity: identity.as_bytes().to_vec(),
                ratchet_tree: Vec::new(),
            })
            .map_err(|e| format!("{identity} cannot join {room} from its Welcome: {e}"))?;
        m.rooms.insert(
            room.to_string(),
            View {
                state: joined.state_id,
                epoch,
                proposals: Vec::new(),
                removed: false,
            },
        );
        self.record_auth(room, epoch, identity, joined.epoch_authenticator);
        self.rejoined(room, identity, epoch);
        self.publish_key_packages(identity, 1)
    }

    pub(super) fn handle_commit(
        &mut self,
        identity: &str,
        room: &str,
        view: View,
        commit: Vec<u8>,
    ) -> Result<(), String> {
        let removed_now = self.removals.get(room).is_some_and(|r| {
            r.iter()
                .any(|x| x.client == identity && x.since == view.epoch + 1)
        });
        let m = self.member(identity)?;
        let answer = m.client.handle_commit(HandleCommitRequest {
            state_id: view.state,
            proposal: view.proposals.clone(),
            commit,
        });
        match answer {
            Ok(next) => {
                if let Some(v) = m.rooms.get_mut(room) {
                    v.state = next.state_id;
                    v.epoch += 1;
                    v.proposals.clear();
                    v.removed = removed_now;
                }
                if !removed_now {
                    self.record_auth(room, view.epoch + 1, identity, next.epoch_authenticator);
                }
                Ok(())
            }
            Err(_) if removed_now => {
                if let Some(v) = m.rooms.get_mut(room) {
                    v.removed = true;
                }
                Ok(())
            }
            Err(e) => Err(format!(
                "{identity}: HandleCommit of epoch {}: {e}",
                view.epoch
            )),
        }
    }

    pub(super) fn open(
        &mut self,
        identity: &str,
        room: &str,
        view: View,
        epoch: u64,
        ciphertext: Vec<u8>,
    ) -> Result<(), String> {
        let m = self.member(identity)?;
        match m.client.unprotect(UnprotectRequest {
            state_id: view.state,
            ciphertext,
        }) {
            Ok(answer) => {
                let text = String::from_utf8_lossy(&answer.plaintext);
                let id = text
                    .strip_prefix('m')
                    .and_then(|t| t.split(':').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or_else(|| format!("{identity}: a message the scenario did not send"))?;
                self.received
                    .entry(id)
                    .or_default()
                    .push(identity.to_string());
                Ok(())
            }
            Err(_) if view.removed => Ok(()),
            Err(e) => Err(format!(
                "{identity}: Unprotect of a message of epoch {epoch} in {room}: {e}"
            )),
        }
    }

    /// Whether every member of `room` is at its epoch and has every message due to it.
    pub(super) fn caught_up(&self, room: &str) -> bool {
        let Some(model) = self.rooms.get(room) else {
            return true;
        };
        let away = |id: &String| {
            self.unreachable(id, room)
                || self.members.get(id).is_none_or(|m| {
                    self.crashed.contains(&m.provider)
                        || m.offline.as_ref().is_some_and(|(r, until)| {
                            self.rooms.get(r).is_some_and(|x| x.epoch < *until)
                        })
                })
        };
        let epochs = model
            .members
            .iter()
            .filter(|m| !away(m))
            .all(|m| self.view(m, room).is_some_and(|v| v.epoch == model.epoch));
        let messages = self
            .sent
            .iter()
            .filter(|(_, s)| s.room == room)
            .all(|(id, s)| {
                s.recipients.iter().filter(|r| !away(r)).all(|r| {
                    self.received.get(id).is_some_and(|got| got.contains(r))
                        || !model.members.contains(r)
                })
            });
        epochs && messages
    }

    pub(super) fn settle(&mut self, room: &str) -> Result<(), String> {
        let started = Instant::now();
        loop {
            self.poll_all();
            if self.caught_up(room) {
                return Ok(());
            }
            if started.elapsed() > SETTLE_DEADLINE {
                return Err(format!(
                    "the members of {room} did not catch up within {} s",
                    SETTLE_DEADLINE.as_secs()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    pub(super) fn settle_all(&mut self) {
        let rooms: Vec<String> = self.rooms.keys().cloned().collect();
        for room in rooms {
            if let Err(e) = self.settle(&room) {
                let label = self.label.clone();
                self.failures.push(format!("{label}: {e}"));
            }
        }
    }

    // ---- assertions ----

    pub(super) fn judge(&mut self, check: Check, room: &str) -> (Verdict, String) {
        let errors: Vec<&String> = self
            .errors
            .iter()
            .filter(|e| e.starts_with(&format!("{room}:")))
            .collect();
        match check {
            Check::Converged => {
                let Some(model) = self.rooms.get(room) else {
                    return (Verdict::Fail, format!("no room {room}"));
                };
                let auths = self
                    .auths
                    .get(room)
                    .and_then(|a| a.get(&model.epoch))
                    .cloned()
                    .unwrap_or_default();
                let mut problems = Vec::new();
                for m in &model.members {
                    match self.view(m, room) {
                        Some(v) if v.epoch == model.epoch => {}
                        Some(v) => problems
                            .push(format!("{m} in epoch {} (room: {})", v.epoch, model.epoch)),
                        None => problems.push(format!("{m} never joined")),
                    }
                }
                let distinct: BTreeSet<&Vec<u8>> = auths.values().collect();
                if distinct.len() > 1 {
                    problems.push(format!(
                        "{} different epoch authenticators at epoch {}",
                        distinct.len(),
                        model.epoch
                    ));
                }
                problems.extend(errors.iter().map(|e| e.to_string()));
                if problems.is_empty() {
                    (
                        Verdict::Pass,
                        format!(
                            "{} members at epoch {}, one epoch authenticator",
                            model.members.len(),
                            model.epoch
                        ),
                    )
                } else {
                    (
                        Verdict::Fail,
                        problems.into_iter().take(5).collect::<Vec<_>>().join("; "),
                    )
                }
            }
            Check::DeliveredOnce => {
                let mut problems = Vec::new();
                let mut deliveries = 0;
                for (id, s) in self.sent.iter().filter(|(_, s)| s.room == room) {
                    let got = self.received.get(id).cloned().unwrap_or_default();
                    for r in &s.recipients {
                        let n = got.iter().filter(|g| *g == r).count();
                        deliveries += n;
                        let still = self.rooms.get(room).is_some_and(|m| m.members.contains(r))
                            || self.removals.get(room).is_some_and(|x| {
                                x.iter().any(|x| x.client == *r && x.since > s.epoch)
                            });
                        if n != 1 && still {
                            problems.push(format!("message {id} reached {r} {n} times"));
                        }
                    }
                }
                if problems.is_empty() {
                    (
                        Verdict::Pass,
                        format!(
                            "{} messages, {deliveries} deliveries, each once",
                            self.sent.values().filter(|s| s.room == room).count()
                        ),
                    )
                } else {
                    (
                        Verdict::Fail,
                        problems.into_iter().take(5).collect::<Vec<_>>().join("; "),
                    )
                }
            }
            Check::ParticipantsOnly => {
                let Some(model) = self.rooms.get(room) else {
                    return (Verdict::Fail, format!("no room {room}"));
                };
                let at_last: BTreeSet<String> = self
                    .auths
                    .get(room)
                    .and_then(|a| a.get(&model.epoch))
                    .map(|a| a.keys().cloned().collect())
                    .unwrap_or_default();
                let strangers: Vec<&String> = at_last.difference(&model.members).collect();
                if strangers.is_empty() {
                    (
                        Verdict::Pass,
                        format!(
                            "the {} clients of the last epoch are all participants",
                            at_last.len()
                        ),
                    )
                } else {
                    (
                        Verdict::Fail,
                        format!(
                            "clients outside the participant list reached the last epoch: {strangers:?}"
                        ),
                    )
                }
            }
            Check::RemovedCannotRead => {
                let removals = self.removals.get(room).cloned().unwrap_or_default();
                if removals.is_empty() {
                    return (Verdict::Skipped, format!("nobody was removed from {room}"));
                }
                let mut problems = Vec::new();
                let mut tried = 0;
                for removal in &removals {
                    let later: Vec<(u64, Vec<u8>)> = self
                        .sent
                        .iter()
                        .filter(|(_, s)| {
                            s.room == room
                                && s.epoch >= removal.since
                                && removal.until.is_none_or(|u| s.epoch < u)
                        })
                        .map(|(id, s)| (*id, s.ciphertext.clone()))
                        .collect();
                    for (id, ciphertext) in later {
                        if self
                            .received
                            .get(&id)
                            .is_some_and(|g| g.contains(&removal.client))
                        {
                            problems.push(format!(
                                "{} read message {id} after its removal",
                                removal.client
                            ));
                            continue;
                        }
                        tried += 1;
                        if let Some(m) = self.members.get_mut(&removal.client)
                            && m.client
                                .unprotect(UnprotectRequest {
                                    state_id: removal.state,
                                    ciphertext,
                                })
                                .is_ok()
                        {
                            problems.push(format!(
                                "{} opens message {id} with the state it kept",
                                removal.client
                            ));
                        }
                    }
                }
                if problems.is_empty() {
                    (
                        Verdict::Pass,
                        format!(
                            "{} removed client(s) opened none of {tried} later message(s)",
                            removals.len()
                        ),
                    )
                } else {
                    (
                        Verdict::Fail,
                        problems.into_iter().take(5).collect::<Vec<_>>().join("; "),
                    )
                }
            }
            Check::Misbehaviour(_) => (
                Verdict::Unsupported,
                "misbehaviour assertions need a simulated provider".into(),
            ),
        }
    }
}
