//! The bank's notifications of incoming payments: ISO 20022 camt.054 (versions .001.04 and
//! .001.08, as Swiss banks deliver them after the Swiss Payment Standards), read into the
//! credits they report. No I/O here.
//!
//! A notification (`BkToCstmrDbtCdtNtfctn`) holds notifications per account (`Ntfctn`), each
//! with entries (`Ntry`, a booking), each with transactions (`NtryDtls/TxDtls`, several in a
//! collective booking). A credit is a booked (`BOOK`), credited (`CRDT`), not reversed
//! transaction; its reference is the structured creditor reference (`RmtInf/Strd/CdtrRefInf/
//! Ref`: a QR reference or an ISO 11649 creditor reference). Anything else (debits, pending
//! or informative entries, reversals) is skipped. A document that is not a camt.054 of
//! these versions, or whose credits lack what is needed, is refused whole, naming the element.
use chrono::NaiveDate;
use roxmltree::{Document, Node, ParsingOptions};

use super::qrbill::normalise_reference;

const NS_04: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.04";
const NS_08: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08";

/// The largest notification read (a day of a city's payments is far less).
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// One credit the bank reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The bank's own reference of the transaction, unique per credit: what makes importing
    /// it twice record nothing twice (`TxDtls/Refs/AcctSvcrRef`, else the entry's with the
    /// transaction's place in it).
    pub bank_reference: String,
    pub booking_date: NaiveDate,
    /// Minor units (Rappen).
    pub amount: i64,
    pub currency: String,
    /// The payment reference, normalised (no spaces, upper case), if the payer gave one.
    pub reference: Option<String>,
    /// The payer's name, when the bank says it.
    pub debtor: Option<String>,
    /// The account credited (IBAN), when the notification names it.
    pub account: Option<String>,
}

/// A notification read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `GrpHdr/MsgId`.
    pub message_id: String,
    /// `04` or `08`.
    pub version: &'static str,
    pub credits: Vec<Credit>,
}

/// Why a document was refused: where (a path of element names with their place among
/// siblings of the same name, e.g. `Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[3]/Amt`,
/// and the line) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CamtError {
    pub path: String,
    pub line: u32,
    pub problem: Problem,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not well-formed XML (or a DTD, which is refused).
    Xml(String),
    /// Another kind of document (another message or version).
    NotCamt054(String),
    /// A required element is missing.
    Missing(&'static str),
    /// An amount that is not a positive decimal with at most two decimals.
    Amount(String),
    /// A date that is not `YYYY-MM-DD`.
    Date(String),
    /// A currency that is not three capital letters.
    Currency(String),
    /// Larger than [`MAX_BYTES`].
    TooLarge,
}

fn path_of(n: Node) -> String {
    let mut parts = Vec::new();
    let mut at = Some(n);
    while let Some(node) = at {
        if node.is_element() {
            let name = node.tag_name().name();
            let same: Vec<Node> = node
                .parent()
                .map(|p| {
                    p.children()
                        .filter(|c| c.is_element() && c.tag_name().name() == name)
                        .collect()
                })
                .unwrap_or_default();
            if same.len() > 1 {
                let i = same.iter().position(|c| *c == node).unwrap_or(0) + 1;
                parts.push(format!("{name}[{i}]"));
            } else {
                parts.push(name.to_string());
            }
        }
        at = node.parent();
    }
    parts.reverse();
    parts.join("/")
}

fn error(doc: &Document, n: Node, problem: Problem) -> CamtError {
    CamtError {
        path: path_of(n),
        line: doc.text_pos_at(n.range().start).row,
        problem,
    }
}

/// The child element named `name` (in the document's namespace).
fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The element at a path of names below `n`.
fn at<'a, 'i>(n: Node<'a, 'i>, path: &[&str]) -> Option<Node<'a, 'i>> {
    path.iter().try_fold(n, |n, name| child(n, name))
}

fn text<'a>(n: Node<'a, '_>) -> Option<&'a str> {
    n.text().map(str::trim).filter(|t| !t.is_empty())
}

fn text_at<'a>(n: Node<'a, '_>, path: &[&str]) -> Option<&'a str> {
    at(n, path).and_then(text)
}

/// `1949.75` in Rappen; at most two decimals, positive.
pub fn parse_amount(s: &str) -> Option<i64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() || whole.len() > 12 || frac.len() > 2 {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    let rappen = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)?;
    (rappen > 0).then_some(rappen)
}

