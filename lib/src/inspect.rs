//! cc-inspect's output: containers and images in `docker inspect`'s JSON
//! shape, and the `-f PATH` field lookup. Its own module above
//! `container`, `image` and `net`, because one container's object draws on
//! all three (the record, the image's name, the bridge and lease).

use std::net::Ipv4Addr;
use std::path::Path;

use serde_json::{json, Value};

use crate::container::{self, Container, Status};
use crate::error::{Error, Result};
use crate::image::{self, Image};
use crate::net;
use crate::spec::{Process, Resources};
use crate::store::Store;

/// `--type`: where a name is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Image,
}

/// The object named `q`: a container first, then an image (or only the
/// `kind` asked for).
pub fn find(store: &Store, q: &str, kind: Option<Kind>) -> Result<Value> {
    if kind != Some(Kind::Image) {
        match container::resolve(store, q) {
            Ok(c) => return Ok(container_json(store, &c)),
            Err(Error::NotFound { .. }) if kind.is_none() => {}
            Err(e) => return Err(e),
        }
    }
    match image::resolve(store, q) {
        Ok(i) => Ok(image_json(&i)),
        Err(Error::NotFound { .. }) if kind.is_none() => {
            Err(Error::not_found("container or image", q))
        }
        Err(e) => Err(e),
    }
}

/// `State.Pid` (or `{{.State.Pid}}`): strings print bare, the rest as JSON.
pub fn field(v: &Value, path: &str) -> String {
    let p = path
        .trim()
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim()
        .trim_start_matches('.');
    let mut cur = v;
    for part in p.split('.').filter(|s| !s.is_empty()) {
        cur = match cur {
            Value::Array(a) => part
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .unwrap_or(&Value::Null),
            _ => cur.get(part).unwrap_or(&Value::Null),
        };
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        other => other.to_string(),
    }
}

/// An image as `docker inspect` shows one.
pub fn image_json(i: &Image) -> Value {
    let c = &i.config;
    json!({
        "Id": i.id,
        "RepoTags": i.names,
        "RepoDigests": i.digests,
        "Digest": i.manifest_digest,
        "Created": c.created,
        "Author": c.author,
        "Architecture": c.architecture,
        "Os": c.os,
        "Config": c.config,
        "RootFS": { "Type": c.rootfs.kind, "Layers": c.rootfs.diff_ids },
        "Size": i.size,
        "History": c.history,
    })
}

/// A container as `docker inspect` shows one.
pub fn container_json(store: &Store, c: &Container) -> Value {
    let s = c.state.derived();
    let p = c.spec.process.clone().unwrap_or_default();
    let paused = c.paused();
    let mut v = json!({
        "Id": c.id,
        "Name": c.name(),
        "Created": s.created,
        "Path": p.args.first(),
        "Args": p.args.get(1..).unwrap_or_default(),
        "State": {
            "Status": match (paused, s.restarting) {
                (true, _) => "paused",
                (_, true) => "restarting",
                _ => s.status.as_str(),
            },
            "Running": s.status == Status::Running,
            "Paused": paused,
            "Restarting": s.restarting,
            "Pid": s.pid.unwrap_or(0),
            "ExitCode": s.exit_code,
            "Signal": s.signal,
            "OOMKilled": s.oom_killed,
            "StartedAt": s.started_at,
            "FinishedAt": s.finished_at,
            "Error": s.error,
            "MonitorPid": s.monitor_pid.unwrap_or(0),
        },
        "RestartCount": s.restart_count,
        "LogPath": c.dir.join("ctr.log"),
        // Bytes the log takes: ctr.log and its one backup.
        "LogSize": log_size(&c.dir),
        "HostnamePath": c.dir.join("hostname"),
        "HostsPath": c.dir.join("hosts"),
        "ResolvConfPath": c.dir.join("resolv.conf"),
        "Image": c.image(),
        "Config": config(c, &p),
        "HostConfig": host_config(c, &p),
        "NetworkSettings": network_settings(store, c),
        "Mounts": mounts(c),
        "GraphDriver": { "Name": "overlay", "Data": {
            "UpperDir": c.upper(), "WorkDir": c.work(), "MergedDir": c.rootfs(),
            "LowerLayers": c.layers(),
        }},
    });
    // Only with a check, as docker's (omitempty).
    if let Some(h) = crate::health::shown(c) {
        v["State"]["Health"] = json!(h);
    }
    if let Some(h) = crate::health::recorded(c) {
        v["Config"]["Healthcheck"] = json!(h);
    }
    v
}

