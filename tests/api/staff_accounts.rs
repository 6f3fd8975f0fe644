//! Staff accounts after they are created, on both backends: an admin changes a user (a
//! new role ends their sessions and revokes their API keys) and disables them (sign-in
//! and sessions stop at once; sign-in comes back when enabled, revoked keys do not),
//! nobody changes their own access, municipalities stay apart, and every user
//! changes their own password only with the current one.

use serde_json::{Value, json};

use crate::console::{Page, Session, assert_error_links_resolve, csrf_of};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;

on_both_backends!(
    admins_change_and_disable_staff,
    nobody_changes_their_own_access,
    own_password_needs_the_current_one,
);

const ADMIN: &str = "admin@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";
const DESK: &str = "desk@141003.example.jp";

fn seed(app: &TestApp) -> World {
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[ADMIN, DEPT, DESK, "admin@281000.example.jp"]);
    w
}

/// The staff user with this e-mail, as the admin's API list shows it.
async fn staff_entry(app: &TestApp, admin_key: &str, email: &str) -> Value {
    let list = app.get("/api/v1/staff", Some(admin_key)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == email)
        .cloned()
        .unwrap_or_else(|| panic!("{email} not listed: {}", list.text))
}

/// The admin's console form for a staff user: renamed 窓口 花子, department staff of
/// `department`, mail in English, and `status`.
async fn post_staff_form(
    admin: &mut Session<'_>,
    id: i64,
    csrf: &str,
    department: i64,
    status: &str,
) -> Page {
    admin
        .post(
            &format!("/admin/staff/{id}"),
            &[
                ("csrf", csrf),
                ("display_name", "窓口 花子"),
                ("role", "department"),
                ("department_id", &department.to_string()),
                ("locale", "en"),
                ("status", status),
            ],
        )
        .await
}

