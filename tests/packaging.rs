//! What an operator installs besides the binary: the systemd unit (checked by
//! systemd-analyze), shell completions and man pages generated from the
//! argument definitions, and license files matching Cargo.toml.

mod common;

use common::{stderr, stdout, Workspace};
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_systemd_unit_is_hardened_and_verifies() {
    let unit =
        std::fs::read_to_string(Path::new(ROOT).join("contrib/rapport.service")).expect("contrib/rapport.service");
    for directive in [
        "DynamicUser=yes",
        "User=rapport",
        "StateDirectory=rapport",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "ExecStart=/usr/local/bin/rapport daemon",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.contains(directive), "the unit lacks {directive:?}");
    }
    let Some(analyze) = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing (scripts/test installs it)"
        );
        common::skipped(
            "the_systemd_unit_is_hardened_and_verifies",
            "systemd-analyze is not installed",
        );
        return;
    };
    // Checked against the binary just built (verify wants ExecStart to exist).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rapport.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/rapport", common::BIN)).unwrap();
    let out = Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("run systemd-analyze");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{said}");
    // It reports bad values as warnings and still exits 0: none may mention the unit.
    assert!(
        !said.lines().any(|l| l.contains("rapport.service")),
        "systemd-analyze found problems:\n{said}"
    );
}

#[test]
fn completions_and_man_pages_come_from_the_commands() {
    let ws = Workspace::new();
    let bash = ws.ok(&["completions", "bash"]);
    assert!(bash.contains("complete -F") && bash.contains("rapport"), "{bash}");
    assert!(
        bash.contains("--dry-run") && bash.contains("--search"),
        "options are in it"
    );
    let zsh = ws.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef rapport"), "{}", &zsh[..zsh.len().min(200)]);
    let fish = ws.ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c rapport"), "{}", &fish[..fish.len().min(200)]);
    let bad = ws.run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));

    let man = ws.ok(&["man"]);
    assert!(man.contains(".TH rapport 1"), "{}", &man[..man.len().min(300)]);
    assert!(
        man.contains("Social\\-selling engagement tracker") || man.contains("Social-selling"),
        "{man}"
    );
    let dir = ws.path("man");
    ws.ok(&["man", "--out-dir", dir.to_str().unwrap()]);
    for page in [
        "rapport.1",
        "rapport-prospect.1",
        "rapport-sequence-enroll.1",
        "rapport-remind.1",
    ] {
        assert!(dir.join(page).is_file(), "{page} was not written");
    }
    let enroll = std::fs::read_to_string(dir.join("rapport-sequence-enroll.1")).unwrap();
    assert!(enroll.contains("dry\\-run"), "{enroll}");
}

#[test]
fn the_license_files_match_cargo_toml() {
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("license = \"MIT OR Apache-2.0\""),
        "the licence this test checks"
    );
    let mit = std::fs::read_to_string(Path::new(ROOT).join("LICENSE-MIT")).expect("LICENSE-MIT");
    assert!(mit.starts_with("MIT License") && mit.contains("Permission is hereby granted"));
    let apache = std::fs::read_to_string(Path::new(ROOT).join("LICENSE-APACHE")).expect("LICENSE-APACHE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
}
