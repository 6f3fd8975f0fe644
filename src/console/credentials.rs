//! Pages where staff choose their own password: the page a session is held to after an
//! administrator's reset (`console_auth::change_own_password`, which clears the flag),
//! and the invitation page a new user reaches from the mailed one-time link
//! (`domain::invitations`), which needs no session — the link's token is the proof.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use super::i18n::Lang;
use super::layout;
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleResult, lift, run, see_other};
use crate::domain::error::AppError;
use crate::domain::invitations;
use crate::web::state::AppState;

/// The page a session is limited to until a new password is chosen.
pub const CHANGE_PATH: &str = "/admin/password";

fn mismatch() -> AppError {
    AppError::field_ja(
        "new_password_confirm",
        "mismatch",
        "the two new passwords differ",
        "新しいパスワードと一致しません",
    )
}

fn new_password_fields(lang: Lang) -> Markup {
    html! {
        div.field {
            label for="new-pw" { (lang.t("新しいパスワード（10文字以上）", "New password (10 characters or more)")) }
            input #new-pw type="password" name="new_password" autocomplete="new-password" required minlength="10" maxlength="200";
        }
        div.field {
            label for="new-pw2" { (lang.t("新しいパスワード（確認）", "New password (again)")) }
            input #new-pw2 type="password" name="new_password_confirm" autocomplete="new-password" required minlength="10" maxlength="200";
        }
    }
}

fn change_page(u: &ConsoleUser, error: Option<&AppError>, status: StatusCode) -> HttpResponse {
    let lang = u.lang;
    let body = html! {
        @if let Some(e) = error {
            div.alert.error role="alert" { (layout::error_detail(lang, e)) }
        }
        p { (lang.t(
            "管理者がパスワードを再設定しました。続けるには、ご自身で新しいパスワードを設定してください。",
            "An administrator reset your password. To continue, choose a new password of your own."
        )) }
        form method="post" action=(CHANGE_PATH) {
            (layout::csrf(u))
            div.field {
                label for="cur-pw" { (lang.t("管理者から伝えられたパスワード", "The password the administrator gave you")) }
                input #cur-pw type="password" name="current_password" autocomplete="current-password" required;
            }
            (new_password_fields(lang))
            button.primary type="submit" { (lang.t("設定する", "Set password")) }
        }
        form method="post" action="/admin/logout" {
            (layout::csrf(u))
            button type="submit" { (lang.t("ログアウト", "Log out")) }
        }
    };
    layout::bare(
        lang,
        status,
        lang.t("新しいパスワードの設定", "Choose a new password"),
        body,
    )
}

pub async fn change_form(u: ConsoleUser) -> HttpResponse {
    if !u.session.must_change_password {
        return see_other("/admin/account");
    }
    change_page(&u, None, StatusCode::OK)
}

pub async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let result = super::account::change_own_password(&req, &state, &u, &f).await?;
    match result {
        Ok(()) => Ok(see_other("/admin/inbox?done=password")),
        Err(e @ AppError::Invalid(_)) => {
            Ok(change_page(&u, Some(&e), StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(u.err(e)),
    }
}

fn invitation_page(
    lang: Lang,
    token: &str,
    invited: &invitations::Invited,
    error: Option<&AppError>,
    status: StatusCode,
) -> HttpResponse {
    let body = html! {
        @if let Some(e) = error {
            div.alert.error role="alert" { (layout::error_detail(lang, e)) }
        }
        p { (lang.s(
            format!("{} 様、共創コンソールへようこそ。ご自身のパスワードを設定してください。設定後、ログイン画面からログインできます。", invited.display_name),
            format!("Welcome to the kyoso console, {}. Choose your password; then log in on the login page.", invited.display_name),
        )) }
        dl.facts {
            dt { (lang.t("ログイン用のメールアドレス", "Sign-in e-mail address")) } dd { (invited.email) }
        }
        form method="post" action="/admin/invitation" {
            input type="hidden" name="token" value=(token);
            (new_password_fields(lang))
            button.primary type="submit" { (lang.t("パスワードを設定する", "Set password")) }
        }
    };
    layout::bare(
        lang,
        status,
        lang.t("パスワードの設定", "Set your password"),
        body,
    )
}

fn invalid_link(lang: Lang, e: &AppError) -> HttpResponse {
    layout::bare(
        lang,
        crate::web::status::status_of(e),
        lang.t("招待リンクが無効です", "The invitation link is not valid"),
        layout::error_detail(lang, e),
    )
}

/// The page the mailed link opens (no session needed).
pub async fn invitation_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ConsoleResult<HttpResponse> {
    let lang = Lang::of(&req);
    let token = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.0.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v))
        .unwrap_or_default();
    invitation_answer(&state, lang, token, None, StatusCode::OK).await
}

/// The invitation page for `token` (with a form error), or the invalid-link page when
/// the link is unknown, used or expired.
async fn invitation_answer(
    state: &web::Data<AppState>,
    lang: Lang,
    token: String,
    error: Option<&AppError>,
    status: StatusCode,
) -> ConsoleResult<HttpResponse> {
    let t = token.clone();
    match lift(run(state, lang, move |db| invitations::check(db, &t)).await)? {
        Ok(invited) => Ok(invitation_page(lang, &token, &invited, error, status)),
        Err(e) => Ok(invalid_link(lang, &e)),
    }
}

pub async fn accept_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> ConsoleResult<HttpResponse> {
    let lang = Lang::of(&req);
    let f = Fields::with(
        &form
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    let (token, new) = (f.text("token"), f.text("new_password"));
    let source = crate::web::source(&req);
    let result = if new != f.text("new_password_confirm") {
        Err(mismatch())
    } else {
        let t = token.clone();
        lift(
            run(&state, lang, move |db| {
                crate::domain::audit::with_source(&source, || invitations::accept(db, &t, &new))
            })
            .await,
        )?
    };
    match result {
        Ok(_) => Ok(see_other("/admin/login?done=invited")),
        Err(e @ AppError::Invalid(_)) => {
            invitation_answer(
                &state,
                lang,
                token,
                Some(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Ok(invalid_link(lang, &e)),
    }
}
