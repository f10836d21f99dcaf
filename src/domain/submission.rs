//! Checking application data against its form: every error at once, each with a JSON pointer
//! to the field itself; phone numbers normalised to E.164; the document ids the form's file
//! fields name. No I/O here.
use serde_json::Value;

use super::forms::{escape_pointer, phone_e164};
use super::FieldError;

/// Validates `data` (found at `/data` of the request) against the compiled form.
pub fn check(validator: &jsonschema::Validator, data: &Value) -> Result<(), Vec<FieldError>> {
    let mut errors: Vec<FieldError> = validator
        .iter_errors(data)
        .map(|e| {
            let mut pointer = format!("/data{}", e.instance_path().as_str());
            if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
                // a missing field is reported at the field, not at the object that lacks it
                let name = property
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| property.to_string());
                pointer = format!("{pointer}/{}", escape_pointer(&name));
            }
            let code = e.kind().keyword().to_string();
            // masked: the message names the rule, never echoes the (personal) value
            FieldError::new(pointer, &code, e.masked().to_string())
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    errors.dedup();
    Err(errors)
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
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| self.root.pointer(p))
        {
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
                ("/data/ahv", "format"),
                ("/data/born", "format"),
                ("/data/contact/phone", "required"),
                ("/data/iban", "format"),
                ("/data/mail", "format"),
                ("/data/name", "required"),
                ("/data/uid", "format"),
                ("/data/zip", "format"),
            ]
        );
        assert!(errors.iter().all(|e| !e.detail.contains("756.1234")), "{errors:?}");
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
}
