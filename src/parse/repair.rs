//! Making broken XML feeds well-formed before the strict parser sees them.
//!
//! One pass over the decoded text, the way a lenient reader would take it:
//! - the XML declaration becomes `<?xml version="1.0" encoding="utf-8"?>` (the text is UTF-8
//!   by now) and a second declaration is dropped;
//! - a DOCTYPE is dropped, with any entities it declares (no entity expansion, so no
//!   "billion laughs");
//! - HTML entities (`&nbsp;`, `&eacute;`) become character references, a bare `&` becomes
//!   `&amp;`, a stray `<` becomes `&lt;`, and character references to characters XML forbids
//!   are dropped, as are those characters themselves;
//! - end tags that close nothing open are dropped, an end tag closes the elements left open
//!   inside it, and a truncated document is cut at its last whole tag and closed;
//! - attributes get quotes and values where HTML habits left them out;
//! - `<rss>` without `version` gets one (feed-rs#275), and Atom 0.3
//!   (`http://purl.org/atom/ns#`) is read as Atom 1.0, its `issued`, `modified`, `tagline`
//!   and `copyright` as `published`, `updated`, `subtitle` and `rights`.
//!
//! Comments and CDATA sections pass through untouched. A well-formed feed comes out
//! equivalent to what went in.

const ATOM03_NS: &str = "http://purl.org/atom/ns#";
/// Userland's namespaces for RSS 2.0 (`http://backend.userland.com/rss2` and the like).
const USERLAND_NS: &str = "http://backend.userland.com/rss";
const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";
const RSS090_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS10_NS: &str = "http://purl.org/rss/1.0/";
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS_NS: &str = "http://purl.org/dc/terms/";
const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// RSS 2.0's elements, as the specification spells them.
const RSS_ELEMENTS: &[&str] = &[
    "channel",
    "item",
    "title",
    "link",
    "description",
    "pubDate",
    "lastBuildDate",
    "guid",
    "category",
    "enclosure",
    "comments",
    "source",
    "language",
    "copyright",
    "ttl",
    "image",
    "url",
    "width",
    "height",
    "docs",
    "generator",
    "cloud",
    "rating",
    "textInput",
    "skipHours",
    "skipDays",
];

/// The kind of document, from its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Atom,
    Rss,
    Other,
}

/// An element left open: the name written out, the name the document gave it where that
/// differs, and which core fields it (an RSS item or channel) has been given so far.
struct Open {
    name: String,
    source: Option<String>,
    has: Has,
    /// An `item` (of any namespace).
    item: bool,
    /// An `item` or a `channel`.
    container: bool,
}

impl Open {
    fn new(name: String) -> Open {
        Open::renamed(name, None)
    }

    fn renamed(name: String, source: Option<String>) -> Open {
        let l = local(&name);
        let item = l == "item";
        let container = item || l == "channel";
        Open {
            name,
            source,
            has: Has::default(),
            item,
            container,
        }
    }

    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self
                .source
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
    }
}

/// The core fields an RSS item or channel has, so a module's stand-in (`dc:title`,
/// `itunes:summary`) is read only where the core field is missing.
#[derive(Debug, Default, Clone, Copy)]
struct Has {
    title: bool,
    description: bool,
    published: bool,
    updated: bool,
    content: bool,
    /// An item's `<summary>` was read as its description, so a later `<description>` is
    /// its content.
    summary_first: bool,
}

/// A text element being read, whose markup is text.
struct Escape {
    /// Elements opened inside it, so their end tags are text too.
    inner: Vec<String>,
}

enum AtomText {
    /// Markup inside is text (type text or html).
    Escape,
    /// Inline XHTML: markup stays markup.
    Markup,
    /// Base64 content, decoded and escaped, and how much of the document it took.
    Decoded(String, usize),
}

/// A start tag as read, before the dialect fixes write it.
struct StartTag {
    name: String,
    attrs: Vec<(String, String)>,
    is_root: bool,
    self_closing: bool,
    /// Whether markup inside it is text (a title, a description).
    text_element: bool,
}

/// What the pass changed, for the feed's debug log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Repairs {
    /// Elements closed at the end of a truncated document or inside a mismatched end tag.
    pub closed: usize,
    /// End tags dropped because they closed nothing.
    pub dropped_end_tags: usize,
    /// Bare `&`/`<`, HTML entities and forbidden characters fixed.
    pub escaped: usize,
    /// The document ended inside a tag, comment or CDATA section.
    pub truncated: bool,
    /// Elements dropped, with their content, for nesting deeper than the limit.
    pub too_deep: usize,
    /// Entries (RSS items, Atom entries) past the limit, dropped with their content.
    pub dropped_entries: usize,
}

impl Repairs {
    pub fn any(&self) -> bool {
        *self != Repairs::default()
    }
}

pub struct Repaired {
    pub text: String,
    pub repairs: Repairs,
    /// The `rdf:about` of each item of an RSS 1.0 document, in order (an empty string where
    /// it had none): its id, which feed-rs does not read.
    pub rdf_ids: Vec<String>,
}

/// Bytes that expanding the entities a DOCTYPE declares may add to a document, in all.
const ENTITY_BUDGET: usize = 1 << 20;
/// Entities read from one DOCTYPE, and the longest value kept.
const MAX_ENTITIES: usize = 256;
const MAX_ENTITY_VALUE: usize = 1024;

