//! Asset downloads through the hub (5.10). proxy-download: the hub proxies asset downloads
//! from its peer providers' asset servers and is no open proxy (MIMI-PROTOCOL-5.10.2-1,
//! 5.10.2-2, 5.10.2-4). ohttp-gateway: the same through the hub's OHTTP Gateway, the
//! request encapsulated by Concord (the client) and relayed by f2 (MIMI-PROTOCOL-5.10.3-1,
//! 5.10.3-2, 5.10.3-3).
//!
//! Concord's follower f1 serves an asset of seeded random bytes at `/assets/{name}` of its
//! domain (its asset server, profile choice 5.10.2-5); f1 and f2 take part in a room on the
//! hub under test.
//!
//! ```text
//!  f2 ──GET proxyDownload/https://f1.example/assets/NAME──> hub ──GET /assets/NAME──> f1
//!     <── 200, the asset's bytes                                (f1's log shows the fetch)
//!  f2 ──GET proxyDownload/https://f1.example/assets/MISSING──> an HTTP error status
//!  f2 ──GET proxyDownload/https://127.0.0.1:PORT/assets/NAME──> refused, and f1 serves
//!  f2 ──GET proxyDownload/https://localhost:PORT/assets/NAME──> nothing more: the same
//!                                 server by another name is no peer's asset server
//!  f2 ──GET /.well-known/ohttp-gateway──> the hub's key configuration
//!  f2 ──POST /ohttp-gateway [GET https://f1.example/assets/NAME]──> [200, the asset]
//!  f2 ──POST /ohttp-gateway [GET https://127.0.0.1:PORT/assets/NAME]──> [refused], no fetch
//! ```

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use super::https::HttpResponse;
use super::ohttp;
use super::ptest::{Ctx, FOLLOWERS, Outcome};
use super::rooms::{Step, finish, room_of_two};
use super::server::{ASSETS_PATH, percent_encode};

/// proxy-download: see the module docs.
pub async fn check_proxy_download(ctx: &mut Ctx) -> Outcome {
    finish(proxy_download(ctx).await)
}

async fn get(ctx: &mut Ctx, as_domain: &str, url: &str) -> Step<HttpResponse> {
    let path = format!("/v1/proxyDownload/{}", percent_encode(url));
    ctx.call(Some(as_domain), "GET", &path, Vec::new())
        .await
        .map_err(|e| Outcome::Down(format!("GET {path}: {e}")))
}

/// How many times f1 has served the asset at `path`.
fn served(ctx: &Ctx, path: &str) -> usize {
    ctx.follower_log(FOLLOWERS[0])
        .iter()
        .filter(|o| o.method == "GET" && o.path == path && o.status == 200)
        .count()
}

/// A room with carol@f1 and dave@f2 for `check`, and an asset of seeded random bytes that
/// f1's asset server serves: the room, f1's port, the asset's path and its content.
async fn room_and_asset(ctx: &mut Ctx, check: &str) -> Step<(String, u16, String, Vec<u8>)> {
    let f1 = FOLLOWERS[0];
    let (room, _carol, _dave) = room_of_two(ctx, check).await?;
    let Some(f1_server) = ctx.followers.iter().find(|f| f.domain == f1) else {
        return Err(Outcome::Fail(format!(
            "Concord's side failed: {f1} is not running"
        )));
    };
    let port = f1_server.server.addr().port();
    let instrument = f1_server.instrument.clone();
    let mut rng = ChaCha20Rng::seed_from_u64(ctx.member_seed());
    let mut content = vec![0u8; 300];
    rng.fill_bytes(&mut content);
    let name = format!("{room}.bin");
    instrument.put_asset(&name, "application/octet-stream", content.clone());
    Ok((room, port, format!("{ASSETS_PATH}{name}"), content))
}

