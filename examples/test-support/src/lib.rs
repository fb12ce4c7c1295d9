//! What the end-to-end and browser tests of both example apps share: starting the app's binary
//! the way a person does, an HTTP client, and the test plans themselves ([`plan`] and
//! [`browser`]). Both apps' tests depend on this crate (a dev-dependency), so that both are
//! held to the very same plan.
// Test support reports failures by panicking, like `assert!`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc
)]

pub mod browser;
pub mod login_limits;
pub mod openapi;
pub mod plan;
pub mod request_log;
pub mod revocation;

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A fixed pepper (base64 of 32 bytes), so that keys survive a restart.
pub const PEPPER_B64: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
/// A fixed JWT secret, so that sessions survive a restart.
pub const JWT_SECRET: &str = "e2e-test-secret-of-at-least-32-bytes-long";
/// The demo user.
pub const DEMO: (&str, &str) = ("demo@example.com", "demo-password");
/// The other demo user.
pub const OTHER: (&str, &str) = ("other@example.com", "other-password");

/// How long the app may take to start (migrations and Argon2 hashing of the demo passwords
/// run in debug builds).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a graceful shutdown may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start the app.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The binary (`env!("CARGO_BIN_EXE_…")`).
    pub bin: PathBuf,
    /// The working directory (where the default SQLite file goes).
    pub dir: PathBuf,
    /// Extra environment; every variable the app reads is removed from the inherited
    /// environment first, then `ADDR=127.0.0.1:0` and these are set.
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// `bin` in `dir`, with the fixed pepper and JWT secret and the default database.
    pub fn new(bin: &str, dir: &Path) -> Self {
        Self {
            bin: PathBuf::from(bin),
            dir: dir.to_owned(),
            env: vec![
                ("JWT_SECRET".into(), JWT_SECRET.into()),
                ("CLAB_KEYS_PEPPER".into(), PEPPER_B64.into()),
            ],
        }
    }

    /// Sets (or replaces) an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// Removes an environment variable set by [`Launch::new`].
    pub fn without(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command.current_dir(&self.dir);
        let read_by_the_app = clab_keys_example_common::config::ENV_VARS.into_iter();
        let login_limits = clab_keys_example_common::login_limits::ENV_VARS.into_iter();
        for name in read_by_the_app.chain(login_limits).chain(["RUST_LOG"]) {
            command.env_remove(name);
        }
        // Everything at debug level: the request logs (headers included) must still show no
        // token (ANSI colours do not matter: the checks are substring searches).
        command.env("ADDR", "127.0.0.1:0").env("RUST_LOG", "debug");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the app to completion (for configurations it must refuse) and returns its exit
    /// status and output.
    pub fn run_to_exit(&self) -> (ExitStatus, Output) {
        let mut child = self.command().spawn().expect("start the app");
        let output = Output::capture(&mut child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll the app") {
                output.wait_closed();
                return (status, output);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the app did not exit:\n{}", output.all());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the app and waits until it prints the address it listens on.
    pub async fn start(&self) -> RunningApp {
        let mut child = self.command().spawn().expect("start the app");
        let output = Output::capture(&mut child);
        let deadline = Instant::now() + START_TIMEOUT;
        let base = loop {
            if let Some(base) = output.listening_url() {
                break base;
            }
            if let Some(status) = child.try_wait().expect("poll the app") {
                output.wait_closed();
                panic!(
                    "the app exited during start-up ({status}):\n{}",
                    output.all()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the app printed no address in time:\n{}", output.all());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        RunningApp {
            child: Some(child),
            output,
            http: Http::new(&base),
            base,
        }
    }
}

/// Everything a process printed, collected by two reader threads.
#[derive(Debug, Clone, Default)]
pub struct Output {
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Arc<Mutex<Vec<std::thread::JoinHandle<()>>>>,
}

impl Output {
    fn capture(child: &mut Child) -> Self {
        let output = Self::default();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut readers = output.readers.lock().unwrap();
        readers.push(Self::reader(stdout, output.stdout.clone()));
        readers.push(Self::reader(stderr, output.stderr.clone()));
        drop(readers);
        output
    }

    fn reader(
        stream: impl Read + Send + 'static,
        sink: Arc<Mutex<String>>,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        })
    }

    /// Waits until the process closed both streams (it has exited).
    fn wait_closed(&self) {
        let readers = std::mem::take(&mut *self.readers.lock().unwrap());
        for reader in readers {
            let _ = reader.join();
        }
    }

    /// What the process wrote on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// What the process wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Both, for failure messages and leak checks.
    pub fn all(&self) -> String {
        format!(
            "--- stdout ---\n{}--- stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// The URL in the `… listening on http://…` line, once printed.
    fn listening_url(&self) -> Option<String> {
        let stdout = self.stdout();
        let line = stdout
            .lines()
            .find(|l| l.contains(" listening on http://"))?;
        let url = line.split(" listening on ").nth(1)?.trim();
        Some(url.to_owned())
    }
}

/// A running app process. Dropping it kills the process.
#[derive(Debug)]
pub struct RunningApp {
    child: Option<Child>,
    /// What it printed.
    pub output: Output,
    /// A client for it.
    pub http: Http,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl RunningApp {
    /// Sends SIGTERM and waits for a graceful exit with status 0; returns what the process
    /// printed over its whole life.
    pub async fn stop(mut self) -> Output {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll the app") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the app did not stop on SIGTERM:\n{}", self.output.all());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        self.output.wait_closed();
        assert!(
            status.success(),
            "the app exited with {status} on SIGTERM:\n{}",
            self.output.all()
        );
        self.output.clone()
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value (the first line), if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, checking the content type.
    pub fn json(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "not JSON: {} {}",
            self.status,
            self.text()
        );
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The `error` code of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// A small HTTP client bound to one app.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    /// A client for `base` (no proxy, whatever the environment says).
    pub fn new(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
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

    /// Sends `method path` with exactly these request headers and this body, as bytes (for
    /// malformed headers and bodies).
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
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

    /// `GET path`.
    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Response {
        self.send("GET", path, bearer, None).await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, (email, password): (&str, &str)) -> String {
        let response = self
            .send(
                "POST",
                "/api/auth/login",
                None,
                Some(&serde_json::json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(response.status, 200, "login: {}", response.text());
        let body = response.json();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 3600);
        body["access_token"].as_str().expect("a token").to_owned()
    }
}

/// Asserts that nothing in `output` contains any of `secrets`.
pub fn assert_no_secret_in(output: &Output, secrets: &[String]) {
    let all = output.all();
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(
            !all.contains(secret.as_str()),
            "the app printed a secret ({}…):\n{all}",
            &secret[..secret.len().min(14)]
        );
    }
}

/// The build's target directory (`…/target`), from the test binary's own path
/// (`target/<profile>/deps/<test>`), whatever `CARGO_TARGET_DIR` says.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}
