//! The signed-in user's own account, for every role: name and mail language
//! (`domain::staff::update` on oneself), notification settings (the same settings as
//! the API's `/api/v1/me/notifications`, `domain::notifications::preferences`) and a
//! password change that asks for the current password
//! (`domain::console_auth::change_own_password`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::layout::{self, Nav, select};
use super::session::{ConsoleUser, Fields, Posted, SESSION_COOKIE};
use super::{ConsoleResult, lift, run, see_other};
use crate::domain::console_auth::{self, PASSWORD_MIN};
use crate::domain::error::AppError;
use crate::domain::notifications::Kind;
use crate::domain::notifications::preferences::{self, Preferences, PreferencesInput};
use crate::domain::staff::{self, StaffUpdate, StaffView};
use crate::web::state::AppState;

pub async fn show(state: web::Data<AppState>, u: ConsoleUser) -> ConsoleResult<HttpResponse> {
    let me = load(&state, &u).await?;
    Ok(render(&u, &me, None, None))
}

/// What the page shows: the account and its notification settings.
struct Mine {
    me: StaffView,
    prefs: Preferences,
}

async fn load(state: &web::Data<AppState>, u: &ConsoleUser) -> ConsoleResult<Mine> {
    let (actor, id) = (u.actor(), u.staff().id);
    run(state, u.lang, move |db| {
        Ok(Mine {
            me: staff::get(db, &actor, id)?,
            prefs: preferences::get(db, &actor)?,
        })
    })
    .await
}

/// The account page's control for each field its two forms send.
fn account_control(field: &str) -> Option<&'static str> {
    Some(match field {
        "display_name" => "a-name",
        "locale" => "a-locale",
        "current_password" => "a-current",
        "new_password" | "password" => "a-new",
        "new_password_confirm" => "a-confirm",
        "kinds" => "notifications",
        _ => return None,
    })
}

/// The notification settings form: one fieldset per kind the user's role receives, a
/// radio per choice that kind offers, and the link revocation. `sent` is a form sent
/// back with an error: its choices are shown as they were sent.
fn notifications_form(u: &ConsoleUser, prefs: &Preferences, sent: Option<&Fields>) -> maud::Markup {
    let lang = u.lang;
    let kinds = preferences::kinds_for(&u.actor());
    let stored = |k: Kind| {
        prefs
            .kinds
            .iter()
            .find(|p| p.kind == k)
            .map(|p| p.delivery.as_str().to_owned())
    };
    html! {
        h2 #notifications { (lang.t("通知の設定", "Notification settings")) }
        p.hint { (lang.t(
            "お知らせの種類ごとに、受け取り方を選んでください。まとめて送る場合は、毎日・毎週のまとめメールに入ります。",
            "Choose, for each kind of notice, how you get it. Digests gather notices into one mail a day or a week."
        )) }
        form method="post" action="/admin/account/notifications" {
            (layout::csrf(u))
            @for k in &kinds {
                @let name = format!("kind.{}", k.as_str());
                @let current = match sent {
                    Some(f) => f.opt(&name),
                    None => stored(*k),
                };
                fieldset.checks id=(format!("n-{}", k.as_str())) {
                    legend { (lang.notice(*k)) }
                    @for c in k.choices() {
                        @let id = format!("n-{}-{}", k.as_str(), c.as_str());
                        label for=(id) {
                            input id=(id) type="radio" name=(name) value=(c.as_str()) checked[current.as_deref() == Some(c.as_str())];
                            " " (lang.delivery(*c))
                        }
                    }
                }
            }
            div.field {
                label for="n-revoke" {
                    input #n-revoke type="checkbox" name="revoke_unsubscribe_links" value="1" checked[sent.is_some_and(|f| f.checked("revoke_unsubscribe_links"))];
                    " " (lang.t(
                        "これまでに届いたメールの配信停止リンクをすべて無効にする（メールを転送した・漏れたときに）",
                        "Void the unsubscribe links of every mail sent to you so far (if a mail was forwarded or leaked)"
                    ))
                }
            }
            p.hint { (lang.t("メールの言語は上の「登録情報」で変更できます。", "The language of your e-mail is set under Your details above.")) }
            button.primary type="submit" { (lang.t("通知の設定を保存する", "Save notification settings")) }
        }
    }
}

