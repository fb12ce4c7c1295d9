//! The OpenAPI document of the key endpoints (feature `openapi`) against the contract: its
//! `ApiErrorCode` lists exactly the codes of contract §6's error table, and each error status
//! an operation documents allows only codes the table gives that status.
#![cfg(feature = "openapi")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use clab_keys::ManagementApi;
use utoipa::OpenApi;

/// `code → statuses` from the rows of contract §6's error table (`| `code` | status | …`).
fn contract_codes() -> BTreeMap<String, BTreeSet<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/contract.md");
    let contract = std::fs::read_to_string(path).unwrap();
    let section = &contract[contract.find("**Errors.**").unwrap()..];
    let mut codes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let (Some(code), Some(status)) = (cells.get(1), cells.get(2))
            && let Some(code) = code.strip_prefix('`').and_then(|c| c.strip_suffix('`'))
            && status.chars().all(|c| c.is_ascii_digit())
        {
            codes
                .entry(code.to_owned())
                .or_default()
                .insert((*status).to_owned());
        }
    }
    codes
}

#[test]
fn the_error_codes_are_the_contracts() {
    let doc = serde_json::to_value(ManagementApi::openapi()).unwrap();
    let listed: BTreeSet<String> = doc["components"]["schemas"]["ApiErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let contract = contract_codes();
    assert!(contract.len() >= 14, "{contract:?}");
    assert_eq!(listed, contract.keys().cloned().collect::<BTreeSet<_>>());
}

#[test]
fn each_documented_error_status_allows_only_the_contracts_codes_for_it() {
    let doc = serde_json::to_value(ManagementApi::openapi()).unwrap();
    let contract = contract_codes();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let schema = &response["content"]["application/json"]["schema"];
                let Some(narrowed) = schema["allOf"].get(1) else {
                    continue;
                };
                for code in narrowed["properties"]["error"]["enum"].as_array().unwrap() {
                    let code = code.as_str().unwrap();
                    assert!(
                        contract.get(code).is_some_and(|s| s.contains(status)),
                        "{method} {path} {status} allows {code}, which the contract gives {:?}",
                        contract.get(code)
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "{checked}");
}
