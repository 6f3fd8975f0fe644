//! Outcomes in the console: the outcome reports (アウトカム) on a proposal's page with
//! the form to record one (`domain::outcomes::reports`), the cases (事例) of other
//! municipalities on a need's page and a partner's adopted cases (採択実績) on its page
//! (`domain::outcomes::cases`), and the fiscal year's outcome figures on the dashboard.

use maud::{Markup, html};

use super::i18n::Lang;
use super::layout;
use super::session::{ConsoleUser, Fields};
use crate::domain::desk::stats::OutcomeFigures;
use crate::domain::outcomes::cases::CaseView;
use crate::domain::outcomes::reports::{
    IndicatorInput, IndicatorView, OutcomeInput, OutcomeReportView, group_thousands,
};
use crate::domain::proposals::ProposalView;
use crate::domain::vocab::ProposalState;

/// Indicator rows the form offers (the API takes up to ten).
const FORM_INDICATORS: usize = 3;

/// The outcome form's fields as the domain's input; blank indicator rows are skipped.
pub fn input_of(f: &Fields) -> OutcomeInput {
    let value = |k: String| {
        f.opt(&k)
            .map(serde_json::Value::String)
            .filter(|v| v.as_str().is_some_and(|s| !s.trim().is_empty()))
    };
    let indicators = (0..FORM_INDICATORS)
        .filter_map(|i| {
            let name = f.opt(&format!("indicator_name_{i}"));
            let before = value(format!("indicator_before_{i}"));
            let after = value(format!("indicator_after_{i}"));
            let unit = f.opt(&format!("indicator_unit_{i}"));
            if name.is_none() && before.is_none() && after.is_none() && unit.is_none() {
                return None;
            }
            Some(IndicatorInput {
                name: name.unwrap_or_default(),
                unit,
                before,
                after,
            })
        })
        .collect();
    OutcomeInput {
        done: f.text("done"),
        indicators,
        effect_yen: f.opt("effect_yen").map(serde_json::Value::String),
        reported_on: f.text("reported_on"),
    }
}

/// The id of the control of an outcome field, for the error summary's links.
pub fn control_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "done" => "outcome-done",
        "effect_yen" => "outcome-effect",
        "reported_on" => "outcome-date",
        f if f.starts_with("indicators[0]") => "indicator_name_0",
        f if f.starts_with("indicators[1]") => "indicator_name_1",
        f if f.starts_with("indicators[2]") => "indicator_name_2",
        _ => return None,
    })
}

fn yen(lang: Lang, v: i64) -> String {
    lang.s(
        format!("{}円", group_thousands(v)),
        format!("¥{}", group_thousands(v)),
    )
}

fn indicator_line(i: &IndicatorView) -> String {
    format!(
        "{}: {} → {}{}",
        i.name,
        i.before.as_deref().unwrap_or("—"),
        i.after.as_deref().unwrap_or("—"),
        if i.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", i.unit)
        }
    )
}

/// Whether the user records outcomes on this proposal: the desk, or staff of its lead
/// department (the domain decides again when the form is sent).
fn may_record(u: &ConsoleUser, p: &ProposalView) -> bool {
    u.is_desk()
        || u.staff()
            .department
            .is_some_and(|d| p.departments.iter().any(|x| x.primary && x.id.0 == d.0))
}

