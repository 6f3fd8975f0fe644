//! `kyoso load-seed`: the load scenario's database. Seeds municipalities (departments,
//! zones, desk staff), partners, their offers, needs and proposals with events at a
//! realistic volume through the same domain functions the API calls (so every row is
//! what the service itself writes: receipt numbers, events, index changes, outbox mail),
//! rebuilds the search index, and writes what the load run needs into an output
//! directory: queries, need and offer ids, keys, and the need/offer documents as JSONL for
//! the Groonga peer.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::load_text::{self, Context, FIELDS, MUNICIPALITIES, Rng, ZONES};
use crate::config::Settings;
use crate::domain::Db;
use crate::domain::actor::{Actor, StaffActor};
use crate::domain::error::AppError;
use crate::domain::ids::{MunicipalityId, PartnerId, ProposalId};
use crate::domain::municipalities::{self, DepartmentInput, NewMunicipalityInput};
use crate::domain::needs::{self, NewNeedInput};
use crate::domain::offers::{self, NewOfferInput};
use crate::domain::partners::{self, RegisterPartner};
use crate::domain::proposals::intake::{self, Declarations, RecordProposal, SubmitProposal};
use crate::domain::proposals::workflow::{self, RouteInput};
use crate::domain::search::{SearchEngine, follow};
use crate::domain::staff::{self, NewStaffInput};
use crate::domain::vocab::Role;

/// How much to seed. [`Volume::full`] is the scenario; `scaled` multiplies it.
#[derive(Clone, Debug)]
pub struct Volume {
    pub municipalities: usize,
    /// Needs and offers together (45 % offers, as in the benchmark corpus).
    pub documents: usize,
    pub partners: usize,
    pub proposals: usize,
}

impl Volume {
    pub fn full() -> Self {
        Self {
            municipalities: 50,
            documents: 100_000,
            partners: 30_000,
            proposals: 200_000,
        }
    }

    /// The full volume times `scale` (at least 2 municipalities and 1 partner).
    pub fn scaled(scale: f64) -> Self {
        let f = Self::full();
        let s = |n: usize| ((n as f64) * scale.clamp(0.0, 100.0)).round() as usize;
        Self {
            municipalities: s(f.municipalities).clamp(2, MUNICIPALITIES.len()),
            documents: s(f.documents),
            partners: s(f.partners).max(1),
            proposals: s(f.proposals),
        }
    }
}

pub struct Options {
    pub volume: Volume,
    pub seed: u64,
    /// Writers in parallel (useful on PostgreSQL; SQLite has one writer anyway).
    pub jobs: usize,
    /// Where the load run's files go.
    pub out: PathBuf,
}

/// A proposal is routed to its department with this probability (a second event and,
/// as in life, the department's notice).
const ROUTED_SHARE: f64 = 0.4;
/// Proposals recorded by the desk (phone, visit, e-mail, event) rather than submitted.
const RECORDED_SHARE: f64 = 0.15;
const OFFER_SHARE: f64 = 0.45;

struct Municipality {
    id: MunicipalityId,
    code: &'static str,
    name: &'static str,
    desk: Actor,
    /// Department id per entry of `FIELDS`.
    departments: Vec<i64>,
}

struct Partner {
    id: PartnerId,
    kind: &'static str,
}

/// A need or offer as the Groonga peer loads it.
#[derive(serde::Serialize)]
struct DocLine<'a> {
    id: String,
    #[serde(rename = "type")]
    doc_type: &'a str,
    title: &'a str,
    body: &'a str,
    policy_field: &'a str,
    municipality: &'a str,
    zone: Option<&'a str>,
    partner_kind: Option<&'a str>,
    status: &'a str,
}

/// Prints `label done/total (rate/s)` on one stderr line, at most ~5 times a second.
struct Progress {
    label: String,
    total: usize,
    done: AtomicUsize,
    started: Instant,
    last: Mutex<Instant>,
}

