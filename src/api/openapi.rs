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

#[cfg(test)]
mod tests {
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
