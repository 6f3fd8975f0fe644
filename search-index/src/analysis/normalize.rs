//! Character normalisation shared by both analyzers: NFKC, lowercase, and the
//! katakana long-vowel fold.
//!
//! The normalised text is what the segmenters see, but tokens must point into
//! the caller's original text: snippets highlight the stored (raw) title and
//! body, so every normalised byte remembers which original bytes produced it.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Normalised text plus a map from its bytes back to the original text.
#[derive(Debug)]
pub struct Normalized {
    pub text: String,
    /// For each byte of `text`: start (in the original) of the cluster it came from.
    orig_start: Vec<u32>,
    /// For each byte of `text`: end (in the original) of the cluster it came from.
    orig_end: Vec<u32>,
}

impl Normalized {
    /// NFKC + lowercase `original`, keeping the offset map.
    ///
    /// NFKC runs per cluster (a base character and the combining marks after
    /// it) rather than over the whole string, so that every output byte has
    /// exactly one source cluster. Half-width ﾞ and ﾟ count as combining marks
    /// here because NFKC turns them into U+3099/U+309A, which compose with
    /// the kana before them (ｶﾞ → ガ).
    pub fn new(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut orig_start = Vec::with_capacity(original.len());
        let mut orig_end = Vec::with_capacity(original.len());
        let mut chars = original.char_indices().peekable();
        while let Some((start, first)) = chars.next() {
            let mut end = start + first.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if !is_combining(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let before = text.len();
            if end == start + first.len_utf8() {
                push_single(&mut text, first);
            } else if let Some(cluster) = original.get(start..end) {
                for c in cluster.nfkc() {
                    text.extend(c.to_lowercase());
                }
            } else {
                // Not reached: `start` and `end` both come from
                // `char_indices` of `original`, so they are char boundaries.
                push_single(&mut text, first);
            }
            let added = text.len() - before;
            orig_start.extend(std::iter::repeat_n(start as u32, added));
            orig_end.extend(std::iter::repeat_n(end as u32, added));
        }
        Normalized {
            text,
            orig_start,
            orig_end,
        }
    }

    /// Map a byte range of the normalised text back to the original text.
    ///
    /// A range that starts or ends inside one cluster's expansion (㈱ → (株))
    /// widens to the whole cluster, so the result is always a valid,
    /// non-empty slice of the original.
    pub fn original_range(&self, from: usize, to: usize) -> (usize, usize) {
        if from >= to || to > self.text.len() {
            return (0, 0);
        }
        // Both maps have one entry per byte of `text`, and from < to <= its length.
        match (self.orig_start.get(from), self.orig_end.get(to - 1)) {
            (Some(&start), Some(&end)) => (start as usize, end as usize),
            _ => (0, 0),
        }
    }
}

fn push_single(text: &mut String, c: char) {
    if c.is_ascii() {
        text.push(c.to_ascii_lowercase());
    } else if is_plain_japanese(c) {
        // Most characters of Japanese text: already NFKC, no case. Skipping
        // the quick-check and case tables here is a measurable share of
        // indexing time.
        text.push(c);
    } else if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
        text.extend(c.to_lowercase());
    } else {
        for n in std::iter::once(c).nfkc() {
            text.extend(n.to_lowercase());
        }
    }
}

fn is_combining(c: char) -> bool {
    // Plain kana and kanji never combine; testing them first skips the
    // combining-class table for most characters of Japanese text.
    !c.is_ascii()
        && !is_plain_japanese(c)
        && (canonical_combining_class(c) != 0 || c == '\u{FF9E}' || c == '\u{FF9F}')
}

/// Hiragana, katakana (without the compatibility forms ゛゜ゟヿ) and CJK
/// unified ideographs: unchanged by NFKC and lowercasing.
pub fn is_plain_japanese(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{4E00}'..='\u{9FFF}')
}

/// NFKC + lowercase without the offset map, for short strings such as
/// dictionary entries and filter values.
pub fn normalize(text: &str) -> String {
    Normalized::new(text).text
}

/// Katakana letters and the marks that live inside katakana words.
pub fn is_katakana(c: char) -> bool {
    matches!(
        c,
        '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{30FD}' | '\u{30FE}'
    )
}

/// Length in characters from which a trailing ー is dropped (Kuromoji's rule:
/// サーバー → サーバ, but ルール keeps its ー because short words change meaning).
pub const LONG_VOWEL_MIN_CHARS: usize = 4;

/// Drop the trailing long-vowel mark of an all-katakana word of four or more
/// characters, so that サーバー, サーバ and ｻｰﾊﾞｰ index alike.
pub fn fold_long_vowel(word: &mut String) {
    if word.ends_with('ー')
        && word.chars().all(is_katakana)
        && word.chars().count() >= LONG_VOWEL_MIN_CHARS
    {
        word.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_lowercase_and_offsets() {
        let n = Normalized::new("ＤＸ推進");
        assert_eq!(n.text, "dx推進");
        // "dx" maps back to the two full-width letters (3 bytes each).
        assert_eq!(n.original_range(0, 2), (0, 6));
        assert_eq!(n.original_range(2, 8), (6, 12));
    }

    #[test]
    fn fast_path_agrees_with_nfkc() {
        for c in ('\u{3041}'..='\u{3096}')
            .chain('\u{30A1}'..='\u{30FA}')
            .chain('\u{4E00}'..='\u{9FFF}')
            .chain(std::iter::once('ー'))
        {
            assert!(is_plain_japanese(c));
            let n: String = std::iter::once(c)
                .nfkc()
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(n, c.to_string(), "{c:?}");
        }
    }

    #[test]
    fn half_width_voiced_marks_compose() {
        let n = Normalized::new("ｻｰﾊﾞｰ");
        assert_eq!(n.text, "サーバー");
        assert_eq!(n.original_range(0, n.text.len()), (0, "ｻｰﾊﾞｰ".len()));
        // バ comes from ﾊﾞ (two half-width chars, 6 bytes).
        assert_eq!(n.original_range(6, 9), (6, 12));
    }

    #[test]
    fn expansion_maps_to_whole_cluster() {
        let n = Normalized::new("㈱ａ");
        assert_eq!(n.text, "(株)a");
        assert_eq!(n.original_range(1, 4), (0, 3));
    }

    #[test]
    fn long_vowel_fold() {
        for (input, want) in [
            ("サーバー", "サーバ"),
            ("ユーザー", "ユーザ"),
            ("ルール", "ルール"),
            ("ドローン", "ドローン"),
            ("データー", "データ"),
            ("abcー", "abcー"),
        ] {
            let mut s = input.to_string();
            fold_long_vowel(&mut s);
            assert_eq!(s, want, "{input}");
        }
    }
}
