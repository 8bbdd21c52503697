//! Container names: `containers/.names/<name>` is a symlink to the id.
//! symlink(2) fails when the name exists, so two programs racing for one
//! name cannot both win. A new record's name is taken after its pending
//! folder exists (see `pending`), so a link to a record that neither
//! exists nor is being created was left by a kill: it is taken over.
//! Taking over and freeing a name happen under the store's `names` lock,
//! so neither removes a link that someone else has just made.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::store::{random_hex, Store};

fn names_dir(store: &Store) -> PathBuf {
    store.containers_dir().join(".names")
}

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*` (docker's characters; one character is
/// enough, as podman allows), at most 128 bytes. Names made only of hex
/// digits (`cafe`, `c1`, `e2e`) are fine: a query tries a full id, then a
/// name, then an id prefix (`container::resolve`).
pub fn validate(name: &str) -> Result<()> {
    let mut b = name.bytes();
    let ok = b.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        && name.len() <= 128;
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid container name '{name}': only [a-zA-Z0-9][a-zA-Z0-9_.-]* are allowed"
        )))
    }
}

/// Reserves `name` for `id`; an error names the container that has it.
pub fn reserve(store: &Store, name: &str, id: &str) -> Result<()> {
    validate(name)?;
    let dir = names_dir(store);
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    match symlink(id, dir.join(name)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => take_over(store, name, id),
        Err(e) => Err(Error::io("reserve name", dir.join(name), e)),
    }
}

/// Takes `name` from a record that was never completed or is gone;
/// otherwise the error names the container that has it.
fn take_over(store: &Store, name: &str, id: &str) -> Result<()> {
    let link = names_dir(store).join(name);
    let _lock = store.lock("names")?;
    let owner = lookup(store, name).unwrap_or_default();
    let stale = !owner.is_empty()
        && !store.container_dir(&owner).exists()
        && !super::pending::being_created(store, &owner);
    if stale {
        let _ = fs::remove_file(&link);
        if symlink(id, &link).is_ok() {
            return Ok(());
        }
    }
    let owner = lookup(store, name).unwrap_or(owner);
    Err(Error::State(format!(
        "container name '{name}' is already in use by {}",
        crate::store::short_id(&owner)
    )))
}

/// A name not yet taken, docker-style: `adjective_noun`.
pub fn reserve_generated(store: &Store, id: &str) -> Result<String> {
    for _ in 0..64 {
        let r = random_hex(4)?;
        let n = u32::from_str_radix(&r, 16).unwrap_or(0) as usize;
        let name = format!(
            "{}_{}",
            ADJ[n % ADJ.len()],
            NOUN[(n / ADJ.len()) % NOUN.len()]
        );
        match reserve(store, &name, id) {
            Ok(()) => return Ok(name),
            Err(Error::State(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    let name = format!("ctr_{}", &id[..12]);
    reserve(store, &name, id).map(|_| name)
}

pub fn lookup(store: &Store, name: &str) -> Option<String> {
    let t = fs::read_link(names_dir(store).join(name)).ok()?;
    Some(t.to_string_lossy().into_owned())
}

/// Frees `name` if it still points at `id`, by moving its link into
/// `trash` (a folder about to be deleted): a rename, not an unlink.
pub fn release_into(store: &Store, name: &str, id: &str, trash: &std::path::Path) {
    let Ok(_lock) = store.lock("names") else {
        return;
    };
    if lookup(store, name).as_deref() == Some(id) {
        let link = names_dir(store).join(name);
        if fs::rename(&link, trash.join(".name")).is_err() {
            let _ = fs::remove_file(link);
        }
    }
}

/// Frees `name` if it still points at `id`.
pub fn release(store: &Store, name: &str, id: &str) {
    let Ok(_lock) = store.lock("names") else {
        return;
    };
    if lookup(store, name).as_deref() == Some(id) {
        let _ = fs::remove_file(names_dir(store).join(name));
    }
}

/// Frees every name pointing at `id` (a record whose name is not known:
/// one a killed program left).
pub fn release_all_of(store: &Store, id: &str) {
    let Ok(rd) = fs::read_dir(names_dir(store)) else {
        return;
    };
    let Ok(_lock) = store.lock("names") else {
        return;
    };
    for e in rd.flatten() {
        if fs::read_link(e.path()).is_ok_and(|t| t.as_os_str() == id) {
            let _ = fs::remove_file(e.path());
        }
    }
}

const ADJ: &[&str] = &[
    "amber", "brave", "calm", "deft", "eager", "fair", "gentle", "happy", "keen", "lucid", "merry",
    "nimble", "polite", "quick", "quiet", "rapid", "sharp", "steady", "swift", "tidy", "vivid",
    "warm", "witty", "zen", "bold", "crisp", "frank", "jolly", "proud", "sunny", "plucky", "loyal",
];
const NOUN: &[&str] = &[
    "lovelace",
    "turing",
    "hopper",
    "ritchie",
    "thompson",
    "torvalds",
    "knuth",
    "dijkstra",
    "hamilton",
    "liskov",
    "lamport",
    "kernighan",
    "pike",
    "mccarthy",
    "backus",
    "wirth",
    "hoare",
    "perlman",
    "allen",
    "cerf",
    "engelbart",
    "goldberg",
    "joy",
    "kay",
    "minsky",
    "noether",
    "shannon",
    "wing",
    "yonath",
    "curie",
    "tesla",
    "darwin",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["web-1.a_b", "abc123", "cafe", "x", "0"] {
            validate(good).unwrap();
        }
        validate(&"a".repeat(128)).unwrap();
        for bad in ["", "-x", ".x", "a/b", "a b", &"a".repeat(129)] {
            assert_eq!(validate(bad).unwrap_err().code(), 2, "{bad}");
        }
    }

    #[test]
    fn a_name_is_taken_once() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        fs::create_dir(s.container_dir("id1")).unwrap();
        reserve(&s, "web", "id1").unwrap();
        let e = reserve(&s, "web", "id2").unwrap_err();
        assert_eq!(e.code(), 4);
        release(&s, "web", "id2");
        assert_eq!(lookup(&s, "web").as_deref(), Some("id1"));
        release(&s, "web", "id1");
        assert_eq!(lookup(&s, "web"), None);
        let g = reserve_generated(&s, "id3").unwrap();
        assert!(g.contains('_'));
    }

    #[test]
    fn a_name_of_a_record_that_is_gone_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        // Being created by a live process (us): still taken.
        super::super::pending::make_new(&s, "id1").unwrap();
        reserve(&s, "web", "id1").unwrap();
        assert_eq!(reserve(&s, "web", "id2").unwrap_err().code(), 4);
        // Its creator gone, no record: the name is free.
        fs::remove_dir(super::super::pending::entry(
            &s,
            super::super::pending::Kind::New,
            "id1",
        ))
        .unwrap();
        reserve(&s, "web", "id2").unwrap();
        assert_eq!(lookup(&s, "web").as_deref(), Some("id2"));
    }
}
