//! What cc-run and cc-create share: every option that shapes the
//! container (not how cc-run attaches to it), turned into `RunOptions`.

use std::io::IsTerminal;
use std::path::PathBuf;

use cc_lib::cgroup::{
    cpus_to_quota, parse_memory_swap, parse_size, pids_limit, Manager, Resources,
};
use cc_lib::error::Error;
use cc_lib::image::format::Platform;
use cc_lib::image::reference::Reference;
use cc_lib::image::Image;
use cc_lib::registry::manifest::show_platform;
use cc_lib::run::tuning::Tuning;
use cc_lib::run::{Dns, Net, RunOptions};
use cc_lib::Result;
use clap::Args;

/// The cgroup limits cc-run, cc-create and cc-update share.
#[derive(Debug, Args)]
pub struct Limits {
    /// Memory limit (b, k, m, g)
    #[arg(short, long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Memory plus swap limit (-1 for unlimited swap)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, value_name = "N")]
    pub cpu_shares: Option<u64>,
    /// Number of CPUs (CFS quota), e.g. 0.5
    #[arg(long, value_name = "FLOAT")]
    pub cpus: Option<f64>,
}

impl Limits {
    /// The limits given, parsed (docker's sizes, `--cpus` as a CFS quota).
    pub fn resources(&self) -> Result<Resources> {
        let (cpu_quota, cpu_period) = self.cpus.map(cpus_to_quota).transpose()?.unzip();
        Ok(Resources {
            memory: self.memory.as_deref().map(parse_size).transpose()?,
            memory_swap: self
                .memory_swap
                .as_deref()
                .map(parse_memory_swap)
                .transpose()?,
            cpu_shares: self.cpu_shares,
            cpu_quota,
            cpu_period,
            ..Default::default()
        })
    }
}

