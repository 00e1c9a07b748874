//! Quiet hours: a subscriber's night, in their time zone. Mail that is not urgent waits for
//! its end; an alert that changes a status is urgent and goes out at once.

use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A daily window ("22:00-07:00") in a time zone; it may span midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
    pub zone: Tz,
}

impl QuietHours {
    /// `window` as "HH:MM-HH:MM", `zone` an IANA name ("Europe/Kyiv", "UTC").
    pub fn parse(window: &str, zone: &str) -> Result<QuietHours, String> {
        let (a, b) = window
            .split_once('-')
            .ok_or_else(|| format!("{window:?} is not a window like \"22:00-07:00\""))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| format!("{t:?} is not a time like \"07:00\""))
        };
        let (from, to) = (time(a)?, time(b)?);
        if from == to {
            return Err(format!("{window:?} is empty (it starts where it ends)"));
        }
        let zone = Tz::from_str(zone.trim())
            .map_err(|_| format!("{zone:?} is not a time zone like \"Europe/Kyiv\" or \"UTC\""))?;
        Ok(QuietHours { from, to, zone })
    }

    /// When the quiet hours around `now` end, if `now` is within them.
    pub fn ends_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.zone);
        let t = local.time();
        let inside = if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        };
        if !inside {
            return None;
        }
        // The end is today's `to`, or tomorrow's when the window spans midnight and has
        // not yet crossed it.
        let date = local.date_naive();
        let end_date = if self.from > self.to && t >= self.from {
            date.checked_add_days(Days::new(1))?
        } else {
            date
        };
        local_instant(self.zone, end_date.and_time(self.to))
    }
}

/// The instant a local time in `zone` names: the first of two (the clocks fall back), or an
/// hour later when the clocks skip it (spring forward).
pub(super) fn local_instant(zone: Tz, at: NaiveDateTime) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_night_in_kyiv_ends_at_seven_kyiv_time() {
        let q = QuietHours::parse("22:00-07:00", "Europe/Kyiv").unwrap();
        // 23:30 in Kyiv (UTC+2 in winter) is 21:30 UTC: quiet until 05:00 UTC next day.
        assert_eq!(
            q.ends_after(at("2026-12-04T21:30:00Z")),
            Some(at("2026-12-05T05:00:00Z"))
        );
        // 03:00 in Kyiv: the same night, ending that morning.
        assert_eq!(
            q.ends_after(at("2026-12-05T01:00:00Z")),
            Some(at("2026-12-05T05:00:00Z"))
        );
        // 12:00 in Kyiv: not quiet.
        assert_eq!(q.ends_after(at("2026-12-05T10:00:00Z")), None);
        // In summer (UTC+3) seven in Kyiv is four UTC.
        assert_eq!(
            q.ends_after(at("2026-07-01T23:00:00Z")),
            Some(at("2026-07-02T04:00:00Z"))
        );
        let day = QuietHours::parse("09:00-17:00", "UTC").unwrap();
        assert_eq!(
            day.ends_after(at("2026-12-04T10:00:00Z")),
            Some(at("2026-12-04T17:00:00Z"))
        );
        assert!(QuietHours::parse("22:00", "UTC").is_err());
        assert!(QuietHours::parse("22:00-07:00", "Mars/Olympus").is_err());
        assert!(QuietHours::parse("07:00-07:00", "UTC").is_err());
    }
}
