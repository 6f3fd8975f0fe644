//! Character normalisation shared by both analyzers: NFKC, lowercase, and the
//! katakana long-vowel fold.
//!
//! The normalised text is what the segmenters see, but tokens must point into
//! the caller's original text: snippets highlight the stored (raw) title and
//! body, so every normalised byte remembers which original bytes produced it.

use std::cell::RefCell;
use std::rc::Rc;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Normalised text plus a map from its bytes back to the original text.
///
/// Most characters of Japanese text normalise to themselves, so the map
/// only lists the clusters that do not ([`Changed`]); between them the
/// normalised bytes are the original bytes shifted by a constant. (A map
/// entry per byte was a visible share of indexing time.)
#[derive(Debug)]
pub struct Normalized {
    pub text: String,
    /// The clusters whose normalised form is not one character of the
    /// original's length, in text order.
    changed: Vec<Changed>,
}

/// One cluster whose normalised bytes do not line up with its original
/// bytes: `norm_start..norm_end` in the normalised text came from
/// `orig_start..orig_end` in the original (`norm_start == norm_end` when
/// it normalised to nothing).
#[derive(Debug, Clone, Copy)]
struct Changed {
    norm_start: u32,
    norm_end: u32,
    orig_start: u32,
    orig_end: u32,
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
        let mut changed = Vec::new();
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
            let single = end == start + first.len_utf8();
            if single {
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
            // One character in, one character of the same length out
            // (unchanged kana and kanji, A → a): its bytes line up with the
            // original's, so the shift of the clusters before it applies.
            let lines_up = single
                && text.len() - before == end - start
                && text
                    .get(before..)
                    .is_some_and(|out| out.chars().nth(1).is_none());
            if !lines_up {
                changed.push(Changed {
                    norm_start: before as u32,
                    norm_end: text.len() as u32,
                    orig_start: start as u32,
                    orig_end: end as u32,
                });
            }
        }
        Normalized { text, changed }
    }

    /// The original position of normalised byte `at` (`at` < text length):
    /// its cluster's original range when that cluster changed, else the
    /// original range of that very byte.
    fn original_of(&self, at: usize) -> (usize, usize) {
        let at32 = at as u32;
        let k = self.changed.partition_point(|c| c.norm_start <= at32);
        match k.checked_sub(1).and_then(|i| self.changed.get(i)) {
            Some(c) if at32 < c.norm_end => (c.orig_start as usize, c.orig_end as usize),
            Some(c) => {
                // After `c`, bytes line up with the original again.
                let o = (at + c.orig_end as usize).saturating_sub(c.norm_end as usize);
                (o, o + 1)
            }
            None => (at, at + 1),
        }
    }

    /// Map a byte range of the normalised text back to the original text.
    ///
    /// A range that starts or ends inside one cluster's expansion (㈱ → (株))
    /// widens to the whole cluster, so the result is always a valid,
    /// non-empty slice of the original when `from` and `to` are char
    /// boundaries of the normalised text (as token boundaries are).
    pub fn original_range(&self, from: usize, to: usize) -> (usize, usize) {
        if from >= to || to > self.text.len() {
            return (0, 0);
        }
        (self.original_of(from).0, self.original_of(to - 1).1)
    }
}

/// A text and its normalisation, as remembered by `RECENT`.
type Remembered = Option<(String, Rc<Normalized>)>;

thread_local! {
    /// The last texts normalised on this thread. tantivy analyses a
    /// document's fields in field order, so each title and body is seen by
    /// the morphological analyzer and then, two texts later, by the bigram
    /// analyzer; both share one normalisation.
    static RECENT: RefCell<[Remembered; 2]> = const { RefCell::new([None, None]) };
}

/// [`Normalized::new`], shared with the previous caller on this thread
/// that normalised the same text (see `RECENT`).
pub fn normalized_shared(original: &str) -> Rc<Normalized> {
    RECENT.with_borrow_mut(|recent| {
        for (text, norm) in recent.iter().flatten() {
            if text == original {
                return Rc::clone(norm);
            }
        }
        let norm = Rc::new(Normalized::new(original));
        recent.rotate_left(1);
        if let Some(last) = recent.last_mut() {
            *last = Some((original.to_string(), Rc::clone(&norm)));
        }
        norm
    })
}

fn push_single(text: &mut String, c: char) {
    if c.is_ascii() {
        text.push(c.to_ascii_lowercase());
    } else if is_plain_japanese(c) || is_plain_punctuation(c) {
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
        && !is_plain_punctuation(c)
        && (canonical_combining_class(c) != 0 || c == '\u{FF9E}' || c == '\u{FF9F}')
}

/// Hiragana, katakana (without the compatibility forms ゛゜ゟヿ) and CJK
/// unified ideographs: unchanged by NFKC and lowercasing.
pub fn is_plain_japanese(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{4E00}'..='\u{9FFF}')
}

/// Japanese punctuation that NFKC and lowercasing leave alone and that
/// never combines: 、。〃々〆〇, the brackets 〈〉《》「」『』【】〔〕〖〗〘〙〚〛,
/// 〜 and ・. (Not U+3000, the ideographic space, which NFKC turns into a
/// space.)
fn is_plain_punctuation(c: char) -> bool {
    matches!(c, '\u{3001}'..='\u{3007}' | '\u{3008}'..='\u{301C}' | '\u{30FB}')
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
    fn plain_punctuation_agrees_with_nfkc() {
        for c in ('\u{3000}'..='\u{303F}').chain(std::iter::once('\u{30FB}')) {
            if !is_plain_punctuation(c) {
                continue;
            }
            let n: String = std::iter::once(c)
                .nfkc()
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(n, c.to_string(), "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        }
        assert!(!is_plain_punctuation('\u{3000}'));
    }

    /// The compact offset map answers like a map entry per normalised byte
    /// (the cluster each byte came from), for every range between char
    /// boundaries of the normalised text.
    #[test]
    fn offset_map_agrees_with_per_byte_map() {
        for original in [
            "ＤＸ推進、ｻｰﾊﾞｰの㈱ａＢｃ。「ＡＩ」・ĳ①〜ｶﾞ",
            "e\u{301}cole Straße İstanbul ﬁ ㌔ 2025年度",
            "",
            "かな漢字のみ",
            "\u{301}先頭の結合文字",
        ] {
            let n = Normalized::new(original);
            // The reference: the cluster of every output byte, built as
            // the per-byte map did.
            let mut starts = Vec::new();
            let mut ends = Vec::new();
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
                let mut out = String::new();
                if end == start + first.len_utf8() {
                    push_single(&mut out, first);
                } else {
                    for c in original.get(start..end).unwrap().nfkc() {
                        out.extend(c.to_lowercase());
                    }
                }
                let one_char_same_len = end == start + first.len_utf8()
                    && out.len() == end - start
                    && out.chars().count() == 1;
                for k in 0..out.len() {
                    if one_char_same_len {
                        starts.push(start + k);
                        ends.push(start + k + 1);
                    } else {
                        starts.push(start);
                        ends.push(end);
                    }
                }
            }
            assert_eq!(starts.len(), n.text.len(), "{original}");
            let bounds: Vec<usize> = n
                .text
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(n.text.len()))
                .collect();
            for (a, &from) in bounds.iter().enumerate() {
                for &to in &bounds[a + 1..] {
                    let got = n.original_range(from, to);
                    assert_eq!(
                        got,
                        (starts[from], ends[to - 1]),
                        "{original}: {from}..{to}"
                    );
                    assert!(original.get(got.0..got.1).is_some_and(|s| !s.is_empty()));
                }
            }
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
