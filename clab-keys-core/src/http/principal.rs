//! Who made a request, and with which kind of credential.

use time::OffsetDateTime;

use crate::format::KeyId;
use crate::scope::Scopes;
use crate::service::VerifiedKey;
use crate::user::UserId;

use super::rejection::{Realm, Rejection, RejectionKind};

/// Which kind of credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// An interactive session token (JWT).
    Jwt,
    /// A long-lived user API key.
    ApiKey,
}

impl CredentialKind {
    /// `"jwt"` or `"api_key"`, as in the `auth` field of `/api/security/users/me`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::ApiKey => "api_key",
        }
    }
}

/// Names a scope at the type level, for the adapters' `RequireScope<S>` extractor and
/// `require_scope::<S>` middleware (one trait for both frameworks).
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::ScopeName;
///
/// /// Read access to projects.
/// pub struct ProjectsRead;
///
/// impl ScopeName for ProjectsRead {
///     const NAME: &'static str = "projects:read";
/// }
/// ```
pub trait ScopeName: 'static {
    /// The scope, as stored on keys (for example `projects:read`).
    const NAME: &'static str;
}

/// Who made a request, and with what: made by the [`CredentialRouter`](crate::CredentialRouter)
/// from a verified API key or a JWT the application's verifier accepted. Code outside this
/// crate cannot make one except through [`dangerous`](crate::dangerous), so holding a
/// `Principal` means a credential was verified:
///
/// ```compile_fail
/// # extern crate clab_keys_core as clab_keys;
/// fn forge(key: clab_keys::VerifiedKey) -> clab_keys::Principal {
///     clab_keys::Principal::from(key) // no public conversion
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user_id: UserId,
    kind: CredentialKind,
    key_id: Option<KeyId>,
    scopes: Option<Scopes>,
    authenticated_at: Option<OffsetDateTime>,
}

impl Principal {
    pub(crate) fn jwt(user_id: UserId, scopes: Option<Scopes>) -> Self {
        Self {
            user_id,
            kind: CredentialKind::Jwt,
            key_id: None,
            scopes,
            authenticated_at: None,
        }
    }

    /// The same principal with the session's authentication time.
    pub(crate) fn authenticated_at(mut self, at: Option<OffsetDateTime>) -> Self {
        self.authenticated_at = at;
        self
    }

    pub(crate) fn api_key(user_id: UserId, key_id: KeyId, scopes: Option<Scopes>) -> Self {
        Self {
            user_id,
            kind: CredentialKind::ApiKey,
            key_id: Some(key_id),
            scopes,
            authenticated_at: None,
        }
    }

    /// The user.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The kind of credential used.
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The key id, when an API key was used.
    pub fn key_id(&self) -> Option<KeyId> {
        self.key_id
    }

    /// The scopes the credential is limited to; `None` means unrestricted.
    pub fn scopes(&self) -> Option<&Scopes> {
        self.scopes.as_ref()
    }

    /// When the user of a session last authenticated ([`JwtIdentity::auth_time`](crate::JwtIdentity::auth_time));
    /// `None` for API keys and for sessions whose verifier does not say.
    pub fn auth_time(&self) -> Option<OffsetDateTime> {
        self.authenticated_at
    }

    /// Whether the request came from an interactive (JWT) session.
    pub fn is_interactive(&self) -> bool {
        self.kind == CredentialKind::Jwt
    }

    /// Whether the credential may use `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(scope))
    }

    /// Refuses API keys: key management and other account-level actions need a JWT session,
    /// so that a leaked key cannot mint more keys.
    ///
    /// # Errors
    ///
    /// Returns a 403 [`RejectionKind::InteractiveSessionRequired`] rejection for API keys.
    pub fn require_interactive(&self, realm: &Realm) -> Result<(), Rejection> {
        if self.is_interactive() {
            Ok(())
        } else {
            Err(Rejection::new(
                RejectionKind::InteractiveSessionRequired,
                realm.clone(),
            ))
        }
    }

    /// Requires a scope.
    ///
    /// # Errors
    ///
    /// Returns a 403 [`RejectionKind::InsufficientScope`] rejection when the credential is
    /// limited to scopes that do not include `scope`.
    pub fn require_scope(&self, scope: &str, realm: &Realm) -> Result<(), Rejection> {
        if self.has_scope(scope) {
            return Ok(());
        }
        // The challenge names the scope only if it is a valid scope name (see `Rejection`).
        Err(Rejection::new(
            RejectionKind::InsufficientScope(scope.to_owned()),
            realm.clone(),
        ))
    }
}

impl Principal {
    /// The principal of a key the key service verified (the only way the router makes an
    /// API-key principal).
    pub(crate) fn from_verified(key: VerifiedKey) -> Self {
        let scopes = (!key.scopes.is_empty()).then_some(key.scopes);
        Self::api_key(key.user_id, key.key_id, scopes)
    }
}
