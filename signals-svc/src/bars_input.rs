//! Timestamps on the wire: RFC 3339 in UTC (`…Z`), or Unix seconds. (Bar files are read by
//! `market_data::load_bars`.)

/// Parses an RFC 3339 UTC timestamp or Unix seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(secs) = text.parse::<i64>() {
        return Some(secs);
    }
    let t = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

/// RFC 3339 text of a Unix timestamp.
pub fn format_timestamp(secs: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}
