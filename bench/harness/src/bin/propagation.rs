//! Revocation propagation across running `axum-app` instances that share a database.
//!
//! For each revocation: creates a key (with the owner's JWT) on the instance that will revoke
//! it, warms it on every instance (`GET /api/security/users/me` until `200`, twice, so the
//! second answer comes from the verification cache), revokes it there
//! (`DELETE /api/user/api-keys/{id}`), and polls every OTHER instance's
//! `GET /api/security/users/me` with the key, one request at a time per instance with
//! `--poll-ms` between answers, until it answers `401`. Latencies are measured from the
//! moment the `DELETE` answer was read (and, in a second column, from just before it was
//! sent). The instance that revokes rotates, so every instance revokes and listens. Before
//! each revoke it waits a random time up to `--jitter-ms`: otherwise revocations follow the
//! previous refusal by a fixed delay and so fall at a fixed phase of a polling feed's cycle,
//! which would measure one point of its latency distribution instead of the distribution.
//!
//! Before measuring, it checks that the instances really serve the key from their caches:
//! `--unannounced-delete` (a shell command with `{id}` for the key id) deletes the key's row
//! behind the apps' backs; every instance must still accept the key, which only a cache can.
//!
//! ```text
//! usage: propagation --urls http://127.0.0.1:A,http://127.0.0.1:B,... --feed NAME
//!        [--revocations 200] [--warmup 5] [--poll-ms 1] [--jitter-ms 0] [--out results.csv]
//!        [--unannounced-delete 'psql ... {id}'] [--email demo@example.com --password demo-password]
//! ```
//!
//! Appends one CSV row per revocation and other instance to `--out` (with a header when the
//! file is new) and prints one JSON summary line on stdout.

use std::io::Write as _;
use std::time::{Duration, Instant};

use clab_keys_bench::args::Args;
use clab_keys_bench::stats::summary;
use clab_keys_bench::{BoxError, err};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// How long an instance may keep accepting a revoked key before the run gives up on it.
const GIVE_UP: Duration = Duration::from_secs(5);

/// One revocation and one other instance.
#[derive(Debug)]
struct Sample {
    revocation: usize,
    revoker: usize,
    instance: usize,
    delete_ms: f64,
    after_return_ms: f64,
    after_send_ms: f64,
    polls: u32,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::from_env()?;
    let urls: Vec<String> = args
        .required("urls")?
        .split(',')
        .map(|u| u.trim_end_matches('/').to_owned())
        .collect();
    let feed = args.required("feed")?.to_owned();
    let revocations: usize = args.parsed("revocations", 200)?;
    let warmup: usize = args.parsed("warmup", 5)?;
    let poll = Duration::from_millis(args.parsed("poll-ms", 1)?);
    let jitter_ms: u64 = args.parsed("jitter-ms", 0)?;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let email = args.get("email").unwrap_or("demo@example.com");
    let password = args.get("password").unwrap_or("demo-password");

    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(4)
        .build()?;
    let jwt = login(&client, &urls[0], email, password).await?;

    let cache_verified = match args.get("unannounced-delete") {
        Some(command) => Some(caches_are_used(&client, &urls, &jwt, command).await?),
        None => None,
    };

