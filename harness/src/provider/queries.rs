//! The provider checks on the endpoints a provider answers for its own users, whatever its
//! role: key material for cipher suites it may not have, identifier queries, and consent
//! updates and cancels.
//!
//! ```text
//!  carol@f1 ──keyMaterial (suite 1 | only a GREASE suite)──> provider under test
//!           ──identifierQuery (handle, handle AND handle, unknown handle) x2──>
//!           ──updateConsent (grant for a local requester, unknown requester, foreign target)──>
//!           ──requestConsent cancel (nothing to cancel)──>
//! ```

use concord_reference::codec::Codec;
use concord_reference::crypto::CipherSuite;
use concord_reference::messages::{KeyPackage, MlsMessage, MlsMessageBody};
use concord_reference::mimi::wire::{
    self, AppDataDictionary, ClientKeyMaterial, ConsentEntry, ConsentOperation, IdentifierRequest,
    IdentifierResponse, KeyMaterialResponse, KeyMaterialUserCode, QueryElement,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::mls;
use super::ptest::{Ctx, FOLLOWERS, Outcome};
use super::rooms::{CAROL, DAVE, Step, finish, post, text};
use super::users::{key_material_body_for, target_users};

/// A cipher suite no KeyPackage can have: a GREASE value (RFC 9420 13.5).
const GREASE_SUITE: u16 = 0x0A0A;

/// key-material-suites: KeyPackages come in an acceptable cipher suite, the user code
/// agrees with the client codes, and a request accepting only a suite nobody has gets no
/// KeyPackage, its clients reported nothingCompatible.
pub async fn check_key_material_suites(ctx: &mut Ctx) -> Outcome {
    finish(key_material_suites(ctx).await)
}

async fn key_material_suites(ctx: &mut Ctx) -> Step<Outcome> {
    let room = ctx.room_name("key-material-suites");
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let Some(target) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to ask key material of".into()));
    };
    let path = format!("/v1/keyMaterial/{target}");
    let mut asked = |suites: Vec<u16>| {
        let suites = suites.into_iter().map(CipherSuite).collect();
        key_material_body_for(CAROL, &target, &room, suites, &mut rng)
    };
    let good = asked(vec![mls::SUITE])?;
    let grease = asked(vec![GREASE_SUITE])?;
    let mut seen = Vec::new();
    for (body, acceptable) in [(good, mls::SUITE), (grease, GREASE_SUITE)] {
        let answer = post(ctx, CAROL, &path, body).await?;
        let response = KeyMaterialResponse::from_bytes(&answer.body).map_err(|e| {
            Outcome::Fail(format!(
                "POST {path} (suite {acceptable:#06x}) answered {} with no KeyMaterialResponse \
                 ({e}): {}",
                answer.status,
                text(&answer.body)
            ))
        })?;
        // MIMI-PROTOCOL-5.2-8: success only when every client got key material,
        // partialSuccess when some did; then every client is listed with its own code.
        let got = response
            .clients
            .iter()
            .filter(|c| matches!(c, ClientKeyMaterial::Success { .. }))
            .count();
        let consistent = match response.user_status {
            KeyMaterialUserCode::Success => got > 0 && got == response.clients.len(),
            KeyMaterialUserCode::PartialSuccess => got > 0 && got < response.clients.len(),
            _ => got == 0,
        };
        if !consistent {
            return Ok(Outcome::Fail(format!(
                "suite {acceptable:#06x}: user code {:?} with {got} of {} clients given key \
                 material",
                response.user_status,
                response.clients.len()
            )));
        }
        // MIMI-PROTOCOL-5.2-7: every KeyPackage is of an acceptable suite.
        for client in &response.clients {
            if let ClientKeyMaterial::Success { key_package, .. } = client {
                // As an MLSMessage or bare, as `mls::check_key_package` reads it.
                let suite = match MlsMessage::from_bytes(key_package).map(|m| m.body) {
                    Ok(MlsMessageBody::KeyPackage(kp)) => kp.cipher_suite.0,
                    Err(_) if KeyPackage::from_bytes(key_package).is_ok() => {
                        KeyPackage::from_bytes(key_package)
                            .map(|kp| kp.cipher_suite.0)
                            .unwrap_or_default()
                    }
                    _ => {
                        return Ok(Outcome::Fail(format!(
                            "suite {acceptable:#06x}: a client entry holds no KeyPackage"
                        )));
                    }
                };
                if suite != acceptable {
                    return Ok(Outcome::Fail(format!(
                        "asked for suite {acceptable:#06x} only, got a KeyPackage of suite \
                         {suite:#06x}"
                    )));
                }
            }
        }
        seen.push((acceptable, response));
    }
    let (_, grease) = &seen[1];
    let nothing = grease
        .clients
        .iter()
        .all(|c| matches!(c, ClientKeyMaterial::NothingCompatible { .. }));
    if grease.user_status != KeyMaterialUserCode::NoCompatibleMaterial
        || grease.clients.is_empty()
        || !nothing
    {
        return Ok(Outcome::Fail(format!(
            "a request accepting only the GREASE suite {GREASE_SUITE:#06x} was answered {:?} \
             with clients {:?}: expected noCompatibleMaterial, each client nothingCompatible",
            grease.user_status, grease.clients
        )));
    }
    Ok(Outcome::Pass(format!(
        "{target}: suite {:#06x} answered {:?}, every KeyPackage of that suite and the user code \
         matching the client codes; the GREASE suite got noCompatibleMaterial with {} \
         nothingCompatible client(s)",
        mls::SUITE,
        seen[0].1.user_status,
        grease.clients.len()
    )))
}

