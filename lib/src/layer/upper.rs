//! An overlay upper dir read back as changes: the list `cc-diff` prints and
//! the layer tar `cc-commit` writes. Only the upper dir is walked, so the
//! cost grows with the changes, not with the image.
//!
//! overlayfs's on-disk format (Documentation/filesystems/overlayfs.rst):
//! a 0/0 character device is a whiteout (the lower entry is deleted), a
//! folder with `trusted.overlay.opaque=y` hides everything below it in the
//! lowers (`user.overlay.opaque` in a user's store; fuse-overlayfs's
//! `user.fuseoverlayfs.opaque` and marker files in its uppers). Its other `trusted.overlay.*` xattrs (origin, impure, nlink)
//! describe this mount and never leave in a layer (`node::read_xattrs`
//! drops them). Metacopy files and redirected folders keep their data in a
//! lower layer: both are off unless asked for at mount time (module
//! parameters `metacopy`, `redirect_dir`), and are refused here rather than
//! written as empty files or half folders.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Stat, CWD};

use super::node;
use super::write::Writer;
use crate::error::{Error, Result};
use crate::tree::{open_dir, sorted_names, Cursor};

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

/// fuse-overlayfs marks an opaque folder it made with its own xattr (an
/// ordinary user may not set `trusted.` ones) and these two entries in it.
const FUSE_OPAQUE: &[u8] = b"user.fuseoverlayfs.opaque";
const FUSE_MARKERS: [&[u8]; 2] = [b".wh..wh..opq", b".wh..opq"];

fn is_opaque(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<bool> {
    for key in [node::opaque(), FUSE_OPAQUE] {
        if has_xattr(dir, name, key)?.as_deref() == Some(b"y") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An entry of fuse-overlayfs's own in an upper folder: not a change.
fn is_fuse_marker(name: &[u8]) -> bool {
    FUSE_MARKERS.contains(&name)
}

/// The changes in `upper` against `lowers` (the image's unpacked layers,
/// top first), handed to `each` as they are found, in tree order: a
/// folder before what it holds, the names of one folder sorted byte-wise
/// (docker's order: `filepath.Walk` with each parent listed before its
/// first change). Nothing is gathered, so memory grows with the depth and
/// the widest folder, not with the list. The rules are docker's and podman's
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
pub fn each_change(
    upper: &Path,
    lowers: &[PathBuf],
    each: &mut dyn FnMut(Change) -> Result<()>,
) -> Result<()> {
    let mut roots =
        vec![open_dir(CWD, upper.as_os_str()).map_err(|e| Error::io("open", upper, e))?];
    for l in lowers {
        roots.push(open_dir(CWD, l.as_os_str()).map_err(|e| Error::io("open", l, e))?);
    }
    let mut d = Differ {
        each,
        upper,
        climbed: Vec::new(),
    };
    let top = Listed {
        listed: true,
        above: true,
    };
    let mut cur = Cursor::new(roots, top).map_err(|e| Error::io("read", upper, e))?;
    d.walk(&mut cur)
}

/// [`each_change`] gathered in a list (tests, and callers that need it
/// whole).
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    each_change(upper, lowers, &mut |c| {
        out.push(c);
        Ok(())
    })?;
    Ok(out)
}

struct Differ<'a> {
    each: &'a mut dyn FnMut(Change) -> Result<()>,
    upper: &'a Path,
    /// Scratch: the folders an `A` or `D` lists above it, deepest first.
    climbed: Vec<Vec<u8>>,
}

/// What is listed of a folder the walk is in: itself, and every folder
/// above it (so that listing a change stops climbing there).
#[derive(Clone, Copy)]
struct Listed {
    listed: bool,
    above: bool,
}

/// Where a name stands in the merged lowers.
enum Lower {
    Absent,
    /// Its stat, and for a folder the fds of it in each layer that adds
    /// to it, top first, with the layer's index among the walk's trees.
    Present(Stat, Vec<(usize, OwnedFd)>),
}

impl Differ<'_> {
    fn err(&self, op: &'static str, rel: &[u8], e: io::Error) -> Error {
        Error::io(op, crate::tree::shown(self.upper, rel), e)
    }

    /// Depth first over the upper folder, the lowers looked up beside it.
    fn walk(&mut self, cur: &mut Cursor<Listed>) -> Result<()> {
        while let Some(n) = cur
            .next_name()
            .map_err(|e| self.err("read", cur.path(), e))?
        {
            if is_fuse_marker(&n) {
                continue;
            }
            let name = OsStr::from_bytes(&n);
            let path = [cur.path(), b"/", &n].concat();
            let dir = cur.dir();
            let st = node::lstat(dir, name).map_err(|e| self.err("stat", &path, e))?;
            let is_dir = node::kind(&st) == FileType::Directory;
            if node::is_whiteout(&st) {
                self.add(cur, Kind::Deleted, &path)?;
                continue;
            }
            let opaque =
                is_dir && is_opaque(dir, name).map_err(|e| self.err("read xattrs of", &path, e))?;
            let (below, mark) = if opaque {
                (Vec::new(), self.add(cur, Kind::Deleted, &path)?)
            } else {
                let lowers = &cur.dirs()[1..];
                match lookup(lowers, name).map_err(|e| self.err("look up", &path, e))? {
                    Lower::Absent => (Vec::new(), self.add(cur, Kind::Added, &path)?),
                    Lower::Present(lst, fds) if !(is_dir && same_dir(&st, &lst)) => {
                        (fds, self.add(cur, Kind::Changed, &path)?)
                    }
                    Lower::Present(_, fds) => (fds, Listed::default_unlisted()),
                }
            };
            if is_dir {
                let sub = open_dir(cur.dir(), name).map_err(|e| self.err("open", &path, e))?;
                let mut dirs = vec![(0, sub)];
                dirs.extend(below);
                cur.descend(&n, dirs, mark)
                    .map_err(|e| self.err("read", &path, e))?;
            }
        }
        Ok(())
    }

    /// Lists a change at `path` (a child of the cursor's folder) and
    /// returns what is listed of it; an `A` or `D` also lists every
    /// unlisted folder above it as `C`, climbing only to the first folder
    /// whose own folders above are all listed.
    fn add(&mut self, cur: &mut Cursor<Listed>, kind: Kind, path: &[u8]) -> Result<Listed> {
        if kind != Kind::Changed {
            for depth in (1..=cur.depth()).rev() {
                let (p, mark) = cur.level(depth);
                if mark.above {
                    break;
                }
                let unlisted = !mark.listed;
                *mark = Listed {
                    listed: true,
                    above: true,
                };
                if unlisted {
                    self.climbed.push(p.to_vec());
                }
            }
            // Found deepest first; listed top down, before `path`.
            while let Some(p) = self.climbed.pop() {
                self.push(Kind::Changed, &p)?;
            }
        }
        self.push(kind, path)?;
        Ok(Listed {
            listed: true,
            above: kind != Kind::Changed,
        })
    }

    /// Hands a change on, but not the runtime's mount targets.
    fn push(&mut self, kind: Kind, path: &[u8]) -> Result<()> {
        let path = String::from_utf8_lossy(path).into_owned();
        if MOUNT_TARGETS.contains(&path.as_str()) {
            return Ok(());
        }
        (self.each)(Change { kind, path })
    }
}

