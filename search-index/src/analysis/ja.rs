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

use super::MAX_TOKEN_BYTES;
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
        let mut stream = self.stream(text);
        let mut out = Vec::with_capacity(stream.morphemes.len());
        while stream.advance() {
            out.push(stream.token.clone());
        }
        out
    }

    /// The token stream of `text`: segmented up front, each kept morpheme
    /// written into one reused token (no allocation per token).
    pub fn stream(&self, text: &str) -> JaTokenStream {
        let norm = Normalized::new(text);
        let mut morphemes = Vec::new();
        // lindera only fails on internal errors; a document without
        // morphological tokens is still found through the bigram field.
        if let Ok(segmented) = self.segmenter.segment(Cow::Borrowed(norm.text.as_str())) {
            morphemes.reserve(segmented.len());
            for (position, mut m) in segmented.into_iter().enumerate() {
                let (from, to) = (m.byte_start, m.byte_end);
                // IPADIC files unknown symbols (-, ・, emoji) as 名詞/サ変接続, so
                // the part of speech alone does not catch all punctuation.
                if !norm.text[from..to].chars().any(char::is_alphanumeric) {
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
                if !matches!(form, Form::Drop) {
                    morphemes.push(Morpheme {
                        from,
                        to,
                        position,
                        form,
                    });
                }
            }
        }
        JaTokenStream {
            norm,
            morphemes,
            next: 0,
            token: Token::default(),
        }
    }
}

struct Morpheme {
    /// Byte range in the normalised text.
    from: usize,
    to: usize,
    position: usize,
    form: Form,
}

/// The morphological analyzer's token stream (see [`JaTokenizer::stream`]).
pub struct JaTokenStream {
    norm: Normalized,
    morphemes: Vec<Morpheme>,
    next: usize,
    token: Token,
}

impl TokenStream for JaTokenStream {
    fn advance(&mut self) -> bool {
        while let Some(m) = self.morphemes.get(self.next) {
            self.next += 1;
            let t = &mut self.token;
            t.text.clear();
            match &m.form {
                Form::Drop => continue,
                Form::Surface => t.text.push_str(self.norm.text[m.from..m.to].trim()),
                Form::Base(base) => t.text.push_str(base),
            }
            fold_long_vowel(&mut t.text);
            if t.text.is_empty() || t.text.len() > MAX_TOKEN_BYTES {
                continue;
            }
            let (offset_from, offset_to) = self.norm.original_range(m.from, m.to);
            t.offset_from = offset_from;
            t.offset_to = offset_to;
            t.position = m.position;
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
    type TokenStream<'a> = JaTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JaTokenStream {
        self.stream(text)
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
