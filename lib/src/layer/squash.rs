//! Squashing: several unpacked layers merged into one folder in the same
//! overlay format, lowest first, as overlayfs would show them stacked —
//! a whiteout removes what the layers below put there, an opaque folder
//! replaces the folder below, anything else replaces what was there.
//! The folder is then written as one layer (`write_upper`). Files are
//! hard links to the layers' own (the store's layers are never changed;
//! the merged folder is only read), folders are made anew with the
//! metadata of the highest layer that has them.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, CWD};

use super::node::{self, Meta, XATTR_MAX};
use crate::error::{Error, Result};
use crate::tree::{open_dir, sorted_names};

/// Merges `layers` (unpacked layer folders, lowest first) into `dest`, an
/// empty folder. `onto_base`: the result goes on top of other layers, so
/// whiteouts and opaque folders are kept; without it (everything in one
/// layer) they have nothing left to hide and are dropped.
pub fn squash(layers: &[PathBuf], dest: &Path, onto_base: bool) -> Result<()> {
    let dst = open_dir(CWD, dest.as_os_str()).map_err(|e| Error::io("open", dest, e))?;
    let mut buf = vec![0u8; XATTR_MAX];
    for l in layers {
        let src = open_dir(CWD, l.as_os_str()).map_err(|e| Error::io("open", l, e))?;
        let mut m = Merge {
            keep: onto_base,
            buf: &mut buf,
            layer: l,
        };
        m.dir(src.as_fd(), dst.as_fd(), b"")?;
    }
    Ok(())
}

struct Merge<'a> {
    keep: bool,
    buf: &'a mut [u8],
    layer: &'a Path,
}

impl Merge<'_> {
    fn dir(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, rel: &[u8]) -> Result<()> {
        let shown = |n: &[u8]| crate::tree::shown(self.layer, &[rel, b"/", n].concat());
        let names = sorted_names(src).map_err(|e| Error::io("read", shown(b""), e))?;
        for n in names {
            let name = OsStr::from_bytes(&n);
            let io = |what: &'static str| {
                let p = shown(&n);
                move |e: std::io::Error| Error::io(what, p, e)
            };
            let st = node::lstat(src, name).map_err(io("stat"))?;
            let below = node::lstat(dst, name).ok();
            let kind = node::kind(&st);
            let opaque = kind == FileType::Directory && self.opaque(src, name);
            let replace = match &below {
                None => false,
                Some(b) => {
                    kind != FileType::Directory || node::kind(b) != FileType::Directory || opaque
                }
            };
            if let (true, Some(b)) = (replace, &below) {
                node::remove(dst, name, b).map_err(io("remove"))?;
            }
            if node::is_whiteout(&st) {
                if self.keep {
                    link(src, dst, name).map_err(io("link"))?;
                }
                continue;
            }
            if kind != FileType::Directory {
                link(src, dst, name).map_err(io("link"))?;
                continue;
            }
            if below.is_none() || replace {
                rustix::fs::mkdirat(dst, name, Mode::from_raw_mode(0o700))
                    .map_err(|e| io("create")(e.into()))?;
            }
            let meta = Meta::of(src, name, &st, self.buf).map_err(io("read xattrs of"))?;
            node::set_meta(dst, name, &meta, kind, true).map_err(|(what, e)| io(what)(e))?;
            if opaque && self.keep {
                node::set_xattr(dst, name, node::opaque(), b"y").map_err(io("set xattrs of"))?;
            }
            let (s, d): (OwnedFd, OwnedFd) = (
                open_dir(src, name).map_err(io("open"))?,
                open_dir(dst, name).map_err(io("open"))?,
            );
            self.dir(s.as_fd(), d.as_fd(), &[rel, b"/", &n].concat())?;
            node::set_mtime(dst, name, node::mtime(&st)).map_err(io("set times of"))?;
        }
        Ok(())
    }

    fn opaque(&mut self, dir: BorrowedFd<'_>, name: &OsStr) -> bool {
        let path = node::proc_path(dir, name);
        matches!(rustix::fs::lgetxattr(&path, node::opaque(), &mut *self.buf), Ok(1) if self.buf[0] == b'y')
    }
}

/// A hard link of the entry itself (a symlink is not followed).
fn link(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, name: &OsStr) -> std::io::Result<()> {
    Ok(rustix::fs::linkat(src, name, dst, name, AtFlags::empty())?)
}
