//! The IPADIC dictionary and kyoso's domain user dictionary.
//!
//! No crate may download a dictionary at build time, so the binary dictionary
//! is compiled at run time from Debian's `mecab-ipadic` source files (EUC-JP
//! CSV and .def files) into `<data_dir>/dict/ipadic-lindera-6.2.0`, once;
//! later starts only map the files. The directory name carries the lindera
//! version because the binary format changes between lindera releases.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

use lindera::dictionary::{DictionaryBuilder, Metadata, load_fs_dictionary};
use lindera::mode::{Mode, Penalty};
use lindera::segmenter::Segmenter;

use super::normalize::normalize;
use crate::fingerprint::fnv1a64;

/// Where Debian's `mecab-ipadic` package installs the dictionary source.
pub const DEFAULT_IPADIC_DIR: &str = "/usr/share/mecab/dic/ipadic";

/// Name of the built dictionary directory under `<data_dir>/dict/`.
pub const BUILT_DICT_NAME: &str = "ipadic-lindera-6.2.0";

/// The domain user dictionary, `surface,pos,reading` per line (`#` starts a
/// comment). Surfaces are normalised like the text before lindera sees them.
pub const USER_DICTIONARY_CSV: &str = include_str!("../../userdic/kyoso-terms.csv");

/// IPADIC's licence notice, written next to every dictionary kyoso builds
/// when the source directory has no COPYING file of its own (Debian keeps it
/// in the package's copyright file instead).
pub const IPADIC_NOTICE: &str = include_str!("../../IPADIC_NOTICE");

/// Lindera's metadata for Debian's IPADIC files: lindera's own IPADIC copy is
/// converted to UTF-8, Debian's is EUC-JP.
const IPADIC_METADATA: &str = r#"{
  "name": "ipadic",
  "encoding": "EUC-JP",
  "default_word_cost": -10000,
  "default_left_context_id": 0,
  "default_right_context_id": 0,
  "default_field_value": "*",
  "flexible_csv": true,
  "skip_invalid_cost_or_id": false,
  "normalize_details": true,
  "dictionary_schema": { "fields": ["surface", "left_context_id", "right_context_id", "cost",
    "part_of_speech", "part_of_speech_subcategory_1", "part_of_speech_subcategory_2",
    "part_of_speech_subcategory_3", "conjugation_form", "conjugation_type", "base_form",
    "reading", "pronunciation"] },
  "user_dictionary_schema": { "fields": ["surface", "part_of_speech", "reading"] }
}"#;

/// Why the morphological analyzer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    #[error("IPADIC source not found in {0} (install Debian's mecab-ipadic)")]
    SourceMissing(PathBuf),
    #[error("could not build the IPADIC dictionary: {0}")]
    Build(String),
    #[error("could not load the built dictionary in {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("could not load the user dictionary: {0}")]
    UserDictionary(String),
    #[error("dictionary directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Identifies the user dictionary's content, so an index analysed with an
/// older list can be told apart and rebuilt.
pub fn user_dictionary_fingerprint() -> String {
    format!("{:016x}", fnv1a64(&[USER_DICTIONARY_CSV.as_bytes()]))
}

/// Build (if needed) and load the segmenter: IPADIC in decompose mode plus
/// the user dictionary.
pub fn load_segmenter(ipadic_src: &Path, data_dir: &Path) -> Result<Segmenter, DictionaryError> {
    let built = data_dir.join("dict").join(BUILT_DICT_NAME);
    if !built.join("metadata.json").exists() {
        build(ipadic_src, &built)?;
    }
    let dictionary = match load_fs_dictionary(&built) {
        Ok(d) => d,
        Err(first) => {
            // A damaged cache (disk full, files edited) is rebuilt once.
            log::warn!("built dictionary unusable ({first}), rebuilding");
            fs::remove_dir_all(&built)?;
            build(ipadic_src, &built)?;
            load_fs_dictionary(&built).map_err(|e| DictionaryError::Load {
                path: built.clone(),
                reason: e.to_string(),
            })?
        }
    };
    let user = DictionaryBuilder::new((*dictionary.metadata).clone())
        .build_user_dict_from_reader(user_dictionary_rows().as_bytes())
        .map_err(|e| DictionaryError::UserDictionary(e.to_string()))?;
    // Decompose mode is Kuromoji's search mode: long kanji compounds also
    // yield their parts (関西国際空港 → 関西 / 国際 / 空港), so a search for a
    // part finds the compound.
    Ok(Segmenter::new(
        Mode::Decompose(Penalty::default()),
        dictionary,
        Some(user),
    ))
}

