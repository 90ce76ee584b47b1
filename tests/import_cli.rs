//! CSV import through the CLI: real export layouts, idempotent re-import,
//! bad rows reported by line, and --strict.

mod common;

use common::{fixture, stderr, stdout, Workspace};

fn import(ws: &Workspace, file: &str) -> serde_json::Value {
    ws.json(&["prospect", "import", fixture(file).to_str().unwrap()])
}

#[test]
fn sales_navigator_export_imports_correctly() {
    let ws = Workspace::with_rep();
    let report = import(&ws, "import/sales-navigator.csv");
    assert_eq!(report["imported"], 4, "{report}");
    assert_eq!(report["bad_rows"], serde_json::json!([]));
    let priya = ws.json(&["prospect", "show", "priya@quantica.example"])["prospect"].clone();
    assert_eq!(priya["name"], "Priya Nair");
    assert_eq!(priya["company"], "Quantica");
    assert_eq!(priya["title"], "VP Engineering");
    assert_eq!(priya["stage"], "prospecting");
    assert_eq!(
        priya["profiles"][0],
        serde_json::json!({ "url": "https://linkedin.com/in/priyanair", "platform": "linkedin" })
    );
    assert_eq!(priya["custom_fields"]["location"], "Bangalore");
    // Marcus has no email: identified by his profile alone.
    let all = ws.json(&["prospect", "list"]);
    let marcus = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Marcus Lind")
        .expect("Marcus");
    assert_eq!(marcus["email"], serde_json::Value::Null);
    let tj = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["company"] == "Brightpath, Inc.")
        .expect("TJ");
    assert_eq!(tj["name"], "Tom \"TJ\" Jensen");
    assert_eq!(tj["profiles"][0]["url"], "https://linkedin.com/in/tjjensen");
}

#[test]
fn apollo_export_imports_correctly() {
    let ws = Workspace::with_rep();
    let report = import(&ws, "import/apollo.csv");
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(report["foreign_stages"], serde_json::json!(["Approaching", "Cold"]));
    let alice = ws.json(&["prospect", "show", "alice.moreau@lumen.example"])["prospect"].clone();
    assert_eq!(
        (alice["name"].as_str(), alice["company"].as_str()),
        (Some("Alice Moreau"), Some("Lumen Logistics"))
    );
    let urls: Vec<&str> = alice["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        ["https://linkedin.com/in/alicemoreau", "https://x.com/alicemoreau"]
    );
    assert_eq!(alice["stage"], "prospecting");
    assert_eq!(alice["custom_fields"]["stage"], "Cold");
    assert_eq!(
        alice["custom_fields"]["company_linkedin_url"],
        "http://www.linkedin.com/company/lumen"
    );
    let chen = ws.json(&["prospect", "show", "chen.wu@orbit.example"])["prospect"].clone();
    assert_eq!(chen["profiles"][0]["platform"], "x");
}

#[test]
fn importing_twice_changes_nothing() {
    let ws = Workspace::with_rep();
    import(&ws, "import/sales-navigator.csv");
    import(&ws, "import/apollo.csv");
    let before = ws.snapshot();
    let again = import(&ws, "import/sales-navigator.csv");
    assert_eq!(
        (again["imported"].clone(), again["already_present"].clone()),
        (0.into(), 4.into())
    );
    let again = import(&ws, "import/apollo.csv");
    assert_eq!(
        (again["imported"].clone(), again["already_present"].clone()),
        (0.into(), 3.into())
    );
    assert_eq!(ws.snapshot(), before);
}

fn bad_file(ws: &Workspace) -> std::path::PathBuf {
    let mut csv = b"Name,Email,LinkedIn URL\n".to_vec();
    csv.extend_from_slice(b"Good One,good1@x.example,\n"); // line 2
    csv.extend_from_slice(b"Nobody,,\n"); // 3: neither email nor profile
    csv.extend_from_slice(b"Bad Url,,https://exa mple.com/in/x\n"); // 4
    csv.extend_from_slice(b"Bad Mail,not-an-address@,\n"); // 5
    csv.extend_from_slice(b"Good Two,good2@x.example,https://github.com/goodtwo\n"); // 6
    csv.extend_from_slice(b"Twin,GOOD2@x.example,\n"); // 7: duplicate of line 6
    csv.extend_from_slice(b"Latin1 B\xf8rge,borge@x.example,\n"); // 8: invalid UTF-8
    ws.write("bad.csv", csv)
}

#[test]
fn bad_rows_are_reported_by_line_and_good_rows_imported() {
    let ws = Workspace::with_rep();
    let file = bad_file(&ws);
    let out = ws.run(&["prospect", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("imported 2, already present 0, bad rows 5"), "{text}");
    for (line, reason) in [
        (3, "needs an email address or a profile URL"),
        (4, "'https://exa mple.com/in/x'"),
        (5, "'not-an-address@' is not an email address"),
        (7, "duplicate of line 6"),
        (8, "not valid UTF-8"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("line {line}:")) && l.contains(reason)),
            "line {line} ({reason}) missing:\n{text}"
        );
    }
    assert!(stderr(&out).contains("bad row(s) were not imported; the good rows were"));
    assert_eq!(ws.json(&["prospect", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn strict_import_leaves_the_database_unchanged() {
    let ws = Workspace::with_rep();
    import(&ws, "import/apollo.csv");
    let before = ws.snapshot();
    let file = bad_file(&ws);
    let out = ws.run(&["prospect", "import", "--strict", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing was imported (--strict)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("line 8:"));
    assert_eq!(ws.snapshot(), before);
}

#[test]
fn an_export_imports_back_into_an_empty_database_as_the_same_prospects() {
    let ws = Workspace::with_rep();
    import(&ws, "import/sales-navigator.csv");
    ws.ok(&[
        "prospect",
        "edit",
        "ingrid.berg@fjordtech.example",
        "--value",
        "120k",
        "--add-tag",
        "VIP",
        "--expected-close",
        "2027-03-01",
    ]);
    ws.ok(&["prospect", "move", "ingrid.berg@fjordtech.example", "proposal"]);
    let exported = ws.ok(&["prospect", "export"]);
    let copy = Workspace::with_rep();
    let file = copy.write("export.csv", &exported);
    let report = copy.json(&["prospect", "import", file.to_str().unwrap()]);
    assert_eq!(report["imported"], 4, "{report}");
    let strip = |v: serde_json::Value| {
        let mut list: Vec<serde_json::Value> = v.as_array().unwrap().clone();
        for p in &mut list {
            p.as_object_mut().unwrap().remove("id");
        }
        list
    };
    assert_eq!(
        strip(copy.json(&["prospect", "list"])),
        strip(ws.json(&["prospect", "list"]))
    );
}
