//! `RUN --mount=…` as BuildKit has them, turned into cc-run's volumes and
//! tmpfs: `type=cache` a folder of the store (`build-mounts/cache/<hash of
//! its id>`) that persists between builds; `type=bind` a path of the
//! context, read-only; `type=tmpfs` a fresh tmpfs. `type=secret`,
//! `type=ssh`, binds `from=` another stage and `rw` binds are refused.

use std::path::PathBuf;

use super::Stage;
use crate::dockerfile::ignore::clean;
use crate::dockerfile::Instruction;
use crate::error::{Error, Result};
use crate::run::RunOptions;
use crate::store::Store;

/// The store's folder of cache mounts.
pub const DIR: &str = "build-mounts";

/// Adds the mounts of `specs` to the run's options.
pub fn apply(
    store: &Store,
    st: &Stage,
    ins: &Instruction,
    specs: &[&str],
    o: &mut RunOptions,
) -> Result<()> {
    for spec in specs {
        let mut kind = "bind";
        let (mut target, mut source, mut id, mut rw) = (None, None, None, false);
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
                _ => {
                    return Err(
                        st.error(ins, &format!("--mount: '{k}' is not supported by cc-build"))
                    )
                }
            }
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
    Ok(())
}
