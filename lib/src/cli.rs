//! The shared entry of every program: SIGPIPE restored so pipelines end
//! quietly, arguments parsed with exit code 2 on misuse, errors printed as
//! `cc-x: what failed: why` with the error's own exit code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::error::{Error, Result};
use crate::sandbox::Failure;
use crate::store::Store;
use crate::template::{self, Columns, RowMethods, Template};

/// The option every program that touches the store takes.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreOpts {
    /// The store's root folder [default: /var/lib/cc; for a user
    /// $XDG_DATA_HOME/cc, else ~/.local/share/cc]
    #[arg(long, env = "CC_ROOT", value_name = "DIR", global = true)]
    pub root: Option<PathBuf>,
}

impl StoreOpts {
    /// `--root`, `$CC_ROOT`, else the default for root or for the user.
    pub fn path(&self) -> PathBuf {
        self.root
            .clone()
            .unwrap_or_else(crate::rootless::default_store)
    }

    /// Opens the store, finishing first what killed programs left of
    /// container records (one stat when there is nothing).
    pub fn open(&self) -> Result<Store> {
        let store = Store::open(&self.path())?;
        crate::container::collect(&store);
        Ok(store)
    }
}

/// `--format`: docker's words `table` (the default table) and `json` (one
/// object per line, docker's field names), or a Go template, `table `
/// first for a header line and aligned columns (lib/src/template).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Template {
        text: String,
        table: bool,
    },
}

impl std::str::FromStr for Format {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> std::result::Result<Format, Self::Err> {
        Ok(match template::Spec::of(s) {
            template::Spec::Table => Format::Table,
            template::Spec::Json => Format::Json,
            template::Spec::Template { text, table } => Format::Template { text, table },
        })
    }
}

impl Format {
    /// The template given, parsed (None for the words `table` and `json`).
    pub fn template(&self) -> Result<Option<Template>> {
        match self {
            Format::Template { text, .. } => Template::parse(text)
                .map(Some)
                .map_err(|e| Error::Template(e.0)),
            _ => Ok(None),
        }
    }

    /// The same without a table: for programs that print one object (or
    /// one per argument), whose `table ` would have nothing to align.
    pub fn without_table(self) -> Format {
        match self {
            Format::Template { text, .. } => Format::Template { text, table: false },
            other => other,
        }
    }

    /// Whether a template names `field` (docker computes `.Size` only then).
    pub fn uses(&self, field: &str) -> bool {
        matches!(self.template(), Ok(Some(t)) if t.uses(field))
    }

    /// Prints `rows` (docker's field names as keys) as the format says.
    pub fn print(&self, cols: &Columns, rows: &[serde_json::Value]) -> Result<()> {
        self.print_with(cols, rows, &|_, _, _| None)
    }

    pub fn print_with(
        &self,
        cols: &Columns,
        rows: &[serde_json::Value],
        methods: RowMethods,
    ) -> Result<()> {
        let (template, table) = match self {
            Format::Json => {
                for r in rows {
                    print_json(r)?;
                }
                return Ok(());
            }
            Format::Table => (Template::parse(cols.table), true),
            Format::Template { text, table } => (Template::parse(text), *table),
        };
        let template = template.map_err(|e| Error::Template(e.0))?;
        let out = template::Rows {
            template: &template,
            table,
            headers: cols.fields,
        }
        .render(rows, methods)
        .map_err(|e| Error::Template(e.0))?;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        Ok(())
    }
}

/// Runs a program whose failures exit 1 (or the error's own code).
pub fn main<A: Parser>(run: fn(A) -> Result<ExitCode>) -> ExitCode {
    main_with(1, run)
}

/// Runs a program; `failure` is the code for errors without a code of their
/// own (125 for cc-run and cc-exec, which keep 1..124 for the command).
pub fn main_with<A: Parser>(failure: u8, run: fn(A) -> Result<ExitCode>) -> ExitCode {
    // Programs that start containers (cc-run, cc-start, cc-restart) re-run
    // their own binary as the container's monitor.
    if let Some(code) = crate::monitor::main_if_monitor() {
        return code;
    }
    restore_sigpipe();
    let name = A::command().get_name().to_string();
    let _ = PROGRAM.set(name.clone());
    // A flag given twice is given (`cc-run -d -dit`), the last value of
    // an option wins, as docker's parser has it; lists still add up.
    let parsed = A::command()
        .args_override_self(true)
        .try_get_matches()
        .and_then(|mut m| A::from_arg_matches_mut(&mut m));
    let args = match parsed {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(0);
        }
        Err(e) => {
            eprintln!("{name}: {} (see {name} --help)", clap_message(&e));
            return ExitCode::from(usage_code(failure));
        }
    };
    // An ordinary user's program joins the user's namespace first.
    if let Err(e) = crate::rootless::enter(&name) {
        print_error(&e);
        return ExitCode::from(code_for(&e, failure));
    }
    let result = run(args);
    let _ = std::io::stdout().flush();
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            ExitCode::from(code_for(&e, failure))
        }
    }
}

