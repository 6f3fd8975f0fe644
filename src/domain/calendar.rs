//! Municipal business days (開庁日) for desk deadlines. This module owns the answer to
//! "is the town hall open on this date?" and the day counting built on it.
//!
//! A date is closed when it is a Saturday or Sunday, a holiday under 国民の祝日に関する法律
//! (the text in force since 2007, plus the one-off laws for the 2019 enthronement and
//! the 2020/2021 Olympic moves), or in the year-end closure of 12/29–1/3 that 地方自治法
//! 第4条の2 lets municipalities set and that practically all of them do.
//!
//! Everything is computed from the rules, so nothing is stored, nothing is allocated
//! and no table has to be refreshed each February when the equinoxes are announced.
//! The results match the Cabinet Office lists published so far (2000–2026) and the
//! law's projection through 2099, where the equinox formula ends; before 2000 and
//! after 2099 the same rules are merely extrapolated and are not authoritative.
//!
//! Dates are Japanese calendar dates: convert a stored UTC instant with [`japan_time`]
//! or [`local_date`] first. This module is also the one place that knows Japan time is
//! UTC+9.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Weekday};

/// Japan has one time zone and no daylight saving: Japan time is UTC+9.
fn japan_offset() -> TimeDelta {
    TimeDelta::hours(9)
}

/// The Japan time of a stored (UTC) time. Total: at the very end of the date type,
/// which no checked input reaches, the UTC time is kept.
pub fn japan_time(utc: NaiveDateTime) -> NaiveDateTime {
    utc.checked_add_signed(japan_offset()).unwrap_or(utc)
}

/// The stored (UTC) time of a Japan time; total like [`japan_time`].
pub fn from_japan_time(local: NaiveDateTime) -> NaiveDateTime {
    local.checked_sub_signed(japan_offset()).unwrap_or(local)
}

/// The Japanese calendar date of a stored (UTC) time.
pub fn local_date(t: NaiveDateTime) -> NaiveDate {
    japan_time(t).date()
}

/// Midnight in Japan at the start of `d`, as stored (UTC).
pub fn local_midnight(d: NaiveDate) -> NaiveDateTime {
    from_japan_time(d.and_time(chrono::NaiveTime::MIN))
}

/// The 2005 amendment, in force from 2007-01-01, added 昭和の日, moved みどりの日 to 5/4
/// and let a 振替休日 skip past further holidays. Earlier years keep the older text so
/// that, e.g., 2003-05-06 is not reported as a holiday it never was.
const AMENDED_2007: i32 = 2007;

/// The equinox approximation used for the Cabinet Office's own projections, in
/// millionths of a day so that the floor is exact integer arithmetic (no float can
/// round a boundary year the wrong way).
const VERNAL_BASE: i64 = 20_843_100;
const AUTUMNAL_BASE: i64 = 23_248_800;
const DRIFT_PER_YEAR: i64 = 242_194;
const MICROS: i64 = 1_000_000;

/// Day of March (vernal) or September (autumnal) on which the equinox holiday falls.
fn equinox_day(year: i32, base: i64) -> i64 {
    let t = i64::from(year) - 1980;
    // div_euclid is a true floor, so the formula also stays sane for years before 1980.
    (base + DRIFT_PER_YEAR * t - MICROS * t.div_euclid(4)).div_euclid(MICROS)
}

