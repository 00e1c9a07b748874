//! Classifier throughput: items per second on one core, for a title and a ~300-character
//! summary of typical wire copy, a few percent of them carrying a signal.
//!
//!   cargo bench --bench classify
//!
//! Prints criterion's figures and one summary line:
//!   classify: N items/s on one core (M items, K with signals)

use std::hint::black_box;
use std::time::Instant;

use ceasefire_watch::classify::Classifier;
use criterion::{Criterion, Throughput, criterion_group};

/// Deterministic news-like items, written for this benchmark: 3 % carry a signal,
/// `topic_pct` % mention a topic word (a truce, weapons, aid, intelligence) without being a
/// signal, so they go through full matching, and the rest is other news of the war.
pub fn items(n: usize, topic_pct: u64) -> Vec<(String, String)> {
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
                let pick = |xs: &[&'static str], r: u64| xs[(r % xs.len() as u64) as usize];
                let title = pick(TOPICAL, next()).to_owned();
                let mut summary = format!("{}. ", pick(TOPICAL, next()));
                while summary.len() < 280 {
                    summary.push_str(&format!(
                        "{} {} {}. ",
                        pick(SUBJECTS, next()),
                        pick(VERBS, next()),
                        pick(CLAUSES, next())
                    ));
                }
                (title, summary)
            } else {
                let pick = |xs: &[&'static str], r: u64| xs[(r % xs.len() as u64) as usize];
                let title = format!(
                    "{} {} {}",
                    pick(SUBJECTS, next()),
                    pick(VERBS, next()),
                    pick(CLAUSES, next())
                );
                let mut summary = String::new();
                while summary.len() < 280 {
                    summary.push_str(&format!(
                        "{} {} {}. ",
                        pick(SUBJECTS, next()),
                        pick(VERBS, next()),
                        pick(CLAUSES, next())
                    ));
                }
                (title, summary)
            }
        })
        .collect()
}

/// Share of items, in percent, that mention a topic word without carrying a signal.
const TOPIC_PCT: u64 = 30;

fn bench(c: &mut Criterion) {
    let classifier = Classifier::builtin();
    let data = items(10_000, TOPIC_PCT);
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("title+summary", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (t, s) in &data {
                n += classifier
                    .classify(black_box(t), black_box(s))
                    .signals
                    .len();
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Plain lines with the figures, each the best of five passes over a fixed amount of work
    // (the least disturbed by other load on the machine): the typical mix, and the worst
    // case where every item mentions a topic word.
    let classifier = Classifier::builtin();
    let mut line = String::from("classify:");
    for (label, pct) in [("typical", TOPIC_PCT), ("all-topical", 97)] {
        let data = items(200_000, pct);
        let with_signals = data
            .iter()
            .filter(|(t, s)| !classifier.classify(t, s).signals.is_empty())
            .count();
        let mut secs = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            let mut n = 0usize;
            for (t, s) in &data {
                n += classifier
                    .classify(black_box(t), black_box(s))
                    .signals
                    .len();
            }
            secs = secs.min(start.elapsed().as_secs_f64());
            black_box(n);
        }
        let avg_len = data.iter().map(|(t, s)| t.len() + s.len()).sum::<usize>() / data.len();
        println!(
            "classify {label}: {:.0} items/s on one core, best of 5 ({} items of {} bytes on average, {} with signals, {}% topical)",
            data.len() as f64 / secs,
            data.len(),
            avg_len,
            with_signals,
            pct
        );
        line.push_str(&format!(" {label}={:.0}/s", data.len() as f64 / secs));
    }
    println!("{line}");
}
