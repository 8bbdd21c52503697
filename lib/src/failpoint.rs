//! Named kill points for the crash-consistency tests.
//!
//! A step that matters for crash safety calls `failpoint::hit("pull.layer")`.
//! When the environment variable `CC_FAILPOINT` names that step (a
//! comma-separated list is allowed), the process SIGKILLs itself there, so a
//! test can stop a program at an exact step instead of guessing with sleeps.
//! Without the variable a hit is one load of a cached flag.
//!
//! Names are `<program or module>.<step>`; `tests/crash.rs` lists the ones it
//! exercises. The variable is read once per process.

use std::sync::OnceLock;

static ARMED: OnceLock<Option<String>> = OnceLock::new();

/// Kills this process with SIGKILL when `CC_FAILPOINT` names `name`.
pub fn hit(name: &str) {
    let armed = ARMED.get_or_init(|| std::env::var("CC_FAILPOINT").ok().filter(|v| !v.is_empty()));
    if let Some(list) = armed {
        if list.split(',').any(|n| n.trim() == name) {
            // SAFETY: raising a signal on our own process has no memory effects.
            unsafe {
                libc::raise(libc::SIGKILL);
            }
        }
    }
}
