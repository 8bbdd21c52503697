//! One entry of a tree, named by its folder's fd and its name in it: the
//! stat, xattrs and metadata helpers that applying and writing share. A
//! name is one component, so nothing here follows a link it did not mean to.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use rustix::fs::{AtFlags, FileType, Gid, Mode, Stat, Timespec, Timestamps, Uid, XattrFlags};

/// Both the size of a list of xattr names and of one value are capped at
/// 64 KiB by the kernel (XATTR_LIST_MAX, XATTR_SIZE_MAX, xattr(7)).
pub(super) const XATTR_MAX: usize = 64 * 1024;

/// The xattr overlayfs keeps whiteouts' opaque flag in.
pub(super) const OPAQUE: &[u8] = b"trusted.overlay.opaque";

/// The owner, permissions, time and xattrs of one entry.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Meta {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits with setuid, setgid and sticky (`0o7777`).
    pub mode: u32,
    pub mtime: Timespec,
    /// Sorted by name; never `trusted.overlay.*` (see `foreign_xattr`).
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// overlayfs's own xattrs describe the layer they were written in: one that
/// arrives in a tar (or would leave in one) could forge whiteouts, opaque
/// dirs or redirects, so it is never copied.
pub(super) fn foreign_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

/// `/proc/self/fd/N/name`: xattr calls have no *at(2) form before Linux 6.13,
/// and this path walks through the folder fd we already hold.
pub(super) fn proc_path(dir: BorrowedFd<'_>, name: &OsStr) -> PathBuf {
    let mut p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    p.push(name);
    p
}

pub(super) fn lstat(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Stat> {
    Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?)
}

pub(super) fn kind(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode as _)
}

/// An overlay whiteout: a character device 0/0 (overlayfs docs, "whiteouts
/// and opaque directories").
pub(super) fn is_whiteout(st: &Stat) -> bool {
    kind(st) == FileType::CharacterDevice && st.st_rdev == 0
}

pub(super) fn mtime(st: &Stat) -> Timespec {
    Timespec {
        tv_sec: st.st_mtime as _,
        tv_nsec: st.st_mtime_nsec as _,
    }
}

impl Meta {
    /// The metadata of an entry on disk; `buf` is scratch for xattrs.
    pub(super) fn of(
        dir: BorrowedFd<'_>,
        name: &OsStr,
        st: &Stat,
        buf: &mut [u8],
    ) -> io::Result<Meta> {
        Ok(Meta {
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode & 0o7777,
            mtime: mtime(st),
            xattrs: read_xattrs(dir, name, buf)?,
        })
    }
}

/// The xattrs of an entry (not following a symlink), sorted by name, without
/// overlayfs's own.
pub(super) fn read_xattrs(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    buf: &mut [u8],
) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let path = proc_path(dir, name);
    let len = match rustix::fs::llistxattr(&path, &mut *buf) {
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP) => 0,
        Err(e) => return Err(e.into()),
    };
    let names: Vec<Vec<u8>> = buf[..len]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty() && !foreign_xattr(n))
        .map(<[u8]>::to_vec)
        .collect();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        match rustix::fs::lgetxattr(&path, n.as_slice(), &mut *buf) {
            Ok(len) => out.push((n, buf[..len].to_vec())),
            // removed since the list was read
            Err(rustix::io::Errno::NODATA) => {}
            Err(e) => return Err(e.into()),
        }
    }
    out.sort();
    Ok(out)
}

pub(super) fn set_xattr(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    key: &[u8],
    value: &[u8],
) -> io::Result<()> {
    let path = proc_path(dir, name);
    Ok(rustix::fs::lsetxattr(
        &path,
        key,
        value,
        XattrFlags::empty(),
    )?)
}

/// Sets owner, then mode (chown clears setuid/setgid), then xattrs (chown
/// and writes clear `security.capability`), then mtime unless `skip_time`
/// (folders get theirs once everything is inside them). A symlink has no
/// mode of its own.
pub(super) fn set_meta(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    m: &Meta,
    kind: FileType,
    skip_time: bool,
) -> Result<(), (&'static str, io::Error)> {
    let (uid, gid) = (Uid::from_raw(m.uid), Gid::from_raw(m.gid));
    rustix::fs::chownat(dir, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| ("change owner of", e.into()))?;
    if kind != FileType::Symlink {
        // `name` was just created or checked by the caller and is no symlink:
        // fchmodat(2) has no working AT_SYMLINK_NOFOLLOW.
        rustix::fs::chmodat(dir, name, Mode::from_raw_mode(m.mode), AtFlags::empty())
            .map_err(|e| ("change mode of", e.into()))?;
    }
    for (k, v) in &m.xattrs {
        set_xattr(dir, name, k, v).map_err(|e| ("set xattrs of", e))?;
    }
    if !skip_time {
        set_mtime(dir, name, m.mtime).map_err(|e| ("set times of", e))?;
    }
    Ok(())
}

pub(super) fn set_mtime(dir: BorrowedFd<'_>, name: &OsStr, t: Timespec) -> io::Result<()> {
    let times = Timestamps {
        last_access: t,
        last_modification: t,
    };
    Ok(rustix::fs::utimensat(
        dir,
        name,
        &times,
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

/// `rm -r` of `name` in `dir`, never following a symlink out of it.
pub(super) fn remove_all(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    use rustix::fs::OFlags;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    // Collect first: removing while reading may skip entries.
    let mut names = Vec::new();
    for e in rustix::fs::Dir::read_from(&fd)? {
        let n = e?.file_name().to_bytes().to_vec();
        if n != b"." && n != b".." {
            names.push(n);
        }
    }
    for n in names {
        let n = OsStr::from_bytes(&n);
        match rustix::fs::unlinkat(&fd, n, AtFlags::empty()) {
            Err(rustix::io::Errno::ISDIR) => remove_all(std::os::fd::AsFd::as_fd(&fd), n)?,
            r => r?,
        }
    }
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
}

/// Removes whatever is at `name` in `dir`, a folder with its contents.
pub(super) fn remove(dir: BorrowedFd<'_>, name: &OsStr, st: &Stat) -> io::Result<()> {
    if kind(st) == FileType::Directory {
        remove_all(dir, name)
    } else {
        Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
    }
}

/// linkat(2) from an fd (O_PATH, or an O_TMPFILE file): AT_EMPTY_PATH
/// needs CAP_DAC_READ_SEARCH, `/proc/self/fd/N` with AT_SYMLINK_FOLLOW does
/// not.
pub(super) fn link(src: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match rustix::fs::linkat(src, "", dir, name, AtFlags::EMPTY_PATH) {
        Err(rustix::io::Errno::PERM) | Err(rustix::io::Errno::NOENT) => {
            let proc = format!("/proc/self/fd/{}", src.as_raw_fd());
            Ok(rustix::fs::linkat(
                rustix::fs::CWD,
                proc.as_str(),
                dir,
                name,
                AtFlags::SYMLINK_FOLLOW,
            )?)
        }
        r => Ok(r?),
    }
}
