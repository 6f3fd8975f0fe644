//! What a person types, turned into a tantivy query by hand.
//!
//! Syntax: words (all must match, best first), "quoted phrases", -exclusions
//! (also -"phrase"). Full-width spaces, quotes and minus signs work like
//! their ASCII forms. User text never reaches tantivy's QueryParser, whose
//! syntax errors and field names would leak to people.
//!
//! Each word is analysed with each field's own analyzer; a word that yields
//! several tokens (子育て支援 → 子育て / 支援) becomes a phrase on that field.
//! Per word: any of the morphological title (×3) and body (×1.5) and the
//! bigram title (×1) and body (×0.5) must match; a document the
//! morphological fields match is scored by them, one only the bigram fields
//! match by those (lower weights), so exact morphemes rank above substring
//! matches and the bigram phrases are only checked where morphology misses
//! ([`word_query`]). Words are then all required.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::Token;
use unicode_normalization::UnicodeNormalization;

use crate::analysis::{AnalysisMode, Analyzers};
use crate::schema::Fields;
use crate::union::AnyOfQuery;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words, phrases and exclusions in one query.
pub const MAX_TERMS: usize = 16;

/// Field weights of one query word (see the module comment).
pub(crate) const TITLE_JA_BOOST: f32 = 3.0;
pub(crate) const BODY_JA_BOOST: f32 = 1.5;
pub(crate) const TITLE_BI_BOOST: f32 = 1.0;
pub(crate) const BODY_BI_BOOST: f32 = 0.5;

/// A query or cursor that cannot be used. The message is for the person who
/// typed it; [`QueryError::code`] is stable for API clients.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "検索語が長すぎます（{chars}文字、上限{max}文字） / query too long ({chars} characters, at most {max})"
    )]
    TooLong { chars: usize, max: usize },
    #[error(
        "検索語が多すぎます（{count}語、上限{max}語） / too many terms ({count}, at most {max})"
    )]
    TooManyTerms { count: usize, max: usize },
    #[error(
        "検索できる語がありません / the query has nothing searchable (only symbols or punctuation)"
    )]
    NothingSearchable,
    #[error("ページ指定が無効です / the cursor is invalid or belongs to another search")]
    BadCursor,
    #[error("件数は1〜{max}で指定してください / limit must be between 1 and {max}")]
    BadLimit { max: usize },
}

impl QueryError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::TooLong { .. } => "query_too_long",
            QueryError::TooManyTerms { .. } => "query_too_many_terms",
            QueryError::NothingSearchable => "query_nothing_searchable",
            QueryError::BadCursor => "query_bad_cursor",
            QueryError::BadLimit { .. } => "query_bad_limit",
        }
    }
}

/// One word or phrase of a parsed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryTerm {
    /// NFKC text as typed (analysis happens per field later).
    pub text: String,
    /// Written in quotes.
    pub quoted: bool,
    /// Written with a leading minus: documents containing it are excluded.
    pub exclude: bool,
}

/// A parsed query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub terms: Vec<QueryTerm>,
}

impl ParsedQuery {
    pub fn positive(&self) -> impl Iterator<Item = &QueryTerm> {
        self.terms.iter().filter(|t| !t.exclude)
    }

    pub fn excluded(&self) -> impl Iterator<Item = &QueryTerm> {
        self.terms.iter().filter(|t| t.exclude)
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„' | '‟' | '″' | '〝' | '〞' | '〟')
}

fn is_minus(c: char) -> bool {
    matches!(c, '-' | '−' | '‐' | '–' | '—')
}

/// Split what a person typed into words, phrases and exclusions.
pub fn parse(input: &str) -> Result<ParsedQuery, QueryError> {
    let chars = input.trim().chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
    // NFKC turns the full-width space, ＂ and － into their ASCII forms;
    // control characters separate words like spaces do.
    let text: Vec<char> = input
        .nfkc()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut terms = Vec::new();
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let mut exclude = false;
        if is_minus(c) {
            match text.get(i + 1) {
                Some(&n) if !n.is_whitespace() && !is_minus(n) => {
                    exclude = true;
                    i += 1;
                }
                _ => {
                    // A lone or repeated minus is punctuation, not an operator.
                    i += 1;
                    continue;
                }
            }
        }
        let quoted = text.get(i).copied().is_some_and(is_quote);
        let start = if quoted { i + 1 } else { i };
        let mut end = start;
        if quoted {
            // An unbalanced quote runs to the end of the input.
            while text.get(end).is_some_and(|&c| !is_quote(c)) {
                end += 1;
            }
            i = end + 1;
        } else {
            while text
                .get(end)
                .is_some_and(|&c| !c.is_whitespace() && !is_quote(c))
            {
                end += 1;
            }
            i = end;
        }
        // start <= end <= text.len(): an empty word when the input ends in a quote.
        let word: String = text.get(start..end).unwrap_or_default().iter().collect();
        let word = word.trim();
        if !word.is_empty() {
            terms.push(QueryTerm {
                text: word.to_string(),
                quoted,
                exclude,
            });
        }
    }
    if terms.len() > MAX_TERMS {
        return Err(QueryError::TooManyTerms {
            count: terms.len(),
            max: MAX_TERMS,
        });
    }
    Ok(ParsedQuery { terms })
}

/// The text part of a search, ready to combine with filters.
pub struct TextQuery {
    pub query: Box<dyn Query>,
    /// False when nothing positive was searched (blank, or exclusions only):
    /// results are then listed newest first instead of by score.
    pub ranked: bool,
    pub parsed: ParsedQuery,
}

