//! Every migration runs up, down and up again on both backends, and the tables diesel's
//! schema names exist after it.

use diesel::prelude::*;

use crate::helpers::{Backend, ScratchDir, fresh_database};
use crate::on_both_backends;
use kyoso::storage::Db;
use kyoso::storage::connection::{AnyConnection, revert_all_migrations, run_migrations};

on_both_backends!(migrations_run_up_down_up);

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

fn table_names(conn: &mut AnyConnection) -> Vec<String> {
    let sql = match conn {
        AnyConnection::Postgresql(_) => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        }
        AnyConnection::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    diesel::sql_query(sql)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .filter(|n| n != "__diesel_schema_migrations")
        .collect()
}

const TABLES: &[&str] = &[
    "api_keys",
    "audit_events",
    "console_sessions",
    "demo_records",
    "department_policy_fields",
    "departments",
    "digest_runs",
    "idempotency_keys",
    "inbox_filters",
    "index_changes",
    "job_state",
    "link_revocations",
    "mail_outbox",
    "match_alerts",
    "match_feedback",
    "municipalities",
    "need_partner_kinds",
    "needs",
    "offer_policy_fields",
    "offer_regions",
    "offers",
    "outcome_indicators",
    "outcome_reports",
    "partner_email_verifications",
    "partner_regions",
    "partners",
    "proposal_attachment_blobs",
    "proposal_attachments",
    "proposal_departments",
    "proposal_events",
    "proposals",
    "receipt_counters",
    "reply_templates",
    "routing_rules",
    "saved_searches",
    "staff_invitations",
    "staff_users",
    "subscriptions",
    "weekly_report_runs",
    "zones",
];

async fn migrations_run_up_down_up(backend: Backend) {
    let scratch = ScratchDir::new();
    let db = Db::open(fresh_database(backend, &scratch), 1).unwrap();
    let mut conn = db.conn().unwrap();
    let up = run_migrations(&mut conn).unwrap();
    assert!(!up.is_empty());
    assert_eq!(table_names(&mut conn), TABLES);
    let down = revert_all_migrations(&mut conn).unwrap();
    assert_eq!(down.len(), up.len());
    assert!(
        table_names(&mut conn).is_empty(),
        "tables left after down: {:?}",
        table_names(&mut conn)
    );
    let again = run_migrations(&mut conn).unwrap();
    assert_eq!(again, up);
    assert_eq!(table_names(&mut conn), TABLES);
    // The migration folders are mirrored one to one.
    let names = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}
