//! The seven signals and the evidence that explains each one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A change in the status of the ceasefire or of US support that subscribers can ask for.
///
/// The set is closed on purpose: subscribers, webhooks, rules and the store all name signals
/// by these strings, and a typo must fail at config time, not silently match nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    RussiaAccepts,
    RussiaRejects,
    RussiaConditional,
    UsAidPaused,
    UsAidResumed,
    UsIntelPaused,
    UsIntelResumed,
}

/// The three things whose status the signals change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    RussiaStance,
    UsAid,
    UsIntel,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::RussiaStance, Topic::UsAid, Topic::UsIntel];

    /// The name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::RussiaStance => "russia",
            Topic::UsAid => "us_aid",
            Topic::UsIntel => "us_intel",
        }
    }

    /// For a human reader.
    pub fn label(self) -> &'static str {
        match self {
            Topic::RussiaStance => "Russia",
            Topic::UsAid => "US military aid",
            Topic::UsIntel => "US intelligence sharing",
        }
    }
}

impl FromStr for Topic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Topic::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown status topic {s:?}"))
    }
}

impl SignalKind {
    pub const ALL: [SignalKind; 7] = [
        SignalKind::RussiaAccepts,
        SignalKind::RussiaRejects,
        SignalKind::RussiaConditional,
        SignalKind::UsAidPaused,
        SignalKind::UsAidResumed,
        SignalKind::UsIntelPaused,
        SignalKind::UsIntelResumed,
    ];

    /// The name used in config, JSON and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::RussiaAccepts => "russia_accepts",
            SignalKind::RussiaRejects => "russia_rejects",
            SignalKind::RussiaConditional => "russia_conditional",
            SignalKind::UsAidPaused => "us_aid_paused",
            SignalKind::UsAidResumed => "us_aid_resumed",
            SignalKind::UsIntelPaused => "us_intel_paused",
            SignalKind::UsIntelResumed => "us_intel_resumed",
        }
    }

    /// A phrase for a human reader, used in email subjects and log lines.
    pub fn headline(self) -> &'static str {
        match self {
            SignalKind::RussiaAccepts => "Russia accepts a ceasefire",
            SignalKind::RussiaRejects => "Russia rejects a ceasefire",
            SignalKind::RussiaConditional => "Russia sets conditions for a ceasefire",
            SignalKind::UsAidPaused => "US military aid to Ukraine paused",
            SignalKind::UsAidResumed => "US military aid to Ukraine resumed",
            SignalKind::UsIntelPaused => "US intelligence sharing with Ukraine paused",
            SignalKind::UsIntelResumed => "US intelligence sharing with Ukraine resumed",
        }
    }

    pub fn topic(self) -> Topic {
        match self {
            SignalKind::RussiaAccepts
            | SignalKind::RussiaRejects
            | SignalKind::RussiaConditional => Topic::RussiaStance,
            SignalKind::UsAidPaused | SignalKind::UsAidResumed => Topic::UsAid,
            SignalKind::UsIntelPaused | SignalKind::UsIntelResumed => Topic::UsIntel,
        }
    }

    /// The status this signal sets for its topic: `accepts`, `rejects`, `conditional`,
    /// `paused` or `resumed`.
    pub fn status(self) -> &'static str {
        match self {
            SignalKind::RussiaAccepts => "accepts",
            SignalKind::RussiaRejects => "rejects",
            SignalKind::RussiaConditional => "conditional",
            SignalKind::UsAidPaused | SignalKind::UsIntelPaused => "paused",
            SignalKind::UsAidResumed | SignalKind::UsIntelResumed => "resumed",
        }
    }

    /// Position in [`SignalKind::ALL`], for fixed-size per-signal tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignalKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = SignalKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown signal {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// Which part of an item a rule matched in. The title weighs more than the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Summary,
}

/// Why a signal fired: enough for an analyst to agree or to fix the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Name of the rule that fired, as written in the rule pack.
    pub rule: String,
    /// The phrases that filled the rule's slots, in order, as they appear in the text.
    pub words: Vec<String>,
    /// The sentence the rule matched in, as it appears in the item.
    pub sentence: String,
    pub field: Field,
    /// Which ceasefire or flow the signal is about: the object family, and its scope when
    /// the text names one, and its duration in hours ("ceasefire:energy", "ceasefire:720h",
    /// "aid:systems"): see [`ObjectKey`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

