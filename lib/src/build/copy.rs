//! COPY and ADD: the sources (context files less what .dockerignore
//! leaves out, globs, here-documents, another stage's or image's files,
//! ADD's archives and URLs through `add`) laid out at their destination as a list
//! of entries, hashed for the cache, written as a layer tar in name order
//! and staged as any received layer is (`image::stage::stage`, whose
//! unpacking refuses what leads outside the root).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{add, cache, step, Stage};
use crate::dockerfile::ignore::{self, Ignore};
use crate::dockerfile::{expand, Args, Instruction};
use crate::error::{Error, Result};
use crate::image::stage;
use crate::store::Store;

/// What an entry of the layer is.
pub(super) enum Kind {
    Dir,
    File(PathBuf),
    Bytes(Vec<u8>),
    Link(PathBuf),
}

pub(super) struct Entry {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
}

/// Where sources are read: the context (with its ignore file) or another
/// stage's or image's root (owners kept).
struct From<'a> {
    root: PathBuf,
    ignore: Option<&'a Ignore>,
}

/// COPY or ADD.
pub fn copy(store: &Store, st: &mut Stage, ins: &Instruction) -> Result<()> {
    let add = ins.keyword == "ADD";
    let (mut chown, mut chmod, mut from_ref) = (None, None, None);
    for (f, v) in &ins.flags {
        match f.as_str() {
            "chown" => chown = Some(st.word(v, ins)?),
            "chmod" => {
                chmod = Some(
                    u32::from_str_radix(v, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| {
                            st.error(ins, &format!("invalid --chmod '{v}': an octal mode"))
                        })?,
                )
            }
            "from" if !add => from_ref = Some(st.word(v, ins)?),
            // Our layers never depend on the layers beneath: --link's
            // independence is how every COPY layer is made.
            "link" => {}
            // Checked against what a URL gives (in `entries`).
            "checksum" if add => {
                let hex = v.strip_prefix("sha256:").unwrap_or_default();
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(st.error(ins, &format!("invalid --checksum '{v}': sha256:HEX")));
                }
            }
            "keep-git-dir" if add => {
                return Err(Error::Unsupported(format!(
                    "{}:{}: ADD: --keep-git-dir is for git sources, which cc-build does not fetch",
                    st.o.file_name, ins.line
                )))
            }
            _ => return Err(st.error(ins, &format!("unknown flag: --{f}"))),
        }
    }
    let look = |n: &str| st.var(n);
    let mut words = match &ins.args {
        Args::Json(v) => v
            .iter()
            .map(|w| expand::word(w, &look, st.escape))
            .collect::<std::result::Result<Vec<_>, _>>(),
        Args::Shell(s) => expand::words(s, &look, st.escape),
    }
    .map_err(|e| st.error(ins, &e))?;
    if words.len() < 2 {
        return Err(st.error(
            ins,
            &format!("{} requires at least two arguments", ins.keyword),
        ));
    }
    let dest = words.pop().unwrap_or_default();
    let owner = match &chown {
        Some(c) => Some(owner_of(store, st, c).map_err(|e| st.error(ins, &e))?),
        None => None,
    };
    // Mounted until the layer is written (dropped at the end).
    let mounted = match &from_ref {
        Some(r) => Some(source_image(store, st, r)?),
        None => None,
    };
    let src = match &mounted {
        Some(m) => From {
            root: m.root.clone(),
            ignore: None,
        },
        None => From {
            root: st.o.context.clone(),
            ignore: Some(&st.o.ignore),
        },
    };
    // The files of the tars ADD unpacks, until the layer is written.
    let mut spill = add::Spill::new(store);
    let what = (add, owner, chmod);
    let list = entries(store, st, ins, &src, &words, &dest, what, &mut spill)?;
    let digest = hash(&list)?;
    let shown = ins.show();
    step::cached(store, st, &[shown.as_bytes(), digest.as_bytes()], |st| {
        let tmp = crate::store::tmp::owned_path(&store.tmp_dir(), "copy", ".tar")?;
        let made = write_tar(&tmp, &list, st.o.timestamp).and_then(|_| {
            let f = File::open(&tmp).map_err(|e| Error::io("open", &tmp, e))?;
            let lowers = st
                .image
                .as_ref()
                .map(|i| i.layer_dirs(store))
                .unwrap_or_default();
            stage::stage(store, f, &shown, &lowers)
        });
        let _ = fs::remove_file(&tmp);
        cache::derive(store, st, Some(made?), &shown, &|_| Ok(()))
    })
}

