//! Bytes to text: which encoding a feed is really in.
//!
//! The evidence, strongest first: a byte-order mark; the byte pattern of `<?xml` in UTF-16 or
//! UTF-32; the HTTP `charset`; the XML declaration's `encoding`. A declaration that the bytes
//! contradict is overruled: bytes that are not valid in a declared multi-byte encoding, or
//! not valid UTF-8 when UTF-8 is declared or nothing is, go to a detector (chardetng), and
//! valid non-ASCII UTF-8 labelled as Latin-1 or ASCII is read as UTF-8. A feed labelled
//! Latin-1 that is really windows-1251 or KOI8-R (Cyrillic) is read as the detector says.

use std::borrow::Cow;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The text of a document, and the name of the encoding it was read as.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: &'static str,
}

/// Reads `bytes` as text. Never fails: undecodable bytes become U+FFFD. C1 control
/// characters, which no one means and which are windows-1252 punctuation that went through
/// a Latin-1 decoder on the way ("don\u{92}t"), become that punctuation ("don’t").
pub fn decode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let mut d = decode_raw(bytes, content_type);
    if has_c1(&d.text) {
        d.text = Cow::Owned(d.text.chars().map(demoronize).collect());
    }
    d
}

/// Whether the text holds a C1 control character (U+0080 to U+009F, in UTF-8 the byte 0xC2
/// and a byte from 0x80 to 0x9F): found with `memchr`, as most documents have none.
fn has_c1(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(0xC2, b).any(|i| b.get(i + 1).is_some_and(|&n| n <= 0x9F))
}

/// A C1 control character as the windows-1252 character of the same byte.
pub(crate) fn demoronize(c: char) -> char {
    if !('\u{80}'..='\u{9F}').contains(&c) {
        return c;
    }
    let byte = [c as u32 as u8];
    let (s, _) = WINDOWS_1252.decode_without_bom_handling(&byte);
    s.chars().next().filter(|d| *d != c).unwrap_or(' ')
}

fn decode_raw<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    if let Some(d) = decode_utf32(bytes) {
        return d;
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text,
            encoding: enc.name(),
        };
    }
    // UTF-16 without a BOM shows itself in the zero bytes of "<?".
    if bytes.starts_with(b"<\0?\0") {
        return whole(UTF_16LE, bytes);
    }
    if bytes.starts_with(b"\0<\0?") {
        return whole(UTF_16BE, bytes);
    }
    let declared = content_type
        .and_then(http_charset)
        .or_else(|| xml_declared_encoding(bytes))
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        // A document cannot really be in UTF-16 once its bytes did not look like it.
        .filter(|e| *e != UTF_16LE && *e != UTF_16BE);
    let utf8_ok = std::str::from_utf8(bytes).is_ok();
    match declared {
        None if utf8_ok => whole(UTF_8, bytes),
        None => whole(detect(bytes), bytes),
        Some(enc) if enc == UTF_8 => whole(if utf8_ok { UTF_8 } else { detect(bytes) }, bytes),
        Some(enc) => {
            let ascii = bytes.is_ascii();
            if ascii && enc.is_ascii_compatible() {
                return whole(UTF_8, bytes);
            }
            if enc == WINDOWS_1252 {
                // Labelled Latin-1 (or ASCII, or windows-1252: one decoder for all three),
                // the commonest wrong label: valid UTF-8 is UTF-8, and Cyrillic is Cyrillic.
                if utf8_ok {
                    return whole(UTF_8, bytes);
                }
                let guess = detect(bytes);
                if is_cyrillic(guess) {
                    return whole(guess, bytes);
                }
                return whole(enc, bytes);
            }
            let (text, had_errors) = enc.decode_without_bom_handling(bytes);
            if had_errors {
                return whole(detect(bytes), bytes);
            }
            Decoded {
                text,
                encoding: enc.name(),
            }
        }
    }
}

fn whole<'a>(enc: &'static Encoding, bytes: &'a [u8]) -> Decoded<'a> {
    let (text, _) = enc.decode_without_bom_handling(bytes);
    Decoded {
        text,
        encoding: enc.name(),
    }
}

fn is_cyrillic(enc: &'static Encoding) -> bool {
    [
        encoding_rs::WINDOWS_1251,
        encoding_rs::KOI8_R,
        encoding_rs::KOI8_U,
        encoding_rs::IBM866,
        encoding_rs::ISO_8859_5,
    ]
    .contains(&enc)
}

/// The encoding the bytes look like (chardetng, as browsers use it).
fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut d = EncodingDetector::new(Iso2022JpDetection::Deny);
    d.feed(bytes, true);
    d.guess(None, Utf8Detection::Allow)
}

