//! Secrets out of sight: the one way a URL becomes text for a log line, an error, a store row
//! or a command's output.
//!
//! A feed's URL may carry a password (`user:pass@`) or a key in its query (`?api_key=`); a
//! webhook's URL is often the credential itself (Slack, Discord, Teams put the token in the
//! path). [`url()`] hides the first kind, [`webhook`] shows only where a webhook goes, and
//! [`text`] finds URLs in free text (an error chain from a library) and hides theirs.

use url::Url;

/// What stands where a secret was.
pub const HIDDEN: &str = "***";

/// Query parameters whose value is a secret, by the words their names contain
/// (`api_key`, `access_token`, `client_secret`, `sig`, `X-Amz-Signature`, `auth`…).
const SECRET_WORDS: [&str; 10] = [
    "key", "token", "secret", "pass", "pwd", "sig", "auth", "session", "cred", "jwt",
];

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| name.contains(w)) || name == "code"
}

/// `u` with its password and user hidden, and the values of query parameters that look like
/// secrets hidden: `https://***@example.org/feed?api_key=***&lang=en`.
pub fn url(u: &Url) -> String {
    let mut shown = u.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        let _ = shown.set_password(None);
        let _ = shown.set_username(HIDDEN);
    }
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = shown
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_name(&k) {
                    HIDDEN.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if pairs.iter().any(|(_, v)| v == HIDDEN) {
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    shown.to_string()
}

/// Where a webhook goes, and nothing of what authorises it: scheme, host and port, with the
/// path and query hidden (`https://hooks.slack.com/***`).
pub fn webhook(u: &Url) -> String {
    let host = u.host_str().unwrap_or_default();
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let rest = if u.path() != "/" || u.query().is_some() {
        HIDDEN
    } else {
        ""
    };
    format!("{}://{host}{port}/{rest}", u.scheme())
}

/// `s` with every http(s) URL in it shown as [`url()`] shows it. For text a library made
/// (an error chain names the URL it failed on).
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        // A URL in parentheses or at the end of a sentence does not own the bracket.
        let candidate = tail[..end].trim_end_matches([')', ',', '.', ';', ':', '!', '?', ']']);
        match Url::parse(candidate) {
            Ok(u) => out.push_str(&url(&u)),
            Err(_) => out.push_str(&hide_userinfo(candidate)),
        }
        rest = &tail[candidate.len()..];
    }
    out.push_str(rest);
    out
}

/// Where the next `http://` or `https://` starts, in any case.
fn find_url(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An unparsable URL-like string with anything between `//` and `@` hidden.
fn hide_userinfo(s: &str) -> String {
    match (s.find("//"), s.find('@')) {
        (Some(a), Some(b)) if a + 2 < b => format!("{}{HIDDEN}{}", &s[..a + 2], &s[b..]),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(url(&Url::parse(input).unwrap()), expected, "{input}");
    }

    #[test]
    fn passwords_and_keys_are_hidden_and_the_rest_kept() {
        check(
            "https://reader:s3cret@example.org/feed.xml",
            "https://***@example.org/feed.xml",
        );
        check(
            "https://example.org/rss?api_key=K123&lang=en",
            "https://example.org/rss?api_key=***&lang=en",
        );
        check(
            "https://example.org/rss?X-Amz-Signature=abc&AccessToken=t&code=9&page=2",
            "https://example.org/rss?X-Amz-Signature=***&AccessToken=***&code=***&page=2",
        );
        check(
            "https://example.org/world/rss?lang=en",
            "https://example.org/world/rss?lang=en",
        );
        check(
            "http://127.0.0.1:8080/feeds/a",
            "http://127.0.0.1:8080/feeds/a",
        );
    }

    #[test]
    fn a_webhook_shows_where_it_goes_only() {
        let hook = |s: &str| webhook(&Url::parse(s).unwrap());
        assert_eq!(
            hook("https://hooks.slack.com/services/T0/B0/XOXB"),
            "https://hooks.slack.com/***"
        );
        assert_eq!(
            hook("https://discord.com/api/webhooks/1/tok?wait=true"),
            "https://discord.com/***"
        );
        assert_eq!(hook("http://127.0.0.1:9000/"), "http://127.0.0.1:9000/");
    }

    #[test]
    fn urls_in_free_text_are_hidden_wherever_they_are() {
        assert_eq!(
            text("error sending request for url (http://u:pw@127.0.0.1:1/x?token=T): refused"),
            "error sending request for url (http://***@127.0.0.1:1/x?token=***): refused"
        );
        assert_eq!(
            text("see HTTPS://a:b@example.org/p. Then https://example.org/q?key=1, done"),
            "see https://***@example.org/p. Then https://example.org/q?key=***, done"
        );
        assert_eq!(text("no url here"), "no url here");
        assert_eq!(text("http://u:p@[bad/x"), "http://***@[bad/x");
    }
}
