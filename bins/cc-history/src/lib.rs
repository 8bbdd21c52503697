use std::process::ExitCode;

use cc_lib::cli::{human_size, Format, StoreOpts};
use cc_lib::image::{self, Image};
use cc_lib::store::short_id;
use cc_lib::template::Columns;
use cc_lib::{time, Result};
use clap::{CommandFactory, Parser};
use serde_json::Value;

/// Show the history of an image, newest first, one line per history entry:
/// the image id on the top line and `<missing>` below it (the entries are
/// not images of their own), when it was made, the command that made it,
/// the size of its layer as stored (compressed; 0B for an entry without a
/// layer) and its comment.
#[derive(Debug, Parser)]
#[command(name = "cc-history", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Print the id column only, one per line
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not shorten ids and commands
    #[arg(long)]
    pub no_trunc: bool,
    /// `table`, `json` (one object per line), or a Go template as docker's:
    /// `{{.CreatedBy}}`; fields ID, CreatedSince, CreatedAt, CreatedBy,
    /// Size, Comment, EmptyLayer
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
    /// The image: name, id or unique id prefix
    pub image: String,
}

const COLUMNS: Columns = Columns {
    fields: &[
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
        ("EmptyLayer", "EMPTY LAYER"),
    ],
    table: "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
};

pub fn command() -> clap::Command {
    Args::command()
}

/// One line of the history.
struct Row {
    id: String,
    created: Option<String>,
    created_by: String,
    size: u64,
    comment: String,
    empty_layer: bool,
}

/// The history entries, oldest first, with the layer each one made. An
/// image whose history lists fewer entries than it has layers (some tools
/// write none) gets an empty entry for each of the lowest layers.
fn rows(img: &Image) -> Vec<Row> {
    let layers = &img.manifest.layers;
    let with_layer = img.config.history.iter().filter(|h| !h.empty_layer).count();
    let mut out: Vec<Row> = Vec::new();
    let mut next = 0;
    for l in layers.iter().take(layers.len().saturating_sub(with_layer)) {
        out.push(Row {
            id: String::new(),
            created: None,
            created_by: String::new(),
            size: l.size,
            comment: String::new(),
            empty_layer: false,
        });
        next += 1;
    }
    for h in &img.config.history {
        let size = if h.empty_layer {
            0
        } else {
            let s = layers.get(next).map_or(0, |l| l.size);
            next += 1;
            s
        };
        out.push(Row {
            id: String::new(),
            created: h.created.clone(),
            created_by: h.created_by.clone().unwrap_or_default(),
            size,
            comment: h.comment.clone().unwrap_or_default(),
            empty_layer: h.empty_layer,
        });
    }
    out.reverse();
    for (i, r) in out.iter_mut().enumerate() {
        r.id = if i == 0 {
            img.id.clone()
        } else {
            "<missing>".into()
        };
    }
    out
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let img = image::resolve(&store, &a.image)?;
    let rows = rows(&img);
    let id = |r: &Row| -> String {
        if a.no_trunc || r.id == "<missing>" {
            r.id.clone()
        } else {
            short_id(&r.id).to_string()
        }
    };
    if a.quiet {
        for r in &rows {
            println!("{}", id(r));
        }
    } else {
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                let created = r.created.as_deref().unwrap_or_default();
                let limit = if a.no_trunc { usize::MAX } else { 45 };
                serde_json::json!({
                    "ID": id(r),
                    "CreatedSince": time::parse_rfc3339(created)
                        .map(time::ago)
                        .unwrap_or_else(|| "N/A".into()),
                    "CreatedAt": created,
                    "CreatedBy": shorten(&r.created_by, limit),
                    "Size": human_size(r.size),
                    "Comment": r.comment,
                    "EmptyLayer": r.empty_layer,
                })
            })
            .collect();
        a.format.print(&COLUMNS, &rows)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// At most `n` characters, the last one `…` when cut, as docker does.
fn shorten(s: &str, n: usize) -> String {
    let s = s.replace(['\n', '\t'], " ");
    if s.chars().count() <= n {
        return s;
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}
