//! The verbs on an existing container: kill, delete, pause, resume,
//! update, ps, list.

use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

use super::hooks;
use super::state::{Container, Root, State, Status};
use crate::error::{Error, Result};

/// A signal by name (`TERM`, `SIGTERM`) or number, as runc takes it;
/// `0` is None: kill(2)'s check that the process is alive.
pub fn parse_signal(s: &str) -> Result<Option<Signal>> {
    if let Ok(n) = s.parse::<i32>() {
        if n == 0 {
            return Ok(None);
        }
        return Signal::try_from(n)
            .map(Some)
            .map_err(|_| Error::Usage(format!("invalid signal '{s}'")));
    }
    let upper = s.to_ascii_uppercase();
    let name = match upper.starts_with("SIG") {
        true => upper,
        false => format!("SIG{upper}"),
    };
    name.parse::<Signal>()
        .map(Some)
        .map_err(|_| Error::Usage(format!("invalid signal '{s}'")))
}

/// `kill`: the signal to the first process, or with `all` to every
/// process of the container's group; `None` (signal 0) only checks that
/// it is alive. A stopped container is an error, except with `all`, which
/// (as runc's) signals the processes left, if any, and succeeds.
pub fn kill(c: &Container, sig: Option<Signal>, all: bool) -> Result<()> {
    if c.status() == Status::Stopped && !all {
        return Err(Error::State("container not running".into()));
    }
    if all {
        let cg = c.cgroup();
        // A frozen group would not act on the signal until thawed.
        let paused = c.status() == Status::Paused;
        for pid in cg.pids() {
            let _ = send(Pid::from_raw(pid), sig);
        }
        if paused && sig == Some(Signal::SIGKILL) {
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
    // A create killed before it recorded the pid left its process, if
    // any, in the group: it was never started, so it goes too.
    if c.record.pid == 0 && !cg.pids().is_empty() {
        cg.kill_all()?;
    }
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

/// A container folder without state.json: a create killed between
/// making the folder and its first write, so nothing else exists (the
/// record is written before the group or the process). Removes it and
/// says so; false when there is no such folder.
pub fn remove_unrecorded(root: &Root, id: &str) -> Result<bool> {
    crate::oci::state::check_id(id)?;
    let dir = root.container_dir(id);
    if !dir.is_dir() || dir.join("state.json").exists() {
        return Ok(false);
    }
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
    Ok(true)
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

/// Every container of the root, with its derived state and, as runc's
/// `list` shows it, its owner: the user that owns its folder.
pub fn list(root: &Root) -> Vec<State> {
    root.ids()
        .iter()
        .filter_map(|id| root.load(id).ok())
        .map(|c| State {
            owner: owner(&c.dir),
            ..c.state()
        })
        .collect()
}

/// The name of the user owning `dir` (`#UID` without one), as runc's.
fn owner(dir: &std::path::Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata(dir).map(|m| m.uid()) else {
        return String::new();
    };
    match nix::unistd::User::from_uid(uid.into()) {
        Ok(Some(u)) => u.name,
        _ => format!("#{uid}"),
    }
}
