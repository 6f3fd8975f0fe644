//! How the console words a domain error for staff. The API's messages are English and
//! name fields as JSON does (`department_id`); staff read the label of the field they
//! filled in and the problem in their own language. A check that says more than its
//! code (a limit, a rule) brings its own Japanese (`FieldError::message_ja`,
//! `Message::ja`); the rest are worded here by their stable codes.

use super::i18n::Lang;
use crate::domain::error::{AppError, FieldError};

/// The field a problem is about: `regions/2` is about `regions`.
pub fn field_name(field: &str) -> &str {
    field.split('/').next().unwrap_or(field)
}

/// The label staff know a field by; the field's name itself when the console has no
/// form for it.
pub fn field_label(lang: Lang, field: &str) -> String {
    let (ja, en) = match field_name(field) {
        "title" => ("件名", "Title"),
        "body" => ("内容", "Description"),
        "policy_field" | "policy_fields" => ("政策分野", "Policy field"),
        "department_id" => ("所管課", "Department"),
        "primary_department_id" => ("主担当課", "Lead department"),
        "other_department_ids" => ("関係課", "Other departments"),
        "zone" | "zones" => ("地域区分", "Zone"),
        "visibility" => ("公開範囲", "Visibility"),
        "status" => ("状態", "Status"),
        "open_until" => ("募集期限", "Open until"),
        "desired_partner_kinds" => ("希望する連携先", "Partners wanted"),
        "email" => ("メールアドレス", "E-mail address"),
        "display_name" => ("氏名", "Name"),
        "name" => ("名称", "Name"),
        "role" => ("権限", "Role"),
        "locale" => ("メールの言語", "Mail language"),
        "kinds" => ("通知の設定", "Notification settings"),
        "password" | "new_password" => ("パスワード", "Password"),
        "current_password" => ("現在のパスワード", "Current password"),
        "new_password_confirm" => ("新しいパスワード（確認）", "New password (again)"),
        "municipality_code" | "municipality" => ("自治体", "Municipality"),
        "code" => ("団体コード", "Local government code"),
        "first_response_days" => ("一次回答の目標（営業日）", "First answer (business days)"),
        "decision_days" => ("結論の目標（営業日）", "Decision (business days)"),
        "keyword" | "q" => ("キーワード", "Keyword"),
        "filter" => ("絞り込みの条件", "Filter"),
        "reason" => ("理由", "Reason"),
        "reason_code" => ("見送りの理由", "Reason for declining"),
        "until" => ("新しい期限", "New due date"),
        "clock" => ("延長する期限", "Due date to extend"),
        "note" => ("メモ", "Note"),
        "to" => ("変更後の状態", "New state"),
        "channel" => ("受付経路", "Channel"),
        "submitter_name" => ("提案者の氏名", "Proposer's name"),
        "submitter_email" => ("提案者のメールアドレス", "Proposer's e-mail address"),
        "submitter_org" => ("団体名", "Organisation"),
        "submitter_phone" => ("電話番号", "Phone"),
        "received_at" | "received_on" | "received_time" => ("受付日時", "Received"),
        "need_id" => ("対象のニーズ", "Need"),
        "offer_id" => ("提供内容", "Offer"),
        "partner_id" => ("パートナー", "Partner"),
        _ => return field.to_owned(),
    };
    lang.t(ja, en).to_owned()
}

/// One field's problem: the check's own Japanese where it has one, else the wording
/// of its code; in English, the API's message.
pub fn field_problem(lang: Lang, e: &FieldError) -> String {
    if lang == Lang::En {
        return e.message.clone();
    }
    if let Some(ja) = &e.message_ja {
        return ja.clone();
    }
    match e.code {
        "required" => "入力してください",
        "too_long" => "長すぎます",
        "too_short" => "短すぎます",
        "format" => "形式が正しくありません",
        "check_digit" => "番号が正しくありません（検査数字が合いません）",
        "unknown_value" => "選択肢にない値です",
        "not_found" => "見つかりません",
        "control_characters" => "使えない制御文字が含まれています",
        "out_of_range" => "指定できる範囲を外れています",
        "past" => "過去の日付は指定できません",
        "mismatch" => "一致しません",
        "unknown_field" => "この画面では受け付けない項目です",
        _ => "正しくありません",
    }
    .to_owned()
}

