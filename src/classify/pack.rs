//! The rule pack as written in TOML, the `[rules]` overlay from the config file, and the
//! checks that turn a pack into something the engine can compile.
//!
//! A pack has five parts:
//! - `[settings]`: threshold and field weights;
//! - `[grammar]`: word lists with a fixed meaning to the engine (pronouns, clause breaks,
//!   speech verbs, role nouns);
//! - `[actors]`: who can act, by side (`russia`, `us`, `ukraine`, ...); rules name a side as
//!   `@russia`;
//! - `[masks]`: `not_actor` phrases inside which an actor does not act (`U.S.-brokered`,
//!   `US military aid`), `not_concept` phrases inside which no concept counts
//!   (`humanitarian aid` is not military aid);
//! - `[concepts]`: named phrase lists, and `[[rules]]` that combine them.
//!
//! Phrases are lowercase words. A trailing `*` makes the last word a prefix (`reject*` matches
//! rejects, rejected, rejection); `{a,b}` expands to alternatives (`halt{,s,ed} aid`); the
//! special phrase `<year>` matches a year from 1900 to 2099.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::domain::SignalKind;

/// Maximum number of concepts (including one per actor side and the grammar lists), because
/// the engine keeps the set of concepts present in a sentence as a fixed-size bitset.
pub const MAX_CONCEPTS: usize = 256;
/// Maximum slots in one rule pattern.
pub const MAX_SLOTS: usize = 8;
/// Maximum number of rules in a pack: the engine keeps the rules an item may fire as a
/// 64-bit set.
pub const MAX_RULES: usize = 64;

/// A whole rule pack, as read from TOML.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    #[serde(default)]
    pub settings: PackSettings,
    #[serde(default)]
    pub grammar: Grammar,
    #[serde(default)]
    pub actors: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub masks: Masks,
    #[serde(default)]
    pub concepts: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub defaults: RuleDefaults,
    #[serde(default)]
    pub rules: Vec<RuleDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PackSettings {
    /// A signal is emitted when its score reaches this.
    pub threshold: f32,
    /// Multiplies the weight of a rule that matched in the title.
    pub title_weight: f32,
    /// Multiplies the weight of a rule that matched in the summary.
    pub summary_weight: f32,
    /// Sentences ending in `?` never fire a rule.
    pub skip_questions: bool,
    /// Topic concepts rules are anchored on (a speed hint; results never depend on it). A
    /// rule's anchor is its first slot named here, else its first concept slot. An item
    /// with no word of any anchor phrase is answered without matching.
    pub anchors: Vec<String>,
}

impl Default for PackSettings {
    fn default() -> Self {
        PackSettings {
            threshold: 0.5,
            title_weight: 1.0,
            summary_weight: 0.9,
            skip_questions: true,
            anchors: Vec::new(),
        }
    }
}

/// Phrases that hide the phrases inside them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Masks {
    /// Inside these, actor words do not act: "U.S.-brokered", "Russian-backed".
    pub not_actor: Vec<String>,
    /// Inside these, concept words do not count: "humanitarian aid", "intelligence chief".
    pub not_concept: Vec<String>,
}

/// Word lists whose meaning is built into the engine's subject finding. Single words only:
/// they are looked up word by word, and only while a rule is being matched.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grammar {
    /// "he", "they", "we": a pronoun subject refers to the sentence's main actor.
    pub pronouns: Vec<String>,
    /// "but", "however": the subject of a verb is not looked for across these.
    pub clause_breaks: Vec<String>,
    /// "said", "told": an actor next to one of these is the sentence's speaker.
    pub speech_verbs: Vec<String>,
    /// "between", "with": an actor right after one of these is not the subject
    /// ("talks between Russia and Ukraine", "in talks with Trump, Putin agreed").
    pub prepositions: Vec<String>,
    /// "envoy", "decision": after a possessive actor ("Russia's envoy", "the Pentagon's
    /// decision") the actor still acts; otherwise a possessive actor ("Russia's proposal")
    /// is not the subject.
    pub role_nouns: Vec<String>,
}

