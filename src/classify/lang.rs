//! Morphology: the forms of a lexicon's lemmas, so a pack lists "reject" once and the engine
//! knows "rejects" (present), "rejected" (past or participle), "rejecting" (gerund) and what
//! each form can do in a sentence.
//!
//! One language today, English. A second one (Russian, Ukrainian) adds a variant here: its
//! forms and their roles; the lexicon, the constructions and the frames stay as they are.
//! (Russian verbs would give their forms by endings rather than by rule of thumb: the pack
//! can already list forms explicitly with `a|b|c`, and prefixes with `*`.)

/// What a word form can be in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// "reject", "agree to": after "to", a modal, "do", or with a plural subject.
    Base,
    /// "rejects": present tense, the headline's tense.
    Present,
    /// "rejected" where past and participle are one form.
    PastOrParticiple,
    /// "froze": past tense only.
    Past,
    /// "frozen": participle only (passive, perfect, or an adjective).
    Participle,
    /// "rejecting": gerund or progressive.
    Gerund,
    /// "rejection", "pause": a noun.
    Noun,
    /// "premature", "a trap": a judgement of the object.
    Judgement,
}

impl Form {
    /// Can be a participle: passive after "be", an adjective before a noun.
    pub fn participle(self) -> bool {
        matches!(self, Form::PastOrParticiple | Form::Participle)
    }

