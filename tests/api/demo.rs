//! The demo data set loads through the domain code on both backends and reads as a
//! municipality's board would: open public needs for anyone, offers of every kind. It
//! refuses a database holding anything it did not create, and its published password
//! signs in only its own accounts.

use diesel::prelude::*;
use serde_json::json;

use crate::console::Session;
use crate::helpers::{Backend, TestApp, World};
use crate::on_both_backends;
use kyoso::domain::console_auth::{self, Login};

on_both_backends!(
    demo_data_loads_and_serves,
    demo_matches_are_explained_by_content_words_only,
    demo_refuses_real_data_and_its_password_is_for_demo_accounts_only,
);

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

async fn demo_refuses_real_data_and_its_password_is_for_demo_accounts_only(backend: Backend) {
    // Real data first: the demo must not load over it.
    let app = TestApp::spawn(backend).await;
    World::seed(&app.db);
    let err = match kyoso::demo::load(&app.db) {
        Ok(_) => panic!("the demo loaded over real data"),
        Err(e) => e,
    };
    assert!(
        err.downcast_ref::<kyoso::demo::Refused>().is_some(),
        "{err:#}"
    );
    assert!(format!("{err:#}").contains("not the demo's"), "{err:#}");
    // A single partner that registered itself is enough to refuse.
    let app = TestApp::spawn(backend).await;
    let reg = app
        .post(
            "/api/v1/partners",
            None,
            &json!({"name": "先客 株式会社", "kind": "other", "contact_name": "先客 花子", "contact_email": "first@example.com"}),
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    let err = kyoso::demo::load(&app.db).err().expect("refused");
    assert!(
        err.downcast_ref::<kyoso::demo::Refused>().is_some(),
        "{err:#}"
    );
    assert!(format!("{err:#}").contains("1 partners"), "{err:#}");

    // On an empty database the demo loads, and its accounts sign in with its password.
    let app = TestApp::spawn(backend).await;
    kyoso::demo::load(&app.db).unwrap();
    let demo = console_auth::login(
        &app.db,
        &kyoso::domain::throttle::Guards::default(),
        &console_auth::Source {
            address: "127.0.0.1".into(),
            device: None,
        },
        "operator@kyoso.example.jp",
        kyoso::demo::DEMO_PASSWORD,
    )
    .unwrap();
    assert!(matches!(demo, Login::Ok { .. }), "{demo:?}");
    // A real account added later whose password someone set to the demo's: refused,
    // while its own password works.
    let operator = kyoso::domain::actor::Actor::Staff(kyoso::domain::actor::StaffActor {
        id: kyoso::domain::ids::StaffUserId(
            app.db
                .read(|conn| -> kyoso::domain::error::AppResult<_> {
                    Ok(kyoso::storage::schema::staff_users::table
                        .filter(
                            kyoso::storage::schema::staff_users::email
                                .eq("operator@kyoso.example.jp"),
                        )
                        .select(kyoso::storage::schema::staff_users::id)
                        .first::<i64>(conn)?)
                })
                .unwrap(),
        ),
        role: kyoso::domain::vocab::Role::Admin,
        municipality: None,
        department: None,
    });
    kyoso::domain::staff::create(
        &app.db,
        Some(&operator),
        kyoso::domain::staff::NewStaffInput {
            email: "real-admin@city.example.org".into(),
            display_name: "本番 管理者".into(),
            role: "admin".into(),
            municipality_code: None,
            department_id: None,
            locale: None,
        },
    )
    .unwrap();
    console_auth::set_password(
        &app.db,
        None,
        "real-admin@city.example.org",
        kyoso::demo::DEMO_PASSWORD,
    )
    .unwrap();
    let real = console_auth::login(
        &app.db,
        &kyoso::domain::throttle::Guards::default(),
        &console_auth::Source {
            address: "127.0.0.1".into(),
            device: None,
        },
        "real-admin@city.example.org",
        kyoso::demo::DEMO_PASSWORD,
    )
    .unwrap();
    assert!(matches!(real, Login::Invalid), "{real:?}");
    // Over the console too.
    let mut s = Session::new(&app);
    let p = s
        .login("real-admin@city.example.org", kyoso::demo::DEMO_PASSWORD)
        .await;
    assert_ne!(p.status, 303, "signed in with the demo password");
    console_auth::set_password(
        &app.db,
        None,
        "real-admin@city.example.org",
        "a-real-long-password-2026",
    )
    .unwrap();
    let real = console_auth::login(
        &app.db,
        &kyoso::domain::throttle::Guards::default(),
        &console_auth::Source {
            address: "127.0.0.1".into(),
            device: None,
        },
        "real-admin@city.example.org",
        "a-real-long-password-2026",
    )
    .unwrap();
    assert!(matches!(real, Login::Ok { .. }), "{real:?}");
    // And now that real data exists, the demo refuses to load again.
    let err = kyoso::demo::load(&app.db).err().expect("refused");
    assert!(
        err.downcast_ref::<kyoso::demo::Refused>().is_some(),
        "{err:#}"
    );
}

/// Words that carry no topic: particles, auxiliaries, light verbs, formal and unit nouns,
/// pronouns. None may ever be shown as the reason for a match.
pub const FUNCTION_WORDS: &[&str] = &[
    "の",
    "に",
    "を",
    "は",
    "が",
    "で",
    "と",
    "も",
    "へ",
    "や",
    "から",
    "まで",
    "より",
    "て",
    "た",
    "です",
    "ます",
    "ない",
    "れる",
    "られる",
    "せる",
    "ある",
    "する",
    "なる",
    "いる",
    "できる",
    "おる",
    "いう",
    "こと",
    "ため",
    "もの",
    "よう",
    "方",
    "日",
    "後",
    "割",
    "先",
    "対応",
    "等",
    "など",
    "これ",
    "それ",
    "あれ",
    "ここ",
    "そこ",
    "とき",
    "ところ",
    "上",
    "中",
    "的",
    "化",
    "性",
];

/// Every match of every demo need and offer, both ways, as the API and the console
/// show them: the matched terms are content words, and there are some.
async fn demo_matches_are_explained_by_content_words_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    kyoso::demo::load(&app.db).unwrap();
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let mut terms_seen = 0;
    let mut check = |what: &str, body: &serde_json::Value| {
        for m in body.as_array().unwrap() {
            for t in m["explanation"]["matched_terms"].as_array().unwrap() {
                let t = t.as_str().unwrap();
                terms_seen += 1;
                assert!(
                    !FUNCTION_WORDS.contains(&t),
                    "{what}: the function word {t:?} is shown as a reason: {}",
                    m["explanation"]
                );
            }
        }
    };
    for (list, path) in [("needs", "needs"), ("offers", "offers")] {
        let page = app.get(&format!("/api/v1/{list}?limit=100"), None).await;
        for item in page.body["items"].as_array().unwrap() {
            let id = item["id"].as_i64().unwrap();
            let m = app.get(&format!("/api/v1/{path}/{id}/matches"), None).await;
            assert_eq!(m.status, 200, "{}", m.text);
            check(&format!("{path}/{id}"), &m.body);
        }
    }
    assert!(
        terms_seen > 50,
        "too few matched terms to judge: {terms_seen}"
    );
}
