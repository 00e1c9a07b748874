//! A fixed amount of work for profilers that count instructions:
//!   valgrind --tool=callgrind target/release/examples/prof            (classify 20,000 items)
//!   valgrind --tool=callgrind target/release/examples/prof parse      (parse 100 feeds of 50)
#[path = "../benches/support/feeds.rs"]
mod feeds;
#[path = "../benches/support/items.rs"]
mod items;

use ceasefire_watch::parse::{ParseLimits, parse_feed};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("parse") {
        let bodies = feeds::generate(100, 50);
        let mut n = 0;
        for body in &bodies {
            let feed = parse_feed(
                std::hint::black_box(body),
                Some("application/rss+xml; charset=utf-8"),
                None,
                ParseLimits::default(),
            )
            .expect("a generated feed parses");
            n += feed.entries.len();
        }
        println!("{n}");
        return;
    }
    let c = ceasefire_watch::classify::Classifier::builtin();
    let data = items::items(20_000, 30);
    let mut n = 0;
    for (t, s) in &data {
        n += c
            .classify(std::hint::black_box(t), std::hint::black_box(s))
            .signals
            .len();
    }
    println!("{n}");
}