/// Repairs an XML document (see the module documentation). `max_depth` bounds nesting:
/// elements deeper than that are dropped with their content, so a document of a million
/// nested elements costs no more than a flat one. `max_entries` bounds the entries (RSS
/// items, Atom entries) passed on: the rest are dropped here, before the parser builds each
/// (a kilobyte or more apiece), so ten megabytes of `<item/>` cost no more than the first
/// few hundred.
pub fn repair_xml(doc: &str, max_depth: usize, max_entries: usize) -> Repaired {
    let mut r = Repairer {
        src: doc,
        out: String::with_capacity(doc.len() + doc.len() / 8 + 64),
        stack: Vec::new(),
        repairs: Repairs::default(),
        atom03: doc.contains(ATOM03_NS),
        seen_root: false,
        skip_depth: None,
        max_depth,
        entries: 0,
        max_entries,
        kind: Kind::Other,
        escape: None,
        rdf_item: None,
        prefixes: std::collections::HashMap::new(),
        userland: false,
        entities: Vec::new(),
        entity_budget: ENTITY_BUDGET,
        cdf: false,
        rdf_ids: Vec::new(),
    };
    r.out
        .push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    r.run();
    Repaired {
        text: r.out,
        repairs: r.repairs,
        rdf_ids: r.rdf_ids,
    }
}

struct Repairer<'a> {
    src: &'a str,
    out: String,
    /// Open elements.
    stack: Vec<Open>,
    /// Namespace prefixes declared so far, to their URI; the last declaration wins.
    prefixes: std::collections::HashMap<String, String>,
    /// Some prefix was declared for Userland's RSS 2.0 namespace (see `userland_local`).
    userland: bool,
    /// Entities the DOCTYPE declares with plain text values (name, escaped value).
    entities: Vec<(String, String)>,
    /// Bytes entity expansion may still add.
    entity_budget: usize,
    /// The document is a Channel Definition Format file, read as RSS 2.0.
    cdf: bool,
    /// The `rdf:about` of each RSS 1.0 item, in order.
    rdf_ids: Vec<String>,
    repairs: Repairs,
    atom03: bool,
    seen_root: bool,
    /// Depth at which an over-deep subtree started, while it is being skipped.
    skip_depth: Option<usize>,
    max_depth: usize,
    /// Entries met so far, and how many are passed on.
    entries: usize,
    max_entries: usize,
    kind: Kind,
    escape: Option<Escape>,
    /// In an RSS 1.0 item: its `rdf:about`, and whether it had a `<link>`.
    rdf_item: Option<(String, bool)>,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.' | '\u{B7}')
}

/// Where the first byte of `b` that plain text cannot be copied past is: markup (`<`, `&`),
/// a control character (XML allows only tab, line feed and carriage return), or 0xEF, which
/// starts U+FFFE and U+FFFF. Tab, line feed and carriage return are copied with the text.
fn special(b: &[u8]) -> Option<usize> {
    let end = memchr::memchr3(b'<', b'&', 0xEF, b).unwrap_or(b.len());
    let text = &b[..end];
    // Without an early exit, so that it runs over whole vectors; a control character is rare.
    let control = |c: u8| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r');
    if text.iter().fold(false, |any, &c| any | control(c)) {
        return text.iter().position(|&c| control(c));
    }
    (end < b.len()).then_some(end)
}

/// Characters XML 1.0 does not allow in a document.
fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

