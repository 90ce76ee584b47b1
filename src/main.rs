//! The `rapport` binary: parses the command line and hands it to `cli`,
//! which maps every failure to an exit code (0 done, 1 failed, 2 bad input).

use clap::Parser;
use rapport::cli::{self, Cli};
use std::process::ExitCode;

/// See `src/memory.rs`: threads allocate from heaps of their own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    restrict_new_files();
    rapport::memory::configure_allocators();
    quiet_on_closed_pipe();
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

/// `rapport prospect list | head -1`: when the reader has gone, the output
/// is not wanted any more. Printing to a closed pipe ends the process
/// quietly with status 0, as Unix tools do, instead of a panic message.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
