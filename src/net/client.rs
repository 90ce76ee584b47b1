//! The one HTTP client rapport uses for everything it fetches.
//!
//! - User-Agent `rapport/VERSION (+CONTACT_URL)`;
//! - conditional GET with the ETag and Last-Modified kept per source;
//! - gzip and brotli, with the body limit counted after decompression;
//! - one request at a time per host, a minimum interval between requests to
//!   a host, and a global concurrency limit; with several daemons, each
//!   start is also reserved through [`SharedHosts`], and a host's Retry-After
//!   (429/503) holds every request to it;
//! - a connect timeout and a total deadline that includes the body;
//! - redirects followed by hand (at most `max_redirects`), each hop checked
//!   by the SSRF guard like the first; no proxies, so nothing bypasses it.

pub use super::budget::HostBudget;
use super::guard::{self, GuardError};
use super::pacing::HostSlot;
pub use super::shared::SharedHosts;
use reqwest::header::{
    HeaderMap, HeaderValue, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use reqwest::StatusCode;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// How the client behaves; built from the `[fetch]` config section.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub contact_url: String,
    pub allow_private_networks: bool,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    pub per_host_interval: Duration,
    pub max_concurrent: usize,
    /// Where requests for a host really go (`github.com` → `http://127.0.0.1:8080`):
    /// the operator's own routing, so its targets are trusted by the guard.
    pub base_urls: BTreeMap<String, Url>,
    /// Budgets of hosts (and their subdomains) other than `per_host_interval`
    /// and one request at a time.
    pub host_budgets: BTreeMap<String, HostBudget>,
}

pub use crate::domain::polling::Validators;

#[derive(Debug)]
pub enum Fetched {
    /// 304: unchanged since the validators were issued.
    NotModified,
    Body {
        bytes: Vec<u8>,
        /// What relative links in the body are relative to: the URL finally
        /// fetched (after redirects), or the Content-Location the server named.
        base_url: Url,
        content_type: Option<String>,
        validators: Validators,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("HTTP {status} from {url}")]
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("more than {limit} redirects from {url}; the site is redirecting in a loop or too far")]
    TooManyRedirects { url: String, limit: usize },
    #[error("{url} redirected without a usable Location header")]
    BadRedirect { url: String },
    #[error("the body of {url} is larger than {limit} bytes (after decompression); rapport stops reading there")]
    TooLarge { url: String, limit: u64 },
    #[error("{url} took longer than {seconds} s in all; rapport gave up")]
    Timeout { url: String, seconds: u64 },
    #[error("could not fetch {url}: {reason}")]
    Network { url: String, reason: String },
    /// Not sent: the host asked for a pause (a 429's Retry-After), here or
    /// to another daemon.
    #[error("{host} asked rapport to pause (Retry-After); not fetched, asked again in {} s", wait.as_secs())]
    Held { host: String, wait: Duration },
}