/// The 国民の祝日 proper (Article 2 and the special laws that count a day as one).
/// 振替休日 and 国民の休日 are derived from these, never from each other.
fn shukujitsu(d: NaiveDate) -> Option<&'static str> {
    let y = d.year();
    let day = d.day();
    // The n-th Monday of a month is the Monday whose day number lies in week n.
    let nth_monday = |n: u32| d.weekday() == Weekday::Mon && (day - 1) / 7 + 1 == n;

    let name = match d.month() {
        1 if day == 1 => "元日",
        1 if nth_monday(2) => "成人の日",
        2 if day == 11 => "建国記念の日",
        2 if day == 23 && y >= 2020 => "天皇誕生日",
        3 if i64::from(day) == equinox_day(y, VERNAL_BASE) => "春分の日",
        4 if day == 29 && y >= AMENDED_2007 => "昭和の日",
        4 if day == 29 => "みどりの日",
        // 天皇の即位の日及び即位礼正殿の儀の行われる日を休日とする法律: counted as a 祝日,
        // which is what makes 4/30 and 5/2 of 2019 国民の休日 by the sandwich rule.
        5 if day == 1 && y == 2019 => "即位の日",
        5 if day == 3 => "憲法記念日",
        5 if day == 4 && y >= AMENDED_2007 => "みどりの日",
        5 if day == 5 => "こどもの日",
        7 => match (y, day) {
            // The Olympic special measures law moved these days for 2020 and 2021 only,
            // and the usual dates of those years were plain working days.
            (2020, 23) | (2021, 22) => "海の日",
            (2020, 24) | (2021, 23) => "スポーツの日",
            (2020 | 2021, _) => return None,
            (..=2002, 20) => "海の日",
            (2003.., _) if nth_monday(3) => "海の日",
            _ => return None,
        },
        8 => match (y, day) {
            (2020, 10) | (2021, 8) => "山の日",
            (2020 | 2021, _) => return None,
            (2016.., 11) => "山の日",
            _ => return None,
        },
        9 if y >= 2003 && nth_monday(3) => "敬老の日",
        9 if y < 2003 && day == 15 => "敬老の日",
        9 if i64::from(day) == equinox_day(y, AUTUMNAL_BASE) => "秋分の日",
        10 if y == 2019 && day == 22 => "即位礼正殿の儀",
        // In 2020 and 2021 sports day was in July (above), so October has none.
        10 if y == 2020 || y == 2021 => return None,
        // Renamed from 体育の日 by the 2018 amendment, effective 2020.
        10 if nth_monday(2) && y >= 2020 => "スポーツの日",
        10 if nth_monday(2) => "体育の日",
        11 if day == 3 => "文化の日",
        11 if day == 23 => "勤労感謝の日",
        // 2019 had no 天皇誕生日: the old emperor had abdicated, the new one's is 2/23.
        12 if day == 23 && y <= 2018 => "天皇誕生日",
        _ => return None,
    };
    Some(name)
}

/// Article 3(2), for a day `d` that is not itself a 祝日: a 祝日 on a Sunday gives the
/// nearest following day that is not a 祝日. Since 2007 that can be several days later
/// (Golden Week pushes a Sunday 5/3 to 5/6); before, it was only ever the Monday.
fn is_substitute(d: NaiveDate) -> bool {
    let Some(mut p) = d.pred_opt() else {
        return false;
    };
    if d.year() < AMENDED_2007 {
        return p.weekday() == Weekday::Sun && shukujitsu(p).is_some();
    }
    // Walk back through the unbroken run of 祝日 just before `d`: if it started on or
    // passed a Sunday, `d` is the first day after it that is free to take the rest day.
    while shukujitsu(p).is_some() {
        if p.weekday() == Weekday::Sun {
            return true;
        }
        match p.pred_opt() {
            Some(q) => p = q,
            None => return false,
        }
    }
    false
}

/// Article 3(3), for a day `d` that is neither a 祝日 nor a 振替休日: a day whose
/// neighbours are both 祝日 is a rest day too. Before 2007 a Sunday did not qualify,
/// which is why 2003-05-04 was no holiday.
fn is_sandwiched(d: NaiveDate) -> bool {
    if d.year() < AMENDED_2007 && d.weekday() == Weekday::Sun {
        return false;
    }
    let (Some(before), Some(after)) = (d.pred_opt(), d.succ_opt()) else {
        return false;
    };
    shukujitsu(before).is_some() && shukujitsu(after).is_some()
}

/// The holiday's Japanese name if `d` is a national holiday: a 祝日 by its own name,
/// otherwise "振替休日" or "国民の休日". Saturdays and Sundays that are not holidays
/// give `None`; the year-end closure is not a national holiday either.
pub fn is_national_holiday(d: NaiveDate) -> Option<&'static str> {
    if let Some(name) = shukujitsu(d) {
        return Some(name);
    }
    // 振替休日 first: a day that qualifies for both is named after the stronger rule.
    if is_substitute(d) {
        return Some("振替休日");
    }
    if is_sandwiched(d) {
        return Some("国民の休日");
    }
    None
}

