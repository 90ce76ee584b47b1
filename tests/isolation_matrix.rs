//! The isolation matrix: every route of the web listener and the API, as a
//! rep (a session for pages, a token for the API) reaching for another
//! rep's prospect, task, event and suggestion (404, nothing changed, nothing
//! shown), as a manager (the team's), and with no credentials (only the
//! login page, `/health`, the static files, unsubscribe links and the API
//! description answer; webhooks refuse an unsigned delivery). A route the router has that the matrix lacks fails
//! the test, so a new route cannot skip it.

mod common;

use common::app::{spawn_app, TestApp};
use common::browser::Browser;
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::tasks::{self, When};
use rapport::app::{accounts, Actor};
use rapport::domain::prospect::{ProspectId, ProspectRef};
use rapport::store::{NewSuggestion, RepScope};
use std::collections::BTreeSet;

const PASSWORD: &str = "correct horse battery";

/// A page route, the path to Ann's thing on it, and the form fields.
type PageCall = (&'static str, String, Vec<(&'static str, String)>);

/// Ann's things, which Bob must not reach.
struct Anns {
    prospect: ProspectId,
    /// Ann's rep id.
    rep: i64,
    /// Ann's send left unknown.
    outbox: i64,
    /// The id of Ann's API token and `/revoke`.
    token: String,
    task: i64,
    suggestion: i64,
    event: i64,
    /// A webhook delivery Ann organised that matched nobody.
    delivery: i64,
}

