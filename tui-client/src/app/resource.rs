//! A value fetched from a service, keyed by what was asked for, so that a result arriving after
//! the user switched symbol or model is dropped instead of shown under the wrong label, and an
//! error keeps the last good data on screen.

use crate::client::ApiError;

/// A remote value: the last data, whether a request is in flight, and the last error. `K`
/// identifies what was asked for; results for another key are stale and dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource<K, T> {
    /// What the data (or the request in flight) is for.
    pub key: Option<K>,
    /// Last good data for `key`.
    pub data: Option<T>,
    /// A request is in flight.
    pub loading: bool,
    /// The last request failed.
    pub error: Option<ApiError>,
}

impl<K, T> Default for Resource<K, T> {
    fn default() -> Self {
        Self {
            key: None,
            data: None,
            loading: false,
            error: None,
        }
    }
}

impl<K: PartialEq + Clone, T> Resource<K, T> {
    /// Marks a request for `key`; returns false if one is already in flight for it. Data for
    /// another key is dropped (it would be mislabelled).
    pub fn request(&mut self, key: K) -> bool {
        if self.key.as_ref() == Some(&key) {
            if self.loading {
                return false;
            }
        } else {
            self.data = None;
            self.error = None;
            self.key = Some(key);
        }
        self.loading = true;
        true
    }

    /// Takes a result for `key`; ignored (returns false) if it is not the current key. On error
    /// the previous data is kept, so a flaky service shows stale numbers with a warning.
    pub fn resolve(&mut self, key: &K, result: Result<T, ApiError>) -> bool {
        if self.key.as_ref() != Some(key) {
            return false;
        }
        self.loading = false;
        match result {
            Ok(d) => {
                self.data = Some(d);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
        true
    }
}

/// Whether a resource lacks good data for `key` (never asked, another key, or failed).
pub(super) fn needs<K: PartialEq, T>(r: &Resource<K, T>, key: &K) -> bool {
    r.key.as_ref() != Some(key) || r.data.is_none() || r.error.is_some()
}
