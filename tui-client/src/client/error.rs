//! How a call can fail — unreachable, an error status (with its problem+json title and detail),
//! an undecodable body, or a service not available at all — as one [`ApiError`] the views can
//! show, so nothing a server sends makes the dashboard panic.

use std::fmt;

use serde::Deserialize;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No connection (refused, DNS, reset) or the request timed out.
    Unreachable(String),
    /// The service answered with an error status.
    Status {
        /// HTTP status code.
        status: u16,
        /// Problem title (or the status text).
        title: String,
        /// Problem detail, if the body was a problem.
        detail: Option<String>,
    },
    /// The body could not be read or parsed.
    Decode(String),
    /// The service is not available at all in this build or configuration.
    Unavailable(String),
}

impl ApiError {
    /// The HTTP status, if the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable(e) => write!(f, "unreachable: {e}"),
            Self::Status {
                status,
                title,
                detail,
            } => {
                write!(f, "HTTP {status} {title}")?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            Self::Decode(e) => write!(f, "bad response: {e}"),
            Self::Unavailable(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// `application/problem+json` body (the fields we show).
#[derive(Debug, Deserialize)]
pub(super) struct ProblemBody {
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) detail: Option<String>,
}
