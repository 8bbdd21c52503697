//! fuse-overlayfs: an ordinary user's overlays where the kernel's own
//! overlayfs cannot be mounted in a user namespace (before Linux 5.11, or
//! refused), as rootless podman does (storage.conf `mount_program`).
//!
//! The layers stay as they are in the store: fuse-overlayfs reads the same
//! 0/0 character device whiteouts and `user.overlay.opaque` folders (its
//! main.c, `UNPRIVILEGED_OPAQUE_XATTR`). In an upper folder it writes
//! whiteouts the same way, and marks an opaque folder with
//! `user.fuseoverlayfs.opaque` and a `.wh..wh..opq` file, which
//! `layer::upper` reads as opaque.
//!
//! Which one a user gets is decided once and kept in the runtime folder
//! (`overlay`, gone at reboot, when the kernel may have changed); the
//! environment variable `CC_OVERLAY=native|fuse-overlayfs` overrides it.
//! fuse-overlayfs runs as a daemon of its own, outside the container: it
//! ends when its mount is unmounted.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::Attrs;
use crate::error::{Error, Result};

/// The environment variable that chooses the driver.
pub const ENV: &str = "CC_OVERLAY";
const PROGRAM: &str = "fuse-overlayfs";
/// The cached choice in the user's runtime folder.
const CACHE: &str = "overlay";

/// How a user's overlays are mounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// The kernel's overlayfs, with `userxattr` (Linux 5.11).
    Native,
    /// The fuse-overlayfs program (Debian package fuse-overlayfs).
    Fuse,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::Native => "native",
            Driver::Fuse => PROGRAM,
        }
    }

    fn parse(s: &str) -> Option<Driver> {
        [Driver::Native, Driver::Fuse]
            .into_iter()
            .find(|d| d.name() == s.trim())
    }
}

/// The driver for this process's overlays: always native for root; for a
/// user, `CC_OVERLAY`, else the cached choice, else found out now.
pub fn driver() -> Result<Driver> {
    static CHOSEN: OnceLock<std::result::Result<Driver, String>> = OnceLock::new();
    let env = std::env::var(ENV).ok().filter(|v| !v.is_empty());
    if !crate::rootless::active() {
        return match env.as_deref().map(Driver::parse) {
            None | Some(Some(Driver::Native)) => Ok(Driver::Native),
            _ => Err(Error::Unsupported(format!(
                "{ENV}={} is for an ordinary user's containers: root's are native overlayfs",
                env.unwrap_or_default()
            ))),
        };
    }
    CHOSEN
        .get_or_init(|| choose(env.as_deref()).map_err(|e| e.to_string()))
        .clone()
        .map_err(Error::Unsupported)
}

fn choose(env: Option<&str>) -> Result<Driver> {
    if let Some(v) = env {
        return Driver::parse(v).ok_or_else(|| {
            Error::Unsupported(format!("{ENV} must be 'native' or '{PROGRAM}', not '{v}'"))
        });
    }
    let cache = crate::rootless::runtime_dir()?.join(CACHE);
    if let Some(d) = std::fs::read_to_string(&cache)
        .ok()
        .and_then(|s| Driver::parse(&s))
    {
        return Ok(d);
    }
    let d = if crate::rootless::native_overlay() && native_mounts(&cache) {
        Driver::Native
    } else if have_program() {
        Driver::Fuse
    } else {
        return Err(Error::Unsupported(format!(
            "this kernel cannot mount overlayfs in a user namespace (Linux 5.11 can) and {PROGRAM} \
             is not installed (Debian package {PROGRAM})"
        )));
    };
    crate::store::write_atomic(&cache, d.name().as_bytes())?;
    Ok(d)
}

/// A trial overlay of two empty folders, in a scratch folder beside the
/// cache file: some kernels or security modules refuse it even on 5.11.
fn native_mounts(cache: &Path) -> bool {
    let scratch = cache.with_extension(format!("probe-{}", std::process::id()));
    let dirs = ["l1", "l2", "u", "w", "m"].map(|d| scratch.join(d));
    let made = dirs.iter().all(|d| std::fs::create_dir_all(d).is_ok());
    let lowers = [dirs[0].clone(), dirs[1].clone()];
    let ok = made
        && super::overlay_native(
            &lowers,
            Some((&dirs[2], &dirs[3])),
            &dirs[4],
            Attrs::empty(),
        )
        .is_ok();
    if ok {
        let _ = super::unmount(&dirs[4], true);
    }
    let _ = crate::tree::remove_tree(&scratch);
    ok
}

fn have_program() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(PROGRAM).is_file()))
}

/// For cc-info: how a user's overlays are mounted, and why.
pub fn describe() -> String {
    let why = match std::env::var(ENV).ok().filter(|v| !v.is_empty()) {
        Some(_) => format!(" (set by {ENV})"),
        None if crate::rootless::native_overlay() => String::new(),
        None => " (overlayfs in a user namespace needs Linux 5.11)".into(),
    };
    match driver() {
        Ok(Driver::Native) => format!("native overlayfs in the user namespace (userxattr){why}"),
        Ok(Driver::Fuse) => format!("{PROGRAM}{why}"),
        Err(e) => format!("none: {e}"),
    }
}

/// Whether a user's overlays are fuse-overlayfs mounts.
pub fn in_use() -> Result<bool> {
    Ok(crate::rootless::active() && driver()? == Driver::Fuse)
}

/// Mounts the overlay with fuse-overlayfs, which daemonizes once the mount
/// is up (so its exit status says whether it is). Without an upper folder
/// the mount is read-only.
pub(super) fn mount(
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    target: &Path,
    attrs: Attrs,
) -> Result<()> {
    // fuse-overlayfs 1.10 splits its options at ',' and layers at ':'.
    let paths = super::option_paths(lowers, upper, target, PROGRAM, "")?;
    let join = |ps: &[&Path]| {
        ps.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    let mut opts = format!("lowerdir={}", join(&paths[..lowers.len()]));
    if let Some((u, w)) = upper {
        opts += &format!(",upperdir={},workdir={}", u.display(), w.display());
    }
    for (a, word) in [
        (Attrs::MOUNT_ATTR_NOSUID, ",nosuid"),
        (Attrs::MOUNT_ATTR_NODEV, ",nodev"),
    ] {
        if attrs.contains(a) {
            opts += word;
        }
    }
    let mut cmd = Command::new(PROGRAM);
    cmd.arg("-o")
        .arg(&opts)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: close_range(2) only; the daemon must hold none of our fds
    // (a pipe a reader waits on would never see its end).
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
    let out = cmd.output().map_err(|e| {
        Error::Unsupported(format!(
            "cannot run {PROGRAM}: {} (install Debian's {PROGRAM} package)",
            crate::error::Os(&e)
        ))
    })?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why
            .lines()
            .filter(|l| !l.contains("unknown argument ignored"))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::Program(format!(
            "{PROGRAM} at '{}': {}",
            target.display(),
            why.trim()
        )));
    }
    Ok(())
}

/// Unmounts a container's fuse-overlayfs root once the container has
/// ended (its daemon ends with the mount). Root's containers mount their
/// root in their own mount namespace, gone with them: nothing to do.
pub fn unmount_root(rootfs: &Path) {
    if in_use().unwrap_or(false) && super::is_mountpoint(rootfs) {
        let _ = super::unmount(rootfs, true);
    }
}
