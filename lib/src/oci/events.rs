//! `events`: a container's resource use and OOM notifications as runc
//! prints them, one JSON object a line: `{"type":"stats","id":ID,
//! "data":{"cpu":..,"memory":..,"pids":..}}` every `--interval` (once with
//! `--stats`) and `{"type":"oom","id":ID}` when the OOM killer acts in its
//! group. The field names are runc's (libcontainer/cgroups/stats.go, types
//! in events/types.go); a value the host does not keep is left out, as
//! runc's `omitempty` leaves it.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::state::{Container, Status};
use crate::cgroup::Version;
use crate::error::{Error, Result};

/// Go's time.ParseDuration for what runc's `--interval` takes: one or
/// more `<number><unit>` terms (ns, us, ms, s, m, h), e.g. `5s`, `1m30s`.
pub fn parse_interval(s: &str) -> Result<Duration> {
    let bad = || {
        Error::Usage(format!(
            "invalid --interval '{s}': expected a duration such as 5s"
        ))
    };
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    match total > 0.0 && total.is_finite() {
        true => Ok(Duration::from_secs_f64(total)),
        false => Err(bad()),
    }
}

/// `events --stats`: one stats event. A stopped container is an error, as
/// runc's.
pub fn stats_event(c: &Container) -> Result<Event> {
    if c.status() == Status::Stopped {
        return Err(Error::State("container not running".into()));
    }
    let dirs = c.cgroup().paths();
    let data = match c.cgroup().version() {
        Version::V1 => json!({
            "cpu": cpu_v1(&dirs),
            "memory": memory_v1(&dirs),
            "pids": pids(&dirs),
        }),
        Version::V2 => json!({
            "cpu": cpu_v2(&dirs),
            "memory": memory_v2(&dirs),
            "pids": pids(&dirs),
        }),
    };
    Ok(Event {
        kind: "stats",
        id: c.id().to_string(),
        data: Some(data),
    })
}

/// One line of `events`, its fields in runc's order.
#[derive(Debug, serde::Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// `events`: a stats event every `interval` (the first after one
/// interval, as runc's) and an oom event for each
/// OOM kill, on `out`, until the container stops or `out` says no more
/// (its reader went away).
pub fn watch(c: &Container, interval: Duration, out: &mut dyn FnMut(&Event) -> bool) -> Result<()> {
    let oom = OomEvents::open(c);
    // As runc's ticker: the first stats one interval from now.
    let mut next = Instant::now() + interval;
    while c.status() != Status::Stopped {
        if Instant::now() >= next {
            if !out(&stats_event(c)?) {
                return Ok(());
            }
            next = Instant::now() + interval;
        }
        // Wake for an OOM notification, the next tick, or at least once a
        // second to notice that the container stopped.
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(1));
        if oom.as_ref().is_some_and(|o| o.wait(wait)) {
            let e = Event {
                kind: "oom",
                id: c.id().to_string(),
                data: None,
            };
            if !out(&e) {
                return Ok(());
            }
        } else if oom.is_none() {
            std::thread::sleep(wait);
        }
    }
    Ok(())
}

/// The first of the group's folders that has `file`.
fn find(dirs: &[PathBuf], file: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(file)).find(|p| p.exists())
}

fn read_u64(dirs: &[PathBuf], file: &str) -> Option<u64> {
    crate::cgroup::read_u64(&find(dirs, file)?)
}

/// A flat `key value` file (memory.stat, cpu.stat) as a JSON object.
fn key_values(dirs: &[PathBuf], file: &str) -> Map<String, Value> {
    let Some(path) = find(dirs, file) else {
        return Map::new();
    };
    crate::cgroup::key_values(&path)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect()
}

/// Puts `v` under `key` unless it is missing or zero (runc's omitempty).
fn put(m: &mut Map<String, Value>, key: &str, v: Option<u64>) {
    if let Some(v) = v.filter(|v| *v != 0) {
        m.insert(key.into(), json!(v));
    }
}

fn cpu_v1(dirs: &[PathBuf]) -> Value {
    let mut usage = Map::new();
    usage.insert(
        "total".into(),
        json!(read_u64(dirs, "cpuacct.usage").unwrap_or(0)),
    );
    let percpu: Vec<u64> = find(dirs, "cpuacct.usage_percpu")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    usage.insert("percpu".into(), json!(percpu));
    // cpuacct.stat counts clock ticks (USER_HZ, 100 on Linux); runc gives
    // nanoseconds.
    let ticks = key_values(dirs, "cpuacct.stat");
    let ns = |k: &str| ticks.get(k).and_then(Value::as_u64).map(|t| t * 10_000_000);
    usage.insert("kernel".into(), json!(ns("system").unwrap_or(0)));
    usage.insert("user".into(), json!(ns("user").unwrap_or(0)));
    let stat = key_values(dirs, "cpu.stat");
    let mut throttling = Map::new();
    let get = |k: &str| stat.get(k).and_then(Value::as_u64);
    put(&mut throttling, "periods", get("nr_periods"));
    put(&mut throttling, "throttled_periods", get("nr_throttled"));
    put(&mut throttling, "throttled_time", get("throttled_time"));
    json!({"usage": usage, "throttling": throttling})
}

fn cpu_v2(dirs: &[PathBuf]) -> Value {
    let stat = key_values(dirs, "cpu.stat");
    let us = |k: &str| stat.get(k).and_then(Value::as_u64).map(|v| v * 1000);
    let usage = json!({
        "total": us("usage_usec").unwrap_or(0),
        "kernel": us("system_usec").unwrap_or(0),
        "user": us("user_usec").unwrap_or(0),
    });
    let mut throttling = Map::new();
    let get = |k: &str| stat.get(k).and_then(Value::as_u64);
    put(&mut throttling, "periods", get("nr_periods"));
    put(&mut throttling, "throttled_periods", get("nr_throttled"));
    put(&mut throttling, "throttled_time", us("throttled_usec"));
    json!({"usage": usage, "throttling": throttling})
}

