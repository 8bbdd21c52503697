use std::process::ExitCode;

use cc_lib::cli::{human_size, print_json, print_table, Format, StoreOpts};
use cc_lib::image::{self, Image};
use cc_lib::store::short_id;
use cc_lib::{time, Result};
use clap::{CommandFactory, Parser};

/// List images: one row per name (an unnamed image shows `<none>`).
#[derive(Debug, Parser)]
#[command(name = "cc-images", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Print image ids only, one per line
    #[arg(short, long)]
    pub quiet: bool,
    /// `table` for people, `json` for one object per line
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Only images whose repository is NAME (or NAME:TAG)
    pub name: Option<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let mut rows: Vec<(String, String, &Image)> = Vec::new();
    let images = image::list(&store)?;
    for img in &images {
        let names = if img.names.is_empty() {
            vec!["<none>:<none>".to_string()]
        } else {
            img.names.clone()
        };
        for n in names {
            let (repo, tag) = n
                .rsplit_once(':')
                .filter(|(_, t)| !t.contains('/'))
                .unwrap_or((&n, "<none>"));
            if let Some(want) = &a.name {
                if want != repo && *want != n {
                    continue;
                }
            }
            rows.push((repo.to_string(), tag.to_string(), img));
        }
    }
    if a.quiet {
        let mut seen = Vec::new();
        for (_, _, img) in &rows {
            if !seen.contains(&img.id) {
                println!("{}", short_id(&img.id));
                seen.push(img.id.clone());
            }
        }
    } else if a.format == Format::Json {
        for (repo, tag, img) in &rows {
            print_json(&serde_json::json!({
                "Id": img.id, "Repository": repo, "Tag": tag,
                "Created": img.config.created, "Size": img.size, "Names": img.names,
            }))?;
        }
    } else {
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(repo, tag, img)| {
                let created = img
                    .config
                    .created
                    .as_deref()
                    .and_then(time::parse_rfc3339)
                    .map(time::ago)
                    .unwrap_or_default();
                vec![
                    repo.clone(),
                    tag.clone(),
                    short_id(&img.id).to_string(),
                    created,
                    human_size(img.size),
                ]
            })
            .collect();
        print_table(
            &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
            &table,
        );
    }
    Ok(ExitCode::SUCCESS)
}
