//! Parsing: feed bytes (RSS, Atom, JSON Feed) into plain-text entries, and entries into
//! [`Item`]s with our own keys.
//!
//! feed-rs does the parsing. Around it this module: contains a panic in the parser (one has
//! been seen in quick-xml on a second XML declaration) so it becomes an error for that feed
//! only; turns every text field into plain text ([`html`]); keeps only http(s) links; bounds
//! the number of entries and the length of fields. It does no I/O.

pub mod decode;
pub mod html;
pub mod repair;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use url::Url;

use crate::domain::{FeedName, Item, ItemKey};
pub use html::html_to_text;

/// Bounds on what one feed may put into memory and the store.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Entries kept per feed (the first ones, which are the newest in practice).
    pub max_entries: usize,
    /// Characters kept per text field.
    pub max_field_chars: usize,
    /// XML elements nested deeper than this are dropped with their content.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_entries: 500,
            max_field_chars: 20_000,
            max_depth: 64,
        }
    }
}

/// A feed as plain text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub link: Option<String>,
    /// A WebSub hub the feed advertises (`<link rel="hub">`).
    pub hub: Option<String>,
    /// RSS `<ttl>`, in minutes.
    pub ttl_minutes: Option<u32>,
    pub entries: Vec<Entry>,
    /// Entries beyond `max_entries` that were dropped.
    pub dropped_entries: usize,
    /// Text fields cut at `max_field_chars`.
    pub truncated_fields: usize,
    /// Subtrees dropped for nesting deeper than `max_depth`.
    pub too_deep: usize,
}

/// One entry as plain text. `None` where the feed had nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// The GUID / Atom id, as the feed gave it: part of the item's key, which must not
    /// change when the feed's address does.
    pub id: Option<String>,
    /// The id as an address: resolved against the document's base when it is a relative
    /// reference (`/relative/link`), as feedparser reads it. For display only.
    pub id_uri: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("the feed parser panicked on this input (contained): {0}")]
    ParserPanicked(String),
}

thread_local! {
    /// Set while this thread runs the parser under `catch_unwind`, so the process's panic
    /// hook can stay silent: the panic is reported as this feed's error instead.
    static CONTAINING_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic on this thread right now is being contained by [`parse_feed`].
pub fn panic_is_contained() -> bool {
    CONTAINING_PANICS.with(|c| c.get())
}

/// Runs feed-rs on one document, with a panic inside it contained.
fn feed_rs_parse(bytes: &[u8], base: Option<&Url>) -> Result<feed_rs::model::Feed, ParseError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base.map(Url::as_str))
        // An entry without id keeps an empty one: our item key falls back to link or text
        // instead of feed-rs's random UUID.
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .timestamp_parser(parse_timestamp)
        .build();
    CONTAINING_PANICS.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| parser.parse(bytes)));
    CONTAINING_PANICS.with(|c| c.set(false));
    match result {
        Ok(Ok(feed)) => Ok(feed),
        Ok(Err(e)) => Err(ParseError::NotAFeed(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(ParseError::ParserPanicked(msg))
        }
    }
}

/// A feed's date: RFC 3339 and RFC 2822 as written, else feed-rs's lenient reading.
///
/// feed-rs's own parser cleans every date with a series of regular-expression substitutions
/// before trying the formats (about 13,000 instructions a date, an eighth of parsing a
/// feed); a well-formed date, the common case, needs none of them and gets the same answer
/// straight from chrono.
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.with_timezone(&Utc));
    }
    lenient_timestamp(t)
}

/// feed-rs's lenient date parser (which it does not export), reached through a default
/// parser reading a one-item feed with that date.
fn lenient_timestamp(t: &str) -> Option<DateTime<Utc>> {
    thread_local! {
        static LENIENT: feed_rs::parser::Parser = feed_rs::parser::Builder::new().build();
    }
    let doc = format!(
        "<rss version=\"2.0\"><channel><item><pubDate>{}</pubDate></item></channel></rss>",
        repair::escape_text(t)
    );
    LENIENT.with(|p| p.parse(doc.as_bytes()).ok()?.entries.first()?.published)
}

