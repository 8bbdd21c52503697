//! The spec's `hooks` that run on the host, each with the container's
//! state JSON on stdin (runtime spec, "POSIX-platform Hooks"):
//! `createRuntime` and the older `prestart` once the namespaces exist,
//! `poststart` after `start`, `poststop` at `delete`. `createContainer` and
//! `startContainer` run inside the container's namespaces and are refused
//! at create: cc-oci does not run them.

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

/// Refuses a spec with hooks cc-oci cannot run.
pub fn check(spec: &Spec) -> Result<()> {
    for stage in ["createContainer", "startContainer"] {
        if !of(spec, stage)?.is_empty() {
            return Err(Error::Unsupported(format!(
                "{stage} hooks are not supported by cc-oci"
            )));
        }
    }
    Ok(())
}

/// Runs the hooks of `stage` in order; the first failure stops them.
pub fn run(spec: &Spec, stage: &str, state: &State) -> Result<()> {
    let input = serde_json::to_vec(state).expect("a state serializes");
    for h in of(spec, stage)? {
        run_one(&h, stage, &input)?;
    }
    Ok(())
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
