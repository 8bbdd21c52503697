//! cc-lib: all the real work of the cc toolkit. The programs in `bins/` parse
//! arguments, call one to three functions here and print. The map of how it
//! fits together — the store, the processes, and each step of a container's
//! life with the function that does it — is `docs/architecture.md`.
//!
//! Modules, lowest first: a module imports only modules listed above it
//! (`xtask check` fails otherwise, and when a module is missing here).
//!
//! | module      | owns |
//! | ----------- | ---- |
//! | `error`     | the one error type and its exit codes |
//! | `failpoint` | `CC_FAILPOINT` kill points for crash tests |
//! | `time`      | RFC 3339 times and docker's durations |
//! | `filter`    | docker's `--filter KEY=VALUE` lists, label and glob matches |
//! | `template`  | docker's `--format`: Go's text/template over JSON rows, tables |
//! | `dockerfile` | the Dockerfile language: instructions, word expansion, .dockerignore |
//! | `sys`       | small process and fd helpers: writes, signalfds, window sizes, wait statuses |
//! | `tree`      | walking, measuring (docker's size) and removing folder trees of any depth |
//! | `spec`      | the OCI runtime spec (config.json) as types |
//! | `store`     | the root folder, ids, locks, atomic writes, tmp/ collection |
//! | `rootless`  | cc as an ordinary user: its store, its user namespace (pause process) |
//! | `events`    | the events log: docker's events appended as JSON lines, read and followed |
//! | `inroot`    | resolving and creating paths inside a root (openat2) |
//! | `mount`     | overlay mounts of layers, bind mounts, idmapped mounts, unmount |
//! | `cgroup`    | cgroup v1 and v2, cgroupfs or systemd scopes, limits, device filters |
//! | `layer`     | applying a layer tar safely, writing one, the changes of an upper folder |
//! | `image`     | references, OCI image formats, the image index, staging, archives |
//! | `sandbox`   | clone, namespaces, rootfs, pivot_root, user, caps, seccomp, execve |
//! | `container` | container records: config, state, names, pending records, exit records |
//! | `exec`      | a new process in a running container: cc-exec's commands, healthchecks |
//! | `health`    | healthchecks: the check, one run of it, `State.Health` and its events |
//! | `idmap`     | user namespace mappings: `--userns`, /etc/subuid ranges |
//! | `net`       | netlink (links, addresses, routes, veth, bridge), IPAM, NAT, ports |
//! | `hostmount` | cc-mount and cc-umount: images and containers mounted on the host |
//! | `copy`      | cc-cp: files between a container and the host, safely resolved |
//! | `volume`    | volumes (docker's local driver), and a new container's mounts of them |
//! | `commit`    | cc-diff and cc-commit: a container's changes as a new layer and image |
//! | `info`      | cc-info: what the host offers cc |
//! | `inspect`   | `docker inspect`'s JSON of containers and images |
//! | `ps`        | cc-ps: docker's filters over containers, the PORTS and SIZE columns, labels |
//! | `lifecycle` | kill, stop, pause, update, wait, remove |
//! | `prune`     | cc-prune: stopped containers, unused images, network leftovers, volumes |
//! | `monitor`   | the process that watches one container: log, attach socket, exit |
//! | `cli`       | the shared entry of every program: error printing, exit codes, output |
//! | `stats`     | cc-stats and cc-top: a container's resource use and its processes |
//! | `registry`  | the distribution protocol: auth, pull, push |
//! | `run`       | cc-run, cc-create and cc-start: flags to spec, record, monitor, attach |
//! | `build`     | cc-build: a Containerfile's steps run and committed, cached |
//! | `oci`       | cc-oci: the OCI runtime command line over the same sandbox |

pub mod build;
pub mod cgroup;
pub mod cli;
pub mod commit;
pub mod container;
pub mod copy;
pub mod dockerfile;
pub mod error;
pub mod events;
pub mod exec;
pub mod failpoint;
pub mod filter;
pub mod health;
pub mod hostmount;
pub mod idmap;
pub mod image;
pub mod info;
pub mod inroot;
pub mod inspect;
pub mod layer;
pub mod lifecycle;
pub mod monitor;
pub mod mount;
pub mod net;
pub mod oci;
pub mod prune;
pub mod ps;
pub mod registry;
pub mod rootless;
pub mod run;
pub mod sandbox;
pub mod spec;
pub mod stats;
pub mod store;
pub mod sys;
pub mod template;
pub mod time;
pub mod tree;
pub mod volume;

pub use error::{Error, Result};
