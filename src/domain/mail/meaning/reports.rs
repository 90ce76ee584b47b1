//! What reports about mail sent mean: bounces and complaints (one event per
//! failed recipient who is a prospect, acting only when tied to mail sent to
//! them) and challenge/response filters (an event and a task for the rep).
//! Anything not tied is recorded as unverified and changes nothing.

use super::*;

/// A challenge/response filter holding mail to a prospect: an event, and a
/// task for the rep with the link to verify with (rapport never follows it).
/// Only a challenge tied to mail sent to that prospect makes the task; any
/// other is recorded as unverified, since a forged one is a phishing link.
pub(super) fn challenge_effects(
    envelope: &Envelope,
    reading: &Classification,
    contacts: &MailContacts,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    let named = || {
        reading
            .challenged
            .iter()
            .find_map(|address| contacts.by_email.get(&address.to_lowercase()).copied())
    };
    let Some(prospect) = answered_prospect(envelope, contacts)
        .or_else(|| sender_prospect(envelope, contacts))
        .or_else(named)
    else {
        return Vec::new();
    };
    let challenged = Challenged {
        mail: received(envelope, reading),
        link: reading.verification_link.clone(),
    };
    let address = prospect_address(contacts, prospect).unwrap_or_default();
    let quoted = quoted_ids(envelope, reading);
    if let Tie::Unverified(why) = tie(
        &contacts.evidence,
        &quoted,
        prospect,
        &address,
        received_at(envelope, now),
    ) {
        return vec![unverified(
            prospect,
            "challenge",
            &why,
            envelope,
            actor,
            now,
            to_data(&challenged),
        )];
    }
    let instruction = match &challenged.link {
        Some(_) => "verify yourself with their spam filter: open the link and confirm you are a person \
                    (rapport never opens it); their sequence waits until this is done"
            .to_string(),
        None => "verify yourself with their spam filter (the message gives no link: answer it as it asks); \
                 their sequence waits until this is done"
            .to_string(),
    };
    vec![MailEffect {
        event: event(prospect, EMAIL_CHALLENGED, envelope, actor, now, to_data(&challenged)),
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
        task: Some(MailTask {
            prospect,
            instruction,
            link: challenged.link,
            logs: EMAIL_VERIFIED.to_string(),
            key: format!("challenge:{}", keys::mail(prospect, &envelope.message_id)),
        }),
    }]
}

/// A report that changes nothing: recorded for the rep to look at.
pub(super) fn unverified(
    prospect: ProspectId,
    report: &str,
    why: &str,
    envelope: &Envelope,
    actor: &Actor,
    now: DateTime<Utc>,
    details: serde_json::Value,
) -> MailEffect {
    let data = merge(details, json!({ "report": report, "unverified": why }));
    MailEffect {
        event: event(prospect, EMAIL_UNVERIFIED, envelope, actor, now, data),
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
        task: None,
    }
}

/// A bounce or spam complaint: one event per failed recipient who is a
/// prospect, acting only when the report is tied to mail sent to them.
pub(super) fn report_effects(
    envelope: &Envelope,
    reading: &Classification,
    contacts: &MailContacts,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    let quoted = quoted_ids(envelope, reading);
    // The bounced message tells whose it was only when the report names no
    // address: a named address that is no prospect's (a colleague in Cc) is not theirs.
    // A complaint whose addresses are redacted (`xxxxxxxx@example.com`,
    // `redacted@...`) names nobody, so it too is tied through the quoted id.
    let complaint = reading.class == MailClass::FeedbackReport;
    let names_nobody = reading
        .recipients
        .iter()
        .all(|r| is_redacted(&r.address) || complaint && !contacts.by_email.contains_key(&r.address.to_lowercase()));
    let by_original = quoted
        .iter()
        .find_map(|id| contacts.by_sent_id.get(id).copied())
        .filter(|_| names_nobody);
    let kind = if complaint { EMAIL_COMPLAINED } else { EMAIL_BOUNCED };
    let report = if complaint { "complaint" } else { "bounce" };
    let mut effects: Vec<MailEffect> = Vec::new();
    for recipient in &reading.recipients {
        // The address the report names, or another it gives for the same recipient
        // (Original-Recipient of forwarded mail): whichever the rep sent to.
        let Some((address, prospect)) = std::iter::once(&recipient.address)
            .chain(&recipient.aliases)
            .map(|a| a.to_lowercase())
            .find_map(|a| contacts.by_email.get(&a).copied().map(|p| (a, p)))
        else {
            continue;
        };
        if effects.iter().any(|e| e.event.prospect_id == prospect) {
            continue;
        }
        let hard = recipient.hard && !complaint;
        let report_of = Bounced {
            recipient: Some(address.clone()),
            status: recipient.status.clone(),
            hard,
            reason: Some(name_of(&recipient.reason)),
            ..reported(envelope, reading)
        };
        let tied = tie(
            &contacts.evidence,
            &quoted,
            prospect,
            &address,
            received_at(envelope, now),
        );
        if let Tie::Unverified(why) = &tied {
            effects.push(unverified(
                prospect,
                report,
                why,
                envelope,
                actor,
                now,
                to_data(&report_of),
            ));
            continue;
        }
        let suppress = match (complaint, hard) {
            (true, _) => vec![(address.clone(), "marked as spam".to_string())],
            (false, true) => vec![(address.clone(), format!("hard bounce ({})", name_of(&recipient.reason)))],
            (false, false) => Vec::new(),
        };
        let data = to_data(&tied_to(report_of, reading, &tied));
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress,
            away_until: None,
            task: None,
        });
    }
    if let Some((prospect, tied)) =
        by_original.and_then(|prospect| tie_by_ids(&contacts.evidence, &quoted, prospect).map(|t| (prospect, t)))
    {
        let data = to_data(&tied_to(reported(envelope, reading), reading, &tied));
        // A complaint about mail sent to them stops mail to them, as when it names them.
        let suppress = match complaint {
            true => prospect_address(contacts, prospect)
                .map(|address| (address, "marked as spam".to_string()))
                .into_iter()
                .collect(),
            false => Vec::new(),
        };
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress,
            away_until: None,
            task: None,
        });
    }
    effects
}

/// An address a complaint report blanked out to protect its user: a local
/// part of only `x`, `*`, `#`, `.` or `_`, or one saying "redacted".
fn is_redacted(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default().to_lowercase();
    local.contains("redacted") || !local.is_empty() && local.chars().all(|c| matches!(c, 'x' | '*' | '#' | '.' | '_'))
}

/// What a bounce or complaint report says, before it names a recipient.
fn reported(envelope: &Envelope, reading: &Classification) -> Bounced {
    Bounced {
        message_id: envelope.message_id.clone(),
        from: envelope.from.first().cloned(),
        subject: Some(envelope.subject.clone()),
        date: envelope.date,
        original_message_id: reading.original_message_id.clone(),
        reasons: reading.reasons.clone(),
        ..Bounced::default()
    }
}

/// A report tied to mail sent. A policy or reputation refusal pauses the
/// whole mailbox only when the report quotes mail rapport itself sent;
/// otherwise it is only noted.
fn tied_to(report: Bounced, reading: &Classification, tie: &Tie) -> Bounced {
    Bounced {
        sender_problem: reading.sender_problem && *tie == Tie::Outbox,
        policy_refusal: reading.sender_problem,
        verified_by: Some(tie.described().to_string()),
        ..report
    }
}
