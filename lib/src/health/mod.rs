//! Healthchecks, docker's: the check a container's record keeps (its
//! image's `HEALTHCHECK` merged with `cc-run --health-*`), and its
//! `State.Health` — status, failing streak, the last five results — in
//! `health.json` in the container's folder, written atomically under
//! `health.lock` by whoever ran the check: the monitor on its schedule
//! (`monitor::health`) or `cc-healthcheck` now. A change of status is a
//! `health_status: STATUS` event.
//!
//! | file       | owns |
//! | ---------- | ---- |
//! | `probe.rs` | one run of the check: started as cc-exec starts a command, output capped, killed at its timeout |

pub mod probe;

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::container::{self, Container, Status as Run};
use crate::error::{Error, Result};
use crate::image::format::Healthcheck;
use crate::store::{self, Store};

/// The annotation that keeps a container's check (docker's
/// `Config.Healthcheck` JSON); absent when it has none.
pub const ANN_HEALTHCHECK: &str = "io.cc.healthcheck";

/// docker's defaults, for a duration or retries of 0.
const INTERVAL: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(30);
const START_INTERVAL: Duration = Duration::from_secs(5);
const RETRIES: u64 = 3;
/// Results kept in `Log`, and bytes of output kept of each (docker's).
const LOG_ENTRIES: usize = 5;
pub const OUTPUT_MAX: usize = 4096;

/// A container's check with docker's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The command: `CMD`'s arguments, or `/bin/sh -c` and `CMD-SHELL`'s.
    pub args: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: u64,
}

impl Config {
    /// The check `h` runs; `None` for `NONE` or no test. An unknown test
    /// type is a usage error, as docker's.
    pub fn from(h: &Healthcheck) -> Result<Option<Config>> {
        let args = match h.test.split_first() {
            None => return Ok(None),
            Some((kind, _)) if kind == "NONE" => return Ok(None),
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
            Some((kind, [cmd])) if kind == "CMD-SHELL" => {
                vec!["/bin/sh".into(), "-c".into(), cmd.clone()]
            }
            Some(_) => {
                return Err(Error::Usage(format!(
                    "invalid healthcheck test '{}': CMD ARG..., CMD-SHELL COMMAND or NONE",
                    h.test.join(" ")
                )))
            }
        };
        let or = |ns: u64, default: Duration| match ns {
            0 => default,
            n => Duration::from_nanos(n),
        };
        Ok(Some(Config {
            args,
            interval: or(h.interval, INTERVAL),
            timeout: or(h.timeout, TIMEOUT),
            start_period: Duration::from_nanos(h.start_period),
            start_interval: or(h.start_interval, START_INTERVAL),
            retries: if h.retries == 0 { RETRIES } else { h.retries },
        }))
    }

    /// The check of container `c`, if it has one.
    pub fn of(c: &Container) -> Option<Config> {
        Config::from(&recorded(c)?).ok().flatten()
    }
}

/// The check as the record keeps it (docker's `Config.Healthcheck`).
pub fn recorded(c: &Container) -> Option<Healthcheck> {
    serde_json::from_str(c.annotation(ANN_HEALTHCHECK)?).ok()
}

/// The image's check with cc-run's `--health-*` over it, field by field
/// (docker's merge: a zero or empty field of `given` takes the image's);
/// `--no-healthcheck` is `given` with the test `["NONE"]`. `None`: the
/// container runs no check.
pub fn merge(
    image: Option<&Healthcheck>,
    given: Option<&Healthcheck>,
) -> Result<Option<Healthcheck>> {
    let h = match (given, image) {
        (None, None) => return Ok(None),
        (None, Some(i)) => i.clone(),
        (Some(g), i) => {
            let i = i.cloned().unwrap_or_default();
            let pick = |a: u64, b: u64| if a == 0 { b } else { a };
            Healthcheck {
                test: if g.test.is_empty() {
                    i.test
                } else {
                    g.test.clone()
                },
                interval: pick(g.interval, i.interval),
                timeout: pick(g.timeout, i.timeout),
                start_period: pick(g.start_period, i.start_period),
                start_interval: pick(g.start_interval, i.start_interval),
                retries: pick(g.retries, i.retries),
            }
        }
    };
    match Config::from(&h)? {
        Some(_) => Ok(Some(h)),
        // A flag without a test and an image without a check: nothing to run.
        None if h.test.is_empty() && given.is_some() => Err(Error::Usage(
            "--health-* options need a check: --health-cmd, or an image with a HEALTHCHECK".into(),
        )),
        None => Ok(None),
    }
}

/// docker's health statuses (`none` is a container without a check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Starting,
    Healthy,
    Unhealthy,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Healthy => "healthy",
            Status::Unhealthy => "unhealthy",
        }
    }
}

/// docker's `State.Health`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: Status,
    pub failing_streak: u64,
    pub log: Vec<Entry>,
}

/// One run of the check, as docker logs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

