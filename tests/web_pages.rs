//! The board's pages as a person uses them over HTTP: signing in and out
//! (the session cookie's attributes, the lockout that says when to retry),
//! CSRF refusals, the board's columns and totals, moving cards (won asks
//! for the final value, lost for a reason), a prospect's page and logging
//! engagement, and that nothing of another rep's is reachable.

mod common;

use common::app::{spawn_app, spawn_app_with, TestApp};
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::Actor;
use rapport::domain::prospect::ProspectId;

const PASSWORD: &str = "correct horse battery";

async fn add(app: &TestApp, actor: &Actor, name: &str, stage: &str, value: &str) -> ProspectId {
    let added = prospect_edit::add(
        &app.core,
        actor,
        AddProspect {
            name: name.into(),
            email: Some(format!("{}@example.org", name.to_lowercase().replace(' ', "."))),
            company: Some(format!("{name} AS")),
            stage: Some(stage.into()),
            value: Some(value.into()),
            ..AddProspect::default()
        },
    )
    .await
    .expect("a prospect");
    added.prospect.id
}

async fn stage_of(app: &TestApp, id: ProspectId) -> (String, i64) {
    let team = Actor::Team { name: "t".into() };
    let view = rapport::app::prospects::show(&app.core, &team, &rapport::domain::prospect::ProspectRef::Id(id))
        .await
        .unwrap();
    (view.prospect.data.stage, view.prospect.data.value.0 / 100)
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_logging_out_ends_the_session() {
    let app = spawn_app().await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();

    let home = browser.get("/").await;
    assert_eq!((home.status, home.header("location").as_str()), (303, "/login"));
    let elsewhere = browser.get("/prospects/1").await;
    assert_eq!(elsewhere.header("location"), "/login?next=%2Fprospects%2F1");
    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"email\"") && form.body.contains("name=\"password\""));

    let wrong = browser
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", "wrong horse battery")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("The email or password is wrong."));
    assert!(browser.cookie.is_none());

    let signed = browser.log_in("Ann@Example.com", PASSWORD).await;
    let set = signed.header("set-cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http on loopback: {set}");
    assert!(set.starts_with("rapport_session="), "{set}");
    let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 64, "only the random id: {set}");
    assert_eq!(signed.header("location"), "/");

    let board = browser.get("/").await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert!(board.body.contains("Signed in as Ann"));
    let csrf = board.csrf();
    let old_cookie = browser.cookie.clone();
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.header("location").as_str()), (303, "/login"));
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    browser.cookie = old_cookie;
    assert_eq!(
        browser.get("/").await.status,
        303,
        "the old id is worth nothing after logout"
    );
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_only() {
    let app = spawn_app_with("[http]\npublic_url = \"https://rapport.example.com\"\n").await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();
    browser.origin = "https://rapport.example.com".into();
    let signed = browser.log_in("ann@example.com", PASSWORD).await;
    let set = signed.header("set-cookie");
    assert!(
        set.starts_with("__Host-rapport_session=") && set.contains("Secure"),
        "{set}"
    );
    assert_eq!(browser.get("/").await.status, 200);
}

