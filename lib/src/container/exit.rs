//! The exit record's reserved place: `containers/<id>/exit`, a file of
//! `SIZE` bytes written (allocated) when the container starts and
//! overwritten in place when it ends. Overwriting allocated bytes needs no
//! free space, so a container that filled the disk with its log still
//! has its exit code kept: state.json is rewritten through a new file,
//! which a full disk refuses.
//!
//! The monitor writes the record here first, then state.json as ever. A
//! reader (`apply`, from `container::load`) believes the record only when
//! state.json still says "running" and the record is of the same start.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::container::state::{State, Status};
use crate::error::{Error, Result};

/// The reserved size: a record is about 150 bytes.
const SIZE: usize = 512;

/// What the monitor knows at the end of one run.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    /// The run this ends (state.json's `startedAt`).
    started_at: String,
    exit_code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signal: Option<i32>,
    oom_killed: bool,
    finished_at: String,
}

/// The reserved file, held open by the monitor for the whole run.
pub struct Reserved(File);

/// Writes a blank record of `SIZE` bytes (replacing any earlier run's)
/// and syncs it, so its blocks are the file's own before the run starts.
pub fn reserve(dir: &Path) -> Result<Reserved> {
    let path = dir.join("exit");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    f.write_all_at(&[b' '; SIZE], 0)
        .and_then(|_| f.sync_data())
        .map_err(|e| Error::io("write", &path, e))?;
    Ok(Reserved(f))
}

impl Reserved {
    /// Writes the exit record of `s` (exited) in place.
    pub fn record(&self, s: &State) -> io::Result<()> {
        let r = Record {
            started_at: s.started_at.clone().unwrap_or_default(),
            exit_code: s.exit_code.unwrap_or(-1),
            signal: s.signal,
            oom_killed: s.oom_killed,
            finished_at: s.finished_at.clone().unwrap_or_default(),
        };
        let mut bytes = serde_json::to_vec(&r).map_err(io::Error::other)?;
        if bytes.len() > SIZE {
            return Err(io::Error::other("exit record too long"));
        }
        bytes.resize(SIZE, b' ');
        self.0.write_all_at(&bytes, 0)?;
        self.0.sync_data()
    }
}

/// Completes `s` from the reserved record when state.json could not take
/// the exit (it still says running, and the record ends that run).
pub fn apply(dir: &Path, s: &mut State) {
    if s.status != Status::Running {
        return;
    }
    let Some(r) = read(dir) else { return };
    if Some(&r.started_at) != s.started_at.as_ref() {
        return;
    }
    s.status = Status::Exited;
    s.pid = None;
    s.pid_start = None;
    s.monitor_pid = None;
    s.monitor_start = None;
    s.exit_code = Some(r.exit_code);
    s.signal = r.signal;
    s.oom_killed = r.oom_killed;
    s.finished_at = Some(r.finished_at);
}

fn read(dir: &Path) -> Option<Record> {
    let f = File::open(dir.join("exit")).ok()?;
    let mut buf = [0u8; SIZE];
    let n = f.read_at(&mut buf, 0).ok()?;
    serde_json::from_slice(buf[..n].trim_ascii()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_completes_a_state_left_running() {
        let d = tempfile::tempdir().unwrap();
        let mut s = State::new("t0".into());
        s.status = Status::Running;
        s.started_at = Some("t1".into());
        let r = reserve(d.path()).unwrap();
        let mut blank = s.clone();
        apply(d.path(), &mut blank);
        assert_eq!(blank.status, Status::Running, "a blank record is no exit");
        let mut ended = s.clone();
        ended.exit_code = Some(4);
        ended.finished_at = Some("t2".into());
        r.record(&ended).unwrap();
        assert_eq!(
            std::fs::metadata(d.path().join("exit")).unwrap().len(),
            SIZE as u64
        );
        let mut read = s.clone();
        apply(d.path(), &mut read);
        assert_eq!((read.status, read.exit_code), (Status::Exited, Some(4)));
        // Another run's record says nothing about this one.
        let mut other = s;
        other.started_at = Some("t3".into());
        apply(d.path(), &mut other);
        assert_eq!(other.status, Status::Running);
    }
}
