use ceasefire_watch::dedupe::Terms;
use std::io::BufRead;
fn main() {
    let lines: Vec<(String, String)> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut p = l.splitn(2, '|');
            (
                p.next().unwrap().to_string(),
                p.next().unwrap_or("").to_string(),
            )
        })
        .collect();
    let t: Vec<Terms> = lines.iter().map(|(a, b)| Terms::of(a, b)).collect();
    for (i, a) in t.iter().enumerate() {
        let row: Vec<String> = t
            .iter()
            .map(|b| format!("{:.2}", a.similarity(b)))
            .collect();
        println!("{i:2} {}", row.join(" "));
    }
}
