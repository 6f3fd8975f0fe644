//! Message templates: one folder per message under `templates/`, with a subject and a
//! text body per locale, found by type (`Template`). Placeholders are `{name}`; values are plain text. The HTML part
//! is the text part set in one shared layout (`templates/layout.html`): paragraphs kept,
//! everything escaped, addresses made links. One text per message keeps the two parts
//! saying the same thing, which matters where terminals show plain text only (LGWAN).

use crate::values::Locale;
use crate::values::vocab::NoticeKind;

/// The four texts of one message.
struct Texts {
    subject_ja: &'static str,
    body_ja: &'static str,
    subject_en: &'static str,
    body_en: &'static str,
}

/// Declares every message once: its variant, its folder, and (by `include_str!`) its
/// four texts, so a message without a text does not compile and every variant is in
/// `Template::ALL`, which a test renders in both languages.
macro_rules! templates {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// A message kyoso sends; the name is its folder under `templates/` and the
        /// `kind` of its outbox rows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Template { $($variant),* }

        impl Template {
            pub const ALL: &'static [Template] = &[$(Template::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Template::$variant => $name),* }
            }

            fn texts(self) -> Texts {
                match self {
                    $(Template::$variant => Texts {
                        subject_ja: include_str!(concat!("templates/", $name, "/subject.ja.txt")),
                        body_ja: include_str!(concat!("templates/", $name, "/body.ja.txt")),
                        subject_en: include_str!(concat!("templates/", $name, "/subject.en.txt")),
                        body_en: include_str!(concat!("templates/", $name, "/body.en.txt")),
                    }),*
                }
            }
        }
    };
}

templates! {
    ProposalReceived = "proposal_received",
    ProposalRouted = "proposal_routed",
    ProposalRoutedRelated = "proposal_routed_related",
    ProposalReturned = "proposal_returned",
    ProposalStatus = "proposal_status",
    ProposalReply = "proposal_reply",
    DeadlineReminder = "deadline_reminder",
    NeedExpired = "need_expired",
    MatchAlert = "match_alert",
    SavedSearch = "saved_search",
    NewProposal = "new_proposal",
    WeeklyReport = "weekly_report",
    Digest = "digest",
    EmailVerification = "email_verification",
    LoginLocked = "login_locked",
    StaffInvitation = "staff_invitation",
}

impl From<NoticeKind> for Template {
    /// Each kind of notice is sent with its own message; a new kind does not compile
    /// until it has one.
    fn from(k: NoticeKind) -> Template {
        match k {
            NoticeKind::ProposalReceived => Template::ProposalReceived,
            NoticeKind::ProposalRouted => Template::ProposalRouted,
            NoticeKind::ProposalReturned => Template::ProposalReturned,
            NoticeKind::ProposalStatus => Template::ProposalStatus,
            NoticeKind::ProposalReply => Template::ProposalReply,
            NoticeKind::DeadlineReminder => Template::DeadlineReminder,
            NoticeKind::NeedExpired => Template::NeedExpired,
            NoticeKind::MatchAlert => Template::MatchAlert,
            NoticeKind::SavedSearch => Template::SavedSearch,
            NoticeKind::NewProposal => Template::NewProposal,
            NoticeKind::WeeklyReport => Template::WeeklyReport,
        }
    }
}

const LAYOUT: &str = include_str!("templates/layout.html");

/// A rendered message.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
}

fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text part as HTML: escaped, paragraphs and line breaks kept, http(s) addresses
/// turned into links.
pub fn text_to_html(text: &str, subject: &str, lang: &str) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p
                .lines()
                .map(|line| {
                    line.split(' ')
                        .map(|w| {
                            if w.starts_with("https://") || w.starts_with("http://") {
                                let e = escape_html(w);
                                format!("<a href=\"{e}\">{e}</a>")
                            } else {
                                escape_html(w)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect();
    LAYOUT
        .replace("{lang}", lang)
        .replace("{title}", &escape_html(subject))
        .replace("{content}", &paragraphs.join("\n"))
}

/// Renders `template` in `locale`.
pub fn render(template: Template, locale: Locale, values: &[(&str, &str)]) -> Rendered {
    let t = template.texts();
    let (subject, body) = match locale {
        Locale::Ja => (t.subject_ja, t.body_ja),
        Locale::En => (t.subject_en, t.body_en),
    };
    let subject = fill(subject.trim(), values).replace(['\r', '\n'], " ");
    let body_text = fill(body, values);
    let body_html = Some(text_to_html(&body_text, &subject, locale.as_str()));
    Rendered {
        subject,
        body_text,
        body_html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        let values = [
            ("submitter_name", "山田 花子"),
            ("municipality", "横浜市"),
            ("receipt_number", "2026-000001"),
            ("title", "提案"),
            ("received_at", "2026年11月23日 10:00"),
            ("proposer_due_on", "2026年12月8日"),
        ];
        for locale in [Locale::Ja, Locale::En] {
            let r = render(Template::ProposalReceived, locale, &values);
            assert!(
                !r.subject.contains('{') && !r.body_text.contains('{'),
                "{r:?}"
            );
            assert!(r.subject.contains("2026-000001"));
            assert!(r.body_html.unwrap().contains("<p>"));
        }
    }

    #[test]
    fn html_is_escaped_and_links_work() {
        let html = text_to_html(
            "a <b> & c\n\nsee https://example.jp/x?a=1&b=2",
            "件名",
            "ja",
        );
        assert!(html.contains("a &lt;b&gt; &amp; c"));
        assert!(html.contains("<a href=\"https://example.jp/x?a=1&amp;b=2\">"));
        assert!(html.contains("<title>件名</title>"));
    }
}