/// Reads a camt.054 document.
pub fn parse(xml: &str) -> Result<Notification, CamtError> {
    if xml.len() > MAX_BYTES {
        return Err(CamtError {
            path: String::new(),
            line: 1,
            problem: Problem::TooLarge,
        });
    }
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, options).map_err(|e| CamtError {
        path: String::new(),
        line: e.pos().row,
        problem: Problem::Xml(e.to_string()),
    })?;
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or("");
    let version = match ns {
        NS_04 => "04",
        NS_08 => "08",
        _ => {
            let what = format!("{{{ns}}}{}", root.tag_name().name());
            return Err(error(&doc, root, Problem::NotCamt054(what)));
        }
    };
    let body = child(root, "BkToCstmrDbtCdtNtfctn")
        .filter(|_| root.tag_name().name() == "Document")
        .ok_or_else(|| error(&doc, root, Problem::NotCamt054(root.tag_name().name().to_string())))?;
    let message_id = text_at(body, &["GrpHdr", "MsgId"])
        .ok_or_else(|| error(&doc, body, Problem::Missing("GrpHdr/MsgId")))?
        .to_string();
    let mut credits = Vec::new();
    for ntfctn in children(body, "Ntfctn") {
        let account = text_at(ntfctn, &["Acct", "Id", "IBAN"]).map(normalise_reference);
        for entry in children(ntfctn, "Ntry") {
            read_entry(&doc, entry, version, account.as_deref(), &mut credits)?;
        }
    }
    Ok(Notification {
        message_id,
        version,
        credits,
    })
}

fn read_entry(
    doc: &Document,
    entry: Node,
    version: &str,
    account: Option<&str>,
    credits: &mut Vec<Credit>,
) -> Result<(), CamtError> {
    let credit = text_at(entry, &["CdtDbtInd"]) == Some("CRDT");
    let reversal = text_at(entry, &["RvslInd"]) == Some("true");
    let status = if version == "04" {
        text_at(entry, &["Sts"])
    } else {
        text_at(entry, &["Sts", "Cd"])
    };
    if !credit || reversal || status != Some("BOOK") {
        return Ok(());
    }
    let date_node = at(entry, &["BookgDt", "Dt"])
        .or_else(|| at(entry, &["BookgDt", "DtTm"]))
        .ok_or_else(|| error(doc, entry, Problem::Missing("BookgDt/Dt")))?;
    let date_text = text(date_node).unwrap_or("");
    let booking_date = date_text
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| error(doc, date_node, Problem::Date(date_text.to_string())))?;
    let entry_ref = text_at(entry, &["AcctSvcrRef"]);
    let (entry_amount, entry_currency) = amount_of(doc, entry)?;
    let txs: Vec<Node> = at(entry, &["NtryDtls"])
        .map(|d| children(d, "TxDtls").collect())
        .unwrap_or_default();
    if txs.is_empty() {
        // no details: the entry is one credit, without a reference
        let bank_reference = entry_ref
            .ok_or_else(|| error(doc, entry, Problem::Missing("AcctSvcrRef")))?
            .to_string();
        credits.push(Credit {
            bank_reference,
            booking_date,
            amount: entry_amount,
            currency: entry_currency,
            reference: None,
            debtor: None,
            account: account.map(str::to_string),
        });
        return Ok(());
    }
    let single = txs.len() == 1;
    for (i, tx) in txs.into_iter().enumerate() {
        if text_at(tx, &["CdtDbtInd"]).is_some_and(|d| d != "CRDT") {
            continue;
        }
        let (amount, currency) = if child(tx, "Amt").is_some() {
            amount_of(doc, tx)?
        } else if single {
            (entry_amount, entry_currency.clone())
        } else {
            return Err(error(doc, tx, Problem::Missing("Amt")));
        };
        let bank_reference = match (text_at(tx, &["Refs", "AcctSvcrRef"]), entry_ref) {
            (Some(r), _) => r.to_string(),
            (None, Some(e)) => format!("{e}#{}", i + 1),
            (None, None) => return Err(error(doc, tx, Problem::Missing("Refs/AcctSvcrRef"))),
        };
        let reference = text_at(tx, &["RmtInf", "Strd", "CdtrRefInf", "Ref"]).map(normalise_reference);
        let debtor = if version == "04" {
            text_at(tx, &["RltdPties", "Dbtr", "Nm"])
        } else {
            text_at(tx, &["RltdPties", "Dbtr", "Pty", "Nm"])
        };
        credits.push(Credit {
            bank_reference,
            booking_date,
            amount,
            currency,
            reference,
            debtor: debtor.map(str::to_string),
            account: account.map(str::to_string),
        });
    }
    Ok(())
}

