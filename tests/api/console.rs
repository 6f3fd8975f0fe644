//! The staff console over HTTP on both backends: login and logout, session expiry, the
//! lockout, CSRF on every form, HTML error pages, municipalities kept apart, and every
//! form reaching its domain function and recording its event.

use std::collections::HashMap;

use awc::http::StatusCode;
use diesel::prelude::*;

use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;
use kyoso::domain::actor::Actor;
use kyoso::domain::ids::{PartnerId, ProposalId};
use kyoso::domain::proposals::intake::{self, Declarations, SubmitProposal};
use kyoso::domain::vocab::EventKind;

on_both_backends!(
    login_logout_and_expiry,
    forms_without_the_csrf_token_are_refused,
    repeated_failures_lock_the_account,
    other_municipalities_proposals_are_not_found,
    every_form_reaches_the_domain_and_records_events,
    admin_screens,
);

/// A response as the console tests look at it.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub set_cookies: Vec<String>,
    pub text: String,
}

/// A browser in miniature: keeps the console's cookies between requests.
pub struct Session<'a> {
    app: &'a TestApp,
    client: awc::Client,
    cookies: HashMap<String, String>,
}

impl<'a> Session<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Session {
            app,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .disable_redirects()
                .finish(),
            cookies: HashMap::new(),
        }
    }

    /// The value of one of the session's cookies.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.get(name).cloned()
    }

    /// A browser whose connections come from `ip` (any 127.x address on loopback), so
    /// tests can stand for several sources.
    pub fn at(app: &'a TestApp, ip: &str) -> Self {
        let connector = awc::Connector::new().local_address(ip.parse().unwrap());
        Session {
            app,
            client: awc::Client::builder()
                .connector(connector)
                .timeout(std::time::Duration::from_secs(60))
                .disable_redirects()
                .finish(),
            cookies: HashMap::new(),
        }
    }

    /// Posts a form; returns the status, the `Retry-After` header and the body.
    pub async fn raw_post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, Option<String>, String) {
        let mut res = self
            .client
            .post(format!("{}{path}", self.app.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send_form(&fields)
            .await
            .expect("request reaches the server");
        let body = res.body().limit(10 << 20).await.unwrap();
        let retry = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            res.status().as_u16(),
            retry,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, headers: &awc::http::header::HeaderMap) -> Vec<String> {
        let mut set = vec![];
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap().to_owned();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
            set.push(v);
        }
        set
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut res = self
            .client
            .get(format!("{}{path}", self.app.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send()
            .await
            .expect("request reaches the server");
        let body = res.body().limit(10 << 20).await.unwrap();
        self.page(res.status(), res.headers().clone(), &body)
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut res = self
            .client
            .post(format!("{}{path}", self.app.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send_form(&fields)
            .await
            .expect("request reaches the server");
        let body = res.body().limit(10 << 20).await.unwrap();
        self.page(res.status(), res.headers().clone(), &body)
    }

    /// Posts a raw body (a multipart upload) with the session's cookies.
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let mut res = self
            .client
            .post(format!("{}{path}", self.app.base))
            .insert_header(("Cookie", self.cookie_header()))
            .insert_header(("Content-Type", content_type))
            .send_body(body)
            .await
            .expect("request reaches the server");
        let body = res.body().limit(10 << 20).await.unwrap();
        self.page(res.status(), res.headers().clone(), &body)
    }

    /// A GET whose raw answer is kept: status, headers, bytes.
    pub async fn get_bytes(&mut self, path: &str) -> (u16, awc::http::header::HeaderMap, Vec<u8>) {
        let mut res = self
            .client
            .get(format!("{}{path}", self.app.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send()
            .await
            .expect("request reaches the server");
        let body = res.body().limit(64 << 20).await.unwrap().to_vec();
        (res.status().as_u16(), res.headers().clone(), body)
    }

    fn page(
        &mut self,
        status: StatusCode,
        headers: awc::http::header::HeaderMap,
        body: &[u8],
    ) -> Page {
        let set_cookies = self.absorb(&headers);
        Page {
            status,
            location: headers
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned()),
            content_type: headers
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            set_cookies,
            text: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// Logs in; returns the page the login answered with.
    pub async fn login(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/admin/login").await;
        let token = csrf_of(&form.text);
        self.post(
            "/admin/login",
            &[
                ("csrf", &token),
                ("next", "/admin/inbox"),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// The CSRF token of the forms on a console page.
    pub async fn csrf(&mut self) -> String {
        let p = self.get("/admin/inbox").await;
        assert_eq!(p.status, 200, "{}", p.text);
        csrf_of(&p.text)
    }
}

/// The value of the first hidden `csrf` field of a page.
/// The fields an error summary names link to controls that are on the page; returns
/// how many links it has.
pub fn assert_error_links_resolve(html: &str) -> usize {
    let alert = html
        .split("role=\"alert\"")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .expect("an error summary");
    let targets: Vec<&str> = alert
        .split("href=\"#")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    for t in &targets {
        assert!(
            html.contains(&format!("id=\"{t}\"")),
            "the error summary links to #{t}, which is not on the page"
        );
    }
    targets.len()
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF field");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// A proposal to 横浜市 from partner A, through the domain.
pub fn submit_proposal(app: &TestApp, w: &World, title: &str) -> i64 {
    intake::submit(
        &app.db,
        &Actor::Partner(PartnerId(w.partner_a.0)),
        SubmitProposal {
            municipality_code: Some("141003".into()),
            need_id: None,
            offer_id: None,
            title: title.into(),
            body: "保育所の入所申請をオンライン化し、窓口の混雑を減らす仕組みを一緒につくりたい。"
                .into(),
            policy_field: Some("childcare_education".into()),
            declarations: Declarations {
                no_antisocial_forces: true,
                consent_to_contact: true,
                consent_to_publish: false,
            },
        },
        None,
    )
    .expect("submit a proposal")
    .proposal
    .id
    .0
}

fn event_kinds(app: &TestApp, proposal: i64) -> Vec<(EventKind, bool)> {
    let rows: Vec<(String, bool)> = {
        use kyoso::storage::schema::proposal_events::dsl::*;
        let mut conn = app.db.conn().unwrap();
        proposal_events
            .filter(proposal_id.eq(proposal))
            .order(id.asc())
            .select((kind, internal))
            .load::<(String, bool)>(&mut *conn)
            .unwrap()
    };
    rows.into_iter()
        .map(|(k, i)| (EventKind::from_db(&k).unwrap(), i))
        .collect()
}

const DESK: &str = "desk@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";
const ADMIN: &str = "admin@141003.example.jp";
const KOBE_DESK: &str = "desk@281000.example.jp";
const KOBE_DEPT: &str = "dept@281000.example.jp";
const OPERATOR: &str = "operator@example.jp";

fn seed(app: &TestApp) -> World {
    let w = World::seed(&app.db);
    set_passwords(
        &app.db,
        &[DESK, DEPT, ADMIN, KOBE_DESK, KOBE_DEPT, OPERATOR],
    );
    w
}

async fn login_logout_and_expiry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    let mut s = Session::new(&app);

    let anon = s.get("/admin/inbox").await;
    assert_eq!(anon.status, 303);
    assert_eq!(
        anon.location.as_deref(),
        Some("/admin/login?next=/admin/inbox")
    );

    let form = s.get("/admin/login").await;
    assert_eq!(form.status, 200);
    assert!(
        form.content_type.starts_with("text/html"),
        "{}",
        form.content_type
    );
    assert!(
        form.text
            .contains("<label for=\"email\">メールアドレス</label>"),
        "{}",
        form.text
    );
    assert!(form.text.contains("lang=\"ja\""));

    let wrong = s.login(DESK, "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .text
            .contains("メールアドレスまたはパスワードが正しくありません")
    );
    let unknown = s.login("nobody@example.jp", TEST_PASSWORD).await;
    assert_eq!(unknown.status, 401);
    assert!(
        unknown
            .text
            .contains("メールアドレスまたはパスワードが正しくありません")
    );

    let ok = s.login(DESK, TEST_PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(ok.location.as_deref(), Some("/admin/inbox"));
    let cookie = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("kyoso_console="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/admin"), "{cookie}");
    // The token is stored only as its hash.
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let stored: Vec<String> = {
        use kyoso::storage::schema::console_sessions::dsl::*;
        let mut conn = app.db.conn().unwrap();
        console_sessions
            .select(token_hash)
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    let inbox = s.get("/admin/inbox").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.text.contains("<h1>受付一覧</h1>"), "{}", inbox.text);
    assert!(inbox.text.contains("所管未定"));
    let en = s.get("/admin/inbox?lang=en").await;
    assert!(en.text.contains("<h1>Inbox</h1>"), "{}", en.text);
    assert!(en.text.contains("lang=\"en\""));
    let switch = s.get("/admin/lang/en?next=/admin/needs").await;
    assert_eq!(switch.location.as_deref(), Some("/admin/needs"));
    assert!(s.get("/admin/needs").await.text.contains("<h1>Needs</h1>"));
    s.get("/admin/lang/ja?next=/admin/inbox").await;

    let token = s.csrf().await;
    let out = s.post("/admin/logout", &[("csrf", &token)]).await;
    assert_eq!(out.status, 303);
    assert!(out.location.unwrap().starts_with("/admin/login"));
    assert_eq!(s.get("/admin/inbox").await.status, 303);
    let left: i64 = {
        use kyoso::storage::schema::console_sessions::dsl::*;
        let mut conn = app.db.conn().unwrap();
        console_sessions.count().get_result(&mut *conn).unwrap()
    };
    assert_eq!(left, 0, "logout deletes the session");

    // A session idle for more than 8 hours has ended.
    assert_eq!(s.login(DESK, TEST_PASSWORD).await.status, 303);
    assert_eq!(s.get("/admin/inbox").await.status, 200);
    {
        use kyoso::storage::schema::console_sessions::dsl::*;
        let mut conn = app.db.conn().unwrap();
        let long_ago = kyoso::storage::now() - chrono::TimeDelta::hours(9);
        diesel::update(console_sessions)
            .set(last_seen_at.eq(long_ago))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(s.get("/admin/inbox").await.status, 303);
    // ... and so has one past its absolute limit.
    assert_eq!(s.login(DESK, TEST_PASSWORD).await.status, 303);
    {
        use kyoso::storage::schema::console_sessions::dsl::*;
        let mut conn = app.db.conn().unwrap();
        diesel::update(console_sessions)
            .set(expires_at.eq(kyoso::storage::now() - chrono::TimeDelta::minutes(1)))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(s.get("/admin/inbox").await.status, 303);
}

async fn forms_without_the_csrf_token_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let id = submit_proposal(&app, &w, "CSRFの確認用の提案");
    let mut s = Session::new(&app);

    // The login form needs its own double-submit token.
    let no_cookie = s
        .post(
            "/admin/login",
            &[("csrf", "x"), ("email", DESK), ("password", TEST_PASSWORD)],
        )
        .await;
    assert_eq!(no_cookie.status, 403);
    assert!(no_cookie.content_type.starts_with("text/html"));

    assert_eq!(s.login(DESK, TEST_PASSWORD).await.status, 303);
    let before = event_kinds(&app, id).len();
    let path = format!("/admin/proposals/{id}/note");
    let missing = s.post(&path, &[("body", "メモ")]).await;
    assert_eq!(missing.status, 403, "{}", missing.text);
    assert!(
        missing.content_type.starts_with("text/html"),
        "{}",
        missing.content_type
    );
    assert!(missing.text.contains("送信を受け付けられませんでした"));
    let wrong = s.post(&path, &[("csrf", "forged"), ("body", "メモ")]).await;
    assert_eq!(wrong.status, 403);
    for p in [
        format!("/admin/proposals/{id}/route"),
        format!("/admin/proposals/{id}/transition"),
        "/admin/record".to_owned(),
        "/admin/needs".to_owned(),
        "/admin/rules".to_owned(),
        "/admin/logout".to_owned(),
    ] {
        assert_eq!(s.post(&p, &[]).await.status, 403, "{p}");
    }
    assert_eq!(event_kinds(&app, id).len(), before, "nothing was recorded");

    let token = s.csrf().await;
    let ok = s.post(&path, &[("csrf", &token), ("body", "メモ")]).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(event_kinds(&app, id).len(), before + 1);

    // Another session's token is not this session's.
    let mut other = Session::new(&app);
    assert_eq!(other.login(KOBE_DESK, TEST_PASSWORD).await.status, 303);
    let foreign = other.csrf().await;
    assert_eq!(
        s.post(&path, &[("csrf", &foreign), ("body", "x")])
            .await
            .status,
        403
    );
}

async fn repeated_failures_lock_the_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    let mut s = Session::new(&app);
    for i in 1..=4 {
        let p = s.login(DEPT, "wrong-password").await;
        assert_eq!(p.status, 401, "attempt {i}");
    }
    // The fifth locks, but answers as any failure does: a lock must not tell a
    // guesser that the address exists (the owner is told by mail instead).
    let locked = s.login(DEPT, "wrong-password").await;
    assert_eq!(locked.status, 401, "{}", locked.text);
    assert!(
        locked
            .text
            .contains("メールアドレスまたはパスワードが正しくありません"),
        "{}",
        locked.text
    );
    // Even the right password waits for the lock to end.
    let still = s.login(DEPT, TEST_PASSWORD).await;
    assert_eq!(still.status, 401);
    {
        use kyoso::storage::schema::staff_users::dsl::*;
        let mut conn = app.db.conn().unwrap();
        diesel::update(staff_users.filter(email.eq(DEPT)))
            .set(locked_until.eq(Some(kyoso::storage::now() - chrono::TimeDelta::seconds(1))))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(s.login(DEPT, TEST_PASSWORD).await.status, 303);
    let (failures, lock): (i32, Option<chrono::NaiveDateTime>) = {
        use kyoso::storage::schema::staff_users::dsl::*;
        let mut conn = app.db.conn().unwrap();
        staff_users
            .filter(email.eq(DEPT))
            .select((failed_logins, locked_until))
            .first(&mut *conn)
            .unwrap()
    };
    assert_eq!((failures, lock), (0, None), "a good login clears the count");
}

async fn other_municipalities_proposals_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let id = submit_proposal(&app, &w, "横浜市への提案");
    let path = format!("/admin/proposals/{id}");

    let mut desk = Session::new(&app);
    desk.login(DESK, TEST_PASSWORD).await;
    let own = desk.get(&path).await;
    assert_eq!(own.status, 200);
    assert!(own.text.contains("横浜市への提案"));

    for who in [KOBE_DEPT, KOBE_DESK, DEPT] {
        let mut s = Session::new(&app);
        assert_eq!(s.login(who, TEST_PASSWORD).await.status, 303, "{who}");
        let p = s.get(&path).await;
        assert_eq!(p.status, 404, "{who}: {}", p.text);
        assert!(
            p.content_type.starts_with("text/html"),
            "{}",
            p.content_type
        );
        assert!(p.text.contains("ページが見つかりません"));
        assert!(
            !p.text.contains("横浜市への提案"),
            "{who} sees nothing of it"
        );
        let inbox = s.get("/admin/inbox").await;
        assert!(!inbox.text.contains("横浜市への提案"), "{who}'s inbox");
        // Nor can they act on it.
        let token = s.csrf().await;
        let note = s
            .post(&format!("{path}/note"), &[("csrf", &token), ("body", "x")])
            .await;
        assert_eq!(note.status, 404, "{who}");
    }
    // An unknown console page is an HTML 404 too, not a problem document.
    let bad_id = desk.get("/admin/proposals/not-a-number").await;
    assert_eq!(bad_id.status, 404);
    assert!(
        bad_id.content_type.starts_with("text/html"),
        "{}",
        bad_id.content_type
    );
    let missing = desk.get("/admin/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.content_type.starts_with("text/html"));
    // The API keeps its problem documents.
    let api = app.get("/api/v1/no-such", None).await;
    assert_eq!(api.content_type(), "application/problem+json");
}

async fn every_form_reaches_the_domain_and_records_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;
    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;
    let t = s.csrf().await;

    // Record a phone call on someone's behalf.
    let rec = s
        .post(
            "/admin/record",
            &[
                ("csrf", &t),
                ("channel", "phone"),
                ("submitter_name", "鈴木 一郎"),
                ("submitter_org", "港北まちづくりの会"),
                ("submitter_phone", "045-000-0000"),
                ("title", "公園の見守りボランティアを組織したい"),
                (
                    "body",
                    "地域の公園で子どもの見守り活動を始めたい。市と協力できる形を相談したい。",
                ),
                ("received_on", "2026-11-20"),
                ("received_time", "16:30"),
                ("no_antisocial_forces", "1"),
            ],
        )
        .await;
    assert_eq!(rec.status, 303, "{}", rec.text);
    let loc = rec.location.unwrap();
    let id: i64 = loc
        .trim_start_matches("/admin/proposals/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let page = s.get(&loc).await;
    assert!(page.text.contains("提案を受け付けました"), "{}", page.text);
    assert!(page.text.contains("所管未定"));
    assert!(page.text.contains("2026-11-20 16:30"));
    // An invalid record comes back as the form with the errors, nothing stored.
    let bad = s
        .post("/admin/record", &[("csrf", &t), ("channel", "phone")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    // Named by the form's labels, in Japanese, not by the API's field names.
    assert!(
        bad.text
            .contains("<strong>提案者の氏名</strong></a>：入力してください"),
        "{}",
        bad.text
    );
    assert!(assert_error_links_resolve(&bad.text) >= 1);

    let base = format!("/admin/proposals/{id}");
    let dept = y.department_id.to_string();
    let other = y.other_department_id.to_string();
    let steps: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "route",
            vec![
                ("primary_department_id", &dept),
                ("other_department_ids", &other),
                ("note", "子育て支援課の所管"),
            ],
        ),
        ("note", vec![("body", "来週の課内会議で検討")]),
        (
            "reply",
            vec![(
                "body",
                "お電話ありがとうございました。担当課で確認しています。",
            )],
        ),
        ("pause", vec![("body", "活動計画書をお送りください")]),
        ("resume", vec![]),
        (
            "extend",
            vec![
                ("clock", "decision"),
                ("until", "2027-06-30"),
                ("reason", "年度予算の確定を待つため"),
            ],
        ),
        (
            "transition",
            vec![("to", "in_dialogue"), ("note", "打合せを設定します")],
        ),
    ];
    for (action, fields) in &steps {
        let mut f: Vec<(&str, &str)> = vec![("csrf", &t)];
        f.extend(fields.iter().copied());
        let r = s.post(&format!("{base}/{action}"), &f).await;
        assert_eq!(r.status, 303, "{action}: {}", r.text);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("{base}?done={action}#history").as_str())
        );
    }
    // Declining without reasons is refused on the page itself, with the fields named.
    let no_reason = s
        .post(
            &format!("{base}/transition"),
            &[("csrf", &t), ("to", "declined")],
        )
        .await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.text);
    assert!(
        no_reason
            .text
            .contains("<a href=\"#reason_code\"><strong>見送りの理由</strong></a>：選んでください")
            && no_reason.text.contains(
                "<a href=\"#reason\"><strong>理由</strong></a>：提案者に送る理由を書いてください"
            )
            && no_reason.text.contains("次の項目を確認してください"),
        "{}",
        no_reason.text
    );
    let declined = s
        .post(
            &format!("{base}/transition"),
            &[
                ("csrf", &t),
                ("to", "declined"),
                ("reason_code", "no_budget"),
                ("reason", "今年度は予算の確保が難しいため見送ります。"),
            ],
        )
        .await;
    assert_eq!(declined.status, 303, "{}", declined.text);
    // A final state cannot change again: a 409 shown on the page.
    let again = s
        .post(
            &format!("{base}/transition"),
            &[("csrf", &t), ("to", "adopted")],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(
        again
            .text
            .contains("この提案は「見送り」で完了しているため、「採択」にはできません。"),
        "{}",
        again.text
    );

    let kinds = event_kinds(&app, id);
    use EventKind::*;
    let expected = [
        (Received, false),
        (Routed, true),
        (Note, true),
        (Reply, false),
        (Paused, false),
        (Resumed, false),
        (Extended, false),
        (StateChanged, false),
        (StateChanged, false),
    ];
    assert_eq!(kinds, expected);
    let view = kyoso::domain::proposals::get(
        &app.db,
        &kyoso::domain::api_keys::authenticate(&app.db, &y.desk_key).unwrap(),
        ProposalId(id),
    )
    .unwrap();
    assert_eq!(
        view.decline.unwrap().text.as_deref(),
        Some("今年度は予算の確保が難しいため見送ります。")
    );
    let page = s.get(&base).await;
    assert!(page.text.contains("庁内メモ"), "internal notes are marked");
    assert!(page.text.contains("予算の確保が困難"));

    // Needs: create, edit, publish, close.
    let created = s
        .post(
            "/admin/needs",
            &[
                ("csrf", &t),
                ("department_id", &dept),
                ("title", "保育所の申請手続きをオンライン化したい"),
                ("body", "紙の申請書が多く、繁忙期には窓口が混み合う。オンライン申請の仕組みを一緒に考えたい。"),
                ("policy_field", "childcare_education"),
                ("desired_partner_kinds", "company"),
                ("desired_partner_kinds", "npo"),
                ("visibility", "public"),
                ("status", "draft"),
                ("open_until", "2027-03-31"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text);
    let need_path = created
        .location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let need = s.get(&need_path).await;
    assert!(need.text.contains("下書き"), "{}", need.text);
    let edit = s
        .post(
            &need_path,
            &[
                ("csrf", &t),
                ("department_id", &dept),
                ("title", "保育所の入所申請をオンライン化したい"),
                ("body", "紙の申請書が多く、繁忙期には窓口が混み合う。"),
                ("policy_field", "childcare_education"),
                ("desired_partner_kinds", "company"),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(edit.status, 303, "{}", edit.text);
    assert_eq!(
        s.post(&format!("{need_path}/publish"), &[("csrf", &t)])
            .await
            .status,
        303
    );
    let open = s.get(&need_path).await;
    assert!(
        open.text.contains("募集中") && open.text.contains("保育所の入所申請をオンライン化したい")
    );
    assert_eq!(
        s.post(&format!("{need_path}/close"), &[("csrf", &t)])
            .await
            .status,
        303
    );
    assert!(s.get(&need_path).await.text.contains("募集終了"));
    let list = s.get("/admin/needs").await;
    assert!(list.text.contains("保育所の入所申請をオンライン化したい"));

    // Routing rules: add and delete.
    let rule = s
        .post(
            "/admin/rules",
            &[("csrf", &t), ("department_id", &dept), ("keyword", "保育")],
        )
        .await;
    assert_eq!(rule.status, 303, "{}", rule.text);
    let deps = s.get("/admin/departments").await;
    assert!(deps.text.contains("保育"));
    let rule_id = {
        use kyoso::storage::schema::routing_rules::dsl::*;
        let mut conn = app.db.conn().unwrap();
        routing_rules.select(id).first::<i64>(&mut *conn).unwrap()
    };
    assert_eq!(
        s.post(&format!("/admin/rules/{rule_id}/delete"), &[("csrf", &t)])
            .await
            .status,
        303
    );

    // The dashboard and its CSV.
    let dash = s.get("/admin/dashboard").await;
    assert_eq!(dash.status, 200);
    assert!(
        dash.text.contains("role=\"img\"") && dash.text.contains("<title"),
        "charts are images with titles"
    );
    assert!(dash.text.contains("月別の受付件数"));
    let csv = s.get("/admin/dashboard.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.text.contains("受付件数"));

    // The department staff answer what was routed to them.
    let mut d = Session::new(&app);
    d.login(DEPT, TEST_PASSWORD).await;
    let td = d.csrf().await;
    let second = submit_proposal(&app, &w, "所管課が回答する提案");
    assert_eq!(
        d.get(&format!("/admin/proposals/{second}")).await.status,
        404,
        "not yet routed to them"
    );
    s.post(
        &format!("/admin/proposals/{second}/route"),
        &[("csrf", &t), ("primary_department_id", &dept)],
    )
    .await;
    let page = d.get(&format!("/admin/proposals/{second}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("回付する"), "only the desk routes");
    let r = d
        .post(
            &format!("/admin/proposals/{second}/reply"),
            &[("csrf", &td), ("body", "担当課として前向きに検討します。")],
        )
        .await;
    assert_eq!(r.status, 303);
    let routed_route = d
        .post(
            &format!("/admin/proposals/{second}/route"),
            &[("csrf", &td), ("primary_department_id", &dept)],
        )
        .await;
    assert_eq!(routed_route.status, 403, "department staff cannot route");
}

async fn admin_screens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    let y = &w.yokohama;

    // A municipality's admin manages its staff and departments.
    let mut a = Session::new(&app);
    a.login(ADMIN, TEST_PASSWORD).await;
    let t = a.csrf().await;
    assert_eq!(a.get("/admin/staff").await.status, 200);
    let add = a
        .post(
            "/admin/staff",
            &[
                ("csrf", &t),
                ("email", "new.desk@141003.example.jp"),
                ("display_name", "新任 職員"),
                ("role", "desk"),
                ("password", "a-long-initial-password"),
            ],
        )
        .await;
    assert_eq!(add.status, 303, "{}", add.text);
    assert_eq!(add.location.as_deref(), Some("/admin/staff?done=invited"));
    // The admin chooses no password for the new user (a posted one is ignored): the
    // user is invited by mail and chooses their own.
    let mut n = Session::new(&app);
    assert_eq!(
        n.login("new.desk@141003.example.jp", "a-long-initial-password")
            .await
            .status,
        401
    );
    let dep = a
        .post(
            "/admin/departments",
            &[
                ("csrf", &t),
                ("name", "環境創造局 みどり政策課"),
                ("policy_fields", "environment_energy"),
            ],
        )
        .await;
    assert_eq!(dep.status, 303, "{}", dep.text);
    let upd = a
        .post(
            &format!("/admin/departments/{}", y.other_department_id),
            &[
                ("csrf", &t),
                ("name", "総務局 危機管理室"),
                ("policy_fields", "safety"),
                ("policy_fields", "governance_dx"),
            ],
        )
        .await;
    assert_eq!(upd.status, 303, "{}", upd.text);
    assert!(
        a.get("/admin/departments")
            .await
            .text
            .contains("みどり政策課")
    );
    // ... but not another municipality's users, nor the outbox or partners' status.
    let pw = a
        .post(
            "/admin/staff/password",
            &[
                ("csrf", &t),
                ("email", KOBE_DESK),
                ("password", "another-password-1"),
            ],
        )
        .await;
    assert_eq!(pw.status, 403, "{}", pw.text);
    assert_eq!(a.get("/admin/outbox").await.status, 403);
    let susp = a
        .post(
            &format!("/admin/partners/{}/suspend", w.partner_a.0),
            &[("csrf", &t)],
        )
        .await;
    assert_eq!(susp.status, 403);

    // The desk may not see the staff screen.
    let mut d = Session::new(&app);
    d.login(DESK, TEST_PASSWORD).await;
    assert_eq!(d.get("/admin/staff").await.status, 403);

    // The deployment admin: partners and the outbox.
    let mut o = Session::new(&app);
    o.login(OPERATOR, TEST_PASSWORD).await;
    let to = o.csrf().await;
    let partner = o.get(&format!("/admin/partners/{}", w.partner_a.0)).await;
    assert_eq!(partner.status, 200);
    assert!(partner.text.contains("株式会社みなと測量"));
    let s = o
        .post(
            &format!("/admin/partners/{}/suspend", w.partner_a.0),
            &[("csrf", &to)],
        )
        .await;
    assert_eq!(s.status, 303, "{}", s.text);
    assert!(
        o.get(&format!("/admin/partners/{}", w.partner_a.0))
            .await
            .text
            .contains("利用停止")
    );
    let me = app.get("/api/v1/me", Some(&w.partner_a.1)).await;
    assert_eq!(
        me.status, 403,
        "a suspended partner's key stops working: {}",
        me.text
    );
    assert_eq!(
        o.post(
            &format!("/admin/partners/{}/reinstate", w.partner_a.0),
            &[("csrf", &to)]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&w.partner_a.1)).await.status,
        200
    );

    let failed_id: i64 = {
        use kyoso::storage::schema::mail_outbox::dsl::*;
        let mut conn = app.db.conn().unwrap();
        let at = kyoso::storage::now();
        diesel::insert_into(mail_outbox)
            .values((
                dedupe_key.eq("console-test-1"),
                message_id.eq("<console-test-1@kyoso.example>"),
                kind.eq("proposal_received"),
                recipient_email.eq("someone@example.com"),
                subject.eq("提案を受け付けました"),
                body_text.eq("本文"),
                status.eq("failed"),
                attempts.eq(5),
                last_error.eq(Some("550 mailbox unavailable")),
                next_attempt_at.eq(at),
                created_at.eq(at),
            ))
            .returning(id)
            .get_result(&mut *conn)
            .unwrap()
    };
    let page = o.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("550 mailbox unavailable") && page.text.contains("送信失敗"));
    let retry = o
        .post(
            &format!("/admin/outbox/{failed_id}/retry"),
            &[("csrf", &to)],
        )
        .await;
    assert_eq!(retry.status, 303, "{}", retry.text);
    let now_status: String = {
        use kyoso::storage::schema::mail_outbox::dsl::*;
        let mut conn = app.db.conn().unwrap();
        mail_outbox
            .find(failed_id)
            .select(status)
            .first(&mut *conn)
            .unwrap()
    };
    assert_eq!(now_status, "pending");
    assert_eq!(
        o.post(
            &format!("/admin/outbox/{failed_id}/retry"),
            &[("csrf", &to)]
        )
        .await
        .status,
        409
    );
    // A deployment admin picks the municipality on municipality screens.
    let inbox = o.get("/admin/inbox?m=141003").await;
    assert_eq!(inbox.status, 200);
    let dash = o.get("/admin/dashboard?m=141003").await;
    assert_eq!(dash.status, 200, "{}", dash.text);
}
