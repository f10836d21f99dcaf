//! Application forms: JSON Schema (draft 2020-12) with guichet's custom formats, each of which
//! also carries a `pattern` so a frontend validating with AJV catches the shape early.
use serde_json::{Map, Value};

use super::catalogue::FormDefinition;
use super::lang::Lang;
use super::FieldError;
use crate::msg;

/// Custom formats guichet checks on submission (beyond the standard ones).
pub const CUSTOM_FORMATS: [&str; 7] = [
    "ahv-number",
    "uid",
    "che-uid",
    "ch-postal-code",
    "iban",
    "phone",
    "document-id",
];

/// The published definition of each custom format (`src/domain/formats.json`): the `pattern`
/// every served form carries for it, what the check digit is, an example. One file, read by
/// the server and by the JavaScript reference implementation (examples/forms), so that a
/// client validates as the server does.
pub static FORMATS: std::sync::LazyLock<serde_json::Map<String, Value>> = std::sync::LazyLock::new(|| {
    // cannot fail in a tested build: the file is compiled in, and the unit tests
    // (`formats_agree_with_the_shared_table`) read every entry of it
    serde_json::from_str(include_str!("formats.json")).expect("src/domain/formats.json is a JSON object")
});

/// The pattern a served form carries for a custom format.
pub fn published_pattern(format: &str) -> Option<&'static str> {
    FORMATS.get(format)?.get("pattern")?.as_str()
}

/// An e-mail address as Ajv's `email` format (ajv-formats, full mode) reads it: a dot-atom
/// local part and a domain of at least two labels. Forms check this, so that a browser
/// validating with Ajv and the server agree.
pub fn is_email(s: &str) -> bool {
    static EMAIL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
        )
        // a constant pattern: it compiles or no test passes (`formats_agree_with_the_shared_table`)
        .expect("the e-mail pattern compiles")
    });
    EMAIL.is_match(s)
}

/// Swiss postal code: four digits 1000–9699, or Liechtenstein's 9485–9498.
pub fn is_ch_postal_code(s: &str) -> bool {
    s.len() == 4
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u32>()
            .is_ok_and(|n| (1000..=9699).contains(&n) || (9485..=9498).contains(&n))
}

/// IBAN lengths of Switzerland, Liechtenstein and the SEPA countries.
const IBAN_LENGTHS: [(&str, usize); 36] = [
    ("CH", 21),
    ("LI", 21),
    ("AD", 24),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
];

/// A value without spaces and in capitals, shaped like an IBAN of a country we know (its
/// country code, length and two check digits), whatever its checksum.
fn iban_compact(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
    if compact.len() < 15 || !compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let country = &compact[..2];
    let (_, len) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country)?;
    (compact.len() == *len && compact[2..4].bytes().all(|b| b.is_ascii_digit())).then_some(compact)
}

fn iban_shaped(s: &str) -> bool {
    iban_compact(s).is_some()
}

/// IBAN of Switzerland, Liechtenstein or a SEPA country, with its mod-97 check (spaces allowed).
pub fn is_iban(s: &str) -> bool {
    let Some(compact) = iban_compact(s) else {
        return false;
    };
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    rem == 1
}

/// A phone number as people type it (`033 225 84 98`, `+41 33 225 84 98`, `0041 ...`) in
/// E.164 (`+41332258498`); Swiss numbers without a country code are taken as Swiss.
pub fn phone_e164(s: &str) -> Option<String> {
    if s.len() > 30 || !s.chars().all(|c| c.is_ascii_digit() || " ()/.-+".contains(c)) || s.matches('+').count() > 1 {
        return None;
    }
    let plus = s.trim_start().starts_with('+');
    if s.contains('+') && !plus {
        return None;
    }
    // `+41 (0)33 ...`: the trunk zero in brackets after a country code is not dialled
    let s = match s.find("(0)") {
        Some(at) if plus || s.trim_start().starts_with("00") => format!("{}{}", &s[..at], &s[at + 3..]),
        _ => s.to_string(),
    };
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("41{rest}")
    } else {
        return None;
    };
    let ok = (8..=15).contains(&international.len()) && !international.starts_with('0');
    let swiss_ok = !international.starts_with("41") || international.len() == 11;
    (ok && swiss_ok).then(|| format!("+{international}"))
}

