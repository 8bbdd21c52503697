//! One instruction of a stage: RUN as a container run and committed, the
//! config-only instructions as a new config on the same layers, each
//! through the cache.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::output::Prefixed;
use super::{argv, cache, Stage};
use crate::commit;
use crate::dockerfile::{expand, Args, Instruction};
use crate::error::{Error, Result};
use crate::image::format::ImageConfig;
use crate::image::{change, Image};
use crate::layer::Compression;
use crate::run::attach::Streams;
use crate::run::{self, Net, RunOptions};
use crate::store::Store;

type Edit = Box<dyn Fn(&mut ImageConfig) -> Result<()>>;

/// Runs one instruction, leaving its image in `st.image`.
pub fn run(store: &Store, st: &mut Stage, ins: &Instruction) -> Result<()> {
    match ins.keyword.as_str() {
        "RUN" => run_command(store, st, ins),
        "COPY" | "ADD" => super::copy::copy(store, st, ins),
        "ARG" => arg(st, ins),
        "ONBUILD" => {
            st.onbuild.push(ins.args.text());
            config_step(store, st, ins, Box::new(|_| Ok(())))
        }
        _ => {
            let edit = edit(st, ins)?;
            config_step(store, st, ins, edit)
        }
    }
}

/// Through the cache: the image of an earlier step with the same `parts`
/// on the same parent, or the one `make` makes.
pub fn cached(
    store: &Store,
    st: &mut Stage,
    parts: &[&[u8]],
    make: impl FnOnce(&Stage) -> Result<Image>,
) -> Result<()> {
    let ts = st.o.timestamp.map(|t| t.to_string()).unwrap_or_default();
    let mut all = parts.to_vec();
    all.push(ts.as_bytes());
    let key = cache::key(st.image.as_ref(), &all);
    if !st.o.no_cache && !st.o.no_layers {
        if let Some(img) = cache::lookup(store, &key)? {
            st.progress(&format!(
                "--> Using cache {}",
                crate::store::short_id(&img.id)
            ));
            st.image = Some(img);
            return Ok(());
        }
    }
    let img = make(st)?;
    match st.o.no_layers {
        true => super::push(st.made, img.id.clone()),
        false => cache::remember(store, &key, &img)?,
    }
    st.progress(&format!("--> {}", crate::store::short_id(&img.id)));
    st.image = Some(img);
    Ok(())
}

/// A config-only step: the same layers, a new config, an empty-layer
/// history entry.
fn config_step(store: &Store, st: &mut Stage, ins: &Instruction, edit: Edit) -> Result<()> {
    let mut probe = st
        .image
        .as_ref()
        .map(|i| i.config.clone())
        .unwrap_or_default();
    edit(&mut probe)?;
    let after = serde_json::to_vec(&(&probe.config, &probe.author, &st.onbuild))
        .map_err(Error::internal)?;
    let shown = ins.show();
    cached(store, st, &[shown.as_bytes(), &after], |st| {
        cache::derive(store, st, None, &shown, &*edit)
    })
}

/// The config change of ENV, LABEL, CMD, … with its words expanded now.
fn edit(st: &mut Stage, ins: &Instruction) -> Result<Edit> {
    let text = ins.args.text();
    let look = |n: &str| st.var(n);
    let err = |e: String| st.error(ins, &e);
    let word = |t: &str| expand::word(t, &look, st.escape).map_err(err);
    let words = |t: &str| expand::words(t, &look, st.escape).map_err(err);
    let kw = ins.keyword.clone();
    Ok(match kw.as_str() {
        "ENV" | "LABEL" => {
            let pairs = expand::pairs(&text, &look, st.escape, true).map_err(err)?;
            Box::new(move |c| {
                for (k, v) in &pairs {
                    let v = v.clone().unwrap_or_default();
                    if kw == "ENV" {
                        let env = c.config.env.get_or_insert_with(Vec::new);
                        env.retain(|e| e.split_once('=').map(|(n, _)| n) != Some(k));
                        env.push(format!("{k}={v}"));
                    } else {
                        c.config
                            .labels
                            .get_or_insert_with(BTreeMap::new)
                            .insert(k.clone(), v);
                    }
                }
                Ok(())
            })
        }
        "MAINTAINER" => Box::new(move |c| {
            c.author = Some(text.clone());
            Ok(())
        }),
        "EXPOSE" | "VOLUME" => {
            let list = match &ins.args {
                Args::Json(v) => v.iter().map(|w| word(w)).collect::<Result<Vec<_>>>()?,
                Args::Shell(s) => words(s)?,
            };
            Box::new(move |c| {
                for w in &list {
                    let line = match kw.as_str() {
                        "VOLUME" => format!("VOLUME {}", json!([w])),
                        _ => format!("EXPOSE {w}"),
                    };
                    change::apply(&mut c.config, &line)?;
                }
                Ok(())
            })
        }
        "USER" | "STOPSIGNAL" => {
            let v = word(&text)?;
            Box::new(move |c| change::apply(&mut c.config, &format!("{kw} {v}")))
        }
        "WORKDIR" => {
            let v = word(&text)?;
            let cur = st
                .image
                .as_ref()
                .and_then(|i| i.config.config.working_dir.clone());
            let dir = workdir(cur.as_deref(), &v);
            Box::new(move |c| {
                c.config.working_dir = Some(dir.clone());
                Ok(())
            })
        }
        "CMD" | "ENTRYPOINT" => {
            let v = argv(&st.shell, &ins.args);
            let keep_cmd = st.cmd_set;
            st.cmd_set |= kw == "CMD";
            Box::new(move |c| {
                if kw == "CMD" {
                    c.config.cmd = Some(v.clone());
                } else {
                    c.config.entrypoint = Some(v.clone());
                    if !keep_cmd {
                        c.config.cmd = None;
                    }
                }
                Ok(())
            })
        }
        "SHELL" => {
            let Args::Json(v) = &ins.args else {
                return Err(st.error(ins, "SHELL requires the arguments to be in JSON form"));
            };
            st.shell = v.clone();
            let v = v.clone();
            Box::new(move |c| {
                c.config.extra.insert("Shell".into(), json!(v));
                Ok(())
            })
        }
        "HEALTHCHECK" => {
            let hc = healthcheck(st, ins)?;
            Box::new(move |c| {
                c.config.extra.insert("Healthcheck".into(), hc.clone());
                Ok(())
            })
        }
        other => return Err(st.error(ins, &format!("{other} is not allowed here"))),
    })
}