/// docker's Config: the process and what `cc-run` was given for it.
fn config(c: &Container, p: &Process) -> Value {
    json!({
        "Hostname": c.spec.hostname,
        "User": c.annotation(container::ANN_USER),
        "Env": p.env,
        "Cmd": p.args,
        "WorkingDir": p.cwd,
        "Tty": p.terminal,
        "OpenStdin": c.annotation(container::ANN_INTERACTIVE).is_some(),
        "Image": c.annotation(container::ANN_IMAGE_NAME),
        "StopSignal": c.annotation(container::ANN_STOP_SIGNAL).unwrap_or("SIGTERM"),
        "StopTimeout": c.annotation(container::ANN_STOP_TIMEOUT).and_then(|t| t.parse::<i64>().ok()),
        "Labels": c.labels(),
    })
}

/// docker's `{"Name": "on-failure", "MaximumRetryCount": 2}`.
fn restart_policy(c: &Container) -> Value {
    use crate::container::restart::Policy;
    let policy = Policy::of(c);
    let (name, max) = match policy {
        Policy::OnFailure(n) => ("on-failure".to_string(), n.unwrap_or(0)),
        p => (p.as_string(), 0),
    };
    json!({ "Name": name, "MaximumRetryCount": max })
}

/// docker's HostConfig: limits, privileges, log, network and ports.
fn host_config(c: &Container, p: &Process) -> Value {
    let res: Resources = c
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.resources.clone())
        .unwrap_or_default();
    json!({
        "Memory": res.memory.as_ref().and_then(|m| m.limit),
        "MemorySwap": res.memory.as_ref().and_then(|m| m.swap),
        "CpuShares": res.cpu.as_ref().and_then(|c| c.shares),
        "CpuQuota": res.cpu.as_ref().and_then(|c| c.quota),
        "CpuPeriod": res.cpu.as_ref().and_then(|c| c.period),
        "PidsLimit": res.pids.as_ref().map(|p| p.limit),
        "MemoryReservation": res.memory.as_ref().and_then(|m| m.reservation),
        "OomKillDisable": res.memory.as_ref().and_then(|m| m.disable_oom_killer).unwrap_or(false),
        "CpusetCpus": res.cpu.as_ref().and_then(|c| c.cpus.clone()).unwrap_or_default(),
        "CpusetMems": res.cpu.as_ref().and_then(|c| c.mems.clone()).unwrap_or_default(),
        "CgroupParent": c.annotation(container::ANN_CGROUP_PARENT).unwrap_or(""),
        // docker's -1 for unlimited (RLIM_INFINITY).
        "Ulimits": p.rlimits.iter().map(|r| json!({
            "Name": r.kind.trim_start_matches("RLIMIT_").to_lowercase(),
            "Soft": i64::try_from(r.soft).unwrap_or(-1), "Hard": i64::try_from(r.hard).unwrap_or(-1),
        })).collect::<Vec<_>>(),
        "Sysctls": c.spec.linux.as_ref().map(|l| l.sysctl.clone()).unwrap_or_default(),
        "GroupAdd": c.annotation(container::ANN_GROUP_ADD).map(|g| g.split(',').collect::<Vec<_>>()),
        "ExtraHosts": c.annotation(crate::net::ANN_EXTRA_HOSTS)
            .map(|h| h.lines().filter_map(|l| l.split_once('\t'))
                .map(|(ip, name)| format!("{name}:{ip}")).collect::<Vec<_>>()),
        "ReadonlyRootfs": c.spec.root.as_ref().is_some_and(|r| r.readonly),
        "Capabilities": p.capabilities.as_ref().map(|c| c.bounding.clone()).unwrap_or_default(),
        "NoNewPrivileges": p.no_new_privileges,
        // The OCI `linux.seccomp` object in force; null: unconfined.
        "Seccomp": c.spec.linux.as_ref().and_then(|l| l.seccomp.clone()),
        "Devices": c.spec.linux.as_ref().map(|l| l.devices.clone()).unwrap_or_default(),
        "MaskedPaths": c.spec.linux.as_ref().map(|l| l.masked_paths.clone()).unwrap_or_default(),
        "ReadonlyPaths": c.spec.linux.as_ref().map(|l| l.readonly_paths.clone()).unwrap_or_default(),
        "AutoRemove": c.annotation(container::ANN_RM).is_some(),
        "RestartPolicy": restart_policy(c),
        // ctr.log rotates past MaxSize bytes (one backup); null: no cap.
        "LogConfig": {
            "MaxSize": c.annotation(container::ANN_LOG_MAX).and_then(|m| m.parse::<u64>().ok())
        },
        "NetworkMode": c.annotation(crate::net::ANN_NET).unwrap_or("none"),
        "PortBindings": c.annotation(crate::net::ANN_PORTS)
            .map(|p| p.split(',').collect::<Vec<_>>()).unwrap_or_default(),
    })
}

