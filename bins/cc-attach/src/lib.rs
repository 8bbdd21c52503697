use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::container;
use cc_lib::run::attach::{self, Ended, Keys};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Attach to a running container's stdin, stdout and stderr. With a
/// terminal, the detach keys leave it running. Exits with the container's
/// code when it ends while attached.
#[derive(Debug, Parser)]
#[command(name = "cc-attach", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Do not send stdin
    #[arg(long)]
    pub no_stdin: bool,
    /// Keys that detach (default ctrl-p,ctrl-q; "" turns detaching off)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// The container: name, id or unique id prefix
    pub container: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let pid = c.unpaused_pid()?;
    let keys = Keys::parse(a.detach_keys.as_deref())?;
    let tty = c.spec.process.as_ref().is_some_and(|p| p.terminal);
    let interactive = !a.no_stdin && c.annotation(container::ANN_INTERACTIVE).is_some();
    let sock = attach::connect(&c, tty)?;
    let streams = attach::Streams {
        stdin: interactive,
        ..Default::default()
    };
    Ok(match attach::relay(sock, pid, &streams, tty, &keys)? {
        Ended::Exited(code) => ExitCode::from(code as u8),
        Ended::Detached => ExitCode::SUCCESS,
        Ended::Lost => ExitCode::from(attach::recorded_code(&store, &c.id)),
    })
}
