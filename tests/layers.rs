//! Calls point inward: the pure domain uses no other part of rapport, no IO
//! crate and no system clock; the store and the HTTP client use only the
//! domain; the config only the domain and the client's settings; the daemon,
//! the web listener and the command line are used by nothing below them.
//! Checked by reading the sources: `cargo test --test layers`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// A file's code without its comments and without its test module (tests
/// sit at the bottom, after `#[cfg(test)]`, or in `tests.rs` files).
fn code(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).expect("read source");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to (`src/store/sqlite.rs` → `store`).
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(SRC).expect("under src");
    let first = relative.components().next().expect("a component");
    first.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
}

/// For each top-level module, the other top-level modules its code names.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(Path::new(SRC)) {
        let module = module_of(&path);
        let code = code(&path);
        let entry = uses.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let used: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !used.is_empty() && used != module {
                entry.insert(used);
            }
        }
    }
    uses
}

#[test]
fn the_lower_layers_use_only_what_is_below_them() {
    let uses = uses();
    let allowed: [(&str, &[&str]); 5] = [
        ("domain", &[]),
        ("clock", &["domain"]),
        ("store", &["domain"]),
        ("net", &["domain"]),
        ("config", &["domain", "net"]),
    ];
    for (module, may) in allowed {
        let found = uses.get(module).cloned().unwrap_or_default();
        let extra: Vec<&String> = found.iter().filter(|m| !may.contains(&m.as_str())).collect();
        assert!(extra.is_empty(), "`{module}` uses {extra:?}; it may use only {may:?}");
    }
}

#[test]
fn the_doors_are_used_by_nothing_below_them() {
    let uses = uses();
    let doors: [(&str, &[&str]); 3] = [("cli", &[]), ("daemon", &["cli"]), ("web", &["daemon", "cli"])];
    for (door, callers) in doors {
        let users: Vec<&String> = uses
            .iter()
            .filter(|(module, used)| used.contains(door) && !callers.contains(&module.as_str()))
            .map(|(module, _)| module)
            .collect();
        assert!(users.is_empty(), "`{door}` is used by {users:?}");
    }
}

#[test]
fn the_domain_does_no_io_and_reads_no_clock() {
    let forbidden = [
        "tokio",
        "sqlx",
        "reqwest",
        "lettre",
        "async_imap",
        "hyper",
        "axum",
        "std::fs",
        "std::net::Tcp",
        "std::net::Udp",
        "std::env",
        "std::process",
        "Utc::now",
        "Local::now",
        "SystemTime",
        "Instant::now",
    ];
    for path in rust_files(&Path::new(SRC).join("domain")) {
        let code = code(&path);
        for word in forbidden {
            assert!(!code.contains(word), "{} uses {word}", path.display());
        }
    }
}

#[test]
fn the_domains_address_check_agrees_with_the_mail_transport() {
    use std::str::FromStr;
    for address in [
        "jane@acme.example",
        "Jane.Doe+tag@Acme.Example",
        "jane@[127.0.0.1]",
        "jane@xn--bcher-kva.example",
        "jane@bücher.example",
        "o'brien@acme.example",
        "\"quoted\"@acme.example",
        "jane@acme",
        "jane@@acme.example",
        "jane",
        "@acme.example",
        "jane@",
        "jane doe@acme.example",
        "jane@acme..example",
        "jane@-acme.example",
        "jane@acme.example.",
        "jäne@acme.example",
    ] {
        let ours = rapport::domain::prospect::normalize_email(address).is_ok();
        let lettres = lettre::Address::from_str(address).is_ok();
        assert_eq!(ours, lettres, "{address}: ours {ours}, lettre {lettres}");
    }
}
