//! The verbs on an existing container: kill, delete, pause, resume,
//! update, ps, list.

use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

use super::hooks;
use super::state::{Container, Root, State, Status};
use crate::error::{Error, Result};

/// A signal by name (`TERM`, `SIGTERM`) or number, as runc takes it.
pub fn parse_signal(s: &str) -> Result<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| Error::Usage(format!("invalid signal '{s}'")));
    }
    let upper = s.to_ascii_uppercase();
    let name = match upper.starts_with("SIG") {
        true => upper,
        false => format!("SIG{upper}"),
    };
    name.parse::<Signal>()
        .map_err(|_| Error::Usage(format!("invalid signal '{s}'")))
}

/// `kill`: the signal to the first process, or with `all` to every
/// process of the container's group. A stopped container is an error.
pub fn kill(c: &Container, sig: Signal, all: bool) -> Result<()> {
    if c.status() == Status::Stopped {
        return Err(Error::State("container not running".into()));
    }
    if all {
        let cg = c.cgroup();
        // A frozen group would not act on the signal until thawed.
        let paused = c.status() == Status::Paused;
        for pid in cg.pids() {
            let _ = send(Pid::from_raw(pid), sig);
        }
        if paused && sig == Signal::SIGKILL {
            cg.thaw()?;
        }
        return Ok(());
    }
    send(Pid::from_raw(c.record.pid), sig)
        .map_err(|e| Error::io("signal", format!("pid {}", c.record.pid), e.into()))
}

/// `delete`: a stopped container's group and folder; `force` kills a
/// live one first. The poststop hooks run last.
pub fn delete(c: &Container, force: bool) -> Result<()> {
    let status = c.status();
    let cg = c.cgroup();
    if status != Status::Stopped {
        if !force {
            return Err(Error::State(format!(
                "cannot delete container {} that is not stopped: {}",
                c.id(),
                status.as_str()
            )));
        }
        cg.kill_all()?;
        if status == Status::Paused {
            let _ = cg.thaw();
        }
    }
    let state = c.state();
    let spec = c.spec().ok();
    cg.remove()?;
    std::fs::remove_dir_all(&c.dir).map_err(|e| Error::io("remove", &c.dir, e))?;
    if let Some(spec) = spec {
        if let Err(e) = hooks::run(&spec, "poststop", &state) {
            eprintln!("cc-oci: {e}");
        }
    }
    Ok(())
}

pub fn pause(c: &Container) -> Result<()> {
    match c.status() {
        Status::Running => c.cgroup().freeze(),
        s => Err(Error::State(format!(
            "container not running: {}",
            s.as_str()
        ))),
    }
}

pub fn resume(c: &Container) -> Result<()> {
    match c.status() {
        Status::Paused => c.cgroup().thaw(),
        s => Err(Error::State(format!(
            "container not paused: {}",
            s.as_str()
        ))),
    }
}

/// `update`: new limits for a live container's group (see `update`).
pub fn update(c: &Container, res: &crate::spec::Resources) -> Result<()> {
    super::update::update(c, res)
}

/// `ps`: the pids of the container's group.
pub fn pids(c: &Container) -> Vec<i32> {
    let mut p = c.cgroup().pids();
    p.sort_unstable();
    p
}

/// `ps` as a table: ps(1) run with `args` (default `-ef`), its header and
/// the lines of the container's processes, found by the PID column.
pub fn ps_table(c: &Container, args: &[String]) -> Result<String> {
    let args: Vec<String> = match args.is_empty() {
        true => vec!["-ef".into()],
        false => args.to_vec(),
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| Error::io("run", "ps", e))?;
    if !out.status.success() {
        return Err(Error::Program(format!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::Program("ps gave no PID column".into()))?;
    let pids = pids(c);
    let mut table = format!("{header}\n");
    for l in lines {
        let pid = l.split_whitespace().nth(col).and_then(|p| p.parse().ok());
        if pid.is_some_and(|p: i32| pids.contains(&p)) {
            table.push_str(l);
            table.push('\n');
        }
    }
    Ok(table)
}

/// Every container of the root, with its derived state.
pub fn list(root: &Root) -> Vec<State> {
    root.ids()
        .iter()
        .filter_map(|id| root.load(id).ok())
        .map(|c| c.state())
        .collect()
}
