//! What the Openprovider client tests share: a client of the sandbox with quick retries.
#![allow(dead_code)]

use std::time::Duration;

use opsync::openprovider::{Body, Client, ClientConfig, Credentials, RetryPolicy, Secret};
use opsync_testkit::sandbox::{generated_domains, Sandbox, Seed};

/// A `PUT` body from a JSON object.
pub fn body(value: serde_json::Value) -> Body {
    serde_json::from_value(value).unwrap()
}

/// Fast retries, so the tests do not wait for production backoff.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(10),
    }
}

/// A client with a timeout generous enough for a debug build on a busy machine.
pub fn client_for(sandbox: &Sandbox, token_cache: Option<std::path::PathBuf>) -> Client {
    client_with_timeout(sandbox, token_cache, Duration::from_secs(20))
}

pub fn client_with_timeout(
    sandbox: &Sandbox,
    token_cache: Option<std::path::PathBuf>,
    timeout: Duration,
) -> Client {
    let mut config = ClientConfig::new(Credentials {
        username: sandbox.username().to_string(),
        password: Secret::new(sandbox.password()),
    });
    config.base_url = sandbox.base_url();
    config.token_cache = token_cache;
    config.retry = quick_retries();
    config.timeout = timeout;
    Client::new(config).unwrap()
}

pub async fn sandbox_with(count: usize) -> Sandbox {
    Sandbox::start(Seed::new(generated_domains(count)), 0)
        .await
        .unwrap()
}
