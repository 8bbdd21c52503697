//! A new process in a running container, as cc-exec starts one and the
//! monitor starts a healthcheck: the container's environment (with
//! additions), user and working folder unless given, its cgroup and
//! privileges, through `sandbox::enter`.

use crate::cgroup::Cgroup;
use crate::container::{self, Container};
use crate::error::Result;
use crate::sandbox::enter::{enter, Enter, Who};
use crate::sandbox::{Child, Failure, Privileges};

/// What to run and how; `None`s take the container's own.
#[derive(Debug, Default)]
pub struct Exec<'a> {
    pub args: &'a [String],
    /// `K=V`s set over the container's environment.
    pub env: &'a [String],
    pub user: Option<&'a str>,
    pub workdir: Option<&'a str>,
    pub tty: bool,
    /// Keep stdin open (a pipe the caller writes).
    pub interactive: bool,
    pub detach: bool,
    /// The command is adopted by the caller, which must be a subreaper,
    /// and `Child::pid` is the command's own: the caller can kill it and
    /// its process group (healthchecks' timeout).
    pub adopt: bool,
}

/// The environment of a process started in `c`: the container's, with
/// each of `extra`'s `K=V` replacing the variable of that name.
pub fn environment(c: &Container, extra: &[String]) -> Vec<String> {
    let mut env = c
        .spec
        .process
        .as_ref()
        .map(|p| p.env.clone())
        .unwrap_or_default();
    for kv in extra {
        let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv);
        env.retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
        env.push(kv.clone());
    }
    env
}

/// Starts `x` in the running, unpaused container `c`. The outer error is
/// the container's state (not running, paused: exit 4); the inner one is
/// the command's start (126, 127, 125), as cc-exec reports it.
pub fn start(c: &Container, x: &Exec) -> Result<std::result::Result<Child, Failure>> {
    let pid = c.unpaused_pid()?;
    let env = environment(c, x.env);
    let user = x
        .user
        .or_else(|| c.annotation(container::ANN_USER))
        .unwrap_or("0");
    let cwd = match x.workdir {
        Some(w) => w.to_string(),
        None => c
            .spec
            .process
            .as_ref()
            .map(|p| p.cwd.clone())
            .unwrap_or_else(|| "/".into()),
    };
    let cgroup = Cgroup::open(&c.cgroup_name());
    let privileges = Privileges::of(&c.spec);
    Ok(enter(&Enter {
        pid,
        args: x.args,
        env: &env,
        user: Who::Name(user, &c.spec.annotations),
        cwd: &cwd,
        cgroup: Some(&cgroup),
        tty: x.tty,
        stdin_null: !x.interactive || x.detach,
        detach: x.detach,
        relay: true,
        privileges: &privileges,
        reparent: x.adopt,
        on_pty: None,
        keep_fds: 0,
    }))
}
