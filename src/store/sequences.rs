//! Prospects' places in cold email sequences: enrolling (one or many, in
//! one transaction), listing, claiming the due ones with a lease and giving
//! back what a pass did not touch; and the newest posts templates quote.

use super::{Enrolment, NewEnrolment, RepScope, StoreResult};
use crate::domain::event::Actor;
use crate::domain::prospect::ProspectId;
use crate::domain::sequence::enrolment::PostSummary;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[async_trait]
pub trait SequenceStore: Send + Sync {
    /// Enrols a prospect with a `sequence.enrolled` event; `Ok(Err(sequence))`
    /// when they are already in a running one.
    async fn enroll(
        &self,
        enrolment: &NewEnrolment,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, String>>;
    /// Enrols many in one transaction: each its id, or the sequence already running.
    async fn enroll_many(
        &self,
        enrolments: &[NewEnrolment],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Result<i64, String>>>;
    async fn list_enrolments(&self, scope: RepScope, sequence: Option<&str>) -> StoreResult<Vec<Enrolment>>;
    /// Gives back claimed enrolments (due at `now`) that still carry the
    /// lease they were claimed with, i.e. were not dealt with.
    async fn release_enrolments(&self, claims: &[(i64, DateTime<Utc>)], now: DateTime<Utc>) -> StoreResult<()>;
    /// Extends claims (id, the lease they carry) not yet dealt with to
    /// `lease_until`: the sending pass's heartbeat. An enrolment already moved
    /// on (sent, deferred, stopped) or claimed by another worker no longer
    /// carries that lease and is left alone. Returns the ids extended.
    async fn renew_enrolment_claims(
        &self,
        claims: &[(i64, DateTime<Utc>)],
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>>;
    /// Claims up to `limit` running enrolments due at `now` (oldest first),
    /// moving their next due time to `lease_until` so no other worker takes them.
    async fn claim_due_enrolments(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Enrolment>>;
    /// The sequence each of these prospects is running, if any.
    async fn running_sequences_of(&self, prospects: &[ProspectId]) -> StoreResult<HashMap<ProspectId, String>>;
    /// The prospect's newest post from the feeds.
    async fn latest_post(&self, scope: RepScope, prospect: ProspectId) -> StoreResult<Option<PostSummary>>;
    /// The newest post of each of these prospects that has one.
    async fn latest_posts(&self, prospects: &[ProspectId]) -> StoreResult<HashMap<ProspectId, PostSummary>>;
}