/// runc's MemoryData: usage, max, failcnt, limit.
fn memory_data(dirs: &[PathBuf], prefix: &str) -> Value {
    let f = |name: &str| read_u64(dirs, &format!("{prefix}.{name}"));
    let mut m = Map::new();
    put(&mut m, "limit", f("limit_in_bytes"));
    put(&mut m, "usage", f("usage_in_bytes"));
    put(&mut m, "max", f("max_usage_in_bytes"));
    put(&mut m, "failcnt", f("failcnt"));
    Value::Object(m)
}

fn memory_v1(dirs: &[PathBuf]) -> Value {
    let raw = key_values(dirs, "memory.stat");
    let mut m = Map::new();
    put(
        &mut m,
        "cache",
        raw.get("total_cache").and_then(Value::as_u64),
    );
    m.insert("usage".into(), memory_data(dirs, "memory"));
    m.insert("swap".into(), memory_data(dirs, "memory.memsw"));
    m.insert("kernel".into(), memory_data(dirs, "memory.kmem"));
    m.insert("kernelTCP".into(), memory_data(dirs, "memory.kmem.tcp"));
    m.insert("raw".into(), Value::Object(raw));
    Value::Object(m)
}

fn memory_v2(dirs: &[PathBuf]) -> Value {
    let raw = key_values(dirs, "memory.stat");
    let events = key_values(dirs, "memory.events");
    let mut usage = Map::new();
    put(&mut usage, "limit", read_u64(dirs, "memory.max"));
    put(&mut usage, "usage", read_u64(dirs, "memory.current"));
    put(&mut usage, "max", read_u64(dirs, "memory.peak"));
    put(
        &mut usage,
        "failcnt",
        events.get("max").and_then(Value::as_u64),
    );
    let mut swap = Map::new();
    put(&mut swap, "limit", read_u64(dirs, "memory.swap.max"));
    put(&mut swap, "usage", read_u64(dirs, "memory.swap.current"));
    let mut m = Map::new();
    put(&mut m, "cache", raw.get("file").and_then(Value::as_u64));
    m.insert("usage".into(), Value::Object(usage));
    m.insert("swap".into(), Value::Object(swap));
    m.insert("raw".into(), Value::Object(raw));
    Value::Object(m)
}

fn pids(dirs: &[PathBuf]) -> Value {
    let mut m = Map::new();
    put(&mut m, "current", read_u64(dirs, "pids.current"));
    put(
        &mut m,
        "limit",
        read_u64(dirs, "pids.max").filter(|l| *l != u64::MAX),
    );
    Value::Object(m)
}

/// A notification of the group's OOM kills: on v1 an eventfd registered
/// for memory.oom_control (cgroup.event_control), on v2 inotify on
/// memory.events, whose `oom_kill` count is compared.
struct OomEvents {
    fd: OwnedFd,
    /// v2: memory.events and the last oom_kill count seen.
    events: Option<(PathBuf, std::cell::Cell<u64>)>,
    _oom_control: Option<std::fs::File>,
}

impl OomEvents {
    fn open(c: &Container) -> Option<OomEvents> {
        let dirs = c.cgroup().paths();
        match c.cgroup().version() {
            Version::V1 => Self::v1(&find(&dirs, "memory.oom_control")?),
            Version::V2 => Self::v2(&find(&dirs, "memory.events")?),
        }
    }

    fn v1(oom_control: &Path) -> Option<OomEvents> {
        use std::os::fd::FromRawFd;
        // SAFETY: eventfd(2) takes no pointers; the fd is new and ours.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a valid fd that nothing else owns.
        let efd = unsafe { OwnedFd::from_raw_fd(raw) };
        let file = std::fs::File::open(oom_control).ok()?;
        let control = oom_control.with_file_name("cgroup.event_control");
        let line = format!("{} {}", efd.as_fd().as_raw_fd(), file.as_raw_fd());
        std::fs::write(control, line).ok()?;
        Some(OomEvents {
            fd: efd,
            events: None,
            _oom_control: Some(file),
        })
    }

    fn v2(events: &Path) -> Option<OomEvents> {
        use rustix::fs::inotify;
        let fd =
            inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).ok()?;
        inotify::add_watch(&fd, events, inotify::WatchFlags::MODIFY).ok()?;
        let seen = oom_kills(events);
        Some(OomEvents {
            fd,
            events: Some((events.to_path_buf(), std::cell::Cell::new(seen))),
            _oom_control: None,
        })
    }

    /// Waits up to `d`; true when an OOM kill happened meanwhile.
    fn wait(&self, d: Duration) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let ms = u16::try_from(d.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        if !matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0) {
            return false;
        }
        let mut buf = [0u8; 512];
        while rustix::io::read(&self.fd, &mut buf).is_ok_and(|n| n > 0) {}
        match &self.events {
            None => true,
            Some((path, seen)) => {
                let now = oom_kills(path);
                let more = now > seen.get();
                seen.set(now);
                more
            }
        }
    }
}

fn oom_kills(events: &Path) -> u64 {
    let text = std::fs::read_to_string(events).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_go_durations() {
        assert_eq!(parse_interval("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_interval("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_interval("1m30s").unwrap(), Duration::from_secs(90));
        for bad in ["", "5", "s", "-1s", "0s", "5x"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
