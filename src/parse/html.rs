//! HTML to plain text: tags become spaces, the content of script, style and similar elements
//! is dropped, entities are decoded, white space is folded. Feed text is never passed on as
//! HTML; this is the only place that reads it.

/// Elements whose content is never text a reader sees: code, styles, frames and the
/// fallbacks for them (HTML's raw-text elements and their kin). As in an HTML parser, one
/// left open runs to the end. Everything else keeps its text, including the fallback text of
/// `object` and `iframe` (as feedparser's sanitizer keeps it: text a publisher wrote for
/// readers without frames) and the titles of SVG and MathML.
const DROP_CONTENT: &[&str] = &[
    "script", "style", "noscript", "template", "frameset", "noembed", "noframes", "applet",
];

/// Elements that do not break a line: text on both sides runs on.
const INLINE: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "blink", "cite", "code", "data", "del",
    "dfn", "em", "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "s", "samp", "small",
    "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
];

/// Converts an HTML fragment (or plain text that may hold entities) to folded plain text.
pub fn html_to_text(input: &str) -> String {
    let bytes = input.as_bytes();
    if memchr::memchr2(b'<', b'&', bytes).is_none() {
        return fold_whitespace(input);
    }
    let mut out = String::with_capacity(input.len());
    // Where the last `>` is: a declaration opened after it never closes.
    let last_gt = memchr::memrchr(b'>', bytes);
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        match memchr::memchr(b'<', &bytes[i..]) {
            Some(off) => i += off,
            None => break,
        }
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        let is_tag = next.is_ascii_alphabetic() || next == b'/' || next == b'!' || next == b'?';
        // A declaration (`<!DOCTYPE`, `<?xml`) that never closes is not markup but text
        // that looks like it, as in a title about HTML.
        let open_declaration = matches!(next, b'!' | b'?')
            && !input[i..].starts_with("<!--")
            && !input[i..].starts_with("<![CDATA[")
            && last_gt.is_none_or(|g| g < i);
        if !is_tag || open_declaration {
            i += 1;
            continue;
        }
        push_text(&mut out, &input[text_start..i]);
        if input[i..].starts_with("<!--") {
            // A comment never closed ends at the next `>`, so it cannot swallow the text.
            i = input[i + 4..]
                .find("-->")
                .map(|e| i + 4 + e + 3)
                .or_else(|| input[i + 4..].find('>').map(|e| i + 4 + e + 1))
                .unwrap_or(bytes.len());
        } else if input[i..].starts_with("<![CDATA[") {
            let end = input[i + 9..]
                .find("]]>")
                .map_or(bytes.len(), |e| i + 9 + e);
            push_text(&mut out, &input[i + 9..end]);
            i = (end + 3).min(bytes.len());
        } else {
            let tag_end = find_tag_end(bytes, i + 1);
            let closing = next == b'/';
            let name_start = if closing { i + 2 } else { i + 1 };
            let name_end = (name_start..tag_end)
                .find(|&j| {
                    !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-' || bytes[j] == b':')
                })
                .unwrap_or(tag_end);
            let name = input[name_start..name_end].to_ascii_lowercase();
            let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
            i = (tag_end + 1).min(bytes.len());
            if !closing && !self_closing && DROP_CONTENT.contains(&name.as_str()) {
                i = skip_element(input, i, &name);
            }
            // Block elements and line breaks separate words; inline ones do not
            // ("Kre<b>mlin</b>" is one word).
            if !INLINE.contains(&name.as_str()) {
                out.push(' ');
            }
        }
        text_start = i;
    }
    if text_start < bytes.len() {
        push_text(&mut out, &input[text_start..]);
    }
    fold_whitespace(&out)
}

/// Index of the `>` that closes the tag starting before `from`, honouring quoted attributes.
fn find_tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (j, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return j,
            None => {}
        }
    }
    bytes.len()
}

/// Skips to just after `</name ...>`, case-insensitively, or to the end.
fn skip_element(input: &str, from: usize, name: &str) -> usize {
    let bytes = input.as_bytes();
    let mut i = from;
    while let Some(off) = input[i..].find("</") {
        let start = i + off + 2;
        let end = start + name.len();
        if end <= bytes.len()
            && input.is_char_boundary(end)
            && input[start..end].eq_ignore_ascii_case(name)
            && bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            return (find_tag_end(bytes, end) + 1).min(bytes.len());
        }
        i = start;
    }
    bytes.len()
}

fn push_text(out: &mut String, text: &str) {
    if text.contains('&') {
        out.push_str(&html_escape::decode_html_entities(text));
    } else {
        out.push_str(text);
    }
}

