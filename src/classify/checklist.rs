//! A behavioural test suite in the style of CheckList (Ribeiro et al., ACL 2020): templates
//! times lexicons make thousands of sentences, written for this suite from the grammar of
//! news (`../shared/signals-grammar.md`), never taken from a corpus.
//!
//! - Minimum functionality: each signal, by every actor of its side, about every kind of
//!   object, in every form news uses (present headline, past, perfect, passive, noun,
//!   headline infinitive, speech tag, judgement).
//! - Invariance: outlets, officials, an unrelated sentence, case, punctuation and where the
//!   text sits (headline or lede) never change the result.
//! - Direction: negation, a question, speculation, a demand, a threat, another war, a denial,
//!   waiting, or another actor (Ukraine, Europe, the UN) removes the signal.
//!
//! Every failing case is reported with the classifier's reading of it; the test fails if any
//! case fails.

use super::Classifier;

/// An actor as it stands in a sentence: the subject form and the possessive.
struct Actor {
    name: &'static str,
    possessive: &'static str,
}

const fn a(name: &'static str, possessive: &'static str) -> Actor {
    Actor { name, possessive }
}

const RUSSIA: &[Actor] = &[
    a("Russia", "Russia's"),
    a("The Kremlin", "The Kremlin's"),
    a("Moscow", "Moscow's"),
    a("Putin", "Putin's"),
    a("Vladimir Putin", "Vladimir Putin's"),
    a(
        "Russian President Vladimir Putin",
        "Russian President Vladimir Putin's",
    ),
    a(
        "Kremlin spokesman Dmitry Peskov",
        "Kremlin spokesman Dmitry Peskov's",
    ),
    a("Peskov", "Peskov's"),
    a(
        "Foreign Minister Sergei Lavrov",
        "Foreign Minister Sergei Lavrov's",
    ),
    a("Lavrov", "Lavrov's"),
    a("Russia's foreign ministry", "Russia's foreign ministry's"),
    a("Maria Zakharova", "Maria Zakharova's"),
    a("Kremlin aide Yuri Ushakov", "Yuri Ushakov's"),
    a("The Russian government", "The Russian government's"),
    a("Russian negotiators", "Russian negotiators'"),
    a("Dmitry Medvedev", "Dmitry Medvedev's"),
    a("Envoy Kirill Dmitriev", "Kirill Dmitriev's"),
    a("Russia's defence ministry", "Russia's defence ministry's"),
];

const US: &[Actor] = &[
    a("The US", "The US's"),
    a("The United States", "The United States'"),
    a("Washington", "Washington's"),
    a("The White House", "The White House's"),
    a("The Pentagon", "The Pentagon's"),
    a("Trump", "Trump's"),
    a("President Donald Trump", "President Donald Trump's"),
    a("Defense Secretary Pete Hegseth", "Pete Hegseth's"),
    a("Hegseth", "Hegseth's"),
    a("Secretary of State Marco Rubio", "Marco Rubio's"),
    a("The State Department", "The State Department's"),
    a("The Trump administration", "The Trump administration's"),
    a("US officials", "US officials'"),
    a("The Defense Department", "The Defense Department's"),
    a("CIA Director John Ratcliffe", "John Ratcliffe's"),
    a("Vice President JD Vance", "JD Vance's"),
    a("National security adviser Mike Waltz", "Mike Waltz's"),
];

/// Actors whose stance is not a signal.
const OTHERS: &[Actor] = &[
    a("Ukraine", "Ukraine's"),
    a("Kyiv", "Kyiv's"),
    a("Zelensky", "Zelensky's"),
    a("The EU", "The EU's"),
    a("France", "France's"),
    a("Britain", "Britain's"),
    a("NATO", "NATO's"),
    a("The UN", "The UN's"),
    a("Germany", "Germany's"),
];

const CEASEFIRES: &[&str] = &[
    "a ceasefire",
    "the 30-day ceasefire",
    "a truce",
    "an energy ceasefire",
    "a Black Sea truce",
    "an Easter truce",
    "the Victory Day truce",
    "a moratorium on strikes on energy infrastructure",
    "a three-day ceasefire",
    "a Christmas truce",
    "a humanitarian pause",
    "an unconditional ceasefire",
    "the US proposal for a 30-day ceasefire",
    "a cease-fire in Ukraine",
];

