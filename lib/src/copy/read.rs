//! Where cc-cp's files come from: a tree walked by fds. Each entry is
//! opened in its parent's fd with O_NOFOLLOW, and what is copied is what
//! that fd is (fstat of the open file, not of the name), so a container
//! that swaps a folder for a link meanwhile cannot send the walk anywhere
//! else (CVE-2018-15664).

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Stat};

use super::write::{Meta, Sink};
use super::Ids;
use crate::error::{Error, Result};

/// The entry `name` in the folder `parent` (or, with no name, `parent`
/// itself) sent to `sink` under `as_name`; folders with what they hold.
/// `shown` is its path for messages.
pub fn send(
    parent: &OwnedFd,
    name: &OsStr,
    as_name: &OsStr,
    shown: &Path,
    ids: &Ids,
    sink: &mut dyn Sink,
) -> Result<()> {
    let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW | empty(name))
        .map_err(|e| Error::io("stat", shown, e.into()))?;
    let kind = FileType::from_raw_mode(st.st_mode);
    let meta = meta(&st, ids);
    match kind {
        FileType::Directory => {
            let dir = open(parent, name, OFlags::RDONLY | OFlags::DIRECTORY, shown)?;
            let meta = with_xattrs(meta, &dir, shown)?;
            sink.enter(as_name, &meta)?;
            send_entries(&dir, shown, ids, sink)?;
            sink.leave()
        }
        FileType::RegularFile => {
            // O_NONBLOCK: were it swapped for a fifo, the open must not hang.
            let fd = open(parent, name, OFlags::RDONLY | OFlags::NONBLOCK, shown)?;
            let st = rustix::fs::fstat(&fd).map_err(|e| Error::io("stat", shown, e.into()))?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                return Err(Error::State(format!(
                    "'{}' changed while copied",
                    shown.display()
                )));
            }
            let meta = with_xattrs(self::meta(&st, ids), &fd, shown)?;
            sink.file(as_name, &meta, &mut File::from(fd), st.st_size as u64)
        }
        FileType::Symlink => {
            let target = rustix::fs::readlinkat(parent, name, Vec::new())
                .map_err(|e| Error::io("read link", shown, e.into()))?;
            let target = std::os::unix::ffi::OsStrExt::from_bytes(target.as_bytes());
            sink.symlink(as_name, &meta, target)
        }
        FileType::Fifo | FileType::CharacterDevice | FileType::BlockDevice => {
            sink.special(as_name, &meta, kind, st.st_rdev)
        }
        _ => Ok(()), // a socket: nothing to copy
    }
}

/// What the folder `name` in `parent` (`parent` itself when empty) holds,
/// sent without the folder itself (docker's `SRC/.`).
pub fn send_contents(
    parent: &OwnedFd,
    name: &OsStr,
    shown: &Path,
    ids: &Ids,
    sink: &mut dyn Sink,
) -> Result<()> {
    let dir = open(parent, name, OFlags::RDONLY | OFlags::DIRECTORY, shown)?;
    send_entries(&dir, shown, ids, sink)
}

/// Every entry of the folder `dir` sent under its own name.
fn send_entries(dir: &OwnedFd, shown: &Path, ids: &Ids, sink: &mut dyn Sink) -> Result<()> {
    let mut names = Vec::new();
    let entries = Dir::read_from(dir).map_err(|e| Error::io("read", shown, e.into()))?;
    for e in entries {
        let e = e.map_err(|e| Error::io("read", shown, e.into()))?;
        let name = e.file_name().to_bytes();
        if name != b"." && name != b".." {
            let name: &OsStr = std::os::unix::ffi::OsStrExt::from_bytes(name);
            names.push(name.to_os_string());
        }
    }
    names.sort();
    for name in names {
        send(dir, &name, &name, &shown.join(&name), ids, sink)?;
    }
    Ok(())
}

fn empty(name: &OsStr) -> AtFlags {
    match name.is_empty() {
        true => AtFlags::EMPTY_PATH,
        false => AtFlags::empty(),
    }
}

/// `name` in `parent`, never through a link; `parent` itself again when
/// `name` is empty (an O_PATH fd re-opened through /proc/self/fd).
fn open(parent: &OwnedFd, name: &OsStr, flags: OFlags, shown: &Path) -> Result<OwnedFd> {
    let flags = flags | OFlags::CLOEXEC | OFlags::NOCTTY;
    let r = match name.is_empty() {
        true => {
            let fd = std::os::fd::AsRawFd::as_raw_fd(parent);
            rustix::fs::open(format!("/proc/self/fd/{fd}"), flags, Mode::empty())
        }
        false => rustix::fs::openat(parent, name, flags | OFlags::NOFOLLOW, Mode::empty()),
    };
    r.map_err(|e| match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
            Error::State(format!("'{}' changed while copied", shown.display()))
        }
        e => Error::io("open", shown, e.into()),
    })
}

fn meta(st: &Stat, ids: &Ids) -> Meta {
    let (uid, gid) = ids.to_container(st.st_uid, st.st_gid);
    Meta {
        mode: st.st_mode & 0o7777,
        uid,
        gid,
        mtime: (st.st_mtime, st.st_mtime_nsec as i64),
        xattrs: Vec::new(),
    }
}

/// `meta` with the extended attributes of the open file or folder `fd`
/// (trusted.* only when cc runs as root).
fn with_xattrs(mut meta: Meta, fd: &OwnedFd, shown: &Path) -> Result<Meta> {
    let fail = |e: rustix::io::Errno| Error::io("read the attributes of", shown, e.into());
    // XATTR_LIST_MAX and XATTR_SIZE_MAX (xattr(7)): every list and value fits.
    let mut names = vec![0u8; 1024];
    let n = match rustix::fs::flistxattr(fd, &mut names[..]) {
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP) => return Ok(meta),
        Err(rustix::io::Errno::RANGE) => {
            names.resize(65536, 0);
            rustix::fs::flistxattr(fd, &mut names[..]).map_err(fail)?
        }
        Err(e) => return Err(fail(e)),
    };
    if n == 0 {
        return Ok(meta);
    }
    let mut value = vec![0u8; 65536];
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::ffi::OsStr::from_bytes(name).to_os_string();
        let n = match rustix::fs::fgetxattr(fd, name.as_os_str(), &mut value[..]) {
            Ok(n) => n,
            Err(rustix::io::Errno::NODATA) => continue, // removed meanwhile
            Err(e) => return Err(fail(e)),
        };
        meta.xattrs.push((name, value[..n].to_vec()));
    }
    Ok(meta)
}

/// The metadata of the entry `name` in `parent` (`parent` itself when
/// empty), for a folder made to hold a source's contents.
pub fn meta_of(parent: &OwnedFd, name: &OsStr, shown: &Path, ids: &Ids) -> Result<Meta> {
    let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW | empty(name))
        .map_err(|e| Error::io("stat", shown, e.into()))?;
    Ok(meta(&st, ids))
}
