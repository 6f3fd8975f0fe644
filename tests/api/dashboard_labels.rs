//! The dashboard's charts draw every label in full: a department name or policy field
//! too long for the label column wraps onto several lines (the row grows), never cut
//! off with "…". The browser check that nothing is clipped is in browser.rs
//! (`dashboard_labels_wrap_inside_the_chart`).

use serde_json::json;

use crate::console::Session;
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;
use kyoso::domain::actor::{Actor, StaffActor};
use kyoso::domain::ids::StaffUserId;
use kyoso::domain::municipalities::{self, DepartmentInput};
use kyoso::domain::vocab::Role;

on_both_backends!(a_long_department_name_is_drawn_in_full);

/// Far longer than the label column (about eleven full-width characters).
pub const LONG_NAME: &str =
    "都市整備局 都市交通部 地域交通課 バス・デマンド交通担当（郊外部の移動支援）";

/// A department of 横浜市 with [`LONG_NAME`] and a proposal routed to it, so that it has
/// a bar in the department charts.
pub async fn long_named_department_with_a_proposal(app: &TestApp, w: &World) -> i64 {
    let operator = Actor::Staff(StaffActor {
        id: StaffUserId(0),
        role: Role::Admin,
        municipality: None,
        department: None,
    });
    let dept = municipalities::create_department(
        &app.db,
        &operator,
        "141003",
        DepartmentInput {
            name: LONG_NAME.into(),
            email: None,
            policy_fields: vec!["infrastructure_mobility".into()],
            is_desk: false,
        },
    )
    .unwrap()
    .id
    .0;
    let p = crate::console::submit_proposal(app, w, "郊外のデマンド交通の実証");
    let r = app
        .post(
            &format!("/api/v1/proposals/{p}/route"),
            Some(&w.yokohama.desk_key),
            &json!({"primary_department_id": dept}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    dept
}

/// The text of a chart's labels: its `tspan`s, in order.
fn chart_labels<'a>(html: &'a str, id: &str) -> Vec<&'a str> {
    let start = html
        .find(&format!("id=\"{id}-h\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let figure = &html[start..];
    let svg = &figure[..figure.find("</svg>").unwrap()];
    svg.split("<tspan")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .and_then(|(_, r)| r.split_once("</tspan>"))
        })
        .map(|(text, _)| text)
        .collect()
}

async fn a_long_department_name_is_drawn_in_full(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    long_named_department_with_a_proposal(&app, &w).await;
    let mut s = Session::new(&app);
    s.login("desk@141003.example.jp", TEST_PASSWORD).await;
    for (lang, path) in [
        ("ja", "/admin/dashboard"),
        ("en", "/admin/dashboard?lang=en"),
    ] {
        let page = s.get(path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let lines = chart_labels(&page.text, "by-dept");
        assert!(
            lines
                .concat()
                .replace(' ', "")
                .contains(&LONG_NAME.replace(' ', "")),
            "{lang}: the name is not drawn in full: {lines:?}"
        );
        // Several lines, none of them cut.
        let name_lines: Vec<&&str> = lines
            .iter()
            .filter(|l| LONG_NAME.contains(l.trim()))
            .collect();
        assert!(name_lines.len() >= 3, "{lang}: {lines:?}");
        assert!(!page.text.contains('…'), "{lang}: a label was cut off");
        let adoption = chart_labels(&page.text, "adopt-dept");
        assert!(
            adoption
                .concat()
                .replace(' ', "")
                .contains(&LONG_NAME.replace(' ', "")),
            "{lang}: {adoption:?}"
        );
    }
}