async fn world(app: &TestApp) -> Anns {
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let (_, bob) = app.account("Bob", "bob@example.com", PASSWORD, "rep").await;
    app.account("Mia", "mia@example.com", PASSWORD, "manager").await;
    let add = |actor: Actor, name: &'static str, value: &'static str| {
        let core = app.core.clone();
        async move {
            prospect_edit::add(
                &core,
                &actor,
                AddProspect {
                    name: name.into(),
                    stage: Some("proposal".into()),
                    value: Some(value.into()),
                    ..AddProspect::default()
                },
            )
            .await
            .unwrap()
            .prospect
            .id
        }
    };
    let prospect = add(ann.clone(), "Pia Lund", "123456").await;
    add(bob.clone(), "Ola Berg", "7000").await;
    tasks::remind(
        &app.core,
        &ann,
        &ProspectRef::Id(prospect),
        When::In("1h".into()),
        "call Pia",
    )
    .await
    .unwrap();
    let task = tasks::list(&app.core, &ann, true).await.unwrap()[0].task.id;
    app.store
        .add_suggestion(
            &NewSuggestion {
                prospect_id: prospect,
                rule: "r".into(),
                from_stage: "proposal".into(),
                to_stage: "negotiation".into(),
                reason: "because".into(),
                key: "k".into(),
                person: None,
            },
            "2026-12-01T09:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
    let suggestion = app.store.open_suggestions(RepScope::Team).await.unwrap()[0].id;
    let event = app.store.list_events(RepScope::Team, prospect).await.unwrap()[0].id;
    // An enrolment of Ann's with a send a crash left unknown, and her mailbox paused.
    let row = app.cut_off_send(prospect, "pia@example.org", "Hello Pia").await;
    let ann_id = app.store.list_reps().await.unwrap()[0].id;
    app.store
        .pause_sending(ann_id, "5.7.1 blocked", app.now())
        .await
        .unwrap();
    let admin = Actor::Team { name: "admin".into() };
    let (anns_token, _) = accounts::create_token(&app.core, &admin, Some("ann@example.com"), "ann's script")
        .await
        .unwrap();
    app.store
        .keep_unmatched(&rapport::store::UnmatchedDelivery {
            id: 0,
            provider: "calendly".into(),
            kind: "meeting.booked".into(),
            email: "pia.private@mail.example".into(),
            source_key: "calendly:IN1:invitee.created".into(),
            summary: "Intro call (Calendly)".into(),
            occurred_at: app.now(),
            starts_at: None,
            rep_id: Some(ann_id),
            received_at: app.now(),
        })
        .await
        .unwrap();
    let delivery = app.store.list_unmatched(RepScope::Team).await.unwrap()[0].id;
    app.clock.advance(chrono::Duration::hours(2));
    Anns {
        rep: ann_id,
        outbox: row,
        token: format!("{}/revoke", anns_token.id),
        prospect,
        task,
        suggestion,
        event,
        delivery,
    }
}

/// What Ann's things look like: none of it may change.
async fn fingerprint(app: &TestApp, anns: &Anns) -> String {
    let team = Actor::Team { name: "t".into() };
    let view = rapport::app::prospects::show(&app.core, &team, &ProspectRef::Id(anns.prospect))
        .await
        .unwrap();
    let tasks = tasks::list(&app.core, &team, true).await.unwrap();
    let open = app.store.open_suggestions(RepScope::Team).await.unwrap();
    let outbox = app.store.list_outbox(RepScope::Team, None).await.unwrap();
    let pauses = app.store.sending_pauses().await.unwrap();
    let accounts = accounts::list(&app.core).await.unwrap();
    let unmatched = app.store.list_unmatched(RepScope::Team).await.unwrap().len();
    format!("{unmatched} unmatched; ")
        + &format!(
            "{} {} {} events; tasks {:?}; open suggestions {:?}",
            view.prospect.data.stage,
            view.prospect.data.value.0,
            view.events.len(),
            tasks
                .iter()
                .map(|t| (t.task.id, t.task.due_at, t.task.done_at))
                .collect::<Vec<_>>(),
            open.iter().map(|s| s.id).collect::<Vec<_>>(),
        )
        + &format!(
            "; outbox {:?}; pauses {:?}; accounts {:?}",
            outbox.iter().map(|o| (o.id, o.state.clone())).collect::<Vec<_>>(),
            pauses.iter().map(|p| p.rep_id).collect::<Vec<_>>(),
            accounts
                .iter()
                .map(|a| (a.rep_id, a.role.as_str(), a.disabled_at))
                .collect::<Vec<_>>()
        )
}

/// Every route the listener has: (METHOD, path pattern), from the router's source and the API's description.
async fn routes_served(app: &TestApp) -> BTreeSet<String> {
    let source =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/mod.rs")).unwrap();
    // Without whitespace, a route written over several lines reads like one on a line.
    let source: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let mut routes = BTreeSet::new();
    for part in source.split(".route(\"").skip(1) {
        let path = &part[..part.find('"').unwrap()];
        let handlers = &part[..part.find("))").unwrap_or(part.len())];
        for method in ["get", "post", "patch", "delete", "put"] {
            if handlers.contains(&format!("{method}(")) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let doc: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("http://127.0.0.1:{}/api/openapi.json", app.port))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes.insert("GET /api/openapi.json".into());
    routes
}

async fn api(app: &TestApp, token: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("http://127.0.0.1:{}{path}", app.port))
        .header("content-type", "application/json")
        .body(body.to_string());
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

async fn token_of(app: &TestApp, email: &str) -> String {
    let admin = Actor::Team { name: "admin".into() };
    accounts::create_token(&app.core, &admin, Some(email), "matrix")
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn every_route_keeps_each_rep_to_their_own() {
    let app = spawn_app().await;
    let anns = world(&app).await;
    let (p, t, s, e) = (anns.prospect, anns.task, anns.suggestion, anns.event);
    let served = routes_served(&app).await;
    let before = fingerprint(&app, &anns).await;
    let (bob_token, mia_token) = (
        token_of(&app, "bob@example.com").await,
        token_of(&app, "mia@example.com").await,
    );
    let mut bob = Browser::new(app.port);
    bob.log_in("bob@example.com", PASSWORD).await;
    let csrf = bob.get("/").await.csrf();
    let mut mia = Browser::new(app.port);
    mia.log_in("mia@example.com", PASSWORD).await;
    let mut nobody = Browser::new(app.port);

    // Routes on one of Ann's things: Bob gets 404 and changes nothing.
    let pages_on_anns: Vec<PageCall> = vec![
        ("GET /prospects/{id}", format!("/prospects/{p}"), vec![]),
        (
            "POST /prospects/{id}/move",
            format!("/prospects/{p}/move"),
            vec![("stage", "won".into()), ("value", "1".into())],
        ),
        (
            "POST /prospects/{id}/log",
            format!("/prospects/{p}/log"),
            vec![("kind", "call".into())],
        ),
        ("POST /tasks/{id}/done", format!("/tasks/{t}/done"), vec![]),
        (
            "POST /tasks/{id}/snooze",
            format!("/tasks/{t}/snooze"),
            vec![("span", "1d".into())],
        ),
        (
            "POST /suggestions/{id}",
            format!("/suggestions/{s}"),
            vec![("decision", "approve".into())],
        ),
        (
            "POST /prospects/{id}/edit",
            format!("/prospects/{p}/edit"),
            vec![("name", "Mine now".into())],
        ),
        (
            "POST /prospects/{id}/remind",
            format!("/prospects/{p}/remind"),
            vec![("within", "1d".into()), ("note", "x".into())],
        ),
        (
            "POST /prospects/{id}/enrol",
            format!("/prospects/{p}/enrol"),
            vec![("sequence", "example".into())],
        ),
        (
            "POST /prospects/{id}/erase",
            format!("/prospects/{p}/erase"),
            vec![("confirm", "yes".into())],
        ),
        (
            "POST /team/{id}/role",
            format!("/team/{}/role", anns.rep),
            vec![("role", "admin".into())],
        ),
        ("POST /team/{id}/disable", format!("/team/{}/disable", anns.rep), vec![]),
        (
            "POST /team",
            "/team".into(),
            [
                "name=X",
                "email=x@example.com",
                "time_zone=UTC",
                "digest_hour=7",
                "language=en",
                "role=admin",
            ]
            .iter()
            .map(|kv| kv.split_once('=').map(|(k, v)| (k, v.to_string())).unwrap())
            .collect(),
        ),
        ("GET /team", "/team".into(), vec![]),
        (
            "POST /settings/tokens/{id}/revoke",
            format!("/settings/tokens/{}", anns.token),
            vec![],
        ),
        (
            "POST /outbox/{id}",
            format!("/outbox/{}", anns.outbox),
            vec![("decision", "not-sent".into())],
        ),
        (
            "POST /hooks/unmatched/{id}",
            format!("/hooks/unmatched/{}", anns.delivery),
            vec![("action", "dismiss".into())],
        ),
        (
            "POST /sequences/resume",
            "/sequences/resume".into(),
            vec![("rep", "ann@example.com".into())],
        ),
    ];
    let log_for_ann = format!(r#"{{"prospect_id": {p}, "kind": "call"}}"#);
    let api_on_anns: Vec<(&str, String, &str)> = vec![
        ("POST /api/v1/events", "/api/v1/events".into(), &log_for_ann),
        ("GET /api/v1/prospects/{id}", format!("/api/v1/prospects/{p}"), ""),
        (
            "PATCH /api/v1/prospects/{id}",
            format!("/api/v1/prospects/{p}"),
            r#"{"title": "x"}"#,
        ),
        ("DELETE /api/v1/prospects/{id}", format!("/api/v1/prospects/{p}"), ""),
        (
            "POST /api/v1/prospects/{id}/move",
            format!("/api/v1/prospects/{p}/move"),
            r#"{"stage": "won"}"#,
        ),
        (
            "GET /api/v1/prospects/{id}/events",
            format!("/api/v1/prospects/{p}/events"),
            "",
        ),
        (
            "POST /api/v1/prospects/{id}/events",
            format!("/api/v1/prospects/{p}/events"),
            r#"{"kind": "call"}"#,
        ),
        (
            "POST /api/v1/prospects/{id}/enrolments",
            format!("/api/v1/prospects/{p}/enrolments"),
            r#"{"sequence": "example"}"#,
        ),
        ("POST /api/v1/tasks/{id}/done", format!("/api/v1/tasks/{t}/done"), "{}"),
        (
            "POST /api/v1/suggestions/{id}/approve",
            format!("/api/v1/suggestions/{s}/approve"),
            "",
        ),
        (
            "POST /api/v1/suggestions/{id}/reject",
            format!("/api/v1/suggestions/{s}/reject"),
            "",
        ),
    ];
    let mut covered = BTreeSet::new();
    for (route, path, fields) in &pages_on_anns {
        let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("csrf", &csrf));
        let page = if route.starts_with("GET") {
            bob.get(path).await
        } else {
            bob.post(path, &form).await
        };
        assert_eq!(page.status, 404, "{route} as Bob: {}", page.body);
        assert!(!page.body.contains("Pia"), "{route} shows Ann's prospect");
        covered.insert(route.to_string());
    }
    for (route, path, body) in &api_on_anns {
        let method = route.split(' ').next().unwrap();
        let (status, text) = api(&app, &bob_token, method, path, body).await;
        assert_eq!(status, 404, "{route} with Bob's token: {text}");
        assert!(!text.contains("Pia"), "{route} shows Ann's prospect: {text}");
        covered.insert(route.to_string());
    }
    assert_eq!(fingerprint(&app, &anns).await, before, "nothing of Ann's changed");
    // Ann's event id names nothing Bob can read either.
    let (_, events) = api(&app, &bob_token, "GET", &format!("/api/v1/prospects/{p}/events"), "").await;
    assert!(!events.contains(&format!("\"id\":{e}")));

    // Routes that list: Bob sees none of Ann's, the manager sees the team's.
    let page_lists = [
        "GET /",
        "GET /today",
        "GET /settings",
        "GET /sequences",
        "GET /forecast",
        "GET /import",
        "GET /export",
    ];
    for route in page_lists {
        let path = route.split(' ').nth(1).unwrap();
        let as_bob = bob.get(path).await;
        assert_eq!(as_bob.status, 200, "{route}");
        assert!(
            !as_bob.body.contains("Pia")
                && !as_bob.body.contains("call Pia")
                && !as_bob.body.contains("5.7.1")
                && !as_bob.body.contains("123,456")
                && !as_bob.body.contains("ann@example.com"),
            "{route} as Bob"
        );
        covered.insert(route.to_string());
    }
    assert!(
        mia.get("/").await.body.contains("Pia Lund"),
        "a manager's board is the team's"
    );
    assert_eq!(mia.get(&format!("/prospects/{p}")).await.status, 200);
    let team_sequences = mia.get("/sequences").await.body;
    assert!(
        team_sequences.contains("Hello Pia") && team_sequences.contains("5.7.1"),
        "{team_sequences}"
    );
    let api_lists = [
        ("GET /api/v1/prospects", "/api/v1/prospects"),
        ("GET /api/v1/tasks", "/api/v1/tasks?all=true"),
        ("GET /api/v1/suggestions", "/api/v1/suggestions"),
        ("GET /api/v1/forecast", "/api/v1/forecast"),
        ("GET /api/v1/enrolments", "/api/v1/enrolments"),
    ];
    for (route, path) in api_lists {
        let (status, text) = api(&app, &bob_token, "GET", path, "").await;
        assert_eq!(status, 200, "{route}: {text}");
        assert!(
            !text.contains("Pia") && !text.contains("123456"),
            "{route} as Bob: {text}"
        );
        let (_, team) = api(&app, &mia_token, "GET", path, "").await;
        assert!(
            team.contains("Pia") || team.contains("123456"),
            "{route} as the manager: {team}"
        );
        covered.insert(route.to_string());
    }
    // An import is always into the importer's own prospects.
    let imported = bob
        .upload(
            "/import",
            &[("csrf", &csrf)],
            ("file", "bob.csv", b"name,email\nNew Lead,new@example.org\n"),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let team = Actor::Team { name: "t".into() };
    let new = rapport::app::prospects::show(&app.core, &team, &ProspectRef::Email("new@example.org".into()))
        .await
        .unwrap();
    assert_eq!(new.prospect.rep_email, "bob@example.com");
    covered.insert("POST /import".into());
    // Bob's own settings: his changes are his.
    let saved = bob
        .post(
            "/settings",
            &[
                ("time_zone", "UTC"),
                ("digest_hour", "6"),
                ("language", "en"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    covered.insert("POST /settings".into());
    let made = bob
        .post("/settings/tokens", &[("name", "bob's"), ("csrf", &csrf)])
        .await;
    assert_eq!(made.status, 200);
    covered.insert("POST /settings/tokens".into());
    let reps = app.store.list_reps().await.unwrap();
    assert_eq!(reps[0].time_zone, "Europe/Oslo", "Ann's settings are hers");
    let admin = Actor::Team { name: "admin".into() };
    let anns_tokens = accounts::tokens(&app.core, &admin, Some("ann@example.com"))
        .await
        .unwrap();
    assert!(
        anns_tokens.iter().all(|t| t.revoked_at.is_none()),
        "Ann's tokens live on"
    );
    // The event stream: covered by web_today (it tells Bob nothing of Ann's).
    covered.insert("GET /events".into());
    // Bob's own creating and the team's list of reps.
    let (status, _) = api(
        &app,
        &bob_token,
        "POST",
        "/api/v1/prospects",
        r#"{"name": "Bob's new one"}"#,
    )
    .await;
    assert_eq!(status, 201);
    covered.insert("POST /api/v1/prospects".into());
    assert_eq!(api(&app, &bob_token, "GET", "/api/v1/sequences", "").await.0, 200);
    covered.insert("GET /api/v1/sequences".into());
    assert_eq!(api(&app, &bob_token, "GET", "/api/v1/reps", "").await.0, 403);
    assert_eq!(
        api(&app, &mia_token, "GET", "/api/v1/reps", "").await.0,
        403,
        "the team's reps are an admin's"
    );
    covered.insert("GET /api/v1/reps".into());

    // Without credentials: pages lead to the login page, the API says 401, only the open routes answer.
    let open = [
        "GET /login",
        "POST /login",
        "GET /health",
        "GET /static/{file}",
        "GET /u/{token}",
        "POST /u/{token}",
        "GET /api/openapi.json",
        "GET /ical/{file}",
    ];
    for route in &served {
        let (method, pattern) = route.split_once(' ').unwrap();
        let path = pattern
            .replace("{id}", &p.to_string())
            .replace("{file}", "app.css")
            .replace("{token}", "not-a-token")
            .replace("{provider}", "calendly");
        if pattern == "/hooks/{provider}" {
            // Signed by the provider, never signed in: unsigned is refused.
            let page = nobody.post(&path, &[]).await;
            assert_eq!(page.status, 401, "{route} unsigned");
            covered.insert(route.clone());
        } else if pattern.starts_with("/api/v1") {
            let (status, _) = api(&app, "", method, &path, "{}").await;
            assert_eq!(status, 401, "{route} without a token");
        } else if open.contains(&route.as_str()) {
            let page = if method == "GET" {
                nobody.get(&path).await
            } else {
                nobody.post(&path, &[]).await
            };
            assert!(
                page.status != 303 || route == "POST /login",
                "{route} is open: {}",
                page.status
            );
        } else {
            let page = if method == "GET" {
                nobody.get(&path).await
            } else {
                nobody.post(&path, &[("csrf", "x")]).await
            };
            assert_eq!(page.status, 303, "{route} without a session");
            assert!(page.header("location").starts_with("/login"), "{route}");
        }
    }
    // Logging out is Bob's own business (and ends only his session).
    let out = bob.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(mia.get("/").await.status, 200, "another's session lives on");
    assert_eq!(fingerprint(&app, &anns).await, before, "nothing of Ann's changed");

    covered.insert("POST /logout".into());
    let missing: Vec<_> = served
        .iter()
        .filter(|r| !open.contains(&r.as_str()) && !covered.contains(*r))
        .collect();
    assert!(missing.is_empty(), "routes the matrix does not cover: {missing:?}");
    assert!(served.len() >= 30, "found only {} routes: {served:?}", served.len());
}
