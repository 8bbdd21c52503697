//! Mounts: overlays of unpacked layers, bind mounts, unmount.
//!
//! Overlays use the new mount API (fsopen(2), fsconfig(2), fsmount(2),
//! move_mount(2)) so that each layer is passed on its own with
//! `lowerdir+` (Linux 6.8): the classic mount(2) option string is limited to
//! one page, which about 60 long layer paths already fill. Older kernels get
//! the classic string, and a clear error when it does not fit.
//!
//! Bind mounts go through open_tree(2), mount_setattr(2) and move_mount(2):
//! the tree is made read-only while still detached, so it is never visible
//! writable, and `AT_RECURSIVE` makes every submount read-only too (a
//! remount with `MS_RDONLY` changes only the top one).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, StatxAttributes, StatxFlags, CWD};
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, OpenTreeFlags,
    UnmountFlags,
};

use crate::error::{Error, Result};

pub mod fuse;
mod mountinfo;
pub mod setattr;

pub use mountinfo::unescape_mountinfo;
use setattr::set_attr;
pub use setattr::{idmap_in_place, setattr_fd, Setattr};

/// Mounts an overlay of `lowers` (top layer first) at `target`. With
/// `upper` = `Some((upperdir, workdir))` the overlay is writable, else
/// read-only. A single lower and no upper becomes a read-only bind mount,
/// because overlayfs refuses one lower layer without an upper one.
pub fn overlay(lowers: &[PathBuf], upper: Option<(&Path, &Path)>, target: &Path) -> Result<()> {
    overlay_with(lowers, upper, target, Attrs::empty())
}

/// [`overlay`] for a mount on the host that people look at (cc-mount, and
/// the root cc-diff and cc-export read): nosuid and nodev, so that an
/// image's setuid-root program or device node gives no host user more
/// than it gives root's own shell.
pub fn overlay_for_host(
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    target: &Path,
) -> Result<()> {
    overlay_with(
        lowers,
        upper,
        target,
        Attrs::MOUNT_ATTR_NOSUID | Attrs::MOUNT_ATTR_NODEV,
    )
}

type Attrs = MountAttrFlags;

fn overlay_with(
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    target: &Path,
    attrs: Attrs,
) -> Result<()> {
    match (lowers, upper) {
        ([], _) => Err(Error::Unsupported(format!(
            "cannot mount overlay at '{}': no lower layers",
            target.display()
        ))),
        ([only], None) => bind_with(only, target, attrs | Attrs::MOUNT_ATTR_RDONLY, false),
        _ if fuse::driver()? == fuse::Driver::Fuse => fuse::mount(lowers, upper, target, attrs),
        _ => overlay_native(lowers, upper, target, attrs),
    }
}

/// The kernel's overlayfs: layers one by one where the kernel takes them,
/// else the classic option string.
fn overlay_native(
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    target: &Path,
    attrs: Attrs,
) -> Result<()> {
    match overlay_new_api(lowers, upper, target, attrs)? {
        NewApi::Mounted => Ok(()),
        NewApi::Unsupported => overlay_classic(lowers, upper, target, classic_flags(attrs)),
    }
}

/// The mount(2) flags for mount_setattr(2)'s attributes.
fn classic_flags(attrs: Attrs) -> MountFlags {
    let mut f = MountFlags::empty();
    for (a, m) in [
        (Attrs::MOUNT_ATTR_RDONLY, MountFlags::RDONLY),
        (Attrs::MOUNT_ATTR_NOSUID, MountFlags::NOSUID),
        (Attrs::MOUNT_ATTR_NODEV, MountFlags::NODEV),
    ] {
        if attrs.contains(a) {
            f |= m;
        }
    }
    f
}

enum NewApi {
    Mounted,
    /// The kernel cannot take layers one by one: use the option string.
    Unsupported,
}

