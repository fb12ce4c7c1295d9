//! The settings page and `/developers` in headless Chromium, driven over WebDriver
//! (chromedriver + fantoccini), with a screenshot at every step.
//!
//! Without chromium or chromedriver the test prints
//! `skipped: browser test (chromium/chromedriver not installed)` and passes, unless
//! `CLAB_KEYS_REQUIRE_BROWSER=1`, which makes a missing browser a failure (CI sets it).
//! `CHROMEDRIVER` and `CHROME_BIN` override where they are looked for (`PATH` otherwise).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::{DEMO, Http, Launch, Output, assert_no_secret_in, target_dir};

/// How long any one thing in the page may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The sections `/developers` must show.
const DEVELOPER_SECTIONS: [&str; 7] = [
    "overview",
    "authentication",
    "quick-start",
    "endpoints",
    "openapi",
    "examples",
    "headless",
];

/// Runs the browser test against the app binary `bin`, saving screenshots under
/// `target/screenshots/<app>/`.
pub async fn walk(bin: &str, app: &str) {
    let Some((chromedriver, chromium)) = find_browser() else {
        if std::env::var("CLAB_KEYS_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "CLAB_KEYS_REQUIRE_BROWSER=1 but chromium/chromedriver were not found \
                 (install the Debian packages `chromium` and `chromium-driver`, or set \
                 CHROME_BIN and CHROMEDRIVER)"
            );
        }
        // Straight to stderr, past the test harness's capture, so that CI logs show it.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: browser test (chromium/chromedriver not installed)"
        );
        return;
    };

    let shots = target_dir().join("screenshots").join(app);
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let running = Launch::new(bin, dir.path()).start().await;
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver::start(&chromedriver).await;

    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    // The test answers the confirm dialog itself.
    capabilities.insert("unhandledPromptBehavior".into(), json!("ignore"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--no-proxy-server",
                "--window-size=1280,1400",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("a WebDriver session: {e}\n{}", driver.output.all()));

    // The steps run on their own task so that the browser session is closed (and Chromium
    // stopped) even when a step fails; the failure is re-raised afterwards.
    let steps = tokio::spawn(steps(
        client.clone(),
        running.http.clone(),
        running.base.clone(),
        driver.url.clone(),
        shots.clone(),
    ));
    let outcome = steps.await;
    let _ = client.close().await;
    drop(driver);
    let token = match outcome {
        Ok(token) => token,
        Err(e) if e.is_panic() => {
            let _ = writeln!(
                std::io::stderr(),
                "browser test failed; screenshots so far in {}\napp output:\n{}",
                shots.display(),
                running.output.all()
            );
            std::panic::resume_unwind(e.into_panic())
        }
        Err(e) => panic!("the browser steps did not finish: {e}"),
    };

    let output = running.stop().await;
    assert_no_secret_in(&output, &[token]);
    let _ = writeln!(
        std::io::stderr(),
        "browser test: screenshots in {}",
        shots.display()
    );
}

