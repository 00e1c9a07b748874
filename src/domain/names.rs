//! Newtypes for names and addresses that come from the config file.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

/// The stable identity of a feed: it keys the feed's state and its items' keys in the store,
/// so renaming a feed makes its items new again while changing its URL does not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedName(String);

impl FeedName {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > 100 {
            return Err("must be at most 100 characters".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!(
                "{c:?} is not allowed (use letters, digits, '-', '_' and '.')"
            ));
        }
        Ok(FeedName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FeedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a feed is read from: the web, or a local file (for replays, demos and tests).
#[derive(Clone, PartialEq, Eq)]
pub enum FeedSource {
    Http(Url),
    File(PathBuf),
}

/// As it is displayed: a password or key in the URL hidden, even in `{:?}`.
impl fmt::Debug for FeedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FeedSource({})", self.display())
    }
}

impl FeedSource {
    /// The host a fetch goes to, with its port (`news.example.org`, `127.0.0.1:8080`), for
    /// per-host limits; `None` for a file.
    pub fn host(&self) -> Option<String> {
        match self {
            FeedSource::Http(u) => Some(match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{}:{p}", h.to_ascii_lowercase()),
                (Some(h), None) => h.to_ascii_lowercase(),
                (None, _) => String::new(),
            }),
            FeedSource::File(_) => None,
        }
    }

    /// Parses a feed location. `http(s)://` and `file://` URLs are taken as they are; a plain
    /// path must be absolute or start with `./` or `../`, and then it is resolved against
    /// `base_dir` (the directory of the config file), never against the working directory.
    /// Anything else ("example.org/rss") is refused, because it is most often a URL that lost
    /// its scheme.
    pub fn parse(s: &str, base_dir: Option<&Path>) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.starts_with('/') {
            return Ok(FeedSource::File(PathBuf::from(s)));
        }
        if s.starts_with("./") || s.starts_with("../") {
            return match base_dir {
                Some(dir) => Ok(FeedSource::File(normalize_lexically(&dir.join(s)))),
                None => Err("relative path without a base directory".into()),
            };
        }
        match Url::parse(s) {
            Ok(url) => match url.scheme() {
                "http" | "https" => {
                    if url.host_str().is_none_or(str::is_empty) {
                        return Err("URL has no host".into());
                    }
                    Ok(FeedSource::Http(url))
                }
                "file" => url
                    .to_file_path()
                    .map(FeedSource::File)
                    .map_err(|()| "file URL is not a local absolute path".to_string()),
                other => Err(format!(
                    "unsupported scheme {other:?} (use http, https, file or a path)"
                )),
            },
            Err(url::ParseError::RelativeUrlWithoutBase) => Err(
                "relative URL without a base (write https://... for a web feed, or ./path for \
                 a file next to the config file)"
                    .into(),
            ),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The form shown in logs, errors and the store: a password or key in the URL hidden
    /// ([`super::redact::url()`]).
    pub fn display(&self) -> String {
        match self {
            FeedSource::Http(url) => super::redact::url(url),
            FeedSource::File(path) => path.display().to_string(),
        }
    }
}

impl fmt::Display for FeedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// An email address, checked enough that it can never carry a header injection and that
/// typos like a missing `@` fail at config time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("{s:?} is not an email address (no '@')"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(format!(
                "{s:?}: the part before '@' must be 1 to 64 characters"
            ));
        }
        if domain.is_empty() || domain.len() > 253 {
            return Err(format!("{s:?}: the domain must be 1 to 253 characters"));
        }
        let bad_local = |c: char| {
            c.is_ascii_control()
                || c.is_whitespace()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '\\' | '"' | '@'
                )
        };
        if local.chars().any(bad_local) {
            return Err(format!(
                "{s:?}: the part before '@' has a forbidden character"
            ));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !domain.split('.').all(label_ok) {
            return Err(format!("{s:?}: {domain:?} is not a valid domain"));
        }
        Ok(EmailAddress(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sender or recipient: an address with an optional display name,
/// written `Name <addr@example.org>` or `addr@example.org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

impl Mailbox {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.chars().any(|c| c.is_control()) {
            return Err("must not contain control characters or line breaks".into());
        }
        match (s.rfind('<'), s.ends_with('>')) {
            (Some(open), true) => {
                let name = s[..open].trim().trim_matches('"').trim();
                let address = EmailAddress::parse(&s[open + 1..s.len() - 1])?;
                Ok(Mailbox {
                    name: (!name.is_empty()).then(|| name.to_owned()),
                    address,
                })
            }
            (None, false) => Ok(Mailbox {
                name: None,
                address: EmailAddress::parse(s)?,
            }),
            _ => Err(format!(
                "{s:?} is not of the form `Name <addr@example.org>` or `addr@example.org`"
            )),
        }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

/// Removes `.` and `..` components without touching the file system, so logs show
/// `/srv/cw/state` rather than `/srv/cw/config/../state`.
pub fn normalize_lexically(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A link that is safe to show as one: an absolute http(s) URL (never `javascript:` or
/// `data:`, whatever a feed says).
pub fn web_link(link: Option<&str>) -> Option<&str> {
    link.filter(|l| url::Url::parse(l).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_sources() {
        let base = Path::new("/etc/cw");
        assert!(matches!(
            FeedSource::parse("https://example.org/rss", Some(base)),
            Ok(FeedSource::Http(_))
        ));
        assert_eq!(
            FeedSource::parse("./feeds/a.xml", Some(base)).unwrap(),
            FeedSource::File(PathBuf::from("/etc/cw/feeds/a.xml"))
        );
        assert_eq!(
            FeedSource::parse("file:///tmp/a.xml", None).unwrap(),
            FeedSource::File(PathBuf::from("/tmp/a.xml"))
        );
        let err = FeedSource::parse("example.org/rss", Some(base)).unwrap_err();
        assert!(err.starts_with("relative URL without a base"), "{err}");
        assert!(FeedSource::parse("ftp://example.org/rss", None).is_err());
        assert!(FeedSource::parse("javascript:alert(1)", None).is_err());
        assert!(FeedSource::parse("", None).is_err());
    }

    #[test]
    fn email_addresses() {
        assert!(EmailAddress::parse("ops@example.org").is_ok());
        assert!(EmailAddress::parse("a@localhost").is_ok());
        for bad in [
            "ops",
            "@example.org",
            "ops@",
            "o ps@example.org",
            "ops@exa mple.org",
            "ops@example.org\r\nBcc: x@y.z",
            "ops@-example.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn mailboxes() {
        let m = Mailbox::parse("Ceasefire Watch <alerts@example.org>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Ceasefire Watch"));
        assert_eq!(m.address.as_str(), "alerts@example.org");
        assert_eq!(m.to_string(), "Ceasefire Watch <alerts@example.org>");
        assert!(Mailbox::parse("alerts@example.org").unwrap().name.is_none());
        assert!(Mailbox::parse("Evil\r\nBcc: x <a@b.c>").is_err());
        assert!(Mailbox::parse("Name <a@b.c").is_err());
    }

    #[test]
    fn feed_names() {
        assert!(FeedName::parse("guardian-ukraine").is_ok());
        assert!(FeedName::parse("").is_err());
        assert!(FeedName::parse("has space").is_err());
    }
}
