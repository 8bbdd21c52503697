//! cc-build: an image from a Containerfile and a build context, composed
//! of what cc already has. The recipe:
//!
//! 1. parse the file (`dockerfile::parse`), cut it into stages at FROM,
//!    and keep the stages the target needs (its FROM and `COPY --from`);
//! 2. for each step, its cache key (`cache::key`: the parent image, the
//!    instruction after expansion, the build args a RUN sees, the bytes
//!    and metadata of what a COPY brings): a key seen before gives its
//!    image again;
//! 3. otherwise the step makes a new image of the store on its parent:
//!    RUN runs a container as cc-run does (`run::create`, `run::start`)
//!    and commits it as cc-commit does (`commit::commit`); COPY and ADD
//!    write their files as a layer tar staged as cc-load stages layers
//!    (`image::stage::stage`); other instructions change only the config
//!    (an empty-layer history entry, as docker);
//! 4. the last step's image gets the `-t` names.
//!
//! The stages the target needs run at once where they can
//! (`stages::run_all`): a stage waits only for the stages it uses.
//!
//! Every step's image is an unnamed image of the store (cc-images -a):
//! the cache is those images and the keys under `build-cache/`.
//!
//! | file       | owns |
//! | ---------- | ---- |
//! | `mod.rs`   | options, stages, FROM, the end |
//! | `context.rs` | the context folder or tar, the Containerfile, its ignore file |
//! | `step.rs`  | each instruction: config changes, RUN |
//! | `copy.rs`  | COPY and ADD: sources, the layer tar |
//! | `cache.rs` | cache keys, images derived from a parent |
//! | `mounts.rs` | `RUN --mount`: cache folders, context binds, tmpfs |
//! | `squash.rs` | `--squash`, `--layers=false`: the new layers as one |
//! | `stages.rs` | which stages, in threads at once, stopping them all |
//! | `output.rs` | stdout to stderr, each stage's lines under its name |

mod add;
mod cache;
pub mod context;
mod copy;
mod mounts;
mod output;
mod squash;
mod stages;
mod step;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::dockerfile::ignore::Ignore;
use crate::dockerfile::{self, expand, Args, Dockerfile, Instruction};
use crate::error::{Error, Result};
use crate::image::{self, Image};
use crate::run::Net;
use crate::store::Store;

pub use cache::prune as prune_cache;

/// What cc-build was asked for, free of argument parsing.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The Containerfile's text, and its name for messages.
    pub file: String,
    pub file_name: String,
    /// The build context folder.
    pub context: PathBuf,
    /// `.dockerignore` of the context (or of the Containerfile).
    pub ignore: Ignore,
    /// `-t`: names for the result.
    pub tags: Vec<String>,
    pub target: Option<String>,
    /// `--build-arg K=V` (`K` alone: from the environment, given here).
    pub build_args: BTreeMap<String, String>,
    pub no_cache: bool,
    /// `--pull`: when FROM and `COPY --from` images are pulled.
    pub pull: Pull,
    /// `--network`: RUN's network (bridge by default, as docker).
    pub net: Net,
    /// `-q`: no progress, RUN's output only when it fails.
    pub quiet: bool,
    /// `--label K=V` on the result.
    pub labels: Vec<(String, String)>,
    /// `--rm` (default): RUN's containers removed, also when they fail.
    pub rm: bool,
    /// `--timestamp`/SOURCE_DATE_EPOCH: the time of every image and
    /// history entry, and the latest mtime in every layer.
    pub timestamp: Option<i64>,
    /// `--secret id=ID,src=PATH|env=VAR`: each secret's bytes by id, for
    /// `RUN --mount=type=secret`; never in a layer or a cache key.
    pub secrets: BTreeMap<String, Vec<u8>>,
    /// `--squash` / `--squash-all`: the result's new layers, or all its
    /// layers, made one.
    pub squash: Squash,
    /// `--layers=false`: no step is taken from or kept in the cache, the
    /// steps' images are removed, and the result's new layers are one.
    pub no_layers: bool,
    /// `--jobs`: how many stages run at once; 0 no bound; `None` as many
    /// as the host has CPUs.
    pub jobs: Option<usize>,
}

