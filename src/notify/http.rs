//! Webhook and Slack channels: one POST of JSON per message, over ureq (blocking, rustls
//! with ring and the webpki roots).
//!
//! Redirects are not followed (a webhook that moved should be reconfigured, and a POST
//! must not wander off with its `Authorization` header), no proxy is used (Picket
//! connects where the URL says), and an error never repeats the URL's path or a header
//! value: both are where webhook secrets live.

use std::time::Duration;

use super::render::Outgoing;
use super::SendError;

/// The two JSON shapes a channel can POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Picket,
    Slack,
}

/// Most bytes of an error answer kept for the delivery log.
const MAX_ANSWER: usize = 200;

/// A webhook target, ready to send.
pub struct HttpTarget {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub shape: Shape,
    agent: ureq::Agent,
}

impl HttpTarget {
    pub fn new(
        url: String,
        headers: Vec<(String, String)>,
        shape: Shape,
        timeout: Duration,
    ) -> HttpTarget {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .user_agent(concat!("picket/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HttpTarget {
            url,
            headers,
            shape,
            agent,
        }
    }

    /// The URL's host (what the API shows).
    pub fn host(&self) -> String {
        super::config::url_host(&self.url).unwrap_or_default()
    }

    /// POSTs the message; a 2xx is success. Connection failures, timeouts, 5xx, 408 and
    /// 429 are worth another attempt; any other answer is not (a 400 or 401 will not
    /// change by itself).
    pub fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let body = match self.shape {
            Shape::Picket => msg.json(),
            Shape::Slack => msg.slack(),
        };
        let body = serde_json::to_vec(&body).map_err(|e| SendError::Permanent(e.to_string()))?;
        let mut req = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let resp = req.send(&body[..]).map_err(|e| {
            SendError::Transient(format!(
                "{}: {}",
                super::config::redact_url(&self.url),
                self.redact(&e.to_string())
            ))
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = resp
            .into_body()
            .with_config()
            .limit(4096)
            .read_to_string()
            .unwrap_or_default();
        let answer = super::render::one_line(answer.trim());
        let answer: String = answer.chars().take(MAX_ANSWER).collect();
        let message = format!(
            "{} answered HTTP {}{}",
            super::config::redact_url(&self.url),
            status.as_u16(),
            if answer.is_empty() {
                String::new()
            } else {
                format!(": {}", self.redact(&answer))
            }
        );
        if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            Err(SendError::Transient(message))
        } else {
            Err(SendError::Permanent(message))
        }
    }

    /// Takes the URL's path and the header values out of a text (an error message).
    fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some((_, rest)) = self.url.split_once("://") {
            if let Some(i) = rest.find('/') {
                let path = &rest[i..];
                if path.len() > 1 {
                    out = out.replace(path, "/…");
                }
            }
        }
        for (_, v) in &self.headers {
            if v.len() >= 4 {
                out = out.replace(v.as_str(), "…");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_do_not_repeat_secrets() {
        let t = HttpTarget::new(
            "https://hooks.example/services/T0/B1/s3cret".into(),
            vec![("Authorization".into(), "Bearer t0p-secret".into())],
            Shape::Slack,
            Duration::from_secs(1),
        );
        let r = t.redact("echo: /services/T0/B1/s3cret with Bearer t0p-secret");
        assert!(!r.contains("s3cret") && !r.contains("t0p-secret"), "{r}");
        assert_eq!(t.host(), "hooks.example");
    }
}