/// The entries the sources give at `dest`, parents that the image lacks
/// included.
#[allow(clippy::too_many_arguments)]
fn entries(
    store: &Store,
    st: &Stage,
    ins: &Instruction,
    src: &From,
    sources: &[String],
    dest: &str,
    (add, owner, chmod): (bool, Option<(u64, u64)>, Option<u32>),
    spill: &mut add::Spill,
) -> Result<BTreeMap<String, Entry>> {
    let cwd = st
        .image
        .as_ref()
        .and_then(|i| i.config.config.working_dir.clone())
        .unwrap_or_else(|| "/".into());
    let dest_abs = if dest.starts_with('/') {
        dest.to_string()
    } else {
        format!("{cwd}/{dest}")
    };
    let dest_segs = resolve_in_image(store, st, &ignore::clean(&dest_abs));
    let globbed = sources.iter().any(|s| s.contains(['*', '?', '[']));
    let into_dir = dest.ends_with('/')
        || dest.ends_with("/.")
        || sources.len() > 1
        || globbed
        || in_image(store, st, &dest_segs) == Some(true);
    let now =
        st.o.timestamp
            .map(|t| t.max(0) as u64)
            .unwrap_or_else(now_secs);
    let checksum = ins
        .flags
        .iter()
        .find(|(f, _)| f == "checksum")
        .map(|(_, v)| v);
    let mut out = BTreeMap::new();
    let at = |name: &str| match into_dir {
        true => join(&dest_segs, &[name]),
        false => dest_segs.join("/"),
    };
    for s in sources {
        if let Some(h) = s
            .strip_prefix("<<")
            .map(|n| n.trim_start_matches('-'))
            .and_then(|n| ins.heredocs.iter().find(|h| h.name == n))
        {
            let body = match h.expand {
                true => st.word(&format!("\"{}\"", h.body.replace('"', "\\\"")), ins)?,
                false => h.body.clone(),
            };
            let (uid, gid) = owner.unwrap_or((0, 0));
            out.insert(
                at(&h.name),
                Entry {
                    kind: Kind::Bytes(body.into_bytes()),
                    mode: chmod.unwrap_or(0o644),
                    uid,
                    gid,
                    mtime: now,
                },
            );
            continue;
        }
        if s.contains("://") {
            if !add {
                return Err(st.error(ins, &format!("source can't be a URL for COPY: '{s}'")));
            }
            let (name, e) = add::fetch(st, ins, s, checksum, chmod, owner, now)?;
            let Some(name) = name.or((!into_dir).then_some(String::new())) else {
                return Err(st.error(ins, &format!("cannot tell a file name from '{s}'")));
            };
            out.insert(at(&name), e);
            continue;
        }
        if checksum.is_some() {
            return Err(st.error(ins, "--checksum is only for http(s) sources"));
        }
        let matched = matches(src, s);
        if matched.is_empty() {
            return Err(Error::not_found(
                "source file of the build context (or left out by .dockerignore)",
                s.as_str(),
            ));
        }
        let root = crate::inroot::Root::open(&src.root)?;
        for rel in matched {
            // A link named as a source is followed, as every link on the
            // way, inside the root (an image's `/etc -> /` stays in it).
            let host = followed(&root, &rel).map_err(|e| match e {
                Error::NotFound { .. } => e,
                _ => st.error(ins, &format!("source '{s}' leads outside its root")),
            })?;
            let md = fs::symlink_metadata(&host).map_err(|e| Error::io("stat", &host, e))?;
            let name = rel.rsplit('/').next().unwrap_or_default().to_string();
            let ids = |md: &fs::Metadata| match (owner, src.ignore.is_some()) {
                (Some(o), _) => o,
                (None, true) => (0, 0),
                (None, false) => (md.uid() as u64, md.gid() as u64),
            };
            if md.is_dir() {
                walk(src, &host, &rel, &dest_segs, chmod, &ids, &mut out)?;
            } else if add && add::is_archive(&host) {
                add::unpack(&host, &dest_segs, &mut out, spill)?;
            } else {
                out.insert(at(&name), entry(&host, &md, chmod, ids(&md))?);
            }
        }
    }
    parents(store, st, &mut out, owner.unwrap_or((0, 0)), now);
    Ok(out)
}

