//! The board in a real browser (Debian's chromium over WebDriver), as a rep
//! uses it: signing in, dragging a card from proposal to negotiation and
//! seeing both columns' totals change, moving one to won with its final
//! value, approving a suggestion and marking a task done on Today, a reply
//! arriving live on the board after the mailbox sync (a real Dovecot),
//! signing out; then the same with the keyboard only; and a rep who opens
//! another rep's prospect by URL finds nothing. Every page is saved as a
//! screenshot and checked with axe-core for serious accessibility faults.

mod common;

use common::app::{spawn_app_with, TestApp};
use common::chrome::{self, Chrome};
use common::imap::Dovecot;
use fantoccini::key::Key;
use fantoccini::Locator;
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::tasks::{self, When};
use rapport::app::Actor;
use rapport::domain::prospect::{ProspectId, ProspectRef};
use rapport::store::NewSuggestion;

const PASSWORD: &str = "correct horse battery";

async fn add(app: &TestApp, actor: &Actor, name: &str, email: &str, stage: &str, value: &str) -> ProspectId {
    prospect_edit::add(
        &app.core,
        actor,
        AddProspect {
            name: name.into(),
            email: Some(email.into()),
            company: Some(format!("{} AS", name.split(' ').next().unwrap())),
            stage: Some(stage.into()),
            value: Some(value.into()),
            ..AddProspect::default()
        },
    )
    .await
    .expect("a prospect")
    .prospect
    .id
}