pub(super) fn query(elements: &[(u8, &str)]) -> Vec<u8> {
    IdentifierRequest {
        query_elements: elements
            .iter()
            .map(|(search_type, value)| QueryElement {
                search_type: *search_type,
                name: Vec::new(),
                search_value: value.to_string(),
            })
            .collect(),
        id_request_extensions: AppDataDictionary::default(),
    }
    .to_bytes()
}

/// identifier-query: a handle finds exactly its user, an unknown handle nothing, two
/// elements must both match, and asking again gives the same answer.
pub async fn check_identifier_query(ctx: &mut Ctx) -> Outcome {
    finish(identifier_query(ctx).await)
}

async fn identifier_query(ctx: &mut Ctx) -> Step<Outcome> {
    let users = target_users(ctx);
    let [first, second, ..] = users.as_slice() else {
        return Ok(Outcome::Skip(
            "identifier-query needs two --users of the provider under test".into(),
        ));
    };
    let nobody = format!("nobody-{}@{}", ctx.room_name("user"), ctx.domain);
    let path = format!("/v1/identifierQuery/{}", ctx.domain);
    let handle = wire::SEARCH_HANDLE;
    // (what, query, expected code, expected URIs)
    let cases: Vec<(String, Vec<u8>, u8, Vec<String>)> = vec![
        (
            format!("handle {first}"),
            query(&[(handle, first)]),
            0,
            vec![first.clone()],
        ),
        (
            format!("handle {nobody}"),
            query(&[(handle, &nobody)]),
            1,
            vec![],
        ),
        (
            format!("handle {first} AND handle {second}"),
            query(&[(handle, first), (handle, second)]),
            1,
            vec![],
        ),
    ];
    let mut answers = Vec::new();
    for (what, body, code, uris) in &cases {
        let mut twice = Vec::new();
        for _ in 0..2 {
            let answer = post(ctx, CAROL, &path, body.clone()).await?;
            let response = IdentifierResponse::from_bytes(&answer.body).map_err(|e| {
                Outcome::Fail(format!(
                    "identifierQuery for {what} answered {} with no IdentifierResponse ({e}): {}",
                    answer.status,
                    text(&answer.body)
                ))
            })?;
            // MIMI-PROTOCOL-5.8-6: success for a match, notFound for none; 5.8-3: all
            // elements must match; 5.8-4: a handle matches exactly.
            if response.response_code != *code || response.uris != *uris {
                return Ok(Outcome::Fail(format!(
                    "identifierQuery for {what} answered code {} with {:?}: expected code {code} \
                     with {uris:?}",
                    response.response_code, response.uris
                )));
            }
            twice.push(response);
        }
        // MIMI-PROTOCOL-5.8-2: no side effects: the same query, the same answer.
        if twice[0] != twice[1] {
            return Ok(Outcome::Fail(format!(
                "identifierQuery for {what} answered differently the second time"
            )));
        }
        answers.push(format!("{what}: code {code}"));
    }
    Ok(Outcome::Pass(format!(
        "{} (each asked twice, the same answer)",
        answers.join("; ")
    )))
}

fn consent(operation: ConsentOperation, requester: &str, target: &str) -> Vec<u8> {
    ConsentEntry {
        operation,
        requester_uri: requester.into(),
        target_uri: target.into(),
        room_id: None,
        client_key_packages: Vec::new(),
        consent_extensions: Default::default(),
    }
    .to_bytes()
}

/// consent-update: a grant for a local requester from the target's provider is 201, for an
/// unknown requester 404, for a target of another provider than the sender's 403; a cancel
/// with nothing to cancel is 201.
pub async fn check_consent_update(ctx: &mut Ctx) -> Outcome {
    finish(consent_update(ctx).await)
}

