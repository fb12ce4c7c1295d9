//! The owner check (contract §4): the application says whether a key's owner may still use
//! their keys, so a disabled or deleted account's keys stop working without the application
//! having to revoke them first.

use std::fmt;

use crate::store::StoreError;
use crate::user::UserId;

/// Whether a key's owner is still allowed to use their keys, supplied by the application
/// (for example: the user row exists and is not disabled).
///
/// The key service consults it on every verification that reads the store, after the key
/// itself was found valid, and caches the answer with the verification, so with the cache on
/// it costs nothing per request. When an owner is disabled, call
/// [`KeyService::owner_changed`](crate::KeyService::owner_changed): it takes the owner's keys
/// out of every cache (through the invalidation feed), so the next request asks again. A check
/// that fails (`Err`) fails closed: the request is answered `503`, never accepted.
///
/// ```
/// # extern crate clab_keys_core as clab_keys;
/// use clab_keys::{OwnerCheck, StoreError, UserId};
///
/// #[derive(Debug)]
/// struct NotBanned(std::collections::HashSet<String>);
///
/// #[async_trait::async_trait]
/// impl OwnerCheck for NotBanned {
///     async fn is_active(&self, user: &UserId) -> Result<bool, StoreError> {
///         Ok(!self.0.contains(user.as_str()))
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait OwnerCheck: fmt::Debug + Send + Sync + 'static {
    /// Whether `user` may still use their keys.
    ///
    /// # Errors
    ///
    /// Any failure to find out (the application's database is down): the verification then
    /// fails closed as unavailable.
    async fn is_active(&self, user: &UserId) -> Result<bool, StoreError>;
}