/// Values every rule takes unless it sets its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleDefaults {
    pub window: u32,
    pub max_gap: u32,
    pub guard_span: u32,
    pub after_span: u32,
    pub not_before: Vec<String>,
    pub not_between: Vec<String>,
    pub not_after: Vec<String>,
    pub not_in_sentence: Vec<String>,
    pub requires_in_item: Vec<String>,
    pub not_in_item: Vec<String>,
}

impl Default for RuleDefaults {
    fn default() -> Self {
        RuleDefaults {
            window: 24,
            max_gap: 8,
            guard_span: 4,
            after_span: 2,
            not_before: Vec::new(),
            not_between: Vec::new(),
            not_after: Vec::new(),
            not_in_sentence: Vec::new(),
            requires_in_item: Vec::new(),
            not_in_item: Vec::new(),
        }
    }
}

/// One signal rule: an ordered pattern of slots and the guards that veto a match.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    pub name: String,
    pub signal: String,
    /// Ordered slots: `@side` for an actor, or a concept name; `~N` after a slot sets the
    /// largest number of words allowed between it and the slot before.
    pub pattern: Vec<String>,
    #[serde(default = "default_weight")]
    pub weight: f32,
    pub description: Option<String>,
    /// Index (from 0) of the slot holding the stance, which `not_before` guards; default:
    /// the first concept slot. Object-first patterns ("the truce was rejected by Moscow")
    /// name their verb here.
    pub verb: Option<u32>,
    pub window: Option<u32>,
    pub max_gap: Option<u32>,
    pub guard_span: Option<u32>,
    pub after_span: Option<u32>,
    pub not_before: Option<Vec<String>>,
    pub not_between: Option<Vec<String>>,
    pub not_after: Option<Vec<String>>,
    pub not_in_sentence: Option<Vec<String>>,
    pub requires_in_item: Option<Vec<String>>,
    pub not_in_item: Option<Vec<String>>,
    /// Signals this rule's signal overrides in the same item ("agrees but demands" is
    /// conditional, not acceptance).
    #[serde(default)]
    pub suppresses: Vec<String>,
}

fn default_weight() -> f32 {
    0.9
}

/// The `[rules]` section of the config file: additions and overrides to the built-in pack.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleOverlay {
    /// Start from an empty pack instead of the built-in one.
    #[serde(default)]
    pub replace_builtin: bool,
    /// Changes to `[settings]`.
    #[serde(default)]
    pub threshold: Option<f32>,
    /// Phrases added to actor sides (a new side is created).
    #[serde(default)]
    pub actors: BTreeMap<String, Vec<String>>,
    /// Phrases added to concepts (a new concept is created).
    #[serde(default)]
    pub concepts: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub masks: Masks,
    /// Rules added; a rule with the name of a built-in rule replaces it.
    #[serde(default)]
    pub rules: Vec<RuleDef>,
    /// Names of rules to switch off.
    #[serde(default)]
    pub disable: Vec<String>,
}

/// The built-in pack, compiled into the binary.
pub const BUILTIN_PACK: &str = include_str!("default_rules.toml");

impl RulePack {
    pub fn builtin() -> RulePack {
        // The built-in pack is tested in this module; failing here is a build defect.
        toml::from_str(BUILTIN_PACK).expect("the built-in rule pack parses")
    }

    pub fn from_toml(s: &str) -> Result<RulePack, String> {
        toml::from_str(s).map_err(|e| e.to_string())
    }