const AID: &[&str] = &[
    "military aid to Ukraine",
    "weapons shipments to Ukraine",
    "arms deliveries to Kyiv",
    "Patriot missile deliveries to Ukraine",
    "security assistance for Ukraine",
    "artillery shell shipments to Kyiv",
    "HIMARS ammunition for Ukraine",
];

const INTEL: &[&str] = &[
    "intelligence sharing with Ukraine",
    "satellite imagery for Kyiv",
    "intelligence support to Ukraine",
    "targeting data for Ukraine's forces",
];

/// One case: a headline and a lede, and the signals it must give.
struct Case {
    template: &'static str,
    title: String,
    summary: String,
    want: Vec<&'static str>,
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Fills `{A}` (actor), `{P}` (its possessive), `{a}`/`{p}` (lowercase-start forms), `{O}`
/// (object) and `{Oc}` (object, capitalised).
fn fill(t: &str, actor: &Actor, object: &str) -> String {
    let low = |s: &str| match s.strip_prefix("The ") {
        Some(rest) => format!("the {rest}"),
        None => s.to_owned(),
    };
    t.replace("{A}", actor.name)
        .replace("{P}", actor.possessive)
        .replace("{a}", &low(actor.name))
        .replace("{p}", &low(actor.possessive))
        .replace("{Oc}", &cap(object))
        .replace("{O}", object)
}

/// Templates: (name, headline template, lede template, signals).
type Template = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const RU_REJECTS: &[Template] = &[
    (
        "rejects/stated_noun",
        "",
        "{A} announced on Monday its rejection of {O}.",
        &["russia_rejects"],
    ),
    (
        "rejects/backs_out",
        "{A} backs out of {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/declares_end",
        "{A} declares an end to {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/no_plans",
        "{A} says it has no plans for {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/adverb",
        "{A} has flatly rejected {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/present",
        "{A} rejects {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/past",
        "",
        "{A} rejected {O} on Tuesday.",
        &["russia_rejects"],
    ),
    (
        "rejects/perfect",
        "{A} has rejected {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/passive",
        "{Oc} rejected by {a}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/passive_be",
        "",
        "{Oc} was rejected by {a} on Monday.",
        &["russia_rejects"],
    ),
    (
        "rejects/noun",
        "{P} rejection of {O} dims hopes for talks",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/phrasal",
        "{A} turns down {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/rules_out",
        "{A} rules out {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/refuses",
        "{A} refuses to accept {O}",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/will_not",
        "",
        "{A} said it will not agree to {O}.",
        &["russia_rejects"],
    ),
    (
        "rejects/judgement",
        "{A} calls {O} premature",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/judgement_regroup",
        "",
        "{A} said {O} would only let Kyiv regroup.",
        &["russia_rejects"],
    ),
    (
        "rejects/named",
        "{A} brands {O} a publicity stunt",
        "",
        &["russia_rejects"],
    ),
    (
        "rejects/named_offer",
        "",
        "{A} called Kyiv's offer of {O} a trick.",
        &["russia_rejects"],
    ),
    (
        "rejects/speech_tag",
        "",
        "{Oc} is unacceptable, {a} said.",
        &["russia_rejects"],
    ),
    (
        "rejects/dismisses",
        "{A} dismisses {O}",
        "",
        &["russia_rejects"],
    ),
    // The proposal named in the headline, answered in the lede without naming it again.
    (
        "rejects/anaphor",
        "Washington puts forward {O}",
        "{A} rejected the proposal on Tuesday.",
        &["russia_rejects"],
    ),
    (
        "rejects/anaphor_ultimatum",
        "European leaders give Moscow until Monday to accept {O}",
        "{A} dismissed the ultimatum.",
        &["russia_rejects"],
    ),
    (
        "rejects/anaphor_judgement",
        "Washington puts forward {O}",
        "{A} called the idea premature.",
        &["russia_rejects"],
    ),
];

const RU_ACCEPTS: &[Template] = &[
    (
        "accepts/anaphor",
        "Washington puts forward {O}",
        "{A} accepted the offer on Monday.",
        &["russia_accepts"],
    ),
    (
        "accepts/present",
        "{A} agrees to {O}",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/past",
        "",
        "{A} agreed to {O} on Tuesday.",
        &["russia_accepts"],
    ),
    (
        "accepts/declares",
        "{A} declares {O}",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/announces",
        "{A} announces {O}",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/orders",
        "",
        "{A} ordered {O} from midnight.",
        &["russia_accepts"],
    ),
    (
        "accepts/accepts",
        "{A} accepts {O}",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/passive",
        "{Oc} declared by {a}",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/noun",
        "{P} acceptance of {O} raises hopes",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/will_observe",
        "",
        "{A} said it would observe {O}.",
        &["russia_accepts"],
    ),
];

const RU_ACCEPTS_HALT: &[Template] = &[
    (
        "rejects/ban_ended",
        "",
        "The ban on strikes against power plants, announced by {a} last month, has come to an end.",
        &["russia_rejects"],
    ),
    (
        "rejects/relative_expired",
        "",
        "The energy truce, which {a} agreed to in March, has expired, officials said.",
        &["russia_rejects"],
    ),
    (
        "rejects/truce_by_expired",
        "",
        "The energy truce, first ordered by {a} in March, has expired, officials said.",
        &["russia_rejects"],
    ),
    (
        "accepts/halts_strikes",
        "{A} halts strikes on energy infrastructure",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/not_to_strike",
        "",
        "{A} agreed not to strike Ukraine's energy facilities for 30 days.",
        &["russia_accepts"],
    ),
    (
        "accepts/refrain",
        "{A} agrees to refrain from attacks on Ukrainian ports",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/gerund",
        "",
        "{A} agreed to a pause on attacking Ukraine's power grid.",
        &["russia_accepts"],
    ),
    (
        "accepts/orders_halt",
        "",
        "{A} ordered troops to halt attacks on Ukraine's energy facilities.",
        &["russia_accepts"],
    ),
    // A verb that holds its object.
    (
        "accepts/suspends_strikes",
        "{A} suspends strikes on Ukraine's power grid",
        "",
        &["russia_accepts"],
    ),
    (
        "accepts/hold_fire",
        "",
        "{A} said its troops would hold fire from midnight.",
        &["russia_accepts"],
    ),
];

const RU_CONDITIONAL: &[Template] = &[
    (
        "conditional/demand_before",
        "{A} demands a Ukrainian pullback before {O}",
        "",
        &["russia_conditional"],
    ),
    (
        "conditional/only_if",
        "{A} agrees to {O}, but only if Kyiv withdraws its troops",
        "",
        &["russia_conditional"],
    ),
    (
        "conditional/in_principle",
        "{A} backs {O} in principle but says questions remain",
        "",
        &["russia_conditional"],
    ),
    (
        "conditional/ready",
        "{A} says it is ready to accept {O}",
        "",
        &["russia_conditional"],
    ),
    (
        "conditional/on_condition",
        "",
        "{A} will accept {O} on condition that sanctions are lifted.",
        &["russia_conditional"],
    ),
    (
        "conditional/provided",
        "",
        "{A} said it would observe {O} provided Kyiv halts its drone raids.",
        &["russia_conditional"],
    ),
    (
        "conditional/puts_conditions",
        "{A} puts conditions on {O}",
        "",
        &["russia_conditional"],
    ),
    (
        "conditional/unless",
        "",
        "{A} said it would not observe {O} unless Western arms deliveries stop.",
        &["russia_conditional"],
    ),
    (
        "conditional/seeks_concessions",
        "{A}, in no hurry for {O}, seeks concessions",
        "",
        &["russia_conditional"],
    ),
    (
        "conditional/laid_out_conditions",
        "",
        "Washington put forward {O} last week. {A} laid out a list of conditions on Thursday.",
        &["russia_conditional"],
    ),
    (
        "conditional/demands_concessions_before",
        "{A} demands concessions from Kyiv before {O}",
        "",
        &["russia_conditional"],
    ),
];

const US_PAUSED: &[Template] = &[
    ("paused/present", "{A} pauses {O}", "", &["paused"]),
    ("paused/past", "", "{A} halted {O} on Monday.", &["paused"]),
    ("paused/perfect", "{A} has suspended {O}", "", &["paused"]),
    ("paused/freezes", "{A} freezes {O}", "", &["paused"]),
    ("paused/withholds", "{A} withholds {O}", "", &["paused"]),
    // The subject receives the flow; its owner stops it.
    (
        "paused/receiver_subject",
        "Ukraine loses access to {p} {O}",
        "",
        &["paused"],
    ),
    (
        "paused/perfect_durative",
        "{A} has held up {O}",
        "",
        &["paused"],
    ),
    (
        "paused/adverb",
        "{A} has quietly suspended {O}",
        "",
        &["paused"],
    ),
    (
        "paused/reportedly",
        "{A} reportedly halts {O}",
        "",
        &["paused"],
    ),
    ("paused/cuts_off", "{A} cuts off {O}", "", &["paused"]),
    (
        "paused/passive",
        "",
        "{Oc} has been halted, {a} said.",
        &["paused"],
    ),
    (
        "paused/noun",
        "{P} pause in {O} alarms Kyiv",
        "",
        &["paused"],
    ),
    ("paused/headline_to", "{A} to pause {O}", "", &["paused"]),
    (
        "paused/participle_clause",
        "",
        "{A}, citing low stockpiles, halted {O} on Monday.",
        &["paused"],
    ),
    (
        "paused/prepositional_clause",
        "",
        "{A}, after weeks of review, halted {O} on Monday.",
        &["paused"],
    ),
    (
        "paused/gerund_subject_reaction",
        "Kyiv reacts to {a} halting {O}",
        "",
        &["paused"],
    ),
    (
        "paused/definite_pause_condition",
        "",
        "Aides said {p} halt in {O} could be brief if Kyiv signs the deal.",
        &["paused"],
    ),
    (
        "paused/progressive",
        "Kyiv asks why {a} is halting {O}",
        "",
        &["paused"],
    ),
];

const US_RESUMED: &[Template] = &[
    ("resumed/present", "{A} resumes {O}", "", &["resumed"]),
    // The recipient's word on a flow to it is no prediction.
    (
        "resumed/recipient_says",
        "Ukraine says {a} will resume {O}",
        "",
        &["resumed"],
    ),
    (
        "resumed/receiver_subject",
        "Ukraine regains access to {p} {O}",
        "",
        &["resumed"],
    ),
    (
        "resumed/past",
        "",
        "{A} restored {O} on Tuesday.",
        &["resumed"],
    ),
    (
        "resumed/lifts",
        "{A} lifts its pause on {O}",
        "",
        &["resumed"],
    ),
    ("resumed/headline_to", "{A} to resume {O}", "", &["resumed"]),
    (
        "resumed/more_after_pause",
        "{A} to provide more {O}",
        "It comes days after officials said they had been paused.",
        &["resumed"],
    ),
    (
        "resumed/pause_ended",
        "",
        "{P} pause in {O} has ended, officials said.",
        &["resumed"],
    ),
    (
        "resumed/freeze_over",
        "{P} freeze on {O} is over",
        "",
        &["resumed"],
    ),
    (
        "resumed/noun",
        "{P} resumption of {O} welcomed in Kyiv",
        "",
        &["resumed"],
    ),
    (
        "resumed/passive",
        "",
        "{Oc} has been restored, {a} said.",
        &["resumed"],
    ),
    ("resumed/perfect", "{A} has resumed {O}", "", &["resumed"]),
    (
        "resumed/intransitive_perfect",
        "",
        "{Oc} has now resumed, {a} said.",
        &["resumed"],
    ),
];

/// Directional templates: each must give nothing. `{A}` is the signal's own actor.
const RU_DIRECTIONAL: &[Template] = &[
    (
        "dir/anaphor_studying",
        "Washington puts forward {O}",
        "{A} is studying the proposal.",
        &[],
    ),
    (
        "dir/anaphor_other_content",
        "Washington puts forward {O}",
        "{A} rejected the proposal for a summit in Riyadh.",
        &[],
    ),
    (
        "dir/anaphor_before",
        "{A} rejected the proposal on Tuesday",
        "Ukraine accepted a plan for prisoner exchanges.",
        &[],
    ),
    ("dir/negation", "{A} has not rejected {O}", "", &[]),
    // A verb of naming with a complement names the object: "call a truce" declares one,
    // "call the truce a bold gamble" does not (and says nothing the rules know).
    ("dir/named_unknown", "{A} calls {O} a bold gamble", "", &[]),
    (
        "dir/reserves_right",
        "{A} reserves the right to resume strikes on energy sites",
        "",
        &[],
    ),
    (
        "dir/titled_unknown_proposer",
        "",
        "{A} said Slovak Prime Minister Robert Fico proposed {O}.",
        &[],
    ),
    (
        "dir/request_not_to_strike",
        "Trump asks {a} not to strike Kyiv for a week",
        "",
        &[],
    ),
    ("dir/question", "Will {a} accept {O}?", "", &[]),
    ("dir/question_no_mark", "Will {a} agree to {O}", "", &[]),
    ("dir/speculation", "{A} could reject {O}", "", &[]),
    ("dir/considering", "{A} is considering {O}", "", &[]),
    ("dir/studying", "{A} is studying {O}", "", &[]),
    ("dir/yet_to", "{A} has yet to respond to {O}", "", &[]),
    ("dir/demand", "EU leaders urge {a} to accept {O}", "", &[]),
    (
        "dir/tell",
        "European leaders tell {a} to agree to {O} or face sanctions",
        "",
        &[],
    ),
    (
        "dir/up_to",
        "",
        "Zelensky said it was up to Washington to persuade {a} to agree to {O}.",
        &[],
    ),
    ("dir/denial", "{A} denies agreeing to {O}", "", &[]),
    (
        "dir/claims",
        "{A} rejects claims that it agreed to {O}",
        "",
        &[],
    ),
    ("dir/other_war", "{A} rejects a Gaza ceasefire", "", &[]),
    // An attitude to the clause: speculation, not a deed.
    (
        "dir/attitude",
        "Analysts doubt {a} will accept {O}",
        "",
        &[],
    ),
    // Another side's word on a future deed is a prediction.
    ("dir/prediction", "Trump: {A} will agree to {O}", "", &[]),
    (
        "dir/prediction_said",
        "",
        "Zelensky said {a} would never observe {O}.",
        &[],
    ),
    (
        "dir/attitude_that",
        "",
        "Trump said he hoped that {a} would agree to {O}.",
        &[],
    ),
    // The head of a compound: talks and violations of a ceasefire are not the ceasefire.
    (
        "dir/topic_talks",
        "{A} agrees to ceasefire talks in Istanbul",
        "",
        &[],
    ),
    (
        "dir/topic_violations",
        "{A} denounces truce violations",
        "",
        &[],
    ),
    (
        "dir/modifier",
        "Trump and Putin to discuss proposed Ukraine truce this week",
        "",
        &[],
    ),
    (
        "dir/backed",
        "{A} says US-backed plan for {O} needs work",
        "",
        &[],
    ),
];

const US_DIRECTIONAL: &[Template] = &[
    ("dir/negation", "{A} is not pausing {O}", "", &[]),
    (
        "dir/recipient_adjunct_other_sender",
        "Germany announces a pause in Ukraine arms deliveries, {a} says",
        "",
        &[],
    ),
    ("dir/question", "Will {a} resume {O}?", "", &[]),
    ("dir/speculation", "{A} may halt {O}", "", &[]),
    ("dir/threat", "{A} threatens to cut {O}", "", &[]),
    ("dir/considering", "{A} considers pausing {O}", "", &[]),
    ("dir/demand", "Zelensky urges {a} to resume {O}", "", &[]),
    (
        "dir/relative_clause",
        "",
        "Zelensky, who met {a} after the halt in {O}, said talks went well.",
        &[],
    ),
    ("dir/fears_gerund", "Kyiv fears {a} halting {O}", "", &[]),
    ("dir/fears_clause", "Kyiv fears {a} will halt {O}", "", &[]),
    (
        "dir/receiver_other_owner",
        "Ukraine loses access to European satellite data, {a} says",
        "",
        &[],
    ),
    (
        "dir/hoped_end",
        "",
        "Kyiv hopes {p} pause in {O} will end soon.",
        &[],
    ),
    (
        "dir/hoped_resume",
        "",
        "Kyiv hopes {O} will resume soon.",
        &[],
    ),
    (
        "dir/other_war",
        "{A} pauses weapons shipments to Israel",
        "",
        &[],
    ),
    (
        "dir/history",
        "",
        "{A} paused {O} in 2019, delaying deliveries for months.",
        &[],
    ),
    // A durative verb in the simple past: a period that is over.
    ("dir/past_period", "{A} confirms it withheld {O}", "", &[]),
    (
        "dir/background",
        "Kyiv rebuilds stocks after {p} pause in {O}",
        "",
        &[],
    ),
];

/// The suite's cases, the direction and invariance ones included.
fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let add = |out: &mut Vec<Case>,
               template: &'static str,
               title: String,
               summary: String,
               want: Vec<&'static str>| {
        out.push(Case {
            template,
            title,
            summary,
            want,
        });
    };
    // Minimum functionality.
    for (templates, actors, objects) in [
        (RU_REJECTS, RUSSIA, CEASEFIRES),
        (RU_ACCEPTS, RUSSIA, CEASEFIRES),
        (RU_CONDITIONAL, RUSSIA, CEASEFIRES),
    ] {
        for &(name, t, s, want) in templates {
            for actor in actors {
                for object in objects {
                    add(
                        &mut out,
                        name,
                        fill(t, actor, object),
                        fill(s, actor, object),
                        want.to_vec(),
                    );
                }
            }
        }
    }
    for &(name, t, s, want) in RU_ACCEPTS_HALT {
        for actor in RUSSIA {
            add(
                &mut out,
                name,
                fill(t, actor, ""),
                fill(s, actor, ""),
                want.to_vec(),
            );
        }
    }
    for (signal_paused, signal_resumed, objects) in [
        ("us_aid_paused", "us_aid_resumed", AID),
        ("us_intel_paused", "us_intel_resumed", INTEL),
    ] {
        for (templates, signal) in [(US_PAUSED, signal_paused), (US_RESUMED, signal_resumed)] {
            for &(name, t, s, _) in templates {
                for actor in US {
                    for object in objects {
                        add(
                            &mut out,
                            name,
                            fill(t, actor, object),
                            fill(s, actor, object),
                            vec![signal],
                        );
                    }
                }
            }
        }
    }
    // Direction: the signal's own actor in a construction that asserts nothing.
    for &(name, t, s, _) in RU_DIRECTIONAL {
        for actor in RUSSIA {
            for object in CEASEFIRES.iter().take(6) {
                add(
                    &mut out,
                    name,
                    fill(t, actor, object),
                    fill(s, actor, object),
                    vec![],
                );
            }
        }
    }
    for &(name, t, s, _) in US_DIRECTIONAL {
        for actor in US {
            for object in AID.iter().chain(INTEL) {
                add(
                    &mut out,
                    name,
                    fill(t, actor, object),
                    fill(s, actor, object),
                    vec![],
                );
            }
        }
    }
    // Direction: another actor in the signal's own constructions.
    for actor in OTHERS {
        for &(name, t, s, _) in RU_REJECTS.iter().chain(RU_ACCEPTS) {
            let name: &'static str = match name {
                n if n.starts_with("rejects") => "dir/other_actor_rejects",
                _ => "dir/other_actor_accepts",
            };
            for object in CEASEFIRES.iter().take(4) {
                add(
                    &mut out,
                    name,
                    fill(t, actor, object),
                    fill(s, actor, object),
                    vec![],
                );
            }
        }
        for &(_, t, s, _) in US_PAUSED.iter().chain(US_RESUMED) {
            for object in AID.iter().take(3).chain(INTEL.iter().take(2)) {
                add(
                    &mut out,
                    "dir/other_actor_aid",
                    fill(t, actor, object),
                    fill(s, actor, object),
                    vec![],
                );
            }
        }
    }
    // Invariance: the same cases dressed differently keep their signals.
    let base: Vec<(String, String, Vec<&'static str>)> = out
        .iter()
        .filter(|c| !c.template.starts_with("dir/"))
        .step_by(7)
        .map(|c| (c.title.clone(), c.summary.clone(), c.want.clone()))
        .collect();
    for (title, summary, want) in base {
        let outlet = if title.is_empty() {
            title.clone()
        } else {
            format!("{title} - Reuters")
        };
        add(
            &mut out,
            "inv/outlet",
            outlet,
            summary.clone(),
            want.clone(),
        );
        add(
            &mut out,
            "inv/unrelated_sentence",
            title.clone(),
            format!("{summary} Markets in Europe were calm on Monday.")
                .trim()
                .to_owned(),
            want.clone(),
        );
        if !title.is_empty() {
            add(
                &mut out,
                "inv/lede",
                String::new(),
                format!("{title}. {summary}").trim().to_owned(),
                want.clone(),
            );
            add(
                &mut out,
                "inv/upper_case",
                title.to_uppercase(),
                summary.clone(),
                want.clone(),
            );
            add(
                &mut out,
                "inv/period",
                format!("{title}."),
                summary.clone(),
                want.clone(),
            );
            add(
                &mut out,
                "inv/update",
                format!("UPDATE 2-{title}"),
                summary.clone(),
                want.clone(),
            );
        }
    }
    out
}

