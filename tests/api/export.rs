//! The proposal list export (CSV and XLSX): the bytes Japanese Excel needs (BOM, CRLF,
//! RFC 4180 quoting read back by Python's csv module), formula cells neutralised, the
//! filter respected, never another municipality's or another department's rows, never
//! internal notes, the XLSX opened (by Python's zipfile) with both sheets, the console's
//! links carrying the filter, and every export in the audit log.

use std::io::Write;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::console::Session;
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::inbox::submit_to;
use crate::on_both_backends;

on_both_backends!(exports_respect_the_filter_and_the_callers_rights);

const DESK: &str = "desk@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";

const TRICKY: &str = "防災訓練, \"地域合同\"の提案";
/// A decline reason (sent to the proposer, so exported) with a comma, quotes and a newline.
const REASON: &str =
    "今年度は予算の確保が難しく、\"再提案\"を歓迎します,\n来年度にご相談ください。";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"押す\")";
const MINUS: &str = "-2+3 公園ベンチの寄贈";
const KOBE: &str = "神戸港の見学会（KOBEONLY）";
const NOTE: &str = "庁内限り：財政課と非公式に相談（EXPORT-NOTE-7731）";
const ROUTE_NOTE: &str = "回付メモ（EXPORT-ROUTE-7731）";

/// Parses CSV text with Python's csv module (the RFC 4180 reader Excel users' scripts
/// use), after checking and removing the BOM.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let f = tempfile_path("csv");
    std::fs::File::create(&f.0)
        .and_then(|mut h| h.write_all(bytes))
        .unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import csv, io, json, sys\n\
             data = open(sys.argv[1], 'rb').read()\n\
             assert data.startswith(b'\\xef\\xbb\\xbf'), 'no BOM'\n\
             text = data[3:].decode('utf-8')\n\
             rows = list(csv.reader(io.StringIO(text, newline='')))\n\
             print(json.dumps(rows, ensure_ascii=False))",
        )
        .arg(&f.0)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A scratch file path, removed when dropped.
struct Scratch(std::path::PathBuf);
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
fn tempfile_path(ext: &str) -> Scratch {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Scratch(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("export-{}-{n}.{ext}", std::process::id())),
    )
}

