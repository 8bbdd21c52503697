//! An ordinary user's containers and cgroups (issue 21). On cgroup v2 a
//! subtree can be delegated to a user (the kernel's cgroup-v2.rst,
//! "Delegation"): its folder and its `cgroup.procs`, `cgroup.subtree_control`
//! are the user's, and the user may make groups below it and move its own
//! processes between them when the common ancestor is in the subtree too.
//! cc uses, in this order:
//!
//! 1. the user's systemd (`user@UID.service`, `Delegate=` in its unit):
//!    cc asks it over its private D-Bus socket for a transient scope, as
//!    rootless podman does with `cgroup_manager=systemd`. That, not a
//!    folder cc makes itself in the service's cgroup, because a user's
//!    shell usually runs in a login session's scope, outside the service:
//!    the kernel refuses the user a move across that boundary, and only
//!    systemd (asking the system instance, AttachProcessesToUnit) makes it;
//! 2. a folder the user owns: `--cgroup-parent`, else the parent of the
//!    group cc itself runs in (an administrator's `chown`), where cc makes
//!    the container's group as for root.
//!
//! Anything else, and cgroup v1, has no delegation: a limit is refused,
//! never dropped.

use std::fs;
use std::path::{Path, PathBuf};

use super::{version, More, Resources, Version, ROOT};
use crate::error::{Error, Result};

/// What is delegated to the user cc runs for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delegated {
    /// The user's systemd, with its service's cgroup.
    Systemd(PathBuf),
    /// A group folder the user owns (cgroupfs).
    Folder(PathBuf),
    /// Nothing, and why.
    None(String),
}

/// The user's systemd instance: its private socket is in the user's
/// runtime folder, which logind always makes at /run/user/UID.
pub fn user_manager_socket(uid: u32) -> PathBuf {
    PathBuf::from(format!("/run/user/{uid}/systemd/private"))
}

/// The cgroup of `user@UID.service`, where logind's layout puts it.
pub fn user_service_dir(uid: u32) -> PathBuf {
    Path::new(ROOT).join(format!("user.slice/user-{uid}.slice/user@{uid}.service"))
}

/// What is delegated to the user cc runs for; `parent` is
/// `--cgroup-parent`, a folder under /sys/fs/cgroup.
pub fn delegated(parent: Option<&str>) -> Delegated {
    let Some(uid) = crate::rootless::user() else {
        return Delegated::None("cc runs as root".into());
    };
    if version() == Version::V1 {
        return Delegated::None("cgroup v1 has no delegation to users".into());
    }
    if let Some(p) = parent {
        let dir = Path::new(ROOT).join(p.trim_matches('/'));
        return match owned(&dir) {
            true => Delegated::Folder(dir),
            false => Delegated::None(format!(
                "--cgroup-parent {} is not a cgroup folder of uid {uid}",
                dir.display()
            )),
        };
    }
    let service = user_service_dir(uid);
    if user_manager_socket(uid).exists() && owned(&service) {
        return Delegated::Systemd(service);
    }
    match own_parent() {
        Some(dir) if owned(&dir) => Delegated::Folder(dir),
        _ => Delegated::None(format!(
            "no user@{uid}.service runs, and the cgroup cc runs in is not in a folder of uid {uid}"
        )),
    }
}

/// The parent of the group this process runs in (v2: the `0::` line).
fn own_parent() -> Option<PathBuf> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    let own = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let parent = Path::new(own).parent()?.strip_prefix("/").ok()?;
    (!parent.as_os_str().is_empty()).then(|| Path::new(ROOT).join(parent))
}

/// Whether `dir` is a group folder whose processes and controllers the
/// user may change: inside the user namespace the user is uid 0, so
/// access(2) answers for the user's own uid.
fn owned(dir: &Path) -> bool {
    use rustix::fs::{access, Access};
    ["cgroup.procs", "cgroup.subtree_control"]
        .iter()
        .all(|f| access(dir.join(f), Access::WRITE_OK).is_ok())
        && access(dir, Access::WRITE_OK).is_ok()
}