/// Where `rel` is on the host, every link on the way (the last one too)
/// followed inside `root`.
pub(super) fn followed(root: &crate::inroot::Root, rel: &str) -> Result<PathBuf> {
    use rustix::fs::{Mode, OFlags};
    let fd = match root.open_at(Path::new(rel), OFlags::PATH, Mode::empty()) {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::not_found(
                "target of the link in the build context",
                rel,
            ))
        }
        r => r?,
    };
    let proc = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
    let real = fs::read_link(&proc).map_err(|e| Error::io("read link", &proc, e))?;
    let top = fs::read_link(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&root.fd())
    ))
    .map_err(|e| Error::io("read link", root.path(), e))?;
    match real.starts_with(&top) {
        true => Ok(real),
        false => Err(Error::Internal(format!(
            "'{rel}' resolved outside its root"
        ))),
    }
}

/// The context paths a source names: itself, or what its glob matches
/// (names matched level by level), less what the ignore file leaves out.
fn matches(src: &From, s: &str) -> Vec<String> {
    let segs = ignore::clean(s);
    let ignored = |rel: &str| {
        src.ignore
            .is_some_and(|i| !rel.is_empty() && i.ignored(rel))
    };
    let Ok(root) = crate::inroot::Root::open(&src.root) else {
        return Vec::new();
    };
    let mut found = vec![String::new()];
    for seg in &segs {
        let mut next = Vec::new();
        for base in &found {
            // Links on the way are followed inside the root.
            if !seg.contains(['*', '?', '[']) {
                let p = join_rel(base, seg);
                if followed(&root, &p).is_ok() {
                    next.push(p);
                }
                continue;
            }
            let Ok(full) = followed(&root, base) else {
                continue;
            };
            let Ok(dir) = fs::read_dir(&full) else {
                continue;
            };
            let mut names: Vec<String> = dir
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            next.extend(
                names
                    .iter()
                    .filter(|n| ignore::glob(seg, n))
                    .map(|n| join_rel(base, n)),
            );
        }
        found = next;
    }
    found.retain(|rel| !ignored(rel));
    found
}

fn join_rel(base: &str, name: &str) -> String {
    match base.is_empty() {
        true => name.to_string(),
        false => format!("{base}/{name}"),
    }
}

pub(super) fn join(segs: &[String], more: &[&str]) -> String {
    segs.iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect::<Vec<_>>()
        .join("/")
}

