//! Text widths in Helvetica and Helvetica Bold (the PDF's standard fonts the bill is set in),
//! from Adobe's font metrics (AFM) as the `pdf-core-14-font-afms` crate ships them. Used to
//! right-align and wrap the bill's texts so that they stay inside their sections.
use std::sync::LazyLock;

/// Advance widths (1/1000 em) of the printable ASCII characters, 32..=126.
struct Widths([u16; 95]);

fn parse(afm: &str) -> Widths {
    let mut w = [556u16; 95];
    for line in afm.lines() {
        let mut code = None;
        let mut width = None;
        for part in line.split(';') {
            let mut it = part.split_whitespace();
            match (it.next(), it.next()) {
                (Some("C"), Some(c)) => code = c.parse::<i32>().ok(),
                (Some("WX"), Some(x)) => width = x.parse::<u16>().ok(),
                _ => {}
            }
        }
        if let (Some(c @ 32..=126), Some(x)) = (code, width) {
            w[(c - 32) as usize] = x;
        }
    }
    Widths(w)
}

static REGULAR: LazyLock<Widths> = LazyLock::new(|| parse(pdf_core_14_font_afms::HELVETICA));
static BOLD: LazyLock<Widths> = LazyLock::new(|| parse(pdf_core_14_font_afms::HELVETICA_BOLD));

/// The width of `c` in 1/1000 em. A letter with a diacritic is as wide as its base letter in
/// Helvetica; anything else outside ASCII is taken by its transliteration.
fn char_width(c: char, w: &Widths) -> u32 {
    let ascii = |c: char| (c as u32).checked_sub(32).filter(|i| *i < 95);
    if let Some(i) = ascii(c) {
        return u32::from(w.0[i as usize]);
    }
    deunicode::deunicode_char(c)
        .and_then(|s| s.chars().next())
        .and_then(ascii)
        .map_or(556, |i| u32::from(w.0[i as usize]))
}

/// The width of `text` in mm at `size` pt.
pub fn width_mm(text: &str, size: f32, bold: bool) -> f32 {
    let w = if bold { &*BOLD } else { &*REGULAR };
    let units: u32 = text.chars().map(|c| char_width(c, w)).sum();
    units as f32 / 1000.0 * size * 25.4 / 72.0
}

/// `text` cut to fit `width` mm (with "…" when cut).
pub fn cut_to(text: &str, size: f32, bold: bool, width: f32) -> String {
    if width_mm(text, size, bold) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if width_mm(&out, size, bold) + width_mm("…", size, bold) > width {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_adobes() {
        // Helvetica: "A" 667, space 278; Helvetica-Bold: "A" 722.
        assert!((width_mm("A", 1000.0 * 72.0 / 25.4, false) - 667.0).abs() < 0.01);
        assert!((width_mm("A", 1000.0 * 72.0 / 25.4, true) - 722.0).abs() < 0.01);
        assert_eq!(width_mm("ä", 10.0, false), width_mm("a", 10.0, false));
        assert!(width_mm("Point de dépôt", 6.0, true) > 10.0);
    }

    #[test]
    fn cut_keeps_within_width() {
        let long = "Einwohnerdienste der Stadt Thun, Abteilung für Sicherheit und Bevölkerung";
        let cut = cut_to(long, 10.0, false, 40.0);
        assert!(cut.ends_with('…'));
        assert!(width_mm(&cut, 10.0, false) <= 40.0);
    }
}
