//! The layout of a Swiss QR-bill, after the Swiss Implementation Guidelines for the QR-bill
//! (version 2.3, chapter 3): the payment part with its receipt (210 × 105 mm) and, for the
//! A4 bill, the letter above it. The layout is a list of drawing operations in millimetres
//! from the top left corner, written out as SVG ([`super::svg`]) or PDF ([`super::pdf`]), so
//! both show the same bill.
//!
//! - Receipt (62 mm wide): title 11 pt bold, headings 6 pt bold, values 8 pt; the currency and
//!   amount at 68 mm; "Acceptance point" right-aligned above its bottom.
//! - Payment part (148 mm): title 11 pt bold; the Swiss QR Code 46 × 46 mm at 5 mm / 17 mm with
//!   the Swiss cross (7 × 7 mm) in its middle; currency and amount below it; the information
//!   (account, reference, message, payer) on the right, headings 8 pt bold, values 10 pt.
//! - Lines between the parts, dashed, with "Separate before paying in" above, as the
//!   guidelines ask of a bill that is not printed on perforated paper.
//! - No payer known: the heading "Payable by (name/address)" and a blank box with corner marks.
use qrcode::{Color, EcLevel, QrCode};

use super::metrics;
use crate::domain::lang::Lang;
use crate::domain::qrbill::{self, Address, Bill};

/// A drawing operation; lengths in mm from the top left, font sizes in pt.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A line of text with its baseline at `y`; `end` aligns its end (not its start) to `x`.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        end: bool,
        text: String,
    },
    /// Filled rectangles `[x, y, width, height]`, black or white.
    Fill { rects: Vec<[f32; 4]>, white: bool },
    /// A straight line, 0.2 mm wide (`dashed` for the lines to cut along).
    Line {
        from: (f32, f32),
        to: (f32, f32),
        dashed: bool,
    },
}

/// The labels of the bill in one language: the guidelines' (annex D) and the letter's.
pub struct Labels {
    pub payment_part: &'static str,
    pub receipt: &'static str,
    pub account: &'static str,
    pub reference: &'static str,
    pub additional: &'static str,
    pub payable_by: &'static str,
    pub payable_by_blank: &'static str,
    pub currency: &'static str,
    pub amount: &'static str,
    pub acceptance: &'static str,
    pub separate: &'static str,
    pub invoice: &'static str,
    pub application: &'static str,
    pub issued: &'static str,
    pub due: &'static str,
    pub paid: &'static str,
    pub open: &'static str,
    pub please_pay: &'static str,
}

const LABELS: [Labels; 4] = [
    Labels {
        payment_part: "Zahlteil",
        receipt: "Empfangsschein",
        account: "Konto / Zahlbar an",
        reference: "Referenz",
        additional: "Zusätzliche Informationen",
        payable_by: "Zahlbar durch",
        payable_by_blank: "Zahlbar durch (Name/Adresse)",
        currency: "Währung",
        amount: "Betrag",
        acceptance: "Annahmestelle",
        separate: "Vor der Einzahlung abzutrennen",
        invoice: "Rechnung",
        application: "Gesuch",
        issued: "Rechnungsdatum",
        due: "Zahlbar bis",
        paid: "Bereits bezahlt",
        open: "Offener Betrag",
        please_pay: "Bitte bezahlen Sie den offenen Betrag mit dem Zahlteil unten.",
    },
    Labels {
        payment_part: "Section paiement",
        receipt: "Récépissé",
        account: "Compte / Payable à",
        reference: "Référence",
        additional: "Informations supplémentaires",
        payable_by: "Payable par",
        payable_by_blank: "Payable par (nom/adresse)",
        currency: "Monnaie",
        amount: "Montant",
        acceptance: "Point de dépôt",
        separate: "A détacher avant le versement",
        invoice: "Facture",
        application: "Demande",
        issued: "Date de facturation",
        due: "Payable jusqu'au",
        paid: "Déjà payé",
        open: "Montant ouvert",
        please_pay: "Veuillez payer le montant ouvert avec la section paiement ci-dessous.",
    },
    Labels {
        payment_part: "Sezione pagamento",
        receipt: "Ricevuta",
        account: "Conto / Pagabile a",
        reference: "Riferimento",
        additional: "Informazioni supplementari",
        payable_by: "Pagabile da",
        payable_by_blank: "Pagabile da (nome/indirizzo)",
        currency: "Valuta",
        amount: "Importo",
        acceptance: "Punto di accettazione",
        separate: "Da staccare prima del versamento",
        invoice: "Fattura",
        application: "Domanda",
        issued: "Data della fattura",
        due: "Pagabile entro il",
        paid: "Già pagato",
        open: "Importo aperto",
        please_pay: "La preghiamo di pagare l'importo aperto con la sezione pagamento qui sotto.",
    },
    Labels {
        payment_part: "Payment part",
        receipt: "Receipt",
        account: "Account / Payable to",
        reference: "Reference",
        additional: "Additional information",
        payable_by: "Payable by",
        payable_by_blank: "Payable by (name/address)",
        currency: "Currency",
        amount: "Amount",
        acceptance: "Acceptance point",
        separate: "Separate before paying in",
        invoice: "Invoice",
        application: "Application",
        issued: "Invoice date",
        due: "Due date",
        paid: "Already paid",
        open: "Amount open",
        please_pay: "Please pay the open amount with the payment part below.",
    },
];