/// Which of the result's layers `--squash` merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Squash {
    #[default]
    No,
    /// The layers above the final stage's base image.
    New,
    /// Every layer.
    All,
}

/// When an image a build names is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    /// When the store lacks it (docker's default).
    #[default]
    Missing,
    Always,
    Never,
}

/// The predefined args docker passes to RUN without an ARG line.
const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// One stage: FROM and the instructions up to the next FROM.
pub(crate) struct StageDef<'a> {
    from: &'a Instruction,
    name: Option<String>,
    steps: &'a [Instruction],
}

/// A stage being built.
pub(crate) struct Stage<'o> {
    pub o: &'o Options,
    pub escape: char,
    /// The image the steps so far made; `None`: FROM scratch, nothing yet.
    pub image: Option<Image>,
    /// ARGs declared in this stage, with their values.
    pub args: BTreeMap<String, String>,
    /// The ARGs before the first FROM (an ARG without a default in the
    /// stage takes its value from these).
    pub globals: BTreeMap<String, String>,
    /// SHELL (`/bin/sh -c` by default).
    pub shell: Vec<String>,
    /// CMD was set in this stage (an ENTRYPOINT then keeps it).
    pub cmd_set: bool,
    /// ONBUILD lines of this stage (the base image's are not inherited).
    pub onbuild: Vec<String>,
    /// The stages this one may name, built or waited for.
    pub stages: Known<'o>,
    /// Build args a step used (for the warning about unused ones).
    pub used: &'o Mutex<Vec<String>>,
    /// Under `-q`, the real stderr: where a failed RUN's log is replayed.
    pub replay_to: Option<i32>,
    /// The number of layers of the FROM image (before ONBUILD triggers).
    pub base_layers: usize,
    /// With `--layers=false`, the images the steps made (removed at the end).
    pub made: &'o Mutex<Vec<String>>,
    /// Whether the build stops; the RUN containers to stop.
    pub cancel: &'o stages::Cancel,
    /// The stage's name in progress (`build`, `stage-1`; empty for a
    /// build of one unnamed stage), its step now and its number of steps.
    pub label: String,
    pub step: usize,
    pub steps: usize,
}

impl Stage<'_> {
    /// The value of `$name` in this stage: ENV of the image, then ARGs.
    pub fn var(&self, name: &str) -> Option<String> {
        let env = self
            .image
            .as_ref()
            .and_then(|i| i.config.config.env.as_ref());
        let from_env = env.and_then(|env| {
            env.iter()
                .rev()
                .find_map(|e| e.strip_prefix(name)?.strip_prefix('=').map(String::from))
        });
        from_env.or_else(|| self.args.get(name).cloned())
    }

    /// One word of `text`, variables expanded.
    pub fn word(&self, text: &str, ins: &Instruction) -> Result<String> {
        let look = |n: &str| self.var(n);
        expand::word(text, &look, self.escape).map_err(|e| self.error(ins, &e))
    }

    /// A step's error: `FILE:LINE: KEYWORD: what`.
    pub fn error(&self, ins: &Instruction, what: &str) -> Error {
        dockerfile::error(&self.o.file_name, ins.line, &ins.keyword, what)
    }

    /// `[build 2/5] `: what the step's lines start with.
    pub fn prefix(&self) -> String {
        match self.label.as_str() {
            "" => format!("[{}/{}] ", self.step, self.steps),
            l => format!("[{l} {}/{}] ", self.step, self.steps),
        }
    }

    pub fn progress(&self, msg: &str) {
        if !self.o.quiet {
            output::line(&self.prefix(), msg.as_bytes());
        }
    }
}

/// The stages a stage uses (its FROM's, `COPY --from`'s, `RUN --mount
/// from=`'s), by name or index; their images from the board, waited for
/// until built.
pub(crate) struct Known<'o> {
    names: &'o [Option<String>],
    uses: &'o [usize],
    board: &'o stages::Board<'o>,
}