/// The 13 digits of a value shaped like a Swiss social security number (`756.1234.5678.97`),
/// whatever its check digit.
fn ahv_digits(s: &str) -> Option<Vec<u32>> {
    let b = s.as_bytes();
    if b.len() != 16 || b[3] != b'.' || b[8] != b'.' || b[13] != b'.' || !s.starts_with("756.") {
        return None;
    }
    let digits: Vec<u32> = s.chars().filter(|c| *c != '.').filter_map(|c| c.to_digit(10)).collect();
    (digits.len() == 13).then_some(digits)
}

/// Swiss social security number `756.1234.5678.97` with its EAN-13 check digit.
pub fn is_ahv_number(s: &str) -> bool {
    let Some(digits) = ahv_digits(s) else {
        return false;
    };
    let sum: u32 = digits[..12]
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10 == digits[12]
}

/// The 9 digits of a value shaped like a UID (`CHE-123.456.789`), whatever its check digit.
fn uid_digits(s: &str) -> Option<Vec<u32>> {
    let rest = s.strip_prefix("CHE-")?;
    let b = rest.as_bytes();
    if b.len() != 11 || b[3] != b'.' || b[7] != b'.' {
        return None;
    }
    let digits: Vec<u32> = rest
        .chars()
        .filter(|c| *c != '.')
        .filter_map(|c| c.to_digit(10))
        .collect();
    (digits.len() == 9).then_some(digits)
}

/// Swiss enterprise identification number `CHE-123.456.789` with its modulo-11 check digit.
pub fn is_uid(s: &str) -> bool {
    let Some(digits) = uid_digits(s) else {
        return false;
    };
    const W: [u32; 8] = [5, 4, 3, 2, 7, 6, 5, 4];
    let sum: u32 = digits[..8].iter().zip(W).map(|(d, w)| d * w).sum();
    let check = (11 - sum % 11) % 11;
    check != 10 && check == digits[8]
}

/// Whether a value that fails `format` has the right shape and only its check digit is wrong
/// (AHV number, UID, IBAN); false for formats without a check digit, or a wrong shape.
pub fn only_check_digit_wrong(format: &str, s: &str) -> bool {
    match format {
        "ahv-number" => ahv_digits(s).is_some() && !is_ahv_number(s),
        "uid" | "che-uid" => uid_digits(s).is_some() && !is_uid(s),
        "iban" => iban_shaped(s) && !is_iban(s),
        _ => false,
    }
}

/// A phone number that [`phone_e164`] can store: what is accepted is what gets normalised.
pub fn is_phone(s: &str) -> bool {
    phone_e164(s).is_some()
}

/// A document's id: a UUID in hex with hyphens (either case; it is stored in lower case).
pub fn is_document_id(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') && uuid::Uuid::parse_str(s).is_ok()
}

/// Compiles a form schema with guichet's formats; formats are asserted, not just annotated.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_format("email", is_email)
        .with_format("ahv-number", is_ahv_number)
        .with_format("uid", is_uid)
        .with_format("che-uid", is_uid)
        .with_format("ch-postal-code", is_ch_postal_code)
        .with_format("iban", is_iban)
        .with_format("phone", is_phone)
        .with_format("document-id", is_document_id)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Compiles the schema drafts are checked against ([`draft_schema`] of the form).
pub fn compile_draft(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(false)
        .build(&draft_schema(schema))
        .map_err(|e| e.to_string())
}

/// Checks a form definition: a draft 2020-12 object schema that compiles, whose custom
/// formats all carry a pattern, and a UI schema that is an object.
pub fn check_definition(form: &FormDefinition, p: &str, errors: &mut Vec<FieldError>) {
    let schema = &form.schema;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        errors.push(FieldError::new(
            format!("{p}/schema/type"),
            "const",
            msg!("a form schema describes an object"),
        ));
    }
    if let Some(d) = schema.get("$schema").and_then(Value::as_str) {
        if d != "https://json-schema.org/draft/2020-12/schema" {
            errors.push(FieldError::new(
                format!("{p}/schema/$schema"),
                "const",
                msg!("forms use JSON Schema draft 2020-12"),
            ));
        }
    }
    let mut remote = Vec::new();
    find_remote_refs(schema, &format!("{p}/schema"), &mut remote);
    for ptr in &remote {
        errors.push(FieldError::new(
            ptr.clone(),
            "ref",
            msg!("a $ref points inside the form (\"#/$defs/...\"); other documents are not fetched"),
        ));
    }
    if remote.is_empty() {
        if let Err(e) = compile(schema) {
            errors.push(FieldError::new(
                format!("{p}/schema"),
                "invalid_schema",
                msg!("not a valid JSON Schema: {error}", error = e),
            ));
        }
    }
    let mut missing = Vec::new();
    find_unpatterned_formats(schema, &format!("{p}/schema"), &mut missing);
    for ptr in missing {
        errors.push(FieldError::new(
            ptr,
            "pattern_required",
            msg!("a custom format also needs a `pattern` for client-side validation"),
        ));
    }
    if let Some(ui) = &form.ui_schema {
        if !ui.is_object() {
            errors.push(FieldError::new(
                format!("{p}/ui_schema"),
                "type",
                msg!("a UI schema is an object"),
            ));
        }
    }
    if serde_json::to_vec(form).map(|v| v.len()).unwrap_or(0) > 512 * 1024 {
        errors.push(FieldError::new(
            p.to_string(),
            "too_long",
            msg!("a form definition is at most 512 KiB"),
        ));
    }
}