/// Folds every run of white space (including no-break spaces) to one space, drops control
/// and zero-width characters, and trims.
///
/// Runs of visible ASCII, most of any text, are copied whole; only other characters are
/// decoded one by one.
pub fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_graphic() {
            let start = i;
            i += 1;
            loop {
                while i < bytes.len() && bytes[i].is_ascii_graphic() {
                    i += 1;
                }
                // A single space between visible characters stays in the run.
                if bytes.get(i) == Some(&b' ') && bytes.get(i + 1).is_some_and(u8::is_ascii_graphic)
                {
                    i += 2;
                    continue;
                }
                break;
            }
            if space {
                out.push(' ');
                space = false;
            }
            out.push_str(&s[start..i]);
            continue;
        }
        if b.is_ascii() {
            // Space, tab, line breaks, vertical tab and form feed are white space; other
            // ASCII controls are dropped.
            if b == b' ' || (0x09..=0x0D).contains(&b) {
                space = !out.is_empty();
            }
            i += 1;
            continue;
        }
        let rest = &s[i..];
        let Some(c) = rest.chars().next() else { break };
        i += c.len_utf8();
        fold_char(&mut out, &mut space, super::decode::demoronize(c));
    }
    out
}

/// One character outside ASCII, as [`fold_whitespace`] treats every character.
fn fold_char(out: &mut String, space: &mut bool, c: char) {
    if c.is_whitespace() || c == '\u{00A0}' {
        *space = !out.is_empty();
    } else if c.is_control()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{2060}'
        )
    {
        // Dropped.
    } else {
        if *space {
            out.push(' ');
            *space = false;
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(html: &str, want: &str) {
        assert_eq!(html_to_text(html), want, "input: {html:?}");
    }

    #[test]
    fn converts() {
        check("plain   text\n here", "plain text here");
        check(
            "<p>Kremlin <b>rejects</b> truce</p>",
            "Kremlin rejects truce",
        );
        check(
            "a&nbsp;b &amp; c &lt;d&gt; &#8217; &#x2014; &rsquo;",
            "a b & c <d> ’ — ’",
        );
        check("x<script>alert('<p>hi</p>')</script>y", "x y");
        check("x<STYLE type=\"text/css\">p { color: red }</STYLE>y", "x y");
        check("x<iframe src=\"evil\">fallback</iframe>y", "x fallback y");
        check("x<!-- comment <b> -->y", "xy");
        check("sa<!-- -- unclosed >fe<script>alert(1)</script>", "safe");
        check(
            "Kre<b>mlin</b> <i>said</i><br>no<p>more</p>",
            "Kremlin said no more",
        );
        // C1 controls, raw or as references, are windows-1252 punctuation.
        check("don\u{92}t \u{93}x\u{94} &#146;", "don’t “x” ’");
        check(
            "a<object data=\"x.swf\">fallback</object>b<embed src=\"y\">c",
            "a fallback b c",
        );
        check("<img src=x onerror=\"alert(1)\">caption", "caption");
        check("<a href='a>b'>link</a>", "link");
        check("5 < 6 and 7 > 3", "5 < 6 and 7 > 3");
        check("<br/>one<br>two", "one two");
        check("unterminated <b", "unterminated");
        check("About <!DOCTYPE html", "About <!DOCTYPE html");
        check("x <!DOCTYPE html> y", "x y");
        check("<script>never closed", "");
        check("\u{200B}zero\u{FEFF}width\u{0007}", "zerowidth");
    }

    /// The character-at-a-time definition that [`fold_whitespace`] computes faster.
    fn fold_reference(s: &str) -> String {
        let mut out = String::new();
        let mut space = false;
        for c in s.chars().map(crate::parse::decode::demoronize) {
            fold_char(&mut out, &mut space, c);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn fold_whitespace_agrees_with_its_definition(
            s in "([a-z.,]{1,6}|[ \t\n\r\x0b\x0c\x00\x07\x1c\x7f]|\u{a0}|\u{85}|\u{92}|\u{200b}|\u{2003}|\u{e9}|\u{feff}){0,20}",
        ) {
            proptest::prop_assert_eq!(fold_whitespace(&s), fold_reference(&s));
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "<",
            "&",
            "<!--",
            "<![CDATA[",
            "</",
            "<a",
            "<script",
            "&#xFFFFFFFF;",
            "<scr\u{e9}ipt>",
            "</scrip\u{e9}",
        ] {
            let _ = html_to_text(s);
        }
    }
}
