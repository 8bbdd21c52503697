//! Applying a layer tar into the folder that becomes its overlay lower dir.
//!
//! Rules (image-spec layer.md "Applying Changesets", "Whiteouts"):
//! - Entry names are cleaned like Docker does (`./a//b` -> `a/b`, `/a` ->
//!   `a`, `a/../b` -> `b`); a name whose `..` climbs above the layer is
//!   refused. Then every lookup goes through `Root` (RESOLVE_IN_ROOT), so a
//!   symlink planted by an earlier entry cannot lead out either.
//! - An existing folder is kept and gets the entry's metadata; anything else
//!   in the way is removed first (a folder with its contents).
//! - "Whiteout files MUST only apply to resources in lower/parent layers":
//!   `.wh.x` becomes an overlay whiteout `x` only if this layer has no `x`;
//!   if it has a folder `x`, that folder turns opaque (lower `x` gone, this
//!   layer's content kept). `.wh..wh..opq` only marks its folder opaque,
//!   wherever it comes in the tar. A folder replacing a whiteout is opaque.
//! - A folder this layer needs but has no entry for is created with the
//!   owner, mode, xattrs and mtime of the same folder in the first lower
//!   that has it (image-spec 1204), or root 0755.
//!
//! Regular files are written by worker threads while this one reads on
//! (`pool`, which explains how the order of the tar is kept); everything
//! else is done here, in the order of the tar.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, Timespec};

use super::node::{self, Meta};
use super::pool::{self, Job, Pool, WriteError};
use super::{WH, WH_OPAQUE};
use crate::error::{Error, Result};
use crate::inroot::Root;

/// What a layer held: `entries` counts every tar entry but PAX global
/// headers, whiteouts included; `bytes` the content of regular files.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub entries: u64,
    pub bytes: u64,
}

/// Applies an uncompressed layer tar stream into `dest`, an existing empty
/// folder that becomes this layer's overlay lower dir. Reads `tar` to its
/// very end, past the end-of-archive marker, because the caller hashes the
/// whole stream for the diff id. `lowers` are the unpacked layers beneath,
/// top first: hardlinks to a file this layer does not have copy it up from
/// there, and folders this layer implies take their metadata from there.
/// On error, `dest` is left half-written: the caller deletes it.
pub fn apply(tar: impl Read, dest: &Path, lowers: &[PathBuf]) -> Result<Applied> {
    apply_with(tar, dest, lowers, pool::workers())
}

/// `apply` with `workers` threads writing files (0: all on this one).
pub(super) fn apply_with(
    tar: impl Read,
    dest: &Path,
    lowers: &[PathBuf],
    workers: usize,
) -> Result<Applied> {
    let mut a = Applier {
        root: Root::open(dest)?,
        lowers: lowers
            .iter()
            .map(|p| Root::open(p))
            .collect::<Result<_>>()?,
        dirs: Vec::new(),
        done: Applied::default(),
        buf: vec![0; node::XATTR_MAX],
        pool: Pool::new(workers),
    };
    let read = a.read(tar);
    // A worker's error comes from an entry before any the reader failed on.
    a.pool.finish()?;
    read?;
    a.set_dir_times()?;
    Ok(a.done)
}

struct Applier {
    root: Root,
    lowers: Vec<Root>,
    /// Folders and their mtimes, set last: adding to a folder changes it.
    dirs: Vec<(PathBuf, Timespec)>,
    done: Applied,
    /// Scratch for xattr lists and values.
    buf: Vec<u8>,
    /// The threads that write regular files.
    pool: Pool,
}

/// What a `.wh.` name asks for.
enum Whiteout {
    Opaque(PathBuf),
    Remove(PathBuf),
    /// Other `.wh..wh.` names are AUFS bookkeeping (`.wh..wh.plnk`).
    Ignore,
}

fn invalid(shown: &str, why: impl std::fmt::Display) -> Error {
    Error::Damaged(format!("layer entry '{shown}': {why}"))
}

