//! The report email through a real SMTP conversation to the sink.

use opsync::config::MailSection;
use opsync::mail::{MailError, Mailer};
use opsync_engine::{render_report as render, Report, ReportInput};
use opsync_testkit::scenarios;
use opsync_testkit::smtp_sink::SmtpSink;

fn report() -> Report {
    let response =
        opsync_engine::decide_json(&scenarios::named("contract-example").request).unwrap();
    render(&ReportInput {
        response: serde_json::from_slice(&response).unwrap(),
        dry_run: false,
        send_empty: false,
        failures: Vec::new(),
        tracking: None,
        links: None,
        duration_ms: None,
    })
}

fn local(port: u16) -> MailSection {
    MailSection {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        smtp_security: Some("none".into()),
        from: Some("opsync <opsync@example.net>".into()),
        to: vec!["noc@example.net".into()],
        ..MailSection::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_arrives_as_text_and_html_for_every_recipient() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::new(&local(sink.port())).unwrap();
    let admins = vec![("Alice Admin".to_string(), "alice@example.net".to_string())];
    let sent = mailer.send(&report(), &admins).await.unwrap();
    assert_eq!(sent, 2);

    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "one message for all recipients");
    let mail = &mails[0];
    assert_eq!(mail.from, "opsync@example.net");
    assert_eq!(mail.to, vec!["alice@example.net", "noc@example.net"]);
    for needle in [
        "Subject: Domain Synchronisation Report: 1 domain changed",
        "multipart/alternative",
        "Content-Type: text/plain",
        "Content-Type: text/html",
        "To: \"Alice Admin\" <alice@example.net>, noc@example.net",
    ] {
        assert!(
            mail.data.contains(needle),
            "{needle:?} missing from:\n{}",
            mail.data
        );
    }
    assert!(
        mail.data.contains("2026-05-19"),
        "the change table travels in the body"
    );
}

#[tokio::test]
async fn no_recipient_is_an_error_not_a_silent_success() {
    let sink = SmtpSink::start().await.unwrap();
    let mut section = local(sink.port());
    section.to.clear();
    let err = Mailer::new(&section)
        .unwrap()
        .send(&report(), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Config(_)));
    assert!(
        err.to_string()
            .contains("no active admin has System emails"),
        "{err}"
    );
    assert!(sink.mails().is_empty());
}

#[test]
fn unencrypted_smtp_is_refused_beyond_this_machine() {
    let mut section = local(25);
    section.smtp_host = Some("mail.example.net".into());
    let err = Mailer::new(&section).err().expect("refused");
    assert!(
        err.to_string()
            .contains("only allowed for a relay on this machine"),
        "{err}"
    );
    section.smtp_security = Some("plain".into());
    let err = Mailer::new(&section).err().expect("refused");
    assert!(
        err.to_string().contains("must be starttls, tls or none"),
        "{err}"
    );
}
