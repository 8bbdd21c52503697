use std::process::ExitCode;

use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Run a command (default: $SHELL) inside the user namespace an ordinary
/// user's cc programs share: the user is root there, the store's files
/// show the image's owners, and `cc-mount`'s mounts are seen. For root,
/// which needs no namespace, the command runs as it is.
#[derive(Debug, Parser)]
#[command(name = "cc-unshare", version)]
pub struct Args {
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    Ok(ExitCode::from(cc_lib::rootless::run_command(&a.command)?))
}
