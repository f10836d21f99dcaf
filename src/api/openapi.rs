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
