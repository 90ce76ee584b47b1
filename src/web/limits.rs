//! Limits on each request: an answer within `http.request_timeout_secs`, a
//! body no larger than the routes take (`http.max_body_bytes`, and
//! `http.max_import_bytes` for the import page), pages made a few at a time,
//! and
//! for unsubscribe links that do not verify a rate per client address
//! (`http.unsubscribe_per_minute`), so nobody walks the token space.

use crate::config::HttpConfig;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Client addresses remembered before the limiter forgets idle ones.
const REMEMBERED_CLIENTS: usize = 10_000;

#[derive(Clone)]
pub struct RequestLimits {
    pub timeout: Duration,
}

impl RequestLimits {
    pub fn from_config(http: &HttpConfig) -> RequestLimits {
        RequestLimits {
            timeout: Duration::from_secs(http.request_timeout_secs.max(1)),
        }
    }
}

/// Answers 503 to a request not answered in time.
pub async fn bound_request(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took too long; try again\n",
        )
            .into_response(),
    }
}

/// The largest body the routes of a router read.
#[derive(Clone, Copy)]
pub struct BodySize(pub usize);

/// Gives a router's routes a body limit: a body declared larger is refused
/// with 413 before the handler runs (also by handlers that read no body),
/// and axum stops reading one that turns out larger.
pub fn limit_bodies<S: Clone + Send + Sync + 'static>(router: Router<S>, max: usize) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(max))
        .route_layer(middleware::from_fn_with_state(BodySize(max), refuse_larger))
}

async fn refuse_larger(State(BodySize(max)): State<BodySize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    }
    next.run(request).await
}

/// At most so many pages or API answers in the making at once; the rest
/// wait for a turn (within the request's time limit).
#[derive(Clone)]
pub struct RenderTurns(pub Arc<tokio::sync::Semaphore>);

impl RenderTurns {
    pub fn from_config(http: &HttpConfig) -> RenderTurns {
        RenderTurns(Arc::new(tokio::sync::Semaphore::new(http.max_concurrent_pages.max(1))))
    }
}

pub async fn take_turn(State(turns): State<RenderTurns>, request: Request, next: Next) -> Response {
    match turns.0.clone().acquire_owned().await {
        Ok(_turn) => next.run(request).await,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response(),
    }
}

/// Requests per client address; IPv6 clients count per /64, the block one
/// subscriber usually has.
#[derive(Clone)]
pub struct ClientRate {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl ClientRate {
    pub fn per_minute(limit: u32) -> ClientRate {
        let quota = Quota::per_minute(NonZeroU32::new(limit.max(1)).unwrap_or(NonZeroU32::MIN));
        ClientRate {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// `Ok` to serve, or how long the client must wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > REMEMBERED_CLIENTS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client_key(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The client a request comes from: the peer, or for a request from a
/// trusted reverse proxy, the last `X-Forwarded-For` address that is not
/// itself a trusted proxy (earlier entries are the client's own word).
pub fn client_address(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| normalized(*t) == normalized(*ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !is_trusted(ip)).unwrap_or(peer)
}

fn normalized(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub(crate) fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

/// 429 with Retry-After for a client over its rate.
pub fn too_many(client: IpAddr, wait: Duration) -> Response {
    tracing::warn!(client = %client, "invalid unsubscribe links over the per-client rate");
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
        "too many requests; try again in a minute\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_waits_and_others_do_not() {
        let rate = ClientRate::per_minute(3);
        let one: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "198.51.100.9".parse().unwrap();
        for _ in 0..3 {
            assert!(rate.check(one).is_ok());
        }
        let wait = rate.check(one).expect_err("over the rate");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60), "{wait:?}");
        assert!(rate.check(other).is_ok());
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_last_untrusted_forwarded_address() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        assert_eq!(client_address(proxy, &headers, &[proxy]).to_string(), "203.0.113.7");
        headers.insert("x-forwarded-for", "203.0.113.7, 127.0.0.1".parse().unwrap());
        assert_eq!(
            client_address(proxy, &headers, &[proxy]).to_string(),
            "203.0.113.7",
            "a chain of trusted proxies"
        );
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(
            client_address(stranger, &headers, &[proxy]),
            stranger,
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_address(proxy, &headers, &[]),
            proxy,
            "no proxy trusted: the peer"
        );
        assert_eq!(client_address(proxy, &axum::http::HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn an_ipv6_subscriber_counts_once_per_64() {
        let rate = ClientRate::per_minute(1);
        assert!(rate.check("2001:db8:1:2::1".parse().unwrap()).is_ok());
        assert!(rate.check("2001:db8:1:2:ffff::9".parse().unwrap()).is_err());
        assert!(rate.check("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }
}
