use std::process::ExitCode;
use std::time::Duration;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Stop containers: the image's StopSignal (or SIGTERM), then SIGKILL
/// after the timeout.
#[derive(Debug, Parser)]
#[command(name = "cc-stop", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Seconds to wait before SIGKILL
    #[arg(short, long, visible_alias = "timeout", default_value_t = 10)]
    pub time: u64,
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
        lifecycle::stop(&store, &c, Duration::from_secs(a.time))?;
        println!("{q}");
        Ok(())
    }))
}