/// Every step; returns the token that was created (to check the app never printed it).
async fn steps(c: Client, http: Http, base: String, driver_url: String, shots: PathBuf) -> String {
    let shot = Shots { dir: shots };

    // ---- The settings page asks for a login. ----------------------------------------------
    c.goto(&format!("{base}/settings/api-keys")).await.unwrap();
    wait_visible(&c, "#login-form").await;
    assert!(c.title().await.unwrap().contains("API keys"));
    shot.take(&c, "01-login-form").await;

    // A wrong password is refused in the page.
    fill(&c, "#login-email", DEMO.0).await;
    fill(&c, "#login-password", "wrong-password").await;
    click(&c, "#login-submit").await;
    wait_text(&c, "#message", |t| t.contains("not correct")).await;
    shot.take(&c, "02-login-refused").await;

    // ---- Log in as the demo user. ---------------------------------------------------------
    fill(&c, "#login-password", DEMO.1).await;
    click(&c, "#login-submit").await;
    wait_visible(&c, "#keys-section").await;
    wait_text(&c, "#session-email", |t| t == DEMO.0).await;
    wait_visible(&c, "#keys-empty").await;
    shot.take(&c, "03-signed-in").await;

    // ---- Create a key; the token is revealed once. ----------------------------------------
    fill(&c, "#key-name", "browser test").await;
    click(&c, "#create-key").await;
    wait_visible(&c, "#new-token-panel").await;
    let token = wait_text(&c, "#new-token", |t| t.starts_with("clab_user_")).await;
    let row = wait_visible(&c, "#keys-body tr[data-status=\"active\"]").await;
    let key_id = row.attr("data-key-id").await.unwrap().expect("a key id");
    wait_text(&c, "#message", |t| t.contains("created")).await;
    shot.take(&c, "04-key-created").await;

    // ---- Copy it. -------------------------------------------------------------------------
    // Let the page read the clipboard back (and write it without a user-activation prompt).
    if let Some(session) = c.session_id().await.unwrap() {
        for permission in [
            "clipboard-read",
            "clipboard-write",
            "clipboard-sanitized-write",
        ] {
            let _ = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .post(format!("{driver_url}/session/{session}/permissions"))
                .header("content-type", "application/json")
                .body(
                    json!({ "descriptor": { "name": permission }, "state": "granted" }).to_string(),
                )
                .send()
                .await;
        }
    }
    click(&c, "#copy-token").await;
    let status = wait_text(&c, "#copy-status", |t| !t.is_empty()).await;
    assert_eq!(
        status, "Copied to the clipboard.",
        "the copy button reports success"
    );
    let clipboard = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.clipboard.readText().then(
               (text) => done({ text }),
               (error) => done({ error: String(error) }));",
            vec![],
        )
        .await
        .unwrap();
    match clipboard.get("text").and_then(Value::as_str) {
        Some(text) => assert_eq!(text, token, "the clipboard holds the token"),
        None => {
            // No clipboard access in this browser: the fallback selects the token instead.
            let selected = c
                .execute("return window.getSelection().toString();", vec![])
                .await
                .unwrap();
            let _ = writeln!(
                std::io::stderr(),
                "browser test: clipboard not readable ({clipboard}); checking the selection"
            );
            assert_eq!(
                selected.as_str(),
                Some(token.as_str()),
                "the token is selected"
            );
        }
    }
    shot.take(&c, "05-copied").await;

    // ---- The token works against the API, outside the browser. ----------------------------
    let me = http.get("/api/security/users/me", Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["auth"], "api_key");
    assert_eq!(me.json()["email"], DEMO.0);

    // ---- Revoke it in the page, confirming the dialog. ------------------------------------
    click(&c, &format!("button[data-revoke=\"{key_id}\"]")).await;
    let question = wait_alert(&c).await;
    assert!(question.contains("Revoke the key"), "{question}");
    assert!(question.contains("browser test"), "{question}");
    // What the dialog promises is what the app does (contract §4; the feed carries it).
    assert!(
        question.contains("every other server of this app within a second"),
        "{question}"
    );
    c.accept_alert().await.unwrap();
    let revoked = format!("#keys-body tr[data-key-id=\"{key_id}\"][data-status=\"revoked\"]");
    wait_visible(&c, &revoked).await;
    wait_text(&c, "#message", |t| t.contains("revoked")).await;
    assert!(
        c.find_all(Locator::Css(&format!("button[data-revoke=\"{key_id}\"]")))
            .await
            .unwrap()
            .is_empty(),
        "a revoked key has no revoke button"
    );
    shot.take(&c, "06-revoked").await;

    let refused = http.get("/api/security/users/me", Some(&token)).await;
    assert_eq!(refused.status, 401);

    // Revoking the key whose token is on display hides the (now dead) token by itself.
    let panel_hidden = c
        .execute(
            "return document.getElementById('new-token-panel').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        panel_hidden,
        serde_json::Value::Bool(true),
        "token panel hidden after revoke"
    );
    let shown = c
        .find(Locator::Css("#new-token"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.is_empty());
    assert!(!c.source().await.unwrap().contains(&token));

    // ---- A revoked key says why. ----------------------------------------------------------
    let reason = wait_text(&c, &format!("[data-testid=\"reason-{key_id}\"]"), |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(reason, "revoked by you");

    // ---- A scoped key, rotated with a day's grace. ----------------------------------------
    fill(&c, "#key-name", "deploy bot").await;
    click(&c, "input[value=\"projects:read\"]").await;
    click(&c, "#create-key").await;
    let first = wait_text(&c, "#new-token", |t| t.starts_with("clab_user_")).await;
    click(&c, "#dismiss-token").await;
    let row = wait_visible(&c, "#keys-body tr[data-status=\"active\"]").await;
    let old_id = row.attr("data-key-id").await.unwrap().expect("a key id");
    click(&c, &format!("[data-testid=\"rotate-{old_id}\"]")).await;
    wait_visible(&c, "#rotate-panel").await;
    c.find(Locator::Css("#rotate-grace"))
        .await
        .unwrap()
        .select_by_value("86400")
        .await
        .unwrap();
    shot.take(&c, "06a-rotate-dialog").await;
    click(&c, "#rotate-submit").await;
    let rotated = wait_text(&c, "#new-token", |t| {
        t.starts_with("clab_user_") && t != first
    })
    .await;
    wait_text(&c, "#message", |t| {
        t.contains("rotated") && t.contains("in 1 day")
    })
    .await;
    let grace = wait_text(&c, &format!("[data-testid=\"grace-{old_id}\"]"), |t| {
        t.starts_with("replaced; stops ")
    })
    .await;
    assert!(grace.len() > "replaced; stops ".len(), "{grace}");
    let new_row = wait_visible(&c, "#keys-body tr[data-status=\"active\"]").await;
    let new_id = new_row
        .attr("data-key-id")
        .await
        .unwrap()
        .expect("a key id");
    assert_ne!(new_id, old_id);
    shot.take(&c, "06b-rotated-with-grace").await;
    // Both work during the grace period; the new one keeps the old one's scope.
    for token in [&first, &rotated] {
        let me = http.get("/api/security/users/me", Some(token)).await;
        assert_eq!(me.status, 200, "{}", me.text());
    }
    let listed = http.get("/api/user/api-keys", Some(&rotated)).await;
    assert_eq!(listed.status, 403, "a projects:read key may not list keys");
    assert_eq!(listed.json()["error"], "insufficient_scope");
    click(&c, "#dismiss-token").await;

    // ---- Rename the new key. --------------------------------------------------------------
    click(&c, &format!("[data-testid=\"rename-{new_id}\"]")).await;
    wait_visible(&c, "#rename-panel").await;
    fill(&c, "#rename-input", "deploy bot (2026)").await;
    click(&c, "#rename-submit").await;
    wait_text(&c, "#message", |t| t.contains("renamed")).await;
    wait_text(
        &c,
        &format!("#keys-body tr[data-key-id=\"{new_id}\"] th"),
        |t| t == "deploy bot (2026)",
    )
    .await;
    shot.take(&c, "06c-renamed").await;

    // ---- /developers renders every section. -----------------------------------------------
    c.goto(&format!("{base}/developers")).await.unwrap();
    wait_visible(&c, "#no-browser-automation").await;
    for section in DEVELOPER_SECTIONS {
        let element = wait_visible(&c, &format!("#{section}")).await;
        let heading = element
            .find(Locator::Css("h2"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!heading.is_empty(), "#{section} has a heading");
    }
    // The page fills the app's own origin into its samples.
    let samples = c
        .find(Locator::Css("#examples"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(samples.contains(&base), "the samples use {base}");
    shot.take(&c, "07-developers").await;
    let headless = c.find(Locator::Css("#headless")).await.unwrap();
    c.execute(
        "arguments[0].scrollIntoView({ block: 'start', behavior: 'instant' });",
        vec![serde_json::to_value(&headless).unwrap()],
    )
    .await
    .unwrap();
    shot.take(&c, "08-developers-headless").await;

    // ---- /developers shows the OpenAPI document: a link and the endpoint table. -----------
    let section = c.find(Locator::Css("#openapi")).await.unwrap();
    c.execute(
        "arguments[0].scrollIntoView({ block: 'start', behavior: 'instant' });",
        vec![serde_json::to_value(&section).unwrap()],
    )
    .await
    .unwrap();
    let link = wait_visible(&c, "#openapi-link").await;
    let href = link.prop("href").await.unwrap().unwrap_or_default();
    assert_eq!(
        href,
        format!("{base}/openapi.json"),
        "the link to the document"
    );
    let rows = c
        .find_all(Locator::Css("#openapi-endpoints tbody tr"))
        .await
        .unwrap();
    let mut listed = Vec::new();
    for row in &rows {
        listed.push(
            row.find(Locator::Css("td code"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    for endpoint in [
        "POST /api/auth/login",
        "GET /api/security/users/me",
        "POST /api/user/api-keys",
        "GET /api/user/api-keys",
        "DELETE /api/user/api-keys/{id}",
        "GET /healthz",
        "GET /openapi.json",
    ] {
        assert!(
            listed.iter().any(|l| l == endpoint),
            "{endpoint} is in the endpoint table: {listed:?}"
        );
    }
    shot.take(&c, "09-developers-openapi").await;

    // The link opens the document itself.
    link.click().await.unwrap();
    let text = wait_text(&c, "body", |t| t.contains("\"openapi\"")).await;
    let document: Value = serde_json::from_str(&text).expect("the page shows the JSON document");
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/user/api-keys/{id}"]["delete"].is_object());
    shot.take(&c, "10-openapi-json").await;
    token
}

/// Screenshots, numbered by step.
struct Shots {
    dir: PathBuf,
}

impl Shots {
    async fn take(&self, c: &Client, name: &str) {
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(self.dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Waits until the element matched by `css` is displayed, and returns it.
async fn wait_visible(c: &Client, css: &str) -> fantoccini::elements::Element {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Ok(element) = c.find(Locator::Css(css)).await
            && element.is_displayed().await.unwrap_or(false)
        {
            return element;
        }
        assert!(Instant::now() < deadline, "{css} never became visible");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the text of `css` satisfies `ready`, and returns it.
async fn wait_text(c: &Client, css: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut last = String::new();
    loop {
        if let Ok(element) = c.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if ready(&text) {
                return text;
            }
            last = text;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never had the expected text (last: {last:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for a dialog and returns its text.
async fn wait_alert(c: &Client) -> String {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Ok(text) = c.get_alert_text().await {
            return text;
        }
        assert!(Instant::now() < deadline, "no confirm dialog appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(c: &Client, css: &str, text: &str) {
    let input = wait_visible(c, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Scrolls the element into the middle of the viewport (a button inside the scrollable
/// table wrapper is not scrolled there by WebDriver itself), then clicks it.
async fn click(c: &Client, css: &str) {
    let element = wait_visible(c, css).await;
    c.execute(
        "arguments[0].scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });",
        vec![serde_json::to_value(&element).unwrap()],
    )
    .await
    .unwrap();
    element.click().await.unwrap();
}

/// chromedriver, started on a port of its choosing; killed on drop.
struct Driver {
    child: Child,
    url: String,
    output: Output,
}

impl Driver {
    async fn start(path: &Path) -> Self {
        let mut child = Command::new(path)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromedriver");
        let output = Output::capture(&mut child);
        let deadline = Instant::now() + STEP_TIMEOUT;
        let port = loop {
            let stdout = output.stdout();
            if let Some(port) = stdout
                .lines()
                .find_map(|l| l.split("started successfully on port ").nth(1))
            {
                break port.trim().trim_end_matches('.').to_owned();
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                panic!("chromedriver did not start:\n{}", output.all());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            output,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver and Chromium: `CHROMEDRIVER` / `CHROME_BIN` when set (a set variable that
/// names no file counts as missing), else the usual names on `PATH`.
fn find_browser() -> Option<(PathBuf, PathBuf)> {
    let driver = find("CHROMEDRIVER", &["chromedriver"])?;
    let chromium = find(
        "CHROME_BIN",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    )?;
    Some((driver, chromium))
}

fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => {
            let path = PathBuf::from(path);
            path.is_file().then_some(path)
        }
        None => on_path(names),
    }
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}
