//! Municipality and prefecture codes (全国地方公共団体コード, six digits with a
//! check digit) and how an offer's regions cover a municipality.

/// The code that stands for "the whole country" in an offer's regions.
pub const NATIONWIDE: &str = "nationwide";

/// Check digit of a five-digit body: weights 6,5,4,3,2, modulus 11; a
/// remainder of 0 gives 1 and of 1 gives 0 (the 11 − r rule folded into
/// one digit), e.g. 13000 → 130001 (東京都), 28100 → 281000 (神戸市).
pub fn check_digit(body: &[u8; 5]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip([6u32, 5, 4, 3, 2])
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    ((11 - sum % 11) % 10) as u8
}

/// Parse a six-digit code and verify its check digit.
pub fn parse_code(code: &str) -> Option<[u8; 6]> {
    let bytes = code.as_bytes();
    if bytes.len() != 6 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut digits = [0u8; 6];
    for (d, b) in digits.iter_mut().zip(bytes) {
        *d = b - b'0';
    }
    let body = [digits[0], digits[1], digits[2], digits[3], digits[4]];
    (check_digit(&body) == digits[5]).then_some(digits)
}

/// The prefecture code (XX000C) of a municipality or prefecture code; `None`
/// when the code is not a valid six-digit code.
pub fn prefecture_of(code: &str) -> Option<String> {
    let d = parse_code(code)?;
    let body = [d[0], d[1], 0, 0, 0];
    Some(format!("{}{}000{}", d[0], d[1], check_digit(&body)))
}

/// True for a prefecture's own code (digits 3–5 are zero).
pub fn is_prefecture(code: &str) -> bool {
    parse_code(code).is_some_and(|d| d[2] == 0 && d[3] == 0 && d[4] == 0)
}

/// The region values that cover `municipality`: itself, its prefecture and
/// nationwide. An offer whose regions contain any of them serves it.
pub fn covering_regions(municipality: &str) -> Vec<String> {
    let mut out = vec![municipality.to_string()];
    if let Some(pref) = prefecture_of(municipality)
        && pref != municipality
    {
        out.push(pref);
    }
    out.push(NATIONWIDE.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        for code in [
            "130001", "281000", "141003", "401307", "280003", "010006", "220001",
        ] {
            assert!(parse_code(code).is_some(), "{code}");
        }
        assert!(parse_code("281001").is_none());
        assert!(parse_code("28100").is_none());
        assert_eq!(prefecture_of("281000").as_deref(), Some("280003"));
        assert_eq!(prefecture_of("285862").as_deref(), Some("280003"));
        assert_eq!(prefecture_of("141003").as_deref(), Some("140007"));
        assert!(is_prefecture("280003"));
        assert!(!is_prefecture("281000"));
    }

    #[test]
    fn coverage() {
        assert_eq!(covering_regions("281000"), ["281000", "280003", NATIONWIDE]);
        assert_eq!(covering_regions("280003"), ["280003", NATIONWIDE]);
    }
}
