//! Paths inside a root folder, resolved by the kernel with openat2(2)
//! RESOLVE_IN_ROOT so that no symlink, `..` or absolute link leads out of it
//! (CVE-2021-30465, go-containerregistry 2227). Used for layer extraction
//! and for mount targets inside a container's root. Never check strings:
//! let the kernel resolve.
//!
//! INTERFACE (being implemented):
//! - `Root::open(path) -> Result<Root>`: an O_PATH|O_DIRECTORY fd on the root.
//! - `Root::path(&self) -> &Path`, `Root::fd(&self) -> BorrowedFd`.
//! - `Root::open_at(&self, rel, flags: OFlags, mode) -> Result<OwnedFd>`:
//!   openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS.
//! - `Root::mkdir_all(&self, rel, mode) -> Result<OwnedFd>`: creates missing
//!   folders one component at a time inside the root; returns an O_PATH fd
//!   on the last one. A component that is a symlink is resolved inside the
//!   root; a component that is a file is an error (ENOTDIR).
//! - `Root::parent(&self, rel, create: bool) -> Result<(OwnedFd, OsString)>`:
//!   an fd on the folder that holds `rel` (created when `create`) and the
//!   final name, for *at(2) calls that create or replace that entry.
//! - `Root::mount_target(&self, rel, dir: bool) -> Result<OwnedFd>`: makes
//!   sure a file or folder exists at `rel` to mount on, and returns an O_PATH
//!   fd on it (mount onto `/proc/self/fd/N`).
