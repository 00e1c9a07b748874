//! Generated RSS feeds for the benchmarks and profiling examples: news-like items from
//! [`super::items`], escaped as RSS 2.0 with GUIDs, links and recent dates. The including
//! file declares `mod items` beside this module.

use std::fmt::Write as _;

use bytes::Bytes;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// N feeds of M generated items, published over the last hours.
pub fn generate(n: usize, m: usize) -> Vec<Bytes> {
    let data = super::items::items(n * m, 20);
    let now = chrono::Utc::now();
    (0..n)
        .map(|f| {
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Bench wire</title><link>https://news.example.org/</link><description>bench</description>\n",
            );
            for k in 0..m {
                let (title, summary) = &data[f * m + k];
                let _ = writeln!(
                    xml,
                    "<item><guid isPermaLink=\"false\">f{f}-i{k}</guid><title>{}</title><link>https://news{f}.example.org/story/{k}</link><description>{}</description><pubDate>{}</pubDate></item>",
                    esc(title),
                    esc(summary),
                    (now - chrono::Duration::minutes((f * 7 + k * 13) as i64 % 600)).to_rfc2822()
                );
            }
            xml.push_str("</channel></rss>\n");
            Bytes::from(xml)
        })
        .collect()
}
