//! The staff console under /admin: server-rendered HTML (maud, checked at compile time
//! and escaped by default) that works without JavaScript, in Japanese by default and in
//! English on request. Like the API's handlers, each page extracts the caller (here from
//! the login session), calls the same domain functions on the blocking pool, and renders
//! the result; nothing here writes SQL. This file holds the console's route table, its
//! error pages and the small helpers every page shares.

pub mod account;
pub mod audit;
pub mod credentials;
pub mod dashboard;
pub mod departments;
pub mod error_text;
pub mod history;
pub mod i18n;
pub mod inbox;
pub mod layout;
pub mod needs;
pub mod outbox;
pub mod outcomes;
pub mod partners;
pub mod proposal;
pub mod record;
pub mod session;
pub mod staff;
pub mod templates;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use maud::html;

use crate::domain::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::search::SearchEngine;
use crate::web::state::AppState;
use i18n::Lang;

/// Registers the console under /admin; the whole route table of the console.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use web::{get, post, resource as r};
    cfg.service(
        web::scope("/admin")
            .app_data(
                web::FormConfig::default()
                    .limit(crate::web::MAX_BODY_BYTES)
                    .error_handler(|e, req| ConsoleError::bad_form(&e.to_string(), req).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|e, req| {
                let page = ConsoleError::App(AppError::NotFound("page"), Lang::of(req));
                actix_web::error::InternalError::from_response(e, page.error_response()).into()
            }))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, req| ConsoleError::bad_form(&e.to_string(), req).into()),
            )
            .service(r("").route(get().to(home)))
            .service(r("/").route(get().to(home)))
            .service(r("/static/console.css").route(get().to(layout::css)))
            .service(r("/static/shortcuts.js").route(get().to(layout::shortcuts_js)))
            .service(r("/lang/{code}").route(get().to(session::set_lang)))
            .service(
                r("/login")
                    .route(get().to(session::login_page))
                    .route(post().to(session::login)),
            )
            .service(r("/logout").route(post().to(session::logout)))
            .service(r("/inbox").route(get().to(inbox::show)))
            .service(r("/inbox/bulk").route(post().to(inbox::bulk)))
            .service(r("/inbox/export.csv").route(get().to(inbox::export_csv)))
            .service(r("/inbox/export.xlsx").route(get().to(inbox::export_xlsx)))
            .service(r("/inbox/filters").route(post().to(inbox::save_filter)))
            .service(r("/inbox/filters/{id}/delete").route(post().to(inbox::delete_filter)))
            .service(r("/proposals/{id}").route(get().to(proposal::show)))
            .service(r("/proposals/{id}/attachments").route(post().to(proposal::upload)))
            .service(r("/proposals/{id}/attachments/{file}").route(get().to(proposal::download)))
            .service(r("/proposals/{id}/{action}").route(post().to(proposal::act)))
            .service(
                r("/record")
                    .route(get().to(record::form))
                    .route(post().to(record::submit)),
            )
            .service(
                r("/needs")
                    .route(get().to(needs::list))
                    .route(post().to(needs::create)),
            )
            .service(r("/needs/new").route(get().to(needs::new_form)))
            .service(
                r("/needs/{id}")
                    .route(get().to(needs::show))
                    .route(post().to(needs::update)),
            )
            .service(
                r("/needs/{id}/matches/{offer}/feedback").route(post().to(needs::match_feedback)),
            )
            .service(r("/needs/{id}/{action}").route(post().to(needs::set_status)))
            .service(r("/partners").route(get().to(partners::browse)))
            .service(r("/partners/{id}").route(get().to(partners::show)))
            .service(r("/partners/{id}/{action}").route(post().to(partners::set_status)))
            .service(
                r("/departments")
                    .route(get().to(departments::show))
                    .route(post().to(departments::create)),
            )
            .service(r("/departments/{id}").route(post().to(departments::update)))
            .service(
                r("/templates")
                    .route(get().to(templates::show))
                    .route(post().to(templates::create)),
            )
            .service(
                r("/templates/{id}")
                    .route(get().to(templates::edit))
                    .route(post().to(templates::update)),
            )
            .service(r("/templates/{id}/delete").route(post().to(templates::delete)))
            .service(r("/rules").route(post().to(departments::create_rule)))
            .service(r("/rules/{id}/delete").route(post().to(departments::delete_rule)))
            .service(
                r("/staff")
                    .route(get().to(staff::show))
                    .route(post().to(staff::create)),
            )
            .service(r("/staff/password").route(post().to(staff::set_password)))
            .service(r("/staff/{id}/invitation").route(post().to(staff::invite)))
            .service(
                r("/staff/{id}")
                    .route(get().to(staff::edit))
                    .route(post().to(staff::update)),
            )
            .service(
                r("/account")
                    .route(get().to(account::show))
                    .route(post().to(account::update)),
            )
            .service(r("/account/password").route(post().to(account::change_password)))
            .service(r("/account/notifications").route(post().to(account::update_notifications)))
            .service(r("/account/shortcuts").route(post().to(account::set_shortcuts)))
            .service(
                r("/password")
                    .route(get().to(credentials::change_form))
                    .route(post().to(credentials::change)),
            )
            .service(
                r("/invitation")
                    .route(get().to(credentials::invitation_form))
                    .route(post().to(credentials::accept_invitation)),
            )
            .service(r("/audit").route(get().to(audit::show)))
            .service(r("/audit.csv").route(get().to(audit::csv)))
            .service(r("/dashboard").route(get().to(dashboard::show)))
            .service(r("/dashboard.csv").route(get().to(dashboard::csv)))
            .service(r("/outbox").route(get().to(outbox::show)))
            .service(r("/outbox/{id}/retry").route(post().to(outbox::retry)))
            .default_service(web::to(not_found)),
    );
}

