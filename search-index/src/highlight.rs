//! Snippets: a hit's stored title or body with the query's words marked, found
//! without running the morphological analyser over the stored text.
//!
//! Re-analysing every hit's title and body with lindera (tantivy's
//! `SnippetGenerator` over the `_ja` and `_bi` analyzers) cost about 0.9 ms per
//! hit, most of a search request. Here the query alone is analysed, once per
//! search; each stored text is only normalised the cheap way (the same NFKC,
//! lowercase and offset map both analyzers start with) and searched for the
//! query's forms as plain substrings, which are then mapped back to the
//! original text, escaped and marked.
//!
//! What counts as a match, per positive query word:
//! - its *word forms*: the morphological query tokens (normalised, long vowel
//!   folded: サーバー → サーバ), the surface each token was cut from, and for
//!   an inflected word the stem its surface and base form share (見守っ /
//!   見守る → 見守);
//! - when none of those occurs in the text, its *bigrams* (what the `_bi`
//!   fields matched, e.g. 京都 inside 東京都, 見守 in 見守り for 見守った).
//!
//! Substrings do not see morpheme boundaries: a word form may be marked inside
//! a longer word (京都 in 東京都) where the morphological analysis would not
//! cut it out. Such a hit matched there on the bigram fields anyway, so the
//! mark still shows why it was found. ASCII forms (dx, ai) are only marked as
//! whole ASCII words, as the bigram analyzer cuts them, so ai is not marked
//! inside "daily".

use crate::analysis::Analyzers;
use crate::analysis::normalize::{Normalized, is_katakana, normalize};
use crate::query::ParsedQuery;

/// Bytes of context kept before the first mark when the window has room
/// (about twelve Japanese characters).
const LEAD_BYTES: usize = 36;

/// The forms of one query word (see the module comment).
#[derive(Debug, Default)]
struct Needles {
    words: Vec<String>,
    grams: Vec<String>,
}

/// The forms to mark for one search, built once from the query.
#[derive(Debug, Default)]
pub(crate) struct Highlighter {
    terms: Vec<Needles>,
}

impl Highlighter {
    /// The forms of the query's positive words (exclusions are never marked).
    pub(crate) fn new(analyzers: &Analyzers, parsed: &ParsedQuery) -> Highlighter {
        let mut terms = Vec::new();
        for term in parsed.positive() {
            let mut n = Needles::default();
            for t in analyzers.ja_query_tokens(&term.text) {
                let surface = term
                    .text
                    .get(t.offset_from..t.offset_to)
                    .map(normalize)
                    .unwrap_or_default();
                let stem = common_prefix(&surface, &t.text);
                if stem != surface && stem != t.text && stem.chars().nth(1).is_some() {
                    push_unique(&mut n.words, stem.to_string());
                }
                push_unique(&mut n.words, surface);
                push_unique(&mut n.words, t.text);
            }
            let grams: Vec<String> = analyzers
                .bigram_query_tokens(&term.text)
                .into_iter()
                .map(|t| t.text)
                .collect();
            // A one-character token between two runs (生成ＡＩ → 生成 成 ai) only
            // counts inside its phrase; alone it would mark every 成.
            let longer = grams.iter().any(|g| g.chars().nth(1).is_some());
            for g in grams {
                if !longer || g.chars().nth(1).is_some() {
                    push_unique(&mut n.grams, g);
                }
            }
            n.words.retain(|w| !w.is_empty());
            if !n.words.is_empty() || !n.grams.is_empty() {
                terms.push(n);
            }
        }
        Highlighter { terms }
    }

    /// HTML for `text`: the window of at most `max_bytes` bytes holding the most
    /// marks, matches in `<mark>`, everything else escaped. A text with no match
    /// shows its first `head_chars` characters.
    pub(crate) fn snippet(&self, text: &str, max_bytes: usize, head_chars: usize) -> String {
        let ranges = self.matches(text);
        let Some((start, end)) = window(text, &ranges, max_bytes) else {
            let head: String = text.chars().take(head_chars).collect();
            return htmlescape::encode_minimal(&head);
        };
        let mut out = String::with_capacity(end - start + ranges.len() * 13);
        let mut at = start;
        for &(from, to) in &ranges {
            let (from, to) = (from.max(start), to.min(end));
            if from >= to || from < at {
                continue;
            }
            let (Some(before), Some(marked)) = (text.get(at..from), text.get(from..to)) else {
                continue;
            };
            out.push_str(&htmlescape::encode_minimal(before));
            out.push_str("<mark>");
            out.push_str(&htmlescape::encode_minimal(marked));
            out.push_str("</mark>");
            at = to;
        }
        out.push_str(&htmlescape::encode_minimal(text.get(at..end).unwrap_or("")));
        out
    }

