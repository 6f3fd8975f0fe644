//! CSV for Japanese spreadsheets: UTF-8 with a byte-order mark (so Excel reads it as
//! UTF-8, not Shift_JIS), CRLF line ends, every field quoted when it needs to be.

pub struct Csv {
    out: String,
}

impl Csv {
    pub fn new(header: &[&str]) -> Self {
        let mut c = Self {
            out: String::from("\u{feff}"),
        };
        c.row(header.iter().map(|s| s.to_string()));
        c
    }

    pub fn row(&mut self, fields: impl IntoIterator<Item = String>) {
        let line: Vec<String> = fields.into_iter().map(|f| quote(&f)).collect();
        self.out.push_str(&line.join(","));
        self.out.push_str("\r\n");
    }

    /// A row of cells, each text (guarded like `row`'s) or a number written as it is: a
    /// spreadsheet reads `-1` as minus one, and no number can start a formula.
    pub fn cells(&mut self, cells: impl IntoIterator<Item = Cell>) {
        let line: Vec<String> = cells
            .into_iter()
            .map(|c| match c {
                Cell::Text(t) => quote(&t),
                Cell::Number(n) => n,
            })
            .collect();
        self.out.push_str(&line.join(","));
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// One cell of `Csv::cells`.
pub enum Cell {
    Text(String),
    /// Only made by `Cell::number`, so it holds digits, a point and a minus sign.
    Number(String),
}

impl Cell {
    /// `v` with `decimals` digits after the point; blank when absent or not finite.
    pub fn number(v: Option<f64>, decimals: usize) -> Cell {
        match v {
            Some(v) if v.is_finite() => Cell::Number(format!("{v:.decimals$}")),
            _ => Cell::Number(String::new()),
        }
    }
}

/// Characters that make Excel or LibreOffice read a cell as a formula (or DDE) when they
/// start it: = + - @, the control characters tab, CR and LF (which the programs skip
/// before looking), and the full-width forms ＝ ＋ － ＠ that Japanese input methods type
/// and that Excel folds to their ASCII twins.
const FORMULA_START: [char; 11] = [
    '=', '+', '-', '@', '\t', '\r', '\n', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
];

/// Whether a spreadsheet could take `f` for a formula: a formula character first, or
/// after leading spaces (ASCII or the ideographic space U+3000), which the programs also
/// skip.
pub fn looks_like_formula(f: &str) -> bool {
    f.trim_start_matches([' ', '\u{3000}'])
        .starts_with(FORMULA_START)
}

/// Neutralises a cell that could run as a formula by prefixing an apostrophe (OWASP's
/// advice): the spreadsheet shows the text as it was.
pub fn guard(f: &str) -> String {
    if looks_like_formula(f) {
        format!("'{f}")
    } else {
        f.to_owned()
    }
}

fn quote(f: &str) -> String {
    let f = guard(f);
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_crlf_and_quoting() {
        let mut c = Csv::new(&["件名", "本文"]);
        c.row(["防災, 安全".to_owned(), "行1\n\"引用\"".to_owned()]);
        c.row(["=SUM(A1)".to_owned(), "-1".to_owned()]);
        assert_eq!(
            c.finish(),
            "\u{feff}件名,本文\r\n\"防災, 安全\",\"行1\n\"\"引用\"\"\"\r\n'=SUM(A1),'-1\r\n"
        );
    }

    #[test]
    fn numbers_are_written_as_numbers_and_text_stays_guarded() {
        let mut c = Csv::new(&["項目", "差"]);
        c.cells([Cell::Text("-x".into()), Cell::number(Some(-1.5), 1)]);
        c.cells([Cell::Text("件数".into()), Cell::number(None, 0)]);
        c.cells([Cell::Text("比".into()), Cell::number(Some(f64::NAN), 0)]);
        assert_eq!(
            c.finish(),
            "\u{feff}項目,差\r\n'-x,-1.5\r\n件数,\r\n比,\r\n"
        );
    }

    #[test]
    fn every_formula_start_is_guarded() {
        for cell in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "\n=1",
            "＝SUM(A1)",
            "＋1",
            "－1",
            "＠A1",
            "  =1",
            "\u{3000}＝1",
        ] {
            assert!(guard(cell).starts_with('\''), "{cell:?} not guarded");
        }
        for cell in ["防災", "1-2", "a=b", "'=1", ""] {
            assert_eq!(guard(cell), cell, "{cell:?} changed");
        }
    }

    /// The first character a spreadsheet looks at, after the spaces it skips.
    fn first_significant(cell: &str) -> Option<char> {
        cell.trim_start_matches([' ', '\u{3000}']).chars().next()
    }

    proptest::proptest! {
        #[test]
        fn no_guarded_cell_starts_a_formula(
            prefix in proptest::collection::vec(proptest::sample::select(vec![
                ' ', '\u{3000}', '=', '+', '-', '@', '\t', '\r', '\n',
                '＝', '＋', '－', '＠', 'a', '1', '防',
            ]), 0..4),
            rest in ".{0,12}",
        ) {
            let cell: String = prefix.into_iter().collect::<String>() + &rest;
            let g = guard(&cell);
            proptest::prop_assert!(
                !first_significant(&g).is_some_and(|c| FORMULA_START.contains(&c)),
                "{cell:?} became {g:?}"
            );
            // A guarded cell still holds the text: the guard only ever adds a prefix.
            proptest::prop_assert!(g.ends_with(&cell));
            // And the written CSV field, unquoted, starts the same way.
            let mut c = Csv::new(&["x"]);
            c.row([cell.clone()]);
            let out = c.finish();
            let field = out.split_once("\r\n").map(|(_, f)| f).unwrap_or("");
            let field = field.strip_suffix("\r\n").unwrap_or(field);
            let field = field.strip_prefix('"').unwrap_or(field);
            proptest::prop_assert!(
                !first_significant(field).is_some_and(|c| FORMULA_START.contains(&c))
            );
        }
    }
}