/// A folder's contents under `dest`, the folder itself as `dest`.
fn walk(
    src: &From,
    dir: &Path,
    rel: &str,
    dest: &[String],
    chmod: Option<u32>,
    ids: &dyn Fn(&fs::Metadata) -> (u64, u64),
    out: &mut BTreeMap<String, Entry>,
) -> Result<()> {
    let md = fs::symlink_metadata(dir).map_err(|e| Error::io("stat", dir, e))?;
    if !dest.is_empty() {
        out.insert(dest.join("/"), entry(dir, &md, chmod, ids(&md))?);
    }
    let mut stack = vec![(dir.to_path_buf(), rel.to_string(), dest.join("/"))];
    while let Some((host, rel, at)) = stack.pop() {
        let list = fs::read_dir(&host).map_err(|e| Error::io("read", &host, e))?;
        for e in list {
            let e = e.map_err(|e| Error::io("read", &host, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let (path, r) = (e.path(), join_rel(&rel, &name));
            let md = fs::symlink_metadata(&path).map_err(|e| Error::io("stat", &path, e))?;
            let ignored = src.ignore.is_some_and(|i| i.ignored(&r));
            let a = join_rel(&at, &name);
            if md.is_dir() && (!ignored || src.ignore.is_some_and(Ignore::has_exceptions)) {
                stack.push((path.clone(), r, a.clone()));
            }
            if !ignored {
                out.insert(a, entry(&path, &md, chmod, ids(&md))?);
            }
        }
    }
    Ok(())
}

fn entry(
    path: &Path,
    md: &fs::Metadata,
    chmod: Option<u32>,
    (uid, gid): (u64, u64),
) -> Result<Entry> {
    let kind = if md.is_dir() {
        Kind::Dir
    } else if md.file_type().is_symlink() {
        Kind::Link(fs::read_link(path).map_err(|e| Error::io("read link", path, e))?)
    } else if md.is_file() {
        Kind::File(path.to_path_buf())
    } else {
        return Err(Error::Unsupported(format!(
            "cannot copy '{}': not a file, folder or link",
            path.display()
        )));
    };
    let mode = match (&kind, chmod) {
        (Kind::Link(_), _) => 0o777,
        (_, Some(m)) => m,
        _ => md.mode() & 0o7777,
    };
    Ok(Entry {
        kind,
        mode,
        uid,
        gid,
        mtime: md.mtime().max(0) as u64,
    })
}

/// The folders above the entries that the image does not have: 0755.
fn parents(
    store: &Store,
    st: &Stage,
    out: &mut BTreeMap<String, Entry>,
    (uid, gid): (u64, u64),
    now: u64,
) {
    let names: Vec<String> = out.keys().cloned().collect();
    for n in names {
        let segs: Vec<String> = n.split('/').map(String::from).collect();
        for k in 1..segs.len() {
            let p = segs[..k].join("/");
            if !out.contains_key(&p) && in_image(store, st, &segs[..k]).is_none() {
                out.insert(
                    p,
                    Entry {
                        kind: Kind::Dir,
                        mode: 0o755,
                        uid,
                        gid,
                        mtime: now,
                    },
                );
            }
        }
    }
}

/// Whether the stage's image has `segs`: `Some(is a folder)`.
fn in_image(store: &Store, st: &Stage, segs: &[String]) -> Option<bool> {
    if segs.is_empty() {
        return st.image.as_ref().map(|_| true);
    }
    image_entry(store, st, segs).map(|(_, m)| m.is_dir())
}

/// The top layer's entry at `segs` (none under a whiteout): its path on
/// the host and its metadata. No link on the way is followed.
fn image_entry(store: &Store, st: &Stage, segs: &[String]) -> Option<(PathBuf, fs::Metadata)> {
    let img = st.image.as_ref()?;
    let found = img.config.rootfs.diff_ids.iter().rev().find_map(|d| {
        let p = store.layer_dir(d).join(segs.join("/"));
        fs::symlink_metadata(&p).ok().map(|m| (p, m))
    });
    // A whiteout (a 0/0 character device) hides what is below.
    found.filter(|(_, m)| !(m.file_type().is_char_device() && m.rdev() == 0))
}

/// A destination in the image with its links followed inside the image's
/// root, as docker does (`COPY f /var/run/` lands in `/run` when
/// `/var/run -> /run`): every folder on the way, and the last name when
/// it leads to a folder.
fn resolve_in_image(store: &Store, st: &Stage, segs: &[String]) -> Vec<String> {
    let whole = follow(store, st, segs, true);
    match in_image(store, st, &whole) {
        Some(true) => whole,
        _ => follow(store, st, segs, false),
    }
}

fn follow(store: &Store, st: &Stage, segs: &[String], last: bool) -> Vec<String> {
    let mut todo: std::collections::VecDeque<String> = segs.iter().cloned().collect();
    let mut done: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(seg) = todo.pop_front() {
        match seg.as_str() {
            "" | "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => done.push(seg),
        }
        if todo.is_empty() && !last {
            break;
        }
        let Some((path, md)) = image_entry(store, st, &done) else {
            continue;
        };
        // 40 links at most, as the kernel's path walk (ELOOP).
        if !md.file_type().is_symlink() || hops == 40 {
            continue;
        }
        let Ok(target) = fs::read_link(&path) else {
            continue;
        };
        hops += 1;
        done.pop();
        if target.is_absolute() {
            done.clear();
        }
        let parts = target
            .to_string_lossy()
            .split('/')
            .map(String::from)
            .collect::<Vec<_>>();
        for p in parts.into_iter().rev() {
            todo.push_front(p);
        }
    }
    done
}

/// `--chown=USER[:GROUP]`: ids, or names from the image's /etc/passwd
/// and /etc/group. A user alone gives its primary group.
fn owner_of(store: &Store, st: &Stage, spec: &str) -> std::result::Result<(u64, u64), String> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = image_file(store, st, "etc/passwd");
    let user = |name: &str| {
        passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 3 && f[0] == name)
    };
    let (uid, primary) = match u.parse::<u64>() {
        Ok(n) => (n, n),
        Err(_) => {
            let f = user(u).ok_or_else(|| format!("unknown user '{u}' in --chown"))?;
            (f[2].parse().unwrap_or(0), f[3].parse().unwrap_or(0))
        }
    };
    let gid = match g {
        None => primary,
        Some(g) => match g.parse::<u64>() {
            Ok(n) => n,
            Err(_) => image_file(store, st, "etc/group")
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| format!("unknown group '{g}' in --chown"))?,
        },
    };
    Ok((uid, gid))
}

