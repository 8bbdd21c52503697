//! The spec's `hooks`, each with the container's state JSON on stdin
//! (runtime spec, "POSIX-platform Hooks"). On the host: `createRuntime`
//! and the older `prestart` once the namespaces exist, `poststart` after
//! `start`, `poststop` at `delete`. In the container (run by its first
//! process, see `sandbox::Launch`): `createContainer` after the mounts and
//! before pivot_root (its path resolves on the host), `startContainer`
//! after `start`, just before the command's execve (its path resolves in
//! the container). A failing createRuntime, prestart or createContainer
//! hook fails the create; a failing startContainer hook stops the
//! container instead of running its command; poststart and poststop
//! failures are warnings.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::state::State;
use crate::error::{Error, Result};
use crate::spec::Spec;

#[derive(Debug, Clone, Deserialize)]
pub struct Hook {
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// The hooks of one stage, in order.
pub fn of(spec: &Spec, stage: &str) -> Result<Vec<Hook>> {
    let Some(hooks) = spec.extra.get("hooks") else {
        return Ok(vec![]);
    };
    let Some(list) = hooks.get(stage) else {
        return Ok(vec![]);
    };
    serde_json::from_value(list.clone())
        .map_err(|e| Error::Spec(format!("invalid {stage} hooks: {e}")))
}

/// The stages of the runtime spec; a spec naming another is refused, as
/// is a stage whose hooks do not parse.
pub const STAGES: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// Refuses hooks cc-oci cannot run, before anything is made.
pub fn check(spec: &Spec) -> Result<()> {
    let Some(hooks) = spec.extra.get("hooks") else {
        return Ok(());
    };
    if let Some(map) = hooks.as_object() {
        if let Some(other) = map.keys().find(|k| !STAGES.contains(&k.as_str())) {
            return Err(Error::Spec(format!("unknown hook stage '{other}'")));
        }
    }
    for stage in STAGES {
        of(spec, stage)?;
    }
    Ok(())
}

/// Runs the hooks of `stage` in order; the first failure stops them.
pub fn run(spec: &Spec, stage: &str, state: &State) -> Result<()> {
    let input = serde_json::to_vec(state).expect("a state serializes");
    run_with(&of(spec, stage)?, stage, &input)
}

/// Runs `hooks` of `stage` with `input` on stdin, in order.
pub fn run_with(hooks: &[Hook], stage: &str, input: &[u8]) -> Result<()> {
    for h in hooks {
        run_one(h, stage, input)?;
    }
    Ok(())
}

/// The state a hook inside the container reads, as runc gives it: the
/// pid as the container sees its first process (getpid), and `status`
/// (`creating` for createContainer, `created` for startContainer).
pub fn in_container_state(state: &State, status: &str) -> Vec<u8> {
    let mut v = serde_json::to_value(state).expect("a state serializes");
    v["pid"] = nix::unistd::getpid().as_raw().into();
    v["status"] = status.into();
    serde_json::to_vec(&v).expect("a state serializes")
}

fn run_one(h: &Hook, stage: &str, input: &[u8]) -> Result<()> {
    let fail = |why: String| Error::Program(format!("{stage} hook '{}': {why}", h.path));
    let mut cmd = Command::new(&h.path);
    if let Some((first, rest)) = h.args.split_first() {
        use std::os::unix::process::CommandExt;
        cmd.arg0(first).args(rest);
    }
    cmd.env_clear()
        .envs(h.env.iter().filter_map(|kv| kv.split_once('=')))
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let deadline = h.timeout.map(|t| Instant::now() + Duration::from_secs(t));
    loop {
        if let Some(status) = child.try_wait().map_err(|e| fail(e.to_string()))? {
            return match status.success() {
                true => Ok(()),
                false => Err(fail(format!("failed: {status}"))),
            };
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail("timed out".into()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
