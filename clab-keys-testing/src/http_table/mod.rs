//! The HTTP conformance table: one list of requests and the exact answers contract §5–§6 and the
//! H-requirements demand, run row for row against every framework adapter.
//!
//! An adapter's test implements [`HttpHarness`] for an app that mounts, using the adapter's
//! own extractors and the [`Fixture`]'s router:
//!
//! | route | behaviour |
//! |---|---|
//! | `GET /api/security/users/me` | JWT or key required; `200 {"user_id": "<id>", "auth": "jwt"\|"api_key"}` |
//! | `GET /api/optional` | optional credential; `200 {"user_id": null}` without one |
//! | `GET /api/scoped` | requires scope `projects:read`; `200 {"ok": true}` |
//! | `GET /api/interactive` | requires a JWT session; `200 {"ok": true}` |
//! | `/api/user/api-keys` and every path below it | the adapter's ready management router/scope, mounted there |
//!
//! and calls [`run_http_table`], which builds a fresh fixture and app per row and checks
//! status, `WWW-Authenticate`, `Allow`, `Link`, the JSON `error` code and row-specific facts.
//! The fixture's router requires a login within [`REAUTHENTICATION`] to create and rotate
//! keys; its JWTs carry a recent authentication time, except [`JWT_STALE_SESSION`].

mod fixture;
mod rows;

use std::future::Future;

pub use fixture::{
    FixedJwtVerifier, Fixture, JWT_BAD_SIGNATURE, JWT_EXPIRED, JWT_STALE_SESSION, JWT_USER1,
    JWT_USER2, REALM, REAUTHENTICATION, tamper_checksum, tamper_secret, unknown_key,
};
pub use rows::{After, Challenge, Path, Row, Setup, rows};

/// A request as the table describes it, with every placeholder resolved.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestRequest {
    /// `GET`, `POST`, `DELETE`, or another method for the rows that expect a 405.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// `Authorization` header lines, in order (raw bytes: some rows are not UTF-8).
    pub authorization: Vec<Vec<u8>>,
    /// A JSON body (sent with `content-type: application/json`).
    pub body: Option<Vec<u8>>,
}

/// The parts of a response the table checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResponse {
    /// The status code.
    pub status: u16,
    /// Every `WWW-Authenticate` value.
    pub www_authenticate: Vec<String>,
    /// The `Cache-Control` value, if any.
    pub cache_control: Option<String>,
    /// The `Allow` value, if any (every 405 has one).
    pub allow: Option<String>,
    /// The `Link` value, if any (a list page with more after it).
    pub link: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends table requests to one framework's app.
#[async_trait::async_trait(?Send)]
pub trait HttpHarness {
    /// Sends one request and returns the response.
    async fn send(&mut self, request: TestRequest) -> TestResponse;
}

/// Runs every row against apps made by `make` (called once per row with that row's fresh
/// router) and returns the number of rows that passed; panics on the first failure with the
/// row's name and what differed.
pub async fn run_http_table<H, F, Fut>(make: F) -> usize
where
    H: HttpHarness,
    F: Fn(clab_keys_core::CredentialRouter) -> Fut,
    Fut: Future<Output = H>,
{
    let mut passed = 0;
    let mut invalid_token_answers: Vec<(&'static str, TestResponse)> = Vec::new();
    for row in rows() {
        let fixture = Fixture::new().await;
        let setup_ok = rows::apply_setup(&row, &fixture).await;
        let mut app = make(fixture.router.clone()).await;
        let request = rows::resolve(&row, &fixture);
        let response = app.send(request).await;
        // The writes a request caused (`last_used_at`) land before anything is checked.
        fixture.router.keys().flush().await;
        rows::check(&row, &response, setup_ok);
        rows::check_after(&row, &fixture, &response, &mut app).await;
        if row.path == Path::Me && row.challenge == Challenge::Error("invalid_token") {
            invalid_token_answers.push((row.name, response));
        }
        passed += 1;
    }
    // H-7: every rejected credential on one route gets the byte-identical answer, whether the
    // key was unknown, had a wrong secret, was revoked or expired.
    if let Some((first_name, first)) = invalid_token_answers.first() {
        for (name, other) in &invalid_token_answers[1..] {
            assert_eq!(
                first, other,
                "rows `{first_name}` and `{name}` must get identical invalid_token responses"
            );
        }
    }
    passed
}
