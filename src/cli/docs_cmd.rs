//! `rapport completions SHELL` and `rapport man`: shell completion scripts
//! and man pages, generated from the same argument definitions as `--help`,
//! so they never drift from the commands.

use super::Cli;
use clap::{Args, CommandFactory};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash (source it, or put it in /etc/bash_completion.d/rapport),
    /// zsh (as _rapport on your $fpath), fish (~/.config/fish/completions/rapport.fish),
    /// elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write rapport.1 and a page per command (rapport-prospect.1, ...) into this
    /// folder, instead of printing rapport.1 to standard output.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "rapport", &mut std::io::stdout().lock());
    Ok(())
}

pub fn man(args: &ManArgs) -> anyhow::Result<()> {
    let command = Cli::command();
    match &args.out_dir {
        None => {
            clap_mangen::Man::new(command).render(&mut std::io::stdout().lock())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)?;
            eprintln!("man pages written to {}", dir.display());
        }
    }
    Ok(())
}
