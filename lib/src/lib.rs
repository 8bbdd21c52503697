//! cc-lib: all the real work of the cc toolkit. The programs in `bins/` parse
//! arguments, call one to three functions here and print.
//!
//! Modules, lowest first; a module never imports one listed after it:
//!
//! | module      | owns |
//! | ----------- | ---- |
//! | `error`     | the one error type and its exit codes |
//! | `store`     | the root folder, ids and names, locks, atomic writes |
//! | `tree`      | walking and removing folder trees of any depth |
//! | `inroot`    | resolving and creating paths inside a root (openat2) |
//! | `image`     | references, OCI manifest/index/config, the image index |
//! | `layer`     | applying a layer tar safely, writing a layer tar |
//! | `mount`     | overlay mounts of layers, bind mounts, unmount |
//! | `cgroup`    | cgroup v1 and v2 |
//! | `container` | container records: OCI runtime config, state, status |
//! | `sandbox`   | clone, rootfs, pivot_root, /proc /dev /sys, user, exec |
//! | `idmap`     | user namespace mappings: `--userns`, /etc/subuid ranges |
//! | `net`       | netlink (links, addresses, routes, veth, bridge), IPAM, NAT, ports |
//! | `inspect`   | `docker inspect`'s JSON of containers and images |
//! | `cli`       | the shared entry: error printing, exit codes, output |

pub mod cgroup;
pub mod cli;
pub mod commit;
pub mod container;
pub mod error;
pub mod failpoint;
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
pub mod registry;
pub mod run;
pub mod sandbox;
pub mod spec;
pub mod store;
pub mod sys;
pub mod time;
pub mod tree;

pub use error::{Error, Result};
