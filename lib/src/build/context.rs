//! The build context and the Containerfile: a folder, or a tar on stdin
//! unpacked into the store's tmp/ (removed when the build ends); the file
//! from `-f`, from stdin (`-f -`), or `Containerfile`/`Dockerfile` of the
//! context; its ignore file `<file>.dockerignore` beside it, else the
//! context's `.dockerignore`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::dockerfile::ignore::Ignore;
use crate::error::{Error, Result};
use crate::store::Store;

/// The context folder; a temporary one is removed when dropped.
pub struct Context {
    pub dir: PathBuf,
    tmp: bool,
}

impl Drop for Context {
    fn drop(&mut self) {
        if self.tmp {
            let _ = crate::tree::remove_tree(&self.dir);
        }
    }
}

/// What was read: the context, the file's text and name, its ignore rules.
pub struct Loaded {
    pub context: Context,
    pub text: String,
    pub name: String,
    pub ignore: Ignore,
}

/// Reads the context (`-`: a tar on stdin) and the Containerfile (`-f`;
/// `-`: stdin).
pub fn load(store: &Store, context: &str, file: Option<&str>) -> Result<Loaded> {
    if context == "-" && file == Some("-") {
        return Err(Error::Usage(
            "the context and the Containerfile cannot both come from stdin".into(),
        ));
    }
    let ctx = match context {
        "-" => from_tar(store, std::io::stdin().lock())?,
        dir => {
            let p = PathBuf::from(dir);
            if !p.is_dir() {
                return Err(Error::not_found("build context folder", dir));
            }
            Context { dir: p, tmp: false }
        }
    };
    let (text, name, path) = match file {
        Some("-") => {
            let mut t = String::new();
            std::io::stdin()
                .read_to_string(&mut t)
                .map_err(|e| Error::io("read", "stdin", e))?;
            (t, "-".to_string(), None)
        }
        Some(f) => {
            // A context from stdin holds the file: -f names it inside.
            let p = match context {
                "-" => ctx.dir.join(f),
                _ => PathBuf::from(f),
            };
            (read(&p, f)?, f.to_string(), Some(p))
        }
        None => {
            let p = ["Containerfile", "Dockerfile"]
                .iter()
                .map(|n| ctx.dir.join(n))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    Error::not_found("Containerfile or Dockerfile in the context", context)
                })?;
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (read(&p, &name)?, name, Some(p))
        }
    };
    let own = path.map(|p| PathBuf::from(format!("{}.dockerignore", p.display())));
    let ignore = own
        .filter(|p| p.is_file())
        .or_else(|| Some(ctx.dir.join(".dockerignore")).filter(|p| p.is_file()))
        .map(|p| fs::read_to_string(&p).map_err(|e| Error::io("read", &p, e)))
        .transpose()?
        .map(|t| Ignore::parse(&t))
        .unwrap_or_default();
    Ok(Loaded {
        context: ctx,
        text,
        name,
        ignore,
    })
}

fn read(p: &Path, shown: &str) -> Result<String> {
    fs::read_to_string(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found("Containerfile", shown),
        _ => Error::io("read", p, e),
    })
}

/// A tar stream unpacked into a folder of the store's tmp/ (the tar
/// crate's unpack refuses names that leave it).
fn from_tar(store: &Store, input: impl Read) -> Result<Context> {
    let dir = crate::store::tmp::owned_path(&store.tmp_dir(), "context", "")?;
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    let ctx = Context { dir, tmp: true };
    let mut ar = tar::Archive::new(input);
    ar.set_preserve_permissions(true);
    ar.unpack(&ctx.dir)
        .map_err(|e| Error::Damaged(format!("cannot read the build context from stdin: {e}")))?;
    Ok(ctx)
}