/// The sheet names and all strings of an XLSX, read with Python's zipfile.
fn read_xlsx(bytes: &[u8]) -> (Vec<String>, String) {
    let f = tempfile_path("xlsx");
    std::fs::write(&f.0, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import zipfile, json, re, sys, html\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             assert z.testzip() is None\n\
             wb = z.read('xl/workbook.xml').decode('utf-8')\n\
             names = [html.unescape(n) for n in re.findall(r'<sheet name=\"([^\"]*)\"', wb)]\n\
             assert 'xl/worksheets/sheet1.xml' in z.namelist() and 'xl/worksheets/sheet2.xml' in z.namelist()\n\
             s = html.unescape(z.read('xl/sharedStrings.xml').decode('utf-8'))\n\
             print(json.dumps([names, s], ensure_ascii=False))",
        )
        .arg(&f.0)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Raw bytes of an API GET (the helpers' `Reply` holds text).
async fn get_bytes(app: &TestApp, path: &str, key: &str) -> (u16, String, Vec<u8>) {
    let mut res = awc::Client::default()
        .get(format!("{}{path}", app.base))
        .insert_header(("Authorization", format!("Bearer {key}")))
        .send()
        .await
        .unwrap();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = res.body().limit(10 << 20).await.unwrap().to_vec();
    (res.status().as_u16(), ct, body)
}

fn titles(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().skip(1).map(|r| r[7].clone()).collect()
}

fn exports_logged(app: &TestApp) -> Vec<String> {
    use kyoso::storage::schema::audit_events;
    let mut conn = app.db.conn().unwrap();
    audit_events::table
        .filter(audit_events::action.eq("proposals_exported"))
        .order(audit_events::id.asc())
        .select(audit_events::detail)
        .load::<String>(&mut *conn)
        .unwrap()
}

async fn exports_respect_the_filter_and_the_callers_rights(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK, DEPT]);
    let tricky = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        TRICKY,
        "本文は出力しません。",
    );
    let _formula = submit_to(&app, w.partner_a.0, "141003", FORMULA, "本文。");
    let minus = submit_to(&app, w.partner_b.0, "141003", MINUS, "本文。");
    let _kobe = submit_to(&app, w.partner_b.0, "281000", KOBE, "本文。");
    let desk = w.yokohama.desk_key.as_str();
    let r = app
        .post(
            &format!("/api/v1/proposals/{tricky}/route"),
            Some(desk),
            &json!({"primary_department_id": w.yokohama.department_id, "other_department_ids": [w.yokohama.other_department_id], "note": ROUTE_NOTE}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{tricky}/notes"),
            Some(desk),
            &json!({"body": NOTE}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{minus}/transition"),
            Some(desk),
            &json!({"to": "declined", "reason_code": "no_budget", "reason": REASON}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();

    // The desk: every Yokohama proposal, none of Kobe's, as Excel reads it.
    let (status, ct, bytes) = get_bytes(&app, "/api/v1/proposals/export.csv", desk).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "BOM");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.ends_with("\r\n"));
    // Every line ends with CRLF (the only bare LF is inside the quoted reason).
    assert_eq!(text.matches("\r\n").count(), 4, "{text}");
    assert!(
        !text.contains(NOTE) && !text.contains("EXPORT-NOTE") && !text.contains("EXPORT-ROUTE")
    );
    assert!(!text.contains("本文"), "the body is not exported");
    assert!(!text.contains(KOBE));
    let rows = parse_csv(&bytes);
    let header: Vec<&str> = kyoso::domain::proposals::export::FIELDS
        .iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let t = titles(&rows);
    assert_eq!(t[0], TRICKY, "round-trips through a CSV reader");
    assert_eq!(t[1], format!("'{FORMULA}"), "formula neutralised");
    assert_eq!(t[2], format!("'{MINUS}"), "a leading minus neutralised");
    assert!(rows.iter().all(|r| r.len() == header.len()));
    // Routed: owning and related departments; declined: outcome, reason, days.
    let routed = &rows[1];
    assert!(
        !routed[9].is_empty() && !routed[10].is_empty(),
        "{routed:?}"
    );
    assert_eq!(routed[4], "企業");
    let declined = &rows[3];
    assert_eq!(declined[3], "見送り");
    assert_eq!(declined[14], "見送り");
    assert_eq!(declined[16], "予算の確保が困難");
    assert_eq!(declined[17], REASON, "round-trips through a CSV reader");
    assert_eq!(declined[18], "0");
    assert_eq!(declined[4], "NPO・市民団体");

    // The filter is respected.
    let (_, _, bytes) = get_bytes(&app, "/api/v1/proposals/export.csv?state=declined", desk).await;
    assert_eq!(titles(&parse_csv(&bytes)), vec![format!("'{MINUS}")]);
    let (status, _, _) = get_bytes(&app, "/api/v1/proposals/export.csv?state=nonsense", desk).await;
    assert_eq!(status, 422);

    // Department staff: only what is routed to their department.
    let (status, _, bytes) =
        get_bytes(&app, "/api/v1/proposals/export.csv", &w.yokohama.dept_key).await;
    assert_eq!(status, 200);
    assert_eq!(titles(&parse_csv(&bytes)), vec![TRICKY.to_owned()]);
    // Another municipality: only its own.
    let (_, _, bytes) = get_bytes(&app, "/api/v1/proposals/export.csv", &w.kobe.desk_key).await;
    assert_eq!(titles(&parse_csv(&bytes)), vec![KOBE.to_owned()]);
    // Partners export nothing.
    let (status, _, _) = get_bytes(&app, "/api/v1/proposals/export.csv", &w.partner_a.1).await;
    assert_eq!(status, 403);

    // XLSX: a zip with both sheets, the rows and the dictionary.
    let (status, ct, bytes) = get_bytes(&app, "/api/v1/proposals/export.xlsx", desk).await;
    assert_eq!(status, 200);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let (sheets, strings) = read_xlsx(&bytes);
    assert_eq!(sheets, vec!["提案一覧", "項目定義"]);
    assert!(strings.contains(TRICKY), "{strings}");
    assert!(strings.contains(FORMULA));
    assert!(
        strings.contains("市の事業の範囲外"),
        "the dictionary lists every reason"
    );
    assert!(!strings.contains(KOBE) && !strings.contains("EXPORT-NOTE"));

    // The console: links carry the filter; the department's export is theirs only.
    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;
    let page = s.get("/admin/inbox?state=declined&field=safety").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("href=\"/admin/inbox/export.csv?state=declined&amp;field=safety\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("Excelで出力"));
    let csv = s.get("/admin/inbox/export.csv?state=all").await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.starts_with('\u{feff}'));
    assert_eq!(titles(&parse_csv(csv.text.as_bytes())).len(), 3);
    let xlsx = s.get("/admin/inbox/export.xlsx?state=all").await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.content_type.contains("spreadsheetml"));
    let mut d = Session::new(&app);
    d.login(DEPT, TEST_PASSWORD).await;
    let csv = d.get("/admin/inbox/export.csv?state=all").await;
    assert_eq!(
        titles(&parse_csv(csv.text.as_bytes())),
        vec![TRICKY.to_owned()]
    );
    assert!(!csv.text.contains("EXPORT-NOTE"));
    // Department staff cannot widen it to another department.
    let other = d
        .get(&format!(
            "/admin/inbox/export.csv?state=all&department={}",
            w.yokohama.other_department_id
        ))
        .await;
    assert_eq!(other.status, 403);

    // Every export is in the audit log, with its filter and row count.
    let logged: Vec<Value> = exports_logged(&app)
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(logged.len(), 8, "{logged:?}");
    assert_eq!(logged[0]["rows"], 3);
    assert_eq!(logged[1]["filter"]["state"], "declined");
    assert_eq!(logged[1]["rows"], 1);
}
