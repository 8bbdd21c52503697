use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::container::{self, Container, Status};
use cc_lib::error::Error;
use cc_lib::image::{self, Image};
use cc_lib::store::Store;
use cc_lib::Result;
use clap::{CommandFactory, Parser};
use serde_json::{json, Value};

/// Show containers and images as a JSON array, as `docker inspect` does.
/// A name is looked up as a container first, then as an image.
#[derive(Debug, Parser)]
#[command(name = "cc-inspect", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Print one field per object, by its path: `State.Pid`, `Config.Env`
    /// (`{{.State.Pid}}` works too)
    #[arg(short, long, value_name = "PATH")]
    pub format: Option<String>,
    /// Only look for images, or only for containers
    #[arg(long, value_parser = ["image", "container"])]
    pub r#type: Option<String>,
    /// Containers or images: names, ids or unique id prefixes
    #[arg(required = true)]
    pub objects: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let mut out = Vec::new();
    let mut code = 0u8;
    for q in cc_lib::cli::expand_stdin(a.objects.clone()) {
        match find(&store, &q, a.r#type.as_deref()) {
            Ok(v) => out.push(v),
            Err(e) => {
                eprintln!("cc-inspect: {e}");
                code = if a.objects.len() == 1 { e.code() } else { 1 };
            }
        }
    }
    match &a.format {
        Some(path) => {
            for v in &out {
                println!("{}", field(v, path));
            }
        }
        None => println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(out)).unwrap_or_default()
        ),
    }
    Ok(ExitCode::from(code))
}

fn find(store: &Store, q: &str, kind: Option<&str>) -> Result<Value> {
    if kind != Some("image") {
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
fn field(v: &Value, path: &str) -> String {
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

fn image_json(i: &Image) -> Value {
    let c = &i.config;
    json!({
        "Id": i.id,
        "RepoTags": i.names,
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

fn container_json(store: &Store, c: &Container) -> Value {
    let s = c.state.derived();
    let p = c.spec.process.clone().unwrap_or_default();
    let res = c
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.resources.clone())
        .unwrap_or_default();
    let mounts: Vec<Value> = c
        .spec
        .mounts
        .iter()
        .filter(|m| {
            m.is_bind() || m.kind.as_deref() == Some("tmpfs") && !m.destination.starts_with("/dev")
        })
        .map(|m| {
            json!({
                "Type": if m.is_bind() { "bind" } else { "tmpfs" },
                "Source": m.source, "Destination": m.destination,
                "RW": !m.options.iter().any(|o| o == "ro"),
            })
        })
        .collect();
    json!({
        "Id": c.id,
        "Name": c.name(),
        "Created": s.created,
        "Path": p.args.first(),
        "Args": p.args.get(1..).unwrap_or_default(),
        "State": {
            "Status": s.status.as_str(),
            "Running": s.status == Status::Running,
            "Pid": s.pid.unwrap_or(0),
            "ExitCode": s.exit_code,
            "Signal": s.signal,
            "OOMKilled": s.oom_killed,
            "StartedAt": s.started_at,
            "FinishedAt": s.finished_at,
            "Error": s.error,
            "MonitorPid": s.monitor_pid.unwrap_or(0),
        },
        "LogPath": c.dir.join("ctr.log"),
        // Bytes the log takes: ctr.log and its one backup.
        "LogSize": log_size(&c.dir),
        "HostnamePath": c.dir.join("hostname"),
        "HostsPath": c.dir.join("hosts"),
        "ResolvConfPath": c.dir.join("resolv.conf"),
        "Image": c.image(),
        "Config": {
            "Hostname": c.spec.hostname,
            "User": c.annotation(container::ANN_USER),
            "Env": p.env,
            "Cmd": p.args,
            "WorkingDir": p.cwd,
            "Tty": p.terminal,
            "OpenStdin": c.annotation(container::ANN_INTERACTIVE).is_some(),
            "Image": c.annotation(container::ANN_IMAGE_NAME),
            "StopSignal": c.annotation(container::ANN_STOP_SIGNAL).unwrap_or("SIGTERM"),
        },
        "HostConfig": {
            "Memory": res.memory.as_ref().and_then(|m| m.limit),
            "MemorySwap": res.memory.as_ref().and_then(|m| m.swap),
            "CpuShares": res.cpu.as_ref().and_then(|c| c.shares),
            "CpuQuota": res.cpu.as_ref().and_then(|c| c.quota),
            "CpuPeriod": res.cpu.as_ref().and_then(|c| c.period),
            "PidsLimit": res.pids.as_ref().map(|p| p.limit),
            "ReadonlyRootfs": c.spec.root.as_ref().is_some_and(|r| r.readonly),
            "Capabilities": p.capabilities.as_ref().map(|c| c.bounding.clone()).unwrap_or_default(),
            "NoNewPrivileges": p.no_new_privileges,
            // The OCI `linux.seccomp` object in force; null: unconfined.
            "Seccomp": c.spec.linux.as_ref().and_then(|l| l.seccomp.clone()),
            "Devices": c.spec.linux.as_ref().map(|l| l.devices.clone()).unwrap_or_default(),
            "MaskedPaths": c.spec.linux.as_ref().map(|l| l.masked_paths.clone()).unwrap_or_default(),
            "ReadonlyPaths": c.spec.linux.as_ref().map(|l| l.readonly_paths.clone()).unwrap_or_default(),
            "AutoRemove": c.annotation(container::ANN_RM).is_some(),
            // ctr.log rotates past MaxSize bytes (one backup); null: no cap.
            "LogConfig": {
                "MaxSize": c.annotation(container::ANN_LOG_MAX).and_then(|m| m.parse::<u64>().ok())
            },
            "NetworkMode": c.annotation(cc_lib::net::ANN_NET).unwrap_or("none"),
            "PortBindings": c.annotation(cc_lib::net::ANN_PORTS)
                .map(|p| p.split(',').collect::<Vec<_>>()).unwrap_or_default(),
        },
        "NetworkSettings": network_settings(store, c),
        "Mounts": mounts,
        "GraphDriver": { "Name": "overlay", "Data": {
            "UpperDir": c.upper(), "WorkDir": c.work(), "MergedDir": c.rootfs(),
            "LowerLayers": c.layers(),
        }},
    })
}

/// docker's NetworkSettings: the address, gateway, MAC and ports of a
/// running container on the bridge (empty otherwise).
fn network_settings(store: &Store, c: &Container) -> Value {
    let bridge = cc_lib::net::config(store).ok().flatten().map(|n| n.bridge);
    let Some(l) = cc_lib::net::ipam::find(store, &c.id).ok().flatten() else {
        return json!({ "Bridge": "", "IPAddress": "", "IPPrefixLen": 0, "Gateway": "",
                       "MacAddress": "", "Ports": {} });
    };
    let mut ports = serde_json::Map::new();
    for p in &l.ports {
        let key = format!("{}/{}", p.container_port, p.proto.as_str());
        let entry = ports.entry(key).or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(a) = entry {
            a.push(json!({ "HostIp": p.host_ip.to_string(), "HostPort": p.host_port.to_string() }));
        }
    }
    json!({
        "Bridge": bridge.unwrap_or_default(),
        "IPAddress": l.ip.to_string(),
        "IPPrefixLen": l.prefix_len,
        "Gateway": l.gateway.to_string(),
        "MacAddress": l.mac,
        "Ports": ports,
        "SandboxKey": format!("/proc/{}/ns/net", l.pid),
    })
}

/// Bytes a container's log takes: ctr.log and its one backup.
fn log_size(dir: &std::path::Path) -> u64 {
    ["ctr.log", "ctr.log.1"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}