/// The options of the container itself, as docker create takes them.
#[derive(Debug, Args)]
pub struct ContainerArgs {
    /// Run on this folder as the root instead of an image
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Run an OCI bundle (a folder with config.json, as `runc spec` makes)
    /// as a cc container: its process, root, mounts, namespaces, limits
    /// and security settings as the bundle says, with cc's monitor, logs
    /// and network (--net; the host's if the bundle has no network
    /// namespace). Options that would change the spec are refused with it.
    #[arg(long, value_name = "DIR", conflicts_with_all = [
        "rootfs", "args", "env", "env_file", "label", "user", "workdir", "hostname", "entrypoint",
        "volumes", "mounts", "volumes_from", "tmpfs", "read_only", "memory", "memory_swap",
        "cpu_shares", "cpus", "pids_limit", "privileged", "cap_add", "cap_drop", "security_opt",
        "device", "init", "userns", "uidmap", "gidmap", "tty", "cgroupns", "label_file", "add_host",
        "dns", "dns_search", "dns_option", "ulimit", "stop_signal", "stop_timeout", "sysctl",
        "shm_size", "group_add", "platform", "cgroup_parent", "oom_kill_disable",
        "memory_reservation", "cpuset_cpus", "cpuset_mems", "device_cgroup_rule",
        "health_cmd", "health_interval", "health_timeout", "health_retries",
        "health_start_period", "health_start_interval", "no_healthcheck",
    ])]
    pub bundle: Option<PathBuf>,
    /// Name the container
    #[arg(long)]
    pub name: Option<String>,
    /// Write the container's id to FILE (which must not exist)
    #[arg(long, value_name = "FILE")]
    pub cidfile: Option<PathBuf>,
    /// Rotate the log past SIZE (b, k, m, g), keeping one backup, so a
    /// container's log takes at most about twice SIZE on disk; 0 for no cap
    #[arg(long, value_name = "SIZE", default_value = "100m")]
    pub log_max_size: String,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Restart the command when it ends: no, on-failure[:N] (a non-zero
    /// exit, at most N times), always, unless-stopped; the container's
    /// monitor does it, with docker's back-off (100 ms, doubling). A stop
    /// by the user (cc-stop, cc-kill) ends it; after a reboot
    /// `cc-start --all-restartable` starts always and unless-stopped ones
    #[arg(long, value_name = "POLICY", default_value = "no")]
    pub restart: String,
    #[command(flatten)]
    pub health: HealthArgs,
    /// Keep stdin open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Set an environment variable; `-e K` takes K from cc-run's environment
    #[arg(short, long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Set a label on the container (after the image's), KEY[=VALUE]
    #[arg(short = 'l', long = "label", value_name = "K=V")]
    pub label: Vec<String>,
    /// Read labels from a file of K[=V] lines (before --label's)
    #[arg(long, value_name = "FILE")]
    pub label_file: Vec<PathBuf>,
    /// Read environment variables from a file of K=V lines
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Run as USER[:GROUP], names from the image's /etc/passwd or numbers
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working folder inside the container (created when missing)
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// The container's hostname (default: its short id)
    #[arg(long, short = 'h')]
    pub hostname: Option<String>,
    /// Override the image's entrypoint (`""` clears it)
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Mount a volume NAME:CONTAINER[:OPTS] (made on first use; a new or
    /// empty one gets the image's files at that path unless `nocopy`), a
    /// new anonymous volume at CONTAINER alone, or bind HOST:CONTAINER
    /// with the host folder's submounts; OPTS: ro or rw (`ro` is
    /// read-only all the way down, as docker 25), nocopy, a propagation
    #[arg(short, long = "volume", value_name = "[SRC:]CTR[:OPTS]")]
    pub volumes: Vec<String>,
    /// Mount as docker's --mount: type=bind|volume|tmpfs, source|src,
    /// target|destination|dst, readonly|ro, volume-nocopy, volume-label,
    /// volume-opt, bind-propagation, tmpfs-size, tmpfs-mode
    #[arg(long = "mount", value_name = "KEY=VALUE,...")]
    pub mounts: Vec<String>,
    /// Mount the volumes and binds of CONTAINER too, with their modes or
    /// the one given
    #[arg(long, value_name = "CONTAINER[:ro|rw]")]
    pub volumes_from: Vec<String>,
    /// Mount a tmpfs at PATH[:size=...,mode=...]
    #[arg(long, value_name = "PATH[:OPTS]")]
    pub tmpfs: Vec<String>,
    /// Mount the root filesystem read-only
    #[arg(long)]
    pub read_only: bool,
    /// Network: bridge (own namespace with an address on the store's
    /// bridge and NAT; an ordinary user's is slirp4netns), none (loopback
    /// only), host, container:ID (share that running container's), or for
    /// an ordinary user slirp4netns[:allow_host_loopback=true] (the host's
    /// loopback reached at 10.0.2.2)
    #[arg(
        long,
        visible_alias = "network",
        default_value = "bridge",
        value_name = "MODE"
    )]
    pub net: Net,
    /// Add a line to /etc/hosts, NAME:ADDRESS; the address host-gateway
    /// is the bridge's (--net bridge only)
    #[arg(long, value_name = "NAME:IP")]
    pub add_host: Vec<String>,
    /// A name server for /etc/resolv.conf (replaces the host's)
    #[arg(long, value_name = "IP")]
    pub dns: Vec<String>,
    /// A DNS search domain (replaces the host's; "." for none)
    #[arg(long, value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// A resolv.conf option, such as ndots:2 (replaces the host's)
    #[arg(long, value_name = "OPTION")]
    pub dns_option: Vec<String>,
    /// Publish a container port on the host: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp]
    /// (no HOSTPORT: a free one; see cc-port)
    #[arg(short = 'p', long = "publish", value_name = "SPEC")]
    pub publish: Vec<String>,
    /// Publish every port the image exposes on free host ports
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    #[command(flatten)]
    pub limits: Limits,
    /// Maximum number of processes at once: 2048 by default (podman's),
    /// 0 or -1 for no limit of cc's
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Memory soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low)
    #[arg(long, value_name = "SIZE")]
    pub memory_reservation: Option<String>,
    /// Do not let the OOM killer kill the container's processes (cgroup
    /// v1 only: refused on v2, whose kernel cannot)
    #[arg(long)]
    pub oom_kill_disable: bool,
    /// CPUs the container may run on, e.g. 0-3,5
    #[arg(long, value_name = "LIST")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use, e.g. 0,1
    #[arg(long, value_name = "LIST")]
    pub cpuset_mems: Option<String>,
    /// Make the container's cgroup under this one: a path (cgroupfs,
    /// instead of cc/), or a slice such as my.slice (systemd, instead of
    /// machine.slice)
    #[arg(long, value_name = "PARENT")]
    pub cgroup_parent: Option<String>,
    /// Allow devices in the device cgroup, 'TYPE MAJOR:MINOR ACCESS' as
    /// 'c 1:3 rwm' (type a, b or c; * for any number)
    #[arg(long, value_name = "RULE")]
    pub device_cgroup_rule: Vec<String>,
    /// A resource limit, NAME=SOFT[:HARD] (nofile, nproc, core, stack,
    /// memlock, ...; -1 for unlimited)
    #[arg(long, value_name = "NAME=SOFT[:HARD]", allow_hyphen_values = true)]
    pub ulimit: Vec<String>,
    /// A namespaced kernel parameter, KEY=VALUE: net.* (own network),
    /// kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*
    #[arg(long, value_name = "KEY=VALUE")]
    pub sysctl: Vec<String>,
    /// Size of /dev/shm (b, k, m, g; default 64m)
    #[arg(long, value_name = "SIZE")]
    pub shm_size: Option<String>,
    /// An additional group for the command, a name in the image's
    /// /etc/group or a number
    #[arg(long, value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// The signal cc-stop sends (default: the image's StopSignal, or SIGTERM)
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Seconds cc-stop waits before SIGKILL when not given -t (default
    /// 10; -1 for ever)
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Every capability, no seccomp filter, every device, no masked or
    /// read-only /proc paths, /sys writable
    #[arg(long)]
    pub privileged: bool,
    /// Add a capability (CHOWN, NET_ADMIN, ..., or ALL)
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability (or ALL)
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Security options: no-new-privileges; seccomp=unconfined (no
    /// filter); seccomp=FILE (a profile in docker's JSON format instead of
    /// the default, which is docker's)
    #[arg(long, value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// Give the container a host device, HOST[:CONTAINER][:rwm] (allowed in
    /// the device cgroup with those permissions, default rwm)
    #[arg(long, value_name = "DEV")]
    pub device: Vec<String>,
    /// Run a small init as pid 1 that reaps zombies and forwards signals
    #[arg(long)]
    pub init: bool,
    /// User namespace: host (none, the default); auto[:size=N] (root in the
    /// container is an unprivileged range of N host ids, default 65536,
    /// taken from the `cc` entry of /etc/subuid and /etc/subgid)
    #[arg(long, value_name = "MODE")]
    pub userns: Option<String>,
    /// Map container uids CONTAINER_ID..+SIZE to host uids HOST_ID..+SIZE
    /// in a user namespace (repeatable; also the gid map without --gidmap)
    #[arg(long, value_name = "CTR:HOST:SIZE")]
    pub uidmap: Vec<String>,
    /// Map container gids to host gids, as --uidmap
    #[arg(long, value_name = "CTR:HOST:SIZE")]
    pub gidmap: Vec<String>,
    /// Who makes the container's cgroup: systemd (a transient scope
    /// cc-ID.scope in machine.slice) or cgroupfs (/sys/fs/cgroup/cc/ID);
    /// default systemd where systemd runs the machine on cgroup v2
    #[arg(long, value_name = "MANAGER", env = "CC_CGROUP_MANAGER")]
    pub cgroup_manager: Option<String>,
    /// Cgroup namespace: private (the container's own, rooted at its group,
    /// docker's default on cgroup v2) or host (the host's, as docker on v1;
    /// /sys/fs/cgroup still shows only the container's groups)
    #[arg(long, value_enum, value_name = "MODE", default_value = "private")]
    pub cgroupns: Cgroupns,
    /// Pull the image first: missing (when the store lacks it, docker's
    /// default), always, or never
    #[arg(
        long,
        value_enum,
        default_value = "missing",
        env = "CC_PULL",
        value_name = "WHEN"
    )]
    pub pull: Pull,
    /// The image's platform, OS/ARCH[/VARIANT]: pulled for it, and an
    /// image of another platform is refused
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// IMAGE [COMMAND [ARG...]], or COMMAND [ARG...] with --rootfs
    #[arg(trailing_var_arg = true, value_name = "IMAGE [COMMAND]")]
    pub args: Vec<String>,
}

