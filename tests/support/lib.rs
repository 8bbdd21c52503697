//! What every integration test shares, built once as the library `support`
//! that each test program under tests/ links (tests/Cargo.toml's `[lib]`).
//!
//! - [`build`]: cc-build's contexts, builds and image checks.
//! - [`env`]: an [`Env`] with its own store root that tears down what it
//!   made; the programs it runs; root and host-tool checks.
//! - [`output`]: assertions on a program's exit and output, and parsers.
//! - [`rootfs`]: the busybox tree test images are made from, and files.
//! - [`leaks`]: nothing left behind (mounts, cgroups, records, temp files).
//! - [`wait`]: waiting with a bound, for a condition or a child process.
//! - [`net`]: a store's bridge, "another host", ports, HTTP and UDP.
//! - [`registry`]: a real registry on loopback for pull and push.
//! - [`oci`]: the OCI runtime tests' runtimes, bundles, podman and a pty.
//! - [`user`]: an ordinary user made for a rootless test.
//!
//! Everything but `oci` is re-exported here, so a test writes
//! `use support::{Env, assert_ok}`.

pub mod build;
pub mod env;
pub mod leaks;
pub mod net;
pub mod oci;
pub mod output;
pub mod registry;
pub mod rootfs;
pub mod user;
pub mod wait;

pub use env::*;
pub use leaks::*;
pub use net::*;
pub use output::*;
pub use registry::*;
pub use rootfs::*;
pub use user::User;
pub use wait::*;

/// Skip (return early from) a test when not root, fail under CI.
#[macro_export]
macro_rules! root_or_skip {
    () => {
        if !$crate::require_root() {
            return;
        }
    };
}