impl Progress {
    fn new(label: &str, total: usize) -> Self {
        let p = Self {
            label: label.to_owned(),
            total,
            done: AtomicUsize::new(0),
            started: Instant::now(),
            last: Mutex::new(Instant::now()),
        };
        p.show(0);
        p
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !std::io::stderr().is_terminal() {
            // Into a log file: one line per tenth, not a bar redrawn 5 times a second.
            if (done * 10).checked_div(self.total) != ((done - 1) * 10).checked_div(self.total) {
                self.show(done);
                eprintln!();
            }
            return;
        }
        if let Ok(mut last) = self.last.try_lock()
            && (last.elapsed().as_millis() >= 200 || done == self.total)
        {
            *last = Instant::now();
            self.show(done);
        }
    }

    fn show(&self, done: usize) {
        let secs = self.started.elapsed().as_secs_f64();
        let width = 30;
        let filled = (done * width)
            .checked_div(self.total)
            .unwrap_or(width)
            .min(width);
        eprint!(
            "\r{:<28} [{}{}] {done}/{} ({:.0}/s)   ",
            self.label,
            "#".repeat(filled),
            ".".repeat(width - filled),
            self.total,
            done as f64 / secs.max(0.001)
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the line; returns the seconds taken.
    fn finish(&self) -> f64 {
        self.show(self.done.load(Ordering::Relaxed));
        eprintln!();
        self.started.elapsed().as_secs_f64()
    }
}

fn step<T>(what: &str, r: Result<T, AppError>) -> anyhow::Result<T> {
    r.map_err(|e| match e {
        AppError::Invalid(errors) => anyhow::anyhow!("load-seed, {what}: {errors:?}"),
        e => anyhow::anyhow!("load-seed, {what}: {e}"),
    })
}

/// Runs `f(i)` for i in 0..total on `jobs` threads, stopping at the first error.
fn parallel<T: Send>(
    jobs: usize,
    total: usize,
    progress: &Progress,
    f: impl Fn(usize) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(None::<anyhow::Error>);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    match f(i) {
                        Ok(v) => mine.push((i, v)),
                        Err(e) => {
                            if let Ok(mut f) = failed.lock() {
                                f.get_or_insert(e);
                            }
                            break;
                        }
                    }
                    progress.tick();
                }
                if let Ok(mut r) = results.lock() {
                    r.extend(mine);
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a writer thread panicked"))?;
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, v)| v).collect())
}

/// What was seeded and how long each part took (seconds).
pub struct SeedReport {
    pub parts: Vec<(String, usize, f64)>,
}

impl SeedReport {
    pub fn table(&self) -> String {
        let mut s = String::from("part\tcount\tseconds\tper second\n");
        for (what, n, secs) in &self.parts {
            s.push_str(&format!(
                "{what}\t{n}\t{secs:.1}\t{:.0}\n",
                *n as f64 / secs.max(0.001)
            ));
        }
        s
    }
}

/// A fresh RNG per item: the text of item `i` of a kind does not depend on the number of
/// writer threads.
fn item_rng(seed: u64, kind: u64, i: usize) -> Rng {
    let mut r = Rng::new(
        seed.wrapping_mul(0x0100_0000_01B3)
            .wrapping_add(kind << 40)
            .wrapping_add(i as u64),
    );
    r.next_u64();
    r
}

/// `kyoso load-seed`: seeds, then rebuilds the index under the data directory.
pub fn run(settings: &Settings, db: &Db, o: &Options) -> anyhow::Result<SeedReport> {
    let engine = SearchEngine::open(&settings.data_dir, &settings.ipadic_dir)?;
    eprintln!("{}", engine.analyzers.status());
    run_with(db, &engine, o)
}