fn render(
    u: &ConsoleUser,
    mine: &Mine,
    sent: Option<&Fields>,
    error: Option<&AppError>,
) -> HttpResponse {
    let lang = u.lang;
    let me = &mine.me;
    let locales = layout::locale_options();
    let new_label = match lang {
        super::i18n::Lang::Ja => format!("新しいパスワード（{PASSWORD_MIN}文字以上）"),
        super::i18n::Lang::En => format!("New password ({PASSWORD_MIN} characters or more)"),
    };
    let body = html! {
        @if let Some(e) = error { (layout::error_detail_linked(lang, e, account_control)) }
        h2 { (lang.t("登録情報", "Your details")) }
        dl.facts {
            dt { (lang.t("メールアドレス", "E-mail")) } dd { (me.email) }
            dt { (lang.t("役割", "Role")) } dd { (lang.role(me.role)) }
        }
        form method="post" action="/admin/account" {
            (layout::csrf(u))
            div.field {
                label for="a-name" { (lang.t("氏名", "Name")) }
                input #a-name type="text" name="display_name" value=(me.display_name) required maxlength="100";
            }
            (select("a-locale", "locale", lang.t("メールの言語", "Language of your e-mail"), &locales, Some(me.locale.as_str()), None))
            button.primary type="submit" { (lang.t("保存する", "Save")) }
        }
        (notifications_form(u, &mine.prefs, sent))
        h2 #shortcuts { (lang.t("キーボードショートカット", "Keyboard shortcuts")) }
        (layout::shortcut_list(lang))
        p {
            (lang.t("入力欄の中や、Ctrl・Alt などと一緒に押したときは働きません。スクリーンリーダーや音声入力のキー操作と重なる場合は、オフにしてください。",
                "They do nothing while you type in a field or hold Ctrl, Alt or another modifier. Turn them off if they get in the way of a screen reader or speech input."))
        }
        form method="post" action="/admin/account/shortcuts" {
            (layout::csrf(u))
            fieldset {
                legend { (lang.t("ショートカット", "Shortcuts")) }
                label { input type="radio" name="shortcuts" value="on" checked[u.session.keyboard_shortcuts]; " " (lang.t("使う", "On")) }
                " "
                label { input type="radio" name="shortcuts" value="off" checked[!u.session.keyboard_shortcuts]; " " (lang.t("使わない", "Off")) }
            }
            button type="submit" { (lang.t("保存する", "Save")) }
        }
        h2 { (lang.t("パスワードの変更", "Change your password")) }
        form method="post" action="/admin/account/password" {
            (layout::csrf(u))
            div.field {
                label for="a-current" { (lang.t("現在のパスワード", "Current password")) }
                input #a-current type="password" name="current_password" autocomplete="current-password" required;
            }
            div.field {
                label for="a-new" { (new_label) }
                input #a-new type="password" name="new_password" autocomplete="new-password" required minlength=(PASSWORD_MIN);
            }
            div.field {
                label for="a-confirm" { (lang.t("新しいパスワード（確認）", "New password, again")) }
                input #a-confirm type="password" name="new_password_confirm" autocomplete="new-password" required minlength=(PASSWORD_MIN);
            }
            p.hint { (lang.t("変更すると、ほかの端末でのログインはすべて終了します。", "Changing it signs you out everywhere else.")) }
            button type="submit" { (lang.t("変更する", "Change password")) }
        }
    };
    let status = match error {
        Some(AppError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    layout::page_with_status(
        u,
        Nav::Account,
        lang.t("アカウント", "Account"),
        status,
        body,
    )
}

pub async fn update(state: web::Data<AppState>, posted: Posted) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let (actor, id) = (u.actor(), u.staff().id);
    let input = StaffUpdate {
        display_name: Some(f.text("display_name")),
        locale: Some(f.text("locale")),
        ..StaffUpdate::default()
    };
    let result = lift(
        run(&state, u.lang, move |db| {
            staff::update(db, &actor, id, input)
        })
        .await,
    )?;
    match result {
        Ok(_) => Ok(see_other("/admin/account?done=saved")),
        Err(e @ AppError::Invalid(_)) => {
            let me = load(&state, &u).await?;
            Ok(render(&u, &me, None, Some(&e)))
        }
        Err(e) => Err(u.err(e)),
    }
}

/// Saves the notification settings: every kind the form lists with the choice sent
/// (a kind left without a choice keeps its setting), and the link revocation if ticked.
pub async fn update_notifications(
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let actor = u.actor();
    let kinds = preferences::kinds_for(&actor)
        .into_iter()
        .filter_map(|k| {
            f.opt(&format!("kind.{}", k.as_str()))
                .map(|v| (k.as_str().to_owned(), v))
        })
        .collect();
    let input = PreferencesInput {
        locale: None,
        kinds,
        revoke_unsubscribe_links: f.checked("revoke_unsubscribe_links"),
    };
    let result = lift(
        run(&state, u.lang, move |db| {
            preferences::update(db, &actor, input)
        })
        .await,
    )?;
    match result {
        Ok(_) => Ok(see_other("/admin/account?done=saved#notifications")),
        Err(e @ AppError::Invalid(_)) => {
            let me = load(&state, &u).await?;
            Ok(render(&u, &me, Some(&f), Some(&e)))
        }
        Err(e) => Err(u.err(e)),
    }
}

/// Changes the signed-in user's own password from a form with the current password and
/// the new one twice; the other sessions of the user end, this one stays. Shared by the
/// account page and the page a reset password leads to.
pub(super) async fn change_own_password(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    f: &Fields,
) -> ConsoleResult<Result<(), AppError>> {
    let (current, new) = (f.text("current_password"), f.text("new_password"));
    if new != f.text("new_password_confirm") {
        return Ok(Err(AppError::field_ja(
            "new_password_confirm",
            "mismatch",
            "the two new passwords differ",
            "新しいパスワードと一致しません",
        )));
    }
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let id = u.staff().id;
    lift(
        run(state, u.lang, move |db| {
            console_auth::change_own_password(db, id, &current, &new, &token)
        })
        .await,
    )
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let result = change_own_password(&req, &state, &u, &f).await?;
    match result {
        Ok(()) => Ok(see_other("/admin/account?done=password")),
        Err(e @ AppError::Invalid(_)) => {
            let me = load(&state, &u).await?;
            Ok(render(&u, &me, None, Some(&e)))
        }
        Err(e) => Err(u.err(e)),
    }
}

/// Turns the keyboard shortcuts on or off for the signed-in user.
pub async fn set_shortcuts(
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let on = match f.text("shortcuts").as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Err(u.err(AppError::field(
                "shortcuts",
                "unknown_value",
                "expected on or off",
            )));
        }
    };
    let actor = u.actor();
    run(&state, u.lang, move |db| {
        staff::set_keyboard_shortcuts(db, &actor, on)
    })
    .await?;
    Ok(see_other("/admin/account?done=saved#shortcuts"))
}
