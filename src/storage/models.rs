//! Row types: what diesel reads from and writes to each table. Domain code turns them
//! into typed views; nothing outside `storage` and `domain` sees them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = municipalities)]
pub struct MunicipalityRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub prefecture: String,
    pub first_response_days: i32,
    pub decision_days: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = municipalities)]
pub struct NewMunicipality<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub prefecture: &'a str,
    pub first_response_days: i32,
    pub decision_days: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = zones)]
pub struct ZoneRow {
    pub id: i64,
    pub municipality_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: i64,
    pub municipality_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub is_desk: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = departments)]
pub struct NewDepartment<'a> {
    pub municipality_id: i64,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub is_desk: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_users)]
pub struct StaffUserRow {
    pub id: i64,
    pub municipality_id: Option<i64>,
    pub department_id: Option<i64>,
    pub role: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub locale: String,
    pub status: String,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set by an administrator's password reset: the console allows only choosing a
    /// new password until the user has done so.
    pub must_change_password: bool,
    /// The console's single-key shortcuts are on (the user may turn them off).
    pub keyboard_shortcuts: bool,
}

/// What an administrator (or, for name and locale, the user) may change.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = staff_users)]
pub struct StaffChanges<'a> {
    pub display_name: &'a str,
    pub role: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub department_id: Option<i64>,
    pub locale: &'a str,
    pub status: &'a str,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = staff_users)]
pub struct NewStaffUser<'a> {
    pub municipality_id: Option<i64>,
    pub department_id: Option<i64>,
    pub role: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub locale: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = partners)]
pub struct PartnerRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub corporate_number: Option<String>,
    pub contact_name: String,
    pub contact_email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub description: String,
    pub status: String,
    pub locale: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the current `contact_email` was proven; `None` while it is not.
    pub email_verified_at: Option<NaiveDateTime>,
    /// A 法人番号 stated but not confirmed; `corporate_number` holds confirmed ones only.
    pub corporate_number_claim: Option<String>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = partners)]
pub struct PartnerWrite<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub corporate_number: Option<&'a str>,
    pub contact_name: &'a str,
    pub contact_email: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub phone: Option<&'a str>,
    #[diesel(treat_none_as_null = true)]
    pub website: Option<&'a str>,
    pub description: &'a str,
    pub locale: &'a str,
    pub updated_at: NaiveDateTime,
    #[diesel(treat_none_as_null = true)]
    pub email_verified_at: Option<NaiveDateTime>,
    #[diesel(treat_none_as_null = true)]
    pub corporate_number_claim: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: i64,
    pub partner_id: Option<i64>,
    pub staff_user_id: Option<i64>,
    pub label: String,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub partner_id: Option<i64>,
    pub staff_user_id: Option<i64>,
    pub label: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = needs)]
pub struct NeedRow {
    pub id: i64,
    pub municipality_id: i64,
    pub department_id: i64,
    pub zone_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub policy_field: String,
    pub visibility: String,
    pub status: String,
    pub open_until: Option<NaiveDate>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = needs)]
pub struct NewNeed<'a> {
    pub municipality_id: i64,
    pub department_id: i64,
    pub zone_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub policy_field: &'a str,
    pub visibility: &'a str,
    pub status: &'a str,
    pub open_until: Option<NaiveDate>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = needs)]
pub struct NeedChanges<'a> {
    pub department_id: i64,
    #[diesel(treat_none_as_null = true)]
    pub zone_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub policy_field: &'a str,
    pub visibility: &'a str,
    pub status: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub open_until: Option<NaiveDate>,
    pub updated_at: NaiveDateTime,
    #[diesel(treat_none_as_null = true)]
    pub published_at: Option<NaiveDateTime>,
    #[diesel(treat_none_as_null = true)]
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = offers)]
pub struct OfferRow {
    pub id: i64,
    pub partner_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = offers)]
pub struct NewOffer<'a> {
    pub partner_id: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = offers)]
pub struct OfferChanges<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub status: &'a str,
    pub updated_at: NaiveDateTime,
    #[diesel(treat_none_as_null = true)]
    pub archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = proposals)]
