//! The report email over SMTP (lettre): one multipart message, plain text and HTML, as
//! the engine rendered it, to the admins whose role receives System emails.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opsync_engine::Report;

use crate::config::MailSection;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail is not configured: {0}")]
    Config(String),
    #[error("the report could not be sent: {0}")]
    Send(String),
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    extra_to: Vec<Mailbox>,
}

impl Mailer {
    /// A mailer for `[mail]`. STARTTLS unless told otherwise; `none` (no encryption) only
    /// to a relay on this machine, so credentials and reports never cross a network in
    /// the clear.
    pub fn new(mail: &MailSection) -> Result<Mailer, MailError> {
        let host = mail.smtp_host.as_deref().unwrap_or("localhost");
        let security = mail.smtp_security.as_deref().unwrap_or("starttls");
        let mut builder = match security {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailError::Config(e.to_string()))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailError::Config(e.to_string()))?,
            "none" if is_local(host) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            "none" => {
                return Err(MailError::Config(format!(
                    "mail.smtp_security = \"none\" is only allowed for a relay on this machine, not {host}"
                )))
            }
            other => {
                return Err(MailError::Config(format!(
                    "mail.smtp_security must be starttls, tls or none, not {other:?}"
                )))
            }
        };
        if let Some(port) = mail.smtp_port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(password)) = (&mail.smtp_username, &mail.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        let from = mail
            .from
            .as_deref()
            .ok_or_else(|| MailError::Config("mail.from is not set".into()))?
            .parse::<Mailbox>()
            .map_err(|e| MailError::Config(format!("mail.from: {e}")))?;
        let extra_to = mail
            .to
            .iter()
            .map(|a| {
                a.parse::<Mailbox>()
                    .map_err(|e| MailError::Config(format!("mail.to {a:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Mailer {
            transport: builder.build(),
            from,
            extra_to,
        })
    }

    /// Sends `report` to `admins` (`(name, email)`) and the configured extra recipients.
    /// Returns how many recipients it went to.
    pub async fn send(
        &self,
        report: &Report,
        admins: &[(String, String)],
    ) -> Result<usize, MailError> {
        let to = self.recipients(admins);
        if to.is_empty() {
            return Err(MailError::Config(
                "no recipient: no active admin has System emails and mail.to is empty".into(),
            ));
        }
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(&report.subject);
        for mailbox in &to {
            message = message.to(mailbox.clone());
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(
                report.text.clone(),
                report.html.clone(),
            ))
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(to.len())
    }

    /// Connects, greets, upgrades to TLS and authenticates as configured, then says
    /// goodbye: everything a report needs but the message itself.
    pub async fn test_connection(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Send(
                "the server closed the connection after the greeting".into(),
            )),
            Err(e) => Err(MailError::Send(e.to_string())),
        }
    }

    /// Who a report goes to: `admins` (`(name, email)`) with a usable address, then the
    /// configured extra recipients.
    pub fn recipients(&self, admins: &[(String, String)]) -> Vec<Mailbox> {
        let mut to: Vec<Mailbox> = admins
            .iter()
            .filter_map(|(name, email)| {
                let address = email.parse().ok()?;
                Some(Mailbox::new(
                    (!name.is_empty()).then(|| name.clone()),
                    address,
                ))
            })
            .collect();
        to.extend(self.extra_to.iter().cloned());
        to
    }
}

fn is_local(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}
