//! A fixed amount of classification work for profilers that count instructions:
//!   valgrind --tool=callgrind target/release/examples/prof
#[path = "../benches/support/items.rs"]
mod items;

fn main() {
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