    let mut samples = Vec::new();
    let mut delete_ms = Vec::new();
    let mut timeouts = 0usize;
    for n in 0..warmup + revocations {
        let revoker = n % urls.len();
        let (token, id) = create_key(&client, &urls[revoker], &jwt, n).await?;
        for url in &urls {
            warm(&client, url, &token).await?;
        }
        if jitter_ms > 0 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            tokio::time::sleep(Duration::from_micros(seed % (jitter_ms * 1000))).await;
        }
        let sent = Instant::now();
        let status = client
            .delete(format!("{}/api/user/api-keys/{id}", urls[revoker]))
            .bearer_auth(&jwt)
            .send()
            .await?
            .status();
        let returned = Instant::now();
        if !status.is_success() {
            return Err(err(format!("revoke answered {status}")));
        }
        let mut waits = Vec::new();
        for (i, url) in urls.iter().enumerate().filter(|(i, _)| *i != revoker) {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            waits.push((
                i,
                tokio::spawn(async move { until_refused(&client, &url, &token, poll).await }),
            ));
        }
        let measured = n >= warmup;
        if measured {
            delete_ms.push(ms(returned - sent));
        }
        for (instance, wait) in waits {
            let outcome = wait.await.map_err(|e| err(format!("poller: {e}")))??;
            let Some((at, polls)) = outcome else {
                timeouts += usize::from(measured);
                continue;
            };
            if measured {
                samples.push(Sample {
                    revocation: n - warmup,
                    revoker,
                    instance,
                    delete_ms: ms(returned - sent),
                    after_return_ms: ms(at - returned),
                    after_send_ms: ms(at - sent),
                    polls,
                });
            }
        }
    }

    if let Some(path) = args.get("out") {
        write_csv(path, &feed, urls.len(), &samples)?;
    }
    // Per revocation: until EVERY other instance refused (the slowest of them).
    let mut all_refused = vec![f64::NAN; revocations];
    for s in &samples {
        let slot = &mut all_refused[s.revocation];
        *slot = if slot.is_nan() {
            s.after_return_ms
        } else {
            slot.max(s.after_return_ms)
        };
    }
    all_refused.retain(|v| !v.is_nan());
    let (p50, p99, max) = summary(&all_refused);
    let (d50, d99, dmax) = summary(&delete_ms);
    let line = json!({
        "feed": feed,
        "instances": urls.len(),
        "revocations": revocations,
        "timeouts": timeouts,
        "cache_verified": cache_verified,
        "all_refused_after_return_ms": { "p50": p50, "p99": p99, "max": max },
        "revoke_call_ms": { "p50": d50, "p99": d99, "max": dmax },
    });
    println!("{line}");
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn login(
    client: &Client,
    url: &str,
    email: &str,
    password: &str,
) -> Result<String, BoxError> {
    let body = json!({ "email": email, "password": password }).to_string();
    let answer: Value = serde_json::from_slice(
        &client
            .post(format!("{url}/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?,
    )?;
    answer["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| err("login answered without access_token"))
}

async fn create_key(
    client: &Client,
    url: &str,
    jwt: &str,
    n: usize,
) -> Result<(String, String), BoxError> {
    let body = json!({ "name": format!("propagation {n}") }).to_string();
    let answer: Value = serde_json::from_slice(
        &client
            .post(format!("{url}/api/user/api-keys"))
            .bearer_auth(jwt)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?,
    )?;
    match (answer["token"].as_str(), answer["id"].as_str()) {
        (Some(token), Some(id)) => Ok((token.to_owned(), id.to_owned())),
        _ => Err(err("create answered without token or id")),
    }
}

async fn me(client: &Client, url: &str, token: &str) -> Result<StatusCode, BoxError> {
    let response = client
        .get(format!("{url}/api/security/users/me"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = response.status();
    response.bytes().await?;
    Ok(status)
}

/// Verifies the key on `url` until it is accepted, then once more (now from the cache).
async fn warm(client: &Client, url: &str, token: &str) -> Result<(), BoxError> {
    let start = Instant::now();
    let mut accepted = 0;
    while accepted < 2 {
        match me(client, url, token).await? {
            StatusCode::OK => accepted += 1,
            // A key created elsewhere a moment ago is found by the store at once; anything
            // else (a 503 while a feed catches up) is retried for a while.
            status if start.elapsed() > GIVE_UP => {
                return Err(err(format!("{url} does not accept a new key: {status}")));
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    Ok(())
}

/// Polls until `url` refuses the key: when, and after how many requests; `None` past
/// [`GIVE_UP`].
async fn until_refused(
    client: &Client,
    url: &str,
    token: &str,
    poll: Duration,
) -> Result<Option<(Instant, u32)>, BoxError> {
    let start = Instant::now();
    let mut polls = 0;
    loop {
        let status = me(client, url, token).await?;
        polls += 1;
        match status {
            StatusCode::UNAUTHORIZED => return Ok(Some((Instant::now(), polls))),
            StatusCode::OK => {}
            other => return Err(err(format!("{url} answered {other} while polling"))),
        }
        if start.elapsed() > GIVE_UP {
            return Ok(None);
        }
        tokio::time::sleep(poll).await;
    }
}

/// Whether every instance still accepts a warmed key whose row was deleted behind their
/// backs (no announcement): only a verification cache can.
async fn caches_are_used(
    client: &Client,
    urls: &[String],
    jwt: &str,
    command: &str,
) -> Result<bool, BoxError> {
    // Let the feeds catch up first: a key that every instance can verify.
    let (token, id) = create_key(client, &urls[0], jwt, usize::MAX).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for url in urls {
        warm(client, url, &token).await?;
    }
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command.replace("{id}", &id))
        .status()?;
    if !status.success() {
        return Err(err(format!("--unannounced-delete failed: {status}")));
    }
    let mut all = true;
    for url in urls {
        all &= me(client, url, &token).await? == StatusCode::OK;
    }
    Ok(all)
}

fn write_csv(path: &str, feed: &str, instances: usize, samples: &[Sample]) -> Result<(), BoxError> {
    let new = !std::path::Path::new(path).exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if new {
        writeln!(
            file,
            "feed,instances,revocation,revoker,instance,revoke_call_ms,refused_after_return_ms,refused_after_send_ms,polls"
        )?;
    }
    for s in samples {
        writeln!(
            file,
            "{feed},{instances},{},{},{},{:.3},{:.3},{:.3},{}",
            s.revocation,
            s.revoker,
            s.instance,
            s.delete_ms,
            s.after_return_ms,
            s.after_send_ms,
            s.polls
        )?;
    }
    Ok(())
}