pub struct ProposalRow {
    pub id: i64,
    pub municipality_id: i64,
    pub receipt_year: i32,
    pub receipt_seq: i32,
    pub channel: String,
    pub partner_id: Option<i64>,
    pub submitter_name: String,
    pub submitter_org: Option<String>,
    pub submitter_email: Option<String>,
    pub submitter_phone: Option<String>,
    pub need_id: Option<i64>,
    pub offer_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub policy_field: Option<String>,
    pub state: String,
    pub primary_department_id: Option<i64>,
    pub decline_reason_code: Option<String>,
    pub decline_reason_text: Option<String>,
    pub declared_no_antisocial_at: Option<NaiveDateTime>,
    pub consented_contact_at: Option<NaiveDateTime>,
    pub department_due_on: Option<NaiveDate>,
    pub proposer_due_on: Option<NaiveDate>,
    pub decision_due_on: Option<NaiveDate>,
    pub paused_at: Option<NaiveDateTime>,
    pub received_at: NaiveDateTime,
    pub routed_at: Option<NaiveDateTime>,
    pub first_response_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub consented_publication_at: Option<NaiveDateTime>,
    /// 担当者 (a staff user), if any.
    pub assignee_id: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = proposals)]
pub struct NewProposal<'a> {
    pub municipality_id: i64,
    pub receipt_year: i32,
    pub receipt_seq: i32,
    pub channel: &'a str,
    pub partner_id: Option<i64>,
    pub submitter_name: &'a str,
    pub submitter_org: Option<&'a str>,
    pub submitter_email: Option<&'a str>,
    pub submitter_phone: Option<&'a str>,
    pub need_id: Option<i64>,
    pub offer_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub policy_field: Option<&'a str>,
    pub state: &'a str,
    pub declared_no_antisocial_at: Option<NaiveDateTime>,
    pub consented_contact_at: Option<NaiveDateTime>,
    pub consented_publication_at: Option<NaiveDateTime>,
    pub proposer_due_on: Option<NaiveDate>,
    pub decision_due_on: Option<NaiveDate>,
    pub received_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = proposal_events)]
pub struct ProposalEventRow {
    pub id: i64,
    pub proposal_id: i64,
    pub kind: String,
    pub actor_staff_id: Option<i64>,
    pub actor_partner_id: Option<i64>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub department_id: Option<i64>,
    pub body: Option<String>,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = proposal_events)]
pub struct NewProposalEvent<'a> {
    pub proposal_id: i64,
    pub kind: &'a str,
    pub actor_staff_id: Option<i64>,
    pub actor_partner_id: Option<i64>,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub department_id: Option<i64>,
    pub body: Option<&'a str>,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = routing_rules)]
pub struct RoutingRuleRow {
    pub id: i64,
    pub municipality_id: i64,
    pub department_id: i64,
    pub policy_field: Option<String>,
    pub keyword: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::proposal_attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub proposal_id: i64,
    pub file_name: String,
    pub content_kind: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by_staff_id: Option<i64>,
    pub uploaded_by_partner_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = super::schema::proposal_attachments)]
pub struct NewAttachment<'a> {
    pub proposal_id: i64,
    pub file_name: &'a str,
    pub content_kind: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub uploaded_by_staff_id: Option<i64>,
    pub uploaded_by_partner_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::reply_templates)]
pub struct ReplyTemplateRow {
    pub id: i64,
    pub municipality_id: i64,
    pub name: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::outcome_reports)]
pub struct OutcomeReportRow {
    pub id: i64,
    pub proposal_id: i64,
    pub done_text: String,
    pub effect_yen: Option<i64>,
    pub reported_on: NaiveDate,
    pub reported_by_staff_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = super::schema::outcome_reports)]
pub struct NewOutcomeReport<'a> {
    pub proposal_id: i64,
    pub done_text: &'a str,
    pub effect_yen: Option<i64>,
    pub reported_on: NaiveDate,
    pub reported_by_staff_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::outcome_indicators)]
pub struct OutcomeIndicatorRow {
    pub id: i64,
    pub report_id: i64,
    pub seq: i32,
    pub name: String,
    pub unit: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = super::schema::outcome_indicators)]
pub struct NewOutcomeIndicator<'a> {
    pub report_id: i64,
    pub seq: i32,
    pub name: &'a str,
    pub unit: &'a str,
    pub before_value: Option<&'a str>,
    pub after_value: Option<&'a str>,
}
