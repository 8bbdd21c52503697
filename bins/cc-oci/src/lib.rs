use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use cc_lib::error::Error;
use cc_lib::oci::{create, events, exec, ops, run, state, template};
use cc_lib::Result;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

/// An OCI runtime with runc's command line: podman (`--runtime`),
/// containerd (`--runc-binary`) and other callers drive cc's sandbox
/// through it. State lives in one folder per container under --root.
/// Errors exit 1 (255 for exec's own, as runc) and are also written to
/// --log (one JSON object per line with `level`, `msg` and `time` for
/// --log-format json).
#[derive(Debug, Parser)]
#[command(name = "cc-oci", version = VERSION, disable_version_flag = true)]
pub struct Args {
    /// Print the version and the runtime spec's version
    #[arg(short = 'v', long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// Folder of the containers' state [default: /run/cc-oci; rootless:
    /// $XDG_RUNTIME_DIR/cc/oci]
    #[arg(long, value_name = "DIR", global = true)]
    pub root: Option<PathBuf>,
    /// Also write errors (and with --debug, each call) to this file
    #[arg(long, value_name = "FILE", global = true)]
    pub log: Option<PathBuf>,
    /// The log's format
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log each call at debug level
    #[arg(long, global = true)]
    pub debug: bool,
    /// Let systemd make each container's cgroup, a transient scope named by
    /// cgroupsPath in runc's form slice:prefix:name (default
    /// system.slice:cc-oci:ID); cgroup v2 only
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
    /// Run for an ordinary user, as root of its user namespace (rootless
    /// podman calls cc-oci so): no cgroup, the host's devices bound in;
    /// auto = when not in the host's user namespace
    #[arg(
        long,
        value_name = "true|false|auto",
        default_value = "auto",
        global = true
    )]
    pub rootless: String,
    #[command(subcommand)]
    pub command: Command,
}

/// `-v`: runc's lines, cc's version then the spec's.
const VERSION: &str = concat!(
    "version ",
    env!("CARGO_PKG_VERSION"),
    "\nspec: ",
    // Kept equal to cc_lib::oci::state::OCI_VERSION (a unit test checks).
    "1.0.2-dev"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The bundle: a folder with config.json
    #[arg(short, long, default_value = ".", value_name = "DIR")]
    pub bundle: PathBuf,
    /// Unix socket that receives the terminal's master fd
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Write the container's pid here
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// chroot instead of pivot_root (roots on ramfs)
    #[arg(long)]
    pub no_pivot: bool,
    /// Keep the caller's session keyring instead of a new one
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass fds 3 to 3+N-1 on to the container
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub preserve_fds: u32,
    /// The container's id
    pub id: String,
}

