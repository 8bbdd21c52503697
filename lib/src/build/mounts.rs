//! `RUN --mount=…` as BuildKit has them, turned into cc-run's volumes and
//! tmpfs: `type=cache` a folder of the store (`build-mounts/cache/<hash of
//! its id>`) that persists between builds, shared by RUNs at once as
//! its `sharing=` says; `type=bind` a path of the
//! context (or, with `from=`, of another stage or image), read-only, or
//! with `rw` writable and its writes thrown away; `type=tmpfs` a fresh tmpfs; `type=secret` a
//! `--secret`'s bytes as a read-only file (a copy in the store's tmp/ with
//! the mount's mode and owner, gone after the RUN). `type=ssh` is refused.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Stage;
use crate::dockerfile::ignore::clean;
use crate::dockerfile::Instruction;
use crate::error::{Error, Result};
use crate::run::RunOptions;
use crate::store::Store;

/// The store's folder of cache mounts.
pub const DIR: &str = "build-mounts";

/// A file made for one RUN (a secret's copy), removed when dropped.
pub struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A secret's mount: docker's defaults (mode 0400, root's), as asked.
#[derive(Debug, Default)]
struct SecretFile {
    required: bool,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
}

/// What a RUN's mounts leave to do: the secrets' files to remove when it
/// ends (on drop), the targets whose mount points go before the commit.
pub struct Applied<'a> {
    _scratch: Vec<Scratch>,
    /// Images mounted for `from=` binds, throwaway overlays for `rw` ones.
    _held: Vec<Box<dyn Held + 'a>>,
    targets: Vec<String>,
}

/// Something a RUN's mounts need until it ends (dropped after).
trait Held {}
impl<T> Held for T {}

/// How a RUN uses a cache mount's folder.
enum Use {
    /// The folder, under the lock its sharing mode takes.
    Folder(std::fs::File),
    /// `sharing=private` while another RUN uses the folder: an empty one
    /// of the store's tmp/, removed after.
    Fresh(FreshDir),
}

/// A folder of the store's tmp/, removed when dropped.
struct FreshDir(PathBuf);

impl Drop for FreshDir {
    fn drop(&mut self) {
        let _ = crate::tree::remove_tree(&self.0);
    }
}

/// BuildKit's sharing modes, with a lock file beside the cache folder:
/// `shared` RUNs use it at once (a shared lock), `locked` waits to be
/// alone (an exclusive one), `private` is alone or gets a fresh folder.
fn cache_lock(store: &Store, dir: &Path, sharing: &str) -> Result<Use> {
    let path = dir.with_extension("lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    let locked = match sharing {
        "locked" => f.lock().map(|_| true),
        "private" => match f.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        },
        _ => f.lock_shared().map(|_| true),
    };
    match locked.map_err(|e| Error::io("lock", &path, e))? {
        true => Ok(Use::Folder(f)),
        false => {
            let fresh = crate::store::tmp::owned_path(&store.tmp_dir(), "cache", "")?;
            std::fs::create_dir(&fresh).map_err(|e| Error::io("create", &fresh, e))?;
            Ok(Use::Fresh(FreshDir(fresh)))
        }
    }
}

/// A writable view of a context path whose writes are thrown away: an
/// overlay on a folder, a copy of a file, in the store's tmp/; unmounted
/// and removed when dropped.
struct Throwaway {
    dir: PathBuf,
    path: PathBuf,
}

impl Throwaway {
    fn new(store: &Store, src: &Path) -> Result<Throwaway> {
        let dir = crate::store::tmp::owned_path(&store.tmp_dir(), "bind", "")?;
        let mut t = Throwaway {
            path: dir.join("merged"),
            dir,
        };
        let made = (|| {
            std::fs::create_dir_all(&t.dir).map_err(|e| Error::io("create", &t.dir, e))?;
            if !src.is_dir() {
                t.path = t.dir.join("file");
                std::fs::copy(src, &t.path).map_err(|e| Error::io("copy", src, e))?;
                return Ok(());
            }
            let (upper, work) = (t.dir.join("upper"), t.dir.join("work"));
            for d in [&upper, &work, &t.path] {
                std::fs::create_dir(d).map_err(|e| Error::io("create", d, e))?;
            }
            crate::mount::overlay(&[src.to_path_buf()], Some((&upper, &work)), &t.path)
        })();
        made.map(|_| t)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if crate::mount::is_mountpoint(&self.path) {
            let _ = crate::mount::unmount(&self.path, false);
        }
        let _ = crate::tree::remove_tree(&self.dir);
    }
}

