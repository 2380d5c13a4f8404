//! `application/problem+json` (RFC 9457) errors.
//!
//! Every error a service returns is a [`Problem`]: a machine-readable `type`, a short `title`,
//! the `status`, a `detail` for humans and, when one input is at fault, the `field`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (relative: `/problems/<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// The request field (query parameter, path segment or body field) at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds after which a retry may succeed: sent as the `Retry-After` header (503, 429),
    /// not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of the given status and kind.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` of `seconds` to the response.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400: a request value is malformed or out of range.
    pub fn invalid_parameter(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-parameter", detail).with_field(field)
    }

    /// 422: the request is well-formed but its data cannot be processed.
    pub fn unprocessable(field: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable-data",
            detail,
        )
        .with_field(field)
    }

    /// 404.
    pub fn not_found(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail).with_field(field)
    }

    /// 500: a failure that is not the caller's.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// Extracts the field name from serde's "field: message" or "unknown variant" texts.
fn field_of(message: &str) -> Option<String> {
    let (head, _) = message.split_once(": ")?;
    let field = head.trim();
    (!field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '[' || c == ']'))
    .then(|| field.to_string())
}

impl From<QueryRejection> for Problem {
    fn from(r: QueryRejection) -> Self {
        let text = r.body_text();
        let inner = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text)
            .to_string();
        let mut p = Problem::new(StatusCode::BAD_REQUEST, "invalid-parameter", inner.clone());
        p.field = field_of(&inner).or_else(|| missing_field(&inner));
        p
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let text = r.body_text();
        let kind = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload-too-large"
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported-media-type"
        } else {
            "invalid-body"
        };
        // serde_json's messages end in "at line L column C"; the field, when there is one, is
        // in the path axum prefixes ("prices[3]: invalid type ...").
        let inner = text
            .split_once(": ")
            .map_or(text.as_str(), |(_, rest)| rest)
            .to_string();
        let mut p = Problem::new(status, kind, text.clone());
        p.field = field_of(&inner).or_else(|| missing_field(&inner));
        p
    }
}

fn missing_field(message: &str) -> Option<String> {
    let start = message.find("missing field `")? + "missing field `".len();
    let end = message[start..].find('`')?;
    Some(message[start..start + end].to_string())
}

/// `axum::extract::Query` whose rejection is a [`Problem`].
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct ApiQuery<T>(pub T);

/// `axum::Json` whose rejection is a [`Problem`].
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct ApiJson<T>(pub T);

/// Fallback for unknown routes.
pub async fn not_found_fallback(uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-such-route",
        format!("no route for {}", uri.path()),
    )
}

/// `#[serde(deserialize_with = "svc_kit::problem::whole_number")]` for an optional count in a
/// JSON body: JSON (and JSON Schema's `integer`) make no difference between `200` and `200.0`,
/// so both are accepted; fractions, negatives and other types are refused.
pub fn whole_number<'de, D>(deserializer: D) -> Result<Option<usize>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let Some(n) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(u) = n.as_u64() {
        return usize::try_from(u)
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{n} is too large")));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=usize::MAX as f64).contains(&f) => {
            Ok(Some(f as usize))
        }
        _ => Err(serde::de::Error::custom(format!(
            "invalid value: {n}, expected a non-negative integer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_in_serde_messages() {
        assert_eq!(
            field_of("horizon: invalid digit found in string"),
            Some("horizon".into())
        );
        assert_eq!(
            missing_field("missing field `close` at line 1"),
            Some("close".into())
        );
        assert_eq!(field_of("expected value at line 1 column 2"), None);
    }
}
