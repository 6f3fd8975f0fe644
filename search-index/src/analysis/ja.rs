//! The morphological analyzer (`kyoso_ja`): NFKC → lindera (IPADIC, decompose
//! mode, user dictionary) → part-of-speech filter → long-vowel fold.
//!
//! Kept: nouns as written, verbs and adjectives in their base form (so 見守る
//! and 見守った meet), alphabet symbols (IPADIC files full-width letters
//! under 記号/アルファベット; ＤＸ must survive). Dropped: particles,
//! auxiliaries, symbols and punctuation, conjunctions, fillers, and the
//! grammatical nouns (非自立 こと/もの/ため, pronouns) that carry no topic; a
//! dropped token still uses up its position, so phrases stay exact.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use lindera::segmenter::Segmenter;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::VecTokenStream;
use super::normalize::{Normalized, fold_long_vowel};

/// tantivy tokenizer over a shared lindera segmenter.
#[derive(Clone)]
pub struct JaTokenizer {
    segmenter: Arc<Segmenter>,
}

impl JaTokenizer {
    pub fn new(segmenter: Arc<Segmenter>) -> JaTokenizer {
        JaTokenizer { segmenter }
    }

    /// Analyse `text` into tokens whose offsets point into `text` itself.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let norm = Normalized::new(text);
        let Ok(morphemes) = self.segmenter.segment(Cow::Borrowed(norm.text.as_str())) else {
            // lindera only fails on internal errors; a document without
            // morphological tokens is still found through the bigram field.
            return Vec::new();
        };
        let mut out = Vec::with_capacity(morphemes.len());
        for (position, mut m) in morphemes.into_iter().enumerate() {
            let (from, to) = (m.byte_start, m.byte_end);
            let surface = &norm.text[from..to];
            // IPADIC files unknown symbols (-, ・, emoji) as 名詞/サ変接続, so
            // the part of speech alone does not catch all punctuation.
            if !surface.chars().any(char::is_alphanumeric) {
                continue;
            }
            let key = (
                m.word_id.id(),
                m.word_id.is_system(),
                m.word_id.is_unknown(),
            );
            let form = FORMS.with_borrow_mut(|forms| {
                forms
                    .entry(key)
                    .or_insert_with(|| decide(&m.details()))
                    .clone()
            });
            let mut text = match form {
                Form::Drop => continue,
                Form::Surface => surface.trim().to_string(),
                Form::Base(base) => base.to_string(),
            };
            if text.is_empty() {
                continue;
            }
            fold_long_vowel(&mut text);
            let (offset_from, offset_to) = norm.original_range(from, to);
            out.push(Token {
                offset_from,
                offset_to,
                position,
                text,
                position_length: 1,
            });
        }
        out
    }
}

/// How a dictionary entry is indexed. It depends only on the entry, so it
/// is decided once per entry and thread: reading IPADIC's feature string
/// for every morpheme was a visible share of indexing time.
#[derive(Clone)]
enum Form {
    Drop,
    Surface,
    Base(Arc<str>),
}

thread_local! {
    static FORMS: RefCell<HashMap<(u32, bool, bool), Form>> = RefCell::new(HashMap::new());
}

/// `details` are IPADIC's features: pos, pos1, pos2, pos3, conjugation
/// type, conjugation form, base form, reading, pronunciation.
fn decide(details: &[&str]) -> Form {
    let pos = details.first().copied().unwrap_or("");
    let pos1 = details.get(1).copied().unwrap_or("");
    match pos {
        "名詞" => match pos1 {
            "非自立" | "代名詞" => Form::Drop,
            _ => Form::Surface,
        },
        "動詞" | "形容詞" => {
            // Auxiliary-like verbs (いる, しまう, れる) say nothing about the topic.
            if pos1 == "非自立" || pos1 == "接尾" {
                return Form::Drop;
            }
            match details.get(6).copied() {
                Some(base) if !base.is_empty() && base != "*" => Form::Base(Arc::from(base)),
                _ => Form::Surface,
            }
        }
        "記号" if pos1 == "アルファベット" => Form::Surface,
        "記号" | "助詞" | "助動詞" | "接続詞" | "フィラー" => Form::Drop,
        // Unknown words and the remaining classes (副詞, 接頭詞, 連体詞 …).
        _ => Form::Surface,
    }
}

impl Tokenizer for JaTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(self.tokens(text))
    }
}

/// Surfaces only, for tests and tooling.
pub fn token_texts(tokenizer: &JaTokenizer, text: &str) -> Vec<String> {
    let mut t = tokenizer.clone();
    let mut stream = t.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}
