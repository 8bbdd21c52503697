//! The store's tmp/: scratch files and folders of running programs, and
//! the collection of those whose program died.
//!
//! Every name made here carries its owner: `<kind>-<pid>-<start>-<rand>`,
//! where `<start>` is the owner's start time (field 22 of /proc/PID/stat),
//! so a pid reused by another process does not look like the owner. A
//! killed pull, import, commit or push leaves such an entry behind; the
//! next program that opens the store (`collect`, from `Store::open`)
//! removes every entry whose owner is gone. That costs one readdir of
//! tmp/, which is empty when nothing is in flight.
//!
//! Resumable downloads (`partial-<hex>`, see registry/blob.rs) are owned by
//! an flock instead and outlive their puller on purpose: the next pull of
//! the blob continues them. An unowned one is kept for `PARTIAL_MAX_AGE`
//! after its last write, then collected; it never holds more than its
//! blob's size. The second copies `partial-<hex>-<rand>` (made when another
//! pull held the first) are never resumed and go as soon as unowned.
//! A name cc does not make (or an older cc made without an owner) goes
//! once it has not changed for `PARTIAL_MAX_AGE`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::store::random_hex;

/// How long an unowned resumable download (or an unknown entry) is kept.
pub const PARTIAL_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// A fresh path in `tmp` owned by this process: `<kind>-<pid>-<start>-<rand><suffix>`.
pub fn owned_path(tmp: &Path, kind: &str, suffix: &str) -> crate::Result<PathBuf> {
    let (pid, start) = me();
    Ok(tmp.join(format!("{kind}-{pid}-{start}-{}{suffix}", random_hex(6)?)))
}

/// This process's pid and start time, read once.
fn me() -> (u32, u64) {
    static ME: OnceLock<(u32, u64)> = OnceLock::new();
    *ME.get_or_init(|| {
        let pid = std::process::id();
        (pid, pid_start_time(pid as i32).unwrap_or(0))
    })
}

/// Field 22 (starttime) of /proc/PID/stat; `None` when the pid is gone.
pub fn pid_start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: skip to
    // the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// Who owns an entry of tmp/, read from its name.
#[derive(Debug, PartialEq, Eq)]
enum Owner {
    /// A process, by pid and start time.
    Process(i32, u64),
    /// `partial-<hex>`: whoever holds its flock; resumable.
    Resumable,
    /// `partial-<hex>-<rand>`: whoever holds its flock; not resumable.
    Locked,
    /// Nothing in the name says.
    Unknown,
}

fn owner_of(name: &str) -> Owner {
    if let Some(rest) = name.strip_prefix("partial-") {
        return if rest.contains('-') {
            Owner::Locked
        } else {
            Owner::Resumable
        };
    }
    let mut parts = name.split('-');
    let (_kind, pid, start, rand) = (parts.next(), parts.next(), parts.next(), parts.next());
    match (
        pid.and_then(|p| p.parse().ok()),
        start.and_then(|s| s.parse().ok()),
        rand,
    ) {
        (Some(pid), Some(start), Some(_)) if parts.next().is_none() => Owner::Process(pid, start),
        _ => Owner::Unknown,
    }
}

/// Removes every entry of `tmp` whose owner is gone. Best effort: an entry
/// that cannot be removed now is tried again by the next program.
pub fn collect(tmp: &Path) {
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if orphaned(&e.path(), owner_of(name)) {
            remove(&e.path());
        }
    }
}

fn orphaned(path: &Path, owner: Owner) -> bool {
    match owner {
        Owner::Process(pid, start) => pid_start_time(pid) != Some(start),
        Owner::Resumable => stale(path) && unlocked(path),
        Owner::Locked => unlocked(path),
        Owner::Unknown => stale(path),
    }
}

/// Not written for `PARTIAL_MAX_AGE`.
fn stale(path: &Path) -> bool {
    let modified = fs::symlink_metadata(path).and_then(|m| m.modified());
    modified.is_ok_and(|t| {
        SystemTime::now()
            .duration_since(t)
            .is_ok_and(|age| age > PARTIAL_MAX_AGE)
    })
}

/// No process holds the file's flock. Our probe takes it for an instant;
/// a puller that meets it then downloads into a second copy (blob.rs).
fn unlocked(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| f.try_lock().is_ok())
}

fn remove(path: &Path) {
    let is_dir = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let _ = if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
}

/// Bytes held under `tmp` (allocated blocks, as du counts), for cc-info.
pub fn usage(tmp: &Path) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut todo = vec![tmp.to_path_buf()];
    // Iterative: a half-unpacked layer may be deep.
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir)?.flatten() {
            let Ok(m) = e.metadata() else { continue };
            total += m.blocks() * 512;
            if m.is_dir() {
                todo.push(e.path());
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_read_from_names() {
        assert_eq!(owner_of("layer-12-345-abcdef"), Owner::Process(12, 345));
        assert_eq!(owner_of("load-12-345-abcdef.tar"), Owner::Process(12, 345));
        assert_eq!(owner_of("partial-abc"), Owner::Resumable);
        assert_eq!(owner_of("partial-abc-123"), Owner::Locked);
        assert_eq!(owner_of("blob-0123456789abcdef"), Owner::Unknown);
    }

    #[test]
    fn a_dead_owners_entries_go_and_a_live_ones_stay() {
        let t = tempfile::tempdir().unwrap();
        let mine = owned_path(t.path(), "layer", "").unwrap();
        fs::create_dir_all(mine.join("a/b")).unwrap();
        // pid 1 started long before this time: a dead owner.
        let dead = t.path().join("blob-1-99999999999-abcdef");
        fs::write(&dead, b"x").unwrap();
        let resumable = t.path().join("partial-abc");
        fs::write(&resumable, b"x").unwrap();
        let copy = t.path().join("partial-abc-0f0f");
        fs::write(&copy, b"x").unwrap();
        collect(t.path());
        assert!(mine.exists() && resumable.exists());
        assert!(!dead.exists() && !copy.exists());
    }
}
