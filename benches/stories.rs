//! A day of news replayed through `run --once --now`: how many items came in, how many
//! stories formed, how many alerts went out, and what placing a signal item costs.
//!
//!   cargo bench --bench stories
//!
//! The day: 100 feeds of 50 items each (5,000 items; the generated wire copy of
//! benches/support/items.rs, 3 % of it syndicated signal stories), plus four events written
//! for this bench, each reported by several feeds in its own words, spread over 24 hours.
//! Prints one summary line:
//!   stories: items=… new=… repeats=… stories=… joined=… alerts=… cycle=…s placement=…µs/signal-item

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use ceasefire_watch::app::{RunOptions, run};
use ceasefire_watch::classify::Classifier;
use ceasefire_watch::config::Settings;
use ceasefire_watch::config::StorySettings;
use ceasefire_watch::dedupe::JoinBy;
use ceasefire_watch::dedupe::Terms;
use ceasefire_watch::dedupe::placement::{Decision, Event, Policy, Report, decide};
use ceasefire_watch::domain::{ObjectKey, SignalKind};
use ceasefire_watch::shutdown::Shutdown;
use chrono::{Duration, TimeZone, Utc};

#[path = "support/items.rs"]
mod items;

const FEEDS: usize = 100;
const PER_FEED: usize = 50;

