//! Message templates: one folder per message under `templates/`, with a subject and a
//! text body per locale. Placeholders are `{name}`; every value is plain text.

use crate::domain::vocab::Locale;

struct Template {
    name: &'static str,
    subject_ja: &'static str,
    body_ja: &'static str,
    subject_en: &'static str,
    body_en: &'static str,
}

macro_rules! template {
    ($name:literal) => {
        Template {
            name: $name,
            subject_ja: include_str!(concat!("templates/", $name, "/subject.ja.txt")),
            body_ja: include_str!(concat!("templates/", $name, "/body.ja.txt")),
            subject_en: include_str!(concat!("templates/", $name, "/subject.en.txt")),
            body_en: include_str!(concat!("templates/", $name, "/body.en.txt")),
        }
    };
}

const TEMPLATES: &[Template] = &[template!("proposal_received")];

/// A rendered message.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub body_text: String,
}

fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Renders message `name` in `locale`. Panics on an unknown name: names are constants.
pub fn render(name: &str, locale: Locale, values: &[(&str, &str)]) -> Rendered {
    let t = TEMPLATES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no mail template {name}"));
    let (subject, body) = match locale {
        Locale::Ja => (t.subject_ja, t.body_ja),
        Locale::En => (t.subject_en, t.body_en),
    };
    Rendered {
        subject: fill(subject.trim(), values),
        body_text: fill(body, values),
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
            let r = render("proposal_received", locale, &values);
            assert!(
                !r.subject.contains('{') && !r.body_text.contains('{'),
                "{r:?}"
            );
            assert!(r.subject.contains("2026-000001"));
        }
    }
}
