use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Stop containers: the signal (-s, the container's --stop-signal, the
/// image's StopSignal, or SIGTERM), then SIGKILL after the timeout (-t,
/// the container's --stop-timeout, or 10 seconds).
#[derive(Debug, Parser)]
#[command(name = "cc-stop", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub stop: lifecycle::StopOpts,
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
        let c = container::resolve(&store, q)?;
        a.stop.stop(&store, &c)?;
        println!("{q}");
        Ok(())
    }))
}
