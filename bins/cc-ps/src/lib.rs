use std::process::ExitCode;

use cc_lib::cli::{human_size, Format, StoreOpts};
use cc_lib::container::{self, Container, Status};
use cc_lib::ps::{self, Filters};
use cc_lib::store::short_id;
use cc_lib::Result;
use clap::{CommandFactory, Parser};
use serde_json::Value;

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
    /// `table`, `json` (one object per line), or a Go template as docker's:
    /// `{{.Names}}`, `table {{.ID}}\t{{.Status}}`; fields ID, Image,
    /// Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names,
    /// Labels, Label "KEY", Mounts, Networks, LocalVolumes, ExitCode, Pid,
    /// StartedAt, FinishedAt
    #[arg(long, default_value = "table", value_name = "FORMAT")]
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
    /// Add docker's SIZE column: the bytes the container wrote, and with
    /// its image's (`0B (virtual 4.26MB)`)
    #[arg(short, long)]
    pub size: bool,
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
    if a.quiet {
        for c in &list {
            match a.no_trunc {
                true => println!("{}", c.id),
                false => println!("{}", short_id(&c.id)),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ports = ps::ports_by_id(&store);
    // docker computes sizes only with -s or a template that asks for
    // them; its `{{.Size}}` otherwise reads 0B.
    let want_sizes = a.size || a.format.uses("Size");
    let mut sizer = ps::Sizes::new(&store);
    let sizes = match want_sizes {
        true => list
            .iter()
            .map(|c| sizer.of(c).map(Some))
            .collect::<Result<Vec<_>>>()?,
        false => vec![None; list.len()],
    };
    let rows: Vec<Value> = list
        .iter()
        .zip(&sizes)
        .map(|(c, size)| {
            let ports = ports.get(&c.id).map(String::as_str).unwrap_or("");
            let text = match size {
                Some((rw, root)) => {
                    format!("{} (virtual {})", human_size(*rw), human_size(*root))
                }
                None => "0B".into(),
            };
            let mut row = ps::row(c, ports, &text, a.no_trunc);
            if let Some((rw, root)) = size {
                row["SizeRw"] = (*rw).into();
                row["SizeRootFs"] = (*root).into();
            }
            row
        })
        .collect();
    // docker's one method with an argument: `{{.Label "key"}}`.
    let label = |i: Option<usize>, name: &str, args: &[Value]| {
        let key = args.first()?.as_str()?;
        match (name, i) {
            ("Label", Some(i)) => Some(list[i].labels().remove(key).unwrap_or_default().into()),
            ("Label", None) => Some("LABEL".into()),
            _ => None,
        }
    };
    // -s adds docker's SIZE column to the default table.
    let columns = match (a.size, &a.format) {
        (true, Format::Table) => ps::COLUMNS_SIZE,
        _ => ps::COLUMNS,
    };
    a.format.print_with(&columns, &rows, &label)?;
    Ok(ExitCode::SUCCESS)
}
