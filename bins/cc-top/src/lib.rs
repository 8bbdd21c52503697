use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::{container, stats, Result};
use clap::{CommandFactory, Parser};

/// Show the processes of a running container: the host's `ps` (with its
/// options, `-ef` by default) limited to the container's cgroup, with
/// CPID, each process's pid inside the container, after PID.
#[derive(Debug, Parser)]
#[command(name = "cc-top", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The container: a name, an id or a unique id prefix
    pub container: String,
    /// Options for ps(1), as given (default `-ef`); the output must have a
    /// PID column
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PS_OPTIONS"
    )]
    pub ps_options: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    for line in stats::top(&c, &a.ps_options)? {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