async fn admins_change_and_disable_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;
    let desk = staff_entry(&app, &y.admin_key, DESK).await;
    let id = desk["id"].as_i64().unwrap();

    // The desk officer is signed in and uses an API key.
    let mut officer = Session::new(&app);
    assert_eq!(officer.login(DESK, TEST_PASSWORD).await.status, 303);
    assert_eq!(officer.get("/admin/inbox").await.status, 200);
    assert_eq!(app.get("/api/v1/me", Some(&y.desk_key)).await.status, 200);

    // The admin opens the user's page in the console and changes name, role and language.
    let mut admin = Session::new(&app);
    admin.login(ADMIN, TEST_PASSWORD).await;
    let page = admin.get(&format!("/admin/staff/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(DESK), "{}", page.text);
    let t = csrf_of(&page.text);
    let saved = post_staff_form(&mut admin, id, &t, y.department_id, "active").await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let changed = staff_entry(&app, &y.admin_key, DESK).await;
    assert_eq!(changed["display_name"], "窓口 花子");
    assert_eq!(changed["role"], "department");
    assert_eq!(changed["department_id"], y.department_id);
    assert_eq!(changed["locale"], "en");
    // The new role ends the session and revokes the key: access granted under the old
    // role does not live on.
    let bounced = officer.get("/admin/inbox").await;
    assert_eq!(bounced.status, 303, "a moved user's session has ended");
    assert!(bounced.location.unwrap().starts_with("/admin/login"));
    app.get("/api/v1/me", Some(&y.desk_key))
        .await
        .assert_problem(401, "unauthenticated");
    let mut officer = Session::new(&app);
    assert_eq!(officer.login(DESK, TEST_PASSWORD).await.status, 303);
    assert_eq!(officer.get("/admin/inbox").await.status, 200);

    // Disabling ends the session and refuses sign-in at once.
    let off = post_staff_form(&mut admin, id, &t, y.department_id, "disabled").await;
    assert_eq!(off.status, 303, "{}", off.text);
    let bounced = officer.get("/admin/inbox").await;
    assert_eq!(bounced.status, 303, "a disabled user's session has ended");
    assert!(bounced.location.unwrap().starts_with("/admin/login"));
    assert_eq!(
        Session::new(&app).login(DESK, TEST_PASSWORD).await.status,
        401
    );
    app.get("/api/v1/me", Some(&y.desk_key))
        .await
        .assert_problem(401, "unauthenticated");

    // Enabled again through the API, the password works; the revoked key stays revoked.
    let on = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            Some(&y.admin_key),
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.text);
    assert_eq!(on.body["status"], "active");
    app.get("/api/v1/me", Some(&y.desk_key))
        .await
        .assert_problem(401, "unauthenticated");
    assert_eq!(
        Session::new(&app).login(DESK, TEST_PASSWORD).await.status,
        303
    );

    // Bad values are refused with field errors, and nothing changes.
    let bad = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            Some(&y.admin_key),
            &json!({"status": "sleeping", "role": "mayor"}),
        )
        .await;
    bad.assert_problem(422, "invalid");
    let mut fields = bad.field_codes();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("role".to_owned(), "unknown_value".to_owned()),
            ("status".to_owned(), "unknown_value".to_owned())
        ]
    );
    // A department user needs a department; another municipality's is not one.
    app.patch(
        &format!("/api/v1/staff/{id}"),
        Some(&y.admin_key),
        &json!({"department_id": null}),
    )
    .await
    .assert_problem(422, "invalid");
    app.patch(
        &format!("/api/v1/staff/{id}"),
        Some(&y.admin_key),
        &json!({"department_id": w.kobe.department_id}),
    )
    .await
    .assert_problem(422, "invalid");
    assert_eq!(
        staff_entry(&app, &y.admin_key, DESK).await["status"],
        "active"
    );

    // Another municipality's admin neither sees nor changes the user.
    app.get(&format!("/api/v1/staff/{id}"), Some(&w.kobe.admin_key))
        .await
        .assert_problem(404, "not_found");
    app.patch(
        &format!("/api/v1/staff/{id}"),
        Some(&w.kobe.admin_key),
        &json!({"status": "disabled"}),
    )
    .await
    .assert_problem(404, "not_found");
    let mut kobe = Session::new(&app);
    kobe.login("admin@281000.example.jp", TEST_PASSWORD).await;
    assert_eq!(kobe.get(&format!("/admin/staff/{id}")).await.status, 404);
    // Nor does a department user of the same municipality.
    app.patch(
        &format!("/api/v1/staff/{id}"),
        Some(&y.dept_key),
        &json!({"display_name": "名前"}),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn nobody_changes_their_own_access(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;
    let admin = staff_entry(&app, &y.admin_key, ADMIN).await;
    let id = admin["id"].as_i64().unwrap();
    // An admin cannot disable or demote themselves (the last admin would lock the
    // municipality out) ...
    for body in [json!({"status": "disabled"}), json!({"role": "desk"})] {
        app.patch(&format!("/api/v1/staff/{id}"), Some(&y.admin_key), &body)
            .await
            .assert_problem(403, "forbidden");
    }
    // ... but changes their own name and language, also with unchanged access fields.
    let own = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            Some(&y.admin_key),
            &json!({"display_name": "管理 一郎", "locale": "en", "role": "admin", "status": "active"}),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["display_name"], "管理 一郎");
    // The console's own form offers no access fields to oneself.
    let mut s = Session::new(&app);
    s.login(ADMIN, TEST_PASSWORD).await;
    let page = s.get(&format!("/admin/staff/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("name=\"status\""), "{}", page.text);
    // A department user edits only their own name and language.
    let dept = staff_entry(&app, &y.admin_key, DEPT).await;
    let dept_id = dept["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/staff/{dept_id}"),
        Some(&y.dept_key),
        &json!({"role": "admin"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let renamed = app
        .patch(
            &format!("/api/v1/staff/{dept_id}"),
            Some(&y.dept_key),
            &json!({"display_name": "子育て 次郎"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["role"], "department");
}

async fn own_password_needs_the_current_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    let mut phone = Session::new(&app);
    assert_eq!(phone.login(DEPT, TEST_PASSWORD).await.status, 303);
    let mut laptop = Session::new(&app);
    assert_eq!(laptop.login(DEPT, TEST_PASSWORD).await.status, 303);
    let page = laptop.get("/admin/account").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("パスワードの変更"), "{}", page.text);
    let t = csrf_of(&page.text);
    let new_password = "a-brand-new-passphrase";

    let wrong = laptop
        .post(
            "/admin/account/password",
            &[
                ("csrf", &t),
                ("current_password", "not-my-password"),
                ("new_password", new_password),
                ("new_password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert!(
        wrong.text.contains(
            "<a href=\"#a-current\"><strong>現在のパスワード</strong></a>：正しくありません"
        ),
        "{}",
        wrong.text
    );
    let mismatch = laptop
        .post(
            "/admin/account/password",
            &[
                ("csrf", &t),
                ("current_password", TEST_PASSWORD),
                ("new_password", new_password),
                ("new_password_confirm", "something-else-entirely"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422, "{}", mismatch.text);
    assert_eq!(assert_error_links_resolve(&wrong.text), 1);
    assert_eq!(assert_error_links_resolve(&mismatch.text), 1);
    assert!(
        mismatch.text.contains(
            "<strong>新しいパスワード（確認）</strong></a>：新しいパスワードと一致しません"
        ),
        "{}",
        mismatch.text
    );
    // Nothing changed so far.
    assert_eq!(
        Session::new(&app).login(DEPT, TEST_PASSWORD).await.status,
        303
    );

    let changed = laptop
        .post(
            "/admin/account/password",
            &[
                ("csrf", &t),
                ("current_password", TEST_PASSWORD),
                ("new_password", new_password),
                ("new_password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text);
    // This session stays; the others end; only the new password signs in.
    assert_eq!(laptop.get("/admin/inbox").await.status, 200);
    assert_eq!(phone.get("/admin/inbox").await.status, 303);
    assert_eq!(
        Session::new(&app).login(DEPT, TEST_PASSWORD).await.status,
        401
    );
    assert_eq!(
        Session::new(&app).login(DEPT, new_password).await.status,
        303
    );

    // Guessing the current password from an open session locks the account like
    // failed logins do, and ends the session.
    let t = csrf_of(&laptop.get("/admin/account").await.text);
    for _ in 0..5 {
        laptop
            .post(
                "/admin/account/password",
                &[
                    ("csrf", &t),
                    ("current_password", "guess-guess-guess"),
                    ("new_password", "whatever-comes-next"),
                    ("new_password_confirm", "whatever-comes-next"),
                ],
            )
            .await;
    }
    assert_eq!(laptop.get("/admin/inbox").await.status, 303);
    // Locked: a new browser is refused with the answer of any failed login.
    assert_eq!(
        Session::new(&app).login(DEPT, new_password).await.status,
        401
    );
}