impl Known<'_> {
    /// The image id of the stage `r` names, once built; `None` when `r`
    /// names no stage this one uses (an image, then).
    pub fn id(&self, r: &str) -> Option<Result<String>> {
        let lower = r.to_ascii_lowercase();
        let j = self
            .names
            .iter()
            .position(|n| n.as_deref() == Some(&lower))
            .or_else(|| r.parse::<usize>().ok())
            .filter(|j| self.uses.contains(j))?;
        Some(self.board.need(j))
    }
}

/// Adds to a list the stages' threads share.
pub(crate) fn push(list: &Mutex<Vec<String>>, item: String) {
    list.lock().unwrap_or_else(|p| p.into_inner()).push(item);
}

/// Builds the image; returns its id.
pub fn build(store: &Store, o: &Options) -> Result<String> {
    let df = dockerfile::parse(&o.file, &o.file_name)?;
    let (globals, defs) = stages(&df, o)?;
    let target = match &o.target {
        None => defs.len() - 1,
        Some(t) => defs
            .iter()
            .position(|d| d.name.as_deref() == Some(t.as_str()))
            .ok_or_else(|| Error::not_found("target stage", t.as_str()))?,
    };
    let from_of: Vec<Option<usize>> = (0..defs.len())
        .map(|i| stages::from_stage(&defs, i, &globals, df.escape))
        .collect();
    let uses: Vec<Vec<usize>> = (0..defs.len())
        .map(|i| stages::uses(&defs, i, from_of[i]))
        .collect();
    let names: Vec<Option<String>> = defs.iter().map(|d| d.name.clone()).collect();
    let needed = stages::needed(&uses, target);
    let used = Mutex::new(Vec::new());
    let made = Mutex::new(Vec::new());
    let cancel = stages::Cancel::default();
    let out = output::OutputToStderr::new(o.quiet);
    let replay_to = o.quiet.then(|| out.stderr());
    let jobs = o.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let one = needed.len() == 1;
    let stage = |i: usize, board: &stages::Board| {
        let d = &defs[i];
        let known = Known {
            names: &names,
            uses: &uses[i],
            board,
        };
        let label = match &d.name {
            Some(n) => n.clone(),
            None if one => String::new(),
            None => format!("stage-{i}"),
        };
        let shared = Shared {
            used: &used,
            made: &made,
            cancel: &cancel,
            replay_to,
        };
        build_stage(store, o, d, &globals, df.escape, known, label, shared)
    };
    let built = stages::run_all(store, jobs, &needed, &from_of, &cancel, stage);
    drop(out);
    let built = built?;
    let used = used.into_inner().unwrap_or_else(|p| p.into_inner());
    for k in o.build_args.keys() {
        if !used.contains(k) && !PROXY_ARGS.contains(&k.as_str()) {
            eprintln!("cc-build: warning: build argument '{k}' was not consumed");
        }
    }
    let last = built[target].clone().expect("the target was built");
    let mut id = last.id;
    let keep = match (o.squash, o.no_layers) {
        (Squash::All, _) => Some(0),
        (Squash::New, _) | (_, true) => Some(last.base_layers),
        (Squash::No, false) => None,
    };
    if let Some(keep) = keep {
        let img = image::resolve(store, &id)?;
        id = squash::squash(store, &img, keep, o.timestamp)?.id;
    }
    let named = finish(store, o, &id);
    // --layers=false: the steps' images go, the result stays.
    let made = made.into_inner().unwrap_or_else(|p| p.into_inner());
    for step in made.iter().rev() {
        if let Ok(img) = image::resolve(store, step) {
            if img.id != id {
                let _ = crate::container::remove_image(store, &img, &img.id, false);
            }
        }
    }
    named
}

/// What every stage's thread shares.
#[derive(Clone, Copy)]
struct Shared<'o> {
    used: &'o Mutex<Vec<String>>,
    made: &'o Mutex<Vec<String>>,
    cancel: &'o stages::Cancel,
    replay_to: Option<i32>,
}

