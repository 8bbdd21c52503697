use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::run::{self, RunOptions};
use cc_lib::{container, lifecycle, Result};
use clap::{CommandFactory, Parser};

/// Restart containers: stop (StopSignal, then SIGKILL after the timeout)
/// and start again in the background.
#[derive(Debug, Parser)]
#[command(name = "cc-restart", version)]
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
        let c = container::load(&store, &c.id)?;
        let o = RunOptions {
            detach: true,
            ..Default::default()
        };
        run::start(&store, &c, &o)?;
        // docker's last word on a restart, after kill, die, stop, start.
        container::event(&store, &c, "restart", &[]);
        println!("{q}");
        Ok(())
    }))
}
