//! Feeds that are small on the wire and huge once read: shared by the hostile-server tests
//! and `benches/hostile.rs`.

use std::io::Write;

/// A JSON Feed of empty items, `{"items":[{},{},…]}`, just under `size` bytes.
pub fn json_items(size: usize) -> Vec<u8> {
    let head = br#"{"version":"https://jsonfeed.org/version/1.1","title":"bomb","items":["#;
    let tail = b"{}]}";
    let n = (size - head.len() - tail.len()) / 3;
    let mut doc = Vec::with_capacity(size);
    doc.extend_from_slice(head);
    for _ in 0..n {
        doc.extend_from_slice(b"{},");
    }
    doc.extend_from_slice(tail);
    doc
}

/// An RSS document of empty items, `<item/>` repeated, just under `size` bytes.
pub fn rss_items(size: usize) -> Vec<u8> {
    let head = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>bomb</title>";
    let tail = b"</channel></rss>";
    let n = (size - head.len() - tail.len()) / 7;
    let mut doc = Vec::with_capacity(size);
    doc.extend_from_slice(head);
    for _ in 0..n {
        doc.extend_from_slice(b"<item/>");
    }
    doc.extend_from_slice(tail);
    doc
}

/// `doc`, gzip-compressed (best compression: a few kilobytes per megabyte of repetition).
pub fn gzip(doc: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(doc).unwrap();
    enc.finish().unwrap()
}
