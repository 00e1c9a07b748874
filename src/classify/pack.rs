//! The rule pack as written in TOML, the `[rules]` overlay from the config file, and the
//! checks that turn a pack into something the engine can compile.
//!
//! A pack is a lexicon and a few frames; the grammar that reads a sentence is the engine's
//! (`engine.rs`), written once for every stance. Its parts:
//! - `[settings]`: threshold, field weights, the language whose morphology inflects the
//!   lexicon (`en`);
//! - `[grammar]`: closed word classes with a fixed meaning to the engine (determiners,
//!   auxiliaries, negations, prepositions, speech verbs, ...);
//! - `[markers]`: open lists with a fixed meaning (demand verbs, irrealis verbs, conditions,
//!   history, other conflicts, ...);
//! - `[actors]`: who can act, by side (`russia`, `us`, `ukraine`, ...);
//! - `[masks]`: phrases inside which an actor does not act (`U.S.-brokered`) or an object is
//!   something else (`humanitarian aid`);
//! - `[objects]`: what a stance is about, by family (`ceasefire`, `hostilities`, `aid`,
//!   `intel`), and `[scopes]`: which one (`energy`, `black_sea`, `easter`, ...);
//! - `[stances]`: predicates by stance, each as verbs (lemmas, inflected by the language's
//!   morphology), nouns and judgements;
//! - `[[frames]]`: signal = agent side + stance + object family.
//!
//! Phrases are lowercase words. A trailing `*` makes the last word a prefix (`truce*`);
//! `{a,b}` expands to alternatives (`{halt,stop} {the ,}fighting`); `<year>` matches a year
//! from 1900 to 2099. A verb written `freeze|froze|frozen` gives its irregular past and
//! participle; a verb of several words (`turn down`) is inflected on its first word, and a
//! `_` in it marks where the object may stand (`put _ on hold`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::domain::SignalKind;

/// The stances whose meaning the engine knows (transforms, conflicts); a pack may add others,
/// which frames use as they are.
pub const BUILT_IN_STANCES: &[&str] = &["accept", "reject", "condition", "pause", "resume"];

/// Maximum number of actor sides, object families, scopes and stances each (they are kept
/// as small integers in the engine).
pub const MAX_NAMES: usize = 64;

/// A whole rule pack, as read from TOML.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    #[serde(default)]
    pub settings: PackSettings,
    #[serde(default)]
    pub grammar: Grammar,
    #[serde(default)]
    pub markers: Markers,
    #[serde(default)]
    pub actors: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub masks: Masks,
    #[serde(default)]
    pub objects: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub scopes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub stances: BTreeMap<String, Stance>,
    #[serde(default)]
    pub frames: Vec<FrameDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PackSettings {
    /// A signal is emitted when its score reaches this.
    pub threshold: f32,
    /// Multiplies the weight of a match in the title.
    pub title_weight: f32,
    /// Multiplies the weight of a match in the summary.
    pub summary_weight: f32,
    /// The morphology that inflects `[stances]` verbs and nouns: `en`.
    pub language: String,
}

impl Default for PackSettings {
    fn default() -> Self {
        PackSettings {
            threshold: 0.5,
            title_weight: 1.0,
            summary_weight: 0.9,
            language: "en".into(),
        }
    }
}

