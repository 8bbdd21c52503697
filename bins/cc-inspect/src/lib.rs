use std::process::ExitCode;

use cc_lib::cli::{Format, StoreOpts};
use cc_lib::inspect::{self, Kind};
use cc_lib::template::Columns;
use cc_lib::Result;
use clap::{CommandFactory, Parser};
use serde_json::Value;

/// Show containers and images as a JSON array, as `docker inspect` does.
/// A name is looked up as a container first, then as an image.
#[derive(Debug, Parser)]
#[command(name = "cc-inspect", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// A Go template run over each object, as docker's: `{{.State.Pid}}`,
    /// `{{json .Config.Env}}`, `{{range .Mounts}}{{.Source}}{{end}}`,
    /// `{{index .Config.Labels "k"}}`; or a path without braces,
    /// `State.Pid` (cc's own form: strings bare, the rest as JSON); `json`
    /// is the default output
    #[arg(short, long, value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Only look for images, or only for containers
    #[arg(long, value_parser = ["image", "container"])]
    pub r#type: Option<String>,
    /// Containers or images: names, ids or unique id prefixes
    #[arg(required = true)]
    pub objects: Vec<String>,
}

/// Inspect templates run over docker's JSON: no table, no header.
const COLUMNS: Columns = Columns {
    fields: &[],
    table: "",
};

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let kind = match a.r#type.as_deref() {
        Some("image") => Some(Kind::Image),
        Some(_) => Some(Kind::Container),
        None => None,
    };
    let mut out = Vec::new();
    let mut code = 0u8;
    for q in cc_lib::cli::expand_stdin(a.objects.clone()) {
        match inspect::find(&store, &q, kind) {
            Ok(v) => out.push(v),
            Err(e) => {
                cc_lib::cli::print_error(&e);
                code = if a.objects.len() == 1 { e.code() } else { 1 };
            }
        }
    }
    match a.format.as_deref().map(str::trim) {
        Some(t) if t.contains("{{") => {
            if !out.is_empty() {
                let template: Format = t.parse().unwrap_or_default();
                template.without_table().print(&COLUMNS, &out)?;
            }
        }
        Some(path) if path != "json" => {
            for v in &out {
                println!("{}", inspect::field(v, path));
            }
        }
        _ => println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(out)).unwrap_or_default()
        ),
    }
    Ok(ExitCode::from(code))
}
