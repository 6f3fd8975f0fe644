//! The test app: the same app factory as `kyoso serve`, on a real socket, over a fresh
//! database per test — a SQLite file, or a new database on the PostgreSQL server the
//! test command started (KYOSO_TEST_DATABASE_URL). Seeds go through the domain code.

use awc::http::{Method, StatusCode};
use diesel::{Connection, RunQueryDsl};
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use kyoso::domain::actor::{Actor, StaffActor};
use kyoso::domain::municipalities::{self, DepartmentInput, NewMunicipalityInput};
use kyoso::domain::partners::{self, RegisterPartner};
use kyoso::domain::search::SearchEngine;
use kyoso::domain::staff::{self, NewStaffInput};
use kyoso::domain::vocab::Role;
use kyoso::jobs::index_follower;
use kyoso::storage::Db;
use kyoso::storage::connection::DatabaseTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one async test body on both backends, as two tests named `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A scratch directory under the system's temp dir, removed when dropped.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(unique("kyoso_test"));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The admin URL of the test PostgreSQL server.
pub fn postgres_admin_url() -> String {
    std::env::var("KYOSO_TEST_DATABASE_URL").expect(
        "KYOSO_TEST_DATABASE_URL is not set: run the tests with tests/run-all.sh, which starts a PostgreSQL server",
    )
}

/// A fresh, empty database of the backend (not yet migrated).
pub fn fresh_database(backend: Backend, scratch: &ScratchDir) -> DatabaseTarget {
    match backend {
        Backend::Sqlite => DatabaseTarget::Sqlite(scratch.0.join("kyoso.sqlite3")),
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let name = unique("kyoso_test").to_lowercase();
            let mut conn = diesel::PgConnection::establish(&admin)
                .expect("connect to the test PostgreSQL server");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            DatabaseTarget::Postgres(format!("{base}/{name}"))
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub search: SearchEngine,
    client: awc::Client,
    /// The index follower; a test may take it to stop it.
    pub follower: Option<index_follower::Running>,
    /// The jobs `/readyz` looks at; a test may add one.
    pub jobs: kyoso::domain::health::JobBoard,
    /// The server's state (its abuse limits, for tests to look at).
    pub state: actix_web::web::Data<kyoso::web::state::AppState>,
    _scratch: ScratchDir,
}

/// The analyzers of this test process: the IPADIC dictionary is built once into cargo's
/// scratch directory for tests and shared by every test.
pub fn analyzers() -> search_index::Analyzers {
    static ANALYZERS: std::sync::OnceLock<search_index::Analyzers> = std::sync::OnceLock::new();
    ANALYZERS
        .get_or_init(|| {
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
            search_index::Analyzers::load(
                dir,
                std::path::Path::new(search_index::DEFAULT_IPADIC_DIR),
            )
        })
        .clone()
}

/// A response as tests look at it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem document with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status);
        self
    }

    pub fn field_codes(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap().to_owned(),
                            e["code"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, analyzers()).await
    }

    /// As `spawn`, without the API's per-source and per-partner write limits: for
    /// tests that submit far more from one address than a person would.
    pub async fn spawn_for_load(backend: Backend) -> TestApp {
        Self::spawn_limited(
            backend,
            analyzers(),
            kyoso::domain::throttle::Limits::without_write_limits(),
        )
        .await
    }

    /// As `spawn`, with the given analyzers (e.g. bigram-only, as without IPADIC).
    pub async fn spawn_with(backend: Backend, analyzers: search_index::Analyzers) -> TestApp {
        Self::spawn_limited(backend, analyzers, Default::default()).await
    }

    pub async fn spawn_limited(
        backend: Backend,
        analyzers: search_index::Analyzers,
        limits: kyoso::domain::throttle::Limits,
    ) -> TestApp {
        let scratch = ScratchDir::new();
        let target = fresh_database(backend, &scratch);
        let db = Db::open(target, 4).expect("open test database");
        db.migrate().expect("migrate");
        let search = SearchEngine::open_with(&scratch.0.join("index"), analyzers)
            .expect("open search index");

        let follower = index_follower::spawn(db.clone(), search.clone());
        let jobs = kyoso::domain::health::JobBoard::default();
        jobs.register(follower.liveness());
        let board = jobs.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = kyoso::app::state_with(db.clone(), search.clone(), jobs, limits);
        let server = kyoso::app::server_with_state(state.clone(), listener, Some(1)).unwrap();
        actix_web::rt::spawn(server);
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish();
        TestApp {
            base,
            db,
            search,
            client,
            follower: Some(follower),
            jobs: board,
            state,
            _scratch: scratch,
        }
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.insert_header(("Authorization", format!("Bearer {k}")));
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("request reaches the server");
        let bytes = res.body().limit(10 * 1024 * 1024).await.expect("read body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body,
            text,
        }
    }

    /// Sends raw bytes with a chosen content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .insert_header(("Content-Type", content_type));
        if let Some(k) = key {
            req = req.insert_header(("Authorization", format!("Bearer {k}")));
        }
        let mut res = req
            .send_body(bytes)
            .await
            .expect("request reaches the server");
        let bytes = res.body().limit(10 * 1024 * 1024).await.expect("read body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Reply {
        self.call(Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> Reply {
        self.call(Method::POST, path, key, Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: Option<&str>, body: &Value) -> Reply {
        self.call(Method::PATCH, path, key, Some(body)).await
    }
}

/// Two municipalities with departments and one staff user of every role each, two
/// partners, and a deployment admin: the cast of the permission tests.
pub struct World {
    pub operator_key: String,
    pub yokohama: Town,
    pub kobe: Town,
    pub partner_a: (i64, String),
    pub partner_b: (i64, String),
}

pub struct Town {
    pub department_id: i64,
    pub other_department_id: i64,
    pub dept_key: String,
    pub desk_key: String,
    pub admin_key: String,
}

pub fn staff_key(db: &Db, email: &str, role: &str, code: &str, department: Option<i64>) -> String {
    let input = NewStaffInput {
        email: email.into(),
        display_name: "テスト 職員".into(),
        role: role.into(),
        municipality_code: Some(code.into()),
        department_id: department,
        locale: None,
    };
    staff::create_with_key(db, input)
        .expect("seed staff")
        .api_key
        .key
}

fn town(db: &Db, admin: &Actor, code: &'static str, name: &str, prefecture: &str) -> Town {
    municipalities::create(
        db,
        admin,
        NewMunicipalityInput {
            code: code.into(),
            name: name.into(),
            prefecture: prefecture.into(),
            first_response_days: None,
            decision_days: None,
            zones: vec!["北部".into(), "南部".into()],
        },
    )
    .expect("seed municipality");
    let dept = |n: &str, f: &str| {
        municipalities::create_department(
            db,
            admin,
            code,
            DepartmentInput {
                name: n.into(),
                email: None,
                policy_fields: vec![f.into()],
                is_desk: false,
            },
        )
        .expect("seed department")
        .id
        .0
    };
    let department_id = dept("こども未来局 子育て支援課", "childcare_education");
    let other_department_id = dept("総務局 危機管理室", "safety");
    Town {
        department_id,
        other_department_id,
        dept_key: staff_key(
            db,
            &format!("dept@{code}.example.jp"),
            "department",
            code,
            Some(department_id),
        ),
        desk_key: {
            let email = format!("desk@{code}.example.jp");
            let key = staff_key(db, &email, "desk", code, None);
            quiet_new_proposals(db, &email);
            key
        },
        admin_key: staff_key(db, &format!("admin@{code}.example.jp"), "admin", code, None),
    }
}

/// The seeded desk members start with "新しい提案" off (the default is immediate), so
/// tests about other mail count only theirs; tests/api/staff_notices.rs checks the
/// default with desk members of its own.
fn quiet_new_proposals(db: &Db, email: &str) {
    use diesel::{ExpressionMethods, QueryDsl};
    use kyoso::storage::schema::staff_users::dsl as s;
    use kyoso::storage::subscriptions::{self, Subscriber};
    let mut c = db.conn().unwrap();
    let id: i64 = s::staff_users
        .filter(s::email.eq(email))
        .select(s::id)
        .first(&mut *c)
        .unwrap();
    subscriptions::set(&mut c, Subscriber::Staff(id), "new_proposal", "off").unwrap();
}

pub fn partner(db: &Db, name: &str, kind: &str) -> (i64, String) {
    let r = partners::register(
        db,
        RegisterPartner {
            kind: kind.into(),
            name: name.into(),
            corporate_number: None,
            contact_name: "担当 太郎".into(),
            contact_email: "contact@example.com".into(),
            phone: None,
            website: None,
            description: None,
            regions: None,
            locale: None,
            key_label: None,
        },
    )
    .expect("seed partner");
    // Seeded partners stand for established ones: their address is verified through the
    // domain (as a deployment admin would after checking it), so acknowledgements and
    // notices reach them as before. Tests of verification itself register over HTTP.
    let operator = Actor::Staff(StaffActor {
        id: kyoso::domain::ids::StaffUserId(0),
        role: Role::Admin,
        municipality: None,
        department: None,
    });
    kyoso::domain::email_verification::confirm_by_admin(db, &operator, r.partner.id)
        .expect("verify seed partner");
    (r.partner.id.0, r.api_key.key)
}

impl World {
    pub fn seed(db: &Db) -> World {
        let op = staff::create_with_key(
            db,
            NewStaffInput {
                email: "operator@example.jp".into(),
                display_name: "運用管理者".into(),
                role: "admin".into(),
                municipality_code: None,
                department_id: None,
                locale: None,
            },
        )
        .expect("seed operator");
        let admin = Actor::Staff(StaffActor {
            id: op.staff.id,
            role: Role::Admin,
            municipality: None,
            department: None,
        });
        World {
            operator_key: op.api_key.key,
            yokohama: town(db, &admin, "141003", "横浜市", "神奈川県"),
            kobe: town(db, &admin, "281000", "神戸市", "兵庫県"),
            partner_a: partner(db, "株式会社みなと測量", "company"),
            partner_b: partner(db, "NPO法人まちの縁側", "npo"),
        }
    }
}

/// A valid offer body.
pub fn offer_body(title: &str) -> Value {
    serde_json::json!({
        "kind": "technology",
        "title": title,
        "body": "ドローンとAIで橋梁やのり面を点検し、点検記録をデータで納品します。",
        "policy_fields": ["safety", "infrastructure_mobility"],
        "regions": ["nationwide"]
    })
}

/// A valid need body for department `department_id`.
pub fn need_body(title: &str, department_id: i64, visibility: &str, status: &str) -> Value {
    serde_json::json!({
        "department_id": department_id,
        "title": title,
        "body": "保育所の入所申請が紙中心で、繁忙期には窓口が混雑している。オンライン化を一緒に進めたい。",
        "policy_field": "childcare_education",
        "visibility": visibility,
        "status": status,
        "desired_partner_kinds": ["company", "npo"]
    })
}

/// The console password the tests give staff users.
pub const TEST_PASSWORD: &str = "correct-horse-2026";

/// Gives these staff users (by e-mail) the console password `TEST_PASSWORD`.
pub fn set_passwords(db: &Db, emails: &[&str]) {
    for e in emails {
        kyoso::domain::console_auth::set_password(db, None, e, TEST_PASSWORD)
            .expect("set a staff password");
    }
}

/// How many documents a search of `q` finds, asked of the index directly.
pub fn count_hits(engine: &kyoso::domain::search::SearchEngine, q: &str) -> usize {
    engine
        .index
        .search(&search_index::SearchRequest {
            query: q.into(),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .total
}