fn overlay_new_api(
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    target: &Path,
    attrs: Attrs,
) -> Result<NewApi> {
    use rustix::io::Errno;
    let err = |e: Errno| Error::io("mount overlay at", target, e.into());
    let fs = match rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC) {
        Err(Errno::NOSYS) => return Ok(NewApi::Unsupported), // before Linux 5.2
        other => other.map_err(err)?,
    };
    // `lowerdir+` takes one path as is: no ':' or ',' escaping (see
    // Documentation/filesystems/overlayfs.rst, "Multiple lower layers").
    for (i, lower) in lowers.iter().enumerate() {
        match rustix::mount::fsconfig_set_string(&fs, "lowerdir+", lower.as_path()) {
            // Linux 6.5 to 6.7 parse overlay options but not this key.
            Err(Errno::INVAL) if i == 0 => return Ok(NewApi::Unsupported),
            other => other.map_err(err)?,
        }
    }
    if crate::rootless::active() {
        // Whiteouts' marks in user.* xattrs (Linux 5.11): an ordinary
        // user's namespace may not use trusted.* ones.
        rustix::mount::fsconfig_set_flag(&fs, "userxattr").map_err(err)?;
    }
    if let Some((upperdir, workdir)) = upper {
        rustix::mount::fsconfig_set_string(&fs, "upperdir", upperdir).map_err(err)?;
        rustix::mount::fsconfig_set_string(&fs, "workdir", workdir).map_err(err)?;
    }
    match rustix::mount::fsconfig_create(&fs) {
        // Before 6.5 overlayfs has a legacy context: it takes any key and
        // only the final parse refuses `lowerdir+`.
        Err(Errno::INVAL) if kernel_before(6, 5) => return Ok(NewApi::Unsupported),
        other => other.map_err(err)?,
    }
    let mnt = rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs).map_err(err)?;
    attach(&mnt, CWD, target).map_err(err)?;
    Ok(NewApi::Mounted)
}

/// Whether the running kernel is older than `major.minor` (uname(2)).
fn kernel_before(major: u32, minor: u32) -> bool {
    let uname = rustix::system::uname();
    let release = uname.release().to_string_lossy();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have < (major, minor)
}

/// The lowers, then upper and work folders, for an option string that
/// separates layers with ':' and options with ',': a path with either is
/// refused (`fs` and `why` name the mount and what would take it).
fn option_paths<'a>(
    lowers: &'a [PathBuf],
    upper: Option<(&'a Path, &'a Path)>,
    target: &Path,
    fs: &str,
    why: &str,
) -> Result<Vec<&'a Path>> {
    let mut paths: Vec<&Path> = lowers.iter().map(PathBuf::as_path).collect();
    if let Some((upperdir, workdir)) = upper {
        paths.extend([upperdir, workdir]);
    }
    if let Some(bad) = paths.iter().find(|p| {
        let b = p.as_os_str().as_bytes();
        b.contains(&b':') || b.contains(&b',')
    }) {
        return Err(Error::Unsupported(format!(
            "cannot mount {fs} at '{}': path '{}' contains ':' or ','{why}",
            target.display(),
            bad.display()
        )));
    }
    Ok(paths)
}

/// The pre-6.8 way: one `lowerdir=a:b:c` string, which must fit one page and
/// cannot carry ':' or ',' in a path (they separate layers and options).
fn overlay_classic(
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    target: &Path,
    flags: MountFlags,
) -> Result<()> {
    let paths = option_paths(lowers, upper, target, "overlay", " (needs Linux 6.8)")?;
    let join = |ps: &[&Path]| {
        let v: Vec<&[u8]> = ps.iter().map(|p| p.as_os_str().as_bytes()).collect();
        v.join(&b':')
    };
    let mut data = b"lowerdir=".to_vec();
    data.extend(join(&paths[..lowers.len()]));
    if let Some((upperdir, workdir)) = upper {
        data.extend(b",upperdir=");
        data.extend(upperdir.as_os_str().as_bytes());
        data.extend(b",workdir=");
        data.extend(workdir.as_os_str().as_bytes());
    }
    if crate::rootless::active() {
        data.extend(b",userxattr");
    }
    // mount(2) copies at most one page of data; a longer string would be
    // cut silently and name a wrong layer.
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    if data.len() >= page {
        return Err(Error::Unsupported(format!(
            "cannot mount overlay at '{}': {} layers need {} bytes of options, over the {page} \
             bytes this kernel accepts (Linux 6.8 lifts the limit)",
            target.display(),
            lowers.len(),
            data.len()
        )));
    }
    let data = CString::new(data).map_err(|_| {
        Error::Unsupported(format!(
            "cannot mount overlay at '{}': path contains a nul byte",
            target.display()
        ))
    })?;
    rustix::mount::mount("overlay", target, "overlay", flags, data.as_c_str())
        .map_err(|e| Error::io("mount overlay at", target, e.into()))
}