    /// Applies a config overlay. Errors name the overlay key.
    pub fn apply(&mut self, overlay: &RuleOverlay) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if overlay.replace_builtin {
            *self = RulePack {
                settings: self.settings.clone(),
                grammar: self.grammar.clone(),
                defaults: self.defaults.clone(),
                ..RulePack::default()
            };
        }
        if let Some(t) = overlay.threshold {
            self.settings.threshold = t;
        }
        for (side, phrases) in &overlay.actors {
            self.actors
                .entry(side.clone())
                .or_default()
                .extend(phrases.iter().cloned());
        }
        for (name, phrases) in &overlay.concepts {
            self.concepts
                .entry(name.clone())
                .or_default()
                .extend(phrases.iter().cloned());
        }
        self.masks
            .not_actor
            .extend(overlay.masks.not_actor.iter().cloned());
        self.masks
            .not_concept
            .extend(overlay.masks.not_concept.iter().cloned());
        for rule in &overlay.rules {
            match self.rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = rule.clone(),
                None => self.rules.push(rule.clone()),
            }
        }
        for name in &overlay.disable {
            let before = self.rules.len();
            self.rules.retain(|r| &r.name != name);
            if self.rules.len() == before {
                errors.push(format!("disable: no rule named {name:?}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Expands `{a,b}` alternatives in a phrase. `halt{,s,ed} aid` gives three phrases.
pub fn expand_braces(phrase: &str) -> Result<Vec<String>, String> {
    let Some(open) = phrase.find('{') else {
        if phrase.contains('}') {
            return Err(format!("{phrase:?}: '}}' without '{{'"));
        }
        return Ok(vec![phrase.to_owned()]);
    };
    let close = phrase[open..]
        .find('}')
        .map(|i| open + i)
        .ok_or_else(|| format!("{phrase:?}: '{{' without '}}'"))?;
    let head = &phrase[..open];
    let tail = &phrase[close + 1..];
    let mut out = Vec::new();
    for alt in phrase[open + 1..close].split(',') {
        for rest in expand_braces(tail)? {
            out.push(format!("{head}{alt}{rest}"));
        }
    }
    if out.len() > 512 {
        return Err(format!("{phrase:?}: expands to more than 512 phrases"));
    }
    Ok(out)
}

/// A parsed pattern slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotRef {
    Actor(String),
    Concept(String),
}

/// Parses `@side~N` / `concept~N`.
pub fn parse_slot(s: &str) -> Result<(SlotRef, Option<u32>), String> {
    let (name, gap) = match s.split_once('~') {
        Some((n, g)) => (
            n,
            Some(
                g.parse::<u32>()
                    .map_err(|_| format!("slot {s:?}: the gap after '~' must be a number"))?,
            ),
        ),
        None => (s, None),
    };
    if let Some(side) = name.strip_prefix('@') {
        if side.is_empty() {
            return Err(format!("slot {s:?}: '@' needs an actor side"));
        }
        Ok((SlotRef::Actor(side.to_owned()), gap))
    } else if name.is_empty() {
        Err("empty slot".into())
    } else {
        Ok((SlotRef::Concept(name.to_owned()), gap))
    }
}

/// Checks that every name a rule uses exists, and that numbers are sane, collecting every
/// problem with the rule's name so `check-config` can show them all at once.
pub fn validate(pack: &RulePack) -> Vec<String> {
    let mut errors = Vec::new();
    let s = &pack.settings;
    if !(0.0..=1.0).contains(&s.threshold) || s.threshold == 0.0 {
        errors.push(format!(
            "settings.threshold: {} is not in (0, 1]",
            s.threshold
        ));
    }
    for (k, v) in [
        ("title_weight", s.title_weight),
        ("summary_weight", s.summary_weight),
    ] {
        if !(0.0..=1.0).contains(&v) {
            errors.push(format!("settings.{k}: {v} is not in [0, 1]"));
        }
    }
    for a in &s.anchors {
        if !pack.concepts.contains_key(a) {
            errors.push(format!("settings.anchors: unknown concept {a:?}"));
        }
    }
    let g = &pack.grammar;
    for (name, list) in [
        ("pronouns", &g.pronouns),
        ("clause_breaks", &g.clause_breaks),
        ("speech_verbs", &g.speech_verbs),
        ("role_nouns", &g.role_nouns),
        ("prepositions", &g.prepositions),
    ] {
        for w in list {
            let n = super::text::normalize_phrase(w);
            if n.is_empty() || n.contains(' ') {
                errors.push(format!("grammar.{name}: {w:?} must be one word"));
            }
        }
    }
    let mut check_phrases = |section: &str, name: &str, phrases: &[String]| {
        if phrases.is_empty() {
            errors.push(format!("{section}.{name}: the list is empty"));
        }
        for p in phrases {
            match expand_braces(p) {
                Ok(list) => {
                    if p.split_whitespace()
                        .any(|w| w.trim_end_matches('*').contains('*'))
                    {
                        errors.push(format!("{section}.{name}: {p:?}: '*' may only end a word"));
                    }
                    for e in list {
                        let bare = e.trim_end_matches('*');
                        if super::text::normalize_phrase(bare).is_empty() && e != "<year>" {
                            errors.push(format!("{section}.{name}: {p:?} has no words"));
                        }
                    }
                }
                Err(e) => errors.push(format!("{section}.{name}: {e}")),
            }
        }
    };
    for (name, list) in &pack.actors {
        check_phrases("actors", name, list);
    }
    for (name, list) in &pack.concepts {
        check_phrases("concepts", name, list);
    }
    for (name, list) in [
        ("not_actor", &pack.masks.not_actor),
        ("not_concept", &pack.masks.not_concept),
    ] {
        if !list.is_empty() {
            check_phrases("masks", name, list);
        }
    }
    let concept_count = pack.concepts.len() + pack.actors.len() + 2;
    if concept_count > MAX_CONCEPTS {
        errors.push(format!(
            "concepts: {concept_count} concepts and actor sides, at most {MAX_CONCEPTS} are supported"
        ));
    }
    if pack.rules.len() > MAX_RULES {
        errors.push(format!(
            "rules: {} rules, at most {MAX_RULES} are supported",
            pack.rules.len()
        ));
    }
    let mut names = BTreeSet::new();
    for (i, r) in pack.rules.iter().enumerate() {
        let label = if r.name.is_empty() {
            format!("rules[{i}]")
        } else {
            format!("rules.{}", r.name)
        };
        if r.name.is_empty() {
            errors.push(format!("{label}: name is empty"));
        } else if !names.insert(r.name.clone()) {
            errors.push(format!("{label}: a second rule has this name"));
        }
        if let Err(e) = r.signal.parse::<SignalKind>() {
            errors.push(format!("{label}.signal: {e}"));
        }
        for s in &r.suppresses {
            if let Err(e) = s.parse::<SignalKind>() {
                errors.push(format!("{label}.suppresses: {e}"));
            }
        }
        if !(r.weight > 0.0 && r.weight <= 1.0) {
            errors.push(format!("{label}.weight: {} is not in (0, 1]", r.weight));
        }
        if r.pattern.is_empty() {
            errors.push(format!("{label}.pattern: is empty"));
        }
        if r.pattern.len() > MAX_SLOTS {
            errors.push(format!("{label}.pattern: more than {MAX_SLOTS} slots"));
        }
        let mut concept_slots = 0;
        for slot in &r.pattern {
            match parse_slot(slot) {
                Ok((SlotRef::Actor(side), _)) => {
                    if !pack.actors.contains_key(&side) {
                        errors.push(format!("{label}.pattern: unknown actor side \"@{side}\""));
                    }
                }
                Ok((SlotRef::Concept(c), _)) => {
                    concept_slots += 1;
                    if !pack.concepts.contains_key(&c) {
                        errors.push(format!("{label}.pattern: unknown concept {c:?}"));
                    }
                }
                Err(e) => errors.push(format!("{label}.pattern: {e}")),
            }
        }
        if !r.pattern.is_empty() && concept_slots == 0 {
            errors.push(format!(
                "{label}.pattern: needs at least one concept slot, not only actors"
            ));
        }
        if let Some(v) = r.verb
            && (v as usize >= r.pattern.len() || r.pattern[v as usize].starts_with('@'))
        {
            errors.push(format!(
                "{label}.verb: slot {v} is not a concept slot of the pattern"
            ));
        }
        if r.window == Some(0) {
            errors.push(format!("{label}.window: must be at least 1"));
        }
        let lists = [
            ("not_before", &r.not_before),
            ("not_between", &r.not_between),
            ("not_after", &r.not_after),
            ("not_in_sentence", &r.not_in_sentence),
            ("requires_in_item", &r.requires_in_item),
            ("not_in_item", &r.not_in_item),
        ];
        for (key, list) in lists {
            for c in list.iter().flatten() {
                if !known_guard(pack, c) {
                    errors.push(format!("{label}.{key}: unknown concept {c:?}"));
                }
            }
        }
    }
    let d = &pack.defaults;
    for (key, list) in [
        ("not_before", &d.not_before),
        ("not_between", &d.not_between),
        ("not_after", &d.not_after),
        ("not_in_sentence", &d.not_in_sentence),
        ("requires_in_item", &d.requires_in_item),
        ("not_in_item", &d.not_in_item),
    ] {
        for c in list {
            if !known_guard(pack, c) {
                errors.push(format!("defaults.{key}: unknown concept {c:?}"));
            }
        }
    }
    errors
}

/// Guards may name a concept or an actor side (`@ukraine`).
fn known_guard(pack: &RulePack, name: &str) -> bool {
    match name.strip_prefix('@') {
        Some(side) => pack.actors.contains_key(side),
        None => pack.concepts.contains_key(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_is_valid() {
        let pack = RulePack::builtin();
        assert_eq!(validate(&pack), Vec::<String>::new());
        assert!(pack.rules.len() > 10);
    }

    #[test]
    fn braces_expand() {
        assert_eq!(
            expand_braces("halt{,s,ed} aid").unwrap(),
            ["halt aid", "halts aid", "halted aid"]
        );
        assert_eq!(
            expand_braces("{a,b} {c,d}").unwrap(),
            ["a c", "a d", "b c", "b d"]
        );
        assert!(expand_braces("halt{s").is_err());
        assert!(expand_braces("halts}").is_err());
    }

    #[test]
    fn slots_parse() {
        assert_eq!(
            parse_slot("@russia").unwrap(),
            (SlotRef::Actor("russia".into()), None)
        );
        assert_eq!(
            parse_slot("ceasefire~12").unwrap(),
            (SlotRef::Concept("ceasefire".into()), Some(12))
        );
        assert!(parse_slot("x~y").is_err());
        assert!(parse_slot("@").is_err());
    }

    #[test]
    fn errors_name_the_rule() {
        let mut pack = RulePack::builtin();
        pack.rules.push(RuleDef {
            name: "mine".into(),
            signal: "russia_rejectz".into(),
            pattern: vec!["@russia".into(), "rejct".into()],
            weight: 1.5,
            description: None,
            verb: None,
            window: None,
            max_gap: None,
            guard_span: None,
            after_span: None,
            not_before: Some(vec!["nope".into()]),
            not_between: None,
            not_after: None,
            not_in_sentence: None,
            requires_in_item: None,
            not_in_item: None,
            suppresses: vec![],
        });
        let errors = validate(&pack);
        for want in [
            "rules.mine.signal: unknown signal \"russia_rejectz\"",
            "rules.mine.pattern: unknown concept \"rejct\"",
            "rules.mine.weight: 1.5",
            "rules.mine.not_before: unknown concept \"nope\"",
        ] {
            assert!(
                errors.iter().any(|e| e.starts_with(want)),
                "{want} not in {errors:#?}"
            );
        }
    }

    #[test]
    fn overlay_adds_replaces_and_disables() {
        let mut pack = RulePack::builtin();
        let first = pack.rules[0].clone();
        let mut replaced = first.clone();
        replaced.weight = 0.42;
        let overlay = RuleOverlay {
            concepts: BTreeMap::from([("reject".to_string(), vec!["spurn*".to_string()])]),
            rules: vec![replaced],
            disable: vec![pack.rules[1].name.clone(), "no-such-rule".into()],
            ..RuleOverlay::default()
        };
        let n = pack.rules.len();
        let errors = pack.apply(&overlay).unwrap_err();
        assert_eq!(errors, ["disable: no rule named \"no-such-rule\""]);
        assert_eq!(pack.rules.len(), n - 1);
        assert_eq!(pack.rules[0].weight, 0.42);
        assert!(pack.concepts["reject"].contains(&"spurn*".to_string()));
    }
}
