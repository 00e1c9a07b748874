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

#[path = "support/items.rs"]
mod items;
use items::items;

/// Titles and summaries.
type Items = Vec<(String, String)>;

/// Share of items, in percent, that mention a topic word without carrying a signal.
const TOPIC_PCT: u64 = 30;

/// Classifies every item once; the number of signals, so the work is not optimised away.
fn classify_all(classifier: &Classifier, data: &[(String, String)]) -> usize {
    data.iter()
        .map(|(t, s)| {
            classifier
                .classify(black_box(t), black_box(s))
                .signals
                .len()
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let classifier = Classifier::builtin();
    let data = items(10_000, TOPIC_PCT);
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("title+summary", |b| {
        b.iter(|| classify_all(&classifier, &data))
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --all-targets` runs this target once as a smoke test (without `--bench`):
    // the figures below are for `cargo bench` only.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Plain lines with the figures, each the best of five passes over a fixed amount of work
    // (the least disturbed by other load on the machine): the typical mix, and the worst
    // case where every item mentions a topic word.
    let classifier = Classifier::builtin();
    let mut line = String::from("classify:");
    // Each mix: its label, what its items are, the items.
    let mut mixes: Vec<(&str, String, Items)> = [("typical", TOPIC_PCT), ("all-topical", 97)]
        .into_iter()
        .map(|(label, pct)| (label, format!("{pct}% topical"), items(200_000, pct)))
        .collect();
    // Real feed items, read at run time and never kept in the tree: CLASSIFY_BENCH_JSONL
    // names a JSON Lines file of {"title","summary"} (a replay's items.jsonl), repeated to
    // 200,000 items.
    if let Ok(path) = std::env::var("CLASSIFY_BENCH_JSONL") {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let real: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                (field("title"), field("summary"))
            })
            .collect();
        assert!(!real.is_empty(), "{path}: no items");
        let data = real.iter().cycle().take(200_000).cloned().collect();
        mixes.push(("real", "real feed items".to_owned(), data));
    }
    for (label, what, data) in mixes {
        let with_signals = data
            .iter()
            .filter(|(t, s)| !classifier.classify(t, s).signals.is_empty())
            .count();
        let mut secs = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            black_box(classify_all(&classifier, &data));
            secs = secs.min(start.elapsed().as_secs_f64());
        }
        let avg_len = data.iter().map(|(t, s)| t.len() + s.len()).sum::<usize>() / data.len();
        println!(
            "classify {label}: {:.0} items/s on one core, best of 5 ({} items of {} bytes on average, {} with signals, {what})",
            data.len() as f64 / secs,
            data.len(),
            avg_len,
            with_signals,
        );
        line.push_str(&format!(" {label}={:.0}/s", data.len() as f64 / secs));
    }
    println!("{line}");
}
