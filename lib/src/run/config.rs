//! From an image config and cc-run's options to the container's OCI
//! runtime spec: docker's rules for entrypoint, command, environment, user
//! and working folder, the default mounts, the namespaces and limits.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::host_flags::{device, device_rules, tmpfs};
use crate::cgroup::Resources;
use crate::container::{
    ANN_CGROUP_MANAGER, ANN_IMAGE, ANN_IMAGE_NAME, ANN_INIT, ANN_INTERACTIVE, ANN_LAYERS,
    ANN_LOG_MAX, ANN_RM, ANN_ROOTFS, ANN_STOP_SIGNAL, ANN_USER,
};
use crate::error::{Error, Result};
pub use crate::idmap::Userns;
use crate::image::format::RunConfig;
use crate::image::Image;
use crate::spec::{self, Linux, Mount, Namespace, Process, Spec};

/// `--net`: the namespace the container gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Net {
    /// Its own namespace with a veth on the store's bridge, an address,
    /// a default route and NAT (see `net`).
    #[default]
    Bridge,
    /// Its own namespace with only loopback.
    None,
    /// The host's namespace.
    Host,
    /// The namespace of another container (a name or id), running.
    Container(String),
    /// An ordinary user's own namespace with slirp4netns (what `Bridge`
    /// gives a user), asked for by name as podman's
    /// `slirp4netns[:allow_host_loopback=true]`: with it the container
    /// reaches the host's loopback at the gateway.
    Slirp { host_loopback: bool },
}

impl Net {
    /// The `io.cc.net` annotation's value.
    pub fn as_annotation(&self) -> String {
        match self {
            Net::Bridge => "bridge".into(),
            Net::None => "none".into(),
            Net::Host => "host".into(),
            Net::Container(c) => format!("container:{c}"),
            Net::Slirp {
                host_loopback: false,
            } => "slirp4netns".into(),
            Net::Slirp {
                host_loopback: true,
            } => "slirp4netns:allow_host_loopback=true".into(),
        }
    }

    /// A namespace of its own with a stack: the bridge, or a user's
    /// slirp4netns.
    pub fn own_stack(&self) -> bool {
        matches!(self, Net::Bridge | Net::Slirp { .. })
    }
}

impl std::str::FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Net, String> {
        match s {
            "bridge" => Ok(Net::Bridge),
            "none" => Ok(Net::None),
            "host" => Ok(Net::Host),
            c if c.starts_with("container:") && c.len() > 10 => Ok(Net::Container(c[10..].into())),
            "slirp4netns" => Ok(Net::Slirp {
                host_loopback: false,
            }),
            s if s.starts_with("slirp4netns:") => slirp_options(&s[12..]),
            other => Err(format!(
                "unknown network mode '{other}' (bridge, none, host, container:ID, \
                 slirp4netns[:allow_host_loopback=true])"
            )),
        }
    }
}

/// podman's `slirp4netns:OPTIONS`: only `allow_host_loopback` is cc's.
fn slirp_options(options: &str) -> std::result::Result<Net, String> {
    let mut host_loopback = false;
    for o in options.split(',') {
        host_loopback = match o {
            "allow_host_loopback=true" => true,
            "allow_host_loopback=false" => false,
            other => {
                return Err(format!(
                    "slirp4netns option '{other}' is not supported (allow_host_loopback=true|false)"
                ))
            }
        };
    }
    Ok(Net::Slirp { host_loopback })
}