/// Closed word classes. What each means to the engine is fixed (see `engine.rs`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Grammar {
    /// "the", "a", "its": start a noun phrase.
    pub determiners: Vec<String>,
    /// Forms of "be": a participle after one is passive ("was rejected").
    pub be: Vec<String>,
    /// Forms of "have": a participle after "had" is background ("had rejected").
    pub have: Vec<String>,
    /// Forms of "do": "does not agree".
    pub auxiliary_do: Vec<String>,
    /// "will", "is to", "set to": an asserted future.
    pub future: Vec<String>,
    /// "could", "may", "would", "must": the predicate is not asserted.
    pub modals: Vec<String>,
    /// "not", "never", "won't": the predicate is negated.
    pub negations: Vec<String>,
    /// Negations of the perfect ("has not", "yet to"): nothing has happened yet.
    pub not_yet: Vec<String>,
    /// "refuses to", "declines to": a volitional negation of the verb that follows.
    pub refusals: Vec<String>,
    /// "with", "between": an actor after one is not a subject.
    pub prepositions: Vec<String>,
    /// "by": the agent of a passive or a noun.
    pub by: Vec<String>,
    /// "and", "as well as": coordinated actors or objects.
    pub coordinators: Vec<String>,
    /// "but", "however": a subject is not looked for across these.
    pub clause_breaks: Vec<String>,
    /// "that", "whether", "why": open a clause of their own.
    pub complementizers: Vec<String>,
    /// "said", "according to": an actor next to one is the sentence's speaker.
    pub speech_verbs: Vec<String>,
    /// "envoy", "ministry": after a possessive actor the actor still acts ("Russia's envoy").
    pub role_nouns: Vec<String>,
    /// "he", "they": a pronoun subject is the sentence's speaker.
    pub pronouns: Vec<String>,
    /// "will", "what": a headline opening with one is a question.
    pub question_openers: Vec<String>,
    /// "Monday", "today", "March": a time adjunct ("announced on Monday its rejection") is
    /// not part of the noun phrase after it.
    pub time_words: Vec<String>,
}

/// Open lists with a fixed meaning to the engine.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Markers {
    /// "urge", "tell", "call on": `DEMAND ACTOR to PREDICATE` is a demand, not a deed.
    pub demands: Vec<String>,
    /// "up to", "time for": `OBLIGATION ACTOR to PREDICATE` is a demand too.
    pub obligations: Vec<String>,
    /// "consider", "plan", "threaten": the predicate they govern is not asserted.
    pub irrealis: Vec<String>,
    /// "ready to", "open to", "in principle": an acceptance with reservations.
    pub openness: Vec<String>,
    /// "deny": what is denied did not happen.
    pub denials: Vec<String>,
    /// "claims", "reports": "rejects claims that ..." reports no stance.
    pub claims: Vec<String>,
    /// Years, "last month", "previously": a recalled event, not news of a change.
    pub history: Vec<String>,
    /// "after", "since": a noun predicate after one is background ("after the pause").
    pub background: Vec<String>,
    /// "only if", "unless", "until": an acceptance on conditions.
    pub conditions: Vec<String>,
    /// "conditions", "nuances", "demands": "agrees, but with conditions".
    pub condition_nouns: Vec<String>,
    /// "proposal", "plan", "call": a head noun between a stance and its object.
    pub proposals: Vec<String>,
    /// "again", "once more": a predicate of resuming.
    pub again: Vec<String>,
    /// Other wars: a ceasefire there is not this one.
    pub other_conflicts: Vec<String>,
    /// Words that make an item about Ukraine (aid and intelligence frames need one).
    pub ukraine_context: Vec<String>,
    /// "talks", "violations", "monitors": the head of a compound whose modifier is an
    /// object ("ceasefire talks", "truce violations") makes that object its topic, not
    /// what a predicate acts on ("agrees to ceasefire talks" accepts no ceasefire).
    pub topic_heads: Vec<String>,
    /// "loses access to", "resumes receiving": verbs whose subject is who receives the
    /// flow; the one who stops or restores it is the flow's owner ("Ukraine regains access
    /// to US satellite imagery").
    pub receiving: Vec<String>,
}

/// One stance's predicates.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Stance {
    /// Verb lemmas; the language's morphology gives every form ("reject" → rejects,
    /// rejected, rejecting). `freeze|froze|frozen` names an irregular past and participle.
    pub verbs: Vec<String>,
    /// Nouns, singular (their plural is made too): "rejection", "pause".
    pub nouns: Vec<String>,
    /// Phrases that state the stance of their own, as a judgement of the object
    /// ("premature", "unacceptable", "a trap").
    pub judgements: Vec<String>,
}

/// Phrases that hide the phrases inside them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Masks {
    /// Inside these, actor words do not act ("U.S.-brokered"); they may still own a flow
    /// ("U.S. weapons").
    pub not_actor: Vec<String>,
    /// Inside these, object and stance words do not count ("humanitarian aid",
    /// "tariff pause").
    pub not_concept: Vec<String>,
}

