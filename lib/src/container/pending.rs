//! Records on their way in or out. `containers/.pending/` holds a new
//! record until it is complete (`new-<id>-<pid>-<start>`) and a removed one
//! while it is deleted (`rm-<id>-<pid>-<start>`); the pid and its start
//! time name the process at work. A record is thus either complete in
//! `containers/<id>/` or invisible here, and an entry whose process is gone
//! was left by a kill: `collect`, run by every program that opens the
//! store, deletes it (and frees its name).
//!
//! Moving a record here is also how a removal claims it: of several
//! programs removing one container, one rename succeeds and the others
//! find it gone.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::names;
use super::state::pid_start_time;
use crate::error::{Error, Result};
use crate::store::Store;

/// What an entry is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A record being created.
    New,
    /// A record being deleted.
    Rm,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Rm => "rm",
        }
    }
}

pub fn dir(store: &Store) -> PathBuf {
    store.containers_dir().join(".pending")
}

/// `<pid>-<start time>` of this process: what an entry's owner is.
fn me() -> &'static str {
    static ME: OnceLock<String> = OnceLock::new();
    ME.get_or_init(|| {
        let pid = std::process::id() as i32;
        format!("{pid}-{}", pid_start_time(pid).unwrap_or(0))
    })
}

/// The entry this process uses for record `id`.
pub fn entry(store: &Store, kind: Kind, id: &str) -> PathBuf {
    dir(store).join(format!("{}-{id}-{}", kind.prefix(), me()))
}

/// Makes the folder of a new record, owned by this process.
pub fn make_new(store: &Store, id: &str) -> Result<PathBuf> {
    let d = dir(store);
    fs::create_dir_all(&d).map_err(|e| Error::io("create", &d, e))?;
    let e = entry(store, Kind::New, id);
    fs::create_dir(&e).map_err(|err| Error::io("create", &e, err))?;
    Ok(e)
}

/// Claims `from` (a record, or an abandoned entry) for deletion by this
/// process: one rename, which only one claimer wins. A record already
/// gone is `NotFound`.
pub fn claim(store: &Store, from: &Path, id: &str) -> Result<PathBuf> {
    let d = dir(store);
    fs::create_dir_all(&d).map_err(|e| Error::io("create", &d, e))?;
    let to = entry(store, Kind::Rm, id);
    match fs::rename(from, &to) {
        Ok(()) => Ok(to),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::not_found("container", id)),
        Err(e) => Err(Error::io("remove", from, e)),
    }
}

/// An entry's kind, record id and whether its owner still runs.
fn parse(name: &str) -> Option<(Kind, &str, bool)> {
    let (kind, rest) = match name.split_once('-')? {
        ("new", r) => (Kind::New, r),
        ("rm", r) => (Kind::Rm, r),
        _ => return None,
    };
    let mut parts = rest.rsplitn(3, '-');
    let start: u64 = parts.next()?.parse().ok()?;
    let pid: i32 = parts.next()?.parse().ok()?;
    let id = parts.next()?;
    let alive = pid_start_time(pid) == Some(start);
    Some((kind, id, alive))
}

/// Whether a live process is creating record `id` right now.
pub fn being_created(store: &Store, id: &str) -> bool {
    let Ok(rd) = fs::read_dir(dir(store)) else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        parse(&name.to_string_lossy())
            .is_some_and(|(k, i, alive)| k == Kind::New && i == id && alive)
    })
}

/// Finishes what killed programs left: entries whose owner is gone are
/// deleted and their names freed. Costs one stat when there are none: a
/// folder's link count is 2 plus its subfolders (ext4, xfs, tmpfs); a
/// filesystem that does not count them (btrfs: 1) is read every time.
/// Best effort: whatever fails is found again by the next program.
pub fn collect(store: &Store) {
    let d = dir(store);
    match fs::metadata(&d) {
        Ok(m) if m.nlink() != 2 => {}
        _ => return,
    }
    let Ok(rd) = fs::read_dir(&d) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        match parse(&name) {
            Some((_, id, false)) => {
                let id = id.to_string();
                if let Ok(mine) = claim(store, &e.path(), &id) {
                    delete(store, &mine, &id);
                }
            }
            Some((_, _, true)) => {}
            // Not ours to judge (a folder someone made by hand).
            None => {}
        }
    }
}

/// Deletes a claimed entry after freeing any name still pointing at its
/// record (a kill between the claim and the name's release leaves one).
pub fn delete(store: &Store, entry: &Path, id: &str) {
    names::release_all_of(store, id);
    let _ = crate::tree::remove_tree(entry);
}

/// A record folder left by an older cc: `.rm-<id>` (a killed cc-rm) or
/// `<id>` without config.json (a killed cc-run). Claimed and deleted.
pub fn collect_legacy(store: &Store, path: &Path, id: &str) {
    if let Ok(mine) = claim(store, path, id) {
        delete(store, &mine, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_their_owner() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        let e = make_new(&s, "abc").unwrap();
        let name = e.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            parse(&name).map(|(k, i, a)| (k, i.to_string(), a)),
            Some((Kind::New, "abc".into(), true))
        );
        assert!(being_created(&s, "abc"));
        // Ours, alive: collect leaves it.
        collect(&s);
        assert!(e.exists());
        // A dead owner's (no process has start time 1 and pid i32::MAX).
        let dead = dir(&s).join(format!("rm-def-{}-1", i32::MAX));
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("f"), "x").unwrap();
        collect(&s);
        assert!(!dead.exists(), "an abandoned entry is collected");
        assert!(e.exists());
        assert!(parse("rm-x").is_none());
        assert!(parse("other").is_none());
    }
}