impl Repairer<'_> {
    fn emitting(&self) -> bool {
        self.skip_depth.is_none()
    }

    fn push(&mut self, s: &str) {
        if self.emitting() {
            self.out.push_str(s);
        }
    }

    /// Writes `</name>`.
    fn end_tag_text(&mut self, name: &str) {
        if self.emitting() {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
    }

    fn run(&mut self) {
        let src = self.src;
        let bytes = src.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Plain text up to the next markup.
            let next = special(&bytes[i..]).map_or(bytes.len(), |p| i + p);
            if next > i {
                self.text(&src[i..next]);
                i = next;
                continue;
            }
            match bytes[i] {
                b'<' => i = self.markup(i),
                b'&' => {
                    let (piece, len) = self.entity(&src[i..]);
                    self.text(&piece);
                    i += len;
                }
                _ => {
                    let c = src[i..].chars().next().unwrap_or(' ');
                    if forbidden(c) {
                        self.repairs.escaped += 1;
                    } else {
                        let mut buf = [0u8; 4];
                        self.text(c.encode_utf8(&mut buf));
                    }
                    i += c.len_utf8();
                }
            }
        }
        while let Some(open) = self.stack.pop() {
            self.end_tag_text(&open.name);
            if self.skip_depth.is_some_and(|d| self.stack.len() <= d) {
                self.skip_depth = None;
            }
            self.repairs.closed += 1;
        }
    }

    /// Text without markup: kept inside the root element, dropped outside it.
    fn text(&mut self, s: &str) {
        if self.stack.is_empty() {
            return;
        }
        self.push(s);
    }

    /// An entity or character reference at the start of `s`, as it should be written, and
    /// how many bytes of `s` it took.
    fn entity<'s>(&mut self, s: &'s str) -> (std::borrow::Cow<'s, str>, usize) {
        let body_end = s[1..]
            .char_indices()
            .take(40)
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|(j, c)| (j + 1, c));
        let Some((end, ';')) = body_end else {
            self.repairs.escaped += 1;
            return ("&amp;".into(), 1);
        };
        let name = &s[1..end];
        let len = end + 1;
        if let Some(num) = name.strip_prefix('#') {
            let n = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            return match n.and_then(char::from_u32) {
                Some(c) if !forbidden(c) => (s[..len].into(), len),
                _ => {
                    self.repairs.escaped += 1;
                    ("".into(), len)
                }
            };
        }
        if matches!(name, "lt" | "gt" | "amp" | "quot" | "apos") {
            return (s[..len].into(), len);
        }
        if let Some((_, value)) = self.entities.iter().find(|(n, _)| n == name) {
            if value.len() <= self.entity_budget {
                self.entity_budget -= value.len();
                return (value.clone().into(), len);
            }
            self.repairs.escaped += 1;
            return ("".into(), len);
        }
        let decoded = html_escape::decode_html_entities(&s[..len]);
        self.repairs.escaped += 1;
        if decoded != s[..len] {
            let refs: String = decoded
                .chars()
                .map(|c| format!("&#{};", c as u32))
                .collect();
            (refs.into(), len)
        } else {
            ("&amp;".into(), 1)
        }
    }

    /// The common end tag, taken without the general path's work: `</name>` closing the
    /// innermost open element, written as that element was written out, outside a skipped
    /// subtree and not inside markup read as text. Returns its length when it was that.
    fn closes_innermost(&mut self, rest: &str) -> Option<usize> {
        if self.skip_depth.is_some() || self.escape.as_ref().is_some_and(|e| !e.inner.is_empty()) {
            return None;
        }
        let top = self.stack.last()?;
        let name = top.name.as_bytes();
        let tag = rest.as_bytes().get(..name.len() + 3)?;
        if top.source.is_some()
            || &tag[2..2 + name.len()] != name
            || tag[2 + name.len()] != b'>'
            // An RSS 1.0 item may get a link written before its end tag.
            || (top.item && self.rdf_item.is_some())
        {
            return None;
        }
        self.escape = None;
        self.out.push_str(&rest[..tag.len()]);
        self.stack.pop();
        Some(tag.len())
    }

    /// Markup starting with `<` at `i`; returns where it ends.
    fn markup(&mut self, i: usize) -> usize {
        let rest = &self.src[i..];
        if rest.starts_with("<!--") {
            self.delimited(i, "<!--", "-->")
        } else if rest.starts_with("<![CDATA[") {
            self.delimited(i, "<![CDATA[", "]]>")
        } else if rest.starts_with("<!") {
            self.declaration(i)
        } else if rest.starts_with("<?") {
            self.instruction(i)
        } else {
            self.tag(i)
        }
    }

    /// A comment or CDATA section: passed through inside the root element. A truncated
    /// CDATA section keeps what arrived of it, closed.
    fn delimited(&mut self, i: usize, open: &str, close: &str) -> usize {
        let src = self.src;
        let rest = &src[i..];
        match rest[open.len()..].find(close) {
            Some(e) => {
                let end = i + open.len() + e + close.len();
                if !self.stack.is_empty() {
                    self.push(&src[i..end]);
                }
                end
            }
            None => {
                self.repairs.truncated = true;
                if close == "]]>" && !self.stack.is_empty() {
                    // A forbidden character cannot be escaped in CDATA, so it goes.
                    let body: String = rest.chars().filter(|c| !forbidden(*c)).collect();
                    self.push(&body);
                    self.push("]]>");
                }
                src.len()
            }
        }
    }

    /// A DOCTYPE (with an internal subset in brackets) or other declaration: dropped, the
    /// DOCTYPE's entities noted.
    fn declaration(&mut self, i: usize) -> usize {
        let rest = &self.src[i..];
        let mut depth = 0i32;
        for (j, c) in rest.char_indices().skip(2) {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                '>' if depth <= 0 => {
                    if rest
                        .get(2..9)
                        .is_some_and(|d| d.eq_ignore_ascii_case("DOCTYPE"))
                    {
                        self.declare_entities(&rest[..j]);
                    }
                    return i + j + 1;
                }
                _ => {}
            }
        }
        self.repairs.truncated = true;
        self.src.len()
    }

    /// A processing instruction: dropped (the declaration was written at the start).
    fn instruction(&mut self, i: usize) -> usize {
        match self.src[i..].find("?>") {
            Some(e) => i + e + 2,
            None => {
                self.repairs.truncated = true;
                self.src.len()
            }
        }
    }

    /// A start or end tag, or a `<` that starts none.
    ///
    /// One function: lexing the tag and the order of what follows (inside a text element,
    /// an end tag, the root, the limits, the dialect fixes, writing it) share the tag's
    /// parts; what stands alone is a call (`open_root`, `limit`, `atom_start`, `rss_start`).
    fn tag(&mut self, i: usize) -> usize {
        let src = self.src;
        let rest = &src[i..];
        let closing = rest.starts_with("</");
        if closing && let Some(end) = self.closes_innermost(rest) {
            return i + end;
        }
        let name_at = if closing { 2 } else { 1 };
        let name: &str = {
            let after = &rest[name_at..];
            match after.chars().next() {
                Some(c) if is_name_start(c) => {
                    let len = after
                        .char_indices()
                        .skip(1)
                        .find(|&(_, c)| !is_name_char(c))
                        .map_or(after.len(), |(j, _)| j);
                    &after[..len]
                }
                _ => {
                    // Not a tag: a `<` in text.
                    self.repairs.escaped += 1;
                    self.text("&lt;");
                    return i + 1;
                }
            }
        };
        let Some(tag_len) = tag_end(&rest[name_at + name.len()..]) else {
            // The document ends inside this tag: cut here.
            self.repairs.truncated = true;
            return src.len();
        };
        let attrs_src = &rest[name_at + name.len()..name_at + name.len() + tag_len];
        let end = i + name_at + name.len() + tag_len + 1;
        let name = self.rename(name);
        if let Some(esc) = self.escape.as_mut() {
            // Inside a text element: markup is text ("naked" HTML in a title or description).
            let inner_close = if closing {
                esc.inner
                    .iter()
                    .rposition(|n| n.eq_ignore_ascii_case(&name))
            } else {
                None
            };
            if closing && inner_close.is_none() {
                self.escape = None;
            } else {
                if let Some(pos) = inner_close {
                    esc.inner.truncate(pos);
                } else if !closing && !attrs_src.trim_end().ends_with('/') {
                    esc.inner.push(name.clone().into_owned());
                }
                self.repairs.escaped += 1;
                let mut t = String::from("&lt;");
                self.attr_value(&src[i + 1..end - 1], &mut t);
                t.push_str("&gt;");
                self.push(&t);
                return end;
            }
        }
        if closing {
            self.end_tag(&name);
            return end;
        }
        let self_closing = attrs_src.trim_end().ends_with('/');
        if self.stack.is_empty() && self.seen_root {
            // A second root element: whatever follows the document is not part of it.
            return src.len();
        }
        let is_root = self.stack.is_empty();
        if is_root {
            self.open_root(&name);
        }
        self.limit(&name);
        let mut attrs = self.parse_attributes(attrs_src);
        for (k, v) in &attrs {
            if let Some(p) = k.strip_prefix("xmlns:") {
                self.userland |= v.starts_with(USERLAND_NS);
                self.prefixes.insert(p.to_owned(), v.clone());
            }
        }
        let mut name = name.into_owned();
        let mut source = None;
        // Elements written just inside this one (CDF attributes as RSS elements).
        let mut inside = String::new();
        if self.kind == Kind::Rss {
            if let Some(alias) = self.rss_alias(&name, &mut attrs) {
                source = Some(std::mem::replace(&mut name, alias));
            }
            if self.cdf {
                self.cdf_element(&mut name, &mut attrs, &mut inside);
            }
        }
        let mut start = StartTag {
            name,
            attrs,
            is_root,
            self_closing,
            text_element: false,
        };
        match self.kind {
            Kind::Atom => {
                if let Some(len) = self.atom_start(&mut start, &rest[end - i..]) {
                    return end + len;
                }
            }
            Kind::Rss => self.rss_start(&mut start),
            Kind::Other => {}
        }
        let StartTag {
            name,
            attrs,
            text_element,
            ..
        } = start;
        if let Some(parent) = self.stack.last_mut()
            && parent.container
        {
            let has = &mut parent.has;
            match name.as_str() {
                "title" => has.title = true,
                "description" => has.description = true,
                "pubDate" | "dc:date" => has.published = true,
                "updated" => has.updated = true,
                "content:encoded" => has.content = true,
                _ => {}
            }
        }
        if self.emitting() {
            let tag = &mut self.out;
            tag.push('<');
            tag.push_str(&name);
            write_attributes(&attrs, tag);
            if self_closing && !inside.is_empty() {
                tag.push('>');
                tag.push_str(&inside);
                tag.push_str("</");
                tag.push_str(&name);
                tag.push('>');
                return end;
            }
            tag.push_str(if self_closing { "/>" } else { ">" });
            tag.push_str(&inside);
        } else if self_closing && !inside.is_empty() {
            return end;
        }
        if !self_closing {
            self.stack.push(Open::renamed(name, source));
            if text_element {
                self.escape = Some(Escape { inner: Vec::new() });
            }
        } else if self.skip_depth == Some(self.stack.len()) {
            self.skip_depth = None;
        }
        end
    }

    /// Atom as it was written: 0.3 and feeds in a namespace of their own read as 1.0, text
    /// constructs decoded by their mode, a link's address given as its text. `Some` when
    /// the element was written whole here: how much of `after` it took.
    fn atom_start(&mut self, t: &mut StartTag, after: &str) -> Option<usize> {
        let local_name = local(&t.name).to_owned();
        let local_name = local_name.as_str();
        if t.is_root {
            // Atom 0.3, or a feed in a namespace of its own, read as Atom 1.0.
            let ns = t.attrs.iter_mut().find(|(k, _)| k == "xmlns");
            match ns {
                Some((_, v)) if v != ATOM10_NS => {
                    *v = ATOM10_NS.to_owned();
                    self.atom03 = true;
                }
                Some(_) => {}
                None if !t.name.contains(':') => {
                    t.attrs.push(("xmlns".into(), ATOM10_NS.into()));
                    self.atom03 = true;
                }
                None => {}
            }
        }
        let atom_element = !t.name.contains(':') || t.name.starts_with("atom:");
        if atom_element
            && matches!(
                local_name,
                "title" | "subtitle" | "summary" | "content" | "rights"
            )
        {
            match self.atom_text(&mut t.attrs, after) {
                AtomText::Escape => t.text_element = true,
                AtomText::Markup => {}
                AtomText::Decoded(text, len) => {
                    let mut tag = format!("<{}", t.name);
                    write_attributes(&t.attrs, &mut tag);
                    tag.push('>');
                    self.push(&tag);
                    self.text(&text);
                    let close = format!("</{}>", t.name);
                    self.push(&close);
                    return Some(len);
                }
            }
        }
        if atom_element
            && local_name == "link"
            && !t.attrs.iter().any(|(k, _)| k == "href")
            && !t.self_closing
            && let Some((href, len)) = element_text(after, &t.name)
        {
            // As some wrote Atom (0.3 or 1.0): the address as the link's text.
            t.attrs.push(("href".into(), href.trim().to_owned()));
            let mut tag = format!("<{}", t.name);
            write_attributes(&t.attrs, &mut tag);
            tag.push_str("/>");
            self.push(&tag);
            return Some(len);
        }
        None
    }

    /// RSS as it was written: a missing `<channel>` or `version`, Userland's namespace,
    /// RSS 0.90, RDF item ids, XHTML bodies as content.
    fn rss_start(&mut self, t: &mut StartTag) {
        let local_name = local(&t.name).to_owned();
        let local_name = local_name.as_str();
        if self.stack.len() == 1
            && self.stack[0].name == "rss"
            && matches!(local_name, "item" | "title" | "link" | "description")
        {
            // `<rss>` holding items with no `<channel>` around them.
            self.push("<channel>");
            self.stack.push(Open::new("channel".into()));
            self.repairs.closed += 1;
        }
        if t.is_root && local_name == "rss" {
            if !t.attrs.iter().any(|(k, _)| k == "version") {
                t.attrs.push(("version".into(), "2.0".into()));
            }
            // RSS 2.0 elements have no namespace; a default one (Userland's
            // "http://backend.userland.com/rss2") would hide every element.
            t.attrs.retain(|(k, _)| k != "xmlns");
        }
        if t.is_root && local_name == "RDF" {
            // RSS 0.90 is read as RSS 1.0, its successor with the same elements.
            for (k, v) in t.attrs.iter_mut() {
                if k == "xmlns" && v == RSS090_NS {
                    *v = RSS10_NS.into();
                }
            }
        }
        if self.stack.first().is_some_and(|r| local(&r.name) == "RDF") {
            if local_name == "item" && self.stack.len() == 1 && self.emitting() {
                let about = t
                    .attrs
                    .iter()
                    .find(|(k, _)| k == "rdf:about")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                self.rdf_ids.push(about.clone());
                self.rdf_item = Some((about, false));
            } else if local_name == "link"
                && let Some((_, seen)) = self.rdf_item.as_mut()
            {
                *seen = true;
            }
        }
        let in_item = self.stack.iter().any(|n| n.item);
        if in_item && (local_name == "body" || local_name == "fullitem") {
            // XHTML bodies and `fullitem`: the item's content.
            t.name = "content:encoded".into();
            t.attrs.clear();
            t.attrs.push(("xmlns:content".into(), CONTENT_NS.into()));
            t.text_element = true;
        } else if matches!(t.name.as_str(), "title" | "description" | "content:encoded") {
            t.text_element = true;
        }
    }

    /// The root element says what the document is; a CDF channel is read as RSS 2.0.
    fn open_root(&mut self, name: &str) {
        self.seen_root = true;
        self.kind = match local(name) {
            "feed" => Kind::Atom,
            "rss" | "RDF" => Kind::Rss,
            n if n.eq_ignore_ascii_case("channel") => {
                // Microsoft's Channel Definition Format: a channel of items, read as
                // the RSS 2.0 it resembles.
                self.cdf = true;
                self.push("<rss version=\"2.0\">");
                self.stack.push(Open::new("rss".into()));
                Kind::Rss
            }
            _ => Kind::Other,
        };
    }

    /// Whether this element and what it holds are skipped: too deep, an entry past the
    /// limit, or an RSS person field (which we do not use, and whose parser in feed-rs 3.0
    /// panics on a non-ASCII character next to an e-mail address).
    fn limit(&mut self, name: &str) {
        let core_name = self.userland_local(name).unwrap_or(name);
        let unused_person = self.kind == Kind::Rss
            && matches!(
                core_name,
                "author" | "managingEditor" | "webMaster" | "itunes:author" | "itunes:owner"
            )
            || local(name) == "creator";
        if self.stack.len() >= self.max_depth && self.skip_depth.is_none() {
            self.repairs.too_deep += 1;
        }
        let entry = match self.kind {
            Kind::Rss => local(name) == "item",
            Kind::Atom => local(name) == "entry",
            Kind::Other => false,
        };
        let surplus_entry = entry && self.skip_depth.is_none() && {
            self.entries += 1;
            self.entries > self.max_entries
        };
        if surplus_entry {
            self.repairs.dropped_entries += 1;
        }
        if (self.stack.len() >= self.max_depth || unused_person || surplus_entry)
            && self.skip_depth.is_none()
        {
            self.skip_depth = Some(self.stack.len());
        }
    }

    /// How an Atom text element (title, summary, content...) is to be read; its `type` and
    /// `mode` attributes are rewritten to Atom 1.0's. `after` is the document after its
    /// start tag.
    fn atom_text(&mut self, attrs: &mut Vec<(String, String)>, after: &str) -> AtomText {
        let get = |attrs: &Vec<(String, String)>, k: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        let ty = get(attrs, "type").unwrap_or_else(|| "text".into());
        let mode = get(attrs, "mode");
        attrs.retain(|(k, _)| k != "mode");
        let html = ty.contains("html") && !ty.contains("xhtml");
        let xml = ty == "xhtml" || ty.ends_with("+xml") || ty.ends_with("/xml");
        let textual = matches!(ty.as_str(), "text" | "html") || ty.starts_with("text/");
        let base64 = mode.as_deref() == Some("base64") || !(textual || xml);
        let set_type = |attrs: &mut Vec<(String, String)>, t: &str| {
            attrs.retain(|(k, _)| k != "type");
            attrs.push(("type".into(), t.into()));
        };
        if base64 {
            let Some(close) = after.find("</") else {
                set_type(attrs, "text");
                return AtomText::Escape;
            };
            let inner = &after[..close];
            let close_len = after[close..]
                .find('>')
                .map_or(after.len() - close, |e| e + 1);
            let compact: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            return match decoded {
                Some(text) if !inner.contains('<') => {
                    set_type(attrs, if html { "html" } else { "text" });
                    AtomText::Decoded(escape_text(&text), close + close_len)
                }
                _ => {
                    set_type(attrs, "text");
                    AtomText::Escape
                }
            };
        }
        if xml || mode.as_deref() == Some("xml") {
            if ty != "xhtml" && (ty.contains("xhtml") || mode.as_deref() == Some("xml")) {
                set_type(attrs, "xhtml");
            }
            return AtomText::Markup;
        }
        set_type(attrs, if html { "html" } else { "text" });
        AtomText::Escape
    }

    fn end_tag(&mut self, name: &str) {
        let Some(pos) = self.stack.iter().rposition(|open| open.is(name)) else {
            self.repairs.dropped_end_tags += 1;
            return;
        };
        if local(name) == "item"
            && let Some((about, false)) = self.rdf_item.take()
        {
            // feed-rs drops an RSS 1.0 item without a link; its rdf:about is its address.
            let about = if about.is_empty() {
                "about:blank".into()
            } else {
                about
            };
            let link = format!("<link>{about}</link>");
            self.push(&link);
        }
        while self.stack.len() > pos {
            let Some(open) = self.stack.pop() else { break };
            if self.stack.len() > pos {
                self.repairs.closed += 1;
            }
            self.end_tag_text(&open.name);
            if self.skip_depth.is_some_and(|d| self.stack.len() <= d) {
                self.skip_depth = None;
            }
        }
    }

    /// The local name of an element written with a prefix bound to Userland's RSS 2.0
    /// namespace: an RSS core element.
    fn userland_local<'n>(&self, name: &'n str) -> Option<&'n str> {
        if !self.userland {
            return None;
        }
        let (prefix, local) = name.split_once(':')?;
        self.namespace(prefix)
            .starts_with(USERLAND_NS)
            .then_some(local)
    }

    /// The URI a namespace prefix stands for; an undeclared prefix that convention gives one
    /// (`dc`, `dcterms`, `itunes`, `media`, `content`) stands for that.
    fn namespace(&self, prefix: &str) -> &str {
        if let Some(uri) = self.prefixes.get(prefix) {
            return uri;
        }
        match prefix {
            "dc" => DC_NS,
            "dcterms" => DCTERMS_NS,
            "itunes" => ITUNES_NS,
            "media" => MEDIA_NS,
            "content" => CONTENT_NS,
            _ => "",
        }
    }

    /// The name an RSS element is read as where it is not its own: the core elements of RSS
    /// 2.0 written with a prefix for Userland's namespace; in an item or channel, a module's
    /// element standing in for a missing core one (`dc:title`, `dc:description`,
    /// `itunes:summary`, `media:title`, `dcterms:issued`, `dcterms:modified`); and an item's
    /// `<summary>`, read as its description, or as its content when it has a description.
    fn rss_alias(&mut self, name: &str, attrs: &mut Vec<(String, String)>) -> Option<String> {
        let (prefix, local_name) = match name.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, name),
        };
        if prefix.is_none() && !matches!(local_name, "summary" | "description") {
            // Most elements: not one of the cases below.
            return None;
        }
        if self.userland_local(name).is_some() {
            let core = RSS_ELEMENTS
                .iter()
                .find(|e| e.eq_ignore_ascii_case(local_name))
                .map_or(local_name, |e| *e);
            return Some(core.to_owned());
        }
        let uri = prefix.map(|p| self.namespace(p).to_owned());
        let parent = self.stack.last_mut()?;
        let in_item = parent.item;
        if !parent.container {
            return None;
        }
        let has = &mut parent.has;
        let content = |attrs: &mut Vec<(String, String)>| {
            attrs.retain(|(k, _)| k != "xmlns:content");
            attrs.push(("xmlns:content".into(), CONTENT_NS.into()));
            "content:encoded"
        };
        let alias = match (uri.as_deref(), local_name) {
            (Some(DC_NS), "title") if !has.title => "title",
            (Some(DC_NS), "description") if !has.description => "description",
            (Some(DCTERMS_NS), "issued") if in_item && !has.published => {
                attrs.retain(|(k, _)| k != "xmlns:dc");
                attrs.push(("xmlns:dc".into(), DC_NS.into()));
                "dc:date"
            }
            (Some(DCTERMS_NS), "modified") if in_item && !has.updated => "updated",
            (Some(u), "summary") if u.eq_ignore_ascii_case(ITUNES_NS) && !has.description => {
                "description"
            }
            (Some(MEDIA_NS), "title") if in_item && !has.title => "title",
            (None, "summary") if in_item && !has.description => {
                has.summary_first = true;
                "description"
            }
            (None, "summary") if in_item && !has.content => content(attrs),
            (None, "description") if in_item && has.summary_first && !has.content => content(attrs),
            _ => return None,
        };
        Some(alias.to_owned())
    }

    /// A CDF element as RSS: `ABSTRACT` is the description, and a channel's or item's `HREF`
    /// and an item's `LASTMOD` attributes become its `link` and `updated` elements.
    fn cdf_element(
        &self,
        name: &mut String,
        attrs: &mut Vec<(String, String)>,
        inside: &mut String,
    ) {
        if name.eq_ignore_ascii_case("abstract") {
            *name = "description".into();
            return;
        }
        if name.eq_ignore_ascii_case("channel") {
            *name = "channel".into();
        }
        if name != "channel" && name != "item" {
            return;
        }
        for (k, v) in attrs.iter() {
            if k.eq_ignore_ascii_case("href") {
                inside.push_str(&format!("<link>{v}</link>"));
            } else if k.eq_ignore_ascii_case("lastmod") && name == "item" {
                inside.push_str(&format!("<updated>{v}</updated>"));
            }
        }
        attrs.clear();
    }

    /// Reads the entities a DOCTYPE's internal subset declares, for expansion where the
    /// document refers to them. Only those whose value is plain text (character references
    /// at most) are kept: one that refers to another entity is never expanded, so nesting
    /// ("billion laughs") cannot multiply, and [`ENTITY_BUDGET`] bounds the total.
    fn declare_entities(&mut self, doctype: &str) {
        let mut rest = doctype;
        while let Some(at) = rest.find("<!ENTITY") {
            let body = rest[at + 8..].trim_start();
            rest = body;
            if body.starts_with('%') {
                continue;
            }
            let name_len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
            let name = &body[..name_len];
            let after = body[name_len..].trim_start();
            let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(value_len) = after[1..].find(q) else {
                break;
            };
            let value = &after[1..1 + value_len];
            rest = &after[1 + value_len..];
            let plain = !value.contains(['<', '%'])
                && value
                    .match_indices('&')
                    .all(|(k, _)| value[k..].starts_with("&#"));
            if name.is_empty()
                || !plain
                || value.len() > MAX_ENTITY_VALUE
                || self.entities.len() >= MAX_ENTITIES
                || self.entities.iter().any(|(n, _)| n == name)
            {
                continue;
            }
            let escaped = escape_text(&html_escape::decode_html_entities(value));
            self.entities.push((name.to_owned(), escaped));
        }
    }

    /// Atom 0.3 element names as their Atom 1.0 equivalents.
    fn rename<'n>(&self, name: &'n str) -> std::borrow::Cow<'n, str> {
        if self.kind == Kind::Rss && !name.contains(':') {
            // RSS readers take core element names in any case (`<TiTlE>`).
            if let Some(canonical) = RSS_ELEMENTS.iter().find(|e| e.eq_ignore_ascii_case(name)) {
                return (*canonical).into();
            }
        }
        if !self.atom03 {
            return name.into();
        }
        let (prefix, local) = match name.rsplit_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, name),
        };
        let new = match local {
            "issued" => "published",
            "modified" => "updated",
            "tagline" => "subtitle",
            "copyright" => "rights",
            _ => return name.into(),
        };
        match prefix {
            Some(p) => format!("{p}:{new}").into(),
            None => new.into(),
        }
    }

    /// The attributes in `src` (what follows the tag name, up to `>`), values unescaped
    /// only as far as needed to write them back well-formed: quotes and values added where
    /// HTML habits left them out, duplicates dropped.
    fn parse_attributes(&mut self, src: &str) -> Vec<(String, String)> {
        let mut attrs: Vec<(String, String)> = Vec::new();
        if src.bytes().all(|b| b.is_ascii_whitespace() || b == b'/') {
            // Most tags: no attributes.
            return attrs;
        }
        let mut chars = src.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if !is_name_start(c) {
                chars.next();
                continue;
            }
            let mut end = start;
            while let Some(&(j, c)) = chars.peek() {
                if !is_name_char(c) {
                    break;
                }
                end = j + c.len_utf8();
                chars.next();
            }
            let name = &src[start..end];
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                chars.next();
            }
            let mut value: Option<&str> = None;
            if chars.peek().is_some_and(|(_, c)| *c == '=') {
                chars.next();
                while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                    chars.next();
                }
                match chars.peek().copied() {
                    Some((q_at, q)) if q == '"' || q == '\'' => {
                        chars.next();
                        let v_start = q_at + 1;
                        let mut v_end = src.len();
                        for (j, c) in chars.by_ref() {
                            if c == q {
                                v_end = j;
                                break;
                            }
                        }
                        value = Some(&src[v_start..v_end.max(v_start)]);
                    }
                    Some((v_start, _)) => {
                        let mut v_end = src.len();
                        while let Some(&(j, c)) = chars.peek() {
                            if c.is_whitespace() {
                                v_end = j;
                                break;
                            }
                            chars.next();
                        }
                        let mut v = &src[v_start..v_end];
                        if v_end == src.len() {
                            // `<a b=c/>`: the slash closes the tag.
                            v = v.strip_suffix('/').unwrap_or(v);
                        }
                        value = Some(v);
                    }
                    None => {}
                }
            }
            if attrs.iter().any(|(k, _)| k == name) {
                continue;
            }
            let mut v = String::new();
            self.attr_value(value.unwrap_or(name), &mut v);
            attrs.push((name.to_owned(), v));
        }
        attrs
    }

    fn attr_value(&mut self, v: &str, out: &mut String) {
        let mut i = 0;
        while i < v.len() {
            let c = v[i..].chars().next().unwrap_or(' ');
            match c {
                '&' => {
                    let (piece, len) = self.entity(&v[i..]);
                    out.push_str(&piece);
                    i += len;
                    continue;
                }
                '<' => out.push_str("&lt;"),
                '"' => out.push_str("&quot;"),
                c if forbidden(c) => {}
                c => out.push(c),
            }
            i += c.len_utf8();
        }
    }
}

