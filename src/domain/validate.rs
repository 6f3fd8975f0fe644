//! Checks on client-supplied text, collected into field errors so one response lists
//! every problem. Limits match the database's CHECK constraints.

use super::error::{AppError, FieldError};

/// Collects field errors; `finish` turns them into one `Invalid` error.
#[derive(Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// [`Check::push`] with the Japanese the console shows.
    pub fn push_ja(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
        message_ja: impl Into<String>,
    ) {
        self.errors
            .push(FieldError::new(field, code, message).ja(message_ja));
    }

    /// A single-line text: trimmed, 1..=max characters, no control characters.
    pub fn line(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.push(field, "required", "must not be empty");
        } else if v.chars().count() > max {
            self.push_ja(
                field,
                "too_long",
                format!("must be at most {max} characters"),
                format!("{max}文字以内で入力してください"),
            );
        } else if v.chars().any(char::is_control) {
            self.push(
                field,
                "control_characters",
                "must not contain control characters",
            );
        }
        v.to_owned()
    }

    /// An optional single-line text; empty means absent.
    pub fn opt_line(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        match value.map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(self.line(field, v, max)),
        }
    }

    /// A multi-line text: 1..=max characters (min 0 when `allow_empty`); tabs and line
    /// breaks allowed, other control characters not.
    pub fn text(&mut self, field: &str, value: &str, max: usize, allow_empty: bool) -> String {
        let v = value.trim();
        if v.is_empty() && !allow_empty {
            self.push(field, "required", "must not be empty");
        } else if v.chars().count() > max {
            self.push_ja(
                field,
                "too_long",
                format!("must be at most {max} characters"),
                format!("{max}文字以内で入力してください"),
            );
        } else if v
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.push(
                field,
                "control_characters",
                "must not contain control characters",
            );
        }
        v.replace("\r\n", "\n")
    }

    /// An e-mail address: one `@`, something on each side, a dot in the domain, no spaces.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let v = value.trim();
        let ok = v.len() <= 254
            && v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !v.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            self.push(
                field,
                "format",
                "must be an e-mail address like name@example.jp",
            );
        }
        v.to_owned()
    }

    /// An http(s) URL, for partner web sites.
    pub fn url(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = self.opt_line(field, value, 500)?;
        if !(v.starts_with("https://") || v.starts_with("http://")) || v.contains(' ') {
            self.push(field, "format", "must be an http:// or https:// address");
        }
        Some(v)
    }

    /// A value from a closed vocabulary.
    pub fn one_of<T>(
        &mut self,
        field: &str,
        value: &str,
        parse: fn(&str) -> Option<T>,
        expected: &str,
    ) -> Option<T> {
        let parsed = parse(value);
        if parsed.is_none() {
            self.push(
                field,
                "unknown_value",
                format!("must be one of: {expected}"),
            );
        }
        parsed
    }

    /// The value a check of `field` produced, after [`Check::finish`]. `None` can only
    /// come with an error for the field, which `finish` has returned already; should a
    /// check ever fail to report one, the field is reported now instead of a panic.
    /// An optional filter by municipality: blank is none, anything else must be a
    /// valid local government code.
    pub fn municipality_filter(
        &mut self,
        field: &str,
        value: Option<&str>,
    ) -> Option<super::codes::MunicipalityCode> {
        let code = value.map(str::trim).filter(|s| !s.is_empty())?;
        match super::codes::MunicipalityCode::parse(code) {
            Ok(m) => Some(m),
            Err(e) => {
                self.push(field, "format", e.to_string());
                None
            }
        }
    }

    pub fn checked<T>(value: Option<T>, field: &str) -> Result<T, AppError> {
        value.ok_or_else(|| AppError::field(field, "invalid", "is not valid"))
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_problem() {
        let mut c = Check::new();
        c.line("title", "  ", 10);
        c.line("name", "あいうえおかきくけこさ", 10);
        c.email("email", "no-at-sign");
        c.text("body", "ok\nfine\u{0}", 100, false);
        let Err(AppError::Invalid(errs)) = c.finish() else {
            panic!("expected errors")
        };
        let codes: Vec<_> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [
                ("title", "required"),
                ("name", "too_long"),
                ("email", "format"),
                ("body", "control_characters")
            ]
        );
    }

    #[test]
    fn japanese_text_counts_characters_not_bytes() {
        let mut c = Check::new();
        c.line("title", "子育て支援", 5);
        assert!(c.finish().is_ok());
    }

    proptest::proptest! {
        // Any text: the checks never panic, and what they accept fits the limits the
        // database's CHECK constraints enforce.
        #[test]
        fn texts_are_checked_without_panics(s in "\\PC{0,300}|[\\x00-\\x7f]{0,300}", max in 1usize..250) {
            let mut c = Check::new();
            let line = c.line("title", &s, max);
            let text = c.text("body", &s, max, true);
            let _ = c.email("email", &s);
            let _ = c.url("url", Some(&s));
            let _ = c.opt_line("name", Some(&s), max);
            let rejected = c.finish().is_err();
            if !rejected {
                proptest::prop_assert!(line.chars().count() <= max);
                proptest::prop_assert!(text.chars().count() <= max);
                proptest::prop_assert!(!line.chars().any(char::is_control));
            }
        }
    }
}