/// Bind mounts `src` at `target` (`recursive`: with its submounts, like
/// `MS_REC`). `readonly` applies to every mount of the tree; nosuid, nodev
/// and noexec of the source are kept (they are "locked" in a user
/// namespace, see mount(2), and clearing them would fail there).
pub fn bind(src: &Path, target: &Path, readonly: bool, recursive: bool) -> Result<()> {
    let attrs = if readonly {
        Attrs::MOUNT_ATTR_RDONLY
    } else {
        Attrs::empty()
    };
    bind_with(src, target, attrs, recursive)
}

/// A bind mount that sets `attrs` (read-only, nosuid, nodev) on every
/// mount of the tree and keeps the source's others.
fn bind_with(src: &Path, target: &Path, attrs: Attrs, recursive: bool) -> Result<()> {
    match bind_at(src, CWD, target, &BindAttrs::tree(attrs), recursive, None) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            bind_classic(src, target, classic_flags(attrs), recursive)
        }
        other => other,
    }
}

/// Same as [`bind`], but the target is an `O_PATH` fd (resolved safely inside
/// a container root, e.g. with openat2 `RESOLVE_IN_ROOT`). move_mount(2)
/// attaches to the fd itself, so no path is looked up again (no symlink race).
pub fn bind_to_fd(src: &Path, target: BorrowedFd, readonly: bool, recursive: bool) -> Result<()> {
    let attrs = if readonly {
        Attrs::MOUNT_ATTR_RDONLY
    } else {
        Attrs::empty()
    };
    bind_to_fd_with(src, target, recursive, &BindAttrs::tree(attrs))
}

/// The changes a bind mount makes while still detached: to its top mount
/// only (`ro` on an `rbind`, as runc), then to every mount of the tree
/// (`rro`, `rnosuid`, ..., `rprivate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BindAttrs {
    pub top: Setattr,
    pub tree: Setattr,
}

impl BindAttrs {
    fn tree(attrs: Attrs) -> BindAttrs {
        BindAttrs {
            top: Setattr::default(),
            tree: Setattr {
                set: attrs.bits() as u64,
                ..Setattr::default()
            },
        }
    }
}

/// [`bind_to_fd`] with the changes `attrs`, made before the tree is
/// attached: it is never visible with fewer restrictions than asked.
pub fn bind_to_fd_with(
    src: &Path,
    target: BorrowedFd,
    recursive: bool,
    attrs: &BindAttrs,
) -> Result<()> {
    bind_to_fd_idmapped(src, target, recursive, attrs, None)
}

/// [`bind_to_fd_with`], idmapped through the user namespace `idmap.0`
/// (its every mount when `idmap.1`): files stored as id N show as the id
/// N maps to there (the OCI mount options `idmap`, `ridmap`).
pub fn bind_to_fd_idmapped(
    src: &Path,
    target: BorrowedFd,
    recursive: bool,
    attrs: &BindAttrs,
    idmap: Option<(BorrowedFd, bool)>,
) -> Result<()> {
    let shown = PathBuf::from(format!("/proc/self/fd/{}", target.as_raw_fd()));
    bind_at(src, target, Path::new(""), attrs, recursive, idmap).map_err(|e| match e {
        Error::Io { op, source, .. } if op == "bind mount onto" => {
            Error::io(op, readlink_or(&shown), source)
        }
        other => other,
    })
}

