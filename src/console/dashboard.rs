//! The desk's dashboard (`domain::desk::stats::compute`): intake by month and channel,
//! time to routing and to first response, the share answered within target, adoption
//! by policy field and department — as bar charts drawn on the server in SVG, each with
//! its numbers in a table beside it — and the same figures as CSV
//! (`domain::desk::stats::to_csv`).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::layout::{self, Nav, blank};
use super::session::ConsoleUser;
use super::{ConsoleResult, run};
use crate::domain::desk::stats::{self, Adoption, Count, DeskStats, StatsQuery};
use crate::domain::error::AppError;
use crate::domain::vocab::{Channel, PolicyField};
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct DashQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub m: Option<String>,
}

fn query(u: &ConsoleUser, q: &DashQuery) -> Result<StatsQuery, AppError> {
    let date = |v: &Option<String>, name: &'static str| -> Result<Option<NaiveDate>, AppError> {
        blank(v)
            .map(|d| d.parse())
            .transpose()
            .map_err(|_| AppError::field(name, "format", "YYYY-MM-DD"))
    };
    Ok(StatsQuery {
        from: date(&q.from, "from")?,
        to: date(&q.to, "to")?,
        municipality: if u.is_deployment_admin() {
            blank(&q.m)
        } else {
            None
        },
        format: None,
    })
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<DashQuery>,
) -> ConsoleResult<HttpResponse> {
    let q = q.into_inner();
    let lang = u.lang;
    if u.is_deployment_admin() && blank(&q.m).is_none() {
        return super::choose_municipality(
            &state,
            &u,
            Nav::Dashboard,
            lang.t("集計", "Dashboard"),
            "/admin/dashboard",
        )
        .await;
    }
    let sq = query(&u, &q).map_err(|e| u.err(e))?;
    let actor = u.actor();
    let s = run(&state, lang, move |db| stats::compute(db, &actor, &sq)).await?;
    Ok(render(&u, &q, &s))
}

pub async fn csv(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<DashQuery>,
) -> ConsoleResult<HttpResponse> {
    let sq = query(&u, &q).map_err(|e| u.err(e))?;
    let actor = u.actor();
    let s = run(&state, u.lang, move |db| stats::compute(db, &actor, &sq)).await?;
    let name = format!(
        "kyoso-stats-{}-{}-{}.csv",
        s.municipality_code, s.from, s.to
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(stats::to_csv(&s)))
}

/// Label column of a chart, in pixels, and the label's font size.
const LABEL_W: f64 = 150.0;
const FONT: f64 = 13.0;
/// One line of a label, in pixels.
const LINE: f64 = 16.0;
/// A label line may be this wide, in ems of the font: the label column less a gap.
const LABEL_EMS: f64 = (LABEL_W - 8.0) / FONT;

/// How wide a character is drawn, in ems: CJK and full-width forms fill the em square,
/// Latin letters and digits about six tenths of it (a slight overestimate for most
/// fonts, so that a line never runs into the bar).
fn char_ems(c: char) -> f64 {
    if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) {
        0.62
    } else {
        1.0
    }
}

fn ems(s: &str) -> f64 {
    s.chars().map(char_ems).sum()
}

/// Characters a line should not start with (行頭禁則): they hang at the end of the
/// previous line instead.
fn closes(c: char) -> bool {
    matches!(
        c,
        '・' | '、' | '。' | '，' | '．' | '）' | '」' | '』' | '】' | ')' | ',' | '.' | '：' | ':'
    )
}

/// Where a line may end after `c` rather than anywhere: a separator of the parts of a
/// name (行政経営・DX・市民自治, こども未来局 子育て支援課).
fn separates(c: char) -> bool {
    matches!(c, '・' | '、' | '　' | ' ' | '／' | '/' | '）' | ')')
}

/// Where a line may end before `c`: an opening bracket starts the next line.
fn opens(c: char) -> bool {
    matches!(c, '（' | '(' | '「' | '【')
}

