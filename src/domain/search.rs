//! Search normalisation: lower case, accents and ligatures folded to ASCII, so that
//! `bestatigung` finds "Wohnsitzbestätigung" and `demenagement` finds "Déménagement" on every
//! backend alike (the application normalises; no database text search is involved).

/// Folds `s` for matching: transliterated to ASCII, lower-cased, runs of non-alphanumerics
/// collapsed to one space.
pub fn normalize(s: &str) -> String {
    let ascii = deunicode::deunicode(s);
    let mut out = String::with_capacity(ascii.len());
    let mut space = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c.to_ascii_lowercase());
        } else {
            space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(normalize("Wohnsitzbestätigung"), "wohnsitzbestatigung");
        assert_eq!(normalize("Déménagement – Thoune"), "demenagement thoune");
        assert_eq!(normalize("  Straße/Öffnung "), "strasse offnung");
        assert!(normalize("Wohnsitzbestätigung").contains(&normalize("BESTATIGUNG")));
    }
}
