//! Where cc-cp's files go: a folder (on the host or in a container's root),
//! entry by entry, each created in an fd of its parent folder and never
//! through a link (O_NOFOLLOW, O_EXCL, *at calls), or a tar stream.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};

use super::Ids;
use crate::error::{Error, Result};

/// What is kept of an entry: permissions, owner (container-side ids),
/// modification time, and the extended attributes of a file or folder.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: (i64, i64),
    pub xattrs: Vec<(OsString, Vec<u8>)>,
}

/// The one extended attribute docker's archive code carries (cc-cp): a
/// file's capabilities.
pub const CAPABILITY: &str = "security.capability";

/// The receiving end of a copy, walked depth first: `enter` a folder,
/// its entries, `leave` it.
pub trait Sink {
    fn file(&mut self, name: &OsStr, meta: &Meta, content: &mut dyn Read, size: u64) -> Result<()>;
    fn symlink(&mut self, name: &OsStr, meta: &Meta, target: &OsStr) -> Result<()>;
    fn special(&mut self, name: &OsStr, meta: &Meta, kind: FileType, rdev: u64) -> Result<()>;
    fn enter(&mut self, name: &OsStr, meta: &Meta) -> Result<()>;
    fn leave(&mut self) -> Result<()>;
}

/// Writes into a folder. `owner` (container-side ids) replaces each
/// entry's own unless -a; `ids` turns container-side ids into the ids
/// stored through this root.
pub struct DirSink {
    /// The open folders, innermost last, each with its path for messages
    /// and the metadata to give it when left.
    stack: Vec<(OwnedFd, PathBuf, Option<Meta>)>,
    owner: Option<(u32, u32)>,
    ids: Ids,
    /// Every extended attribute set (volume copy-up), not only
    /// `CAPABILITY`.
    all_xattrs: bool,
}

impl DirSink {
    pub fn new(dir: OwnedFd, shown: PathBuf, owner: Option<(u32, u32)>, ids: Ids) -> DirSink {
        DirSink {
            stack: vec![(dir, shown, None)],
            owner,
            ids,
            all_xattrs: false,
        }
    }

    /// Sets every extended attribute an entry has, as docker's volume
    /// copy-up (continuity's CopyDir) does.
    pub fn all_xattrs(mut self, all: bool) -> DirSink {
        self.all_xattrs = all;
        self
    }

    /// The extended attributes of `meta` on `fd`, after its owner (a chown
    /// clears a file's capabilities). One the filesystem or cc's user may
    /// not set (ENOTSUP, EPERM: trusted.* without root) is skipped, as
    /// docker skips it.
    fn set_xattrs(&self, fd: impl AsFd, shown: &Path, meta: &Meta) -> Result<()> {
        for (name, value) in &meta.xattrs {
            // overlayfs's own would change what an overlay shows.
            let overlay = name.as_bytes().starts_with(b"trusted.overlay.");
            if overlay || !self.all_xattrs && name != CAPABILITY {
                continue;
            }
            let flags = rustix::fs::XattrFlags::empty();
            match rustix::fs::fsetxattr(&fd, name.as_os_str(), value, flags) {
                Ok(()) | Err(rustix::io::Errno::NOTSUP | rustix::io::Errno::PERM) => {}
                Err(e) => {
                    let what = format!(
                        "set the attribute {} of '{}'",
                        name.to_string_lossy(),
                        shown.display()
                    );
                    return Err(Error::sys(what, e.into()));
                }
            }
        }
        Ok(())
    }

    /// A hard link `name` to `target_name` in the folder `target_dir`.
    pub fn link(&mut self, name: &OsStr, target_dir: &OwnedFd, target_name: &OsStr) -> Result<()> {
        self.clear(name)?;
        let (dir, shown) = self.top();
        rustix::fs::linkat(target_dir, target_name, dir, name, AtFlags::empty())
            .map_err(|e| Error::io("link", shown.join(name), e.into()))
    }

    fn top(&self) -> (&OwnedFd, &Path) {
        let (fd, p, _) = self.stack.last().expect("the destination folder");
        (fd, p)
    }