impl FetchError {
    /// The wait a server asked for with 429/503 Retry-After.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

pub struct HttpClient {
    client: reqwest::Client,
    pub(super) settings: Arc<FetchSettings>,
    pub(super) global: Semaphore,
    /// Per host budget (a host, or a platform and its subdomains): at most
    /// its concurrency in flight, and starts at least its interval apart.
    pub(super) hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
    /// Other processes' share of the same hosts, when there are any.
    pub(super) shared: Option<Arc<dyn SharedHosts>>,
}

impl HttpClient {
    pub fn new(settings: FetchSettings) -> Result<HttpClient, FetchError> {
        let user_agent = format!("rapport/{} (+{})", env!("CARGO_PKG_VERSION"), settings.contact_url);
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(1)
            .gzip(true)
            .brotli(true)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private_networks,
            }))
            .build()
            .map_err(|e| FetchError::Network {
                url: "-".into(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(HttpClient {
            client,
            global: Semaphore::new(settings.max_concurrent.max(1)),
            settings: Arc::new(settings),
            hosts: Mutex::new(HashMap::new()),
            shared: None,
        })
    }

    /// Shares pacing, holds and robots.txt answers with other processes.
    pub fn with_shared_hosts(mut self, shared: Arc<dyn SharedHosts>) -> HttpClient {
        self.shared = Some(shared);
        self
    }

    pub fn shared_hosts(&self) -> Option<&Arc<dyn SharedHosts>> {
        self.shared.as_ref()
    }

    /// GETs a URL, following redirects by hand. The total deadline counts
    /// the time spent talking to servers, every hop and the whole body, but
    /// not the time spent waiting for a busy host's turn.
    pub async fn get(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut spent = Duration::ZERO;
        for _ in 0..=self.settings.max_redirects {
            let (target, trusted) = self.route(&current);
            if !trusted {
                guard::check_url(&target, self.settings.allow_private_networks)?;
            }
            // Held through the body, so one request per host and the global
            // limit also bound downloads.
            // Paced as the host asked for, wherever base_urls sends it: a
            // platform's budget holds for its mirror or proxy too.
            let _turn = self.take_turn(&current).await?;
            let remaining = self.settings.total_timeout.saturating_sub(spent);
            let started = Instant::now();
            let exchange = async {
                let response = self.send(&target, validators).await?;
                let status = response.status();
                if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                    let next =
                        redirect_target(&current, response.headers()).ok_or_else(|| FetchError::BadRedirect {
                            url: current.to_string(),
                        })?;
                    return Ok(Err(next));
                }
                self.finish(current.clone(), response).await.map(Ok)
            };
            let outcome = tokio::time::timeout(remaining, exchange).await;
            spent += started.elapsed();
            // Too many requests: the host's limit is on rapport, not on this
            // URL, so every request to it pauses (a 503's wait is the URL's).
            if let Ok(Err(FetchError::Status {
                status: 429,
                retry_after: Some(wait),
                ..
            })) = &outcome
            {
                self.hold(&current, *wait).await;
            }
            match outcome {
                Err(_) => {
                    return Err(FetchError::Timeout {
                        url: url.to_string(),
                        seconds: self.settings.total_timeout.as_secs(),
                    })
                }
                Ok(Err(error)) => return Err(error),
                Ok(Ok(Ok(fetched))) => return Ok(fetched),
                Ok(Ok(Err(next))) => current = next,
            }
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            limit: self.settings.max_redirects,
        })
    }

    /// POSTs `body` (with `headers`) to a URL that is itself a secret (a chat
    /// webhook's path is its key): the guard, pacing and time limit of every request, https only
    /// (plain http only to loopback, when private networks are allowed), no
    /// redirect followed, and no error that shows more of the URL than its host.
    pub async fn post_secret(
        &self,
        url: &Url,
        content_type: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<(), String> {
        let shown = format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or("?"));
        let loopback = match url.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let plain_allowed = url.scheme() == "http" && loopback && self.settings.allow_private_networks;
        if url.scheme() != "https" && !plain_allowed {
            return Err(format!(
                "{shown} is not an https address; a webhook gets rapport's data, so it must be https \
                 (plain http only to loopback with [fetch] allow_private_networks = true)"
            ));
        }
        guard::check_url(url, self.settings.allow_private_networks).map_err(|e| match e {
            GuardError::Private { address, .. } => format!(
                "{shown} points at {address}, a private or special-purpose address; rapport posts only to public addresses"
            ),
            _ => format!("{shown} is not a usable webhook address"),
        })?;
        let _turn = self
            .take_turn(url)
            .await
            .map_err(|_| format!("{shown}: the HTTP client is shutting down"))?;
        let mut request = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request.body(body).send();
        let seconds = self.settings.total_timeout.as_secs();
        let response = tokio::time::timeout(self.settings.total_timeout, request)
            .await
            .map_err(|_| format!("{shown} did not answer within {seconds} s"))?
            .map_err(|e| format!("{shown}: {}", describe(&e.without_url())))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!(
                "{shown} answered {status}, a redirect; rapport does not follow a webhook elsewhere, set its final address"
            ));
        }
        if !status.is_success() {
            return Err(format!("{shown} answered {status}"));
        }
        Ok(())
    }

    /// Rewrites a URL through `base_urls`; the bool says whether the
    /// destination is the operator's own (trusted) routing.
    fn route(&self, url: &Url) -> (Url, bool) {
        let Some(base) = url.host_str().and_then(|h| self.settings.base_urls.get(h)) else {
            return (url.clone(), false);
        };
        let mut routed = base.clone();
        let base_path = base.path().trim_end_matches('/');
        routed.set_path(&format!("{base_path}{}", url.path()));
        routed.set_query(url.query());
        (routed, true)
    }

    async fn send(&self, url: &Url, validators: &Validators) -> Result<reqwest::Response, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        request.send().await.map_err(|e| FetchError::Network {
            url: url.to_string(),
            reason: describe(&e),
        })
    }

    async fn finish(&self, url: Url, mut response: reqwest::Response) -> Result<Fetched, FetchError> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let base_url = header(reqwest::header::CONTENT_LOCATION)
            .and_then(|l| url.join(&l).ok())
            .unwrap_or_else(|| url.clone());
        let limit = self.settings.max_body_bytes;
        // Content-Length is of the encoded body; the decoded size is counted below.
        if response.content_length().is_some_and(|declared| declared > limit) {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Network {
            url: url.to_string(),
            reason: describe(&e),
        })? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            bytes,
            base_url,
            content_type,
            validators,
        })
    }
}

fn redirect_target(from: &Url, headers: &HeaderMap) -> Option<Url> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    from.join(location).ok()
}

/// Retry-After as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// reqwest's error with its causes, which carry the useful part.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Resolves host names and drops every address the guard refuses, so a name
/// that points into a private network cannot be connected to.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || guard::is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                let shown: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "{host} resolves only to private or special-purpose addresses ({}); rapport fetches only public addresses",
                    shown.join(", ")
                )
                .into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}
