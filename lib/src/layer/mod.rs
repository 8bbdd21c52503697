//! Layers: applying a layer tar safely, writing a layer tar.
//!
//! A layer is unpacked into its own folder, which becomes one overlayfs
//! lower dir, so OCI whiteouts are turned into overlay's on-disk format as
//! they are met (`.wh.x` -> a 0/0 character device `x`, `.wh..wh..opq` ->
//! `trusted.overlay.opaque=y`). The `tar` crate only parses and writes:
//! every file is created here through [`crate::inroot::Root`], so no entry
//! can reach outside the layer's folder (go-containerregistry 2227).
//!
//! - `compress`: gzip and zstd, told apart by magic bytes.
//! - `apply`: a tar stream into a folder; `pool`: its regular files,
//!   written by worker threads.
//! - `write`: a folder into a tar stream, byte for byte reproducible.
//! - `upper`: an overlay upper dir as changes (`cc-diff`) or as a layer
//!   tar with OCI whiteouts (`cc-commit`).
//! - `squash`: several unpacked layers merged into one folder (`cc-build
//!   --squash`).
//! - `pack`: compressing a tar stream on every core.

mod apply;
mod compress;
mod node;
pub mod pack;
mod pool;
mod squash;
mod upper;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pool;

pub use apply::{apply, Applied};
pub use compress::{decoder, detect, media_type, Compression};
pub use squash::squash;
pub use upper::{changes, each_change, write_upper, Change, Kind, MOUNT_TARGETS};
pub use write::{write_dir, Writer};

/// The name prefix that marks an OCI whiteout (image-spec layer.md).
const WH: &[u8] = b".wh.";
/// The OCI opaque marker: the folder holding it hides all lower content.
const WH_OPAQUE: &[u8] = b".wh..wh..opq";