/// The sentence for an error that is not about one field.
pub fn sentence(lang: Lang, e: &AppError) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        AppError::NotFound(what) => format!("{}が見つかりません。", thing_ja(what)),
        AppError::Conflict(m) => {
            m.ja.clone()
                .unwrap_or_else(|| "今の状態ではこの操作はできません。".to_owned())
        }
        AppError::Invalid(_) => "入力内容を確認してください。".to_owned(),
        AppError::BadRequest(_) => {
            "送られた内容を読み取れませんでした。もう一度入力してください。".to_owned()
        }
        AppError::Forbidden(_) => "この操作を行う権限がありません。".to_owned(),
        AppError::Unauthenticated => "ログインしてください。".to_owned(),
        AppError::Unavailable(_) => {
            "一時的に処理できません。時間をおいてもう一度お試しください。".to_owned()
        }
        AppError::RateLimited { retry_after_secs } => format!(
            "短時間に同じ操作が続いたため、受け付けを一時的に止めています。{}後にもう一度お試しください。",
            wait_ja(*retry_after_secs)
        ),
        AppError::Internal(_) => {
            "操作は反映されていません。時間をおいてもう一度お試しください。".to_owned()
        }
        AppError::UnsupportedMediaType(m) | AppError::PayloadTooLarge(m) => {
            m.ja.clone()
                .unwrap_or_else(|| "このファイルは受け付けられません。".to_owned())
        }
    }
}

/// A wait in seconds, as a person would say it: 「30秒」「5分」.
fn wait_ja(secs: u64) -> String {
    if secs < 60 {
        format!("{secs}秒")
    } else {
        format!("{}分", secs.div_ceil(60))
    }
}

/// The things `AppError::NotFound` names, in Japanese.
fn thing_ja(what: &str) -> &'static str {
    match what {
        "proposal" => "提案",
        "need" => "ニーズ",
        "offer" => "提供内容",
        "partner" => "パートナー",
        "department" => "課",
        "municipality" => "自治体",
        "staff user" => "職員",
        "mail" => "メール",
        "routing rule" => "振り分けルール",
        "saved search" => "保存した検索",
        "page" => "ページ",
        "attachment" => "添付ファイル",
        "reply template" => "定型文",
        "action" => "操作",
        _ => "対象",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::Message;

    #[test]
    fn fields_are_named_by_their_labels_and_problems_by_their_codes() {
        let e = FieldError::new("title", "required", "must not be empty");
        assert_eq!(field_label(Lang::Ja, &e.field), "件名");
        assert_eq!(field_problem(Lang::Ja, &e), "入力してください");
        assert_eq!(field_problem(Lang::En, &e), "must not be empty");
        let e = FieldError::new("desired_partner_kinds/1", "unknown_value", "must be one of")
            .ja("次から選んでください");
        assert_eq!(field_label(Lang::Ja, &e.field), "希望する連携先");
        assert_eq!(field_problem(Lang::Ja, &e), "次から選んでください");
        assert_eq!(field_label(Lang::Ja, "Idempotency-Key"), "Idempotency-Key");
    }

    #[test]
    fn other_errors_read_as_sentences() {
        assert_eq!(
            sentence(Lang::Ja, &AppError::NotFound("proposal")),
            "提案が見つかりません。"
        );
        let written = AppError::Conflict(Message::new("already paused", "止めてあります。"));
        assert_eq!(sentence(Lang::Ja, &written), "止めてあります。");
        assert_eq!(sentence(Lang::En, &written), "already paused");
        let unwritten = AppError::Conflict("retry the request".into());
        assert_eq!(
            sentence(Lang::Ja, &unwritten),
            "今の状態ではこの操作はできません。"
        );
    }
}
