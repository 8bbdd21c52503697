//! Mounts: overlays of unpacked layers, bind mounts, unmount.
//!
//! INTERFACE (being implemented):
//! - `overlay(lowers: &[PathBuf] /* top first */, upper: Option<(&Path, &Path)> /* upper, work */, target: &Path) -> Result<()>`
//! - `bind(src: &Path, target: &Path, readonly: bool, recursive: bool) -> Result<()>`
//! - `unmount(target: &Path, lazy: bool) -> Result<()>`
//! - `is_mountpoint(path: &Path) -> bool`
