//! Writing a tree as a layer tar, the same bytes for the same tree: ustar
//! headers with numeric owners only (no user or group names), whole-second
//! mtimes, no atime/ctime, names and xattrs in byte order, and PAX records
//! (`path`, `linkpath`, `SCHILY.xattr.*`) for what ustar cannot hold.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags, Stat, CWD};
use tar::{EntryType, Header};

use super::node;
use super::{WH, WH_OPAQUE};
use crate::error::{Error, Result};
use crate::tree::{open_dir, Cursor};

/// Writes the tree under `src` (not `src` itself) as an uncompressed tar to
/// `out`. A folder comes before its contents; siblings are in byte order of
/// their names (what `filepath.Walk` gives). Names are relative without
/// `./` (`etc/`, `etc/passwd`). Hardlinks become Link entries to the first
/// name of the inode; symlinks are stored, never followed; sockets skipped.
/// Stays on `src`'s filesystem, as `tar --one-file-system`: a folder that
/// is another mount (a running container's /proc, /sys, /dev) is written
/// empty. Used by `cc-import DIR` and `cc-export`.
pub fn write_dir(src: &Path, out: impl Write) -> Result<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(CWD, src, flags, Mode::empty())
        .map_err(|e| Error::io("open", src, e.into()))?;
    let mut w = Writer::new(out);
    let dev = rustix::fs::fstat(&fd)
        .map_err(|e| Error::io("stat", src, e.into()))?
        .st_dev;
    let mut cur = Cursor::new(vec![fd], ()).map_err(|e| Error::io("read", src, e))?;
    walk(&mut w, &mut cur, src, dev)?;
    w.finish()
        .map_err(|e| Error::io("finish layer tar of", src, e))?;
    Ok(())
}

/// Depth first, without recursion (a tree may be any depth): each entry,
/// and a folder's children in byte order right after it.
fn walk<W: Write>(w: &mut Writer<W>, cur: &mut Cursor<()>, src: &Path, dev: u64) -> Result<()> {
    let read_err = |p: &[u8], e| Error::io("read", crate::tree::shown(src, p), e);
    while let Some(n) = cur.next_name().map_err(|e| read_err(cur.path(), e))? {
        let file = OsStr::from_bytes(&n);
        let rel = [cur.path(), b"/", &n].concat();
        let path = crate::tree::shown(src, &rel);
        if w.add(cur.dir(), file, &rel[1..], &path)? != FileType::Directory {
            continue;
        }
        let sub = open_dir(cur.dir(), file).map_err(|e| Error::io("open", &path, e))?;
        let sub_dev = rustix::fs::fstat(&sub)
            .map_err(|e| Error::io("stat", &path, e.into()))?
            .st_dev;
        if sub_dev == dev {
            cur.descend(&n, vec![(0, sub)], ())
                .map_err(|e| Error::io("read", &path, e))?;
        }
    }
    Ok(())
}

