use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use cc_lib::cli::{Format, StoreOpts};
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
    /// `json` for one JSON object per line (docker's `{{json .}}`), or a
    /// Go template over docker's fields: `{{.Type}} {{.Action}}
    /// {{.Actor.ID}} {{.Actor.Attributes.name}}`, `.Status`, `.ID`,
    /// `.From`, `.Scope`, `.Time`, `.TimeNano`
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
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
    // One event per line as it comes: a template has no table to align.
    let format = a.format.without_table();
    let template = format.template()?;
    // Checked before any event comes, as docker does: an unknown field is
    // an error at once, not when the first event arrives.
    if let Some(t) = &template {
        let sample = Event::new("container", "create", "", Default::default());
        t.execute(&go_fields(&sample), &|_, _| None)
            .map_err(|e| Error::Template(e.0))?;
    }
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
    let mut failed = None;
    events::follow(&store, window, |ev| {
        if !wanted(&filters, ev) {
            return true;
        }
        let line = match (&format, &template) {
            (_, Some(t)) => match t.execute(&go_fields(ev), &|_, _| None) {
                Ok(s) => s,
                Err(e) => {
                    failed = Some(Error::Template(e.0));
                    return false;
                }
            },
            (Format::Json, _) => serde_json::to_string(ev).unwrap_or_default(),
            _ => ev.line(),
        };
        // A closed output ends the program, as `| head` expects.
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// An event as docker's templates see it: the Go struct's field names.
fn go_fields(ev: &Event) -> serde_json::Value {
    serde_json::json!({
        "Status": ev.status, "ID": ev.id, "From": ev.from,
        "Type": ev.kind, "Action": ev.action,
        "Actor": {"ID": ev.actor.id, "Attributes": ev.actor.attributes},
        "Scope": ev.scope, "Time": ev.time, "TimeNano": ev.time_nano,
    })
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
