//! Value types shared by every layer: typed ids, parsed public codes (municipality
//! code, corporate number, regions) and the closed vocabularies (including `Locale`).
//! They sit below `domain`, `storage` and `mail` so that each of those can name them
//! without depending on another; they depend on nothing in the crate.

pub mod codes;
pub mod ids;
pub mod vocab;

pub use vocab::Locale;