/// WORKDIR: relative to the one before, cleaned.
fn workdir(cur: Option<&str>, v: &str) -> String {
    let joined = match v.starts_with('/') {
        true => v.to_string(),
        false => format!("{}/{v}", cur.unwrap_or("/")),
    };
    format!("/{}", crate::dockerfile::ignore::clean(&joined).join("/"))
}

/// HEALTHCHECK NONE, or `[--interval=D …] CMD …`, as docker's config.
fn healthcheck(st: &Stage, ins: &Instruction) -> Result<Value> {
    let text = ins.args.text();
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
    if word.eq_ignore_ascii_case("NONE") {
        return Ok(json!({"Test": ["NONE"]}));
    }
    if !word.eq_ignore_ascii_case("CMD") {
        return Err(st.error(ins, "expected NONE or CMD"));
    }
    let rest = rest.trim();
    let test: Vec<String> = match serde_json::from_str::<Vec<String>>(rest) {
        Ok(v) => std::iter::once("CMD".to_string()).chain(v).collect(),
        Err(_) => vec!["CMD-SHELL".into(), rest.into()],
    };
    let mut hc = json!({ "Test": test });
    for (f, v) in &ins.flags {
        let key = match f.as_str() {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                let n: u64 = v
                    .parse()
                    .map_err(|_| st.error(ins, &format!("invalid --retries '{v}'")))?;
                hc["Retries"] = json!(n);
                continue;
            }
            _ => return Err(st.error(ins, &format!("unknown flag: --{f}"))),
        };
        let ns = duration_ns(v)
            .ok_or_else(|| st.error(ins, &format!("invalid --{f} '{v}': a duration like 30s")))?;
        hc[key] = json!(ns);
    }
    Ok(hc)
}

/// Go's time.ParseDuration, in nanoseconds: `1m30s`, `500ms`, `2h`.
fn duration_ns(s: &str) -> Option<u64> {
    let mut total = 0f64;
    let mut rest = s;
    if rest == "0" {
        return Some(0);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, tail) = rest.split_at(n);
        let u = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(u);
        let mult = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += num.parse::<f64>().ok()? * mult;
        rest = tail;
    }
    Some(total as u64)
}

/// ARG: declares names for the stage, their values from `--build-arg`,
/// else the default, else a global ARG of that name.
fn arg(st: &mut Stage, ins: &Instruction) -> Result<()> {
    let look = |n: &str| st.var(n);
    let pairs =
        expand::pairs(&ins.args.text(), &look, st.escape, false).map_err(|e| st.error(ins, &e))?;
    for (k, default) in pairs {
        let v = match st.o.build_args.get(&k) {
            Some(v) => {
                super::push(st.used, k.clone());
                Some(v.clone())
            }
            None => default.or_else(|| st.globals.get(&k).cloned()),
        };
        st.args.insert(k, v.unwrap_or_default());
    }
    Ok(())
}

