//! Namespaces the spec names by path (`linux.namespaces[].path`) rather
//! than asks to be made: podman's network namespace, a pod's ipc, uts or
//! pid namespace. They are opened by the parent before the clone; the child
//! joins the network, ipc, uts, cgroup and mount ones first thing, and a pid
//! namespace, which applies to children only, is the parent's to enter
//! around the clone itself.

use std::fs::File;
use std::os::fd::AsFd;

use nix::sched::{setns, CloneFlags};

use super::failure::sys;
use super::Failure;
use crate::spec::Spec;

/// The namespaces to join, open.
pub(super) struct Joined {
    others: Vec<(String, File, CloneFlags)>,
    pid: Option<File>,
    /// The runtime's mount namespace, when the spec lists none: the
    /// container's process goes back to it (`back_to_runtime_mounts`).
    runtime_mnt: Option<File>,
}

pub(super) fn open_paths(spec: &Spec) -> Result<Joined, Failure> {
    let mut j = Joined {
        others: Vec::new(),
        pid: None,
        runtime_mnt: None,
    };
    let listed = spec.linux.iter().flat_map(|l| &l.namespaces);
    if !listed.clone().any(|n| n.kind == "mount") {
        j.runtime_mnt = Some(runtime_mount_namespace(spec)?);
    }
    for ns in listed {
        let Some(path) = &ns.path else { continue };
        let flag = match ns.kind.as_str() {
            "network" => CloneFlags::CLONE_NEWNET,
            "ipc" => CloneFlags::CLONE_NEWIPC,
            "uts" => CloneFlags::CLONE_NEWUTS,
            "cgroup" => CloneFlags::CLONE_NEWCGROUP,
            "mount" => CloneFlags::CLONE_NEWNS,
            "pid" => CloneFlags::CLONE_NEWPID,
            other => {
                return Err(Failure::new(
                    125,
                    format!("joining an existing {other} namespace ('{path}') is not supported"),
                ))
            }
        };
        let f = File::open(path).map_err(|e| {
            Failure::new(
                125,
                format!(
                    "cannot open {} namespace '{path}': {}",
                    ns.kind,
                    crate::error::Os(&e)
                ),
            )
        })?;
        if flag == CloneFlags::CLONE_NEWPID {
            j.pid = Some(f);
        } else {
            j.others.push((ns.kind.clone(), f, flag));
        }
    }
    Ok(j)
}

impl Joined {
    /// In the parent, before the clone: makes the pid namespace to join
    /// the one of the next child. Returns our own, to restore after.
    pub(super) fn enter_pid_for_children(&self) -> Result<Option<File>, Failure> {
        let Some(target) = &self.pid else {
            return Ok(None);
        };
        let own = File::open("/proc/self/ns/pid_for_children")
            .map_err(|e| Failure::new(125, format!("cannot open our pid namespace: {e}")))?;
        setns(target.as_fd(), CloneFlags::CLONE_NEWPID)
            .map_err(|e| sys("join the pid namespace", e))?;
        Ok(Some(own))
    }

    /// In the child: joins the others.
    pub(super) fn join(&self) -> Result<(), Failure> {
        for (kind, f, flag) in &self.others {
            setns(f.as_fd(), *flag).map_err(|e| sys(&format!("join the {kind} namespace"), e))?;
        }
        Ok(())
    }
}

/// No mount namespace in the spec: the container inherits the runtime's
/// (runtime spec, "Namespaces"). Its root is still built in a namespace of
/// its own, so that nothing is mounted in the runtime's (runc mounts there,
/// and leaves the mounts behind); a user namespace (whose process could not
/// go back) and a terminal (bound onto /dev/console later) are refused.
fn runtime_mount_namespace(spec: &Spec) -> Result<File, Failure> {
    let refuse = |what: &str| {
        Failure::new(
            125,
            format!(
                "{what} needs a mount namespace: add {{\"type\": \"mount\"}} to linux.namespaces"
            ),
        )
    };
    if spec.has_namespace("user") {
        return Err(refuse("a user namespace"));
    }
    if spec.process.as_ref().is_some_and(|p| p.terminal) {
        return Err(refuse("a terminal"));
    }
    File::open("/proc/self/ns/mnt")
        .map_err(|e| Failure::new(125, format!("cannot open our mount namespace: {e}")))
}

impl Joined {
    /// In the child, once the root is ready (past pivot_root): with no
    /// mount namespace in the spec, back to the runtime's, the root and
    /// working folder in a detached copy of the container's tree. The
    /// runtime's namespace gains no mount, and the copy goes away with the
    /// last process in it.
    pub(super) fn back_to_runtime_mounts(&self) -> Result<(), Failure> {
        use rustix::mount::OpenTreeFlags as F;
        let Some(ns) = &self.runtime_mnt else {
            return Ok(());
        };
        let flags = F::OPEN_TREE_CLONE | F::OPEN_TREE_CLOEXEC | F::AT_RECURSIVE;
        let tree = rustix::mount::open_tree(rustix::fs::CWD, "/", flags).map_err(|e| {
            sys(
                "copy the root's mounts",
                nix::Error::from_raw(e.raw_os_error()),
            )
        })?;
        setns(ns.as_fd(), CloneFlags::CLONE_NEWNS)
            .map_err(|e| sys("go back to the runtime's mount namespace", e))?;
        nix::unistd::fchdir(tree.as_fd()).map_err(|e| sys("enter the root", e))?;
        nix::unistd::chroot(".").map_err(|e| sys("chroot", e))?;
        nix::unistd::chdir("/").map_err(|e| sys("enter the new root", e))
    }
}

pub(super) fn restore_pid_for_children(own: File) -> Result<(), Failure> {
    setns(own.as_fd(), CloneFlags::CLONE_NEWPID).map_err(|e| sys("restore our pid namespace", e))
}
