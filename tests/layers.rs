//! Calls point inward: every top-level module of `src/` sits in a layer
//! (`LAYERS`) and names only modules in the layers below it; the pure
//! domain uses no IO crate and no system clock. Checked by reading the
//! sources' `crate::` paths: `cargo test --test layers`.

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

/// The top-level module a file belongs to (`src/store/sqlite/mod.rs` → `store`).
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
        assert!(
            !code.contains("crate::{"),
            "{}: name each module in its own `use crate::module::…` so this check sees it",
            path.display()
        );
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

/// The layers, lowest first. A module may use only modules in layers below
/// its own: the pure domain; what holds state or talks to the world (the
/// clocks, the allocator's bound, the store, the guarded HTTP client); the
/// settings; the mail transport; the sequences (which the features below
/// them stop, enrol and read); the features that run over the store (the
/// stage rules, the digest, the feeds and mailboxes); the use cases every
/// door calls; and the doors, each of which may use the doors before it in
/// this list (the daemon serves the web listener; the command line starts
/// the daemon).
const LAYERS: [&[&str]; 8] = [
    &["domain"],
    &["clock", "memory", "store", "net"],
    &["config", "metrics"],
    &["outbound"],
    &["sequences"],
    &["rules", "digest", "sources", "webhooks"],
    &["app"],
    &["robustness", "web", "daemon", "cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[test]
fn every_module_has_a_layer() {
    for module in uses().keys().filter(|m| !["lib", "main"].contains(&m.as_str())) {
        assert!(
            layer_of(module).is_some(),
            "`{module}` is in no layer: add it to LAYERS"
        );
    }
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let doors = LAYERS[LAYERS.len() - 1];
    for (module, used) in uses() {
        let Some(layer) = layer_of(&module) else { continue };
        for other in used {
            let Some(other_layer) = layer_of(&other) else { continue };
            let below = other_layer < layer
                || (layer == LAYERS.len() - 1
                    && other_layer == layer
                    && doors.iter().position(|d| *d == other) < doors.iter().position(|d| *d == module));
            assert!(
                below,
                "`{module}` (layer {layer}) uses `{other}` (layer {other_layer}): calls must point inward"
            );
        }
    }
}

/// The doors parse, call a use case and render: the command line and the
/// web listener call no store method but to open, share and close the
/// store, and of the daemon only its scheduler does (claiming job runs).
#[test]
fn the_doors_call_use_cases_not_the_store() {
    let doors = ["cli", "web", "daemon"];
    for path in rust_files(Path::new(SRC)) {
        if !doors.contains(&module_of(&path).as_str()) || path.ends_with("daemon/scheduler.rs") {
            continue;
        }
        let code: String = code(&path).split_whitespace().collect();
        for (i, _) in code.match_indices("store.") {
            let method: String = code[i + 6..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                ["clone", "close", "as_ref"].contains(&method.as_str()),
                "{} calls the store's `{method}`: call a use case in app/ instead",
                path.display()
            );
        }
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

/// Every source file says at its top why it exists (a `//!` comment).
#[test]
fn every_file_opens_with_why_it_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["src", "tests", "benches"] {
        for path in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&path).expect("read source");
            assert!(
                text.trim_start().starts_with("//!"),
                "{} does not open with a `//!` comment saying why it exists",
                path.display()
            );
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