/// Four events, each in the words of several outlets.
const EVENTS: &[&[(&str, &str)]] = &[
    &[
        (
            "Moscow says no to Vatican's Orthodox Easter truce",
            "Dmitry Peskov said the Pope's offer of a weekend pause could not be verified on the ground.",
        ),
        (
            "Kremlin rejects Vatican Easter ceasefire offer",
            "Peskov told reporters the Pope's weekend truce proposal would only help Kyiv regroup.",
        ),
        (
            "Peskov: Russia turns down Pope's Easter truce",
            "The Kremlin said a weekend pause proposed by the Vatican was not verifiable.",
        ),
        (
            "Russia rejects Easter truce offered by the Vatican",
            "Kremlin spokesman Dmitry Peskov said the weekend ceasefire could not be monitored.",
        ),
        (
            "Vatican's Easter truce rejected by Moscow",
            "Peskov said the Pope's proposal for a weekend pause was unverifiable.",
        ),
    ],
    &[
        (
            "Pentagon halts Patriot interceptor shipments to Ukraine",
            "Hegseth ordered a review of stockpiles, officials said, pausing deliveries from Rzeszow.",
        ),
        (
            "US pauses delivery of Patriot interceptors to Kyiv",
            "Defense Secretary Pete Hegseth ordered a stockpile review; shipments through Rzeszow stopped.",
        ),
        (
            "Hegseth freezes Patriot missile deliveries to Ukraine",
            "The Pentagon said interceptor shipments via Rzeszow were on hold pending a stockpile review.",
        ),
    ],
    &[
        (
            "Putin backs Ankara truce plan but demands Kherson withdrawal",
            "The Russian president said he supported the Turkish proposal in principle, but Ukrainian troops must leave Kherson region first.",
        ),
        (
            "Putin: yes to Turkish ceasefire idea, but only if Kyiv leaves Kherson",
            "Russia supports Ankara's truce plan in principle, Putin said, on condition of a Ukrainian withdrawal from Kherson.",
        ),
        (
            "Russia open to Ankara ceasefire if Ukraine quits Kherson, Putin says",
            "Putin said Moscow agreed in principle to the Turkish plan but set a withdrawal from Kherson region as a condition.",
        ),
        (
            "Putin agrees in principle to Turkish truce, sets Kherson condition",
            "The Kremlin leader said Ukraine must first pull its forces out of Kherson region.",
        ),
    ],
    &[
        (
            "Ratcliffe: CIA restores intelligence sharing with Kyiv",
            "The CIA director said the pause on sharing targeting data with Ukraine had been lifted after the Jeddah meeting.",
        ),
        (
            "US resumes intelligence sharing with Ukraine after Jeddah talks",
            "CIA Director John Ratcliffe said the pause on targeting data had been lifted.",
        ),
        (
            "Washington lifts pause on intelligence for Kyiv, Ratcliffe says",
            "The CIA chief said targeting data would flow to Ukraine again after the Jeddah meeting.",
        ),
    ],
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn main() {
    // `cargo test --benches` runs this once with no `--bench`: a smoke run, no figures.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let day = Utc.with_ymd_and_hms(2025, 3, 11, 0, 0, 0).unwrap();
    let wire = items::items(FEEDS * PER_FEED, 20);
    let mut docs: Vec<Vec<(String, String, String, i64)>> = vec![Vec::new(); FEEDS];
    for (i, (title, summary)) in wire.into_iter().enumerate() {
        let feed = i % FEEDS;
        let minute = (i * 7919 % (24 * 60)) as i64;
        docs[feed].push((format!("w{i}"), title, summary, minute));
    }
    let mut reports = 0;
    for (e, wordings) in EVENTS.iter().enumerate() {
        for (k, (title, summary)) in wordings.iter().enumerate() {
            // Each wording on two feeds, an hour or so apart.
            for copy in 0..2 {
                let feed = (e * 31 + k * 17 + copy * 7) % FEEDS;
                let minute = (e as i64 * 300 + k as i64 * 40 + copy as i64 * 25) % (24 * 60);
                docs[feed].push((
                    format!("e{e}-{k}-{copy}"),
                    title.to_string(),
                    summary.to_string(),
                    minute,
                ));
                reports += 1;
            }
        }
    }
    let mut config = format!(
        "[daemon]\nstate_dir = \"{}\"\n[fetch]\nconcurrency = 8\n",
        dir.path().join("state").display()
    );
    for (f, items) in docs.iter().enumerate() {
        let mut xml = String::from("<rss version=\"2.0\"><channel><title>bench</title>");
        for (guid, title, summary, minute) in items {
            let _ = write!(
                xml,
                "<item><guid>{guid}</guid><title>{}</title><link>https://news{f}.example.org/{guid}</link><description>{}</description><pubDate>{}</pubDate></item>",
                esc(title),
                esc(summary),
                (day + Duration::minutes(*minute)).to_rfc2822()
            );
        }
        xml.push_str("</channel></rss>");
        let path = dir.path().join(format!("feed{f}.xml"));
        std::fs::write(&path, xml).unwrap();
        let _ = write!(
            config,
            "[[feeds]]\nname = \"feed{f}\"\nurl = \"{}\"\n",
            path.display()
        );
    }
    let settings =
        Settings::from_toml_str(&config, &dir.path().join("bench.toml"), BTreeMap::new())
            .expect("the bench config is valid");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let summary = rt
        .block_on(run(
            settings,
            RunOptions {
                once: true,
                now: Some(day + Duration::hours(24)),
                dry_run: false,
            },
            Shutdown::new(),
        ))
        .expect("the replay runs");
    let cycle = started.elapsed();
    // Which stories formed, for whoever tunes `stories.similarity`.
    let formed = rt.block_on(async {
        let store = ceasefire_watch::store::Store::open(&dir.path().join("state"))
            .await
            .unwrap();
        store.recent_stories(day - Duration::days(1)).await.unwrap()
    });
    for s in &formed {
        eprintln!(
            "  {} {:<18} sources={:<3} items={:<3} {}",
            s.id, s.signal, s.sources, s.items, s.title
        );
    }

    // Placement itself, without the store: every signal of every signal item placed among
    // the events formed so far (as the store would hold them), in arrival order, with the
    // classifier's objects and the default policy.
    let classifier = Classifier::builtin();
    let mut signal_items: Vec<(i64, String, String, Vec<ceasefire_watch::domain::Signal>)> = docs
        .iter()
        .flatten()
        .filter_map(|(_, t, s, m)| {
            let signals = classifier.classify(t, s).signals;
            (!signals.is_empty()).then(|| (*m, t.clone(), s.clone(), signals))
        })
        .collect();
    signal_items.sort_by_key(|i| i.0);
    let defaults = StorySettings::default();
    let ms = |d: std::time::Duration| d.as_millis() as i64;
    let policy = Policy {
        same: JoinBy::Signal,
        similarity: defaults.similarity,
        window: ms(defaults.window),
        open_for: ms(defaults.open_for),
        statement: ms(defaults.statement),
        settle: ms(defaults.settle),
    };
    struct Ev {
        id: String,
        signal: SignalKind,
        object: Option<ObjectKey>,
        started: i64,
        seen: i64,
        terms: Vec<Terms>,
    }
    let rounds = 20;
    let mut placements = 0usize;
    let t0 = Instant::now();
    let mut stories = 0;
    for _ in 0..rounds {
        let mut events: Vec<Ev> = Vec::new();
        for (minute, title, summary, signals) in &signal_items {
            let at = minute * 60_000;
            let terms = Terms::of(title, summary);
            for signal in signals {
                let object = signal.evidence.object.as_deref().and_then(ObjectKey::parse);
                let views: Vec<Event<'_>> = events
                    .iter()
                    .map(|e| Event {
                        id: &e.id,
                        signal: e.signal,
                        object: e.object.as_ref(),
                        started_at: e.started,
                        last_seen_at: e.seen,
                        terms: &e.terms,
                    })
                    .collect();
                let report = Report {
                    signal: signal.kind,
                    object: object.as_ref(),
                    terms: &terms,
                    at,
                };
                placements += 1;
                match decide(report, &views, &policy) {
                    Decision::Join { event, refined, .. } => {
                        let e = events.iter_mut().find(|e| e.id == event).unwrap();
                        e.seen = at;
                        e.terms.push(terms.clone());
                        if refined.is_some() {
                            e.object = refined;
                        }
                    }
                    Decision::Open => events.push(Ev {
                        id: format!("s{}", events.len()),
                        signal: signal.kind,
                        object,
                        started: at,
                        seen: at,
                        terms: vec![terms.clone()],
                    }),
                }
            }
        }
        stories = events.len();
    }
    let per_item = t0.elapsed().as_secs_f64() * 1e6 / (rounds * signal_items.len()) as f64;
    let per_placement = t0.elapsed().as_secs_f64() * 1e6 / placements as f64;
    println!(
        "stories: items={} new={} repeats={} stories={} joined={} stale={} alerts={} event_reports={reports} signal_items={} cycle={:.2}s placement={per_item:.1}µs/signal-item ({per_placement:.1}µs/placement, words included; in-memory events={stories})",
        summary.items,
        summary.new_items,
        summary.repeats,
        summary.alerts,
        summary.joined,
        summary.stale,
        summary.delivered,
        signal_items.len(),
        cycle.as_secs_f64(),
    );
}
