//! `feeds import FILE.opml`: another reader's subscriptions as `[[feeds]]` tables to paste
//! into the config. Every outline with an `xmlUrl` becomes a feed named after its title;
//! names are made unique, a URL seen twice is kept once, and the OPML's categories become
//! comments.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::domain::FeedName;

/// One subscription of the OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub name: String,
    pub url: String,
    pub title: String,
    /// The outlines it sits in ("News / Europe").
    pub category: String,
}

/// The subscriptions of an OPML document, in document order.
pub fn subscriptions(xml: &str) -> Result<Vec<Subscription>, String> {
    let mut reader = Reader::from_str(xml);
    let mut categories: Vec<String> = Vec::new();
    let mut out: Vec<Subscription> = Vec::new();
    let mut names = BTreeSet::new();
    let mut urls = BTreeSet::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not OPML (at byte {}): {e}", reader.buffer_position()))?;
        let (outline, open) = match &event {
            Event::Start(e) if e.local_name().into_inner() == "outline" => (e, true),
            Event::Empty(e) if e.local_name().into_inner() == "outline" => (e, false),
            Event::End(e) if e.local_name().into_inner() == "outline" => {
                categories.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let attr = |name: &str| -> Option<String> {
            outline
                .attributes()
                .flatten()
                .find(|a| a.key.local_name().into_inner().eq_ignore_ascii_case(name))
                .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let title = attr("title").or_else(|| attr("text")).unwrap_or_default();
        match attr("xmlUrl") {
            Some(url) if urls.insert(url.clone()) => {
                let name = unique_name(&slug(&title, &url), &mut names);
                out.push(Subscription {
                    name,
                    url,
                    title: title.clone(),
                    category: categories.join(" / "),
                });
            }
            _ => {}
        }
        if open {
            categories.push(title);
        }
    }
    Ok(out)
}

/// A feed name from a title ("Kyiv Independent — News" → "kyiv-independent-news"), or from
/// the URL's host when the title has no letters.
fn slug(title: &str, url: &str) -> String {
    let from = |s: &str| {
        let mut out = String::new();
        for c in s.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-')
            .chars()
            .take(60)
            .collect::<String>()
    };
    let name = from(title);
    if !name.is_empty() {
        return name;
    }
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let name = from(host.trim_start_matches("www."));
    if name.is_empty() { "feed".into() } else { name }
}

fn unique_name(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while taken.contains(&name) || FeedName::parse(&name).is_err() {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

pub fn import(path: &Path) -> anyhow::Result<ExitCode> {
    let xml = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let subs = subscriptions(&xml).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if subs.is_empty() {
        anyhow::bail!("{}: no outline with an xmlUrl", path.display());
    }
    println!("# {} feeds from {}", subs.len(), path.display());
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut category = None;
    for s in &subs {
        if category != Some(&s.category) && !s.category.is_empty() {
            println!("\n# {}", s.category.replace('\n', " "));
        }
        category = Some(&s.category);
        println!("[[feeds]]");
        println!("name = {}", quote(&s.name));
        println!("url = {}", quote(&s.url));
        if !s.title.is_empty() && s.title != s.name {
            println!("# {}", s.title.replace('\n', " "));
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_become_unique_feeds_with_their_categories() {
        let opml = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="News">
    <outline type="rss" text="Kyiv Independent &amp; Co" xmlUrl="https://kyivindependent.com/feed/"/>
    <outline type="rss" title="Kyiv Independent &amp; Co" text="x" xmlUrl="https://kyivindependent.com/other"/>
    <outline type="rss" text="Dup" xmlUrl="https://kyivindependent.com/feed/"/>
  </outline>
  <outline type="rss" text="" xmlUrl="https://www.reuters.com/world/rss"/>
  <outline text="not a feed"/>
</body></opml>"#;
        let subs = subscriptions(opml).unwrap();
        let names: Vec<&str> = subs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kyiv-independent-co",
                "kyiv-independent-co-2",
                "reuters-com"
            ]
        );
        assert_eq!(subs[0].category, "News");
        assert_eq!(subs[2].category, "");
        assert!(
            subscriptions("<opml><body><outline").is_err()
                || subscriptions("<opml><body><outline").unwrap().is_empty()
        );
    }
}
