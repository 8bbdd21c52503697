use std::process::ExitCode;

use cc_lib::cli::{each, StoreOpts};
use cc_lib::container::{self, Status};
use cc_lib::error::Error;
use cc_lib::run::{self, RunOptions};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Start exited containers again, on their same upper folder, config and
/// name. Prints each as it was named; with -a stays attached and exits with the
/// command's code.
#[derive(Debug, Parser)]
#[command(name = "cc-start", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Attach to the container's output (one container only)
    #[arg(short, long)]
    pub attach: bool,
    /// Attach stdin too (the container must have been created with -i)
    #[arg(short, long)]
    pub interactive: bool,
    /// Keys that detach (default ctrl-p,ctrl-q; "" for none)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Containers: names, ids or unique id prefixes (`-` reads stdin)
    #[arg(required_unless_present = "all_restartable")]
    pub containers: Vec<String>,
    /// Start every container whose restart policy brings it back after a
    /// reboot (always; unless-stopped when the user had not stopped it),
    /// and print their ids: what contrib/cc-restart.service runs at boot
    #[arg(long, conflicts_with_all = ["containers", "attach", "interactive"])]
    pub all_restartable: bool,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let ids = match a.all_restartable {
        true => run::restartable(&store)?
            .into_iter()
            .map(|c| c.id)
            .collect(),
        false => cc_lib::cli::expand_stdin(a.containers.clone()),
    };
    let attach = a.attach || a.interactive;
    if attach && ids.len() > 1 {
        return Err(Error::Usage("attach to one container at a time".into()));
    }
    let mut code = None;
    let status = each(&ids, |q| {
        let c = container::resolve(&store, q)?;
        if c.status() == Status::Running {
            return Err(Error::State(format!("container '{q}' is already running")));
        }
        if c.state.derived().restarting {
            return Err(Error::State(format!(
                "container '{q}' is restarting: cc-stop it first"
            )));
        }
        let tty = c.spec.process.as_ref().is_some_and(|p| p.terminal);
        let o = RunOptions {
            detach: !attach,
            interactive: a.interactive && c.annotation(container::ANN_INTERACTIVE).is_some(),
            tty,
            detach_keys: a.detach_keys.clone(),
            ..Default::default()
        };
        let out = run::start(&store, &c, &o)?;
        if attach {
            code = out.code;
        } else {
            println!("{q}");
        }
        Ok(())
    });
    Ok(code.map(ExitCode::from).unwrap_or(status))
}
