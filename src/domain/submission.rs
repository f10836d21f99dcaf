//! Checking application data against its form: every error at once, each with a JSON pointer
//! to the field itself; phone numbers normalised to E.164; the document ids the form's file
//! fields name. No I/O here.
use serde_json::Value;

use jsonschema::error::ValidationErrorKind;

use super::forms::{escape_pointer, only_check_digit_wrong, phone_e164};
use super::messages::Msg;
use super::FieldError;
use crate::msg;

/// Validates `data` (found at `/data` of the request) against the compiled form: one error per
/// field (the most telling when a value breaks several rules: a Swiss number with a wrong shape
/// is a `format` error, one whose shape is right but whose check digit is wrong a
/// `check_digit` error), each in words of our own that never echo the value.
pub fn check(validator: &jsonschema::Validator, data: &Value) -> Result<(), Vec<FieldError>> {
    let mut found: Vec<(u8, FieldError)> = validator
        .iter_errors(data)
        .map(|e| {
            let mut pointer = format!("/data{}", e.instance_path().as_str());
            if let ValidationErrorKind::Required { property } = e.kind() {
                // a missing field is reported at the field, not at the object that lacks it
                let name = property
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| property.to_string());
                pointer = format!("{pointer}/{}", escape_pointer(&name));
            }
            let (rank, code, detail) = describe(e.kind(), e.instance());
            (rank, FieldError::new(pointer, &code, detail))
        })
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    found.sort_by(|(ra, a), (rb, b)| a.pointer.cmp(&b.pointer).then(ra.cmp(rb)));
    found.dedup_by(|(_, later), (_, first)| later.pointer == first.pointer);
    Err(found.into_iter().map(|(_, e)| e).collect())
}

/// The code and message of one broken rule, and its rank among the rules one field can break
/// at once (lower is reported).
fn describe(kind: &ValidationErrorKind, value: &Value) -> (u8, String, Msg) {
    use ValidationErrorKind as K;
    match kind {
        K::Required { .. } => (0, "required".into(), msg!("this field is required")),
        K::Type { kind } => (1, "type".into(), type_message(kind)),
        K::Format { format } => {
            if value.as_str().is_some_and(|v| only_check_digit_wrong(format, v)) {
                (2, "check_digit".into(), check_digit_message(format))
            } else {
                (2, "format".into(), format_message(format))
            }
        }
        K::Enum { .. } => (3, "enum".into(), msg!("not one of the allowed values")),
        // a choice with labels (`oneOf` of `const` + `title`) is an enum to the caller
        K::OneOfNotValid { context } if is_choice(context) => (3, "enum".into(), msg!("not one of the allowed values")),
        K::Constant { .. } => (3, "const".into(), msg!("not the required value")),
        K::Pattern { .. } => (4, "pattern".into(), msg!("does not have the expected form")),
        K::MinLength { limit } => (5, "minLength".into(), msg!("at least {n} characters", n = limit)),
        K::MaxLength { limit } => (5, "maxLength".into(), msg!("at most {n} characters", n = limit)),
        K::Minimum { limit } => (5, "minimum".into(), msg!("at least {n}", n = limit)),
        K::Maximum { limit } => (5, "maximum".into(), msg!("at most {n}", n = limit)),
        K::ExclusiveMinimum { limit } => (5, "exclusiveMinimum".into(), msg!("more than {n}", n = limit)),
        K::ExclusiveMaximum { limit } => (5, "exclusiveMaximum".into(), msg!("less than {n}", n = limit)),
        K::MultipleOf { .. } => (5, "multipleOf".into(), msg!("not a permitted step")),
        K::MinItems { limit } => (5, "minItems".into(), msg!("at least {n} entries", n = limit)),
        K::MaxItems { limit } => (5, "maxItems".into(), msg!("at most {n} entries", n = limit)),
        K::UniqueItems => (5, "uniqueItems".into(), msg!("the entries must differ from each other")),
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => (
            6,
            kind.keyword().to_string(),
            msg!("fields the form does not have: {names}", names = unexpected.join(", ")),
        ),
        other => (
            7,
            other.keyword().to_string(),
            msg!("does not meet the form's rule '{rule}'", rule = other.keyword()),
        ),
    }
}

