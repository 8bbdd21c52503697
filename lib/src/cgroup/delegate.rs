//! An ordinary user's containers and cgroups (issue 21): what is delegated
//! to the user, and the refusal of limits where nothing is.

use super::{version, More, Resources, Version};
use crate::error::{Error, Result};

/// An ordinary user's container gets no cgroup (none is delegated to
/// the user on this host), so a limit it asks for is refused, never
/// dropped. Device rules are not limits: without a group the user
/// namespace already keeps devices from being made.
pub fn refuse_limits_for_user(res: &Resources) -> Result<()> {
    if !crate::rootless::active() {
        return Ok(());
    }
    let limited = res.memory.is_some()
        || res.memory_swap.is_some()
        || res.cpu_shares.is_some()
        || res.cpu_quota.is_some_and(|q| q > 0)
        || res.cpu_period.is_some()
        || res.pids.is_some_and(|p| p > 0)
        || res.more != More::default();
    if limited {
        return Err(Error::Unsupported(format!(
            "resource limits (-m, --cpus, --pids-limit, ...) need a cgroup, and none is delegated to this user on this host ({})",
            delegation()
        )));
    }
    Ok(())
}

/// Why no cgroup is delegated to the user, for messages and cc-info.
pub fn delegation() -> &'static str {
    match version() {
        Version::V1 => "cgroup v1 has no delegation to users",
        Version::V2 => "cc does not use a delegated cgroup v2 subtree yet",
    }
}
