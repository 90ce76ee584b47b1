//! A new user's first hour (#12): commands that say what they do, tasks and
//! stops that happen when they should, times in the rep's zone.

mod common;

use common::{stderr, stdout, Workspace};

/// Ann (Oslo) with Jane at Acme and Raj at Globex, both in prospecting.
fn jane_and_raj() -> Workspace {
    let ws = Workspace::with_rep();
    for (name, email, company) in [
        ("Jane Doe", "jane@acme.io", "Acme"),
        ("Raj Patel", "raj@globex.com", "Globex"),
    ] {
        ws.ok(&[
            "prospect",
            "add",
            "--name",
            name,
            "--email",
            email,
            "--company",
            company,
        ]);
    }
    ws
}

/// A config where sequence mail can go out (.eml outbox), all jobs off.
fn sending_config(ws: &Workspace, extra: &str) {
    ws.write(
        "config/rapport.toml",
        format!(
            "[http]\npublic_url = \"http://127.0.0.1:8025\"\n[sending]\npostal_address = \"{}\"\n{extra}\n{}",
            common::POSTAL,
            common::jobs_off_except(&[])
        ),
    );
}

#[test]
fn config_check_names_every_problem_with_its_file_and_key() {
    let ws = Workspace::with_rep();
    ws.write(
        "config/rapport.toml",
        "[feeds]\ninterval_mins = 0\n[jobs.poll-feeds]\nschedule = \"every minute\"\n\
         [mailboxes.ann]\nrep = \"ann@example.com\"\nhost = \"imap.example.com\"\nusername = \"ann\"\n\
         password_env = \"RAPPORT_TEST_UNSET_PASSWORD\"\n",
    );
    let out = ws.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(said.contains("feeds.interval_mins"), "{said}");
    assert!(
        said.contains("jobs.poll-feeds.schedule"),
        "both value problems at once: {said}"
    );

    // Values fixed: the files the config refers to are checked, every problem listed.
    ws.write(
        "config/rapport.toml",
        "[mailboxes.ann]\nrep = \"ann@example.com\"\nhost = \"imap.example.com\"\nusername = \"ann\"\n\
         password_env = \"RAPPORT_TEST_UNSET_PASSWORD\"\n",
    );
    ws.write(
        "config/rules.toml",
        "[[rules]]\nname = \"reply-qualifies\"\ndescription = \"x\"\non = [\"email.replied\"]\nstages = [\"prospectng\"]\nthen = \"advance\"\nto = \"qualification\"\n\
         [[rules]]\nname = \"enrol-new\"\ndescription = \"x\"\non = [\"call\"]\nthen = \"enroll\"\nsequence = \"nurture\"\n",
    );
    ws.write(
        "config/sequences/broken.toml",
        "name = \"Broken\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hi {{ prospect.frist_name }}\"\ntext = \"x\"\n",
    );
    let out = ws.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    for expected in [
        "rules.toml: rules[1] (reply-qualifies).stages",
        "prospectng",
        "broken.toml",
        "steps[1].subject",
        "mailboxes.ann.password_env",
        "RAPPORT_TEST_UNSET_PASSWORD",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
    assert!(said.contains("problem(s) in the configuration"), "{said}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&ws.run(&["--json", "config", "check"]))).unwrap();
    assert_eq!(json["problems"].as_array().map(Vec::len), Some(3), "{json}");
    // A rule that enrols in a sequence that does not exist is a problem too.
    let rules = std::fs::read_to_string(ws.path("config/rules.toml")).unwrap();
    ws.write("config/rules.toml", rules.replace("prospectng", "prospecting"));
    let said = stderr(&ws.run(&["config", "check"]));
    assert!(
        said.contains("rule enrol-new") && said.contains("nurture.toml"),
        "{said}"
    );
    ws.write("config/rules.toml", rules);

    // `rapport status` shows the same problems.
    let status = ws.ok(&["status"]);
    assert!(
        status.contains("PROBLEM (rules)") && status.contains("prospectng"),
        "{status}"
    );
    assert!(status.contains("no job has run yet"), "{status}");
}

#[test]
fn the_daemon_reports_a_broken_rules_file_once_and_the_digest_shows_it() {
    let ws = Workspace::with_rep();
    let jobs = common::jobs_off_except(&["apply-rules"]);
    ws.write(
        "config/rapport.toml",
        format!("{jobs}[jobs.apply-rules]\nschedule = \"* * * * * *\"\n"),
    );
    ws.write(
        "config/rules.toml",
        "[[rules]]\nname = \"reply-qualifies\"\ndescription = \"x\"\non = [\"email.replied\"]\nstages = [\"prospectng\"]\nthen = \"advance\"\nto = \"qualification\"\n",
    );
    let log = ws.path("daemon.log");
    let mut daemon = ws
        .command()
        .env("RUST_LOG", "info")
        .arg("daemon")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start the daemon");
    let runs = || {
        let status: serde_json::Value = serde_json::from_str(&ws.ok(&["--json", "status"])).unwrap();
        status["jobs"]
            .as_array()
            .and_then(|jobs| jobs.iter().find(|j| j["name"] == "apply-rules"))
            .and_then(|j| j["id"].as_i64())
            .unwrap_or(0)
    };
    common::wait_until(
        "the apply-rules job to run four times",
        std::time::Duration::from_secs(60),
        || std::fs::read_to_string(&log).unwrap_or_default(),
        || runs() >= 4,
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    let logged = std::fs::read_to_string(&log).unwrap();
    let reports = logged
        .lines()
        .filter(|l| l.contains("the rules file cannot be used"))
        .count();
    assert_eq!(reports, 1, "reported once, not at every run:\n{logged}");
    assert!(logged.contains("prospectng"), "{logged}");

    let digest = ws.ok(&["digest", "--date", "2026-12-01"]);
    assert!(digest.contains("rapport's setup needs fixing (1)"), "{digest}");
    assert!(digest.contains("prospectng"), "{digest}");
}

#[test]
fn enrolment_dry_run_changes_nothing_and_a_missing_key_is_named_at_once() {
    let ws = jane_and_raj();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Nia Obi",
        "--profile",
        "https://github.com/nia",
    ]);
    // No postal address and no public URL yet: enrolment says which keys are missing.
    let out = ws.run(&["sequence", "enroll", "example", "--stage", "prospecting", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("dry run: 2 would be enrolled in 'example', 1 not"),
        "{shown}"
    );
    assert!(shown.contains("would enrol: #1 Jane Doe"), "{shown}");
    assert!(
        shown.contains("not enrolled: #3 Nia Obi has no email address"),
        "{shown}"
    );
    let warned = stderr(&out);
    assert!(
        warned.contains("sending.postal_address") && warned.contains("http.public_url"),
        "{warned}"
    );
    assert_eq!(
        ws.json(&["sequence", "status"]).as_array().map(Vec::len),
        Some(0),
        "nothing enrolled"
    );

    sending_config(&ws, "");
    let out = ws.run(&["sequence", "enroll", "example", "jane@acme.io"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("postal_address"), "{}", stderr(&out));
    let again = ws.json(&["sequence", "enroll", "example", "jane@acme.io", "--dry-run"]);
    assert_eq!(
        again["would_refuse"][0]["reason"], "is already in sequence 'example'",
        "{again}"
    );
}

#[test]
fn preview_shows_every_variant_and_why_a_prospect_cannot_be_enrolled() {
    let ws = jane_and_raj();
    sending_config(&ws, "");
    let out = ws.ok(&["sequence", "preview", "example", "jane@acme.io"]);
    assert!(out.contains("== step 1 (at once) variant A"), "{out}");
    assert!(out.contains("== step 1 (at once) variant B"), "{out}");
    assert_eq!(out.matches("this prospect gets it").count(), 1, "{out}");
    assert!(
        out.contains("Subject: Acme and faster deploys") && out.contains("Subject: A question for Jane"),
        "{out}"
    );
    assert!(!out.contains("cannot be enrolled"), "{out}");

    ws.ok(&["prospect", "move", "jane@acme.io", "qualification"]);
    let out = ws.ok(&["sequence", "preview", "example", "jane@acme.io"]);
    assert!(
        out.contains("NOTE: #1 Jane Doe cannot be enrolled in 'example'"),
        "{out}"
    );
    assert!(out.contains("default/qualification"), "{out}");
}

#[test]
fn a_hand_logged_reply_stops_the_sequence_and_its_tasks_leave_at_once() {
    let ws = jane_and_raj();
    sending_config(&ws, "");
    ws.write(
        "config/sequences/touch.toml",
        "name = \"Touch\"\n[[steps]]\ntype = \"task\"\nafter = \"0\"\nlogs = \"linkedin.comment\"\n\
         instruction = \"Comment on {{ prospect.first_name }}'s latest post\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"3 business days\"\nsubject = \"Hello\"\ntext = \"Hi\"\n",
    );
    // Tuesday 1 December 2026, 10:00 in Oslo.
    let now = "2026-12-01T09:00:00Z";
    ws.at(now, &["sequence", "enroll", "touch", "jane@acme.io", "raj@globex.com"]);
    // Due at once: `tasks` shows both without any send pass having run.
    let tasks = ws.at(now, &["tasks"]);
    assert!(tasks.contains("Comment on Jane's latest post"), "{tasks}");
    assert!(tasks.contains("Comment on Raj's latest post"), "{tasks}");
    assert!(
        tasks.contains("due 2026-12-01 10:00 CET"),
        "times in the rep's zone: {tasks}"
    );

    let later = "2026-12-01T11:00:00Z";
    let out = ws.at(
        later,
        &["log", "jane@acme.io", "email.replied", "--note", "Sounds good, call me"],
    );
    assert!(out.contains("1 sequence(s) stopped"), "{out}");
    assert!(out.contains("at 2026-12-01 12:00 CET"), "{out}");
    let status = ws.json_at(later, &["sequence", "status"]);
    let jane = status
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["prospect_name"] == "Jane Doe")
        .unwrap();
    assert_eq!(jane["state"], "stopped", "{status}");
    let tasks = ws.at(later, &["tasks"]);
    assert!(
        !tasks.contains("Jane"),
        "a stopped sequence's task leaves at once: {tasks}"
    );
    assert!(tasks.contains("Raj"), "{tasks}");
    let digest = ws.at("2026-12-02T06:00:00Z", &["digest"]);
    assert!(!digest.contains("Comment on Jane"), "{digest}");
    assert!(digest.contains("Comment on Raj"), "{digest}");
    assert!(
        digest.contains("Sounds good, call me"),
        "the reply is in the next digest: {digest}"
    );
    let shown = ws.json(&["prospect", "show", "jane@acme.io"]);
    let reply = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "email.replied")
        .unwrap();
    assert_eq!(reply["data"]["hand_logged"], true, "{reply}");

    // Leaving the sequence's stages stops it as soon as the move is recorded.
    let out = ws.at(later, &["prospect", "move", "raj@globex.com", "meeting"]);
    assert!(out.contains("1 sequence(s) stopped"), "{out}");
    assert!(ws.at(later, &["tasks"]).contains("no tasks due"));
}

#[test]
fn reminders_count_working_days_or_take_a_date_and_tasks_all_shows_them() {
    let ws = jane_and_raj();
    // Friday 4 December 2026, 15:00 in Oslo.
    let friday = "2026-12-04T14:00:00Z";
    let out = ws.at(
        friday,
        &["remind", "jane@acme.io", "--in", "3d", "--note", "send the deck"],
    );
    assert!(out.contains("due 2026-12-09 15:00 CET"), "Wednesday, not Monday: {out}");
    let out = ws.at(
        friday,
        &["remind", "raj@globex.com", "--on", "2026-12-14", "--note", "call"],
    );
    assert!(
        out.contains("due 2026-12-14 08:00 CET"),
        "the start of the working day: {out}"
    );
    let out = ws.at(
        friday,
        &[
            "remind",
            "raj@globex.com",
            "--on",
            "2026-12-15T14:30",
            "--note",
            "lunch",
        ],
    );
    assert!(out.contains("due 2026-12-15 14:30 CET"), "{out}");
    let refused = ws.run(&[
        "--now",
        friday,
        "remind",
        "raj@globex.com",
        "--on",
        "2026-12-01",
        "--note",
        "x",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("already past"), "{}", stderr(&refused));
    let refused = ws.run(&["--now", friday, "remind", "raj@globex.com", "--note", "x"]);
    assert_eq!(refused.status.code(), Some(2), "--in or --on is required");

    assert!(ws.at(friday, &["tasks"]).contains("no tasks due"));
    let all = ws.at(friday, &["tasks", "--all"]);
    assert_eq!(all.matches("upcoming, due").count(), 3, "{all}");
    assert!(all.contains("send the deck"), "{all}");
    let wednesday = "2026-12-09T14:00:00Z";
    let due = ws.at(wednesday, &["tasks"]);
    assert!(due.contains("send the deck") && !due.contains("lunch"), "{due}");
}

#[test]
fn a_mistyped_kind_is_refused_with_the_closest_one() {
    let ws = jane_and_raj();
    let out = ws.run(&["log", "jane@acme.io", "linkedin.coment"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean linkedin.comment?"),
        "{}",
        stderr(&out)
    );
    ws.write("config/rapport.toml", "[events]\nkinds = [\"webinar.attended\"]\n");
    ws.ok(&["log", "jane@acme.io", "webinar.attended"]);
    let out = ws.run(&["log", "jane@acme.io", "webinar.atended"]);
    assert!(
        stderr(&out).contains("did you mean webinar.attended?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn prospects_can_be_searched_limited_and_exported_with_the_same_filters() {
    let ws = jane_and_raj();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Nia Obi",
        "--email",
        "nia@acme.io",
        "--company",
        "ACME Labs",
        "--stage",
        "proposal",
    ]);
    let found = ws.json(&["prospect", "list", "--search", "acme"]);
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Jane Doe", "Nia Obi"]);
    assert_eq!(
        ws.json(&["prospect", "list", "--limit", "1"]).as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        ws.json(&["prospect", "list", "--search", "100%"])
            .as_array()
            .map(Vec::len),
        Some(0),
        "% is text"
    );
    let csv = ws.ok(&["prospect", "export", "--stage", "proposal"]);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("Nia Obi"), "{csv}");
    let csv = ws.ok(&["prospect", "export", "--search", "globex"]);
    assert!(csv.contains("Raj Patel") && !csv.contains("Jane"), "{csv}");
    let out = ws.run(&["prospect", "export", "--stage", "proposl"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_digest_for_a_date_is_shown_as_sent_at_the_digest_hour() {
    let ws = jane_and_raj();
    ws.ok(&[
        "--now",
        "2026-12-02T15:00:00Z",
        "log",
        "jane@acme.io",
        "email.replied",
        "--note",
        "Tuesday works",
    ]);
    // Ann's digest hour is 07:00 in Oslo; without --now the date's digest is
    // shown as it is sent then, whatever the clock says.
    let digest = ws.ok(&["digest", "--date", "2026-12-03"]);
    assert!(
        digest.contains("Good morning, Ann Rep. Thursday 3 December 2026 (times in Europe/Oslo)"),
        "{digest}"
    );
    assert!(digest.contains("Tuesday works"), "{digest}");
    let digest = ws.ok(&["digest", "--date", "2026-12-02"]);
    assert!(
        !digest.contains("Tuesday works"),
        "logged after that digest went: {digest}"
    );
}

#[test]
fn human_facing_times_are_in_the_reps_zone_and_json_stays_utc() {
    let ws = jane_and_raj();
    sending_config(&ws, "");
    ws.ok(&[
        "prospect",
        "edit",
        "jane@acme.io",
        "--add-profile",
        "https://github.com/jane",
    ]);
    let now = "2026-12-01T09:00:00Z";
    ws.at(now, &["log", "jane@acme.io", "call", "--at", "2026-12-01T08:30:00Z"]);
    ws.at(now, &["sequence", "enroll", "example", "raj@globex.com"]);
    let shown = ws.ok(&["prospect", "show", "jane@acme.io"]);
    assert!(shown.contains("timeline (Europe/Oslo):"), "{shown}");
    assert!(shown.contains("2026-12-01 09:30 CET  call"), "{shown}");
    let status = ws.at(now, &["sequence", "status"]);
    assert!(status.contains("2026-12-01 10:00 CET"), "{status}");
    let sources = ws.ok(&["sources"]);
    assert!(sources.contains(" CET"), "{sources}");
    let json = ws.json_at(now, &["sequence", "status"]);
    assert_eq!(json[0]["next_due_at"], "2026-12-01T09:00:00Z", "{json}");
}

#[test]
fn the_digest_shows_the_pipeline_change_since_the_last_one_sent() {
    let ws = jane_and_raj();
    ws.ok(&["prospect", "edit", "jane@acme.io", "--value", "100k"]);
    ws.ok(&["prospect", "move", "jane@acme.io", "proposal"]);
    // Sent on Tuesday morning (to the .eml outbox).
    let out = ws.at("2026-12-01T06:05:00Z", &["digest", "--send"]);
    assert!(out.contains("digests sent 1"), "{out}");
    ws.ok(&["prospect", "edit", "raj@globex.com", "--value", "$50,000"]);
    ws.ok(&["prospect", "move", "raj@globex.com", "proposal"]);
    let digest = ws.ok(&["digest", "--date", "2026-12-02"]);
    assert!(digest.contains("since the last digest"), "{digest}");
    assert!(digest.contains("(+"), "{digest}");
}
