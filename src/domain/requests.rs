//! What a department asks an applicant for when it moves an application to `action_required`:
//! fields of the form to change and documents to add, and when the applicant has answered.
//! No I/O.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::messages::Msg;
use super::submission::local_ref;
use super::FieldError;
use crate::msg;

/// The most fields one move asks to change.
pub const FIELDS_MAX: usize = 50;
/// The most documents one move asks for.
pub const DOCUMENTS_MAX: usize = 20;
/// The longest label of a requested document.
pub const LABEL_MAX: usize = 200;
/// How far ahead an answer may be due, in days.
pub const DUE_MAX_DAYS: i64 = 366;

/// `requests` of a move to `action_required`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestsInput {
    /// JSON pointers into the form data of fields the applicant is to change
    /// (`/address/street`); each must be a field of the form.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<FormPointer>, example = json!(["/address/street"]))]
    pub fields: Vec<String>,
    /// Documents the applicant is to add.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub documents: Vec<DocumentRequestInput>,
}

/// A JSON pointer into an application's form data (its schema, for the OpenAPI document).
#[derive(ToSchema)]
#[schema(max_length = 1024, example = "/address/street")]
#[allow(dead_code)]
pub struct FormPointer(String);

/// The longest pointer a request names.
pub const POINTER_MAX: usize = 1024;

/// A document asked for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequestInput {
    /// What is needed, in the applicant's words (`Mietvertrag`).
    #[schema(min_length = 1, max_length = 200, example = "Mietvertrag")]
    pub label: String,
}

/// One open request, as kept with the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: Uuid,
    #[serde(flatten)]
    pub what: Wanted,
    pub created_at: DateTime<Utc>,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wanted {
    /// A field to change: met once its value differs from the value it had (kept as a hash,
    /// so that no personal data is copied).
    Field { pointer: String, was: String },
    /// A document to add: met by a document uploaded for this request.
    Document { label: String },
}