/// Breaks a chart label into lines of at most `max` ems, so that the whole label is
/// drawn however long it is. Latin words are kept whole (unless longer than a line);
/// Japanese may break between any two characters but prefers the separators of the
/// name's parts (or a line break before a bracket) when one falls in the line's second
/// half. Spaces at a break are dropped.
fn wrap_label(label: &str, max: f64) -> Vec<String> {
    // Units that are never split: a run of Latin letters or digits, or one character.
    let mut units: Vec<String> = vec![];
    for c in label.trim().chars() {
        let joins = c.is_ascii_alphanumeric()
            && units
                .last()
                .and_then(|u| u.chars().last())
                .is_some_and(|p| p.is_ascii_alphanumeric());
        match units.last_mut() {
            Some(u) if joins && ems(u) + char_ems(c) <= max => u.push(c),
            _ => units.push(c.to_string()),
        }
    }
    let mut lines: Vec<String> = vec![];
    let mut line = String::new();
    for u in units {
        let first = u.chars().next().unwrap_or(' ');
        if line.is_empty() && first.is_whitespace() {
            continue;
        }
        if line.is_empty()
            || ems(&line) + ems(&u) <= max
            || (u.chars().count() == 1 && closes(first))
        {
            line.push_str(&u);
            continue;
        }
        // Full at a space: the line ends here.
        if first.is_whitespace() {
            lines.push(std::mem::take(&mut line).trim_end().to_owned());
            continue;
        }
        // Full within a word: end the line at the last separator in its second half, if any.
        let cut = line
            .char_indices()
            .filter_map(|(i, c)| {
                if separates(c) {
                    Some(i + c.len_utf8())
                } else if opens(c) {
                    Some(i)
                } else {
                    None
                }
            })
            .rfind(|i| ems(line.get(..*i).unwrap_or("")) >= max / 2.0);
        let rest = match cut {
            Some(i) if i < line.len() => line.split_off(i),
            _ => String::new(),
        };
        lines.push(line.trim_end().to_owned());
        line = rest.trim_start().to_owned();
        if !(line.is_empty() && first.is_whitespace()) {
            line.push_str(&u);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// One bar: its label, its length (0..=max) and the number printed beside it.
struct Bar {
    label: String,
    value: f64,
    shown: String,
}

/// A horizontal bar chart in SVG, announced as one image with a title and a summary;
/// the same numbers follow in a table for reading and copying. A long label wraps
/// onto several lines (its row grows), never cut off.
fn chart(id: &str, title: &str, desc: &str, bars: &[Bar], max: f64, lang: Lang) -> Markup {
    const PAD: f64 = 7.0;
    const BAR_H: f64 = 20.0;
    const BAR_W: f64 = 190.0;
    // Each row: its label's lines, its top and its height (tall enough for the lines).
    let mut top = 5.0;
    let rows: Vec<(Vec<String>, f64, f64)> = bars
        .iter()
        .map(|b| {
            let lines = wrap_label(&b.label, LABEL_EMS);
            let h = (lines.len().max(1) as f64 * LINE).max(BAR_H) + 2.0 * PAD;
            let y = top;
            top += h;
            (lines, y, h)
        })
        .collect();
    let height = if bars.is_empty() { 40.0 } else { top + 5.0 };
    let width = LABEL_W + BAR_W + 60.0;
    let max = if max > 0.0 { max } else { 1.0 };
    let summary = bars
        .iter()
        .map(|b| format!("{} {}", b.label, b.shown))
        .collect::<Vec<_>>()
        .join(lang.t("、", ", "));
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" role="img" width=(width) height=(height)
                viewBox=(format!("0 0 {width} {height}")) aria-labelledby=(format!("{id}-t {id}-d")) {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) { (desc) " " (summary) }
                @for (b, (lines, y, h)) in bars.iter().zip(&rows) {
                    @let mid = y + h / 2.0;
                    @let first = mid - (lines.len() as f64 - 1.0) * LINE / 2.0 + FONT * 0.35;
                    @let w = (b.value / max * BAR_W).max(if b.value > 0.0 { 2.0 } else { 0.0 });
                    text.label x=(LABEL_W - 8.0) y=(format!("{first:.1}")) text-anchor="end" font-size=(FONT) fill="#1b1b1b" {
                        @for (i, l) in lines.iter().enumerate() {
                            tspan x=(LABEL_W - 8.0) dy=(if i == 0 { "0".to_owned() } else { LINE.to_string() }) { (l) }
                        }
                    }
                    rect x=(LABEL_W) y=(format!("{:.1}", mid - BAR_H / 2.0)) width=(format!("{w:.1}")) height=(BAR_H) fill="#003a70" {}
                    text x=(LABEL_W + w + 6.0) y=(format!("{:.1}", mid + FONT * 0.35)) font-size=(FONT) fill="#1b1b1b" { (b.shown) }
                }
                @if bars.is_empty() {
                    text x="10" y="24" font-size=(FONT) fill="#505a5f" { (lang.t("データがありません", "No data")) }
                }
            }
        }
    }
}

fn count_label(lang: Lang, c: &Count) -> String {
    if let Some(ch) = Channel::parse(&c.key) {
        return lang.channel(ch).to_owned();
    }
    if let Some(f) = PolicyField::parse(&c.key) {
        return lang.field(f).to_owned();
    }
    if let Some(l) = own_label(lang, &c.key) {
        return l.to_owned();
    }
    c.label.clone()
}

