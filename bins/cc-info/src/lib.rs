use std::process::ExitCode;

use cc_lib::cli::{print_json, Format, StoreOpts};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Show the store, the cgroup setup, and whether each kernel feature cc
/// relies on is there: the first thing to run on a new machine.
#[derive(Debug, Parser)]
#[command(name = "cc-info", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// `table` for people, `json` for one object
    #[arg(long, value_enum, default_value_t)]
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
    if a.format == Format::Json {
        print_json(&info)?;
        return Ok(ExitCode::SUCCESS);
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
