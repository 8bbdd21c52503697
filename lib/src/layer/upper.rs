//! An overlay upper dir read back as changes: the list `cc-diff` prints and
//! the layer tar `cc-commit` writes. Only the upper dir is walked, so the
//! cost grows with the changes, not with the image.
//!
//! overlayfs's on-disk format (Documentation/filesystems/overlayfs.rst):
//! a 0/0 character device is a whiteout (the lower entry is deleted), a
//! folder with `trusted.overlay.opaque=y` hides everything below it in the
//! lowers. Its other `trusted.overlay.*` xattrs (origin, impure, nlink)
//! describe this mount and never leave in a layer (`node::read_xattrs`
//! drops them). Metacopy files and redirected folders keep their data in a
//! lower layer: both are off unless asked for at mount time (module
//! parameters `metacopy`, `redirect_dir`), and are refused here rather than
//! written as empty files or half folders.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, Stat, CWD};

use super::node;
use super::write::Writer;
use crate::error::{Error, Result};

/// What happened to a path, as `docker diff` and `podman diff` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Added,
    Changed,
    Deleted,
}

impl Kind {
    pub fn letter(self) -> &'static str {
        match self {
            Kind::Added => "A",
            Kind::Changed => "C",
            Kind::Deleted => "D",
        }
    }
}

/// One change; `path` is absolute (`/etc/passwd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub path: String,
}

/// Paths the runtime makes as mount targets (podman's `initInodes` in
/// libpod/diff.go): not the container's own changes, so `changes` leaves
/// them out and `write_upper` leaves out their empty placeholders.
pub const MOUNT_TARGETS: &[&str] = &[
    "/dev",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/mtab",
    "/etc/resolv.conf",
    "/proc",
    "/run",
    "/run/.containerenv",
    "/run/notify",
    "/run/secrets",
    "/sys",
];

const METACOPY: &[u8] = b"trusted.overlay.metacopy";
const REDIRECT: &[u8] = b"trusted.overlay.redirect";

fn open_dir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

/// The names in a folder, sorted byte-wise, without `.` and `..`.
fn sorted_names(dir: &OwnedFd) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for e in rustix::fs::Dir::read_from(dir)? {
        let n = e?.file_name().to_bytes().to_vec();
        if n != b"." && n != b".." {
            names.push(n);
        }
    }
    names.sort();
    Ok(names)
}

fn has_xattr(dir: BorrowedFd<'_>, name: &OsStr, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; 256];
    match rustix::fs::lgetxattr(node::proc_path(dir, name), key, &mut buf[..]) {
        Ok(n) => Ok(Some(buf[..n].to_vec())),
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => Ok(None),
        // A longer value than our buffer still says the xattr is there.
        Err(rustix::io::Errno::RANGE) => Ok(Some(Vec::new())),
        Err(e) => Err(e.into()),
    }
}

fn is_opaque(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<bool> {
    Ok(has_xattr(dir, name, node::OPAQUE)?.as_deref() == Some(b"y"))
}

/// The changes in `upper` against `lowers` (the image's unpacked layers,
/// top first), sorted by path. The rules are docker's and podman's
/// (`changes()` in containers/storage pkg/archive), so the lists agree:
/// - a whiteout is `D`; an opaque folder is `D` too (its old content is
///   gone), and what it holds now is `A`;
/// - anything else is `A` unless the lowers show the path, then `C`; a
///   folder whose mode, size and mtime are those of the lower one is not
///   listed for itself;
/// - every folder above an `A` or `D` is `C`.
///
/// The lowers are looked up as overlayfs merges them (whiteouts and opaque
/// folders of each layer honoured), only for the names the upper has.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let top = open_dir(CWD, upper.as_os_str()).map_err(|e| Error::io("open", upper, e))?;
    let mut low = Vec::new();
    for l in lowers {
        low.push(open_dir(CWD, l.as_os_str()).map_err(|e| Error::io("open", l, e))?);
    }
    let mut d = Differ {
        out: Vec::new(),
        listed: BTreeSet::new(),
        upper,
    };
    d.walk(&top, b"", &low)?;
    let mut out = d.out;
    out.retain(|c| !MOUNT_TARGETS.contains(&c.path.as_str()));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

struct Differ<'a> {
    out: Vec<Change>,
    /// Folders already listed, so a parent is listed once.
    listed: BTreeSet<Vec<u8>>,
    upper: &'a Path,
}

