//! Where mail goes: an SMTP server (pooled connections; STARTTLS required, TLS from the
//! start, or plain only when the URL says so explicitly) or, on the embedded default,
//! .eml files under the data directory.

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use std::path::PathBuf;
use std::time::Duration;

pub enum Transport {
    Smtp(Box<SmtpTransport>),
    Files(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("SMTP URL: {0}")]
    Url(String),
    #[error("{0}")]
    Send(String),
}

/// Percent-decodes the user and password of the URL.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Transport {
    /// From `smtp://[user:pass@]host[:port]` (STARTTLS required: a server that does not
    /// offer it, or an attacker who strips it from the greeting, gets no login and no
    /// mail), `smtps://…` (TLS from the start, port 465) or `smtp+plain://…` (no TLS at
    /// all, for a relay on the same host; chosen only by this explicit scheme, and
    /// [`Transport::is_plain_smtp`] lets start-up warn about it).
    pub fn smtp(url: &str) -> Result<Transport, TransportError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| TransportError::Url("missing scheme".into()))?;
        let (auth, hostport) = match rest.trim_end_matches('/').rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest.trim_end_matches('/')),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| TransportError::Url(format!("bad port {p}")))?,
                ),
            ),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err(TransportError::Url("missing host".into()));
        }
        let params =
            || TlsParameters::new(host.to_owned()).map_err(|e| TransportError::Url(e.to_string()));
        let (tls, default_port) = match scheme {
            "smtp" => (Tls::Required(params()?), 587),
            "smtps" => (Tls::Wrapper(params()?), 465),
            "smtp+plain" => (Tls::None, 25),
            other => return Err(TransportError::Url(format!("unknown scheme {other}"))),
        };
        let mut b = SmtpTransport::builder_dangerous(host)
            .port(port.unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)))
            .pool_config(PoolConfig::new().max_size(4));
        if let Some(a) = auth {
            let (user, pass) = a.split_once(':').unwrap_or((a, ""));
            b = b.credentials(Credentials::new(decode(user), decode(pass)));
        }
        Ok(Transport::Smtp(Box::new(b.build())))
    }

    /// Whether `url` names an SMTP connection without TLS (`smtp+plain://`), which sends
    /// the login and every mail readable by anyone on the path.
    pub fn is_plain_smtp(url: &str) -> bool {
        url.starts_with("smtp+plain://")
    }

    pub fn files(dir: PathBuf) -> Transport {
        Transport::Files(dir)
    }

    /// Sends one message; `name` names the file for the file transport.
    pub fn send(&self, message: &Message, name: &str) -> Result<(), TransportError> {
        match self {
            Transport::Smtp(t) => t
                .send(message)
                .map(|_| ())
                .map_err(|e| TransportError::Send(e.to_string())),
            Transport::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| TransportError::Send(e.to_string()))?;
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, message.formatted())
                    .map_err(|e| TransportError::Send(e.to_string()))?;
                std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
                    .map_err(|e| TransportError::Send(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_percent_decoded_without_panics() {
        assert_eq!(decode("p%40ss%3Aword"), "p@ss:word");
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz%e3%81%82"), "%zzあ");
    }

    #[test]
    fn schemes() {
        assert!(Transport::smtp("smtp://u:p@127.0.0.1:2525").is_ok());
        assert!(Transport::smtp("smtps://127.0.0.1").is_ok());
        assert!(Transport::smtp("smtp+plain://127.0.0.1").is_ok());
        assert!(Transport::smtp("smtp+starttls-optional://127.0.0.1").is_err());
        assert!(Transport::is_plain_smtp("smtp+plain://h"));
        assert!(!Transport::is_plain_smtp("smtp://h"));
    }
}
