//! Every input a fuzzer crashed rapport with (`scripts/fuzz`), replayed:
//! `tests/fixtures/fuzz/TARGET/*` through the same function the fuzz target
//! calls (`rapport::robustness`). Each must now return without a panic.

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    assert!(root.is_dir(), "{} is missing", root.display());
    // A target that never crashed has no folder.
    let Ok(entries) = std::fs::read_dir(root.join(target)) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect();
    found.sort();
    found
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    for (path, bytes) in inputs(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&bytes)));
        assert!(outcome.is_ok(), "{} still panics", path.display());
    }
}

#[test]
fn feed_parse() {
    replay("feed_parse", |bytes| {
        assert!(
            rapport::robustness::feed_parse(bytes),
            "the XML parser panicked (caught)"
        );
    });
    assert!(
        !inputs("feed_parse").is_empty(),
        "the crash found on 30 November 2026 is kept"
    );
}

#[test]
fn mail_classify() {
    replay("mail_classify", rapport::robustness::mail_classify);
}

#[test]
fn csv_import() {
    replay("csv_import", rapport::robustness::csv_import);
}

#[test]
fn sequence_template() {
    replay("sequence_template", rapport::robustness::sequence_template);
}

#[test]
fn unsubscribe_token() {
    replay("unsubscribe_token", |bytes| {
        assert!(rapport::robustness::unsubscribe_token(bytes), "a forged token verified");
    });
}

#[test]
fn config_loader() {
    replay("config_loader", rapport::robustness::config_loader);
    assert!(
        !inputs("config_loader").is_empty(),
        "the crash found on 30 November 2026 is kept"
    );
}