    /// The stored owner of an entry with `meta`.
    fn owner(&self, meta: &Meta) -> (u32, u32) {
        let (u, g) = self.owner.unwrap_or((meta.uid, meta.gid));
        self.ids.to_stored(u, g)
    }

    /// Makes room for a non-folder `name`: removes a file or link there;
    /// a folder there is an error (docker's).
    fn clear(&self, name: &OsStr) -> Result<()> {
        let (dir, shown) = self.top();
        match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                Err(Error::State(format!(
                    "cannot overwrite directory '{}' with non-directory",
                    shown.join(name).display()
                )))
            }
            Ok(_) => rustix::fs::unlinkat(dir, name, AtFlags::empty())
                .map_err(|e| Error::io("replace", shown.join(name), e.into())),
            Err(_) => Ok(()),
        }
    }

    /// Owner, then mode (a chown clears set-id bits), then times, of the
    /// entry `name` in `fd` (of `fd` itself when `name` is empty).
    fn finish(
        &self,
        fd: impl AsFd,
        name: &OsStr,
        shown: &Path,
        meta: &Meta,
        link: bool,
    ) -> Result<()> {
        let (uid, gid) = self.owner(meta);
        let (u, g) = (
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
        );
        let flags = match name.is_empty() {
            true => AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
            false => AtFlags::SYMLINK_NOFOLLOW,
        };
        rustix::fs::chownat(&fd, name, u, g, flags)
            .map_err(|e| Error::io("set the owner of", shown, e.into()))?;
        if !link {
            let mode = Mode::from_raw_mode(meta.mode);
            match name.is_empty() {
                true => rustix::fs::fchmod(&fd, mode),
                false => rustix::fs::chmodat(&fd, name, mode, AtFlags::empty()),
            }
            .map_err(|e| Error::io("set the mode of", shown, e.into()))?;
        }
        if name.is_empty() {
            self.set_xattrs(&fd, shown, meta)?;
        }
        let t = Timespec {
            tv_sec: meta.mtime.0,
            tv_nsec: meta.mtime.1 as _,
        };
        let times = Timestamps {
            last_access: t,
            last_modification: t,
        };
        match name.is_empty() {
            true => rustix::fs::futimens(&fd, &times),
            false => rustix::fs::utimensat(&fd, name, &times, AtFlags::SYMLINK_NOFOLLOW),
        }
        .map_err(|e| Error::io("set the times of", shown, e.into()))
    }
}

impl Sink for DirSink {
    fn file(
        &mut self,
        name: &OsStr,
        meta: &Meta,
        content: &mut dyn Read,
        _size: u64,
    ) -> Result<()> {
        self.clear(name)?;
        let (dir, shown) = self.top();
        let shown = shown.join(name);
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600))
            .map_err(|e| Error::io("create", &shown, e.into()))?;
        let mut out = File::from(fd);
        io::copy(content, &mut out).map_err(|e| Error::io("write", &shown, e))?;
        self.finish(&out, OsStr::new(""), &shown, meta, false)
    }

    fn symlink(&mut self, name: &OsStr, meta: &Meta, target: &OsStr) -> Result<()> {
        self.clear(name)?;
        let (dir, shown) = self.top();
        rustix::fs::symlinkat(target, dir, name)
            .map_err(|e| Error::io("create", shown.join(name), e.into()))?;
        self.finish(dir, name, &shown.join(name), meta, true)
    }

    fn special(&mut self, name: &OsStr, meta: &Meta, kind: FileType, rdev: u64) -> Result<()> {
        self.clear(name)?;
        let (dir, shown) = self.top();
        rustix::fs::mknodat(dir, name, kind, Mode::from_raw_mode(0o600), rdev)
            .map_err(|e| Error::io("create", shown.join(name), e.into()))?;
        self.finish(dir, name, &shown.join(name), meta, false)
    }

    fn enter(&mut self, name: &OsStr, meta: &Meta) -> Result<()> {
        let (dir, shown) = self.top();
        let shown = shown.join(name);
        match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(Error::io("create", &shown, e.into())),
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|e| match e {
            rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP => Error::State(format!(
                "cannot overwrite non-directory '{}' with directory",
                shown.display()
            )),
            e => Error::io("open", &shown, e.into()),
        })?;
        self.stack.push((fd, shown, Some(meta.clone())));
        Ok(())
    }

    fn leave(&mut self) -> Result<()> {
        let (fd, shown, meta) = self.stack.pop().expect("a folder entered");
        let meta = meta.expect("an entered folder's metadata");
        self.finish(&fd, OsStr::new(""), &shown, &meta, false)
    }
}

