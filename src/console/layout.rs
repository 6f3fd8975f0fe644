//! The page shell every console screen shares — skip link, header, main menu, the
//! `main` landmark with the page's one `h1` — the CSS (embedded in the binary, served
//! from /admin/static/), and small rendering helpers (times in JST, form controls).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, html};

use super::error_text;
use super::html_response;
use super::i18n::Lang;
use super::session::ConsoleUser;
use crate::domain::error::AppError;

const CSS: &str = include_str!("static/console.css");
/// The optional keyboard shortcuts; pages work without it (progressive enhancement).
const SHORTCUTS_JS: &str = include_str!("static/shortcuts.js");

pub async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CSS)
}

pub async fn shortcuts_js() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(SHORTCUTS_JS)
}

/// The list of shortcuts: a modal dialog the script opens with `?` (closed with Esc or
/// its button, which needs no script), and the same list on the account page.
pub fn shortcut_list(lang: Lang) -> Markup {
    html! {
        dl.keys {
            dt { kbd { "/" } } dd { (lang.t("受付一覧の検索欄へ移動", "Go to the inbox search")) }
            dt { kbd { "j" } } dd { (lang.t("一覧の次の行へ", "Next row of a list")) }
            dt { kbd { "k" } } dd { (lang.t("一覧の前の行へ", "Previous row of a list")) }
            dt { kbd { "Enter" } } dd { (lang.t("選んだ行を開く", "Open the chosen row")) }
            dt { kbd { "?" } } dd { (lang.t("この一覧を表示", "Show this list")) }
        }
    }
}

fn shortcut_dialog(lang: Lang) -> Markup {
    html! {
        dialog #keys-help aria-labelledby="keys-help-h" {
            h2 #keys-help-h { (lang.t("キーボードショートカット", "Keyboard shortcuts")) }
            (shortcut_list(lang))
            p.hint { (lang.t("入力欄の中や、Ctrl・Alt などと一緒に押したときは働きません。アカウントの画面でオフにできます。",
                "They do nothing while you type in a field or hold Ctrl, Alt or another modifier. Turn them off on your account page.")) }
            form method="dialog" { button type="submit" { (lang.t("閉じる", "Close")) } }
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query parameter as typed, trimmed; `None` when missing or blank.
pub fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A time as staff read it: Japan time, to the minute.
pub fn local_time(t: DateTime<Utc>) -> String {
    crate::domain::calendar::japan_time(t.naive_utc())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "—".to_owned())
}

/// Which menu entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Inbox,
    Record,
    Needs,
    Partners,
    Departments,
    Staff,
    Account,
    Dashboard,
    Outbox,
    Audit,
}

fn head(lang: Lang, title: &str) -> Markup {
    crate::web::html::head(&format!(
        "{title} | {}",
        lang.t("kyoso 職員コンソール", "kyoso staff console")
    ))
}

/// A page without the menu: login and error pages.
pub fn bare(lang: Lang, status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body.bare {
                a.skip href="#main" { (lang.t("本文へ移動", "Skip to content")) }
                header.top {
                    a.brand href="/admin/inbox" { "kyoso " span.brand-ja lang="ja" { "共創" } " " (lang.t("職員コンソール", "staff console")) }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                    @if status != StatusCode::OK && status != StatusCode::UNAUTHORIZED && status != StatusCode::TOO_MANY_REQUESTS {
                        p { a href="/admin/inbox" { (lang.t("受付一覧へ戻る", "Back to the inbox")) } }
                    }
                }
            }
        }
    };
    html_response(status, markup)
}

/// The detail of a domain error: its message and, for input errors, each field.
pub fn error_detail(lang: Lang, e: &AppError) -> Markup {
    error_detail_linked(lang, e, |_| None)
}

/// [`error_detail`] above a form: each field's problem links to the field's control
/// (`control` gives its id, from the field's name without any `/index`), so keyboard
/// and screen-reader users get from the summary straight to what needs fixing.
pub fn error_detail_linked(
    lang: Lang,
    e: &AppError,
    control: impl Fn(&str) -> Option<&'static str>,
) -> Markup {
    html! {
        div.alert.error role="alert" {
            @match e {
                AppError::Invalid(fields) => {
                    p { (lang.t("次の項目を確認してください。", "Please check these fields.")) }
                    ul {
                        @for f in fields {
                            li {
                                @let label = html! { strong { (error_text::field_label(lang, &f.field)) } };
                                @match control(error_text::field_name(&f.field)) {
                                    Some(id) => { a href={ "#" (id) } { (label) } }
                                    None => { (label) }
                                }
                                (lang.t("：", ": "))
                                (error_text::field_problem(lang, f))
                            }
                        }
                    }
                }
                AppError::Internal(_) => {
                    p { (lang.t("操作は反映されていません。時間をおいてもう一度お試しください。", "Nothing was changed. Please try again later.")) }
                }
                other => { p { (error_text::sentence(lang, other)) } }
            }
        }
    }
}