/// docker's healthcheck options, over the image's HEALTHCHECK.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Command that checks the container's health, run in it by its
    /// monitor through `/bin/sh -c` (exit 0: healthy); see cc-healthcheck
    #[arg(long, value_name = "CMD")]
    pub health_cmd: Option<String>,
    /// Time between checks (default 30s)
    #[arg(long, value_name = "DURATION")]
    pub health_interval: Option<String>,
    /// Time a check may run before it is killed and counts as failed
    /// (default 30s)
    #[arg(long, value_name = "DURATION")]
    pub health_timeout: Option<String>,
    /// Failures in a row that make the container unhealthy (default 3)
    #[arg(long, value_name = "N")]
    pub health_retries: Option<u64>,
    /// Time after the start during which failures do not count while the
    /// container is still starting (default 0s)
    #[arg(long, value_name = "DURATION")]
    pub health_start_period: Option<String>,
    /// Time between checks during the start period (default 5s)
    #[arg(long, value_name = "DURATION")]
    pub health_start_interval: Option<String>,
    /// Run no healthcheck, not even the image's
    #[arg(long, conflicts_with_all = [
        "health_cmd", "health_interval", "health_timeout", "health_retries",
        "health_start_period", "health_start_interval",
    ])]
    pub no_healthcheck: bool,
}

