//! The migration: up, down, up again on every configured backend, with its own history table
//! when standalone, and inside an app's `Migrator` when embedded.

// Helpers outside `#[test]` functions fail the way the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use clab_keys_core::{KeyStore as _, UserId};
use clab_keys_seaorm::SeaOrmStore;
use clab_keys_seaorm::migration::{self, Migrator};
use sea_orm::{DbBackend, DbErr};
use sea_orm_migration::prelude::*;

const NOW: time::OffsetDateTime = time::macros::datetime!(2026-01-01 00:00:00 UTC);

use common::has_table;

async fn store_works(store: &SeaOrmStore, key_id: &str) {
    let user = UserId::from(1_i64);
    store
        .insert_within_limit(&common::record(key_id, &user, NOW), 10, NOW)
        .await
        .unwrap();
    assert_eq!(store.list(&user).await.unwrap().len(), 1);
}

#[tokio::test]
async fn standalone_migrator_goes_up_down_and_up_again() {
    for test_db in common::all_dbs().await {
        let db = &test_db.db;
        let backend = common::backend_name(db);

        Migrator::up(db, None).await.unwrap();
        assert!(has_table(db, "clab_api_keys").await, "{backend}: created");
        assert!(
            has_table(db, "clab_keys_migrations").await,
            "{backend}: own history"
        );
        assert!(
            !has_table(db, "seaql_migrations").await,
            "{backend}: not the app's"
        );
        assert_eq!(
            has_table(db, "clab_api_key_owners").await,
            db.get_database_backend() == DbBackend::MySql,
            "{backend}: the owners table exists on MySQL/MariaDB only"
        );
        store_works(&SeaOrmStore::new(db.clone()), "first001").await;

        Migrator::down(db, None).await.unwrap();
        assert!(!has_table(db, "clab_api_keys").await, "{backend}: dropped");
        assert!(
            !has_table(db, "clab_api_key_owners").await,
            "{backend}: dropped"
        );

        Migrator::up(db, None).await.unwrap();
        store_works(&SeaOrmStore::new(db.clone()), "second01").await;
        // Running again is a no-op.
        Migrator::up(db, None).await.unwrap();
    }
}

/// An app's own migration, standing in for its `users` table.
struct CreateWidgets;

impl MigrationName for CreateWidgets {
    fn name(&self) -> &str {
        "m20250101_000001_create_widgets"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateWidgets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("widgets")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("widgets").to_owned())
            .await
    }
}

struct AppMigrator;

#[async_trait::async_trait]
impl MigratorTrait for AppMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all: Vec<Box<dyn MigrationTrait>> = vec![Box::new(CreateWidgets)];
        all.extend(migration::migrations());
        all
    }
}

#[tokio::test]
async fn embedded_migration_runs_in_the_apps_migrator() {
    for test_db in common::all_dbs().await {
        let db = &test_db.db;
        let backend = common::backend_name(db);

        AppMigrator::up(db, None).await.unwrap();
        assert!(has_table(db, "widgets").await, "{backend}");
        assert!(has_table(db, "clab_api_keys").await, "{backend}");
        assert!(!has_table(db, "clab_keys_migrations").await, "{backend}");
        let applied: Vec<String> = AppMigrator::get_applied_migrations(db)
            .await
            .unwrap()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        let ours: Vec<String> = migration::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        assert_eq!(
            applied[..2],
            [
                "m20250101_000001_create_widgets",
                "m20260101_000001_clab_keys_create_api_keys"
            ],
            "{backend}: recorded under its fixed name in the app's history"
        );
        assert_eq!(applied[1..], ours, "{backend}: every later one after it");
        assert_eq!(ours[1], "m20260601_000002_clab_keys_revocation_details");
        assert_eq!(ours[3], "m20260701_000004_clab_keys_expiry_notices");
        store_works(&SeaOrmStore::new(db.clone()), "embedd01").await;

        // Roll back only ours, then everything, then up again.
        AppMigrator::down(
            db,
            Some(<u32 as std::convert::TryFrom<usize>>::try_from(ours.len()).unwrap()),
        )
        .await
        .unwrap();
        assert!(!has_table(db, "clab_api_keys").await, "{backend}");
        assert!(has_table(db, "widgets").await, "{backend}");
        AppMigrator::down(db, None).await.unwrap();
        AppMigrator::up(db, None).await.unwrap();
        store_works(&SeaOrmStore::new(db.clone()), "embedd02").await;
    }
}