#[tokio::test]
async fn too_many_failures_lock_the_account_and_the_page_says_until_when() {
    let app = spawn_app().await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();
    for attempt in 1..=4 {
        let page = browser
            .post(
                "/login",
                &[("email", "ann@example.com"), ("password", "not the password")],
            )
            .await;
        assert_eq!(page.status, 401, "attempt {attempt}");
    }
    let fifth = browser
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", "not the password")],
        )
        .await;
    assert_eq!(fifth.status, 429);
    // The harness's clock stands at 09:00 UTC: locked for 15 minutes.
    assert!(
        fifth.body.contains("Try again at 09:15 UTC (in 15 min)"),
        "{}",
        fifth.body
    );
    assert_eq!(fifth.header("retry-after"), "900");
    let right_but_locked = browser
        .post("/login", &[("email", "ann@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        right_but_locked.status, 429,
        "a locked account's password is not even checked"
    );

    app.clock.advance(chrono::Duration::minutes(15));
    browser.log_in("ann@example.com", PASSWORD).await;
}

#[tokio::test]
async fn failures_spread_over_two_listeners_on_one_database_meet_one_lock() {
    let app = spawn_app().await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    // A second daemon's listener on the same database.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second_port = listener.local_addr().unwrap().port();
    let state = rapport::web::WebState::new(app.core.clone(), app.secret.clone());
    let http = app.core.settings.config.http.clone();
    tokio::spawn(async move {
        let _ = rapport::web::serve(listener, state, &http, std::future::pending()).await;
    });
    let mut first = app.browser();
    let mut second = common::browser::Browser::new(second_port);
    let wrong = [("email", "ann@example.com"), ("password", "not the password")];
    for attempt in 1..=4 {
        let browser = if attempt % 2 == 0 { &mut second } else { &mut first };
        assert_eq!(browser.post("/login", &wrong).await.status, 401, "attempt {attempt}");
    }
    assert_eq!(
        first.post("/login", &wrong).await.status,
        429,
        "the fifth, counted across both"
    );
    let right = second
        .post("/login", &[("email", "ann@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(right.status, 429, "the other listener holds the same lock");
}

#[tokio::test]
async fn one_client_failing_across_many_accounts_is_locked_out_too() {
    let app = spawn_app_with("[http]\nlogin_failures_per_client = 6\n").await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();
    for n in 1..=5 {
        let email = format!("guess{n}@example.com");
        let page = browser
            .post("/login", &[("email", &email), ("password", "whatever it is")])
            .await;
        assert_eq!(page.status, 401, "guess {n}");
    }
    let sixth = browser
        .post(
            "/login",
            &[("email", "guess6@example.com"), ("password", "whatever it is")],
        )
        .await;
    assert_eq!(sixth.status, 429);
    let ann = browser
        .post("/login", &[("email", "ann@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(ann.status, 429, "the client is locked, whichever account it tries");
}

#[tokio::test]
async fn forms_from_another_origin_or_without_the_token_are_refused() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let id = add(&app, &ann, "Pia Lund", "proposal", "100000").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let csrf = browser.get("/").await.csrf();
    let path = format!("/prospects/{id}/move");

    let no_token = browser.post(&path, &[("stage", "negotiation")]).await;
    assert_eq!(no_token.status, 403);
    let wrong_token = browser.post(&path, &[("stage", "negotiation"), ("csrf", "0000")]).await;
    assert_eq!(wrong_token.status, 403);
    browser.origin = "https://evil.example".into();
    let forged = browser.post(&path, &[("stage", "negotiation"), ("csrf", &csrf)]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("did not come from rapport's own page"));
    let login_csrf = browser
        .post("/login", &[("email", "ann@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(login_csrf.status, 403, "signing in from another site's form");
    assert_eq!(stage_of(&app, id).await.0, "proposal", "nothing moved");

    browser.origin = format!("http://127.0.0.1:{}", app.port);
    let moved = browser.post(&path, &[("stage", "negotiation"), ("csrf", &csrf)]).await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    assert_eq!(stage_of(&app, id).await.0, "negotiation");
}

#[tokio::test]
async fn the_board_shows_each_stage_with_its_totals_and_moves_cards() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "proposal", "100000").await;
    add(&app, &ann, "Ola Berg", "proposal", "50000").await;
    let kari = add(&app, &ann, "Kari Holm", "negotiation", "200000").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;

    let board = browser.get("/").await;
    for stage in ["Prospecting", "Proposal", "Negotiation &amp; commitment", "Won", "Lost"] {
        assert!(board.body.contains(stage), "column {stage}");
    }
    // Proposal: 2 deals, 150,000 open, 90,000 weighted at 60 %; negotiation 200,000 at 80 %.
    assert!(board.body.contains("data-count=\"2\">2 deals"), "{}", board.body);
    assert!(board.body.contains("Value USD 150,000") && board.body.contains("Weighted USD 90,000"));
    assert!(board.body.contains("Value USD 200,000") && board.body.contains("Weighted USD 160,000"));
    assert!(board.body.contains("Pia Lund") && board.body.contains("Pia Lund AS"));
    assert!(board.body.contains("0 d in stage"));

    // Ten days later (a new session: the old one ended idle) the proposal is
    // rotting (the default pipeline says 10 days).
    app.clock.advance(chrono::Duration::days(10));
    assert_eq!(browser.get("/").await.status, 303);
    browser.log_in("ann@example.com", PASSWORD).await;
    let later = browser.get("/").await;
    assert!(
        later.body.contains("10 d in stage") && later.body.contains(">Rotting<"),
        "{}",
        later.body
    );
    let csrf = later.csrf();

    let moved = browser
        .post(
            &format!("/prospects/{pia}/move"),
            &[("stage", "negotiation"), ("csrf", &csrf), ("back", "/")],
        )
        .await;
    assert_eq!((moved.status, moved.header("location").as_str()), (303, "/"));
    let after = browser.get("/").await;
    assert!(after.body.contains("Value USD 50,000") && after.body.contains("Value USD 300,000"));

    // Won asks for the final value before moving; the value then becomes it.
    let ask = browser
        .post(&format!("/prospects/{kari}/move"), &[("stage", "won"), ("csrf", &csrf)])
        .await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains("Move Kari Holm to Won") && ask.body.contains("name=\"value\""));
    assert_eq!(
        stage_of(&app, kari).await.0,
        "negotiation",
        "not moved before the value is given"
    );
    let bad = browser
        .post(
            &format!("/prospects/{kari}/move"),
            &[("stage", "won"), ("value", "lots"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("final value"), "{}", bad.body);
    let won = browser
        .post(
            &format!("/prospects/{kari}/move"),
            &[("stage", "won"), ("value", "185000"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(won.status, 303);
    assert_eq!(stage_of(&app, kari).await, ("won".to_string(), 185_000));

    // Lost asks for a reason, recorded with the stage change.
    let ask = browser
        .post(&format!("/prospects/{pia}/move"), &[("stage", "lost"), ("csrf", &csrf)])
        .await;
    assert!(ask.body.contains("Why was it lost?"));
    let lost = browser
        .post(
            &format!("/prospects/{pia}/move"),
            &[("stage", "lost"), ("reason", "chose a competitor"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(lost.status, 303);
    let page = browser.get(&format!("/prospects/{pia}")).await;
    assert!(
        page.body.contains("negotiation → lost · chose a competitor"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_card_shows_what_the_latest_reply_meant() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "qualification", "100000").await;
    let ola = add(&app, &ann, "Ola Berg", "qualification", "50000").await;
    let kari = add(&app, &ann, "Kari Holm", "qualification", "20000").await;
    let quiet = add(&app, &ann, "Siv Dahl", "qualification", "10000").await;
    let reply = |id: ProspectId, text: &'static str, minutes: i64| {
        let core = app.core.clone();
        let ann = ann.clone();
        let at = rapport::domain::clock::Clock::now(app.clock.as_ref()) - chrono::Duration::minutes(minutes);
        async move {
            rapport::app::prospects::log_engagement(
                &core,
                &ann,
                rapport::app::prospects::LogEngagement {
                    prospect: rapport::domain::prospect::ProspectRef::Id(id),
                    kind: "email.replied".into(),
                    note: Some(text.into()),
                    url: None,
                    at: Some(at),
                    external_id: None,
                },
            )
            .await
            .expect("logged")
        }
    };
    // Pia first refused, then wrote again: the card shows the latest.
    reply(pia, "No thanks, we're all set.", 60).await;
    reply(pia, "Sounds great, Tuesday works.", 5).await;
    reply(ola, "Not interested, thanks.", 5).await;
    reply(
        kari,
        "Not interested in the CRM part, but I'm interested in the reporting. Unsubscribe me from the newsletter though.",
        5,
    )
    .await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let board = browser.get("/").await;
    let card = |id: ProspectId| {
        let start = board.body.find(&format!("id=\"card-{id}\"")).expect("the card");
        let rest = &board.body[start..];
        rest[..rest.find("</li>").unwrap_or(rest.len())].to_string()
    };
    let pia = card(pia);
    assert!(
        pia.contains("class=\"intent intent-interested\"") && pia.contains(">wants to talk<"),
        "{pia}"
    );
    assert!(card(ola).contains(">declined<"), "{}", card(ola));
    let kari = card(kari);
    assert!(
        kari.contains(">asked to be removed?<") && kari.contains("reads two ways"),
        "a contested reading says so: {kari}"
    );
    assert!(!card(quiet).contains("class=\"intent"), "no reply, no reading");
}

#[tokio::test]
async fn the_board_filters_by_tag_and_text_and_shows_fifty_cards_a_column_with_more() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    for n in 0..55 {
        add(&app, &ann, &format!("Person {n:02}"), "qualification", "1000").await;
    }
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let board = browser.get("/").await;
    assert_eq!(board.body.matches("<li class=\"card").count(), 50);
    assert!(board.body.contains("Show more (5 more)"));
    let more = browser.get("/?pipeline=default&more=qualification&n=100").await;
    assert_eq!(more.body.matches("<li class=\"card").count(), 55);
    let tagged = prospect_edit::add(
        &app.core,
        &ann,
        AddProspect {
            name: "Tagged Person".into(),
            stage: Some("qualification".into()),
            tags: vec!["Fintech".into()],
            ..AddProspect::default()
        },
    )
    .await
    .unwrap();
    let by_tag = browser.get("/?tag=fintech").await;
    assert_eq!(by_tag.body.matches("<li class=\"card").count(), 1);
    assert!(by_tag.body.contains(&format!("card-{}", tagged.prospect.id)));
    let found = browser.get("/?q=person+07").await;
    assert_eq!(found.body.matches("<li class=\"card").count(), 1);
    assert!(found.body.contains("Person 07"));
    let unknown = browser.get("/?pipeline=nope").await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("nope"), "{}", unknown.body);
}

#[tokio::test]
async fn a_prospect_page_shows_the_timeline_and_logs_what_the_rep_did() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "meeting", "100000").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get(&format!("/prospects/{pia}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Pia Lund</h1>") && page.body.contains("prospect.created"));
    // Times in Ann's zone (Oslo, UTC+1 in December): 09:00 UTC reads 10:00.
    assert!(page.body.contains("2026-12-01 10:00"), "{}", page.body);
    let csrf = page.csrf();
    let logged = browser
        .post(
            &format!("/prospects/{pia}/log"),
            &[
                ("kind", "linkedin.comment"),
                ("note", "liked her post on pricing"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(logged.status, 303);
    let page = browser.get(&format!("/prospects/{pia}")).await;
    assert!(page.body.contains("linkedin.comment") && page.body.contains("liked her post on pricing"));
    let typo = browser
        .post(
            &format!("/prospects/{pia}/log"),
            &[("kind", "linkedin.coment"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(typo.status, 400);
    assert!(typo.body.contains("did you mean linkedin.comment"), "{}", typo.body);
}

#[tokio::test]
async fn a_rep_reaches_nothing_of_another_rep_and_a_manager_sees_the_team() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let (_, bob) = app.account("Bob", "bob@example.com", PASSWORD, "rep").await;
    app.account("Mia", "mia@example.com", PASSWORD, "manager").await;
    let anns = add(&app, &ann, "Pia Lund", "proposal", "100000").await;
    add(&app, &bob, "Ola Berg", "proposal", "50000").await;

    let mut as_bob = app.browser();
    as_bob.log_in("bob@example.com", PASSWORD).await;
    let board = as_bob.get("/").await;
    assert!(board.body.contains("Ola Berg") && !board.body.contains("Pia Lund"));
    assert!(!board.body.contains("All reps"), "a rep has no rep filter");
    let csrf = board.csrf();
    let page = as_bob.get(&format!("/prospects/{anns}")).await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("Pia"));
    for (path, fields) in [
        (
            format!("/prospects/{anns}/move"),
            vec![("stage", "won"), ("value", "1"), ("csrf", csrf.as_str())],
        ),
        (
            format!("/prospects/{anns}/log"),
            vec![("kind", "call"), ("csrf", csrf.as_str())],
        ),
    ] {
        let refused = as_bob.post(&path, &fields).await;
        assert_eq!(refused.status, 404, "{path}: {}", refused.body);
    }
    assert_eq!(stage_of(&app, anns).await, ("proposal".to_string(), 100_000));
    let filtered = as_bob.get("/?rep=ann@example.com").await;
    assert_ne!(filtered.status, 200, "a rep cannot filter to another rep's board");

    let mut as_mia = app.browser();
    as_mia.log_in("mia@example.com", PASSWORD).await;
    let team = as_mia.get("/").await;
    assert!(team.body.contains("Pia Lund") && team.body.contains("Ola Berg") && team.body.contains("All reps"));
    let anns_only = as_mia.get("/?rep=ann%40example.com").await;
    assert!(anns_only.body.contains("Pia Lund") && !anns_only.body.contains("Ola Berg"));
    assert_eq!(as_mia.get(&format!("/prospects/{anns}")).await.status, 200);
    // A manager hands Ann's prospect to Bob from its page.
    let page = as_mia.get(&format!("/prospects/{anns}")).await;
    assert!(page.body.contains("name=\"owner\""), "a manager may reassign");
    let mia_csrf = page.csrf();
    let handed = as_mia
        .post(
            &format!("/prospects/{anns}/edit"),
            &[("name", "Pia Lund"), ("owner", "bob@example.com"), ("csrf", &mia_csrf)],
        )
        .await;
    assert_eq!(handed.status, 303, "{}", handed.body);
    assert!(as_bob.get("/").await.body.contains("Pia Lund"), "now Bob's");
    let team = Actor::Team { name: "t".into() };
    let pia = rapport::app::prospects::show(&app.core, &team, &rapport::domain::prospect::ProspectRef::Id(anns))
        .await
        .unwrap();
    assert_eq!(
        pia.prospect.data.email.as_deref(),
        Some("pia.lund@example.org"),
        "fields not in the form stay"
    );
    assert!(
        !as_bob
            .get(&format!("/prospects/{anns}"))
            .await
            .body
            .contains("name=\"owner\""),
        "a rep may not"
    );
}

#[tokio::test]
async fn without_a_session_only_the_login_page_health_assets_and_unsubscribe_links_answer() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let id = add(&app, &ann, "Pia Lund", "proposal", "100000").await;
    let mut browser = app.browser();
    for path in ["/", "/prospects/1", &format!("/prospects/{id}")] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 303, "GET {path}");
        assert!(page.header("location").starts_with("/login"));
    }
    for path in [
        format!("/prospects/{id}/move"),
        format!("/prospects/{id}/log"),
        "/logout".into(),
    ] {
        let page = browser.post(&path, &[("stage", "won"), ("kind", "call")]).await;
        assert_eq!(page.status, 303, "POST {path}");
    }
    assert_eq!(stage_of(&app, id).await.0, "proposal");
    assert_eq!(browser.get("/login").await.status, 200);
    assert_eq!(browser.get("/health").await.status, 200);
    assert_eq!(browser.get("/static/app.css").await.status, 200);
    assert_eq!(browser.get("/u/not-a-token").await.status, 404);
}

#[tokio::test]
async fn pages_speak_the_reps_language() {
    let app = spawn_app().await;
    let admin = Actor::Team { name: "admin".into() };
    let rep = rapport::app::reps::add(&app.core, &admin, "Kari", "kari@example.no", "Europe/Oslo", 7, "nb")
        .await
        .unwrap();
    rapport::app::accounts::set_password(&app.core, &admin, Some(&rep.email), PASSWORD)
        .await
        .unwrap();
    let kari = Actor::Rep {
        id: rep.id,
        name: "Kari".into(),
    };
    prospect_edit::add(
        &app.core,
        &kari,
        AddProspect {
            name: "Ola".into(),
            stage: Some("proposal".into()),
            value: Some("1200000".into()),
            currency: Some("USD".into()),
            ..AddProspect::default()
        },
    )
    .await
    .unwrap();
    let mut browser = app.browser();
    let login = browser.client_get_with_language("/login", "nb-NO,nb;q=0.9").await;
    assert!(login.body.contains("Logg inn") && login.body.contains("lang=\"nb\""));
    browser.log_in("kari@example.no", PASSWORD).await;
    let board = browser.get("/").await;
    assert!(board.body.contains("Logget inn som Kari") && board.body.contains("Vektet"));
    assert!(board.body.contains("1\u{a0}200\u{a0}000\u{a0}USD"), "{}", board.body);
}
