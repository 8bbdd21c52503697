use std::process::ExitCode;

use cc_lib::cli::{Format, StoreOpts};
use cc_lib::info::Info;
use cc_lib::template::Columns;
use cc_lib::Error;
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Show the store, the cgroup setup, and whether each kernel feature cc
/// relies on is there: the first thing to run on a new machine.
#[derive(Debug, Parser)]
#[command(name = "cc-info", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// `table` for people, `json` for one object, or a Go template as
    /// docker's: `{{.KernelVersion}}`; docker's fields ServerVersion,
    /// Containers, ContainersRunning, ContainersPaused, ContainersStopped,
    /// Images, Driver, DockerRootDir, KernelVersion, OSType, Architecture,
    /// NCPU, MemTotal, CgroupDriver, CgroupVersion, SwapLimit, and cc's own
    /// (store, features, ... as `--format json` shows them)
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let info = cc_lib::info::gather(&store)?;
    for p in &info.open_folders {
        eprintln!(
            "cc-info: warning: '{p}' is open to other users: it should be 0700 (chmod 0700 '{p}')"
        );
    }
    match &a.format {
        Format::Table => {}
        // docker's `info --format` is over one object: no table to align.
        Format::Json | Format::Template { .. } => {
            let cols = Columns {
                fields: &[],
                table: "",
            };
            a.format
                .clone()
                .without_table()
                .print(&cols, &[docker_fields(&info)?])?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    println!("version: {}", env!("CARGO_PKG_VERSION"));
    println!("store: {}", info.store);
    println!("images: {}", info.images);
    println!("containers: {} ({} running)", info.containers, info.running);
    println!(
        "tmp: {} bytes (work in flight, resumable downloads)",
        info.tmp_bytes
    );
    println!("kernel: {}", info.kernel);
    println!(
        "cgroup: v{} ({})",
        info.cgroup_version,
        info.cgroup_controllers.join(", ")
    );
    println!("cgroup manager: {}", info.cgroup_manager);
    println!(
        "swap accounting: {}",
        if info.swap_accounting { "yes" } else { "no" }
    );
    if let Some(r) = &info.rootless {
        println!("rootless: uid {}", r.uid);
        println!("  uid map: {}", r.uid_map.join(", "));
        println!("  gid map: {}", r.gid_map.join(", "));
        println!("  overlay: {}", r.overlay);
        println!("  cgroups: {}", r.cgroups);
    }
    println!("features:");
    for f in &info.features {
        println!("  {:<22} {}", f.name, if f.present { "yes" } else { "NO" });
    }
    let missing = info
        .features
        .iter()
        .filter(|f| f.required && !f.present)
        .count();
    Ok(if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// cc's info with docker's `info` fields beside its own.
fn docker_fields(info: &Info) -> cc_lib::Result<serde_json::Value> {
    let mut v = serde_json::to_value(info).map_err(Error::internal)?;
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0);
    let docker = serde_json::json!({
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        "Containers": info.containers,
        "ContainersRunning": info.running,
        "ContainersPaused": 0,
        "ContainersStopped": info.containers - info.running,
        "Images": info.images,
        "Driver": "overlay",
        "DockerRootDir": info.store,
        "KernelVersion": info.kernel,
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "MemTotal": mem_kb * 1024,
        "CgroupDriver": info.cgroup_manager,
        "CgroupVersion": info.cgroup_version.to_string(),
        "SwapLimit": info.swap_accounting,
    });
    if let (Some(o), serde_json::Value::Object(d)) = (v.as_object_mut(), docker) {
        o.extend(d);
    }
    Ok(v)
}
