//! Time arithmetic that cannot panic. A duration can come from a server (`Retry-After`), a
//! config file or a long-running sum; chrono's `DateTime + TimeDelta` panics on overflow, so
//! every instant moved by such a duration goes through here and saturates instead.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// `t` moved forwards by `d`, or the last representable instant.
pub fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t` moved back by `d`, or the first representable instant.
pub fn earlier(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// How long from `from` to `to`; zero if `to` is not later.
pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_saturate_instead_of_panicking() {
        let t = DateTime::parse_from_rfc3339("2026-03-11T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let minute = Duration::from_secs(60);
        assert_eq!(later(t, minute) - t, TimeDelta::minutes(1));
        assert_eq!(t - earlier(t, minute), TimeDelta::minutes(1));
        // Retry-After: 99999999999999 seconds, a config of 300000 years, Duration::MAX.
        for huge in [
            Duration::from_secs(99_999_999_999_999),
            Duration::from_secs(300_000 * 365 * 86_400),
            Duration::MAX,
        ] {
            assert_eq!(later(t, huge), DateTime::<Utc>::MAX_UTC);
            assert_eq!(earlier(t, huge), DateTime::<Utc>::MIN_UTC);
        }
        assert_eq!(between(t, later(t, minute)), minute);
        assert_eq!(between(later(t, minute), t), Duration::ZERO);
    }
}
