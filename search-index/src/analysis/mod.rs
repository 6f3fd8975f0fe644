//! Text analysis: the two analyzers every text field is indexed with, their
//! registration under fixed names, and the status the service reports.
//!
//! - `kyoso_ja` (morphological, [`ja`]): ranks; keeps 京都 and 東京都 apart.
//! - `kyoso_bigram` ([`bigram`]): recall for unknown words, lower weight.
//!
//! If the IPADIC source is missing or the dictionary cannot be built, kyoso
//! still starts: the morphological fields are then analysed with the bigram
//! analyzer ("bigram-only" mode) so every query keeps working, and the mode is
//! recorded in the index so switching modes rebuilds it.

pub mod bigram;
pub mod dictionary;
pub mod ja;
pub mod normalize;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tantivy::Index;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream};

use bigram::BigramTokenizer;
use ja::JaTokenizer;

/// Name under which the morphological analyzer is registered.
pub const JA_ANALYZER: &str = "kyoso_ja";
/// Name under which the bigram analyzer is registered.
pub const BIGRAM_ANALYZER: &str = "kyoso_bigram";

/// Longer tokens (a pasted hash, a URL without separators) cannot be searched
/// meaningfully and would bloat the term dictionary.
const MAX_TOKEN_BYTES: usize = 120;

/// Which analysis the morphological fields get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisMode {
    /// IPADIC + user dictionary on the `_ja` fields, bigrams on the `_bi` fields.
    Morphological,
    /// No dictionary: bigrams on both.
    BigramOnly,
}

/// What the service says at start-up and in /readyz.
#[derive(Clone, Debug)]
pub struct AnalysisStatus {
    pub mode: AnalysisMode,
    /// One sentence for people, e.g. why the dictionary is missing.
    pub message: String,
}

impl fmt::Display for AnalysisStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The analyzers of one process. Cheap to clone; share one value.
#[derive(Clone)]
pub struct Analyzers {
    ja: Option<JaTokenizer>,
    status: Arc<AnalysisStatus>,
}

impl Analyzers {
    /// Build or load the dictionary under `<data_dir>/dict/` from the IPADIC
    /// source in `ipadic_src` (normally [`dictionary::DEFAULT_IPADIC_DIR`]).
    /// Never fails: without a dictionary the result is bigram-only, and
    /// [`Analyzers::status`] says why.
    pub fn load(data_dir: &Path, ipadic_src: &Path) -> Analyzers {
        match dictionary::load_segmenter(ipadic_src, data_dir) {
            Ok(segmenter) => Analyzers {
                ja: Some(JaTokenizer::new(Arc::new(segmenter))),
                status: Arc::new(AnalysisStatus {
                    mode: AnalysisMode::Morphological,
                    message: "Japanese analysis: IPADIC (decompose mode) + kyoso user dictionary, with bigram fallback field".into(),
                }),
            },
            Err(e) => {
                log::warn!("Japanese morphological analysis unavailable: {e}");
                Analyzers::bigram_only(format!(
                    "Japanese analysis: bigram only ({e}); search works but ranks less precisely"
                ))
            }
        }
    }

    /// Analyzers without a dictionary (also what [`Analyzers::load`] falls back to).
    pub fn bigram_only(message: impl Into<String>) -> Analyzers {
        Analyzers {
            ja: None,
            status: Arc::new(AnalysisStatus {
                mode: AnalysisMode::BigramOnly,
                message: message.into(),
            }),
        }
    }

    pub fn status(&self) -> &AnalysisStatus {
        &self.status
    }

    pub fn mode(&self) -> AnalysisMode {
        self.status.mode
    }

    /// Identifies everything that decides the indexed terms; stored in the
    /// index marker so a change triggers a rebuild.
    pub fn analysis_id(&self) -> String {
        match self.mode() {
            AnalysisMode::Morphological => format!(
                "{}+userdic-{}",
                dictionary::BUILT_DICT_NAME,
                dictionary::user_dictionary_fingerprint()
            ),
            AnalysisMode::BigramOnly => "bigram".to_string(),
        }
    }

    /// Register both analyzers on `index` (tantivy does not persist them).
    pub fn register(&self, index: &Index) {
        let bigram = TextAnalyzer::builder(BigramTokenizer {
            trailing_unigram: true,
        })
        .build();
        let ja = match &self.ja {
            Some(ja) => TextAnalyzer::builder(ja.clone()).build(),
            None => bigram.clone(),
        };
        index.tokenizers().register(JA_ANALYZER, ja);
        index.tokenizers().register(BIGRAM_ANALYZER, bigram);
    }

    /// Tokens of `text` as the `_ja` fields index them.
    pub fn ja_index_tokens(&self, text: &str) -> Vec<Token> {
        match &self.ja {
            Some(ja) => capped(ja.tokens(text)),
            None => self.bigram_index_tokens(text),
        }
    }

    /// The content words of `text` (nouns, verbs and adjectives that name a
    /// topic; see [`ja::is_content_word`]) as the `_ja` fields index them:
    /// the terms of a ranked query and of a match's reasons. Without a
    /// dictionary there are no parts of speech: the bigrams stand in.
    pub fn content_tokens(&self, text: &str) -> Vec<Token> {
        match &self.ja {
            Some(ja) => capped(ja.content_tokens(text)),
            None => self.bigram_index_tokens(text),
        }
    }

    /// Tokens of a query word for the `_ja` fields.
    pub fn ja_query_tokens(&self, text: &str) -> Vec<Token> {
        match &self.ja {
            Some(ja) => capped(ja.tokens(text)),
            None => self.bigram_query_tokens(text),
        }
    }