/// Where a name stands in the merged lowers.
enum Lower {
    Absent,
    /// Its stat, and for a folder the fds of it in each layer that adds
    /// to it, top first.
    Present(Stat, Vec<OwnedFd>),
}

impl Differ<'_> {
    fn err(&self, op: &'static str, rel: &[u8], e: io::Error) -> Error {
        Error::io(op, self.upper.join(OsStr::from_bytes(rel)), e)
    }

    fn walk(&mut self, dir: &OwnedFd, prefix: &[u8], lowers: &[OwnedFd]) -> Result<()> {
        let names = sorted_names(dir).map_err(|e| self.err("read", prefix, e))?;
        for n in names {
            let name = OsStr::from_bytes(&n);
            let path = [prefix, b"/", &n].concat();
            let st = node::lstat(dir.as_fd(), name).map_err(|e| self.err("stat", &path, e))?;
            let is_dir = node::kind(&st) == FileType::Directory;
            if node::is_whiteout(&st) {
                self.add(Kind::Deleted, &path);
                continue;
            }
            let opaque = is_dir
                && is_opaque(dir.as_fd(), name)
                    .map_err(|e| self.err("read xattrs of", &path, e))?;
            let below = if opaque {
                self.add(Kind::Deleted, &path);
                Vec::new()
            } else {
                match lookup(lowers, name).map_err(|e| self.err("look up", &path, e))? {
                    Lower::Absent => {
                        self.add(Kind::Added, &path);
                        Vec::new()
                    }
                    Lower::Present(lst, fds) => {
                        if !(is_dir && same_dir(&st, &lst)) {
                            self.add(Kind::Changed, &path);
                        }
                        fds
                    }
                }
            };
            if is_dir {
                let sub = open_dir(dir.as_fd(), name).map_err(|e| self.err("open", &path, e))?;
                self.walk(&sub, &path, &below)?;
            }
        }
        Ok(())
    }

    /// Lists a change; an `A` or `D` also lists every unlisted folder
    /// above it as `C`.
    fn add(&mut self, kind: Kind, path: &[u8]) {
        if kind != Kind::Changed {
            let mut end = path.len();
            while let Some(i) = path[..end].iter().rposition(|b| *b == b'/') {
                if i == 0 {
                    break;
                }
                let parent = path[..i].to_vec();
                if self.listed.insert(parent.clone()) {
                    self.push(Kind::Changed, &parent);
                }
                end = i;
            }
        }
        if self.listed.insert(path.to_vec()) {
            self.push(kind, path);
        }
    }

    fn push(&mut self, kind: Kind, path: &[u8]) {
        self.out.push(Change {
            kind,
            path: String::from_utf8_lossy(path).into_owned(),
        });
    }
}

/// docker's test for a folder that only holds changes: same mode, size
/// and mtime (`sameFsTime`: equal, or equal seconds when one side has no
/// nanoseconds).
fn same_dir(a: &Stat, b: &Stat) -> bool {
    let time = a.st_mtime == b.st_mtime
        && (a.st_mtime_nsec == b.st_mtime_nsec || a.st_mtime_nsec == 0 || b.st_mtime_nsec == 0);
    node::kind(b) == FileType::Directory && a.st_mode == b.st_mode && a.st_size == b.st_size && time
}

