//! User namespaces (`--userns`, `--uidmap`, a bundle's `user` namespace).
//!
//! The parent makes the namespace before the clone and writes its
//! mappings; the child then does its mounts as the host's root, with the
//! layers and the container's folder idmapped through that namespace (so
//! the files on disk keep the image's ids), and joins it last, just before
//! it takes the command's user. The container's other namespaces stay
//! owned by the host's: root in the container has its capabilities over
//! its own files and processes, not over its network, hostname or mounts.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, ForkResult};

use super::failure::sys;
use super::Failure;
use crate::spec::{IdMapping, Spec};

/// A container's uid and gid mappings.
pub(super) struct Maps {
    uid: Vec<IdMapping>,
    gid: Vec<IdMapping>,
}

impl Maps {
    /// The spec's; both must be given.
    pub fn of_spec(spec: &Spec) -> Result<Maps, Failure> {
        let linux = spec.linux.as_ref();
        let uid = linux.map(|l| l.uid_mappings.clone()).unwrap_or_default();
        let gid = linux.map(|l| l.gid_mappings.clone()).unwrap_or_default();
        if uid.is_empty() || gid.is_empty() {
            return Err(Failure::new(
                125,
                "a user namespace needs uidMappings and gidMappings",
            ));
        }
        Ok(Maps { uid, gid })
    }

    /// A running process's, with its namespace; None when it shares ours.
    pub fn of_process(pid: i32) -> Result<Option<(Maps, File)>, Failure> {
        let ns = File::open(format!("/proc/{pid}/ns/user")).map_err(|e| {
            Failure::new(
                125,
                format!(
                    "cannot open the container's user namespace: {}",
                    crate::error::Os(&e)
                ),
            )
        })?;
        let ino = |f: &File| f.metadata().map(|m| (m.dev(), m.ino())).ok();
        let ours = File::open("/proc/self/ns/user").ok();
        if ours.as_ref().and_then(ino) == ino(&ns) {
            return Ok(None);
        }
        let read = |file: &str| -> Vec<IdMapping> {
            IdMapping::parse_map_file(
                &std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default(),
            )
        };
        Ok(Some((
            Maps {
                uid: read("uid_map"),
                gid: read("gid_map"),
            },
            ns,
        )))
    }

    /// The uid mappings.
    pub fn uid_map(&self) -> Vec<IdMapping> {
        self.uid.clone()
    }

    /// In the child, before it mounts or makes files: what it makes from
    /// now on (mount points, /dev, the working folder) belongs to the
    /// container's root; the file capabilities that a change of fsuid
    /// drops come back.
    pub fn act_as_root(&self) -> Result<(), Failure> {
        let (Some(u), Some(g)) = (
            IdMapping::to_host(&self.uid, 0),
            IdMapping::to_host(&self.gid, 0),
        ) else {
            return Err(Failure::new(
                125,
                "the user namespace's mappings do not include root (container id 0)",
            ));
        };
        nix::unistd::setfsgid(nix::unistd::Gid::from_raw(g));
        nix::unistd::setfsuid(nix::unistd::Uid::from_raw(u));
        super::caps::raise_effective()
    }

    /// The command's user must exist in the namespace.
    pub fn check(&self, ids: &super::user::Ids) -> Result<(), Failure> {
        let gids = std::iter::once(&ids.gid).chain(&ids.groups);
        if IdMapping::to_host(&self.uid, ids.uid).is_none() {
            return Err(Failure::new(
                125,
                format!(
                    "uid {} is not mapped in the container's user namespace",
                    ids.uid
                ),
            ));
        }
        for g in gids {
            if IdMapping::to_host(&self.gid, *g).is_none() {
                return Err(Failure::new(
                    125,
                    format!("gid {g} is not mapped in the container's user namespace"),
                ));
            }
        }
        Ok(())
    }
}