/// Parses one feed document. `content_type` (the HTTP header) may name the charset; `base`
/// resolves relative links.
///
/// The bytes are decoded ([`decode`]) and an XML document is made well-formed ([`repair`])
/// before feed-rs reads it; if feed-rs still refuses the repaired text, the original bytes
/// get their own chance.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
    limits: ParseLimits,
) -> Result<ParsedFeed, ParseError> {
    let Document {
        feed,
        too_deep,
        dropped_early,
        rdf_ids,
    } = read_document(bytes, content_type, base, limits)?;
    let truncated = std::cell::Cell::new(0usize);
    let cap = |s: String| {
        let n = s.len();
        let s = truncate_chars(s, limits.max_field_chars);
        if s.len() < n {
            truncated.set(truncated.get() + 1);
        }
        s
    };
    // A field the feed has stays present even when empty (`Some("")`); `None` is absent.
    let text = |t: &feed_rs::model::Text| Some(cap(html_to_text(&t.content)));
    let feed_base = base.cloned();
    let total = feed.entries.len();
    // An RSS 1.0 item's id is its `rdf:about`, which feed-rs does not read; the repair pass
    // gives every item a link, so feed-rs keeps them all and in order.
    let rdf_ids = if rdf_ids.len() == total {
        rdf_ids
    } else {
        Vec::new()
    };
    let entries = feed
        .entries
        .iter()
        .enumerate()
        .take(limits.max_entries)
        .map(|(n, e)| {
            let id = match e.id.trim() {
                "" => rdf_ids.get(n).map_or("", |s| s.trim()),
                id => id,
            };
            let content = e
                .content
                .as_ref()
                .and_then(|c| c.body.as_deref())
                .map(|b| cap(html_to_text(b)));
            Entry {
                id: Some(id.to_owned()).filter(|s| !s.is_empty()).map(cap),
                id_uri: relative_reference(id)
                    .then(|| feed_base.as_ref()?.join(id).ok())
                    .flatten()
                    .map(|u| u.to_string()),
                // No title: a media:title serves.
                title: e
                    .title
                    .as_ref()
                    .and_then(text)
                    .or_else(|| e.media.iter().find_map(|m| m.title.as_ref()).and_then(text)),
                // No link: an id that is a web address (an RSS permalink guid) serves.
                link: pick_link(&e.links, feed_base.as_ref()).or_else(|| {
                    (id.starts_with("http://") || id.starts_with("https://"))
                        .then(|| http_link(id, None))
                        .flatten()
                }),
                // An entry with content and no summary is summarised by its content's start.
                summary: e.summary.as_ref().and_then(text).or_else(|| {
                    content
                        .clone()
                        .map(|c| truncate_chars(c, SUMMARY_FROM_CONTENT_CHARS))
                }),
                content,
                published: e.published,
                updated: e.updated,
            }
        })
        .collect();
    Ok(ParsedFeed {
        title: feed.title.as_ref().and_then(text),
        link: pick_link(&feed.links, feed_base.as_ref()),
        hub: feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("hub"))
            .and_then(|l| http_link(&l.href, feed_base.as_ref())),
        ttl_minutes: feed.ttl,
        entries,
        dropped_entries: dropped_early + total.saturating_sub(limits.max_entries),
        truncated_fields: truncated.get(),
        too_deep,
    })
}

/// A document as feed-rs read it, with what the bounding and repair passes counted.
struct Document {
    feed: feed_rs::model::Feed,
    too_deep: usize,
    dropped_early: usize,
    rdf_ids: Vec<String>,
}