fn done_message(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match code {
        "route" => lang.t("所管課へ回付しました。", "Routed to the department."),
        "note" => lang.t("庁内メモを記録しました。", "Internal note recorded."),
        "reply" => lang.t("提案者へ回答を送りました。", "Reply sent to the proposer."),
        "transition" => lang.t("状態を変更しました。", "State changed."),
        "pause" => lang.t(
            "資料待ちとして期限を停止しました。",
            "Clocks paused while waiting for the proposer.",
        ),
        "resume" => lang.t("期限を再開しました。", "Clocks resumed."),
        "extend" => lang.t("期限を延長しました。", "Due date extended."),
        "assign" => lang.t("担当者を変更しました。", "Assignee changed."),
        "duplicate" => lang.t(
            "重複として閉じ、提案者に通知しました。",
            "Closed as a duplicate; the proposer was told.",
        ),
        "return" => lang.t(
            "所管外として窓口へ返しました。",
            "Returned to the desk.",
        ),
        "bulk" => lang.t(
            "選択した提案をまとめて処理しました。",
            "The chosen proposals were updated.",
        ),
        "recorded" => lang.t("提案を受け付けました。", "Proposal recorded."),
        "created" => lang.t("登録しました。", "Created."),
        "saved" => lang.t("保存しました。", "Saved."),
        "publish" => lang.t("ニーズを公開しました。", "Need published."),
        "close" => lang.t("ニーズの募集を終了しました。", "Need closed."),
        "match_good" => lang.t(
            "役に立つ提供として記録しました。",
            "Marked as a useful match.",
        ),
        "match_not_relevant" => lang.t(
            "関係ない提供として記録しました。今後の候補には表示されません。",
            "Marked as not relevant: it is left out of the matches from now on.",
        ),
        "suspend" => lang.t("パートナーの利用を停止しました。", "Partner suspended."),
        "reinstate" => lang.t(
            "パートナーの利用停止を解除しました。",
            "Partner reinstated.",
        ),
        "deleted" => lang.t("削除しました。", "Deleted."),
        "filter" => lang.t("絞り込みを保存しました。", "Filter saved."),
        "password" => lang.t("パスワードを設定しました。", "Password set."),
        "invitation" => lang.t(
            "招待メールを本人に送りました。",
            "The invitation was mailed to the user.",
        ),
        "invited" => lang.t(
            "職員を追加し、パスワード設定用の招待メールを本人に送りました。",
            "Staff user added; an invitation to set a password was mailed to them.",
        ),
        "reset" => lang.t(
            "パスワードを再設定しました。その職員のセッションは終了し、APIキーは失効しました。次回ログイン時に新しいパスワードの設定が求められます。",
            "Password reset: the user's sessions ended and their API keys were revoked; they must choose a new password at next sign-in.",
        ),
        "retried" => lang.t("メールを再送の待ち行列に戻しました。", "Mail queued again."),
        _ => return None,
    })
}

/// The notice on every page while search runs without the Japanese dictionary, for
/// administrators only: they can have it fixed, while department and desk staff could
/// do nothing about it. A labelled region (a landmark, so screen-reader users find it
/// in the landmark list) holding a status message, between the header and the menu so
/// it is the first thing read after the header.
fn degraded_notice(lang: Lang) -> Markup {
    use crate::domain::search::INSTALL_DICTIONARY;
    html! {
        section.degraded aria-labelledby="degraded-h" {
            div role="status" {
                p {
                    strong #degraded-h { (lang.t("検索の精度が低下しています", "Search quality is reduced")) }
                    (lang.t("：", ": "))
                    (lang.t(
                        "日本語辞書（MeCab IPADIC）が見つからないため、検索は2文字ずつの区切り（バイグラム）だけで動いています。検索はできますが、並び順の精度が落ちます。",
                        "the Japanese dictionary (MeCab IPADIC) was not found, so search analyses text in two-character pieces (bigrams) only. Search works, but ranks less precisely.",
                    ))
                }
                p {
                    (lang.t("サーバーの管理者が次のコマンドを実行し、kyoso を再起動すると直ります（検索の索引は再起動時に作り直されます）：", "To fix it, the server's operator runs this command and restarts kyoso (the search index is rebuilt at the restart): "))
                    code lang="en" { (INSTALL_DICTIONARY) }
                }
            }
        }
    }
}

/// A console page with the header, the menu and the `main` landmark.
pub fn page(u: &ConsoleUser, nav: Nav, title: &str, body: Markup) -> HttpResponse {
    page_with_status(u, nav, title, StatusCode::OK, body)
}

/// A page that may show a form sent back with `error`: answered with that error's status.
pub fn page_after(
    u: &ConsoleUser,
    nav: Nav,
    title: &str,
    error: Option<&crate::domain::error::AppError>,
    body: Markup,
) -> HttpResponse {
    let status = error.map_or(StatusCode::OK, crate::web::status::status_of);
    page_with_status(u, nav, title, status, body)
}

