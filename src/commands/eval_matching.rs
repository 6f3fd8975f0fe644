//! `kyoso eval-matching DIR`: loads a relevance set (needs.jsonl, offers.jsonl,
//! qrels.tsv; format in the shared data README) into a fresh temporary instance through
//! the same domain code the API uses — municipalities, departments, partners, offers and
//! needs are created as they would be by people — indexes it by following the change
//! log, matches every judged need to offers with the API's matching function, and prints
//! per-need lines (the adopted offer's rank for each system) and the tables of
//! [`search_index::eval::Evaluation::report`]: kyoso beside plain BM25 baselines on the
//! same filtered offers, over the whole set and in 5-fold cross-validation.
//!
//! `kyoso eval-retrieval DIR`: the same ranked query over a general Japanese retrieval
//! set (JSQuAD reshaped; no database involved: paragraphs are not needs or offers),
//! beside plain BM25 over MeCab-style IPADIC tokens.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use search_index::Analyzers;
use search_index::eval::EvalSet;

use crate::config::Settings;
use crate::domain::actor::{Actor, StaffActor};
use crate::domain::codes::MunicipalityCode;
use crate::domain::ids::NeedId;
use crate::domain::municipalities::{self, DepartmentInput, NewMunicipalityInput};
use crate::domain::needs::{self, NewNeedInput};
use crate::domain::offers::{self, NewOfferInput};
use crate::domain::partners::{self, RegisterPartner};
use crate::domain::search::matches::{self, MatchQuery};
use crate::domain::search::{SearchEngine, documents, follow};
use crate::domain::staff::{self, NewStaffInput};
use crate::domain::vocab::Role;
use crate::storage::connection::DatabaseTarget;
use crate::storage::{self, Db};

#[derive(Deserialize)]
struct EvalNeed {
    id: String,
    municipality_code: String,
    municipality: String,
    #[serde(default)]
    department: String,
    title: String,
    body: String,
    policy_field: String,
    #[serde(default)]
    desired_partner_kinds: Vec<String>,
}

