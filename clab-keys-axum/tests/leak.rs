//! L-1 / M-1: nothing secret reaches the logs or a `Debug` string.
//!
//! The whole HTTP conformance table runs through an axum app wired as the crate docs recommend
//! (`SetSensitiveRequestHeadersLayer` before a header-logging `TraceLayer`), with a global
//! `tracing` subscriber at TRACE that keeps everything: the formatted output of every span
//! (with its fields, on every enter/exit/close) and event, plus the raw `Debug` of every field
//! recorded anywhere. Afterwards no token, secret part, digest (hex or base64, peppered or plain
//! SHA-256) or pepper (raw, hex, base64) that the run handled may appear in the capture, while
//! the public key ids must (which proves the capture sees the audit events).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::http::header::AUTHORIZATION;
use clab_keys_core::{
    AuthError, CredentialRouter, KeyFormats, KeyHasher, KeyService, MemoryStore, NewKey, Pepper,
    Realm, Rejection, RejectionKind, UserId, dangerous,
};
use clab_keys_testing::http_table::{
    Fixture, HttpHarness, JWT_BAD_SIGNATURE, JWT_EXPIRED, JWT_USER1, JWT_USER2, TestRequest,
    TestResponse, rows, run_http_table, tamper_secret,
};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{
    DefaultMakeSpan, DefaultOnRequest, DefaultOnResponse, MakeSpan, TraceLayer,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Span, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// The fixture's pepper (see `clab_keys_testing::http_table::Fixture`).
const FIXTURE_PEPPER: [u8; 32] = [0x42; 32];

// --- capture ----------------------------------------------------------------------------------

/// Everything written or recorded, in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn push(&self, s: &str) {
        self.0.lock().unwrap().extend_from_slice(s.as_bytes());
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Writes the raw `Debug` (and `str`) form of every field of every span and event.
struct FieldDump(Capture);

struct DumpVisitor<'a>(&'a Capture);

impl Visit for DumpVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(&format!(" {}={value}", field.name()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push(&format!(" {}={value:?}", field.name()));
    }
}

impl<S: Subscriber> Layer<S> for FieldDump {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        self.0
            .push(&format!("\n[span {}]", attrs.metadata().name()));
        attrs.record(&mut DumpVisitor(&self.0));
    }

    fn on_record(&self, _id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        self.0.push("\n[record]");
        values.record(&mut DumpVisitor(&self.0));
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        self.0
            .push(&format!("\n[event {}]", event.metadata().target()));
        event.record(&mut DumpVisitor(&self.0));
    }
}

/// The process-wide capture (a global subscriber, so events from any thread are kept).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::TRACE)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(capture.clone())
                    .with_span_events(FmtSpan::FULL),
            )
            .with(FieldDump(capture.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        capture
    })
}

// --- the app, as the crate docs recommend -------------------------------------------------------

/// The request span of `DefaultMakeSpan`, except that it records the URI's *path* only: a
/// client that puts its key in the query string (`?access_token=…`, which the library never
/// reads) must not get it logged. `DefaultMakeSpan` records the whole URI; see
/// `documented_default_span_logs_a_query_string_token` below.
#[derive(Clone, Copy, Debug)]
struct PathOnlySpan;

impl<B> MakeSpan<B> for PathOnlySpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::trace_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            version = ?request.version(),
            headers = ?request.headers(),
        )
    }
}

fn trace_layer<M: Clone>(
    make_span: M,
) -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    M,
> {
    TraceLayer::new_for_http()
        .make_span_with(make_span)
        .on_request(DefaultOnRequest::new().level(Level::TRACE))
        .on_response(
            DefaultOnResponse::new()
                .level(Level::TRACE)
                .include_headers(true),
        )
}

fn app(credentials: CredentialRouter) -> Router {
    common::table_routes(credentials).layer(
        ServiceBuilder::new()
            // First: from here on `Authorization` is printed as `Sensitive`.
            .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
            // Then: spans and responses with all headers, at TRACE.
            .layer(trace_layer(PathOnlySpan)),
    )
}

/// What the table sent and received: every credential that went over the wire, in either
/// direction.
#[derive(Default)]
struct Seen {
    authorization: Vec<Vec<u8>>,
    bodies: Vec<Vec<u8>>,
    requests: usize,
}

