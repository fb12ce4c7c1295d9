//! No token in any log (contract §7): the app runs with `RUST_LOG=debug` (as [`Launch`] starts
//! it), so every request is logged with its headers; a real API key and a real JWT are sent in
//! `X-Api-Key`, in `Cookie`, in the query string and inside an allow-listed header, and
//! neither may appear in anything the app printed.

use crate::plan::create;
use crate::{DEMO, Launch, assert_no_secret_in};

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
    for token in [&key, &jwt] {
        let cookie = format!("api_key={token}; theme=dark");
        let user_agent = format!("script/1.0 ({token})");
        let bearer = format!("Bearer {token}");
        let attempts: [(String, Vec<(&str, &str)>); 5] = [
            ("/api/echo".into(), vec![("x-api-key", token.as_str())]),
            ("/api/echo".into(), vec![("cookie", cookie.as_str())]),
            (format!("/api/echo?api_key={token}"), vec![]),
            (
                "/api/echo".into(),
                vec![("user-agent", user_agent.as_str())],
            ),
            (
                "/api/security/users/me".into(),
                vec![("authorization", bearer.as_str())],
            ),
        ];
        for (path, headers) in &attempts {
            let response = http.send_raw("GET", path, headers, None).await;
            assert_ne!(response.status, 500, "{path}: {}", response.text());
        }
    }
    let output = running.stop().await;
    let stderr = output.stderr();
    // The headers were logged: by name, without their values.
    for shown in [
        "x-api-key: [REDACTED]",
        "cookie: [REDACTED]",
        "authorization: [REDACTED]",
        "user-agent: [REDACTED]",
    ] {
        assert!(stderr.contains(shown), "no {shown:?} in the log:\n{stderr}");
    }
    assert_no_secret_in(&output, &[key, jwt]);
}
