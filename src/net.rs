//! Small helpers of the network edge shared by fetching feeds and sending alerts: the TLS
//! provider, error chains as one line, and `Retry-After`. Below `fetch`, `notify` and `app`,
//! above nothing but `domain`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};

/// Installs the TLS crypto provider (ring) for the whole process. Call once at start-up;
/// calling again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The error and its causes, one line: "error sending request: connection refused".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

/// The longest delay a server may ask for with `Retry-After`; longer requests are read as
/// this (callers bound it further by their own settings).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` as seconds or as an HTTP date, at most [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let asked = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        // A number too large for u64 is still a number of seconds.
        Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Duration::MAX,
        Err(_) => {
            let when = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
            crate::domain::time::between(now, when)
        }
    };
    Some(asked.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2025-03-11T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Tue, 11 Mar 2025 12:05:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(300)));
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
        // Absurd requests are read as a day.
        for absurd in [
            "99999999999999",
            "999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static(absurd));
            assert_eq!(retry_after(&h, now), Some(MAX_RETRY_AFTER), "{absurd}");
        }
    }
}