/// IPADIC alone in normal mode, without the user dictionary and without
/// normalisation by the caller: MeCab + IPADIC as third-party recipes use it
/// (fugashi's wakati mode), for the baseline of `eval-retrieval`.
pub fn load_plain_segmenter(
    ipadic_src: &Path,
    data_dir: &Path,
) -> Result<Segmenter, DictionaryError> {
    let built = data_dir.join("dict").join(BUILT_DICT_NAME);
    if !built.join("metadata.json").exists() {
        build(ipadic_src, &built)?;
    }
    let dictionary = load_fs_dictionary(&built).map_err(|e| DictionaryError::Load {
        path: built.clone(),
        reason: e.to_string(),
    })?;
    Ok(Segmenter::new(Mode::Normal, dictionary, None))
}

/// Compile the IPADIC source into `out`, atomically: a half-built directory
/// never carries the final name, so a crash mid-build is simply retried.
fn build(src: &Path, out: &Path) -> Result<(), DictionaryError> {
    if !src.join("matrix.def").is_file() || !src.join("char.def").is_file() {
        return Err(DictionaryError::SourceMissing(src.to_path_buf()));
    }
    let parent = out.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".{BUILT_DICT_NAME}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    let metadata: Metadata = serde_json::from_str(IPADIC_METADATA)
        .map_err(|e| DictionaryError::Build(format!("metadata: {e}")))?;
    let started = std::time::Instant::now();
    DictionaryBuilder::new(metadata)
        .build_dictionary(src, &tmp)
        .map_err(|e| DictionaryError::Build(e.to_string()))?;
    write_notice(src, &tmp)?;
    match fs::rename(&tmp, out) {
        Ok(()) => {}
        // Another process finished first; its copy is as good as ours.
        Err(_) if out.join("metadata.json").exists() => {
            let _ = fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(e.into()),
    }
    log::info!(
        "built IPADIC dictionary in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// IPADIC's licence requires its notice to accompany any copy, modified or not.
fn write_notice(src: &Path, out: &Path) -> std::io::Result<()> {
    let copying = src.join("COPYING");
    if copying.is_file() {
        fs::copy(copying, out.join("COPYING"))?;
    } else {
        fs::write(out.join("COPYING"), IPADIC_NOTICE)?;
    }
    Ok(())
}

/// The user dictionary rows in the form lindera must see: comments dropped
/// and surfaces normalised like the analysed text (NFKC + lowercase), since
/// segmentation runs on normalised text.
fn user_dictionary_rows() -> String {
    let mut rows = String::new();
    for line in USER_DICTIONARY_CSV.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((surface, rest)) = line.split_once(',') else {
            continue;
        };
        rows.push_str(&normalize(surface.trim()));
        rows.push(',');
        rows.push_str(rest.trim());
        rows.push('\n');
    }
    rows
}

/// Segment already-normalised text; exposed for the dictionary tests and the
/// user-dictionary tooling.
pub fn surfaces(segmenter: &Segmenter, text: &str) -> Vec<String> {
    segmenter
        .segment(Cow::Borrowed(text))
        .map(|tokens| tokens.into_iter().map(|t| t.surface.into_owned()).collect())
        .unwrap_or_default()
}