/// What cc-run was asked for, free of argument parsing.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub image: Option<String>,
    pub rootfs: Option<PathBuf>,
    /// `--bundle DIR`: an OCI bundle's config.json is the spec.
    pub bundle: Option<PathBuf>,
    pub command: Vec<String>,
    pub entrypoint: Option<String>,
    /// `K=V` after `-e K` and `--env-file` are read.
    pub env: Vec<String>,
    /// `--label K[=V]`s, after the image's labels.
    pub labels: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub hostname: Option<String>,
    pub name: Option<String>,
    pub rm: bool,
    /// `--restart`: kept by the monitor (see `container::restart`).
    pub restart: crate::container::restart::Policy,
    /// `--health-*`, `--no-healthcheck` (test `NONE`): docker's
    /// HealthConfig over the image's (see `health::merge`).
    pub healthcheck: Option<crate::image::format::Healthcheck>,
    pub init: bool,
    pub interactive: bool,
    pub tty: bool,
    pub read_only: bool,
    pub net: Option<Net>,
    /// `-p [HOSTIP:][HOSTPORT:]CTRPORT[/PROTO]`, as given.
    pub ports: Vec<String>,
    /// `-P`: publish every port the image exposes.
    pub publish_all: bool,
    /// `-v`, `--mount`, `--volumes-from`, as given (see `volume::mounts`).
    pub volumes: Vec<String>,
    pub mounts: Vec<String>,
    pub volumes_from: Vec<String>,
    /// What `run::create` made of them: the spec's binds, volumes, tmpfs.
    pub volume_mounts: Vec<Mount>,
    pub tmpfs: Vec<String>,
    pub resources: Resources,
    /// `-d`: print the id once the command runs, and leave it running.
    pub detach: bool,
    pub cidfile: Option<PathBuf>,
    /// Rotate ctr.log past this many bytes.
    pub log_max: Option<u64>,
    pub detach_keys: Option<String>,
    /// `--privileged`: every capability, no masked or read-only paths.
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--security-opt no-new-privileges`.
    pub no_new_privileges: bool,
    /// `--security-opt seccomp=unconfined` (implied by `--privileged`).
    pub seccomp_unconfined: bool,
    /// `--security-opt seccomp=FILE`: a profile in docker's JSON format.
    pub seccomp_profile: Option<PathBuf>,
    /// `--device HOST[:CTR][:PERMS]`.
    pub devices: Vec<String>,
    /// `--userns`, `--uidmap`, `--gidmap`; `Auto` is turned into `Maps`
    /// (see `idmap::allocate`) before the spec is built.
    pub userns: Userns,
    /// `--cgroup-manager`: who makes the container's group.
    pub cgroup_manager: crate::cgroup::Manager,
    /// `--cgroupns host`: no cgroup namespace of its own.
    pub host_cgroupns: bool,
    /// `--ulimit`, `--sysctl`, `--stop-signal`, … (see `tuning`).
    pub tuning: super::tuning::Tuning,
    /// `-a` and `--sig-proxy`: what cc-run relays.
    pub streams: super::attach::Streams,
}

/// The spec of a new container. `image` is `None` with `--rootfs`.
pub fn build(o: &RunOptions, image: Option<&Image>) -> Result<Spec> {
    let empty = RunConfig::default();
    let ic = image.map(|i| &i.config.config).unwrap_or(&empty);
    let mut process = process(o, ic)?;
    let net = o.net.clone().unwrap_or_default();
    if matches!(net, Net::Slirp { .. }) && !crate::rootless::active() {
        return Err(Error::Usage(
            "--net slirp4netns is an ordinary user's network: root's containers use the bridge"
                .into(),
        ));
    }
    let annotations = annotations(o, image, ic, &net)?;
    let hostname = match (&o.hostname, &net) {
        (Some(h), _) => h.clone(),
        (None, Net::Host) => nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        (None, _) => String::new(),
    };
    let mounts = mounts(o)?;
    let caps = capabilities(o)?;
    let linux = linux(o, &net, &caps)?;
    process.capabilities = Some(caps);
    let mut spec = Spec {
        oci_version: "1.2.0".into(),
        process: Some(process),
        root: Some(spec::Root {
            path: o
                .rootfs
                .as_ref()
                .map(|r| r.display().to_string())
                .unwrap_or_else(|| "rootfs".into()),
            readonly: o.read_only,
        }),
        hostname: Some(hostname),
        mounts,
        linux: Some(linux),
        annotations,
        ..Default::default()
    };
    super::tuning::apply(&o.tuning, &mut spec, &net, o.cgroup_manager)?;
    Ok(spec)
}

/// The process: docker's rules for command line, environment and working
/// folder (capabilities are added by `build`).
fn process(o: &RunOptions, ic: &RunConfig) -> Result<Process> {
    let args = command_line(o, ic)?;
    let mut env = ic.env.clone().unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, format!("PATH={}", crate::sandbox::DEFAULT_PATH));
    }
    if o.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    for kv in &o.env {
        let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv);
        env.retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
        env.push(kv.clone());
    }
    let cwd = o
        .workdir
        .clone()
        .or_else(|| ic.working_dir.clone())
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(Error::Usage(format!(
            "working folder '{cwd}' is not an absolute path"
        )));
    }
    Ok(Process {
        terminal: o.tty,
        args,
        env,
        cwd,
        no_new_privileges: o.no_new_privileges,
        ..Default::default()
    })
}

/// The `io.cc.*` annotations: what the container's later life needs to
/// know of its run (user, image, layers, network, ports, flags).
fn annotations(
    o: &RunOptions,
    image: Option<&Image>,
    ic: &RunConfig,
    net: &Net,
) -> Result<BTreeMap<String, String>> {
    let mut annotations = BTreeMap::new();
    let user = o
        .user
        .clone()
        .or_else(|| ic.user.clone())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "0".into());
    annotations.insert(ANN_USER.into(), user);
    cgroup_manager(o, &mut annotations)?;
    if let Some(i) = image {
        annotations.insert(ANN_IMAGE.into(), i.id.clone());
        annotations.insert(ANN_IMAGE_NAME.into(), o.image.clone().unwrap_or_default());
        let layers: Vec<&str> = i
            .config
            .rootfs
            .diff_ids
            .iter()
            .rev()
            .map(|s| s.as_str())
            .collect();
        annotations.insert(ANN_LAYERS.into(), layers.join(","));
    }
    if let Some(r) = &o.rootfs {
        annotations.insert(ANN_ROOTFS.into(), r.display().to_string());
    }
    if let Some(max) = o.log_max {
        annotations.insert(ANN_LOG_MAX.into(), max.to_string());
    }
    if let Some(sig) = ic.stop_signal.as_ref().filter(|s| !s.is_empty()) {
        annotations.insert(ANN_STOP_SIGNAL.into(), sig.clone());
    }
    if let Some(h) = crate::health::merge(ic.healthcheck.as_ref(), o.healthcheck.as_ref())? {
        let json = serde_json::to_string(&h).map_err(Error::internal)?;
        annotations.insert(crate::health::ANN_HEALTHCHECK.into(), json);
    }
    for (k, on) in [
        (ANN_INIT, o.init),
        (ANN_RM, o.rm),
        (ANN_INTERACTIVE, o.interactive),
    ] {
        if on {
            annotations.insert(k.into(), "true".into());
        }
    }
    let labels = ic
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()));
    for (k, v) in labels.chain(o.labels.iter().map(|l| {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        (k.to_string(), v.to_string())
    })) {
        annotations.insert(format!("{}{k}", crate::container::ANN_LABEL), v);
    }
    annotations.insert(crate::net::ANN_NET.into(), net.as_annotation());
    let ports = published(o, ic, net)?;
    if !ports.is_empty() {
        annotations.insert(crate::net::ANN_PORTS.into(), ports.join(","));
    }
    Ok(annotations)
}

/// The default mounts, then `--volume`s and `--tmpfs`s.
fn mounts(o: &RunOptions) -> Result<Vec<Mount>> {
    let mut mounts = spec::default_mounts();
    if o.privileged {
        // A privileged container may write /sys and its cgroups, as
        // docker's can.
        let writable =
            |m: &&mut spec::Mount| m.destination == "/sys" || m.destination == "/sys/fs/cgroup";
        for m in mounts.iter_mut().filter(writable) {
            m.options.retain(|x| x != "ro");
        }
    }
    mounts.extend(o.volume_mounts.iter().cloned());
    mounts.extend(
        o.tmpfs
            .iter()
            .map(|t| tmpfs(t))
            .collect::<Result<Vec<_>>>()?,
    );
    Ok(mounts)
}

/// The `linux` object: seccomp, devices and their cgroup rules, limits,
/// namespaces and id maps, sysctls, masked and read-only paths.
fn linux(o: &RunOptions, net: &Net, caps: &spec::Capabilities) -> Result<Linux> {
    let seccomp = seccomp(o, &caps.bounding)?;
    let devices = o
        .devices
        .iter()
        .map(|d| device(d))
        .collect::<Result<Vec<_>>>()?;
    let mut resources = o.resources.to_spec();
    resources.devices = device_rules(o.privileged, &devices);
    let mut namespaces = namespaces(net, o.host_cgroupns);
    let mut sysctl = BTreeMap::new();
    let (uid_mappings, gid_mappings) = user_namespace(o, net, &mut namespaces, &mut sysctl)?;
    if net.own_stack() || *net == Net::None {
        // No NET_RAW by default (nor any in a user namespace): ping uses
        // an ICMP datagram socket, which the container's own network
        // namespace opens to every group, as docker and podman set it.
        // A user's namespace maps fewer groups: all of them.
        let last = match crate::rootless::active() {
            true => crate::rootless::max_gid(),
            false => 2147483647,
        };
        sysctl.insert("net.ipv4.ping_group_range".into(), format!("0 {last}"));
    }
    Ok(Linux {
        namespaces,
        uid_mappings,
        gid_mappings,
        sysctl,
        resources: Some(resources),
        devices: devices.into_iter().map(|(d, _)| d).collect(),
        seccomp,
        masked_paths: if o.privileged {
            vec![]
        } else {
            MASKED.iter().map(|s| s.to_string()).collect()
        },
        readonly_paths: if o.privileged {
            vec![]
        } else {
            READONLY.iter().map(|s| s.to_string()).collect()
        },
        ..Default::default()
    })
}

/// `--userns`: the user namespace and the uid and gid maps, if any.
fn user_namespace(
    o: &RunOptions,
    net: &Net,
    namespaces: &mut Vec<Namespace>,
    sysctl: &mut BTreeMap<String, String>,
) -> Result<(Vec<spec::IdMapping>, Vec<spec::IdMapping>)> {
    match &o.userns {
        Userns::Host => Ok((vec![], vec![])),
        Userns::Auto { .. } => Err(Error::Internal("--userns=auto was not allocated".into())),
        Userns::Maps { .. } if o.privileged => Err(Error::Usage(
            "--privileged cannot be used with a user namespace".into(),
        )),
        Userns::Maps { uid, gid } => {
            namespaces.push(Namespace {
                kind: "user".into(),
                path: None,
            });
            if net.own_stack() || *net == Net::None {
                // The network namespace belongs to the host's user
                // namespace, so root in the container holds no
                // NET_BIND_SERVICE there: low ports are opened to every
                // user instead, as docker does.
                sysctl.insert("net.ipv4.ip_unprivileged_port_start".into(), "0".into());
            }
            Ok((uid.clone(), gid.clone()))
        }
    }
}

/// Records `--cgroup-manager systemd` (the container's group is then the
/// scope `cc-<id>.scope`, see `Container::cgroup_name`), refused where
/// systemd cannot make it.
fn cgroup_manager(o: &RunOptions, annotations: &mut BTreeMap<String, String>) -> Result<()> {
    o.cgroup_manager.check()?;
    if o.cgroup_manager == crate::cgroup::Manager::Systemd {
        annotations.insert(ANN_CGROUP_MANAGER.into(), "systemd".into());
    }
    Ok(())
}

/// The spec of `--bundle DIR`: the bundle's config.json made a cc
/// container's. Its root and relative bind sources become absolute (the
/// container's folder is its bundle from now on); its cgroupsPath is
/// dropped so runs of one bundle do not share a group; the network is cc's
/// (`--net`, default bridge) when the bundle asks for a network namespace,
/// the host's when it does not. Hooks are cc-oci's to run: a bundle with
/// hooks is refused.
pub fn from_bundle(o: &RunOptions, dir: &std::path::Path) -> Result<Spec> {
    let (bundle, mut spec) = Spec::load_bundle(dir)?;
    if spec
        .extra
        .get("hooks")
        .is_some_and(|h| h.as_object().is_some_and(|m| !m.is_empty()))
    {
        return Err(Error::Unsupported(format!(
            "bundle '{}' has hooks, which cc-run does not run: use cc-oci",
            bundle.display()
        )));
    }
    let rootfs = spec.rootfs_in(&bundle);
    if !rootfs.is_dir() {
        return Err(Error::not_found(
            "root folder",
            rootfs.display().to_string(),
        ));
    }
    let readonly = spec.root.as_ref().is_some_and(|r| r.readonly);
    spec.root = Some(spec::Root {
        path: rootfs.display().to_string(),
        readonly,
    });
    for m in spec.mounts.iter_mut().filter(|m| m.is_bind()) {
        if let Some(src) = m.source.as_mut().filter(|s| !s.starts_with('/')) {
            *src = bundle.join(&*src).display().to_string();
        }
    }
    let has_netns = spec.has_namespace("network");
    let net = match has_netns {
        true => o.net.clone().unwrap_or_default(),
        false => Net::Host,
    };
    let ports = published(o, &RunConfig::default(), &net)?;
    spec.allow_default_devices();
    // Refused here, before anything is made, rather than in the monitor.
    crate::cgroup::Resources::of_spec(&spec)?;
    let linux = spec.linux.get_or_insert_with(Default::default);
    linux.cgroups_path = None;
    let a = &mut spec.annotations;
    cgroup_manager(o, a)?;
    a.insert(ANN_ROOTFS.into(), rootfs.display().to_string());
    a.insert(crate::net::ANN_NET.into(), net.as_annotation());
    if !ports.is_empty() {
        a.insert(crate::net::ANN_PORTS.into(), ports.join(","));
    }
    if let Some(max) = o.log_max {
        a.insert(ANN_LOG_MAX.into(), max.to_string());
    }
    for (k, on) in [(ANN_RM, o.rm), (ANN_INTERACTIVE, o.interactive)] {
        if on {
            a.insert(k.into(), "true".into());
        }
    }
    Ok(spec)
}

/// podman's default 11 capabilities (all with `--privileged`), plus
/// `--cap-add`, minus `--cap-drop` (`ALL` for every one), in the
/// bounding, effective and permitted sets; inheritable and ambient stay
/// empty (CVE-2022-24769).
fn capabilities(o: &RunOptions) -> Result<spec::Capabilities> {
    use crate::sandbox::caps::{normalize, DEFAULT, NAMES};
    let names = |list: &[String]| -> Result<Vec<&'static str>> {
        let mut out = Vec::new();
        for n in list {
            if n.eq_ignore_ascii_case("all") {
                out.extend(NAMES);
            } else {
                out.push(
                    normalize(n)
                        .ok_or_else(|| Error::Usage(format!("unknown capability '{n}'")))?,
                );
            }
        }
        Ok(out)
    };
    let mut set: Vec<&str> = if o.privileged {
        NAMES.to_vec()
    } else {
        DEFAULT.to_vec()
    };
    let drop = names(&o.cap_drop)?;
    set.retain(|c| !drop.contains(c));
    for c in names(&o.cap_add)? {
        if !set.contains(&c) {
            set.push(c);
        }
    }
    let set: Vec<String> = set.into_iter().map(String::from).collect();
    Ok(spec::Capabilities {
        bounding: set.clone(),
        effective: set.clone(),
        permitted: set,
        inheritable: vec![],
        ambient: vec![],
    })
}

/// docker's default seccomp profile for these capabilities, a profile
/// file, or none (`seccomp=unconfined`, `--privileged`).
fn seccomp(o: &RunOptions, bounding: &[String]) -> Result<Option<spec::Seccomp>> {
    use crate::sandbox::seccomp;
    if o.seccomp_unconfined || (o.privileged && o.seccomp_profile.is_none()) {
        return Ok(None);
    }
    match &o.seccomp_profile {
        Some(f) => seccomp::from_file(f, bounding).map(Some),
        None => Ok(Some(seccomp::default_for(bounding))),
    }
}

/// docker's rules: `--entrypoint` replaces the image's and drops its Cmd;
/// arguments replace Cmd.
fn command_line(o: &RunOptions, ic: &RunConfig) -> Result<Vec<String>> {
    let entry: Vec<String> = match &o.entrypoint {
        Some(e) if e.is_empty() => vec![],
        Some(e) => vec![e.clone()],
        None => ic.entrypoint.clone().unwrap_or_default(),
    };
    let cmd = if !o.command.is_empty() {
        o.command.clone()
    } else if o.entrypoint.is_some() {
        vec![]
    } else {
        ic.cmd.clone().unwrap_or_default()
    };
    let args: Vec<String> = entry.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(Error::Usage(
            "no command given and the image has none".into(),
        ));
    }
    Ok(args)
}

/// `-p` and `-P`, checked: ports need a namespace on the bridge.
fn published(o: &RunOptions, ic: &RunConfig, net: &Net) -> Result<Vec<String>> {
    let mut ports = o.ports.clone();
    if o.publish_all {
        let keys: Vec<String> = ic
            .exposed_ports
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        ports.extend(crate::net::ports::exposed(&keys));
    }
    for p in &ports {
        p.parse::<crate::net::PortSpec>()?;
    }
    if !ports.is_empty() && !net.own_stack() {
        return Err(Error::Usage(format!(
            "published ports need --net bridge, not --net {}",
            net.as_annotation()
        )));
    }
    Ok(ports)
}

fn namespaces(net: &Net, host_cgroupns: bool) -> Vec<Namespace> {
    let mut kinds = vec!["pid", "mount", "ipc", "uts"];
    // Private by default on v1 too: docker's v1 default (host) exists for
    // kernels before 4.6 and shows the host's paths in /proc/self/cgroup.
    if !host_cgroupns {
        kinds.push("cgroup");
    }
    // container:ID joins that namespace: the monitor enters it before the
    // clone, so the clone makes no new one.
    if net.own_stack() || *net == Net::None {
        kinds.push("network");
    }
    kinds
        .into_iter()
        .map(|k| Namespace {
            kind: k.into(),
            path: None,
        })
        .collect()
}

/// runc's masked and read-only paths.
const MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];
const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(cmd: &[&str]) -> RunOptions {
        RunOptions {
            command: cmd.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn entrypoint_and_cmd_follow_docker() {
        let ic = RunConfig {
            entrypoint: Some(vec!["/entry".into()]),
            cmd: Some(vec!["default".into()]),
            ..Default::default()
        };
        assert_eq!(
            command_line(&opts(&[]), &ic).unwrap(),
            ["/entry", "default"]
        );
        assert_eq!(command_line(&opts(&["x"]), &ic).unwrap(), ["/entry", "x"]);
        let mut o = opts(&[]);
        o.entrypoint = Some("sh".into());
        assert_eq!(command_line(&o, &ic).unwrap(), ["sh"]);
        o.entrypoint = Some(String::new());
        assert_eq!(command_line(&o, &ic).unwrap_err().code(), 2);
    }

    #[test]
    fn tmpfs_is_checked() {
        assert_eq!(
            tmpfs("/run:size=1m").unwrap().options,
            ["nosuid", "nodev", "noexec", "size=1m"]
        );
        assert_eq!(tmpfs("run").unwrap_err().code(), 2);
    }

    #[test]
    fn env_overrides_image() {
        let mut o = opts(&["true"]);
        o.env = vec!["A=2".into()];
        let spec = build(&o, None).unwrap();
        assert!(spec.process.unwrap().env.contains(&"A=2".to_string()));
    }
}
