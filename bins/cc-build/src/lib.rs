use std::collections::BTreeMap;
use std::process::ExitCode;

use cc_lib::build::{self, context, Options, Pull};
use cc_lib::cli::StoreOpts;
use cc_lib::run::Net;
use cc_lib::{Error, Result};
use clap::{CommandFactory, Parser, ValueEnum};

/// Build an image from a Containerfile (or Dockerfile) and a build
/// context, as docker build does: each RUN runs in a container of the
/// step before and is committed as a layer, COPY and ADD bring the
/// context's files (less what .dockerignore leaves out), other
/// instructions change the config. A step whose inputs did not change is
/// taken from the cache. Prints the image id on stdout and nothing else;
/// steps and RUN's output go to stderr, each line under its stage and
/// step (`[build 2/5]`). Stages that do not use each other run at once
/// (`--jobs`). A failing RUN ends the build with its exit code, the other
/// stages stopped, and nothing is named.
#[derive(Debug, Parser)]
#[command(name = "cc-build", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// A name for the image, NAME[:TAG] (repeatable)
    #[arg(short, long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// The Containerfile (`-`: stdin); default Containerfile, else
    /// Dockerfile, in the context
    #[arg(short, long, value_name = "FILE")]
    pub file: Option<String>,
    /// The stage to build (its name after AS); default the last
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// A value for an ARG, KEY=VALUE (KEY alone: from the environment)
    #[arg(long = "build-arg", value_name = "KEY[=VALUE]")]
    pub build_args: Vec<String>,
    /// Run every step again, using no cached step
    #[arg(long)]
    pub no_cache: bool,
    /// Pull FROM images: missing (when the store lacks them, the
    /// default), always (`--pull` alone), or never
    #[arg(long, value_enum, value_name = "WHEN", env = "CC_PULL", default_value = "missing", num_args = 0..=1, require_equals = true, default_missing_value = "always")]
    pub pull: PullArg,
    /// RUN's network: bridge, none or host
    #[arg(long, value_name = "MODE", default_value = "bridge")]
    pub network: String,
    /// Print only the image id: no steps, RUN's output only if it fails
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the image id to this file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<std::path::PathBuf>,
    /// A label on the image, KEY=VALUE (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Remove RUN's containers, also when one fails (`--rm=false` keeps them)
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub rm: bool,
    /// Unix seconds for every image and history time and the latest file
    /// time in every layer: the same inputs give the same image digest
    #[arg(long, value_name = "SECONDS", env = "SOURCE_DATE_EPOCH")]
    pub timestamp: Option<i64>,
    /// The platform to build for: only the host's (os/arch)
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// A secret for `RUN --mount=type=secret,id=ID`: the bytes of a file
    /// (`src=`, also `source=`) or of an environment variable (`env=`),
    /// mounted read-only for the RUNs that ask, never in the image
    #[arg(long, value_name = "id=ID,src=PATH|env=VAR")]
    pub secret: Vec<String>,
    /// Squash the layers the build adds into one, on the base image's
    #[arg(long)]
    pub squash: bool,
    /// Squash every layer, the base image's too, into one
    #[arg(long, conflicts_with = "squash")]
    pub squash_all: bool,
    /// Keep one cached layer per step (`--layers=false`: no cache used or
    /// kept, the steps' images removed, the new layers made one)
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub layers: bool,
    /// How many stages run steps at once (0: no bound; 1: one after
    /// another); default as many as the host has CPUs. A stage starts when
    /// its FROM stage is built and waits for another only at the step that
    /// uses it
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// The build context: a folder, or `-` for a tar on stdin
    pub context: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullArg {
    Missing,
    Always,
    Never,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    refuse(&a)?;
    let store = a.store.open()?;
    let loaded = context::load(&store, &a.context, a.file.as_deref())?;
    let o = Options {
        file: loaded.text.clone(),
        file_name: loaded.name.clone(),
        context: loaded.context.dir.clone(),
        ignore: loaded.ignore.clone(),
        tags: a.tags,
        target: a.target,
        build_args: build_args(&a.build_args)?,
        no_cache: a.no_cache,
        pull: match a.pull {
            PullArg::Missing => Pull::Missing,
            PullArg::Always => Pull::Always,
            PullArg::Never => Pull::Never,
        },
        net: a.network.parse::<Net>().map_err(Error::Usage)?,
        quiet: a.quiet,
        labels: labels(&a.labels)?,
        rm: a.rm,
        timestamp: a.timestamp,
        secrets: secrets(&a.secret)?,
        squash: match (a.squash, a.squash_all) {
            (_, true) => build::Squash::All,
            (true, _) => build::Squash::New,
            _ => build::Squash::No,
        },
        no_layers: !a.layers,
        jobs: a.jobs,
    };
    let id = build::build(&store, &o)?;
    if let Some(p) = &a.iidfile {
        std::fs::write(p, &id).map_err(|e| Error::io("write", p, e))?;
    }
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// `--secret id=ID,src=PATH` / `id=ID,env=VAR` (docker's forms; `type=`
/// file or env as given, else by which key is there), read now.
fn secrets(given: &[String]) -> Result<std::collections::BTreeMap<String, Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    for s in given {
        let bad = |why: &str| Error::Usage(format!("--secret '{s}': {why}"));
        let (mut id, mut src, mut env) = (None, None, None);
        for field in s.split(',') {
            match field.split_once('=') {
                Some(("id", v)) => id = Some(v.to_string()),
                Some(("src" | "source", v)) => src = Some(v.to_string()),
                Some(("env", v)) => env = Some(v.to_string()),
                Some(("type", "file" | "env")) => {}
                _ => return Err(bad(&format!("unknown field '{field}'"))),
            }
        }
        let id = id.or_else(|| src.clone()).or_else(|| env.clone());
        let Some(id) = id.filter(|i| !i.is_empty()) else {
            return Err(bad("an id is needed"));
        };
        let bytes = match (src, env) {
            (Some(p), None) => std::fs::read(&p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::not_found("secret file", &p),
                _ => Error::io("read", &p, e),
            })?,
            (None, Some(v)) => std::env::var_os(&v)
                .ok_or_else(|| Error::not_found("secret's environment variable", &v))?
                .into_encoded_bytes(),
            (None, None) => match std::env::var_os(&id) {
                Some(v) => v.into_encoded_bytes(),
                None => return Err(bad("give src=PATH or env=VAR")),
            },
            (Some(_), Some(_)) => return Err(bad("src and env are two sources")),
        };
        out.insert(id, bytes);
    }
    Ok(out)
}

/// The options cc-build takes from docker build but cannot honour.
fn refuse(a: &Args) -> Result<()> {
    let no = |what: &str| Err(Error::Unsupported(what.into()));
    if let Some(p) = &a.platform {
        build::check_platform(p).map_err(Error::Unsupported)?;
    }
    if matches!(a.network.parse::<Net>(), Ok(Net::Container(_))) {
        return no("--network container:NAME: a build step joins no other container");
    }
    Ok(())
}

fn build_args(list: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in list {
        match a.split_once('=') {
            Some(("", _)) => {
                return Err(Error::Usage(format!(
                    "invalid --build-arg '{a}': KEY=VALUE"
                )))
            }
            Some((k, v)) => {
                out.insert(k.to_string(), v.to_string());
            }
            None => {
                if let Ok(v) = std::env::var(a) {
                    out.insert(a.clone(), v);
                }
            }
        }
    }
    Ok(out)
}

fn labels(list: &[String]) -> Result<Vec<(String, String)>> {
    list.iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            None if !l.is_empty() => Ok((l.clone(), String::new())),
            _ => Err(Error::Usage(format!("invalid --label '{l}': KEY=VALUE"))),
        })
        .collect()
}
