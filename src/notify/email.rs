//! Email channels: a plain-text mail over SMTP through lettre's blocking transport, with
//! STARTTLS required (never a fallback to the clear), implicit TLS, or no TLS to a
//! loopback relay only (checked when picket.yaml is read).
//!
//! The subject is built from hostile text, so it is one line already (see
//! [`super::render`]); lettre encodes headers as well, and the tests prove a CR/LF in a
//! user name adds no header.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

use super::config::{SmtpConfig, TlsMode};
use super::render::Outgoing;
use super::SendError;

/// An email target, ready to send.
pub struct EmailTarget {
    transport: SmtpTransport,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub server: String,
    timeout: Duration,
}

impl EmailTarget {
    /// Builds the transport: reads the password and the extra root certificates now, so
    /// a missing file is a start-up error rather than a failure at the first alert.
    pub fn new(
        smtp: &SmtpConfig,
        from: Mailbox,
        to: Vec<Mailbox>,
        timeout: Duration,
        hello: &str,
    ) -> Result<EmailTarget, String> {
        let mut tls = TlsParameters::builder(smtp.host.clone());
        if let Some(ca) = &smtp.ca_file {
            let pem =
                std::fs::read(ca).map_err(|e| format!("smtp.ca_file {}: {e}", ca.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                format!("smtp.ca_file {}: not PEM certificates ({e})", ca.display())
            })?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = match smtp.tls {
            TlsMode::None => Tls::None,
            mode => {
                let params = tls
                    .build_rustls()
                    .map_err(|e| format!("smtp: TLS settings: {e}"))?;
                if mode == TlsMode::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(smtp.host.clone())
            .port(smtp.port())
            .tls(tls)
            .timeout(Some(timeout));
        if is_domain(hello) {
            builder = builder.hello_name(ClientId::Domain(hello.to_string()));
        }
        if let (Some(user), Some(file)) = (&smtp.username, &smtp.password_file) {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("smtp.password_file {}: {e}", file.display()))?;
            let password = text.lines().next().unwrap_or("").to_string();
            if password.is_empty() {
                return Err(format!("smtp.password_file {} is empty", file.display()));
            }
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(EmailTarget {
            transport: builder.build(),
            from,
            to,
            server: format!("{}:{}", smtp.host, smtp.port()),
            timeout,
        })
    }

    /// The message as it will be sent.
    pub fn message(&self, msg: &Outgoing) -> Result<Message, SendError> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(msg.subject())
            .message_id(None)
            .header(ContentType::TEXT_PLAIN);
        for t in &self.to {
            b = b.to(t.clone());
        }
        b.body(msg.email_body())
            .map_err(|e| SendError::Permanent(format!("building the mail: {e}")))
    }

    /// Sends the mail. SMTP's 5xx answers, and a server that does not offer STARTTLS,
    /// are not worth another attempt; a refused or broken connection, a timeout or a
    /// 4xx answer is.
    pub fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let m = self.message(msg)?;
        self.transport.send(&m).map(|_| ()).map_err(|e| {
            let text = if timed_out(&e) {
                // A socket read timeout shows as EAGAIN ("Resource temporarily
                // unavailable"): say what happened instead.
                format!(
                    "{}: timed out: no answer within {} s",
                    self.server,
                    self.timeout.as_secs()
                )
            } else {
                format!("{}: {e}", self.server)
            };
            if e.is_permanent() || e.is_client() {
                SendError::Permanent(text)
            } else {
                SendError::Transient(text)
            }
        })
    }
}

/// Whether an SMTP error is a timeout (lettre's own check, or a read that gave up with
/// EAGAIN/ETIMEDOUT under the socket's timeout).
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    if e.is_timeout() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// A name EHLO can carry: letters, digits, `-` and `.`.
fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn target() -> EmailTarget {
        let smtp = SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(2525),
            tls: TlsMode::None,
            username: None,
            password_file: None,
            ca_file: None,
        };
        EmailTarget::new(
            &smtp,
            "picket@example.org".parse().unwrap(),
            vec!["ops@example.org".parse().unwrap()],
            Duration::from_secs(1),
            "web1",
        )
        .unwrap()
    }

    #[test]
    fn a_hostile_user_name_adds_no_header() {
        let mut a = crate::notify::test_alert(
            1,
            Severity::High,
            &[("user", "x\r\nBcc: evil@example.org\r\nX-Evil: 1")],
        );
        a.alert.title = "Title\r\nX-Injected: yes".into();
        a.alert.evidence = vec!["line\r\nX-Evidence: 1".into()];
        let m = target().message(&Outgoing::single("web1", a)).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        let (head, _) = raw.split_once("\r\n\r\n").unwrap();
        for h in ["Bcc:", "X-Evil:", "X-Injected:", "X-Evidence:"] {
            assert!(
                !head.lines().any(|l| l.starts_with(h)),
                "{h} injected:\n{head}"
            );
        }
        assert_eq!(m.envelope().to().len(), 1, "only ops@ receives it");
    }

    #[test]
    fn missing_secret_files_are_start_up_errors() {
        let smtp = SmtpConfig {
            host: "mail.example".into(),
            port: None,
            tls: TlsMode::Starttls,
            username: Some("u".into()),
            password_file: Some("/nonexistent/smtp.pass".into()),
            ca_file: None,
        };
        let err = EmailTarget::new(
            &smtp,
            "a@b.example".parse().unwrap(),
            vec![],
            Duration::from_secs(1),
            "h",
        )
        .err()
        .unwrap();
        assert!(err.contains("/nonexistent/smtp.pass"), "{err}");
    }
}
