//! What the benchmarks share.

pub mod feeds;

/// The number after `flag` on the command line (`-- --rows 2000`), else `default`.
pub fn number_arg(flag: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The CSV a rep exports from a sales tool: a name, an address, a company,
/// a profile, for `rows` people.
#[allow(dead_code)] // not every benchmark imports
pub fn prospects_csv(rows: usize) -> Vec<u8> {
    let mut text = String::from("First Name,Last Name,Email Address,Company Name,Title,LinkedIn URL,Industry\n");
    for i in 0..rows {
        text.push_str(&format!(
            "First{i},Last{i},person{i}@company{}.example,Company {},Title {i},https://www.linkedin.com/in/person-{i}/,Software\n",
            i % 997,
            i % 997
        ));
    }
    text.into_bytes()
}

/// An empty store in a temporary folder, and a connection of its own to the
/// same database to seed it with SQL (the store has no public pool).
#[allow(dead_code)] // not every benchmark seeds a store
pub async fn seeded_store() -> (tempfile::TempDir, rapport::store::SqliteStore, sqlx::SqlitePool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = rapport::store::SqliteStore::open(&url, std::time::Duration::from_secs(10), 4)
        .await
        .expect("store");
    let seed = sqlx::SqlitePool::connect(&url).await.expect("seed connection");
    (dir, store, seed)
}