/// Parse and build in one step.
pub fn build(input: &str, analyzers: &Analyzers, fields: &Fields) -> Result<TextQuery, QueryError> {
    let parsed = parse(input)?;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut searchable_positive = false;
    for term in parsed.positive() {
        if let Some(q) = word_query(&term.text, analyzers, fields) {
            clauses.push((Occur::Must, q));
            searchable_positive = true;
        }
    }
    let mut excluded_any = false;
    for term in parsed.excluded() {
        if let Some(q) = word_query(&term.text, analyzers, fields) {
            clauses.push((Occur::MustNot, q));
            excluded_any = true;
        }
    }
    if !searchable_positive {
        if !parsed.terms.is_empty() && !excluded_any {
            return Err(QueryError::NothingSearchable);
        }
        // Blank or exclusions only: browse everything (within the filters).
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Ok(TextQuery {
        query: Box::new(BooleanQuery::new(clauses)),
        ranked: searchable_positive,
        parsed,
    })
}

/// The clause of one word over the four text fields, or `None` when the
/// word has no searchable token on any field (punctuation, emoji).
///
/// The word matches when any field matches. A document the morphological
/// fields match is scored by them alone; one only the bigram fields match
/// (a substring such as 京都 in 東京都) by the bigram fields, with their
/// lower weights. The bigram phrases are therefore only checked on
/// documents the morphological fields do not match, and inside the AND of
/// several words every field is only checked on the documents the other
/// words leave (see [`crate::union`]).
pub fn word_query(text: &str, analyzers: &Analyzers, f: &Fields) -> Option<Box<dyn Query>> {
    let ja = analyzers.ja_query_tokens(text);
    let bi = analyzers.bigram_query_tokens(text);
    let ja_is_bigram = analyzers.mode() == AnalysisMode::BigramOnly;
    let mut primary: Vec<Box<dyn Query>> = Vec::with_capacity(2);
    let mut fallback: Vec<Box<dyn Query>> = Vec::with_capacity(2);
    for (in_fallback, field, tokens, boost, bigram) in [
        (false, f.title_ja, &ja, TITLE_JA_BOOST, ja_is_bigram),
        (false, f.body_ja, &ja, BODY_JA_BOOST, ja_is_bigram),
        (true, f.title_bi, &bi, TITLE_BI_BOOST, true),
        (true, f.body_bi, &bi, BODY_BI_BOOST, true),
    ] {
        if let Some(q) = field_query(field, tokens, bigram) {
            let tier = if in_fallback {
                &mut fallback
            } else {
                &mut primary
            };
            tier.push(Box::new(BoostQuery::new(q, boost)));
        }
    }
    let q = AnyOfQuery::tiered(primary, fallback);
    (!q.is_empty()).then(|| Box::new(q) as Box<dyn Query>)
}

/// One field's query for a word's tokens: a term, a phrase at the tokens'
/// real relative positions, or, for a single character on a bigram field, a
/// prefix over the field's terms (that character starting any bigram, or
/// ending a run as the trailing unigram).
fn field_query(field: Field, tokens: &[Token], bigram: bool) -> Option<Box<dyn Query>> {
    match tokens {
        [] => None,
        [one] => {
            let term = Term::from_field_text(field, &one.text);
            let mut chars = one.text.chars();
            let single_char = chars.next().is_some() && chars.next().is_none();
            if bigram && single_char && !one.text.is_ascii() {
                Some(Box::new(PhrasePrefixQuery::new(vec![term])))
            } else {
                Some(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)))
            }
        }
        many @ [head, ..] => {
            let first = head.position;
            let terms = many
                .iter()
                .map(|t| {
                    (
                        t.position.saturating_sub(first),
                        Term::from_field_text(field, &t.text),
                    )
                })
                .collect();
            Some(Box::new(PhraseQuery::new_with_offset(terms)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> Vec<(String, bool, bool)> {
        parse(q)
            .unwrap()
            .terms
            .into_iter()
            .map(|t| (t.text, t.quoted, t.exclude))
            .collect()
    }

    fn w(text: &str, quoted: bool, exclude: bool) -> (String, bool, bool) {
        (text.to_string(), quoted, exclude)
    }

    #[test]
    fn words_phrases_exclusions() {
        assert_eq!(
            words(r#"子育て "オンライン 相談" -有料 -"東京 都""#),
            [
                w("子育て", false, false),
                w("オンライン 相談", true, false),
                w("有料", false, true),
                w("東京 都", true, true),
            ]
        );
    }

    #[test]
    fn full_width_forms() {
        assert_eq!(
            words("防災　“避難 所”　－観光"),
            [
                w("防災", false, false),
                w("避難 所", true, false),
                w("観光", false, true)
            ]
        );
        assert_eq!(words("ＤＸ"), [w("DX", false, false)]);
    }

    #[test]
    fn unbalanced_quotes_and_lone_minus() {
        assert_eq!(words(r#""子育て 支援"#), [w("子育て 支援", true, false)]);
        assert_eq!(words("- 防災 --"), [w("防災", false, false)]);
        assert_eq!(words(r#""""#), Vec::<(String, bool, bool)>::new());
    }

    #[test]
    fn limits() {
        let long = "あ".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(parse(&long).unwrap_err().code(), "query_too_long");
        let many = vec!["語"; MAX_TERMS + 1].join(" ");
        assert_eq!(parse(&many).unwrap_err().code(), "query_too_many_terms");
        assert!(parse(&vec!["語"; MAX_TERMS].join(" ")).is_ok());
    }
}
