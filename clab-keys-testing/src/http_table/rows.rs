//! The rows of the HTTP conformance table, and how each is resolved and checked.

use super::fixture::{
    Fixture, JWT_BAD_SIGNATURE, JWT_EXPIRED, JWT_STALE_SESSION, JWT_USER1, JWT_USER2, REALM,
    tamper_checksum, tamper_secret, unknown_key,
};
use super::{HttpHarness, TestRequest, TestResponse};
use clab_keys_core::NewKey;
use clab_keys_core::TokenFormat;
use clab_keys_core::UserId;

/// Which route a row calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `/api/security/users/me`.
    Me,
    /// Any other path, as a template (placeholders as in [`Row::auth`]).
    Other(&'static str),
}

/// What `WWW-Authenticate` must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No `WWW-Authenticate` header at all.
    Absent,
    /// Exactly `Bearer realm="…"`, no error (RFC 6750 §3.1 last paragraph).
    Bare,
    /// `Bearer realm="…", error="<code>", …`.
    Error(&'static str),
}

/// State changed before the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Nothing.
    None,
    /// User 1 gets active keys up to the limit of 10.
    FillToLimit,
    /// The store fails every operation.
    StoreDown,
    /// User 1's `{key}` was rotated with an hour's grace (it works, but is replaced).
    KeyRotated,
    /// User 1 has 10 keys in a rotation grace period, the most allowed (the `runs` key and
    /// each of its successors rotated with an hour's grace); `{key}` is untouched.
    GraceFull,
}

