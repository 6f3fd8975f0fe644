//! The proposals' stored first due date (`next_due_on`, a column the database generates):
//! it is exactly the earliest running clock of `running_clocks` for every state, pause,
//! answer and due dates a row can hold, however the row was written (here by direct
//! updates, as no domain path would); the 期限超過/期限間近 filter built on it keeps
//! exactly the proposals with a clock due before the bound; and the desk's inbox and
//! deadlines read their rows through the indexes made for them.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};

use crate::helpers::{Backend, TestApp, World};
use crate::inbox::submit_to;
use crate::on_both_backends;
use kyoso::domain::desk::deadlines::running_clocks;
use kyoso::storage::proposals::{ListOrder, ProposalFilter};
use kyoso::storage::schema::proposals;

on_both_backends!(the_stored_first_due_date_is_the_first_running_clock);

#[derive(QueryableByName)]
struct NextDue {
    #[diesel(sql_type = Nullable<Date>)]
    next_due_on: Option<NaiveDate>,
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn the_stored_first_due_date_is_the_first_running_clock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let id = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        "期限の確認",
        "期限の列を確かめる提案です。",
    );
    let mut conn = app.db.conn().unwrap();
    let municipality: i64 = proposals::table
        .find(id)
        .select(proposals::municipality_id)
        .first(&mut *conn)
        .unwrap();
    let alone: i64 = proposals::table
        .filter(proposals::municipality_id.eq(municipality))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(alone, 1, "the filter counts below see this proposal only");

    // Three dates (with ties, and each of them the earliest in some row) and none.
    let dates = [
        None,
        Some(day("2026-03-02")),
        Some(day("2026-03-10")),
        Some(day("2026-04-01")),
    ];
    // Bounds: on the earliest date (a clock due that day is not before it), and the
    // day after each date.
    let bounds = [
        day("2026-03-02"),
        day("2026-03-03"),
        day("2026-03-11"),
        day("2026-04-02"),
    ];
    let at = day("2026-02-20").and_hms_opt(9, 0, 0).unwrap();
    let mut rows = 0;
    let mut with_clock = 0;
    for state in [
        "received",
        "routed",
        "in_dialogue",
        "adopted",
        "declined",
        "withdrawn",
    ] {
        for paused in [None, Some(at)] {
            for answered in [None, Some(at)] {
                for department in dates {
                    for proposer in dates {
                        for decision in dates {
                            diesel::update(proposals::table.find(id))
                                .set((
                                    proposals::state.eq(state),
                                    proposals::decline_reason_code
                                        .eq((state == "declined").then_some("other")),
                                    proposals::paused_at.eq(paused),
                                    proposals::first_response_at.eq(answered),
                                    proposals::department_due_on.eq(department),
                                    proposals::proposer_due_on.eq(proposer),
                                    proposals::decision_due_on.eq(decision),
                                ))
                                .execute(&mut *conn)
                                .unwrap();
                            let row = kyoso::storage::proposals::find(&mut conn, id)
                                .unwrap()
                                .unwrap();
                            let clocks = running_clocks(&row).unwrap();
                            let first = clocks.iter().map(|(_, d)| *d).min();
                            let stored = diesel::sql_query(
                                "SELECT next_due_on FROM proposals WHERE id = $1",
                            )
                            .bind::<BigInt, _>(id)
                            .get_result::<NextDue>(&mut *conn)
                            .unwrap()
                            .next_due_on;
                            let what = format!(
                                "{state} paused {paused:?} answered {answered:?} department \
                                 {department:?} proposer {proposer:?} decision {decision:?}"
                            );
                            assert_eq!(stored, first, "{what}");
                            for bound in bounds {
                                let filter = ProposalFilter {
                                    municipality_id: Some(municipality),
                                    overdue_before: Some(bound),
                                    order: ListOrder::NextDue,
                                    limit: 10,
                                    ..Default::default()
                                };
                                let listed =
                                    kyoso::storage::proposals::list(&mut conn, &filter).unwrap();
                                let counted =
                                    kyoso::storage::proposals::count_filtered(&mut conn, &filter)
                                        .unwrap();
                                let due = clocks.iter().any(|(_, d)| *d < bound);
                                assert_eq!(listed.len(), usize::from(due), "{what} before {bound}");
                                assert_eq!(counted, i64::from(due), "{what} before {bound}");
                            }
                            rows += 1;
                            with_clock += usize::from(first.is_some());
                        }
                    }
                }
            }
        }
    }
    assert_eq!(rows, 6 * 2 * 2 * 64);
    assert!(
        with_clock > 100,
        "the combinations run clocks: {with_clock}"
    );

    // The plans: the inbox's newest page and the deadlines' pre-selection read an index
    // range in the order they need, never the municipality's every row and a sort.
    if backend == Backend::Sqlite {
        #[derive(QueryableByName)]
        struct Plan {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let plan = |conn: &mut kyoso::storage::AnyConnection, sql: &str| -> String {
            diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load::<Plan>(conn)
                .unwrap()
                .into_iter()
                .map(|p| p.detail)
                .collect::<Vec<_>>()
                .join("; ")
        };
        let inbox = plan(
            &mut conn,
            "SELECT * FROM proposals WHERE municipality_id = 1 ORDER BY id DESC LIMIT 51",
        );
        assert!(inbox.contains("proposals_municipality_id"), "{inbox}");
        assert!(!inbox.contains("TEMP B-TREE"), "{inbox}");
        let deadlines = plan(
            &mut conn,
            "SELECT * FROM proposals WHERE municipality_id = 1 AND \
             proposals.next_due_on < '2026-03-10' ORDER BY proposals.next_due_on, id LIMIT 100000",
        );
        assert!(
            deadlines.contains("proposals_municipality_next_due"),
            "{deadlines}"
        );
        assert!(!deadlines.contains("TEMP B-TREE"), "{deadlines}");
    }
}
