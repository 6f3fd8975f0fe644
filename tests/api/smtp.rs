//! A real SMTP server for the tests: Debian's python3-aiosmtpd, one per test on its own
//! port, storing what it receives in a maildir; messages are parsed with Python's email
//! package, so the tests see what a mail client would. `slow` starts one whose every
//! message takes seconds and that refuses addresses starting with "refused"
//! (tests/api/smtp_handlers.py).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::ScratchDir;

pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    /// Seconds each message takes; `None` is aiosmtpd's own Mailbox.
    delay: Option<f64>,
    child: Option<Child>,
    _dir: ScratchDir,
}

/// The Python the Debian package installs for (a pyenv `python3` may shadow it).
fn python() -> String {
    std::env::var("KYOSO_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    /// Prepares a server on a free port without starting it (to test an outage).
    pub fn stopped() -> SmtpServer {
        let dir = ScratchDir::new();
        SmtpServer {
            port: free_port(),
            maildir: dir.0.join("maildir"),
            delay: None,
            child: None,
            _dir: dir,
        }
    }

    pub fn start() -> SmtpServer {
        let mut s = Self::stopped();
        s.up();
        s
    }

    /// A server that takes `delay` seconds over each message (see the module doc).
    pub fn slow(delay: f64) -> SmtpServer {
        let mut s = Self::stopped();
        s.delay = Some(delay);
        s.up();
        s
    }

    pub fn up(&mut self) {
        let mut c = Command::new(python());
        c.args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{}", self.port),
        ]);
        match self.delay {
            None => c
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&self.maildir),
            Some(d) => c
                .env(
                    "PYTHONPATH",
                    format!("{}/tests/api", env!("CARGO_MANIFEST_DIR")),
                )
                .args(["-c", "smtp_handlers.SlowMailbox"])
                .arg(&self.maildir)
                .arg(d.to_string()),
        };
        let child = c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (apt-get install python3-aiosmtpd)");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("smtp+plain://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, parsed, oldest first.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let script = r#"
import json, mailbox, sys
from email.header import decode_header, make_header
out = []
box = mailbox.Maildir(sys.argv[1], create=True)
for key, msg in sorted(box.items(), key=lambda kv: kv[1].get_date() or 0):
    parts = {}
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            attachments.append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "content": part.get_payload(decode=True).decode(part.get_content_charset() or 'utf-8'),
            })
        else:
            parts[part.get_content_type()] = part.get_payload(decode=True).decode(part.get_content_charset() or 'utf-8')
    out.append({
        "to": str(make_header(decode_header(msg["To"] or ""))),
        "from": str(make_header(decode_header(msg["From"] or ""))),
        "subject": str(make_header(decode_header(msg["Subject"] or ""))),
        "raw_subject": msg["Subject"],
        "message_id": msg["Message-ID"],
        "content_type": msg.get_content_type(),
        "list_unsubscribe": msg["List-Unsubscribe"],
        "list_unsubscribe_post": msg["List-Unsubscribe-Post"],
        "text": parts.get("text/plain"),
        "attachments": attachments,
        "html": parts.get("text/html"),
        "received": msg.get("X-MailFrom"),
    })
print(json.dumps(out))
"#;
        let out = Command::new(python())
            .args(["-c", script])
            .arg(&self.maildir)
            .output()
            .expect("parse the maildir");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        // Maildir order is by delivery time at one-second resolution; keep a stable order.
        v.sort_by(|a, b| {
            a["message_id"]
                .as_str()
                .cmp(&b["message_id"].as_str())
                .then(std::cmp::Ordering::Equal)
        });
        v
    }

    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.down();
    }
}
