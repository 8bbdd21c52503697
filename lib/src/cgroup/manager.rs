//! Who makes a container's group: cc itself in the cgroup filesystem, or
//! systemd as a transient scope (`--cgroup-manager`), and the group's name
//! for each.

use super::delegate::user_manager_socket;
use super::{systemd, version, Version};
use crate::error::{Error, Result};

/// Who makes a container's group: cc itself in the cgroup filesystem, or
/// systemd as a transient scope (`--cgroup-manager`, podman's word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Manager {
    #[default]
    Cgroupfs,
    Systemd,
}

impl Manager {
    /// systemd where it runs the machine on cgroup v2 (as podman chooses),
    /// else cgroupfs. For a user, systemd where the user's own runs.
    pub fn host_default() -> Manager {
        let systemd = match crate::rootless::user() {
            Some(uid) => user_manager_socket(uid).exists(),
            None => systemd::running(),
        };
        if version() == Version::V2 && systemd {
            Manager::Systemd
        } else {
            Manager::Cgroupfs
        }
    }

    /// `systemd` or `cgroupfs`.
    pub fn parse(s: &str) -> Result<Manager> {
        match s {
            "systemd" => Ok(Manager::Systemd),
            "cgroupfs" => Ok(Manager::Cgroupfs),
            _ => Err(Error::Usage(format!(
                "invalid cgroup manager '{s}' (systemd or cgroupfs)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Cgroupfs => "cgroupfs",
            Manager::Systemd => "systemd",
        }
    }

    /// Refuses systemd where it cannot work: no systemd, or cgroup v1.
    pub fn check(self) -> Result<()> {
        if self == Manager::Cgroupfs {
            return Ok(());
        }
        if version() != Version::V2 {
            return Err(Error::Unsupported(
                "cannot use the systemd cgroup manager: cc supports it on cgroup v2 only".into(),
            ));
        }
        if let Some(uid) = crate::rootless::user() {
            if !user_manager_socket(uid).exists() {
                return Err(Error::Unsupported(format!(
                    "cannot use the systemd cgroup manager: the user's systemd (user@{uid}.service) is not running"
                )));
            }
        } else if !systemd::running() {
            return Err(Error::Unsupported(
                "cannot use the systemd cgroup manager: systemd is not running \
                 (no /run/systemd/system)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The group name of container `id`: `cc/<id>` under cgroupfs,
    /// `machine.slice:cc:<id>` (the scope `cc-<id>.scope`) under systemd;
    /// `--cgroup-parent` takes the place of `cc` or of the slice. A user's
    /// scopes go in the `user.slice` of the user's systemd, as podman's.
    pub fn group_name(self, parent: Option<&str>, id: &str) -> String {
        match self {
            Manager::Cgroupfs => format!("{}/{id}", parent.unwrap_or("cc").trim_matches('/')),
            Manager::Systemd => format!(
                "{}:cc:{id}",
                parent.unwrap_or(match crate::rootless::active() {
                    true => "user.slice",
                    false => systemd::SLICE,
                })
            ),
        }
    }
}
