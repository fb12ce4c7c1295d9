//! No token in any log (contract §7): the app runs with `RUST_LOG=debug` (as [`Launch`] starts
//! it), so every request is logged with its headers; a real API key and a real JWT are sent in
//! `X-Api-Key`, in `Cookie`, in the query string, inside an allow-listed header and in the
//! path (as sent and percent-encoded, where a key id belongs and elsewhere), and neither may
//! appear in anything the app printed: not in the `debug` lines, nor in the `info` lines the
//! request span (axum-app) or the access log (actix-app) writes with each response.

use crate::plan::create;
use crate::{DEMO, Launch, assert_no_secret_in};

/// One request: method, path (and query) and headers.
type Attempt<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

/// Sends a real key and a real session JWT everywhere a careless client might put them, then
/// checks the app's whole output.
pub async fn no_token_in_any_log(bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let running = Launch::new(bin, dir.path()).start().await;
    let http = &running.http;
    let jwt = http.login(DEMO).await;
    let created = create(
        http,
        &jwt,
        &serde_json::json!({ "name": "logged nowhere", "expires_in_days": 1 }),
    )
    .await;
    let key = created.json()["token"].as_str().unwrap().to_owned();
    let session = format!("Bearer {jwt}");
    for token in [&key, &jwt] {
        let cookie = format!("api_key={token}; theme=dark");
        let user_agent = format!("script/1.0 ({token})");
        let bearer = format!("Bearer {token}");
        // The token with its prefix's `_` (a key) or its first `.` (a JWT) percent-encoded:
        // the same secret, which the checks at the end look for without the prefix (a key's
        // body, a JWT's signature).
        let encoded = if *token == key {
            token.replacen('_', "%5F", 1)
        } else {
            token.replacen('.', "%2E", 1)
        };
        let attempts: [Attempt<'_>; 9] = [
            (
                "GET",
                "/api/echo".into(),
                vec![("x-api-key", token.as_str())],
            ),
            ("GET", "/api/echo".into(), vec![("cookie", cookie.as_str())]),
            ("GET", format!("/api/echo?api_key={token}"), vec![]),
            (
                "GET",
                "/api/echo".into(),
                vec![("user-agent", user_agent.as_str())],
            ),
            (
                "GET",
                "/api/security/users/me".into(),
                vec![("authorization", bearer.as_str())],
            ),
            // A token pasted where the key id belongs, by someone logged in.
            (
                "DELETE",
                format!("/api/user/api-keys/{token}"),
                vec![("authorization", session.as_str())],
            ),
            (
                "DELETE",
                format!("/api/user/api-keys/{encoded}"),
                vec![("authorization", session.as_str())],
            ),
            // Anywhere else in a path (a 404), and in the path and query at once.
            ("GET", format!("/api/echo/{token}/x"), vec![]),
            ("GET", format!("/{encoded}?t={encoded}"), vec![]),
        ];
        for (method, path, headers) in &attempts {
            let response = http.send_raw(method, path, headers, None).await;
            assert_ne!(response.status, 500, "{method} {path}: {}", response.text());
        }
    }
    // The key still works: nothing above revoked it.
    let me = http
        .send_raw(
            "GET",
            "/api/security/users/me",
            &[("authorization", &format!("Bearer {key}"))],
            None,
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.text());
    let output = running.stop().await;
    let stderr = output.stderr();
    // The headers were logged: by name, without their values; the paths with the token's
    // segment redacted (by the `info` line of each response as well as the `debug` one).
    for shown in [
        "x-api-key: [REDACTED]",
        "cookie: [REDACTED]",
        "authorization: [REDACTED]",
        "user-agent: [REDACTED]",
        "/api/user/api-keys/[REDACTED]",
        "/api/echo/[REDACTED]/x",
    ] {
        assert!(stderr.contains(shown), "no {shown:?} in the log:\n{stderr}");
    }
    // A key's body (id, secret and checksum) and a JWT's signature are secrets on their own.
    let body = key["clab_user_".len()..].to_owned();
    let signature = jwt.rsplit('.').next().unwrap().to_owned();
    assert_no_secret_in(&output, &[key, jwt, body, signature]);
}