/// The path behind a `/proc/self/fd/N` link, for error messages.
fn readlink_or(link: &Path) -> PathBuf {
    std::fs::read_link(link).unwrap_or_else(|_| link.to_path_buf())
}

fn bind_at(
    src: &Path,
    dirfd: BorrowedFd,
    target: &Path,
    attrs: &BindAttrs,
    recursive: bool,
    idmap: Option<(BorrowedFd, bool)>,
) -> Result<()> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    let tree = rustix::mount::open_tree(CWD, src, flags)
        .map_err(|e| Error::io("bind mount", src, e.into()))?;
    // Only sets these: the flags the source has stay as they are.
    for (change, rec) in [(&attrs.top, false), (&attrs.tree, true)] {
        if !change.is_empty() {
            set_attr(tree.as_fd(), change, None, rec)
                .map_err(|e| Error::io("set the mount flags of", src, e))?;
        }
    }
    if let Some((userns, rec)) = idmap {
        let change = Setattr {
            set: rustix::mount::MountAttrFlags::MOUNT_ATTR_IDMAP.bits() as u64,
            ..Setattr::default()
        };
        set_attr(tree.as_fd(), &change, Some(userns), rec)
            .map_err(|e| Error::io("map the ids of", src, e))?;
    }
    attach(&tree, dirfd, target).map_err(|e| Error::io("bind mount onto", target, e.into()))
}

/// Moves a detached mount (from fsmount or open_tree) onto `dirfd`/`target`;
/// an empty `target` means the fd itself.
pub(super) fn attach(mnt: &OwnedFd, dirfd: BorrowedFd, target: &Path) -> rustix::io::Result<()> {
    let mut flags = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH;
    if target.as_os_str().is_empty() {
        flags |= MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
    }
    rustix::mount::move_mount(mnt, "", dirfd, target, flags)
}

/// mount(2) bind and remount, for kernels before 5.12 (no mount_setattr);
/// the remount adds `add` (read-only, nosuid, nodev) and keeps the locked
/// flags (mount(2), "Locked mounts").
fn bind_classic(src: &Path, target: &Path, add: MountFlags, recursive: bool) -> Result<()> {
    let mut flags = MountFlags::BIND;
    if recursive {
        flags |= MountFlags::REC;
    }
    rustix::mount::mount(src, target, "", flags, None)
        .map_err(|e| Error::io("bind mount onto", target, e.into()))?;
    if add.is_empty() {
        return Ok(());
    }
    let remount = || -> io::Result<()> {
        let st = rustix::fs::statvfs(target)?;
        let keep = [
            (rustix::fs::StatVfsMountFlags::NOSUID, MountFlags::NOSUID),
            (rustix::fs::StatVfsMountFlags::NODEV, MountFlags::NODEV),
            (rustix::fs::StatVfsMountFlags::NOEXEC, MountFlags::NOEXEC),
            (rustix::fs::StatVfsMountFlags::NOATIME, MountFlags::NOATIME),
            (
                rustix::fs::StatVfsMountFlags::NODIRATIME,
                MountFlags::NODIRATIME,
            ),
            (
                rustix::fs::StatVfsMountFlags::RELATIME,
                MountFlags::RELATIME,
            ),
        ];
        let mut flags = MountFlags::BIND | add;
        for (has, set) in keep {
            if st.f_flag.contains(has) {
                flags |= set;
            }
        }
        Ok(rustix::mount::mount_remount(target, flags, "")?)
    };
    remount().map_err(|e| {
        // Do not leave a writable mount behind.
        let _ = rustix::mount::unmount(target, UnmountFlags::DETACH);
        Error::io("set the mount flags of", target, e)
    })
}

/// umount2(2); `lazy` detaches now and cleans up when no longer busy
/// (`MNT_DETACH`). A symlink at `target` is not followed (`UMOUNT_NOFOLLOW`).
pub fn unmount(target: &Path, lazy: bool) -> Result<()> {
    let mut flags = UnmountFlags::NOFOLLOW;
    if lazy {
        flags |= UnmountFlags::DETACH;
    }
    rustix::mount::unmount(target, flags).map_err(|e| match e {
        // EINVAL: nothing is mounted there, a wrong state (exit 4).
        rustix::io::Errno::INVAL => {
            Error::State(format!("'{}' is not a mount point", target.display()))
        }
        e => Error::io("unmount", target, e.into()),
    })
}

