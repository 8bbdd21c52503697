//! `cc-oci update`: new limits for a live container's group, merged with
//! the ones its saved spec holds, as runc merges them into its config.

use super::state::{Container, Status};
use crate::cgroup::Resources;
use crate::error::{Error, Result};
use crate::spec;
use crate::store::PRIVATE;

/// Writes `res` into the group and keeps the merged limits in the saved
/// spec. The CPU bandwidth is written whole (quota with the saved period):
/// a quota alone keeps the period the container has.
pub fn update(c: &Container, res: &spec::Resources) -> Result<()> {
    if c.status() == Status::Stopped {
        return Err(Error::State("container not running".into()));
    }
    if !res.devices.is_empty() {
        return Err(Error::Unsupported(
            "cannot update device rules: runc's update takes none either".into(),
        ));
    }
    let mut saved = c.spec()?;
    let linux = saved.linux.get_or_insert_with(Default::default);
    let mut merged = linux.resources.clone().unwrap_or_default();
    merged.merge(res);
    let mut now = res.clone();
    if let (Some(cpu), Some(all)) = (&mut now.cpu, &merged.cpu) {
        cpu.quota = cpu.quota.or(all.quota);
        cpu.period = cpu.period.or(all.period);
    }
    c.cgroup().update(&Resources::of(&now)?)?;
    linux.resources = Some(merged);
    let data = serde_json::to_vec(&saved).expect("a spec serializes");
    crate::store::write_volatile_mode(&c.dir.join("config.json"), &data, PRIVATE)
}