/// Ann's team: three deals, a task due, a suggestion; Bob with one of his own.
async fn world(app: &TestApp) -> (ProspectId, ProspectId, ProspectId, ProspectId) {
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let (_, bob) = app.account("Bob", "bob@example.com", PASSWORD, "rep").await;
    let pia = add(app, &ann, "Pia Lund", "pia@example.org", "proposal", "100000").await;
    let ola = add(app, &ann, "Ola Berg", "ola@example.org", "negotiation", "200000").await;
    let kari = add(app, &ann, "Kari Holm", "kari@example.org", "prospecting", "50000").await;
    let raj = add(app, &bob, "Raj Patel", "raj@example.org", "proposal", "70000").await;
    tasks::remind(
        &app.core,
        &ann,
        &ProspectRef::Id(ola),
        When::In("30m".into()),
        "send the revised quote",
    )
    .await
    .unwrap();
    app.store
        .add_suggestion(
            &NewSuggestion {
                prospect_id: kari,
                rule: "reply-qualifies".into(),
                from_stage: "prospecting".into(),
                to_stage: "qualification".into(),
                reason: "Kari replied to the first email".into(),
                key: "kari-1".into(),
                person: None,
            },
            "2026-12-01T09:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(1));
    (pia, ola, kari, raj)
}

fn column(stage: &str, what: &str) -> String {
    format!("document.querySelector('.column[data-stage=\"{stage}\"] {what}')")
}

async fn count(chrome: &Chrome, stage: &str) -> i64 {
    chrome
        .eval(&format!("Number({}.dataset.count)", column(stage, ".count")))
        .await
        .as_i64()
        .unwrap()
}

async fn text(chrome: &Chrome, expression: &str) -> String {
    chrome
        .eval(&format!("{expression}.textContent"))
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn sign_in(chrome: &Chrome, base: &str) {
    chrome.client.goto(&format!("{base}/")).await.unwrap();
    chrome.until("location.pathname === '/login'").await;
    chrome
        .client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("ann@example.com")
        .await
        .unwrap();
    chrome
        .client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    chrome
        .until("location.pathname === '/' && document.getElementById('board')")
        .await;
}

#[tokio::test]
async fn a_rep_works_the_board_with_the_mouse_and_sees_a_reply_arrive_live() {
    const TEST: &str = "a_rep_works_the_board_with_the_mouse_and_sees_a_reply_arrive_live";
    let dovecot = Dovecot::start();
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("imap-password");
    std::fs::write(&password_file, common::imap::PASSWORD).unwrap();
    let app = spawn_app_with(&dovecot.mailbox_config(&password_file)).await;
    let (pia, ola, _kari, raj) = world(&app).await;
    let Some(chrome) = chrome::start(TEST).await else {
        return;
    };
    let base = format!("http://127.0.0.1:{}", app.port);

    chrome.client.goto(&format!("{base}/login")).await.unwrap();
    chrome.screenshot("login").await;
    chrome.accessible("login", TEST).await;
    // A control: the checker does find a fault when there is one (an image without alt text).
    chrome
        .eval("document.body.appendChild(Object.assign(document.createElement('img'), { src: '/static/none.png' })) && true")
        .await;
    if let Some(found) = chrome.violations(TEST).await {
        assert!(found.iter().any(|v| v["id"] == "image-alt"), "{found:#?}");
    }
    sign_in(&chrome, &base).await;
    chrome.screenshot("board").await;
    chrome.accessible("board", TEST).await;
    assert_eq!(
        (count(&chrome, "proposal").await, count(&chrome, "negotiation").await),
        (1, 1)
    );
    assert!(text(&chrome, &column("negotiation", ".value"))
        .await
        .contains("200,000"));

    // Drag Pia from proposal to negotiation. WebDriver's pointer actions do
    // not fire HTML5 drag events in Chrome, so the page gets the events a
    // drag makes; the board's own script does the rest.
    chrome
        .client
        .execute(
            "const card = document.getElementById(arguments[0]);
             const target = document.querySelector('.column[data-stage=\"negotiation\"] .cards');
             const data = new DataTransfer();
             card.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: data }));
             target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: data }));
             target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));
             return true;",
            vec![serde_json::json!(format!("card-{pia}"))],
        )
        .await
        .unwrap();
    chrome
        .until(&format!(
            "{}.dataset.count === '0' && {}.dataset.count === '2'",
            column("proposal", ".count"),
            column("negotiation", ".count")
        ))
        .await;
    assert!(text(&chrome, &column("proposal", ".value")).await.contains("USD 0"));
    assert!(text(&chrome, &column("negotiation", ".value"))
        .await
        .contains("300,000"));
    assert!(text(&chrome, &column("negotiation", ".weighted"))
        .await
        .contains("240,000"));

    // Ola to won: the card's own form, then the final value.
    let card = chrome.client.find(Locator::Id(&format!("card-{ola}"))).await.unwrap();
    card.find(Locator::Css("select[name=stage]"))
        .await
        .unwrap()
        .select_by_value("won")
        .await
        .unwrap();
    card.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    chrome.until("document.getElementById('value')").await;
    chrome.screenshot("move-to-won").await;
    chrome.accessible("move to won", TEST).await;
    let value = chrome.client.find(Locator::Id("value")).await.unwrap();
    assert_eq!(
        value.prop("value").await.unwrap().as_deref(),
        Some("200,000 USD"),
        "the deal's value to start from"
    );
    value.clear().await.unwrap();
    value.send_keys("185000").await.unwrap();
    chrome.click("form.confirm button").await;
    chrome
        .until(&format!("{}.dataset.count === '1'", column("won", ".count")))
        .await;
    assert!(text(&chrome, &column("won", ".value")).await.contains("185,000"));

    // Today: approve the suggestion, mark the task done.
    chrome.click("a[href='/today']").await;
    chrome.until("location.pathname === '/today'").await;
    chrome.screenshot("today").await;
    chrome.accessible("today", TEST).await;
    chrome.click("[id^=suggestion-] button[value=approve]").await;
    chrome
        .until("location.pathname === '/today' && !document.querySelector('[id^=suggestion-]')")
        .await;
    chrome.click("[id^=task-] form[action$='/done'] button").await;
    chrome.until("!document.querySelector('[id^=task-]')").await;

    // A prospect's page.
    chrome.client.goto(&format!("{base}/prospects/{pia}")).await.unwrap();
    chrome
        .until("document.querySelector('h1').textContent === 'Pia Lund'")
        .await;
    chrome.screenshot("prospect").await;
    chrome.accessible("prospect", TEST).await;

    // A reply arrives: the mailbox sync records it and the open board shows it without a reload.
    chrome.client.goto(&format!("{base}/")).await.unwrap();
    chrome.until("document.getElementById('board')").await;
    chrome.eval("window.stillTheSamePage = true").await;
    let mut imap = dovecot.client();
    imap.append(
        "INBOX",
        &common::imap::crlf(
            b"From: Pia Lund <pia@example.org>\nTo: Ann <ann@example.com>\nSubject: Re: our proposal\n\
              Date: Tue, 01 Dec 2026 10:00:00 +0000\nMessage-ID: <reply-1@example.org>\n\n\
              Tuesday works for me, let's sign then.\n",
        ),
    );
    rapport::app::mail::syncer(&app.core).sync_all().await;
    chrome
        .until(&format!(
            "window.stillTheSamePage && document.querySelector('#card-{pia} .latest').textContent.includes('email.replied')"
        ))
        .await;
    chrome.screenshot("board-after-reply").await;

    // Another rep's prospect by URL: nothing.
    chrome.client.goto(&format!("{base}/prospects/{raj}")).await.unwrap();
    chrome
        .until("document.querySelector('h1').textContent === 'Not found'")
        .await;
    assert!(!chrome.client.source().await.unwrap().contains("Raj"));

    // Sign out: the board is gone.
    chrome.client.goto(&format!("{base}/")).await.unwrap();
    chrome.until("document.getElementById('board')").await;
    chrome.click("form.logout button").await;
    chrome.until("location.pathname === '/login'").await;
    chrome.client.goto(&format!("{base}/")).await.unwrap();
    chrome.until("location.pathname === '/login'").await;
    chrome.close().await;
}