/// docker's Mounts: the volumes, binds and tmpfs mounts the user asked
/// for; the default /dev mounts are not shown.
fn mounts(c: &Container) -> Vec<Value> {
    let volumes = crate::volume::mounts::uses(c);
    c.spec
        .mounts
        .iter()
        .filter(|m| {
            m.is_bind() || m.kind.as_deref() == Some("tmpfs") && !m.destination.starts_with("/dev")
        })
        .map(
            |m| match volumes.iter().find(|u| u.destination == m.destination) {
                Some(u) => json!({
                    "Type": "volume", "Name": u.name, "Source": m.source,
                    "Destination": m.destination, "Driver": "local", "RW": u.rw,
                }),
                None => json!({
                    "Type": if m.is_bind() { "bind" } else { "tmpfs" },
                    "Source": m.source, "Destination": m.destination,
                    "RW": !m.options.iter().any(|o| o == "ro" || o == "rro"),
                }),
            },
        )
        .collect()
}

/// docker's NetworkSettings: the address, gateway, MAC and ports of a
/// running container on the bridge or an ordinary user's slirp4netns
/// (empty otherwise).
fn network_settings(store: &Store, c: &Container) -> Value {
    let Some(n) = network_of(store, c) else {
        return json!({ "Bridge": "", "IPAddress": "", "IPPrefixLen": 0, "Gateway": "",
                       "MacAddress": "", "Ports": {} });
    };
    let mut ports = serde_json::Map::new();
    for p in &n.ports {
        let key = format!("{}/{}", p.container_port, p.proto.as_str());
        let entry = ports.entry(key).or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(a) = entry {
            a.push(json!({ "HostIp": p.host_ip.to_string(), "HostPort": p.host_port.to_string() }));
        }
    }
    json!({
        "Bridge": n.bridge,
        "IPAddress": n.ip.to_string(),
        "IPPrefixLen": n.prefix_len,
        "Gateway": n.gateway.to_string(),
        "MacAddress": n.mac,
        "Ports": ports,
        "SandboxKey": format!("/proc/{}/ns/net", n.pid),
    })
}

/// What NetworkSettings shows of a running container's network.
struct Network {
    bridge: String,
    ip: Ipv4Addr,
    prefix_len: u8,
    gateway: Ipv4Addr,
    mac: String,
    pid: i32,
    ports: Vec<net::Port>,
}

/// A root's container's lease on the bridge; an ordinary user's running
/// container's slirp4netns (its fixed address, no bridge, no MAC of cc's).
fn network_of(store: &Store, c: &Container) -> Option<Network> {
    if crate::rootless::active() {
        let on = c.status() == Status::Running
            && c.annotation(net::ANN_NET)
                .and_then(net::user::stack_mode)
                .is_some();
        return on.then(|| Network {
            bridge: String::new(),
            ip: net::user::ADDRESS,
            prefix_len: net::user::PREFIX_LEN,
            gateway: net::user::GATEWAY,
            mac: String::new(),
            pid: c.state.derived().pid.unwrap_or(0),
            ports: net::user::published(c),
        });
    }
    let l = net::ipam::find(store, &c.id).ok().flatten()?;
    Some(Network {
        bridge: net::config(store)
            .ok()
            .flatten()
            .map(|n| n.bridge)
            .unwrap_or_default(),
        ip: l.ip,
        prefix_len: l.prefix_len,
        gateway: l.gateway,
        mac: l.mac,
        pid: l.pid,
        ports: l.ports,
    })
}

/// Bytes a container's log takes: ctr.log and its one backup.
fn log_size(dir: &Path) -> u64 {
    ["ctr.log", "ctr.log.1"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths() {
        let v = json!({"State": {"Pid": 7, "Status": "running"}, "Args": ["a", "b"], "N": null});
        assert_eq!(field(&v, "State.Pid"), "7");
        assert_eq!(field(&v, "{{.State.Status}}"), "running");
        assert_eq!(field(&v, " {{ .Args.1 }} "), "b");
        assert_eq!(field(&v, "Args"), "[\"a\",\"b\"]");
        assert_eq!(field(&v, "N"), "<no value>");
        assert_eq!(field(&v, "State.Nope"), "<no value>");
    }
}
