use std::process::ExitCode;

use cc_lib::cli::{print_json, Format, StoreOpts};
use cc_lib::template::Columns;
use cc_lib::{commit, container, Result};
use clap::{CommandFactory, Parser};

/// List the changes of a container's filesystem against its image, one per
/// line, sorted by path: `A` added, `C` changed, `D` deleted, as `docker
/// diff` prints them. Read from the container's overlay upper dir, so it
/// works on running and exited containers and costs what the changes
/// cost, not what the image does. A folder that holds an added or deleted
/// path is listed as changed; a folder that was deleted and made again
/// (overlay's opaque folder) is listed as deleted and its new content as
/// added, as docker and podman do. The runtime's own mount targets
/// (/dev, /proc, /sys, /etc/hosts, ...) are not listed.
#[derive(Debug, Parser)]
#[command(name = "cc-diff", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// `table` for `KIND PATH` lines, `json` for one object per line
    /// (`{"Kind":"A","Path":"/x"}`), or a Go template over those fields:
    /// `{{.Path}}`
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
    /// The container: name, id or unique id prefix
    pub container: String,
}

const COLUMNS: Columns = Columns {
    fields: &[("Kind", "KIND"), ("Path", "PATH")],
    table: "",
};

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let mut out = std::io::stdout().lock();
    // Printed as found: the list of a huge tree is never held whole.
    let template = a.format.template()?;
    let mut rows = Vec::new();
    commit::diff(&store, &c, &mut |ch| {
        let row = serde_json::json!({"Kind": ch.kind.letter(), "Path": ch.path});
        match a.format {
            Format::Json => print_json(&row),
            // A template's rows are printed at the end (a table aligns them).
            Format::Template { .. } => {
                rows.push(row);
                Ok(())
            }
            Format::Table => {
                use std::io::Write;
                let _ = writeln!(out, "{} {}", ch.kind.letter(), ch.path);
                Ok(())
            }
        }
    })?;
    if template.is_some() {
        a.format.print(&COLUMNS, &rows)?;
    }
    Ok(ExitCode::SUCCESS)
}
