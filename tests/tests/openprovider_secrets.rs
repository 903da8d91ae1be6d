//! The Openprovider client's logs and errors never hold the password or the token.
//!
//! A binary of its own: the test catches every log line with a thread-local subscriber,
//! and tracing caches a log call's interest process-wide, so another test's thread that
//! reaches the same call at the same moment could leave it switched off here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsync_testkit::sandbox::Faults;
use serde_json::json;

mod client;

use client::{body, client_with_timeout, sandbox_with};

/// Everything the client says, in logs and errors, through a run that meets every fault.
/// One thread: the log subscriber set here is the thread's own.
#[tokio::test(flavor = "current_thread")]
async fn no_output_ever_holds_the_password_or_the_token() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let logs = logs.clone();
        move || LogWriter(logs.clone())
    };
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(writer)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = sandbox_with(1_100).await;
    let dir = std::env::temp_dir().join(format!("opsync-grep-{}", std::process::id()));
    let cache = dir.join("token.json");
    let client = client_with_timeout(&sandbox, Some(cache.clone()), Duration::from_secs(3));
    let mut said = Vec::new();
    for faults in [
        Faults {
            fail_next: 2,
            fail_bare_502: true,
            ..Faults::default()
        },
        Faults {
            expire_token_after: Some(1),
            ..Faults::default()
        },
        Faults {
            malformed_next: 1,
            truncated_next: 1,
            ..Faults::default()
        },
        Faults {
            maintenance: true,
            ..Faults::default()
        },
        Faults {
            hang_next: 1,
            hang_ms: 8_000,
            ..Faults::default()
        },
        Faults {
            fail_next: 1,
            ..Faults::default()
        },
        Faults {
            block_after_identical: Some(0),
            ..Faults::default()
        },
    ] {
        sandbox.set_faults(faults);
        said.push(format!("{:?}", client.list_all().await.map(|l| l.problems)));
        said.push(format!(
            "{:?}",
            client.update(1, &body(json!({"autorenew": "off"}))).await
        ));
    }
    said.push(format!("{:?}", client.config()));
    let token: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap_or_default()).unwrap_or_default();
    let everything = format!(
        "{}\n{}",
        String::from_utf8_lossy(&logs.lock().unwrap()),
        said.join("\n")
    );
    assert!(
        everything.contains("retrying Openprovider call"),
        "the logs were captured"
    );
    assert!(
        !everything.contains(sandbox.password()),
        "the password leaked:\n{everything}"
    );
    assert!(!everything.contains("sbx"), "a token leaked:\n{everything}");
    if let Some(t) = token["token"].as_str() {
        assert!(!everything.contains(t));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