/// UTF-32, which encoding_rs does not read: by BOM or by the pattern of `<`.
fn decode_utf32(bytes: &[u8]) -> Option<Decoded<'static>> {
    let (big, skip) = if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        (true, 4)
    } else if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        (false, 4)
    } else if bytes.starts_with(&[0, 0, 0, b'<']) {
        (true, 0)
    } else if bytes.starts_with(&[b'<', 0, 0, 0]) {
        (false, 0)
    } else {
        return None;
    };
    let text: String = bytes[skip..]
        .chunks_exact(4)
        .map(|c| {
            let c: [u8; 4] = c.try_into().unwrap_or_default();
            let n = if big {
                u32::from_be_bytes(c)
            } else {
                u32::from_le_bytes(c)
            };
            char::from_u32(n).unwrap_or('\u{FFFD}')
        })
        .collect();
    Some(Decoded {
        text: Cow::Owned(text),
        encoding: if big { "UTF-32BE" } else { "UTF-32LE" },
    })
}

/// `charset` of a Content-Type header value.
fn http_charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// `encoding` of the XML declaration at the start of an ASCII-compatible document.
pub(super) fn xml_declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let value = &value[..value.find(quote)?];
    Some(value.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(enc: &'static Encoding, s: &str) -> Vec<u8> {
        enc.encode(s).0.into_owned()
    }

    const RU: &str = "Кремль отверг предложение о перемирии, заявил Песков";

    #[test]
    fn declared_cyrillic_encodings_read_right() {
        for enc in [encoding_rs::WINDOWS_1251, encoding_rs::KOI8_R] {
            let mut doc =
                format!("<?xml version=\"1.0\" encoding=\"{}\"?>", enc.name()).into_bytes();
            doc.extend(encoded(enc, RU));
            let d = decode(&doc, None);
            assert!(d.text.ends_with(RU), "{}: {}", enc.name(), d.text);
        }
    }

    #[test]
    fn a_latin1_label_on_cyrillic_bytes_is_overruled() {
        for enc in [encoding_rs::WINDOWS_1251, encoding_rs::KOI8_R] {
            let mut doc = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><t>".to_vec();
            doc.extend(encoded(enc, RU));
            doc.extend(encoded(
                enc,
                " Украина и Россия обсуждают прекращение огня на Пасху",
            ));
            let d = decode(&doc, None);
            assert!(d.text.contains(RU), "{}: {}", enc.name(), d.text);
        }
    }

    #[test]
    fn unlabelled_bytes_that_are_not_utf8_are_detected() {
        let doc = encoded(
            encoding_rs::WINDOWS_1251,
            &format!("<rss><t>{RU}</t></rss>"),
        );
        assert!(decode(&doc, None).text.contains(RU));
    }

    #[test]
    fn utf8_labelled_latin1_is_read_as_utf8() {
        let doc = "<?xml version='1.0' encoding='ISO-8859-1'?><t>Zelenskyy’s “plan”</t>";
        let d = decode(doc.as_bytes(), None);
        assert_eq!(d.encoding, "UTF-8");
        assert!(d.text.contains("Zelenskyy’s “plan”"));
    }

    #[test]
    fn http_charset_outranks_the_declaration() {
        let mut doc = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><t>".to_vec();
        doc.extend(encoded(encoding_rs::KOI8_R, RU));
        let d = decode(&doc, Some("application/rss+xml; charset=\"KOI8-R\""));
        assert!(d.text.contains(RU), "{}", d.text);
    }

    #[test]
    fn boms_and_wide_encodings() {
        let s = "<?xml version=\"1.0\"?><t>Київ</t>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le, None).text, s);
        let be: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&be, None).text, s);
        let w32: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        assert_eq!(decode(&w32, None).text, s);
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(s.as_bytes());
        assert_eq!(decode(&bom8, None).text, s);
    }

    #[test]
    fn c1_controls_become_windows_1252_punctuation() {
        assert_eq!(
            decode("don\u{92}t \u{93}x\u{94}".as_bytes(), None).text,
            "don’t “x”"
        );
    }

    #[test]
    fn declaration_is_read() {
        assert_eq!(
            xml_declared_encoding(b"  <?xml version='1.0' encoding = 'koi8-r' ?><a/>").as_deref(),
            Some("koi8-r")
        );
        assert_eq!(xml_declared_encoding(b"<?xml version='1.0'?>"), None);
        assert_eq!(xml_declared_encoding(b"<rss/>"), None);
    }
}
