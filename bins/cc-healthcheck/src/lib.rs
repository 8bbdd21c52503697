use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::health::{probe, Status};
use cc_lib::{container, Result};
use clap::{CommandFactory, Parser};

/// Run a running container's healthcheck once, now (podman's `healthcheck
/// run`), and record the result in its State.Health as a scheduled run:
/// exit 0 when the check passed; exit 1 when it failed, printing
/// `unhealthy` (or `starting` while failures do not count yet, in the
/// start period). A container without a healthcheck, or not running, is a
/// wrong state (exit 4).
#[derive(Debug, Parser)]
#[command(name = "cc-healthcheck", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// The container: name, id or unique id prefix
    pub container: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let (outcome, health) = probe::run_now(&store, &c)?;
    if outcome.exit_code == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    // A failure that did not count: still starting, no streak.
    match (health.status, health.failing_streak) {
        (Status::Starting, 0) => println!("starting"),
        _ => println!("unhealthy"),
    }
    Ok(ExitCode::from(1))
}
