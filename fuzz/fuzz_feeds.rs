//! A stable-toolchain fuzzer for feed intake: parse (decode, repair, feed-rs) and classify.
//!
//! cargo-fuzz needs nightly, which this project's machines lack, so this is a mutation
//! fuzzer without coverage feedback: it starts from seed documents (every file under the
//! directories given, e.g. feedparser's test feeds, plus built-in seeds), applies random
//! byte and token mutations, splices and truncations, and runs each result through
//! `parse_feed` with a random Content-Type and then `classify` on every entry.
//!
//!   cargo run --release --example fuzz_feeds -- --minutes 30 ../shared/feeds/feedparser-tests
//!
//! Outcomes:
//! - a panic in our code is a crash: the input is written to `fuzz/crashes/` and counted;
//! - a panic inside feed-rs or quick-xml is contained by `parse_feed` and becomes an error
//!   for that feed; such inputs go to `fuzz/contained/` for an upstream report;
//! - an input that takes more than a second is written to `fuzz/slow/`.
//!
//! Inputs kept here become regression tests (tests/fixtures/fuzz/, run by the parse tests).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ceasefire_watch::classify::Classifier;
use ceasefire_watch::parse::{ParseError, ParseLimits, parse_feed};

const TOKENS: &[&str] = &[
    "<rss>",
    "<rss version=\"2.0\">",
    "<channel>",
    "</channel>",
    "<item>",
    "</item>",
    "<title>",
    "</title>",
    "<description>",
    "</description>",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
    "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">",
    "<entry>",
    "</entry>",
    "<content type=\"xhtml\">",
    "<summary type=\"application/octet-stream\">",
    " mode=\"base64\"",
    " mode=\"xml\"",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "&",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&#xD800;",
    "&nbsp;",
    "&bogus;",
    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    "<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
    "<!DOCTYPE x [<!ENTITY a \"&b;&b;\"><!ENTITY b \"bb\">]>",
    "<!DOCTYPE",
    "<!DOCTYPE rss [<!ENTITY id \"tag:x,\">]>",
    "&id;",
    "<CHANNEL HREF=\"http://example.org/\">",
    "<ITEM LASTMOD=\"2004-04-06T23:05:43-05:00\"/>",
    "<ABSTRACT>",
    "<r:rss xmlns:r=\"http://backend.userland.com/rss2\">",
    "<r:item>",
    "<dc:title>",
    "<dcterms:issued>",
    "<media:title>",
    "<summary>",
    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">",
    "<item rdf:about=\"urn:x\">",
    "<",
    ">",
    "</",
    "/>",
    "\"",
    "'",
    "=",
    "\u{0}",
    "\u{1}",
    "\r\n",
    "\u{FEFF}",
    "\u{FFFE}",
    "<script>",
    "</script>",
    "<a href=\"javascript:alert(1)\">",
    "<link rel=\"alternate\" href=\"",
    "<link>http://example.org/</link>",
    "<pubDate>Tue, 99 Foo 2025 25:61:61 GMT</pubDate>",
    "<updated>2025-13-45T99:99:99Z</updated>",
    "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [",
    "Kremlin rejects the ceasefire",
    "Pentagon pauses weapons shipments to Ukraine",
];

const SEEDS: &[&str] = &[
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Kremlin rejects truce</title><description>&lt;p&gt;Peskov said no.&lt;/p&gt;</description><guid>1</guid></item></channel></rss>",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><id>1</id><title type=\"html\">US resumes &lt;b&gt;intelligence&lt;/b&gt; sharing</title><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">Kyiv <b>welcomed</b> it</div></content></entry></feed>",
    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{\"id\":\"1\",\"title\":\"Moscow agrees to energy truce\",\"content_html\":\"<p>x</p>\"}]}",
];

/// xorshift64*: small, fast, and reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                input.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = input[a..b].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
            4 | 5 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                input.splice(at..at, t.iter().copied());
            }
            6 if len > 0 => input.truncate(rng.below(len)),
            7 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(512)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[a..b].iter().copied());
                }
            }
            8 => {
                // Deep nesting or long runs.
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let n = 1 + rng.below(2000);
                let at = rng.below(len + 1);
                let run: Vec<u8> = t.iter().copied().cycle().take(t.len() * n).collect();
                input.splice(at..at, run);
            }
            _ => {}
        }
    }
    input.truncate(4 << 20);
}

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if let Ok(b) = std::fs::read(&p)
            && b.len() < 1 << 20
        {
            out.push(b);
        }
    }
}

fn save(dir: &str, input: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{:016x}.bin", h.finish()));
    let _ = std::fs::write(&path, input);
    path
}

fn main() {
    let mut minutes = 1.0f64;
    let mut dirs = Vec::new();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--minutes" => minutes = args.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    let mut seeds: Vec<Vec<u8>> = SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    for d in &dirs {
        collect(d, &mut seeds);
    }
    println!(
        "fuzz_feeds: {} seeds, {minutes} minutes, --seed {seed}",
        seeds.len()
    );
    // Panics are counted, not printed.
    std::panic::set_hook(Box::new(|_| {}));
    let classifier = Classifier::builtin();
    let limits = ParseLimits {
        max_entries: 200,
        max_field_chars: 5_000,
        max_depth: 64,
    };
    let content_types = [
        None,
        Some("application/rss+xml"),
        Some("text/xml; charset=koi8-r"),
        Some("application/xml; charset=utf-16"),
        Some("text/html; charset=\"windows-1251\""),
        Some("application/json"),
    ];
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let started = Instant::now();
    let (mut execs, mut crashes, mut contained, mut slow, mut parsed) = (0u64, 0, 0, 0, 0u64);
    let mut last_report = Instant::now();
    let mut input = Vec::new();
    while Instant::now() < deadline {
        input.clear();
        input.extend_from_slice(&seeds[rng.below(seeds.len())]);
        mutate(&mut rng, &seeds, &mut input);
        let ct = content_types[rng.below(content_types.len())];
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let r = parse_feed(&input, ct, None, limits);
            if let Ok(f) = &r {
                for e in &f.entries {
                    let _ = classifier.classify(
                        e.title.as_deref().unwrap_or(""),
                        e.summary.as_deref().unwrap_or(""),
                    );
                }
            }
            r
        }));
        execs += 1;
        match outcome {
            Err(_) => {
                crashes += 1;
                println!("CRASH saved to {}", save("crashes", &input).display());
            }
            Ok(Err(ParseError::ParserPanicked(msg))) => {
                contained += 1;
                if contained <= 20 {
                    println!(
                        "contained dependency panic ({msg}) saved to {}",
                        save("contained", &input).display()
                    );
                }
            }
            Ok(Ok(_)) => parsed += 1,
            Ok(Err(_)) => {}
        }
        if t0.elapsed() > Duration::from_secs(1) {
            slow += 1;
            println!(
                "SLOW ({:?}, {} bytes) saved to {}",
                t0.elapsed(),
                input.len(),
                save("slow", &input).display()
            );
        }
        if last_report.elapsed() > Duration::from_secs(60) {
            last_report = Instant::now();
            println!(
                "{:>5.1} min: execs={execs} parsed={parsed} crashes={crashes} contained={contained} slow={slow}",
                started.elapsed().as_secs_f64() / 60.0
            );
        }
    }
    println!(
        "fuzz_feeds: minutes={:.1} execs={execs} parsed={parsed} crashes={crashes} contained_dependency_panics={contained} slow={slow} seed={seed}",
        started.elapsed().as_secs_f64() / 60.0
    );
    if crashes > 0 {
        std::process::exit(1);
    }
}
