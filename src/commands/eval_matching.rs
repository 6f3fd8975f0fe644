//! `kyoso eval-matching DIR`: loads a relevance set (needs.jsonl, offers.jsonl,
//! qrels.tsv; format in the shared data README) into a fresh temporary instance through
//! the same domain code the API uses — municipalities, departments, partners, offers and
//! needs are created as they would be by people — indexes it by following the change
//! log, matches every judged need to offers with the API's matching function, and prints
//! per-need results and, last, one JSON line with recall@10, MRR@10 and nDCG@10, beside
//! a plain bigram BM25 baseline on the same index.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use search_index::Analyzers;

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

const K: usize = 10;

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

/// Scores of one system over the judged needs.
#[derive(Default)]
struct Scores {
    needs: usize,
    recall: f64,
    mrr: f64,
    ndcg: f64,
}

impl Scores {
    /// Adds one need's ranking; returns (recall, reciprocal rank, ndcg) for it.
    fn add(&mut self, ranked: &[String], judged: &BTreeMap<String, u32>) -> (f64, f64, f64) {
        let ranked = ranked.get(..K).unwrap_or(ranked);
        let relevant = judged.values().filter(|g| **g > 0).count().max(1);
        let grade = |id: &String| judged.get(id).copied().unwrap_or(0);
        let recall = ranked.iter().filter(|id| grade(id) > 0).count() as f64 / relevant as f64;
        let rr = ranked
            .iter()
            .position(|id| grade(id) > 0)
            .map_or(0.0, |p| 1.0 / (p as f64 + 1.0));
        let gain = |g: u32| 2f64.powi(g as i32) - 1.0;
        let dcg: f64 = ranked
            .iter()
            .enumerate()
            .map(|(i, id)| gain(grade(id)) / (i as f64 + 2.0).log2())
            .sum();
        let mut ideal: Vec<u32> = judged.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(K)
            .enumerate()
            .map(|(i, g)| gain(*g) / (i as f64 + 2.0).log2())
            .sum();
        let ndcg = if idcg > 0.0 { dcg / idcg } else { 0.0 };
        self.needs += 1;
        self.recall += recall;
        self.mrr += rr;
        self.ndcg += ndcg;
        (recall, rr, ndcg)
    }

    fn json(&self) -> serde_json::Value {
        let n = self.needs.max(1) as f64;
        let r = |v: f64| (v / n * 10_000.0).round() / 10_000.0;
        serde_json::json!({"needs": self.needs, "recall_at_10": r(self.recall), "mrr_at_10": r(self.mrr), "ndcg_at_10": r(self.ndcg)})
    }
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

    let (mut ours, mut baseline) = (Scores::default(), Scores::default());
    let anyone = Actor::Anonymous;
    for n in &needs_in {
        let Some(judged) = qrels.get(&n.id).filter(|j| j.values().any(|g| *g > 0)) else {
            continue;
        };
        let id = *need_db
            .get(&n.id)
            .ok_or_else(|| anyhow::anyhow!("need {} was not loaded", n.id))?;
        let hits = step(
            &n.id,
            matches::offers_for_need(
                &db,
                &engine,
                &anyone,
                NeedId(id),
                MatchQuery { limit: Some(K) },
            ),
        )?;
        let ranked: Vec<String> = hits
            .iter()
            .filter_map(|h| offer_ids.get(&h.offer.id.0).cloned())
            .collect();
        let (recall, rr, ndcg) = ours.add(&ranked, judged);
        let doc = step(
            &n.id,
            db.read(|c| {
                let row = storage::needs::find(c, id)?
                    .ok_or(crate::domain::error::AppError::NotFound("need"))?;
                documents::need(c, &row)
            }),
        )?;
        let base: Vec<String> = search_index::eval::bigram_baseline(&engine.index, &doc, K)?
            .into_iter()
            .filter_map(|i| offer_ids.get(&i).cloned())
            .collect();
        baseline.add(&base, judged);
        let first = hits
            .first()
            .map(|h| {
                h.explanation
                    .matched_terms
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        println!(
            "{}\trecall@10={recall:.2}\trr={rr:.2}\tndcg@10={ndcg:.3}\ttop={}\tterms={first}",
            n.id,
            ranked.first().map(String::as_str).unwrap_or("-")
        );
    }
    println!("baseline (bigram BM25): {}", baseline.json());
    println!("{}", ours.json());
    Ok(())
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