/// A check made after the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Nothing more.
    None,
    /// The JSON field `auth` has this value.
    Auth(&'static str),
    /// The JSON field `user_id` is null.
    NoUser,
    /// The `token` in the (201) body authenticates `/api/security/users/me`, and the response
    /// has `Cache-Control: no-store`.
    CreatedTokenWorks,
    /// The key of this placeholder still authenticates.
    StillWorks(&'static str),
    /// The key of this placeholder no longer authenticates.
    NoLongerWorks(&'static str),
    /// The body is a list of user 1's keys and contains no token or secret.
    ListHidesSecrets,
    /// The (201) body is a rotation of `{key}`: the create shape plus `replaces`, the new
    /// token works, and the old key is revoked with reason `rotated` (`grace: false`) or still
    /// works with an expiry set (`grace: true`); either way its `replaced_by` is the new id.
    Rotated {
        /// Whether a grace period was asked for.
        grace: bool,
    },
    /// The JSON field has this value (JSON text), and the store's key of the same id agrees.
    Field(&'static str, &'static str),
    /// The `WWW-Authenticate` challenge contains this text.
    ChallengeContains(&'static str),
    /// The body is a page of this many of user 1's keys; a `Link` header (`rel="next"`) is
    /// present exactly when `more`; following the links yields all of user 1's keys, once
    /// each, newest first.
    Page {
        /// Keys on this page.
        len: usize,
        /// Whether a next page is announced.
        more: bool,
    },
    /// Nothing changed in the store: user 1 and user 2 hold the fixture's keys as made.
    Unchanged,
    /// The JSON field `message` is exactly this text.
    Message(&'static str),
}

/// One row: a request and its exact expected answer.
///
/// `auth`, `path` and `body` are templates. Placeholders: `{key}`, `{scoped_key}`,
/// `{other_scope_key}`, `{revoked_key}`, `{expired_key}`, `{other_user_key}`,
/// `{tampered_checksum}`, `{tampered_secret}`, `{unknown_key}`, `{truncated_key}`,
/// `{case_flipped_key}`, `{keys_read_key}`, `{jwt}`, `{jwt2}`, `{jwt_expired}`,
/// `{jwt_bad_signature}`, `{jwt_stale}` (a login an hour old), `{huge}` (5,000 characters),
/// `{oversized}` (17,000 characters), `{huge_key}` (a key prefix and 300 characters),
/// `{long_name}` (101 characters), and `{key_id}`, `{scoped_key_id}`, `{revoked_key_id}`,
/// `{expired_key_id}`, `{other_user_key_id}` (ids only).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Row {
    /// A name saying what the row proves.
    pub name: &'static str,
    /// The method.
    pub method: &'static str,
    /// The route.
    pub path: Path,
    /// `Authorization` lines.
    pub auth: &'static [&'static str],
    /// A JSON body.
    pub body: Option<&'static str>,
    /// State changed first.
    pub setup: Setup,
    /// Expected status.
    pub status: u16,
    /// Expected challenge.
    pub challenge: Challenge,
    /// Expected JSON `error` code, when the status is an error.
    pub error: Option<&'static str>,
    /// Expected `Allow` header (`None`: no `Allow` header at all).
    pub allow: Option<&'static str>,
    /// Extra check.
    pub after: After,
}

const fn row(
    name: &'static str,
    method: &'static str,
    path: Path,
    auth: &'static [&'static str],
    status: u16,
    challenge: Challenge,
    error: Option<&'static str>,
) -> Row {
    Row {
        name,
        method,
        path,
        auth,
        body: None,
        setup: Setup::None,
        status,
        challenge,
        error,
        allow: None,
        after: After::None,
    }
}

impl Row {
    const fn body(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self
    }
    const fn setup(mut self, setup: Setup) -> Self {
        self.setup = setup;
        self
    }
    const fn after(mut self, after: After) -> Self {
        self.after = after;
        self
    }
    const fn allow(mut self, allow: &'static str) -> Self {
        self.allow = Some(allow);
        self
    }
}

use Challenge::{Absent, Bare, Error};

const ME: Path = Path::Me;
const KEYS: Path = Path::Other("/api/user/api-keys");
const KEYS_SLASH: Path = Path::Other("/api/user/api-keys/");
const KEYS_NESTED: Path = Path::Other("/api/user/api-keys/a/b");
const KEY: Path = Path::Other("/api/user/api-keys/{key_id}");
const SCOPED_KEY: Path = Path::Other("/api/user/api-keys/{scoped_key_id}");
const ROTATE: Path = Path::Other("/api/user/api-keys/{key_id}/rotate");
/// A slash encoded inside the id: decoded, it is a nested path.
const KEY_ENCODED_SLASH: Path = Path::Other("/api/user/api-keys/a%2Fb");
/// Bytes that are not UTF-8 once decoded, then more path.
const KEY_BAD_UTF8_NESTED: Path = Path::Other("/api/user/api-keys/%FF/x");
/// Bytes that are not UTF-8 once decoded: an id that names no key.
const KEY_BAD_UTF8: Path = Path::Other("/api/user/api-keys/%FF");
const IR: Challenge = Error("invalid_request");
const IT: Challenge = Error("invalid_token");
const IS: Challenge = Error("insufficient_scope");
const OK: Challenge = Absent;

/// The table.
pub fn rows() -> Vec<Row> {
    vec![
        // Header parsing and credential routing (contract §5, H-1 … H-9).
        row(
            "missing_header_is_bare_401",
            "GET",
            ME,
            &[],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "empty_header_is_bare_401",
            "GET",
            ME,
            &[""],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "whitespace_header_is_bare_401",
            "GET",
            ME,
            &["   "],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "basic_scheme_is_bare_401",
            "GET",
            ME,
            &["Basic dXNlcjpwYXNz"],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "token_scheme_is_bare_401",
            "GET",
            ME,
            &["Token {key}"],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "valid_key_is_accepted",
            "GET",
            ME,
            &["Bearer {key}"],
            200,
            OK,
            None,
        )
        .after(After::Auth("api_key")),
        row(
            "lowercase_scheme_is_accepted",
            "GET",
            ME,
            &["bearer {key}"],
            200,
            OK,
            None,
        )
        .after(After::Auth("api_key")),
        row(
            "uppercase_scheme_is_accepted",
            "GET",
            ME,
            &["BEARER {key}"],
            200,
            OK,
            None,
        ),
        row(
            "mixed_case_scheme_is_accepted",
            "GET",
            ME,
            &["bEaReR {key}"],
            200,
            OK,
            None,
        ),
        row(
            "several_spaces_are_accepted",
            "GET",
            ME,
            &["Bearer    {key}"],
            200,
            OK,
            None,
        ),
        row(
            "surrounding_spaces_are_trimmed",
            "GET",
            ME,
            &["  Bearer {key}  "],
            200,
            OK,
            None,
        ),
        row(
            "tab_separator_is_invalid_request",
            "GET",
            ME,
            &["Bearer\t{key}"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "scheme_without_token_is_invalid_request",
            "GET",
            ME,
            &["Bearer"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "scheme_and_space_only_is_invalid_request",
            "GET",
            ME,
            &["Bearer "],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "bad_scheme_character_is_invalid_request",
            "GET",
            ME,
            &["Bea(rer {key}"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "two_identical_lines_are_invalid_request",
            "GET",
            ME,
            &["Bearer {key}", "Bearer {key}"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "two_different_lines_are_invalid_request",
            "GET",
            ME,
            &["Bearer {key}", "Bearer {jwt}"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "comma_joined_credentials_are_invalid_request",
            "GET",
            ME,
            &["Bearer {key}, Bearer {jwt}"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "trailing_word_is_invalid_request",
            "GET",
            ME,
            &["Bearer {key} extra"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "oversized_token_is_invalid_token",
            "GET",
            ME,
            &["Bearer {huge}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "oversized_key_is_invalid_token",
            "GET",
            ME,
            &["Bearer {huge_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "non_ascii_token_is_invalid_token",
            "GET",
            ME,
            &["Bearer clab_user_\u{e9}t\u{e9}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "quoted_token_is_invalid_token",
            "GET",
            ME,
            &["Bearer \"{key}\""],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "tampered_checksum_is_invalid_token",
            "GET",
            ME,
            &["Bearer {tampered_checksum}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "tampered_secret_is_invalid_token",
            "GET",
            ME,
            &["Bearer {tampered_secret}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "truncated_key_is_invalid_token",
            "GET",
            ME,
            &["Bearer {truncated_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "case_flipped_key_is_invalid_token",
            "GET",
            ME,
            &["Bearer {case_flipped_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "unknown_key_is_invalid_token",
            "GET",
            ME,
            &["Bearer {unknown_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "revoked_key_is_invalid_token",
            "GET",
            ME,
            &["Bearer {revoked_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "expired_key_is_invalid_token",
            "GET",
            ME,
            &["Bearer {expired_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "unconfigured_prefix_is_invalid_token",
            "GET",
            ME,
            &["Bearer clab_agent_AAAAAAAA"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "neither_key_nor_jwt_is_invalid_token",
            "GET",
            ME,
            &["Bearer abc"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "valid_jwt_is_accepted",
            "GET",
            ME,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::Auth("jwt")),
        row(
            "expired_jwt_is_invalid_token",
            "GET",
            ME,
            &["Bearer {jwt_expired}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "bad_signature_jwt_is_invalid_token",
            "GET",
            ME,
            &["Bearer {jwt_bad_signature}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "query_token_alone_is_not_read",
            "GET",
            Path::Other("/api/security/users/me?access_token={key}"),
            &[],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "store_down_is_503_not_401",
            "GET",
            ME,
            &["Bearer {key}"],
            503,
            Absent,
            Some("temporarily_unavailable"),
        )
        .setup(Setup::StoreDown),
        row(
            "store_down_does_not_stop_jwt",
            "GET",
            ME,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .setup(Setup::StoreDown),
        // Optional credentials: missing is fine, presented-but-bad is not.
        row(
            "optional_without_credential_is_anonymous",
            "GET",
            Path::Other("/api/optional"),
            &[],
            200,
            OK,
            None,
        )
        .after(After::NoUser),
        row(
            "optional_with_bad_token_is_rejected",
            "GET",
            Path::Other("/api/optional"),
            &["Bearer {unknown_key}"],
            401,
            IT,
            Some("invalid_token"),
        ),
        row(
            "optional_with_malformed_header_is_rejected",
            "GET",
            Path::Other("/api/optional"),
            &["Bearer"],
            400,
            IR,
            Some("invalid_request"),
        ),
        row(
            "optional_with_valid_key_is_the_user",
            "GET",
            Path::Other("/api/optional"),
            &["Bearer {key}"],
            200,
            OK,
            None,
        ),
        // Scopes and interactive-only routes.
        row(
            "scoped_key_with_scope_is_accepted",
            "GET",
            Path::Other("/api/scoped"),
            &["Bearer {scoped_key}"],
            200,
            OK,
            None,
        ),
        row(
            "scoped_key_without_scope_is_403",
            "GET",
            Path::Other("/api/scoped"),
            &["Bearer {other_scope_key}"],
            403,
            IS,
            Some("insufficient_scope"),
        ),
        row(
            "unscoped_key_may_use_any_scope",
            "GET",
            Path::Other("/api/scoped"),
            &["Bearer {key}"],
            200,
            OK,
            None,
        ),
        row(
            "jwt_may_use_any_scope",
            "GET",
            Path::Other("/api/scoped"),
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        ),
        row(
            "api_key_on_interactive_route_is_403",
            "GET",
            Path::Other("/api/interactive"),
            &["Bearer {key}"],
            403,
            IS,
            Some("interactive_session_required"),
        ),
        row(
            "jwt_on_interactive_route_is_accepted",
            "GET",
            Path::Other("/api/interactive"),
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        ),
        // Management endpoints (contract §6).
        row(
            "create_with_jwt_returns_token_once",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{"name":"ci"}"#)
        .after(After::CreatedTokenWorks),
        row(
            "create_with_expiry_and_scopes",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{"name":"ci","expires_in_days":30,"scopes":["projects:read"]}"#)
        .after(After::CreatedTokenWorks),
        row(
            "create_with_api_key_is_403",
            "POST",
            KEYS,
            &["Bearer {key}"],
            403,
            IS,
            Some("interactive_session_required"),
        )
        .body(r#"{"name":"minted"}"#),
        row(
            "create_without_credentials_is_401",
            "POST",
            KEYS,
            &[],
            401,
            Bare,
            Some("unauthorized"),
        )
        .body(r#"{"name":"ci"}"#),
        row(
            "create_with_expired_jwt_is_401",
            "POST",
            KEYS,
            &["Bearer {jwt_expired}"],
            401,
            IT,
            Some("invalid_token"),
        )
        .body(r#"{"name":"ci"}"#),
        row(
            "create_with_malformed_json_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"name": "#),
        row(
            "create_with_unknown_field_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"name":"ci","expires_in_day":3}"#),
        row(
            "create_with_empty_name_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":""}"#),
        row(
            "create_with_blank_name_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"   "}"#),
        row(
            "create_with_long_name_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"{long_name}"}"#),
        row(
            "create_with_control_character_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"a\u0007b"}"#),
        row(
            "create_with_right_to_left_override_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"evil\u202egpj.exe"}"#),
        row(
            "create_with_zero_width_space_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"a\u200bb"}"#),
        row(
            "create_with_line_separator_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"a\u2028b"}"#),
        row(
            "create_with_nothing_visible_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"\u0301\u3000"}"#),
        row(
            "create_with_zero_days_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_expiry"),
        )
        .body(r#"{"name":"ci","expires_in_days":0}"#),
        row(
            "create_with_negative_days_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_expiry"),
        )
        .body(r#"{"name":"ci","expires_in_days":-1}"#),
        row(
            "create_with_bad_scope_is_400",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_scopes"),
        )
        .body(r#"{"name":"ci","scopes":["has space"]}"#),
        row(
            "create_at_limit_is_409",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            409,
            Absent,
            Some("key_limit_reached"),
        )
        .body(r#"{"name":"one too many"}"#)
        .setup(Setup::FillToLimit),
        row(
            "create_with_store_down_is_503",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            503,
            Absent,
            Some("temporarily_unavailable"),
        )
        .body(r#"{"name":"ci"}"#)
        .setup(Setup::StoreDown),
        row(
            "list_with_jwt_hides_secrets",
            "GET",
            KEYS,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::ListHidesSecrets),
        row(
            "list_with_api_key_is_allowed",
            "GET",
            KEYS,
            &["Bearer {key}"],
            200,
            OK,
            None,
        )
        .after(After::ListHidesSecrets),
        row(
            "list_without_credentials_is_401",
            "GET",
            KEYS,
            &[],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "list_with_store_down_is_503",
            "GET",
            KEYS,
            &["Bearer {jwt}"],
            503,
            Absent,
            Some("temporarily_unavailable"),
        )
        .setup(Setup::StoreDown),
        row(
            "revoke_own_key_with_jwt_is_204",
            "DELETE",
            Path::Other("/api/user/api-keys/{key_id}"),
            &["Bearer {jwt}"],
            204,
            OK,
            None,
        )
        .after(After::NoLongerWorks("{key}")),
        row(
            "revoke_is_idempotent",
            "DELETE",
            Path::Other("/api/user/api-keys/{revoked_key_id}"),
            &["Bearer {jwt}"],
            204,
            OK,
            None,
        ),
        row(
            "revoke_with_api_key_is_403",
            "DELETE",
            Path::Other("/api/user/api-keys/{key_id}"),
            &["Bearer {key}"],
            403,
            IS,
            Some("interactive_session_required"),
        )
        .after(After::StillWorks("{key}")),
        row(
            "revoke_other_users_key_is_404",
            "DELETE",
            Path::Other("/api/user/api-keys/{other_user_key_id}"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .after(After::StillWorks("{other_user_key}")),
        row(
            "revoke_unknown_key_is_404",
            "DELETE",
            Path::Other("/api/user/api-keys/zzzzzzzz"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_malformed_id_is_404",
            "DELETE",
            Path::Other("/api/user/api-keys/not-a-key"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_without_credentials_is_401",
            "DELETE",
            Path::Other("/api/user/api-keys/{key_id}"),
            &[],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "revoke_with_other_users_jwt_is_404",
            "DELETE",
            Path::Other("/api/user/api-keys/{key_id}"),
            &["Bearer {jwt2}"],
            404,
            Absent,
            Some("not_found"),
        )
        .after(After::StillWorks("{key}")),
        // Management edges (contract §6): core routes the method and the path below the mount
        // point before authentication, so every adapter gives the same JSON 404 for paths that
        // name no endpoint and the same JSON 405 with `Allow` for a wrong method, whatever the
        // credential.
        row(
            "collection_with_trailing_slash_is_404",
            "GET",
            KEYS_SLASH,
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "collection_with_trailing_slash_without_credentials_is_404",
            "GET",
            KEYS_SLASH,
            &[],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_without_id_is_404",
            "DELETE",
            KEYS_SLASH,
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_without_id_without_credentials_is_404",
            "DELETE",
            KEYS_SLASH,
            &[],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_nested_path_is_404",
            "DELETE",
            KEYS_NESTED,
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_nested_path_without_credentials_is_404",
            "DELETE",
            KEYS_NESTED,
            &[],
            404,
            Absent,
            Some("not_found"),
        ),
        // Percent-encoded ids: core decodes the raw path, so both frameworks see the same id.
        row(
            "revoke_encoded_slash_is_404_before_authentication",
            "DELETE",
            KEY_ENCODED_SLASH,
            &[],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_bad_utf8_then_more_path_is_404_before_authentication",
            "DELETE",
            KEY_BAD_UTF8_NESTED,
            &[],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "revoke_bad_utf8_id_needs_a_credential",
            "DELETE",
            KEY_BAD_UTF8,
            &[],
            401,
            Bare,
            Some("unauthorized"),
        ),
        row(
            "revoke_bad_utf8_id_is_not_found",
            "DELETE",
            KEY_BAD_UTF8,
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        row(
            "head_on_collection_is_get_without_its_body",
            "HEAD",
            KEYS,
            &["Bearer {jwt}"],
            200,
            Absent,
            None,
        ),
        row(
            "put_on_collection_is_405",
            "PUT",
            KEYS,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .body(r#"{"name":"ci"}"#)
        .allow("GET, HEAD, POST"),
        row(
            "put_on_collection_without_credentials_is_405",
            "PUT",
            KEYS,
            &[],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("GET, HEAD, POST"),
        row(
            "put_on_collection_with_bad_token_is_405",
            "PUT",
            KEYS,
            &["Bearer {unknown_key}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("GET, HEAD, POST"),
        row(
            "delete_on_collection_is_405",
            "DELETE",
            KEYS,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("GET, HEAD, POST"),
        row(
            "get_on_key_is_405",
            "GET",
            KEY,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("DELETE, PATCH"),
        row(
            "get_on_key_without_credentials_is_405",
            "GET",
            KEY,
            &[],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("DELETE, PATCH"),
        row(
            "post_on_key_is_405",
            "POST",
            KEY,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .body(r#"{"name":"ci"}"#)
        .allow("DELETE, PATCH"),
        row(
            "list_with_query_string_is_the_collection",
            "GET",
            Path::Other("/api/user/api-keys?page=2"),
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::ListHidesSecrets),
        row(
            "revoke_with_query_string_is_the_key",
            "DELETE",
            Path::Other("/api/user/api-keys/{key_id}?confirm=1"),
            &["Bearer {jwt}"],
            204,
            OK,
            None,
        )
        .after(After::NoLongerWorks("{key}")),
        // Rotation (contract §6): POST {mount}/{id}/rotate.
        row(
            "rotate_without_body_revokes_the_old_key",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .after(After::Rotated { grace: false }),
        row(
            "rotate_with_empty_object_is_grace_zero",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{}"#)
        .after(After::Rotated { grace: false }),
        row(
            "rotate_with_null_grace_is_grace_zero",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{"grace_seconds":null}"#)
        .after(After::Rotated { grace: false }),
        row(
            "rotate_with_grace_keeps_the_old_key_working",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{"grace_seconds":3600}"#)
        .after(After::Rotated { grace: true }),
        row(
            "rotate_with_seven_days_grace_is_accepted",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{"grace_seconds":604800}"#)
        .after(After::Rotated { grace: true }),
        row(
            "rotate_without_credentials_is_401",
            "POST",
            ROTATE,
            &[],
            401,
            Bare,
            Some("unauthorized"),
        )
        .after(After::Unchanged),
        row(
            "rotate_with_api_key_is_403",
            "POST",
            ROTATE,
            &["Bearer {key}"],
            403,
            IS,
            Some("interactive_session_required"),
        )
        .after(After::Unchanged),
        row(
            "rotate_with_stale_session_needs_a_new_login",
            "POST",
            ROTATE,
            &["Bearer {jwt_stale}"],
            403,
            Error("insufficient_user_authentication"),
            Some("reauthentication_required"),
        )
        .body(r#"{"grace_seconds":60}"#)
        .after(After::Unchanged),
        row(
            "rotate_unknown_key_is_404",
            "POST",
            Path::Other("/api/user/api-keys/zzzzzzzz/rotate"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .after(After::Unchanged),
        row(
            "rotate_other_users_key_is_404",
            "POST",
            Path::Other("/api/user/api-keys/{other_user_key_id}/rotate"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .after(After::Unchanged),
        row(
            "rotate_revoked_key_is_409",
            "POST",
            Path::Other("/api/user/api-keys/{revoked_key_id}/rotate"),
            &["Bearer {jwt}"],
            409,
            Absent,
            Some("key_inactive"),
        )
        .after(After::Unchanged),
        row(
            "rotate_expired_key_is_409",
            "POST",
            Path::Other("/api/user/api-keys/{expired_key_id}/rotate"),
            &["Bearer {jwt}"],
            409,
            Absent,
            Some("key_inactive"),
        )
        .after(After::Unchanged),
        row(
            "rotate_replaced_key_is_409",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            409,
            Absent,
            Some("key_inactive"),
        )
        .setup(Setup::KeyRotated)
        .after(After::StillWorks("{key}")),
        row(
            "rotate_with_grace_at_the_grace_limit_is_409",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            409,
            Absent,
            Some("key_limit_reached"),
        )
        .body(r#"{"grace_seconds":3600}"#)
        .setup(Setup::GraceFull)
        .after(After::Message(
            "you already have 10 API keys in a rotation grace period; revoke one or rotate without a grace period",
        )),
        row(
            "rotate_without_grace_at_the_grace_limit_succeeds",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            201,
            OK,
            None,
        )
        .body(r#"{"grace_seconds":0}"#)
        .setup(Setup::GraceFull)
        .after(After::Rotated { grace: false }),
        row(
            "rotate_with_negative_grace_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"grace_seconds":-1}"#)
        .after(After::Unchanged),
        row(
            "rotate_with_grace_over_seven_days_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"grace_seconds":604801}"#)
        .after(After::Unchanged),
        row(
            "rotate_with_fractional_grace_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"grace_seconds":1.5}"#)
        .after(After::Unchanged),
        row(
            "rotate_with_string_grace_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"grace_seconds":"60"}"#)
        .after(After::Unchanged),
        row(
            "rotate_with_unknown_field_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"grace":60}"#)
        .after(After::Unchanged),
        row(
            "rotate_with_malformed_body_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"grace_seconds":"#)
        .after(After::Unchanged),
        row(
            "rotate_with_array_body_is_invalid_request",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"[]"#)
        .after(After::Unchanged),
        row(
            "rotate_with_oversized_body_is_413",
            "POST",
            ROTATE,
            &["Bearer {jwt}"],
            413,
            Absent,
            Some("payload_too_large"),
        )
        .body(r#"{"grace_seconds":"{oversized}"}"#)
        .after(After::Unchanged),
        row(
            "get_on_rotate_is_405",
            "GET",
            ROTATE,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("POST"),
        row(
            // A HEAD answer has no body to read the code from.
            "head_on_rotate_is_405",
            "HEAD",
            ROTATE,
            &["Bearer {jwt}"],
            405,
            Absent,
            None,
        )
        .allow("POST"),
        row(
            "delete_on_rotate_without_credentials_is_405",
            "DELETE",
            ROTATE,
            &[],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .allow("POST"),
        row(
            "unknown_action_on_key_is_404",
            "POST",
            Path::Other("/api/user/api-keys/{key_id}/renew"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .after(After::Unchanged),
        row(
            "rotate_with_trailing_slash_is_404",
            "POST",
            Path::Other("/api/user/api-keys/{key_id}/rotate/"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .after(After::Unchanged),
        row(
            "rotate_of_an_empty_id_is_404",
            "POST",
            Path::Other("/api/user/api-keys//rotate"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        ),
        // Updating a key in place (contract §6): PATCH {mount}/{id}.
        row(
            "patch_name_renames_the_key",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .body(r#"{"name":"  laptop  "}"#)
        .after(After::Field("name", r#""laptop""#)),
        row(
            "patch_scopes_limit_an_unrestricted_key",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .body(r#"{"scopes":["projects:read"]}"#)
        .after(After::Field("scopes", r#"["projects:read"]"#)),
        row(
            "patch_scopes_narrow_within_the_key_own",
            "PATCH",
            SCOPED_KEY,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .body(r#"{"scopes":["projects:read"],"name":"scoped"}"#)
        .after(After::Field("scopes", r#"["projects:read"]"#)),
        row(
            "patch_expires_at_sets_an_earlier_expiry",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .body(r#"{"expires_at":"2030-06-01T12:00:00+02:00"}"#)
        .after(After::Field(
            "expires_at",
            r#""2030-06-01T10:00:00.000000Z""#,
        )),
        row(
            "patch_with_stale_session_is_allowed",
            "PATCH",
            KEY,
            &["Bearer {jwt_stale}"],
            200,
            OK,
            None,
        )
        .body(r#"{"name":"renamed"}"#)
        .after(After::Field("name", r#""renamed""#)),
        row(
            "patch_scopes_cannot_widen_a_scoped_key",
            "PATCH",
            SCOPED_KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_scopes"),
        )
        .body(r#"{"scopes":["projects:read","runs:write"]}"#)
        .after(After::Unchanged),
        row(
            "patch_empty_scopes_is_invalid_scopes",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_scopes"),
        )
        .body(r#"{"scopes":[]}"#)
        .after(After::Unchanged),
        row(
            "patch_bad_scope_name_is_invalid_scopes",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_scopes"),
        )
        .body(r#"{"scopes":["no spaces"]}"#)
        .after(After::Unchanged),
        row(
            "patch_long_name_is_invalid_name",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"{long_name}"}"#)
        .after(After::Unchanged),
        row(
            "patch_blank_name_is_invalid_name",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_name"),
        )
        .body(r#"{"name":"   "}"#)
        .after(After::Unchanged),
        row(
            "patch_past_expiry_is_invalid_expiry",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_expiry"),
        )
        .body(r#"{"expires_at":"2020-01-01T00:00:00Z"}"#)
        .after(After::Unchanged),
        row(
            "patch_expiry_not_rfc3339_is_invalid_expiry",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_expiry"),
        )
        .body(r#"{"expires_at":"next tuesday"}"#)
        .after(After::Unchanged),
        row(
            "patch_empty_object_is_invalid_request",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{}"#)
        .after(After::Unchanged),
        row(
            "patch_only_nulls_is_invalid_request",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"name":null}"#)
        .after(After::Unchanged),
        row(
            "patch_unknown_field_is_invalid_request",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"name":"x","revoked_at":null}"#)
        .after(After::Unchanged),
        row(
            "patch_wrong_type_is_invalid_request",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"{"name":5}"#)
        .after(After::Unchanged),
        row(
            "patch_without_body_is_invalid_request",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .after(After::Unchanged),
        row(
            "patch_with_oversized_body_is_413",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            413,
            Absent,
            Some("payload_too_large"),
        )
        .body(r#"{"name":"{oversized}"}"#)
        .after(After::Unchanged),
        row(
            "patch_without_credentials_is_401",
            "PATCH",
            KEY,
            &[],
            401,
            Bare,
            Some("unauthorized"),
        )
        .body(r#"{"name":"x"}"#)
        .after(After::Unchanged),
        row(
            "patch_with_api_key_is_403",
            "PATCH",
            KEY,
            &["Bearer {key}"],
            403,
            IS,
            Some("interactive_session_required"),
        )
        .body(r#"{"name":"x"}"#)
        .after(After::Unchanged),
        row(
            "patch_unknown_key_is_404",
            "PATCH",
            Path::Other("/api/user/api-keys/zzzzzzzz"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .body(r#"{"name":"x"}"#)
        .after(After::Unchanged),
        row(
            "patch_other_users_key_is_404",
            "PATCH",
            Path::Other("/api/user/api-keys/{other_user_key_id}"),
            &["Bearer {jwt}"],
            404,
            Absent,
            Some("not_found"),
        )
        .body(r#"{"name":"x"}"#)
        .after(After::Unchanged),
        row(
            "patch_revoked_key_is_409",
            "PATCH",
            Path::Other("/api/user/api-keys/{revoked_key_id}"),
            &["Bearer {jwt}"],
            409,
            Absent,
            Some("key_inactive"),
        )
        .body(r#"{"name":"x"}"#)
        .after(After::Unchanged),
        row(
            "put_on_key_is_405",
            "PUT",
            KEY,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .body(r#"{"name":"x"}"#)
        .allow("DELETE, PATCH"),
        row(
            "patch_on_collection_is_405",
            "PATCH",
            KEYS,
            &["Bearer {jwt}"],
            405,
            Absent,
            Some("method_not_allowed"),
        )
        .body(r#"{"name":"x"}"#)
        .allow("GET, HEAD, POST"),
        row(
            "patch_array_body_is_invalid_request",
            "PATCH",
            KEY,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"["renamed"]"#)
        .after(After::Unchanged),
        row(
            "create_with_array_body_is_invalid_request",
            "POST",
            KEYS,
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        )
        .body(r#"["ci"]"#)
        .after(After::Unchanged),
        // Pages of the list (contract §6): limit, cursor, Link.
        row(
            "list_with_limit_links_the_next_page",
            "GET",
            Path::Other("/api/user/api-keys?limit=2"),
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::Page { len: 2, more: true }),
        row(
            "list_pages_of_one_reach_every_key",
            "GET",
            Path::Other("/api/user/api-keys?limit=1"),
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::Page { len: 1, more: true }),
        row(
            "list_with_room_to_spare_has_no_link",
            "GET",
            Path::Other("/api/user/api-keys?limit=100"),
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::Page {
            len: 6,
            more: false,
        }),
        row(
            "list_without_limit_has_no_link",
            "GET",
            KEYS,
            &["Bearer {jwt}"],
            200,
            OK,
            None,
        )
        .after(After::Page {
            len: 6,
            more: false,
        }),
        row(
            "list_with_keys_read_key_pages_too",
            "GET",
            Path::Other("/api/user/api-keys?limit=4"),
            &["Bearer {keys_read_key}"],
            200,
            OK,
            None,
        )
        .after(After::Page { len: 4, more: true }),
        row(
            "list_with_zero_limit_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit=0"),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_limit_over_100_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit=101"),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_non_numeric_limit_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit=ten"),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_signed_limit_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit=%2B5"),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_empty_limit_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit="),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_repeated_limit_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit=2&limit=3"),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_bad_cursor_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?cursor=page-2"),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_empty_cursor_is_invalid_request",
            "GET",
            Path::Other("/api/user/api-keys?limit=2&cursor="),
            &["Bearer {jwt}"],
            400,
            Absent,
            Some("invalid_request"),
        ),
        row(
            "list_with_bad_limit_needs_a_credential_first",
            "GET",
            Path::Other("/api/user/api-keys?limit=0"),
            &[],
            401,
            Bare,
            Some("unauthorized"),
        ),
        // keys:read: a scoped key lists keys only with it (contract §6).
        row(
            "list_with_scoped_key_without_keys_read_is_403",
            "GET",
            KEYS,
            &["Bearer {scoped_key}"],
            403,
            IS,
            Some("insufficient_scope"),
        )
        .after(After::ChallengeContains(r#"scope="keys:read""#)),
        row(
            "list_with_keys_read_key_is_allowed",
            "GET",
            KEYS,
            &["Bearer {keys_read_key}"],
            200,
            OK,
            None,
        )
        .after(After::ListHidesSecrets),
        // Re-authentication for create and rotate (contract §6).
        row(
            "create_with_stale_session_needs_a_new_login",
            "POST",
            KEYS,
            &["Bearer {jwt_stale}"],
            403,
            Error("insufficient_user_authentication"),
            Some("reauthentication_required"),
        )
        .body(r#"{"name":"ci"}"#)
        .after(After::Unchanged),
        row(
            "reauthentication_challenge_gives_the_max_age",
            "POST",
            KEYS,
            &["Bearer {jwt_stale}"],
            403,
            Error("insufficient_user_authentication"),
            Some("reauthentication_required"),
        )
        .body(r#"{"name":"ci"}"#)
        .after(After::ChallengeContains("max_age=900")),
        row(
            "list_with_stale_session_is_allowed",
            "GET",
            KEYS,
            &["Bearer {jwt_stale}"],
            200,
            OK,
            None,
        )
        .after(After::ListHidesSecrets),
        row(
            "revoke_with_stale_session_is_allowed",
            "DELETE",
            KEY,
            &["Bearer {jwt_stale}"],
            204,
            OK,
            None,
        )
        .after(After::NoLongerWorks("{key}")),
    ]
}

fn placeholders(f: &Fixture) -> Vec<(&'static str, String)> {
    let truncated = f.key[..f.key.len() - 1].to_owned();
    let mut flipped = f.key.clone().into_bytes();
    if let Some(c) = flipped[10..].iter_mut().find(|c| c.is_ascii_alphabetic()) {
        *c ^= 0x20;
    }
    vec![
        ("{key_id}", Fixture::id_of(&f.key).to_owned()),
        ("{scoped_key_id}", Fixture::id_of(&f.scoped_key).to_owned()),
        (
            "{expired_key_id}",
            Fixture::id_of(&f.expired_key).to_owned(),
        ),
        (
            "{revoked_key_id}",
            Fixture::id_of(&f.revoked_key).to_owned(),
        ),
        (
            "{other_user_key_id}",
            Fixture::id_of(&f.other_user_key).to_owned(),
        ),
        ("{key}", f.key.clone()),
        ("{scoped_key}", f.scoped_key.clone()),
        ("{other_scope_key}", f.other_scope_key.clone()),
        ("{keys_read_key}", f.keys_read_key.clone()),
        ("{revoked_key}", f.revoked_key.clone()),
        ("{expired_key}", f.expired_key.clone()),
        ("{other_user_key}", f.other_user_key.clone()),
        ("{tampered_checksum}", tamper_checksum(&f.key)),
        ("{tampered_secret}", tamper_secret(&f.key)),
        ("{unknown_key}", unknown_key()),
        ("{truncated_key}", truncated),
        (
            "{case_flipped_key}",
            String::from_utf8(flipped).unwrap_or_default(),
        ),
        ("{jwt2}", JWT_USER2.to_owned()),
        ("{jwt_expired}", JWT_EXPIRED.to_owned()),
        ("{jwt_bad_signature}", JWT_BAD_SIGNATURE.to_owned()),
        ("{jwt_stale}", JWT_STALE_SESSION.to_owned()),
        ("{jwt}", JWT_USER1.to_owned()),
        (
            "{huge_key}",
            format!("clab_user_{}", "A".repeat(300 + TokenFormat::MAX_TOKEN_LEN)),
        ),
        ("{huge}", "a".repeat(5_000)),
        ("{oversized}", "a".repeat(17_000)),
        ("{long_name}", "n".repeat(101)),
    ]
}

fn fill(template: &str, f: &Fixture) -> String {
    let mut s = template.to_owned();
    for (k, v) in placeholders(f) {
        s = s.replace(k, &v);
    }
    s
}

pub(super) fn resolve(row: &Row, f: &Fixture) -> TestRequest {
    let path = match row.path {
        Path::Me => "/api/security/users/me".to_owned(),
        Path::Other(p) => fill(p, f),
    };
    TestRequest {
        method: row.method,
        path,
        authorization: row.auth.iter().map(|a| fill(a, f).into_bytes()).collect(),
        body: row.body.map(|b| fill(b, f).into_bytes()),
    }
}

pub(super) async fn apply_setup(row: &Row, f: &Fixture) -> bool {
    match row.setup {
        Setup::None => {}
        Setup::StoreDown => f.store.set_failing(true),
        Setup::FillToLimit => {
            let user = UserId::from(1_i64);
            for i in 0..10 {
                // Stops at the limit; the earlier fixture keys count towards it.
                if f.router
                    .keys()
                    .create(&user, NewKey::new(format!("fill {i}")))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
        Setup::GraceFull => {
            let user = UserId::from(1_i64);
            let mut id = Fixture::id_of(&f.other_scope_key).to_owned();
            for _ in 0..10 {
                match f
                    .router
                    .keys()
                    .rotate(&user, &id, time::Duration::hours(1))
                    .await
                {
                    Ok(rotated) => id = rotated.key.key_id.as_str().to_owned(),
                    Err(_) => return false,
                }
            }
        }
        Setup::KeyRotated => {
            let user = UserId::from(1_i64);
            let id = Fixture::id_of(&f.key);
            return f
                .router
                .keys()
                .rotate(&user, id, time::Duration::hours(1))
                .await
                .is_ok();
        }
    }
    true
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

pub(super) fn check(row: &Row, r: &TestResponse, setup_ok: bool) {
    let name = row.name;
    assert!(setup_ok, "row `{name}`: its setup failed");
    assert_eq!(
        r.status,
        row.status,
        "row `{name}`: status (body: {})",
        String::from_utf8_lossy(&r.body)
    );
    let bare = format!("Bearer realm=\"{REALM}\"");
    match row.challenge {
        Challenge::Absent => assert!(
            r.www_authenticate.is_empty(),
            "row `{name}`: no WWW-Authenticate expected, got {:?}",
            r.www_authenticate
        ),
        Challenge::Bare => assert_eq!(r.www_authenticate, [bare], "row `{name}`: bare challenge"),
        Challenge::Error(code) => {
            assert_eq!(r.www_authenticate.len(), 1, "row `{name}`: one challenge");
            let c = &r.www_authenticate[0];
            assert!(
                c.starts_with(&format!("{bare}, error=\"{code}\"")),
                "row `{name}`: challenge {c:?} should carry error={code}"
            );
        }
    }
    assert_eq!(r.allow.as_deref(), row.allow, "row `{name}`: Allow header");
    if let Some(code) = row.error {
        assert_eq!(
            json(&r.body)["error"],
            code,
            "row `{name}`: JSON error code"
        );
        assert!(
            json(&r.body)["message"].is_string(),
            "row `{name}`: JSON error message"
        );
    }
}

/// User 1's keys as the app lists them to a session (all on one page).
async fn listed<H: HttpHarness>(app: &mut H) -> Vec<serde_json::Value> {
    let r = app
        .send(TestRequest {
            method: "GET",
            path: "/api/user/api-keys".to_owned(),
            authorization: vec![format!("Bearer {JWT_USER1}").into_bytes()],
            body: None,
        })
        .await;
    json(&r.body).as_array().cloned().unwrap_or_default()
}

fn item<'a>(list: &'a [serde_json::Value], id: &serde_json::Value) -> &'a serde_json::Value {
    static NULL: serde_json::Value = serde_json::Value::Null;
    list.iter().find(|k| &k["id"] == id).unwrap_or(&NULL)
}

/// Asserts that the store holds the fixture's keys exactly as made.
async fn assert_unchanged(name: &str, f: &Fixture) {
    let keys = f.router.keys();
    let mine = keys.list(&UserId::from(1_i64)).await.unwrap_or_default();
    let mut names: Vec<&str> = mine.iter().map(|k| k.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["expired", "lister", "revoked", "runs", "scoped", "valid"],
        "row `{name}`: user 1's keys"
    );
    for k in &mine {
        assert!(
            k.replaced_by.is_none(),
            "row `{name}`: {} not replaced",
            k.name
        );
        assert_eq!(
            k.revoked_at.is_some(),
            k.name == "revoked",
            "row `{name}`: revocation of {}",
            k.name
        );
        let scopes: Vec<&str> = k.scopes.iter().collect();
        let want: &[&str] = match k.name.as_str() {
            "scoped" => &["projects:read"],
            "runs" => &["runs:write"],
            "lister" => &["keys:read"],
            _ => &[],
        };
        assert_eq!(scopes, want, "row `{name}`: scopes of {}", k.name);
        assert_eq!(
            k.expires_at.is_some(),
            k.name == "expired",
            "row `{name}`: expiry of {}",
            k.name
        );
    }
    let theirs = keys.list(&UserId::from(2_i64)).await.unwrap_or_default();
    assert!(
        theirs.len() == 1 && theirs[0].revoked_at.is_none() && theirs[0].name == "other user",
        "row `{name}`: user 2's key"
    );
}

async fn status_of<H: HttpHarness>(app: &mut H, token: &str) -> u16 {
    app.send(TestRequest {
        method: "GET",
        path: "/api/security/users/me".to_owned(),
        authorization: vec![format!("Bearer {token}").into_bytes()],
        body: None,
    })
    .await
    .status
}

pub(super) async fn check_after<H: HttpHarness>(
    row: &Row,
    f: &Fixture,
    r: &TestResponse,
    app: &mut H,
) {
    let name = row.name;
    match row.after {
        After::None => {}
        After::Auth(kind) => assert_eq!(json(&r.body)["auth"], kind, "row `{name}`: auth kind"),
        After::NoUser => assert!(
            json(&r.body)["user_id"].is_null(),
            "row `{name}`: anonymous"
        ),
        After::CreatedTokenWorks => {
            let body = json(&r.body);
            for field in [
                "id",
                "name",
                "token",
                "prefix",
                "scopes",
                "created_at",
                "expires_at",
            ] {
                assert!(
                    body.get(field).is_some(),
                    "row `{name}`: field `{field}` in the create response"
                );
            }
            assert_eq!(
                r.cache_control.as_deref(),
                Some("no-store"),
                "row `{name}`: Cache-Control"
            );
            let token = body["token"].as_str().unwrap_or_default().to_owned();
            assert_eq!(
                status_of(app, &token).await,
                200,
                "row `{name}`: the new token works"
            );
        }
        After::StillWorks(p) => assert_eq!(
            status_of(app, &fill(p, f)).await,
            200,
            "row `{name}`: key still works"
        ),
        After::NoLongerWorks(p) => assert_eq!(
            status_of(app, &fill(p, f)).await,
            401,
            "row `{name}`: key refused"
        ),
        After::Unchanged => assert_unchanged(name, f).await,
        After::Message(text) => assert_eq!(
            json(&r.body)["message"],
            text,
            "row `{name}`: JSON error message"
        ),
        After::ChallengeContains(text) => assert!(
            r.www_authenticate.iter().any(|c| c.contains(text)),
            "row `{name}`: challenge {:?} should contain {text}",
            r.www_authenticate
        ),
        After::Field(field, want) => {
            let want: serde_json::Value = serde_json::from_str(want).unwrap_or_default();
            let body = json(&r.body);
            assert_eq!(body[field], want, "row `{name}`: field `{field}`");
            let list = listed(app).await;
            assert_eq!(
                item(&list, &body["id"])[field],
                want,
                "row `{name}`: `{field}` as listed afterwards"
            );
        }
        After::Rotated { grace } => {
            let body = json(&r.body);
            for field in [
                "id",
                "name",
                "token",
                "prefix",
                "scopes",
                "created_at",
                "expires_at",
                "replaces",
            ] {
                assert!(
                    body.get(field).is_some(),
                    "row `{name}`: field `{field}` in the rotate response"
                );
            }
            assert_eq!(
                body["replaces"],
                Fixture::id_of(&f.key),
                "row `{name}`: replaces"
            );
            assert_eq!(body["name"], "valid", "row `{name}`: the old key's name");
            assert_eq!(
                r.cache_control.as_deref(),
                Some("no-store"),
                "row `{name}`: Cache-Control"
            );
            let token = body["token"].as_str().unwrap_or_default().to_owned();
            assert_eq!(status_of(app, &token).await, 200, "row `{name}`: new token");
            let old = status_of(app, &f.key).await;
            assert_eq!(old, if grace { 200 } else { 401 }, "row `{name}`: old key");
            let list = listed(app).await;
            let old = item(&list, &body["replaces"]);
            assert_eq!(old["replaced_by"], body["id"], "row `{name}`: replaced_by");
            if grace {
                assert!(
                    old["revoked_at"].is_null() && old["expires_at"].is_string(),
                    "row `{name}`: the old key ends after its grace: {old}"
                );
            } else {
                assert_eq!(old["revocation_reason"], "rotated", "row `{name}`: reason");
            }
        }
        After::Page { len, more } => {
            let auth: Vec<Vec<u8>> = row.auth.iter().map(|a| fill(a, f).into_bytes()).collect();
            let first = json(&r.body).as_array().cloned().unwrap_or_default();
            assert_eq!(first.len(), len, "row `{name}`: page size");
            assert_eq!(r.link.is_some(), more, "row `{name}`: Link {:?}", r.link);
            let mut ids: Vec<serde_json::Value> = first.iter().map(|k| k["id"].clone()).collect();
            let mut link = r.link.clone();
            while let Some(header) = link {
                let target = header
                    .strip_prefix('<')
                    .and_then(|h| h.strip_suffix(">; rel=\"next\""))
                    .unwrap_or_else(|| panic!("row `{name}`: Link {header:?}"));
                assert!(
                    target.starts_with("/api/user/api-keys?limit="),
                    "row `{name}`: Link target {target:?}"
                );
                let page = app
                    .send(TestRequest {
                        method: "GET",
                        path: target.to_owned(),
                        authorization: auth.clone(),
                        body: None,
                    })
                    .await;
                assert_eq!(page.status, 200, "row `{name}`: next page");
                let items = json(&page.body).as_array().cloned().unwrap_or_default();
                assert!(
                    !items.is_empty(),
                    "row `{name}`: a Link never leads to nothing"
                );
                ids.extend(items.iter().map(|k| k["id"].clone()));
                link = page.link;
            }
            let all: Vec<serde_json::Value> =
                listed(app).await.iter().map(|k| k["id"].clone()).collect();
            assert_eq!(ids, all, "row `{name}`: pages = the whole list, in order");
        }
        After::ListHidesSecrets => {
            let body = json(&r.body);
            let list = body.as_array().cloned().unwrap_or_default();
            assert_eq!(list.len(), 6, "row `{name}`: user 1's six keys are listed");
            let text = String::from_utf8_lossy(&r.body);
            for secret in [
                &f.key,
                &f.scoped_key,
                &f.keys_read_key,
                &f.revoked_key,
                &f.expired_key,
            ] {
                assert!(
                    !text.contains(&secret[10..]),
                    "row `{name}`: a token leaked into the list"
                );
            }
            assert!(!text.contains("hash"), "row `{name}`: no hash field");
            for field in [
                "id",
                "name",
                "prefix",
                "scopes",
                "created_at",
                "expires_at",
                "last_used_at",
                "revoked_at",
                "revocation_reason",
                "replaced_by",
            ] {
                assert!(
                    list[0].get(field).is_some(),
                    "row `{name}`: field `{field}` in list items"
                );
            }
            // The fixture's revoked key was revoked by its owner; no other key is revoked and
            // none was replaced.
            for item in &list {
                let revoked = item["name"] == "revoked";
                assert_eq!(
                    item["revocation_reason"],
                    if revoked {
                        serde_json::json!("user")
                    } else {
                        serde_json::Value::Null
                    },
                    "row `{name}`: revocation_reason of {}",
                    item["name"]
                );
                assert!(
                    item["replaced_by"].is_null(),
                    "row `{name}`: replaced_by is null"
                );
            }
        }
    }
}
