//! The JSON API as a script uses it: API tokens, problem+json errors worded
//! as the command line words them, cursor pages, idempotent creation, each
//! prospect route, tasks, suggestions, the forecast; the OpenAPI document
//! valid against the OpenAPI Initiative's 3.1 schema and naming exactly the
//! routes served; and nothing of another rep's reachable with their token.

mod common;

use common::app::{spawn_app, TestApp};
use rapport::app::{accounts, Actor};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

struct Api {
    base: String,
    client: reqwest::Client,
    token: String,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Api {
    async fn new(app: &TestApp, email: &str, role: &str) -> Api {
        let name = email.split('@').next().unwrap();
        let (rep, _) = app.account(name, email, PASSWORD, role).await;
        let admin = Actor::Team { name: "admin".into() };
        let (_, token) = accounts::create_token(&app.core, &admin, Some(&rep.email), "script")
            .await
            .expect("a token");
        Api {
            base: format!("http://127.0.0.1:{}", app.port),
            client: reqwest::Client::new(),
            token,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the listener answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body), &[]).await
    }
}

fn is_problem(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{}", answer.json);
    assert_eq!(
        answer.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(answer.json["status"], status);
    assert_eq!(answer.json["type"], "about:blank");
    assert!(answer.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn without_a_live_token_every_route_answers_401_with_the_fix() {
    let app = spawn_app().await;
    let mut api = Api::new(&app, "ann@example.com", "rep").await;
    assert_eq!(api.get("/api/v1/prospects").await.status, 200);
    let live = api.token.clone();
    for token in ["", "rapport_0000", "not even a token"] {
        api.token = token.into();
        let refused = api.get("/api/v1/prospects").await;
        is_problem(&refused, 401);
        assert!(refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("rapport rep token create"));
        assert!(refused.headers.contains_key("www-authenticate"));
    }
    let anonymous = reqwest::get(format!("http://127.0.0.1:{}/api/v1/tasks", app.port))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let admin = Actor::Team { name: "admin".into() };
    accounts::revoke_token(&app.core, &admin, Some("ann@example.com"), "script")
        .await
        .unwrap();
    api.token = live;
    is_problem(&api.get("/api/v1/prospects").await, 401);
}

#[tokio::test]
async fn prospects_are_created_once_per_idempotency_key_and_read_back() {
    let app = spawn_app().await;
    let api = Api::new(&app, "ann@example.com", "rep").await;
    let body = json!({ "name": "Pia Lund", "email": "pia@example.org", "company": "Lund AS",
                       "stage": "proposal", "value": "$120,000", "tags": ["Nordic"], "fields": { "source": "webinar" } });
    let key = [("idempotency-key", "3f1c2a9e-0d7b-4c55-9e8f-1b2c3d4e5f60")];
    let first = api.call("POST", "/api/v1/prospects", Some(body.clone()), &key).await;
    assert_eq!(first.status, 201, "{}", first.json);
    let id = first.json["id"].as_i64().unwrap();
    assert_eq!(first.headers["location"], format!("/api/v1/prospects/{id}").as_str());
    assert_eq!(first.json["value"], 120000.0);
    assert_eq!(first.json["currency"], "USD");
    assert_eq!(first.json["stage"], "proposal");
    assert_eq!(first.json["tags"], json!(["nordic"]));
    assert_eq!(first.json["fields"]["source"], "webinar");
    assert_eq!(first.json["rep"], "ann@example.com");

    let retry = api.call("POST", "/api/v1/prospects", Some(body.clone()), &key).await;
    assert_eq!(
        (retry.status, &retry.json),
        (201, &first.json),
        "the retry gets the first answer"
    );
    let other = api
        .call(
            "POST",
            "/api/v1/prospects",
            Some(json!({ "name": "Someone Else" })),
            &key,
        )
        .await;
    is_problem(&other, 422);
    assert!(other.json["detail"]
        .as_str()
        .unwrap()
        .contains("used for another request"));
    let list = api.get("/api/v1/prospects").await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1, "created once");

    let again = api.post("/api/v1/prospects", body.clone()).await;
    is_problem(&again, 409);
    assert!(
        again.json["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("already prospect #{id}")),
        "{}",
        again.json
    );
    let bad = api
        .post("/api/v1/prospects", json!({ "name": "X", "stage": "nope" }))
        .await;
    is_problem(&bad, 422);
    assert!(
        bad.json["detail"]
            .as_str()
            .unwrap()
            .contains("'nope' is not a stage of pipeline 'default'; valid stages: prospecting"),
        "the CLI's wording: {}",
        bad.json
    );
    let unknown_field = api
        .post("/api/v1/prospects", json!({ "name": "X", "vaule": "1" }))
        .await;
    is_problem(&unknown_field, 422);
    assert!(unknown_field.json["detail"].as_str().unwrap().contains("vaule"));
    let not_json = api.call("POST", "/api/v1/prospects", None, &[]).await;
    is_problem(&not_json, 422);

    let got = api.get(&format!("/api/v1/prospects/{id}")).await;
    assert_eq!(got.json, first.json);
}

#[tokio::test]
async fn a_list_pages_by_cursor_and_filters() {
    let app = spawn_app().await;
    let api = Api::new(&app, "ann@example.com", "rep").await;
    for n in 0..5 {
        let stage = if n % 2 == 0 { "proposal" } else { "meeting" };
        let made = api
            .post(
                "/api/v1/prospects",
                json!({ "name": format!("Person {n}"), "stage": stage }),
            )
            .await;
        assert_eq!(made.status, 201);
    }
    let mut names = Vec::new();
    let mut path = "/api/v1/prospects?limit=2".to_string();
    let mut pages = 0;
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.json);
        pages += 1;
        for item in page.json["items"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_string());
        }
        match page.json["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/prospects?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["Person 0", "Person 1", "Person 2", "Person 3", "Person 4"]);
    let proposals = api.get("/api/v1/prospects?stage=Proposal").await;
    assert_eq!(proposals.json["items"].as_array().unwrap().len(), 3);
    let found = api.get("/api/v1/prospects?q=person%203").await;
    assert_eq!(found.json["items"][0]["name"], "Person 3");
    is_problem(&api.get("/api/v1/prospects?limit=0").await, 422);
    is_problem(&api.get("/api/v1/prospects?limit=101").await, 422);
    is_problem(&api.get("/api/v1/prospects?cursor=abc").await, 422);
}

#[tokio::test]
async fn a_prospect_is_updated_moved_logged_and_erased() {
    let app = spawn_app().await;
    let api = Api::new(&app, "ann@example.com", "rep").await;
    let id = api
        .post(
            "/api/v1/prospects",
            json!({ "name": "Pia Lund", "email": "pia@example.org", "company": "Lund AS", "value": "100000" }),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/prospects/{id}");
    let patched = api
        .call(
            "PATCH",
            &path,
            Some(json!({ "title": "CTO", "add_tags": ["hot"], "clear": ["company"], "fields": { "region": "west" } })),
            &[],
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.json);
    assert_eq!(patched.json["title"], "CTO");
    assert_eq!(patched.json["company"], Value::Null);
    assert_eq!(patched.json["tags"], json!(["hot"]));
    assert_eq!(patched.json["fields"]["region"], "west");
    is_problem(
        &api.call("PATCH", &path, Some(json!({ "clear": ["name"] })), &[]).await,
        422,
    );

    let moved = api
        .post(
            &format!("{path}/move"),
            json!({ "stage": "won", "final_value": "95000" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.json);
    assert_eq!(
        (moved.json["from"].as_str(), moved.json["to"].as_str()),
        (Some("prospecting"), Some("won"))
    );
    assert_eq!(api.get(&path).await.json["value"], 95000.0);
    let logged = api
        .post(
            &format!("{path}/events"),
            json!({ "kind": "linkedin.comment", "note": "congratulated on the launch", "at": "2026-12-01T08:00:00Z" }),
        )
        .await;
    assert_eq!(logged.status, 201, "{}", logged.json);
    let again = api
        .post(
            &format!("{path}/events"),
            json!({ "kind": "linkedin.comment", "note": "congratulated on the launch", "at": "2026-12-01T08:00:00Z" }),
        )
        .await;
    assert_eq!(
        (again.status, &again.json["added"]),
        (200, &json!(false)),
        "logging the same thing twice adds nothing"
    );
    let typo = api
        .post(&format!("{path}/events"), json!({ "kind": "linkedin.coment" }))
        .await;
    is_problem(&typo, 422);
    assert!(typo.json["detail"]
        .as_str()
        .unwrap()
        .contains("did you mean linkedin.comment"));
    let events = api.get(&format!("{path}/events")).await;
    let kinds: Vec<_> = events
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.contains(&"stage.changed".to_string()) && kinds.contains(&"linkedin.comment".to_string()),
        "{kinds:?}"
    );
    assert_eq!(events.json[0]["actor_kind"], "user");

    let erased = api.call("DELETE", &path, None, &[]).await;
    assert_eq!((erased.status, &erased.json["had_email"]), (200, &json!(true)));
    is_problem(&api.get(&path).await, 404);
}

#[tokio::test]
async fn tasks_suggestions_the_forecast_and_reps() {
    let app = spawn_app().await;
    let ann = Api::new(&app, "ann@example.com", "rep").await;
    let mia = Api::new(&app, "mia@example.com", "manager").await;
    let id = ann
        .post(
            "/api/v1/prospects",
            json!({ "name": "Pia Lund", "stage": "proposal", "value": "100000" }),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    ann.post(
        "/api/v1/prospects",
        json!({ "name": "Ola Berg", "stage": "won", "value": "50000" }),
    )
    .await;
    let as_ann = Actor::Rep {
        id: app.store.list_reps().await.unwrap()[0].id,
        name: "ann".into(),
    };
    app.remind_in_an_hour(&as_ann, id, "send the revised quote").await;
    let tasks = ann.get("/api/v1/tasks?all=true").await;
    assert_eq!(tasks.status, 200, "{}", tasks.json);
    let task = &tasks.json[0];
    assert!(
        task["instruction"].as_str().unwrap().contains("send the revised quote"),
        "{task}"
    );
    let done = ann
        .post(&format!("/api/v1/tasks/{}/done", task["id"]), json!({ "note": "sent" }))
        .await;
    assert_eq!(done.status, 200, "{}", done.json);
    assert!(done.json["done_at"].is_string());
    assert_eq!(ann.get("/api/v1/suggestions").await.json, json!([]));
    is_problem(&ann.post("/api/v1/suggestions/999/approve", json!({})).await, 404);

    let forecast = ann.get("/api/v1/forecast").await;
    assert_eq!(forecast.status, 200, "{}", forecast.json);
    assert_eq!(forecast.json["totals"]["weighted_value"], 60000.0);
    assert_eq!(forecast.json["totals"]["closed_value"], 50000.0);
    let proposal = forecast.json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "proposal")
        .unwrap()
        .clone();
    assert_eq!(
        (proposal["count"].as_u64(), proposal["probability"].as_u64()),
        (Some(1), Some(60))
    );
    is_problem(&ann.get("/api/v1/forecast?pipeline=nope").await, 422);

    // Sequences: what there is, a dry run, the enrolment, and a second one refused with the reason.
    let sequences = ann.get("/api/v1/sequences").await;
    assert!(
        sequences
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["slug"] == "example"),
        "{}",
        sequences.json
    );
    let pia = ann
        .post(
            "/api/v1/prospects",
            json!({ "name": "Pia Lund", "email": "pia@example.org", "company": "Lund AS" }),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/prospects/{pia}/enrolments");
    let dry = ann.post(&path, json!({ "sequence": "example", "dry_run": true })).await;
    assert_eq!(
        (dry.status, &dry.json["enrolment"]),
        (200, &Value::Null),
        "{}",
        dry.json
    );
    let made = ann.post(&path, json!({ "sequence": "example" })).await;
    assert_eq!(made.status, 201, "{}", made.json);
    assert!(made.json["enrolment"].is_i64());
    let listed = ann.get("/api/v1/enrolments").await;
    assert_eq!(listed.json[0]["prospect_id"], pia);
    is_problem(&ann.post(&path, json!({ "sequence": "example" })).await, 422);
    is_problem(&ann.post(&path, json!({ "sequence": "nope" })).await, 422);
    is_problem(&ann.get("/api/v1/reps").await, 403);
    is_problem(&mia.get("/api/v1/reps").await, 403);
    let admin = Api::new(&app, "ada@example.com", "admin").await;
    let reps = admin.get("/api/v1/reps").await;
    assert_eq!(reps.json.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_reps_token_reaches_nothing_of_another_rep_and_a_managers_the_team() {
    let app = spawn_app().await;
    let ann = Api::new(&app, "ann@example.com", "rep").await;
    let bob = Api::new(&app, "bob@example.com", "rep").await;
    let mia = Api::new(&app, "mia@example.com", "manager").await;
    let anns = ann
        .post(
            "/api/v1/prospects",
            json!({ "name": "Pia Lund", "email": "pia@example.org", "stage": "proposal" }),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    bob.post("/api/v1/prospects", json!({ "name": "Ola Berg" })).await;
    let path = format!("/api/v1/prospects/{anns}");
    for (method, route, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({ "title": "x" }))),
        ("DELETE", path.clone(), None),
        ("POST", format!("{path}/move"), Some(json!({ "stage": "won" }))),
        ("GET", format!("{path}/events"), None),
        ("POST", format!("{path}/events"), Some(json!({ "kind": "call" }))),
    ] {
        let refused = bob.call(method, &route, body, &[]).await;
        is_problem(&refused, 404);
        assert!(
            !refused.json.to_string().contains("Pia"),
            "{method} {route}: {}",
            refused.json
        );
    }
    // Ann's task and suggestion: Bob's token neither sees nor decides them.
    let as_ann = Actor::Rep {
        id: app.store.list_reps().await.unwrap()[0].id,
        name: "ann".into(),
    };
    app.remind_in_an_hour(&as_ann, anns, "call back").await;
    let task = ann.get("/api/v1/tasks?all=true").await.json[0]["id"].as_i64().unwrap();
    app.store
        .add_suggestion(
            &rapport::store::NewSuggestion {
                prospect_id: anns,
                rule: "reply-qualifies".into(),
                from_stage: "proposal".into(),
                to_stage: "negotiation".into(),
                reason: "she replied".into(),
                key: "s1".into(),
                person: None,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let suggestion = ann.get("/api/v1/suggestions").await.json[0]["id"].as_i64().unwrap();
    assert_eq!(bob.get("/api/v1/tasks?all=true").await.json, json!([]));
    assert_eq!(bob.get("/api/v1/suggestions").await.json, json!([]));
    for route in [
        format!("/api/v1/tasks/{task}/done"),
        format!("/api/v1/suggestions/{suggestion}/approve"),
        format!("/api/v1/suggestions/{suggestion}/reject"),
    ] {
        is_problem(&bob.post(&route, json!({})).await, 404);
    }
    assert_eq!(
        ann.get("/api/v1/suggestions").await.json[0]["decision"],
        Value::Null,
        "still open"
    );
    assert!(
        ann.get("/api/v1/tasks?all=true").await.json[0]["done_at"].is_null(),
        "still open"
    );
    assert_eq!(
        mia.get("/api/v1/suggestions").await.json.as_array().unwrap().len(),
        1,
        "a manager sees the team's"
    );
    let bobs = bob.get("/api/v1/prospects").await;
    assert_eq!(bobs.json["items"].as_array().unwrap().len(), 1);
    is_problem(&bob.get("/api/v1/prospects?rep=ann@example.com").await, 422);
    let team = mia.get("/api/v1/prospects").await;
    assert_eq!(team.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(mia.get(&path).await.status, 200);
    let stage = ann.get(&path).await.json["stage"].clone();
    assert_eq!(stage, "proposal", "nothing of Bob's changed Ann's prospect");
}

#[tokio::test]
async fn the_openapi_document_is_valid_3_1_and_names_exactly_the_routes_served() {
    let app = spawn_app().await;
    let api = Api::new(&app, "ann@example.com", "rep").await;
    let text = reqwest::get(format!("{}/api/openapi.json", api.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    if let Some(schema) = common::test_asset(
        "openapi-schemas-2.1.0/schemas/v3.1/schema.json",
        "the_openapi_document_is_valid_3_1_and_names_exactly_the_routes_served",
    ) {
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("the OpenAPI 3.1 schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "the document is not valid OpenAPI 3.1: {errors:#?}");
    }
    // Every documented operation is served (a route the router lacks would be 404 or 405)...
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            let concrete = path.replace("{id}", "999999");
            let answer = api.call(&method.to_uppercase(), &concrete, Some(json!({})), &[]).await;
            assert!(
                answer.status != 405 && !(answer.status == 404 && answer.json.is_string()),
                "{method} {path}: {} {}",
                answer.status,
                answer.json
            );
        }
    }
    documented.sort();
    // ...and every API route the code registers is documented: each goes through
    // utoipa-axum's `routes!`, and no plain `.route(` is registered under /api/v1.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/api");
    let mut handlers = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains(".route(\"/"),
            "an API route registered without its documentation"
        );
        handlers += text.matches("#[utoipa::path(").count();
    }
    assert_eq!(handlers, documented.len(), "documented: {documented:#?}");
    for expected in [
        "GET /api/v1/prospects",
        "POST /api/v1/prospects",
        "PATCH /api/v1/prospects/{id}",
        "POST /api/v1/prospects/{id}/move",
        "POST /api/v1/prospects/{id}/events",
        "GET /api/v1/forecast",
    ] {
        assert!(
            documented.contains(&expected.to_string()),
            "{expected} in {documented:#?}"
        );
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test]
async fn a_tool_logs_linkedin_engagement_for_a_prospect_named_by_email_or_profile_once_per_external_id() {
    let app = spawn_app().await;
    let ann = Api::new(&app, "ann@team.example", "rep").await;
    let bob = Api::new(&app, "bob@team.example", "rep").await;
    let pia = ann
        .post(
            "/api/v1/prospects",
            json!({ "name": "Pia Lund", "email": "pia@lund.example",
                    "profiles": ["https://www.linkedin.com/in/pia-lund"] }),
        )
        .await;
    assert_eq!(pia.status, 201, "{}", pia.json);
    let pia = pia.json["id"].as_i64().unwrap();

    // By profile URL, spelled as a browser extension sees it; a retry with the same external id adds nothing.
    let comment = json!({ "profile_url": "linkedin.com/in/Pia-Lund/", "kind": "linkedin.comment",
                          "note": "Commented on her post about release trains",
                          "url": "https://www.linkedin.com/feed/update/urn:li:activity:7", "external_id": "zap-7f3a" });
    let first = ann.post("/api/v1/events", comment.clone()).await;
    assert_eq!(
        (first.status, &first.json["prospect"]),
        (201, &json!(pia)),
        "{}",
        first.json
    );
    let mut retried = comment.clone();
    retried["note"] = json!("the same run, retried later");
    let again = ann.post("/api/v1/events", retried).await;
    assert_eq!(
        (again.status, &again.json["added"]),
        (200, &json!(false)),
        "{}",
        again.json
    );
    // By email and by id.
    let liked = ann
        .post(
            "/api/v1/events",
            json!({ "email": "Pia@Lund.example", "kind": "x.like", "external_id": "x-1" }),
        )
        .await;
    assert_eq!(liked.status, 201, "{}", liked.json);
    let by_id = ann
        .post(
            "/api/v1/events",
            json!({ "prospect_id": pia, "kind": "linkedin.message" }),
        )
        .await;
    assert_eq!(by_id.status, 201, "{}", by_id.json);
    let kinds: Vec<String> = ann
        .get(&format!("/api/v1/prospects/{pia}/events"))
        .await
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .filter(|k| k != "prospect.created")
        .collect();
    assert_eq!(kinds, ["linkedin.comment", "x.like", "linkedin.message"]);

    // Another rep's token finds no such prospect; bad input names the fix.
    is_problem(&bob.post("/api/v1/events", comment).await, 404);
    let two = ann
        .post(
            "/api/v1/events",
            json!({ "prospect_id": pia, "email": "pia@lund.example", "kind": "x.like" }),
        )
        .await;
    is_problem(&two, 422);
    assert!(two.json["detail"].as_str().unwrap().contains("exactly one of"));
    is_problem(
        &ann.post("/api/v1/events", json!({ "email": "not-an-address", "kind": "x.like" }))
            .await,
        422,
    );
    let typo = ann
        .post(
            "/api/v1/events",
            json!({ "prospect_id": pia, "kind": "linkedin.coment" }),
        )
        .await;
    is_problem(&typo, 422);
    assert!(
        typo.json["detail"].as_str().unwrap().contains("linkedin.comment"),
        "{}",
        typo.json
    );
    is_problem(
        &ann.post(
            "/api/v1/events",
            json!({ "prospect_id": pia, "kind": "x.like", "extra": 1 }),
        )
        .await,
        422,
    );
}
