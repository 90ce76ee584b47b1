// TEMPORARY STUB
use serde::Serialize;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BounceReason { UserUnknown }
#[derive(Debug, Clone, Serialize)]
pub struct FailedRecipient { pub address: String, pub status: Option<String>, pub reason: BounceReason, pub hard: bool }