/// A file of the stage's image, from the top layer that has it.
fn image_file(store: &Store, st: &Stage, rel: &str) -> String {
    let Some(img) = &st.image else {
        return String::new();
    };
    img.config
        .rootfs
        .diff_ids
        .iter()
        .rev()
        .find_map(|d| fs::read_to_string(store.layer_dir(d).join(rel)).ok())
        .unwrap_or_default()
}

/// An image mounted read-only on the host, unmounted when dropped.
pub(super) struct Mounted<'a> {
    store: &'a Store,
    pub root: PathBuf,
}

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = crate::hostmount::unmount(self.store, &self.root.to_string_lossy());
    }
}

/// `COPY --from`: a stage built before (by name or index) or an image,
/// mounted read-only.
fn source_image<'a>(store: &'a Store, st: &Stage, r: &str) -> Result<Mounted<'a>> {
    mount_source(store, st, r, false)
}

/// A stage built before or an image, mounted; `rw`: writable, what is
/// written gone when it is unmounted.
pub(super) fn mount_source<'a>(
    store: &'a Store,
    st: &Stage,
    r: &str,
    rw: bool,
) -> Result<Mounted<'a>> {
    let id = super::source_id(store, st, r)?;
    let root = crate::hostmount::mount(store, &id, rw)?;
    Ok(Mounted { store, root })
}

/// The cache's view of the entries: names, kinds, modes, owners, link
/// targets and bytes; not mtimes.
fn hash(list: &BTreeMap<String, Entry>) -> Result<String> {
    let mut h = Sha256::new();
    for (name, e) in list {
        h.update(format!("{name}\0{}\0{}\0{}\0", e.mode, e.uid, e.gid));
        match &e.kind {
            Kind::Dir => h.update(b"d"),
            Kind::Link(t) => h.update(format!("l{}", t.display())),
            Kind::Bytes(b) => {
                h.update(format!("f{}\0", b.len()));
                h.update(b);
            }
            Kind::File(p) => {
                let mut f = File::open(p).map_err(|e| Error::io("open", p, e))?;
                let md = f.metadata().map_err(|e| Error::io("stat", p, e))?;
                h.update(format!("f{}\0", md.len()));
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = f.read(&mut buf).map_err(|e| Error::io("read", p, e))?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
            }
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// The layer tar, entries in name order, mtimes clamped to `timestamp`.
fn write_tar(path: &Path, list: &BTreeMap<String, Entry>, timestamp: Option<i64>) -> Result<()> {
    let f = File::create(path).map_err(|e| Error::io("create", path, e))?;
    let mut b = tar::Builder::new(BufWriter::with_capacity(1 << 20, f));
    let clamp = timestamp.map(|t| t.max(0) as u64).unwrap_or(u64::MAX);
    let w = |e: std::io::Error| Error::io("write", path, e);
    for (name, e) in list {
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime.min(clamp));
        match &e.kind {
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, format!("{name}/"), std::io::empty())
                    .map_err(w)?;
            }
            Kind::Link(t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, name, t).map_err(w)?;
            }
            Kind::Bytes(data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, &data[..]).map_err(w)?;
            }
            Kind::File(p) => {
                h.set_entry_type(tar::EntryType::Regular);
                let f = File::open(p).map_err(|e| Error::io("open", p, e))?;
                h.set_size(f.metadata().map_err(|e| Error::io("stat", p, e))?.len());
                b.append_data(&mut h, name, f).map_err(w)?;
            }
        }
    }
    b.into_inner().and_then(|mut w| w.flush()).map_err(w)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