    /// Byte ranges of `text` to mark, sorted, overlapping and touching ones merged
    /// (the bigrams 東京 + 京都 give one mark).
    fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        if self.terms.is_empty() || text.is_empty() {
            return Vec::new();
        }
        let norm = Normalized::new(text);
        let mut found: Vec<(usize, usize)> = Vec::new();
        for term in &self.terms {
            let before = found.len();
            for w in &term.words {
                find_all(&norm.text, w, &mut found);
            }
            if found.len() == before {
                for g in &term.grams {
                    find_all(&norm.text, g, &mut found);
                }
            }
        }
        let mut ranges: Vec<(usize, usize)> = found
            .into_iter()
            .map(|(from, to)| norm.original_range(from, to))
            .filter(|(from, to)| from < to)
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        merged
    }
}

fn push_unique(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) {
        list.push(s);
    }
}

/// The longest common prefix of `a` and `b`, on character boundaries.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let len: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    a.get(..len).unwrap_or("")
}

/// Every occurrence of `needle` in the normalised `hay`, as byte ranges of `hay`.
/// An ASCII word must not continue into neighbouring ASCII letters or digits;
/// a match ending in katakana takes the long-vowel mark after it, which the
/// analyzers fold away (サーバ marks all of サーバー).
fn find_all(hay: &str, needle: &str, out: &mut Vec<(usize, usize)>) {
    if needle.is_empty() {
        return;
    }
    let starts_ascii = needle.starts_with(|c: char| c.is_ascii_alphanumeric());
    let ends_ascii = needle.ends_with(|c: char| c.is_ascii_alphanumeric());
    let ends_katakana = needle.ends_with(is_katakana);
    for (from, _) in hay.match_indices(needle) {
        let mut to = from + needle.len();
        if starts_ascii
            && hay
                .get(..from)
                .and_then(|s| s.chars().next_back())
                .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        let next = hay.get(to..).and_then(|s| s.chars().next());
        if ends_ascii && next.is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        if ends_katakana && next == Some('ー') {
            to += 'ー'.len_utf8();
        }
        out.push((from, to));
    }
}

/// The window of `text` to show: at most `max_bytes` bytes (on character
/// boundaries) starting a little before the first of the most marks that fit
/// together; `None` when nothing is marked.
fn window(text: &str, ranges: &[(usize, usize)], max_bytes: usize) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None; // (count, index of first range)
    for (i, &(from, _)) in ranges.iter().enumerate() {
        let count = ranges
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&(_, to)| to - from <= max_bytes)
            .count()
            .max(1);
        if best.is_none_or(|(c, _)| count > c) {
            best = Some((count, i));
        }
    }
    let (count, i) = best?;
    let &(first, _) = ranges.get(i)?;
    // A mark is never cut inside a character, even by a window narrower than it.
    let last = ceil_boundary(
        text,
        ranges
            .get(i + count - 1)
            .map_or(first, |&(_, to)| to)
            .min(first + max_bytes),
    );
    // Context before the first mark, as much as the window leaves room for,
    // starting after a sentence end when one is near.
    let slack = max_bytes.saturating_sub(last - first);
    let mut start = floor_boundary(text, first.saturating_sub(slack.min(LEAD_BYTES)));
    if let Some(lead) = text.get(start..first)
        && let Some(stop) = lead.rfind(['。', '！', '？', '\n'])
    {
        let after = lead.get(stop..).and_then(|s| s.chars().next());
        start += stop + after.map_or(0, char::len_utf8);
    }
    let end = floor_boundary(text, start + max_bytes).max(last);
    Some((start, end))
}