/// The label of a grouping key the statistics name themselves (no field, no
/// department, everything), in the page's language; `None` for a key that is data.
fn own_label(lang: Lang, key: &str) -> Option<&'static str> {
    Some(match key {
        "none" => lang.t("分野未設定", "No policy field"),
        "unassigned" => lang.t("所管未定", "Unassigned"),
        "all" => lang.t("全体", "All"),
        _ => return None,
    })
}

fn adoption_label(lang: Lang, a: &Adoption) -> String {
    if let Some(l) = own_label(lang, &a.key) {
        return l.to_owned();
    }
    match PolicyField::parse(&a.key) {
        Some(f) => lang.field(f).to_owned(),
        None => a.label.clone(),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn count_block(id: &str, title: &str, desc: &str, counts: &[Count], lang: Lang) -> Markup {
    let bars: Vec<Bar> = counts
        .iter()
        .map(|c| Bar {
            label: count_label(lang, c),
            value: c.count as f64,
            shown: c.count.to_string(),
        })
        .collect();
    let max = counts.iter().map(|c| c.count).max().unwrap_or(0) as f64;
    html! {
        section aria-labelledby=(format!("{id}-h")) {
            h2 id=(format!("{id}-h")) { (title) }
            (chart(id, title, desc, &bars, max, lang))
            div.table-wrap { table {
                caption { (title) (lang.t("（表）", " (table)")) }
                thead { tr { th scope="col" { (lang.t("区分", "Item")) } th.num scope="col" { (lang.t("件数", "Count")) } } }
                tbody { @for c in counts { tr { th scope="row" { (count_label(lang, c)) } td.num { (c.count) } } } }
            } }
        }
    }
}

fn adoption_block(id: &str, title: &str, rows: &[Adoption], lang: Lang) -> Markup {
    let bars: Vec<Bar> = rows
        .iter()
        .map(|a| Bar {
            label: adoption_label(lang, a),
            value: a.rate.unwrap_or(0.0),
            shown: pct(a.rate),
        })
        .collect();
    html! {
        section aria-labelledby=(format!("{id}-h")) {
            h2 id=(format!("{id}-h")) { (title) }
            (chart(id, title, lang.t("採択率（採択 ÷（採択＋見送り））", "Adoption rate (adopted ÷ (adopted + declined))"), &bars, 1.0, lang))
            div.table-wrap { table {
                caption { (title) (lang.t("（表）", " (table)")) }
                thead { tr {
                    th scope="col" { (lang.t("区分", "Item")) }
                    th.num scope="col" { (lang.t("採択", "Adopted")) }
                    th.num scope="col" { (lang.t("見送り", "Declined")) }
                    th.num scope="col" { (lang.t("取り下げ", "Withdrawn")) }
                    th.num scope="col" { (lang.t("採択率", "Rate")) }
                } }
                tbody { @for a in rows { tr {
                    th scope="row" { (adoption_label(lang, a)) }
                    td.num { (a.adopted) } td.num { (a.declined) } td.num { (a.withdrawn) } td.num { (pct(a.rate)) }
                } } }
            } }
        }
    }
}

fn render(u: &ConsoleUser, q: &DashQuery, s: &DeskStats) -> HttpResponse {
    let lang = u.lang;
    let hours = |v: Option<f64>| v.map(|h| format!("{h:.1}")).unwrap_or_else(|| "—".into());
    let days = |v: Option<f64>| v.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into());
    let mut csv = format!("/admin/dashboard.csv?from={}&to={}", s.from, s.to);
    if let Some(m) = blank(&q.m) {
        csv.push_str(&format!("&m={}", layout::url_encode(&m)));
    }
    let w = &s.first_response_within_target;
    let body = html! {
        form.filters method="get" action="/admin/dashboard" aria-label=(lang.t("集計期間", "Period")) {
            @if let Some(m) = blank(&q.m) { input type="hidden" name="m" value=(m); }
            div.field { label for="from" { (lang.t("開始日", "From")) } input #from type="date" name="from" value=(s.from.to_string()); }
            div.field { label for="to" { (lang.t("終了日", "To")) } input #to type="date" name="to" value=(s.to.to_string()); }
            button type="submit" { (lang.t("表示", "Show")) }
            " "
            a href=(csv) download { (lang.t("CSVでダウンロード（Excel対応）", "Download CSV (for Excel)")) }
        }
        ul.kpis {
            li { (lang.t("受付件数", "Received")) strong { (s.received) } }
            li { (lang.t("回付までの時間（中央値）", "Time to routing (median)")) strong { (hours(s.time_to_routing.median_hours)) (lang.t("時間", " h")) } span.muted { (days(s.time_to_routing.median_business_days)) (lang.t("開庁日", " business days")) } }
            li { (lang.t("初回回答までの時間（中央値）", "Time to first response (median)")) strong { (hours(s.time_to_first_response.median_hours)) (lang.t("時間", " h")) } span.muted { (days(s.time_to_first_response.median_business_days)) (lang.t("開庁日", " business days")) } }
            li { (lang.t("期限内の初回回答", "First answers within target")) strong { (pct(w.share)) } span.muted { (w.answered_in_time) " / " (w.due) } }
            li { (lang.t("採択率", "Adoption rate")) strong { (pct(s.adoption.rate)) } span.muted { (lang.t("採択 ", "adopted ")) (s.adoption.adopted) (lang.t("・見送り ", ", declined ")) (s.adoption.declined) } }
            li { (lang.t("所管未定（現在）", "Unassigned now")) strong { (s.unassigned_queue.count) } span.muted { (lang.t("最長 ", "oldest ")) (s.unassigned_queue.oldest_days.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) (lang.t("日", " days")) } }
            li { (lang.t("期限超過（現在）", "Overdue now")) strong { (s.overdue_now) } }
            (super::outcomes::dashboard_kpis(lang, &s.outcomes))
        }
        div.charts {
            (count_block("by-month", lang.t("月別の受付件数", "Proposals received by month"), lang.t("月ごとの受付件数。", "Proposals received each month."), &s.by_month, lang))
            (count_block("by-channel", lang.t("受付経路別の件数", "Proposals by channel"), lang.t("受付経路ごとの件数。", "Proposals by how they arrived."), &s.by_channel, lang))
            (count_block("by-field", lang.t("政策分野別の件数", "Proposals by policy field"), lang.t("政策分野ごとの件数。", "Proposals by policy field."), &s.by_policy_field, lang))
            (count_block("by-dept", lang.t("所管課別の件数", "Proposals by department"), lang.t("所管課ごとの件数。", "Proposals by department."), &s.by_department, lang))
            (adoption_block("adopt-field", lang.t("政策分野別の採択率", "Adoption rate by policy field"), &s.adoption_by_policy_field, lang))
            (adoption_block("adopt-dept", lang.t("所管課別の採択率", "Adoption rate by department"), &s.adoption_by_department, lang))
        }
    };
    let title = lang.s(
        format!("集計（{}〜{}）", s.from, s.to),
        format!("Dashboard ({} to {})", s.from, s.to),
    );
    layout::page(u, Nav::Dashboard, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(lines: &[String]) -> String {
        lines.concat().replace(' ', "")
    }

    #[test]
    fn long_labels_wrap_whole_and_within_the_column() {
        for label in [
            "行政経営・DX・市民自治",
            "こども未来局 子育て支援課",
            "都市整備局 都市交通部 地域交通課 バス・デマンド交通担当（郊外部の移動支援）",
            "Administration, digital transformation and citizen self-government",
            "Supercalifragilisticexpialidociousdepartmentname",
            "防災",
        ] {
            let lines = wrap_label(label, LABEL_EMS);
            assert_eq!(joined(&lines), label.replace(' ', ""), "{label}: {lines:?}");
            for l in &lines {
                // A closing mark may hang one character over; nothing else.
                assert!(ems(l) <= LABEL_EMS + 1.0, "{label}: {l:?} is too wide");
                assert!(
                    !l.starts_with(closes),
                    "{label}: {l:?} starts with a closing mark"
                );
                assert!(!l.is_empty() && l.trim() == l, "{label}: {lines:?}");
            }
        }
        assert_eq!(wrap_label("防災", LABEL_EMS), ["防災"]);
        // The parts of a name stay whole where they can.
        assert_eq!(
            wrap_label("行政経営・DX・市民自治", LABEL_EMS),
            ["行政経営・DX・", "市民自治"]
        );
        assert_eq!(
            wrap_label("こども未来局 子育て支援課", LABEL_EMS),
            ["こども未来局", "子育て支援課"]
        );
    }

    #[test]
    fn a_long_label_is_drawn_in_full_and_its_row_grows() {
        let name = "都市整備局 都市交通部 地域交通課 バス・デマンド交通担当（郊外部の移動支援）";
        let bars = [
            Bar {
                label: name.into(),
                value: 3.0,
                shown: "3".into(),
            },
            Bar {
                label: "防災".into(),
                value: 1.0,
                shown: "1".into(),
            },
        ];
        let svg = chart("t", "t", "d", &bars, 3.0, Lang::Ja).into_string();
        let label: String = svg
            .split("<tspan")
            .skip(1)
            .filter_map(|t| {
                t.split_once('>')
                    .and_then(|(_, r)| r.split_once("</tspan>"))
            })
            .map(|(text, _)| text)
            .collect();
        assert!(
            label.replace(' ', "").contains(&name.replace(' ', "")),
            "{svg}"
        );
        assert!(!svg.contains('…'), "{svg}");
    }
}
