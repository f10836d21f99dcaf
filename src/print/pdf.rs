//! The A4 bill as PDF: one page, set in the PDF's standard Helvetica fonts (no font file to
//! embed, so a bill is a few kilobytes), the content stream compressed.
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::metrics;
use super::slip::{Op, PAGE_H, PAGE_W};

const PT_PER_MM: f32 = 72.0 / 25.4;

/// `text` in the fonts' encoding (WinAnsi): Latin-1 as it is, the other characters of
/// Windows-1252 (Œ, Š, Ž, €, ...) by their code, anything else by its transliteration.
fn win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = c as u32;
        if (0x20..=0x7E).contains(&code) || (0xA0..=0xFF).contains(&code) {
            out.push(code as u8);
            continue;
        }
        let mut buf = [0u8; 4];
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
        if !unmappable && bytes.len() == 1 {
            out.push(bytes[0]);
        } else {
            let ascii = deunicode::deunicode_char(c).unwrap_or("?");
            out.extend(ascii.bytes().filter(|b| (0x20..=0x7E).contains(b)));
        }
    }
    out
}

/// The page of `ops` (A4) as a PDF document titled `title`.
pub fn render(ops: &[Op], title: &str) -> Vec<u8> {
    let (catalog, pages, page, regular, bold, content_id, info) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
        Ref::new(7),
    );
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, PAGE_W * PT_PER_MM, PAGE_H * PT_PER_MM));
    p.parent(pages);
    p.contents(content_id);
    p.resources().fonts().pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
    p.finish();
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("guichet"));

    let mut c = Content::new();
    let y = |mm: f32| (PAGE_H - mm) * PT_PER_MM;
    for op in ops {
        match op {
            Op::Text {
                x,
                y: base,
                size,
                bold,
                end,
                text,
            } => {
                let x = if *end {
                    x - metrics::width_mm(text, *size, *bold)
                } else {
                    *x
                };
                c.begin_text();
                c.set_font(Name(if *bold { b"F2" } else { b"F1" }), *size);
                c.next_line(x * PT_PER_MM, y(*base));
                c.show(Str(&win_ansi(text)));
                c.end_text();
            }
            Op::Fill { rects, white } => {
                c.set_fill_gray(if *white { 1.0 } else { 0.0 });
                for [rx, ry, w, h] in rects {
                    c.rect(rx * PT_PER_MM, y(ry + h), w * PT_PER_MM, h * PT_PER_MM);
                }
                c.fill_nonzero();
                c.set_fill_gray(0.0);
            }
            Op::Line { from, to, dashed } => {
                c.set_line_width(0.2 * PT_PER_MM);
                if *dashed {
                    c.set_dash_pattern([3.0, 3.0], 0.0);
                } else {
                    c.set_dash_pattern([], 0.0);
                }
                c.move_to(from.0 * PT_PER_MM, y(from.1));
                c.line_to(to.0 * PT_PER_MM, y(to.1));
                c.stroke();
            }
        }
    }
    let raw = c.finish();
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 4);
    pdf.stream(content_id, &packed).filter(Filter::FlateDecode);
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_ansi_keeps_latin_and_transliterates_the_rest() {
        assert_eq!(win_ansi("Zürich"), b"Z\xfcrich");
        assert_eq!(win_ansi("Šeremet €"), b"\x8aeremet \x80");
        assert_eq!(win_ansi("Łódź"), b"L\xf3dz");
    }
}