/// A new user namespace with the spec's mappings, held by an fd.
pub(super) fn create(spec: &Spec) -> Result<OwnedFd, Failure> {
    let maps = Maps::of_spec(spec)?;
    let cloexec = nix::fcntl::OFlag::O_CLOEXEC;
    let (ready_r, ready_w) = pipe2(cloexec).map_err(|e| sys("create a pipe", e))?;
    let (hold_r, hold_w) = pipe2(cloexec).map_err(|e| sys("create a pipe", e))?;
    // SAFETY: the caller is single-threaded; the child only makes
    // syscalls and _exits.
    match unsafe { fork() }.map_err(|e| sys("fork", e))? {
        ForkResult::Child => {
            drop((ready_r, hold_w));
            let ok = unshare(CloneFlags::CLONE_NEWUSER).is_ok();
            let _ = nix::unistd::write(&ready_w, if ok { b"u" } else { b"x" });
            // Until the parent has opened the namespace.
            let _ = nix::unistd::read(&hold_r, &mut [0u8; 1]);
            // SAFETY: _exit skips the parent's atexit handlers and buffers.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop((ready_w, hold_r));
            let mut b = [0u8; 1];
            let made = nix::unistd::read(&ready_r, &mut b) == Ok(1) && b[0] == b'u';
            let result = if made {
                open_with_maps(child.as_raw(), &maps)
            } else {
                Err(Failure::new(125, "cannot create a user namespace"))
            };
            drop(hold_w);
            let _ = waitpid(child, None);
            result
        }
    }
}

fn open_with_maps(pid: i32, maps: &Maps) -> Result<OwnedFd, Failure> {
    for (file, m) in [("uid_map", &maps.uid), ("gid_map", &maps.gid)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, IdMapping::map_file(m)).map_err(|e| {
            Failure::new(
                125,
                format!(
                    "cannot write the {file} of the user namespace: {}",
                    crate::error::Os(&e)
                ),
            )
        })?;
    }
    let ns = File::open(format!("/proc/{pid}/ns/user")).map_err(|e| {
        Failure::new(
            125,
            format!("cannot open the user namespace: {}", crate::error::Os(&e)),
        )
    })?;
    Ok(ns.into())
}

/// Idmaps what the overlay is made of, in place in the child's private
/// mount namespace: the folder holding all the layers, and the one holding
/// the upper and work folders (they must share a mount).
pub(super) fn idmap_overlay(
    ns: &OwnedFd,
    lowers: &[PathBuf],
    upper: &Path,
    work: &Path,
) -> Result<(), Failure> {
    for group in [lowers, &[upper.into(), work.into()]] {
        match common_dir(group) {
            // Never the whole root: each folder on its own then.
            Some(d) if d.components().count() > 1 => idmap_dir(ns, &d)?,
            _ => {
                for d in group {
                    idmap_dir(ns, d)?;
                }
            }
        }
    }
    Ok(())
}

/// Idmaps a ready root folder (`--rootfs`, a bundle's rootfs) in place.
pub(super) fn idmap_dir(ns: &OwnedFd, dir: &Path) -> Result<(), Failure> {
    Ok(crate::mount::idmap_in_place(dir, ns.as_fd())?)
}

/// The last step as the host's root: into the namespace, as its root (so
/// an `--init` pid 1 is not the host's root in there); the command's user
/// is taken after.
pub(super) fn join(ns: impl AsFd) -> Result<(), Failure> {
    setns(ns, CloneFlags::CLONE_NEWUSER).map_err(|e| sys("join the user namespace", e))?;
    nix::unistd::setgroups(&[]).map_err(|e| sys("set supplementary groups", e))?;
    let (g, u) = (nix::unistd::Gid::from_raw(0), nix::unistd::Uid::from_raw(0));
    nix::unistd::setresgid(g, g, g).map_err(|e| sys("set the group id", e))?;
    nix::unistd::setresuid(u, u, u).map_err(|e| sys("set the user id", e))
}

/// The deepest folder that holds every path (the path itself for one).
fn common_dir(paths: &[PathBuf]) -> Option<PathBuf> {
    let first = paths.first()?;
    let mut common = first.clone();
    for p in &paths[1..] {
        while !p.starts_with(&common) {
            if !common.pop() {
                return None;
            }
        }
    }
    Some(common)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dir_of_layers() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            common_dir(&[p("/s/layers/a/diff"), p("/s/layers/b/diff")]),
            Some(p("/s/layers"))
        );
        assert_eq!(common_dir(&[p("/s/layers/a")]), Some(p("/s/layers/a")));
        assert_eq!(
            common_dir(&[p("/s/c/1/upper"), p("/s/c/1/work")]),
            Some(p("/s/c/1"))
        );
        assert_eq!(common_dir(&[]), None);
    }
}
