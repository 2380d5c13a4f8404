//! Bearer-token protection of the mutating endpoints (data reload, bar appends).
//!
//! A service configured without a token (or with an empty one) refuses these endpoints with
//! 403; with a token, a request without the matching `Authorization: Bearer <token>` header
//! gets 401 and `WWW-Authenticate: Bearer`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// Why a protected request was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused(Problem);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let unauthorized = self.0.status_code() == StatusCode::UNAUTHORIZED;
        let mut resp = self.0.into_response();
        if unauthorized {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Checks the request's bearer token against `expected`. `setting` names the configuration
/// (e.g. the environment variable) that enables the endpoint, for the 403 message.
pub fn require_bearer(
    expected: Option<&str>,
    headers: &HeaderMap,
    setting: &str,
) -> Result<(), Refused> {
    // An empty token (e.g. `MARKET_SVC_TOKEN=""`) must not open the endpoint to `Bearer `.
    let Some(expected) = expected.filter(|t| !t.is_empty()) else {
        return Err(Refused(Problem::new(
            StatusCode::FORBIDDEN,
            "endpoint-disabled",
            format!("no token is configured ({setting}), so this endpoint is refused"),
        )));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(expected) {
        Ok(())
    } else {
        Err(Refused(
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid 'Authorization: Bearer <token>' header is required",
            )
            .with_field("authorization"),
        ))
    }
}