/// Writes a tar stream: entries named from where the copy starts, with
/// container-side ids.
pub struct TarSink<W: Write> {
    tar: tar::Builder<W>,
    dirs: Vec<PathBuf>,
}

impl<W: Write> TarSink<W> {
    pub fn new(out: W) -> TarSink<W> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        TarSink {
            tar,
            dirs: vec![PathBuf::new()],
        }
    }

    /// Writes the end of the archive.
    pub fn finish(self) -> Result<()> {
        self.tar
            .into_inner()
            .and_then(|mut w| w.flush())
            .map_err(|e| Error::sys("write the tar stream", e))
    }

    fn path(&self, name: &OsStr) -> PathBuf {
        self.dirs.last().expect("a folder").join(name)
    }

    fn header(meta: &Meta, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(meta.mode);
        h.set_uid(meta.uid.into());
        h.set_gid(meta.gid.into());
        h.set_mtime(meta.mtime.0.max(0) as u64);
        h.set_size(size);
        h
    }

    /// The entry `h` at `name`, after a PAX record of its capabilities
    /// (`SCHILY.xattr.security.capability`, as docker's archive writes).
    fn append(
        &mut self,
        name: &OsStr,
        meta: &Meta,
        mut h: tar::Header,
        data: impl Read,
    ) -> Result<()> {
        let path = self.path(name);
        let fail = |e| Error::sys(format!("write '{}' to the tar stream", path.display()), e);
        if let Some((_, cap)) = meta.xattrs.iter().find(|(n, _)| n == CAPABILITY) {
            let key = format!("SCHILY.xattr.{CAPABILITY}");
            self.tar
                .append_pax_extensions([(key.as_str(), cap.as_slice())])
                .map_err(fail)?;
        }
        self.tar.append_data(&mut h, &path, data).map_err(fail)
    }
}

impl<W: Write> Sink for TarSink<W> {
    fn file(&mut self, name: &OsStr, meta: &Meta, content: &mut dyn Read, size: u64) -> Result<()> {
        let h = Self::header(meta, tar::EntryType::Regular, size);
        // The size was read before: a file that grows meanwhile is cut
        // there, one that shrinks is refused by the tar writer.
        self.append(name, meta, h, content.take(size))
    }

    fn symlink(&mut self, name: &OsStr, meta: &Meta, target: &OsStr) -> Result<()> {
        let mut h = Self::header(meta, tar::EntryType::Symlink, 0);
        let path = self.path(name);
        self.tar
            .append_link(&mut h, &path, Path::new(target))
            .map_err(|e| Error::sys(format!("write '{}' to the tar stream", path.display()), e))
    }

    fn special(&mut self, name: &OsStr, meta: &Meta, kind: FileType, rdev: u64) -> Result<()> {
        let t = match kind {
            FileType::Fifo => tar::EntryType::Fifo,
            FileType::CharacterDevice => tar::EntryType::Char,
            FileType::BlockDevice => tar::EntryType::Block,
            _ => return Ok(()), // sockets: tar has no type for them
        };
        let mut h = Self::header(meta, t, 0);
        let _ = h.set_device_major(rustix::fs::major(rdev));
        let _ = h.set_device_minor(rustix::fs::minor(rdev));
        self.append(name, meta, h, io::empty())
    }

    fn enter(&mut self, name: &OsStr, meta: &Meta) -> Result<()> {
        let h = Self::header(meta, tar::EntryType::Directory, 0);
        if !name.is_empty() {
            self.append(name, meta, h, io::empty())?;
        }
        let p = self.path(name);
        self.dirs.push(p);
        Ok(())
    }

    fn leave(&mut self) -> Result<()> {
        self.dirs.pop();
        Ok(())
    }
}
