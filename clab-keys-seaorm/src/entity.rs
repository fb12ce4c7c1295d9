//! The SeaORM entity of the `clab_api_keys` table.
//!
//! Read it freely (for example to join keys to your users in an admin page), but write through
//! [`SeaOrmStore`](crate::SeaOrmStore): on SQLite the store writes timestamps as fixed-width
//! text (`2026-01-01T00:00:00.000000Z`) so that comparing and ordering them as text is
//! chronological, which an `ActiveModel` insert would not do.
//!
//! | column | type | notes |
//! |---|---|---|
//! | `key_id` | `varchar(8)`, primary key | the public lookup id; byte-wise collation |
//! | `prefix` | `varchar(32)` | the token prefix the key was issued with |
//! | `user_id` | `varchar(255)` | canonical text of [`UserId`](clab_keys_core::UserId) |
//! | `name` | `varchar(400)` | 1–100 characters |
//! | `hash_version` | `integer` | 0 = SHA-256, n = HMAC with pepper n |
//! | `hash` | `binary(32)` / `bytea` / `blob` | digest of the whole token |
//! | `scopes` | `text` | space-separated |
//! | `created_at` | timestamp, UTC, µs | |
//! | `expires_at`, `last_used_at`, `revoked_at` | timestamp, UTC, µs, null | |
//! | `revocation_reason` | `varchar(16)`, null | `user`, `rotated`, `leaked`, `owner` or `admin` (second migration) |
//! | `replaced_by` | `varchar(8)`, null | the key id of the key that replaced this one (second migration) |
//! | `expiry_notified_at` | timestamp, UTC, µs, null | when the coming expiry was claimed for a notice (fourth migration) |
//!
//! Indexes: the primary key on `key_id`, `clab_api_keys_user_created` on
//! `(user_id, created_at)` for listing, and (second migration) `clab_api_keys_expires_at` and,
//! on PostgreSQL and SQLite, the partial `clab_api_keys_revoked_at` for pruning.
//!
//! # Generated items
//!
//! SeaORM's `DeriveEntityModel` on [`Model`] generates the rest of this module; the derive
//! gives those items no doc comments of their own, so here is what each is:
//!
//! | item | what it is |
//! |---|---|
//! | `Entity` | the table itself, for queries: `Entity::find()`, `Entity::find_by_id(key_id)` |
//! | `Model` | one row, read-only (documented below) |
//! | `ActiveModel` | a row being changed; write through [`SeaOrmStore`](crate::SeaOrmStore) instead |
//! | `Column` | one variant per column (`Column::KeyId`, `Column::UserId`, `Column::RevokedAt`, …), for filters and ordering |
//! | `PrimaryKey` | `PrimaryKey::KeyId` |
//! | [`Relation`] | none: `user_id` is the app's opaque id, not a foreign key |
//!
//! Reading the keys of one user, newest first, for an admin page:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use clab_keys::sea_orm::entity::{Column, Entity};
//! use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
//! # mod clab_keys { pub(crate) use ::clab_keys_seaorm as sea_orm; }
//! # use sea_orm_migration::MigratorTrait as _;
//! # let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
//! # clab_keys_seaorm::migration::Migrator::up(&db, None).await.unwrap();
//!
//! let keys = Entity::find()
//!     .filter(Column::UserId.eq("42"))
//!     .filter(Column::RevokedAt.is_null())
//!     .order_by_desc(Column::CreatedAt)
//!     .all(&db)
//!     .await
//!     .unwrap();
//! assert!(keys.is_empty());
//! # });
//! ```

// The derive macros generate public items (`Entity`, `Column`, `ActiveModel`, …) that cannot
// carry doc comments of their own; the module documentation covers them.
#![allow(missing_docs)]

use std::fmt;

use sea_orm::entity::prelude::*;

/// One row of `clab_api_keys`. `Debug` leaves the digest out.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clab_api_keys")]
pub struct Model {
    /// The public key id (8 base62 characters).
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_id: String,
    /// The token prefix, such as `clab_user_`.
    pub prefix: String,
    /// The owner, as the canonical text of `UserId` (`"42"`, a hyphenated UUID, or a string).
    pub user_id: String,
    /// The name chosen by the owner.
    pub name: String,
    /// Which algorithm and pepper made `hash`.
    pub hash_version: i32,
    /// The 32-byte digest of the whole token.
    pub hash: Vec<u8>,
    /// Space-separated scopes; empty means unrestricted.
    #[sea_orm(column_type = "Text")]
    pub scopes: String,
    /// When the key was created (UTC).
    pub created_at: TimeDateTimeWithTimeZone,
    /// When the key stops working, if ever (UTC).
    pub expires_at: Option<TimeDateTimeWithTimeZone>,
    /// When the key was last used, to the debounce window (UTC).
    pub last_used_at: Option<TimeDateTimeWithTimeZone>,
    /// When the key was revoked (UTC).
    pub revoked_at: Option<TimeDateTimeWithTimeZone>,
    /// Why the key was revoked (`user`, `rotated`, `leaked`, `owner`, `admin`); null while it is
    /// not, and for keys revoked before the second migration.
    pub revocation_reason: Option<String>,
    /// The key id of the key that replaced this one, if it was rotated.
    pub replaced_by: Option<String>,
    /// When the key's coming expiry was reported (claimed) for a notice (UTC); null until then.
    pub expiry_notified_at: Option<TimeDateTimeWithTimeZone>,
}

/// The table has no relations: `user_id` is the app's opaque id, not a foreign key (an app may
/// add one in its own migration).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("key_id", &self.key_id)
            .field("prefix", &self.prefix)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("hash_version", &self.hash_version)
            .field("hash", &"[REDACTED]")
            .field("scopes", &self.scopes)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_used_at", &self.last_used_at)
            .field("revoked_at", &self.revoked_at)
            .field("revocation_reason", &self.revocation_reason)
            .field("replaced_by", &self.replaced_by)
            .field("expiry_notified_at", &self.expiry_notified_at)
            .finish()
    }
}