/// A hash of a value of the form data (absent included), independent of key order.
pub fn value_hash(v: Option<&Value>) -> String {
    fn canonical(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&m[k], out);
                    out.push(',');
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for x in a {
                    canonical(x, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    match v {
        None => s.push_str("absent"),
        Some(v) => canonical(v, &mut s),
    }
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `pointer` names a field of the form `schema` (through `properties`, array `items`
/// and local `$ref`s).
pub fn is_form_field(schema: &Value, pointer: &str) -> bool {
    let Some(rest) = pointer.strip_prefix('/') else {
        return false;
    };
    let mut at = schema;
    for raw in rest.split('/') {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        let mut next = None;
        for _ in 0..8 {
            if let Some(props) = at.get("properties").and_then(Value::as_object) {
                if let Some(s) = props.get(&seg) {
                    next = Some(s);
                    break;
                }
            }
            if seg.parse::<usize>().is_ok() {
                if let Some(items) = at.get("items").filter(|i| i.is_object()) {
                    next = Some(items);
                    break;
                }
            }
            match local_ref(schema, at) {
                Some(target) => at = target,
                None => break,
            }
        }
        match next {
            Some(s) => at = s,
            None => return false,
        }
    }
    true
}

/// The requests a move makes of the form data `data` (checked against the form `schema`),
/// or every reason they are refused, at `/requests/...`.
pub fn make(
    input: &RequestsInput,
    schema: &Value,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<Request>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    if input.fields.len() > FIELDS_MAX {
        errors.push(FieldError::new(
            "/requests/fields",
            "too_many",
            msg!("at most {max} fields", max = FIELDS_MAX),
        ));
    }
    if input.documents.len() > DOCUMENTS_MAX {
        errors.push(FieldError::new(
            "/requests/documents",
            "too_many",
            msg!("at most {max} documents", max = DOCUMENTS_MAX),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (i, p) in input.fields.iter().enumerate() {
        if p.len() > POINTER_MAX {
            errors.push(FieldError::new(
                format!("/requests/fields/{i}"),
                "too_long",
                msg!("at most {max} characters", max = POINTER_MAX),
            ));
            continue;
        }
        if !is_form_field(schema, p) {
            errors.push(FieldError::new(
                format!("/requests/fields/{i}"),
                "unknown",
                msg!("not a field of this application's form (a JSON pointer such as /address/street)"),
            ));
            continue;
        }
        if out
            .iter()
            .any(|r: &Request| matches!(&r.what, Wanted::Field { pointer, .. } if pointer == p))
        {
            continue;
        }
        out.push(Request {
            id: Uuid::now_v7(),
            what: Wanted::Field {
                pointer: p.clone(),
                was: value_hash(data.pointer(p)),
            },
            created_at: now,
        });
    }
    for (i, d) in input.documents.iter().enumerate() {
        let label = d.label.trim();
        let bad = if label.is_empty() {
            Some(("required", msg!("say which document is needed")))
        } else if label.chars().count() > LABEL_MAX {
            Some(("too_long", msg!("at most {max} characters", max = LABEL_MAX)))
        } else {
            None
        };
        if let Some((code, why)) = bad {
            errors.push(FieldError::new(format!("/requests/documents/{i}/label"), code, why));
            continue;
        }
        out.push(Request {
            id: Uuid::now_v7(),
            what: Wanted::Document {
                label: label.to_string(),
            },
            created_at: now,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The day an answer is due, from `YYYY-MM-DD`: from today up to [`DUE_MAX_DAYS`] ahead.
pub fn due_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, Msg> {
    let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .ok_or_else(|| msg!("a date as YYYY-MM-DD"))?;
    if d < today {
        return Err(msg!("a day from today on"));
    }
    if (d - today).num_days() > DUE_MAX_DAYS {
        return Err(msg!("at most {days} days ahead", days = DUE_MAX_DAYS));
    }
    Ok(d)
}

/// The requests still open: a field whose value is what it was, a document for which no
/// document was uploaded (`answered`: the requests documents were uploaded for).
pub fn open<'a>(requests: &'a [Request], data: &Value, answered: &[Uuid]) -> Vec<&'a Request> {
    requests
        .iter()
        .filter(|r| match &r.what {
            Wanted::Field { pointer, was } => value_hash(data.pointer(pointer)) == *was,
            Wanted::Document { .. } => !answered.contains(&r.id),
        })
        .collect()
}

/// Why a resubmission is refused: one error per open request.
pub fn unmet(open: &[&Request]) -> Vec<FieldError> {
    open.iter()
        .map(|r| match &r.what {
            Wanted::Field { pointer, .. } => FieldError::new(
                format!("/data{pointer}"),
                "requested",
                msg!("the department asked for this field to be changed"),
            ),
            Wanted::Document { label } => FieldError::new(
                format!("/requests/{}", r.id),
                "requested",
                msg!(
                    "the department asked for a document ({label}): upload it with ?request={id}",
                    label = label.clone(),
                    id = r.id
                ),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "$defs": {"addr": {"type": "object", "properties": {"street": {"type": "string"}}}},
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/addr"},
            "a/b": {"type": "string"},
            "children": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
        }})
    }

    #[test]
    fn pointers_name_fields_of_the_form() {
        let s = schema();
        for p in ["/name", "/address/street", "/a~1b", "/children/0/name", "/children"] {
            assert!(is_form_field(&s, p), "{p}");
        }
        for p in ["", "name", "/nom", "/address/city", "/children/x", "/name/0"] {
            assert!(!is_form_field(&s, p), "{p}");
        }
    }

    #[test]
    fn a_field_is_answered_when_its_value_changes_and_a_document_when_one_is_uploaded() {
        let now = Utc::now();
        let data = json!({"name": "Anna", "address": {"street": "A"}});
        let input = RequestsInput {
            fields: vec!["/address/street".into(), "/address/street".into(), "/name".into()],
            documents: vec![DocumentRequestInput {
                label: " Mietvertrag ".into(),
            }],
        };
        let reqs = make(&input, &schema(), &data, now).unwrap();
        assert_eq!(reqs.len(), 3, "a field named twice is asked once");
        assert_eq!(
            reqs[2].what,
            Wanted::Document {
                label: "Mietvertrag".into()
            }
        );
        assert_eq!(open(&reqs, &data, &[]).len(), 3);
        // key order and an unchanged value do not count as a change
        let same = json!({"address": {"street": "A"}, "name": "Anna"});
        assert_eq!(open(&reqs, &same, &[]).len(), 3);
        let changed = json!({"name": "Anna", "address": {"street": "B"}});
        let left = open(&reqs, &changed, &[reqs[2].id]);
        assert_eq!(left.len(), 1);
        assert_eq!(unmet(&left)[0].pointer, "/data/name");
        // a field that was absent is answered by giving it
        let input = RequestsInput {
            fields: vec!["/children".into()],
            documents: vec![],
        };
        let reqs = make(&input, &schema(), &data, now).unwrap();
        assert_eq!(open(&reqs, &json!({"children": []}), &[]).len(), 0);
    }

    #[test]
    fn bad_requests_are_refused_each_at_its_place() {
        let input = RequestsInput {
            fields: vec!["/nope".into()],
            documents: vec![
                DocumentRequestInput { label: "  ".into() },
                DocumentRequestInput { label: "x".repeat(201) },
            ],
        };
        let e = make(&input, &schema(), &json!({}), Utc::now()).unwrap_err();
        let at: Vec<(&str, &str)> = e.iter().map(|e| (e.pointer.as_str(), e.code.as_str())).collect();
        assert_eq!(
            at,
            [
                ("/requests/fields/0", "unknown"),
                ("/requests/documents/0/label", "required"),
                ("/requests/documents/1/label", "too_long")
            ]
        );
        let many = RequestsInput {
            fields: vec!["/name".into(); 51],
            documents: vec![],
        };
        assert_eq!(
            make(&many, &schema(), &json!({}), Utc::now()).unwrap_err()[0].code,
            "too_many"
        );
    }

    #[test]
    fn due_dates_are_days_from_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(due_date("2026-12-05", today).unwrap(), today);
        assert!(due_date("2026-12-04", today).is_err());
        assert!(due_date("2027-12-06", today).is_ok());
        assert!(due_date("2027-12-07", today).is_err());
        for bad in ["05.12.2026", "2026-12-5", "2026-13-01", "x"] {
            assert!(due_date(bad, today).is_err(), "{bad}");
        }
    }
}