/// Adds the mounts of `specs` to the run's options; what it returns must
/// live until the RUN ends.
pub fn apply<'a>(
    store: &'a Store,
    st: &Stage,
    ins: &Instruction,
    specs: &[&str],
    o: &mut RunOptions,
) -> Result<Applied<'a>> {
    let mut scratch = Vec::new();
    let mut held: Vec<Box<dyn Held + 'a>> = Vec::new();
    let mut targets = Vec::new();
    for spec in specs {
        let mut kind = "bind";
        let mut sharing = "shared";
        let (mut target, mut source, mut id, mut rw) = (None, None, None, false);
        let mut from: Option<String> = None;
        let mut secret = SecretFile::default();
        let number = |k: &str, v: &str, radix: u32| {
            u32::from_str_radix(v, radix)
                .map_err(|_| st.error(ins, &format!("--mount: {k}={v} is not a number")))
        };
        for field in spec.split(',') {
            let (k, v) = field.split_once('=').unwrap_or((field, "true"));
            match k {
                "type" => kind = v,
                "target" | "dst" | "destination" => target = Some(v.to_string()),
                "source" | "src" => source = Some(v.to_string()),
                "from" => from = Some(v.to_string()),
                "id" => id = Some(v.to_string()),
                "rw" | "readwrite" => rw = v == "true",
                "ro" | "readonly" => rw = v != "true",
                "sharing" => match v {
                    "shared" | "locked" | "private" => sharing = v,
                    _ => {
                        return Err(st.error(
                            ins,
                            &format!("--mount: sharing={v}: shared, locked or private"),
                        ))
                    }
                },
                "required" => secret.required = v == "true",
                "mode" => secret.mode = Some(number(k, v, 8)?),
                "uid" => secret.uid = Some(number(k, v, 10)?),
                "gid" => secret.gid = Some(number(k, v, 10)?),
                _ => {
                    return Err(
                        st.error(ins, &format!("--mount: '{k}' is not supported by cc-build"))
                    )
                }
            }
        }
        if kind == "secret" {
            // id defaults to the target's name, the target to /run/secrets/ID.
            let id = id
                .or_else(|| target.as_deref().and_then(|t| clean(t).last().cloned()))
                .ok_or_else(|| st.error(ins, &format!("--mount '{spec}': a secret needs an id")))?;
            let Some(bytes) = st.o.secrets.get(&id) else {
                if secret.required {
                    return Err(Error::not_found("secret (--secret id=…)", &id));
                }
                continue;
            };
            let target = target.unwrap_or_else(|| format!("/run/secrets/{id}"));
            let target = format!("/{}", clean(&target).join("/"));
            let file = secret_file(store, bytes, &secret)?;
            o.volumes.push(format!("{}:{target}:ro", file.0.display()));
            scratch.push(file);
            targets.push(target);
            continue;
        }
        if !matches!(kind, "cache" | "bind" | "tmpfs") {
            return Err(Error::Unsupported(format!(
                "{}:{}: RUN: --mount=type={kind} is not supported by cc-build yet",
                st.o.file_name, ins.line
            )));
        }
        let Some(target) = target else {
            return Err(st.error(ins, &format!("--mount '{spec}': a target is needed")));
        };
        let target = format!("/{}", clean(&target).join("/"));
        targets.push(target.clone());
        match kind {
            "cache" => {
                let key = id.unwrap_or_else(|| target.clone());
                let dir = store.root().join(DIR).join("cache").join(
                    crate::image::digest::sha256(key.as_bytes()).trim_start_matches("sha256:"),
                );
                std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
                let dir = match cache_lock(store, &dir, sharing)? {
                    Use::Folder(lock) => {
                        held.push(Box::new(lock));
                        dir
                    }
                    Use::Fresh(fresh) => {
                        let p = fresh.0.clone();
                        held.push(Box::new(fresh));
                        p
                    }
                };
                o.volumes.push(format!("{}:{target}", dir.display()));
            }
            "bind" => {
                let rel = clean(source.as_deref().unwrap_or(".")).join("/");
                // The context, or another stage's or image's root mounted
                // (writable with rw, its writes gone at the unmount).
                let image = match &from {
                    Some(r) => Some(super::copy::mount_source(store, st, r, rw)?),
                    None => None,
                };
                let root = image
                    .as_ref()
                    .map_or(st.o.context.clone(), |m| m.root.clone());
                let root = crate::inroot::Root::open(&root)?;
                // Links are followed inside the root, never out of it.
                let real = super::copy::followed(&root, &rel).map_err(|_| {
                    Error::not_found("--mount source", source.clone().unwrap_or_default())
                })?;
                let real = match (rw, image.is_some()) {
                    // BuildKit throws rw writes away: the context's own
                    // files are reached through a throwaway overlay.
                    (true, false) => {
                        let t = Throwaway::new(store, &real)?;
                        let p = t.path.clone();
                        held.push(Box::new(t));
                        p
                    }
                    _ => real,
                };
                let ro = if rw { "" } else { ":ro" };
                o.volumes.push(format!("{}:{target}{ro}", real.display()));
                if let Some(m) = image {
                    held.push(Box::new(m));
                }
            }
            _ => o.tmpfs.push(target),
        }
    }
    Ok(Applied {
        _scratch: scratch,
        _held: held,
        targets,
    })
}

