//! One entry of a tree, named by its folder's fd and its name in it: the
//! stat, xattrs and metadata helpers that applying and writing share. A
//! name is one component, so nothing here follows a link it did not mean to.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{
    AtFlags, FileType, Gid, Mode, OFlags, ResolveFlags, Stat, Timespec, Timestamps, Uid, XattrFlags,
};

use crate::error::{Error, Result};
use crate::inroot::Root;

/// Both the size of a list of xattr names and of one value are capped at
/// 64 KiB by the kernel (XATTR_LIST_MAX, XATTR_SIZE_MAX, xattr(7)).
pub(super) const XATTR_MAX: usize = 64 * 1024;

/// The xattr overlayfs keeps whiteouts' opaque flag in: `trusted.` for
/// root, `user.` in an ordinary user's namespace (which may not set
/// `trusted.` xattrs), where overlays are mounted with `userxattr`.
pub(super) fn opaque() -> &'static [u8] {
    match crate::rootless::active() {
        true => b"user.overlay.opaque",
        false => b"trusted.overlay.opaque",
    }
}

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
    name.starts_with(b"trusted.overlay.")
        || name.starts_with(b"user.overlay.")
        || name.starts_with(b"user.fuseoverlayfs.")
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

/// What a failed chown was: in an ordinary user's namespace EINVAL means
/// the owner is an id the namespace does not map (no, or too few,
/// subordinate ids).
pub(super) fn chown_op(e: rustix::io::Errno) -> &'static str {
    match e == rustix::io::Errno::INVAL && crate::rootless::active() {
        true => "give an owner this user's namespace does not map (see /etc/subuid) to",
        false => "change owner of",
    }
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
        .map_err(|e| (chown_op(e), e.into()))?;
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

/// The longest path one openat2 is given here: the kernel refuses paths of
/// PATH_MAX (4096) bytes or more (ENAMETOOLONG), and a container can make
/// a tree far deeper than that, which cc-commit then packs.
const PIECE: usize = 2048;

/// `root.open_at(rel, flags)` for a path of any length. A path shorter than
/// [`PIECE`] is resolved whole inside the root (RESOLVE_IN_ROOT); a longer
/// one a piece at a time, so fds stay bounded (one open at a time): the
/// first piece inside the root, each next one from the folder the last
/// reached, with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS. A symlink that
/// deep is refused (ELOOP) rather than resolved against the wrong root;
/// cc's own layers never lead through one (they list real folders).
pub(super) fn open_deep(root: &Root, rel: &Path, flags: OFlags) -> Result<OwnedFd> {
    if rel.as_os_str().len() < PIECE {
        return root.open_at(rel, flags, Mode::empty());
    }
    let pieces = pieces(rel);
    let dir = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut fd = root.open_at(&pieces[0], dir, Mode::empty())?;
    let resolve = ResolveFlags::BENEATH
        .union(ResolveFlags::NO_SYMLINKS)
        .union(ResolveFlags::NO_MAGICLINKS);
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        let f = if i + 1 == pieces.len() {
            flags | OFlags::CLOEXEC
        } else {
            dir
        };
        fd = rustix::fs::openat2(&fd, piece, f, Mode::empty(), resolve)
            .map_err(|e| Error::io("open", root.show(rel), e.into()))?;
    }
    Ok(fd)
}

/// `root.parent(rel, false)` for a path of any length (see [`open_deep`]).
pub(super) fn parent_deep(root: &Root, rel: &Path) -> Result<(OwnedFd, OsString)> {
    if rel.as_os_str().len() < PIECE {
        return root.parent(rel, false);
    }
    let name = match rel.components().next_back() {
        Some(Component::Normal(n)) => n.to_os_string(),
        _ => {
            return Err(Error::Spec(format!(
                "path '{}' has no final name",
                rel.display()
            )))
        }
    };
    let dir = rel.parent().unwrap_or(Path::new(""));
    Ok((
        open_deep(root, dir, OFlags::PATH | OFlags::DIRECTORY)?,
        name,
    ))
}

/// `rel` cut between components into paths shorter than [`PIECE`] bytes
/// (a name is at most 255).
fn pieces(rel: &Path) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::new()];
    for c in rel.components() {
        let last = out.last_mut().expect("never empty");
        if !last.as_os_str().is_empty() && last.as_os_str().len() + 1 + c.as_os_str().len() >= PIECE
        {
            out.push(PathBuf::new());
        }
        out.last_mut().expect("never empty").push(c);
    }
    out
}
