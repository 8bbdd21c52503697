//! The events log: every cc program appends one JSON line per thing that
//! happened (a container started, an image was tagged …) to
//! `events/events.log` in the store, in docker's event form, and
//! `cc-events` reads and follows it. No daemon: a line is one `write(2)`
//! with `O_APPEND` (never interleaved with another writer's), the file is
//! rotated by size to `events.log.1`, and a follower waits on inotify.
//!
//! Writing an event never fails the operation that made it: the log is a
//! record of what happened, not part of it.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Store;

/// Past this size the log is renamed to `events.log.1` (the one before is
/// dropped): at most twice this much history, some 50,000 events.
pub const ROTATE_AT: u64 = 8 << 20;

const LOG: &str = "events.log";
const OLD: &str = "events.log.1";

/// One event, serialized exactly as `docker events --format '{{json .}}'`
/// prints it (with docker's legacy `status`/`id`/`from` for containers and
/// images).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    /// An event of `kind` (container, image, network, volume) happening now.
    pub fn new(kind: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) -> Event {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as i64;
        let legacy = matches!(kind, "container" | "image");
        Event {
            status: legacy.then(|| action.to_string()),
            id: legacy.then(|| id.to_string()),
            from: match kind {
                "container" => attributes.get("image").cloned(),
                _ => None,
            },
            kind: kind.into(),
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes,
            },
            scope: "local".into(),
            time: nanos / 1_000_000_000,
            time_nano: nanos,
        }
    }

    pub fn at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.time_nano.max(0) as u64)
    }

    /// docker's line: `TIME TYPE ACTION ID (k=v, k=v)`.
    pub fn line(&self) -> String {
        let attrs: Vec<String> = self
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut s = format!(
            "{} {} {} {}",
            crate::time::format_rfc3339(self.at()),
            self.kind,
            self.action,
            self.actor.id
        );
        if !attrs.is_empty() {
            s += &format!(" ({})", attrs.join(", "));
        }
        s
    }
}

/// Made by `Store::open` for a new store; a store made before events
/// gets it on its first event.
fn dir(store: &Store) -> PathBuf {
    store.events_dir()
}

/// Appends `ev` to the store's log; failures are ignored (see the module).
pub fn emit(store: &Store, ev: &Event) {
    let _ = append(store, ev, ROTATE_AT);
}

/// Shorthand: an event of `kind` on object `id` with attributes.
pub fn record(store: &Store, kind: &str, action: &str, id: &str, attributes: &[(&str, &str)]) {
    let attrs = attributes
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    emit(store, &Event::new(kind, action, id, attrs));
}

fn append(store: &Store, ev: &Event, rotate_at: u64) -> Result<()> {
    let dir = dir(store);
    if !dir.exists() {
        crate::store::private_dir(&dir)?;
    }
    let path = dir.join(LOG);
    let mut line = serde_json::to_vec(ev).map_err(|e| Error::Internal(e.to_string()))?;
    line.push(b'\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    // One write: O_APPEND places it whole at the end, after any other's.
    f.write_all(&line)
        .map_err(|e| Error::io("write", &path, e))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    if size > rotate_at {
        rotate(store, &dir, rotate_at)?;
    }
    Ok(())
}

/// Renames the log to `.1` once, under the store's `events` lock: two
/// writers past the size at once rotate it once.
fn rotate(store: &Store, dir: &Path, rotate_at: u64) -> Result<()> {
    let _lock = store.lock("events")?;
    let path = dir.join(LOG);
    if fs::metadata(&path).is_ok_and(|m| m.len() > rotate_at) {
        fs::rename(&path, dir.join(OLD)).map_err(|e| Error::io("rotate", &path, e))?;
    }
    Ok(())
}

/// Which events a reader wants, by time; `since: None` means only events
/// from now on (docker's default), `until: None` means follow forever.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<SystemTime>,
    pub until: Option<SystemTime>,
}

