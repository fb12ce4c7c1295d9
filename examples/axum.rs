//! The smallest complete axum app with clab-keys: `cargo run --example axum --features axum`.
//! Keys live in memory; the printed development JWT stands in for your login.
use axum::{Json, Router, routing::get};
use clab_keys::axum::{CurrentUser, management_router};
use clab_keys::{CredentialRouter, JwtError, JwtIdentity, JwtVerifier, KeyHasher, KeyService};
use clab_keys::{MemoryStore, Pepper, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

/// Your session check behind clab-keys' trait: HS256 JWTs whose `sub` is the user id.
#[derive(Debug)]
struct Sessions(DecodingKey);

#[async_trait::async_trait]
impl JwtVerifier for Sessions {
    async fn verify(&self, jwt: &str) -> Result<JwtIdentity, JwtError> {
        let claims =
            jsonwebtoken::decode::<Value>(jwt, &self.0, &Validation::new(Algorithm::HS256))
                .map_err(|_| JwtError::Invalid)?
                .claims;
        let sub = claims["sub"].as_str().ok_or(JwtError::Invalid)?;
        Ok(JwtIdentity::new(
            UserId::new(sub).map_err(|_| JwtError::Invalid)?,
        ))
    }
}

/// Accepts a JWT or an API key, like every route behind `CurrentUser`.
async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({ "user_id": user.user_id().as_str(), "auth": user.kind().as_str() }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Development values only: a real app reads both secrets from its configuration.
    let (jwt_secret, (pepper, _)) = (b"dev-only-jwt-secret-change-me-32b", Pepper::generate()?);
    let keys = KeyService::builder(MemoryStore::new(), KeyHasher::hmac(1, pepper)?).build()?;
    let credentials =
        CredentialRouter::new(keys).with_jwt(Sessions(DecodingKey::from_secret(jwt_secret)?));
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let claims = json!({ "sub": "1", "exp": exp });
    let jwt = jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(jwt_secret)?,
    )?;

    let app = Router::new()
        .route("/me", get(me))
        .merge(management_router(clab_keys::MANAGEMENT_PATH))
        .with_state(credentials);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("JWT for user 1 (valid 1 h): {jwt}");
    println!("curl -H 'Authorization: Bearer {jwt}' -H 'Content-Type: application/json' \\");
    println!("  -d '{{\"name\": \"laptop\"}}' http://127.0.0.1:3000/api/user/api-keys");
    println!("then: curl -H 'Authorization: Bearer <the token>' http://127.0.0.1:3000/me");
    // With a database store, flush pending `last_used_at` writes at shutdown (see the guide).
    axum::serve(listener, app).await?;
    Ok(())
}
