//! cc-oci: the OCI runtime command line (runc's: create, start, state,
//! kill, delete, run, exec, ps, list, pause, resume, update, events,
//! spec, features) over the same sandbox as cc-run — one implementation, two
//! front doors. Its callers (podman's conmon, containerd's shim) are the
//! monitors: cc-oci keeps no process of its own, only a folder per
//! container under its root (see `state`).
//!
//! | module | owns |
//! | --- | --- |
//! | `state` | the runtime root, records, the derived status, `state` JSON |
//! | `create` | create (held on exec.fifo), start, console sockets |
//! | `run` | create and start at once, in the foreground or detached |
//! | `exec` | a process in a running container |
//! | `ops` | kill, delete, pause, resume, update, ps, list |
//! | `update` | update's merge of new limits with the saved ones |
//! | `events` | `events`: stats and OOM notifications as runc's JSON |
//! | `hooks` | the spec's host-side hooks |
//! | `template` | `spec`'s default config.json, `features` |

pub mod create;
pub mod events;
pub mod exec;
mod hooks;
pub mod ops;
pub mod run;
pub mod state;
pub mod template;
mod update;