/// Every branch of the `oneOf` failed on its `const` alone: a list of labelled choices.
fn is_choice(context: &[Vec<jsonschema::ValidationError<'static>>]) -> bool {
    !context.is_empty()
        && context.iter().all(|branch| {
            !branch.is_empty()
                && branch
                    .iter()
                    .all(|e| matches!(e.kind(), ValidationErrorKind::Constant { .. }))
        })
}

fn type_message(kind: &jsonschema::error::TypeKind) -> Msg {
    use jsonschema::types::JsonType as T;
    match kind {
        jsonschema::error::TypeKind::Single(T::String) => msg!("must be text"),
        jsonschema::error::TypeKind::Single(T::Integer) => msg!("must be a whole number"),
        jsonschema::error::TypeKind::Single(T::Number) => msg!("must be a number"),
        jsonschema::error::TypeKind::Single(T::Boolean) => msg!("must be true or false"),
        jsonschema::error::TypeKind::Single(T::Object) => msg!("must be an object"),
        jsonschema::error::TypeKind::Single(T::Array) => msg!("must be a list"),
        _ => msg!("has the wrong type"),
    }
}

fn format_message(format: &str) -> Msg {
    match format {
        "email" => msg!("not a valid e-mail address"),
        "date" => msg!("not a valid date (YYYY-MM-DD)"),
        "date-time" => msg!("not a valid date and time (RFC 3339)"),
        "time" => msg!("not a valid time"),
        "uri" => msg!("not a valid address (URI)"),
        "ahv-number" => msg!("not an AHV number (756.1234.5678.97)"),
        "uid" | "che-uid" => msg!("not a UID (CHE-116.281.710)"),
        "iban" => msg!("not an IBAN (e.g. CH93 0076 2011 6238 5295 7)"),
        "ch-postal-code" => msg!("not a Swiss postal code (4 digits, 1000 to 9699)"),
        "phone" => msg!("not a phone number (e.g. 033 225 84 98 or +41 33 225 84 98)"),
        "document-id" => msg!(
            "not the id of a document of this application: upload the file first (POST /v1/applications/{id}/documents) and give its id"
        ),
        other => msg!("not in the format {format}", format = other),
    }
}

fn check_digit_message(format: &str) -> Msg {
    match format {
        "ahv-number" => msg!("the check digit of this AHV number is wrong; check the number"),
        "iban" => msg!("the check digits of this IBAN are wrong; check the number"),
        _ => msg!("the check digit of this UID is wrong; check the number"),
    }
}

/// The schema a local `$ref` (`#/$defs/...`) of `schema` points at, in `root`.
pub fn local_ref<'r>(root: &'r Value, schema: &Value) -> Option<&'r Value> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
}

/// Walks `data` beside its `schema` (through `properties`, `items`, `prefixItems` and local
/// `$ref`s into `root`) and calls `f` with the JSON pointer and value of every string whose
/// schema has the given `format`.
struct Walk<'r> {
    root: &'r Value,
    format: &'r str,
}

impl Walk<'_> {
    fn visit(&self, schema: &Value, data: &mut Value, at: &str, depth: u8, f: &mut dyn FnMut(&str, &mut Value)) {
        if depth > 64 {
            return;
        }
        if let Some(target) = local_ref(self.root, schema) {
            self.visit(target, data, at, depth + 1, f);
        }
        if schema.get("format").and_then(Value::as_str) == Some(self.format) && data.is_string() {
            f(at, data);
            return;
        }
        match data {
            Value::Object(map) => {
                if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                    for (k, v) in map.iter_mut() {
                        if let Some(s) = props.get(k) {
                            self.visit(s, v, &format!("{at}/{}", escape_pointer(k)), depth + 1, f);
                        }
                    }
                }
            }
            Value::Array(items) => {
                let prefix = schema.get("prefixItems").and_then(Value::as_array);
                let rest = schema.get("items");
                for (i, v) in items.iter_mut().enumerate() {
                    if let Some(s) = prefix.and_then(|p| p.get(i)).or(rest) {
                        self.visit(s, v, &format!("{at}/{i}"), depth + 1, f);
                    }
                }
            }
            _ => {}
        }
    }
}

