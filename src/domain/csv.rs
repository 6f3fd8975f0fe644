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

    pub fn finish(self) -> String {
        self.out
    }
}

fn quote(f: &str) -> String {
    // A leading = + - @ would make a spreadsheet run the cell as a formula.
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
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
}