    /// Tokens of `text` as the `_bi` fields index them.
    pub fn bigram_index_tokens(&self, text: &str) -> Vec<Token> {
        capped(
            BigramTokenizer {
                trailing_unigram: true,
            }
            .tokens(text),
        )
    }

    /// Tokens of a query word for the `_bi` fields.
    pub fn bigram_query_tokens(&self, text: &str) -> Vec<Token> {
        capped(
            BigramTokenizer {
                trailing_unigram: false,
            }
            .tokens(text),
        )
    }
}

fn capped(mut tokens: Vec<Token>) -> Vec<Token> {
    tokens.retain(|t| t.text.len() <= MAX_TOKEN_BYTES);
    tokens
}

/// A token stream over tokens computed up front (both segmenters work on
/// whole strings, not incrementally).
pub struct VecTokenStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl VecTokenStream {
    pub fn new(mut tokens: Vec<Token>) -> VecTokenStream {
        tokens.retain(|t| t.text.len() <= MAX_TOKEN_BYTES);
        VecTokenStream {
            tokens: tokens.into_iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(t) => {
                self.current = t;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! One dictionary build per test process (≈11 s in debug), shared by
    //! every test that needs morphology. The build goes to a directory in
    //! the system temp dir that later test runs reuse.
    use std::sync::OnceLock;

    use super::{AnalysisMode, Analyzers, dictionary::DEFAULT_IPADIC_DIR};

    pub fn analyzers() -> &'static Analyzers {
        static SHARED: OnceLock<Analyzers> = OnceLock::new();
        SHARED.get_or_init(|| {
            let dir = std::env::temp_dir().join("kyoso-search-index-tests");
            let a = Analyzers::load(&dir, std::path::Path::new(DEFAULT_IPADIC_DIR));
            assert_eq!(
                a.mode(),
                AnalysisMode::Morphological,
                "tests need Debian's mecab-ipadic: {}",
                a.status()
            );
            a
        })
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::analyzers;

    fn ja(text: &str) -> Vec<String> {
        analyzers()
            .ja_index_tokens(text)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    fn ja_positions(text: &str) -> Vec<(String, usize)> {
        analyzers()
            .ja_index_tokens(text)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    #[test]
    fn decompose_mode_splits_compounds() {
        assert_eq!(ja("関西国際空港"), ["関西", "国際", "空港"]);
    }

    #[test]
    fn width_and_case_normalised() {
        assert_eq!(ja("ＤＸ推進"), ["dx", "推進"]);
        assert_eq!(ja("DX推進"), ["dx", "推進"]);
    }

    #[test]
    fn user_dictionary_words_stay_whole() {
        assert_eq!(ja("ドローン"), ["ドローン"]);
        assert_eq!(ja("ドローンを活用"), ["ドローン", "活用"]);
        // Not 障る + いる, as IPADIC alone reads it.
        assert_eq!(ja("障がい者の就労"), ["障がい", "者", "就労"]);
    }

    #[test]
    fn kyoto_is_not_tokyo_to() {
        assert_eq!(ja("京都"), ["京都"]);
        assert!(!ja("東京都").contains(&"京都".to_string()));
        let bi: Vec<String> = analyzers()
            .bigram_index_tokens("東京都")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert!(bi.contains(&"京都".to_string()));
    }

    #[test]
    fn long_vowel_variants_meet() {
        assert_eq!(ja("サーバー"), ["サーバ"]);
        assert_eq!(ja("サーバ"), ["サーバ"]);
        assert_eq!(ja("ｻｰﾊﾞｰ"), ["サーバ"]);
        assert_eq!(ja("ルール"), ["ルール"]);
    }

    #[test]
    fn compound_parts_are_adjacent() {
        assert_eq!(
            ja_positions("子育て支援"),
            [("子育て".to_string(), 0), ("支援".to_string(), 1)]
        );
    }

    #[test]
    fn particles_dropped_base_forms_kept() {
        assert_eq!(ja("高齢者を見守った"), ["高齢", "者", "見守る"]);
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "ｻｰﾊﾞｰのＤＸ";
        for t in analyzers().ja_index_tokens(text) {
            let slice = text.get(t.offset_from..t.offset_to);
            assert!(slice.is_some_and(|s| !s.is_empty()), "{t:?}");
        }
        let toks = analyzers().ja_index_tokens(text);
        assert_eq!(
            text.get(toks[0].offset_from..toks[0].offset_to),
            Some("ｻｰﾊﾞｰ")
        );
        assert_eq!(
            text.get(toks[1].offset_from..toks[1].offset_to),
            Some("ＤＸ")
        );
    }

    fn content(text: &str) -> Vec<String> {
        analyzers()
            .content_tokens(text)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn content_words_are_the_topic_words() {
        // Light verbs, formal nouns, numbers, suffixes and adverbial nouns go;
        // the topic nouns and verbs stay.
        assert_eq!(
            content("高齢者の見守りを行うことができる方法がある"),
            ["高齢", "見守る", "方法"]
        );
        assert_eq!(content("3年後に2割の削減をする"), ["削減"]);
        assert_eq!(content("今後はドローンを活用したい"), ["ドローン", "活用"]);
        assert_eq!(content("ＤＸを進めるため"), ["dx", "進める"]);
        for light in [
            "ある",
            "する",
            "なる",
            "いる",
            "できる",
            "こと",
            "ため",
            "方",
            "日",
            "後",
            "割",
        ] {
            assert!(content(light).is_empty(), "{light}: {:?}", content(light));
        }
        // Still indexed: the content filter only chooses query terms.
        assert!(ja("方法がある").contains(&"ある".to_string()));
    }
}
