//! Fetching feed bytes, politely: one shared HTTP client, conditional GET with the validators
//! the server gave last time, a body cap enforced while reading, one deadline for the whole
//! fetch, bounded redirects, and an honest User-Agent.
//!
//! Expected outcomes are values ([`FetchOutcome::NotModified`]); only failures are errors, and
//! their variants are the cases the scheduler treats differently (Retry-After, backoff).

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tracing::instrument;
use url::Url;

use crate::config::FetchSettings;
use crate::domain::FeedSource;

pub use crate::domain::Validators;
use crate::net::{error_chain, install_crypto_provider, retry_after};

/// A body the server sent.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub validators: Validators,
    /// The `Content-Type` header, for the charset.
    pub content_type: Option<String>,
    /// The base for relative links: the `Content-Location` the server named (an http(s)
    /// URL, resolved against the request's), else where the body came from after redirects.
    pub url: Option<Url>,
    /// `Cache-Control: max-age`, when the server gave one.
    pub max_age: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 304: the version we hold is current (`max_age` from its `Cache-Control`, if any).
    NotModified {
        max_age: Option<Duration>,
    },
    Fetched(Fetched),
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP status {status}")]
    Status {
        status: u16,
        /// From `Retry-After` (429, 503): when the server wants to be asked again.
        retry_after: Option<Duration>,
    },
    #[error("no answer within {0:?} (fetch.timeout)")]
    Timeout(Duration),
    #[error("body larger than {limit} bytes (fetch.max_body_bytes)")]
    TooLarge { limit: u64 },
    #[error("more than {0} redirects (fetch.max_redirects)")]
    TooManyRedirects(usize),
    #[error("network error: {0}")]
    Network(String),
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
}

impl FetchError {
    /// A short, stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Status { .. } => "status",
            FetchError::Timeout(_) => "timeout",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::TooManyRedirects(_) => "redirects",
            FetchError::Network(_) => "network",
            FetchError::File { .. } => "file",
        }
    }

    /// The delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The shared fetcher: cheap to clone, one connection pool.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
}

const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
                      application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5";

impl Fetcher {
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        install_crypto_provider();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let max_redirects = settings.max_redirects;
        let client = reqwest::Client::builder()
            .user_agent(&settings.user_agent)
            .default_headers(headers)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max_redirects {
                    attempt.error(format!("more than {max_redirects} redirects"))
                } else {
                    attempt.follow()
                }
            }))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| FetchError::Network(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            settings: settings.clone(),
        })
    }

    /// Fetches a feed. For HTTP, `validators` become `If-None-Match` / `If-Modified-Since`.
    #[instrument(skip_all, fields(feed = %source))]
    pub async fn fetch(
        &self,
        source: &FeedSource,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        match source {
            FeedSource::Http(url) => {
                let deadline = self.settings.timeout;
                match tokio::time::timeout(deadline, self.fetch_http(url, validators)).await {
                    Ok(r) => r,
                    Err(_) => Err(FetchError::Timeout(deadline)),
                }
            }
            FeedSource::File(path) => self.fetch_file(path).await,
        }
    }

    async fn fetch_http(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let mut req = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut resp = req.send().await.map_err(|e| self.classify_error(e))?;
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            let max_age = resp
                .headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .and_then(max_age);
            return Ok(FetchOutcome::NotModified { max_age });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(resp.headers(), Utc::now()),
            });
        }
        let limit = self.settings.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        let mut body =
            Vec::with_capacity(resp.content_length().unwrap_or(16 * 1024).min(limit) as usize);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify_error(e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(FetchOutcome::Fetched(Fetched {
            body,
            validators: Validators {
                etag: text(header::ETAG),
                last_modified: text(header::LAST_MODIFIED),
            },
            content_type: text(header::CONTENT_TYPE),
            url: Some(base_of(
                &final_url,
                text(header::CONTENT_LOCATION).as_deref(),
            )),
            max_age: text(header::CACHE_CONTROL).as_deref().and_then(max_age),
        }))
    }

    async fn fetch_file(&self, path: &std::path::Path) -> Result<FetchOutcome, FetchError> {
        let file_err = |e: std::io::Error| FetchError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let meta = tokio::fs::metadata(path).await.map_err(file_err)?;
        if meta.len() > self.settings.max_body_bytes {
            return Err(FetchError::TooLarge {
                limit: self.settings.max_body_bytes,
            });
        }
        let body = tokio::fs::read(path).await.map_err(file_err)?;
        Ok(FetchOutcome::Fetched(Fetched {
            body,
            validators: Validators::default(),
            content_type: None,
            url: Url::from_file_path(path).ok(),
            max_age: None,
        }))
    }

    fn classify_error(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.settings.timeout)
        } else if e.is_redirect() {
            FetchError::TooManyRedirects(self.settings.max_redirects)
        } else {
            // The chain names the URL, which may carry a password or a key.
            FetchError::Network(crate::domain::redact::text(&error_chain(&e)))
        }
    }
}

/// The base URL of a document fetched from `url`: its `Content-Location`, resolved against
/// `url`, when that is an http(s) URL (a `javascript:` one is ignored), else `url`.
pub fn base_of(url: &Url, content_location: Option<&str>) -> Url {
    content_location
        .and_then(|cl| url.join(cl.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| url.clone())
}

/// `max-age` from a `Cache-Control` header (ignored with `no-cache` / `no-store`).
pub fn max_age(cache_control: &str) -> Option<Duration> {
    let mut age = None;
    for part in cache_control.split(',').map(str::trim) {
        let lower = part.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return None;
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            age = v
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_location_is_the_base_when_it_is_a_web_address() {
        let url = Url::parse("http://127.0.0.1:8097/feeds/a.xml").unwrap();
        let base = |cl| base_of(&url, cl).to_string();
        assert_eq!(base(None), "http://127.0.0.1:8097/feeds/a.xml");
        assert_eq!(base(Some("http://example.com/")), "http://example.com/");
        assert_eq!(
            base(Some("/feed/pg.cgi")),
            "http://127.0.0.1:8097/feed/pg.cgi"
        );
        assert_eq!(
            base(Some("javascript:alert(1)")),
            "http://127.0.0.1:8097/feeds/a.xml"
        );
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("max-age=600, no-cache"), None);
        assert_eq!(max_age("private"), None);
    }
}