impl Applier {
    fn read(&mut self, tar: impl Read) -> Result<()> {
        let mut archive = tar::Archive::new(tar);
        for entry in archive.entries().map_err(|e| self.bad(e))? {
            self.entry(&mut entry.map_err(|e| self.bad(e))?)?;
        }
        // The second zero block and any padding: the digest covers all of it.
        io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| self.bad(e))?;
        Ok(())
    }

    /// The tar stream failed.
    fn bad(&self, e: io::Error) -> Error {
        Error::io("read layer tar for", self.root.path(), e)
    }

    fn entry<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<()> {
        let kind = e.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let raw = e.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let rel = clean(&raw).ok_or_else(|| invalid(&shown, "path leaves the layer"))?;
        self.done.entries += 1;
        match whiteout(&rel, &shown)? {
            Some(Whiteout::Opaque(dir)) => return self.opaque(&dir),
            Some(Whiteout::Remove(path)) => return self.whiteout(&path),
            Some(Whiteout::Ignore) => return Ok(()),
            None => {}
        }
        let meta = read_meta(e, &shown)?;
        let is_dir = kind.is_dir() || (kind.is_file() && raw.ends_with(b"/"));
        if rel.as_os_str().is_empty() {
            if !is_dir {
                return Err(invalid(&shown, "the layer root is not a directory"));
            }
            return self.put_dir(&rel, &meta);
        }
        if is_dir {
            return self.put_dir(&rel, &meta);
        }
        if kind.is_hard_link() {
            let target = e.link_name_bytes().unwrap_or_default().into_owned();
            return self.hardlink(&rel, &target, &shown);
        }
        self.put_node(e, &rel, &meta, &shown)
    }

    /// The folder fd and name of `rel`; `""` is the root itself (`.`).
    fn at(&self, rel: &Path) -> Result<(OwnedFd, OsString)> {
        if rel.as_os_str().is_empty() {
            let fd = self.root.fd().try_clone_to_owned();
            let fd = fd.map_err(|e| Error::io("open", self.root.path(), e))?;
            return Ok((fd, ".".into()));
        }
        node::parent_deep(&self.root, rel)
    }

    /// Like `at`, creating missing folders on the way (see `implied_dir`),
    /// once no file is pending there (a pending file has no name yet, so a
    /// path through it fails like a path through nothing).
    fn parent(&mut self, rel: &Path) -> Result<(OwnedFd, OsString)> {
        let (dir, name) = self.parent_dir(rel)?;
        self.pool
            .wait_for(dir.as_fd(), &name, || self.root.show(rel))?;
        Ok((dir, name))
    }

    /// `parent` without the wait for `rel` itself.
    fn parent_dir(&mut self, rel: &Path) -> Result<(OwnedFd, OsString)> {
        match self.at(rel) {
            // ENOTDIR: a whiteout in the way, replaced below.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {}
            r => return r,
        }
        let mut prefix = PathBuf::new();
        for c in rel.parent().unwrap_or(Path::new("")).components() {
            prefix.push(c);
            let (dir, name) = self.at(&prefix)?;
            self.pool
                .wait_for(dir.as_fd(), &name, || self.root.show(&prefix))?;
            match node::lstat(dir.as_fd(), &name) {
                Ok(st) if node::is_whiteout(&st) => {
                    node::remove(dir.as_fd(), &name, &st)
                        .map_err(|e| self.err("remove", &prefix, e))?;
                    self.implied_dir(&dir, &name, &prefix, true)?;
                }
                // A symlink, perhaps to nothing yet: created inside the root.
                Ok(st) if node::kind(&st) == FileType::Symlink => {
                    // It may lead to a name a file is pending at.
                    self.pool.drain()?;
                    drop(self.root.mkdir_all(&prefix, 0o755)?);
                }
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    self.implied_dir(&dir, &name, &prefix, false)?
                }
                Err(e) => return Err(self.err("stat", &prefix, e)),
            }
        }
        self.at(rel)
    }

    /// Creates a folder the tar has no entry for, like the first lower's.
    fn implied_dir(&mut self, dir: &OwnedFd, name: &OsStr, rel: &Path, opaque: bool) -> Result<()> {
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755))
            .map_err(|e| self.err("create", rel, e.into()))?;
        if let Some(meta) = self.lower_meta(rel, FileType::Directory)? {
            node::set_meta(dir.as_fd(), name, &meta, FileType::Directory, true)
                .map_err(|(op, e)| self.err(op, rel, e))?;
            self.dirs.push((rel.to_path_buf(), meta.mtime));
        }
        if opaque {
            self.set_opaque(dir, name, rel)?;
        }
        Ok(())
    }

    /// The metadata of `rel` in the first lower that has it, if it is a
    /// `want`.
    fn lower_meta(&mut self, rel: &Path, want: FileType) -> Result<Option<Meta>> {
        for lower in &self.lowers {
            let Ok((dir, name)) = node::parent_deep(lower, rel) else {
                continue;
            };
            let Ok(st) = node::lstat(dir.as_fd(), &name) else {
                continue;
            };
            if node::kind(&st) != want {
                return Ok(None);
            }
            let meta = Meta::of(dir.as_fd(), &name, &st, &mut self.buf)
                .map_err(|e| Error::io("read xattrs of", lower.show(rel), e))?;
            return Ok(Some(meta));
        }
        Ok(None)
    }

    fn err(&self, op: &'static str, rel: &Path, e: io::Error) -> Error {
        Error::io(op, self.root.show(rel), e)
    }

    fn set_opaque(&self, dir: &OwnedFd, name: &OsStr, rel: &Path) -> Result<()> {
        node::set_xattr(dir.as_fd(), name, node::opaque(), b"y")
            .map_err(|e| self.err("mark opaque", rel, e))
    }

    /// A folder entry: an existing folder is kept, anything else replaced.
    fn put_dir(&mut self, rel: &Path, meta: &Meta) -> Result<()> {
        let (dir, name) = self.parent(rel)?;
        let mut opaque = false;
        match node::lstat(dir.as_fd(), &name) {
            Ok(st) if node::kind(&st) == FileType::Directory => {}
            found => {
                if let Ok(st) = found {
                    opaque = node::is_whiteout(&st);
                    node::remove(dir.as_fd(), &name, &st)
                        .map_err(|e| self.err("remove", rel, e))?;
                }
                rustix::fs::mkdirat(&dir, &name, Mode::from_raw_mode(0o700))
                    .map_err(|e| self.err("create", rel, e.into()))?;
            }
        }
        node::set_meta(dir.as_fd(), &name, meta, FileType::Directory, true)
            .map_err(|(op, e)| self.err(op, rel, e))?;
        if opaque {
            self.set_opaque(&dir, &name, rel)?;
        }
        self.dirs.push((rel.to_path_buf(), meta.mtime));
        Ok(())
    }

    /// Removes whatever this layer has at `name`, so a new entry can take it.
    fn clear(&self, dir: &OwnedFd, name: &OsStr, rel: &Path) -> Result<()> {
        match node::lstat(dir.as_fd(), name) {
            Ok(st) => {
                if node::kind(&st) == FileType::Directory {
                    // files may be pending inside
                    self.pool.drain()?;
                }
                node::remove(dir.as_fd(), name, &st).map_err(|e| self.err("remove", rel, e))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(e) => Err(self.err("stat", rel, e)),
        }
    }

    /// A file, symlink, device or fifo entry.
    fn put_node<R: Read>(
        &mut self,
        e: &mut tar::Entry<'_, R>,
        rel: &Path,
        meta: &Meta,
        shown: &str,
    ) -> Result<()> {
        let (dir, name) = self.parent(rel)?;
        self.clear(&dir, &name, rel)?;
        let h = e.header();
        let kind = h.entry_type();
        if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
            return self.put_file(e, dir, name, rel, meta);
        }
        let dev = |h: &tar::Header| -> Result<u64> {
            let raw = (h.as_ustar().map(|u| (u.dev_major, u.dev_minor)))
                .or(h.as_gnu().map(|g| (g.dev_major, g.dev_minor)))
                .unwrap_or_default();
            let major = lenient(h.device_major(), &raw.0).map_err(|e| invalid(shown, e))?;
            let minor = lenient(h.device_minor(), &raw.1).map_err(|e| invalid(shown, e))?;
            Ok(rustix::fs::makedev(major.unwrap_or(0), minor.unwrap_or(0)))
        };
        let mode = Mode::from_raw_mode(0o600);
        let ft = if kind.is_symlink() {
            let target = e.link_name_bytes().unwrap_or_default().into_owned();
            rustix::fs::symlinkat(target.as_slice(), &dir, &name)
                .map_err(|e| self.err("create symlink", rel, e.into()))?;
            FileType::Symlink
        } else {
            let ft = match kind {
                tar::EntryType::Char => FileType::CharacterDevice,
                tar::EntryType::Block => FileType::BlockDevice,
                tar::EntryType::Fifo => FileType::Fifo,
                other => {
                    return Err(invalid(
                        shown,
                        format!("unsupported entry type {:?}", other),
                    ))
                }
            };
            rustix::fs::mknodat(&dir, &name, ft, mode, dev(h)?)
                .map_err(|e| self.err("create", rel, e.into()))?;
            ft
        };
        node::set_meta(dir.as_fd(), &name, meta, ft, false).map_err(|(op, e)| self.err(op, rel, e))
    }

    /// A regular file: handed to a worker, or, if big, written here.
    fn put_file<R: Read>(
        &mut self,
        e: &mut tar::Entry<'_, R>,
        dir: OwnedFd,
        name: OsString,
        rel: &Path,
        meta: &Meta,
    ) -> Result<()> {
        let size = e.size();
        if self.pool.parallel() && size <= pool::INLINE {
            let mut data = Vec::with_capacity(size as usize);
            e.read_to_end(&mut data).map_err(|e| self.bad(e))?;
            self.done.bytes += data.len() as u64;
            let shown = self.root.show(rel);
            let meta = meta.clone();
            return self.pool.submit(Job {
                dir,
                name,
                meta,
                data,
                shown,
            });
        }
        match pool::write_file(self.pool.tmpfile(), dir.as_fd(), &name, meta, e) {
            Ok(n) => {
                self.done.bytes += n;
                Ok(())
            }
            Err(WriteError::Read(e)) => Err(self.bad(e)),
            Err(WriteError::Op(op, e)) => Err(self.err(op, rel, e)),
        }
    }

    /// A hardlink: its target must be in the layer (resolved in the root),
    /// or in a lower, from where it is copied up first.
    fn hardlink(&mut self, rel: &Path, target: &[u8], shown: &str) -> Result<()> {
        let target = clean(target)
            .filter(|t| !t.as_os_str().is_empty())
            .ok_or_else(|| invalid(shown, "link target leaves the layer"))?;
        // The target may be a file still being written, by any name.
        self.pool.drain()?;
        let flags = OFlags::PATH | OFlags::NOFOLLOW;
        let src = match node::open_deep(&self.root, &target, flags) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                self.copy_up(&target, shown)?;
                node::open_deep(&self.root, &target, flags)?
            }
            r => r?,
        };
        let (dir, name) = self.parent(rel)?;
        let same = |st: &rustix::fs::Stat| {
            rustix::fs::fstat(&src).is_ok_and(|s| (s.st_dev, s.st_ino) == (st.st_dev, st.st_ino))
        };
        if node::lstat(dir.as_fd(), &name).is_ok_and(|st| same(&st)) {
            return Ok(());
        }
        self.clear(&dir, &name, rel)?;
        node::link(src.as_fd(), dir.as_fd(), &name).map_err(|e| self.err("link", rel, e))
    }

    /// Copies `rel` from the first lower that has it into this layer, with
    /// its metadata, so a hardlink can point at it.
    fn copy_up(&mut self, rel: &Path, shown: &str) -> Result<()> {
        let not_found = || invalid(shown, format!("link target '{}' not found", rel.display()));
        let Some(i) = self
            .lowers
            .iter()
            .position(|l| node::open_deep(l, rel, OFlags::PATH | OFlags::NOFOLLOW).is_ok())
        else {
            return Err(not_found());
        };
        let lower = &self.lowers[i];
        let (ldir, lname) = node::parent_deep(lower, rel)?;
        let lerr = |op, e: io::Error| Error::io(op, lower.show(rel), e);
        let st = node::lstat(ldir.as_fd(), &lname).map_err(|e| lerr("stat", e))?;
        let meta = Meta::of(ldir.as_fd(), &lname, &st, &mut self.buf)
            .map_err(|e| lerr("read xattrs of", e))?;
        let ft = node::kind(&st);
        if node::is_whiteout(&st) || ft == FileType::Directory {
            return Err(not_found());
        }
        let (src, link_target) = match ft {
            FileType::RegularFile => {
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(&ldir, &lname, flags, Mode::empty())
                    .map_err(|e| lerr("open", e.into()))?;
                (Some(std::fs::File::from(fd)), None)
            }
            FileType::Symlink => {
                let t = rustix::fs::readlinkat(&ldir, &lname, Vec::new())
                    .map_err(|e| lerr("read link", e.into()))?;
                (None, Some(t))
            }
            _ => (None, None),
        };
        let (dir, name) = self.parent(rel)?;
        let mode = Mode::from_raw_mode(0o600);
        if let Some(mut src) = src {
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(&dir, &name, flags, mode)
                .map_err(|e| self.err("create", rel, e.into()))?;
            io::copy(&mut src, &mut std::fs::File::from(fd))
                .map_err(|e| self.err("write", rel, e))?;
        } else if let Some(t) = link_target {
            rustix::fs::symlinkat(t.as_c_str(), &dir, &name)
                .map_err(|e| self.err("create symlink", rel, e.into()))?;
        } else {
            rustix::fs::mknodat(&dir, &name, ft, mode, st.st_rdev)
                .map_err(|e| self.err("create", rel, e.into()))?;
        }
        node::set_meta(dir.as_fd(), &name, &meta, ft, false).map_err(|(op, e)| self.err(op, rel, e))
    }

    /// `.wh.NAME`: hide the lower `NAME` (see the module comment).
    fn whiteout(&mut self, rel: &Path) -> Result<()> {
        let (dir, name) = self.parent(rel)?;
        match node::lstat(dir.as_fd(), &name) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                rustix::fs::mknodat(&dir, &name, FileType::CharacterDevice, Mode::empty(), 0)
                    .map_err(|e| self.err("create whiteout", rel, e.into()))
            }
            Err(e) => Err(self.err("stat", rel, e)),
            Ok(st) if node::kind(&st) == FileType::Directory => self.set_opaque(&dir, &name, rel),
            Ok(_) => Ok(()),
        }
    }

    /// `DIR/.wh..wh..opq`: DIR hides everything below it in lower layers.
    /// DIR is looked up like any path, symlinks included (inside the root).
    fn opaque(&mut self, rel: &Path) -> Result<()> {
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        match node::open_deep(&self.root, rel, flags) {
            Ok(fd) => return self.set_opaque(&fd, OsStr::new("."), rel),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {}
            Err(e) => return Err(e),
        }
        let (dir, name) = self.parent(rel)?;
        match node::lstat(dir.as_fd(), &name) {
            Ok(st) if node::is_whiteout(&st) => {
                node::remove(dir.as_fd(), &name, &st).map_err(|e| self.err("remove", rel, e))?;
                self.implied_dir(&dir, &name, rel, false)?;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                self.implied_dir(&dir, &name, rel, false)?
            }
            Err(e) => return Err(self.err("stat", rel, e)),
            // a file, or a symlink to nothing
            Ok(_) => {
                return Err(self.err(
                    "mark opaque",
                    rel,
                    io::Error::from_raw_os_error(libc::ENOTDIR),
                ))
            }
        }
        self.set_opaque(&dir, &name, rel)
    }

    /// Folder mtimes, last, for the folders still there.
    fn set_dir_times(&self) -> Result<()> {
        for (rel, t) in &self.dirs {
            let Ok((dir, name)) = self.at(rel) else {
                continue;
            };
            match node::lstat(dir.as_fd(), &name) {
                Ok(st) if node::kind(&st) == FileType::Directory => {
                    node::set_mtime(dir.as_fd(), &name, *t)
                        .map_err(|e| self.err("set times of", rel, e))?
                }
                _ => continue,
            }
        }
        Ok(())
    }
}