/// The year-end closure, 12/29 through 1/3 inclusive (年末年始の閉庁).
pub fn is_year_end_closure(d: NaiveDate) -> bool {
    match d.month() {
        12 => d.day() >= 29,
        1 => d.day() <= 3,
        _ => false,
    }
}

/// Whether the municipal office is open on `d`: a weekday that is neither a national
/// holiday nor in the year-end closure.
pub fn is_business_day(d: NaiveDate) -> bool {
    // Cheapest tests first: this runs once per day of every span that is counted.
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        && !is_year_end_closure(d)
        && is_national_holiday(d).is_none()
}

/// The first and last dates the calendar knows: the years whose holidays the law and its
/// projection fix (see the module comment). Dates from outside are refused at the edge
/// ([`check_date`]); counting clamps anything else into this span, so no computation
/// depends on how absurd a stored date is. (The `panic!` arms are evaluated by the
/// compiler, in a `const`: a wrong date would fail the build, never a request.)
pub const FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("2000-01-01 is a date"),
};
pub const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2099, 12, 31) {
    Some(d) => d,
    None => panic!("2099-12-31 is a date"),
};

/// Whether `d` lies within the years the calendar knows.
pub fn is_known(d: NaiveDate) -> bool {
    (FIRST_DATE..=LAST_DATE).contains(&d)
}

/// Refuses a date from outside the calendar's years, naming the field, so that nothing
/// from a request can reach date arithmetic at the limits of the date type.
pub fn check_date(c: &mut super::validate::Check, field: &str, d: Option<NaiveDate>) {
    if let Some(d) = d.filter(|d| !is_known(*d)) {
        c.push_ja(
            field,
            "out_of_range",
            format!("{d} is outside the supported dates {FIRST_DATE} to {LAST_DATE}"),
            format!("{FIRST_DATE}から{LAST_DATE}までの日付を入力してください"),
        );
    }
}

/// Business days counted once for every known date: `open_through[i]` is the number of
/// business days from `FIRST_DATE` through the i-th day, inclusive. 36,525 entries
/// (146 kB), built on first use in about a millisecond; every count and every due date
/// after that is a lookup or a binary search, whatever the span.
fn open_through() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut open = 0u32;
        FIRST_DATE
            .iter_days()
            .take_while(|d| *d <= LAST_DATE)
            .map(|d| {
                open += u32::from(is_business_day(d));
                open
            })
            .collect()
    })
}

/// The table position of `d`, clamped into the known span.
fn position(d: NaiveDate) -> usize {
    let d = d.clamp(FIRST_DATE, LAST_DATE);
    // Within the span the difference is 0..=36,524, so the conversion cannot fail.
    usize::try_from((d - FIRST_DATE).num_days()).unwrap_or(0)
}

/// The date at a table position (clamped to the span).
fn date_at(i: usize) -> NaiveDate {
    FIRST_DATE
        .checked_add_days(chrono::Days::new(i as u64))
        .map_or(LAST_DATE, |d| d.min(LAST_DATE))
}

fn open_at(i: usize) -> u32 {
    let t = open_through();
    t.get(i).or(t.last()).copied().unwrap_or(0)
}

/// The `n`-th business day after `start`; `start` itself is never counted, and `n = 0`
/// gives the first business day on or after `start`.
///
/// The desk convention: a proposal received on day D with a target of N business days
/// is due at the end of `add_business_days(D, N)`. So one received on a Friday with a
/// target of 1 is due at the end of the next open day. A desk that deems a proposal
/// received on a closed day to have arrived on the next open day should normalise
/// first: `add_business_days(add_business_days(D, 0), N)`.
///
/// A binary search in the table, whatever `n`. Dates outside the known span count as
/// its first or last day, and a count that runs past the last known date gives that
/// date.
pub fn add_business_days(start: NaiveDate, n: u32) -> NaiveDate {
    let i = position(start);
    if n == 0 && is_business_day(date_at(i)) {
        return date_at(i);
    }
    // The first position whose running count reaches the target is a business day (the
    // count rises there) and lies after `start` (the count at `start` is below it).
    let target = u64::from(open_at(i)) + u64::from(n.max(1));
    let j = open_through().partition_point(|&open| u64::from(open) < target);
    date_at(j)
}