/// The entry writer behind `write_dir`, and behind writing an overlay upper
/// dir as a layer (its whiteouts and opaque folders become `.wh.` entries).
pub struct Writer<W: Write> {
    tar: tar::Builder<W>,
    /// The first name written for each (dev, inode) with more than one link.
    links: HashMap<(u64, u64), Vec<u8>>,
    /// Scratch for xattr lists and values.
    buf: Vec<u8>,
    /// No mtime later than this (`cc-build --timestamp`): the same files
    /// give the same bytes whenever they were written.
    clamp: Option<u64>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        Writer {
            tar,
            links: HashMap::new(),
            buf: vec![0; node::XATTR_MAX],
            clamp: None,
        }
    }

    /// Writes no mtime later than `t` (unix seconds).
    pub fn clamp_mtime(mut self, t: Option<u64>) -> Writer<W> {
        self.clamp = t;
        self
    }

    /// Adds entry `file` of folder `dir` under the archive name `name`
    /// (relative, no trailing `/`); `shown` names it in errors. Returns its
    /// type, so a walker knows to go into folders. Sockets are skipped:
    /// tar has no type for them.
    pub fn add(
        &mut self,
        dir: BorrowedFd<'_>,
        file: &OsStr,
        name: &[u8],
        shown: &Path,
    ) -> Result<FileType> {
        let err = |op, e: io::Error| Error::io(op, shown, e);
        let st = node::lstat(dir, file).map_err(|e| err("stat", e))?;
        let ft = node::kind(&st);
        if ft == FileType::Socket {
            return Ok(ft);
        }
        if ft != FileType::Directory && st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut h = header(&st, EntryType::Link, 0);
                return self
                    .emit(&mut h, name, Some(&first), &[], io::empty())
                    .map(|_| ft)
                    .map_err(|e| err("add to layer tar", e));
            }
            self.links.insert(key, name.to_vec());
        }
        let xattrs =
            node::read_xattrs(dir, file, &mut self.buf).map_err(|e| err("read xattrs of", e))?;
        let r = match ft {
            FileType::Directory => {
                let mut h = header(&st, EntryType::Directory, 0);
                self.emit(&mut h, &[name, b"/"].concat(), None, &xattrs, io::empty())
            }
            FileType::RegularFile => {
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(dir, file, flags, Mode::empty())
                    .map_err(|e| err("open", e.into()))?;
                let st = rustix::fs::fstat(&fd).map_err(|e| err("stat", e.into()))?;
                let size = st.st_size as u64;
                let mut h = header(&st, EntryType::Regular, size);
                // A file that shrinks while read is padded, so the archive stays whole.
                let data = std::fs::File::from(fd)
                    .take(size)
                    .chain(io::repeat(0))
                    .take(size);
                self.emit(&mut h, name, None, &xattrs, data)
            }
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(dir, file, Vec::new())
                    .map_err(|e| err("read link", e.into()))?;
                let mut h = header(&st, EntryType::Symlink, 0);
                self.emit(&mut h, name, Some(target.as_bytes()), &xattrs, io::empty())
            }
            FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => {
                let et = match ft {
                    FileType::CharacterDevice => EntryType::Char,
                    FileType::BlockDevice => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut h = header(&st, et, 0);
                if et != EntryType::Fifo {
                    h.set_device_major(rustix::fs::major(st.st_rdev))
                        .map_err(|e| err("add to layer tar", e))?;
                    h.set_device_minor(rustix::fs::minor(st.st_rdev))
                        .map_err(|e| err("add to layer tar", e))?;
                }
                self.emit(&mut h, name, None, &xattrs, io::empty())
            }
            _ => return Ok(ft),
        };
        r.map(|_| ft).map_err(|e| err("add to layer tar", e))
    }

    /// Adds the OCI whiteout that deletes `name` (`a/b` -> `a/.wh.b`).
    pub fn add_whiteout(&mut self, name: &[u8]) -> Result<()> {
        let (dir, base) = match name.iter().rposition(|b| *b == b'/') {
            Some(i) => (&name[..=i], &name[i + 1..]),
            None => (&b""[..], name),
        };
        self.add_marker(&[dir, WH, base].concat())
    }

    /// Adds the OCI opaque marker of folder `dir` (`""` is the root).
    pub fn add_opaque(&mut self, dir: &[u8]) -> Result<()> {
        let sep: &[u8] = if dir.is_empty() { b"" } else { b"/" };
        self.add_marker(&[dir, sep, WH_OPAQUE].concat())
    }

    /// An empty root-owned file, time 0, so markers never vary.
    fn add_marker(&mut self, name: &[u8]) -> Result<()> {
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(0);
        self.emit(&mut h, name, None, &[], io::empty())
            .map_err(|e| {
                let shown = Path::new(OsStr::from_bytes(name));
                Error::io("add to layer tar", shown, e)
            })
    }

    /// Writes the end-of-archive blocks and gives `out` back.
    pub fn finish(self) -> io::Result<W> {
        let mut out = self.tar.into_inner()?;
        out.flush()?;
        Ok(out)
    }

    /// Writes a PAX header when needed, then the entry.
    fn emit(
        &mut self,
        h: &mut Header,
        name: &[u8],
        link: Option<&[u8]>,
        xattrs: &[(Vec<u8>, Vec<u8>)],
        data: impl Read,
    ) -> io::Result<()> {
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        put_name(&mut h.as_old_mut().name, name, "path", &mut pax);
        if let Some(link) = link {
            put_name(&mut h.as_old_mut().linkname, link, "linkpath", &mut pax);
        }
        for (k, v) in xattrs {
            let k =
                std::str::from_utf8(k).map_err(|_| io::Error::other("xattr name is not utf-8"))?;
            pax.push((format!("SCHILY.xattr.{k}"), v.clone()));
        }
        if !pax.is_empty() {
            self.tar
                .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        if let (Some(t), Ok(m)) = (self.clamp, h.mtime()) {
            h.set_mtime(m.min(t));
        }
        h.set_cksum();
        self.tar.append(h, data)
    }
}

/// A ustar header from a stat: mode with setuid/setgid/sticky, numeric
/// owner, whole-second mtime (an mtime before 1970 is written as 0).
fn header(st: &Stat, et: EntryType, size: u64) -> Header {
    let mut h = Header::new_ustar();
    h.set_entry_type(et);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid.into());
    h.set_gid(st.st_gid.into());
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(size);
    h
}

/// Puts a name in a 100-byte header field, or, when it does not fit, its
/// first 100 bytes there and the whole name in a PAX record.
fn put_name(field: &mut [u8; 100], v: &[u8], key: &str, pax: &mut Vec<(String, Vec<u8>)>) {
    let n = v.len().min(field.len());
    field.fill(0);
    field[..n].copy_from_slice(&v[..n]);
    if v.len() > field.len() {
        pax.push((key.to_string(), v.to_vec()));
    }
}
