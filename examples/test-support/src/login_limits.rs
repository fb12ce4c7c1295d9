//! The login flood bound and failed-login throttling (contract §7), over real HTTP from
//! distinct client addresses: every `127.0.0.x` is a loopback address, and each client binds
//! its socket to one, so the app sees a different peer for each.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{DEMO, Launch, Response};

/// A client whose requests come from `127.0.0.<last>`.
#[derive(Debug, Clone)]
pub struct ClientAt {
    client: reqwest::Client,
    base: String,
}

impl ClientAt {
    /// A client for `base` whose socket is bound to `127.0.0.<last>`.
    pub fn new(base: &str, last: u8) -> Self {
        let address = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .local_address(address)
                .timeout(Duration::from_secs(120))
                .build()
                .expect("an HTTP client"),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `POST /api/auth/login` with `{"email", "password"}`.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.send(
            reqwest::Method::POST,
            "/api/auth/login",
            Some(&json!({ "email": email, "password": password })),
        )
        .await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the request reaches the app");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a body").to_vec();
        Response {
            status,
            headers,
            body,
        }
    }
}

fn retry_after(response: &Response) -> u64 {
    response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in seconds: {:?}", response.headers))
}

/// Three failed logins from one address (the limit set to 3), and the fourth, even with the
/// right password, is `429 too_many_failed_attempts` with `Retry-After`; another address still
/// logs in.
pub async fn failed_logins_are_throttled_per_address(bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let running = Launch::new(bin, dir.path())
        .env("CLAB_KEYS_FAILED_LOGINS_PER_MINUTE", "3")
        .start()
        .await;
    let guesser = ClientAt::new(&running.base, 2);
    for _ in 0..3 {
        let failed = guesser.login(DEMO.0, "not-the-password").await;
        assert_eq!(failed.status, 401, "{}", failed.text());
        assert_eq!(failed.error_code(), "invalid_credentials");
    }
    for password in ["not-the-password", DEMO.1] {
        let throttled = guesser.login(DEMO.0, password).await;
        assert_eq!(throttled.status, 429, "{}", throttled.text());
        assert_eq!(throttled.error_code(), "too_many_failed_attempts");
        assert!(throttled.json()["message"].is_string());
        let seconds = retry_after(&throttled);
        assert!((1..=60).contains(&seconds), "Retry-After: {seconds}");
    }
    let other = ClientAt::new(&running.base, 3);
    let ok = other.login(DEMO.0, DEMO.1).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let output = running.stop().await;
    assert!(
        output
            .stderr()
            .contains("login refused: too many failed logins from this address"),
        "{}",
        output.all()
    );
}

/// With one hashing slot, a flood of wrong-password logins from 40 addresses: the logins that
/// wait longer than the bound get `503 login_busy` with `Retry-After`, the others `401`;
/// `/healthz` answers during the flood, and a correct login right after it succeeds.
pub async fn a_login_flood_is_bounded(bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let running = Launch::new(bin, dir.path())
        .env("CLAB_KEYS_LOGIN_CONCURRENCY", "1")
        .start()
        .await;
    let base = running.base.clone();
    let flood: Vec<_> = (10..50u8)
        .map(|last| {
            let client = ClientAt::new(&base, last);
            tokio::spawn(async move { client.login(DEMO.0, "not-the-password").await })
        })
        .collect();
    // Health keeps answering while the flood is being checked.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health_client = ClientAt::new(&base, 60);
    let started = Instant::now();
    let health = health_client.get("/healthz").await;
    let health_took = started.elapsed();
    assert_eq!(health.status, 200, "{}", health.text());
    let mut busy = 0;
    let mut refused = 0;
    for task in flood {
        let response = task.await.unwrap();
        match response.status {
            503 => {
                assert_eq!(response.error_code(), "login_busy");
                assert!(response.json()["message"].is_string());
                assert_eq!(retry_after(&response), 1);
                busy += 1;
            }
            401 => refused += 1,
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }
    println!(
        "flood of 40: {busy} login_busy, {refused} invalid_credentials; healthz took {health_took:?}"
    );
    assert!(busy > 0, "no login was refused as busy ({refused} checked)");
    assert!(refused > 0, "no login was checked at all");
    let after = ClientAt::new(&base, 61).login(DEMO.0, DEMO.1).await;
    assert_eq!(after.status, 200, "{}", after.text());
    running.stop().await;
}
