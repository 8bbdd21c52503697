use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::run::{self, RunOptions};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

mod options;
pub use options::{fetch, options, ContainerArgs, Limits, Pull};

/// Run a command in a new container. In the foreground cc-run exits with
/// the command's status (125 cc failed, 126 cannot execute, 127 not found,
/// 128+N killed by signal N); with -d it prints the container's id once
/// the command runs.
///
/// With --userns=auto or --uidmap, root in the container is an
/// unprivileged range of host ids; the layers and the container's folder
/// are idmapped mounts (Linux 5.19 or later), not chowned copies, so the
/// store keeps the image's ids; see "User namespaces" in cc(7).
#[derive(Debug, Parser)]
#[command(name = "cc-run", version, disable_help_flag = true)]
pub struct Args {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub store: StoreOpts,
    /// Run in the background: print the id once the command has started
    #[arg(short, long)]
    pub detach: bool,
    /// Keys that detach from the container (default ctrl-p,ctrl-q; "" for none)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Attach to STDIN, STDOUT or STDERR only (repeatable; default all
    /// three, stdin with -i)
    #[arg(short, long, value_name = "STREAM", conflicts_with = "detach")]
    pub attach: Vec<String>,
    /// Pass the signals cc-run gets on to the command; with false they
    /// act on cc-run (SIGINT ends it and leaves the container running)
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub sig_proxy: bool,
    #[command(flatten)]
    pub container: ContainerArgs,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let detach = a.detach;
    let pull = a.container.pull;
    let platform = a.container.platform.clone();
    let streams = run::attach::Streams::parse(&a.attach, a.sig_proxy)?;
    let o = RunOptions {
        streams,
        ..options(a.container, a.detach, a.detach_keys)?
    };
    if let Some(name) = &o.image {
        fetch(&store, name, pull, platform.as_deref())?;
    }
    match run::run(&store, &o) {
        Ok(out) => {
            if detach {
                println!("{}", out.id);
            }
            Ok(ExitCode::from(out.code.unwrap_or(0)))
        }
        Err(f) => Ok(cc_lib::cli::failed(&f)),
    }
}