/// The `Amt` of an entry or transaction: Rappen and currency.
fn amount_of(doc: &Document, n: Node) -> Result<(i64, String), CamtError> {
    let amt = child(n, "Amt").ok_or_else(|| error(doc, n, Problem::Missing("Amt")))?;
    let raw = text(amt).unwrap_or("");
    let amount = parse_amount(raw).ok_or_else(|| error(doc, amt, Problem::Amount(raw.to_string())))?;
    let ccy = amt.attribute("Ccy").unwrap_or("");
    if ccy.len() != 3 || !ccy.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(error(doc, amt, Problem::Currency(ccy.to_string())));
    }
    Ok((amount, ccy.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V04: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.04">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>CAMT054-20251203-0001</MsgId><CreDtTm>2025-12-03T21:15:03</CreDtTm></GrpHdr>
  <Ntfctn><Id>NTF-1</Id><CreDtTm>2025-12-03T21:15:03</CreDtTm>
   <Acct><Id><IBAN>CH4431999123000889012</IBAN></Id></Acct>
   <Ntry>
    <Amt Ccy="CHF">2050.25</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2025-12-03</Dt></BookgDt><AcctSvcrRef>251203CH0A1B2C3D</AcctSvcrRef>
    <NtryDtls>
     <TxDtls><Refs><AcctSvcrRef>251203CH0A1B2C3D-1</AcctSvcrRef></Refs>
      <Amt Ccy="CHF">1949.75</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Nm>Pia Rutschmann</Nm></Dbtr></RltdPties>
      <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>
       <Ref>21 00000 00003 13947 14300 09017</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
     <TxDtls><Amt Ccy="CHF">100.5</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Nm>Hans Muster &amp; Co</Nm></Dbtr></RltdPties></TxDtls>
    </NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="CHF">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2025-12-03</Dt></BookgDt></Ntry>
   <Ntry><Amt Ccy="CHF">7.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts><BookgDt><Dt>2025-12-03</Dt></BookgDt></Ntry>
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>"#;

    #[test]
    fn credits_of_a_version_04_notification() {
        let n = parse(V04).unwrap();
        assert_eq!((n.message_id.as_str(), n.version), ("CAMT054-20251203-0001", "04"));
        assert_eq!(n.credits.len(), 2, "the debit and the pending entry are skipped");
        let first = &n.credits[0];
        assert_eq!(first.bank_reference, "251203CH0A1B2C3D-1");
        assert_eq!(first.amount, 194975);
        assert_eq!(first.reference.as_deref(), Some("210000000003139471430009017"));
        assert_eq!(first.debtor.as_deref(), Some("Pia Rutschmann"));
        assert_eq!(first.account.as_deref(), Some("CH4431999123000889012"));
        assert_eq!(first.booking_date.to_string(), "2025-12-03");
        let second = &n.credits[1];
        assert_eq!(
            second.bank_reference, "251203CH0A1B2C3D#2",
            "the entry's reference and its place"
        );
        assert_eq!((second.amount, second.reference.as_deref()), (10050, None));
        assert_eq!(second.debtor.as_deref(), Some("Hans Muster & Co"));
    }

    #[test]
    fn version_08_names_status_and_payer_differently() {
        let v08 = V04
            .replace("camt.054.001.04", "camt.054.001.08")
            .replace("<Sts>BOOK</Sts>", "<Sts><Cd>BOOK</Cd></Sts>")
            .replace(
                "<Dbtr><Nm>Pia Rutschmann</Nm></Dbtr>",
                "<Dbtr><Pty><Nm>Pia Rutschmann</Nm></Pty></Dbtr>",
            );
        let n = parse(&v08).unwrap();
        assert_eq!(n.version, "08");
        assert_eq!(n.credits.len(), 2);
        assert_eq!(n.credits[0].debtor.as_deref(), Some("Pia Rutschmann"));
    }

    #[test]
    fn foreign_and_broken_documents_are_refused_naming_the_element() {
        let camt053 = V04.replace("camt.054.001.04", "camt.053.001.08");
        assert!(matches!(parse(&camt053).unwrap_err().problem, Problem::NotCamt054(_)));
        let dtd = format!(
            "<!DOCTYPE x [<!ENTITY a \"b\">]>{}",
            &V04[V04.find("<Document").unwrap()..]
        );
        assert!(matches!(parse(&dtd).unwrap_err().problem, Problem::Xml(_)));
        assert!(matches!(parse(&V04[..300]).unwrap_err().problem, Problem::Xml(_)));
        let bad = V04.replace(">1949.75<", ">19,49<");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.problem, Problem::Amount("19,49".into()));
        assert_eq!(
            e.path,
            "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[1]/NtryDtls/TxDtls[1]/Amt"
        );
        assert!(e.line > 5);
        let no_amount = V04.replace("<Amt Ccy=\"CHF\">100.5</Amt>", "");
        let e = parse(&no_amount).unwrap_err();
        assert_eq!(e.problem, Problem::Missing("Amt"));
        assert!(e.path.ends_with("TxDtls[2]"), "{}", e.path);
    }

    #[test]
    fn amounts_in_rappen() {
        assert_eq!(parse_amount("1949.75"), Some(194975));
        assert_eq!(parse_amount("100.5"), Some(10050));
        assert_eq!(parse_amount("20"), Some(2000));
        for bad in ["", "1.234", "-5.00", "1e3", "0.00", "12,50", ".5"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }
}