struct AxumHarness {
    app: Router,
    seen: Rc<RefCell<Seen>>,
}

#[async_trait::async_trait(?Send)]
impl HttpHarness for AxumHarness {
    async fn send(&mut self, request: TestRequest) -> TestResponse {
        {
            let mut seen = self.seen.borrow_mut();
            seen.authorization
                .extend(request.authorization.iter().cloned());
            seen.requests += 1;
        }
        let response = common::send(&self.app, request).await;
        self.seen.borrow_mut().bodies.push(response.body.clone());
        response
    }
}

// --- what must never be logged ------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding (`url` = URL-safe alphabet without padding).
fn base64(bytes: &[u8], url: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if !url {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// Every form of a digest that must not be logged.
fn digest_forms(digest: &[u8; 32]) -> Vec<String> {
    let dec = format!("{:?}", &digest[..6]);
    vec![
        hex(digest),
        hex(digest).to_ascii_uppercase(),
        base64(digest, false),
        base64(digest, true),
        // As a `Debug` byte array: `[12, 200, 7, …`.
        dec.trim_end_matches(']').to_owned(),
    ]
}

/// The pepper in every form: raw bytes as text, hex, base64, and a `Debug` byte array.
fn pepper_forms(pepper: &[u8]) -> Vec<String> {
    let dec = format!("{:?}", &pepper[..8]);
    vec![
        String::from_utf8_lossy(pepper).into_owned(),
        hex(pepper),
        hex(pepper).to_ascii_uppercase(),
        base64(pepper, false),
        base64(pepper, false).trim_end_matches('=').to_owned(),
        base64(pepper, true),
        dec.trim_end_matches(']').to_owned(),
    ]
}

/// Key-shaped credentials inside a text: from each `clab_user_` the longest base62 run.
fn key_candidates(text: &[u8]) -> Vec<String> {
    let prefix = b"clab_user_";
    let mut out = Vec::new();
    let mut i = 0;
    while i + prefix.len() <= text.len() {
        if &text[i..i + prefix.len()] == prefix {
            let end = text[i + prefix.len()..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric())
                .map_or(text.len(), |p| i + prefix.len() + p);
            // A bare prefix (or prefix and a few characters) is public.
            if end - i >= prefix.len() + 8 {
                out.push(String::from_utf8_lossy(&text[i..end]).into_owned());
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// What must never be logged about one key-shaped credential, and its key id if it is a
/// well-formed key (valid checksum) that the service may name in logs.
fn forbidden_for_key(token: &str) -> (Vec<String>, Option<String>) {
    let formats = KeyFormats::default();
    let mut forbidden = vec![token.to_owned()];
    let Ok(parsed) = formats.parse(token.as_bytes()) else {
        // Malformed (truncated, flipped, huge, ...): only the whole string is forbidden; any
        // long enough tail of it is, too.
        if token.len() > 30 {
            forbidden.push(token[10..].to_owned());
        }
        return (forbidden, None);
    };
    forbidden.push(token[18..50].to_owned());
    forbidden.push(token[10..].to_owned());
    let peppered = KeyHasher::hmac(1, Pepper::from_bytes(&FIXTURE_PEPPER).unwrap())
        .unwrap()
        .hash(token.as_bytes());
    forbidden.extend(digest_forms(peppered.digest.as_bytes()));
    forbidden.extend(digest_forms(
        dangerous::sha256_hasher()
            .hash(token.as_bytes())
            .digest
            .as_bytes(),
    ));
    (forbidden, Some(parsed.key_id().to_string()))
}

fn assert_absent(logged: &str, forbidden: &[String], what: &str) {
    for secret in forbidden {
        assert!(!secret.is_empty());
        if let Some(at) = logged.find(secret.as_str()) {
            let from = logged[..at]
                .char_indices()
                .rev()
                .nth(200)
                .map_or(0, |(i, _)| i);
            panic!(
                "{what} leaked into the logs: {secret:?} at byte {at}, after: …{}",
                &logged[from..at]
            );
        }
    }
}

// --- tests ----------------------------------------------------------------------------------

#[tokio::test]
async fn the_http_table_at_trace_logs_no_secret() {
    let capture = capture();
    let seen = Rc::new(RefCell::new(Seen::default()));
    let passed = run_http_table(|router| {
        let seen = seen.clone();
        async move {
            AxumHarness {
                app: app(router),
                seen,
            }
        }
    })
    .await;
    assert_eq!(passed, rows().len(), "the whole table ran and passed");
    let logged = capture.text();
    let seen = seen.borrow();
    println!(
        "{} requests, {} bytes of logs captured",
        seen.requests,
        logged.len()
    );

    // The capture works: request spans with their headers, and the audit events.
    assert!(logged.contains("authorization") && logged.contains("Sensitive"));
    assert!(logged.contains("authn_token_created") && logged.contains("authn_token_fail"));
    assert!(logged.contains("authn_token_reuse") || logged.contains("authn_token_revoked"));

    // Every key-shaped credential sent in a header or returned in a body (the 201 token).
    let mut forbidden = Vec::new();
    let mut ids = Vec::new();
    let mut keys = 0;
    for text in seen.authorization.iter().chain(&seen.bodies) {
        for candidate in key_candidates(text) {
            let (f, id) = forbidden_for_key(&candidate);
            forbidden.extend(f);
            ids.extend(id);
            keys += 1;
        }
    }
    assert!(keys >= 50, "only {keys} key-shaped credentials were seen");
    for jwt in [JWT_USER1, JWT_USER2, JWT_EXPIRED, JWT_BAD_SIGNATURE] {
        forbidden.push(jwt.to_owned());
        // The signature segment alone.
        forbidden.push(jwt.rsplit('.').next().unwrap().to_owned());
    }
    assert_absent(&logged, &forbidden, "a token, secret or digest");
    assert_absent(&logged, &pepper_forms(&FIXTURE_PEPPER), "the pepper");
    // (`Bearer realm=…` challenges in logged response headers are fine; credentials are not.)
    assert!(!logged.contains("Bearer ey") && !logged.contains("Bearer clab"));

    // ... while every well-formed key's public id does appear (created, used or refused).
    ids.sort();
    ids.dedup();
    assert!(ids.len() >= 8, "only {} distinct key ids", ids.len());
    for id in &ids {
        assert!(
            logged.contains(id.as_str()),
            "key id {id} is not in the logs"
        );
    }
}

/// M-1: the `Debug` (and, where there is one, `Display`) of every public type that holds or
/// is derived from a secret contains no part of it.
#[tokio::test]
async fn secret_holding_types_redact_their_debug() {
    let fixture = Fixture::new().await;
    let pepper_bytes = [0x42u8; 32];
    let pepper = Pepper::from_bytes(&pepper_bytes).unwrap();
    let pepper_debug = format!("{pepper:?}");
    let hasher = KeyHasher::hmac(1, pepper).unwrap();
    let keys = KeyService::builder(
        MemoryStore::new(),
        KeyHasher::hmac(1, Pepper::from_bytes(&pepper_bytes).unwrap())
            .unwrap()
            .with_previous(2, Pepper::from_bytes(&[0x43; 32]).unwrap())
            .unwrap(),
    )
    .build()
    .unwrap();
    let created = keys
        .create(&UserId::from(1_i64), NewKey::new("debug"))
        .await
        .unwrap();
    let token = created.token.expose_secret().to_owned();
    let formats = KeyFormats::default();
    let parsed = formats.parse(token.as_bytes()).unwrap();
    let stored = hasher.hash(token.as_bytes());
    let wrong = tamper_secret(&token);
    let mismatch = keys.authenticate(wrong.as_bytes()).await.unwrap_err();
    let malformed = keys
        .authenticate(&token.as_bytes()[..40])
        .await
        .unwrap_err();
    fixture.store.set_failing(true);
    let unavailable: AuthError = fixture
        .router
        .keys()
        .authenticate(fixture.key.as_bytes())
        .await
        .unwrap_err();
    let rejection: Rejection = fixture
        .router
        .authenticate([format!("Bearer {}", fixture.key).as_bytes()])
        .await
        .unwrap_err();
    let rejections = [
        RejectionKind::MissingCredentials,
        RejectionKind::InvalidRequest,
        RejectionKind::InvalidToken,
        RejectionKind::InsufficientScope("projects:read".into()),
        RejectionKind::InteractiveSessionRequired,
        RejectionKind::Unavailable,
    ]
    .map(|k| Rejection::new(k, Realm::default()));

    let texts = [
        ("ApiKey", format!("{:?}", created.token)),
        ("Pepper", pepper_debug),
        ("KeyHasher", format!("{hasher:?}")),
        ("KeyService", format!("{keys:?}")),
        ("ParsedToken", format!("{parsed:?}")),
        ("KeyDigest", format!("{:?}", stored.digest)),
        ("StoredHash", format!("{stored:?}")),
        ("CreatedKey", format!("{created:?}")),
        ("KeyInfo", format!("{:?}", created.key)),
        ("Rejection", format!("{rejection:?} {rejection}")),
        ("Rejection kinds", format!("{rejections:?}")),
        ("AuthError::Invalid", format!("{mismatch:?} {mismatch}")),
        ("AuthError::Malformed", format!("{malformed:?} {malformed}")),
        (
            "AuthError::Unavailable",
            format!("{unavailable:?} {unavailable}"),
        ),
        // Their `Debug` includes the store's records, hashes and the hasher.
        ("CredentialRouter", format!("{:?}", fixture.router)),
    ];

    let mut forbidden = Vec::new();
    for t in [&token, &wrong, &fixture.key] {
        forbidden.extend(forbidden_for_key(t).0);
    }
    forbidden.extend(digest_forms(stored.digest.as_bytes()));
    forbidden.extend(pepper_forms(&pepper_bytes));
    forbidden.extend(pepper_forms(&[0x43; 32]));
    for (what, text) in &texts {
        for secret in &forbidden {
            assert!(
                !text.contains(secret.as_str()),
                "Debug/Display of {what} contains a secret: {text}"
            );
        }
    }
    // The public parts are still there, so the redaction is not just an empty string.
    assert!(texts[4].1.contains(&token[10..18]), "{}", texts[4].1);
    assert!(texts[7].1.contains(&token[10..18]), "{}", texts[7].1);
}

/// Why the table runs with [`PathOnlySpan`]: the span the crate docs show
/// (`DefaultMakeSpan::new().include_headers(true)`) records the whole URI, so a key sent in the
/// query string, although refused (401, never read), is written to the logs. Apps should log
/// the path only (or strip the query).
#[tokio::test]
async fn documented_default_span_logs_a_query_string_token() {
    // A subscriber of this thread only: this test's deliberate leak must not reach the global
    // capture that the table test inspects.
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::TRACE)
            .with(tracing_subscriber::fmt::layer().with_writer(capture.clone())),
    );
    let hasher = KeyHasher::hmac(1, Pepper::from_bytes(&[7; 32]).unwrap()).unwrap();
    let keys = KeyService::builder(MemoryStore::new(), hasher)
        .build()
        .unwrap();
    let token = keys
        .create(&UserId::from(9_i64), NewKey::new("query"))
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let credentials = CredentialRouter::new(keys);
    let routes = |make: bool| {
        let r = common::table_routes(credentials.clone());
        let sensitive = SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]);
        if make {
            r.layer(
                ServiceBuilder::new().layer(sensitive).layer(trace_layer(
                    DefaultMakeSpan::new()
                        .level(Level::TRACE)
                        .include_headers(true),
                )),
            )
        } else {
            r.layer(
                ServiceBuilder::new()
                    .layer(sensitive)
                    .layer(trace_layer(PathOnlySpan)),
            )
        }
    };
    for (default_span, leaks) in [(false, false), (true, true)] {
        // A distinct marker per run, so the two runs' logs can be told apart.
        let uri = format!("/api/security/users/me?run={default_span}&access_token={token}");
        let before = capture.text().len();
        let response = routes(default_span)
            .oneshot(Request::get(uri.as_str()).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "a query token is never read");
        let logged = capture.text()[before..].to_owned();
        assert_eq!(
            logged.contains(&token[10..]),
            leaks,
            "default span: {default_span}"
        );
    }
}
