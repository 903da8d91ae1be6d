//! The session token: one login per run, the token reused by every call and cached
//! across runs for its lifetime in a file only its owner can read. On code 196 a call
//! logs in again once (pages in flight share that one new login) and retries once.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::transport::Call;
use super::{ApiError, Client, Secret};

/// A token lives about two days; reuse a cached one for less than that.
const TOKEN_LIFETIME: Duration = Duration::from_secs(40 * 3600);

#[derive(Serialize, Deserialize)]
struct CachedToken {
    base_url: String,
    username: String,
    token: String,
    obtained_at: u64,
}

impl Client {
    /// A session for the calls to come: the cached token when there is one (`true`),
    /// else a new login (`false`). A cached token Openprovider no longer takes is
    /// replaced by a new login on the first call.
    pub async fn session(&self) -> Result<bool, ApiError> {
        let cached = self.token.lock().await.is_some() || self.cached_token().is_some();
        self.token(None).await?;
        Ok(cached)
    }

    /// The token to use: the one in memory, else a cached one, else a new login. With
    /// `rejected`, that token is dropped and a new one obtained, unless another call
    /// already renewed it meanwhile (pages in flight share one new login).
    pub(super) async fn token(&self, rejected: Option<&Secret>) -> Result<Secret, ApiError> {
        let mut slot = self.token.lock().await;
        if let Some(rejected) = rejected {
            if slot.as_ref().is_none_or(|current| current == rejected) {
                *slot = None;
                self.forget_cached_token();
            }
        }
        if let Some(token) = slot.as_ref() {
            return Ok(token.clone());
        }
        if rejected.is_none() {
            if let Some(token) = self.cached_token() {
                *slot = Some(token.clone());
                return Ok(token);
            }
        }
        let token = self.login().await?;
        self.store_token(&token);
        *slot = Some(token.clone());
        Ok(token)
    }

    async fn login(&self) -> Result<Secret, ApiError> {
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({
            "username": self.config.credentials.username,
            "password": self.config.credentials.password.expose(),
            // As Openprovider's own module sends it: the token is valid from any address.
            "ip": "0.0.0.0",
        });
        let call = Call {
            method: &reqwest::Method::POST,
            path: "/auth/login",
            query: &[],
            body: Some(&body),
        };
        match self.send(call, None).await {
            Ok(data) => data["token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(Secret::new)
                .ok_or_else(|| ApiError::Unavailable {
                    attempts: 1,
                    last: "the login answer held no token".into(),
                }),
            Err(ApiError::Business { code: 196, .. }) => Err(ApiError::Login),
            Err(e) => Err(e),
        }
    }

    fn cached_token(&self) -> Option<Secret> {
        let path = self.config.token_cache.as_ref()?;
        if path.exists() {
            if let Err(why) = crate::private_file::is_private(path) {
                tracing::warn!(
                    path = %path.display(),
                    %why,
                    "the Openprovider token cache is not private: not used; a new login replaces it"
                );
                return None;
            }
        }
        let cached: CachedToken = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        let age = now().saturating_sub(cached.obtained_at);
        (cached.base_url == self.config.base_url
            && cached.username == self.config.credentials.username
            && age < TOKEN_LIFETIME.as_secs())
        .then(|| Secret::new(cached.token))
    }

    fn store_token(&self, token: &Secret) {
        let Some(path) = self.config.token_cache.as_ref() else {
            return;
        };
        let cached = CachedToken {
            base_url: self.config.base_url.clone(),
            username: self.config.credentials.username.clone(),
            token: token.expose().to_string(),
            obtained_at: now(),
        };
        let written = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                crate::private_file::write(path, &serde_json::to_vec(&cached).unwrap_or_default())
            });
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache the Openprovider token");
        }
    }

    fn forget_cached_token(&self) {
        if let Some(path) = self.config.token_cache.as_ref() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
