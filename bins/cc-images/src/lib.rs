use std::process::ExitCode;

use cc_lib::cli::{human_size, Format, StoreOpts};
use cc_lib::image::filter::Filters;
use cc_lib::image::reference::split_name;
use cc_lib::image::{self, Image};
use cc_lib::store::short_id;
use cc_lib::template::Columns;
use cc_lib::{time, Result};
use clap::{CommandFactory, Parser};
use serde_json::Value;

/// List images: one row per name (an unnamed image shows `<none>`).
#[derive(Debug, Parser)]
#[command(name = "cc-images", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Print image ids only, one per line
    #[arg(short, long)]
    pub quiet: bool,
    /// `table`, `json` (one object per line), or a Go template as docker's:
    /// `{{.Repository}}:{{.Tag}}`, `table {{.ID}}\t{{.Size}}`; fields
    /// Repository, Tag, Digest, ID, CreatedSince, CreatedAt, Size,
    /// Containers, VirtualSize, SharedSize, UniqueSize, Names, Digests
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
    /// Show each row's repo digest (what the registry named the image by)
    #[arg(long)]
    pub digests: bool,
    /// Show whole ids
    #[arg(long)]
    pub no_trunc: bool,
    /// Only images that match: dangling (true or false), reference (a
    /// glob over REPO or REPO:TAG), label (K or K=V), before, since (an
    /// image). Repeated keys are alternatives; different keys must all hold
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Show all images, the intermediate ones too (unnamed images another
    /// image was built on: cc-build's steps)
    #[arg(short, long)]
    pub all: bool,
    /// Only images whose repository is NAME (or NAME:TAG)
    pub name: Option<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let filters = Filters::parse(&a.filter)?;
    let mut images = filters.images(&store, image::list(&store)?)?;
    if !a.all {
        let hidden = image::intermediates(&images);
        images.retain(|i| !hidden.contains(&i.id));
    }
    // Newest first, as docker lists them.
    images.sort_by(|x, y| y.config.created.cmp(&x.config.created));
    let mut rows: Vec<Row> = Vec::new();
    for img in &images {
        for (repo, tag) in names_shown(img) {
            if let Some(want) = &a.name {
                if *want != repo && *want != format!("{repo}:{tag}") {
                    continue;
                }
            }
            if !filters.row(&repo, &tag) {
                continue;
            }
            let digest = img
                .digests
                .iter()
                .map(|d| split_name(d))
                .find(|(r, _)| *r == repo)
                .map_or("<none>".to_string(), |(_, d)| d.to_string());
            rows.push(Row {
                repo,
                tag,
                digest,
                img,
            });
        }
    }
    let id = |img: &Image| match a.no_trunc {
        true => img.id.clone(),
        false => short_id(&img.id).to_string(),
    };
    if a.quiet {
        let mut seen = Vec::new();
        for Row { img, .. } in &rows {
            if !seen.contains(&img.id) {
                println!("{}", id(img));
                seen.push(img.id.clone());
            }
        }
    } else {
        let rows: Vec<Value> = rows.iter().map(|r| r.fields(id(r.img))).collect();
        let cols = match a.digests {
            true => &DIGEST_COLUMNS,
            false => &COLUMNS,
        };
        a.format.print(cols, &rows)?;
    }
    Ok(ExitCode::SUCCESS)
}

struct Row<'a> {
    repo: String,
    tag: String,
    digest: String,
    img: &'a Image,
}

const FIELDS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("Names", "NAMES"),
    ("Digests", "DIGESTS"),
];

const COLUMNS: Columns = Columns {
    fields: FIELDS,
    table: "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
};

const DIGEST_COLUMNS: Columns = Columns {
    fields: FIELDS,
    table: "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
};

impl Row<'_> {
    /// The row as docker's `images --format` sees it, with cc's Names and
    /// Digests (every name and repo digest of the image) after.
    fn fields(&self, id: String) -> Value {
        let created = self.img.config.created.as_deref().unwrap_or_default();
        let size = human_size(self.img.size);
        serde_json::json!({
            "Repository": self.repo, "Tag": self.tag, "Digest": self.digest, "ID": id,
            "CreatedSince": time::parse_rfc3339(created).map(time::ago).unwrap_or_default(),
            "CreatedAt": time::docker_time(created), "Size": size, "Containers": "N/A",
            "VirtualSize": size, "SharedSize": "N/A", "UniqueSize": "N/A",
            "Names": self.img.names, "Digests": self.img.digests,
        })
    }
}

/// The (repository, tag) rows of an image, as docker shows them: one per
/// tag; a repository it has only a repo digest of shows tag `<none>`; an
/// image with neither `<none> <none>`.
fn names_shown(img: &Image) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = img
        .names
        .iter()
        .map(|n| split_name(n))
        .map(|(r, t)| (r.to_string(), t.to_string()))
        .collect();
    for d in &img.digests {
        let (repo, _) = split_name(d);
        if !rows.iter().any(|(r, _)| r == repo) {
            rows.push((repo.to_string(), "<none>".into()));
        }
    }
    if rows.is_empty() {
        rows.push(("<none>".into(), "<none>".into()));
    }
    rows
}