/// Decodes the bytes and hands them to feed-rs: JSON bounded to `max_entries` first, XML
/// repaired first; if feed-rs refuses the repaired text, the original bytes get a chance.
fn read_document(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
    limits: ParseLimits,
) -> Result<Document, ParseError> {
    let decoded = decode::decode(bytes, content_type);
    let text = decoded
        .text
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if text.is_empty() {
        return Err(ParseError::NotAFeed("the document is empty".into()));
    }
    let mut too_deep = 0;
    let dropped_early;
    let mut rdf_ids = Vec::new();
    let feed = if text.starts_with('{') {
        let bounded = bounded_json(text, limits)?;
        dropped_early = bounded.dropped;
        feed_rs_parse(bounded.text.as_bytes(), base)?
    } else {
        if !text.starts_with('<') {
            return Err(ParseError::NotAFeed(
                "neither XML nor JSON (the document does not start with '<' or '{')".into(),
            ));
        }
        let repaired = repair::repair_xml(text, limits.max_depth, limits.max_entries);
        too_deep = repaired.repairs.too_deep;
        dropped_early = repaired.repairs.dropped_entries;
        rdf_ids = repaired.rdf_ids;
        if repaired.repairs.any() {
            tracing::debug!(encoding = decoded.encoding, repairs = ?repaired.repairs, "feed repaired before parsing");
        }
        match feed_rs_parse(repaired.text.as_bytes(), base) {
            Ok(feed) => feed,
            // The original gets its own chance, unless it holds more entries than the
            // limit: that work is what the repair pass bounded.
            Err(e) if dropped_early > 0 => return Err(e),
            Err(e) => feed_rs_parse(bytes, base).map_err(|_| e)?,
        }
    };
    Ok(Document {
        feed,
        too_deep,
        dropped_early,
        rdf_ids,
    })
}

/// A JSON Feed as feed-rs is given it.
struct BoundedJson {
    text: String,
    /// Items past `max_entries`, skipped unread.
    dropped: usize,
}

/// A JSON Feed cut down before feed-rs reads it: only its first `max_entries` items are
/// built (the rest are skipped without allocating, so `{"items":[{},{},…]}` of ten megabytes
/// costs what five hundred items cost, not a kilobyte of feed-rs's model for each of three
/// million), each string of an item is cut to four bytes per allowed character, and the
/// authors, which we do not use and whose name parser in feed-rs 3.0 panics on a non-ASCII
/// character next to an e-mail address, are left out.
fn bounded_json(text: &str, limits: ParseLimits) -> Result<BoundedJson, ParseError> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};

    struct Feed {
        max_items: usize,
        max_string_bytes: usize,
        dropped: usize,
    }
    struct Items<'a>(&'a mut Feed);

    impl<'de> Visitor<'de> for &mut Feed {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON Feed object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "author" | "authors" => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    "items" => {
                        let items = map.next_value_seed(Items(&mut *self))?;
                        out.insert(key, Value::Array(items));
                    }
                    _ => {
                        out.insert(key, map.next_value()?);
                    }
                }
            }
            Ok(out)
        }
    }
    impl<'de> DeserializeSeed<'de> for Items<'_> {
        type Value = Vec<Value>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Items<'_> {
        type Value = Vec<Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let feed = self.0;
            let mut kept = Vec::new();
            while kept.len() < feed.max_items {
                let Some(mut item) = seq.next_element::<Value>()? else {
                    return Ok(kept);
                };
                if let Some(m) = item.as_object_mut() {
                    m.remove("author");
                    m.remove("authors");
                }
                cut_strings(&mut item, feed.max_string_bytes);
                kept.push(item);
            }
            while seq.next_element::<IgnoredAny>()?.is_some() {
                feed.dropped += 1;
            }
            Ok(kept)
        }
    }

    let mut feed = Feed {
        max_items: limits.max_entries,
        max_string_bytes: limits.max_field_chars.saturating_mul(4),
        dropped: 0,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let top = de
        .deserialize_map(&mut feed)
        .and_then(|top| de.end().map(|()| top))
        .map_err(|e| ParseError::NotAFeed(format!("not a JSON Feed: {e}")))?;
    let text = serde_json::to_string(&top)
        .map_err(|e| ParseError::NotAFeed(format!("not a JSON Feed: {e}")))?;
    Ok(BoundedJson {
        text,
        dropped: feed.dropped,
    })
}

/// Cuts every string inside `v` to at most `max` bytes (at a character boundary).
fn cut_strings(v: &mut serde_json::Value, max: usize) {
    match v {
        serde_json::Value::String(s) if s.len() > max => {
            let mut end = max;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| cut_strings(v, max)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|v| cut_strings(v, max)),
        _ => {}
    }
}

/// The entry's page: the first `alternate` (or rel-less) link, else the first link; only
/// http(s) links are kept, so `javascript:` or `data:` never reach a subscriber.
fn pick_link(links: &[feed_rs::model::Link], base: Option<&Url>) -> Option<String> {
    let alternate = links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")) && l.target.is_none());
    alternate
        .or(links.first())
        .and_then(|l| http_link(&l.href, base))
}

