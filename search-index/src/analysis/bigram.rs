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

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::MAX_TOKEN_BYTES;
use std::rc::Rc;

use super::normalize::{
    LONG_VOWEL_MIN_CHARS, Normalized, is_katakana, is_plain_japanese, normalized_shared,
};

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
        let mut stream = self.stream(text);
        let mut out = Vec::with_capacity(stream.spans.len());
        while stream.advance() {
            out.push(stream.token.clone());
        }
        out
    }

    /// The token stream of `text`. Tokens are cut up front as character
    /// spans (one allocation per text); each token's text is then written
    /// into one reused buffer, which keeps allocation out of the per-token
    /// path of indexing.
    pub fn stream(&self, text: &str) -> BigramTokenStream {
        let norm = normalized_shared(text);
        let chars = fold_katakana_runs(&norm.text);
        // Runs of one class, separators left out.
        let mut runs: Vec<(Class, usize, usize)> = Vec::new();
        let mut i = 0;
        while let Some(first) = chars.get(i) {
            let class = class_of(first.c);
            let mut j = i + 1;
            while chars.get(j).is_some_and(|ch| class_of(ch.c) == class) {
                j += 1;
            }
            if class != Class::Separator {
                runs.push((class, i, j));
            }
            i = j;
        }
        let mut spans: Vec<(u32, u32)> = Vec::with_capacity(chars.len() + runs.len());
        for (k, &(class, i, j)) in runs.iter().enumerate() {
            match class {
                Class::Cjk if j - i > 1 => {
                    spans.extend((i..j - 1).map(|c| (c as u32, c as u32 + 2)));
                    // The index ends every run with its trailing unigram; a
                    // query does too, except after its last run, so that
                    // the positions of a word spanning runs (生成AI: 生成 成 ai)
                    // line up with the document's.
                    if self.trailing_unigram || k + 1 < runs.len() {
                        spans.push((j as u32 - 1, j as u32));
                    }
                }
                _ => spans.push((i as u32, j as u32)),
            }
        }
        BigramTokenStream {
            norm,
            chars,
            spans,
            next: 0,
            token: Token::default(),
        }
    }
}

/// The bigram analyzer's token stream (see [`BigramTokenizer::stream`]).
pub struct BigramTokenStream {
    norm: Rc<Normalized>,
    chars: Vec<Ch>,
    /// Character ranges of the tokens; a token's position is its index.
    spans: Vec<(u32, u32)>,
    next: usize,
    token: Token,
}

impl TokenStream for BigramTokenStream {
    fn advance(&mut self) -> bool {
        while let Some(&(from, to)) = self.spans.get(self.next) {
            let position = self.next;
            self.next += 1;
            // Spans are non-empty ranges of `chars` (see `stream`), so
            // this never skips; a bad span would only lose its token.
            let Some(chars) = self.chars.get(from as usize..to as usize) else {
                continue;
            };
            let (Some(first), Some(last)) = (chars.first(), chars.last()) else {
                continue;
            };
            let (start, end) = (first.from, last.to);
            if end - start > MAX_TOKEN_BYTES {
                // Too long to be searched; its position stays used.
                continue;
            }
            let (offset_from, offset_to) = self.norm.original_range(start, end);
            let t = &mut self.token;
            t.text.clear();
            t.text.extend(chars.iter().map(|c| c.c));
            t.offset_from = offset_from;
            t.offset_to = offset_to;
            t.position = position;
            t.position_length = 1;
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// The characters of `text`, minus the trailing ー of each katakana run of
/// four or more characters (the same fold the morphological field applies
/// per word: サーバー管理 and サーバ管理 give the same bigrams).
fn fold_katakana_runs(text: &str) -> Vec<Ch> {
    let mut chars: Vec<Ch> = Vec::with_capacity(text.len() / 2);
    let mut run_len = 0usize;
    for (from, c) in text.char_indices() {
        if is_katakana(c) {
            run_len += 1;
        } else {
            if run_len >= LONG_VOWEL_MIN_CHARS && chars.last().is_some_and(|l| l.c == 'ー') {
                chars.pop();
            }
            run_len = 0;
        }
        chars.push(Ch {
            c,
            from,
            to: from + c.len_utf8(),
        });
    }
    if run_len >= LONG_VOWEL_MIN_CHARS && chars.last().is_some_and(|l| l.c == 'ー') {
        chars.pop();
    }
    chars
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = BigramTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramTokenStream {
        self.stream(text)
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
        // A run followed by another keeps its trailing unigram, as indexed.
        assert_eq!(show(&q, "生成ＡＩ"), ["生成@0", "成@1", "ai@2"]);
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
        assert_eq!(
            text.get(toks[0].offset_from..toks[0].offset_to),
            Some("ＡＩ")
        );
        assert_eq!(
            text.get(toks[1].offset_from..toks[1].offset_to),
            Some("活用")
        );
    }
}