/// A usage error of clap's as one line: its first paragraph without the
/// `error: ` prefix, joined, and without the tips and usage that follow.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let words: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
        .map(str::trim)
        .collect();
    let joined = words.join(" ");
    joined
        .strip_prefix("error: ")
        .unwrap_or(&joined)
        .to_string()
}

static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The running program's name, for messages.
pub fn program() -> &'static str {
    PROGRAM.get().map(|s| s.as_str()).unwrap_or("cc")
}

/// Runs `f` on each argument, printing each failure as it comes and going
/// on; exits with the one failure's own code, or 1 when several arguments
/// were given and any failed (docs/conventions.md).
pub fn each(args: &[String], mut f: impl FnMut(&str) -> Result<()>) -> ExitCode {
    let mut code = 0u8;
    for a in args {
        if let Err(e) = f(a) {
            print_error(&e);
            code = if args.len() == 1 { e.code() } else { 1 };
        }
    }
    ExitCode::from(code)
}

/// The one way every program prints an error: `cc-x: what failed: why`,
/// on one line.
pub fn print_error(e: &Error) {
    eprintln!("{}: {}", program(), one_line(&e.to_string()));
}

/// Prints why a container's process did not start and gives the exit code
/// cc-run and cc-exec have for it (125 cc failed, 126, 127).
pub fn failed(f: &Failure) -> ExitCode {
    print_error(&f.error);
    ExitCode::from(f.code)
}

/// An error message as one printable line: newlines and other control
/// characters (from a hostile tar header, say) are escaped.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Usage errors are 2 everywhere, except for cc-run and cc-exec where docker
/// and podman use 125 so that 1..124 stay the command's.
fn usage_code(failure: u8) -> u8 {
    if failure == 1 {
        2
    } else {
        failure
    }
}

pub fn code_for(e: &Error, failure: u8) -> u8 {
    if failure == 1 {
        e.code()
    } else {
        failure
    }
}

/// Rust ignores SIGPIPE, so `cc-images | head -1` would fail with EPIPE
/// messages; a Unix tool dies quietly instead.
fn restore_sigpipe() {
    // SAFETY: setting a signal to its default disposition has no handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Prints one JSON object on its own line (no HTML escaping: serde_json
/// never escapes `<>&`).
pub fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let s = serde_json::to_string(v).map_err(Error::internal)?;
    println!("{s}");
    Ok(())
}

/// Prints rows as columns separated by at least three spaces, like docker.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{:<w$}   ", c, w = width[i]));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(|s| s.as_str()).collect());
    }
}

/// Sizes as docker prints them: 4.26MB (decimal units).
pub fn human_size(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        return format!("{n}B");
    }
    // Three significant digits, as docker's HumanSizeWithPrecision(n, 3)
    // prints with Go's %.3g: 1.98MB, 12.3kB, 105kB.
    let whole = (v as u64).to_string().len();
    let s = format!("{:.*}", 3usize.saturating_sub(whole), v);
    // Only a fraction's zeros go: 100kB stays 100kB.
    match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.').to_string() + units[i],
        false => s + units[i],
    }
}

/// docker's question before a prune: `warning` on stderr, then "Are you
/// sure"; only y or yes read from stdin goes on.
pub fn confirmed(warning: &str) -> Result<bool> {
    use std::io::BufRead;
    eprint!("{warning}\nAre you sure you want to continue? [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("read", "stdin", e))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Reads ids from stdin when the only argument is `-`.
pub fn expand_stdin(args: Vec<String>) -> Vec<String> {
    if args.len() == 1 && args[0] == "-" {
        std::io::stdin()
            .lines()
            .map_while(|l| l.ok())
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_docker_prints_them() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(4_260_000), "4.26MB");
        assert_eq!(human_size(1_234_567_890), "1.23GB");
        assert_eq!(human_size(12_345), "12.3kB");
        assert_eq!(human_size(105_005), "105kB");
        assert_eq!(human_size(1_984_000), "1.98MB");
        assert_eq!(human_size(100_000), "100kB");
        assert_eq!(human_size(10_000_000), "10MB");
    }
}