/// One signal found in one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    /// Confidence in [0, 1]; only signals at or above the classifier's threshold are emitted.
    pub score: f32,
    pub evidence: Evidence,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in SignalKind::ALL {
            assert_eq!(k.as_str().parse::<SignalKind>().unwrap(), k);
            assert_eq!(SignalKind::ALL[k.index()], k);
        }
        let err = "russia_accept".parse::<SignalKind>().unwrap_err();
        assert!(err.contains("russia_accepts"), "{err}");
    }
}

/// Which ceasefire or which flow a signal is about, as the classifier extracts it: the object
/// family (`ceasefire`, `aid`, `intel`, `settlement`), a named scope when the text gives one
/// (`energy`, `black_sea`, `easter`, `systems`), and a duration in hours when it gives one
/// ("30-day" and "month-long" are 720, "three-day" and "72-hour" are 72). Written
/// `family[:scope][:Nh]`: `ceasefire:easter`, `ceasefire:720h`, `ceasefire:victory_day:72h`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ObjectKey {
    pub family: String,
    pub scope: Option<String>,
    pub hours: Option<u32>,
}

impl ObjectKey {
    pub fn parse(s: &str) -> Option<ObjectKey> {
        let mut parts = s.split(':');
        let family = parts.next().filter(|f| !f.is_empty())?.to_owned();
        let mut key = ObjectKey {
            family,
            ..ObjectKey::default()
        };
        for part in parts {
            match part.strip_suffix('h').and_then(|n| n.parse::<u32>().ok()) {
                Some(h) => key.hours = Some(h),
                None if !part.is_empty() => key.scope = Some(part.to_owned()),
                None => {}
            }
        }
        Some(key)
    }

    /// Whether the text said which one (a scope or a duration).
    pub fn scoped(&self) -> bool {
        self.scope.is_some() || self.hours.is_some()
    }

    /// Whether two scoped keys name the same thing: one family, at least one facet in common
    /// and none in conflict ("victory_day:72h" and "72h" agree; "easter" and "black_sea" do
    /// not). `None` when either is unscoped, or when they name different facets ("easter"
    /// and "720h"): the words must decide.
    pub fn agrees(&self, other: &ObjectKey) -> Option<bool> {
        if self.family != other.family {
            return Some(false);
        }
        if !self.scoped() || !other.scoped() {
            return None;
        }
        let facet = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        };
        let hours = match (self.hours, other.hours) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        };
        let facets = [facet(&self.scope, &other.scope), hours];
        if facets.contains(&Some(false)) {
            Some(false)
        } else if facets.contains(&Some(true)) {
            Some(true)
        } else {
            // Each names a different facet ("36-hour" and "Christmas"): nothing to compare.
            None
        }
    }

    /// Whether the object is a flow (military aid, intelligence): a state that holds until
    /// it flips, where a ceasefire answer is a statement.
    pub fn is_flow(&self) -> bool {
        matches!(self.family.as_str(), "aid" | "intel")
    }

    /// Whether it names a part of a flow that a pause or resumption of the whole covers: named
    /// weapons systems within military aid ("Patriot deliveries" while aid is paused). Not
    /// satellite imagery, which is a channel of its own (cut and restored by its own
    /// decisions).
    pub fn is_flow_part(&self) -> bool {
        self.is_flow() && self.hours.is_none() && self.scope.as_deref() == Some("systems")
    }

    /// This key with the facets of `other` it lacks.
    pub fn refined_by(&self, other: &ObjectKey) -> ObjectKey {
        ObjectKey {
            family: self.family.clone(),
            scope: self.scope.clone().or_else(|| other.scope.clone()),
            hours: self.hours.or(other.hours),
        }
    }
}

