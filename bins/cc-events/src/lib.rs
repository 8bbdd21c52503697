use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use cc_lib::cli::StoreOpts;
use cc_lib::events::{self, Event, Window};
use cc_lib::filter::{label_matches, Filters};
use cc_lib::{time, Error, Result};
use clap::{CommandFactory, Parser};

/// Show what cc programs did in the store, as docker's events: one line
/// per event, the past ones with --since, then new ones as they happen
/// until --until (without it, until interrupted).
#[derive(Debug, Parser)]
#[command(name = "cc-events", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Events since TIME: RFC 3339 (with or without a zone), a date, unix
    /// seconds or a duration before now (10m). Without it, only new events
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Stop at TIME (the forms of --since); without it, follow forever
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only events that match: type (container, image, network, volume),
    /// event (an action: start, die, tag …), container (id, id prefix or
    /// name), image (name or id), label (K or K=V), network, volume.
    /// Repeated keys are alternatives; different keys must all hold
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// `json`: one JSON object per line, as docker's `{{json .}}`
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
}

pub fn command() -> clap::Command {
    Args::command()
}

const KEYS: &[&str] = &[
    "type",
    "event",
    "container",
    "image",
    "label",
    "network",
    "volume",
];

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let filters = Filters::parse(&a.filter, KEYS)?;
    let json = match a.format.as_deref() {
        None => false,
        Some("json" | "{{json .}}") => true,
        Some(f) => {
            return Err(Error::Usage(format!(
                "invalid format '{f}': use json or {{{{json .}}}}"
            )))
        }
    };
    let now = SystemTime::now();
    let window = Window {
        since: a
            .since
            .as_deref()
            .map(|s| time::when_arg(s, now))
            .transpose()?,
        until: a
            .until
            .as_deref()
            .map(|s| time::when_arg(s, now))
            .transpose()?,
    };
    let mut out = std::io::stdout().lock();
    events::follow(&store, window, |ev| {
        if !wanted(&filters, ev) {
            return true;
        }
        let line = match json {
            true => serde_json::to_string(ev).unwrap_or_default(),
            false => ev.line(),
        };
        // A closed output ends the program, as `| head` expects.
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    })?;
    Ok(ExitCode::SUCCESS)
}

fn wanted(f: &Filters, ev: &Event) -> bool {
    let attr = |k: &str| ev.actor.attributes.get(k).map(String::as_str);
    let id = ev.actor.id.as_str();
    // An object filter matches the object's id, an id prefix or its name.
    let names = |kind: &str, v: &str| {
        ev.kind == kind
            && (id == v || (v.len() >= 3 && id.starts_with(v)) || attr("name") == Some(v))
    };
    f.any("type", |v| ev.kind == v)
        && f.any("event", |v| {
            ev.action == v || ev.action.split(':').next() == Some(v)
        })
        && f.any("container", |v| names("container", v))
        && f.any("image", |v| attr("image") == Some(v) || names("image", v))
        && f.any("label", |v| label_matches(&ev.actor.attributes, v))
        && f.any("network", |v| names("network", v))
        && f.any("volume", |v| names("volume", v))
}