/// One stage, FROM to its last step: its image id.
#[allow(clippy::too_many_arguments)]
fn build_stage(
    store: &Store,
    o: &Options,
    d: &StageDef,
    globals: &BTreeMap<String, String>,
    escape: char,
    known: Known,
    label: String,
    shared: Shared,
) -> Result<stages::Built> {
    let mut st = from(store, o, d, globals, escape, known, label, shared)?;
    for ins in d.steps {
        st.cancel.check()?;
        st.step += 1;
        st.progress(&ins.show());
        step::run(store, &mut st, ins)?;
    }
    let id = match &st.image {
        Some(img) => img.id.clone(),
        None => cache::derive(store, &st, None, "", &|_| Ok(()))?.id,
    };
    Ok(stages::Built {
        id,
        base_layers: st.base_layers,
    })
}

/// The global ARGs (before the first FROM) and the stages.
fn stages<'a>(
    df: &'a Dockerfile,
    o: &Options,
) -> Result<(BTreeMap<String, String>, Vec<StageDef<'a>>)> {
    let ins = &df.instructions;
    let first = ins.iter().position(|i| i.keyword == "FROM");
    if let Some(a) = ins[..first.unwrap_or(ins.len())]
        .iter()
        .find(|a| a.keyword != "ARG")
    {
        return Err(dockerfile::error(
            &o.file_name,
            a.line,
            &a.keyword,
            "only ARG may come before the first FROM",
        ));
    }
    let Some(first) = first else {
        return Err(dockerfile::error(
            &o.file_name,
            1,
            "",
            "no FROM instruction",
        ));
    };
    let mut globals = BTreeMap::new();
    for a in &ins[..first] {
        let look = |n: &str| globals.get(n).cloned();
        let pairs = expand::pairs(&a.args.text(), &look, df.escape, false)
            .map_err(|e| dockerfile::error(&o.file_name, a.line, "ARG", &e))?;
        for (k, v) in pairs {
            let v = o.build_args.get(&k).cloned().or(v).unwrap_or_default();
            globals.insert(k, v);
        }
    }
    let starts: Vec<usize> = (first..ins.len())
        .filter(|&i| ins[i].keyword == "FROM")
        .collect();
    let mut defs = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(ins.len());
        let words = expand::raw_words(&ins[s].args.text(), df.escape);
        let name = match words.as_slice() {
            [_] => None,
            [_, a, n] if a.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
            _ => {
                return Err(dockerfile::error(
                    &o.file_name,
                    ins[s].line,
                    "FROM",
                    "expected FROM [--platform=P] IMAGE [AS NAME]",
                ))
            }
        };
        defs.push(StageDef {
            from: &ins[s],
            name,
            steps: &ins[s + 1..end],
        });
    }
    Ok((globals, defs))
}

