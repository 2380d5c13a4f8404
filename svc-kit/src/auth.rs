//! Bearer-token protection.
//!
//! Two kinds of route:
//! * **admin** routes that replace data (reload, bar appends: [`require_bearer`]): a service
//!   configured without a token (or with an empty one) refuses them with 403;
//! * **expensive** routes that anyone may use on an open service (posted fits, refits:
//!   [`require_bearer_if_configured`]): open without a token, protected with one.
//!
//! With a token, a request without the matching `Authorization: Bearer <token>` header gets
//! 401 and `WWW-Authenticate: Bearer`. Tokens are compared in constant time.

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
    check(expected, headers)
}

/// As [`require_bearer`] when a token is configured; without one (or with an empty one) the
/// route is open.
pub fn require_bearer_if_configured(
    expected: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    match expected.filter(|t| !t.is_empty()) {
        Some(expected) => check(expected, headers),
        None => Ok(()),
    }
}

fn check(expected: &str, headers: &HeaderMap) -> Result<(), Refused> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), expected.as_bytes())) {
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

/// Byte equality whose time depends on the lengths only, not on where the first difference
/// is (so a guesser learns nothing from timing but the length).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // `black_box` keeps the optimiser from turning the fold into an early exit.
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn admin_routes_need_a_configured_token() {
        assert_eq!(
            require_bearer(None, &bearer("x"), "T")
                .unwrap_err()
                .0
                .status,
            403
        );
        assert_eq!(
            require_bearer(Some(""), &bearer(""), "T")
                .unwrap_err()
                .0
                .status,
            403
        );
        assert!(require_bearer(Some("s3cret"), &bearer("s3cret"), "T").is_ok());
        let refused = require_bearer(Some("s3cret"), &bearer("s3cres"), "T").unwrap_err();
        assert_eq!(refused.0.status, 401);
        assert_eq!(
            refused.into_response().headers()[header::WWW_AUTHENTICATE],
            "Bearer"
        );
    }

    #[test]
    fn expensive_routes_are_open_without_a_token_and_closed_with_one() {
        assert!(require_bearer_if_configured(None, &HeaderMap::new()).is_ok());
        assert!(require_bearer_if_configured(Some(""), &HeaderMap::new()).is_ok());
        assert_eq!(
            require_bearer_if_configured(Some("t"), &HeaderMap::new())
                .unwrap_err()
                .0
                .status,
            401
        );
        assert!(require_bearer_if_configured(Some("t"), &bearer("t")).is_ok());
        assert!(require_bearer_if_configured(Some("t"), &bearer("tt")).is_err());
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