/// The pointers of the `$ref`s that leave the form (anything but `#...`).
fn find_remote_refs(v: &Value, p: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                let here = format!("{p}/{}", escape_pointer(k));
                match (k.as_str(), val) {
                    ("$ref" | "$dynamicRef", Value::String(r)) if !r.starts_with('#') => out.push(here),
                    _ => find_remote_refs(val, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_remote_refs(item, &format!("{p}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn find_unpatterned_formats(v: &Value, p: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(f) = m.get("format").and_then(Value::as_str) {
                if CUSTOM_FORMATS.contains(&f) && !m.contains_key("pattern") {
                    out.push(p.to_string());
                }
            }
            for (k, child) in m {
                find_unpatterned_formats(child, &format!("{p}/{}", escape_pointer(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                find_unpatterned_formats(child, &format!("{p}/{i}"), out);
            }
        }
        _ => {}
    }
}

pub fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The schema in one language: every `title` (and `description`) from its `x-title`
/// (`x-description`) translations, German when a translation is missing, and no `x-`
/// keyword left (a renderer of one language needs none; `lang=all` serves them). The
/// validation keywords, the names of properties and the values (`const`, `default`,
/// `examples`, `enum`) are untouched.
pub fn localize(schema: &Value, lang: Lang) -> Value {
    fn pick(m: &Map<String, Value>, key: &str, lang: Lang) -> Option<Value> {
        let Some(Value::Object(t)) = m.get(key) else {
            return None;
        };
        t.get(lang.code())
            .or_else(|| t.get("de"))
            .filter(|v| v.is_string())
            .cloned()
    }
    match schema {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                let kept = match k.as_str() {
                    _ if k.starts_with("x-") => None,
                    // maps of names to schemas: the names stay, the schemas are localized
                    "properties" | "$defs" | "definitions" | "patternProperties" | "dependentSchemas" => {
                        Some(match v {
                            Value::Object(named) => {
                                Value::Object(named.iter().map(|(n, s)| (n.clone(), localize(s, lang))).collect())
                            }
                            other => other.clone(),
                        })
                    }
                    // values, not schemas
                    "const" | "default" | "examples" | "enum" => Some(v.clone()),
                    _ => Some(localize(v, lang)),
                };
                if let Some(v) = kept {
                    out.insert(k.clone(), v);
                }
            }
            if let Some(t) = pick(m, "x-title", lang) {
                out.insert("title".into(), t);
            }
            if let Some(d) = pick(m, "x-description", lang) {
                out.insert("description".into(), d);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| localize(v, lang)).collect()),
        other => other.clone(),
    }
}

/// The most entries an array of a form may have where the form sets no `maxItems`.
pub const MAX_ITEMS: u64 = 100;

/// The form as it is served and enforced: every string has a `maxLength`
/// ([`DRAFT_MAX_STRING`] where the author set none) and every array a `maxItems`
/// ([`MAX_ITEMS`]), so that a client's validator knows every bound the server holds to; every
/// custom format its published pattern ([`published_pattern`]); and
/// the properties of every object in the order of `ui` (see [`with_orders`]), since
/// PostgreSQL's `jsonb` does not keep the authored order.
pub fn served_schema(schema: &Value, ui: &Value) -> Value {
    fn bound(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let has = |t: &str| match m.get("type") {
                    Some(Value::String(x)) => x == t,
                    Some(Value::Array(xs)) => xs.iter().any(|x| x == t),
                    _ => false,
                };
                let (string, array) = (has("string"), has("array"));
                if string && !m.contains_key("maxLength") {
                    m.insert("maxLength".into(), Value::from(DRAFT_MAX_STRING));
                }
                if array && !m.contains_key("maxItems") {
                    m.insert("maxItems".into(), Value::from(MAX_ITEMS));
                }
                // a custom format carries its published pattern, whatever the author wrote
                if let Some(p) = m.get("format").and_then(Value::as_str).and_then(published_pattern) {
                    m.insert("pattern".into(), Value::from(p));
                }
                for (k, c) in m.iter_mut() {
                    if !matches!(k.as_str(), "const" | "default" | "examples" | "enum") {
                        bound(c);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(bound),
            _ => {}
        }
    }
    let mut out = schema.clone();
    bound(&mut out);
    reorder(&mut out, ui);
    out
}

/// Orders the properties of the form and of its nested objects (through `properties` and
/// local `$ref`s) as the `ui:order` at the same place of `ui` says; names it does not list
/// keep their place after the listed ones.
fn reorder(schema: &mut Value, ui: &Value) {
    fn order_of(ui: &Value) -> Vec<String> {
        ui.get("ui:order")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
    fn sort(props: &mut Map<String, Value>, order: &[String]) {
        let mut old = std::mem::take(props);
        for name in order {
            if let Some(v) = old.remove(name) {
                props.insert(name.clone(), v);
            }
        }
        props.extend(old);
    }
    // the objects to order: a JSON pointer into the schema, with the ui at that place
    let mut work: Vec<(String, Value)> = vec![(String::new(), ui.clone())];
    let mut seen = std::collections::HashSet::new();
    while let Some((at, ui)) = work.pop() {
        if work.len() > 256 || !seen.insert(at.clone()) {
            continue;
        }
        let Some(target) = schema.pointer(&at) else { continue };
        let target_at = match target
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(r) if schema.pointer(r).is_some() => r.to_string(),
            _ => at.clone(),
        };
        let names: Vec<String> = match schema
            .pointer(&target_at)
            .and_then(|t| t.get("properties"))
            .and_then(Value::as_object)
        {
            Some(p) => p.keys().cloned().collect(),
            None => continue,
        };
        if let Some(Value::Object(props)) = schema.pointer_mut(&format!("{target_at}/properties")) {
            sort(props, &order_of(&ui));
        }
        for name in names {
            let child_ui = ui.get(&name).cloned().unwrap_or(Value::Null);
            work.push((format!("{target_at}/properties/{}", escape_pointer(&name)), child_ui));
        }
    }
}

/// The UI schema with a `ui:order` for the form and for every nested object (through
/// `properties` and local `$ref`s) that has none: the order in which the author wrote the
/// properties. Stored with the form, since PostgreSQL's `jsonb` keeps the keys of an object
/// in an order of its own, but an array as it is.
pub fn with_orders(schema: &Value, ui: Option<&Value>) -> Value {
    fn walk(root: &Value, schema: &Value, ui: &mut Value, depth: u8) {
        let schema = super::submission::local_ref(root, schema).unwrap_or(schema);
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        if depth > 16 {
            return;
        }
        if !ui.is_object() {
            *ui = Value::Object(Map::new());
        }
        let Value::Object(m) = ui else { return };
        m.entry("ui:order")
            .or_insert_with(|| Value::Array(props.keys().map(|k| Value::String(k.clone())).collect()));
        for (name, sub) in props {
            let sub = super::submission::local_ref(root, sub).unwrap_or(sub);
            if sub.get("properties").is_some() {
                let entry = m.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()));
                walk(root, sub, entry, depth + 1);
            }
        }
    }
    let mut out = ui.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    walk(schema, schema, &mut out, 0);
    out
}

/// The UI schema as served: [`with_orders`], and every file field (`format: document-id`) a
/// `document` widget with the service's document limits (`accept`, `maxBytes`, `maxFiles`),
/// unless the author chose a widget. A portal registers one widget under that name that
/// uploads the file (`POST /v1/applications/{id}/documents`, or a `documents` part of a
/// multipart create) and puts the document's id (or the file's name) into the field.
pub fn served_ui_schema(schema: &Value, ui: Option<&Value>, limits: &super::documents::DocumentLimits) -> Value {
    let mut out = with_orders(schema, ui);
    for pointer in super::submission::document_fields(schema) {
        let mut at = &mut out;
        for name in pointer.split('/').skip(1) {
            let name = name.replace("~1", "/").replace("~0", "~");
            if !at.is_object() {
                *at = Value::Object(Map::new());
            }
            let Value::Object(m) = at else { break };
            at = m.entry(name).or_insert_with(|| Value::Object(Map::new()));
        }
        if let Value::Object(m) = at {
            m.entry("ui:widget").or_insert_with(|| Value::from("document"));
            let options = m.entry("ui:options").or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = options {
                o.entry("accept").or_insert_with(|| Value::from(limits.types.join(",")));
                o.entry("maxBytes").or_insert_with(|| Value::from(limits.max_bytes));
                o.entry("maxFiles").or_insert_with(|| Value::from(limits.max_files));
            }
        }
    }
    out
}

/// A `oneOf` of choices, each a `const` with its label (`title`): how a form says what a
/// choice means in words (RJSF and JSON Forms show the titles).
pub fn is_choice_list(one_of: &Value) -> bool {
    one_of
        .as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(|i| i.get("const").is_some()))
}

