//! systemd as the cgroup manager (`--cgroup-manager systemd`), as runc's
//! `--systemd-cgroup`, podman and docker do on systemd hosts: each
//! container's group is a transient scope, `<prefix>-<name>.scope` under a
//! slice, made by systemd (StartTransientUnit over D-Bus, systemd.scope(5))
//! with `Delegate=yes` so cc may write its control files, and shown by
//! `systemctl status`. Outside systemd's tree a group would be moved or
//! ignored by it (systemd owns the root of a v2 hierarchy it runs on).
//!
//! A scope needs a process to exist, so it is made once the container's
//! first process is cloned and before it may go on (`Cgroup::attach`).
//! Names are runc's `cgroupsPath` form: `slice:prefix:name`.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::dbus::{Body, Conn, Reply, Value};
use super::delegate::{user_manager_socket, user_service_dir};
use super::{swap_limit, v2, Resources, ROOT};
use crate::error::{Error, Result};

/// The slice cc-run's scopes go in: where podman and machined put
/// containers.
pub const SLICE: &str = "machine.slice";

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// Whether systemd runs this machine (sd_booted(3)'s test).
pub fn running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// A container's scope and the slice it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub slice: String,
    pub scope: String,
    /// The user whose own systemd makes the scope (a rootless container),
    /// None for the system's.
    pub user: Option<u32>,
}

impl Unit {
    /// runc's systemd form `slice:prefix:name` (an empty slice is
    /// `system.slice`); None for a cgroupfs path.
    pub fn parse(name: &str) -> Option<Unit> {
        let parts: Vec<&str> = name.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return None;
        };
        let plain = |s: &str| !s.contains('/') && !s.contains("..");
        if !(plain(slice) && plain(prefix) && plain(name)) || name.is_empty() {
            return None;
        }
        if !(slice.is_empty() || slice.ends_with(".slice")) {
            return None;
        }
        let slice = if slice.is_empty() {
            "system.slice"
        } else {
            slice
        };
        let scope = match (prefix, name.ends_with(".scope")) {
            (_, true) => name.to_string(),
            ("", false) => format!("{name}.scope"),
            (p, false) => format!("{p}-{name}.scope"),
        };
        Some(Unit {
            slice: slice.to_string(),
            scope,
            user: crate::rootless::user(),
        })
    }

    /// The scope's folder: a slice `a-b.slice` lives in
    /// `a.slice/a-b.slice` (systemd.slice(5)), below the user's service
    /// for a user's systemd.
    pub fn path(&self) -> PathBuf {
        let mut p = match self.user {
            Some(uid) => user_service_dir(uid),
            None => PathBuf::from(ROOT),
        };
        let stem = self.slice.trim_end_matches(".slice");
        if stem != "-" && !stem.is_empty() {
            let mut prefix = String::new();
            for part in stem.split('-') {
                if !prefix.is_empty() {
                    prefix.push('-');
                }
                prefix.push_str(part);
                p.push(format!("{prefix}.slice"));
            }
        }
        p.join(&self.scope)
    }

    /// Makes the scope with `pid` in it, then writes `res` into it (the
    /// unit's properties carry them too, so a `daemon-reload` keeps them).
    pub fn start(&self, pid: i32, res: &Resources) -> Result<()> {
        let mut conn = self.connect()?;
        let mut tried_again = false;
        loop {
            match self.call_start(&mut conn, pid, res)? {
                Reply::Return => break,
                // A scope of the same name still going away (the
                // container's previous run): stop it and try once more.
                Reply::Error { name, .. } if name.ends_with("UnitExists") && !tried_again => {
                    tried_again = true;
                    self.call_stop(&mut conn)?;
                    wait_gone(&self.path());
                }
                Reply::Error { name, message } => {
                    return Err(self.error("create the systemd scope", &name, &message))
                }
            }
        }
        let dir = self.path();
        wait_joined(pid, &dir)?;
        v2::apply_limits(&dir, res)
    }

    /// Stops the scope (killing what is left in it); a unit that is gone
    /// already is fine.
    pub fn stop(&self) -> Result<()> {
        let mut conn = self.connect()?;
        self.call_stop(&mut conn)
    }

    fn connect(&self) -> Result<Conn> {
        match self.user {
            Some(uid) => {
                let socket = user_manager_socket(uid);
                Conn::user(&socket, uid).map_err(|e| Error::io("connect to systemd at", socket, e))
            }
            None => Conn::systemd()
                .map_err(|e| Error::io("connect to systemd at", "/run/systemd/private", e)),
        }
    }

    fn call_start(&self, conn: &mut Conn, pid: i32, res: &Resources) -> Result<Reply> {
        let mut props = vec![
            (
                "Description",
                Value::Str(format!("cc container {}", self.scope)),
            ),
            ("Slice", Value::Str(self.slice.clone())),
            ("Delegate", Value::Bool(true)),
            ("DefaultDependencies", Value::Bool(false)),
            ("PIDs", Value::U32s(vec![pid as u32])),
        ];
        props.extend(properties(res)?);
        let mut body = Body::default();
        body.str(&self.scope);
        body.str("replace");
        body.properties(&props);
        // No auxiliary units: an empty a(sa(sv)).
        body.array(8, |_| {});
        conn.call(
            PATH,
            MANAGER,
            "StartTransientUnit",
            "ssa(sv)a(sa(sv))",
            body,
            Some(DEST),
        )
        .map_err(|e| Error::io("create the systemd scope", &self.scope, e))
    }

    fn call_stop(&self, conn: &mut Conn) -> Result<()> {
        let mut body = Body::default();
        body.str(&self.scope);
        body.str("replace");
        let reply = conn
            .call(PATH, MANAGER, "StopUnit", "ss", body, Some(DEST))
            .map_err(|e| Error::io("stop the systemd scope", &self.scope, e))?;
        match reply {
            Reply::Error { name, message } if !name.ends_with("NoSuchUnit") => {
                Err(self.error("stop the systemd scope", &name, &message))
            }
            _ => Ok(()),
        }
    }

    fn error(&self, op: &'static str, name: &str, message: &str) -> Error {
        let why = if message.is_empty() { name } else { message };
        Error::io(op, &self.scope, std::io::Error::other(why.to_lowercase()))
    }
}