async fn home() -> HttpResponse {
    see_other("/admin/inbox")
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    ConsoleError::App(AppError::NotFound("page"), Lang::of(&req)).error_response()
}

/// A 303 to `to` (after a form, or to the login page).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// What a console request can end in besides its page.
#[derive(Debug)]
pub enum ConsoleError {
    /// No live session: go to the login page, then come back to `next`.
    LoginRequired { next: String },
    /// A form without the session's CSRF token.
    Csrf(Lang),
    /// A domain error, shown as a page.
    App(AppError, Lang),
    /// The session may only choose a new password (after an administrator's reset).
    PasswordChangeRequired(Lang),
}

impl ConsoleError {
    fn bad_form(detail: &str, req: &HttpRequest) -> ConsoleError {
        ConsoleError::App(AppError::BadRequest(detail.to_owned()), Lang::of(req))
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LoginRequired { .. } => f.write_str("login required"),
            Self::Csrf(_) => f.write_str("CSRF token missing or wrong"),
            Self::App(e, _) => e.fmt(f),
            Self::PasswordChangeRequired(_) => f.write_str("a new password must be chosen first"),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired { .. } | Self::PasswordChangeRequired(_) => StatusCode::SEE_OTHER,
            Self::Csrf(_) => StatusCode::FORBIDDEN,
            Self::App(e, _) => crate::web::status::status_of(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (e, lang) = match self {
            Self::LoginRequired { next } => {
                return see_other(&format!("/admin/login?next={}", layout::url_encode(next)));
            }
            Self::PasswordChangeRequired(_) => return see_other(credentials::CHANGE_PATH),
            Self::Csrf(lang) => {
                let body = html! {
                    p { (lang.t(
                        "フォームの有効期限が切れたか、別の画面から送信されました。画面を開き直してからもう一度送信してください。",
                        "The form has expired or was sent from another page. Open the page again and resend the form."
                    )) }
                };
                return layout::bare(
                    *lang,
                    StatusCode::FORBIDDEN,
                    lang.t(
                        "送信を受け付けられませんでした",
                        "The form was not accepted",
                    ),
                    body,
                );
            }
            Self::App(e, lang) => (e, *lang),
        };
        let status = self.status_code();
        if let AppError::Internal(cause) = e {
            log::error!("console: internal error: {cause:#}");
        }
        let title = match e {
            AppError::NotFound(_) => lang.t("ページが見つかりません", "Not found"),
            AppError::Forbidden(_) => lang.t("この操作は権限がありません", "Not allowed"),
            AppError::Conflict(_) => lang.t("この操作は今の状態ではできません", "Not possible now"),
            AppError::Invalid(_) | AppError::BadRequest(_) => {
                lang.t("入力内容を確認してください", "Please check your input")
            }
            AppError::Unauthenticated => lang.t("ログインしてください", "Please log in"),
            AppError::Unavailable(_) => lang.t(
                "混み合っています。しばらくしてから再度お試しください",
                "Busy: please try again shortly",
            ),
            AppError::RateLimited { .. } => {
                lang.t("短時間に操作が集中しています", "Too many requests")
            }
            AppError::Internal(_) => lang.t("システムエラーが発生しました", "Something went wrong"),
            AppError::UnsupportedMediaType(_) | AppError::PayloadTooLarge(_) => {
                lang.t("このファイルは受け付けられません", "File not accepted")
            }
        };
        let mut res = layout::bare(lang, status, title, layout::error_detail(lang, e));
        if let Some(secs) = crate::web::status::retry_after(e) {
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        res
    }
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

/// Runs a domain call on the blocking pool; its error becomes an error page.
pub async fn run<T: Send + 'static>(
    state: &web::Data<AppState>,
    lang: Lang,
    f: impl FnOnce(&Db) -> AppResult<T> + Send + 'static,
) -> ConsoleResult<T> {
    crate::web::state::run(state, f)
        .await
        .map_err(|e| ConsoleError::App(e, lang))
}

/// The (code, name) of every municipality, for deployment admins' pickers.
pub async fn municipality_options(
    state: &web::Data<AppState>,
    lang: Lang,
) -> ConsoleResult<Vec<(String, String)>> {
    run(state, lang, |db| {
        Ok(crate::domain::municipalities::list(db)?
            .into_iter()
            .map(|m| (m.code, m.name))
            .collect())
    })
    .await
}

/// The page a deployment admin sees first on a screen about one municipality: the
/// picker, under the screen's menu entry and title.
pub async fn choose_municipality(
    state: &web::Data<AppState>,
    u: &session::ConsoleUser,
    nav: layout::Nav,
    title: &str,
    action: &str,
) -> ConsoleResult<HttpResponse> {
    let ms = municipality_options(state, u.lang).await?;
    let body = layout::municipality_picker(u, action, &ms, None);
    Ok(layout::page(u, nav, title, body))
}

/// Hands a domain error back to the page (to show it beside the form that caused it);
/// other failures stay console errors.
pub fn lift<T>(r: ConsoleResult<T>) -> ConsoleResult<Result<T, AppError>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(ConsoleError::App(e, _)) => Ok(Err(e)),
        Err(other) => Err(other),
    }
}

/// Runs a domain call that also needs the search engine.
pub async fn run_search<T: Send + 'static>(
    state: &web::Data<AppState>,
    lang: Lang,
    f: impl FnOnce(&Db, &SearchEngine) -> AppResult<T> + Send + 'static,
) -> ConsoleResult<T> {
    crate::web::state::run_search(state, f)
        .await
        .map_err(|e| ConsoleError::App(e, lang))
}

pub use crate::web::html::response as html_response;