async fn proxy_download(ctx: &mut Ctx) -> Step<Outcome> {
    let (f1, f2) = (FOLLOWERS[0], FOLLOWERS[1]);
    let (room, port, asset_path, content) = room_and_asset(ctx, "proxy-download").await?;

    // The asset of a peer's asset server, through the hub.
    let url = format!("https://{f1}{asset_path}");
    let answer = get(ctx, f2, &url).await?;
    if answer.status != 200 {
        return Ok(Outcome::Fail(format!(
            "GET proxyDownload/{url} (a peer's asset, {f1} being in room {room}) answered {} \
             (expected 200 with the asset: the hub implements proxyDownload, \
             MIMI-PROTOCOL-5.10.2-4): {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )));
    }
    if answer.body != content {
        return Ok(Outcome::Fail(format!(
            "GET proxyDownload/{url} answered 200 with {} bytes that are not the asset's {} \
             (MIMI-PROTOCOL-5.10.2-2)",
            answer.body.len(),
            content.len()
        )));
    }
    let fetched = served(ctx, &asset_path);
    if fetched == 0 {
        return Ok(Outcome::Fail(format!(
            "GET proxyDownload/{url} answered the asset, yet {f1} never served it"
        )));
    }

    // A missing asset: an HTTP error status, not a success.
    let missing = format!("https://{f1}{ASSETS_PATH}{room}-missing.bin");
    let answer = get(ctx, f2, &missing).await?;
    if answer.status < 400 {
        return Ok(Outcome::Fail(format!(
            "GET proxyDownload/{missing} (no such asset on {f1}) answered {} (expected an \
             HTTP error status, MIMI-PROTOCOL-5.10.2-2)",
            answer.status
        )));
    }
    let missing_status = answer.status;

    // The same server by address and by another name: no peer's asset server.
    let mut refused = Vec::new();
    for other in [
        format!("https://127.0.0.1:{port}{asset_path}"),
        format!("https://localhost:{port}{asset_path}"),
    ] {
        let answer = get(ctx, f2, &other).await?;
        let now = served(ctx, &asset_path);
        if now > fetched || (200..300).contains(&answer.status) {
            return Ok(Outcome::Fail(format!(
                "GET proxyDownload/{other} (the host is no peer's asset server: {f1}'s server \
                 by address) answered {} and {f1} served the asset {} more time(s): the hub \
                 is an open proxy (MIMI-PROTOCOL-5.10.2-1)",
                answer.status,
                now - fetched
            )));
        }
        refused.push(format!("{other} {}", answer.status));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {f1}'s asset came through the hub byte for byte ({} bytes), a missing \
         one got {missing_status}, and {} were refused without a fetch",
        content.len(),
        refused.join(", ")
    )))
}

/// ohttp-gateway: see the module docs.
pub async fn check_ohttp_gateway(ctx: &mut Ctx) -> Outcome {
    finish(ohttp_gateway(ctx).await)
}

/// One encapsulated GET of `https://{authority}{path}` through the hub's gateway, relayed
/// by f2: the encapsulated response's status and content, or the outer status when the
/// gateway refused to open the request.
async fn through_gateway(
    ctx: &mut Ctx,
    keys: &[u8],
    authority: &str,
    path: &str,
) -> Step<Result<(u16, Vec<u8>), u16>> {
    let (request, reply) = ohttp::encapsulate_get(keys, authority, path)
        .map_err(|e| Outcome::Fail(format!("Concord's side failed: {e}")))?;
    let answer = ctx
        .call_typed(
            Some(FOLLOWERS[1]),
            "POST",
            ohttp::GATEWAY_PATH,
            ohttp::REQUEST_TYPE,
            request,
        )
        .await
        .map_err(|e| Outcome::Down(format!("POST {}: {e}", ohttp::GATEWAY_PATH)))?;
    if answer.status != 200 {
        return Ok(Err(answer.status));
    }
    ohttp::open_response(reply, &answer.body)
        .map(Ok)
        .map_err(|e| {
            Outcome::Fail(format!(
                "POST {} answered 200 with no encapsulated response for Concord's request: {e}",
                ohttp::GATEWAY_PATH
            ))
        })
}

async fn ohttp_gateway(ctx: &mut Ctx) -> Step<Outcome> {
    let (f1, f2) = (FOLLOWERS[0], FOLLOWERS[1]);
    let (room, port, asset_path, content) = room_and_asset(ctx, "ohttp-gateway").await?;
    let keys = ctx
        .call_typed(Some(f2), "GET", ohttp::KEYS_PATH, "", Vec::new())
        .await
        .map_err(|e| Outcome::Down(format!("GET {}: {e}", ohttp::KEYS_PATH)))?;
    if keys.status != 200 {
        return Ok(Outcome::Fail(format!(
            "GET {} answered {} (expected 200 with the hub's OHTTP key configuration: the hub \
             implements an OHTTP Gateway, MIMI-PROTOCOL-5.10.3-2)",
            ohttp::KEYS_PATH,
            keys.status
        )));
    }

    match through_gateway(ctx, &keys.body, f1, &asset_path).await? {
        Ok((200, body)) if body == content => {}
        Ok((status, body)) => {
            return Ok(Outcome::Fail(format!(
                "an encapsulated GET https://{f1}{asset_path} (a peer's asset) came back {status} \
                 with {} bytes, not the asset's {} (MIMI-PROTOCOL-5.10.3-2)",
                body.len(),
                content.len()
            )));
        }
        Err(status) => {
            return Ok(Outcome::Fail(format!(
                "POST {} with an encapsulated GET https://{f1}{asset_path} answered {status} \
                 (expected 200 with the encapsulated asset, MIMI-PROTOCOL-5.10.3-2)",
                ohttp::GATEWAY_PATH
            )));
        }
    }
    let fetched = served(ctx, &asset_path);
    if fetched == 0 {
        return Ok(Outcome::Fail(format!(
            "the gateway answered the asset, yet {f1} never served it"
        )));
    }
    let mut refused = Vec::new();
    for authority in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let outcome = through_gateway(ctx, &keys.body, &authority, &asset_path).await?;
        let now = served(ctx, &asset_path);
        let status = match outcome {
            Ok((status, _)) | Err(status) => status,
        };
        if now > fetched || (200..300).contains(&status) {
            return Ok(Outcome::Fail(format!(
                "an encapsulated GET https://{authority}{asset_path} (the target is no peer's \
                 asset server: {f1}'s server by address) came back {status} and {f1} served the \
                 asset {} more time(s): the gateway accepts any target (MIMI-PROTOCOL-5.10.3-1)",
                now - fetched
            )));
        }
        refused.push(format!("{authority} {status}"));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {f1}'s asset came back through the hub's OHTTP Gateway byte for byte \
         ({} bytes), relayed by {f2}; targets {} were refused without a fetch",
        content.len(),
        refused.join(", ")
    )))
}
