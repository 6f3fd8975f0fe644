//! Notification preferences, one-click unsubscribe, and the mail outbox for admins.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::notifications::preferences::{self, Preferences, PreferencesInput};
use crate::domain::notifications::saved_searches::{self, SavedSearchInput, SavedSearchView};
use crate::domain::notifications::unsubscribe as unsubscribing;
use crate::domain::outbox_admin::{self, OutboxMail};
use crate::web::state::{AppState, run, run_search};
use actix_web::http::StatusCode;
use maud::{Markup, html};

/// The caller's notification preferences: per kind immediate, daily, weekly or off.
#[utoipa::path(tag = "notifications", security(("api_key" = [])),
    responses((status = 200, body = Preferences), (status = "4XX", body = Problem)))]
#[get("/me/notifications")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<web::Json<Preferences>> {
    Ok(web::Json(
        run(&state, move |db| preferences::get(db, &actor)).await?,
    ))
}

#[utoipa::path(tag = "notifications", request_body = PreferencesInput, security(("api_key" = [])),
    responses((status = 200, body = Preferences), (status = "4XX", body = Problem)))]
#[put("/me/notifications")]
pub async fn update_preferences(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<PreferencesInput>,
) -> ApiResult<web::Json<Preferences>> {
    Ok(web::Json(
        run(&state, move |db| {
            preferences::update(db, &actor, body.into_inner())
        })
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenParam {
    pub token: String,
}

/// A page for someone following a link in a mail, in the console's look.
fn page(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    crate::web::html::public_page(status, title, body)
}

/// The page for a link that cannot be followed, saying why and what to do instead.
fn refused_page(why: unsubscribing::Refused) -> HttpResponse {
    use unsubscribing::Refused;
    let (status, title, reason_ja, reason_en) = match why {
        Refused::Invalid => (
            StatusCode::BAD_REQUEST,
            "このリンクは無効です / This link is not valid",
            "リンクが途中で切れているか、書き換えられています。メールのリンクをもう一度そのまま開いてください。",
            "The link was cut or changed. Open the link in the mail again exactly as it is.",
        ),
        Refused::Expired => (
            StatusCode::GONE,
            "このリンクは有効期限が切れています / This link has expired",
            "配信停止のリンクは発行から1年間有効です。最近届いたメールのリンクをお使いください。",
            "Unsubscribe links work for one year. Use the link in a recent mail.",
        ),
        Refused::Revoked => (
            StatusCode::GONE,
            "このリンクは無効にされています / This link was revoked",
            "配信設定で、これまでのメールの配信停止リンクが無効にされました。最近届いたメールのリンクをお使いください。",
            "The links in earlier mails were revoked from the notification settings. Use the link in a recent mail.",
        ),
    };
    page(
        status,
        title,
        html! {
            p { (reason_ja) br; (reason_en) }
            p {
                "配信設定はログインして変更することもできます。ご不明な点は共創窓口へお問い合わせください。"
                br;
                "You can also change your notification settings after signing in, or ask the co-creation desk."
            }
        },
    )
}

/// The page a person reaches from the unsubscribe link: it asks before changing
/// anything (mail scanners follow links with GET), or says why the link no longer works.
#[utoipa::path(tag = "notifications", params(TokenParam), responses((status = 200, description = "HTML confirmation page", content_type = "text/html"), (status = "4XX", description = "HTML page: the link is not valid, expired or revoked", content_type = "text/html")))]
#[get("/unsubscribe")]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    q: web::Query<TokenParam>,
) -> ApiResult<HttpResponse> {
    let token = q.into_inner().token;
    let checked = token.clone();
    if let Some(why) = run(&state, move |db| unsubscribing::inspect(db, &checked)).await? {
        return Ok(refused_page(why));
    }
    Ok(page(
        StatusCode::OK,
        "配信停止 / Unsubscribe",
        html! {
            p { "このお知らせの配信を停止しますか？" br; "Stop receiving these notices?" }
            form method="post" action=(format!("?token={token}")) {
                input type="hidden" name="List-Unsubscribe" value="One-Click";
                button type="submit" { "配信を停止する / Unsubscribe" }
            }
        },
    ))
}

/// One-click unsubscribe (RFC 8058): works without signing in; the token says who and
/// what. A link that is not valid, expired or revoked gets a page saying so.
#[utoipa::path(tag = "notifications", params(TokenParam), responses((status = 200, description = "HTML confirmation"), (status = "4XX", description = "HTML page: the link is not valid, expired or revoked", content_type = "text/html")))]
#[post("/unsubscribe")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    q: web::Query<TokenParam>,
) -> ApiResult<HttpResponse> {
    let token = q.into_inner().token;
    let off = match run(&state, move |db| unsubscribing::apply(db, &token)).await? {
        unsubscribing::Outcome::Unsubscribed(off) => off,
        unsubscribing::Outcome::Refused(why) => return Ok(refused_page(why)),
    };
    Ok(page(
        StatusCode::OK,
        "配信を停止しました / Unsubscribed",
        html! {
            p { "次のお知らせを停止しました。配信設定からいつでも再開できます。" }
            ul { @for k in &off { li { (k) } } }
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MailQuery {
    /// pending, sending, sent, failed or digested, or delayed (pending after failed
    /// attempts); default: the failed mails, then the delayed ones.
    pub status: Option<String>,
}

/// The mail outbox for deployment admins: failed and delayed mails by default.
#[utoipa::path(tag = "notifications", params(MailQuery), security(("api_key" = [])),
    responses((status = 200, body = Vec<OutboxMail>), (status = "4XX", body = Problem)))]
#[get("/admin/mail")]
pub async fn list_mail(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<MailQuery>,
) -> ApiResult<web::Json<Vec<OutboxMail>>> {
    let status = q.into_inner().status;
    let mails = run(&state, move |db| {
        outbox_admin::by_status(db, &actor, status.as_deref(), 200)
    })
    .await?;
    Ok(web::Json(mails))
}

/// Queue a failed mail again, due now.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path, description = "mail id")), security(("api_key" = [])),
    responses((status = 204), (status = "4XX", body = Problem)))]
#[post("/admin/mail/{id}/retry")]
pub async fn retry_mail(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    run(&state, move |db| outbox_admin::retry(db, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's saved searches.
#[utoipa::path(tag = "notifications", security(("api_key" = [])),
    responses((status = 200, body = Vec<SavedSearchView>), (status = "4XX", body = Problem)))]
#[get("/me/saved-searches")]
pub async fn list_saved_searches(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<web::Json<Vec<SavedSearchView>>> {
    Ok(web::Json(
        run(&state, move |db| saved_searches::list(db, &actor)).await?,
    ))
}

/// Save a search: new results are sent as `saved_search` notices.
#[utoipa::path(tag = "notifications", request_body = SavedSearchInput, security(("api_key" = [])),
    responses((status = 201, body = SavedSearchView), (status = "4XX", body = Problem)))]
#[post("/me/saved-searches")]
pub async fn create_saved_search(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<SavedSearchInput>,
) -> ApiResult<HttpResponse> {
    let s = run_search(&state, move |db, engine| {
        saved_searches::create(db, engine, &actor, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(s))
}

#[utoipa::path(tag = "notifications", params(("id" = i64, Path, description = "saved search id")), security(("api_key" = [])),
    responses((status = 204), (status = "4XX", body = Problem)))]
#[delete("/me/saved-searches/{id}")]
pub async fn delete_saved_search(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    run(&state, move |db| saved_searches::delete(db, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
