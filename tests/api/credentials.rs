//! Credentials of staff accounts and the audit log, on both backends: an admin's reset
//! ends the user's sessions and keys and holds their next session to choosing a new
//! password; a new staff user's first credential is a one-time mailed link (never a key
//! or password in the admin's hands) that works once and expires; taking access away
//! revokes keys; sign-ins and admin actions land in an audit log each municipality's
//! admins read alone, and its CSV export is safe for spreadsheets.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::console::{Session, csrf_of};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, partner, set_passwords};
use crate::on_both_backends;

on_both_backends!(
    admin_reset_ends_sessions_and_keys_and_forces_a_new_password,
    new_staff_get_a_one_time_invitation_not_a_key,
    losing_access_revokes_keys,
    audit_log_records_who_what_where_per_municipality,
    audit_csv_is_bom_crlf_and_formula_safe,
);

const ADMIN: &str = "admin@141003.example.jp";
const DESK: &str = "desk@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";
const KOBE_ADMIN: &str = "admin@281000.example.jp";
const OPERATOR: &str = "operator@example.jp";

fn seed(app: &TestApp) -> World {
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[ADMIN, DESK, DEPT, KOBE_ADMIN, OPERATOR]);
    w
}

/// The staff user's id, from the admin's API list.
async fn staff_id(app: &TestApp, admin_key: &str, email: &str) -> i64 {
    let list = app.get("/api/v1/staff", Some(admin_key)).await;
    list.body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == email)
        .and_then(|s| s["id"].as_i64())
        .unwrap_or_else(|| panic!("{email} not listed: {}", list.text))
}

/// Every audit entry `key` may read (following the cursor), newest first.
async fn audit(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("/api/v1/admin/audit?limit=100{query}{cursor}"),
                Some(key),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        out.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

fn find<'a>(entries: &'a [Value], action: &str, target: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|e| e["action"] == action && e["target_label"] == target)
}