impl Listed {
    fn default_unlisted() -> Listed {
        Listed {
            listed: false,
            above: false,
        }
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
fn lookup(lowers: &[(usize, BorrowedFd<'_>)], name: &OsStr) -> io::Result<Lower> {
    for (i, (_, l)) in lowers.iter().enumerate() {
        let st = match node::lstat(*l, name) {
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
        for (layer, l) in &lowers[i..] {
            match node::lstat(*l, name) {
                Ok(s) if node::kind(&s) == FileType::Directory => {
                    fds.push((*layer, open_dir(*l, name)?));
                    if is_opaque(*l, name)? {
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
/// `clamp`: no mtime later than these unix seconds.
pub fn write_upper(upper: &Path, out: impl Write, clamp: Option<u64>) -> Result<()> {
    let top = open_dir(CWD, upper.as_os_str()).map_err(|e| Error::io("open", upper, e))?;
    let mut w = Writer::new(out).clamp_mtime(clamp);
    let mut cur = Cursor::new(vec![top], ()).map_err(|e| Error::io("read", upper, e))?;
    walk_upper(&mut w, &mut cur, upper)?;
    w.finish()
        .map_err(|e| Error::io("finish layer tar of", upper, e))?;
    Ok(())
}

/// Depth first: a folder's entry, then its children in byte order.
fn walk_upper<W: Write>(w: &mut Writer<W>, cur: &mut Cursor<()>, upper: &Path) -> Result<()> {
    let read_err = |p: &[u8], e| Error::io("read", crate::tree::shown(upper, p), e);
    while let Some(n) = cur.next_name().map_err(|e| read_err(cur.path(), e))? {
        if is_fuse_marker(&n) {
            continue;
        }
        let file = OsStr::from_bytes(&n);
        let rel = [cur.path(), b"/", &n].concat();
        let name = &rel[1..];
        let path = crate::tree::shown(upper, &rel);
        let dir = cur.dir();
        let st = node::lstat(dir, file).map_err(|e| Error::io("stat", &path, e))?;
        let ft = node::kind(&st);
        if node::is_whiteout(&st) {
            w.add_whiteout(name)?;
            continue;
        }
        if is_placeholder(dir, file, name, &st)? {
            continue;
        }
        let xattr =
            |key| has_xattr(dir, file, key).map_err(|e| Error::io("read xattrs of", &path, e));
        if ft == FileType::RegularFile && xattr(METACOPY)?.is_some() {
            return Err(refused(&path, "a metacopy file (overlay metacopy=on)"));
        }
        if ft == FileType::Directory && xattr(REDIRECT)?.is_some() {
            return Err(refused(&path, "a renamed folder (overlay redirect_dir=on)"));
        }
        w.add(dir, file, name, &path)?;
        if ft == FileType::Directory {
            if is_opaque(dir, file).map_err(|e| Error::io("read xattrs of", &path, e))? {
                w.add_opaque(name)?;
            }
            let sub = open_dir(dir, file).map_err(|e| Error::io("open", &path, e))?;
            cur.descend(&n, vec![(0, sub)], ())
                .map_err(|e| Error::io("read", &path, e))?;
        }
    }
    Ok(())
}

fn refused(path: &Path, what: &str) -> Error {
    Error::Unsupported(format!(
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
            sorted_names(fd.as_fd()).is_ok_and(|n| n.is_empty())
        }
        _ => false,
    })
}
