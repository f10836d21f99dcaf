//! Touches the generated OpenAPI document where utoipa cannot say what the server enforces.
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr, Required};

/// An optional body (`request_body(content = Option<T>)`) comes out of utoipa as a schema
/// `oneOf: [T, null]` with no `required`: a client generator then sends `null` for "no body"
/// (openapi-python-client crashes on it). The server takes an absent or empty body, and no
/// JSON `null`; so the body is declared `required: false` with the schema `T`.
pub fn optional_bodies(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        for op in [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                unwrap_nullable(body);
            }
        }
    }
}

fn is_null(s: &RefOr<Schema>) -> bool {
    matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

fn unwrap_nullable(body: &mut RequestBody) {
    if body.required == Some(Required::True) {
        return;
    }
    let mut optional = false;
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        let Some(RefOr::T(Schema::OneOf(one))) = &content.schema else {
            continue;
        };
        if one.items.len() == 2 && one.items.iter().any(is_null) {
            let inner = one.items.iter().find(|s| !is_null(s)).cloned();
            content.schema = inner;
            optional = true;
        }
    }
    if optional {
        body.required = Some(Required::False);
    }
}

/// An operation that declares no security requirement is public: it says so with
/// `security: []` (OpenAPI's "no authentication"), so that a reader, a linter or a generator
/// does not take it for one that merely forgot (a token sent to it is still checked).
pub fn public_operations(api: &mut OpenApi) {
    for op in operations_mut(api) {
        if op.security.is_none() {
            op.security = Some(Vec::new());
        }
    }
}

/// Every operation can fail with a 500 (a bug), answered as a problem document like any other
/// error: each says so, by reference to the one shared response.
pub fn server_errors(api: &mut OpenApi) {
    for op in operations_mut(api) {
        op.responses
            .responses
            .entry("500".to_string())
            .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::from_response_name("ServerError")));
    }
}

/// Every operation of the document, to change it.
pub fn operations_mut(api: &mut OpenApi) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    api.paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

/// How the parts of the multipart create are encoded: `application` is JSON (a generator
/// that reads `encoding` sends it so), each of `documents` a file of the types documents take.
pub fn multipart_encodings(api: &mut OpenApi) {
    use utoipa::openapi::encoding::Encoding;
    let Some(op) = api
        .paths
        .paths
        .get_mut("/v1/applications")
        .and_then(|i| i.post.as_mut())
    else {
        return;
    };
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    if let Some(content) = body.content.get_mut("multipart/form-data") {
        let RefOr::T(content) = content else { return };
        content.encoding.insert(
            "application".into(),
            Encoding::builder().content_type(Some("application/json")).build(),
        );
        content.encoding.insert(
            "documents".into(),
            Encoding::builder()
                .content_type(Some("application/pdf, image/png, image/jpeg"))
                .build(),
        );
    }
}

/// A free-form object (a form's `data`, a JSON Schema, a UI schema: `{"type": "object"}` and
/// nothing else) says `additionalProperties: true`, which is what JSON Schema means by it
/// anyway; generators such as openapi-typescript otherwise type it as an object with no
/// properties at all (`Record<string, never>`), so that a strict client cannot send any data.
pub fn free_form_objects(api: OpenApi) -> OpenApi {
    // cannot fail at run time: the document is built from our own types once, at start-up,
    // before the server listens, and every unit and API test builds it the same way; a
    // failure would be a bug to see (it stops the start), not a request's 500
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    mark_free_form(&mut doc);
    bound_formatted_strings(&mut doc);
    bound_headers(&mut doc);
    refer_page_items(&mut doc);
    // the API is for outside callers (portals, partner systems), not an internal one
    if let Some(serde_json::Value::Object(server)) = doc.pointer_mut("/servers/0") {
        server.insert("x-internal".into(), false.into());
    }
    // the same: our own document, read back once at start-up (see above)
    serde_json::from_value(doc).expect("the OpenAPI document reads back")
}

