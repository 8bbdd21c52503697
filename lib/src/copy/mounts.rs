//! A container's mounts as cc-cp sees them, as docker's daemon does for a
//! copy (daemon/archive.go): a path under a read-only mount is refused,
//! and a stopped container's volumes, binds and /etc files are bound onto
//! its overlay for the copy (docker's `mountVolumes`), so a path under a
//! mount's destination reaches the volume, not the overlay beneath it.
//! The binds are made in a mount namespace of cc-cp's own: nothing of
//! them is seen on the host, and none outlives cc-cp. Each target is
//! resolved inside the root (openat2 RESOLVE_IN_ROOT): a link in the
//! container at a mount's destination cannot move the bind to a host path.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::container::Container;
use crate::error::{errno, Error, Result};
use crate::inroot::Root;
use crate::spec::Mount;

/// Moves cc-cp into a mount namespace of its own whose mounts propagate
/// nowhere: the binds made for a stopped container stay in it.
pub(super) fn own_namespace() -> Result<()> {
    use nix::mount::{mount, MsFlags};
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| Error::sys("enter a mount namespace of cc-cp's own", errno(e)))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| Error::sys("make cc-cp's mounts private", errno(e)))
}

/// The binds of a stopped container made on its mounted `root`; undone,
/// last first, when dropped.
pub(super) struct Binds {
    /// O_PATH fds of the binds' own roots.
    made: Vec<OwnedFd>,
}

/// Binds `c`'s volumes, `-v`/`--mount` binds and /etc files (the spec's
/// bind mounts whose source is a folder or a file: not devices) onto the
/// overlay `root` at their destinations, read-only ones read-only.
pub(super) fn bind_all(c: &Container, root: &Path) -> Result<Binds> {
    let root = Root::open(root)?;
    let mut binds = Binds { made: Vec::new() };
    for m in c.spec.mounts.iter().filter(|m| m.is_bind()) {
        let src = c.dir.join(m.source.as_deref().unwrap_or_default());
        let Ok(meta) = std::fs::metadata(&src) else {
            continue;
        };
        if !meta.is_dir() && !meta.is_file() {
            continue;
        }
        let dest = Path::new(&m.destination);
        let target = root.mount_target(dest, meta.is_dir())?;
        crate::mount::bind_to_fd(&src, target.as_fd(), read_only(m), true)?;
        // Opened again, it is the bind's root, which a detach can name.
        let top = root.open_at(dest, OFlags::PATH, Mode::empty())?;
        binds.made.push(top);
    }
    Ok(binds)
}

impl Drop for Binds {
    fn drop(&mut self) {
        for fd in self.made.drain(..).rev() {
            let at = format!("/proc/self/fd/{}", fd.as_raw_fd());
            let _ = rustix::mount::unmount(at.as_str(), rustix::mount::UnmountFlags::DETACH);
        }
    }
}

fn read_only(m: &Mount) -> bool {
    m.options.iter().any(|o| o == "ro" || o == "rro")
}

/// docker's check before writing at `path` in `c`: under a read-only
/// volume or bind it is refused, and so is a read-only root's own path.
pub(super) fn check_writable(c: &Container, path: &str, shown: &Path) -> Result<()> {
    let path = clean(path);
    let covering = c
        .spec
        .mounts
        .iter()
        .filter(|m| path.starts_with(clean(&m.destination)))
        .max_by_key(|m| clean(&m.destination).components().count());
    let refused = match covering {
        Some(m) if read_only(m) => "mounted volume is marked read-only",
        Some(_) => return Ok(()),
        None if c.spec.root.as_ref().is_some_and(|r| r.readonly) => {
            "container rootfs is marked read-only"
        }
        None => return Ok(()),
    };
    Err(Error::State(format!(
        "cannot copy to '{}': {refused}",
        shown.display()
    )))
}

/// `path` from `/`, `.` and `..` taken away by their names, as docker's
/// filepath.Clean: the mount a path falls under before links resolve.
fn clean(path: &str) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_from_the_root() {
        assert_eq!(clean("data/../data/./x/"), PathBuf::from("/data/x"));
        assert_eq!(clean("/../../etc"), PathBuf::from("/etc"));
        assert_eq!(clean(""), PathBuf::from("/"));
        assert!(!clean("/database").starts_with(clean("/data")));
    }
}