impl Window {
    fn admits(&self, ev: &Event) -> bool {
        let t = ev.at();
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// Reads the events of `window` (the rotated file first) and, while
/// `until` has not passed, follows the log as other programs append to it.
/// `each` returns false to stop (a closed output).
pub fn follow(store: &Store, window: Window, mut each: impl FnMut(&Event) -> bool) -> Result<()> {
    let dir = dir(store);
    if !dir.exists() {
        crate::store::private_dir(&dir)?;
    }
    // Watch before reading: nothing written meanwhile is missed.
    let watch = Watch::new(&dir)?;
    let mut cur = open_log(&dir)?;
    match window.since {
        Some(_) => {
            if let Ok(old) = File::open(dir.join(OLD)) {
                if !drain(&mut Lines::new(old), window, &mut each) {
                    return Ok(());
                }
            }
        }
        None => {
            cur.seek(SeekFrom::End(0))
                .map_err(|e| Error::io("read", dir.join(LOG), e))?;
        }
    }
    let mut lines = Lines::new(cur);
    loop {
        if !drain(&mut lines, window, &mut each) {
            return Ok(());
        }
        let wait = match window.until {
            None => None,
            Some(u) => match u.duration_since(SystemTime::now()) {
                Ok(d) => Some(d),
                Err(_) => return Ok(()),
            },
        };
        if watch.wait(wait)? == Change::Replaced {
            // Rotated: the rest of the old file, then the new one.
            if !drain(&mut lines, window, &mut each) {
                return Ok(());
            }
            lines = Lines::new(open_log(&dir)?);
        }
    }
}

/// The current log, made empty when there is none yet.
fn open_log(dir: &Path) -> Result<File> {
    let path = dir.join(LOG);
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))
}

/// Passes every complete line read so far through `window` to `each`;
/// false when `each` wants no more. A line that is not an event (a write
/// cut short by a full disk) is skipped.
fn drain(lines: &mut Lines, window: Window, each: &mut impl FnMut(&Event) -> bool) -> bool {
    while let Some(line) = lines.next_complete() {
        let Ok(ev) = serde_json::from_slice::<Event>(&line) else {
            continue;
        };
        if window.until.is_some_and(|u| ev.at() > u) {
            return false;
        }
        if window.admits(&ev) && !each(&ev) {
            return false;
        }
    }
    true
}

/// Complete lines of a file that may grow: a partial last line waits for
/// its end.
struct Lines {
    reader: BufReader<File>,
    partial: Vec<u8>,
}

impl Lines {
    fn new(f: File) -> Lines {
        Lines {
            reader: BufReader::new(f),
            partial: Vec::new(),
        }
    }

    fn next_complete(&mut self) -> Option<Vec<u8>> {
        match self.reader.read_until(b'\n', &mut self.partial) {
            Ok(_) if self.partial.ends_with(b"\n") => {
                let mut line = std::mem::take(&mut self.partial);
                line.pop();
                Some(line)
            }
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Change {
    Grew,
    Replaced,
}

/// inotify on the events folder: the log growing or a new log replacing it.
struct Watch {
    fd: std::os::fd::OwnedFd,
}

impl Watch {
    fn new(dir: &Path) -> Result<Watch> {
        use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
        let fd = inotify::init(CreateFlags::CLOEXEC)
            .map_err(|e| Error::io("watch", dir, io::Error::from(e)))?;
        inotify::add_watch(
            &fd,
            dir,
            WatchFlags::MODIFY | WatchFlags::CREATE | WatchFlags::MOVED_TO,
        )
        .map_err(|e| Error::io("watch", dir, io::Error::from(e)))?;
        Ok(Watch { fd })
    }

    /// Waits up to `timeout` (forever with None) for a change.
    fn wait(&self, timeout: Option<Duration>) -> Result<Change> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let ms = timeout.map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as i32);
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::NONE),
        ) {
            Ok(0) => return Ok(Change::Grew),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(Change::Grew),
            Err(e) => return Err(Error::io("watch", "events", io::Error::from(e))),
        }
        let mut buf = [0u8; 4096];
        let n = rustix::io::read(&self.fd, &mut buf).unwrap_or(0);
        Ok(match replaced(&buf[..n]) {
            true => Change::Replaced,
            false => Change::Grew,
        })
    }
}

