use std::process::ExitCode;

use cc_lib::cli::StoreOpts;
use cc_lib::inspect::{self, Kind};
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
    /// Print one field per object, by its path: `State.Pid`, `Config.Env`
    /// (`{{.State.Pid}}` works too)
    #[arg(short, long, value_name = "PATH")]
    pub format: Option<String>,
    /// Only look for images, or only for containers
    #[arg(long, value_parser = ["image", "container"])]
    pub r#type: Option<String>,
    /// Containers or images: names, ids or unique id prefixes
    #[arg(required = true)]
    pub objects: Vec<String>,
}

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
    match &a.format {
        Some(path) => {
            for v in &out {
                println!("{}", inspect::field(v, path));
            }
        }
        None => println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(out)).unwrap_or_default()
        ),
    }
    Ok(ExitCode::from(code))
}
