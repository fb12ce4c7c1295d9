//! The facade's explicit re-export lists (src/lib.rs) name exactly what each crate exports:
//! an item added to core or an adapter and forgotten here fails this test, and so does a name
//! listed here that the crate no longer has. One path per item stays true without globs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The names of every top-level `pub use a::{x, y};` / `pub use a::x;` of `text` whose path
/// starts with `prefix` (all of them for an empty prefix).
fn reexports(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for item in text.split("\npub use ").skip(1) {
        let item = &item[..item.find(';').unwrap()];
        if !item.starts_with(prefix) {
            continue;
        }
        let list = item.find('{').map_or_else(
            || item.rsplit("::").next().unwrap().to_owned(),
            |open| item[open + 1..item.rfind('}').unwrap()].to_owned(),
        );
        names.extend(
            list.split(',')
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        );
    }
    names
}

/// The names of the first `pub use {crate}::{…}` inside `pub mod {module} {` of the facade.
fn facade_module(facade: &str, module: &str, krate: &str) -> BTreeSet<String> {
    let start = facade
        .find(&format!("pub mod {module} {{"))
        .unwrap_or_else(|| panic!("no module {module} in src/lib.rs"));
    let body = &facade[start..];
    let body = &body[..body.find("\n}").unwrap()];
    reexports(&body.replace("\n    ", "\n"), krate)
}

#[test]
fn the_facade_root_lists_every_item_of_core() {
    let core = reexports(&read("clab-keys-core/src/lib.rs"), "");
    // The list, plus the items behind a feature (`ManagementApi`), each re-exported alone.
    let facade = reexports(&read("src/lib.rs"), "clab_keys_core::");
    assert!(
        core.contains("KeyService") && core.contains("Principal"),
        "{core:?}"
    );
    assert_eq!(
        facade, core,
        "src/lib.rs and clab-keys-core/src/lib.rs differ"
    );
}

#[test]
fn each_adapter_module_lists_every_item_of_its_crate() {
    let facade = read("src/lib.rs");
    for (module, krate, lib) in [
        ("axum", "clab_keys_axum", "clab-keys-axum/src/lib.rs"),
        ("actix_web", "clab_keys_actix", "clab-keys-actix/src/lib.rs"),
        ("tower", "clab_keys_tower", "clab-keys-tower/src/lib.rs"),
        ("redis", "clab_keys_redis", "clab-keys-redis/src/lib.rs"),
        (
            "dangerous",
            "clab_keys_core::dangerous",
            "clab-keys-core/src/dangerous.rs",
        ),
    ] {
        let listed = facade_module(&facade, module, krate);
        let exported: BTreeSet<String> = if module == "dangerous" {
            read(lib)
                .lines()
                .filter_map(|l| l.strip_prefix("pub fn "))
                .map(|l| l[..l.find('(').unwrap()].to_owned())
                .collect()
        } else {
            reexports(&read(lib), "")
        };
        assert!(!exported.is_empty(), "{lib}");
        assert_eq!(listed, exported, "clab_keys::{module} and {lib} differ");
    }
}

#[test]
fn the_sea_orm_module_lists_every_item_of_the_seaorm_crate() {
    let facade = read("src/lib.rs");
    let listed = facade_module(&facade, "sea_orm", "clab_keys_seaorm");
    let lib = read("clab-keys-seaorm/src/lib.rs");
    // Its re-exports (the feeds, one of them behind `pg-notify`) and its public modules.
    let mut exported = reexports(&lib, "");
    exported.extend(
        lib.lines()
            .filter_map(|l| l.strip_prefix("pub mod "))
            .map(|l| l.trim_end_matches(';').to_owned()),
    );
    assert!(exported.contains("ChangeLogFeed") && exported.contains("PgNotifyFeed"));
    assert_eq!(
        listed, exported,
        "clab_keys::sea_orm and clab-keys-seaorm/src/lib.rs differ"
    );
}
