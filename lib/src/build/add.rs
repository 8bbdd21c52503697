//! What ADD takes beyond COPY: a local tar (plain or compressed) unpacked
//! at the destination, and an http(s) URL fetched on the host. A tar's
//! files are streamed to a spill folder of the store's tmp/, never held
//! in memory whole.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::copy::{join, Entry, Kind};
use super::Stage;
use crate::dockerfile::ignore;
use crate::dockerfile::Instruction;
use crate::error::{Error, Result};
use crate::store::Store;

/// A folder of the store's tmp/ for the files of the tars a step unpacks,
/// made on first use, removed when dropped (after the layer is written).
pub(super) struct Spill<'a> {
    store: &'a Store,
    dir: Option<PathBuf>,
    files: usize,
}

impl<'a> Spill<'a> {
    pub fn new(store: &'a Store) -> Spill<'a> {
        Spill {
            store,
            dir: None,
            files: 0,
        }
    }

    /// A new file of the folder, for `from`'s bytes: its path.
    fn keep(&mut self, from: &mut impl Read) -> std::io::Result<PathBuf> {
        let dir = match &self.dir {
            Some(d) => d.clone(),
            None => {
                let d = crate::store::tmp::owned_path(&self.store.tmp_dir(), "add", "")
                    .map_err(std::io::Error::other)?;
                std::fs::create_dir(&d)?;
                self.dir = Some(d.clone());
                d
            }
        };
        self.files += 1;
        let path = dir.join(self.files.to_string());
        let mut f = File::create_new(&path)?;
        std::io::copy(from, &mut f)?;
        Ok(path)
    }
}

impl Drop for Spill<'_> {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = crate::tree::remove_tree(d);
        }
    }
}

/// ADD of a URL, as docker's: the body (checked against `--checksum`),
/// mode 0600 unless `--chmod`, the server's Last-Modified time, and the
/// name the URL's path ends with (none when it ends with `/`).
pub(super) fn fetch(
    st: &Stage,
    ins: &Instruction,
    url: &str,
    checksum: Option<&String>,
    chmod: Option<u32>,
    owner: Option<(u64, u64)>,
    now: u64,
) -> Result<(Option<String>, Entry)> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::Unsupported(format!(
            "{}:{}: ADD: only http and https URLs are fetched, not '{url}'",
            st.o.file_name, ins.line
        )));
    }
    let (body, modified) = crate::registry::client::get_url(url)?;
    if let Some(want) = checksum {
        let got = crate::image::digest::sha256(&body);
        if got != *want {
            return Err(st.error(
                ins,
                &format!("{url}: the checksum is {got}, --checksum says {want}"),
            ));
        }
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').next().filter(|n| !n.is_empty());
    let (uid, gid) = owner.unwrap_or((0, 0));
    let mtime = modified
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(now, |d| d.as_secs());
    let entry = Entry {
        kind: Kind::Bytes(body),
        mode: chmod.unwrap_or(0o600),
        uid,
        gid,
        mtime,
    };
    Ok((name.map(String::from), entry))
}

/// A tar, plain or compressed (ADD unpacks those).
pub(super) fn is_archive(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut head = Vec::new();
    if f.take(512).read_to_end(&mut head).is_err() {
        return false;
    }
    let comp = crate::layer::detect(&head);
    let Ok(f) = File::open(path) else {
        return false;
    };
    let Ok(dec) = crate::layer::decoder(f, comp) else {
        return false;
    };
    let mut block = Vec::new();
    dec.take(512).read_to_end(&mut block).is_ok()
        && block.len() == 512
        && &block[257..262] == b"ustar"
}

/// ADD of a local archive: its entries under `dest`, with their owners;
/// the files' bytes in `spill`.
pub(super) fn unpack(
    path: &Path,
    dest: &[String],
    out: &mut BTreeMap<String, Entry>,
    spill: &mut Spill,
) -> Result<()> {
    let err = |e| Error::Damaged(format!("cannot read archive '{}': {e}", path.display()));
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(err)?;
    let f = File::open(path).map_err(err)?;
    let mut ar = tar::Archive::new(crate::layer::decoder(f, crate::layer::detect(&head))?);
    for e in ar.entries().map_err(err)? {
        let mut e = e.map_err(err)?;
        let h = e.header().clone();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let segs = ignore::clean(&name);
        if segs.is_empty() {
            continue;
        }
        let kind = match h.entry_type() {
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                Kind::File(spill.keep(&mut e).map_err(err)?)
            }
            tar::EntryType::Symlink => {
                Kind::Link(e.link_name().map_err(err)?.unwrap_or_default().into_owned())
            }
            _ => continue,
        };
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        out.insert(
            join(dest, &segs),
            Entry {
                kind,
                mode: h.mode().unwrap_or(0o644) & 0o7777,
                uid: h.uid().unwrap_or(0),
                gid: h.gid().unwrap_or(0),
                mtime: h.mtime().unwrap_or(0),
            },
        );
    }
    Ok(())
}