    /// A finite verb form a headline states a fact with.
    pub fn finite(self) -> bool {
        matches!(
            self,
            Form::Present | Form::Past | Form::PastOrParticiple | Form::Base
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
}

impl Language {
    pub fn parse(code: &str) -> Option<Language> {
        match code {
            "en" => Some(Language::English),
            _ => None,
        }
    }

    /// Every form of a verb lemma (possibly several words, inflected on the first), as
    /// phrases with their form.
    pub fn verb_forms(self, lemma: &str) -> Vec<(String, Form)> {
        match self {
            Language::English => english_verb(lemma),
        }
    }

    /// Whether a noun looks plural, for agreement with a verb's base form ("deliveries
    /// resume").
    pub fn plural_looking(self, word: &str) -> bool {
        match self {
            Language::English => {
                (word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us"))
                    || matches!(word, "arms" | "munitions" | "weapons" | "supplies")
            }
        }
    }

    /// Whether a word is a people's adjective ("Russian", "American", "European",
    /// "Chinese", "British"): before a verb-looking word it makes that word a noun
    /// ("Russian demands", "American calls").
    pub fn demonym_adjective(self, word: &str) -> bool {
        match self {
            Language::English => {
                word.len() > 4
                    && ["ian", "ean", "can", "ese", "ish"]
                        .iter()
                        .any(|e| word.ends_with(e))
            }
        }
    }

    /// Whether a word is an adverb that may stand inside a verb group without changing
    /// its construction: "has completely rejected", "was temporarily halted".
    pub fn verb_group_adverb(self, word: &str) -> bool {
        match self {
            Language::English => {
                (word.len() > 4 && word.ends_with("ly") && !matches!(word, "italy" | "family"))
                    || matches!(
                        word,
                        "also"
                            | "now"
                            | "again"
                            | "already"
                            | "just"
                            | "still"
                            | "since"
                            | "once"
                            | "first"
                    )
            }
        }
    }

    /// Whether a word looks like a past participle, for a reduced relative clause that
    /// names an agent: "the truce, first ordered by Putin", "a pause, announced by the
    /// Pentagon".
    pub fn participle_looking(self, word: &str) -> bool {
        match self {
            Language::English => {
                (word.len() > 4 && (word.ends_with("ed") || word.ends_with("en")))
                    || matches!(
                        word,
                        "made" | "set" | "put" | "laid" | "brought" | "sought" | "won" | "struck"
                    )
            }
        }
    }

    /// Whether a word opens a relative or participle clause set off by commas: "which",
    /// "who", a past participle ("first ordered by"), a gerund ("citing low stocks").
    pub fn clause_head(self, word: &str) -> bool {
        match self {
            Language::English => {
                self.relative_pronoun(word)
                    || self.participle_looking(word)
                    || word.len() > 5 && word.ends_with("ing")
            }
        }
    }

    /// Whether a word names what a condition asks for ("conditions", "concessions"): a
    /// condition phrase ending on it needs no object of its own.
    pub fn condition_content(self, word: &str) -> bool {
        self.condition_content_words().contains(&word)
    }

    /// The words of [`Language::condition_content`].
    pub fn condition_content_words(self) -> &'static [&'static str] {
        match self {
            Language::English => &[
                "conditions",
                "preconditions",
                "concessions",
                "demands",
                "terms",
            ],
        }
    }

    /// Whether a word before a preposition presupposes the deed of the gerund clause it
    /// governs: "clarity on", "reacts to", "anger over" (Washington halting aid).
    pub fn factive_governor(self, word: &str) -> bool {
        match self {
            Language::English => matches!(
                word,
                "clarity"
                    | "clarification"
                    | "explanation"
                    | "answers"
                    | "react"
                    | "reacts"
                    | "reacted"
                    | "reacting"
                    | "reaction"
                    | "reactions"
                    | "respond"
                    | "responds"
                    | "responded"
                    | "response"
                    | "anger"
                    | "angry"
                    | "outrage"
                    | "outraged"
                    | "alarm"
                    | "alarmed"
                    | "dismay"
                    | "dismayed"
                    | "shock"
                    | "shocked"
                    | "fury"
                    | "furious"
                    | "criticism"
                    | "protest"
                    | "protests"
                    | "reeling"
                    | "reels"
            ),
        }
    }

    /// Whether a verb or noun right before a gerund clause leaves its deed open: "fears
    /// Washington halting aid", "hopes Moscow accepting".
    pub fn nonfactive_governor(self, word: &str) -> bool {
        match self {
            Language::English => matches!(
                word,
                "fear"
                    | "fears"
                    | "feared"
                    | "fearing"
                    | "hope"
                    | "hopes"
                    | "hoped"
                    | "hoping"
                    | "want"
                    | "wants"
                    | "wanted"
                    | "expect"
                    | "expects"
                    | "expected"
                    | "imagine"
                    | "imagines"
                    | "envisage"
                    | "envisages"
                    | "envision"
                    | "envisions"
                    | "risk"
                    | "risks"
                    | "prospect"
                    | "possibility"
                    | "chance"
            ),
        }
    }

    /// Whether a word is the simple past of a verb that holds a state over a time
    /// ("withheld", "held up", "kept back", "refrained from"). A durative verb in the simple
    /// past tells of a period that is over ("Trump confirms he withheld military aid"); a
    /// change now is told by the present ("withholds"), the perfect ("has held up") or the
    /// past of a verb of change ("paused", "froze"). Languages that mark aspect on the verb
    /// (Russian imperfective against perfective) answer from the form alone.
    pub fn durative_past(self, word: &str) -> bool {
        match self {
            Language::English => matches!(word, "withheld" | "held" | "kept" | "refrained"),
        }
    }

    /// Whether a word is a form of a verb of naming ("call", "label", "brand"): with a
    /// second noun phrase after its object ("calls the offer a trick") it names the object
    /// and does not declare it, as "call a truce" does.
    pub fn naming_verb(self, word: &str) -> bool {
        match self {
            Language::English => matches!(
                word,
                "call"
                    | "calls"
                    | "called"
                    | "calling"
                    | "label"
                    | "labels"
                    | "labelled"
                    | "labeled"
                    | "labelling"
                    | "labeling"
                    | "brand"
                    | "brands"
                    | "branded"
                    | "branding"
                    | "dub"
                    | "dubs"
                    | "dubbed"
                    | "dubbing"
                    | "term"
                    | "terms"
                    | "termed"
                    | "terming"
            ),
        }
    }

    /// Whether two words open a noun phrase that stands as a complement (an indefinite
    /// article, "a trick"), not a time adjunct ("a day after", "a week before").
    pub fn opens_complement(self, word: &str, next: &str) -> bool {
        match self {
            Language::English => {
                matches!(word, "a" | "an")
                    && !matches!(
                        next,
                        "day" | "week" | "month" | "year" | "few" | "fortnight" | "moment"
                    )
            }
        }
    }

    /// Whether a word opens a non-restrictive relative clause ("Washington, which ...").
    pub fn relative_pronoun(self, word: &str) -> bool {
        match self {
            Language::English => matches!(word, "which" | "who" | "whose" | "whom"),
        }
    }

    /// Whether a word may stand before a title as part of it ("Foreign Minister", "Defense
    /// Secretary", "Deputy Prime Minister").
    pub fn title_modifier(self, word: &str) -> bool {
        match self {
            Language::English => matches!(
                word,
                "foreign"
                    | "defense"
                    | "defence"
                    | "prime"
                    | "deputy"
                    | "vice"
                    | "first"
                    | "senior"
                    | "top"
                    | "special"
                    | "national"
                    | "security"
                    | "press"
                    | "state"
                    | "chief"
                    | "presidential"
                    | "kremlin"
            ),
        }
    }

    /// Whether a word is a person's title ("President", "Prime Minister", "envoy"): a
    /// titled name the lexicon does not know is still a subject of its own ("Hungarian
    /// Prime Minister Viktor Orban proposed a truce").
    pub fn person_title(self, word: &str) -> bool {
        match self {
            Language::English => matches!(
                word,
                "president"
                    | "minister"
                    | "premier"
                    | "chancellor"
                    | "envoy"
                    | "ambassador"
                    | "spokesman"
                    | "spokeswoman"
                    | "spokesperson"
                    | "leader"
                    | "chief"
                    | "secretary"
                    | "aide"
                    | "adviser"
                    | "advisor"
                    | "representative"
                    | "negotiator"
                    | "mediator"
            ),
        }
    }

    /// How common a word is in running text: its rank among the language's most frequent
    /// words (0 the most frequent), `u32::MAX` for any other word. The gates that skip text
    /// without a rule's words look for each phrase's least common word.
    pub fn frequency_rank(self, word: &str) -> u32 {
        match self {
            Language::English => ENGLISH_FREQUENT
                .iter()
                .position(|w| *w == word)
                .map_or(u32::MAX, |p| p as u32),
        }
    }

    /// A noun and its plural.
    pub fn noun_forms(self, lemma: &str) -> Vec<(String, Form)> {
        match self {
            Language::English => english_noun(lemma),
        }
    }
}

/// The most frequent words of English news text, most frequent first (function words,
/// reporting verbs, the commonest nouns and verbs of war reporting).
const ENGLISH_FREQUENT: &[&str] = &[
    "the",
    "to",
    "of",
    "a",
    "and",
    "in",
    "s",
    "that",
    "on",
    "for",
    "is",
    "said",
    "with",
    "he",
    "it",
    "was",
    "as",
    "at",
    "by",
    "from",
    "his",
    "be",
    "has",
    "have",
    "an",
    "are",
    "not",
    "will",
    "but",
    "this",
    "they",
    "who",
    "would",
    "we",
    "after",
    "had",
    "were",
    "been",
    "its",
    "their",
    "more",
    "says",
    "i",
    "or",
    "about",
    "which",
    "one",
    "new",
    "up",
    "also",
    "us",
    "there",
    "no",
    "out",
    "than",
    "over",
    "can",
    "what",
    "when",
    "into",
    "could",
    "all",
    "if",
    "year",
    "two",
    "some",
    "other",
    "she",
    "her",
    "last",
    "first",
    "told",
    "people",
    "may",
    "so",
    "year",
    "time",
    "against",
    "do",
    "did",
    "any",
    "before",
    "just",
    "now",
    "like",
    "war",
    "president",
    "government",
    "officials",
    "say",
    "should",
    "week",
    "while",
    "day",
    "under",
    "only",
    "our",
    "them",
    "him",
    "made",
    "make",
    "take",
    "back",
    "being",
    "then",
    "since",
    "during",
    "down",
    "get",
    "how",
    "where",
    "because",
    "still",
    "through",
    "those",
    "these",
    "between",
    "off",
    "very",
    "most",
    "says",
    "being",
    "country",
    "minister",
    "military",
    "forces",
    "attack",
    "attacks",
    "ukraine",
    "russia",
    "russian",
    "ukrainian",
    "kyiv",
    "moscow",
    "talks",
    "news",
    "report",
    "reports",
    "security",
    "support",
    "plan",
    "plans",
    "deal",
    "help",
    "call",
    "give",
    "go",
    "going",
    "way",
    "end",
    "part",
    "open",
    "keep",
    "put",
    "set",
    "work",
    "want",
    "need",
    "use",
    "used",
    "even",
    "without",
    "must",
    "might",
    "including",
    "both",
    "each",
    "three",
    "many",
    "much",
    "own",
    "well",
];

/// Irregular verbs of the lexicon's kind: (base, past, participle).
const IRREGULAR: &[(&str, &str, &str)] = &[
    ("break", "broke", "broken"),
    ("bring", "brought", "brought"),
    ("cut", "cut", "cut"),
    ("draw", "drew", "drawn"),
    ("feed", "fed", "fed"),
    ("freeze", "froze", "frozen"),
    ("give", "gave", "given"),
    ("hold", "held", "held"),
    ("keep", "kept", "kept"),
    ("lay", "laid", "laid"),
    ("lead", "led", "led"),
    ("put", "put", "put"),
    ("say", "said", "said"),
    ("send", "sent", "sent"),
    ("set", "set", "set"),
    ("shoot", "shot", "shot"),
    ("shut", "shut", "shut"),
    ("slam", "slammed", "slammed"),
    ("spurn", "spurned", "spurned"),
    ("strike", "struck", "struck"),
    ("take", "took", "taken"),
    ("throw", "threw", "thrown"),
    ("undo", "undid", "undone"),
    ("unfreeze", "unfroze", "unfrozen"),
    ("withdraw", "withdrew", "withdrawn"),
    ("withhold", "withheld", "withheld"),
    ("begin", "began", "begun"),
    ("rebuild", "rebuilt", "rebuilt"),
    ("seek", "sought", "sought"),
    ("speak", "spoke", "spoken"),
];

/// Verbs of more than one syllable whose final consonant doubles before -ed and -ing
/// (stressed last syllable, or British spelling).
const DOUBLES: &[&str] = &[
    "admit", "commit", "compel", "control", "expel", "patrol", "prefer", "rebut", "refer", "cancel",
];

fn consonant(c: u8) -> bool {
    c.is_ascii_alphabetic() && !b"aeiou".contains(&c)
}

/// Whether the final consonant doubles: one syllable ending consonant-vowel-consonant (not
/// w, x, y): stop, ban, snub, scrap; and the listed longer verbs.
fn doubles(base: &str) -> bool {
    if DOUBLES.contains(&base) {
        return true;
    }
    let b = base.as_bytes();
    let n = b.len();
    let vowel_groups = b
        .iter()
        .zip(std::iter::once(&b'x').chain(b.iter()))
        .filter(|(c, prev)| b"aeiou".contains(c) && !b"aeiou".contains(prev))
        .count();
    n >= 3
        && vowel_groups == 1
        && consonant(b[n - 1])
        && !b"wxy".contains(&b[n - 1])
        && b"aeiou".contains(&b[n - 2])
        && consonant(b[n - 3])
}

fn english_verb(lemma: &str) -> Vec<(String, Form)> {
    let lemma = lemma.trim();
    let (head, rest) = match lemma.split_once(' ') {
        Some((h, r)) => (h, format!(" {r}")),
        None => (lemma, String::new()),
    };
    // Explicit forms: base|past|participle.
    let (base, past, participle) = match head.split('|').collect::<Vec<_>>().as_slice() {
        [b, p, pp] => (b.to_string(), p.to_string(), pp.to_string()),
        [b, p] => (b.to_string(), p.to_string(), p.to_string()),
        _ => match IRREGULAR.iter().find(|(b, _, _)| *b == head) {
            Some((b, p, pp)) => (b.to_string(), p.to_string(), pp.to_string()),
            None => {
                let ed = regular_ed(head);
                (head.to_owned(), ed.clone(), ed)
            }
        },
    };
    let mut out = vec![
        (format!("{base}{rest}"), Form::Base),
        (format!("{}{rest}", third_person(&base)), Form::Present),
        (format!("{}{rest}", gerund(&base)), Form::Gerund),
    ];
    if past == participle {
        out.push((format!("{past}{rest}"), Form::PastOrParticiple));
        // "cancelled" and "canceled".
        if base.ends_with('l') && past.ends_with("lled") {
            out.push((format!("{base}ed{rest}"), Form::PastOrParticiple));
        }
    } else {
        out.push((format!("{past}{rest}"), Form::Past));
        out.push((format!("{participle}{rest}"), Form::Participle));
    }
    out.dedup();
    out
}

fn regular_ed(base: &str) -> String {
    if base.ends_with('e') {
        format!("{base}d")
    } else if base.ends_with('y') && base.len() > 1 && consonant(base.as_bytes()[base.len() - 2]) {
        format!("{}ied", &base[..base.len() - 1])
    } else if doubles(base) {
        format!("{base}{}ed", &base[base.len() - 1..])
    } else {
        format!("{base}ed")
    }
}

fn third_person(base: &str) -> String {
    if base.ends_with('s')
        || base.ends_with('x')
        || base.ends_with('z')
        || base.ends_with("ch")
        || base.ends_with("sh")
        || (base.ends_with('o') && base.len() > 1 && consonant(base.as_bytes()[base.len() - 2]))
    {
        format!("{base}es")
    } else if base.ends_with('y') && base.len() > 1 && consonant(base.as_bytes()[base.len() - 2]) {
        format!("{}ies", &base[..base.len() - 1])
    } else {
        format!("{base}s")
    }
}

fn gerund(base: &str) -> String {
    if base.ends_with("ee") || base.ends_with("ye") || base.ends_with("oe") {
        format!("{base}ing")
    } else if let Some(stem) = base.strip_suffix("ie") {
        format!("{stem}ying")
    } else if base.ends_with('e') && base.len() > 2 {
        format!("{}ing", &base[..base.len() - 1])
    } else if doubles(base) {
        format!("{base}{}ing", &base[base.len() - 1..])
    } else {
        format!("{base}ing")
    }
}

fn english_noun(lemma: &str) -> Vec<(String, Form)> {
    let lemma = lemma.trim();
    // The head is the first word ("rejection of"), the rest follows it.
    let (head, rest) = match lemma.split_once(' ') {
        Some((h, r)) => (h, format!(" {r}")),
        None => (lemma, String::new()),
    };
    let plural = if head.ends_with('s')
        || head.ends_with("ch")
        || head.ends_with("sh")
        || head.ends_with('x')
    {
        format!("{head}es")
    } else if head.ends_with('y') && head.len() > 1 && consonant(head.as_bytes()[head.len() - 2]) {
        format!("{}ies", &head[..head.len() - 1])
    } else {
        format!("{head}s")
    };
    vec![
        (format!("{head}{rest}"), Form::Noun),
        (format!("{plural}{rest}"), Form::Noun),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(lemma: &str) -> Vec<String> {
        Language::English
            .verb_forms(lemma)
            .into_iter()
            .map(|(w, f)| format!("{w}:{f:?}"))
            .collect()
    }

    #[test]
    fn english_verbs_inflect() {
        assert_eq!(
            forms("reject"),
            [
                "reject:Base",
                "rejects:Present",
                "rejecting:Gerund",
                "rejected:PastOrParticiple"
            ]
        );
        assert_eq!(
            forms("agree to"),
            [
                "agree to:Base",
                "agrees to:Present",
                "agreeing to:Gerund",
                "agreed to:PastOrParticiple"
            ]
        );
        assert_eq!(
            forms("freeze"),
            [
                "freeze:Base",
                "freezes:Present",
                "freezing:Gerund",
                "froze:Past",
                "frozen:Participle"
            ]
        );
        assert_eq!(
            forms("stop"),
            [
                "stop:Base",
                "stops:Present",
                "stopping:Gerund",
                "stopped:PastOrParticiple"
            ]
        );
        assert_eq!(forms("halt")[3], "halted:PastOrParticiple");
        assert_eq!(forms("cut off")[3], "cut off:PastOrParticiple");
        assert_eq!(forms("veto")[1], "vetoes:Present");
        assert_eq!(forms("veto")[3], "vetoed:PastOrParticiple");
        assert_eq!(forms("deny")[1], "denies:Present");
        assert_eq!(forms("deny")[3], "denied:PastOrParticiple");
        assert_eq!(forms("resume")[2], "resuming:Gerund");
        assert_eq!(
            forms("cancel")[3..],
            ["cancelled:PastOrParticiple", "canceled:PastOrParticiple"]
        );
        assert_eq!(
            forms("rebuff|rebuffed|rebuffed")[3],
            "rebuffed:PastOrParticiple"
        );
    }

    #[test]
    fn english_nouns_pluralise() {
        let n: Vec<String> = Language::English
            .noun_forms("rejection of")
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(n, ["rejection of", "rejections of"]);
        assert_eq!(Language::English.noun_forms("cutoff")[1].0, "cutoffs");
        assert_eq!(Language::English.noun_forms("delivery")[1].0, "deliveries");
    }
}