#[derive(Deserialize)]
struct EvalOffer {
    id: String,
    partner: String,
    partner_kind: String,
    title: String,
    body: String,
    policy_fields: Vec<String>,
    regions: Vec<String>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<T>> {
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = vec![];
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| anyhow::anyhow!("{} line {}: {e}", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

fn step<T>(what: &str, r: Result<T, crate::domain::error::AppError>) -> anyhow::Result<T> {
    r.map_err(|e| match e {
        crate::domain::error::AppError::Invalid(errors) => anyhow::anyhow!("{what}: {errors:?}"),
        e => anyhow::anyhow!("{what}: {e}"),
    })
}

pub fn run(settings: &Settings, dir: &Path) -> anyhow::Result<()> {
    let needs_in: Vec<EvalNeed> = read_jsonl(&dir.join("needs.jsonl"))?;
    let offers_in: Vec<EvalOffer> = read_jsonl(&dir.join("offers.jsonl"))?;
    let mut qrels: HashMap<String, BTreeMap<String, u32>> = HashMap::new();
    let qrels_text = std::fs::read_to_string(dir.join("qrels.tsv"))?;
    for line in qrels_text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [need, offer, grade] = cols[..] {
            qrels
                .entry(need.to_owned())
                .or_default()
                .insert(offer.to_owned(), grade.trim().parse()?);
        }
    }

    // A fresh instance: its own SQLite file and index in a temporary directory; the
    // dictionary cache of the data directory is reused.
    let tmp = std::env::temp_dir().join(format!("kyoso-eval-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let _cleanup = RemoveOnDrop(tmp.clone());
    let db = Db::open(DatabaseTarget::Sqlite(tmp.join("eval.sqlite3")), 4)?;
    db.migrate()?;
    let engine = SearchEngine::open_with(
        &tmp.join("index"),
        Analyzers::load(&settings.data_dir, &settings.ipadic_dir),
    )?;
    eprintln!("{}", engine.analyzers.status());

    let op = step(
        "operator",
        staff::create_with_key(
            &db,
            NewStaffInput {
                email: "eval@kyoso.example.jp".into(),
                display_name: "評価".into(),
                role: "admin".into(),
                municipality_code: None,
                department_id: None,
                locale: None,
            },
        ),
    )?;
    let admin = Actor::Staff(StaffActor {
        id: op.staff.id,
        role: Role::Admin,
        municipality: None,
        department: None,
    });
    let mut towns: HashMap<String, ()> = HashMap::new();
    let mut departments: HashMap<(String, String), i64> = HashMap::new();
    let mut need_db: HashMap<String, i64> = HashMap::new();
    for n in &needs_in {
        if towns.insert(n.municipality_code.clone(), ()).is_none() {
            let code = MunicipalityCode::parse(&n.municipality_code)
                .map_err(|e| anyhow::anyhow!("need {}: municipality code: {e}", n.id))?;
            step(
                &n.id,
                municipalities::create(
                    &db,
                    &admin,
                    NewMunicipalityInput {
                        code: n.municipality_code.clone(),
                        name: n.municipality.clone(),
                        prefecture: code.prefecture_name().unwrap_or("不明").to_owned(),
                        first_response_days: None,
                        decision_days: None,
                        zones: vec![],
                    },
                ),
            )?;
        }
        let dept_name = if n.department.trim().is_empty() {
            "担当課".to_owned()
        } else {
            n.department.clone()
        };
        let key = (n.municipality_code.clone(), dept_name.clone());
        if !departments.contains_key(&key) {
            let d = step(
                &n.id,
                municipalities::create_department(
                    &db,
                    &admin,
                    &n.municipality_code,
                    DepartmentInput {
                        name: dept_name,
                        email: None,
                        policy_fields: vec![n.policy_field.clone()],
                        is_desk: false,
                    },
                ),
            )?;
            departments.insert(key.clone(), d.id.0);
        }
        let created = step(
            &n.id,
            needs::create(
                &db,
                &admin,
                NewNeedInput {
                    municipality_code: Some(n.municipality_code.clone()),
                    department_id: Some(
                        *departments
                            .get(&key)
                            .ok_or_else(|| anyhow::anyhow!("no department {key:?}"))?,
                    ),
                    zone: None,
                    title: n.title.clone(),
                    body: n.body.clone(),
                    policy_field: n.policy_field.clone(),
                    desired_partner_kinds: Some(n.desired_partner_kinds.clone()),
                    visibility: Some("public".into()),
                    status: Some("open".into()),
                    open_until: None,
                },
            ),
        )?;
        need_db.insert(n.id.clone(), created.id.0);
    }
    let mut offer_ids: HashMap<i64, String> = HashMap::new();
    let mut partner_keys: HashMap<(String, String), String> = HashMap::new();
    for o in &offers_in {
        let pk = (o.partner.clone(), o.partner_kind.clone());
        if !partner_keys.contains_key(&pk) {
            let r = step(
                &o.id,
                partners::register(
                    &db,
                    RegisterPartner {
                        kind: o.partner_kind.clone(),
                        name: o.partner.clone(),
                        corporate_number: None,
                        contact_name: "評価用".into(),
                        contact_email: "eval@example.jp".into(),
                        phone: None,
                        website: None,
                        description: None,
                        regions: Some(o.regions.clone()),
                        locale: None,
                        key_label: None,
                    },
                ),
            )?;
            partner_keys.insert(pk.clone(), r.partner.id.0.to_string());
        }
        let partner_id = partner_keys
            .get(&pk)
            .ok_or_else(|| anyhow::anyhow!("no partner {pk:?}"))?;
        let partner = Actor::Partner(crate::domain::ids::PartnerId(partner_id.parse()?));
        let kind = match o.partner_kind.as_str() {
            "university" => "research",
            "npo" | "other" => "expertise",
            _ => "technology",
        };
        let created = step(
            &o.id,
            offers::create(
                &db,
                &partner,
                NewOfferInput {
                    kind: kind.into(),
                    title: o.title.clone(),
                    body: o.body.clone(),
                    policy_fields: o.policy_fields.clone(),
                    regions: Some(o.regions.clone()),
                },
            ),
        )?;
        offer_ids.insert(created.id.0, o.id.clone());
    }
    let indexed = step("indexing", follow::catch_up(&db, &engine))?;
    eprintln!(
        "loaded {} needs and {} offers; applied {indexed} index changes",
        needs_in.len(),
        offers_in.len()
    );

    // The set as the index sees it: documents read back from the database, ids
    // the database's, judgments translated to them.
    let mut set = EvalSet::default();
    let need_key: HashMap<i64, String> = need_db.iter().map(|(k, v)| (*v, k.clone())).collect();
    let offer_db: HashMap<String, i64> = offer_ids.iter().map(|(k, v)| (v.clone(), *k)).collect();
    for n in &needs_in {
        let id = *need_db
            .get(&n.id)
            .ok_or_else(|| anyhow::anyhow!("need {} was not loaded", n.id))?;
        let doc = step(
            &n.id,
            db.read(|c| {
                let row = storage::needs::find(c, id)?
                    .ok_or(crate::domain::error::AppError::NotFound("need"))?;
                documents::need(c, &row)
            }),
        )?;
        set.needs.push(doc);
        if let Some(judged) = qrels.get(&n.id) {
            let judged = judged
                .iter()
                .filter_map(|(o, g)| offer_db.get(o).map(|id| (*id, *g)))
                .collect();
            set.qrels.insert(id, judged);
        }
    }
    for (id, key) in &offer_ids {
        let doc = step(
            key,
            db.read(|c| {
                let row = storage::offers::find(c, *id)?
                    .ok_or(crate::domain::error::AppError::NotFound("offer"))?;
                documents::offer(c, &row)
            }),
        )?;
        set.offers.push(doc);
    }
    set.offers.sort_by_key(|d| d.id);
    set.need_keys = need_key;
    set.offer_keys = offer_ids.clone();

    let anyone = Actor::Anonymous;
    let started = std::time::Instant::now();
    let evaluation = search_index::eval::evaluate_matching(&engine.index, &set, |need| {
        // The shipped matcher exactly as the API runs it, as deep as the API allows
        // (50) so the adopted offer's rank is known beyond the first page.
        let hits = matches::offers_for_need(
            &db,
            &engine,
            &anyone,
            NeedId(need.id),
            MatchQuery { limit: Some(50) },
        )
        .map_err(|e| search_index::Error::Invalid(e.to_string()))?;
        let reasons = hits
            .first()
            .map(|h| h.explanation.matched_terms.clone())
            .unwrap_or_default();
        Ok((hits.iter().map(|h| h.offer.id.0).collect(), reasons))
    })?;
    print!("{}", evaluation.report(search_index::eval::FOLDS, true));
    eprintln!("evaluated in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `kyoso eval-retrieval DIR`: see the module comment. `limit` keeps the first
/// questions only (a quick look; the smoke test).
pub fn run_retrieval(settings: &Settings, dir: &Path, limit: Option<usize>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let analyzers = Analyzers::load(&settings.data_dir, &settings.ipadic_dir);
    eprintln!("{}", analyzers.status());
    let plain = search_index::analysis::dictionary::load_plain_segmenter(
        &settings.ipadic_dir,
        &settings.data_dir,
    )
    .map_err(|e| anyhow::anyhow!("IPADIC for the MeCab baseline: {e}"))?;
    let evaluation = search_index::eval::evaluate_retrieval(&analyzers, &plain, dir, limit)?;
    print!("{}", evaluation.report(search_index::eval::FOLDS, false));
    eprintln!(
        "{} questions evaluated in {:.1} s",
        evaluation.keys.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