/// Looks `name` up in the folder fds of the merged lowers, top first, as
/// overlayfs does: the first layer that has it decides; a whiteout means
/// absent; a folder collects the layers below that add to it, down to an
/// opaque one.
fn lookup(lowers: &[OwnedFd], name: &OsStr) -> io::Result<Lower> {
    for (i, l) in lowers.iter().enumerate() {
        let st = match node::lstat(l.as_fd(), name) {
            Ok(st) => st,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(e),
        };
        if node::is_whiteout(&st) {
            return Ok(Lower::Absent);
        }
        if node::kind(&st) != FileType::Directory {
            return Ok(Lower::Present(st, Vec::new()));
        }
        let mut fds = Vec::new();
        for l in &lowers[i..] {
            match node::lstat(l.as_fd(), name) {
                Ok(s) if node::kind(&s) == FileType::Directory => {
                    fds.push(open_dir(l.as_fd(), name)?);
                    if is_opaque(l.as_fd(), name)? {
                        break;
                    }
                }
                // A file or whiteout below a folder ends the merge.
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => return Err(e),
            }
        }
        return Ok(Lower::Present(st, fds));
    }
    Ok(Lower::Absent)
}

/// Writes the upper dir `upper` as an uncompressed OCI layer tar: whiteouts
/// become `.wh.NAME`, an opaque folder its entry followed by
/// `DIR/.wh..wh..opq`, everything else as `Writer::add` writes it
/// (hardlinks kept, xattrs and file capabilities kept, devices and fifos,
/// names in byte order: the same changes give the same bytes). The empty
/// placeholders of [`MOUNT_TARGETS`] are left out.
pub fn write_upper(upper: &Path, out: impl Write) -> Result<()> {
    let top = open_dir(CWD, upper.as_os_str()).map_err(|e| Error::io("open", upper, e))?;
    let mut w = Writer::new(out);
    walk_upper(&mut w, &top, b"", upper)?;
    w.finish()
        .map_err(|e| Error::io("finish layer tar of", upper, e))?;
    Ok(())
}

fn walk_upper<W: Write>(
    w: &mut Writer<W>,
    dir: &OwnedFd,
    prefix: &[u8],
    shown: &Path,
) -> Result<()> {
    let names = sorted_names(dir).map_err(|e| Error::io("read", shown, e))?;
    for n in names {
        let file = OsStr::from_bytes(&n);
        let name = [prefix, &n].concat();
        let path = shown.join(file);
        let st = node::lstat(dir.as_fd(), file).map_err(|e| Error::io("stat", &path, e))?;
        let ft = node::kind(&st);
        if node::is_whiteout(&st) {
            w.add_whiteout(&name)?;
            continue;
        }
        if is_placeholder(dir.as_fd(), file, &name, &st)? {
            continue;
        }
        let xattr = |key| {
            has_xattr(dir.as_fd(), file, key).map_err(|e| Error::io("read xattrs of", &path, e))
        };
        if ft == FileType::RegularFile && xattr(METACOPY)?.is_some() {
            return Err(refused(&path, "a metacopy file (overlay metacopy=on)"));
        }
        if ft == FileType::Directory && xattr(REDIRECT)?.is_some() {
            return Err(refused(&path, "a renamed folder (overlay redirect_dir=on)"));
        }
        w.add(dir.as_fd(), file, &name, &path)?;
        if ft == FileType::Directory {
            if is_opaque(dir.as_fd(), file).map_err(|e| Error::io("read xattrs of", &path, e))? {
                w.add_opaque(&name)?;
            }
            let sub = open_dir(dir.as_fd(), file).map_err(|e| Error::io("open", &path, e))?;
            walk_upper(w, &sub, &[&name[..], b"/"].concat(), &path)?;
        }
    }
    Ok(())
}

fn refused(path: &Path, what: &str) -> Error {
    Error::Invalid(format!(
        "cannot write '{}' into a layer: {what} keeps its data in a lower layer",
        path.display()
    ))
}

/// An empty file or folder at one of the runtime's mount targets.
fn is_placeholder(dir: BorrowedFd<'_>, file: &OsStr, name: &[u8], st: &Stat) -> Result<bool> {
    let abs = [b"/", name].concat();
    if !MOUNT_TARGETS.iter().any(|t| t.as_bytes() == abs.as_slice()) {
        return Ok(false);
    }
    Ok(match node::kind(st) {
        FileType::RegularFile => st.st_size == 0,
        FileType::Directory => {
            let fd =
                open_dir(dir, file).map_err(|e| Error::io("open", OsStr::from_bytes(name), e))?;
            sorted_names(&fd).is_ok_and(|n| n.is_empty())
        }
        _ => false,
    })
}