/// The owner, mode, mtime and xattrs a tar entry asks for.
fn read_meta<R: Read>(e: &mut tar::Entry<'_, R>, shown: &str) -> Result<Meta> {
    let h = e.header();
    let bad = |e: io::Error| invalid(shown, e);
    let id = |v: u64| u32::try_from(v).ok().filter(|v| *v != u32::MAX);
    let old = h.as_old();
    let (uid, gid) = (lenient(h.uid(), &old.uid), lenient(h.gid(), &old.gid));
    let uid = id(uid.map_err(bad)?).ok_or_else(|| invalid(shown, "uid out of range"))?;
    let gid = id(gid.map_err(bad)?).ok_or_else(|| invalid(shown, "gid out of range"))?;
    let mode = lenient(h.mode(), &old.mode).map_err(bad)? & 0o7777;
    let secs = lenient(h.mtime(), &old.mtime).map_err(bad)?;
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let mut meta = Meta {
        uid,
        gid,
        mode,
        mtime: Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
        xattrs: Vec::new(),
    };
    if let Some(pax) = e.pax_extensions().map_err(bad)? {
        for ext in pax {
            let ext = ext.map_err(bad)?;
            let key = ext.key_bytes();
            if key == b"mtime" {
                meta.mtime =
                    pax_time(ext.value_bytes()).ok_or_else(|| invalid(shown, "bad pax mtime"))?;
            } else if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                if !node::foreign_xattr(name) {
                    meta.xattrs
                        .push((name.to_vec(), ext.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(meta)
}

/// A numeric header field; an empty one (all NULs or spaces) reads as 0,
/// as GNU tar and Go read it.
fn lenient<T: Default>(v: io::Result<T>, raw: &[u8]) -> io::Result<T> {
    match v {
        Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Ok(T::default()),
        v => v,
    }
}

/// A PAX time: `[-]SECONDS[.FRACTION]` (POSIX pax, "pax Extended Header").
fn pax_time(v: &[u8]) -> Option<Timespec> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = format!("{digits:0<9}").parse().ok()?;
    Some(match (neg, nanos) {
        (false, n) => Timespec {
            tv_sec: secs,
            tv_nsec: n,
        },
        (true, 0) => Timespec {
            tv_sec: -secs,
            tv_nsec: 0,
        },
        (true, n) => Timespec {
            tv_sec: -secs - 1,
            tv_nsec: 1_000_000_000 - n,
        },
    })
}

/// An entry name made relative and clean (`./a//b/` -> `a/b`, `/a` -> `a`,
/// `a/../b` -> `b`); None when a `..` climbs above the root. `""` is the
/// root itself.
pub(super) fn clean(raw: &[u8]) -> Option<PathBuf> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(PathBuf::from(OsStr::from_bytes(&parts.join(&b'/'))))
}

/// Reads a whiteout out of a clean name. `.wh.` may only start the last
/// component, and must name an entry (`.wh.`, `.wh..`, `.wh...` do not).
fn whiteout(rel: &Path, shown: &str) -> Result<Option<Whiteout>> {
    let bytes = rel.as_os_str().as_bytes();
    let mut parts: Vec<&[u8]> = bytes.split(|b| *b == b'/').collect();
    let last = parts.pop().unwrap_or_default();
    if parts.iter().any(|p| p.starts_with(WH)) {
        return Err(invalid(shown, "whiteout prefix in a folder name"));
    }
    if !last.starts_with(WH) {
        return Ok(None);
    }
    let dir = PathBuf::from(OsStr::from_bytes(&parts.join(&b'/')));
    if last == WH_OPAQUE {
        return Ok(Some(Whiteout::Opaque(dir)));
    }
    let name = &last[WH.len()..];
    if name.starts_with(WH) {
        return Ok(Some(Whiteout::Ignore));
    }
    if name.is_empty() || name == b"." || name == b".." {
        return Err(invalid(shown, "whiteout names no entry"));
    }
    Ok(Some(Whiteout::Remove(dir.join(OsStr::from_bytes(name)))))
}