/// Whether the inotify records in `buf` tell of a new `events.log`.
fn replaced(buf: &[u8]) -> bool {
    const HEADER: usize = 16; // wd, mask, cookie, len: four u32
    let mut at = 0;
    while at + HEADER <= buf.len() {
        let word = |i: usize| u32::from_ne_bytes(buf[at + i..at + i + 4].try_into().unwrap());
        let (mask, len) = (word(4), word(12) as usize);
        let name = buf.get(at + HEADER..at + HEADER + len).unwrap_or(&[]);
        let name = name.split(|&b| b == 0).next().unwrap_or(&[]);
        let new = mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0;
        if new && name == LOG.as_bytes() {
            return true;
        }
        at += HEADER + len;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let t = tempfile::tempdir().unwrap();
        let s = Store::open(t.path()).unwrap();
        (t, s)
    }

    #[test]
    fn an_event_is_docker_json_and_a_docker_line() {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), "web".to_string());
        attrs.insert("image".to_string(), "base".to_string());
        let ev = Event::new("container", "start", "abc", attrs);
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["Type"], "container");
        assert_eq!(v["Action"], "start");
        assert_eq!(v["status"], "start");
        assert_eq!(v["from"], "base");
        assert_eq!(v["Actor"]["ID"], "abc");
        assert_eq!(v["Actor"]["Attributes"]["name"], "web");
        assert_eq!(v["scope"], "local");
        assert!(ev
            .line()
            .ends_with(" container start abc (image=base, name=web)"));
        let net = Event::new("network", "connect", "n", BTreeMap::new());
        assert!(serde_json::to_value(&net).unwrap().get("status").is_none());
    }

    #[test]
    fn history_crosses_a_rotation_in_order() {
        let (_t, s) = store();
        record(&s, "image", "tag", "one", &[]);
        // Rotate by hand, as a writer past ROTATE_AT would.
        fs::rename(dir(&s).join(LOG), dir(&s).join(OLD)).unwrap();
        record(&s, "image", "tag", "two", &[]);
        assert_eq!(all(&s), ["one", "two"]);
    }

    fn all(s: &Store) -> Vec<String> {
        let mut seen = Vec::new();
        let window = Window {
            since: Some(UNIX_EPOCH),
            until: Some(SystemTime::now()),
        };
        follow(s, window, |e| {
            seen.push(e.actor.id.clone());
            true
        })
        .unwrap();
        seen
    }

    /// Writers racing past the size rotate once between them, and no line
    /// is cut or lost: each is one O_APPEND write.
    #[test]
    fn racing_writers_keep_every_line_whole_across_rotations() {
        let (_t, s) = store();
        let s = std::sync::Arc::new(s);
        let threads: Vec<_> = (0..4)
            .map(|w| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        let ev = Event::new("image", "tag", &format!("w{w}-{i}"), BTreeMap::new());
                        append(&s, &ev, 16 << 10).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let seen = all(&s);
        // Two files of ~16 KiB: what is there is whole and in order per writer.
        assert!(seen.len() > 60, "{}", seen.len());
        for w in 0..4 {
            let mine: Vec<usize> = seen
                .iter()
                .filter_map(|id| id.strip_prefix(&format!("w{w}-"))?.parse().ok())
                .collect();
            assert!(mine.windows(2).all(|p| p[0] < p[1]), "{mine:?}");
        }
        let lines: usize = [OLD, LOG]
            .iter()
            .map(|f| fs::read_to_string(dir(&s).join(f)).unwrap().lines().count())
            .sum();
        assert_eq!(lines, seen.len(), "a line was cut");
        let size = fs::metadata(dir(&s).join(OLD)).unwrap().len();
        assert!(size > 16 << 10 && size < 24 << 10, "{size}");
    }

    #[test]
    fn a_cut_line_is_skipped_and_the_rest_read() {
        let (_t, s) = store();
        record(&s, "image", "tag", "one", &[]);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir(&s).join(LOG))
            .unwrap();
        f.write_all(b"{\"Type\":\"ima\n").unwrap();
        record(&s, "image", "tag", "two", &[]);
        assert_eq!(all(&s), ["one", "two"]);
    }
}