async fn consent_update(ctx: &mut Ctx) -> Step<Outcome> {
    let Some(local) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to update consent for".into()));
    };
    let nobody = format!("nobody-{}@{}", ctx.room_name("user"), ctx.domain);
    let grant = ConsentOperation::Grant;
    // (what, sent by, path user, body, expected status)
    let cases = [
        (
            format!("a grant by {CAROL} for {local}"),
            CAROL,
            local.clone(),
            consent(grant, &local, CAROL),
            201,
        ),
        (
            format!("a grant by {CAROL} for the unknown {nobody}"),
            CAROL,
            nobody.clone(),
            consent(grant, &nobody, CAROL),
            404,
        ),
        (
            format!(
                "a grant naming {DAVE} (of {}) as target, sent by {}",
                FOLLOWERS[1], FOLLOWERS[0]
            ),
            CAROL,
            local.clone(),
            consent(grant, &local, DAVE),
            403,
        ),
    ];
    let mut seen = Vec::new();
    for (what, sender, user, body, expected) in cases {
        let path = format!("/v1/updateConsent/{user}");
        let answer = post(ctx, sender, &path, body).await?;
        // MIMI-PROTOCOL-5.7-9: 201 when received, 404 for an unknown requester;
        // MIMI-PROTOCOL-5.7-8: the target belongs to the sending provider.
        if answer.status != expected {
            return Ok(Outcome::Fail(format!(
                "updateConsent: {what} answered {} (expected {expected}): {}",
                answer.status,
                text(&answer.body)
            )));
        }
        seen.push(format!("{what}: {expected}"));
    }
    // MIMI-PROTOCOL-5.7-5: a cancel of a request never made is 201 and nothing else.
    let path = format!("/v1/requestConsent/{local}");
    let cancel = consent(ConsentOperation::Cancel, CAROL, &local);
    let answer = post(ctx, CAROL, &path, cancel).await?;
    if answer.status != 201 || !answer.body.is_empty() {
        return Ok(Outcome::Fail(format!(
            "a cancel of a consent request {CAROL} never made answered {} with {} octets \
             (expected 201 and no body)",
            answer.status,
            answer.body.len()
        )));
    }
    seen.push("a cancel with nothing to cancel: 201".into());
    Ok(Outcome::Pass(seen.join("; ")))
}

/// auth-untrusted-certificate: a client certificate naming one of Concord's followers but
/// issued by a CA the provider under test does not trust is refused (in the handshake, or
/// 401/403), on a keyMaterial request that the genuine certificate gets answered.
pub async fn check_auth_untrusted_certificate(ctx: &mut Ctx) -> Outcome {
    finish(auth_untrusted_certificate(ctx).await)
}

async fn auth_untrusted_certificate(ctx: &mut Ctx) -> Step<Outcome> {
    use super::{certs, https, tls};
    let Some(target) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to ask key material of".into()));
    };
    let rogue = ctx.out.join("rogue-ca");
    let follower = FOLLOWERS[0];
    certs::generate(&rogue, &[follower.to_string()]).map_err(|e| {
        Outcome::Skip(format!(
            "cannot make a rogue CA in {}: {e}",
            rogue.display()
        ))
    })?;
    // Trust the real CA for the server; present the rogue CA's certificate for f1.
    let config = (|| -> Result<_, tls::TlsError> {
        let roots = tls::roots(&ctx.tls_dir)?;
        let chain = tls::load_certs(&certs::cert_path(&rogue, follower))?;
        let key = tls::load_key(&certs::key_path(&rogue, follower))?;
        let mut config = rustls::ClientConfig::builder_with_provider(tls::crypto())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls::TlsError::Config(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| tls::TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(std::sync::Arc::new(config))
    })()
    .map_err(|e| Outcome::Skip(format!("cannot load the rogue certificate: {e}")))?;
    let room = ctx.room_name("auth-untrusted-certificate");
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let path = format!("/v1/keyMaterial/{target}");
    let body = key_material_body_for(
        CAROL,
        &target,
        &room,
        vec![CipherSuite(GREASE_SUITE)],
        &mut rng,
    )?;
    let headers = vec![
        ("idempotency-key".to_string(), ctx.fresh_key()),
        ("content-type".to_string(), super::CONTENT_TYPE.to_string()),
    ];
    // MIMI-PROTOCOL-4.1-5: the certificate must authenticate the source provider's domain.
    let rogue_answer = https::call(
        config,
        &ctx.target,
        "POST",
        &path,
        &headers,
        body.clone(),
        ctx.timeout,
    )
    .await;
    let refusal = match rogue_answer {
        Ok(r) if r.status == 401 || r.status == 403 => format!("answered {}", r.status),
        Ok(r) => {
            return Ok(Outcome::Fail(format!(
                "a keyMaterial request presenting a certificate for {follower} from an untrusted \
                 CA was answered {}: {}",
                r.status,
                text(&r.body)
            )));
        }
        Err(e) => {
            if !ctx.alive().await {
                return Err(Outcome::Down(format!(
                    "POST {path} with an untrusted certificate: the server stopped answering"
                )));
            }
            format!("refused in the handshake ({e})")
        }
    };
    // The control: the genuine certificate gets an answer that is no authentication refusal.
    let answer = post(ctx, CAROL, &path, body).await?;
    if matches!(answer.status, 401 | 403) {
        return Ok(Outcome::Fail(format!(
            "the same request with {follower}'s genuine certificate was answered {} too",
            answer.status
        )));
    }
    Ok(Outcome::Pass(format!(
        "the untrusted certificate was {refusal}; the genuine one answered {}",
        answer.status
    )))
}