/// RUN: the command in a container of the current image, committed.
fn run_command(store: &Store, st: &mut Stage, ins: &Instruction) -> Result<()> {
    let mut net = st.o.net.clone();
    for (f, v) in &ins.flags {
        match (f.as_str(), v.as_str()) {
            ("network", "default") => {}
            ("network", "none") => net = Net::None,
            ("network", "host") => net = Net::Host,
            ("network", v) => {
                return Err(st.error(ins, &format!("unknown network '{v}' (default, none, host)")))
            }
            ("mount", _) => {}
            (f, _) => return Err(st.error(ins, &format!("unknown flag: --{f}"))),
        }
    }
    let Some(img) = st.image.clone() else {
        return Err(st.error(ins, "nothing to run in an empty image (FROM scratch)"));
    };
    let command = command(st, ins);
    let env = run_env(st, &img);
    let shown = format!("RUN {}", command.join(" "));
    let (cmd0, env0) = (command.join("\0"), env.join("\0"));
    let net_key = net.as_annotation();
    let mounts = ins.flag_all("mount");
    let mut mounts_key = mounts.join("\0");
    // A bind from another stage or image: its content is its image's id.
    for r in mounts
        .iter()
        .flat_map(|m| m.split(',').filter_map(|f| f.strip_prefix("from=")))
    {
        mounts_key.push('\0');
        mounts_key.push_str(&super::source_id(store, st, r)?);
    }
    let parts: [&[u8]; 5] = [
        b"RUN",
        cmd0.as_bytes(),
        env0.as_bytes(),
        net_key.as_bytes(),
        mounts_key.as_bytes(),
    ];
    cached(store, st, &parts, |st| {
        // Each line of the output under the stage's name (none with -q).
        let shown_out = match st.o.quiet {
            true => None,
            false => Some(Prefixed::new(st.prefix())?),
        };
        let mut o = RunOptions {
            image: Some(img.id.clone()),
            command,
            entrypoint: Some(String::new()),
            env,
            net: Some(net),
            // The build's signals are read by the build (stages.rs).
            streams: Streams {
                stdin: false,
                sig_proxy: false,
                to: shown_out.as_ref().and_then(Prefixed::fd),
                ..Default::default()
            },
            ..Default::default()
        };
        let mounted = super::mounts::apply(store, st, ins, &mounts, &mut o)?;
        let c = run::create(store, &o).map_err(failure)?;
        let ran = match st.cancel.enter(&c.id) {
            Ok(()) => run::start(store, &c, &o).map_err(failure),
            Err(e) => Err(e),
        };
        st.cancel.leave(&c.id);
        drop(shown_out);
        let made = match ran.map(|out| out.code) {
            Ok(Some(0)) => {
                mounted.drop_mount_points(&c.upper());
                commit_step(store, st, &c, &shown)
            }
            Ok(code) => {
                let code = code.unwrap_or(1);
                replay(store, st, &c.id);
                Err(Error::reported(
                    code,
                    format!(
                        "{}:{}: RUN: the command exited with {code}",
                        st.o.file_name, ins.line
                    ),
                ))
            }
            Err(e) => Err(e),
        };
        if st.o.rm || made.is_ok() {
            let _ = crate::lifecycle::remove(store, &c, true);
        }
        made
    })
}

/// The argv of a RUN: a here-document alone is the script; others are
/// given to the shell with the line, as a shell reads them.
fn command(st: &Stage, ins: &Instruction) -> Vec<String> {
    let Args::Shell(s) = &ins.args else {
        return argv(&st.shell, &ins.args);
    };
    let lone = s.trim().starts_with("<<") && !s.trim().contains(char::is_whitespace);
    let script = match ins.heredocs.as_slice() {
        [] => s.clone(),
        [h] if lone => h.body.clone(),
        hs => {
            let mut t = s.clone();
            t.push('\n');
            for h in hs {
                t.push_str(&h.body);
                t.push_str(&h.name);
                t.push('\n');
            }
            t
        }
    };
    argv(&st.shell, &Args::Shell(script))
}

/// The stage's ARGs as RUN's environment, where the image's ENV does not
/// set them (ENV wins, as docker).
fn run_env(st: &Stage, img: &Image) -> Vec<String> {
    let env = img.config.config.env.clone().unwrap_or_default();
    let mut out = Vec::new();
    let mut args = st.args.clone();
    for p in super::PROXY_ARGS {
        if let Some(v) = st.o.build_args.get(*p) {
            args.entry(p.to_string()).or_insert_with(|| v.clone());
        }
    }
    for (k, v) in args {
        if !env
            .iter()
            .any(|e| e.split_once('=').map(|(n, _)| n) == Some(&k))
        {
            out.push(format!("{k}={v}"));
        }
    }
    out
}

fn commit_step(
    store: &Store,
    st: &Stage,
    c: &crate::container::Container,
    shown: &str,
) -> Result<Image> {
    let o = commit::Options {
        message: Some("cc-build".into()),
        author: None,
        changes: Vec::new(),
        pause: false,
        compression: Compression::Gzip,
        name: None,
        created_by: Some(shown.to_string()),
        timestamp: st.o.timestamp,
    };
    let id = commit::commit(store, c, &o)?;
    crate::image::resolve(store, &id)
}

fn failure(f: crate::sandbox::Failure) -> Error {
    Error::reported(f.code, f.error.to_string())
}

/// Under `-q`: a failed command's output, from its log, on the real stderr.
fn replay(store: &Store, st: &Stage, id: &str) {
    let Some(fd) = st.replay_to else { return };
    let log = store.container_dir(id).join("ctr.log");
    let Ok(text) = std::fs::read_to_string(&log) else {
        return;
    };
    let mut out = Vec::new();
    for line in text.lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            out.extend_from_slice(v["log"].as_str().unwrap_or_default().as_bytes());
            out.push(b'\n');
        }
    }
    // SAFETY: fd is the saved stderr, open until the build ends.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let _ = crate::sys::write_all(fd, &out);
}
