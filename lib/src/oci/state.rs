//! A cc-oci container's folder under the runtime root (`--root`, default
//! /run/cc-oci): `state.json` (the record below), `config.json` (the
//! bundle's spec as it was at create, for exec, update and the poststop
//! hooks) and, between create and start, `exec.fifo`.
//!
//! The status is derived, as cc's own containers' is: `stopped` once the
//! pid is gone, a zombie, or another process (start time); `created` while
//! the FIFO exists; `paused` while the freezer holds the group; else
//! `running`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroup::Cgroup;
use crate::container::state::pid_start_time;
use crate::error::{Error, Result};
use crate::spec::Spec;
use crate::store::PRIVATE;

/// The spec version cc-oci implements and reports.
pub const OCI_VERSION: &str = "1.0.2-dev";

pub const FIFO: &str = "exec.fifo";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub pid: i32,
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub cgroup: String,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// What `state` prints: the spec's fields, plus runc's `rootfs`,
/// `created` and `owner`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The runtime root: one folder per container.
#[derive(Debug, Clone)]
pub struct Root {
    pub dir: PathBuf,
}

/// cc-oci's default `--root`.
pub const DEFAULT_ROOT: &str = "/run/cc-oci";

impl Root {
    /// Opens the runtime root, made 0700 as runc's: its containers'
    /// config.json hold their environments. Folders above a root it makes
    /// are 0700 too; the default root, which only cc-oci uses, is closed
    /// if an older cc-oci left it open. Another existing `--root` is the
    /// caller's and keeps its mode.
    pub fn new(dir: &Path) -> Result<Root> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io("create", dir, e))?;
        if dir == Path::new(DEFAULT_ROOT) {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io("set the mode of", dir, e))?;
        }
        Ok(Root {
            dir: dir.to_path_buf(),
        })
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The ids of the containers it holds, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("state.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }

    pub fn load(&self, id: &str) -> Result<Container> {
        check_id(id)?;
        let dir = self.container_dir(id);
        let text = fs::read(dir.join("state.json"))
            // The words containerd's shim takes for "not found".
            .map_err(|_| Error::State(format!("container \"{id}\" does not exist")))?;
        let record: Record = serde_json::from_slice(&text)
            .map_err(|e| Error::Corrupt(format!("container \"{id}\": bad state.json: {e}")))?;
        Ok(Container { dir, record })
    }
}

/// A container id names a folder: no `/`, not `.` or `..`, not empty.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && !id.contains('/')
        && !id.contains('\0')
        && id.len() <= 1024;
    match ok {
        true => Ok(()),
        false => Err(Error::Usage(format!("invalid container id '{id}'"))),
    }
}

pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
}

impl Container {
    pub fn id(&self) -> &str {
        &self.record.id
    }

    pub fn fifo(&self) -> PathBuf {
        self.dir.join(FIFO)
    }

    pub fn cgroup(&self) -> Cgroup {
        Cgroup::open(&self.record.cgroup)
    }

    /// The spec saved at create.
    pub fn spec(&self) -> Result<Spec> {
        let path = self.dir.join("config.json");
        let text = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::Corrupt(format!("{}: {e}", path.display())))
    }

    pub fn status(&self) -> Status {
        let r = &self.record;
        if !alive(r.pid, r.pid_start) {
            return Status::Stopped;
        }
        if self.fifo().exists() {
            return Status::Created;
        }
        if self.cgroup().frozen() {
            return Status::Paused;
        }
        Status::Running
    }

    /// The pid while it is alive (0 once stopped, as runc shows it).
    pub fn live_pid(&self) -> i32 {
        match alive(self.record.pid, self.record.pid_start) {
            true => self.record.pid,
            false => 0,
        }
    }

    pub fn state(&self) -> State {
        let status = self.status();
        State {
            oci_version: OCI_VERSION.into(),
            id: self.record.id.clone(),
            pid: if status == Status::Stopped {
                0
            } else {
                self.record.pid
            },
            status,
            bundle: self.record.bundle.clone(),
            rootfs: self.record.rootfs.clone(),
            created: self.record.created.clone(),
            owner: String::new(),
            annotations: self.record.annotations.clone(),
        }
    }
}

/// The pid runs, is the process recorded (start time), and is not a
/// zombie waiting for its parent to reap it.
fn alive(pid: i32, start: u64) -> bool {
    if pid <= 0 || pid_start_time(pid) != Some(start) {
        return false;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// Writes `state.json` atomically but without fsync: like runc's, the
/// runtime's state is for this boot only (its root is on /run).
pub fn save(dir: &Path, r: &Record) -> Result<()> {
    let data = serde_json::to_vec_pretty(r).expect("a record serializes");
    crate::store::write_volatile_mode(&dir.join("state.json"), &data, PRIVATE)
}