impl CreateArgs {
    fn options(&self, systemd_cgroup: bool) -> create::Options {
        create::Options {
            systemd_cgroup,
            bundle: self.bundle.clone(),
            console_socket: self.console_socket.clone(),
            pid_file: self.pid_file.clone(),
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            preserve_fds: self.preserve_fds,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Unix socket that receives the terminal's master fd
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Working folder
    #[arg(long)]
    pub cwd: Option<String>,
    /// Set an environment variable
    #[arg(short, long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Allocate a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    /// UID[:GID]
    #[arg(short, long)]
    pub user: Option<String>,
    /// Supplementary group ids
    #[arg(short = 'g', long = "additional-gids", value_name = "GID")]
    pub additional_gids: Vec<u32>,
    /// The process as OCI JSON (args, env, cwd, user, capabilities)
    #[arg(short, long, value_name = "FILE")]
    pub process: Option<PathBuf>,
    /// Return once it started; the caller's subreaper adopts it
    #[arg(short, long)]
    pub detach: bool,
    /// Write the process's pid here
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Set no_new_privs
    #[arg(long)]
    pub no_new_privs: bool,
    /// Add a capability
    #[arg(short, long = "cap")]
    pub cap: Vec<String>,
    /// Pass fds 3 to 3+N-1 on to the command
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub preserve_fds: u32,
    /// Run the command in this existing sub-group of the container's
    /// cgroup (one PATH for every controller)
    #[arg(long, value_name = "PATH")]
    pub cgroup: Option<String>,
    /// Exec into a paused container too (the command waits for resume)
    #[arg(long)]
    pub ignore_paused: bool,
    pub id: String,
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl ExecArgs {
    fn options(&self) -> exec::Options {
        exec::Options {
            process: self.process.clone(),
            args: self.command.clone(),
            tty: self.tty,
            console_socket: self.console_socket.clone(),
            detach: self.detach,
            pid_file: self.pid_file.clone(),
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            user: self.user.clone(),
            additional_gids: self.additional_gids.clone(),
            no_new_privs: self.no_new_privs,
            caps: self.cap.clone(),
            preserve_fds: self.preserve_fds,
            cgroup: self.cgroup.clone(),
            ignore_paused: self.ignore_paused,
        }
    }
}

// `update`'s flags (see `UpdateArgs::resources`); a plain comment, as
// a doc comment here would become the subcommand's help.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// linux.resources JSON ('-' for stdin)
    #[arg(short, long, value_name = "FILE")]
    pub resources: Option<PathBuf>,
    /// Memory limit in bytes (k, m, g suffixes)
    #[arg(long)]
    pub memory: Option<String>,
    /// Memory plus swap, -1 unlimited
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit in bytes (v1 soft_limit, v2 memory.low)
    #[arg(long)]
    pub memory_reservation: Option<String>,
    #[arg(long, alias = "cpu-share")]
    pub cpu_shares: Option<u64>,
    /// CFS quota in microseconds (the period stays unless given)
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// Realtime period in microseconds (cgroup v1)
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    /// Realtime runtime in microseconds per period (cgroup v1)
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs the container may use (0-3,5)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Block I/O weight, 10 to 1000
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a container, set up and waiting for `start`
    Create(CreateArgs),
    /// Start a created container's process
    Start { id: String },
    /// Print a container's state as the OCI runtime spec's JSON
    State { id: String },
    /// Send a signal (default SIGTERM) to the container's first process
    Kill {
        /// Signal every process of the container
        #[arg(short, long)]
        all: bool,
        id: String,
        /// Name (TERM, SIGTERM) or number
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Delete a stopped container (--force: kill it first)
    Delete {
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Create and start a container; in the foreground, wait and exit with
    /// its status
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Return once it started
        #[arg(short, long)]
        detach: bool,
        /// Do not delete the container after it exits
        #[arg(long)]
        keep: bool,
    },
    /// Run a process in a created or running container
    #[command(trailing_var_arg = true)]
    Exec(ExecArgs),
    /// List the container's processes (ps(1) output, or pids as JSON)
    #[command(trailing_var_arg = true)]
    Ps {
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
        id: String,
        /// Options for ps(1) (default -ef)
        #[arg(allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// List containers
    List {
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Ids only
        #[arg(short, long)]
        quiet: bool,
    },
    /// Freeze every process of a container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// Change a running container's limits
    Update(UpdateArgs),
    /// Print the container's resource use (and OOM kills) as JSON lines,
    /// until it stops
    Events {
        /// Print one stats event and exit
        #[arg(long)]
        stats: bool,
        /// Time between stats events (a Go duration: 5s, 500ms, 1m)
        #[arg(long, default_value = "5s", value_name = "DURATION")]
        interval: String,
        id: String,
    },
    /// Write a default config.json into the bundle
    Spec {
        #[arg(short, long, default_value = ".", value_name = "DIR")]
        bundle: PathBuf,
    },
    /// Print what this runtime supports, as JSON
    Features,
}

pub fn command() -> clap::Command {
    Args::command()
}

/// Parses, runs, and reports errors as runc does: exit 1, the message on
/// stderr and in the log.
pub fn main() -> ExitCode {
    let a = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let log = Log {
        file: a.log.clone(),
        json: a.log_format == LogFormat::Json,
    };
    if a.debug {
        let argv: Vec<String> = std::env::args().collect();
        log.debug(&argv.join(" "));
    }
    let result = dispatch(&a);
    let _ = std::io::stdout().flush();
    if a.debug {
        let end = match &result {
            Ok(code) => format!("exit status {code}"),
            Err(e) => format!("failed: {}", cc_lib::cli::one_line(&e.to_string())),
        };
        log.debug(&end);
    }
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            let msg = cc_lib::cli::one_line(&e.to_string());
            match (&log.file, log.json) {
                // As runc: the JSON line itself on stderr when there is
                // no log file to put it in.
                (None, true) => eprintln!("{}", log.line("error", &msg)),
                _ => {
                    log.write("error", &msg);
                    eprintln!("cc-oci: {msg}");
                }
            }
            // runc's own exec failures are 255, apart from the command's
            // codes.
            match a.command {
                Command::Exec(_) => ExitCode::from(255),
                _ => ExitCode::from(1),
            }
        }
    }
}

/// `--log`: logrus's shapes, which conmon and the shims read back.
struct Log {
    file: Option<PathBuf>,
    json: bool,
}

impl Log {
    fn line(&self, level: &str, msg: &str) -> String {
        let time = cc_lib::time::now_rfc3339();
        match self.json {
            true => serde_json::json!({"level": level, "msg": msg, "time": time}).to_string(),
            false => format!("time={time:?} level={level} msg={msg:?}"),
        }
    }

    /// `--debug`: to the log, or to stderr without one (as runc).
    fn debug(&self, msg: &str) {
        match &self.file {
            Some(_) => self.write("debug", msg),
            None => eprintln!("{}", self.line("debug", msg)),
        }
    }

    fn write(&self, level: &str, msg: &str) {
        use std::os::unix::fs::OpenOptionsExt;
        let Some(path) = &self.file else { return };
        let line = self.line(level, msg);
        // 0600: errors quote the spec (paths, hook arguments).
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

fn dispatch(a: &Args) -> Result<i32> {
    // What works on containers decides rootless mode first; `spec` and
    // `features` need no state and work for anyone.
    let root = || {
        let dir = match (&a.root, rootless_mode(&a.rootless)?) {
            (Some(dir), _) => dir.clone(),
            (None, true) => cc_lib::rootless::runtime_dir()?.join("oci"),
            (None, false) => PathBuf::from("/run/cc-oci"),
        };
        state::Root::new(&dir)
    };
    match &a.command {
        Command::Create(c) => {
            create::create(&root()?, &c.id, &c.options(a.systemd_cgroup), true)?;
            Ok(0)
        }
        Command::Start { id } => create::start(&root()?.load(id)?).map(|_| 0),
        Command::State { id } => {
            print_json(&root()?.load(id)?.state())?;
            Ok(0)
        }
        Command::Kill { all, id, signal } => {
            let sig = ops::parse_signal(signal)?;
            ops::kill(&root()?.load(id)?, sig, *all).map(|_| 0)
        }
        Command::Delete { force, id } => delete(&root()?, id, *force),
        Command::Run {
            create,
            detach,
            keep,
        } => run::run(
            &root()?,
            &create.id,
            &create.options(a.systemd_cgroup),
            *detach,
            *keep,
        ),
        Command::Exec(e) => {
            let o = e.options();
            exec::exec(&root()?.load(&e.id)?, &o)
        }
        Command::Ps {
            format,
            id,
            ps_args,
        } => ps(&root()?.load(id)?, *format, ps_args),
        Command::List { format, quiet } => list(&root()?, *format, *quiet),
        Command::Pause { id } => ops::pause(&root()?.load(id)?).map(|_| 0),
        Command::Resume { id } => ops::resume(&root()?.load(id)?).map(|_| 0),
        Command::Update(u) => {
            let res = u.resources()?;
            ops::update(&root()?.load(&u.id)?, &res).map(|_| 0)
        }
        Command::Events {
            stats,
            interval,
            id,
        } => events(&root()?.load(id)?, *stats, interval),
        Command::Spec { bundle } => write_spec(bundle),
        Command::Features => {
            print_json(&template::features())?;
            Ok(0)
        }
    }
}

/// `--rootless`: whether cc-oci runs for an ordinary user (see
/// `rootless::adopt_callers_namespace`).
fn rootless_mode(value: &str) -> Result<bool> {
    let wanted = match value {
        "true" => Some(true),
        "false" => Some(false),
        "auto" => None,
        other => {
            return Err(Error::Usage(format!(
                "invalid --rootless '{other}': true, false or auto"
            )))
        }
    };
    cc_lib::rootless::adopt_callers_namespace(wanted)
}

fn delete(r: &state::Root, id: &str, force: bool) -> Result<i32> {
    if ops::remove_unrecorded(r, id)? {
        return Ok(0);
    }
    // runc: deleting what is not there is fine with --force.
    if force && !r.container_dir(id).join("state.json").exists() {
        return Ok(0);
    }
    ops::delete(&r.load(id)?, force).map(|_| 0)
}

fn ps(c: &state::Container, format: Format, ps_args: &[String]) -> Result<i32> {
    match format {
        Format::Json => print_json_line(&ops::pids(c))?,
        Format::Table => print!("{}", ops::ps_table(c, ps_args)?),
    }
    Ok(0)
}

/// `events`: one stats line (`--stats`), or stats every `interval` and
/// OOM kills as they happen, each line flushed at once.
fn events(c: &state::Container, stats: bool, interval: &str) -> Result<i32> {
    let interval = events::parse_interval(interval)?;
    if stats {
        print_json_line(&events::stats_event(c)?)?;
        return Ok(0);
    }
    let mut stdout = std::io::stdout();
    events::watch(c, interval, &mut |e| {
        let line = serde_json::to_string(e).expect("json serializes");
        writeln!(stdout, "{line}")
            .and_then(|_| stdout.flush())
            .is_ok()
    })?;
    Ok(0)
}

/// `list`: ids (`--quiet`), runc's JSON, or a table.
fn list(root: &state::Root, format: Format, quiet: bool) -> Result<i32> {
    let list = ops::list(root);
    if quiet {
        for s in &list {
            println!("{}", s.id);
        }
    } else if format == Format::Json {
        // runc prints null for none, and callers expect it.
        match list.is_empty() {
            true => println!("null"),
            false => print_json_line(&list)?,
        }
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.pid.to_string(),
                    s.status.as_str().to_string(),
                    s.bundle.display().to_string(),
                    s.created.clone(),
                    s.owner.clone(),
                ]
            })
            .collect();
        cc_lib::cli::print_table(
            &["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
            &rows,
        );
    }
    Ok(0)
}

impl UpdateArgs {
    /// The new limits: `--resources` JSON, with the flags on top.
    fn resources(&self) -> Result<cc_lib::spec::Resources> {
        let mut res: cc_lib::spec::Resources = match &self.resources {
            Some(p) => serde_json::from_slice(&read_file_or_stdin(p)?)
                .map_err(|e| Error::Usage(format!("invalid resources: {e}")))?,
            None => Default::default(),
        };
        if self.memory.is_some() || self.memory_swap.is_some() || self.memory_reservation.is_some()
        {
            let m = res.memory.get_or_insert_with(Default::default);
            if let Some(v) = &self.memory {
                m.limit = Some(cc_lib::cgroup::parse_size(v)?);
            }
            if let Some(v) = &self.memory_reservation {
                m.reservation = Some(cc_lib::cgroup::parse_size(v)?);
            }
            if let Some(v) = &self.memory_swap {
                m.swap = Some(match v.as_str() {
                    "-1" => -1,
                    v => cc_lib::cgroup::parse_size(v)?,
                });
            }
        }
        let cpu_flags = [self.cpu_shares, self.cpu_period, self.cpu_rt_period];
        if cpu_flags.iter().any(Option::is_some)
            || self.cpu_quota.is_some()
            || self.cpu_rt_runtime.is_some()
            || self.cpuset_cpus.is_some()
            || self.cpuset_mems.is_some()
        {
            let c = res.cpu.get_or_insert_with(Default::default);
            c.shares = self.cpu_shares.or(c.shares);
            c.quota = self.cpu_quota.or(c.quota);
            c.period = self.cpu_period.or(c.period);
            c.realtime_period = self.cpu_rt_period.or(c.realtime_period);
            c.realtime_runtime = self.cpu_rt_runtime.or(c.realtime_runtime);
            c.cpus = self.cpuset_cpus.clone().or(c.cpus.take());
            c.mems = self.cpuset_mems.clone().or(c.mems.take());
        }
        if let Some(w) = self.blkio_weight {
            res.block_io.get_or_insert_with(Default::default).weight = Some(w);
        }
        if let Some(p) = self.pids_limit {
            res.pids = Some(cc_lib::spec::PidsResources { limit: p });
        }
        Ok(res)
    }
}

/// The bytes of `p`, or of stdin for `-`.
fn read_file_or_stdin(p: &std::path::Path) -> Result<Vec<u8>> {
    match p.as_os_str() == "-" {
        true => {
            let mut s = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut s)
                .map_err(|e| Error::io("read", "stdin", e))?;
            Ok(s)
        }
        false => std::fs::read(p).map_err(|e| Error::io("read", p, e)),
    }
}

/// `spec`: the default config.json, never over an existing one.
fn write_spec(bundle: &std::path::Path) -> Result<i32> {
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(Error::State(format!(
            "{} exists: remove it first",
            path.display()
        )));
    }
    let text = serde_json::to_string_pretty(&template::default_spec()).expect("json serializes");
    std::fs::write(&path, text + "\n").map_err(|e| Error::io("write", &path, e))?;
    Ok(0)
}

/// runc's `list` and `ps` JSON: one line.
fn print_json_line<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string(v).expect("json serializes"));
    Ok(())
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).expect("json serializes");
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_names_the_spec_cc_oci_implements() {
        let spec = format!("\nspec: {}", cc_lib::oci::state::OCI_VERSION);
        assert!(super::VERSION.ends_with(&spec), "{}", super::VERSION);
    }
}
