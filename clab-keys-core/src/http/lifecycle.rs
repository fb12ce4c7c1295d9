//! The endpoints that change a key in place (contract §6): `POST {mount}/{id}/rotate` replaces
//! it by a new key, `PATCH {mount}/{id}` renames it, narrows its scopes or moves its expiry
//! earlier. Both need a session JWT; rotation, which mints a token, also a recent login when
//! the router asks for one.

use time::Duration;
use time::format_description::well_known::Rfc3339;

use super::body::MAX_BODY_LEN;
use super::management::{
    invalid_name, key_info_json, opt_time, require_recent_login, rfc3339, scopes_json, unavailable,
};
use super::principal::Principal;
use super::response::ApiResponse;
use super::router::CredentialRouter;
use super::wire::{RotateKeyBody, RotatedKeyBody, UpdateKeyBody, json_object};
use crate::service::{KeyUpdate, MAX_ROTATION_GRACE, RotateError, UpdateError};

fn no_such_key() -> ApiResponse {
    ApiResponse::error(404, "not_found", "no such API key")
}

fn key_inactive() -> ApiResponse {
    ApiResponse::error(
        409,
        "key_inactive",
        "the API key is revoked, expired or already replaced",
    )
}

fn too_large() -> ApiResponse {
    ApiResponse::error(413, "payload_too_large", "request body is too large")
}

/// `POST /api/user/api-keys/{id}/rotate`: a new key in the old one's place (JWT session,
/// recent if configured). Checks run in this order: interactive session, recent login, size,
/// JSON shape and grace range, then the service (404, 409 `key_inactive`, 409
/// `key_limit_reached` for a grace period while the user has the most keys in one).
pub(super) async fn rotate_key(
    router: &CredentialRouter,
    principal: &Principal,
    key_id: &str,
    body: &[u8],
) -> ApiResponse {
    if let Err(r) = principal.require_interactive(router.realm()) {
        return r.to_response();
    }
    if let Err(answer) = require_recent_login(router, principal) {
        return answer;
    }
    if body.len() > MAX_BODY_LEN {
        return too_large();
    }
    // No body at all is grace 0, like `{}`.
    let parsed = if body.is_empty() {
        Some(RotateKeyBody::default())
    } else {
        json_object::<RotateKeyBody>(body)
    };
    let max = MAX_ROTATION_GRACE.whole_seconds();
    let grace = match parsed.map(|b| b.grace_seconds.unwrap_or(0)) {
        Some(seconds) if (0..=max).contains(&seconds) => Duration::seconds(seconds),
        _ => {
            return ApiResponse::error(
                400,
                "invalid_request",
                "body must be empty or JSON: {\"grace_seconds\": whole number from 0 to 604800 (optional)}",
            );
        }
    };
    match router
        .keys()
        .rotate(principal.user_id(), key_id, grace)
        .await
    {
        Ok(rotated) => {
            let info = &rotated.key;
            ApiResponse::serialized(
                201,
                &RotatedKeyBody {
                    created_at: rfc3339(info.created_at),
                    expires_at: opt_time(info.expires_at),
                    id: info.key_id.as_str(),
                    name: &info.name,
                    prefix: &info.display_prefix,
                    replaces: rotated.replaces.as_str(),
                    scopes: scopes_json(info),
                    token: rotated.token.expose_secret(),
                },
            )
        }
        Err(RotateError::NotFound) => no_such_key(),
        Err(RotateError::Inactive) => key_inactive(),
        Err(RotateError::GraceLimitReached { limit }) => ApiResponse::error(
            409,
            "key_limit_reached",
            &format!(
                "you already have {limit} API keys in a rotation grace period; revoke one or rotate without a grace period"
            ),
        ),
        Err(RotateError::Store(e)) => {
            tracing::error!(target: "clab_keys", error = %e, "rotating api key failed");
            unavailable(router)
        }
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "rotating api key failed");
            ApiResponse::error(500, "internal_error", "the key could not be created")
        }
    }
}

/// `PATCH /api/user/api-keys/{id}`: changes a key's name, scopes or expiry (JWT session) and
/// answers the key as changed, in the list representation.
pub(super) async fn update_key(
    router: &CredentialRouter,
    principal: &Principal,
    key_id: &str,
    body: &[u8],
) -> ApiResponse {
    if let Err(r) = principal.require_interactive(router.realm()) {
        return r.to_response();
    }
    if body.len() > MAX_BODY_LEN {
        return too_large();
    }
    let body = match json_object::<UpdateKeyBody>(body) {
        Some(b) if b.name.is_some() || b.scopes.is_some() || b.expires_at.is_some() => b,
        _ => {
            return ApiResponse::error(
                400,
                "invalid_request",
                "body must be JSON with at least one of: {\"name\": string, \"scopes\": [string], \"expires_at\": RFC 3339 time}",
            );
        }
    };
    let mut change = KeyUpdate::new();
    if let Some(name) = body.name {
        change = change.name(name);
    }
    if let Some(scopes) = body.scopes {
        change = change.scopes(scopes);
    }
    if let Some(at) = body.expires_at {
        let Ok(at) = time::OffsetDateTime::parse(&at, &Rfc3339) else {
            return invalid_update_expiry();
        };
        change = change.expires_at(at);
    }
    match router
        .keys()
        .update(principal.user_id(), key_id, change)
        .await
    {
        Ok(info) => ApiResponse::serialized(200, &key_info_json(&info)),
        Err(UpdateError::NotFound) => no_such_key(),
        Err(UpdateError::Inactive) => key_inactive(),
        Err(UpdateError::InvalidName) => invalid_name(),
        Err(UpdateError::InvalidScopes) => ApiResponse::error(
            400,
            "invalid_scopes",
            "scopes must be a non-empty list of valid names (A-Z a-z 0-9 : . _ -) within the key's own scopes",
        ),
        Err(UpdateError::InvalidExpiry) => invalid_update_expiry(),
        Err(e) => {
            tracing::error!(target: "clab_keys", error = %e, "updating api key failed");
            unavailable(router)
        }
    }
}

fn invalid_update_expiry() -> ApiResponse {
    ApiResponse::error(
        400,
        "invalid_expiry",
        "expires_at must be an RFC 3339 time in the future, no later than the key's current expiry",
    )
}
