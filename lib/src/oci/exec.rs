//! `exec`: a new process in a running container, from a process JSON
//! (`--process`, what conmon and the shims pass) or from the container's
//! own process with the command line's changes. The same code as cc-exec
//! (`sandbox::enter`); with `--detach` the command is left to the caller's
//! subreaper and its pid goes to `--pid-file`.

use std::path::PathBuf;

use super::state::{Container, Status};
use crate::error::{Error, Result};
use crate::sandbox::enter::{enter, Enter, Who};
use crate::sandbox::{Failure, Privileges};
use crate::spec::Process;
use std::os::fd::AsFd;

#[derive(Debug, Default, Clone)]
pub struct Options {
    pub process: Option<PathBuf>,
    pub args: Vec<String>,
    pub tty: bool,
    pub console_socket: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    /// UID[:GID]
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub no_new_privs: bool,
    pub caps: Vec<String>,
    /// Fds 3 to 3+N-1 of the caller passed on to the command.
    pub preserve_fds: u32,
    /// `--cgroup`: a sub-group of the container's, which must exist.
    pub cgroup: Option<String>,
    /// `--ignore-paused`: exec into a paused container (the command stays
    /// frozen until `resume`).
    pub ignore_paused: bool,
}

/// The process to run: the file's, or the container's with the options.
fn process(c: &Container, o: &Options) -> Result<Process> {
    if let Some(path) = &o.process {
        let text = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        return serde_json::from_slice(&text)
            .map_err(|e| Error::Spec(format!("{}: {e}", path.display())));
    }
    if o.args.is_empty() {
        return Err(Error::Usage("exec needs a command or --process".into()));
    }
    let mut p = c.spec()?.process.unwrap_or_default();
    p.args = o.args.clone();
    p.terminal = o.tty;
    for kv in &o.env {
        let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv);
        p.env
            .retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
        p.env.push(kv.clone());
    }
    if let Some(cwd) = &o.cwd {
        p.cwd = cwd.clone();
    }
    if let Some(u) = &o.user {
        let bad = || Error::Usage(format!("invalid user '{u}': expected UID[:GID]"));
        let (uid, gid) = match u.split_once(':') {
            Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
            None => (u.parse().map_err(|_| bad())?, 0),
        };
        p.user.uid = uid;
        p.user.gid = gid;
    }
    p.user.additional_gids.extend(&o.additional_gids);
    p.no_new_privileges |= o.no_new_privs;
    if !o.caps.is_empty() {
        let caps = p.capabilities.get_or_insert_with(Default::default);
        for cap in &o.caps {
            let cap = match cap.starts_with("CAP_") {
                true => cap.clone(),
                false => format!("CAP_{cap}"),
            };
            for set in [
                &mut caps.bounding,
                &mut caps.effective,
                &mut caps.permitted,
                &mut caps.inheritable,
                &mut caps.ambient,
            ] {
                if !set.contains(&cap) {
                    set.push(cap.clone());
                }
            }
        }
    }
    Ok(p)
}

/// Returns the exit code: the command's in the foreground, 0 detached.
pub fn exec(c: &Container, o: &Options) -> Result<i32> {
    check_status(c.status(), o.ignore_paused)?;
    let cgroup = sub_cgroup(c, o.cgroup.as_deref())?;
    let p = process(c, o)?;
    let tty = p.terminal;
    if tty && o.detach && o.console_socket.is_none() {
        return Err(Error::Usage(
            "a terminal needs --console-socket with --detach".into(),
        ));
    }
    let mut spec = c.spec()?;
    spec.process = Some(p.clone());
    let privileges = Privileges::of(&spec);
    // The terminal goes to the console socket before the command starts,
    // and the command waits (a little) for the caller to give it a size:
    // conmon and the shims resize it once they have it, and a shell's
    // first look at its terminal should see that size.
    let console = |pty: &std::os::fd::OwnedFd| -> std::result::Result<(), Failure> {
        let Some(sock) = &o.console_socket else {
            return Ok(());
        };
        super::create::send_console(sock, pty).map_err(Failure::from)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
        while crate::sys::window_size(pty.as_fd()).is_none_or(|(r, c)| r == 0 && c == 0)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(())
    };
    let e = Enter {
        pid: c.record.pid,
        args: &p.args,
        env: &p.env,
        user: Who::Spec(&p.user),
        cwd: &p.cwd,
        cgroup: Some(&cgroup),
        tty,
        stdin_null: false,
        detach: false,
        // The caller's fds, as runc gives them (conmon and the shims give
        // pipes); the command has no controlling terminal all the same.
        relay: false,
        privileges: &privileges,
        reparent: o.detach,
        on_pty: Some(&console),
        keep_fds: o.preserve_fds,
    };
    let child = enter(&e).map_err(Error::from)?;
    if let Some(path) = &o.pid_file {
        crate::store::write_volatile(path, child.pid.as_raw().to_string().as_bytes())?;
    }
    let pty = match &o.console_socket {
        Some(_) => None,
        None => child.pty,
    };
    if o.detach {
        return Ok(0);
    }
    match pty {
        Some(master) => crate::run::attach::relay_pty(master, child.pid, true).map_err(Error::from),
        None => super::run::wait_forwarding(child.pid),
    }
}

/// As runc: a created (not yet started) or running container takes an
/// exec; a paused one only with `--ignore-paused`.
fn check_status(status: Status, ignore_paused: bool) -> Result<()> {
    match status {
        Status::Created | Status::Running => Ok(()),
        Status::Paused if ignore_paused => Ok(()),
        Status::Paused => Err(Error::State(
            "cannot exec in a paused container (use --ignore-paused to override)".into(),
        )),
        Status::Stopped => Err(Error::State("cannot exec in a stopped container".into())),
    }
}

/// The group the command joins: the container's, or with `--cgroup PATH`
/// (runc 1.1) its existing sub-group PATH. runc's per-controller form
/// (`cpu,memory:PATH`, v1 only) is refused: cc keeps one path for every
/// controller of a group.
fn sub_cgroup(c: &Container, sub: Option<&str>) -> Result<crate::cgroup::Cgroup> {
    let Some(sub) = sub else {
        return Ok(c.cgroup());
    };
    if sub.contains(':') {
        return Err(Error::Unsupported(format!(
            "--cgroup '{sub}': per-controller paths are not supported, give one PATH"
        )));
    }
    let parts: Vec<&str> = sub.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(Error::Usage(format!("invalid --cgroup '{sub}'")));
    }
    let name = format!("{}/{}", c.record.cgroup, parts.join("/"));
    let cg = crate::cgroup::Cgroup::open(&name);
    if let Some(missing) = cg.paths().into_iter().find(|p| !p.is_dir()) {
        return Err(Error::not_found("cgroup", missing.display().to_string()));
    }
    Ok(cg)
}
