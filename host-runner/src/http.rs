//! Openprovider's HTTP, as the run spells it out: one request sent exactly as given
//! (method, URL, query, JSON body, bearer token) over rustls with certificate checks on,
//! its status and body handed back, or one line saying why no answer came. What the
//! answer means is the engine's business.

use std::time::Duration;

use opsync_engine::run::Http;

/// The HTTP client a run sends its calls through.
pub struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub fn new() -> Result<Transport, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("opsync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Transport { client })
    }

    /// Sends `call`; its HTTP status and body, or why none came (the engine names the
    /// call; no URL, header or secret is in the text).
    pub async fn send(&self, call: &Http) -> Result<(u16, Vec<u8>), String> {
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|_| format!("{:?} is not an HTTP method", call.method))?;
        let mut request = self
            .client
            .request(method, &call.url)
            .query(&call.query)
            .timeout(Duration::from_millis(call.timeout_ms.max(1)));
        if let Some(token) = &call.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                without_url(&e)
            }
        })?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                format!("reading the answer: {}", without_url(&e))
            }
        })?;
        tracing::debug!(
            method = %call.method,
            path = path_of(&call.url),
            status,
            bytes = body.len(),
            "Openprovider answered"
        );
        Ok((status, body.to_vec()))
    }
}

/// The URL's path, for messages.
fn path_of(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text.replace("()", "").trim().to_string()
}