impl HealthArgs {
    /// docker's HealthConfig of the flags given (`None`: no flag).
    pub fn healthcheck(&self) -> Result<Option<cc_lib::image::format::Healthcheck>> {
        if self.no_healthcheck {
            return Ok(Some(cc_lib::image::format::Healthcheck {
                test: vec!["NONE".into()],
                ..Default::default()
            }));
        }
        let nanos = |flag: &str, v: &Option<String>| -> Result<u64> {
            let Some(v) = v else { return Ok(0) };
            let d = cc_lib::time::duration_arg(flag, v)?;
            // 0 is docker's "the default"; else at least 1ms, as docker's.
            if !d.is_zero() && d < std::time::Duration::from_millis(1) {
                return Err(Error::Usage(format!("{flag} '{v}' must be at least 1ms")));
            }
            Ok(d.as_nanos() as u64)
        };
        let h = cc_lib::image::format::Healthcheck {
            test: match &self.health_cmd {
                Some(cmd) => vec!["CMD-SHELL".into(), cmd.clone()],
                None => vec![],
            },
            interval: nanos("--health-interval", &self.health_interval)?,
            timeout: nanos("--health-timeout", &self.health_timeout)?,
            start_period: nanos("--health-start-period", &self.health_start_period)?,
            start_interval: nanos("--health-start-interval", &self.health_start_interval)?,
            retries: self.health_retries.unwrap_or(0),
        };
        Ok((h != Default::default()).then_some(h))
    }
}

/// `--pull`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pull {
    Missing,
    Always,
    Never,
}

/// `--cgroupns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cgroupns {
    Private,
    Host,
}

