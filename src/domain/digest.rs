//! Daily digests: a subscriber who takes `digest = "daily 08:00"` gets one mail a day, at that
//! time in their time zone, holding every alert made since the last one.

use std::str::FromStr;

use chrono::{DateTime, Days, NaiveTime, Utc};
use chrono_tz::Tz;

/// A time of day in a time zone at which a subscriber's digest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyDigest {
    pub at: NaiveTime,
    pub zone: Tz,
}

impl DailyDigest {
    /// `spec` as "daily HH:MM" (or "daily HH:MM:SS"), `zone` an IANA name ("Europe/Kyiv", "UTC").
    pub fn parse(spec: &str, zone: &str) -> Result<DailyDigest, String> {
        let rest = spec
            .trim()
            .strip_prefix("daily")
            .filter(|r| r.starts_with(char::is_whitespace))
            .ok_or_else(|| format!("{spec:?} is not a schedule like \"daily 08:00\""))?;
        let at = NaiveTime::parse_from_str(rest.trim(), "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(rest.trim(), "%H:%M:%S"))
            .map_err(|_| format!("{:?} is not a time like \"08:00\"", rest.trim()))?;
        let zone = Tz::from_str(zone.trim())
            .map_err(|_| format!("{zone:?} is not a time zone like \"Europe/Kyiv\" or \"UTC\""))?;
        Ok(DailyDigest { at, zone })
    }

    /// The digest that carries what was queued at `queued`: the first `at` (local time) at or
    /// after it. A day whose `at` the clocks skip (spring forward) sends an hour later; a day
    /// that has it twice (fall back) sends at the first.
    pub fn slot_for(&self, queued: DateTime<Utc>) -> DateTime<Utc> {
        let local = queued.with_timezone(&self.zone).date_naive();
        let mut date = local;
        for _ in 0..3 {
            if let Some(instant) = super::quiet::local_instant(self.zone, date.and_time(self.at))
                && instant >= queued
            {
                return instant;
            }
            match date.checked_add_days(Days::new(1)) {
                Some(next) => date = next,
                None => break,
            }
        }
        // Only at the end of chrono's calendar: send now rather than never.
        queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_morning_digest_carries_the_night_before() {
        let d = DailyDigest::parse("daily 08:00", "Europe/Kyiv").unwrap();
        // 23:30 in Kyiv on the 4th (UTC+2): the digest of 08:00 on the 5th, 06:00 UTC.
        assert_eq!(
            d.slot_for(at("2026-12-04T21:30:00Z")),
            at("2026-12-05T06:00:00Z")
        );
        // 07:59 in Kyiv: the same morning's digest.
        assert_eq!(
            d.slot_for(at("2026-12-05T05:59:00Z")),
            at("2026-12-05T06:00:00Z")
        );
        // 08:00 exactly goes out in that digest; a minute later waits a day.
        assert_eq!(
            d.slot_for(at("2026-12-05T06:00:00Z")),
            at("2026-12-05T06:00:00Z")
        );
        assert_eq!(
            d.slot_for(at("2026-12-05T06:01:00Z")),
            at("2026-12-06T06:00:00Z")
        );
        // Summer time (UTC+3).
        assert_eq!(
            d.slot_for(at("2026-07-01T12:00:00Z")),
            at("2026-07-02T05:00:00Z")
        );
    }

    #[test]
    fn a_skipped_hour_sends_an_hour_later() {
        // Kyiv springs forward at 03:00 on 2026-03-29: 03:30 does not exist that day.
        let d = DailyDigest::parse("daily 03:30", "Europe/Kyiv").unwrap();
        let slot = d.slot_for(at("2026-03-28T23:00:00Z"));
        assert_eq!(slot, at("2026-03-29T01:30:00Z"));
    }

    #[test]
    fn bad_specs_are_named() {
        assert!(
            DailyDigest::parse("08:00", "UTC")
                .unwrap_err()
                .contains("daily 08:00")
        );
        assert!(DailyDigest::parse("dailyish 08:00", "UTC").is_err());
        assert!(
            DailyDigest::parse("daily 8am", "UTC")
                .unwrap_err()
                .contains("8am")
        );
        assert!(DailyDigest::parse("daily 08:00", "Mars/Olympus").is_err());
        assert_eq!(
            DailyDigest::parse(" daily  08:15 ", "UTC").unwrap().at,
            NaiveTime::from_hms_opt(8, 15, 0).unwrap()
        );
        assert_eq!(
            DailyDigest::parse("daily 08:15:30", "UTC").unwrap().at,
            NaiveTime::from_hms_opt(8, 15, 30).unwrap()
        );
    }
}
