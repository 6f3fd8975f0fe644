//! Public identifiers with check digits, parsed once at the edge: the 6-digit local
//! government code (全国地方公共団体コード), the 13-digit corporate number (法人番号), and
//! the region codes partners and offers serve.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a code was refused; rendered as a field error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("must be exactly {0} ASCII digits")]
    Shape(usize),
    #[error("check digit does not match")]
    CheckDigit,
}

fn digits<const N: usize>(s: &str) -> Result<[u32; N], CodeError> {
    let bytes = s.as_bytes();
    if bytes.len() != N || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(CodeError::Shape(N));
    }
    let mut out = [0; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = u32::from(b - b'0');
    }
    Ok(out)
}

/// 全国地方公共団体コード: five digits and a check digit (JIS X 0402 style, modulus 11
/// with weights 6..2). Prefectures are codes of the form PP000C.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MunicipalityCode(String);

impl MunicipalityCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let d = digits::<6>(s)?;
        if Self::check_digit(&d[..5]) != d[5] {
            return Err(CodeError::CheckDigit);
        }
        Ok(Self(s.to_owned()))
    }

    fn check_digit(base: &[u32]) -> u32 {
        let sum: u32 = base.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
        (11 - sum % 11) % 10
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code of the prefecture this municipality lies in (itself for a prefecture).
    pub fn prefecture(&self) -> MunicipalityCode {
        // Six digits by construction (`parse` is the only way in); a zeroed fallback
        // keeps this total rather than provably unreachable.
        let d = digits::<6>(&self.0).unwrap_or([0; 6]);
        let base = [d[0], d[1], 0, 0, 0];
        let check = Self::check_digit(&base);
        Self(format!("{}{}000{}", d[0], d[1], check))
    }

    pub fn is_prefecture(&self) -> bool {
        self.0.get(2..5) == Some("000")
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MunicipalityCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, CodeError> {
        Self::parse(&s)
    }
}

impl From<MunicipalityCode> for String {
    fn from(c: MunicipalityCode) -> String {
        c.0
    }
}

/// 法人番号: a check digit followed by twelve digits (国税庁's rule: 9 − Σ(P·Q) mod 9,
/// Q alternating 1, 2 from the rightmost base digit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorporateNumber(String);

impl CorporateNumber {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let d = digits::<13>(s)?;
        let sum: u32 = d[1..]
            .iter()
            .rev()
            .enumerate()
            .map(|(i, p)| if i % 2 == 0 { *p } else { p * 2 })
            .sum();
        if 9 - sum % 9 != d[0] {
            return Err(CodeError::CheckDigit);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a partner or offer works: everywhere, a prefecture, or one municipality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Region {
    Nationwide,
    Code(MunicipalityCode),
}

impl Region {
    pub const NATIONWIDE: &'static str = "nationwide";

    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if s == Self::NATIONWIDE {
            Ok(Self::Nationwide)
        } else {
            MunicipalityCode::parse(s).map(Self::Code)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Nationwide => Self::NATIONWIDE,
            Self::Code(c) => c.as_str(),
        }
    }

    /// The region codes that cover `municipality`: the code itself, its prefecture, and
    /// nationwide.
    pub fn covering(municipality: &MunicipalityCode) -> Vec<String> {
        let mut v = vec![
            municipality.as_str().to_owned(),
            Self::NATIONWIDE.to_owned(),
        ];
        let pref = municipality.prefecture();
        if pref != *municipality {
            v.push(pref.0);
        }
        v
    }
}

/// The prefectures in JIS X 0401 order (01 北海道 … 47 沖縄県).
const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// The prefectures' English names, in the same order.
const PREFECTURES_EN: [&str; 47] = [
    "Hokkaido",
    "Aomori",
    "Iwate",
    "Miyagi",
    "Akita",
    "Yamagata",
    "Fukushima",
    "Ibaraki",
    "Tochigi",
    "Gunma",
    "Saitama",
    "Chiba",
    "Tokyo",
    "Kanagawa",
    "Niigata",
    "Toyama",
    "Ishikawa",
    "Fukui",
    "Yamanashi",
    "Nagano",
    "Gifu",
    "Shizuoka",
    "Aichi",
    "Mie",
    "Shiga",
    "Kyoto",
    "Osaka",
    "Hyogo",
    "Nara",
    "Wakayama",
    "Tottori",
    "Shimane",
    "Okayama",
    "Hiroshima",
    "Yamaguchi",
    "Tokushima",
    "Kagawa",
    "Ehime",
    "Kochi",
    "Fukuoka",
    "Saga",
    "Nagasaki",
    "Kumamoto",
    "Oita",
    "Miyazaki",
    "Kagoshima",
    "Okinawa",
];

impl MunicipalityCode {
    /// The name of the prefecture the code lies in.
    pub fn prefecture_name(&self) -> Option<&'static str> {
        let n: usize = self.0.get(..2)?.parse().ok()?;
        PREFECTURES.get(n.checked_sub(1)?).copied()
    }

    /// The English name of the prefecture the code lies in ("Hyogo").
    pub fn prefecture_name_en(&self) -> Option<&'static str> {
        let n: usize = self.0.get(..2)?.parse().ok()?;
        PREFECTURES_EN.get(n.checked_sub(1)?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_municipality_codes_pass() {
        for c in [
            "141003", "281000", "401307", "130001", "011002", "110001", "122173", "142051",
            "232114",
        ] {
            assert!(MunicipalityCode::parse(c).is_ok(), "{c}");
        }
    }

    #[test]
    fn wrong_check_digit_or_shape_fails() {
        assert_eq!(
            MunicipalityCode::parse("141004"),
            Err(CodeError::CheckDigit)
        );
        assert_eq!(MunicipalityCode::parse("14100"), Err(CodeError::Shape(6)));
        assert_eq!(
            MunicipalityCode::parse("１４１００３"),
            Err(CodeError::Shape(6))
        );
    }

    #[test]
    fn prefecture_of_a_city() {
        let yokohama = MunicipalityCode::parse("141003").unwrap();
        assert_eq!(yokohama.prefecture().as_str(), "140007");
        assert!(yokohama.prefecture().is_prefecture());
        let kobe = MunicipalityCode::parse("281000").unwrap();
        assert_eq!(kobe.prefecture().as_str(), "280003");
        assert_eq!(kobe.prefecture_name(), Some("兵庫県"));
        assert_eq!(kobe.prefecture_name_en(), Some("Hyogo"));
        assert_eq!(
            MunicipalityCode::parse("472018").unwrap().prefecture_name(),
            Some("沖縄県")
        );
    }

    #[test]
    fn corporate_numbers() {
        // Published numbers: 国税庁 and トヨタ自動車株式会社.
        assert!(CorporateNumber::parse("7000012050002").is_ok());
        assert!(CorporateNumber::parse("1180301018771").is_ok());
        assert_eq!(
            CorporateNumber::parse("2180301018771"),
            Err(CodeError::CheckDigit)
        );
        assert_eq!(
            CorporateNumber::parse("118030101877"),
            Err(CodeError::Shape(13))
        );
    }

    /// The check digit of five digits, computed independently of `parse`.
    fn with_check(base: [u32; 5]) -> String {
        let sum: u32 = base.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
        let check = (11 - sum % 11) % 10;
        base.iter()
            .chain([check].iter())
            .map(|d| d.to_string())
            .collect()
    }

    proptest::proptest! {
        // Whatever a client sends, parsing answers Ok or an error, never a panic.
        #[test]
        fn any_text_parses_or_is_refused(s in "\\PC{0,20}") {
            let _ = MunicipalityCode::parse(&s);
            let _ = CorporateNumber::parse(&s);
            let _ = Region::parse(&s);
        }

        #[test]
        fn any_digits_parse_or_are_refused(s in "[0-9]{0,14}") {
            if let Ok(code) = MunicipalityCode::parse(&s) {
                proptest::prop_assert_eq!(code.as_str(), s.as_str());
                let pref = code.prefecture();
                proptest::prop_assert!(MunicipalityCode::parse(pref.as_str()).is_ok());
                let _ = code.prefecture_name();
                proptest::prop_assert_eq!(Region::covering(&code).len() >= 2, true);
            }
            if let Ok(n) = CorporateNumber::parse(&s) {
                proptest::prop_assert_eq!(n.as_str(), s.as_str());
            }
        }

        #[test]
        fn a_right_check_digit_is_accepted_and_a_wrong_one_refused(
            base in proptest::array::uniform5(0u32..10),
            wrong in 1u32..10,
        ) {
            let good = with_check(base);
            proptest::prop_assert!(MunicipalityCode::parse(&good).is_ok(), "{}", good);
            let last = good.chars().last().and_then(|c| c.to_digit(10)).unwrap_or(0);
            let bad = format!("{}{}", good.get(..5).unwrap(), (last + wrong) % 10);
            proptest::prop_assert_eq!(MunicipalityCode::parse(&bad), Err(CodeError::CheckDigit));
        }
    }
}
