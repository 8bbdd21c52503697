//! `cc-cp - CONTAINER:DIR`: a tar stream from stdin unpacked into a folder
//! of the container. Entry names are cleaned (a leading `/` or `./` goes,
//! a `..` that climbs above DIR is refused) and each is resolved again
//! inside the container's root (`inroot`), so neither a name nor a link
//! made by an earlier entry leads outside it.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::FileType;

use super::write::{DirSink, Meta, Sink};
use super::Ids;
use crate::error::{Error, Result};
use crate::inroot::Root;

/// Unpacks `input` into `dest` (a folder, resolved in `root`); `shown`
/// names it in messages.
pub fn extract(
    input: impl Read,
    root: &Root,
    dest: &Path,
    shown: &Path,
    owner: Option<(u32, u32)>,
    ids: &Ids,
) -> Result<()> {
    let mut ar = tar::Archive::new(input);
    let damaged = |e: std::io::Error| Error::Damaged(format!("tar stream on stdin: {e}"));
    for entry in ar.entries().map_err(damaged)? {
        let mut e = entry.map_err(damaged)?;
        let name = clean(&e.path().map_err(damaged)?)?;
        let Some(file) = name.file_name().map(OsStr::to_os_string) else {
            continue; // `./` itself: DEST is already there
        };
        let dir = name.parent().unwrap_or(Path::new(""));
        let (pfd, _) = root.parent(&dest.join(&name), true)?;
        // A stream's extended attributes are set, as docker's untar sets them.
        let mut sink = DirSink::new(pfd, shown.join(dir), owner, ids.clone()).all_xattrs(true);
        let xattrs = xattrs_of(&mut e).map_err(damaged)?;
        let h = e.header();
        let meta = Meta {
            mode: h.mode().map_err(damaged)? & 0o7777,
            uid: h.uid().map_err(damaged)? as u32,
            gid: h.gid().map_err(damaged)? as u32,
            mtime: (h.mtime().map_err(damaged)? as i64, 0),
            xattrs,
        };
        let dev = || {
            let major = h.device_major().ok().flatten().unwrap_or(0);
            let minor = h.device_minor().ok().flatten().unwrap_or(0);
            rustix::fs::makedev(major, minor)
        };
        match h.entry_type() {
            tar::EntryType::Directory => {
                sink.enter(&file, &meta)?;
                sink.leave()?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = e.size();
                sink.file(&file, &meta, &mut e, size)?;
            }
            tar::EntryType::Symlink => {
                let target = e.link_name().map_err(damaged)?.unwrap_or_default();
                sink.symlink(&file, &meta, target.as_os_str())?;
            }
            tar::EntryType::Link => {
                let target = e.link_name().map_err(damaged)?.unwrap_or_default();
                let target = clean(&target)?;
                let (tdir, tname) = root.parent(&dest.join(target), false)?;
                sink.link(&file, &tdir, &tname)?;
            }
            tar::EntryType::Fifo => sink.special(&file, &meta, FileType::Fifo, 0)?,
            tar::EntryType::Char => {
                let d = dev();
                sink.special(&file, &meta, FileType::CharacterDevice, d)?
            }
            tar::EntryType::Block => {
                let d = dev();
                sink.special(&file, &meta, FileType::BlockDevice, d)?
            }
            _ => {} // PAX and GNU extension headers: read by the tar crate
        }
    }
    Ok(())
}

/// An entry's name relative to DEST: `/a`, `./a`, `a/./b//c` as docker
/// cleans them; a `..` above DEST is an error.
fn clean(p: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir if out.pop() => {}
            Component::ParentDir => {
                return Err(Error::Damaged(format!(
                    "tar entry '{}' leads out of the destination",
                    p.display()
                )))
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The extended attributes an entry's PAX records carry
/// (`SCHILY.xattr.NAME`).
fn xattrs_of<R: Read>(e: &mut tar::Entry<R>) -> io::Result<Vec<(OsString, Vec<u8>)>> {
    let mut out = Vec::new();
    for x in e.pax_extensions()?.into_iter().flatten() {
        let x = x?;
        if let Some(name) = x.key_bytes().strip_prefix(b"SCHILY.xattr.") {
            out.push((
                OsStr::from_bytes(name).to_os_string(),
                x.value_bytes().to_vec(),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_climbing_out_is_refused() {
        assert_eq!(clean(Path::new("/a/./b//c")).unwrap(), Path::new("a/b/c"));
        assert_eq!(clean(Path::new("./a/../b")).unwrap(), Path::new("b"));
        assert_eq!(clean(Path::new("./")).unwrap(), Path::new(""));
        assert!(clean(Path::new("a/../../x")).is_err());
    }
}
