//! The database: connecting, the app's own [`Migrator`] (the `users` table plus the clab-keys
//! migration, embedded), the demo users, and user look-ups.

use std::time::Duration;

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectOptions, Database, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, Set, SqlErr,
};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

use crate::password::{self, PasswordError};

/// The demo users seeded on start (contract §7): `(email, password)`.
pub const DEMO_USERS: [(&str, &str); 2] = [
    ("demo@example.com", "demo-password"),
    ("other@example.com", "other-password"),
];

/// The `users` table of the examples.
pub(crate) mod users {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub email: String,
        pub password_hash: String,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Creates the `users` table: `id` (64-bit, auto-increment), `email` (unique) and
/// `password_hash` (an Argon2id PHC string).
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateUsers;

impl MigrationName for CreateUsers {
    fn name(&self) -> &str {
        // Fixed, so renaming this file never renames the migration.
        "m20260101_000001_example_create_users"
    }
}

// The trait's signature elides `SchemaManager`'s lifetime; naming it here would make the
// lifetime early-bound and the impl would no longer match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateUsers {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::prelude::Table;
        use sea_orm_migration::schema::{big_pk_auto, string, string_uniq};
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_uniq("email"))
                    .col(string("password_hash"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::prelude::Table;
        manager
            .drop_table(Table::drop().table("users").if_exists().to_owned())
            .await
    }
}

/// The example apps' migrator: the `users` table, then the clab-keys migrations embedded
/// (so both are tracked in the one `seaql_migrations` table).
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations: Vec<Box<dyn MigrationTrait>> = vec![Box::new(CreateUsers)];
        migrations.extend(clab_keys::sea_orm::migration::migrations());
        migrations
    }
}

/// The database could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// Connecting failed. The message has the database URL blanked out.
    #[error("could not connect to the {backend} database: {message}")]
    Connect {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// The driver's message, with the URL (which may hold a password) removed.
        message: String,
    },
    /// Running the migrations failed.
    #[error("database migration failed")]
    Migrate(#[source] DbErr),
    /// Seeding the demo users failed.
    #[error("seeding the demo users failed")]
    Seed(#[source] DbErr),
    /// Hashing a demo password failed.
    #[error("hashing a demo password failed")]
    Password(#[source] PasswordError),
}

/// Connects to `url` (SQL logging off: statements would carry password hashes; 10 s
/// timeouts, so a database that is down fails start-up quickly).
///
/// # Errors
///
/// Returns [`DatabaseError::Connect`] when the database cannot be reached or the URL is invalid.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DatabaseError> {
    let backend = crate::config::backend_of(url).unwrap_or("unknown");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    Database::connect(options)
        .await
        .map_err(|e| DatabaseError::Connect {
            backend,
            message: e.to_string().replace(url, "<DATABASE_URL>"),
        })
}

/// Runs [`Migrator`] (every pending migration).
///
/// # Errors
///
/// Returns [`DatabaseError::Migrate`] when a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DatabaseError> {
    Migrator::up(db, None).await.map_err(DatabaseError::Migrate)
}

/// Inserts the [`DEMO_USERS`] that do not exist yet. Idempotent: existing users (matched by
/// email) are left alone, and a concurrent insert by another instance is not an error.
///
/// # Errors
///
/// Returns [`DatabaseError::Seed`] or [`DatabaseError::Password`].
pub async fn seed_demo_users(db: &DatabaseConnection) -> Result<(), DatabaseError> {
    for (email, password) in DEMO_USERS {
        if find_user_by_email(db, email)
            .await
            .map_err(DatabaseError::Seed)?
            .is_some()
        {
            continue;
        }
        let password_hash = password::hash_password(password.to_owned())
            .await
            .map_err(DatabaseError::Password)?;
        let user = users::ActiveModel {
            email: Set(email.to_owned()),
            password_hash: Set(password_hash),
            ..Default::default()
        };
        match user.insert(db).await {
            Ok(_) => tracing::info!(email, "seeded demo user"),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(DatabaseError::Seed(e)),
        }
    }
    Ok(())
}

/// Connects, migrates and (when `seed` says so) seeds the demo users: everything an app needs
/// before it serves.
///
/// # Errors
///
/// Returns the first [`DatabaseError`].
pub async fn setup(url: &str, seed: bool) -> Result<DatabaseConnection, DatabaseError> {
    let db = connect(url).await?;
    migrate(&db).await?;
    if seed {
        seed_demo_users(&db).await?;
    }
    Ok(db)
}

/// Finds a user by email (exact match after the caller's normalisation).
pub(crate) async fn find_user_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await
}

/// Finds a user by id.
pub(crate) async fn find_user_by_id(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(db).await
}
