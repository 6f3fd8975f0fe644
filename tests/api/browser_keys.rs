//! Moving fast in a real headless Chromium (issue 17 pt 9): a keyboard-only path through
//! the inbox with the shortcuts (`/`, `j`, `k`, `?`), the pages at a phone's 390 px
//! without sideways scrolling, and a saved filter's round trip. Screenshots go with the
//! other console screenshots (target/console-screenshots/); axe-core checks each screen.

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::console::submit_proposal;
use crate::helpers::{Backend, TestApp, World, set_passwords};

const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";

impl Browser {
    /// Presses keys as a person would, on whatever has focus (WebDriver actions).
    async fn press(&self, keys: &str) {
        let mut actions = vec![];
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            actions.push(json!({"type": "keyUp", "value": k.to_string()}));
        }
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits until `script` returns true.
    async fn wait_for(&self, script: &str) {
        for _ in 0..150 {
            if self.eval(script).await == json!(true) {
                return;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("never true: {script}");
    }

    /// What has focus: its id, or its text.
    async fn focused(&self) -> String {
        self.eval(
            "const a = document.activeElement; return a ? (a.id || a.textContent.trim()) : '';",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// A phone's screen: 390 CSS pixels wide (Chrome DevTools' device emulation; not
    /// `mobile`, which would zoom out to fit an overflowing page and hide the overflow).
    async fn phone(&self) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                    "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": false
                }}),
            ),
        )
        .await;
    }

    /// The page is no wider than the window; else the elements that stick out.
    async fn assert_no_sideways_scroll(&self, name: &str) {
        let v = self
            .eval(
                "const w = window.innerWidth; const out = [];
                 for (const e of document.querySelectorAll('body *')) {
                   const r = e.getBoundingClientRect();
                   // Inside a scrolling box is fine; the box itself must fit.
                   const box = e.parentElement && e.parentElement.closest('.table-wrap');
                   if (r.right > w + 0.5 && !box) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
                 }
                 return [document.documentElement.scrollWidth, w, out.slice(0, 12)];",
            )
            .await;
        let (scroll, width) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
        assert_eq!(width, 390, "{name}: the window is not a phone's");
        assert!(
            scroll <= width,
            "{name}: {scroll} px wide in a {width} px window: {}",
            v[2]
        );
    }
}

/// The inbox by keyboard only: `/` to the search, type, Enter; `j`/`k` through the rows
/// (the keys type as usual inside the search box); Enter opens the proposal; `?` opens
/// the list of shortcuts, Esc closes it.
#[actix_web::test]
async fn keyboard_only_path_through_the_inbox() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    let first = submit_proposal(&app, &w, "Drone survey of bridges");
    let second = submit_proposal(&app, &w, "Drone mapping of parks");
    submit_proposal(&app, &w, "保育所の申請をオンライン化");
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    b.screen("20-inbox-shortcuts").await;

    // `/` from anywhere outside a field: the search box has focus.
    b.press("/").await;
    assert_eq!(b.focused().await, "q");
    // Inside the box, j and k are letters.
    b.press("jk").await;
    assert_eq!(
        b.eval("return document.getElementById('q').value").await,
        json!("jk")
    );
    b.eval("document.getElementById('q').value = ''").await;
    b.press("Drone").await;
    b.press(ENTER).await;
    b.wait_text("#all-h", "検索結果 (2)").await;
    // j: the first row's link; j again: the second; k: back to the first.
    b.press("j").await;
    let one = b.focused().await;
    b.press("j").await;
    let two = b.focused().await;
    b.press("k").await;
    assert_eq!(b.focused().await, one);
    let mut titles = [one.clone(), two.clone()];
    titles.sort();
    assert_eq!(
        titles,
        ["Drone mapping of parks", "Drone survey of bridges"]
    );
    // `?`: the list of shortcuts, a modal dialog; Esc closes it and focus comes back.
    b.press("?").await;
    b.wait_for("return document.getElementById('keys-help').open")
        .await;
    b.screen("21-shortcut-help").await;
    b.press(ESCAPE).await;
    b.wait_for("return !document.getElementById('keys-help').open")
        .await;
    assert_eq!(b.focused().await, one);
    // Enter opens the proposal of the focused row.
    b.press(ENTER).await;
    let want = if one == "Drone survey of bridges" {
        first
    } else {
        second
    };
    b.wait_url(&format!("/admin/proposals/{want}")).await;
    assert!(b.text("h1").await.contains(&one));
    // `/` on a page without the search box goes to the inbox's, focused.
    b.press("/").await;
    b.wait_url("/admin/inbox#q").await;
    b.wait_for("return document.activeElement && document.activeElement.id === 'q'")
        .await;
    b.quit().await;
}

/// At 390 px nothing scrolls sideways: the inbox, a proposal with a long receipt number
/// and an unbroken URL, the dashboard.
#[actix_web::test]
async fn nothing_scrolls_sideways_on_a_phone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    let id = submit_proposal(
        &app,
        &w,
        "https://www.example.jp/very/long/address/without/any/break/that/must/wrap/on/a/phone/screen/index.html",
    );
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    b.phone().await;
    for (path, name) in [
        ("/admin/inbox".to_owned(), "22-inbox-390px"),
        (format!("/admin/proposals/{id}"), "23-proposal-390px"),
        ("/admin/dashboard".to_owned(), "24-dashboard-390px"),
        ("/admin/record".to_owned(), "25-record-390px"),
    ] {
        b.goto(&format!("{}{path}", app.base)).await;
        b.text("h1").await;
        b.assert_no_sideways_scroll(name).await;
        b.screen(name).await;
    }
    b.quit().await;
}

/// Save the current search under a name, find it beside the views, use it, delete it.
#[actix_web::test]
async fn a_saved_filter_round_trip() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &["desk@141003.example.jp"]);
    submit_proposal(&app, &w, "カワセミの観察会を川辺で開きたい");
    submit_proposal(&app, &w, "保育所の申請をオンライン化");
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let b = Browser::start().await;
    b.login(&app, "desk@141003.example.jp").await;
    b.type_into("#q", "かわせみ").await;
    b.click("form.filters button[type=submit]").await;
    b.wait_text("#all-h", "検索結果 (1)").await;
    b.click("details.saved-filters summary").await;
    b.type_into("#filter-name", "川の生き物").await;
    b.click("details.saved-filters form[action=\"/admin/inbox/filters\"] button")
        .await;
    b.wait_text("[role=status]", "絞り込みを保存しました").await;
    b.screen("26-saved-filter").await;
    b.goto(&format!("{}/admin/inbox", app.base)).await;
    b.click("nav.views ul.saved a").await;
    b.wait_text("#all-h", "検索結果 (1)").await;
    assert!(
        b.text("section[aria-labelledby=all-h] tbody")
            .await
            .contains("カワセミの観察会を川辺で開きたい")
    );
    assert_eq!(
        b.text("nav.views ul.saved a[aria-current=page]").await,
        "川の生き物"
    );
    b.click("details.saved-filters summary").await;
    b.click("ul.filter-list form button").await;
    b.wait_text("[role=status]", "削除しました").await;
    assert_eq!(
        b.eval("return document.querySelectorAll('nav.views ul.saved a').length")
            .await,
        json!(0)
    );
    b.quit().await;
}
