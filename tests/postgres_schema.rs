//! The PostgreSQL schema (`migrations/postgres/`) applies on a real cluster
//! and has every table, column and named index the SQLite migrations leave,
//! so a migration added on one side and not the other fails here.

mod common;

use common::postgres::Postgres;
use std::collections::BTreeSet;

#[tokio::test]
async fn the_postgres_schema_has_every_table_column_and_index_of_the_sqlite_one() {
    let pg = Postgres::start();
    let pool = sqlx::PgPool::connect(&pg.database("schema")).await.expect("connect");
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .expect("the PostgreSQL migrations apply");
    let postgres_columns: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let postgres_indexes: BTreeSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT i.indexname::text FROM pg_indexes i WHERE i.schemaname = 'public' \
         AND i.tablename <> '_sqlx_migrations' \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
    let store = rapport::store::SqliteStore::open(&url, std::time::Duration::from_secs(5), 1)
        .await
        .unwrap();
    rapport::store::Store::close(&store).await;
    let sqlite = sqlx::SqlitePool::connect(&url).await.unwrap();
    let sqlite_columns: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .fetch_all(&sqlite)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let sqlite_indexes: BTreeSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite\\_autoindex%' ESCAPE '\\'",
    )
    .fetch_all(&sqlite)
    .await
    .unwrap()
    .into_iter()
    .collect();

    let only =
        |a: &BTreeSet<(String, String)>, b: &BTreeSet<(String, String)>| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        sqlite_columns == postgres_columns,
        "columns only in SQLite: {:?}\ncolumns only in PostgreSQL: {:?}",
        only(&sqlite_columns, &postgres_columns),
        only(&postgres_columns, &sqlite_columns)
    );
    assert_eq!(sqlite_indexes, postgres_indexes, "named indexes differ");
    assert!(sqlite_columns.len() > 150, "{} columns read", sqlite_columns.len());
}

#[test]
fn db_migrate_applies_and_lists_the_migrations_of_either_backend() {
    use common::{stderr, Workspace};
    let ws = Workspace::with_rep();
    let sqlite = ws.json(&["db", "migrate"]);
    let sqlite = sqlite.as_array().unwrap();
    assert!(sqlite.len() >= 15, "{sqlite:?}");
    assert!(
        sqlite.iter().all(|m| !m["applied_at"].is_null()),
        "all applied: {sqlite:?}"
    );
    let table = ws.ok(&["db", "migrate"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("0015") && l.contains("webhooks out")),
        "{table}"
    );

    let pg = Postgres::start();
    let url = pg.database("migrate");
    let postgres = ws.json(&["db", "migrate", "--url", &url]);
    assert_eq!(postgres[0]["description"], "schema");
    assert!(!postgres[0]["applied_at"].is_null(), "{postgres}");
    assert_eq!(
        ws.json(&["db", "migrate", "--url", &url]),
        postgres,
        "applying again changes nothing"
    );

    let refused = ws.run(&[
        "db",
        "migrate",
        "--url",
        "postgres://ann:hunter2-secret@127.0.0.1:1/rapport",
    ]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("ann:***@127.0.0.1:1"), "{}", stderr(&refused));
    assert!(!stderr(&refused).contains("hunter2"), "the password is never shown");
}