fn mark_free_form(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let object_type = match map.get("type") {
                Some(Value::String(t)) => t == "object",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            let shaped = ["properties", "additionalProperties", "$ref", "allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| map.contains_key(*k));
            if object_type && !shaped {
                map.insert("additionalProperties".into(), Value::Bool(true));
            }
            for child in map.values_mut() {
                mark_free_form(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark_free_form),
        _ => {}
    }
}

/// utoipa writes a generic `Page<T>` out with `T`'s schema copied into `Page_T`; the copy is
/// replaced by a `$ref` to `T`, so that a generator makes one type of it, not two.
fn refer_page_items(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(Value::Object(schemas)) = doc.pointer("/components/schemas").cloned() else {
        return;
    };
    for (name, page) in schemas.iter().filter(|(n, _)| n.starts_with("Page_")) {
        let item = &name["Page_".len()..];
        if schemas
            .get(item)
            .is_some_and(|s| Some(s) == page.pointer("/properties/data/items"))
        {
            let at = format!("/components/schemas/{name}/properties/data/items");
            if let Some(slot) = doc.pointer_mut(&at) {
                *slot = serde_json::json!({"$ref": format!("#/components/schemas/{item}")});
            }
        }
    }
}

/// The longest text of each string format the API reads or writes: a `uuid`, an RFC 3339
/// `date-time` as guichet writes it (`2026-12-04T20:57:10.123456789+00:00`), a `date`, an
/// e-mail address (RFC 5321's 254), a URL (the public URL's 500 and a path), and a document's
/// bytes (the ceiling of every service's document limit). A field whose own bound is smaller
/// says so with `max_length`, which is kept.
fn format_bound(format: &str) -> Option<u64> {
    Some(match format {
        "uuid" => 36,
        "date-time" => 35,
        "date" => 10,
        "email" => 254,
        "uri" => 2048,
        "binary" => crate::domain::documents::MAX_BYTES_CEILING,
        _ => return None,
    })
}

fn is_string(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    match map.get("type") {
        Some(serde_json::Value::String(t)) => t == "string",
        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// Strings of a known format get the format's bound as `maxLength` (see [`format_bound`]).
fn bound_formatted_strings(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let bound = map.get("format").and_then(Value::as_str).and_then(format_bound);
            if let Some(max) = bound.filter(|_| is_string(map) && !map.contains_key("maxLength")) {
                map.insert("maxLength".into(), max.into());
            }
            map.values_mut().for_each(bound_formatted_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_formatted_strings),
        _ => {}
    }
}

/// Header parameters and response headers get their bounds from [`crate::http::limits`], the
/// tables the server enforces and writes by.
fn bound_headers(doc: &mut serde_json::Value) {
    use crate::http::limits;
    use serde_json::Value;
    fn set(schema: Option<&mut Value>, max: Option<usize>) {
        if let (Some(Value::Object(s)), Some(max)) = (schema, max) {
            if is_string(s) && !s.contains_key("maxLength") {
                s.insert("maxLength".into(), max.into());
            }
        }
    }
    fn answered(responses: Option<&mut Value>) {
        let Some(Value::Object(responses)) = responses else {
            return;
        };
        for r in responses.values_mut() {
            if let Some(Value::Object(headers)) = r.get_mut("headers") {
                for (name, h) in headers.iter_mut() {
                    set(h.get_mut("schema"), limits::response_header(name));
                }
            }
        }
    }
    answered(doc.pointer_mut("/components/responses"));
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|i| i.values_mut())
    {
        if let Some(Value::Array(params)) = op.get_mut("parameters") {
            for p in params.iter_mut().filter(|p| p["in"] == "header") {
                let max = p["name"].as_str().and_then(limits::request_header);
                set(p.get_mut("schema"), max);
            }
        }
        answered(op.get_mut("responses"));
    }
}

#[cfg(test)]
mod tests {
    /// No object schema of the document is left without a word on its properties: a
    /// generated client can send and read every free-form object.
    #[test]
    fn free_form_objects_say_so() {
        fn walk(v: &serde_json::Value, at: &str, bare: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    if map.get("type") == Some(&serde_json::json!("object"))
                        && !["properties", "additionalProperties", "$ref", "allOf", "oneOf", "anyOf"]
                            .iter()
                            .any(|k| map.contains_key(*k))
                    {
                        bare.push(at.to_string());
                    }
                    for (k, c) in map {
                        walk(c, &format!("{at}/{k}"), bare);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, c) in items.iter().enumerate() {
                        walk(c, &format!("{at}/{i}"), bare);
                    }
                }
                _ => {}
            }
        }
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let mut bare = Vec::new();
        walk(&doc, "", &mut bare);
        assert!(
            bare.is_empty(),
            "object schemas without a word on their properties: {bare:?}"
        );
        // the application's data is one of them
        let data = &doc["components"]["schemas"]["Application"]["properties"]["data"];
        assert_eq!(data["additionalProperties"], serde_json::json!(true), "{data}");
    }

    /// A page's items are its item type, by reference: one type per resource in a generated
    /// client, and no component left unused.
    #[test]
    fn pages_refer_to_their_items() {
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let pages: Vec<_> = schemas.keys().filter(|k| k.starts_with("Page_")).collect();
        assert!(pages.len() >= 5, "{pages:?}");
        for page in pages {
            let items = &schemas[page]["properties"]["data"]["items"];
            assert_eq!(
                items["$ref"],
                format!("#/components/schemas/{}", &page[5..]),
                "{page}: {items}"
            );
        }
    }

    /// Every string the document describes has a bound, from the field, its format or the
    /// header tables the server enforces (a request header longer than its bound is refused).
    #[test]
    fn strings_and_headers_are_bounded() {
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let components = &doc["components"]["schemas"];
        assert_eq!(components["Application"]["properties"]["id"]["maxLength"], 36);
        assert_eq!(components["Application"]["properties"]["created_at"]["maxLength"], 35);
        let delete = &doc["paths"]["/v1/applications/{id}"]["delete"]["parameters"];
        let if_match = delete
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "If-Match")
            .unwrap();
        assert_eq!(
            if_match["schema"]["maxLength"],
            crate::http::limits::request_header("If-Match").unwrap()
        );
        let created = &doc["paths"]["/v1/applications"]["post"]["responses"]["201"]["headers"];
        assert_eq!(created["Location"]["schema"]["maxLength"], 2048);
    }

    /// Every optional body of the document is declared so (and no `null` in its place).
    #[test]
    fn optional_bodies_are_not_nullable() {
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let mut optional = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(body) = op.get("requestBody") else { continue };
                let text = body.to_string();
                assert!(!text.contains("\"null\""), "{method} {path}: a nullable body: {text}");
                if body["required"] == serde_json::json!(false) {
                    optional.push(op["operationId"].as_str().unwrap().to_string());
                }
            }
        }
        optional.sort();
        assert_eq!(
            optional,
            ["create_service_draft", "submit_application", "withdraw_application"]
        );
    }
}