/// The labels in `lang`.
pub fn labels(lang: Lang) -> &'static Labels {
    &LABELS[lang.index()]
}

/// Width and height of the payment part with its receipt.
pub const SLIP_W: f32 = 210.0;
pub const SLIP_H: f32 = 105.0;
/// A4.
pub const PAGE_W: f32 = 210.0;
pub const PAGE_H: f32 = 297.0;

const RECEIPT_W: f32 = 62.0;
const MARGIN: f32 = 5.0;
const QR_SIZE: f32 = 46.0;
/// The right column of the payment part.
const INFO_X: f32 = RECEIPT_W + MARGIN + QR_SIZE + MARGIN;
const INFO_W: f32 = SLIP_W - INFO_X - MARGIN;
const PT: f32 = 25.4 / 72.0;

/// Builds the ops of a page; every position is shifted down by `top`.
struct Page {
    ops: Vec<Op>,
    top: f32,
}

impl Page {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        self.put(x, y, size, bold, false, text);
    }

    fn text_end(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        self.put(x, y, size, bold, true, text);
    }

    fn put(&mut self, x: f32, y: f32, size: f32, bold: bool, end: bool, text: &str) {
        self.ops.push(Op::Text {
            x,
            y: y + self.top,
            size,
            bold,
            end,
            text: text.to_string(),
        });
    }

    fn line(&mut self, from: (f32, f32), to: (f32, f32), dashed: bool) {
        self.ops.push(Op::Line {
            from: (from.0, from.1 + self.top),
            to: (to.0, to.1 + self.top),
            dashed,
        });
    }

    fn fill(&mut self, rects: Vec<[f32; 4]>, white: bool) {
        let top = self.top;
        let rects = rects.into_iter().map(|[x, y, w, h]| [x, y + top, w, h]).collect();
        self.ops.push(Op::Fill { rects, white });
    }

    /// A blank box shown by its four corners (3 mm marks), for what the payer writes.
    fn blank_box(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let m = 3.0;
        for (cx, cy, dx, dy) in [
            (x, y, m, m),
            (x + w, y, -m, m),
            (x, y + h, m, -m),
            (x + w, y + h, -m, -m),
        ] {
            self.line((cx, cy), (cx + dx, cy), false);
            self.line((cx, cy), (cx, cy + dy), false);
        }
    }

    /// Lines of `text` at `size` that fit in `width` mm (broken at spaces; a word longer
    /// than the width is cut).
    fn wrap(text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if metrics::width_mm(&candidate, size, bold) <= width || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_string();
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
            .into_iter()
            .map(|l| metrics::cut_to(&l, size, bold, width))
            .collect()
    }
}

/// The address as printed: name; street and number; postal code and town (the country
/// before the postal code when it is not Switzerland).
fn address_lines(a: &Address) -> Vec<String> {
    let mut out = vec![a.name.clone()];
    let street = [a.street.as_deref(), a.house_number.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !street.is_empty() {
        out.push(street);
    }
    let town = if a.country == "CH" {
        format!("{} {}", a.postal_code, a.town)
    } else {
        format!("{}-{} {}", a.country, a.postal_code, a.town)
    };
    out.push(town);
    out
}

/// The Swiss QR Code of `payload` (error correction level M, as the guidelines require) as
/// rows of black runs `[x, y, w, h]`, `size` mm wide, at (`x`, `y`).
pub fn qr_rects(payload: &str, x: f32, y: f32, size: f32) -> Result<Vec<[f32; 4]>, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)?;
    let n = code.width();
    let colors = code.to_colors();
    let module = size / n as f32;
    let mut rects = Vec::with_capacity(n * 8);
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == Color::Dark {
                    col += 1;
                }
                rects.push([
                    x + start as f32 * module,
                    y + row as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ]);
            } else {
                col += 1;
            }
        }
    }
    Ok(rects)
}