/// Signal names as cases write them: "paused" and "resumed" are filled in per object.
fn names(signals: &[crate::domain::Signal]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = signals.iter().map(|s| s.kind.as_str()).collect();
    v.sort_unstable();
    v
}

#[test]
fn behaviour_holds_on_thousands_of_generated_sentences() {
    let c = Classifier::builtin();
    let cases = cases();
    let mut failures: Vec<String> = Vec::new();
    let mut by_template: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for case in &cases {
        let got = c.classify(&case.title, &case.summary);
        let got = names(&got.signals);
        let mut want = case.want.clone();
        want.sort_unstable();
        let entry = by_template.entry(case.template).or_default();
        entry.0 += 1;
        if got != want {
            entry.1 += 1;
            let ex = c.explain(&case.title, &case.summary);
            failures.push(format!(
                "[{}] title {:?} summary {:?}\n    want {want:?} got {got:?}\n    readings: {:?}\n    blocked: {:?}",
                case.template,
                case.title,
                case.summary,
                ex.readings,
                ex.blocked.iter().map(|b| format!("{} {}:{}", b.rule, b.guard, b.concept)).collect::<Vec<_>>(),
            ));
        }
    }
    let failed: usize = failures.len();
    let summary: Vec<String> = by_template
        .iter()
        .filter(|(_, (_, f))| *f > 0)
        .map(|(t, (n, f))| format!("{t}: {f} of {n} failed"))
        .collect();
    if failed > 0 {
        for f in &failures {
            eprintln!("{f}");
        }
        panic!(
            "{failed} of {} behavioural cases failed:\n  {}",
            cases.len(),
            summary.join("\n  ")
        );
    }
    eprintln!("behavioural suite: {} cases, all pass", cases.len());
}

#[test]
fn the_suite_is_large_and_covers_every_signal() {
    let cases = cases();
    assert!(cases.len() >= 5_000, "{}", cases.len());
    assert!(RUSSIA.len() >= 15 && US.len() >= 15);
    for signal in crate::domain::SignalKind::ALL {
        assert!(
            cases.iter().any(|c| c.want.contains(&signal.as_str())),
            "{signal}"
        );
    }
}
