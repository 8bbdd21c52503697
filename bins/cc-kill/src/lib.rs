use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Send a signal (default SIGKILL) to each container's main process.
#[derive(Debug, Parser)]
#[command(name = "cc-kill", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The signal: a name (TERM, SIGTERM) or a number
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    /// Containers: names, ids or unique id prefixes (`-` reads stdin)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let sig = lifecycle::parse_signal(&a.signal)?;
    Ok(each(&cc_lib::cli::expand_stdin(a.containers), |q| {
        let c = container::resolve(&store, q)?;
        lifecycle::kill(&store, &c, sig)?;
        println!("{q}");
        Ok(())
    }))
}
