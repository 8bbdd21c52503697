//! `--restart` policies, kept by the container's monitor (there is no
//! daemon): `no`, `on-failure[:N]`, `always`, `unless-stopped`, with
//! docker's back-off. Whether the user stopped the container (cc-stop, or
//! cc-kill with a signal that ends it) is the file `user-stopped` in its
//! folder: the monitor then restarts it no more, and after a reboot
//! `cc-start --all-restartable` leaves an `unless-stopped` one alone.

use std::fs;
use std::time::Duration;

use super::Container;
use crate::error::{Error, Result};

/// The annotation that keeps a container's policy, as given.
pub const ANN_RESTART: &str = "io.cc.restart";
const USER_STOPPED: &str = "user-stopped";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    No,
    /// At most N restarts (none: no limit), after a non-zero exit.
    OnFailure(Option<u32>),
    Always,
    UnlessStopped,
}

impl Policy {
    pub fn parse(s: &str) -> Result<Policy> {
        let bad = || {
            Error::Usage(format!(
                "invalid --restart '{s}': no, on-failure[:N], always or unless-stopped"
            ))
        };
        Ok(match s.split_once(':') {
            None if s == "no" => Policy::No,
            None if s == "always" => Policy::Always,
            None if s == "unless-stopped" => Policy::UnlessStopped,
            None if s == "on-failure" => Policy::OnFailure(None),
            Some(("on-failure", n)) => Policy::OnFailure(Some(n.parse().map_err(|_| bad())?)),
            _ => return Err(bad()),
        })
    }

    /// The policy of a container's record.
    pub fn of(c: &Container) -> Policy {
        c.annotation(ANN_RESTART)
            .and_then(|s| Policy::parse(s).ok())
            .unwrap_or_default()
    }

    pub fn as_string(self) -> String {
        match self {
            Policy::No => "no".into(),
            Policy::OnFailure(None) => "on-failure".into(),
            Policy::OnFailure(Some(n)) => format!("on-failure:{n}"),
            Policy::Always => "always".into(),
            Policy::UnlessStopped => "unless-stopped".into(),
        }
    }

    /// Whether the monitor starts the process again after it ended with
    /// `code`, having restarted it `count` times already.
    pub fn restarts(self, code: i32, count: u32) -> bool {
        match self {
            Policy::No => false,
            Policy::OnFailure(max) => code != 0 && max.is_none_or(|m| count < m),
            Policy::Always | Policy::UnlessStopped => true,
        }
    }

    /// Whether `cc-start --all-restartable` (at boot) starts it: `always`
    /// does, as docker's daemon does when it starts, even when the user
    /// stopped it; `unless-stopped` only when the user did not.
    pub fn at_boot(self, user_stopped: bool) -> bool {
        match self {
            Policy::Always => true,
            Policy::UnlessStopped => !user_stopped,
            _ => false,
        }
    }
}

/// docker's back-off before restart number `n` (0 first): 100 ms,
/// doubling, at most a minute.
pub fn delay(n: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << n.min(10))).min(Duration::from_secs(60))
}

/// A run this long resets the back-off (docker's 10 s).
pub const RESET_AFTER: Duration = Duration::from_secs(10);

/// Notes that the user stopped the container (durably: it outlives a
/// reboot).
pub fn mark_user_stopped(c: &Container) -> Result<()> {
    crate::store::write_atomic(&c.dir.join(USER_STOPPED), b"")
}

/// A start by the user forgets the stop.
pub fn clear_user_stopped(c: &Container) {
    let _ = fs::remove_file(c.dir.join(USER_STOPPED));
}

pub fn user_stopped(c: &Container) -> bool {
    c.dir.join(USER_STOPPED).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_decide() {
        assert_eq!(
            Policy::parse("on-failure:2").unwrap(),
            Policy::OnFailure(Some(2))
        );
        assert_eq!(Policy::parse("always").unwrap().as_string(), "always");
        for bad in ["sometimes", "on-failure:x", "always:2", ""] {
            assert_eq!(Policy::parse(bad).unwrap_err().code(), 2, "{bad}");
        }
        let p = Policy::OnFailure(Some(2));
        assert!(p.restarts(1, 0) && p.restarts(1, 1) && !p.restarts(1, 2) && !p.restarts(0, 0));
        assert!(Policy::Always.restarts(0, 100));
        assert!(!Policy::No.restarts(1, 0));
        assert!(Policy::Always.at_boot(true) && !Policy::UnlessStopped.at_boot(true));
        assert!(Policy::UnlessStopped.at_boot(false) && !Policy::OnFailure(None).at_boot(false));
    }

    #[test]
    fn the_back_off_doubles_from_100_ms() {
        assert_eq!(delay(0), Duration::from_millis(100));
        assert_eq!(delay(1), Duration::from_millis(200));
        assert_eq!(delay(3), Duration::from_millis(800));
        assert_eq!(delay(40), Duration::from_secs(60));
    }
}
