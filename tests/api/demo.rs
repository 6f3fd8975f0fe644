//! The demo data set loads through the domain code on both backends and reads as a
//! municipality's board would: open public needs for anyone, offers of every kind.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(demo_data_loads_and_serves);

async fn demo_data_loads_and_serves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let report = kyoso::demo::load(&app.db).unwrap();
    assert_eq!(report.needs, 50);
    assert_eq!(report.partners, 30);
    assert_eq!(report.proposals, 15);

    assert!(report.municipalities >= 3 && report.offers >= 30);
    let munis = app.get("/api/v1/municipalities", None).await;
    assert_eq!(munis.body.as_array().unwrap().len(), report.municipalities);
    let mut total = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!("/api/v1/needs?limit=100&cursor={cursor}"), None)
            .await;
        let items = page.body["items"].as_array().unwrap();
        assert!(
            items
                .iter()
                .all(|n| n["visibility"] == "public" && n["status"] == "open")
        );
        total += items.len();
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert!((30..50).contains(&total), "public open needs: {total}");
    for kind in ["company", "university", "npo", "other"] {
        let offers = app
            .get(&format!("/api/v1/offers?partner_kind={kind}"), None)
            .await;
        assert!(
            !offers.body["items"].as_array().unwrap().is_empty(),
            "no offers of {kind} partners"
        );
    }
}
