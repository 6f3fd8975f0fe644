//! Partner registration and profiles, the verification of a partner's contact address,
//! and the deployment admin's confirmations (address, 法人番号).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::notifications::TokenParam;
use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::email_verification;
use crate::domain::error::AppError;
use crate::domain::ids::PartnerId;
use crate::domain::partners::{self, PartnerView, RegisterPartner, Registered, UpdatePartner};
use crate::domain::throttle;
use crate::web::html::public_page as page;
use crate::web::state::{AppState, run, source};
use crate::web::status::status_of;
use actix_web::http::StatusCode;
use maud::html;

/// Register a partner. The response carries the first API key, shown only this once.
/// At most 5 registrations an hour per source address (429 with `Retry-After`).
#[utoipa::path(tag = "partners", request_body = RegisterPartner,
    responses((status = 201, body = Registered), (status = 429, body = Problem, description = "too many registrations from this address", headers(("Retry-After" = u64, description = "seconds to wait"))), (status = "4XX", body = Problem)))]
#[post("/partners")]
pub async fn register_partner(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterPartner>,
) -> ApiResult<HttpResponse> {
    throttle::registration(&state.guards, &source(&req))?;
    let r = run(&state, move |db| partners::register(db, body.into_inner())).await?;
    Ok(HttpResponse::Created().json(r))
}

/// The calling partner's own profile.
#[utoipa::path(tag = "partners", security(("api_key" = [])),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[get("/partners/me")]
pub async fn get_own_partner(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<web::Json<PartnerView>> {
    let id = actor.require_partner()?;
    Ok(web::Json(
        run(&state, move |db| partners::get(db, &actor, id)).await?,
    ))
}

/// Change the calling partner's profile; absent fields stay as they are.
#[utoipa::path(tag = "partners", request_body = UpdatePartner, security(("api_key" = [])),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[patch("/partners/me")]
pub async fn update_own_partner(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<UpdatePartner>,
) -> ApiResult<web::Json<PartnerView>> {
    Ok(web::Json(
        run(&state, move |db| {
            partners::update_own(db, &actor, body.into_inner())
        })
        .await?,
    ))
}

/// A partner's public profile; contact details only for the partner itself and staff.
#[utoipa::path(tag = "partners", params(("id" = i64, Path, description = "partner id")),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[get("/partners/{id}")]
pub async fn get_partner(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<PartnerId>,
) -> ApiResult<web::Json<PartnerView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| partners::get(db, &actor, id)).await?,
    ))
}

/// Ask for a new verification link to the current contact address (at most one per
/// 10 minutes; 409 when it is verified already).
#[utoipa::path(tag = "partners", security(("api_key" = [])),
    responses((status = 202, description = "a new link was queued"), (status = "4XX", body = Problem)))]
#[post("/partners/me/verification")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<HttpResponse> {
    run(&state, move |db| email_verification::resend(db, &actor)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// The page the verification mail links to. It only asks: mail scanners open links
/// with GET, so the address is verified by the form's POST.
#[utoipa::path(tag = "partners", params(TokenParam),
    responses((status = 200, description = "HTML confirmation page", content_type = "text/html")))]
#[get("/partners/verify")]
pub async fn verify_page(q: web::Query<TokenParam>) -> HttpResponse {
    page(
        StatusCode::OK,
        "メールアドレスの確認 / Confirm your address",
        html! {
            p {
                "kyoso のパートナー登録の連絡先として、このメールアドレスを確認しますか？"
                br;
                "Confirm this address as the contact of a kyoso partner registration?"
            }
            form method="post" action=(format!("?token={}", q.token)) {
                button type="submit" { "メールアドレスを確認する / Confirm this address" }
            }
            p { "お心当たりがない場合は、このページを閉じてください。" br; "If this was not you, close this page." }
        },
    )
}

/// Uses a verification link: answers an HTML page for the person who pressed the button;
/// an unknown, used or expired link is a 422 page naming what is wrong.
#[utoipa::path(tag = "partners", params(TokenParam),
    responses((status = 200, description = "HTML: the address is verified"), (status = 422, description = "HTML: the link is unknown, used or expired")))]
#[post("/partners/verify")]
pub async fn verify_email(state: web::Data<AppState>, q: web::Query<TokenParam>) -> HttpResponse {
    let token = q.into_inner().token;
    match run(&state, move |db| email_verification::confirm(db, &token)).await {
        Ok(v) => page(
            StatusCode::OK,
            "確認しました / Address confirmed",
            html! {
                p {
                    (v.email) " を確認しました。今後、提案の受付などのお知らせをこのアドレスにお送りします。"
                    br;
                    "This address is confirmed; notices will be sent to it from now on."
                }
            },
        ),
        Err(e) => {
            let status = status_of(&e);
            let (en, ja) = match &e {
                AppError::Invalid(errors) => errors
                    .first()
                    .map(|f| (f.message.clone(), f.message_ja.clone().unwrap_or_default()))
                    .unwrap_or_default(),
                other => (other.to_string(), String::new()),
            };
            if let AppError::Internal(cause) = &e {
                log::error!("internal error: {cause:#}");
            }
            page(
                status,
                "確認できませんでした / Not confirmed",
                html! { p { (ja) br; (en) } },
            )
        }
    }
}

/// Deployment admins: mark a partner's current contact address verified (checked
/// another way, e.g. by phone).
#[utoipa::path(tag = "partners", params(("id" = i64, Path, description = "partner id")), security(("api_key" = [])),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[post("/admin/partners/{id}/verify-email")]
pub async fn admin_verify_email(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<PartnerId>,
) -> ApiResult<web::Json<PartnerView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            email_verification::confirm_by_admin(db, &actor, id)?;
            partners::get(db, &actor, id)
        })
        .await?,
    ))
}

/// Deployment admins: confirm the 法人番号 a partner claims. A partner that held it
/// keeps it only as a claim.
#[utoipa::path(tag = "partners", params(("id" = i64, Path, description = "partner id")), security(("api_key" = [])),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[post("/admin/partners/{id}/corporate-number/confirm")]
pub async fn confirm_corporate_number(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<PartnerId>,
) -> ApiResult<web::Json<PartnerView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            partners::confirm_corporate_number(db, &actor, id)
        })
        .await?,
    ))
}