/// Presses keys in the page (at whatever has focus).
async fn press(chrome: &Chrome, keys: &str) {
    chrome
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// Tabs until the focused element matches `selector`.
async fn tab_to(chrome: &Chrome, selector: &str) {
    for _ in 0..200 {
        let here = chrome
            .eval(&format!(
                "document.activeElement && document.activeElement.matches({selector:?})"
            ))
            .await;
        if here == serde_json::Value::Bool(true) {
            return;
        }
        press(chrome, &char::from(Key::Tab).to_string()).await;
    }
    panic!("no focusable {selector} reached with Tab");
}

#[tokio::test]
async fn the_same_with_the_keyboard_only() {
    const TEST: &str = "the_same_with_the_keyboard_only";
    let app = spawn_app_with("").await;
    let (pia, ola, _kari, _raj) = world(&app).await;
    let Some(chrome) = chrome::start(TEST).await else {
        return;
    };
    let base = format!("http://127.0.0.1:{}", app.port);
    sign_in(&chrome, &base).await;
    let enter = char::from(Key::Enter).to_string();

    // Pia to negotiation: Tab to her card's stage, choose with the arrow key, Tab to Move, Enter.
    tab_to(&chrome, &format!("#card-{pia} select[name=stage]")).await;
    press(&chrome, &char::from(Key::Down).to_string()).await;
    tab_to(&chrome, &format!("#card-{pia} button[type=submit]")).await;
    press(&chrome, &enter).await;
    chrome
        .until(&format!(
            "{}.dataset.count === '0' && {}.dataset.count === '2'",
            column("proposal", ".count"),
            column("negotiation", ".count")
        ))
        .await;

    // Ola to won, typing the final value.
    tab_to(&chrome, &format!("#card-{ola} select[name=stage]")).await;
    press(&chrome, &char::from(Key::Down).to_string()).await;
    tab_to(&chrome, &format!("#card-{ola} button[type=submit]")).await;
    press(&chrome, &enter).await;
    chrome.until("document.getElementById('value')").await;
    tab_to(&chrome, "#value").await;
    press(&chrome, &format!("185000{enter}")).await;
    chrome
        .until(&format!("{}.dataset.count === '1'", column("won", ".count")))
        .await;

    // Today by keyboard: the link, then approve and done.
    tab_to(&chrome, "a[href='/today']").await;
    press(&chrome, &enter).await;
    chrome.until("location.pathname === '/today'").await;
    tab_to(&chrome, "[id^=suggestion-] button[value=approve]").await;
    press(&chrome, &enter).await;
    chrome
        .until("location.pathname === '/today' && !document.querySelector('[id^=suggestion-]')")
        .await;
    tab_to(&chrome, "[id^=task-] form[action$='/done'] button").await;
    press(&chrome, &enter).await;
    chrome.until("!document.querySelector('[id^=task-]')").await;

    // Sign out by keyboard.
    tab_to(&chrome, "form.logout button").await;
    press(&chrome, &enter).await;
    chrome.until("location.pathname === '/login'").await;
    chrome.close().await;
}
