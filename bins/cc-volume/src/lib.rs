use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use cc_lib::cli::{each, expand_stdin, human_size, Format, StoreOpts};
use cc_lib::filter::Filters;
use cc_lib::template::Columns;
use cc_lib::volume;
use cc_lib::{Error, Result};
use clap::{CommandFactory, Parser, Subcommand};
use serde_json::Value;

/// Volumes, as docker's local driver keeps them, in the store
/// (`volumes/NAME/_data`): containers mount them with `cc-run -v NAME:/path`
/// or `--mount`, and they outlive the containers.
#[derive(Debug, Parser)]
#[command(name = "cc-volume", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Make a volume (a 64-hex name when none is given) and print its
    /// name; one of that name already there is kept as it is
    Create {
        /// The local driver's options: type=tmpfs,device=tmpfs,o=size=64m
        /// (a tmpfs shared by its containers, empty after a reboot) or
        /// type=none,o=bind,device=/host/folder
        #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE")]
        opt: Vec<String>,
        /// A label, KEY[=VALUE]
        #[arg(long, value_name = "K=V")]
        label: Vec<String>,
        /// Only the local driver exists
        #[arg(short, long, default_value = "local", value_parser = ["local"])]
        driver: String,
        /// The name: a letter or digit, then [a-zA-Z0-9_.-]
        name: Option<String>,
    },
    /// List volumes
    #[command(visible_alias = "list")]
    Ls {
        /// Names only
        #[arg(short, long)]
        quiet: bool,
        /// Only those that match: name (part of it), label (K or K=V),
        /// label!, dangling (true: no container uses it), driver
        #[arg(short, long = "filter", value_name = "KEY=VALUE")]
        filter: Vec<String>,
        /// `table`, `json` (one object per line), or a Go template as
        /// docker's: `{{.Name}}\t{{.Mountpoint}}`; fields Name, Driver,
        /// Scope, Mountpoint, Labels, CreatedAt, Links, Size
        #[arg(long, default_value = "table", value_name = "FORMAT")]
        format: Format,
    },
    /// Show volumes as a JSON array, as docker volume inspect
    Inspect {
        /// A Go template run over each volume: `{{.Mountpoint}}`
        #[arg(short, long, value_name = "TEMPLATE")]
        format: Option<String>,
        /// Volume names
        #[arg(required = true)]
        volumes: Vec<String>,
    },
    /// Remove volumes; one a container uses (running or not) is refused,
    /// naming the container (exit 4)
    #[command(visible_alias = "remove")]
    Rm {
        /// A missing volume is not an error (one in use still is)
        #[arg(short, long)]
        force: bool,
        /// Volume names (`-` reads stdin)
        #[arg(required = true)]
        volumes: Vec<String>,
    },
    /// Remove the anonymous volumes no container uses (with -a the named
    /// ones too), prints them and the space reclaimed
    Prune {
        /// Named volumes too
        #[arg(short, long)]
        all: bool,
        /// Only those that match: label=K[=V], label!=K[=V], until=TIME
        #[arg(long = "filter", value_name = "KEY=VALUE")]
        filter: Vec<String>,
        /// Do not ask first
        #[arg(short, long)]
        force: bool,
    },
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    match a.cmd {
        Cmd::Create {
            opt, label, name, ..
        } => {
            let (v, _) =
                volume::create(&store, name.as_deref(), pairs(&opt, "-o")?, labels(&label))?;
            println!("{}", v.name);
        }
        Cmd::Ls {
            quiet,
            filter,
            format,
        } => {
            let f = Filters::parse(&filter, volume::LS_KEYS)?;
            let list = volume::filtered(&store, &f)?;
            match quiet {
                true => list.iter().for_each(|v| println!("{}", v.name)),
                false => {
                    let rows: Vec<Value> = list.iter().map(|v| v.row()).collect();
                    format.print(&LS_COLUMNS, &rows)?;
                }
            }
        }
        Cmd::Inspect { format, volumes } => return inspect(&store, format, volumes),
        Cmd::Rm { force, volumes } => {
            return Ok(each(&expand_stdin(volumes), |name| {
                match volume::remove(&store, name) {
                    Err(Error::NotFound { .. }) if force => Ok(()),
                    Err(e) => Err(e),
                    Ok(()) => {
                        println!("{name}");
                        Ok(())
                    }
                }
            }))
        }
        Cmd::Prune { all, filter, force } => {
            let f = Filters::parse(&filter, volume::PRUNE_KEYS)?;
            let which = if all { "all" } else { "anonymous" };
            let warning = format!(
                "WARNING! This will remove {which} local volumes not used by at least one container."
            );
            if !force && !cc_lib::cli::confirmed(&warning)? {
                return Ok(ExitCode::SUCCESS);
            }
            let (names, reclaimed) = volume::prune(&store, all, &f)?;
            let mut out = std::io::stdout().lock();
            if !names.is_empty() {
                let _ = writeln!(out, "Deleted Volumes:\n{}\n", names.join("\n"));
            }
            let _ = writeln!(out, "Total reclaimed space: {}", human_size(reclaimed));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ls --format`'s fields, docker's.
const LS_COLUMNS: Columns = Columns {
    fields: &[
        ("Driver", "DRIVER"),
        ("Name", "VOLUME NAME"),
        ("Scope", "SCOPE"),
        ("Mountpoint", "MOUNTPOINT"),
        ("Labels", "LABELS"),
        ("CreatedAt", "CREATED AT"),
        ("Links", "LINKS"),
        ("Size", "SIZE"),
        ("Availability", "AVAILABILITY"),
        ("Group", "GROUP"),
        ("Status", "STATUS"),
    ],
    table: "{{.Driver}}\t{{.Name}}",
};

/// Inspect templates run over docker's JSON: no table, no header.
const INSPECT: Columns = Columns {
    fields: &[],
    table: "",
};

fn inspect(
    store: &cc_lib::store::Store,
    format: Option<String>,
    names: Vec<String>,
) -> Result<ExitCode> {
    let mut out = Vec::new();
    let names = expand_stdin(names);
    let code = each(&names, |n| {
        out.push(volume::load(store, n)?.inspect());
        Ok(())
    });
    match format.as_deref().map(str::trim) {
        Some(t) if t != "json" => {
            let template: Format = t.parse().unwrap_or_default();
            if !out.is_empty() {
                template.without_table().print(&INSPECT, &out)?;
            }
        }
        _ => println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(out)).unwrap_or_default()
        ),
    }
    Ok(code)
}

/// `KEY=VALUE`s of `flag`.
fn pairs(list: &[String], flag: &str) -> Result<BTreeMap<String, String>> {
    list.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(Error::Usage(format!(
                "invalid {flag} '{kv}': give KEY=VALUE"
            ))),
        })
        .collect()
}

/// `KEY[=VALUE]`s.
fn labels(list: &[String]) -> BTreeMap<String, String> {
    list.iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}
