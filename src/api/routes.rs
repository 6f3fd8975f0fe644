//! The whole route table, in one place. Every API route is registered through the
//! OpenAPI-collecting scope, so the document at /api/v1/openapi.json cannot miss one.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{App, Error, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_actix_web::{AppExt, scope};

use super::{
    attachments, audit, desk, health, keys, municipalities, needs, notifications, offers, outcomes,
    partners, proposals, search, staff,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "kyoso API", version = "1", description = "共創 (co-creation) between municipalities and partners: needs, offers, partners, municipalities. Errors are RFC 9457 problem documents."),
    components(schemas(super::problem::Problem)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Registers every route on `app`; returns the app and the OpenAPI document.
pub fn register<T>(app: App<T>) -> (App<T>, utoipa::openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = Error, InitError = ()>,
{
    app.into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/v1")
                .service(health::openapi_json)
                .service(keys::get_me)
                .service(keys::list_keys)
                .service(keys::create_key)
                .service(keys::revoke_key)
                .service(partners::register_partner)
                .service(partners::get_own_partner)
                .service(partners::update_own_partner)
                .service(partners::resend_verification)
                .service(partners::verify_page)
                .service(partners::verify_email)
                .service(partners::admin_verify_email)
                .service(partners::confirm_corporate_number)
                .service(partners::get_partner)
                .service(offers::list_offers)
                .service(offers::create_offer)
                .service(offers::get_offer)
                .service(offers::update_offer)
                .service(offers::archive_offer)
                .service(needs::list_needs)
                .service(needs::create_need)
                .service(needs::get_need)
                .service(needs::update_need)
                .service(needs::publish_need)
                .service(needs::close_need)
                .service(outcomes::cases_for_need)
                .service(municipalities::list_municipalities)
                .service(municipalities::create_municipality)
                .service(municipalities::get_municipality)
                .service(municipalities::update_municipality)
                .service(municipalities::create_zone)
                .service(municipalities::list_departments)
                .service(municipalities::create_department)
                .service(municipalities::get_department)
                .service(municipalities::update_department)
                .service(staff::list_staff)
                .service(staff::create_staff)
                .service(staff::get_staff)
                .service(staff::update_staff)
                .service(staff::invite_staff)
                .service(audit::list_audit)
                .service(proposals::submit_proposal)
                .service(proposals::record_proposal)
                .service(proposals::list_proposals)
                // Before `/proposals/{id}` routes, as the exports are.
                .service(proposals::bulk_action)
                // Before `/proposals/{id}`, which would otherwise take `export.csv` as an id.
                .service(proposals::export_proposals_csv)
                .service(proposals::export_proposals_xlsx)
                .service(proposals::get_proposal)
                .service(proposals::suggest_departments)
                .service(proposals::similar_proposals)
                .service(proposals::route_proposal)
                .service(proposals::assign_proposal)
                .service(proposals::mark_duplicate)
                .service(proposals::return_proposal)
                .service(proposals::add_note)
                .service(proposals::reply)
                .service(proposals::send_message)
                .service(proposals::transition)
                .service(proposals::pause)
                .service(proposals::resume)
                .service(proposals::extend)
                .service(outcomes::record_outcome)
                .service(outcomes::list_outcomes)
                .service(attachments::upload_attachment)
                .service(attachments::list_attachments)
                .service(attachments::download_attachment)
                .service(desk::get_deadlines)
                .service(desk::get_stats)
                .service(desk::list_rules)
                .service(desk::create_rule)
                .service(desk::delete_rule)
                .service(desk::open_needs_json)
                .service(desk::open_needs_csv)
                .service(desk::outcomes_json)
                .service(desk::outcomes_csv)
                .service(desk::outcome_summary_csv)
                .service(search::search)
                .service(search::offers_for_need)
                .service(search::needs_for_offer)
                .service(search::match_feedback)
                .service(notifications::get_preferences)
                .service(notifications::update_preferences)
                .service(notifications::unsubscribe_page)
                .service(notifications::unsubscribe)
                .service(notifications::list_mail)
                .service(notifications::retry_mail)
                .service(notifications::list_saved_searches)
                .service(notifications::create_saved_search)
                .service(notifications::delete_saved_search),
        )
        .default_service(web::to(super::fallback::not_routed))
        .split_for_parts()
}