fn http_link(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    if is_canonical_http(href) {
        return Some(href.to_owned());
    }
    let url = match Url::parse(href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok()?,
        Err(_) => return None,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// Whether `id` is a relative reference to a path (`/a`, `./a`, `../a`, `//host/a`); an id
/// that is an absolute URI (`tag:`, `urn:`, `http:`) or a bare token (`12345`) is not.
fn relative_reference(id: &str) -> bool {
    id.starts_with('/') || id.starts_with("./") || id.starts_with("../")
}

/// The bytes of a path, query or fragment that the URL parser keeps as they are.
const KEPT_IN_PATH: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let others = b"-._~!$&()*+,;=:@/?#%";
    let mut i = 0;
    while i < others.len() {
        t[others[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether `s` is an http(s) URL that the URL parser would give back exactly as it is. Most
/// links are: feed-rs has already parsed and written them out. The check is conservative (a
/// lowercase ASCII host name, no port or user, a path, and only characters the parser keeps
/// as they are, no dot segments); whatever it is unsure of goes to the parser.
fn is_canonical_http(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let Some(host_end) = rest.find('/') else {
        return false;
    };
    let (host, path) = rest.split_at(host_end);
    let host_ok = host
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && host.split('.').all(|label| !label.is_empty() && !label.starts_with("xn--"))
        // A last label that is a number (or starts like one) makes the host an IPv4 address.
        && host
            .rsplit('.')
            .next()
            .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_lowercase()));
    let path_ok = path.bytes().all(|b| KEPT_IN_PATH[usize::from(b)])
        && path.bytes().filter(|&b| b == b'#').count() <= 1
        && !path.contains("/.")
        && !path
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'2' && w[2] | 0x20 == b'e');
    host_ok && path_ok
}

fn truncate_chars(mut s: String, max: usize) -> String {
    // No more bytes than `max`, so no more characters: the common case, without a walk.
    if s.len() <= max {
        return s;
    }
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

/// Summary text used for classification and alerts when an entry has no summary: the start
/// of its content.
const SUMMARY_FROM_CONTENT_CHARS: usize = 1_000;

impl Entry {
    /// Turns an entry into an item of `feed`, computing our own key.
    pub fn into_item(self, feed: &FeedName) -> Item {
        let title = self.title.unwrap_or_default();
        let summary = self.summary.unwrap_or_default();
        let key = ItemKey::compute(
            feed,
            self.id.as_deref(),
            self.link.as_deref(),
            &title,
            &summary,
        );
        Item {
            key,
            feed: feed.clone(),
            guid: self.id,
            link: self.link,
            title,
            summary,
            published: self.published.or(self.updated),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn limits(max_entries: usize) -> ParseLimits {
        ParseLimits {
            max_entries,
            ..ParseLimits::default()
        }
    }

    #[test]
    fn a_json_feed_is_read_to_its_item_limit_and_the_rest_skipped() {
        let items: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"id":"{i}","title":"t{i}","author":{{"name":"x"}}}}"#))
            .collect();
        let doc = format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"f","authors":[{{"name":"a"}}],"items":[{}]}}"#,
            items.join(",")
        );
        let parsed = parse_feed(doc.as_bytes(), None, None, limits(10)).unwrap();
        assert_eq!(parsed.entries.len(), 10);
        assert_eq!(parsed.dropped_entries, 990);
        assert_eq!(parsed.entries[9].title.as_deref(), Some("t9"));
        assert_eq!(parsed.title.as_deref(), Some("f"));
        // Empty items, a million of them: skipped without being built.
        let bomb = format!(
            r#"{{"version":"https://jsonfeed.org/version/1","title":"b","items":[{}{{}}]}}"#,
            "{},".repeat(1_000_000)
        );
        let parsed = parse_feed(bomb.as_bytes(), None, None, limits(500)).unwrap();
        assert_eq!(
            (parsed.entries.len(), parsed.dropped_entries),
            (500, 999_501)
        );
        // Not JSON, or JSON that is not a feed object, is not a feed.
        assert!(parse_feed(b"{\"items\": [1, 2", None, None, limits(5)).is_err());
        assert!(parse_feed(b"{\"items\": 7}", None, None, limits(5)).is_err());
    }

    #[test]
    fn an_item_string_is_cut_before_the_parser_sees_it() {
        let doc = format!(
            r#"{{"version":"https://jsonfeed.org/version/1","title":"b","items":[{{"id":"1","content_text":"{}é"}}]}}"#,
            "a".repeat(999)
        );
        let small = ParseLimits {
            max_field_chars: 250,
            ..ParseLimits::default()
        };
        let parsed = parse_feed(doc.as_bytes(), None, None, small).unwrap();
        let content = parsed.entries[0].content.as_deref().unwrap();
        assert!(content.chars().count() <= 250, "{}", content.len());
    }

    #[test]
    fn a_relative_id_is_shown_resolved_and_keyed_as_written() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>/relative/link</id><title>t</title></entry><entry><id>tag:example.org,2026:1</id></entry></feed>"#;
        let base = Url::parse("http://example.com/feeds/atom.xml").unwrap();
        let parsed = parse_feed(doc.as_bytes(), None, Some(&base), limits(10)).unwrap();
        let e = &parsed.entries[0];
        assert_eq!(
            e.id_uri.as_deref(),
            Some("http://example.com/relative/link")
        );
        assert_eq!(e.id.as_deref(), Some("/relative/link"));
        // The key does not move with the feed's address.
        let elsewhere = Url::parse("https://mirror.example.net/a.xml").unwrap();
        let moved = parse_feed(doc.as_bytes(), None, Some(&elsewhere), limits(10)).unwrap();
        let feed = FeedName::parse("f").unwrap();
        assert_eq!(
            e.clone().into_item(&feed).key,
            moved.entries[0].clone().into_item(&feed).key
        );
        assert_eq!(
            parsed.entries[1].id_uri, None,
            "an absolute URI is an id as it is"
        );
    }

    #[test]
    fn an_xml_feed_is_read_to_its_entry_limit() {
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>f</title>{}</channel></rss>",
            "<item><title>t</title></item>".repeat(2000)
        );
        let parsed = parse_feed(doc.as_bytes(), None, None, limits(50)).unwrap();
        assert_eq!((parsed.entries.len(), parsed.dropped_entries), (50, 1950));
    }

    #[test]
    fn common_links_are_taken_as_they_are() {
        for link in [
            "https://www.example.org/world/2026/11/28/kremlin-truce-talks/",
            "http://news.example.com/article?id=42&src=rss#top",
            "https://example.co.uk/a/b-c_d~e.html",
        ] {
            assert!(is_canonical_http(link), "{link}");
            assert_eq!(http_link(link, None).as_deref(), Some(link));
        }
        for link in [
            "HTTPS://Example.org/",
            "https://example.org",
            "https://example.org:443/a",
            "https://example.org/a/../b",
            "https://127.0.0.1/a",
            "https://xn--e1afmkfd.xn--p1ai/a",
            "https://example.org/a b",
            "ftp://example.org/a",
        ] {
            assert!(!is_canonical_http(link), "{link}");
        }
    }

    proptest! {
        /// What the check takes as it is, the parser gives back as it is.
        #[test]
        fn a_link_taken_as_it_is_is_what_the_parser_gives(
            scheme in prop::sample::select(vec!["http://", "https://", "https://", "HTTP://", "http:/"]),
            labels in prop::collection::vec(
                prop_oneof![
                    8 => "[a-z][a-z0-9-]{0,5}",
                    1 => "[0-9]{1,3}|0x[0-9a-f]{1,2}|xn--[a-z0-9]{1,4}",
                    1 => "[A-Z_%@:\\[\\]]{1,2}|",
                ],
                1..4,
            ),
            path in prop::collection::vec(
                prop_oneof![
                    8 => "/[a-zA-Z0-9._~!$&()*+,;=:@?#%-]{0,5}",
                    1 => "/\\.|/\\.\\.|%2[eE]|[a-f0-9]{1,2}",
                    1 => "['\"<>`{}^| \t\\\\\u{e9}\u{0}]",
                ],
                0..6,
            ),
        ) {
            let link = format!("{scheme}{}{}", labels.join("."), path.concat());
            if is_canonical_http(&link) {
                let parsed = url::Url::parse(&link).map(|u| u.to_string());
                prop_assert_eq!(parsed.as_deref(), Ok(link.as_str()));
            }
        }
    }

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Test &amp; feed</title><link>https://example.org/</link>
<item><title>Kremlin &lt;b&gt;rejects&lt;/b&gt; truce</title><link>https://example.org/1</link>
<guid>g1</guid><description><![CDATA[<p>Moscow&nbsp;said <script>x()</script>no.</p>]]></description>
<pubDate>Tue, 11 Mar 2025 12:00:00 GMT</pubDate></item>
<item><title>No id, no link</title><description>text</description></item>
<item><title>Bad link</title><link>javascript:alert(1)</link></item>
</channel></rss>"#;

    fn feed() -> FeedName {
        FeedName::parse("test").unwrap()
    }

    #[test]
    fn parses_rss_to_plain_text() {
        let f = parse_feed(RSS.as_bytes(), None, None, ParseLimits::default()).unwrap();
        assert_eq!(f.title.as_deref(), Some("Test & feed"));
        assert_eq!(f.entries.len(), 3);
        let e = &f.entries[0];
        assert_eq!(e.title.as_deref(), Some("Kremlin rejects truce"));
        assert_eq!(e.summary.as_deref(), Some("Moscow said no."));
        assert_eq!(e.id.as_deref(), Some("g1"));
        assert_eq!(
            e.published.unwrap().to_rfc3339(),
            "2025-03-11T12:00:00+00:00"
        );
        assert_eq!(f.entries[1].id, None);
        assert_eq!(f.entries[2].link, None);
    }

    #[test]
    fn keys_without_guid_are_stable_across_parses() {
        let a = parse_feed(RSS.as_bytes(), None, None, ParseLimits::default()).unwrap();
        let b = parse_feed(RSS.as_bytes(), None, None, ParseLimits::default()).unwrap();
        let ka: Vec<_> = a
            .entries
            .into_iter()
            .map(|e| e.into_item(&feed()).key)
            .collect();
        let kb: Vec<_> = b
            .entries
            .into_iter()
            .map(|e| e.into_item(&feed()).key)
            .collect();
        assert_eq!(ka, kb);
        assert_ne!(ka[1], ka[2]);
    }

    #[test]
    fn limits_bound_entries_and_fields() {
        let limits = ParseLimits {
            max_entries: 1,
            max_field_chars: 5,
            max_depth: 64,
        };
        let f = parse_feed(RSS.as_bytes(), None, None, limits).unwrap();
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.dropped_entries, 2);
        assert_eq!(f.entries[0].title.as_deref(), Some("Kreml"));
    }

    #[test]
    fn not_a_feed_is_an_error() {
        for doc in [
            "<html><body>hi</body></html>",
            "",
            "{\"error\": \"nope\"}",
            "garbage",
        ] {
            assert!(
                parse_feed(doc.as_bytes(), None, None, ParseLimits::default()).is_err(),
                "{doc}"
            );
        }
    }

    #[test]
    fn a_parser_panic_is_an_error() {
        // quick-xml 0.42 panics on a second XML declaration naming another encoding
        // ("set_encoding() called after prefix buffer was drained"). The repair pass drops
        // such declarations; the raw parser call shows the panic is still contained.
        let poison = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<item><title>x</title></item></channel></rss>";
        assert!(matches!(
            feed_rs_parse(poison.as_bytes(), None),
            Err(ParseError::ParserPanicked(_))
        ));
        let f = parse_feed(poison.as_bytes(), None, None, ParseLimits::default()).unwrap();
        assert_eq!(f.entries[0].title.as_deref(), Some("x"));
    }

    #[test]
    fn person_fields_that_panic_feed_rs_are_not_parsed() {
        // feed-rs 3.0.0 parser/util/mod.rs:157 slices `raw[span.end() + 1..]` after an
        // e-mail address, inside a multi-byte character when one follows it.
        let rss = "<rss version=\"2.0\"><channel><item><title>a</title><author>me@example.com\u{a0}(Ed)</author></item></channel></rss>";
        assert!(matches!(
            feed_rs_parse(rss.as_bytes(), None),
            Err(ParseError::ParserPanicked(_))
        ));
        let f = parse_feed(rss.as_bytes(), None, None, ParseLimits::default()).unwrap();
        assert_eq!(f.entries[0].title.as_deref(), Some("a"));
        let prefixed = "<r:rss version=\"2.0\" xmlns:r=\"http://backend.userland.com/rss2\"><r:channel><r:managingEditor>ed@example.org\u{ab}</r:managingEditor><r:item><r:title>a</r:title></r:item></r:channel></r:rss>";
        let f = parse_feed(prefixed.as_bytes(), None, None, ParseLimits::default()).unwrap();
        assert_eq!(f.entries[0].title.as_deref(), Some("a"));
        let json = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{\"id\":\"1\",\"title\":\"a\",\"authors\":[{\"name\":\"me@example.com\u{a0}(Ed)\"}]}]}";
        let f = parse_feed(json.as_bytes(), None, None, ParseLimits::default()).unwrap();
        assert_eq!(f.entries[0].title.as_deref(), Some("a"));
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let doc = r#"<rss version="2.0"><channel><title>t</title><item><title>a</title><link>/news/1</link></item></channel></rss>"#;
        let base = Url::parse("https://example.org/feed.xml").unwrap();
        let f = parse_feed(doc.as_bytes(), None, Some(&base), ParseLimits::default()).unwrap();
        assert_eq!(
            f.entries[0].link.as_deref(),
            Some("https://example.org/news/1")
        );
    }

    #[test]
    fn summary_falls_back_to_content() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>
<entry><id>e1</id><title>Putin speaks</title><content type="html">&lt;p&gt;The Kremlin said...&lt;/p&gt;</content></entry></feed>"#;
        let f = parse_feed(doc.as_bytes(), None, None, ParseLimits::default()).unwrap();
        let item = f.entries.into_iter().next().unwrap().into_item(&feed());
        assert_eq!(item.summary, "The Kremlin said...");
    }

    fn parse(doc: &str) -> ParsedFeed {
        parse_feed(doc.as_bytes(), None, None, ParseLimits::default()).unwrap()
    }

    #[test]
    fn module_elements_stand_in_for_missing_core_ones() {
        let f = parse(
            r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/DTDs/Podcast-1.0.dtd"><channel><dc:title>Wire</dc:title>
<item><dc:title>Peskov speaks</dc:title><dc:description>He said no.</dc:description><dcterms:issued>2025-03-11T10:00:00Z</dcterms:issued><dcterms:modified>2025-03-12T10:00:00Z</dcterms:modified></item>
<item><media:title>Media title</media:title><itunes:summary>Podcast summary</itunes:summary></item>
<item><title>Core title</title><dc:title>Module title</dc:title><description>Core text</description><dc:description>Module text</dc:description></item>
</channel></rss>"#,
        );
        assert_eq!(f.title.as_deref(), Some("Wire"));
        let e = &f.entries[0];
        assert_eq!(e.title.as_deref(), Some("Peskov speaks"));
        assert_eq!(e.summary.as_deref(), Some("He said no."));
        assert_eq!(
            e.published.unwrap().to_rfc3339(),
            "2025-03-11T10:00:00+00:00"
        );
        assert_eq!(e.updated.unwrap().to_rfc3339(), "2025-03-12T10:00:00+00:00");
        assert_eq!(f.entries[1].title.as_deref(), Some("Media title"));
        assert_eq!(f.entries[1].summary.as_deref(), Some("Podcast summary"));
        // Where the core element is there, it wins.
        assert_eq!(f.entries[2].title.as_deref(), Some("Core title"));
        assert_eq!(f.entries[2].summary.as_deref(), Some("Core text"));
    }

    #[test]
    fn an_rss_items_summary_is_its_description_or_its_content() {
        let f = parse(
            "<rss version=\"2.0\"><channel><item><summary>S</summary><description>D</description></item><item><description>D</description><summary>S</summary></item></channel></rss>",
        );
        assert_eq!(f.entries[0].summary.as_deref(), Some("S"));
        assert_eq!(f.entries[0].content.as_deref(), Some("D"));
        assert_eq!(f.entries[1].summary.as_deref(), Some("D"));
        assert_eq!(f.entries[1].content.as_deref(), Some("S"));
    }

    #[test]
    fn rss_in_a_prefixed_userland_namespace() {
        let f = parse(
            r#"<r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2" xmlns:x="urn:other"><r:channel><r:title>T</r:title><r:item><r:title>Item</r:title><x:description>not this</x:description><r:description>this</r:description><r:link>https://example.org/1</r:link></r:item></r:channel></r:rss>"#,
        );
        assert_eq!(f.title.as_deref(), Some("T"));
        assert_eq!(f.entries[0].title.as_deref(), Some("Item"));
        assert_eq!(f.entries[0].summary.as_deref(), Some("this"));
        assert_eq!(f.entries[0].link.as_deref(), Some("https://example.org/1"));
    }

    #[test]
    fn rss_without_a_channel_and_cdf() {
        let f = parse("<rss><item><title>A</title></item><item><title>B</title></item></rss>");
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[1].title.as_deref(), Some("B"));
        let f = parse(
            r#"<CHANNEL HREF="https://example.org/"><TITLE>Site</TITLE><ITEM HREF="https://example.org/a" LASTMOD="2004-04-06T23:05:43-05:00"><TITLE>A</TITLE><ABSTRACT>About A</ABSTRACT></ITEM><ITEM HREF="https://example.org/b"/></CHANNEL>"#,
        );
        assert_eq!(f.title.as_deref(), Some("Site"));
        assert_eq!(f.link.as_deref(), Some("https://example.org/"));
        let a = &f.entries[0];
        assert_eq!(
            (a.title.as_deref(), a.summary.as_deref(), a.link.as_deref()),
            (Some("A"), Some("About A"), Some("https://example.org/a"))
        );
        assert_eq!(a.updated.unwrap().to_rfc3339(), "2004-04-07T04:05:43+00:00");
        assert_eq!(f.entries[1].link.as_deref(), Some("https://example.org/b"));
    }

    #[test]
    fn an_rss_1_items_id_is_its_rdf_about() {
        let f = parse(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://example.org/"><title>t</title></channel>
<item rdf:about="urn:item:1"><title>one</title><link>https://example.org/1</link></item>
<item rdf:about="https://example.org/2"><title>two</title></item></rdf:RDF>"#,
        );
        assert_eq!(f.entries[0].id.as_deref(), Some("urn:item:1"));
        assert_eq!(f.entries[0].link.as_deref(), Some("https://example.org/1"));
        assert_eq!(f.entries[1].id.as_deref(), Some("https://example.org/2"));
        assert_eq!(f.entries[1].link.as_deref(), Some("https://example.org/2"));
    }

    #[test]
    fn dates_read_as_feed_rs_reads_them() {
        let default = feed_rs::parser::Builder::new().build();
        for date in [
            "Tue, 11 Mar 2025 12:00:00 GMT",
            "Tue, 11 Mar 2025 12:00:00 +0200",
            "Tue, 11 Mar 2025 12:00:00 UTC",
            "Thurs, 13 Jul 2011 07:38:00 GMT",
            "Wed, 25 Aug 2012 10:00:00 -0000",
            "13 July 2011 7:38:00 GMT",
            "Jul 13 2011 07:38:00 GMT",
            "Tue, 15 Nov 2022 20:15:04 Z",
            "2025-03-11T10:00:00Z",
            "2025-03-11T10:00:00.123+05:30",
            "2025-03-11T10:00:00+0530",
            "2025-03-11",
            "  2025-03-11T10:00:00Z \n",
            "yesterday",
            "",
            "Tue, 11 Mar 2025 24:10:00 GMT",
        ] {
            let doc = format!(
                "<rss version=\"2.0\"><channel><item><pubDate>{date}</pubDate></item></channel></rss>"
            );
            let theirs = default.parse(doc.as_bytes()).unwrap().entries[0].published;
            let ours = parse(&doc).entries[0].published;
            assert_eq!(ours, theirs, "{date:?}");
        }
        assert!(parse_timestamp("Tue, 11 Mar 2025 12:00:00 UTC").is_some());
        assert!(parse_timestamp("13 July 2011 7:38:00 GMT").is_some());
    }
}
