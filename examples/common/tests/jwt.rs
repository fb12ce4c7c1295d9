//! `JwtAuth`: issued tokens verify; everything else is `JwtError::Invalid`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clab_keys::{JwtError, JwtVerifier as _};
use clab_keys_example_common::{JWT_AUDIENCE, JWT_ISSUER, JWT_TTL_SECS, JwtAuth, JwtSecret};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn unix_now_for_tests() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

const SECRET: &[u8] = b"an-example-secret-of-at-least-32-bytes";

fn auth() -> JwtAuth {
    JwtAuth::new(&JwtSecret::new(SECRET).unwrap()).unwrap()
}

fn claims(sub: &str) -> Value {
    let now = unix_now_for_tests();
    json!({ "sub": sub, "iat": now, "exp": now + 600, "iss": JWT_ISSUER, "aud": JWT_AUDIENCE })
}

fn sign(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn assert_invalid(auth: &JwtAuth, token: &str) {
    assert!(matches!(auth.verify_token(token), Err(JwtError::Invalid)));
    assert!(matches!(auth.verify(token).await, Err(JwtError::Invalid)));
}

#[tokio::test]
async fn an_issued_token_verifies() {
    let auth = auth();
    let token = auth.issue(42).unwrap();
    let identity = auth.verify(&token).await.unwrap();
    assert_eq!(identity.user_id.as_str(), "42");
    assert!(identity.scopes.is_none());
}

#[test]
fn issued_tokens_carry_the_documented_claims() {
    let token = auth().issue(7).unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims = payload(&token);
    assert_eq!(claims["sub"], "7");
    assert_eq!(claims["iss"], JWT_ISSUER);
    assert_eq!(claims["aud"], JWT_AUDIENCE);
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + JWT_TTL_SECS);
    assert_eq!(JWT_TTL_SECS, 3600);
    assert!(iat.abs_diff(unix_now_for_tests()) < 60);
}

#[tokio::test]
async fn an_expired_token_is_invalid() {
    let auth = auth();
    // Issued two hours ago: expired an hour ago, far beyond the leeway.
    let token = auth.issue_at(42, unix_now_for_tests() - 7200).unwrap();
    assert_invalid(&auth, &token).await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_invalid() {
    let other =
        JwtAuth::new(&JwtSecret::new(b"another-secret-that-is-32-bytes-long!").unwrap()).unwrap();
    let token = other.issue(42).unwrap();
    assert_invalid(&auth(), &token).await;
}

#[tokio::test]
async fn a_tampered_payload_is_invalid() {
    let auth = auth();
    let token = auth.issue(42).unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = payload(&token);
    claims["sub"] = json!("1");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_invalid(&auth, &parts.join(".")).await;
}

#[tokio::test]
async fn alg_none_is_invalid() {
    let auth = auth();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims("42").to_string());
    // Unsigned, and with a valid HS256 signature pasted on.
    let signed = auth.issue(42).unwrap();
    let signature = signed.rsplit('.').next().unwrap();
    assert_invalid(&auth, &format!("{header}.{body}.")).await;
    assert_invalid(&auth, &format!("{header}.{body}.{signature}")).await;
}

#[tokio::test]
async fn other_hmac_algorithms_are_invalid() {
    let auth = auth();
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(alg, SECRET, &claims("42"));
        assert_invalid(&auth, &token).await;
    }
}

#[tokio::test]
async fn an_rs256_header_is_invalid() {
    // Algorithm confusion: RS256 in the header, HMAC-signed with the shared secret.
    let auth = auth();
    let good = auth.issue(42).unwrap();
    let mut parts: Vec<&str> = good.split('.').collect();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    parts[0] = &header;
    assert_invalid(&auth, &parts.join(".")).await;
}

#[tokio::test]
async fn a_wrong_audience_is_invalid() {
    let mut c = claims("42");
    c["aud"] = json!("someone-else");
    assert_invalid(&auth(), &sign(Algorithm::HS256, SECRET, &c)).await;
}

#[tokio::test]
async fn a_wrong_issuer_is_invalid() {
    let mut c = claims("42");
    c["iss"] = json!("https://evil.example");
    assert_invalid(&auth(), &sign(Algorithm::HS256, SECRET, &c)).await;
}

#[tokio::test]
async fn missing_required_claims_are_invalid() {
    for claim in ["exp", "iss", "aud", "sub"] {
        let mut c = claims("42");
        c.as_object_mut().unwrap().remove(claim);
        assert_invalid(&auth(), &sign(Algorithm::HS256, SECRET, &c)).await;
    }
}

#[tokio::test]
async fn a_subject_that_is_not_a_user_id_is_invalid() {
    for sub in ["", "abc", "0", "-1", "1.5"] {
        assert_invalid(&auth(), &sign(Algorithm::HS256, SECRET, &claims(sub))).await;
    }
}

#[tokio::test]
async fn a_token_not_yet_valid_is_invalid() {
    let mut c = claims("42");
    c["nbf"] = json!(unix_now_for_tests() + 3600);
    assert_invalid(&auth(), &sign(Algorithm::HS256, SECRET, &c)).await;
}

#[tokio::test]
async fn garbage_is_invalid() {
    let auth = auth();
    for token in [
        "",
        "a.b.c",
        "not-a-jwt",
        "....",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
    ] {
        assert_invalid(&auth, token).await;
    }
}

#[test]
fn debug_does_not_show_the_key() {
    let debug = format!("{:?}", auth());
    assert!(
        !debug.contains(std::str::from_utf8(SECRET).unwrap()),
        "{debug}"
    );
    assert!(debug.contains("REDACTED"));
}

#[test]
fn a_short_secret_is_refused() {
    assert!(JwtSecret::new(b"too-short").is_err());
}
