use std::process::ExitCode;

use cc_lib::cli::{print_json, print_table, Format, StoreOpts};
use cc_lib::container::{self, Container, Status, ANN_IMAGE_NAME};
use cc_lib::ps::{self, Filters};
use cc_lib::store::short_id;
use cc_lib::{time, Result};
use clap::{CommandFactory, Parser};

/// List containers, newest first: running ones, or all with -a.
#[derive(Debug, Parser)]
#[command(name = "cc-ps", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Show all containers, not only running ones
    #[arg(short, long)]
    pub all: bool,
    /// Print container ids only, one per line
    #[arg(short, long)]
    pub quiet: bool,
    /// `table` for people, `json` for one object per line
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Only containers that match: id, name, label (K or K=V), status
    /// (created, running, exited, ...), exited (a code), ancestor (an
    /// image), before, since (a container), volume (a bind's source or
    /// destination), network (bridge, none, host, container:X), health
    /// (cc has no health checks: none matches every container). Repeated
    /// keys are alternatives; different keys must all hold
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Only the newest container (of all)
    #[arg(short, long)]
    pub latest: bool,
    /// Only the N newest containers (of all)
    #[arg(short = 'n', long = "last", value_name = "N")]
    pub last: Option<usize>,
    /// Show whole ids and commands
    #[arg(long)]
    pub no_trunc: bool,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let filters = Filters::parse(&a.filter)?;
    let last = if a.latest { Some(1) } else { a.last };
    let all = a.all || last.is_some() || filters.wants_all();
    let mut list: Vec<Container> = container::list(&store)?;
    // Newest first, as docker lists them.
    list.reverse();
    let list: Vec<Container> = filters
        .apply(&store, list)?
        .into_iter()
        .filter(|c| all || c.status() == Status::Running)
        .take(last.unwrap_or(usize::MAX))
        .collect();
    let id = |c: &Container| match a.no_trunc {
        true => c.id.clone(),
        false => short_id(&c.id).to_string(),
    };
    if a.quiet {
        for c in &list {
            println!("{}", id(c));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ports = ps::ports_by_id(&store);
    let ports_of = |c: &Container| ports.get(&c.id).cloned().unwrap_or_default();
    if a.format == Format::Json {
        for c in &list {
            let s = c.state.derived();
            print_json(&serde_json::json!({
                "Id": c.id, "Name": c.name(), "Image": image(c), "Command": command_line(c),
                "Created": s.created, "Status": s.status, "ExitCode": s.exit_code,
                "StartedAt": s.started_at, "FinishedAt": s.finished_at, "Pid": s.pid,
                "Ports": ports_of(c), "Labels": c.labels(),
            }))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let created = time::parse_rfc3339(&c.state.created)
                .map(time::ago)
                .unwrap_or_default();
            let mut cmd = command_line(c);
            if !a.no_trunc && cmd.chars().count() > 30 {
                cmd = cmd.chars().take(29).collect::<String>() + "…";
            }
            vec![
                id(c),
                image(c),
                format!("\"{cmd}\""),
                created,
                status(c),
                ports_of(c),
                c.name().into(),
            ]
        })
        .collect();
    print_table(
        &[
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

fn image(c: &Container) -> String {
    match c.annotation(ANN_IMAGE_NAME).filter(|s| !s.is_empty()) {
        Some(n) => n.to_string(),
        None => c
            .image()
            .map(|i| short_id(i).to_string())
            .unwrap_or_else(|| "<rootfs>".into()),
    }
}

fn command_line(c: &Container) -> String {
    c.spec
        .process
        .as_ref()
        .map(|p| p.args.join(" "))
        .unwrap_or_default()
}

/// `Up 5 seconds`, `Up 5 seconds (Paused)`, `Restarting (1) 1 second ago`,
/// `Exited (0) 3 minutes ago`, `Exited (unknown)`, `Created`.
pub fn status(c: &Container) -> String {
    let s = c.state.derived();
    let since = |t: &Option<String>| {
        t.as_deref()
            .and_then(time::parse_rfc3339)
            .map(time::ago)
            .unwrap_or_default()
    };
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => {
            let up = format!("Up {}", since(&s.started_at).trim_end_matches(" ago"));
            match c.paused() {
                true => up + " (Paused)",
                false => up,
            }
        }
        Status::Exited if s.restarting => format!(
            "Restarting ({}) {}",
            s.exit_code.unwrap_or(-1),
            since(&s.finished_at)
        ),
        Status::Exited => match s.exit_code {
            Some(code) => format!("Exited ({code}) {}", since(&s.finished_at)),
            None => "Exited (unknown)".into(),
        },
    }
}
