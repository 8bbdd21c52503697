//! The networks of an ordinary user's containers. Without root there is no
//! bridge, veth or NAT on the host: `--net none` (a namespace with only
//! loopback), `--net host` and `--net container:` work as for root; the
//! default bridge network is refused until a user-mode stack gives it.

use crate::error::{Error, Result};

/// Refuses, for an ordinary user, a network mode (the `io.cc.net`
/// annotation's value) that needs root on the host.
pub fn refuse_for_user(mode: &str) -> Result<()> {
    if !crate::rootless::active() || mode != "bridge" {
        return Ok(());
    }
    Err(Error::Unsupported(
        "the default network needs root (a bridge on the host): give --net none or --net host"
            .into(),
    ))
}
