//! cc-mount and cc-umount: an image's layers or a stopped container's
//! overlay mounted on the host for a person or a script to look at.
//! Image mounts live in `mounts/<token>/` (`rootfs`, and with `--rw` the
//! scratch `upper` and `work` that the unmount removes); a container is
//! mounted at its own `containers/<id>/rootfs`. A running container's
//! root is already mounted in its namespace: its path is /proc/PID/root.
//! Every mount made here is nosuid and nodev: an image's setuid-root
//! program is a file to look at on the host, never a way to become root.

use std::fs;
use std::path::{Path, PathBuf};

use crate::container::{self, Status};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use crate::{image, mount};

/// Mounts what `query` names (a container first, then an image) and
/// returns the path.
pub fn mount(store: &Store, query: &str, rw: bool) -> Result<PathBuf> {
    crate::rootless::refuse_outside_unshare("cc-mount")?;
    match container::resolve(store, query) {
        Ok(c) => mount_container(store, &c),
        Err(Error::NotFound { .. }) => mount_image(store, query, rw),
        Err(e) => Err(e),
    }
}

fn mount_container(store: &Store, c: &container::Container) -> Result<PathBuf> {
    if c.status() == Status::Running {
        if let Some(pid) = c.state.pid {
            return Ok(PathBuf::from(format!("/proc/{pid}/root")));
        }
    }
    if let Some(dir) = c.annotation(container::ANN_ROOTFS) {
        return Ok(PathBuf::from(dir));
    }
    let target = c.rootfs();
    if !mount::is_mountpoint(&target) {
        let lowers: Vec<PathBuf> = c.layers().iter().map(|d| store.layer_dir(d)).collect();
        mount::overlay_for_host(&lowers, Some((&c.upper(), &c.work())), &target)?;
    }
    Ok(target)
}

/// Runs `f` on a container's merged root: the running container's own
/// (/proc/PID/root), or an overlay mounted for the call and unmounted
/// after (unless it was already mounted).
pub fn with_root<T>(
    store: &Store,
    c: &container::Container,
    f: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    let was_mounted = mount::is_mountpoint(&c.rootfs());
    let root = mount_container(store, c)?;
    let result = f(&root);
    if !was_mounted && root == c.rootfs() {
        let _ = mount::unmount(&root, false);
    }
    result
}

fn mount_image(store: &Store, query: &str, rw: bool) -> Result<PathBuf> {
    let img = image::resolve(store, query)?;
    let dir = store.mounts_dir().join(store::random_hex(8)?);
    let target = dir.join("rootfs");
    let made = (|| {
        private_dirs(&target)?;
        store::write_atomic(&dir.join("image"), img.id.as_bytes())?;
        let lowers = img.layer_dirs(store);
        if rw {
            let (upper, work) = (dir.join("upper"), dir.join("work"));
            for d in [&upper, &work] {
                private_dirs(d)?;
            }
            mount::overlay_for_host(&lowers, Some((&upper, &work)), &target)
        } else {
            mount::overlay_for_host(&lowers, None, &target)
        }
    })();
    if let Err(e) = made {
        let _ = crate::tree::remove_tree(&dir);
        return Err(e);
    }
    Ok(target)
}

/// Creates `dir` and any missing folder above it 0700: `mounts/` of a
/// store made before it existed is made only root's, as the store's others.
fn private_dirs(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("create", dir, e))
}

/// Unmounts a path that cc-mount printed, or a container by name or id.
pub fn unmount(store: &Store, what: &str) -> Result<PathBuf> {
    crate::rootless::refuse_outside_unshare("cc-umount")?;
    let p = Path::new(what);
    let mounts = store.mounts_dir();
    if p.is_absolute() {
        let p = p.canonicalize().map_err(|e| Error::io("find", p, e))?;
        if let Ok(rest) = p.strip_prefix(mounts.canonicalize().unwrap_or(mounts.clone())) {
            let token = rest
                .components()
                .next()
                .ok_or_else(|| Error::not_found("mount", what))?;
            let dir = mounts.join(token);
            let target = dir.join("rootfs");
            if mount::is_mountpoint(&target) {
                mount::unmount(&target, false)?;
            }
            // What was written through a --rw mount may be any depth.
            crate::tree::remove_tree(&dir)?;
            return Ok(target);
        }
        let containers = store
            .containers_dir()
            .canonicalize()
            .unwrap_or(store.containers_dir());
        if let Ok(rest) = p.strip_prefix(&containers) {
            let id = rest
                .components()
                .next()
                .ok_or_else(|| Error::not_found("mount", what))?;
            return unmount_container(store, &id.as_os_str().to_string_lossy());
        }
        return Err(Error::not_found("cc mount", what));
    }
    unmount_container(store, what)
}

fn unmount_container(store: &Store, query: &str) -> Result<PathBuf> {
    let c = container::resolve(store, query)?;
    let target = c.rootfs();
    if !mount::is_mountpoint(&target) {
        return Err(Error::State(format!("container '{query}' is not mounted")));
    }
    mount::unmount(&target, false)?;
    Ok(target)
}