/// The container's options; `detach` and `detach_keys` are cc-run's
/// (cc-create's containers start attached or not as cc-start says).
pub fn options(
    mut a: ContainerArgs,
    detach: bool,
    detach_keys: Option<String>,
) -> Result<RunOptions> {
    let args = std::mem::take(&mut a.args);
    let (image, command) = image_and_command(&a, args)?;
    let env = environment(&a)?;
    let sec = security_opts(&a.security_opt)?;
    let labels = labels(&a)?;
    let tuning = tuning(&mut a)?;
    let healthcheck = a.health.healthcheck()?;
    Ok(RunOptions {
        image,
        rootfs: a.rootfs,
        bundle: a.bundle,
        command,
        entrypoint: a.entrypoint,
        env,
        labels,
        user: a.user,
        workdir: a.workdir,
        hostname: a.hostname,
        name: a.name,
        rm: a.rm,
        restart: cc_lib::container::restart::Policy::parse(&a.restart)?,
        healthcheck,
        init: a.init,
        interactive: a.interactive,
        tty: a.tty,
        read_only: a.read_only,
        net: Some(a.net),
        ports: a.publish,
        publish_all: a.publish_all,
        volumes: a.volumes,
        mounts: a.mounts,
        volumes_from: a.volumes_from,
        volume_mounts: vec![],
        tmpfs: a.tmpfs,
        resources: Resources {
            pids: pids_limit(a.pids_limit)?,
            ..a.limits.resources()?
        },
        detach,
        cidfile: a.cidfile,
        log_max: Some(parse_size(&a.log_max_size)? as u64).filter(|&n| n > 0),
        detach_keys,
        privileged: a.privileged,
        cap_add: a.cap_add,
        cap_drop: a.cap_drop,
        no_new_privileges: sec.no_new_privileges,
        seccomp_unconfined: sec.seccomp_unconfined,
        seccomp_profile: sec.seccomp_profile,
        devices: a.device,
        userns: cc_lib::idmap::Userns::from_flags(a.userns.as_deref(), &a.uidmap, &a.gidmap)?,
        host_cgroupns: a.cgroupns == Cgroupns::Host,
        cgroup_manager: match a.cgroup_manager.as_deref() {
            Some(m) => Manager::parse(m)?,
            None => Manager::host_default(),
        },
        tuning,
        streams: Default::default(),
    })
}

/// `--ulimit`, `--sysctl`, `--add-host`, `--dns`, ... (see `run::tuning`).
fn tuning(a: &mut ContainerArgs) -> Result<Tuning> {
    let size = |s: &Option<String>| s.as_deref().map(parse_size).transpose();
    Ok(Tuning {
        add_hosts: std::mem::take(&mut a.add_host),
        dns: Dns {
            servers: std::mem::take(&mut a.dns),
            search: std::mem::take(&mut a.dns_search),
            options: std::mem::take(&mut a.dns_option),
        },
        ulimits: std::mem::take(&mut a.ulimit),
        sysctls: std::mem::take(&mut a.sysctl),
        shm_size: size(&a.shm_size)?,
        group_add: std::mem::take(&mut a.group_add),
        stop_signal: a.stop_signal.take(),
        stop_timeout: a.stop_timeout,
        cgroup_parent: a.cgroup_parent.take(),
        device_cgroup_rules: std::mem::take(&mut a.device_cgroup_rule),
        memory_reservation: size(&a.memory_reservation)?,
        oom_kill_disable: a.oom_kill_disable,
        cpuset_cpus: a.cpuset_cpus.take(),
        cpuset_mems: a.cpuset_mems.take(),
    })
}

/// Pulls the image as `--pull` says, as cc-pull would with its defaults
/// (the auth file's credentials; progress when stderr is a terminal);
/// with `--platform`, an image of another platform is pulled again for
/// it (unless `--pull never`), then refused if it still differs.
pub fn fetch(
    store: &cc_lib::store::Store,
    name: &str,
    when: Pull,
    platform: Option<&str>,
) -> Result<()> {
    let want = platform.map(cc_lib::registry::parse_platform).transpose()?;
    let other = |i: &Image| want.as_ref().is_some_and(|w| !platform_of(i).is(w));
    let pull = match when {
        Pull::Never => false,
        Pull::Always => true,
        Pull::Missing => match cc_lib::image::resolve(store, name) {
            Err(Error::NotFound { .. }) if Reference::parse(name).is_ok() => {
                eprintln!("Unable to find image '{name}' locally");
                true
            }
            Ok(i) => other(&i) && Reference::parse(name).is_ok(),
            _ => false,
        },
    };
    if pull {
        let opts = cc_lib::registry::Options {
            progress: std::io::stderr().is_terminal(),
            platform: want.clone(),
            ..Default::default()
        };
        cc_lib::registry::pull::pull(store, name, &opts)?;
    }
    match (&want, cc_lib::image::resolve(store, name)) {
        (Some(w), Ok(i)) if other(&i) => Err(Error::Usage(format!(
            "image '{name}' was found but does not match the specified platform: \
             wanted {}, actual: {}",
            show_platform(w),
            show_platform(&platform_of(&i))
        ))),
        _ => Ok(()),
    }
}

