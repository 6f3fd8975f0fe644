//! `kyoso bench-index`, `bench-query` and `bench-match`: kyoso's own analysis, index and
//! query code on the benchmark harness's documents and line protocol, so it can be
//! compared side by side with other engines (see the README's benchmark section).

use std::path::Path;

use search_index::Analyzers;

use crate::config::Settings;

fn analyzers(settings: &Settings) -> Analyzers {
    let a = Analyzers::load(&settings.data_dir, &settings.ipadic_dir);
    eprintln!("{}", a.status());
    a
}

pub fn index(settings: &Settings, docs: &Path, index_dir: &Path) -> anyhow::Result<()> {
    let report = search_index::bench::bench_index(docs, index_dir, &analyzers(settings))?;
    eprintln!("{report:?}");
    Ok(())
}

pub fn query(settings: &Settings, index_dir: &Path) -> anyhow::Result<()> {
    let a = analyzers(settings);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    search_index::bench::bench_query(index_dir, &a, stdin.lock(), stdout.lock())?;
    Ok(())
}

pub fn matching(
    settings: &Settings,
    docs: &Path,
    index_dir: &Path,
    count: usize,
) -> anyhow::Result<()> {
    let report = search_index::bench::bench_match(docs, index_dir, &analyzers(settings), count)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// `kyoso bench-digest`: queues `items` daily-digest notices for each of `recipients`
/// recipients in a fresh temporary SQLite database, then times one daily digest run that
/// composes and queues their digests.
pub fn digest(recipients: usize, items: usize) -> anyhow::Result<()> {
    use crate::domain::notifications::digest::{self, Period};
    use crate::domain::vocab::Locale;
    use crate::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
    use crate::mail::templates;
    use crate::storage::connection::DatabaseTarget;
    use crate::storage::{Db, now};

    let tmp = std::env::temp_dir().join(format!("kyoso-bench-digest-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let db = Db::open(DatabaseTarget::Sqlite(tmp.join("bench.sqlite3")), 2)?;
    db.migrate()?;
    let queued = std::time::Instant::now();
    for chunk in (0..recipients).collect::<Vec<_>>().chunks(1000) {
        db.write(|conn| -> crate::domain::error::AppResult<_> {
            for r in chunk {
                let email = format!("partner{r}@example.jp");
                for i in 0..items {
                    let message = templates::render(
                        templates::Template::MatchAlert,
                        Locale::Ja,
                        &[
                            ("recipient_name", "担当者"),
                            ("title", &format!("課題 {i}: 公共施設の省エネルギー化")),
                            ("other", "課題"),
                            ("source_title", "省エネ診断"),
                            ("owner", "横浜市"),
                            ("terms", "省エネ、照明、空調"),
                            ("link", "http://127.0.0.1:8080/api/v1/needs/1"),
                        ],
                    );
                    outbox::enqueue(
                        conn,
                        &Outgoing {
                            dedupe_key: format!("bench:{r}:{i}"),
                            kind: templates::Template::MatchAlert,
                            recipient: RecipientRef::Partner(*r as i64 + 1),
                            recipient_email: &email,
                            recipient_name: Some("担当者"),
                            locale: Locale::Ja,
                            delivery: Delivery::Daily,
                            message,
                        },
                    )?;
                }
            }
            Ok(())
        })?;
    }
    let queue_s = queued.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let report = digest::run(&db, Period::Daily, now())?;
    let run_s = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "{}",
        serde_json::json!({
            "recipients": recipients,
            "items_per_recipient": items,
            "digests": report.digests,
            "items": report.items,
            "queue_seconds": (queue_s * 100.0).round() / 100.0,
            "digest_seconds": (run_s * 100.0).round() / 100.0,
            "digests_per_second": (report.digests as f64 / run_s).round(),
            "peak_rss_mib": peak_rss_mib().map(|m| m.round()),
        })
    );
    Ok(())
}