/// The token of the newest invitation mailed to `email`, from the outbox.
fn invitation_token(app: &TestApp, email: &str) -> String {
    use kyoso::storage::schema::mail_outbox::dsl::*;
    let mut conn = app.db.conn().unwrap();
    let bodies: Vec<String> = mail_outbox
        .filter(kind.eq("staff_invitation"))
        .filter(recipient_email.eq(email))
        .order(id.desc())
        .select(body_text)
        .load(&mut *conn)
        .unwrap();
    let body = bodies
        .first()
        .unwrap_or_else(|| panic!("no invitation for {email}"));
    let at = body.find("/admin/invitation?token=").expect("a link") + 24;
    body[at..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

fn live_keys(app: &TestApp, staff: i64) -> usize {
    use kyoso::storage::schema::api_keys::dsl::*;
    let mut conn = app.db.conn().unwrap();
    api_keys
        .filter(staff_user_id.eq(staff))
        .filter(revoked_at.is_null())
        .count()
        .get_result::<i64>(&mut *conn)
        .unwrap() as usize
}

async fn admin_reset_ends_sessions_and_keys_and_forces_a_new_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;

    let mut desk = Session::new(&app);
    assert_eq!(desk.login(DESK, TEST_PASSWORD).await.status, 303);
    assert_eq!(desk.get("/admin/inbox").await.status, 200);
    assert_eq!(app.get("/api/v1/me", Some(&y.desk_key)).await.status, 200);

    let mut admin = Session::new(&app);
    admin.login(ADMIN, TEST_PASSWORD).await;
    let t = admin.csrf().await;
    let reset = admin
        .post(
            "/admin/staff/password",
            &[
                ("csrf", &t),
                ("email", DESK),
                ("password", "temporary-pass-1"),
            ],
        )
        .await;
    assert_eq!(reset.status, 303, "{}", reset.text);
    assert_eq!(reset.location.as_deref(), Some("/admin/staff?done=reset"));

    // The session and the key ended with the reset; the old password is gone.
    let bounced = desk.get("/admin/inbox").await;
    assert!(bounced.location.unwrap().starts_with("/admin/login"));
    app.get("/api/v1/me", Some(&y.desk_key))
        .await
        .assert_problem(401, "unauthenticated");
    assert_eq!(
        Session::new(&app).login(DESK, TEST_PASSWORD).await.status,
        401
    );

    // Signing in with the admin's password leads to the new-password page and nowhere else.
    let mut desk = Session::new(&app);
    assert_eq!(desk.login(DESK, "temporary-pass-1").await.status, 303);
    for path in [
        "/admin/inbox",
        "/admin/needs",
        "/admin/account",
        "/admin/staff",
    ] {
        let p = desk.get(path).await;
        assert_eq!(p.status, 303, "{path}");
        assert_eq!(p.location.as_deref(), Some("/admin/password"), "{path}");
    }
    let form = desk.get("/admin/password").await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("新しいパスワード"), "{}", form.text);
    let t = csrf_of(&form.text);
    // Posting elsewhere is refused the same way.
    let other = desk
        .post(
            "/admin/account",
            &[("csrf", &t), ("display_name", "乗っ取り"), ("locale", "ja")],
        )
        .await;
    assert_eq!(other.location.as_deref(), Some("/admin/password"));
    // Keeping the admin's password, or a mismatch, is refused; the hold stays.
    for (new, again) in [
        ("temporary-pass-1", "temporary-pass-1"),
        ("my-own-password-2", "my-own-password-3"),
        ("short", "short"),
    ] {
        let p = desk
            .post(
                "/admin/password",
                &[
                    ("csrf", &t),
                    ("current_password", "temporary-pass-1"),
                    ("new_password", new),
                    ("new_password_confirm", again),
                ],
            )
            .await;
        assert_eq!(p.status, 422, "{new}: {}", p.text);
    }
    assert_eq!(desk.get("/admin/inbox").await.status, 303);
    let done = desk
        .post(
            "/admin/password",
            &[
                ("csrf", &t),
                ("current_password", "temporary-pass-1"),
                ("new_password", "my-own-password-2"),
                ("new_password_confirm", "my-own-password-2"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(desk.get("/admin/inbox").await.status, 200);
    assert_eq!(
        Session::new(&app)
            .login(DESK, "temporary-pass-1")
            .await
            .status,
        401
    );
    assert_eq!(
        Session::new(&app)
            .login(DESK, "my-own-password-2")
            .await
            .status,
        303
    );

    // The log names the admin, the municipality, the address, and what ended.
    let log = audit(&app, &y.admin_key, "").await;
    let e = find(&log, "password_reset", DESK).expect("reset logged");
    assert_eq!(e["actor_label"], ADMIN);
    assert_eq!(e["municipality_code"], "141003");
    assert_eq!(e["source"], "127.0.0.1");
    assert_eq!(e["detail"]["api_keys_revoked"], 1);
    assert!(!e["detail"].to_string().contains("temporary"));
    let own = find(&log, "password_set", DESK).expect("own change logged");
    assert_eq!(own["actor_label"], DESK);
}

async fn new_staff_get_a_one_time_invitation_not_a_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;
    const NEW: &str = "new.desk@141003.example.jp";

    let created = app
        .post(
            "/api/v1/staff",
            Some(&y.admin_key),
            &json!({"email": NEW, "display_name": "新任 職員", "role": "desk"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.body.get("api_key").is_none(), "{}", created.text);
    assert!(!created.text.contains("kyoso_"), "{}", created.text);
    assert!(created.body["invitation_expires_at"].is_string());
    let id = created.body["staff"]["id"].as_i64().unwrap();
    assert_eq!(live_keys(&app, id), 0, "no key was made for the new user");

    // The invitation went to the new user, in Japanese, with a link.
    let token = invitation_token(&app, NEW);
    assert!(token.len() >= 40, "{token}");
    // Without a password nobody signs in as the new user.
    assert_eq!(Session::new(&app).login(NEW, "").await.status, 401);

    let mut anon = Session::new(&app);
    let bad = anon.get("/admin/invitation?token=not-a-token").await;
    assert_eq!(bad.status, 409, "{}", bad.text);
    let page = anon.get(&format!("/admin/invitation?token={token}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(NEW));
    // The password rules hold, and a refused try does not use up the link.
    for (new, again) in [
        ("short", "short"),
        ("a-good-password-1", "a-different-one-2"),
    ] {
        let p = anon
            .post(
                "/admin/invitation",
                &[
                    ("token", &token),
                    ("new_password", new),
                    ("new_password_confirm", again),
                ],
            )
            .await;
        assert_eq!(p.status, 422, "{}", p.text);
    }
    let set = anon
        .post(
            "/admin/invitation",
            &[
                ("token", &token),
                ("new_password", "a-good-password-1"),
                ("new_password_confirm", "a-good-password-1"),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.text);
    assert_eq!(set.location.as_deref(), Some("/admin/login?done=invited"));
    let mut me = Session::new(&app);
    assert_eq!(me.login(NEW, "a-good-password-1").await.status, 303);
    assert_eq!(me.get("/admin/inbox").await.status, 200);

    // The link works once.
    let again = anon
        .post(
            "/admin/invitation",
            &[
                ("token", &token),
                ("new_password", "an-attackers-password"),
                ("new_password_confirm", "an-attackers-password"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(
        anon.get(&format!("/admin/invitation?token={token}"))
            .await
            .status,
        409
    );
    assert_eq!(
        Session::new(&app)
            .login(NEW, "an-attackers-password")
            .await
            .status,
        401
    );

    // The console adds staff the same way; an expired link does not work.
    const LATE: &str = "late.desk@141003.example.jp";
    let mut admin = Session::new(&app);
    admin.login(ADMIN, TEST_PASSWORD).await;
    let t = admin.csrf().await;
    let add = admin
        .post(
            "/admin/staff",
            &[
                ("csrf", &t),
                ("email", LATE),
                ("display_name", "遅刻 職員"),
                ("role", "desk"),
            ],
        )
        .await;
    assert_eq!(add.status, 303, "{}", add.text);
    let late = invitation_token(&app, LATE);
    {
        use kyoso::storage::schema::staff_invitations::dsl::*;
        let mut conn = app.db.conn().unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::TimeDelta::minutes(1);
        diesel::update(staff_invitations)
            .set(expires_at.eq(past))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(
        anon.get(&format!("/admin/invitation?token={late}"))
            .await
            .status,
        409
    );
    let expired = anon
        .post(
            "/admin/invitation",
            &[
                ("token", &late),
                ("new_password", "a-good-password-1"),
                ("new_password_confirm", "a-good-password-1"),
            ],
        )
        .await;
    assert_eq!(expired.status, 409, "{}", expired.text);

    // The admin sends the invitation again: a new link works, the old one stays dead.
    let late_id = staff_id(&app, &y.admin_key, LATE).await;
    w_kobe_cannot_invite(&app, &w, late_id).await;
    let page = admin.get(&format!("/admin/staff/{late_id}")).await;
    let again = admin
        .post(
            &format!("/admin/staff/{late_id}/invitation"),
            &[("csrf", &csrf_of(&page.text))],
        )
        .await;
    assert_eq!(again.status, 303, "{}", again.text);
    let fresh = invitation_token(&app, LATE);
    assert_ne!(fresh, late);
    assert_eq!(
        anon.get(&format!("/admin/invitation?token={late}"))
            .await
            .status,
        409
    );
    let set = anon
        .post(
            "/admin/invitation",
            &[
                ("token", &fresh),
                ("new_password", "a-late-password-1"),
                ("new_password_confirm", "a-late-password-1"),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.text);
    assert_eq!(
        Session::new(&app)
            .login(LATE, "a-late-password-1")
            .await
            .status,
        303
    );

    // Who invited whom, and who used the link, from where.
    let log = audit(&app, &y.admin_key, "").await;
    for (action, target, actor) in [
        ("staff_created", NEW, ADMIN),
        ("invitation_sent", NEW, ADMIN),
        ("invitation_used", NEW, NEW),
        ("staff_created", LATE, ADMIN),
        ("invitation_sent", LATE, ADMIN),
    ] {
        let e = find(&log, action, target).unwrap_or_else(|| panic!("{action} {target}"));
        assert_eq!(e["actor_label"], actor, "{e}");
        assert_eq!(e["source"], "127.0.0.1", "{e}");
        assert_eq!(e["municipality_code"], "141003", "{e}");
        assert!(!e["detail"].to_string().contains(&token));
    }
    // Sent twice, used once (the second link).
    let late_sent = log
        .iter()
        .filter(|e| e["action"] == "invitation_sent" && e["target_label"] == LATE)
        .count();
    let late_used = log
        .iter()
        .filter(|e| e["action"] == "invitation_used" && e["target_label"] == LATE)
        .count();
    assert_eq!((late_sent, late_used), (2, 1));
}

/// Another municipality's admin cannot send the invitation (not found), nor can a user
/// send their own (forbidden).
async fn w_kobe_cannot_invite(app: &TestApp, w: &World, id: i64) {
    app.post(
        &format!("/api/v1/staff/{id}/invitation"),
        Some(&w.kobe.admin_key),
        &json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    let desk = staff_id(app, &w.yokohama.admin_key, DESK).await;
    app.post(
        &format!("/api/v1/staff/{desk}/invitation"),
        Some(&w.yokohama.desk_key),
        &json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
}

async fn losing_access_revokes_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;
    let desk = staff_id(&app, &y.admin_key, DESK).await;
    let dept = staff_id(&app, &y.admin_key, DEPT).await;

    // A department change revokes the key at once, a name change does not.
    let renamed = app
        .patch(
            &format!("/api/v1/staff/{dept}"),
            Some(&y.admin_key),
            &json!({"display_name": "改名 職員"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(app.get("/api/v1/me", Some(&y.dept_key)).await.status, 200);
    let moved = app
        .patch(
            &format!("/api/v1/staff/{dept}"),
            Some(&y.admin_key),
            &json!({"department_id": y.other_department_id}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    app.get("/api/v1/me", Some(&y.dept_key))
        .await
        .assert_problem(401, "unauthenticated");
    assert_eq!(live_keys(&app, dept), 0);

    // Disabling revokes; enabling again does not bring the key back.
    for status in ["disabled", "active"] {
        let r = app
            .patch(
                &format!("/api/v1/staff/{desk}"),
                Some(&y.admin_key),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.get("/api/v1/me", Some(&y.desk_key))
            .await
            .assert_problem(401, "unauthenticated");
    }
    assert_eq!(live_keys(&app, desk), 0);

    let log = audit(&app, &y.admin_key, "").await;
    let d = find(&log, "staff_disabled", DESK).expect("disable logged");
    assert_eq!(d["detail"]["api_keys_revoked"], 1);
    assert_eq!(d["actor_label"], ADMIN);
    assert!(find(&log, "staff_enabled", DESK).is_some());
    let m = find(&log, "staff_changed", DEPT).expect("move logged");
    assert_eq!(m["detail"]["api_keys_revoked"], 1);
}

async fn audit_log_records_who_what_where_per_municipality(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let (y, k) = (&w.yokohama, &w.kobe);

    assert_eq!(
        Session::new(&app).login(ADMIN, TEST_PASSWORD).await.status,
        303
    );
    assert_eq!(
        Session::new(&app)
            .login(DESK, "wrong-password")
            .await
            .status,
        401
    );
    assert_eq!(
        Session::new(&app)
            .login("nobody@141003.example.jp", "my-secret-typed-here")
            .await
            .status,
        401
    );
    assert_eq!(
        Session::new(&app)
            .login(KOBE_ADMIN, TEST_PASSWORD)
            .await
            .status,
        303
    );
    // A key issued and revoked by its owner.
    let key = app
        .post("/api/v1/keys", Some(&y.desk_key), &json!({"label": "集計"}))
        .await;
    assert_eq!(key.status, 201, "{}", key.text);
    let kid = key.body["id"].as_i64().unwrap();
    let gone = app
        .call(
            awc::http::Method::DELETE,
            &format!("/api/v1/keys/{kid}"),
            Some(&y.desk_key),
            None,
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    // The operator suspends and reinstates a partner in the console.
    let mut op = Session::new(&app);
    op.login(OPERATOR, TEST_PASSWORD).await;
    let t = op.csrf().await;
    for action in ["suspend", "reinstate"] {
        let p = op
            .post(
                &format!("/admin/partners/{}/{action}", w.partner_a.0),
                &[("csrf", &t)],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.text);
    }

    // Departments and routing rules, through the API.
    let dep = app
        .post(
            "/api/v1/municipalities/141003/departments",
            Some(&y.admin_key),
            &json!({"name": "環境創造局 みどり政策課", "policy_fields": ["environment_energy"]}),
        )
        .await;
    assert_eq!(dep.status, 201, "{}", dep.text);
    let dep_id = dep.body["id"].as_i64().unwrap();
    let put = app
        .call(
            awc::http::Method::PUT,
            &format!("/api/v1/departments/{dep_id}"),
            Some(&y.admin_key),
            Some(&json!({"name": "環境創造局 みどり推進課", "policy_fields": ["environment_energy"]})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let rule = app
        .post(
            "/api/v1/desk/rules",
            Some(&y.desk_key),
            &json!({"department_id": dep_id, "keyword": "植樹"}),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let rid = rule.body["id"].as_i64().unwrap();
    let del = app
        .call(
            awc::http::Method::DELETE,
            &format!("/api/v1/desk/rules/{rid}"),
            Some(&y.desk_key),
            None,
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.text);

    let yl = audit(&app, &y.admin_key, "").await;
    let d = find(&yl, "department_created", "環境創造局 みどり政策課").expect("department");
    assert_eq!(d["actor_label"], ADMIN);
    assert_eq!(d["source"], "127.0.0.1");
    let c = find(&yl, "department_changed", "環境創造局 みどり推進課").expect("change");
    assert_eq!(c["detail"]["name"][0], "環境創造局 みどり政策課");
    let r = find(&yl, "rule_created", "植樹").expect("rule");
    assert_eq!(r["actor_label"], DESK);
    assert!(
        yl.iter()
            .any(|e| e["action"] == "rule_deleted" && e["target_id"] == rid)
    );
    let ok = find(&yl, "sign_in", ADMIN).expect("sign-in logged");
    assert_eq!(ok["actor_label"], ADMIN);
    assert_eq!(ok["source"], "127.0.0.1");
    assert_eq!(ok["municipality_code"], "141003");
    let bad = find(&yl, "sign_in_failed", DESK).expect("failure logged");
    assert_eq!(bad["detail"]["reason"], "wrong_password");
    assert_eq!(bad["source"], "127.0.0.1");
    assert!(find(&yl, "api_key_issued", "").is_some());
    assert!(find(&yl, "api_key_revoked", "").is_some());
    // Only Yokohama's entries, newest first; nothing typed in a login form is kept.
    assert!(
        yl.iter().all(|e| e["municipality_code"] == "141003"),
        "{yl:?}"
    );
    assert!(
        yl.windows(2)
            .all(|p| p[0]["id"].as_i64() > p[1]["id"].as_i64())
    );
    assert!(find(&yl, "sign_in", KOBE_ADMIN).is_none());
    assert!(!serde_json::to_string(&yl).unwrap().contains("my-secret"));

    // Kobe's admin reads Kobe alone, and asking for Yokohama's is "not found".
    let kl = audit(&app, &k.admin_key, "").await;
    assert!(find(&kl, "sign_in", KOBE_ADMIN).is_some());
    assert!(
        kl.iter().all(|e| e["municipality_code"] == "281000"),
        "{kl:?}"
    );
    app.get(
        "/api/v1/admin/audit?municipality=141003",
        Some(&k.admin_key),
    )
    .await
    .assert_problem(404, "not_found");
    // Staff who are not admins, partners and strangers read nothing.
    app.get("/api/v1/admin/audit", Some(&y.desk_key))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/admin/audit", Some(&w.partner_a.1))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/admin/audit", None)
        .await
        .assert_problem(401, "unauthenticated");

    // The deployment admin reads everything, incl. partner actions and unknown accounts.
    let all = audit(&app, &w.operator_key, "").await;
    let s = find(&all, "partner_suspended", "株式会社みなと測量").expect("suspension");
    assert_eq!(s["actor_label"], OPERATOR);
    assert_eq!(s["source"], "127.0.0.1");
    assert!(find(&all, "partner_reinstated", "株式会社みなと測量").is_some());
    assert!(
        all.iter()
            .any(|e| e["action"] == "sign_in_failed" && e["actor_type"] == "anonymous")
    );
    assert!(find(&all, "sign_in", KOBE_ADMIN).is_some());
    // The CLI-made seed users are logged as the operator's, from `cli`.
    let seeded = find(&all, "staff_created", DESK).expect("seed logged");
    assert_eq!(seeded["actor_type"], "operator");
    assert_eq!(seeded["source"], "cli");

    // Filters: by action, by period, and a page at a time.
    let only = audit(&app, &w.operator_key, "&action=sign_in_failed").await;
    assert_eq!(only.len(), 2, "{only:?}");
    let today = (chrono::Utc::now() + chrono::TimeDelta::hours(9)).date_naive();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        audit(
            &app,
            &w.operator_key,
            &format!("&from={today}&until={today}")
        )
        .await
        .len(),
        all.len()
    );
    assert!(
        audit(&app, &w.operator_key, &format!("&from={tomorrow}"))
            .await
            .is_empty()
    );
    let first = app
        .get("/api/v1/admin/audit?limit=1", Some(&w.operator_key))
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 1);
    assert!(first.body["next_cursor"].is_string());
    app.get("/api/v1/admin/audit?action=nonsense", Some(&w.operator_key))
        .await
        .assert_problem(422, "invalid");
    app.get("/api/v1/admin/audit?from=1900-01-01", Some(&w.operator_key))
        .await
        .assert_problem(422, "invalid");

    // The console page: admins see it, filtered; a desk officer may not.
    let mut a = Session::new(&app);
    a.login(ADMIN, TEST_PASSWORD).await;
    let page = a.get("/admin/audit?action=sign_in_failed").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("ログイン失敗"));
    assert!(page.text.contains(DESK));
    assert!(!page.text.contains(KOBE_ADMIN));
    let mut d = Session::new(&app);
    d.login(DESK, TEST_PASSWORD).await;
    assert_eq!(d.get("/admin/audit").await.status, 403);
    assert_eq!(d.get("/admin/audit.csv").await.status, 403);
}

async fn audit_csv_is_bom_crlf_and_formula_safe(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let (evil, _) = partner(
        &app.db,
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "company",
    );
    let mut op = Session::new(&app);
    op.login(OPERATOR, TEST_PASSWORD).await;
    let t = op.csrf().await;
    let p = op
        .post(&format!("/admin/partners/{evil}/suspend"), &[("csrf", &t)])
        .await;
    assert_eq!(p.status, 303, "{}", p.text);

    let csv = op.get("/admin/audit.csv").await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.text.starts_with('\u{feff}'), "BOM");
    assert!(csv.text.contains("\r\n"));
    assert_eq!(
        csv.text.matches('\n').count(),
        csv.text.matches("\r\n").count(),
        "every line ends in CRLF"
    );
    assert!(csv.text.contains("'=HYPERLINK"), "{}", csv.text);
    assert!(!csv.text.contains(",=HYPERLINK"));
    assert!(!csv.text.contains(",\"=HYPERLINK"));
    assert!(csv.text.contains("パートナーの停止"));

    // A municipality's admin exports only their own entries.
    let mut a = Session::new(&app);
    a.login(ADMIN, TEST_PASSWORD).await;
    let mine = a.get("/admin/audit.csv").await;
    assert_eq!(mine.status, 200);
    assert!(!mine.text.contains("HYPERLINK"));
    assert!(!mine.text.contains(KOBE_ADMIN));
    let _ = w;
}
