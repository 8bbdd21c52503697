use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::exec::{self, Exec};
use cc_lib::run::{attach, relay};
use cc_lib::{container, Result};
use clap::{CommandFactory, Parser};

/// Run a new process inside a running container: its namespaces, cgroup,
/// root, user and environment. Exits with the command's status (125 cc
/// failed, 126 cannot execute, 127 not found).
#[derive(Debug, Parser)]
#[command(name = "cc-exec", version, trailing_var_arg = true)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Run in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Keep stdin open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Set an environment variable; `-e K` takes K from cc-exec's environment
    #[arg(short, long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Run as USER[:GROUP] (default: the container's user)
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working folder (default: the container's)
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// The container: name, id or unique id prefix
    pub container: String,
    /// The command and its arguments
    #[arg(required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    // `-e K` takes K from our own environment.
    let env: Vec<String> = a
        .env
        .iter()
        .map(|kv| match kv.contains('=') {
            true => kv.clone(),
            false => format!("{kv}={}", std::env::var(kv).unwrap_or_default()),
        })
        .collect();
    let x = Exec {
        args: &a.command,
        env: &env,
        user: a.user.as_deref(),
        workdir: a.workdir.as_deref(),
        tty: a.tty,
        interactive: a.interactive,
        detach: a.detach,
        adopt: false,
    };
    // Checked before the events: a stopped container gets no exec_create.
    c.unpaused_pid()?;
    // docker's exec events: the action names the command.
    let exec_id = cc_lib::store::new_id()?;
    let what = format!(": {}", a.command.join(" "));
    let event = |action: &str, extra: &[(&str, &str)]| {
        let mut attrs = vec![("execID", exec_id.as_str())];
        attrs.extend_from_slice(extra);
        container::event(&store, &c, action, &attrs);
    };
    event(&format!("exec_create{what}"), &[]);
    if a.detach {
        // A waiter left behind records the command's end.
        let started = || event(&format!("exec_start{what}"), &[]);
        let died = |code: i32| event("exec_die", &[("exitCode", &code.to_string())]);
        return Ok(match exec::start_detached(&c, &x, &started, &died)? {
            Ok(()) => ExitCode::SUCCESS,
            Err(f) => cc_lib::cli::failed(&f),
        });
    }
    let child = match exec::start(&c, &x)? {
        Ok(ch) => ch,
        Err(f) => return Ok(cc_lib::cli::failed(&f)),
    };
    event(&format!("exec_start{what}"), &[]);
    let code = match (child.pty, child.stdio) {
        (Some(master), _) => attach::relay_pty(master, child.pid, a.interactive),
        (None, Some(pipes)) => relay::relay_pipes(pipes, child.pid),
        (None, None) => Err(cc_lib::sandbox::Failure::new(
            125,
            "the command has neither a terminal nor pipes",
        )),
    };
    match code {
        Ok(code) => {
            event("exec_die", &[("exitCode", &code.to_string())]);
            Ok(ExitCode::from(code as u8))
        }
        Err(f) => Ok(cc_lib::cli::failed(&f)),
    }
}