/// The payment part and receipt of `bill`, in `lang`, `top` mm from the top of the page.
fn payment_part(page: &mut Page, bill: &Bill, lang: Lang) -> Result<(), qrcode::types::QrError> {
    let l = labels(lang);
    let reference = qrbill::printed_reference(&bill.reference);
    let amount = bill.amount.map(qrbill::amount_printed);

    // Receipt.
    let x = MARGIN;
    page.text(x, 9.0, 11.0, true, l.receipt);
    let mut y = 14.0;
    let step = 9.0 * PT;
    let width = RECEIPT_W - 2.0 * MARGIN;
    page.text(x, y, 6.0, true, l.account);
    y += step;
    for line in std::iter::once(bill.account.grouped()).chain(address_lines(&bill.creditor)) {
        for part in Page::wrap(&line, 8.0, false, width) {
            page.text(x, y, 8.0, false, &part);
            y += step;
        }
    }
    y += step * 0.5;
    page.text(x, y, 6.0, true, l.reference);
    y += step;
    page.text(x, y, 8.0, false, &reference);
    y += step * 1.5;
    match &bill.debtor {
        Some(d) => {
            page.text(x, y, 6.0, true, l.payable_by);
            y += step;
            for line in address_lines(d) {
                for part in Page::wrap(&line, 8.0, false, width) {
                    page.text(x, y, 8.0, false, &part);
                    y += step;
                }
            }
        }
        None => {
            page.text(x, y, 6.0, true, l.payable_by_blank);
            page.blank_box(x, y + 1.5, 52.0, 20.0);
        }
    }
    page.text(x, 72.0, 6.0, true, l.currency);
    page.text(x + 13.0, 72.0, 6.0, true, l.amount);
    page.text(x, 76.0, 8.0, false, &bill.currency);
    match &amount {
        Some(a) => page.text(x + 13.0, 76.0, 8.0, false, a),
        None => page.blank_box(x + 22.0, 73.0, 30.0, 10.0),
    }
    page.text_end(RECEIPT_W - MARGIN, 86.0, 6.0, true, l.acceptance);

    // Payment part.
    let px = RECEIPT_W + MARGIN;
    page.text(px, 9.0, 11.0, true, l.payment_part);
    let qr_y = 17.0;
    let rects = qr_rects(&bill.payload(), px, qr_y + page.top, QR_SIZE)?;
    page.ops.push(Op::Fill { rects, white: false });
    swiss_cross(page, px + QR_SIZE / 2.0, qr_y + QR_SIZE / 2.0);
    page.text(px, 72.0, 8.0, true, l.currency);
    page.text(px + 13.0, 72.0, 8.0, true, l.amount);
    page.text(px, 77.0, 10.0, false, &bill.currency);
    match &amount {
        Some(a) => page.text(px + 13.0, 77.0, 10.0, false, a),
        None => page.blank_box(px + 11.0, 74.0, 40.0, 15.0),
    }

    let x = INFO_X;
    let step = 11.0 * PT;
    let mut y = 9.0;
    let heading = |page: &mut Page, y: &mut f32, text: &str, first: bool| {
        if !first {
            *y += step * 0.5;
        }
        page.text(x, *y, 8.0, true, text);
        *y += step;
    };
    heading(page, &mut y, l.account, true);
    for line in std::iter::once(bill.account.grouped()).chain(address_lines(&bill.creditor)) {
        for part in Page::wrap(&line, 10.0, false, INFO_W) {
            page.text(x, y, 10.0, false, &part);
            y += step;
        }
    }
    heading(page, &mut y, l.reference, false);
    page.text(x, y, 10.0, false, &reference);
    y += step;
    if let Some(m) = bill.message.as_deref().filter(|m| !m.is_empty()) {
        heading(page, &mut y, l.additional, false);
        for part in Page::wrap(m, 10.0, false, INFO_W).into_iter().take(3) {
            page.text(x, y, 10.0, false, &part);
            y += step;
        }
    }
    match &bill.debtor {
        Some(d) => {
            heading(page, &mut y, l.payable_by, false);
            for line in address_lines(d) {
                for part in Page::wrap(&line, 10.0, false, INFO_W) {
                    page.text(x, y, 10.0, false, &part);
                    y += step;
                }
            }
        }
        None => {
            heading(page, &mut y, l.payable_by_blank, false);
            page.blank_box(x, y - 2.0, 65.0, 25.0);
        }
    }

    // Where to cut.
    page.line((RECEIPT_W, 0.0), (RECEIPT_W, SLIP_H), true);
    Ok(())
}