/// The smallest character boundary of `text` at or after `i`.
fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The largest character boundary of `text` at or before `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_support::analyzers;
    use crate::query::parse;

    fn snip(query: &str, text: &str, max: usize) -> String {
        Highlighter::new(analyzers(), &parse(query).unwrap()).snippet(text, max, 40)
    }

    /// The marked parts of a snippet.
    fn marks(html: &str) -> Vec<String> {
        html.split("<mark>")
            .skip(1)
            .filter_map(|s| s.split_once("</mark>").map(|(m, _)| m.to_string()))
            .collect()
    }

    #[test]
    fn words_are_marked_and_the_rest_escaped() {
        let s = snip("サーバー 解析", "サーバーで画像を解析します <b>&</b>", 160);
        assert_eq!(
            s,
            "<mark>サーバー</mark>で画像を<mark>解析</mark>します &lt;b&gt;&amp;&lt;/b&gt;"
        );
    }

    #[test]
    fn html_in_the_text_never_becomes_markup() {
        let s = snip(
            "script",
            "<script>alert('x')</script> & \"script\" <mark>x</mark>",
            200,
        );
        assert!(!s.contains("<script"), "{s}");
        assert!(!s.contains("<mark>x"), "{s}");
        assert_eq!(marks(&s), ["script", "script", "script"]);
        // What remains after removing our marks has no tag at all.
        let plain = s.replace("<mark>", "").replace("</mark>", "");
        assert!(!plain.contains('<') && !plain.contains('>'), "{plain}");
    }

    #[test]
    fn width_and_case_variants_are_marked_in_the_original_spelling() {
        assert_eq!(marks(&snip("DX", "自治体のＤＸ推進", 160)), ["ＤＸ"]);
        assert_eq!(marks(&snip("ｄｘ", "自治体のDX推進", 160)), ["DX"]);
        assert_eq!(marks(&snip("サーバー", "ｻｰﾊﾞｰの更新", 160)), ["ｻｰﾊﾞｰ"]);
        assert_eq!(marks(&snip("ｻｰﾊﾞｰ", "サーバの更新", 160)), ["サーバ"]);
        // ㈱ becomes (株): a match inside the expansion marks the whole sign.
        assert_eq!(marks(&snip("株", "㈱横浜", 160)), ["㈱"]);
        // A decomposed ガ (カ + U+3099) is one normalised character.
        assert_eq!(
            marks(&snip("ガス", "カ\u{3099}ス料金", 160)),
            ["カ\u{3099}ス"]
        );
    }

    #[test]
    fn ascii_words_are_not_marked_inside_other_words() {
        let s = snip("AI", "daily AI use, Aid", 160);
        assert_eq!(marks(&s), ["AI"]);
    }

    #[test]
    fn bigrams_mark_what_the_word_forms_miss() {
        // 京都 inside 東京都: found through the bigram field, still marked.
        assert_eq!(marks(&snip("京都", "東京都の防災", 160)), ["京都"]);
        // An inflected query word marks the stem it shares with the text.
        assert_eq!(
            marks(&snip("見守った", "高齢者の見守り活動", 160)),
            ["見守"]
        );
        // Per word: one word's forms do not stop another's bigrams.
        let s = snip("高齢者 見守った", "高齢者の見守り活動", 160);
        assert_eq!(marks(&s), ["高齢者", "見守"]);
    }

    #[test]
    fn exclusions_are_not_marked() {
        let s = snip("防災 -観光", "防災と観光", 160);
        assert_eq!(marks(&s), ["防災"]);
    }

    #[test]
    fn no_match_shows_the_head() {
        let text = "あ".repeat(100);
        let s = snip("防災", &text, 160);
        assert_eq!(s, "あ".repeat(40));
        assert_eq!(snip("防災", "", 160), "");
        // Exclusions only: nothing to mark.
        assert_eq!(snip("-防災", "防災と<b>", 160), "防災と&lt;b&gt;");
    }

    #[test]
    fn long_bodies_show_the_window_with_the_most_marks() {
        let filler = "関係のない文章が続きます。".repeat(200);
        let text = format!("{filler}最初に防災。{filler}防災訓練と防災計画と防災無線。{filler}");
        let s = snip("防災", &text, 160);
        assert_eq!(marks(&s).len(), 3, "{s}");
        assert!(s.len() <= 160 + 3 * 13, "{} bytes: {s}", s.len());
        // The window starts after the sentence end before the marks.
        assert!(s.starts_with("<mark>防災</mark>訓練"), "{s}");
    }

    #[test]
    fn windows_stay_on_character_boundaries() {
        // Multi-byte text of every length around the window's edges.
        for n in 0..80 {
            let text = format!("{}防災{}", "ア".repeat(n), "イ".repeat(n));
            for max in [1, 2, 3, 5, 8, 13, 40, 160] {
                let s = snip("防災", &text, max);
                assert!(s.contains("<mark>防"), "{n} {max}: {s}");
            }
        }
        // A match longer than the window is cut at the window.
        let s = snip("防災計画", "防災計画", 4);
        assert_eq!(s, "<mark>防災</mark>");
    }

    #[test]
    fn odd_unicode_never_panics() {
        let texts = [
            "\u{0301}\u{0301}防災",
            "😀防災😀",
            "ﾞﾟ",
            "\u{FEFF}ＤＸ\u{200B}dx",
            "Ⅻ ㍻ ﬁ ß İ",
            "\u{10FFFF}",
        ];
        for text in texts {
            for q in ["防災", "dx", "ﬁ", "i", "ss", "平成", "12"] {
                let s = snip(q, text, 10);
                let plain = s.replace("<mark>", "").replace("</mark>", "");
                assert!(!plain.contains('<'), "{q} {text:?}: {s}");
            }
        }
        assert_eq!(marks(&snip("ﬁ", "a ﬁ b", 160)), ["ﬁ"]);
        assert_eq!(marks(&snip("平成", "㍻元年", 160)), ["㍻"]);
    }
}
