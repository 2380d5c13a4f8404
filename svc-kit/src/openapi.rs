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