/// Seeds `db` (which must hold no municipality, partner or staff account), rebuilds
/// `engine` from it with the rebuild `kyoso reindex` runs, and writes the run's files.
pub fn run_with(db: &Db, engine: &SearchEngine, o: &Options) -> anyhow::Result<SeedReport> {
    let (m, p, s) = step("check", crate::domain::demo_records::foreign_records(db))?;
    if m + p + s > 0 {
        anyhow::bail!(
            "load-seed needs an empty database (this one holds {m} municipalities, {p} partners, \
             {s} staff accounts); use a fresh data directory or database"
        );
    }
    std::fs::create_dir_all(&o.out)?;
    let v = &o.volume;
    let jobs = if db.is_sqlite() { 1 } else { o.jobs.max(1) };
    let mut report = SeedReport { parts: vec![] };
    let mut keys: Vec<(String, String)> = vec![];

    // The deployment operator creates the municipalities and publishes needs for them.
    let operator = step(
        "operator",
        staff::create_with_key(
            db,
            NewStaffInput {
                email: "operator@load.kyoso.example.jp".into(),
                display_name: "負荷試験 運用管理者".into(),
                role: "admin".into(),
                municipality_code: None,
                department_id: None,
                locale: None,
            },
        ),
    )?;
    keys.push(("ADMIN_KEY".into(), operator.api_key.key.clone()));
    let admin = Actor::Staff(StaffActor {
        id: operator.staff.id,
        role: Role::Admin,
        municipality: None,
        department: None,
    });

    let progress = Progress::new("municipalities 自治体", v.municipalities);
    let mut munis: Vec<Municipality> = vec![];
    for (i, &(code, name)) in MUNICIPALITIES.iter().take(v.municipalities).enumerate() {
        let view = step(
            name,
            municipalities::create(
                db,
                &admin,
                NewMunicipalityInput {
                    code: code.into(),
                    name: name.into(),
                    prefecture: load_text::prefecture(code).into(),
                    first_response_days: Some(10),
                    decision_days: Some(40),
                    zones: ZONES.iter().map(|z| (*z).to_owned()).collect(),
                },
            ),
        )?;
        let desk_dept = step(
            name,
            municipalities::create_department(
                db,
                &admin,
                code,
                DepartmentInput {
                    name: "共創推進課".into(),
                    email: None,
                    policy_fields: vec![],
                    is_desk: true,
                },
            ),
        )?;
        let mut departments = vec![];
        for f in FIELDS {
            let d = step(
                f.department,
                municipalities::create_department(
                    db,
                    &admin,
                    code,
                    DepartmentInput {
                        name: f.department.into(),
                        email: None,
                        policy_fields: vec![f.code.into()],
                        is_desk: false,
                    },
                ),
            )?;
            departments.push(d.id.0);
        }
        let desk = step(
            name,
            staff::create_with_key(
                db,
                NewStaffInput {
                    email: format!("desk{i}@load.kyoso.example.jp"),
                    display_name: format!("{name} 共創窓口"),
                    role: "desk".into(),
                    municipality_code: Some(code.into()),
                    department_id: Some(desk_dept.id.0),
                    locale: None,
                },
            ),
        )?;
        if i == 0 {
            keys.push(("DESK_KEY".into(), desk.api_key.key.clone()));
            keys.push(("MUNICIPALITY".into(), code.into()));
        }
        munis.push(Municipality {
            id: view.id,
            code,
            name,
            desk: Actor::Staff(StaffActor {
                id: desk.staff.id,
                role: Role::Desk,
                municipality: Some(view.id),
                department: desk.staff.department_id,
            }),
            departments,
        });
        progress.tick();
    }
    report
        .parts
        .push(("municipalities".into(), munis.len(), progress.finish()));

    // Partners register as through the API (the e-mail stays unconfirmed, as most do).
    let progress = Progress::new("partners 事業者", v.partners);
    let partner_keys = Mutex::new(Vec::<String>::new());
    let partners: Vec<Partner> = parallel(jobs, v.partners, &progress, |i| {
        let mut rng = item_rng(o.seed, 1, i);
        let (kind, name) = load_text::organisation(&mut rng, i);
        let regions = if rng.chance(0.5) {
            rng.pick(&munis).map(|m| vec![m.code.to_owned()])
        } else {
            None
        };
        let r = step(
            "partner",
            partners::register(
                db,
                RegisterPartner {
                    kind: kind.into(),
                    name,
                    corporate_number: None,
                    contact_name: load_text::person(&mut rng),
                    contact_email: format!("partner{i}@load.kyoso.example.jp"),
                    phone: None,
                    website: None,
                    description: Some(
                        "地域課題の解決に向けて、自治体との共創に取り組んでいます。".into(),
                    ),
                    regions,
                    locale: None,
                    key_label: None,
                },
            ),
        )?;
        if i < 16
            && let Ok(mut k) = partner_keys.lock()
        {
            k.push(r.api_key.key.clone());
        }
        Ok(Partner {
            id: r.partner.id,
            kind,
        })
    })?;
    report
        .parts
        .push(("partners".into(), partners.len(), progress.finish()));
    let partner_keys = partner_keys.into_inner().unwrap_or_default();
    if let Some(k) = partner_keys.first() {
        keys.push(("PARTNER_KEY".into(), k.clone()));
    }

    // Needs and offers, interleaved as the corpus is.
    let docs = Mutex::new(Vec::<String>::with_capacity(v.documents));
    let progress = Progress::new("needs+offers ニーズ・シーズ", v.documents);
    // (is_offer, id, municipality index, open public need)
    let made: Vec<(bool, i64, usize, bool)> = parallel(jobs, v.documents, &progress, |i| {
        let mut rng = item_rng(o.seed, 2, i);
        let field = load_text::pick_field(&mut rng);
        let mi = rng.below(munis.len());
        let muni = munis
            .get(mi)
            .ok_or_else(|| anyhow::anyhow!("no municipality"))?;
        let zone = rng.pick(ZONES).copied().unwrap_or("中部地区");
        let c = Context {
            field,
            municipality: muni.name,
            zone,
        };
        if rng.chance(OFFER_SHARE) && !partners.is_empty() {
            let partner = partners
                .get(rng.below(partners.len()))
                .ok_or_else(|| anyhow::anyhow!("no partner"))?;
            let (title, body) = load_text::offer(&mut rng, &c);
            let kind = match partner.kind {
                "university" => "research",
                "npo" | "other" => "expertise",
                _ => "technology",
            };
            let regions = rng.chance(0.6).then(|| vec![muni.code.to_owned()]);
            let created = step(
                "offer",
                offers::create(
                    db,
                    &Actor::Partner(partner.id),
                    NewOfferInput {
                        kind: kind.into(),
                        title: title.clone(),
                        body: body.clone(),
                        policy_fields: vec![field.code.into()],
                        regions: regions.clone(),
                    },
                ),
            )?;
            let line = DocLine {
                id: format!("offer:{}", created.id.0),
                doc_type: "offer",
                title: &title,
                body: &body,
                policy_field: field.code,
                municipality: regions.as_ref().map_or("nationwide", |_| muni.code),
                zone: None,
                partner_kind: Some(partner.kind),
                status: "active",
            };
            if let Ok(mut d) = docs.lock() {
                d.push(serde_json::to_string(&line)?);
            }
            Ok((true, created.id.0, mi, false))
        } else {
            let (title, body) = load_text::need(&mut rng, &c);
            let department = field_department(muni, field.code);
            let open = !rng.chance(0.08);
            let public = !rng.chance(0.05);
            let open_until = rng.chance(0.5).then(|| {
                crate::domain::proposals::local_date(crate::domain::now())
                    + chrono::TimeDelta::days(30 + rng.below(300) as i64)
            });
            let created = step(
                "need",
                needs::create(
                    db,
                    &admin,
                    NewNeedInput {
                        municipality_code: Some(muni.code.into()),
                        department_id: department,
                        zone: rng.chance(0.6).then(|| zone.to_owned()),
                        title: title.clone(),
                        body: body.clone(),
                        policy_field: field.code.into(),
                        desired_partner_kinds: None,
                        visibility: Some(if public { "public" } else { "internal" }.into()),
                        status: Some(if open { "open" } else { "draft" }.into()),
                        open_until,
                    },
                ),
            )?;
            let status = if open { "open" } else { "draft" };
            let line = DocLine {
                id: format!("need:{}", created.id.0),
                doc_type: "need",
                title: &title,
                body: &body,
                policy_field: field.code,
                municipality: muni.code,
                zone: created.zone.as_deref(),
                partner_kind: None,
                status,
            };
            // Only what a partner can find goes to the peer: kyoso's search answers a
            // partner with public needs that are not drafts.
            if open
                && public
                && let Ok(mut d) = docs.lock()
            {
                d.push(serde_json::to_string(&line)?);
            }
            Ok((false, created.id.0, mi, open && public))
        }
    })?;
    let secs = progress.finish();
    let offers_n = made.iter().filter(|m| m.0).count();
    report
        .parts
        .push(("needs".into(), made.len() - offers_n, secs));
    report.parts.push(("offers".into(), offers_n, secs));
    let open_needs: Vec<(i64, usize)> = made
        .iter()
        .filter(|m| !m.0 && m.3)
        .map(|m| (m.1, m.2))
        .collect();
    let offer_ids: Vec<i64> = made.iter().filter(|m| m.0).map(|m| m.1).collect();

    // Proposals: most from partners through intake, some recorded by the desk; a share
    // routed to the department of their field.
    let progress = Progress::new("proposals 提案", v.proposals);
    let routed = AtomicUsize::new(0);
    let proposal_ids: Vec<ProposalId> = parallel(jobs, v.proposals, &progress, |i| {
        let mut rng = item_rng(o.seed, 3, i);
        let field = load_text::pick_field(&mut rng);
        let answer = (rng.chance(0.6) && !open_needs.is_empty())
            .then(|| open_needs.get(rng.below(open_needs.len())))
            .flatten();
        let mi = answer.map_or_else(|| rng.below(munis.len()), |n| n.1);
        let muni = munis
            .get(mi)
            .ok_or_else(|| anyhow::anyhow!("no municipality"))?;
        let c = Context {
            field,
            municipality: muni.name,
            zone: rng.pick(ZONES).copied().unwrap_or("中部地区"),
        };
        let (title, body) = load_text::proposal(&mut rng, &c);
        let partner = partners.get(rng.below(partners.len()));
        let view = match partner {
            Some(p) if !rng.chance(RECORDED_SHARE) => {
                step(
                    "proposal",
                    intake::submit(
                        db,
                        &Actor::Partner(p.id),
                        SubmitProposal {
                            municipality_code: Some(muni.code.into()),
                            need_id: answer.map(|n| n.0),
                            offer_id: None,
                            title,
                            body,
                            policy_field: Some(field.code.into()),
                            declarations: Declarations {
                                no_antisocial_forces: true,
                                consent_to_contact: true,
                                consent_to_publish: rng.chance(0.5),
                            },
                        },
                        None,
                    ),
                )?
                .proposal
            }
            _ => {
                let channel = rng
                    .pick(&["phone", "visit", "email", "event"])
                    .copied()
                    .unwrap_or("phone");
                step(
                    "recorded proposal",
                    intake::record(
                        db,
                        &muni.desk,
                        RecordProposal {
                            channel: channel.into(),
                            submitter_name: load_text::person(&mut rng),
                            submitter_org: Some(format!("{}自治会", c.zone)),
                            submitter_email: None,
                            submitter_phone: Some("045-000-0000".into()),
                            partner_id: None,
                            need_id: answer.map(|n| n.0),
                            offer_id: None,
                            title,
                            body,
                            policy_field: Some(field.code.into()),
                            received_at: None,
                            municipality_code: None,
                            declarations: Declarations::default(),
                        },
                    ),
                )?
            }
        };
        if rng.chance(ROUTED_SHARE)
            && let Some(dept) = field_department(muni, field.code)
        {
            step(
                "route",
                workflow::route(
                    db,
                    &muni.desk,
                    view.id,
                    RouteInput {
                        primary_department_id: dept,
                        other_department_ids: vec![],
                        note: Some(format!("{}の所管として回付します。", c.field.department)),
                    },
                ),
            )?;
            routed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(view.id)
    })?;
    report.parts.push((
        format!(
            "proposals ({} routed, {jobs} writer(s))",
            routed.load(Ordering::Relaxed)
        ),
        proposal_ids.len(),
        progress.finish(),
    ));

    // The search index, through the same rebuild `kyoso reindex` runs.
    let progress = Progress::new("search index 索引", 0);
    let indexed = follow::rebuild(db, engine, |done, total| {
        if let Ok(mut last) = progress.last.try_lock()
            && last.elapsed().as_millis() >= 200
        {
            *last = Instant::now();
            eprint!("\rsearch index 索引 {done}/{total}   ");
            let _ = std::io::stderr().flush();
        }
    })
    .map_err(|e| anyhow::anyhow!("rebuilding the search index: {e}"))?;
    progress.done.store(indexed as usize, Ordering::Relaxed);
    eprintln!();
    report.parts.push((
        "search index rebuild (needs, offers, proposals)".into(),
        indexed as usize,
        progress.started.elapsed().as_secs_f64(),
    ));

    write_outputs(
        &o.out,
        o.seed,
        &keys,
        &partner_keys,
        &open_needs,
        &offer_ids,
        &munis,
        docs.into_inner().unwrap_or_default(),
    )?;
    Ok(report)
}

fn field_department(m: &Municipality, field: &str) -> Option<i64> {
    FIELDS
        .iter()
        .position(|f| f.code == field)
        .and_then(|i| m.departments.get(i).copied())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each file its input"
)]
fn write_outputs(
    out: &Path,
    seed: u64,
    keys: &[(String, String)],
    partner_keys: &[String],
    open_needs: &[(i64, usize)],
    offer_ids: &[i64],
    munis: &[Municipality],
    docs: Vec<String>,
) -> anyhow::Result<()> {
    let mut env = String::from(
        "# Written by `kyoso load-seed`: the keys and ids the load run uses (secrets: keep local).\n",
    );
    for (k, v) in keys {
        env.push_str(&format!("{k}={v}\n"));
    }
    env.push_str(&format!(
        "MUNICIPALITY_ID={}\n",
        munis.first().map_or(0, |m| m.id.0)
    ));
    write_private(&out.join("load.env"), &env)?;
    write_private(&out.join("partner_keys.txt"), &lines(partner_keys))?;
    // The first municipality's open needs first: the desk's inbox and matches then
    // concern the records the desk key can see.
    let needs: Vec<String> = open_needs.iter().map(|n| n.0.to_string()).collect();
    std::fs::write(out.join("need_ids.txt"), lines(&needs))?;
    let offers: Vec<String> = offer_ids.iter().map(|n| n.to_string()).collect();
    std::fs::write(out.join("offer_ids.txt"), lines(&offers))?;
    let mut rng = Rng::new(seed ^ 0x5157);
    std::fs::write(
        out.join("queries.txt"),
        lines(&load_text::queries(&mut rng, 1000)),
    )?;
    std::fs::write(out.join("docs.jsonl"), lines(&docs))?;
    Ok(())
}

fn lines(items: &[String]) -> String {
    let mut s = items.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// Keys are secrets: readable by the owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
