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
    merge(&mut merged, res);
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

/// Each field `new` sets replaces the saved one.
fn merge(cur: &mut spec::Resources, new: &spec::Resources) {
    if let Some(m) = &new.memory {
        let c = cur.memory.get_or_insert_with(Default::default);
        c.limit = m.limit.or(c.limit);
        c.reservation = m.reservation.or(c.reservation);
        c.swap = m.swap.or(c.swap);
        c.kernel = m.kernel.or(c.kernel);
        c.kernel_tcp = m.kernel_tcp.or(c.kernel_tcp);
        c.swappiness = m.swappiness.or(c.swappiness);
        c.disable_oom_killer = m.disable_oom_killer.or(c.disable_oom_killer);
    }
    if let Some(n) = &new.cpu {
        let c = cur.cpu.get_or_insert_with(Default::default);
        c.shares = n.shares.or(c.shares);
        c.quota = n.quota.or(c.quota);
        c.period = n.period.or(c.period);
        c.realtime_runtime = n.realtime_runtime.or(c.realtime_runtime);
        c.realtime_period = n.realtime_period.or(c.realtime_period);
        c.cpus = n.cpus.clone().or(c.cpus.take());
        c.mems = n.mems.clone().or(c.mems.take());
    }
    if new.pids.is_some() {
        cur.pids = new.pids.clone();
    }
    if let Some(b) = &new.block_io {
        let c = cur.block_io.get_or_insert_with(Default::default);
        c.weight = b.weight.or(c.weight);
        c.leaf_weight = b.leaf_weight.or(c.leaf_weight);
        let lists = [
            (&mut c.throttle_read_bps_device, &b.throttle_read_bps_device),
            (
                &mut c.throttle_write_bps_device,
                &b.throttle_write_bps_device,
            ),
            (
                &mut c.throttle_read_iops_device,
                &b.throttle_read_iops_device,
            ),
            (
                &mut c.throttle_write_iops_device,
                &b.throttle_write_iops_device,
            ),
        ];
        for (cur, new) in lists {
            if !new.is_empty() {
                cur.clone_from(new);
            }
        }
        if !b.weight_device.is_empty() {
            c.weight_device.clone_from(&b.weight_device);
        }
    }
    if !new.hugepage_limits.is_empty() {
        cur.hugepage_limits.clone_from(&new.hugepage_limits);
    }
    if new.network.is_some() {
        cur.network.clone_from(&new.network);
    }
    cur.unified
        .extend(new.unified.iter().map(|(k, v)| (k.clone(), v.clone())));
}