fn visit_format(schema: &Value, data: &mut Value, format: &str, f: &mut dyn FnMut(&str, &mut Value)) {
    Walk { root: schema, format }.visit(schema, data, "", 0, f);
}

/// Whether any schema object in `schema`, wherever it sits (definitions included), has
/// `format: <format>`: without one, no field of the data has that format.
pub fn mentions_format(schema: &Value, format: &str) -> bool {
    match schema {
        Value::Object(m) => {
            m.get("format").and_then(Value::as_str) == Some(format) || m.values().any(|v| mentions_format(v, format))
        }
        Value::Array(items) => items.iter().any(|v| mentions_format(v, format)),
        _ => false,
    }
}

/// Rewrites every `phone` field to E.164 (`033 225 84 98` → `+41332258498`); call after
/// [`check`], which has accepted them.
pub fn normalise(schema: &Value, data: &mut Value) {
    visit_format(schema, data, "phone", &mut |_, v| {
        if let Some(e164) = v.as_str().and_then(phone_e164) {
            *v = Value::String(e164);
        }
    });
}

/// The document ids the form's file fields (`format: document-id`) hold, with their pointers
/// into the data.
pub fn document_ids(schema: &Value, data: &Value) -> Vec<(String, String)> {
    let mut copy = data.clone();
    let mut out = Vec::new();
    visit_format(schema, &mut copy, "document-id", &mut |at, v| {
        if let Some(s) = v.as_str() {
            out.push((at.to_string(), s.to_ascii_lowercase()));
        }
    });
    out
}

/// Puts the id of each document sent with the application into the file fields that hold its
/// file name (`"vehicle_registration": "fahrzeugausweis.pdf"` becomes the new document's id):
/// `ids` maps file names to document ids. Returns the file names the form used.
pub fn name_documents(
    schema: &Value,
    data: &mut Value,
    ids: &std::collections::HashMap<String, String>,
) -> Vec<String> {
    let mut used = Vec::new();
    visit_format(schema, data, "document-id", &mut |_, v| {
        if let Some((name, id)) = v.as_str().and_then(|n| ids.get_key_value(n)) {
            used.push(name.clone());
            *v = Value::String(id.clone());
        }
    });
    used
}

