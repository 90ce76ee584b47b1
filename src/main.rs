use clap::Parser;
use rapport::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    restrict_new_files();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(cli::exit_code(&error) as u8)
        }
    }
}

/// Everything rapport creates — the database and its WAL, the outbox's
/// `.eml` files, exports, the config `init` writes, their folders — holds
/// prospects' personal data or secrets: readable by the owner only.
fn restrict_new_files() {
    #[cfg(unix)]
    // SAFETY: umask only replaces the process's file-creation mask; it runs
    // first thing in main, before any other thread exists.
    unsafe {
        libc::umask(0o077);
    }
}
