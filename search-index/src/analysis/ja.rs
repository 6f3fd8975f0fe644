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
use std::rc::Rc;
use std::sync::{Arc, Weak};

use lindera::segmenter::Segmenter;
use lindera_dictionary::viterbi::{Lattice, LexType, WordId};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::MAX_TOKEN_BYTES;
use super::normalize::{Normalized, fold_long_vowel, is_plain_japanese, normalized_shared};

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

    /// The content words of `text` (see [`is_content_word`]), as the index
    /// spells them: the subset of [`JaTokenizer::tokens`] that names a topic.
    pub fn content_tokens(&self, text: &str) -> Vec<Token> {
        let mut stream = self.stream(text);
        stream.morphemes.retain(|m| m.content);
        let mut out = Vec::with_capacity(stream.morphemes.len());
        while stream.advance() {
            out.push(stream.token.clone());
        }
        out
    }

    /// The token stream of `text`: segmented up front, each kept morpheme
    /// written into one reused token (no allocation per token).
    pub fn stream(&self, text: &str) -> JaTokenStream {
        let norm = normalized_shared(text);
        let mut morphemes = Vec::new();
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.serve(&self.segmenter);
            // lindera only fails on internal errors; a document without
            // morphological tokens is still found through the bigram field.
            let Ok(segmented) = self
                .segmenter
                .segment_with_lattice(Cow::Borrowed(norm.text.as_str()), &mut scratch.lattice)
            else {
                return;
            };
            morphemes.reserve(segmented.len());
            for (position, mut m) in segmented.into_iter().enumerate() {
                let (from, to) = (m.byte_start, m.byte_end);
                // IPADIC files unknown symbols (-, ・, emoji) as 名詞/サ変接続, so
                // the part of speech alone does not catch all punctuation.
                // lindera's ranges are char ranges of the text it was given;
                // one that is not is dropped like punctuation.
                let is_word = norm
                    .text
                    .get(from..to)
                    .is_some_and(|surface| surface.chars().any(is_word_char));
                if !is_word {
                    continue;
                }
                let (form, content) = scratch.form(m.word_id, || {
                    let details = m.details();
                    (decide(&details), is_content_word(&details))
                });
                if !matches!(form, Form::Drop) {
                    morphemes.push(Morpheme {
                        from,
                        to,
                        position,
                        form,
                        content,
                    });
                }
            }
        });
        JaTokenStream {
            norm,
            morphemes,
            next: 0,
            token: Token::default(),
        }
    }
}

/// A letter or digit of any script; kana and kanji answered without
/// Unicode's tables, which were a visible share of indexing time.
fn is_word_char(c: char) -> bool {
    (is_plain_japanese(c) && c != 'ー') || c.is_alphanumeric()
}

struct Morpheme {
    /// Byte range in the normalised text.
    from: usize,
    to: usize,
    position: usize,
    form: Form,
    /// A content word ([`is_content_word`]).
    content: bool,
}

/// The morphological analyzer's token stream (see [`JaTokenizer::stream`]).
pub struct JaTokenStream {
    norm: Rc<Normalized>,
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
                // Checked in `stream`: `from..to` is a char range of the text.
                Form::Surface => {
                    t.text
                        .push_str(self.norm.text.get(m.from..m.to).unwrap_or_default().trim());
                }
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
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Per-thread state of the analyzer: the Viterbi lattice lindera reuses
/// from text to text (allocating one per call was a tenth of segmentation
/// time) and the [`Form`] decided for each dictionary entry seen so far.
#[derive(Default)]
struct Scratch {
    /// The segmenter the cached forms belong to. A weak reference keeps its
    /// allocation from being reused by another segmenter, so the comparison
    /// cannot mistake a new dictionary for the old one.
    segmenter: Weak<Segmenter>,
    lattice: Lattice,
    /// Index into `forms` (0: not decided yet) per word id, for the
    /// system dictionary, the user dictionary and unknown words.
    slots: [Vec<u32>; 3],
    forms: Vec<(Form, bool)>,
}

impl Scratch {
    fn serve(&mut self, segmenter: &Arc<Segmenter>) {
        if !std::ptr::eq(self.segmenter.as_ptr(), Arc::as_ptr(segmenter)) {
            self.segmenter = Arc::downgrade(segmenter);
            self.slots = Default::default();
            self.forms = vec![(Form::Drop, false)];
        }
    }