/// Text as XML character data: `&` and `<` escaped, characters XML forbids dropped.
pub(super) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes attributes (values already escaped) after a tag name.
fn write_attributes(attrs: &[(String, String)], out: &mut String) {
    for (k, v) in attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(v);
        out.push('"');
    }
}

/// The text of the element whose start tag `after` follows, up to its end tag `</name>`,
/// when it holds no markup; and the length of text and end tag.
fn element_text(after: &str, name: &str) -> Option<(String, usize)> {
    let close = format!("</{name}");
    let at = after.find(&close)?;
    let inner = &after[..at];
    if inner.contains('<') {
        return None;
    }
    let len = at + after[at..].find('>')? + 1;
    Some((html_escape::decode_html_entities(inner).into_owned(), len))
}

/// The local part of a qualified name.
fn local(name: &str) -> &str {
    match name.bytes().rposition(|b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Index in `s` (the tag after its name) of the `>` that ends the tag, honouring quotes.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (j, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '>' => return Some(j),
            // A tag never holds another tag: an unclosed quote ran into the next one.
            None if c == '<' => return None,
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> String {
        let r = repair_xml(s, 64, usize::MAX);
        r.text
            .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
            .unwrap()
            .to_owned()
    }

    #[test]
    fn well_formed_documents_pass_through() {
        let doc = r#"<rss version="2.0"><channel><title a="1">A &amp; B &#233; &lt;i&gt;</title><!-- c --><description><![CDATA[<p>x & y</p>]]></description></channel></rss>"#;
        assert_eq!(fix(doc), doc);
        assert!(!repair_xml(doc, 64, usize::MAX).repairs.any());
    }

    #[test]
    fn entities_and_bare_ampersands() {
        assert_eq!(
            fix("<a>Q&A &nbsp;&eacute; &bogus; &#0;&amp;</a>"),
            "<a>Q&amp;A &#160;&#233; &amp;bogus; &amp;</a>"
        );
    }

    #[test]
    fn truncated_documents_are_closed() {
        assert_eq!(
            fix("<rss version=\"2.0\"><channel><item><title>One</title></item><item><title>Tw"),
            "<rss version=\"2.0\"><channel><item><title>One</title></item><item><title>Tw</title></item></channel></rss>"
        );
        assert_eq!(fix("<a><b>x</b><c att=\"1"), "<a><b>x</b></a>");
    }

    #[test]
    fn mismatched_end_tags() {
        assert_eq!(fix("<a><b>x</a>"), "<a><b>x</b></a>");
        assert_eq!(fix("<a>x</b></a>"), "<a>x</a>");
        assert_eq!(fix("<A>x</a>"), "<A>x</A>");
    }

    #[test]
    fn rss_without_version_and_atom_03() {
        assert_eq!(
            fix("<rss><channel/></rss>"),
            "<rss version=\"2.0\"><channel/></rss>"
        );
        assert_eq!(
            fix(
                "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><modified>x</modified></feed>"
            ),
            "<feed version=\"0.3\" xmlns=\"http://www.w3.org/2005/Atom\"><updated>x</updated></feed>"
        );
    }

    #[test]
    fn doctype_declarations_and_control_characters_go() {
        let doc = "<?xml version=\"1.0\" encoding=\"koi8-r\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\n<a>&lol2;\u{1}x<?xml version=\"1.0\"?></a>";
        assert_eq!(fix(doc), "<a>&amp;lol2;x</a>");
    }

    #[test]
    fn attributes_get_quotes_and_values() {
        assert_eq!(
            fix("<a href=/x?a=1&b=2 checked title='say \"hi\"'>t</a>"),
            "<a href=\"/x?a=1&amp;b=2\" checked=\"checked\" title=\"say &quot;hi&quot;\">t</a>"
        );
    }

    #[test]
    fn stray_less_than_and_junk_outside_the_root() {
        assert_eq!(
            fix("junk <a>1 < 2</a> trailing <b>more</b>"),
            "<a>1 &lt; 2</a>"
        );
    }

    #[test]
    fn rss_names_in_any_case_and_no_default_namespace() {
        assert_eq!(
            fix(
                "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><Channel><TiTlE>t</TITLE><PUBDATE>d</pubdate></Channel></rss>"
            ),
            "<rss version=\"2.0\"><channel><title>t</title><pubDate>d</pubDate></channel></rss>"
        );
    }

    #[test]
    fn rss_person_fields_are_dropped() {
        assert_eq!(
            fix(
                "<rss version=\"2.0\"><channel><item><author>me@example.org\u{a0}(Ed)</author><dc:creator>x</dc:creator><title>t</title></item></channel></rss>"
            ),
            "<rss version=\"2.0\"><channel><item><title>t</title></item></channel></rss>"
        );
    }

    #[test]
    fn entries_past_the_limit_are_dropped_with_their_content() {
        let items: String = (0..5)
            .map(|i| format!("<item><title>t{i}</title></item><item/>"))
            .collect();
        let r = repair_xml(&format!("<rss><channel>{items}</channel></rss>"), 64, 3);
        assert_eq!(r.repairs.dropped_entries, 7);
        assert_eq!(r.text.matches("<item").count(), 3, "{}", r.text);
        assert!(
            r.text.contains("t1") && !r.text.contains("t2"),
            "{}",
            r.text
        );
        let entries = "<entry><title>e</title></entry>".repeat(4);
        let r = repair_xml(
            &format!("<feed xmlns=\"http://www.w3.org/2005/Atom\">{entries}</feed>"),
            64,
            2,
        );
        assert_eq!(r.repairs.dropped_entries, 2);
        assert_eq!(r.text.matches("<entry>").count(), 2);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "<a>".repeat(100) + "deep-text" + &"</a>".repeat(100);
        let r = repair_xml(&deep, 10, usize::MAX);
        assert_eq!(r.repairs.too_deep, 1);
        let out = r.text;
        assert_eq!(out.matches("<a>").count(), 10);
        assert_eq!(out.matches("</a>").count(), 10);
        assert!(!out.contains("deep-text"));
    }

    #[test]
    fn plain_entities_a_doctype_declares_are_expanded_once() {
        let doc = "<!DOCTYPE rss [<!ENTITY id \"tag:x,\"><!ENTITY amp2 'a &#38; b'><!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\"><!ENTITY % pe \"no\"><!ENTITY sys SYSTEM \"file:///etc/passwd\">]><a>&id;1 &amp2; &lol2; &sys;</a>";
        assert_eq!(fix(doc), "<a>tag:x,1 a &amp; b &amp;lol2; &amp;sys;</a>");
    }

    #[test]
    fn entity_expansion_is_bounded() {
        let value = "x".repeat(MAX_ENTITY_VALUE);
        let doc = format!(
            "<!DOCTYPE a [<!ENTITY e \"{value}\">]><a>{}</a>",
            "&e;".repeat(2 * ENTITY_BUDGET / MAX_ENTITY_VALUE)
        );
        let r = repair_xml(&doc, 64, usize::MAX);
        assert!(r.text.len() <= ENTITY_BUDGET + 100, "{}", r.text.len());
        assert!(r.repairs.escaped > 0);
    }

    #[test]
    fn person_fields_in_a_userland_prefix_are_dropped_too() {
        // Found by the fuzzer: `r:managingEditor` reached feed-rs's person parser, which
        // panics on a multi-byte character after an e-mail address.
        let doc = "<r:rss version=\"2.0\" xmlns:r=\"http://backend.userland.com/rss2\"><r:channel><r:managingEditor>ed@example.org\u{ab}</r:managingEditor><r:author>x</r:author><r:title>t</r:title></r:channel></r:rss>";
        let out = fix(doc);
        assert!(
            !out.contains("managingEditor") && !out.contains("author"),
            "{out}"
        );
        assert!(out.contains("<title>t</title>"), "{out}");
    }
}
