//! Messages saved on disk: `.eml` files, Maildir and other folders, and mbox
//! files, read one message at a time so a rep can check a whole export with
//! `rapport mail classify` (and its speed can be measured) without holding
//! the export in memory. Every message comes with where it was found; one
//! that cannot be read is reported in its place and the rest still come.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A message larger than this is reported, not read: no real mail is, and a
/// file this size is more likely a disk image than an export.
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// One message found on disk, or why the file holding it could not be read.
#[derive(Debug)]
pub struct SavedMessage {
    pub file: PathBuf,
    /// The message's number in an mbox file, from 1; `None` for a file of one message.
    pub position: Option<usize>,
    pub raw: Result<Vec<u8>, String>,
}

/// Every message under `inputs`, in order, handed to `each`: a file of one
/// message, an mbox file (starts with `From `), a Maildir (its `cur` and `new`)
/// or any other folder (its files, recursively, by name, hidden ones skipped).
/// `-` reads standard input. Returns how many messages were handed over.
pub fn for_each_saved(inputs: &[PathBuf], mut each: impl FnMut(SavedMessage)) -> usize {
    let mut count = 0;
    let mut hand = |message: SavedMessage| {
        count += 1;
        each(message);
    };
    for input in inputs {
        if input.as_os_str() == "-" {
            read_stream(input, std::io::stdin().lock(), &mut hand);
        } else if input.is_dir() {
            for file in folder_files(input) {
                read_file(&file, &mut hand);
            }
        } else {
            read_file(input, &mut hand);
        }
    }
    count
}

/// True when `inputs` name exactly one message file, or one path that is no folder (its error
/// then names it), not an mbox and not standard input
/// (which may hold an mbox): the CLI then prints it as before.
pub fn is_single_message(inputs: &[PathBuf]) -> bool {
    match inputs {
        [one] if one.as_os_str() == "-" => false,
        [one] => !one.is_dir() && !starts_like_mbox(one),
        _ => false,
    }
}

fn starts_like_mbox(path: &Path) -> bool {
    let mut head = [0u8; 5];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"From ")
}

/// The message files of a folder, sorted by path. A Maildir is read from its
/// `cur` and `new` folders only (`tmp` holds mail still being written; the
/// server's index files are not mail).
fn folder_files(dir: &Path) -> Vec<PathBuf> {
    let is_maildir = ["cur", "new"].iter().all(|sub| dir.join(sub).is_dir());
    let roots: Vec<PathBuf> = match is_maildir {
        true => vec![dir.join("cur"), dir.join("new")],
        false => vec![dir.to_path_buf()],
    };
    let mut files = Vec::new();
    for root in roots {
        walk(&root, &mut files);
    }
    files.sort();
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&path, files),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
}

fn read_file(path: &Path, hand: &mut impl FnMut(SavedMessage)) {
    match File::open(path) {
        Ok(file) => read_stream(path, BufReader::with_capacity(64 * 1024, file), hand),
        Err(e) => hand(SavedMessage {
            file: path.to_path_buf(),
            position: None,
            raw: Err(format!(
                "cannot open it: {e}; give a message file, a Maildir or an mbox"
            )),
        }),
    }
}