    /// The entry's form and whether it is a content word (cloning it is
    /// cheap: at most an `Arc`).
    fn form(&mut self, word: WordId, decide: impl FnOnce() -> (Form, bool)) -> (Form, bool) {
        let [system, user, unknown] = &mut self.slots;
        let slots = match word.lex_type() {
            LexType::System => system,
            LexType::User => user,
            LexType::Unknown => unknown,
        };
        let id = word.id() as usize;
        if slots.len() <= id {
            slots.resize(id + 1, 0);
        }
        // A slot holds 0 (not decided yet) or an index into `forms`, which
        // only grows until `serve` clears both together.
        let k = slots.get(id).copied().unwrap_or(0) as usize;
        if k != 0
            && let Some(form) = self.forms.get(k)
        {
            return form.clone();
        }
        let form = decide();
        if let Some(slot) = slots.get_mut(id) {
            *slot = self.forms.len() as u32;
            self.forms.push(form.clone());
        }
        form
    }
}

/// Nouns that only serve grammar (形式名詞) even where IPADIC files them as
/// ordinary nouns: こと, ため, 方 (the way to…), もの, よう; and the bare
/// units of time and ratio (日, 後, 割, 年, 月), which IPADIC files as
/// ordinary nouns when they stand alone; and 対応, the verbal noun of
/// "dealing with" that any administrative text attaches to its topic
/// (〜に対応する, 〜への対応), like the light verb する.
const FORMAL_NOUNS: &[&str] = &[
    "こと",
    "事",
    "ため",
    "為",
    "もの",
    "物",
    "者",
    "よう",
    "様",
    "方",
    "ほう",
    "かた",
    "ところ",
    "所",
    "とき",
    "時",
    "うち",
    "ほか",
    "他",
    "等",
    "など",
    "ら",
    "化",
    "的",
    "性",
    "上",
    "中",
    "内",
    "際",
    "場合",
    "それぞれ",
    "ごと",
    "日",
    "後",
    "割",
    "年",
    "月",
    "週",
    "回",
    "前",
    "今",
    "対応",
];

/// Verbs and adjectives that carry grammar, not a topic: existence, doing,
/// becoming, being able, saying, and the evaluative adjectives every text
/// uses (ない, よい).
const LIGHT_VERBS: &[&str] = &[
    "ある",
    "する",
    "なる",
    "いる",
    "できる",
    "出来る",
    "いう",
    "言う",
    "おる",
    "くる",
    "来る",
    "いく",
    "行く",
    "られる",
    "れる",
    "せる",
    "させる",
    "しまう",
    "みる",
    "おく",
    "もらう",
    "くれる",
    "あげる",
    "いただく",
    "くださる",
    "下さる",
    "思う",
    "考える",
    "ない",
    "よい",
    "良い",
    "いい",
    "ほしい",
    "欲しい",
    "得る",
    "える",
    "うる",
    "つく",
    "おこなう",
    "行う",
];

/// Whether a morpheme names something a text is about, for choosing the
/// terms of a ranked query and the reasons shown for a match. The rule is
/// about Japanese grammar, not about any text: nouns except the
/// grammatical ones (非自立, pronouns, numbers, suffixes such as 日・後・割,
/// adverbial nouns such as 今後・以上, formal nouns such as こと・ため・方),
/// independent verbs and adjectives except the light ones (ある, する, なる,
/// いる, できる…), letters (DX), words the dictionary does not know, and
/// the user dictionary's words. Particles, auxiliaries, symbols, adverbs,
/// prefixes, conjunctions and adnominals are never content words.
pub fn is_content_word(details: &[&str]) -> bool {
    let field = |i: usize| details.get(i).copied().unwrap_or("*");
    let (pos, pos1) = (field(0), field(1));
    let surface_or_base = |base: &str| base != "*" && !base.is_empty();
    match pos {
        "名詞" => {
            if matches!(
                pos1,
                "非自立" | "代名詞" | "数" | "接尾" | "副詞可能" | "接続詞的" | "動詞非自立的"
            ) {
                return false;
            }
            // The base form of a noun is its surface; the caller's surface
            // check covers words IPADIC lacks (base "*").
            let base = field(6);
            !(surface_or_base(base) && FORMAL_NOUNS.contains(&base))
        }
        "動詞" | "形容詞" => {
            if pos1 != "自立" {
                return false;
            }
            let base = field(6);
            !(surface_or_base(base) && LIGHT_VERBS.contains(&base))
        }
        "記号" => pos1 == "アルファベット",
        "助詞" | "助動詞" | "接続詞" | "フィラー" | "副詞" | "接頭詞" | "連体詞" | "感動詞"
        | "その他" => false,
        // The user dictionary's words and unknown words the dictionary
        // could not classify.
        _ => true,
    }
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
