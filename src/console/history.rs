//! History lines (経過) in the reader's language. The domain writes the text of the
//! events it makes itself ("電話で受付", "担当者を…に変更", "期限を…まで延長: …") in
//! Japanese, as the record the municipality keeps and the proposer is shown; staff
//! reading the console in English get those sentences in English here. Only the exact
//! shapes the domain writes are recognised, per event kind; anything else is what a
//! person typed and is shown as written.

use std::borrow::Cow;

use super::i18n::Lang;
use crate::domain::vocab::{Channel, EventKind};

/// The body of an event of `kind` as `lang` reads it.
pub fn body<'a>(lang: Lang, kind: EventKind, body: &'a str) -> Cow<'a, str> {
    if lang == Lang::Ja {
        return Cow::Borrowed(body);
    }
    english(kind, body).map_or(Cow::Borrowed(body), Cow::Owned)
}

fn english(kind: EventKind, body: &str) -> Option<String> {
    match kind {
        EventKind::Received => {
            let channel = body.strip_suffix("で受付")?;
            Channel::ALL
                .iter()
                .find(|c| c.label_ja() == channel)
                .map(|c| format!("Received by {}", c.label_en().to_lowercase()))
        }
        EventKind::Assigned => {
            if body == "担当者を外しました" {
                return Some("Assignee removed".to_owned());
            }
            if let Some(name) = body
                .strip_prefix("主管課の変更により、担当者（")
                .and_then(|r| r.strip_suffix("）を外しました"))
            {
                return Some(format!(
                    "The lead department changed: {name} is no longer the assignee"
                ));
            }
            let name = body
                .strip_prefix("担当者を")
                .and_then(|r| r.strip_suffix("に変更"))?;
            Some(format!("Assignee changed to {name}"))
        }
        EventKind::Resumed => {
            let days: u32 = body
                .strip_prefix("期限を")
                .and_then(|r| r.strip_suffix("開庁日延長しました"))?
                .parse()
                .ok()?;
            Some(format!(
                "Clocks resumed: due dates moved {days} business day{} later",
                if days == 1 { "" } else { "s" }
            ))
        }
        EventKind::Extended => {
            let (date, reason) = body.strip_prefix("期限を")?.split_once("まで延長: ")?;
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
            Some(format!("Due date extended to {date}: {reason}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domains_sentences_in_english() {
        let en = |k, b| body(Lang::En, k, b).into_owned();
        assert_eq!(en(EventKind::Received, "電話で受付"), "Received by phone");
        assert_eq!(
            en(EventKind::Assigned, "担当者を山田 花子に変更"),
            "Assignee changed to 山田 花子"
        );
        assert_eq!(
            en(EventKind::Assigned, "担当者を外しました"),
            "Assignee removed"
        );
        assert_eq!(
            en(EventKind::Resumed, "期限を3開庁日延長しました"),
            "Clocks resumed: due dates moved 3 business days later"
        );
        assert_eq!(
            en(EventKind::Extended, "期限を2026-12-24まで延長: 資料の確認"),
            "Due date extended to 2026-12-24: 資料の確認"
        );
        // What a person typed stays as typed, in both languages.
        assert_eq!(
            en(EventKind::Note, "担当者を外しました"),
            "担当者を外しました"
        );
        assert_eq!(
            en(EventKind::Extended, "期限をあとで延長: x"),
            "期限をあとで延長: x"
        );
        assert_eq!(
            body(Lang::Ja, EventKind::Received, "電話で受付"),
            "電話で受付"
        );
    }
}
