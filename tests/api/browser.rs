//! The staff console in a real headless Chromium, driven over the W3C WebDriver protocol
//! by a small client written here on `awc`. tests/run-all.sh starts chromedriver and
//! sets KYOSO_TEST_WEBDRIVER_URL; without it these tests fail rather than skip.
//! Every main screen is saved as a screenshot under target/console-screenshots/ and
//! checked with axe-core against the WCAG 2.0 A and AA rules, which JIS X 8341-3:2016
//! level AA (the standard public bodies' pages are held to) follows; run-all.sh installs
//! axe-core from tests/accessibility's lockfile.

use serde_json::{Value, json};
use std::path::PathBuf;

use crate::console::submit_proposal;
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};

pub(crate) const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn webdriver_url() -> String {
    std::env::var("KYOSO_TEST_WEBDRIVER_URL").expect(
        "KYOSO_TEST_WEBDRIVER_URL is not set: run the tests with tests/run-all.sh, which starts chromedriver for the browser tests",
    )
}

/// axe-core's browser build, read once per test process.
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/accessibility/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run the tests with tests/run-all.sh, which installs axe-core",
                path.display()
            )
        })
    })
}

/// Runs axe on the page (WCAG 2.0 A and AA rules only) and hands back the violations,
/// each with the elements it was found on.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] }, resultTypes: ['violations'] })
  .then(r => done(r.violations.map(v => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary),
  }))))
  .catch(e => done([{ rule: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));
"#;

pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// One browser session.
pub(crate) struct Browser {
    client: awc::Client,
    base: String,
    _profile: crate::helpers::ScratchDir,
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        let driver = webdriver_url();
        let profile = crate::helpers::ScratchDir::new();
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .finish();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The browser's console, to catch what the Content-Security-Policy blocks.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--lang=ja",
                    format!("--user-data-dir={}", profile.0.display()),
                    "--window-size=1280,900"
                ]
            }
        }}});
        let mut res = client
            .post(format!("{driver}/session"))
            .send_json(&caps)
            .await
            .expect("chromedriver answers");
        let body: Value = res.json().limit(1 << 20).await.expect("a session");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {body}"))
            .to_owned();
        Browser {
            client,
            base: format!("{driver}/session/{id}"),
            _profile: profile,
        }
    }

    pub(crate) async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) async fn try_cmd(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None if method == "POST" => req.send_json(&json!({})).await,
            None => req.send().await,
        }
        .expect("chromedriver answers");
        let v: Value = res
            .json()
            .limit(64 << 20)
            .await
            .expect("a WebDriver answer");
        if let Some(e) = v["value"]["error"].as_str() {
            return Err(format!(
                "WebDriver {method} {path}: {e}: {}",
                v["value"]["message"]
            ));
        }
        Ok(v["value"].clone())
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url}))).await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().expect("an element").to_owned()
    }

    pub(crate) async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd("POST", &format!("/element/{el}/click"), None)
            .await;
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd("POST", &format!("/element/{el}/clear"), None)
            .await;
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The text of an element; retried while a page that a click started is loading.
    pub(crate) async fn text(&self, css: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            let found = self
                .try_cmd(
                    "POST",
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            let got = match found {
                Ok(v) => {
                    let el = v[ELEMENT].as_str().unwrap_or_default().to_owned();
                    self.try_cmd("GET", &format!("/element/{el}/text"), None)
                        .await
                }
                Err(e) => Err(e),
            };
            match got {
                Ok(v) => return v.as_str().unwrap_or_default().to_owned(),
                Err(e) => last = e,
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{last}");
    }

    /// Waits (up to 15 s) until the element's text contains `expected`: a click that
    /// submits a form returns before the next page has loaded.
    pub(crate) async fn wait_text(&self, css: &str, expected: &str) -> String {
        let mut text = String::new();
        for _ in 0..150 {
            text = self.text(css).await;
            if text.contains(expected) {
                return text;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("`{css}` never showed {expected:?}; it shows: {text}");
    }

    pub(crate) async fn wait_url(&self, suffix: &str) {
        for _ in 0..150 {
            if self.url().await.ends_with(suffix) {
                return;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("never reached {suffix}: at {}", self.url().await);
    }

    pub(crate) async fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A main screen: saved as `name`.png and checked for accessibility.
    pub(crate) async fn screen(&self, name: &str) {
        self.screenshot(name).await;
        self.assert_no_policy_violations(name).await;
        self.assert_accessible(name).await;
        // axe's own work is not the page's: drop what it left in the console.
        self.browser_log().await;
    }

    /// The browser console's entries since the last call (chromedriver clears them).
    pub(crate) async fn browser_log(&self) -> Vec<Value> {
        self.cmd("POST", "/se/log", Some(json!({"type": "browser"})))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Nothing on the page was blocked by the Content-Security-Policy (an inline style
    /// or script, or anything from elsewhere).
    pub(crate) async fn assert_no_policy_violations(&self, name: &str) {
        let blocked: Vec<String> = self
            .browser_log()
            .await
            .iter()
            .filter_map(|e| e["message"].as_str())
            .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
            .map(str::to_owned)
            .collect();
        assert!(
            blocked.is_empty(),
            "{name}: the Content-Security-Policy blocked:\n{}",
            blocked.join("\n")
        );
    }

    /// The WCAG 2.0 A/AA violations axe finds on the page.
    pub(crate) async fn accessibility_violations(&self) -> Vec<Value> {
        let script = format!("{}\n;{AXE_RUN}", axe_source());
        let found = self
            .cmd(
                "POST",
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        found.as_array().expect("a list of violations").clone()
    }

    pub(crate) async fn assert_accessible(&self, name: &str) {
        let violations = self.accessibility_violations().await;
        assert!(
            violations.is_empty(),
            "{name}: {} accessibility rule(s) violated:\n{}",
            violations.len(),
            serde_json::to_string_pretty(&violations).unwrap()
        );
    }

    pub(crate) async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.cmd("GET", "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(screenshot_dir().join(format!("{name}.png")), bytes).unwrap();
    }

    pub(crate) async fn login(&self, app: &TestApp, email: &str) {
        self.goto(&format!("{}/admin/login", app.base)).await;
        self.type_into("#email", email).await;
        self.type_into("#password", TEST_PASSWORD).await;
        self.click("form.login button[type=submit]").await;
        self.wait_url("/admin/inbox").await;
    }

    pub(crate) async fn quit(self) {
        self.cmd("DELETE", "", None).await;
    }
}

/// A desk officer's day: log in, find the unassigned proposal, route it, decline another
/// with a reason, create and publish a need, look at the dashboard.
#[actix_web::test]
async fn desk_officer_routes_declines_and_publishes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    let routed = submit_proposal(&app, &w, "保育所の入所申請をオンライン化したい");
    let declined = submit_proposal(&app, &w, "自社製品の紹介をさせてください");
    let b = Browser::start().await;

    b.goto(&format!("{}/admin/login", app.base)).await;
    assert_eq!(b.text("h1").await, "職員ログイン");
    // The check itself works: an input without a label is caught.
    b.cmd(
        "POST",
        "/execute/sync",
        Some(json!({"script": "document.querySelector('main').appendChild(document.createElement('input'));", "args": []})),
    )
    .await;
    let caught = b.accessibility_violations().await;
    assert!(caught.iter().any(|v| v["rule"] == "label"), "{caught:?}");
    b.goto(&format!("{}/admin/login", app.base)).await;
    b.screen("01-login").await;
    // The policy is enforced and its blocks reach the check above: an inline style and
    // an inline script that an injection would add are refused.
    b.cmd(
        "POST",
        "/execute/sync",
        Some(json!({"script": "const s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.appendChild(s); const j = document.createElement('script'); j.textContent = 'document.title = \"injected\"'; document.body.appendChild(j);", "args": []})),
    )
    .await;
    let blocked = b.browser_log().await;
    assert!(
        blocked
            .iter()
            .filter(|e| e["message"]
                .as_str()
                .is_some_and(|m| m.contains("Content Security Policy")))
            .count()
            >= 2,
        "{blocked:?}"
    );
    assert_ne!(
        b.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return document.title;", "args": []}))
        )
        .await,
        "injected"
    );
    b.login(&app, "desk@141003.example.jp").await;
    assert_eq!(b.text("h1").await, "受付一覧");
    let queue = b.text("#unassigned-h").await;
    assert!(
        queue.contains("所管未定") && queue.contains("(2)"),
        "{queue}"
    );
    assert!(
        b.text("main").await.contains("2026-000001") || b.text("main").await.contains("-000001")
    );
    b.screen("02-inbox").await;

    // Triage and route.
    b.goto(&format!("{}/admin/proposals/{routed}", app.base))
        .await;
    assert!(
        b.text("h1")
            .await
            .contains("保育所の入所申請をオンライン化したい")
    );
    b.screen("03-proposal").await;
    b.click(&format!(
        "select#primary_department_id option[value=\"{}\"]",
        w.yokohama.department_id
    ))
    .await;
    b.type_into("#route-note", "子育て支援課の所管と判断").await;
    b.click("form[action$=\"/route\"] button[type=submit]")
        .await;
    b.wait_text("main", "所管課へ回付しました").await;
    let facts = b.text("dl.facts").await;
    assert!(
        facts.contains("所管課確認中") && facts.contains("こども未来局 子育て支援課"),
        "{facts}"
    );
    assert!(b.text("ol.timeline").await.contains("庁内メモ"));

    // Decline with a reason.
    b.goto(&format!("{}/admin/proposals/{declined}", app.base))
        .await;
    b.click("#act-transition summary").await;
    b.click("select#to option[value=\"declined\"]").await;
    b.click("select#reason_code option[value=\"promotion_only\"]")
        .await;
    b.type_into(
        "#reason",
        "製品の宣伝のみのご提案のため、今回は見送ります。",
    )
    .await;
    b.click("form[action$=\"/transition\"] button[type=submit]")
        .await;
    b.wait_text("main", "状態を変更しました").await;
    let facts = b.text("dl.facts").await;
    assert!(
        facts.contains("見送り") && facts.contains("製品・サービスの宣伝のみ"),
        "{facts}"
    );

    // Create and publish a need.
    b.goto(&format!("{}/admin/needs/new", app.base)).await;
    b.click(&format!(
        "select#department_id option[value=\"{}\"]",
        w.yokohama.department_id
    ))
    .await;
    b.type_into("#title", "子育て世帯向けの相談窓口をオンライン化したい")
        .await;
    b.type_into(
        "#body",
        "平日の日中しか相談できない。夜間や休日にも相談できる仕組みを一緒に考えたい。",
    )
    .await;
    b.click("select#policy_field option[value=\"childcare_education\"]")
        .await;
    b.click("input[name=desired_partner_kinds][value=company]")
        .await;
    b.click("main form button[type=submit]").await;
    b.wait_text("main", "登録しました").await;
    assert_eq!(b.text("#need-status").await, "下書き");
    b.click("form[action$=\"/publish\"] button").await;
    b.wait_text("main", "ニーズを公開しました").await;
    b.wait_text("#need-status", "募集中").await;
    b.goto(&format!("{}/admin/needs", app.base)).await;
    assert!(
        b.text("main")
            .await
            .contains("子育て世帯向けの相談窓口をオンライン化したい")
    );
    b.screen("04-needs").await;
    // The public API sees it now.
    let public = app.get("/api/v1/needs?municipality=141003", None).await;
    assert!(
        public
            .text
            .contains("子育て世帯向けの相談窓口をオンライン化したい")
    );

    b.goto(&format!("{}/admin/dashboard", app.base)).await;
    assert!(b.text("h1").await.starts_with("集計"));
    assert!(b.text("#by-month-h").await.contains("月別の受付件数"));
    b.screen("05-dashboard").await;

    // English, and back.
    b.click("header a.lang").await;
    b.wait_text("h1", "Dashboard").await;
    b.screen("06-dashboard-en").await;
    b.click("header a.lang").await;
    b.wait_text("h1", "集計").await;

    // Their own account, from their name in the header.
    b.click("header div.who a").await;
    b.wait_text("h1", "アカウント").await;
    assert!(b.text("main").await.contains("パスワードの変更"));
    // Its notification settings save from the keyboard-reachable radios.
    b.click("#n-new_proposal-daily").await;
    b.click("form[action$=\"/account/notifications\"] button")
        .await;
    b.wait_text("main", "保存しました").await;
    assert!(
        b.text("#n-new_proposal legend")
            .await
            .contains("新しい提案")
    );
    b.screen("08-account").await;

    // Logging out ends the session.
    b.click("form.logout button").await;
    b.wait_url("/admin/login?done=logout").await;
    b.goto(&format!("{}/admin/inbox", app.base)).await;
    assert!(b.url().await.contains("/admin/login"));
    b.quit().await;
}

/// Every chart label of the dashboard, a very long department name included, is drawn
/// inside its chart: the browser's own measure of each label (`getBBox`) lies within the
/// SVG and left of the bars, so nothing is clipped; the page still passes axe.
#[actix_web::test]
async fn dashboard_labels_wrap_inside_the_chart() {
    use crate::dashboard_labels::{LONG_NAME, long_named_department_with_a_proposal};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    long_named_department_with_a_proposal(&app, &w).await;
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    b.goto(&format!("{}/admin/dashboard", app.base)).await;
    let measured = b
        .cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": r#"
const out = { labels: [], clipped: [] };
for (const svg of document.querySelectorAll('figure.chart svg')) {
  const h = svg.viewBox.baseVal.height;
  const barsFrom = Math.min(...[...svg.querySelectorAll('rect')].map(r => r.x.baseVal.value));
  for (const t of svg.querySelectorAll('text.label')) {
    const b = t.getBBox();
    out.labels.push(t.textContent);
    if (b.x < 0 || b.y < 0 || b.x + b.width > barsFrom || b.y + b.height > h) {
      out.clipped.push(t.textContent + ' ' + JSON.stringify([b.x, b.y, b.width, b.height]));
    }
  }
}
return out;"#, "args": []})),
        )
        .await;
    let labels: Vec<String> = measured["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().replace(' ', ""))
        .collect();
    assert!(
        labels.contains(&LONG_NAME.replace(' ', "")),
        "the long name is not drawn whole: {labels:?}"
    );
    assert_eq!(measured["clipped"], json!([]), "clipped labels");
    b.cmd(
        "POST",
        "/execute/sync",
        Some(
            json!({"script": "document.getElementById('by-dept-h').scrollIntoView();", "args": []}),
        ),
    )
    .await;
    b.screen("05b-dashboard-long-labels").await;
    b.quit().await;
}

/// At a desk's volume (135 proposals): one beyond the first page is found by a word, by
/// the word in the other kana script and by its receipt number; the 所管未定 queue of
/// more than 100 shows all of them counted and the oldest first; a 見送り sent without
/// its reason code comes back with the typed reasons and the form open.
#[actix_web::test]
async fn desk_finds_any_proposal_and_works_the_oldest_first() {
    use crate::inbox::{LATE_RECORDED, MANY, many};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    let ids = many(&app, &w);
    let kawasemi = ids[0];
    let receipt = app
        .get(
            &format!("/api/v1/proposals/{kawasemi}"),
            Some(&w.yokohama.desk_key),
        )
        .await
        .body["receipt_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    let queue = b.text("#unassigned-h").await;
    assert!(queue.contains(&format!("({MANY})")), "{queue}");
    let oldest = b
        .text("section[aria-labelledby=unassigned-h] tbody tr:first-child")
        .await;
    assert!(
        oldest.contains(&format!("地域の公園清掃 その{LATE_RECORDED}")),
        "{oldest}"
    );
    assert!(
        !b.text("section[aria-labelledby=all-h] tbody")
            .await
            .contains("カワセミ")
    );
    b.screen("10-inbox-at-scale").await;
    for q in ["かわせみ", "カワセミ", receipt.as_str()] {
        b.goto(&format!("{}/admin/inbox", app.base)).await;
        b.type_into("#q", q).await;
        b.click("form.filters button[type=submit]").await;
        b.wait_text("#all-h", "検索結果").await;
        assert_eq!(b.text("#all-h").await, "検索結果 (1)", "{q}");
        assert!(
            b.text("section[aria-labelledby=all-h] tbody")
                .await
                .contains("カワセミの観察会を川辺で開きたい"),
            "{q}"
        );
    }
    b.screen("11-inbox-search").await;
    // Sorting by a column header, oldest first.
    b.goto(&format!("{}/admin/inbox?state=all", app.base)).await;
    b.click("th[aria-sort] a").await;
    b.wait_url("dir=asc").await;
    assert!(
        b.text("section[aria-labelledby=all-h] tbody tr:first-child")
            .await
            .contains(&format!("その{LATE_RECORDED}"))
    );
    b.screen("12-inbox-sorted").await;

    // A 見送り without its reason code keeps what was typed.
    let reasons = "製品の宣伝のみのご提案のため、今回は見送ります。";
    b.goto(&format!("{}/admin/proposals/{}", app.base, ids[1]))
        .await;
    b.click("#act-transition summary").await;
    b.click("select#to option[value=\"declined\"]").await;
    b.type_into("#reason", reasons).await;
    b.click("form[action$=\"/transition\"] button[type=submit]")
        .await;
    b.wait_text("[role=alert]", "次の項目を確認してください")
        .await;
    let kept = b
        .cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return [document.querySelector('#reason').value, document.querySelector('#act-transition').open, document.querySelector('#to').value];", "args": []})),
        )
        .await;
    assert_eq!(kept, json!([reasons, true, "declined"]));
    b.screen("13-decline-kept").await;
    b.quit().await;
}

/// A department's staff member takes a proposal (「自分を担当に」 on its page), and the
/// inbox's 「自分の担当」 view lists it, with the 担当者 column, and nothing else.
#[actix_web::test]
async fn department_staff_assign_themselves_and_find_it_in_my_view() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["dept@141003.example.jp"]);
    let mine = submit_proposal(&app, &w, "通学路の見守りを自分が担当する");
    let other = submit_proposal(&app, &w, "担当の決まらない別の提案");
    for id in [&mine, &other] {
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/route"),
                Some(&w.yokohama.desk_key),
                &json!({"primary_department_id": w.yokohama.department_id}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let b = Browser::start().await;
    b.login(&app, "dept@141003.example.jp").await;
    b.goto(&format!("{}/admin/proposals/{mine}", app.base))
        .await;
    b.click("#assign-me button[type=submit]").await;
    b.wait_text("#history + ol", "担当者をテスト 職員に変更")
        .await;
    assert!(b.text("dl.facts").await.contains("テスト 職員"));
    b.screen("14-assigned-to-me").await;

    b.goto(&format!("{}/admin/inbox", app.base)).await;
    b.click("nav.views a[href*=\"assignee=me\"]").await;
    b.wait_url("assignee=me").await;
    b.wait_text("#all-h", "検索結果 (1)").await;
    let list = b.text("section[aria-labelledby=all-h] tbody").await;
    assert!(list.contains("通学路の見守りを自分が担当する"), "{list}");
    assert!(list.contains("テスト 職員"), "{list}");
    assert!(!list.contains("担当の決まらない別の提案"), "{list}");
    b.screen("15-my-view").await;
    b.quit().await;
}

/// The desk routes several proposals at once: このページをすべて選択 checks every row
/// (no JavaScript), one row is unchecked again, the 回付 part of the bulk form sends the
/// rest; a batch with a closed proposal is refused as a whole and names it.
#[actix_web::test]
async fn desk_routes_several_proposals_in_one_bulk_action() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    let ids: Vec<String> = (0..3)
        .map(|i| submit_proposal(&app, &w, &format!("一括で回付する提案 {i}")))
        .map(|id| id.to_string())
        .collect();
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    b.goto(&format!("{}/admin/inbox?unassigned=1", app.base))
        .await;
    b.click("a[href*=\"select=all\"]").await;
    b.wait_url("select=all").await;
    // Every row checked, each checkbox named by its 受付番号 for screen readers.
    let label = b.text(&format!("label[for=\"sel-{}\"]", ids[0])).await;
    assert!(label.contains("を選択"), "{label}");
    b.click(&format!("#sel-{}", ids[2])).await;
    b.click(&format!(
        "select#bulk-primary option[value=\"{}\"]",
        w.yokohama.department_id
    ))
    .await;
    b.screen("16-bulk-route").await;
    b.click("button[name=action][value=route]").await;
    b.wait_text("main", "選択した提案をまとめて処理しました")
        .await;
    for (i, id) in ids.iter().enumerate() {
        let v = app
            .get(
                &format!("/api/v1/proposals/{id}"),
                Some(&w.yokohama.desk_key),
            )
            .await;
        let expected = if i < 2 { "routed" } else { "received" };
        assert_eq!(v.body["state"], json!(expected), "{}", v.text);
    }

    // A closed proposal among the chosen: nothing changes, the row is named.
    let closed = &ids[0];
    let r = app
        .post(
            &format!("/api/v1/proposals/{closed}/transition"),
            Some(&w.yokohama.desk_key),
            &json!({"to": "declined", "reason_code": "other", "reason": "見送ります。"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let number = r.body["receipt_number"].as_str().unwrap().to_owned();
    b.goto(&format!("{}/admin/inbox?state=all&select=all", app.base))
        .await;
    b.click("button[name=action][value=transition]").await;
    let alert = b
        .wait_text("#bulk-error", "どの提案も変更していません")
        .await;
    assert!(alert.contains(&number), "{alert}");
    b.screen("17-bulk-refused").await;
    let v = app
        .get(
            &format!("/api/v1/proposals/{}", ids[2]),
            Some(&w.yokohama.desk_key),
        )
        .await;
    assert_eq!(v.body["state"], json!("received"));
    b.quit().await;
}

/// The desk closes a proposal as a duplicate from the similar list (この提案の重複として
/// 閉じる): it is declined as 重複, the history says so, and the original lists it.
#[actix_web::test]
async fn desk_marks_a_duplicate_from_the_similar_list() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    let original = submit_proposal(&app, &w, "保育所の入所申請をオンラインに");
    let repeat = submit_proposal(&app, &w, "保育所の入所申請をオンラインにしたい");
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let number = app
        .get(
            &format!("/api/v1/proposals/{original}"),
            Some(&w.yokohama.desk_key),
        )
        .await
        .body["receipt_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    b.goto(&format!("{}/admin/proposals/{repeat}", app.base))
        .await;
    let similar = b.text("ul.similar").await;
    assert!(similar.contains(&number), "{similar}");
    assert!(similar.contains("類似度"), "{similar}");
    assert!(!similar.contains('%'), "no percentage: {similar}");
    b.screen("18-similar-with-duplicate-button").await;
    b.click(&format!(
        "ul.similar form:has(input[value=\"{number}\"]) button[type=submit]"
    ))
    .await;
    b.wait_text("#history + ol", &format!("重複（{number} と同じ）"))
        .await;
    assert!(b.text("dl.facts").await.contains(&number));
    b.goto(&format!("{}/admin/proposals/{original}", app.base))
        .await;
    assert!(b.text("#duplicates").await.contains("-"));
    b.screen("19-original-lists-duplicates").await;
    b.quit().await;
}

/// A department's staff member of 神戸市 cannot open 横浜市's proposal.
#[actix_web::test]
async fn department_user_cannot_see_another_municipalitys_proposal() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["dept@281000.example.jp"]);
    let id = submit_proposal(&app, &w, "横浜市だけが見るべき提案");
    let b = Browser::start().await;
    b.login(&app, "dept@281000.example.jp").await;
    assert!(!b.text("main").await.contains("横浜市だけが見るべき提案"));
    b.goto(&format!("{}/admin/proposals/{id}", app.base)).await;
    assert_eq!(b.text("h1").await, "ページが見つかりません");
    assert!(!b.text("body").await.contains("横浜市だけが見るべき提案"));
    b.screen("07-not-found").await;
    b.quit().await;
}

/// The screens of the earlier tests are not all there is: every other screen an
/// administrator works with passes the same check, and so does a form sent back with
/// its errors (named by the form's labels, in Japanese).
#[actix_web::test]
async fn every_admin_screen_passes_the_accessibility_check() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["admin@141003.example.jp"]);
    let proposal = submit_proposal(&app, &w, "公園の清掃活動に社員が参加したい");
    let b = Browser::start().await;
    b.login(&app, "admin@141003.example.jp").await;
    let screens = [
        ("/admin/record".to_owned(), "record"),
        ("/admin/needs/new".to_owned(), "need-form"),
        (format!("/admin/proposals/{proposal}"), "proposal-admin"),
        ("/admin/partners".to_owned(), "partners"),
        (format!("/admin/partners/{}", w.partner_a.0), "partner"),
        ("/admin/departments".to_owned(), "departments"),
        ("/admin/staff".to_owned(), "staff"),
        ("/admin/outbox".to_owned(), "outbox"),
        ("/admin/audit".to_owned(), "audit"),
        ("/admin/dashboard?lang=en".to_owned(), "dashboard-en"),
    ];
    for (path, name) in &screens {
        b.goto(&format!("{}{path}", app.base)).await;
        b.assert_accessible(name).await;
    }
    b.goto(&format!("{}/admin/staff", app.base)).await;
    b.click("main a[href^=\"/admin/staff/\"]").await;
    b.wait_text("h1", "職員").await;
    b.assert_accessible("staff-edit").await;

    // A need sent without its title and description, as a browser that does not check
    // `required` fields would send it.
    b.goto(&format!("{}/admin/needs/new", app.base)).await;
    b.cmd(
        "POST",
        "/execute/sync",
        Some(
            json!({"script": "document.querySelector('main form').noValidate = true;", "args": []}),
        ),
    )
    .await;
    b.click("main form button[type=submit]").await;
    let alert = b
        .wait_text("div.alert.error", "次の項目を確認してください")
        .await;
    assert!(
        alert.contains("件名：入力してください") && alert.contains("内容：入力してください"),
        "{alert}"
    );
    b.screen("09-need-form-errors").await;
    // Each problem links to its field.
    let unresolved = b
        .cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return [...document.querySelectorAll('div.alert.error a')].filter(a => !document.querySelector(a.getAttribute('href'))).map(a => a.getAttribute('href')).concat(document.querySelectorAll('div.alert.error a').length === 2 ? [] : ['not two links']);", "args": []})),
        )
        .await;
    assert_eq!(unresolved, json!([]));
    b.click("div.alert.error a").await;
    b.wait_url("#title").await;
    b.quit().await;
}