/// The number of business days d with `from < d <= to`, negated when `to` is before
/// `from`, so `business_days_between(a, b) == -business_days_between(b, a)`.
///
/// This is the inverse of [`add_business_days`]: for N ≥ 1,
/// `business_days_between(D, add_business_days(D, N)) == N`. A proposal received on D
/// and answered on A was therefore answered within a target of N when the result is
/// at most N (an answer sent on a closed day right after the due day still counts as
/// on time, as it reached the desk before the next open day).
///
/// Two table lookups; dates outside the known span count as its first or last day.
pub fn business_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    i64::from(open_at(position(to))) - i64::from(open_at(position(from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are valid")
    }

    /// Every holiday of `year` as ((month, day), name), in date order.
    fn holidays_of(year: i32) -> Vec<((u32, u32), &'static str)> {
        date(year, 1, 1)
            .iter_days()
            .take_while(|d| d.year() == year)
            .filter_map(|d| is_national_holiday(d).map(|name| ((d.month(), d.day()), name)))
            .collect()
    }

    fn assert_year(year: i32, expected: &[((u32, u32), &str)]) {
        let got = holidays_of(year);
        assert_eq!(got, expected, "holidays of {year}");
    }

    // Cabinet Office (内閣府) 「国民の祝日について」 list for 令和7年, where 振替休日 and
    // 国民の休日 both appear as 「休日」: 16 祝日 and 3 休日.
    #[test]
    fn year_2025_matches_cabinet_office_list() {
        assert_year(
            2025,
            &[
                ((1, 1), "元日"),
                ((1, 13), "成人の日"),
                ((2, 11), "建国記念の日"),
                ((2, 23), "天皇誕生日"),
                ((2, 24), "振替休日"),
                ((3, 20), "春分の日"),
                ((4, 29), "昭和の日"),
                ((5, 3), "憲法記念日"),
                ((5, 4), "みどりの日"),
                ((5, 5), "こどもの日"),
                ((5, 6), "振替休日"),
                ((7, 21), "海の日"),
                ((8, 11), "山の日"),
                ((9, 15), "敬老の日"),
                ((9, 23), "秋分の日"),
                ((10, 13), "スポーツの日"),
                ((11, 3), "文化の日"),
                ((11, 23), "勤労感謝の日"),
                ((11, 24), "振替休日"),
            ],
        );
        assert_eq!(holidays_of(2025).len(), 19);
    }

    // 令和8年: 16 祝日, the 5/6 振替休日 (5/3 was a Sunday and 5/4, 5/5 were taken)
    // and the 9/22 国民の休日 between 敬老の日 and 秋分の日.
    #[test]
    fn year_2026_matches_cabinet_office_list() {
        assert_year(
            2026,
            &[
                ((1, 1), "元日"),
                ((1, 12), "成人の日"),
                ((2, 11), "建国記念の日"),
                ((2, 23), "天皇誕生日"),
                ((3, 20), "春分の日"),
                ((4, 29), "昭和の日"),
                ((5, 3), "憲法記念日"),
                ((5, 4), "みどりの日"),
                ((5, 5), "こどもの日"),
                ((5, 6), "振替休日"),
                ((7, 20), "海の日"),
                ((8, 11), "山の日"),
                ((9, 21), "敬老の日"),
                ((9, 22), "国民の休日"),
                ((9, 23), "秋分の日"),
                ((10, 12), "スポーツの日"),
                ((11, 3), "文化の日"),
                ((11, 23), "勤労感謝の日"),
            ],
        );
        assert_eq!(holidays_of(2026).len(), 18);
    }

    // 令和9年: 春分の日 is 3/21 (a Sunday) per the 暦要項 published in February 2026,
    // so 3/22 is a 振替休日; 16 祝日 and 1 休日.
    #[test]
    fn year_2027_matches_cabinet_office_list() {
        assert_year(
            2027,
            &[
                ((1, 1), "元日"),
                ((1, 11), "成人の日"),
                ((2, 11), "建国記念の日"),
                ((2, 23), "天皇誕生日"),
                ((3, 21), "春分の日"),
                ((3, 22), "振替休日"),
                ((4, 29), "昭和の日"),
                ((5, 3), "憲法記念日"),
                ((5, 4), "みどりの日"),
                ((5, 5), "こどもの日"),
                ((7, 19), "海の日"),
                ((8, 11), "山の日"),
                ((9, 20), "敬老の日"),
                ((9, 23), "秋分の日"),
                ((10, 11), "スポーツの日"),
                ((11, 3), "文化の日"),
                ((11, 23), "勤労感謝の日"),
            ],
        );
        assert_eq!(holidays_of(2027).len(), 17);
    }

    #[test]
    fn year_2019_enthronement_days() {
        assert_year(
            2019,
            &[
                ((1, 1), "元日"),
                ((1, 14), "成人の日"),
                ((2, 11), "建国記念の日"),
                ((3, 21), "春分の日"),
                ((4, 29), "昭和の日"),
                ((4, 30), "国民の休日"),
                ((5, 1), "即位の日"),
                ((5, 2), "国民の休日"),
                ((5, 3), "憲法記念日"),
                ((5, 4), "みどりの日"),
                ((5, 5), "こどもの日"),
                ((5, 6), "振替休日"),
                ((7, 15), "海の日"),
                ((8, 11), "山の日"),
                ((8, 12), "振替休日"),
                ((9, 16), "敬老の日"),
                ((9, 23), "秋分の日"),
                ((10, 14), "体育の日"),
                ((10, 22), "即位礼正殿の儀"),
                ((11, 3), "文化の日"),
                ((11, 4), "振替休日"),
                ((11, 23), "勤労感謝の日"),
            ],
        );
        // Neither emperor's birthday was a holiday that year.
        assert_eq!(is_national_holiday(date(2019, 2, 23)), None);
        assert_eq!(is_national_holiday(date(2019, 12, 23)), None);
        assert_eq!(is_national_holiday(date(2018, 12, 23)), Some("天皇誕生日"));
    }

    #[test]
    fn year_2020_olympic_moves() {
        assert_year(
            2020,
            &[
                ((1, 1), "元日"),
                ((1, 13), "成人の日"),
                ((2, 11), "建国記念の日"),
                ((2, 23), "天皇誕生日"),
                ((2, 24), "振替休日"),
                ((3, 20), "春分の日"),
                ((4, 29), "昭和の日"),
                ((5, 3), "憲法記念日"),
                ((5, 4), "みどりの日"),
                ((5, 5), "こどもの日"),
                ((5, 6), "振替休日"),
                ((7, 23), "海の日"),
                ((7, 24), "スポーツの日"),
                ((8, 10), "山の日"),
                ((9, 21), "敬老の日"),
                ((9, 22), "秋分の日"),
                ((11, 3), "文化の日"),
                ((11, 23), "勤労感謝の日"),
            ],
        );
        // The usual dates were working days.
        for d in [date(2020, 7, 20), date(2020, 8, 11), date(2020, 10, 12)] {
            assert_eq!(is_national_holiday(d), None, "{d}");
            assert!(is_business_day(d), "{d}");
        }
    }

    #[test]
    fn year_2021_olympic_moves() {
        assert_year(
            2021,
            &[
                ((1, 1), "元日"),
                ((1, 11), "成人の日"),
                ((2, 11), "建国記念の日"),
                ((2, 23), "天皇誕生日"),
                ((3, 20), "春分の日"),
                ((4, 29), "昭和の日"),
                ((5, 3), "憲法記念日"),
                ((5, 4), "みどりの日"),
                ((5, 5), "こどもの日"),
                ((7, 22), "海の日"),
                ((7, 23), "スポーツの日"),
                ((8, 8), "山の日"),
                ((8, 9), "振替休日"),
                ((9, 20), "敬老の日"),
                ((9, 23), "秋分の日"),
                ((11, 3), "文化の日"),
                ((11, 23), "勤労感謝の日"),
            ],
        );
        for d in [date(2021, 7, 19), date(2021, 8, 11), date(2021, 10, 11)] {
            assert_eq!(is_national_holiday(d), None, "{d}");
            assert!(is_business_day(d), "{d}");
        }
    }

    #[test]
    fn sports_day_is_renamed_in_2020() {
        assert_eq!(is_national_holiday(date(2018, 10, 8)), Some("体育の日"));
        assert_eq!(
            is_national_holiday(date(2022, 10, 10)),
            Some("スポーツの日")
        );
    }

    #[test]
    fn sandwiched_september_days() {
        assert_eq!(is_national_holiday(date(2026, 9, 22)), Some("国民の休日"));
        assert_eq!(is_national_holiday(date(2032, 9, 20)), Some("敬老の日"));
        assert_eq!(is_national_holiday(date(2032, 9, 21)), Some("国民の休日"));
        assert_eq!(is_national_holiday(date(2032, 9, 22)), Some("秋分の日"));
        // 2015: 敬老の日 9/21, 国民の休日 9/22, 秋分の日 9/23.
        assert_eq!(is_national_holiday(date(2015, 9, 22)), Some("国民の休日"));
    }

    #[test]
    fn golden_week_can_push_the_substitute_to_may_6() {
        // 2015 and 2026: 憲法記念日 on a Sunday.
        assert_eq!(is_national_holiday(date(2015, 5, 6)), Some("振替休日"));
        assert_eq!(is_national_holiday(date(2026, 5, 6)), Some("振替休日"));
        // 2029: こどもの日 is the Saturday and 5/3 a Thursday, so no substitute at all.
        assert_eq!(is_national_holiday(date(2029, 5, 6)), None);
        // 2030: こどもの日 on a Sunday gives Monday 5/6.
        assert_eq!(is_national_holiday(date(2030, 5, 6)), Some("振替休日"));
    }

    #[test]
    fn saturday_holidays_have_no_substitute() {
        // 2025-05-03 憲法記念日 was a Saturday; the Monday after is an ordinary day.
        assert_eq!(is_national_holiday(date(2025, 5, 3)), Some("憲法記念日"));
        assert_eq!(is_national_holiday(date(2025, 5, 5)), Some("こどもの日"));
        assert_eq!(is_national_holiday(date(2025, 5, 7)), None);
        assert!(!is_business_day(date(2025, 5, 3)));
    }

    #[test]
    fn years_before_2007_follow_the_older_text() {
        assert_eq!(is_national_holiday(date(2006, 4, 29)), Some("みどりの日"));
        assert_eq!(is_national_holiday(date(2006, 5, 4)), Some("国民の休日"));
        // 2003-05-04 was a Sunday: not a 国民の休日, and 5/6 was an ordinary Tuesday.
        assert_eq!(is_national_holiday(date(2003, 5, 4)), None);
        assert_eq!(is_national_holiday(date(2003, 5, 6)), None);
        assert_eq!(is_national_holiday(date(2002, 7, 20)), Some("海の日"));
        assert_eq!(is_national_holiday(date(2002, 9, 15)), Some("敬老の日"));
        assert_eq!(is_national_holiday(date(2002, 9, 16)), Some("振替休日"));
        assert_eq!(is_national_holiday(date(2003, 7, 21)), Some("海の日"));
        // Happy Monday for 成人の日 and 体育の日 began in 2000.
        assert_eq!(is_national_holiday(date(2000, 1, 10)), Some("成人の日"));
        assert_eq!(is_national_holiday(date(2000, 10, 9)), Some("体育の日"));
    }

    #[test]
    fn sixteen_shukujitsu_every_ordinary_year() {
        let derived = ["振替休日", "国民の休日"];
        for year in 2016..=2099 {
            let proper = holidays_of(year)
                .into_iter()
                .filter(|(_, name)| !derived.contains(name))
                .count();
            // 2019 lost 天皇誕生日 and gained 即位の日 and 即位礼正殿の儀.
            let expected = if year == 2019 { 17 } else { 16 };
            assert_eq!(proper, expected, "{year}");
        }
    }

    #[test]
    fn equinoxes_stay_in_their_windows() {
        for year in 2000..=2099 {
            let vernal = equinox_day(year, VERNAL_BASE);
            let autumnal = equinox_day(year, AUTUMNAL_BASE);
            assert!((19..=21).contains(&vernal), "{year}: {vernal}");
            assert!((22..=24).contains(&autumnal), "{year}: {autumnal}");
        }
        // Published dates the formula must reproduce.
        assert_eq!(equinox_day(2024, VERNAL_BASE), 20);
        assert_eq!(equinox_day(2024, AUTUMNAL_BASE), 22);
        assert_eq!(equinox_day(2012, AUTUMNAL_BASE), 22);
        assert_eq!(equinox_day(2011, VERNAL_BASE), 21);
    }

    #[test]
    fn year_end_closure() {
        assert!(!is_year_end_closure(date(2026, 12, 28)));
        assert!(is_year_end_closure(date(2026, 12, 29)));
        assert!(is_year_end_closure(date(2026, 12, 31)));
        assert!(is_year_end_closure(date(2027, 1, 1)));
        assert!(is_year_end_closure(date(2027, 1, 3)));
        assert!(!is_year_end_closure(date(2027, 1, 4)));
        // 12/28 is the last open day (仕事納め), 1/4 the first (仕事始め).
        assert!(is_business_day(date(2026, 12, 28)));
        assert!(!is_business_day(date(2026, 12, 29)));
        assert!(!is_business_day(date(2025, 12, 30)));
        assert!(is_business_day(date(2027, 1, 4)));
        // The closure is not a national holiday (1/1 excepted).
        assert_eq!(is_national_holiday(date(2026, 12, 30)), None);
    }

    #[test]
    fn weekdays_weekends_and_holidays() {
        assert!(is_business_day(date(2026, 4, 28)));
        assert!(!is_business_day(date(2026, 4, 29)));
        assert!(!is_business_day(date(2026, 5, 2)));
        assert!(!is_business_day(date(2026, 5, 3)));
        assert!(!is_business_day(date(2026, 9, 22)));
    }

    #[test]
    fn add_across_golden_week_2026() {
        // 4/29 昭和の日; 4/30, 5/1 open; 5/2–5/6 closed; then 5/7, 5/8, 5/11.
        assert_eq!(add_business_days(date(2026, 4, 28), 1), date(2026, 4, 30));
        assert_eq!(add_business_days(date(2026, 4, 28), 2), date(2026, 5, 1));
        assert_eq!(add_business_days(date(2026, 4, 28), 3), date(2026, 5, 7));
        assert_eq!(add_business_days(date(2026, 4, 28), 5), date(2026, 5, 11));
        assert_eq!(add_business_days(date(2026, 5, 1), 1), date(2026, 5, 7));
    }

    #[test]
    fn add_across_the_year_end() {
        // Friday 12/25 → Monday 12/28 (still open) → closed until Monday 1/4 → 1/5.
        assert_eq!(add_business_days(date(2026, 12, 25), 1), date(2026, 12, 28));
        assert_eq!(add_business_days(date(2026, 12, 25), 2), date(2027, 1, 4));
        assert_eq!(add_business_days(date(2026, 12, 25), 3), date(2027, 1, 5));
        // 12/28 (仕事納め) is open, so 1/6 is the fourth open day after 12/25, not the third.
        assert_eq!(add_business_days(date(2026, 12, 25), 4), date(2027, 1, 6));
        assert_eq!(add_business_days(date(2026, 12, 28), 1), date(2027, 1, 4));
        // 2027 → 2028: 1/3/2028 is a Monday but still closed; 1/10 is 成人の日.
        assert_eq!(add_business_days(date(2027, 12, 28), 1), date(2028, 1, 4));
    }

    #[test]
    fn add_zero_is_the_next_open_day() {
        assert_eq!(add_business_days(date(2026, 4, 28), 0), date(2026, 4, 28));
        assert_eq!(add_business_days(date(2026, 5, 2), 0), date(2026, 5, 7));
        assert_eq!(add_business_days(date(2026, 12, 29), 0), date(2027, 1, 4));
        // A Saturday start: the first counted day is Monday.
        assert_eq!(add_business_days(date(2026, 6, 6), 1), date(2026, 6, 8));
    }

    #[test]
    fn add_saturates_at_the_last_known_date() {
        assert_eq!(add_business_days(NaiveDate::MAX, 1), LAST_DATE);
        assert_eq!(add_business_days(LAST_DATE, u32::MAX), LAST_DATE);
        let near = LAST_DATE - chrono::Days::new(3);
        assert_eq!(add_business_days(near, 100), LAST_DATE);
        assert_eq!(add_business_days(NaiveDate::MIN, 0), date(2000, 1, 4));
    }

    #[test]
    fn extreme_dates_count_in_constant_time() {
        // Both ends of the date type: a walk would take ~190 million steps.
        assert_eq!(
            business_days_between(NaiveDate::MIN, NaiveDate::MAX),
            i64::from(open_at(usize::MAX))
        );
        assert_eq!(
            business_days_between(NaiveDate::MAX, NaiveDate::MIN),
            -i64::from(open_at(usize::MAX))
        );
        assert_eq!(business_days_between(NaiveDate::MAX, LAST_DATE), 0);
    }

    /// The definition the table must agree with: walk day by day.
    fn walk_between(from: NaiveDate, to: NaiveDate) -> i64 {
        let (lo, hi, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        sign * lo
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= hi)
            .filter(|d| is_business_day(*d))
            .count() as i64
    }

    fn walk_add(start: NaiveDate, n: u32) -> NaiveDate {
        let mut days = start.iter_days().skip(usize::from(n > 0));
        let mut left = n.max(1);
        loop {
            let d = days.next().expect("test spans stay in the date type");
            if is_business_day(d) {
                left -= 1;
                if left == 0 {
                    return d;
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn table_agrees_with_walking(a in 0u32..36_000, b in 0u32..36_000, n in 0u32..600) {
            let from = FIRST_DATE + chrono::Days::new(u64::from(a));
            let to = FIRST_DATE + chrono::Days::new(u64::from(b));
            proptest::prop_assert_eq!(business_days_between(from, to), walk_between(from, to));
            // Past the last known date the table saturates where the walk goes on.
            proptest::prop_assert_eq!(add_business_days(from, n), walk_add(from, n).min(LAST_DATE));
        }

        #[test]
        fn any_date_is_total(a in proptest::num::i32::ANY, b in proptest::num::i32::ANY, n in proptest::num::u32::ANY) {
            let d = |x: i32| NaiveDate::from_num_days_from_ce_opt(x).unwrap_or(NaiveDate::MIN);
            let (from, to) = (d(a), d(b));
            let due = add_business_days(from, n);
            proptest::prop_assert!(is_known(due));
            let between = business_days_between(from, to);
            proptest::prop_assert!(between.abs() <= i64::from(open_at(usize::MAX)));
        }
    }

    #[test]
    fn between_counts_the_half_open_span() {
        assert_eq!(
            business_days_between(date(2026, 4, 28), date(2026, 4, 28)),
            0
        );
        assert_eq!(
            business_days_between(date(2026, 4, 28), date(2026, 5, 11)),
            5
        );
        assert_eq!(
            business_days_between(date(2026, 4, 28), date(2026, 5, 6)),
            2
        );
        assert_eq!(
            business_days_between(date(2026, 12, 25), date(2027, 1, 5)),
            3
        );
        // A whole year: 365 days less weekends, weekday holidays and closure weekdays.
        assert_eq!(
            business_days_between(date(2025, 12, 31), date(2026, 12, 31)),
            240
        );
    }

    #[test]
    fn between_is_antisymmetric() {
        let pairs = [
            (date(2026, 4, 28), date(2026, 5, 11)),
            (date(2026, 12, 20), date(2027, 1, 10)),
            (date(2019, 4, 26), date(2019, 5, 7)),
            (date(2025, 1, 1), date(2025, 1, 1)),
        ];
        for (a, b) in pairs {
            assert_eq!(
                business_days_between(a, b),
                -business_days_between(b, a),
                "{a} {b}"
            );
        }
        assert_eq!(
            business_days_between(date(2026, 5, 11), date(2026, 4, 28)),
            -5
        );
    }

    #[test]
    fn between_inverts_add() {
        let mut start = date(2025, 12, 1);
        while start < date(2027, 2, 1) {
            for n in 1..=25 {
                let due = add_business_days(start, n);
                assert_eq!(
                    business_days_between(start, due),
                    i64::from(n),
                    "{start} +{n}"
                );
                assert!(is_business_day(due), "{start} +{n} = {due}");
                // The day before the due date is still short of the target.
                let before = due.pred_opt().expect("not the first date");
                assert_eq!(business_days_between(start, before), i64::from(n) - 1);
            }
            start = start.succ_opt().expect("not the last date");
        }
    }
}
