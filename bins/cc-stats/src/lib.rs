use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use cc_lib::cli::{Format, StoreOpts};
use cc_lib::container::{self, Container, Status};
use cc_lib::stats::{self, Sample, Stats};
use cc_lib::store::{short_id, Store};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Show what containers use: CPU %, memory and its limit, network and
/// block I/O, processes. Without --no-stream, a new sample every second
/// (on a terminal, redrawn in place) until interrupted; CPU % is the use
/// since the sample before, and in the first sample (the only one with
/// --no-stream) the average since the container started, as podman's.
#[derive(Debug, Parser)]
#[command(name = "cc-stats", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// All containers, not only running ones (stopped ones read as zeros)
    #[arg(short, long)]
    pub all: bool,
    /// One sample, then exit
    #[arg(long)]
    pub no_stream: bool,
    /// Show whole ids
    #[arg(long)]
    pub no_trunc: bool,
    /// `table` for people, `json` for one object per container per sample
    /// (docker's keys), or a Go template over them: `{{.Name}}
    /// {{.CPUPerc}}`, `table {{.ID}}\t{{.MemUsage}}`
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
    /// Containers: names, ids or unique id prefixes (default: every
    /// running one, and those that start meanwhile)
    pub containers: Vec<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

/// A live view's new sample every so often; its CPU % is the use since
/// the sample before. The first sample (and --no-stream's only one) is
/// taken at once, its CPU % the average since the container started.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    stats::check_measurable()?;
    let live = !a.no_stream && a.format == Format::Table && std::io::stdout().is_terminal();
    let mut before: HashMap<String, Sample> = HashMap::new();
    loop {
        let list = select(&store, &a)?;
        let mut now = HashMap::new();
        let cs: Vec<(&Container, bool)> = list.iter().map(|(_, c, run)| (c, *run)).collect();
        let rows: Vec<(String, &Container, Stats)> = list
            .iter()
            .zip(stats::sample_all(&cs))
            .map(|((q, c, _), s)| {
                let st = match before.get(&c.id) {
                    Some(b) => Stats::between(b, &s),
                    None => Stats::between(&stats::at_start(c), &s),
                };
                now.insert(c.id.clone(), s);
                (q.clone(), c, st)
            })
            .collect();
        print(&a, &rows, live)?;
        if a.no_stream {
            return Ok(ExitCode::SUCCESS);
        }
        before = now;
        std::thread::sleep(INTERVAL);
    }
}

/// The containers to sample, each with what names it in the JSON's
/// `Container`: the argument given, else the short id. Stopped ones are
/// left out unless named or -a.
/// Whether each runs is found out once, here.
fn select(store: &Store, a: &Args) -> Result<Vec<(String, Container, bool)>> {
    let running = |c: &Container| c.status() == Status::Running;
    if !a.containers.is_empty() {
        return a
            .containers
            .iter()
            .map(|q| {
                let c = container::resolve(store, q)?;
                Ok((q.clone(), running(&c), c))
            })
            .map(|r| r.map(|(q, run, c)| (q, c, run)))
            .collect();
    }
    Ok(container::list(store)?
        .into_iter()
        .map(|c| (running(&c), c))
        .filter(|(run, _)| a.all || *run)
        .map(|(run, c)| (short_id(&c.id).to_string(), c, run))
        .collect())
}

fn print(a: &Args, rows: &[(String, &Container, Stats)], live: bool) -> Result<()> {
    let id = |c: &Container| match a.no_trunc {
        true => c.id.clone(),
        false => short_id(&c.id).to_string(),
    };
    let objs: Vec<serde_json::Value> = rows
        .iter()
        .map(|(q, c, s)| {
            let [cpu, mem, mem_perc, net, block, pids] = s.columns();
            serde_json::json!({
                "BlockIO": block, "CPUPerc": cpu, "Container": q, "ID": id(c),
                "MemPerc": mem_perc, "MemUsage": mem, "Name": c.name(),
                "NetIO": net, "PIDs": pids,
            })
        })
        .collect();
    if live {
        // Home and clear the screen, then the table: redrawn in place.
        print!("\x1b[H\x1b[2J");
    }
    a.format.print(&stats::COLUMNS, &objs)?;
    let _ = std::io::stdout().flush();
    Ok(())
}
