//! The settings page (zone, digest hour, language, API tokens) and the
//! actions on a prospect's page (edit, remind, enrol, erase), over HTTP.

mod common;

use common::app::{spawn_app, TestApp};
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::Actor;
use rapport::domain::prospect::{ProspectId, ProspectRef};

const PASSWORD: &str = "correct horse battery";

async fn add(app: &TestApp, actor: &Actor, name: &str) -> ProspectId {
    prospect_edit::add(
        &app.core,
        actor,
        AddProspect {
            name: name.into(),
            email: Some(format!("{}@example.org", name.to_lowercase().replace(' ', "."))),
            company: Some("Lund AS".into()),
            title: Some("CFO".into()),
            stage: Some("prospecting".into()),
            value: Some("100000".into()),
            ..AddProspect::default()
        },
    )
    .await
    .unwrap()
    .prospect
    .id
}

#[tokio::test]
async fn a_rep_sets_their_zone_hour_and_language_and_makes_and_revokes_tokens() {
    let app = spawn_app().await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get("/settings").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("value=\"Europe&#x2f;Oslo\"") && page.body.contains("<option value=\"7\" selected>07:00"),
        "{}",
        page.body
    );
    let csrf = page.csrf();

    let bad = browser
        .post(
            "/settings",
            &[
                ("time_zone", "Mars/Olympus"),
                ("digest_hour", "7"),
                ("language", "en"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Mars&#x2f;Olympus&#x27; is not a time zone"),
        "{}",
        bad.body
    );
    let saved = browser
        .post(
            "/settings",
            &[
                ("time_zone", "America/New_York"),
                ("digest_hour", "8"),
                ("language", "nb"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let rep = app.store.list_reps().await.unwrap().remove(0);
    assert_eq!(
        (rep.time_zone.as_str(), rep.digest_hour, rep.language.as_str()),
        ("America/New_York", 8, "nb")
    );
    let norwegian = browser.get("/settings").await;
    assert!(norwegian.body.contains("Innstillinger") && norwegian.body.contains("lang=\"nb\""));

    let made = browser
        .post("/settings/tokens", &[("name", "crm sync"), ("csrf", &csrf)])
        .await;
    assert_eq!(made.status, 200);
    let start = made.body.find("id=\"new-token\">").expect("the token shown") + "id=\"new-token\">".len();
    let token = made.body[start..start + made.body[start..].find('<').unwrap()].to_string();
    assert!(token.starts_with("rapport_"), "{token}");
    let api = |token: String| {
        let port = app.port;
        async move {
            reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/api/v1/prospects"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(api(token.clone()).await, 200);
    let listed = browser.get("/settings").await;
    assert!(
        listed.body.contains("crm sync") && !listed.body.contains(&token),
        "shown once only"
    );
    let id = {
        let marker = "action=\"/settings/tokens/";
        let s = listed.body.find(marker).unwrap() + marker.len();
        listed.body[s..s + listed.body[s..].find('/').unwrap()].to_string()
    };
    let revoked = browser
        .post(&format!("/settings/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(api(token).await, 401);
}

#[tokio::test]
async fn a_prospects_page_edits_reminds_enrols_and_erases() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get(&format!("/prospects/{pia}")).await;
    let csrf = page.csrf();
    let path = |action: &str| format!("/prospects/{pia}/{action}");

    let edited = browser
        .post(
            &path("edit"),
            &[
                ("name", "Pia Lund"),
                ("email", "pia@example.org"),
                ("company", "Lund Group"),
                ("title", ""),
                ("value", "120000 USD"),
                ("expected_close", "2027-01-15"),
                ("notes", "met at the fair"),
                ("add_tags", "nordic, fintech"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let team = Actor::Team { name: "t".into() };
    let view = rapport::app::prospects::show(&app.core, &team, &ProspectRef::Id(pia))
        .await
        .unwrap();
    let d = &view.prospect.data;
    assert_eq!(d.company.as_deref(), Some("Lund Group"));
    assert_eq!(d.title, None, "an emptied field is cleared");
    assert_eq!(d.value.0, 12_000_000);
    assert_eq!(d.tags, ["fintech", "nordic"]);
    let bad = browser
        .post(
            &path("edit"),
            &[("name", "Pia Lund"), ("value", "lots"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("lots"), "{}", bad.body);

    let reminded = browser
        .post(
            &path("remind"),
            &[("within", "3d"), ("note", "send the deck"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(reminded.status, 200);
    assert!(reminded.body.contains("Reminder set for"), "{}", reminded.body);
    let tasks = rapport::app::tasks::list(&app.core, &ann, true).await.unwrap();
    assert!(tasks.iter().any(|t| t.task.instruction.contains("send the deck")));
    // The prospect's page lists the task, and it is done from there.
    let with_task = browser.get(&format!("/prospects/{pia}")).await;
    assert!(with_task.body.contains("Tasks and reminders") && with_task.body.contains("send the deck"));
    let task = {
        let s = with_task.body.find("id=\"task-").unwrap() + "id=\"task-".len();
        with_task.body[s..s + with_task.body[s..].find('"').unwrap()].to_string()
    };
    let back = format!("/prospects/{pia}");
    let done = browser
        .post(&format!("/tasks/{task}/done"), &[("back", &back), ("csrf", &csrf)])
        .await;
    assert_eq!((done.status, done.header("location")), (303, back.clone()));
    assert!(!browser.get(&back).await.body.contains("send the deck"));
    let dated = browser
        .post(
            &path("remind"),
            &[("on", "2026-12-14"), ("note", "call back"), ("csrf", &csrf)],
        )
        .await;
    assert!(dated.body.contains("2026-12-14"), "{}", dated.body);

    let enrolled = browser
        .post(&path("enrol"), &[("sequence", "example"), ("csrf", &csrf)])
        .await;
    assert!(
        enrolled.body.contains("Enrolled in example") || enrolled.status == 422,
        "{}",
        enrolled.body
    );
    let unknown = browser
        .post(&path("enrol"), &[("sequence", "nope"), ("csrf", &csrf)])
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.body.contains("there is no sequence"), "{}", unknown.body);

    let unconfirmed = browser.post(&path("erase"), &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status, 422);
    assert!(unconfirmed.body.contains("cannot be undone"));
    let erased = browser
        .post(&path("erase"), &[("confirm", "yes"), ("csrf", &csrf)])
        .await;
    assert_eq!((erased.status, erased.header("location").as_str()), (303, "/"));
    assert_eq!(browser.get(&format!("/prospects/{pia}")).await.status, 404);
}

#[tokio::test]
async fn an_admin_adds_reps_gives_roles_and_disables_and_nobody_else_can() {
    let app = spawn_app().await;
    app.account("Ada", "ada@example.com", PASSWORD, "admin").await;
    app.account("Mia", "mia@example.com", PASSWORD, "manager").await;
    let mut admin = app.browser();
    admin.log_in("ada@example.com", PASSWORD).await;
    let page = admin.get("/team").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("mia@example.com") && page.body.contains("can sign in"));
    let csrf = page.csrf();
    let added = admin
        .post(
            "/team",
            &[
                ("name", "Kari"),
                ("email", "kari@example.no"),
                ("time_zone", "Europe/Oslo"),
                ("digest_hour", "7"),
                ("language", "nb"),
                ("role", "manager"),
                ("password", "kari's long password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let mut kari = app.browser();
    kari.log_in(
        "kari@example.no",
        PASSWORD
            .replace("correct horse battery", "kari's long password")
            .as_str(),
    )
    .await;
    assert!(kari.get("/").await.body.contains("Logget inn som Kari"));
    let bad = admin
        .post(
            "/team",
            &[
                ("name", "X"),
                ("email", "x@example.com"),
                ("time_zone", "Nowhere/Land"),
                ("digest_hour", "7"),
                ("language", "en"),
                ("role", "rep"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("is not a time zone"), "{}", bad.body);

    let kari_id = app
        .store
        .list_reps()
        .await
        .unwrap()
        .iter()
        .find(|r| r.email == "kari@example.no")
        .unwrap()
        .id;
    let demoted = admin
        .post(&format!("/team/{kari_id}/role"), &[("role", "rep"), ("csrf", &csrf)])
        .await;
    assert_eq!(demoted.status, 303);
    let accounts = rapport::app::accounts::list(&app.core).await.unwrap();
    assert_eq!(
        accounts.iter().find(|a| a.rep_id == kari_id).unwrap().role.as_str(),
        "rep"
    );
    let disabled = admin
        .post(&format!("/team/{kari_id}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(disabled.status, 303);
    assert_eq!(kari.get("/").await.status, 303, "a disabled rep's session ends");
    let ada_id = app.store.list_reps().await.unwrap()[0].id;
    let myself = admin.post(&format!("/team/{ada_id}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(myself.status, 422, "an admin keeps themselves");

    let mut mia = app.browser();
    mia.log_in("mia@example.com", PASSWORD).await;
    let mia_csrf = mia.get("/").await.csrf();
    assert_eq!(mia.get("/team").await.status, 404, "a manager has no team page");
    let refused = mia
        .post(&format!("/team/{ada_id}/role"), &[("role", "rep"), ("csrf", &mia_csrf)])
        .await;
    assert_eq!(refused.status, 404);
}