/// The proposal page's section: its reports, and for an adopted proposal the form to
/// those who may record.
pub fn proposal_section(
    u: &ConsoleUser,
    p: &ProposalView,
    reports: &[OutcomeReportView],
    sent: Option<&Fields>,
) -> Markup {
    let lang = u.lang;
    let typed = |k: &str| sent.and_then(|f| f.get(k));
    html! {
        h2 #outcomes { (lang.t("アウトカム（成果の記録）", "Outcomes")) }
        @if reports.is_empty() { p.muted { (lang.t("アウトカムの記録はまだありません。", "No outcome recorded yet.")) } }
        ol.outcomes { @for r in reports {
            li {
                strong { (r.reported_on) } " " span.muted { (lang.t("報告", "report")) @if let Some(n) = &r.reported_by { " · " (n) } }
                @if let Some(y) = r.effect_yen { " · " (lang.t("効果額 ", "Effect ")) strong { (yen(lang, y)) } }
                p.text { (r.done) }
                @if !r.indicators.is_empty() { ul { @for i in &r.indicators { li { (indicator_line(i)) } } } }
            }
        } }
        @if p.state == ProposalState::Adopted && may_record(u, p) {
            details.action #outcome-form open[sent.is_some()] {
                summary { (lang.t("アウトカムを記録する（事業の終了時・評価時）", "Record an outcome (at the end or a review)")) }
                form method="post" action=(format!("/admin/proposals/{}/outcome", p.id)) {
                    (layout::csrf(u))
                    div.field {
                        label for="outcome-date" { (lang.t("報告日", "Report date")) }
                        input #outcome-date type="date" name="reported_on" required value=[typed("reported_on")];
                    }
                    div.field {
                        label for="outcome-done" { (lang.t("実施内容（提案者が公開に同意した場合、他の自治体にも事例として表示されます）", "What was done (shown to other municipalities as a case if the proposer consented)")) }
                        textarea #outcome-done name="done" required rows="4" { (typed("done").unwrap_or("")) }
                    }
                    fieldset {
                        legend { (lang.t("効果指標（提案の目標に沿って、前と後の値）", "Indicators (before and after, in the proposal's terms)")) }
                        @for i in 0..FORM_INDICATORS {
                            div.indicator {
                                @let n = format!("indicator_name_{i}");
                                @let un = format!("indicator_unit_{i}");
                                @let b = format!("indicator_before_{i}");
                                @let a = format!("indicator_after_{i}");
                                label for=(n) { (lang.t("指標名", "Indicator")) } input id=(n) name=(n) value=[typed(&n)];
                                label for=(un) { (lang.t("単位", "Unit")) } input id=(un) name=(un) size="8" value=[typed(&un)];
                                label for=(b) { (lang.t("前", "Before")) } input id=(b) name=(b) inputmode="decimal" size="10" value=[typed(&b)];
                                label for=(a) { (lang.t("後", "After")) } input id=(a) name=(a) inputmode="decimal" size="10" value=[typed(&a)];
                            }
                        }
                    }
                    div.field {
                        label for="outcome-effect" { (lang.t("効果額（円・任意）", "Effect in yen (optional)")) }
                        input #outcome-effect name="effect_yen" inputmode="numeric" value=[typed("effect_yen")];
                    }
                    button.primary type="submit" { (lang.t("アウトカムを記録する", "Record outcome")) }
                }
            }
        }
    }
}

/// A list of cases: city, partner, title, what was done, indicators, 効果額.
pub fn cases_list(lang: Lang, cases: &[CaseView], empty: &str) -> Markup {
    html! {
        @if cases.is_empty() { p.muted { (empty) } }
        ol.cases { @for c in cases {
            li {
                strong { (c.municipality.name) } " · " (c.partner_name)
                br; (c.title)
                @if let Some(n) = &c.need_title { br; span.muted { (lang.t("ニーズ: ", "Need: ")) (n) } }
                @if let Some(d) = c.adopted_on { br; span.muted { (lang.t("採択 ", "Adopted ")) (d) } }
                @if let Some(y) = c.effect_yen_total { br; (lang.t("効果額 ", "Effect ")) strong { (yen(lang, y)) } }
                @for o in &c.outcomes {
                    p.text { span.muted { (o.reported_on) " " } (o.done) }
                    @if !o.indicators.is_empty() { ul { @for i in &o.indicators { li { (indicator_line(i)) } } } }
                }
            }
        } }
    }
}

/// The need page's section 他の自治体の類似ニーズと事例.
pub fn need_section(lang: Lang, cases: &[CaseView]) -> Markup {
    html! {
        section.panel aria-labelledby="cases-h" {
            h2 #cases-h { (lang.t("他の自治体の類似ニーズと事例", "Similar needs elsewhere and how they were met")) }
            p.hint { (lang.t("他の自治体で採択され、成果が記録された提案のうち、提案者が公開に同意したものです。", "Adopted proposals of other municipalities with recorded outcomes, whose proposers consented to publication.")) }
            (cases_list(lang, cases, lang.t("該当する事例はまだありません。", "No case yet.")))
        }
    }
}

/// The partner page's section 採択実績.
pub fn partner_section(lang: Lang, cases: &[CaseView]) -> Markup {
    html! {
        h2 #cases { (lang.t("採択実績", "Adopted cases")) }
        (cases_list(lang, cases, lang.t("公開できる採択実績はありません。", "No published case.")))
    }
}

/// The dashboard's figures for the fiscal year.
pub fn dashboard_kpis(lang: Lang, o: &OutcomeFigures) -> Markup {
    html! {
        li { (lang.s(format!("{}年度 アウトカム記録のある採択提案", o.fiscal_year), format!("Adopted with outcomes, FY{}", o.fiscal_year))) strong { (o.adopted_with_outcomes) } }
        li { (lang.s(format!("{}年度 効果額", o.fiscal_year), format!("Effect, FY{}", o.fiscal_year))) strong { (yen(lang, o.effect_yen)) } }
    }
}