/// An mbox (or a single message) from a stream: messages split at `From ` lines
/// (`>From ` unquoted); a stream that is not an mbox is one message.
pub fn read_stream(path: &Path, mut reader: impl BufRead, hand: &mut impl FnMut(SavedMessage)) {
    let is_mbox = reader.fill_buf().is_ok_and(|head| head.starts_with(b"From "));
    if !is_mbox {
        let mut raw = Vec::new();
        let raw = reader
            .take(MAX_MESSAGE_BYTES + 1)
            .read_to_end(&mut raw)
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|n| match n as u64 > MAX_MESSAGE_BYTES {
                true => Err(format!(
                    "more than {MAX_MESSAGE_BYTES} bytes, more than a message can be; give a message file, a Maildir or an mbox"
                )),
                false => Ok(raw),
            });
        return hand(SavedMessage {
            file: path.to_path_buf(),
            position: None,
            raw,
        });
    }
    let mut position = 0;
    let mut current: Vec<u8> = Vec::new();
    let mut started = false;
    let mut previous_blank = true;
    let mut line = Vec::new();
    let mut hand_current = |current: &mut Vec<u8>, position: &mut usize| {
        *position += 1;
        hand(SavedMessage {
            file: path.to_path_buf(),
            position: Some(*position),
            raw: Ok(std::mem::take(current)),
        });
    };
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                position += 1;
                return hand(SavedMessage {
                    file: path.to_path_buf(),
                    position: Some(position),
                    raw: Err(format!("cannot read message {position}: {e}")),
                });
            }
        }
        if previous_blank && is_separator(&line) {
            if started {
                // The blank line before the separator belongs to the mbox, not the message.
                if current.ends_with(b"\n\n") || current.ends_with(b"\r\n\r\n") {
                    let keep = current.len() - if current.ends_with(b"\r\n") { 2 } else { 1 };
                    current.truncate(keep);
                }
                hand_current(&mut current, &mut position);
            }
            started = true;
            previous_blank = false;
            continue;
        }
        previous_blank = line.iter().all(|b| b.is_ascii_whitespace());
        if started {
            current.extend_from_slice(unquoted(&line));
        }
    }
    if started {
        hand_current(&mut current, &mut position);
    }
}

/// An mbox separator: `From ` at the start of a line (after a blank line or the
/// start of the file), then the envelope sender and a date with digits in it.
/// A body line starting with "From " that is not one stays in its message.
fn is_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let words = rest
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .count();
    words >= 3 && rest.iter().any(u8::is_ascii_digit)
}

/// `>From ` (any number of `>`) loses one `>`, as mboxrd writes it.
fn unquoted(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|b| **b == b'>').count();
    match quotes > 0 && line.get(quotes..).is_some_and(|rest| rest.starts_with(b"From ")) {
        true => line.get(1..).unwrap_or(line),
        false => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(inputs: &[PathBuf]) -> Vec<(String, Option<usize>, Result<String, String>)> {
        let mut out = Vec::new();
        for_each_saved(inputs, |m| {
            let name = m
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((
                name,
                m.position,
                m.raw.map(|r| String::from_utf8_lossy(&r).into_owned()),
            ));
        });
        out
    }

    #[test]
    fn an_mbox_gives_each_message_with_its_position_and_unquotes_from_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let mbox = dir.path().join("export.mbox");
        std::fs::write(
            &mbox,
            "From a@x Mon Jan  1 00:00:00 2026\nSubject: one\n\nhi\n>From here on\nFrom the desk of Ann, 2026\n\n\
             From b@x Mon Jan  1 00:00:00 2026\nSubject: two\n\nbye\n",
        )
        .expect("write");
        assert!(!is_single_message(std::slice::from_ref(&mbox)));
        let messages = found(&[mbox]);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].1, Some(1));
        // A body line starting "From " without a blank line before it stays in its message.
        assert_eq!(
            messages[0].2.as_deref(),
            Ok("Subject: one\n\nhi\nFrom here on\nFrom the desk of Ann, 2026\n")
        );
        assert_eq!(messages[1].1, Some(2));
    }

    #[test]
    fn a_maildir_is_read_from_cur_and_new_and_a_missing_file_is_reported_in_place() {
        let dir = tempfile::tempdir().expect("dir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        std::fs::write(dir.path().join("cur/1.eml"), "Subject: a\n\nx\n").expect("write");
        std::fs::write(dir.path().join("new/2.eml"), "Subject: b\n\nx\n").expect("write");
        std::fs::write(dir.path().join("tmp/3.eml"), "Subject: half-written\n").expect("write");
        std::fs::write(dir.path().join("dovecot-uidlist"), "3 V1 N2\n").expect("write");
        let missing = dir.path().join("missing.eml");
        let messages = found(&[dir.path().to_path_buf(), missing]);
        let names: Vec<&str> = messages.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(names, vec!["1.eml", "2.eml", "missing.eml"]);
        assert!(messages[2].2.as_ref().is_err_and(|e| e.contains("cannot open it")));
    }
}