pub fn page_with_status(
    u: &ConsoleUser,
    nav: Nav,
    title: &str,
    status: StatusCode,
    body: Markup,
) -> HttpResponse {
    let lang = u.lang;
    let s = &u.session;
    let mut items: Vec<(Nav, &str, &str)> =
        vec![(Nav::Inbox, "/admin/inbox", lang.t("受付一覧", "Inbox"))];
    if u.is_desk() {
        items.push((
            Nav::Record,
            "/admin/record",
            lang.t("提案の記録", "Record a proposal"),
        ));
    }
    items.push((Nav::Needs, "/admin/needs", lang.t("ニーズ", "Needs")));
    items.push((
        Nav::Partners,
        "/admin/partners",
        lang.t("パートナー・提供", "Partners & offers"),
    ));
    if u.is_desk() {
        items.push((
            Nav::Departments,
            "/admin/departments",
            lang.t("所管課・振り分け", "Departments & rules"),
        ));
        items.push((
            Nav::Dashboard,
            "/admin/dashboard",
            lang.t("集計", "Dashboard"),
        ));
    }
    if u.is_admin() {
        items.push((Nav::Staff, "/admin/staff", lang.t("職員", "Staff")));
        items.push((Nav::Audit, "/admin/audit", lang.t("操作記録", "Audit log")));
    }
    if u.is_deployment_admin() {
        items.push((
            Nav::Outbox,
            "/admin/outbox",
            lang.t("メール送信状況", "Mail outbox"),
        ));
    }
    let flash = u.done.as_deref().and_then(|d| done_message(lang, d));
    let other = match lang {
        Lang::Ja => ("en", "English"),
        Lang::En => ("ja", "日本語"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                a.skip href="#main" { (lang.t("本文へ移動", "Skip to content")) }
                header.top {
                    a.brand href="/admin/inbox" { "kyoso " span lang="ja" { "共創" } " " (lang.t("職員コンソール", "staff console")) }
                    div.who {
                        a href="/admin/account" aria-current=[(nav == Nav::Account).then_some("page")] title=(lang.t("アカウント", "Account")) { (s.display_name) }
                        " "
                        span.muted {
                            (lang.t("（", "(")) (lang.role(s.staff.role))
                            @if let Some((_, name)) = &s.municipality { (lang.t("・", ", ")) (name) }
                            @else { (lang.t("・", ", ")) (lang.t("全自治体", "all municipalities")) }
                            (lang.t("）", ")"))
                        }
                    }
                    a.lang href=(format!("/admin/lang/{}?next={}", other.0, url_encode(&u.here))) lang=(other.0) hreflang=(other.0) { (other.1) }
                    form.logout method="post" action="/admin/logout" {
                        input type="hidden" name="csrf" value=(u.csrf());
                        button type="submit" { (lang.t("ログアウト", "Log out")) }
                    }
                }
                @if u.search_degraded && u.is_admin() { (degraded_notice(lang)) }
                nav.menu aria-label=(lang.t("メインメニュー", "Main menu")) {
                    ul {
                        @for (n, href, label) in &items {
                            li { a href=(href) aria-current=[(*n == nav).then_some("page")] { (label) } }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    @if let Some(m) = flash { div.alert.ok role="status" { (m) } }
                    (body)
                }
                footer.foot {
                    p { "kyoso — " (lang.t("自治体と企業・大学・NPOの共創窓口", "the co-creation desk of municipalities and their partners")) }
                    p { a #keys-help-open href="/admin/account#shortcuts" { (lang.t("キーボードショートカット", "Keyboard shortcuts")) } }
                }
                @if s.keyboard_shortcuts {
                    (shortcut_dialog(lang))
                    script src="/admin/static/shortcuts.js" defer {}
                }
            }
        }
    };
    html_response(status, markup)
}

/// The hidden CSRF field of a form.
pub fn csrf(u: &ConsoleUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(u.csrf()); }
}

/// A `<select>` with a label; `options` are (value, label); `selected` marks one.
pub fn select(
    id: &str,
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: Option<&str>,
    blank: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @if let Some(b) = blank { option value="" { (b) } }
                @for (v, l) in options {
                    option value=(v) selected[Some(v.as_str()) == selected] { (l) }
                }
            }
        }
    }
}

/// The municipality picker deployment admins see on pages about one municipality.
pub fn municipality_picker(
    u: &ConsoleUser,
    action: &str,
    municipalities: &[(String, String)],
    chosen: Option<&str>,
) -> Markup {
    let lang = u.lang;
    html! {
        form.filters method="get" action=(action) {
            (select("m", "m", lang.t("自治体", "Municipality"), municipalities, chosen, Some(lang.t("選択してください", "Choose"))))
            button type="submit" { (lang.t("表示", "Show")) }
        }
    }
}

/// (value, label) pairs of the mail languages, each in its own language.
pub fn locale_options() -> Vec<(String, String)> {
    crate::domain::vocab::Locale::ALL
        .iter()
        .map(|l| (l.as_str().to_owned(), l.label_ja().to_owned()))
        .collect()
}
