//! Queries on partners and the regions they serve.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::{PartnerRow, PartnerWrite};
use super::schema::{partner_email_verifications, partner_regions, partners};

pub fn insert(
    conn: &mut AnyConnection,
    new: &PartnerWrite,
    created_at: chrono::NaiveDateTime,
) -> QueryResult<PartnerRow> {
    diesel::insert_into(partners::table)
        .values((new, partners::created_at.eq(created_at)))
        .returning(partners::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            partners::table
                .find(id)
                .select(PartnerRow::as_select())
                .first(conn)
        })
}

pub fn update(conn: &mut AnyConnection, id: i64, changes: &PartnerWrite) -> QueryResult<()> {
    diesel::update(partners::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<PartnerRow>> {
    partners::table
        .find(id)
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<PartnerRow>> {
    partners::table
        .filter(partners::id.eq_any(ids))
        .select(PartnerRow::as_select())
        .load(conn)
}

/// (id, whether the e-mail address is verified) of the given partners, for lists that
/// show only that of each proposer.
pub fn verified_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, bool)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    partners::table
        .filter(partners::id.eq_any(ids))
        .select((partners::id, partners::email_verified_at.is_not_null()))
        .load(conn)
}

pub fn set_status(conn: &mut AnyConnection, id: i64, status: &str) -> QueryResult<()> {
    diesel::update(partners::table.find(id))
        .set((
            partners::status.eq(status),
            partners::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_regions(conn: &mut AnyConnection, partner_id: i64, regions: &[&str]) -> QueryResult<()> {
    diesel::delete(partner_regions::table.filter(partner_regions::partner_id.eq(partner_id)))
        .execute(conn)?;
    for r in regions {
        diesel::insert_into(partner_regions::table)
            .values((
                partner_regions::partner_id.eq(partner_id),
                partner_regions::region_code.eq(*r),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn regions(conn: &mut AnyConnection, partner_id: i64) -> QueryResult<Vec<String>> {
    partner_regions::table
        .filter(partner_regions::partner_id.eq(partner_id))
        .select(partner_regions::region_code)
        .order(partner_regions::region_code)
        .load(conn)
}

/// Locks a partner's row until the transaction ends (see `proposals::lock`): profile
/// changes, address verification and number confirmation run one after the other.
pub fn lock(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    diesel::update(partners::table.find(id))
        .set(partners::id.eq(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// A stored verification link (its token only as a hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = partner_email_verifications)]
pub struct VerificationRow {
    pub id: i64,
    pub partner_id: i64,
    pub email: String,
    pub token_hash: String,
    pub created_at: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
    pub used_at: Option<chrono::NaiveDateTime>,
}

/// Stores a new link for `email`; earlier unused links of the partner stop working.
pub fn add_verification(
    conn: &mut AnyConnection,
    partner_id: i64,
    email: &str,
    token_hash: &str,
    at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    diesel::delete(
        partner_email_verifications::table.filter(
            partner_email_verifications::partner_id
                .eq(partner_id)
                .and(partner_email_verifications::used_at.is_null()),
        ),
    )
    .execute(conn)?;
    diesel::insert_into(partner_email_verifications::table)
        .values((
            partner_email_verifications::partner_id.eq(partner_id),
            partner_email_verifications::email.eq(email),
            partner_email_verifications::token_hash.eq(token_hash),
            partner_email_verifications::created_at.eq(at),
            partner_email_verifications::expires_at.eq(expires_at),
        ))
        .returning(partner_email_verifications::id)
        .get_result(conn)
}

/// The ids of every link the partner was sent (used or not).
pub fn verification_ids(conn: &mut AnyConnection, partner_id: i64) -> QueryResult<Vec<i64>> {
    partner_email_verifications::table
        .filter(partner_email_verifications::partner_id.eq(partner_id))
        .select(partner_email_verifications::id)
        .load(conn)
}

/// When the partner's latest link was sent, if any.
pub fn last_verification_sent(
    conn: &mut AnyConnection,
    partner_id: i64,
) -> QueryResult<Option<chrono::NaiveDateTime>> {
    partner_email_verifications::table
        .filter(partner_email_verifications::partner_id.eq(partner_id))
        .select(diesel::dsl::max(partner_email_verifications::created_at))
        .first(conn)
}

pub fn verification_by_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<VerificationRow>> {
    partner_email_verifications::table
        .filter(partner_email_verifications::token_hash.eq(token_hash))
        .select(VerificationRow::as_select())
        .first(conn)
        .optional()
}

/// Uses a link once: true when this call used it (an unused link, marked now).
pub fn use_verification(
    conn: &mut AnyConnection,
    id: i64,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        partner_email_verifications::table.filter(
            partner_email_verifications::id
                .eq(id)
                .and(partner_email_verifications::used_at.is_null()),
        ),
    )
    .set(partner_email_verifications::used_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// Marks the partner's address verified, if it is still `email`.
pub fn set_email_verified(
    conn: &mut AnyConnection,
    id: i64,
    email: &str,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        partners::table.filter(partners::id.eq(id).and(partners::contact_email.eq(email))),
    )
    .set(partners::email_verified_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// The partner holding `number` as confirmed, if any.
pub fn holder_of(conn: &mut AnyConnection, number: &str) -> QueryResult<Option<i64>> {
    partners::table
        .filter(partners::corporate_number.eq(number))
        .select(partners::id)
        .first(conn)
        .optional()
}

/// Sets a partner's confirmed number and claim as given.
pub fn set_corporate_number(
    conn: &mut AnyConnection,
    id: i64,
    confirmed: Option<&str>,
    claim: Option<&str>,
) -> QueryResult<()> {
    diesel::update(partners::table.find(id))
        .set((
            partners::corporate_number.eq(confirmed),
            partners::corporate_number_claim.eq(claim),
            partners::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The partner's mail language (`ja` or `en`).
pub fn locale_of(conn: &mut AnyConnection, id: i64) -> QueryResult<String> {
    partners::table
        .find(id)
        .select(partners::locale)
        .first(conn)
}

pub fn set_locale(conn: &mut AnyConnection, id: i64, locale: &str) -> QueryResult<()> {
    diesel::update(partners::table.find(id))
        .set(partners::locale.eq(locale))
        .execute(conn)
        .map(|_| ())
}

/// Every partner's id, name, kind and status, by id: the record form's lookup by name
/// (a few columns, so a deployment's thousands of partners stay a small read).
pub fn directory(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, String, String, String)>> {
    partners::table
        .select((
            partners::id,
            partners::name,
            partners::kind,
            partners::status,
        ))
        .order(partners::id)
        .load(conn)
}
