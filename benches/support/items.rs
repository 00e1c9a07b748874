//! News-like items written for the benchmarks (shared by benches/classify.rs and the
//! profiling example).

const TOPICAL: &[&str] = &[
    "Russian missiles struck a power station in Kharkiv overnight",
    "The EU approved a new package of military aid for Kyiv",
    "Talks on a possible ceasefire continued in Istanbul without a breakthrough",
    "Germany delivered more air defence systems to Ukraine",
    "Officials discussed intelligence cooperation at a NATO meeting in Brussels",
    "Arms makers in Europe expanded production of artillery shells",
    "A humanitarian convoy with food supplies reached the front-line town",
    "Lawmakers debated the cost of weapons deliveries to Ukraine",
];
const SUBJECTS: &[&str] = &[
    "Officials in Kyiv",
    "The Kremlin",
    "European leaders",
    "The Pentagon",
    "Local authorities",
    "Analysts",
    "Farmers in the south",
    "The central bank",
    "Rescue teams",
    "Diplomats",
    "Energy companies",
    "Lawmakers in Washington",
    "Residents of Kharkiv",
    "The United Nations",
];
const VERBS: &[&str] = &[
    "said on Monday that",
    "warned that",
    "reported that",
    "told reporters that",
    "announced plans under which",
    "confirmed that",
    "denied reports that",
    "estimated that",
];
const CLAUSES: &[&str] = &[
    "repairs to the power grid would take several weeks",
    "drone attacks overnight damaged a warehouse near the border",
    "grain exports through the Black Sea ports rose for a third month",
    "talks on a prisoner exchange were expected to resume next week",
    "the budget for reconstruction would be debated in parliament",
    "air raid alerts sounded across the east for most of the night",
    "the price of fuel had fallen since the start of the year",
    "a new bridge across the river would open before winter",
    "several villages remained without water after the shelling",
    "the delegation would travel to Geneva for consultations",
];

/// Deterministic news-like items, written for this benchmark: 3 % carry a signal,
/// `topic_pct` % mention a topic word (a truce, weapons, aid, intelligence) without being a
/// signal, so they go through full matching, and the rest is other news of the war.
pub fn items(n: usize, topic_pct: u64) -> Vec<(String, String)> {
    const SIGNALS: &[(&str, &str)] = &[
        (
            "Kremlin rejects European plan for a 30-day truce",
            "Peskov said Moscow would not accept a pause that only lets Kyiv regroup.",
        ),
        (
            "Pentagon pauses weapons shipments to Ukraine",
            "The Defense Department said it was reviewing stockpiles of interceptors.",
        ),
        (
            "Putin backs idea of a ceasefire but says questions remain",
            "The Russian president said monitoring terms would have to be agreed first.",
        ),
        (
            "US resumes intelligence sharing with Kyiv",
            "Officials in both capitals confirmed the decision after talks in Jeddah.",
        ),
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..n)
        .map(|_| {
            let roll = next() % 100;
            if roll < 3 {
                let (t, s) = SIGNALS[(next() % SIGNALS.len() as u64) as usize];
                let filler = CLAUSES[(next() % CLAUSES.len() as u64) as usize];
                (
                    t.to_owned(),
                    format!(
                        "{s} Officials also said {filler}. Analysts said {} .",
                        CLAUSES[(next() % 10) as usize]
                    ),
                )
            } else if roll < 3 + topic_pct {
                let title = pick(TOPICAL, next()).to_owned();
                let mut summary = format!("{}. ", pick(TOPICAL, next()));
                fill_summary(&mut summary, &mut next);
                (title, summary)
            } else {
                let title = sentence(&mut next);
                let mut summary = String::new();
                fill_summary(&mut summary, &mut next);
                (title, summary)
            }
        })
        .collect()
}

fn pick(xs: &[&'static str], r: u64) -> &'static str {
    xs[(r % xs.len() as u64) as usize]
}

/// "Subject verb clause", without the full stop.
fn sentence(next: &mut impl FnMut() -> u64) -> String {
    format!(
        "{} {} {}",
        pick(SUBJECTS, next()),
        pick(VERBS, next()),
        pick(CLAUSES, next())
    )
}

/// Sentences appended until the summary is about 300 characters.
fn fill_summary(summary: &mut String, next: &mut impl FnMut() -> u64) {
    while summary.len() < 280 {
        summary.push_str(&sentence(next));
        summary.push_str(". ");
    }
}