/// The most characters a string of a draft may have where the form sets no `maxLength`.
pub const DRAFT_MAX_STRING: u64 = 10_000;

/// The schema a draft is checked against on every write: the form's types, lengths, enum
/// values and closed objects, without what only a complete application must satisfy
/// (`required`, formats, patterns, minimums, conditionals), so a half-typed AHV number still
/// saves; every string without a `maxLength` gets [`DRAFT_MAX_STRING`].
pub fn draft_schema(schema: &Value) -> Value {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, val) in map {
                    match k.as_str() {
                        // completeness and exact shape: checked on submission
                        "required" | "dependentRequired" | "dependentSchemas" | "format" | "pattern" | "minLength"
                        | "minItems" | "minProperties" | "minimum" | "maximum" | "exclusiveMinimum"
                        | "exclusiveMaximum" | "multipleOf" | "if" | "then" | "else" | "not" | "uniqueItems"
                        | "minContains" | "contains" => {}
                        // a list of labelled choices stays one: exactly one `const` matches
                        "oneOf" if is_choice_list(val) => {
                            out.insert(k.clone(), val.clone());
                        }
                        // a partly filled object may match several branches
                        "oneOf" => {
                            out.insert("anyOf".into(), strip(val));
                        }
                        // maps of names to schemas: the names are not keywords
                        "properties" | "$defs" | "definitions" | "patternProperties" => {
                            let inner = val
                                .as_object()
                                .map(|m| m.iter().map(|(n, s)| (n.clone(), strip(s))).collect())
                                .unwrap_or_default();
                            out.insert(k.clone(), Value::Object(inner));
                        }
                        // annotations and values are kept as they are
                        "enum" | "const" | "default" | "examples" | "title" | "description" | "x-title"
                        | "x-enum-titles" => {
                            out.insert(k.clone(), val.clone());
                        }
                        _ => {
                            out.insert(k.clone(), strip(val));
                        }
                    }
                }
                let is_string = match out.get("type") {
                    Some(Value::String(t)) => t == "string",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                    _ => false,
                };
                if is_string && !out.contains_key("maxLength") {
                    out.insert("maxLength".into(), Value::from(DRAFT_MAX_STRING));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ahv_numbers_need_the_check_digit() {
        assert!(is_ahv_number("756.1234.5678.97"));
        assert!(!is_ahv_number("756.1234.5678.90"));
        assert!(!is_ahv_number("757.1234.5678.97"));
        assert!(!is_ahv_number("7561234567897"));
    }

    #[test]
    fn uids_need_the_check_digit() {
        assert!(is_uid("CHE-116.281.710"));
        assert!(!is_uid("CHE-116.281.711"));
        assert!(!is_uid("CHE116281710"));
    }

    #[test]
    fn swiss_postal_codes_ibans_and_phone_numbers() {
        assert!(is_ch_postal_code("3600") && is_ch_postal_code("9490") && is_ch_postal_code("1000"));
        assert!(
            !is_ch_postal_code("0999")
                && !is_ch_postal_code("9700")
                && !is_ch_postal_code("360")
                && !is_ch_postal_code("36OO")
        );
        assert!(is_iban("CH93 0076 2011 6238 5295 7"));
        assert!(is_iban("LI21 0881 0000 2324 013A A"));
        assert!(is_iban("DE89370400440532013000"));
        assert!(!is_iban("CH93 0076 2011 6238 5295 8"), "wrong check digits");
        assert!(!is_iban("US12 3456 7890 1234 5678 9"), "not SEPA");
        assert!(!is_iban("CH93 0076 2011 6238 5295"), "wrong length");
        assert_eq!(phone_e164("033 225 84 98").as_deref(), Some("+41332258498"));
        assert_eq!(phone_e164("+41 33 225 84 98").as_deref(), Some("+41332258498"));
        assert_eq!(phone_e164("0041 (33) 225-84-98").as_deref(), Some("+41332258498"));
        assert_eq!(phone_e164("+49 30 1234567").as_deref(), Some("+49301234567"));
        for bad in ["225 84 98", "033 225 84", "+41 33 225 84 98 1", "12+3", "abc"] {
            assert_eq!(phone_e164(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_are_asserted() {
        let v = compile(&json!({"type": "object", "properties": {"a": {"type": "string", "format": "ahv-number"}}}))
            .unwrap();
        assert!(v.is_valid(&json!({"a": "756.1234.5678.97"})));
        assert!(!v.is_valid(&json!({"a": "756.1234.5678.90"})));
        let v = compile(&json!({"type": "string", "format": "date"})).unwrap();
        assert!(!v.is_valid(&json!("2026-02-30")));
    }

    /// Every value of the shared table (tests/formats.json) is accepted or refused by the
    /// served form as the table says, and the published pattern accepts every valid value
    /// and refuses every one marked `shape`; examples/run checks the same table with Ajv.
    #[test]
    fn formats_agree_with_the_shared_table() {
        let table: Value = serde_json::from_str(include_str!("../../tests/formats.json")).unwrap();
        for (format, cases) in table.as_object().unwrap().iter().filter(|(k, _)| *k != "_") {
            let form = json!({"type": "object", "properties": {"v": {"type": "string", "format": format}}});
            let served = served_schema(&form, &json!({}));
            let validator = compile(&served).unwrap();
            let pattern = published_pattern(format).map(|p| regex::Regex::new(p).unwrap());
            let list = |k: &str| cases[k].as_array().cloned().unwrap_or_default();
            for ok in list("valid") {
                assert!(validator.is_valid(&json!({"v": ok})), "{format}: {ok} is valid");
                if let Some(p) = &pattern {
                    assert!(p.is_match(ok.as_str().unwrap()), "{format}: the pattern takes {ok}");
                }
            }
            for bad in list("invalid").into_iter().chain(list("shape")) {
                assert!(!validator.is_valid(&json!({"v": bad})), "{format}: {bad} is refused");
            }
            for bad in list("shape") {
                let p = pattern.as_ref().unwrap();
                assert!(
                    !p.is_match(bad.as_str().unwrap()),
                    "{format}: the pattern refuses {bad}"
                );
            }
        }
    }

    /// docs/FORMS.md shows every published pattern as it is.
    #[test]
    fn the_forms_guide_publishes_every_pattern() {
        let guide = include_str!("../../docs/FORMS.md");
        for (name, def) in FORMATS.iter() {
            let p = def["pattern"].as_str().unwrap();
            assert!(
                guide.contains(&format!("`{p}`")),
                "docs/FORMS.md lacks the pattern of {name}: {p}"
            );
        }
    }

    #[test]
    fn titles_follow_the_language() {
        let s = json!({"title": "Hund", "x-title": {"de": "Hund", "fr": "Chien"}, "properties": {
            "a": {"title": "A", "x-title": {"de": "A"}, "x-note": 1},
            "x-field": {"oneOf": [{"const": {"x-data": 1}, "title": "Ja", "x-title": {"de": "Ja", "fr": "Oui"}}]}}});
        let fr = localize(&s, Lang::Fr);
        assert_eq!(fr["title"], "Chien");
        assert_eq!(fr["properties"]["a"]["title"], "A");
        assert!(fr["properties"]["a"].get("x-note").is_none() && fr.get("x-title").is_none());
        // a property's name and a value are data, kept as they are
        let choice = &fr["properties"]["x-field"]["oneOf"][0];
        assert_eq!(
            (choice["title"].as_str(), &choice["const"]),
            (Some("Oui"), &json!({"x-data": 1}))
        );
        assert!(choice.get("x-title").is_none());
    }
}
