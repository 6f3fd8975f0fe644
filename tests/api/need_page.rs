//! A need's console page: the proposals received for it, scoped as the inbox (a
//! department sees only those routed to it, another municipality none), and its
//! matching offers with 役に立つ / 関係ない buttons that store the API's match feedback
//! (plain forms with the CSRF token, no JavaScript) and show the verdict given.

use diesel::prelude::*;
use serde_json::json;

use crate::console::{Session, csrf_of};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;

on_both_backends!(a_need_lists_its_proposals_and_takes_feedback_on_its_matches);

const DESK: &str = "desk@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";
const KOBE_DESK: &str = "desk@281000.example.jp";

fn verdicts(app: &TestApp, need: i64) -> Vec<(i64, String)> {
    use kyoso::storage::schema::match_feedback::dsl::*;
    let mut conn = app.db.conn().unwrap();
    match_feedback
        .filter(need_id.eq(need))
        .select((offer_id, verdict))
        .order((offer_id, verdict))
        .load(&mut *conn)
        .unwrap()
}

/// The matching offers panel of a need page.
fn offers_panel(html: &str) -> &str {
    let start = html.find("id=\"offers-h\"").unwrap();
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The proposals panel of a need page.
fn proposals_panel(html: &str) -> &str {
    let start = html
        .find("id=\"need-proposals-h\"")
        .unwrap_or_else(|| panic!("no proposals panel: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

async fn a_need_lists_its_proposals_and_takes_feedback_on_its_matches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK, DEPT, KOBE_DESK]);
    let y = &w.yokohama;
    let need = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &json!({
                "department_id": y.department_id,
                "title": "保育所の入所申請をオンライン化したい",
                "body": "保育所の入所申請が紙で、窓口が混雑している。保護者がスマートフォンから申請できる仕組みを導入したい。",
                "policy_field": "childcare_education",
                "visibility": "public",
                "status": "open",
                "desired_partner_kinds": ["company", "npo"]
            }),
        )
        .await;
    assert_eq!(need.status, 201, "{}", need.text);
    let nid = need.body["id"].as_i64().unwrap();
    let offer = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &json!({"kind": "technology", "title": "子育て手続きのオンライン申請サービス",
                "body": "保育所の入所申請など子育ての手続きを、スマートフォンから申請できるサービスを提供します。",
                "policy_fields": ["childcare_education"], "regions": ["nationwide"]}),
        )
        .await;
    assert_eq!(offer.status, 201, "{}", offer.text);
    let oid = offer.body["id"].as_i64().unwrap();
    let propose = |title: &str, need: Option<i64>| {
        json!({"municipality_code": "141003", "need_id": need, "title": title,
            "body": "保育所の申請をスマートフォンで受け付ける仕組みを提案します。",
            "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}})
    };
    let routed = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_a.1),
            &propose("入所申請のオンライン化（回付済み）", Some(nid)),
        )
        .await;
    assert_eq!(routed.status, 201, "{}", routed.text);
    let unrouted = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_b.1),
            &propose("入所申請のオンライン化（所管未定）", Some(nid)),
        )
        .await;
    let free = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_b.1),
            &propose("別件のフリー提案", None),
        )
        .await;
    let (rid, uid) = (
        routed.body["id"].as_i64().unwrap(),
        unrouted.body["id"].as_i64().unwrap(),
    );
    let number = |r: &crate::helpers::Reply| r.body["receipt_number"].as_str().unwrap().to_owned();
    let (rnum, unum, fnum) = (number(&routed), number(&unrouted), number(&free));
    let r = app
        .post(
            &format!("/api/v1/proposals/{rid}/route"),
            Some(&y.desk_key),
            &json!({"primary_department_id": y.department_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();

    // The desk sees both proposals for the need, with number, proposer, state and link;
    // never the free one.
    let mut desk = Session::new(&app);
    desk.login(DESK, TEST_PASSWORD).await;
    let page = desk.get(&format!("/admin/needs/{nid}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let panel = proposals_panel(&page.text);
    assert!(panel.contains(&rnum) && panel.contains(&unum), "{panel}");
    assert!(!panel.contains(&fnum), "{panel}");
    assert!(panel.contains(&format!("href=\"/admin/proposals/{rid}\"")));
    assert!(panel.contains(&format!("href=\"/admin/proposals/{uid}\"")));
    assert!(panel.contains("株式会社みなと測量") && panel.contains("NPO法人まちの縁側"));
    assert!(
        panel.contains("所管課確認中") && panel.contains("受付済"),
        "{panel}"
    );
    assert!(panel.contains("(2)"), "{panel}");

    // The department sees what was routed to it only, as in its inbox.
    let mut dept = Session::new(&app);
    dept.login(DEPT, TEST_PASSWORD).await;
    let page = dept.get(&format!("/admin/needs/{nid}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let panel = proposals_panel(&page.text);
    assert!(panel.contains(&rnum), "{panel}");
    assert!(
        !panel.contains(&unum),
        "the unrouted proposal leaked: {panel}"
    );

    // The API's list takes the same filter, with the same scope.
    let ids = |key: &str| {
        let app = &app;
        let key = key.to_owned();
        async move {
            let r = app
                .get(&format!("/api/v1/proposals?need_id={nid}"), Some(&key))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let mut v: Vec<i64> = r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            v.sort_unstable();
            v
        }
    };
    assert_eq!(ids(&y.desk_key).await, [rid, uid]);
    assert_eq!(ids(&y.dept_key).await, [rid]);
    assert!(ids(&w.kobe.desk_key).await.is_empty());

    // Another municipality's desk may read the public need, but sees none of its
    // proposals and is not offered to judge its matches.
    let mut kobe = Session::new(&app);
    kobe.login(KOBE_DESK, TEST_PASSWORD).await;
    let page = kobe.get(&format!("/admin/needs/{nid}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!proposals_panel(&page.text).contains(&rnum));
    assert!(proposals_panel(&page.text).contains("(0)"));
    assert!(!page.text.contains("/feedback"), "{}", page.text);

    // The matching offer carries both buttons, unjudged.
    let page = desk.get(&format!("/admin/needs/{nid}")).await;
    let offers = offers_panel(&page.text);
    let action = format!("action=\"/admin/needs/{nid}/matches/{oid}/feedback\"");
    assert!(offers.contains(&action), "{offers}");
    assert!(offers.contains("value=\"good\"") && offers.contains("value=\"not_relevant\""));
    assert!(!offers.contains("aria-pressed=\"true\""), "{offers}");
    let path = format!("/admin/needs/{nid}/matches/{oid}/feedback");

    // Without the CSRF token, from another municipality, or with an unknown verdict:
    // refused, nothing stored.
    let t = csrf_of(&page.text);
    let no_csrf = desk.post(&path, &[("verdict", "good")]).await;
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.text);
    let kt = kobe.csrf().await;
    let foreign = kobe
        .post(&path, &[("csrf", &kt), ("verdict", "good")])
        .await;
    assert!(
        foreign.status == 403 || foreign.status == 404,
        "{}",
        foreign.text
    );
    let odd = desk
        .post(&path, &[("csrf", &t), ("verdict", "great")])
        .await;
    assert_eq!(odd.status, 422, "{}", odd.text);
    assert!(verdicts(&app, nid).is_empty());

    // 役に立つ: stored as the API's feedback, shown as given.
    let good = desk.post(&path, &[("csrf", &t), ("verdict", "good")]).await;
    assert_eq!(good.status, 303, "{}", good.text);
    let loc = good.location.unwrap();
    assert!(
        loc.starts_with(&format!("/admin/needs/{nid}?done=match_good")),
        "{loc}"
    );
    assert_eq!(verdicts(&app, nid), [(oid, "good".to_owned())]);
    let page = desk.get(&loc).await;
    assert!(page.text.contains("役に立つ提供として記録しました"));
    let offers = offers_panel(&page.text);
    assert!(offers.contains("評価: 役に立つ"), "{offers}");
    assert!(
        offers.contains("value=\"good\" aria-pressed=\"true\""),
        "{offers}"
    );

    // 関係ない: the matcher leaves the offer out (the API's matches too); the page lists it
    // apart with its verdict, and 役に立つ brings it back.
    let t = csrf_of(&page.text);
    let not = desk
        .post(&path, &[("csrf", &t), ("verdict", "not_relevant")])
        .await;
    assert_eq!(not.status, 303, "{}", not.text);
    assert_eq!(verdicts(&app, nid), [(oid, "not_relevant".to_owned())]);
    let m = app.get(&format!("/api/v1/needs/{nid}/matches"), None).await;
    assert!(
        m.body
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["offer"]["id"] != oid),
        "{}",
        m.text
    );
    let page = desk.get(&format!("/admin/needs/{nid}")).await;
    let offers = offers_panel(&page.text);
    let hidden = &offers[offers
        .find("関係ないとした提供")
        .unwrap_or_else(|| panic!("{offers}"))..];
    assert!(
        hidden.contains("子育て手続きのオンライン申請サービス"),
        "{hidden}"
    );
    assert!(
        hidden.contains("評価: 関係ない") && hidden.contains(&action),
        "{hidden}"
    );
    let back = desk.post(&path, &[("csrf", &t), ("verdict", "good")]).await;
    assert_eq!(back.status, 303);
    let m = app.get(&format!("/api/v1/needs/{nid}/matches"), None).await;
    assert_eq!(m.body[0]["offer"]["id"], oid, "{}", m.text);

    // The department that owns the need judges too, for itself; as in the matcher, its
    // 関係ない leaves the offer out, and the page says who said what.
    let dt = dept.csrf().await;
    let d = dept
        .post(&path, &[("csrf", &dt), ("verdict", "not_relevant")])
        .await;
    assert_eq!(d.status, 303, "{}", d.text);
    assert_eq!(
        verdicts(&app, nid),
        [(oid, "good".to_owned()), (oid, "not_relevant".to_owned())]
    );
    let page = desk.get(&format!("/admin/needs/{nid}")).await;
    let offers = offers_panel(&page.text);
    assert!(
        offers.contains("評価: 関係ない") && offers.contains("役に立つ 1・関係ない 1"),
        "{offers}"
    );
}
