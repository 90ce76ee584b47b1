//! What rapport writes must be safe where it lands: CSV cells spreadsheets
//! show as text, files only the owner can read, terminal output no feed can
//! drive, and errors that say why a fetch was refused.

mod common;

use common::{stdout, Workspace};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn exported_cells_cannot_run_as_formulas_and_import_back_unchanged() {
    let ws = Workspace::with_rep();
    let formula = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Jane Doe",
        "--email",
        "jane@acme.io",
        "--company",
        formula,
        "--title",
        "@SUM(A1)",
        "--notes=-2+3",
    ]);
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "+47 Tel",
        "--email",
        "tel@acme.io",
        "--company",
        "'=already quoted",
    ]);
    let exported = ws.ok(&["prospect", "export"]);
    let mut reader = csv::Reader::from_reader(exported.as_bytes());
    for record in reader.records() {
        for cell in record.expect("CSV").iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet would run: {cell:?}\n{exported}"
            );
        }
    }
    assert!(exported.contains("'=HYPERLINK"), "{exported}");

    let other = Workspace::with_rep();
    let file = other.write("export.csv", &exported);
    other.ok(&["prospect", "import", file.to_str().unwrap()]);
    let jane = other.json(&["prospect", "show", "jane@acme.io"]);
    assert_eq!(jane["prospect"]["company"], formula, "{jane}");
    assert_eq!(jane["prospect"]["title"], "@SUM(A1)");
    assert_eq!(jane["prospect"]["notes"], "-2+3");
    let tel = other.json(&["prospect", "show", "tel@acme.io"]);
    assert_eq!(tel["prospect"]["name"], "+47 Tel");
    assert_eq!(tel["prospect"]["company"], "'=already quoted");
}

#[cfg(unix)]
#[test]
fn every_file_rapport_writes_is_the_owners_alone() {
    let ws = Workspace::with_rep();
    ws.add_jane(None, &[]);
    ws.ok(&["prospect", "export", "--output", "prospects.csv"]);
    // A sequence email into the .eml outbox (the embedded default).
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[sequences]\ndir = \"sequences\"\n\
             [http]\npublic_url = \"https://rapport.example\"\n\
             [sending]\npostal_address = \"{}\"\nmin_gap_secs = 0\nmax_jitter_secs = 0\n",
            common::POSTAL
        ),
    );
    ws.write("config/sequences/one.toml", common::ONE_EMAIL_SEQUENCE);
    let monday = "2026-11-30T09:00:00Z";
    ws.at(monday, &["sequence", "enroll", "one", "--stage", "prospecting"]);
    ws.at(monday, &["sequence", "send", "--once"]);
    let outbox = ws.path("data/outbox");
    let emails: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(emails.len(), 1, "{emails:?}");

    for folder in ["data", "data/outbox", "config", "config/sequences", "config/pipelines"] {
        assert_eq!(mode(&ws.path(folder)), 0o700, "{folder}");
    }
    let mut files = vec![
        ws.path("data/rapport.db"),
        ws.path("prospects.csv"),
        ws.path("config/rapport.toml"),
        ws.path("config/rules.toml"),
    ];
    files.extend(emails);
    // SQLite's write-ahead log and index, while they exist: whether they are
    // still there after a command ends depends on how its last connection closed.
    files.extend(
        ["data/rapport.db-wal", "data/rapport.db-shm"]
            .map(|f| ws.path(f))
            .into_iter()
            .filter(|f| f.exists()),
    );
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[cfg(unix)]
#[test]
fn a_database_an_older_build_left_readable_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::with_rep();
    let db = ws.path("data/rapport.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    ws.ok(&["prospect", "list"]);
    assert_eq!(mode(&db), 0o600);
}

#[test]
fn feed_text_cannot_drive_the_terminal() {
    let ws = Workspace::new();
    // JSON Feed allows any character in a string, escape sequences included.
    let feed = r#"{
        "version": "https://jsonfeed.org/version/1.1",
        "title": "\u001b]0;owned\u0007Jane's \u001b[31mblog\u001b[0m",
        "items": [{
            "id": "1",
            "url": "https://jane.example/1",
            "title": "Hello \u001b[2J\u001b[Hworld\u0008\u0008",
            "content_text": "text"
        }]
    }"#;
    let file = ws.write("feed.json", feed);
    let out = ws.run(&["sources", "test", file.to_str().unwrap()]);
    let shown = stdout(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "control characters reached the terminal: {shown:?}"
    );
    assert!(
        shown.contains("Jane's blog") && shown.contains("Hello world"),
        "{shown}"
    );
}

#[test]
fn a_private_address_is_named_as_the_reason_discovery_stopped() {
    let ws = Workspace::with_rep();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Intra",
        "--email",
        "i@corp.example",
        "--profile",
        "http://10.1.2.3/blog",
    ]);
    ws.ok(&["poll", "--once"]);
    let sources = ws.json(&["sources"]);
    let error = sources[0]["last_error"].as_str().expect("an error").to_string();
    assert!(error.contains("private or special-purpose address"), "{error}");
    assert!(
        !error.contains("does not let rapport read"),
        "not robots.txt's doing: {error}"
    );
}