/// The unit properties for `res`, in systemd.resource-control(5)'s terms.
/// TasksMax is always given: systemd would otherwise apply its own default.
fn properties(res: &Resources) -> Result<Vec<(&'static str, Value)>> {
    const INFINITY: u64 = u64::MAX;
    let mut p = Vec::new();
    if let Some(m) = res.memory {
        p.push(("MemoryMax", Value::U64(m as u64)));
    }
    if let Some(s) = swap_limit(res, true)? {
        let swap = match (s, res.memory) {
            (-1, _) => INFINITY,
            (s, Some(m)) => (s - m) as u64,
            (s, None) => s as u64,
        };
        p.push(("MemorySwapMax", Value::U64(swap)));
    }
    if let Some(shares) = res.cpu_shares {
        p.push(("CPUWeight", Value::U64(v2::shares_to_weight(shares))));
    }
    if let Some(q) = res.cpu_quota.filter(|q| *q > 0) {
        let period = res.cpu_period.unwrap_or(100_000);
        p.push((
            "CPUQuotaPerSecUSec",
            Value::U64(q as u64 * 1_000_000 / period),
        ));
        p.push(("CPUQuotaPeriodUSec", Value::U64(period)));
    }
    let tasks = match res.pids {
        Some(n) if n > 0 => n as u64,
        _ => INFINITY,
    };
    p.push(("TasksMax", Value::U64(tasks)));
    Ok(p)
}

/// How long systemd may take to run a scope's start job: runc's bound
/// (30 s). Fifty starts at once on an emulated machine took over 10 s.
const JOIN_WAIT: Duration = Duration::from_secs(30);

/// systemd moves the process when the start job runs, just after the call
/// returns: wait until it is in the scope, looking less often as the wait
/// grows (many waiters polling every millisecond starve systemd itself).
fn wait_joined(pid: i32, dir: &Path) -> Result<()> {
    let want = format!("0::/{}", dir.strip_prefix(ROOT).unwrap_or(dir).display());
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if text.lines().any(|l| l == want) {
            return Ok(());
        }
        if start.elapsed() > JOIN_WAIT {
            let e = super::timed_out(format!(
                "process {pid} not moved in after {} s",
                JOIN_WAIT.as_secs()
            ));
            return Err(Error::io("join the systemd scope", dir, e));
        }
        sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Waits up to two seconds for a stopped scope's folder to go.
fn wait_gone(dir: &Path) {
    let start = Instant::now();
    while dir.exists() && start.elapsed() < Duration::from_secs(2) {
        sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_systemd_paths_parse() {
        let u = Unit::parse("machine.slice:cc:abc").unwrap();
        assert_eq!(u.scope, "cc-abc.scope");
        assert_eq!(
            u.path(),
            Path::new("/sys/fs/cgroup/machine.slice/cc-abc.scope")
        );
        let u = Unit::parse(":runc:x").unwrap();
        assert_eq!(u.slice, "system.slice");
        let u = Unit::parse("a-b.slice::x.scope").unwrap();
        assert_eq!(
            u.path(),
            Path::new("/sys/fs/cgroup/a.slice/a-b.slice/x.scope")
        );
        let u = Unit::parse("-.slice:p:x").unwrap();
        assert_eq!(u.path(), Path::new("/sys/fs/cgroup/p-x.scope"));
        for not in [
            "cc/abc",
            "/a/b",
            "a:b",
            "x:y:z",
            "machine.slice:../x:y",
            "a.slice:p:",
        ] {
            assert!(Unit::parse(not).is_none(), "{not}");
        }
    }

    #[test]
    fn limits_become_unit_properties() {
        let res = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            ..Default::default()
        };
        let p = properties(&res).unwrap();
        let get = |n: &str| p.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        assert_eq!(get("MemoryMax"), Some(Value::U64(64 << 20)));
        assert_eq!(get("MemorySwapMax"), Some(Value::U64(64 << 20)));
        assert_eq!(get("CPUQuotaPerSecUSec"), Some(Value::U64(500_000)));
        assert_eq!(get("TasksMax"), Some(Value::U64(u64::MAX)));
    }
}