impl ObjectKey {
    /// In words, for people: "the 30-day energy-strike ceasefire", "US military aid (named
    /// weapons systems)". A scope the built-in pack does not know is shown by its name.
    pub fn describe(&self) -> String {
        let duration = self.hours.map(|h| match h {
            720 => "30-day".to_owned(),
            h if h % 720 == 0 && h > 0 => format!("{}-month", h / 720),
            h if h % 24 == 0 && h > 0 => format!("{}-day", h / 24),
            h => format!("{h}-hour"),
        });
        let scope = self.scope.as_deref().map(|s| match s {
            "energy" => "energy-strike".to_owned(),
            "black_sea" => "Black Sea".to_owned(),
            "easter" => "Easter".to_owned(),
            "christmas" => "Christmas".to_owned(),
            "victory_day" => "Victory Day".to_owned(),
            "olympic" => "Olympic".to_owned(),
            "general" => "full".to_owned(),
            "systems" => "named weapons systems".to_owned(),
            "imagery" => "satellite imagery".to_owned(),
            other => other.replace('_', " "),
        });
        match self.family.as_str() {
            "aid" | "intel" => {
                let flow = if self.family == "aid" {
                    "US military aid"
                } else {
                    "US intelligence sharing"
                };
                match (scope, duration) {
                    (None, None) => flow.to_owned(),
                    (s, d) => {
                        let facets: Vec<String> = s.into_iter().chain(d).collect();
                        format!("{flow} ({})", facets.join(", "))
                    }
                }
            }
            family => {
                let noun = match family {
                    "settlement" => "peace settlement".to_owned(),
                    other => other.replace('_', " "),
                };
                let words: Vec<String> = duration.into_iter().chain(scope).chain([noun]).collect();
                format!("the {}", words.join(" "))
            }
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.family)?;
        if let Some(s) = &self.scope {
            write!(f, ":{s}")?;
        }
        if let Some(h) = self.hours {
            write!(f, ":{h}h")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod object_key_tests {
    use super::ObjectKey;

    fn k(s: &str) -> ObjectKey {
        ObjectKey::parse(s).unwrap()
    }

    #[test]
    fn objects_are_described_in_words() {
        assert_eq!(
            k("ceasefire:energy:720h").describe(),
            "the 30-day energy-strike ceasefire"
        );
        assert_eq!(
            k("ceasefire:victory_day:72h").describe(),
            "the 3-day Victory Day ceasefire"
        );
        assert_eq!(k("ceasefire:30h").describe(), "the 30-hour ceasefire");
        assert_eq!(k("ceasefire:7920h").describe(), "the 11-month ceasefire");
        assert_eq!(k("ceasefire").describe(), "the ceasefire");
        assert_eq!(
            k("aid:systems").describe(),
            "US military aid (named weapons systems)"
        );
        assert_eq!(k("intel").describe(), "US intelligence sharing");
        assert_eq!(
            k("ceasefire:grain_deal").describe(),
            "the grain deal ceasefire"
        );
    }

    #[test]
    fn keys_round_trip_and_agree_on_shared_facets_only() {
        for s in [
            "ceasefire",
            "ceasefire:easter",
            "ceasefire:720h",
            "ceasefire:victory_day:72h",
        ] {
            assert_eq!(k(s).to_string(), s);
        }
        assert_eq!(
            k("ceasefire:victory_day:72h").agrees(&k("ceasefire:72h")),
            Some(true)
        );
        assert_eq!(k("ceasefire:easter").agrees(&k("ceasefire:720h")), None);
        assert_eq!(
            k("ceasefire:easter").agrees(&k("ceasefire:black_sea")),
            Some(false)
        );
        assert_eq!(
            k("ceasefire:easter").agrees(&k("ceasefire:easter")),
            Some(true)
        );
        assert_eq!(
            k("ceasefire:energy:720h").agrees(&k("ceasefire:energy:72h")),
            Some(false)
        );
        assert_eq!(k("ceasefire").agrees(&k("ceasefire:easter")), None);
        assert_eq!(k("aid").agrees(&k("intel")), Some(false));
        assert_eq!(
            k("ceasefire").refined_by(&k("ceasefire:72h")),
            k("ceasefire:72h")
        );
    }
}