/// Whether `path` is the root of a mount. statx(2) reports it directly
/// (`STATX_ATTR_MOUNT_ROOT`, Linux 5.8); otherwise the mount id or the
/// device differs from the parent's. False when `path` cannot be read.
pub fn is_mountpoint(path: &Path) -> bool {
    let Ok(st) = rustix::fs::statx(CWD, path, AtFlags::empty(), StatxFlags::BASIC_STATS) else {
        return false;
    };
    if st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT) {
        return st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT);
    }
    let mask = StatxFlags::BASIC_STATS | StatxFlags::MNT_ID;
    let (Ok(me), Ok(parent)) = (
        rustix::fs::statx(CWD, path, AtFlags::empty(), mask),
        rustix::fs::statx(CWD, path.join(".."), AtFlags::empty(), mask),
    ) else {
        return false;
    };
    let has_id = |st: &rustix::fs::Statx| st.stx_mask & StatxFlags::MNT_ID.bits() != 0;
    if has_id(&me) && has_id(&parent) {
        return me.stx_mnt_id != parent.stx_mnt_id;
    }
    (me.stx_dev_major, me.stx_dev_minor) != (parent.stx_dev_major, parent.stx_dev_minor)
        || (me.stx_ino == parent.stx_ino)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::fd::AsFd;

    /// Mount tests need root; under CI a missing root is a failure.
    fn is_root() -> bool {
        if rustix::process::geteuid().is_root() {
            return true;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mount tests need root in CI"
        );
        eprintln!("skipped: mount tests need root");
        false
    }

    /// Unmounts exactly the targets it was given, newest first.
    struct Mounted(Vec<PathBuf>);

    impl Drop for Mounted {
        fn drop(&mut self) {
            for t in self.0.iter().rev() {
                let _ = rustix::mount::unmount(t.as_path(), UnmountFlags::DETACH);
            }
        }
    }

    fn dir_with(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = root.join(name);
        fs::create_dir_all(&d).unwrap();
        for (f, text) in files {
            fs::write(d.join(f), text).unwrap();
        }
        d
    }

    #[test]
    fn overlay_merges_layers_and_writes_to_upper() {
        if !is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let top = dir_with(tmp.path(), "top", &[("shared", "top"), ("a", "a")]);
        let mid = dir_with(tmp.path(), "mid", &[("b", "b")]);
        let low = dir_with(tmp.path(), "low", &[("shared", "low"), ("c", "c")]);
        let upper = dir_with(tmp.path(), "upper", &[]);
        let work = dir_with(tmp.path(), "work", &[]);
        let target = dir_with(tmp.path(), "merged", &[]);
        overlay(&[top, mid, low.clone()], Some((&upper, &work)), &target).unwrap();
        let _guard = Mounted(vec![target.clone()]);
        assert_eq!(fs::read_to_string(target.join("shared")).unwrap(), "top");
        for f in ["a", "b", "c"] {
            assert_eq!(fs::read_to_string(target.join(f)).unwrap(), f);
        }
        fs::write(target.join("new"), "new").unwrap();
        assert_eq!(fs::read_to_string(upper.join("new")).unwrap(), "new");
        assert!(!low.join("new").exists());
        assert!(is_mountpoint(&target));
    }

    #[test]
    fn overlay_of_200_long_layers_mounts() {
        if !is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let long = "a-layer-folder-name-long-enough-to-overflow-one-page-of-options";
        let lowers: Vec<PathBuf> = (0..200)
            .map(|i| {
                dir_with(
                    tmp.path(),
                    &format!("{long}-{i:03}"),
                    &[(&format!("f{i}"), "x")],
                )
            })
            .collect();
        let bytes: usize = lowers.iter().map(|p| p.as_os_str().len() + 1).sum();
        assert!(bytes > 4096, "the option string would be {bytes} bytes");
        let target = dir_with(tmp.path(), "merged", &[]);
        overlay(&lowers, None, &target).unwrap();
        let _guard = Mounted(vec![target.clone()]);
        assert!(target.join("f0").exists() && target.join("f199").exists());
    }

    #[test]
    fn overlay_without_upper_is_read_only() {
        if !is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let a = dir_with(tmp.path(), "a", &[("a", "a")]);
        let b = dir_with(tmp.path(), "b", &[("b", "b")]);
        for (i, lowers) in [vec![a.clone(), b], vec![a]].into_iter().enumerate() {
            let target = dir_with(tmp.path(), &format!("merged{i}"), &[]);
            overlay(&lowers, None, &target).unwrap();
            let _guard = Mounted(vec![target.clone()]);
            assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "a");
            let err = fs::write(target.join("new"), "x").unwrap_err();
            assert_eq!(
                err.raw_os_error(),
                Some(libc::EROFS),
                "{} layers",
                lowers.len()
            );
        }
    }

    #[test]
    fn overlay_classic_refuses_separators() {
        let err = overlay_classic(
            &[PathBuf::from("/a:b"), PathBuf::from("/c")],
            None,
            Path::new("/t"),
            MountFlags::empty(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("'/a:b' contains ':' or ','"),
            "{err}"
        );
    }

    #[test]
    fn bind_mount_readonly_and_unmount() {
        if !is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let src = dir_with(tmp.path(), "src", &[("f", "hello")]);
        let rw = dir_with(tmp.path(), "rw", &[]);
        let ro = dir_with(tmp.path(), "ro", &[]);
        let mut guard = Mounted(vec![]);
        bind(&src, &rw, false, false).unwrap();
        guard.0.push(rw.clone());
        bind(&src, &ro, true, true).unwrap();
        guard.0.push(ro.clone());
        assert_eq!(fs::read_to_string(ro.join("f")).unwrap(), "hello");
        let err = fs::write(ro.join("f"), "x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
        fs::write(rw.join("g"), "via rw").unwrap();
        assert_eq!(fs::read_to_string(src.join("g")).unwrap(), "via rw");
        assert!(is_mountpoint(&ro) && is_mountpoint(&rw));

        unmount(&ro, false).unwrap();
        unmount(&rw, true).unwrap();
        guard.0.clear();
        assert!(!is_mountpoint(&ro) && !is_mountpoint(&rw));
        let err = unmount(&ro, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("'{}' is not a mount point", ro.display())
        );
        // Not mounted is a wrong state (exit 4), not a failure (exit 1).
        assert_eq!(err.code(), 4);
    }

    #[test]
    fn bind_classic_readonly() {
        if !is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let src = dir_with(tmp.path(), "src", &[("f", "hello")]);
        let ro = dir_with(tmp.path(), "ro", &[]);
        bind_classic(&src, &ro, MountFlags::RDONLY, false).unwrap();
        let _guard = Mounted(vec![ro.clone()]);
        let err = fs::write(ro.join("f"), "x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
    }

    #[test]
    fn bind_to_fd_mounts_on_the_fd() {
        if !is_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let src = dir_with(tmp.path(), "src", &[("f", "hello")]);
        let target = dir_with(tmp.path(), "target", &[]);
        let fd = rustix::fs::open(
            &target,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        bind_to_fd(&src, fd.as_fd(), true, false).unwrap();
        let _guard = Mounted(vec![target.clone()]);
        assert_eq!(fs::read_to_string(target.join("f")).unwrap(), "hello");
        let err = fs::write(target.join("f"), "x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
    }

    #[test]
    fn kernel_version_compares() {
        assert!(!kernel_before(3, 0));
        assert!(kernel_before(999, 0));
    }

    #[test]
    fn mountpoint_detection() {
        assert!(is_mountpoint(Path::new("/")));
        assert!(is_mountpoint(Path::new("/proc")));
        assert!(!is_mountpoint(Path::new("/proc/self")));
        assert!(!is_mountpoint(Path::new("/nonexistent-cc-path")));
    }
}
