//! The OpenAPI document of the management endpoints (feature `openapi`): its shape, the mount
//! path, and that it merges into an application's document.
#![cfg(feature = "openapi")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clab_keys_core::{MANAGEMENT_PATH, ManagementApi};
use serde_json::Value;
use utoipa::OpenApi;

fn json(doc: &utoipa::openapi::OpenApi) -> Value {
    serde_json::to_value(doc).unwrap()
}

#[test]
fn the_document_is_openapi_3_1_with_the_five_operations() {
    let doc = json(&ManagementApi::openapi());
    if let Ok(path) = std::env::var("CLAB_KEYS_DUMP_OPENAPI") {
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{method} {path}"))
        })
        .collect();
    operations.sort();
    assert_eq!(
        operations,
        [
            "delete /api/user/api-keys/{id}",
            "get /api/user/api-keys",
            "patch /api/user/api-keys/{id}",
            "post /api/user/api-keys",
            "post /api/user/api-keys/{id}/rotate",
        ]
    );
    let post = &doc["paths"][MANAGEMENT_PATH]["post"];
    assert_eq!(post["operationId"], "createApiKey");
    assert_eq!(post["security"][0]["bearer"], serde_json::json!([]));
    for status in ["201", "400", "401", "403", "409", "413", "500", "503"] {
        assert!(post["responses"][status].is_object(), "POST {status}");
    }
    let rotate = &doc["paths"]["/api/user/api-keys/{id}/rotate"]["post"];
    assert_eq!(rotate["operationId"], "rotateApiKey");
    for status in [
        "201", "400", "401", "403", "404", "409", "413", "500", "503",
    ] {
        assert!(rotate["responses"][status].is_object(), "rotate {status}");
    }
    let patch = &doc["paths"]["/api/user/api-keys/{id}"]["patch"];
    assert_eq!(patch["operationId"], "updateApiKey");
    for status in ["200", "400", "401", "403", "404", "409", "413", "503"] {
        assert!(patch["responses"][status].is_object(), "PATCH {status}");
    }
    let list = &doc["paths"][MANAGEMENT_PATH]["get"];
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["limit", "cursor"]);
    let scheme = &doc["components"]["securitySchemes"][ManagementApi::SECURITY_SCHEME];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for schema in [
        "CreateApiKeyRequest",
        "CreatedApiKey",
        "ApiKeyInfo",
        "ApiError",
        "ApiErrorCode",
        "RotateApiKeyRequest",
        "RotatedApiKey",
        "UpdateApiKeyRequest",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

#[test]
fn the_mount_path_moves_every_path() {
    let doc = json(&ManagementApi::at("/v2/keys"));
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/v2/keys", "/v2/keys/{id}", "/v2/keys/{id}/rotate"]);
}

#[test]
fn an_application_merges_it_into_its_own_document() {
    #[derive(OpenApi)]
    #[openapi(info(title = "My service", version = "1.0.0"))]
    struct ApiDoc;

    let doc = ApiDoc::openapi().merge_from(ManagementApi::at(MANAGEMENT_PATH));
    let doc = json(&doc);
    assert_eq!(doc["info"]["title"], "My service");
    assert!(doc["paths"]["/api/user/api-keys/{id}"]["delete"].is_object());
    assert!(doc["components"]["schemas"]["ApiError"].is_object());

    let nested = json(&ApiDoc::openapi().nest("/v1", ManagementApi::openapi()));
    assert!(nested["paths"]["/v1/api/user/api-keys"]["get"].is_object());
}