#[tokio::test]
async fn db_copy_moves_every_table_into_postgres_verified_and_refuses_a_non_empty_target() {
    use common::{stderr, Workspace};
    let ws = Workspace::with_rep();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Jane Doe",
        "--email",
        "jane@acme.io",
        "--tag",
        "vip",
        "--profile",
        "https://jane.example/blog",
        "--value",
        "$100,000",
    ]);
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Bjørn Ås",
        "--email",
        "bjorn@fjord.example",
    ]);
    ws.ok(&[
        "log",
        "jane@acme.io",
        "linkedin.comment",
        "--note",
        "Nice post — ümlaut, \"quotes\", 😀",
    ]);
    ws.ok(&["remind", "jane@acme.io", "--in", "3d", "--note", "send the deck"]);
    ws.ok(&["prospect", "move", "jane@acme.io", "proposal"]);
    ws.ok(&["rep", "token", "create", "ann@example.com", "--name", "crm"]);
    ws.ok(&["rep", "ical", "ann@example.com"]);

    let pg = Postgres::start();
    let url = pg.database("copy");
    let copied = ws.json(&["db", "copy", "--to", &url]);
    let rows = |table: &str| {
        copied.as_array().unwrap().iter().find(|t| t["table"] == table).unwrap()["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(copied.as_array().unwrap().len(), rapport::store::copy::TABLES.len());
    assert_eq!(
        (rows("reps"), rows("prospects"), rows("tasks"), rows("api_tokens")),
        (1, 2, 1, 1)
    );
    assert_eq!(
        (rows("prospect_tags"), rows("profiles"), rows("calendar_tokens")),
        (1, 1, 1)
    );
    assert!(rows("events") >= 4, "{copied}");

    let again = ws.run(&["db", "copy", "--to", &url]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is not empty") && stderr(&again).contains("--replace"),
        "{}",
        stderr(&again)
    );
    let replaced = ws.json(&["db", "copy", "--to", &url, "--replace"]);
    assert_eq!(replaced, copied, "the same rows and checksums");

    // The copy reads back as written, and new rows get new ids.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let note: String = sqlx::query_scalar("SELECT data->>'note' FROM events WHERE kind = 'linkedin.comment'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(note, "Nice post — ümlaut, \"quotes\", 😀");
    let value: i64 = sqlx::query_scalar("SELECT value_cents FROM prospects WHERE email = 'jane@acme.io'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(value, 10_000_000);
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO reps (name, email, time_zone, digest_hour, created_at) VALUES ('Bob', 'bob@x.example', 'UTC', 7, now()) RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(next, 2, "the id sequence continues after the copied rows");
    let refused = ws.run(&["db", "copy", "--from", "postgres://x@127.0.0.1/y", "--to", &url]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[test]
fn a_postgres_url_is_accepted_shown_without_its_password_and_a_bad_one_named() {
    use common::{stderr, stdout, Workspace};
    let ws = Workspace::on_database(Some(
        "postgres://ann:hunter2-secret@db.internal:5432/rapport?sslmode=require".into(),
    ));
    let checked = ws.run(&["config", "check"]);
    let shown = format!("{}{}", stdout(&checked), stderr(&checked));
    assert!(shown.contains("postgres://ann:***@db.internal:5432/rapport"), "{shown}");
    assert!(!shown.contains("hunter2"), "the password is never shown: {shown}");

    let ws = Workspace::on_database(Some("mysql://ann@db.internal/rapport".into()));
    let refused = ws.run(&["config", "check"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("database.url") && stderr(&refused).contains("postgres://USER@HOST/DATABASE"),
        "{}",
        stderr(&refused)
    );

    let ws = Workspace::new();
    ws.write(
        "config/rapport.toml",
        "[database]\nurl = \"sqlite://data/rapport.db\"\npassword_file = \"pw\"\n",
    );
    ws.write("pw", "secret\n");
    let refused = ws.run(&["config", "check"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("database.password_file"),
        "{}",
        stderr(&refused)
    );
}

/// TLS to the database (`sslmode` in the URL, rustls): a server that takes
/// TCP connections only over TLS serves rapport with `sslmode=require`, and
/// with `verify-full` against the CA that signed its certificate; a plain
/// connection, or `verify-full` against the wrong CA, is refused and named.
#[test]
fn the_store_reaches_postgres_over_tls_when_the_url_asks() {
    use common::{stderr, Workspace};
    let cluster = Postgres::start_tls_only();
    let url = cluster.database("secure");
    let ws = Workspace::on_database(Some(format!("{url}?sslmode=require")));
    ws.init_ann();
    let reps = ws.json(&["rep", "list"]);
    assert_eq!(reps[0]["email"], "ann@example.com", "{reps}");

    let verified = Workspace::on_database(Some(format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        cluster.ca_file().display()
    )));
    let migrated = verified.run(&["db", "migrate"]);
    assert_eq!(migrated.status.code(), Some(0), "{}", stderr(&migrated));

    let plain = Workspace::on_database(Some(format!("{url}?sslmode=disable")));
    let refused = plain.run(&["rep", "list"]);
    assert_ne!(refused.status.code(), Some(0), "a plain connection is refused");
    assert!(
        stderr(&refused).contains("no encryption") || stderr(&refused).contains("pg_hba.conf"),
        "{}",
        stderr(&refused)
    );

    // Without the CA, only the public roots: the test CA is not among them.
    let unknown = Workspace::on_database(Some(format!("{url}?sslmode=verify-full")));
    let unverified = unknown.run(&["rep", "list"]);
    assert_ne!(unverified.status.code(), Some(0), "an unknown issuer is refused");
    assert!(
        stderr(&unverified).to_lowercase().contains("certificate"),
        "{}",
        stderr(&unverified)
    );
}

/// A server that wants a password: the daemon's store, `db migrate` and
/// `db copy` take it from a file (`database.password_file`, or
/// `--password-file` for a database named on the command line), never from
/// the URL, and a missing one is named.
#[test]
fn the_database_password_comes_from_a_file_for_the_store_migrate_and_copy() {
    use common::{stderr, Workspace};
    const PASSWORD: &str = "correct horse battery";
    let pg = Postgres::start_with_password(PASSWORD);
    let target = pg.database("copied");
    let team = pg.database("team");

    // The embedded store, copied into PostgreSQL with the password from a file.
    let ws = Workspace::with_rep();
    ws.add_jane(None, &[]);
    let file = ws.write("secrets/db-password", format!("{PASSWORD}\n"));
    let file = file.to_str().unwrap();
    let refused = ws.run(&["db", "copy", "--to", &target]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("password authentication failed") && stderr(&refused).contains("--password-file"),
        "{}",
        stderr(&refused)
    );
    let copied = ws.json(&["db", "copy", "--to", &target, "--password-file", file]);
    assert!(!copied.as_array().unwrap().is_empty(), "{copied}");
    let listed = ws.json(&["db", "migrate", "--url", &team, "--password-file", file]);
    assert!(!listed.as_array().unwrap().is_empty(), "{listed}");
    let missing = ws.run(&[
        "db",
        "migrate",
        "--url",
        &team,
        "--password-file",
        "/nonexistent/db-password",
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("--password-file /nonexistent/db-password"),
        "{}",
        stderr(&missing)
    );

    // The configured database with `password_file`: the store and `db migrate` use it.
    let configured = Workspace::on_database(Some(target.clone()));
    let file = configured.write("secrets/db-password", format!("{PASSWORD}\n"));
    configured.write(
        "config/rapport.toml",
        format!("[database]\npassword_file = \"{}\"\n", file.display()),
    );
    let prospects = configured.json(&["prospect", "list"]);
    assert_eq!(prospects.as_array().unwrap().len(), 1, "{prospects}");
    let migrations = configured.json(&["db", "migrate"]);
    assert!(
        migrations
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["applied_at"].is_null()),
        "{migrations}"
    );
}
