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

/// How long lettre waits for each SMTP command (connecting, each reply, the data). A
/// whole send is a handful of commands, so it lasts a few times this at worst; the
/// sender's lease (`SenderConfig::lease`) is kept well above that.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("SMTP URL: {0}")]
    Url(String),
    /// The server or the network is away, slow or busy (no connection, a timeout, TLS,
    /// a 4xx reply, a full disk for files): the same message may go later.
    #[error("{0}")]
    Unavailable(String),
    /// The server refused this message or its recipient for good (see `refuses_message`).
    #[error("{0}")]
    Refused(String),
}

impl TransportError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, TransportError::Refused(_))
    }
}

/// Whether a 5xx reply is about the message or its recipient rather than about the
/// deployment's link to its relay. 501 (an address's syntax) and 550–559 (mailbox
/// unavailable, not local, storage exceeded, name not allowed, transaction failed)
/// will not change by trying again. Other 5xx replies (500/502–504 command errors,
/// 530–538 authentication, 521 no service) mean the relay or our settings are wrong for
/// every mail alike: treated as an outage, they delay mail until the admins fix it
/// instead of failing the whole queue.
fn refuses_message(code: u16) -> bool {
    code == 501 || (550..=559).contains(&code)
}

fn smtp_error(e: lettre::transport::smtp::Error) -> TransportError {
    match e.status().map(u16::from) {
        Some(code) if refuses_message(code) => TransportError::Refused(e.to_string()),
        _ => TransportError::Unavailable(e.to_string()),
    }
}

/// Percent-decoding of the URL's user and password; a `%` not followed by two hex digits
/// is kept as it is.
fn decode(s: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%'
            && let [hi, lo, after @ ..] = tail
            && let (Some(hi), Some(lo)) = (hex(*hi), hex(*lo))
            && let Ok(byte) = u8::try_from(hi * 16 + lo)
        {
            out.push(byte);
            rest = after;
            continue;
        }
        out.push(b);
        rest = tail;
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
            .timeout(Some(SMTP_TIMEOUT))
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
            Transport::Smtp(t) => t.send(message).map(|_| ()).map_err(smtp_error),
            Transport::Files(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| TransportError::Unavailable(e.to_string()))?;
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, message.formatted())
                    .map_err(|e| TransportError::Unavailable(e.to_string()))?;
                std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
                    .map_err(|e| TransportError::Unavailable(e.to_string()))
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

    #[test]
    fn only_refusals_of_the_message_or_recipient_are_permanent() {
        for code in [501, 550, 551, 552, 553, 554] {
            assert!(refuses_message(code), "{code}");
        }
        // The relay away or busy, or our settings wrong for every mail: an outage.
        for code in [421, 450, 451, 452, 500, 502, 503, 504, 521, 530, 535, 538] {
            assert!(!refuses_message(code), "{code}");
        }
    }
}
