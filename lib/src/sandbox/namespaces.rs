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
}

pub(super) fn open_paths(spec: &Spec) -> Result<Joined, Failure> {
    let mut j = Joined {
        others: Vec::new(),
        pid: None,
    };
    let listed = spec.linux.iter().flat_map(|l| &l.namespaces);
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

pub(super) fn restore_pid_for_children(own: File) -> Result<(), Failure> {
    setns(own.as_fd(), CloneFlags::CLONE_NEWPID).map_err(|e| sys("restore our pid namespace", e))
}
