//! `RUN --mount=…` as BuildKit has them, turned into cc-run's volumes and
//! tmpfs: `type=cache` a folder of the store (`build-mounts/cache/<hash of
//! its id>`) that persists between builds; `type=bind` a path of the
//! context, read-only; `type=tmpfs` a fresh tmpfs; `type=secret` a
//! `--secret`'s bytes as a read-only file (a copy in the store's tmp/ with
//! the mount's mode and owner, gone after the RUN). `type=ssh`, binds
//! `from=` another stage and `rw` binds are refused.

use std::path::PathBuf;

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

/// Adds the mounts of `specs` to the run's options; what it returns must
/// live until the RUN ends.
pub fn apply(
    store: &Store,
    st: &Stage,
    ins: &Instruction,
    specs: &[&str],
    o: &mut RunOptions,
) -> Result<Vec<Scratch>> {
    let mut scratch = Vec::new();
    for spec in specs {
        let mut kind = "bind";
        let (mut target, mut source, mut id, mut rw) = (None, None, None, false);
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
                "from" => {
                    return Err(Error::Unsupported(format!(
                        "{}:{}: RUN: --mount from= is not supported by cc-build yet",
                        st.o.file_name, ins.line
                    )))
                }
                "id" => id = Some(v.to_string()),
                "rw" | "readwrite" => rw = v == "true",
                "ro" | "readonly" => rw = v != "true",
                // Each build runs its steps one after another: every
                // sharing mode gives the same folder.
                "sharing" => {}
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
        match kind {
            "cache" => {
                let key = id.unwrap_or_else(|| target.clone());
                let dir = store.root().join(DIR).join("cache").join(
                    crate::image::digest::sha256(key.as_bytes()).trim_start_matches("sha256:"),
                );
                std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
                o.volumes.push(format!("{}:{target}", dir.display()));
            }
            "bind" => {
                let rel = clean(source.as_deref().unwrap_or("."));
                let src: PathBuf = st.o.context.join(rel.join("/"));
                // A link in the context must not lead out of it.
                let (real, ctx) = (src.canonicalize(), st.o.context.canonicalize());
                match (real, ctx) {
                    // BuildKit throws rw writes away; here they would
                    // reach the context's files.
                    _ if rw => {
                        return Err(Error::Unsupported(format!(
                            "{}:{}: RUN: --mount=type=bind,rw is not supported by cc-build yet",
                            st.o.file_name, ins.line
                        )))
                    }
                    (Ok(r), Ok(c)) if r.starts_with(&c) => {
                        o.volumes.push(format!("{}:{target}:ro", r.display()));
                    }
                    _ => {
                        return Err(Error::not_found(
                            "--mount source in the build context",
                            source.unwrap_or_default(),
                        ))
                    }
                }
            }
            _ => o.tmpfs.push(target),
        }
    }
    Ok(scratch)
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
