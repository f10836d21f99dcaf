//! The payment part with its receipt as SVG (210 × 105 mm, user units in mm), for a portal
//! that shows the bill on screen or prints it on its own paper.
use std::fmt::Write;

use super::slip::{Op, SLIP_H, SLIP_W};

const MM_PER_PT: f32 = 25.4 / 72.0;

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// `ops` as an SVG document.
pub fn render(ops: &[Op], title: &str) -> String {
    let mut s = String::with_capacity(48 * 1024);
    let _ = write!(
        s,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{SLIP_W}mm" height="{SLIP_H}mm" viewBox="0 0 {SLIP_W} {SLIP_H}" font-family="Helvetica, Arial, 'Liberation Sans', sans-serif"><title>"#
    );
    escape(title, &mut s);
    s.push_str("</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
    for op in ops {
        match op {
            Op::Text {
                x,
                y,
                size,
                bold,
                end,
                text,
            } => {
                let _ = write!(
                    s,
                    r#"<text x="{x:.2}" y="{y:.2}" font-size="{:.3}"{}{}>"#,
                    size * MM_PER_PT,
                    if *bold { r#" font-weight="bold""# } else { "" },
                    if *end { r#" text-anchor="end""# } else { "" },
                );
                escape(text, &mut s);
                s.push_str("</text>");
            }
            Op::Fill { rects, white } => {
                s.push_str("<path d=\"");
                for [x, y, w, h] in rects {
                    let _ = write!(s, "M{x:.3} {y:.3}h{w:.3}v{h:.3}h-{w:.3}z");
                }
                let _ = write!(
                    s,
                    "\" fill=\"{}\" shape-rendering=\"crispEdges\"/>",
                    if *white { "#fff" } else { "#000" }
                );
            }
            Op::Line { from, to, dashed } => {
                let _ = write!(
                    s,
                    r##"<line x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="#000" stroke-width="0.2"{}/>"##,
                    from.0,
                    from.1,
                    to.0,
                    to.1,
                    if *dashed { r#" stroke-dasharray="1 1""# } else { "" },
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
