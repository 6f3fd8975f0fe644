//! Stable 64-bit fingerprints (FNV-1a) for values that outlive a process:
//! the user dictionary's identity in the index marker file and the query
//! checksum inside pagination cursors. `std`'s hasher may change between
//! Rust releases, so it cannot be used for either.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over the given byte slices, each followed by a separator byte so
/// that ("ab", "c") and ("a", "bc") differ.
pub fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut hash = OFFSET;
    for part in parts {
        for &b in *part {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::fnv1a64;

    #[test]
    fn separates_parts() {
        assert_ne!(fnv1a64(&[b"ab", b"c"]), fnv1a64(&[b"a", b"bc"]));
        assert_eq!(fnv1a64(&[b"x"]), fnv1a64(&[b"x"]));
    }
}