/// A signal as a frame: who does what to which object.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrameDef {
    pub name: String,
    pub signal: String,
    /// The actor side that must be the predicate's agent.
    pub agent: String,
    /// The stance, after the engine's transforms (a refused acceptance is a rejection).
    pub stance: String,
    /// The object family.
    pub object: String,
    #[serde(default = "default_weight")]
    pub weight: f32,
    pub description: Option<String>,
    /// The item must mention Ukraine (aid and intelligence: flows to Ukraine).
    #[serde(default)]
    pub needs_ukraine: bool,
}

fn default_weight() -> f32 {
    1.0
}

/// The `[rules]` section of the config file: additions and overrides to the built-in pack.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleOverlay {
    /// Changes to `[settings]`.
    #[serde(default)]
    pub threshold: Option<f32>,
    /// Phrases added to actor sides (a new side is created).
    #[serde(default)]
    pub actors: BTreeMap<String, Vec<String>>,
    /// Phrases added to object families (a new family is created).
    #[serde(default)]
    pub objects: BTreeMap<String, Vec<String>>,
    /// Phrases added to scopes.
    #[serde(default)]
    pub scopes: BTreeMap<String, Vec<String>>,
    /// Verbs, nouns and judgements added to stances (a new stance is created).
    #[serde(default)]
    pub stances: BTreeMap<String, Stance>,
    /// Phrases added to markers.
    #[serde(default)]
    pub markers: Markers,
    #[serde(default)]
    pub masks: Masks,
    /// Frames added; a frame with the name of a built-in frame replaces it.
    #[serde(default)]
    pub frames: Vec<FrameDef>,
    /// Names of frames to switch off.
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
        if let Some(t) = overlay.threshold {
            self.settings.threshold = t;
        }
        let extend = |into: &mut BTreeMap<String, Vec<String>>,
                      from: &BTreeMap<String, Vec<String>>| {
            for (k, v) in from {
                into.entry(k.clone()).or_default().extend(v.iter().cloned());
            }
        };
        extend(&mut self.actors, &overlay.actors);
        extend(&mut self.objects, &overlay.objects);
        extend(&mut self.scopes, &overlay.scopes);
        for (name, s) in &overlay.stances {
            let into = self.stances.entry(name.clone()).or_default();
            into.verbs.extend(s.verbs.iter().cloned());
            into.nouns.extend(s.nouns.iter().cloned());
            into.judgements.extend(s.judgements.iter().cloned());
        }
        for (into, from) in self
            .markers
            .lists_mut()
            .into_iter()
            .zip(overlay.markers.lists())
        {
            into.1.extend(from.1.iter().cloned());
        }
        self.masks
            .not_actor
            .extend(overlay.masks.not_actor.iter().cloned());
        self.masks
            .not_concept
            .extend(overlay.masks.not_concept.iter().cloned());
        for frame in &overlay.frames {
            match self.frames.iter_mut().find(|f| f.name == frame.name) {
                Some(existing) => *existing = frame.clone(),
                None => self.frames.push(frame.clone()),
            }
        }
        for name in &overlay.disable {
            let before = self.frames.len();
            self.frames.retain(|f| &f.name != name);
            if self.frames.len() == before {
                errors.push(format!("disable: no frame named {name:?}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Grammar {
    /// Every list with its key, for checks and compilation.
    pub fn lists(&self) -> [(&'static str, &Vec<String>); 19] {
        [
            ("determiners", &self.determiners),
            ("be", &self.be),
            ("have", &self.have),
            ("auxiliary_do", &self.auxiliary_do),
            ("future", &self.future),
            ("modals", &self.modals),
            ("negations", &self.negations),
            ("not_yet", &self.not_yet),
            ("refusals", &self.refusals),
            ("prepositions", &self.prepositions),
            ("by", &self.by),
            ("coordinators", &self.coordinators),
            ("clause_breaks", &self.clause_breaks),
            ("complementizers", &self.complementizers),
            ("speech_verbs", &self.speech_verbs),
            ("role_nouns", &self.role_nouns),
            ("pronouns", &self.pronouns),
            ("question_openers", &self.question_openers),
            ("time_words", &self.time_words),
        ]
    }
}

impl Markers {
    /// Every list with its key, for checks and compilation.
    pub fn lists(&self) -> [(&'static str, &Vec<String>); 16] {
        [
            ("demands", &self.demands),
            ("obligations", &self.obligations),
            ("irrealis", &self.irrealis),
            ("openness", &self.openness),
            ("denials", &self.denials),
            ("claims", &self.claims),
            ("history", &self.history),
            ("background", &self.background),
            ("conditions", &self.conditions),
            ("condition_nouns", &self.condition_nouns),
            ("proposals", &self.proposals),
            ("again", &self.again),
            ("other_conflicts", &self.other_conflicts),
            ("ukraine_context", &self.ukraine_context),
            ("topic_heads", &self.topic_heads),
            ("receiving", &self.receiving),
        ]
    }

    fn lists_mut(&mut self) -> [(&'static str, &mut Vec<String>); 16] {
        [
            ("demands", &mut self.demands),
            ("obligations", &mut self.obligations),
            ("irrealis", &mut self.irrealis),
            ("openness", &mut self.openness),
            ("denials", &mut self.denials),
            ("claims", &mut self.claims),
            ("history", &mut self.history),
            ("background", &mut self.background),
            ("conditions", &mut self.conditions),
            ("condition_nouns", &mut self.condition_nouns),
            ("proposals", &mut self.proposals),
            ("again", &mut self.again),
            ("other_conflicts", &mut self.other_conflicts),
            ("ukraine_context", &mut self.ukraine_context),
            ("topic_heads", &mut self.topic_heads),
            ("receiving", &mut self.receiving),
        ]
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

/// Checks that every name a frame uses exists, that numbers are sane and phrases well
/// formed, collecting every problem with its key so `check-config` can show them all.
pub fn validate(pack: &RulePack) -> Vec<String> {
    let mut errors = Vec::new();
    check_settings(&pack.settings, &mut errors);
    check_lexicon(pack, &mut errors);
    check_frames(pack, &mut errors);
    errors
}

fn check_settings(s: &PackSettings, errors: &mut Vec<String>) {
    if !(s.threshold > 0.0 && s.threshold <= 1.0) {
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
    if super::lang::Language::parse(&s.language).is_none() {
        errors.push(format!(
            "settings.language: {:?} is not a language this build inflects (\"en\")",
            s.language
        ));
    }
}

/// Every phrase list of the lexicon: well-formed phrases, and not too many names.
fn check_lexicon(pack: &RulePack, errors: &mut Vec<String>) {
    for (name, list) in pack.grammar.lists() {
        check_phrases(errors, "grammar", name, list, true);
    }
    for (name, list) in pack.markers.lists() {
        check_phrases(errors, "markers", name, list, true);
    }
    for (name, list) in &pack.actors {
        check_phrases(errors, "actors", name, list, false);
    }
    for (name, list) in &pack.objects {
        check_phrases(errors, "objects", name, list, false);
    }
    for (name, list) in &pack.scopes {
        check_phrases(errors, "scopes", name, list, false);
    }
    for (name, s) in &pack.stances {
        check_phrases(errors, &format!("stances.{name}"), "verbs", &s.verbs, true);
        check_phrases(errors, &format!("stances.{name}"), "nouns", &s.nouns, true);
        check_phrases(
            errors,
            &format!("stances.{name}"),
            "judgements",
            &s.judgements,
            true,
        );
        for v in &s.verbs {
            if v.matches('|').count() > 3 || v.contains('{') && v.contains('|') {
                errors.push(format!(
                    "stances.{name}.verbs: {v:?}: write base|past|participle, without braces"
                ));
            }
            let words: Vec<&str> = v.split_whitespace().collect();
            let gaps = words.iter().filter(|w| **w == "_").count();
            if gaps > 1 || gaps == 1 && (words[0] == "_" || words[words.len() - 1] == "_") {
                errors.push(format!(
                    "stances.{name}.verbs: {v:?}: one `_` may stand between the verb and its rest (\"put _ on hold\")"
                ));
            }
        }
        for (list, what) in [(&s.nouns, "nouns"), (&s.judgements, "judgements")] {
            if let Some(p) = list.iter().find(|p| p.split_whitespace().any(|w| w == "_")) {
                errors.push(format!(
                    "stances.{name}.{what}: {p:?}: `_` is for verbs only"
                ));
            }
        }
    }
    for (name, list) in [
        ("not_actor", &pack.masks.not_actor),
        ("not_concept", &pack.masks.not_concept),
    ] {
        check_phrases(errors, "masks", name, list, true);
    }
    for (what, n) in [
        ("actors", pack.actors.len()),
        ("objects", pack.objects.len()),
        ("scopes", pack.scopes.len()),
        ("stances", pack.stances.len()),
    ] {
        if n > MAX_NAMES {
            errors.push(format!(
                "{what}: {n} names, at most {MAX_NAMES} are supported"
            ));
        }
    }
}

/// One list of phrases: brace expansion, `*` only at a word's end, some words in each.
fn check_phrases(
    errors: &mut Vec<String>,
    section: &str,
    name: &str,
    phrases: &[String],
    may_be_empty: bool,
) {
    if phrases.is_empty() && !may_be_empty {
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
                    let bare = e.trim_end_matches('*').replace('|', " ");
                    if super::text::normalize_phrase(&bare).is_empty() && e != "<year>" {
                        errors.push(format!("{section}.{name}: {p:?} has no words"));
                    }
                }
            }
            Err(e) => errors.push(format!("{section}.{name}: {e}")),
        }
    }
}

/// Every frame: a unique name, a known signal, agent side, stance and object family.
fn check_frames(pack: &RulePack, errors: &mut Vec<String>) {
    let mut names = BTreeSet::new();
    for (i, f) in pack.frames.iter().enumerate() {
        let label = if f.name.is_empty() {
            format!("frames[{i}]")
        } else {
            format!("frames.{}", f.name)
        };
        if f.name.is_empty() {
            errors.push(format!("{label}: name is empty"));
        } else if !names.insert(f.name.clone()) {
            errors.push(format!("{label}: a second frame has this name"));
        }
        if let Err(e) = f.signal.parse::<SignalKind>() {
            errors.push(format!("{label}.signal: {e}"));
        }
        if !(f.weight > 0.0 && f.weight <= 1.0) {
            errors.push(format!("{label}.weight: {} is not in (0, 1]", f.weight));
        }
        if !pack.actors.contains_key(&f.agent) {
            errors.push(format!("{label}.agent: unknown actor side {:?}", f.agent));
        }
        if !pack.stances.contains_key(&f.stance) && !BUILT_IN_STANCES.contains(&f.stance.as_str()) {
            errors.push(format!("{label}.stance: unknown stance {:?}", f.stance));
        }
        if !pack.objects.contains_key(&f.object) {
            errors.push(format!(
                "{label}.object: unknown object family {:?}",
                f.object
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand() {
        assert_eq!(
            expand_braces("halt{,s,ed} aid").unwrap(),
            vec!["halt aid", "halts aid", "halted aid"]
        );
        assert_eq!(
            expand_braces("{a,b} {c,d}").unwrap(),
            vec!["a c", "a d", "b c", "b d"]
        );
        assert!(expand_braces("a{b").is_err());
    }

    #[test]
    fn the_builtin_pack_is_valid() {
        let errors = validate(&RulePack::builtin());
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn problems_name_their_keys() {
        let mut pack = RulePack::builtin();
        pack.frames.push(FrameDef {
            name: "x".into(),
            signal: "russia_reject".into(),
            agent: "martians".into(),
            stance: "shrug".into(),
            object: "peace".into(),
            weight: 2.0,
            description: None,
            needs_ukraine: false,
        });
        let errors = validate(&pack).join("\n");
        for key in [
            "frames.x.signal",
            "frames.x.weight",
            "frames.x.agent",
            "frames.x.stance",
            "frames.x.object",
        ] {
            assert!(errors.contains(key), "{key}: {errors}");
        }
    }
}