/// FROM: the base image (a stage built before, `scratch`, or an image of
/// the store, pulled when missing or with `--pull`) and its ONBUILD
/// triggers.
#[allow(clippy::too_many_arguments)]
fn from<'o>(
    store: &Store,
    o: &'o Options,
    d: &StageDef,
    globals: &BTreeMap<String, String>,
    escape: char,
    built: Known<'o>,
    label: String,
    shared: Shared<'o>,
) -> Result<Stage<'o>> {
    let ins = d.from;
    let mut st = Stage {
        o,
        escape,
        image: None,
        args: BTreeMap::new(),
        globals: globals.clone(),
        shell: vec!["/bin/sh".into(), "-c".into()],
        cmd_set: false,
        onbuild: Vec::new(),
        stages: built,
        used: shared.used,
        replay_to: shared.replay_to,
        base_layers: 0,
        made: shared.made,
        cancel: shared.cancel,
        label,
        step: 1,
        steps: d.steps.len() + 1,
    };
    st.progress(&ins.show());
    for (f, v) in &ins.flags {
        match f.as_str() {
            "platform" => check_platform(v).map_err(|e| st.error(ins, &e))?,
            _ => return Err(st.error(ins, &format!("unknown flag: --{f}"))),
        }
    }
    let raw = expand::raw_words(&ins.args.text(), escape);
    let look = |k: &str| globals.get(k).cloned();
    let base = expand::word(&raw[0], &look, escape).map_err(|e| st.error(ins, &e))?;
    for k in globals.keys() {
        if ins.args.text().contains(k.as_str()) {
            push(st.used, k.clone());
        }
    }
    if base.is_empty() {
        return Err(st.error(ins, "base name should not be blank"));
    }
    if let Some(id) = st.stages.id(&base) {
        st.image = Some(image::resolve(store, &id?)?);
    } else if base != "scratch" {
        st.image = Some(base_image(store, &base, o.pull)?);
    }
    st.base_layers = st
        .image
        .as_ref()
        .map_or(0, |i| i.config.rootfs.diff_ids.len());
    let triggers = onbuild_of(st.image.as_ref());
    if !triggers.is_empty() {
        // The child's config does not inherit the triggers it runs.
        let img = cache::derive(store, &st, None, "", &|_| Ok(()))?;
        st.image = Some(img);
        let text = triggers.join("\n");
        let name = format!("ONBUILD of {base}");
        let df = dockerfile::parse(&text, &name)?;
        for t in &df.instructions {
            st.progress(&format!("ONBUILD {}", t.show()));
            step::run(store, &mut st, t)?;
        }
    }
    Ok(st)
}

/// `--platform` of FROM: the host's own only.
pub fn check_platform(v: &str) -> std::result::Result<(), String> {
    let host = image::format::host_platform();
    let want = format!("{}/{}", host.os, host.architecture);
    match v == want || v.strip_prefix(&want).is_some_and(|r| r.starts_with('/')) {
        true => Ok(()),
        false => Err(format!(
            "platform '{v}' is not the host's ({want}): cc builds for the host only"
        )),
    }
}

/// An image of the store by name, pulled first when missing or `pull`.
pub(crate) fn base_image(store: &Store, name: &str, pull: Pull) -> Result<Image> {
    let found = image::resolve(store, name);
    match (found, pull) {
        (Ok(img), Pull::Missing | Pull::Never) => Ok(img),
        (Err(e), Pull::Never) => Err(e),
        (Err(e), _) if !matches!(e, Error::NotFound { .. }) => Err(e),
        _ => {
            let opts = crate::registry::Options::default();
            crate::registry::pull::pull(store, name, &opts)?;
            image::resolve(store, name)
        }
    }
}

/// The image id `r` names for `COPY --from` and `RUN --mount=…,from=`: a
/// stage built before (by name or index), else an image of the store.
pub(crate) fn source_id(store: &Store, st: &Stage, r: &str) -> Result<String> {
    match st.stages.id(r) {
        Some(id) => id,
        None => Ok(base_image(store, r, st.o.pull)?.id),
    }
}

/// The ONBUILD triggers an image's config holds.
fn onbuild_of(img: Option<&Image>) -> Vec<String> {
    img.and_then(|i| i.config.config.extra.get("OnBuild"))
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .unwrap_or_default()
}

/// `--label`s on the result, then its names.
fn finish(store: &Store, o: &Options, id: &str) -> Result<String> {
    let mut img = image::resolve(store, id)?;
    if !o.labels.is_empty() {
        let mut cfg = img.config.clone();
        let labels = cfg.config.labels.get_or_insert_with(BTreeMap::new);
        for (k, v) in &o.labels {
            labels.insert(k.clone(), v.clone());
        }
        img = cache::store_config(store, Some(&img), cfg, None)?;
    }
    for t in &o.tags {
        image::add(store, &img.descriptor, Some(t))?;
    }
    Ok(img.id)
}

/// A command's argv: the JSON form as is, the shell form under SHELL.
pub(crate) fn argv(shell: &[String], args: &Args) -> Vec<String> {
    match args {
        Args::Json(v) => v.clone(),
        Args::Shell(s) => {
            let mut v = shell.to_vec();
            v.push(s.clone());
            v
        }
    }
}
