//! The bigram analyzer (`kyoso_bigram`): overlapping character bigrams over
//! normalised text, for what the dictionary does not know (new names, rare
//! place names) at the price of matching inside other words (京都 in 東京都).
//!
//! Runs of ASCII letters and digits stay whole words; every other run of
//! letters (kanji, kana, ー) is cut into bigrams, a one-character run into a
//! unigram. Positions count tokens, so a phrase of consecutive bigrams
//! matches and a word never spans punctuation.
//!
//! At index time each run of two or more characters also ends with a unigram
//! of its last character, so a one-character query can be answered as a
//! prefix of the field's terms: 駅 then finds 駅前 (bigram 駅前) and 東京駅
//! (trailing unigram 駅), as an n-gram engine should. Queries are cut
//! without that trailing unigram, or a query phrase would demand it inside
//! the document's run.

use tantivy::tokenizer::{Token, Tokenizer};

use super::VecTokenStream;
use super::normalize::{LONG_VOWEL_MIN_CHARS, Normalized, is_katakana, is_plain_japanese};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Word,
    Cjk,
    Separator,
}

fn class_of(c: char) -> Class {
    if is_plain_japanese(c) {
        Class::Cjk
    } else if c.is_ascii_alphanumeric() {
        Class::Word
    } else if c.is_alphanumeric() {
        Class::Cjk
    } else {
        Class::Separator
    }
}

/// tantivy tokenizer producing the bigram stream.
#[derive(Clone, Copy, Debug)]
pub struct BigramTokenizer {
    /// True for indexing (adds the trailing unigram of each run).
    pub trailing_unigram: bool,
}

/// A character of the normalised text with its byte range in that text.
struct Ch {
    c: char,
    from: usize,
    to: usize,
}

impl BigramTokenizer {
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let norm = Normalized::new(text);
        let chars = fold_katakana_runs(&norm.text);
        let mut out = Vec::with_capacity(chars.len());
        let mut position = 0usize;
        let mut i = 0;
        while i < chars.len() {
            let class = class_of(chars[i].c);
            let mut j = i + 1;
            while j < chars.len() && class_of(chars[j].c) == class {
                j += 1;
            }
            let run = &chars[i..j];
            match class {
                Class::Separator => {}
                Class::Word => {
                    push(&mut out, &norm, run, &mut position);
                }
                Class::Cjk if run.len() == 1 => {
                    push(&mut out, &norm, run, &mut position);
                }
                Class::Cjk => {
                    for pair in run.windows(2) {
                        push(&mut out, &norm, pair, &mut position);
                    }
                    if self.trailing_unigram {
                        push(&mut out, &norm, &run[run.len() - 1..], &mut position);
                    }
                }
            }
            i = j;
        }
        out
    }
}

fn push(out: &mut Vec<Token>, norm: &Normalized, chars: &[Ch], position: &mut usize) {
    let (from, to) = (chars[0].from, chars[chars.len() - 1].to);
    let (offset_from, offset_to) = norm.original_range(from, to);
    out.push(Token {
        offset_from,
        offset_to,
        position: *position,
        text: chars.iter().map(|c| c.c).collect(),
        position_length: 1,
    });
    *position += 1;
}

/// The characters of `text`, minus the trailing ー of each katakana run of
/// four or more characters (the same fold the morphological field applies
/// per word: サーバー管理 and サーバ管理 give the same bigrams).
fn fold_katakana_runs(text: &str) -> Vec<Ch> {
    let mut chars: Vec<Ch> = text
        .char_indices()
        .map(|(from, c)| Ch {
            c,
            from,
            to: from + c.len_utf8(),
        })
        .collect();
    let mut run_len = 0usize;
    let mut drop = Vec::new();
    for i in 0..chars.len() {
        if is_katakana(chars[i].c) {
            run_len += 1;
            let run_ends = chars.get(i + 1).is_none_or(|n| !is_katakana(n.c));
            if run_ends && chars[i].c == 'ー' && run_len >= LONG_VOWEL_MIN_CHARS {
                drop.push(i);
            }
        } else {
            run_len = 0;
        }
    }
    for &i in drop.iter().rev() {
        chars.remove(i);
    }
    chars
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(self.tokens(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(t: &BigramTokenizer, s: &str) -> Vec<String> {
        t.tokens(s)
            .into_iter()
            .map(|t| format!("{}@{}", t.text, t.position))
            .collect()
    }

    #[test]
    fn bigrams_words_and_unigrams() {
        let q = BigramTokenizer {
            trailing_unigram: false,
        };
        assert_eq!(
            show(&q, "京都と東京都"),
            ["京都@0", "都と@1", "と東@2", "東京@3", "京都@4"]
        );
        assert_eq!(show(&q, "ＤＸ推進"), ["dx@0", "推進@1"]);
        assert_eq!(show(&q, "市、IoT"), ["市@0", "iot@1"]);
        assert_eq!(show(&q, "ｻｰﾊﾞｰ"), show(&q, "サーバ"));
        assert_eq!(show(&q, "サーバー管理"), show(&q, "サーバ管理"));
        assert_eq!(show(&q, "ルール"), ["ルー@0", "ール@1"]);
    }

    #[test]
    fn index_side_adds_trailing_unigram() {
        let d = BigramTokenizer {
            trailing_unigram: true,
        };
        assert_eq!(show(&d, "東京駅 前"), ["東京@0", "京駅@1", "駅@2", "前@3"]);
    }

    #[test]
    fn offsets_point_into_original() {
        let d = BigramTokenizer {
            trailing_unigram: false,
        };
        let text = "ＡＩ活用";
        let toks = d.tokens(text);
        assert_eq!(&text[toks[0].offset_from..toks[0].offset_to], "ＡＩ");
        assert_eq!(&text[toks[1].offset_from..toks[1].offset_to], "活用");
    }
}