/// The pointers (into the data) of the form's file fields among its object properties
/// (through `properties` and local `$ref`s): where a missing required field is a document.
pub fn document_fields(schema: &Value) -> Vec<String> {
    fn walk(root: &Value, schema: &Value, at: &str, depth: u8, out: &mut Vec<String>) {
        if depth > 32 {
            return;
        }
        if let Some(target) = local_ref(root, schema) {
            walk(root, target, at, depth + 1, out);
        }
        if schema.get("format").and_then(Value::as_str) == Some("document-id") {
            out.push(at.to_string());
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                walk(root, s, &format!("{at}/{}", escape_pointer(k)), depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, schema, "", 0, &mut out);
    out
}

/// JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forms::compile;
    use serde_json::json;

    fn form() -> Value {
        json!({
            "type": "object",
            "required": ["name", "ahv", "contact"],
            "$defs": {"contact": {
                "type": "object",
                "required": ["phone"],
                "properties": {"phone": {"type": "string", "format": "phone"}}
            }},
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "ahv": {"type": "string", "format": "ahv-number"},
                "uid": {"type": "string", "format": "che-uid"},
                "zip": {"type": "string", "format": "ch-postal-code"},
                "iban": {"type": "string", "format": "iban"},
                "born": {"type": "string", "format": "date"},
                "mail": {"type": "string", "format": "email"},
                "contact": {"$ref": "#/$defs/contact"},
                "attachments": {"type": "array", "items": {"type": "string", "format": "document-id"}}
            }
        })
    }

    #[test]
    fn every_error_is_reported_at_its_field() {
        let v = compile(&form()).unwrap();
        let data = json!({
            "ahv": "756.1234.5678.90",
            "uid": "CHE-116.281.711",
            "zip": "0999",
            "iban": "CH93 0076 2011 6238 5295 8",
            "born": "2026-02-30",
            "mail": "not-an-address",
            "contact": {}
        });
        let errors = check(&v, &data).unwrap_err();
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.pointer.as_str(), e.code.as_str())).collect();
        assert_eq!(
            got,
            [
                ("/data/ahv", "check_digit"),
                ("/data/born", "format"),
                ("/data/contact/phone", "required"),
                ("/data/iban", "check_digit"),
                ("/data/mail", "format"),
                ("/data/name", "required"),
                ("/data/uid", "check_digit"),
                ("/data/zip", "format"),
            ]
        );
        for l in crate::domain::lang::Lang::ALL {
            assert!(
                errors.iter().all(|e| !e.detail.render(l).contains("5678.90")),
                "{errors:?}"
            );
        }
        // a wrong shape is a format error, once, even where the form also has a pattern
        let patterned = compile(&json!({
            "type": "object",
            "properties": {"ahv": {"type": "string", "format": "ahv-number", "pattern": "^756\\.[0-9]{4}\\.[0-9]{4}\\.[0-9]{2}$"}}
        }))
        .unwrap();
        let errors = check(&patterned, &json!({"ahv": "756.123"})).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].pointer.as_str(), errors[0].code.as_str()),
            ("/data/ahv", "format")
        );
        let errors = check(&patterned, &json!({"ahv": "756.1234.5678.90"})).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "check_digit");
    }

    #[test]
    fn valid_data_passes_and_phones_become_e164() {
        let v = compile(&form()).unwrap();
        let schema = form();
        let mut data = json!({
            "name": "Muster",
            "ahv": "756.1234.5678.97",
            "uid": "CHE-116.281.710",
            "zip": "9490",
            "iban": "CH93 0076 2011 6238 5295 7",
            "born": "1990-02-28",
            "mail": "anna@example.ch",
            "contact": {"phone": "033 225 84 98"},
            "attachments": ["0193A4B2-7C1E-7D2A-9F00-3B5C1D2E4F60"]
        });
        check(&v, &data).unwrap();
        normalise(&schema, &mut data);
        assert_eq!(data["contact"]["phone"], "+41332258498");
        assert_eq!(
            document_ids(&schema, &data),
            [(
                "/attachments/0".to_string(),
                "0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f60".to_string()
            )]
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut t = json!({"a": [1, 2]});
        merge_patch(&mut t, &json!({"a": [3], "n": {"x": 1}}));
        assert_eq!(t, json!({"a": [3], "n": {"x": 1}}));
    }

    #[test]
    fn a_format_is_found_wherever_the_schema_has_it() {
        // under a definition and under array items
        assert!(mentions_format(&form(), "phone"));
        assert!(mentions_format(&form(), "document-id"));
        let nested = json!({"properties": {"a": {"$ref": "#/$defs/d"}}, "$defs": {"d": {"prefixItems": [{"format": "document-id"}]}}});
        assert!(mentions_format(&nested, "document-id"));
        assert!(!mentions_format(&nested, "phone"));
        // a property named format is not a format
        assert!(!mentions_format(
            &json!({"properties": {"format": {"type": "string"}}}),
            "phone"
        ));
        assert!(!mentions_format(&json!({"type": "string", "format": "email"}), "phone"));
    }
}