/// The Swiss cross in the middle of the code: a black square with the white cross, on a
/// white square of 7 mm.
fn swiss_cross(page: &mut Page, cx: f32, cy: f32) {
    let (outer, inner) = (7.0, 6.0);
    page.fill(vec![[cx - outer / 2.0, cy - outer / 2.0, outer, outer]], true);
    page.fill(vec![[cx - inner / 2.0, cy - inner / 2.0, inner, inner]], false);
    let (arm_w, arm_l) = (inner * 0.19, inner * 0.63);
    page.fill(
        vec![
            [cx - arm_w / 2.0, cy - arm_l / 2.0, arm_w, arm_l],
            [cx - arm_l / 2.0, cy - arm_w / 2.0, arm_l, arm_w],
        ],
        true,
    );
}

/// The payment part with its receipt alone (210 × 105 mm), as the SVG shows it.
pub fn slip(bill: &Bill, lang: Lang) -> Result<Vec<Op>, qrcode::types::QrError> {
    let mut page = Page {
        ops: Vec::with_capacity(64),
        top: 0.0,
    };
    payment_part(&mut page, bill, lang)?;
    Ok(page.ops)
}

/// What the A4 bill says above its payment part.
pub struct Letter<'a> {
    pub bill: &'a Bill,
    pub lang: Lang,
    /// The service, in `lang`.
    pub service: &'a str,
    /// The application's reference.
    pub application: &'a str,
    pub issued_on: chrono::NaiveDate,
    pub due_on: chrono::NaiveDate,
    /// Rappen: the bill's amount and what is paid of it.
    pub amount: i64,
    pub paid: i64,
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// The A4 bill: the creditor and the payer (in the window of a Swiss C5 envelope, on the
/// right), the bill's facts and, at the bottom, the payment part with its receipt.
pub fn a4(letter: &Letter) -> Result<Vec<Op>, qrcode::types::QrError> {
    let l = labels(letter.lang);
    let bill = letter.bill;
    let mut page = Page {
        ops: Vec::with_capacity(96),
        top: 0.0,
    };
    let mut y = 20.0;
    for line in address_lines(&bill.creditor) {
        page.text(20.0, y, 10.0, false, &line);
        y += 4.5;
    }
    if let Some(d) = &bill.debtor {
        let mut y = 55.0;
        for line in address_lines(d) {
            page.text(118.0, y, 10.0, false, &line);
            y += 4.5;
        }
    }
    page.text(
        20.0,
        100.0,
        16.0,
        true,
        &format!("{} {}", l.invoice, letter.application),
    );
    let mut y = 112.0;
    let open = (letter.amount - letter.paid).max(0);
    let mut rows: Vec<(&str, String)> = vec![
        (l.application, letter.application.to_string()),
        ("", letter.service.to_string()),
        (l.issued, date(letter.issued_on)),
        (l.due, date(letter.due_on)),
        (l.reference, qrbill::printed_reference(&bill.reference)),
        (
            l.amount,
            format!("{} {}", bill.currency, qrbill::amount_printed(letter.amount)),
        ),
    ];
    if letter.paid > 0 {
        rows.push((
            l.paid,
            format!("{} {}", bill.currency, qrbill::amount_printed(letter.paid)),
        ));
        rows.push((l.open, format!("{} {}", bill.currency, qrbill::amount_printed(open))));
    }
    for (label, value) in rows {
        page.text(20.0, y, 10.0, true, label);
        for part in Page::wrap(&value, 10.0, false, 120.0) {
            page.text(70.0, y, 10.0, false, &part);
            y += 5.0;
        }
    }
    y += 5.0;
    page.text(20.0, y, 10.0, false, l.please_pay);

    // The payment part at the bottom, a dashed line above it to cut along.
    page.top = PAGE_H - SLIP_H;
    page.line((0.0, 0.0), (PAGE_W, 0.0), true);
    let half = metrics::width_mm(l.separate, 7.0, false) / 2.0;
    page.text(PAGE_W / 2.0 - half, -1.5, 7.0, false, l.separate);
    payment_part(&mut page, bill, letter.lang)?;
    Ok(page.ops)
}
