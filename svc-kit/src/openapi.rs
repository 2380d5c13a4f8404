//! Finishing touches every service's generated OpenAPI document needs to be valid OpenAPI 3.1
//! and to say what the service really does:
//!
//! * every response has a `description` (required by the specification; utoipa leaves it
//!   empty when an annotation gives none): the status's reason phrase;
//! * error responses (4xx, 5xx) whose body is the [`Problem`](crate::problem::Problem) schema
//!   are documented as `application/problem+json`, the media type they are served with;
//! * 503 responses document the `Retry-After` header the work budget sends;
//! * the `bearer` security scheme the protected routes refer to is defined.

use axum::http::StatusCode;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};

use crate::problem::PROBLEM_JSON;

/// Applies the finishing touches to `doc`.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                let code = status.parse::<u16>().ok();
                if response.description.trim().is_empty() {
                    response.description = code
                        .and_then(|c| StatusCode::from_u16(c).ok())
                        .and_then(|c| c.canonical_reason())
                        .unwrap_or("Response")
                        .to_string();
                }
                if code.is_some_and(|c| c >= 400)
                    && let Some(json) = response.content.shift_remove("application/json")
                {
                    response.content.insert(PROBLEM_JSON.to_string(), json);
                }
                if code == Some(503) {
                    response
                        .headers
                        .entry("Retry-After".to_string())
                        .or_insert_with(|| {
                            RefOr::T(
                                utoipa::openapi::HeaderBuilder::new()
                                    .schema(Some(
                                        utoipa::openapi::ObjectBuilder::new()
                                            .schema_type(utoipa::openapi::Type::Integer),
                                    ))
                                    .description(Some(
                                        "Seconds after which a retry may succeed (when shed by \
                                     the work budget)",
                                    ))
                                    .build(),
                            )
                        });
                }
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    doc
}

/// Schema helpers for `#[param(schema_with = …)]` and `#[schema(schema_with = …)]`: limits the
/// handlers enforce, published so clients (and fuzzers) know them.
pub mod schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    use utoipa::openapi::{Array, Object};

    /// A string that must be one of `values`.
    pub fn string_enum(values: &[&str], description: &str) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied()))
            .description(Some(description))
            .build()
    }

    /// A string that must be one of `values`, or `null` (a body field that may be omitted or
    /// null).
    pub fn nullable_string_enum(values: &[&str], description: &str) -> Object {
        let mut options: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
        options.push(serde_json::Value::Null);
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .enum_values(Some(options))
            .description(Some(description))
            .build()
    }

    /// An array of numbers with `min_items..=max_items` elements, each above
    /// `exclusive_minimum` if given.
    pub fn number_array(
        min_items: usize,
        max_items: usize,
        exclusive_minimum: Option<f64>,
        description: &str,
    ) -> Array {
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Double,
                    )))
                    .exclusive_minimum(exclusive_minimum),
            )
            .min_items(Some(min_items))
            .max_items(Some(max_items))
            .description(Some(description))
            .build()
    }
}
