//! Mail: messages are rendered from template folders and written to the outbox in the
//! transaction of the event that causes them; the sender (`send`) claims due rows
//! (`claim`: a token and a renewed lease, so only the claimer records the outcome),
//! builds each message and hands it to the transport.

pub mod claim;
pub mod links;
pub mod message;
pub mod outbox;
pub mod send;
pub mod signing;
pub mod templates;
pub mod transport;

/// `text` with every e-mail address replaced by `<address>`, for log lines that quote
/// what an SMTP server or a parser said (logs never hold addresses).
pub fn redact_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let bare = word.trim_matches(|c: char| "<>()[]\"',;:".contains(c));
        let looks_like_address = bare
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
        if looks_like_address {
            out.push_str(&word.replace(bare, "<address>"));
        } else {
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_redacted() {
        assert_eq!(
            super::redact_addresses("550 5.1.1 <taro@example.jp>: Recipient address rejected"),
            "550 5.1.1 <<address>>: Recipient address rejected"
        );
        assert_eq!(
            super::redact_addresses("no address here @"),
            "no address here @"
        );
        assert_eq!(
            super::redact_addresses("to a@b, c@d."),
            "to <address>, <address>"
        );
    }
}