impl Applied<'_> {
    /// Removes from the finished RUN's `upper` the mount points made for
    /// its mounts, as BuildKit does, so the layer holds none of them: an
    /// entry at a mount target in the upper can only be one (the RUN saw
    /// the mount there, not the folder under it), and each empty parent
    /// folder after it that is as cc-run makes one (0755, root's, not
    /// opaque) — made for the mount, or copied up by it and equal below.
    /// Nothing is followed: a link on the way (the RUN may leave one)
    /// ends the walk.
    pub fn drop_mount_points(&self, upper: &Path) {
        for target in &self.targets {
            let parts: Vec<&str> = target.split('/').filter(|p| !p.is_empty()).collect();
            // The deepest first; a walk ends at the first that stays.
            for depth in (1..=parts.len()).rev() {
                let Some(path) = plain_path(upper, &parts[..depth]) else {
                    break;
                };
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                let gone = match meta.file_type() {
                    t if t.is_file() && depth == parts.len() => {
                        meta.len() == 0 && std::fs::remove_file(&path).is_ok()
                    }
                    t if t.is_dir() => {
                        (depth == parts.len()
                            || (meta.mode() & 0o7777 == 0o755
                                && meta.uid() == 0
                                && meta.gid() == 0))
                            && !opaque(&path)
                            && std::fs::remove_dir(&path).is_ok()
                    }
                    _ => false,
                };
                if !gone {
                    break;
                }
            }
        }
    }
}

/// `upper/a/b/…` when no part of it is a symbolic link.
fn plain_path(upper: &Path, parts: &[&str]) -> Option<PathBuf> {
    let mut p = upper.to_path_buf();
    for part in parts {
        p.push(part);
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return None;
        }
    }
    Some(p)
}

/// Whether overlayfs marked the folder opaque (it replaced the one below).
fn opaque(path: &Path) -> bool {
    let mut buf = [0u8; 8];
    [&b"trusted.overlay.opaque"[..], b"user.overlay.opaque"]
        .iter()
        .any(|k| rustix::fs::lgetxattr(path, *k, &mut buf[..]).is_ok())
}

/// The secret's bytes in a new file of the store's tmp/ (0700, root's),
/// with the mode and owner the RUN sees.
fn secret_file(store: &Store, bytes: &[u8], s: &SecretFile) -> Result<Scratch> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = crate::store::tmp::owned_path(&store.tmp_dir(), "secret", "")?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    let file = Scratch(path);
    let path = &file.0;
    f.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    std::os::unix::fs::fchown(&f, Some(s.uid.unwrap_or(0)), Some(s.gid.unwrap_or(0)))
        .map_err(|e| Error::io("chown", path, e))?;
    f.set_permissions(std::fs::Permissions::from_mode(s.mode.unwrap_or(0o400)))
        .map_err(|e| Error::io("chmod", path, e))?;
    Ok(file)
}
