use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use cc_lib::cli::StoreOpts;
use cc_lib::container::{self, Status};
use cc_lib::error::Error;
use cc_lib::monitor::log::{Entry, Reader};
use cc_lib::{time, Result};
use clap::{CommandFactory, Parser};

/// Print a container's logs: its stdout lines to stdout and its stderr
/// lines to stderr, in order. Works on exited containers until cc-rm.
#[derive(Debug, Parser)]
#[command(name = "cc-logs", version)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreOpts,
    /// Follow new output; ends by itself when the container ends
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Show each line's time (RFC 3339) first
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only lines since TIME: RFC 3339, or a duration ago like 10s, 5m, 2h
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// The container: name, id or unique id prefix
    pub container: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = a.store.open()?;
    let c = container::resolve(&store, &a.container)?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let shown =
        |e: &Entry| since.is_none_or(|t| time::parse_rfc3339(&e.time).is_some_and(|et| et >= t));
    let failed = |e| Error::io("read the log of", &c.dir, e);
    // --tail: one pass counts, the next skips; the log is streamed, never
    // held (a line without a newline may be gigabytes).
    let mut skip = match a.tail {
        Some(n) => {
            let mut count = 0usize;
            Reader::new(&c.dir)
                .each(&mut |e| count += usize::from(shown(&e)))
                .map_err(failed)?;
            count.saturating_sub(n)
        }
        None => 0,
    };
    let mut out = Printer::new(a.timestamps);
    let mut reader = Reader::new(&c.dir);
    reader
        .each(&mut |e| match shown(&e) {
            true if skip > 0 => skip -= 1,
            true => out.print(&e),
            false => {}
        })
        .map_err(failed)?;
    out.flush();
    if !a.follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        let running = container::load(&store, &c.id).is_ok_and(|c| c.status() == Status::Running);
        let mut new = false;
        reader
            .poll(&mut |e| {
                new = true;
                out.print(&e);
            })
            .map_err(failed)?;
        out.flush();
        if !running && !new {
            // One more read: the monitor flushes before it records the exit.
            reader.poll(&mut |e| out.print(&e)).map_err(failed)?;
            out.flush();
            return Ok(ExitCode::SUCCESS);
        }
        if !new {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Writes entries through buffers, flushing one stream before the other
/// is written, so that `2>&1` keeps the order.
struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    err: std::io::BufWriter<std::io::Stderr>,
    last_err: bool,
    timestamps: bool,
}

impl Printer {
    fn new(timestamps: bool) -> Printer {
        Printer {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            err: std::io::BufWriter::with_capacity(1 << 16, std::io::stderr()),
            last_err: false,
            timestamps,
        }
    }

    fn print(&mut self, e: &Entry) {
        let is_err = e.stream == "stderr";
        if is_err != self.last_err {
            let _ = if is_err {
                self.out.flush()
            } else {
                self.err.flush()
            };
            self.last_err = is_err;
        }
        let w: &mut dyn Write = if is_err { &mut self.err } else { &mut self.out };
        if self.timestamps {
            let _ = write!(w, "{} ", e.time);
        }
        let _ = w.write_all(e.log.as_bytes());
        if !e.partial {
            let _ = w.write_all(b"\n");
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}

fn parse_since(s: &str) -> Result<SystemTime> {
    if let Some(t) = time::parse_rfc3339(s) {
        return Ok(t);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| Error::Usage(format!("invalid time '{s}'")))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(Error::Usage(format!("invalid time '{s}'"))),
    };
    Ok(SystemTime::now() - Duration::from_secs(secs))
}
