use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Pause every process of running containers (the cgroup freezer: v1's
/// freezer.state, v2's cgroup.freeze). cc-ps shows them `Up … (Paused)`;
/// cc-unpause resumes them, cc-stop and cc-kill end them. Prints each as
/// it was named.
#[derive(Debug, Parser)]
#[command(name = "cc-pause", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Containers: names, ids or unique id prefixes (`-` reads stdin)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    Ok(each(&cc_lib::cli::expand_stdin(a.containers), |q| {
        lifecycle::pause(&store, &container::resolve(&store, q)?)?;
        println!("{q}");
        Ok(())
    }))
}
