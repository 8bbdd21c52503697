use std::process::ExitCode;

use cc_lib::cli::{print_json, print_table, Format, StoreOpts};
use cc_lib::container::{self, Container, Status, ANN_IMAGE_NAME};
use cc_lib::store::short_id;
use cc_lib::{time, Result};
use clap::{CommandFactory, Parser};

/// List containers: running ones, or all with -a.
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
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let list: Vec<Container> = container::list(&store)?
        .into_iter()
        .filter(|c| a.all || c.status() == Status::Running)
        .collect();
    if a.quiet {
        for c in &list {
            println!("{}", short_id(&c.id));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.format == Format::Json {
        for c in &list {
            let s = c.state.derived();
            print_json(&serde_json::json!({
                "Id": c.id, "Name": c.name(), "Image": image(c), "Command": command_line(c),
                "Created": s.created, "Status": s.status, "ExitCode": s.exit_code,
                "StartedAt": s.started_at, "FinishedAt": s.finished_at, "Pid": s.pid,
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
            if cmd.chars().count() > 30 {
                cmd = cmd.chars().take(29).collect::<String>() + "…";
            }
            vec![
                short_id(&c.id).into(),
                image(c),
                format!("\"{cmd}\""),
                created,
                status(c),
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

/// `Up 5 seconds`, `Exited (0) 3 minutes ago`, `Exited (unknown)`, `Created`.
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
        Status::Running => format!("Up {}", since(&s.started_at).trim_end_matches(" ago")),
        Status::Exited => match s.exit_code {
            Some(code) => format!("Exited ({code}) {}", since(&s.finished_at)),
            None => "Exited (unknown)".into(),
        },
    }
}