/// The controllers the limits in `res` need.
fn needed(res: &Resources) -> Vec<&'static str> {
    let m = &res.more;
    let mut out = Vec::new();
    if res.memory.is_some() || res.memory_swap.is_some() || m.memory() {
        out.push("memory");
    }
    let cpu = res.cpu_shares.is_some() || res.cpu_quota.is_some_and(|q| q > 0);
    if cpu || res.cpu_period.is_some() {
        out.push("cpu");
    }
    if res.pids.is_some_and(|p| p > 0) {
        out.push("pids");
    }
    out.extend(super::v2::optional(res));
    out
}

/// Refuses a limit whose controller the delegated group `dir` cannot
/// give its children (not in its cgroup.controllers).
pub fn check_controllers(res: &Resources, dir: &Path) -> Result<()> {
    let have = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    match needed(res)
        .into_iter()
        .find(|c| !have.split_whitespace().any(|h| h == *c))
    {
        Some(c) => Err(Error::Unsupported(format!(
            "cannot limit {c}: the {c} controller is not delegated to this user in {}",
            dir.display()
        ))),
        None => Ok(()),
    }
}

/// A user's container gets no group where nothing is delegated, so a
/// limit it asks for is refused, never dropped. Device rules are not
/// limits: the user namespace already keeps devices from being made.
pub fn refuse_limits_for_user(res: &Resources, parent: Option<&str>) -> Result<()> {
    if !crate::rootless::active() {
        return Ok(());
    }
    let why = match delegated(parent) {
        Delegated::None(why) => why,
        _ => return Ok(()),
    };
    let limited = !needed(res).is_empty() || res.more != More::default();
    if limited {
        return Err(Error::Unsupported(format!(
            "resource limits (-m, --cpus, --pids-limit, ...) need a cgroup, and none is delegated to this user on this host ({why})"
        )));
    }
    Ok(())
}

/// What is delegated to the user, for messages and cc-info.
pub fn delegation() -> String {
    match delegated(None) {
        Delegated::Systemd(dir) => format!(
            "systemd user manager, controllers {} in {}",
            controllers(&dir),
            dir.display()
        ),
        Delegated::Folder(dir) => {
            format!(
                "folder {}, controllers {}",
                dir.display(),
                controllers(&dir)
            )
        }
        Delegated::None(why) => format!("none: {why}"),
    }
}

fn controllers(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    match text.trim() {
        "" => "none".into(),
        t => t.replace(' ', ","),
    }
}

/// The folder a user's cgroupfs groups go in by default (the parent of the
/// group cc runs in, when it is the user's), relative to /sys/fs/cgroup:
/// recorded with the container, as `--cgroup-parent` is.
pub fn user_parent() -> Option<String> {
    match delegated(None) {
        Delegated::Folder(dir) => Some(dir.strip_prefix(ROOT).ok()?.to_str()?.to_string()),
        _ => None,
    }
}

/// Whether cc runs for a user to whom no cgroup is delegated.
pub fn nothing_delegated() -> bool {
    crate::rootless::active() && matches!(delegated(None), Delegated::None(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_needs_its_controller_in_the_delegated_group() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("cgroup.controllers"), "memory pids\n").unwrap();
        let res = |memory, pids, cpu_quota| Resources {
            memory,
            pids,
            cpu_quota,
            ..Default::default()
        };
        assert!(check_controllers(&res(Some(1 << 26), Some(10), None), dir.path()).is_ok());
        let err = check_controllers(&res(None, None, Some(50_000)), dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot limit cpu: the cpu controller is not delegated to this user in {}",
                dir.path().display()
            )
        );
        // No limit, nothing needed: -1 and 0 are "unlimited".
        assert!(needed(&res(None, Some(-1), Some(-1))).is_empty());
    }

    #[test]
    fn a_users_systemd_lives_in_its_service() {
        assert_eq!(
            user_service_dir(1000),
            Path::new("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service")
        );
        let mut u = super::super::Unit::parse("user.slice:cc:abc").unwrap();
        u.user = Some(1000);
        assert_eq!(
            u.path(),
            user_service_dir(1000).join("user.slice/cc-abc.scope")
        );
    }
}