/// What one run gave: when, its exit code (-1: timed out), its output.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub start: SystemTime,
    pub end: SystemTime,
    pub exit_code: i32,
    pub output: String,
}

const FILE: &str = "health.json";

fn load(c: &Container) -> Option<Health> {
    store::read_json(&c.dir.join(FILE)).ok()
}

/// Changes health.json under its lock (the monitor and cc-healthcheck
/// may record at once); the file is replaced whole.
fn change(c: &Container, change: impl FnOnce(&mut Health)) -> Result<Health> {
    let _lock = store::lock_file(&c.dir.join("health.lock"))?;
    let mut h = load(c).unwrap_or_default();
    change(&mut h);
    let bytes = serde_json::to_vec_pretty(&h).map_err(Error::internal)?;
    store::write_volatile(&c.dir.join(FILE), &bytes)?;
    Ok(h)
}

/// The container starts (again): `starting`, no failing streak; the log
/// of earlier runs is kept.
pub fn begin(c: &Container) -> Result<()> {
    change(c, |h| {
        h.status = Status::Starting;
        h.failing_streak = 0;
    })
    .map(drop)
}

/// The container ended: `unhealthy`, as docker says of a stopped one.
pub fn end(c: &Container) {
    let _ = change(c, |h| h.status = Status::Unhealthy);
}

/// Records one run's outcome by docker's rules: a success is `healthy`
/// and ends the streak; a failure adds to the streak (not while still
/// `starting` within the start period) and `retries` failures in a row
/// are `unhealthy`. Logs it (the last five kept) and emits
/// `health_status: STATUS` when the status changed. Returns the new state.
pub fn record(store: &Store, c: &Container, cfg: &Config, o: &Outcome) -> Result<Health> {
    let started = c
        .state
        .started_at
        .as_deref()
        .and_then(crate::time::parse_rfc3339);
    let mut before = Status::Starting;
    let h = change(c, |h| {
        before = h.status;
        if o.exit_code == 0 {
            h.failing_streak = 0;
            h.status = Status::Healthy;
        } else {
            let in_start_period = h.status == Status::Starting
                && started
                    .and_then(|s| o.start.duration_since(s).ok())
                    .is_some_and(|since| since < cfg.start_period);
            if !in_start_period {
                h.failing_streak += 1;
                if h.failing_streak >= cfg.retries {
                    h.status = Status::Unhealthy;
                }
            }
        }
        h.log.push(Entry {
            start: crate::time::format_rfc3339(o.start),
            end: crate::time::format_rfc3339(o.end),
            exit_code: o.exit_code,
            output: o.output.clone(),
        });
        let extra = h.log.len().saturating_sub(LOG_ENTRIES);
        h.log.drain(..extra);
    })?;
    if h.status != before {
        let action = format!("health_status: {}", h.status.as_str());
        container::event(store, c, &action, &[]);
    }
    Ok(h)
}

/// `State.Health` as docker shows it: none without a check or before the
/// first start; `unhealthy` once the container is not running.
pub fn shown(c: &Container) -> Option<Health> {
    c.annotation(ANN_HEALTHCHECK)?;
    let mut h = load(c)?;
    if c.status() != Run::Running {
        h.status = Status::Unhealthy;
    }
    Some(h)
}

/// cc-ps's `--filter health=` word: starting, healthy, unhealthy, none.
pub fn status_word(c: &Container) -> &'static str {
    shown(c).map_or("none", |h| h.status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(test: &[&str]) -> Healthcheck {
        Healthcheck {
            test: test.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn tests_and_defaults_are_docker_s() {
        let c = Config::from(&check(&["CMD-SHELL", "exit 1"]))
            .unwrap()
            .unwrap();
        assert_eq!(c.args, ["/bin/sh", "-c", "exit 1"]);
        assert_eq!((c.interval, c.timeout, c.retries), (INTERVAL, TIMEOUT, 3));
        assert_eq!(c.start_period, Duration::ZERO);
        let c = Config::from(&check(&["CMD", "true"])).unwrap().unwrap();
        assert_eq!(c.args, ["true"]);
        assert_eq!(Config::from(&check(&["NONE"])).unwrap(), None);
        assert_eq!(Config::from(&check(&[])).unwrap(), None);
        assert_eq!(Config::from(&check(&["RUN", "x"])).unwrap_err().code(), 2);
    }

    #[test]
    fn flags_override_the_image_field_by_field() {
        let image = Healthcheck {
            interval: 5,
            retries: 7,
            ..check(&["CMD", "true"])
        };
        let given = Healthcheck {
            retries: 2,
            ..Default::default()
        };
        let m = merge(Some(&image), Some(&given)).unwrap().unwrap();
        assert_eq!(
            (m.test.clone(), m.interval, m.retries),
            (image.test.clone(), 5, 2)
        );
        assert_eq!(merge(Some(&image), Some(&check(&["NONE"]))).unwrap(), None);
        assert_eq!(merge(None, Some(&given)).unwrap_err().code(), 2);
        assert_eq!(merge(None, None).unwrap(), None);
    }
}
