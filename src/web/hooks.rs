//! `POST /hooks/PROVIDER`: deliveries from Calendly, Cal.com, DocuSign
//! Connect and PandaDoc. No session and no token: the signature over the raw
//! body is the permission, checked before anything is parsed. A refusal is
//! answered 401 and logged with its reason (never the secret); a delivery of
//! a kind rapport does not record is answered 200 so the provider does not
//! retry it; a failure on rapport's side is 500, so the provider retries and
//! the delivery's key keeps the retry from adding anything twice.

use super::api::problem::Problem;
use super::{limits, WebState};
use crate::app::hooks::{self, Delivery, HookError};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::SocketAddr;

pub async fn deliver(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lowered: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_ascii_lowercase(), value.to_str().ok()?.to_string())))
        .collect();
    let delivery = Delivery {
        provider: &provider,
        headers: &lowered,
        query: query.as_deref().unwrap_or_default(),
        body: &body,
    };
    let client = limits::client_address(peer.ip(), &headers, &state.core.settings.config.http.trusted_proxies);
    let received = hooks::receive(&state.core, delivery).await;
    let result = match &received {
        Ok(r) if r.ignored.is_some() => "ignored",
        Ok(_) => "recorded",
        Err(HookError::UnknownProvider(_)) => "unknown_provider",
        Err(HookError::Refused(_)) => "refused",
        Err(HookError::App(_)) => "failed",
    };
    // An unknown provider's name is the caller's text: counted under one label.
    let provider_label = match &received {
        Err(HookError::UnknownProvider(_)) => "unknown".to_string(),
        _ => provider.clone(),
    };
    ::metrics::counter!(crate::metrics::names::WEBHOOKS, "provider" => provider_label, "result" => result).increment(1);
    match received {
        Ok(received) => {
            match &received.ignored {
                // A kind rapport does not record is routine; a signed body it cannot read is not.
                Some(reason) if reason.contains("rapport records") => {
                    tracing::info!(provider, %client, reason, "webhook delivery not recorded")
                }
                Some(reason) => tracing::warn!(provider, %client, reason, "signed webhook delivery could not be read"),
                None => tracing::info!(
                    provider,
                    recorded = received.recorded,
                    unmatched = received.unmatched,
                    sequences_stopped = received.sequences_stopped,
                    "webhook delivery recorded"
                ),
            }
            (StatusCode::OK, Json(received)).into_response()
        }
        Err(HookError::UnknownProvider(_)) => Problem::new(
            StatusCode::NOT_FOUND,
            format!("there is no webhook provider '{provider}'"),
        )
        .into_response(),
        Err(HookError::Refused(reason)) => {
            tracing::warn!(provider, %client, reason, "webhook delivery refused");
            Problem::new(StatusCode::UNAUTHORIZED, format!("refused: {reason}")).into_response()
        }
        Err(HookError::App(e)) => {
            tracing::error!(provider, error = %e, "webhook delivery failed; the provider will retry it");
            e.into_response()
        }
    }
}