/// The platform an image's config says it is for.
fn platform_of(i: &Image) -> Platform {
    Platform {
        os: i.config.os.clone(),
        architecture: i.config.architecture.clone(),
        variant: i.config.variant.clone(),
    }
}

/// The image (the first of the trailing arguments, unless --rootfs or
/// --bundle) and the command after it.
fn image_and_command(
    a: &ContainerArgs,
    args: Vec<String>,
) -> Result<(Option<String>, Vec<String>)> {
    let mut args = args.into_iter();
    let image = if a.rootfs.is_some() || a.bundle.is_some() {
        None
    } else {
        args.next()
    };
    if let Some(flag) = image.as_deref().filter(|i| i.starts_with('-')) {
        return Err(Error::Usage(format!("unknown option '{flag}'")));
    }
    if a.rootfs.is_none() && a.bundle.is_none() && image.is_none() {
        return Err(Error::Usage(
            "give an image, or --rootfs DIR and a command".into(),
        ));
    }
    Ok((image, args.collect()))
}

/// `--env-file`s' lines, then `-e`s, each `K=V` (a bare `K` takes the
/// caller's value, or is left out).
fn environment(a: &ContainerArgs) -> Result<Vec<String>> {
    let mut env: Vec<String> = lines_of(&a.env_file, "read env file")?
        .iter()
        .filter_map(|l| expand_env(l))
        .collect();
    env.extend(a.env.iter().map(String::as_str).filter_map(expand_env));
    Ok(env)
}

/// `--label-file`s' lines, then `--label`s, each `K[=V]`.
fn labels(a: &ContainerArgs) -> Result<Vec<String>> {
    let mut labels = lines_of(&a.label_file, "read label file")?;
    labels.extend(a.label.iter().cloned());
    Ok(labels)
}

/// The lines of docker's env and label files: trimmed, without empty
/// ones and `#` comments.
fn lines_of(files: &[PathBuf], op: &'static str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(op, f, e))?;
        out.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from),
        );
    }
    Ok(out)
}

#[derive(Default)]
struct SecurityOpts {
    no_new_privileges: bool,
    seccomp_unconfined: bool,
    seccomp_profile: Option<PathBuf>,
}

/// `--security-opt`: `no-new-privileges[=true|false]`,
/// `seccomp=unconfined|FILE`; anything else is a usage error rather than
/// silently ignored.
fn security_opts(opts: &[String]) -> Result<SecurityOpts> {
    let mut s = SecurityOpts::default();
    for o in opts {
        let seccomp = o
            .strip_prefix("seccomp=")
            .or_else(|| o.strip_prefix("seccomp:"));
        match (o.as_str(), seccomp) {
            (_, Some("unconfined")) => {
                s.seccomp_unconfined = true;
                s.seccomp_profile = None;
            }
            (_, Some(file)) if !file.is_empty() => {
                s.seccomp_unconfined = false;
                s.seccomp_profile = Some(PathBuf::from(file));
            }
            ("no-new-privileges" | "no-new-privileges=true" | "no-new-privileges:true", _) => {
                s.no_new_privileges = true
            }
            ("no-new-privileges=false" | "no-new-privileges:false", _) => {
                s.no_new_privileges = false
            }
            (other, _) => {
                return Err(Error::Usage(format!(
                    "unsupported security option '{other}'"
                )))
            }
        }
    }
    Ok(s)
}

/// `K=V` as is; `K` alone takes K from our environment, or is dropped.
fn expand_env(s: &str) -> Option<String> {
    if s.contains('=') {
        Some(s.to_string())
    } else {
        std::env::var(s).ok().map(|v| format!("{s}={v}"))
    }
}
