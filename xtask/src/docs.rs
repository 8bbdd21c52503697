//! The hand-written docs checked against the programs' clap definitions,
//! so that they cannot promise an option that is gone or forget a new one:
//!
//! - README.md's "Options of cc-run" names every option cc-run has, and
//!   only those;
//! - every program has a synopsis in man/cc.7 (a `.B cc\-<verb> ...` line)
//!   and each names only options that program has.
//!
//! An option is its `--long` or `-s` spelling (or a visible alias); clap's
//! own --help and --version are left out, and so are hidden options.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use clap::ArgAction;

use crate::{Program, PROGRAMS};

/// The README section that lists cc-run's options.
const README_SECTION: &str = "## Options of cc-run";

/// Everything in README.md and man/cc.7 that disagrees with the
/// programs, one line each. Empty when all is well.
pub fn check(root: &Path) -> Vec<String> {
    check_with(root, PROGRAMS)
}

fn check_with(root: &Path, programs: &[Program]) -> Vec<String> {
    let mut problems = Vec::new();
    match fs::read_to_string(root.join("README.md")) {
        Ok(text) => {
            if let Some(run) = programs.iter().find(|p| p.name == "cc-run") {
                problems.extend(check_readme(&text, &options_of(&(run.command)())));
            }
        }
        Err(e) => problems.push(format!("README.md: cannot read: {e}")),
    }
    match fs::read_to_string(root.join("man/cc.7")) {
        Ok(text) => problems.extend(check_synopses(&text, programs)),
        Err(e) => problems.push(format!("man/cc.7: cannot read: {e}")),
    }
    problems
}

/// The options of README's section against cc-run's own, both ways.
fn check_readme(text: &str, run: &[Opt]) -> Vec<String> {
    let Some(section) = section(text, README_SECTION) else {
        return vec![format!("README.md: no \"{README_SECTION}\" section")];
    };
    let named = option_words(section);
    let mut problems = Vec::new();
    for o in run {
        if !o.spellings.iter().any(|s| named.contains(s)) {
            problems.push(format!(
                "README.md: \"{README_SECTION}\" lacks {}, which cc-run has",
                o.spellings[0]
            ));
        }
    }
    for word in &named {
        if !run.iter().any(|o| o.spellings.contains(word)) {
            problems.push(format!(
                "README.md: \"{README_SECTION}\" names {word}, which cc-run does not have"
            ));
        }
    }
    problems
}

/// Every program's synopsis lines in cc(7): the program exists, has one,
/// and every option a line names is one of its own.
fn check_synopses(man: &str, programs: &[Program]) -> Vec<String> {
    let synopses = synopses(man);
    let mut problems = Vec::new();
    for p in programs {
        if !synopses.iter().any(|(_, name, _)| name == p.name) {
            problems.push(format!("man/cc.7: no synopsis of {}", p.name));
        }
    }
    for (line, name, rest) in &synopses {
        let Some(p) = programs.iter().find(|p| p.name == name) else {
            problems.push(format!(
                "man/cc.7:{line}: a synopsis of {name}, which is not a program"
            ));
            continue;
        };
        let opts = options_of(&(p.command)());
        for word in option_words(rest) {
            if !opts.iter().any(|o| o.spellings.contains(&word)) {
                problems.push(format!(
                    "man/cc.7:{line}: the synopsis of {name} names {word}, which {name} does not have"
                ));
            }
        }
    }
    problems
}

/// One option: its spellings, the long one first when it has one.
#[derive(Debug)]
struct Opt {
    spellings: Vec<String>,
}

/// The options of `cmd` and of its subcommands (cc-net's and cc-oci's
/// verbs): a synopsis may name any of them.
fn options_of(cmd: &clap::Command) -> Vec<Opt> {
    let mut out = Vec::new();
    for a in cmd.get_arguments() {
        // --help and --version, clap's or declared (cc-run's --help,
        // whose -h is --hostname), are every program's.
        let builtin = matches!(
            a.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        );
        if a.is_positional() || a.is_hide_set() || builtin {
            continue;
        }
        let mut spellings: Vec<String> = Vec::new();
        if let Some(l) = a.get_long() {
            spellings.push(format!("--{l}"));
        }
        for l in a.get_visible_aliases().unwrap_or_default() {
            spellings.push(format!("--{l}"));
        }
        if let Some(s) = a.get_short() {
            spellings.push(format!("-{s}"));
        }
        for s in a.get_visible_short_aliases().unwrap_or_default() {
            spellings.push(format!("-{s}"));
        }
        out.push(Opt { spellings });
    }
    for sub in cmd.get_subcommands() {
        out.extend(options_of(sub));
    }
    out
}

/// The text of a markdown section, from its heading to the next `## `.
fn section<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let start = text.find(&format!("\n{heading}\n"))? + heading.len() + 2;
    let rest = &text[start..];
    Some(&rest[..rest.find("\n## ").unwrap_or(rest.len())])
}

/// cc(7)'s synopsis lines (`.B cc\-<verb> ...`), as plain text: the line
/// number, the program and the rest of the line.
fn synopses(man: &str) -> Vec<(usize, String, String)> {
    man.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let plain = roff_plain(l.strip_prefix(".B ")?);
            let (name, rest) = plain.split_once(' ').unwrap_or((&plain, ""));
            name.starts_with("cc-")
                .then(|| (i + 1, name.to_string(), rest.to_string()))
        })
        .collect()
}

/// A roff line without its font changes, with `\-` as `-`.
fn roff_plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => {
                chars.next();
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The options a text names: words that start with `-` or `--` and a
/// letter, cut at `=` or any other character an option name lacks.
/// Words are split at white space and at `` ` `` `/` `[` `]` `|` `(` `)`
/// `,`, so `-h/--hostname` and `[--pause=true|false]` count.
fn option_words(text: &str) -> BTreeSet<String> {
    let is_sep = |c: char| c.is_whitespace() || "`/[]|(),".contains(c);
    text.split(is_sep)
        .filter_map(|w| {
            let (dashes, body) = match w.strip_prefix("--") {
                Some(b) => ("--", b),
                None => ("-", w.strip_prefix('-')?),
            };
            let name: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            // `-xyz` is not one option: a bundle of short ones, or prose.
            let whole = dashes == "--" || name.len() == 1;
            let letter = name.starts_with(|c: char| c.is_ascii_alphabetic());
            (whole && letter).then(|| format!("{dashes}{name}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    #[command(name = "cc-run", version, disable_help_flag = true)]
    struct Run {
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
        #[arg(short, long)]
        detach: bool,
        #[arg(short = 'h', long)]
        hostname: Option<String>,
        #[arg(long, value_name = "true|false")]
        pause: Option<bool>,
        image: String,
    }

    fn run() -> clap::Command {
        <Run as clap::CommandFactory>::command()
    }

    const TEST_PROGRAMS: &[Program] = &[Program {
        name: "cc-run",
        command: run,
    }];

    #[test]
    fn words_are_the_options_a_text_names() {
        let w = option_words("`-d -h/--hostname NAME [--pause=true|false] -1 cc-run -xyz --a-b`");
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        assert_eq!(w, ["--a-b", "--hostname", "--pause", "-d", "-h"]);
    }

    #[test]
    fn roff_loses_its_fonts() {
        assert_eq!(
            roff_plain(r"cc\-run \fR[\fB\-d\fR] \fIIMAGE\fR"),
            "cc-run [-d] IMAGE"
        );
    }

    #[test]
    fn readme_and_man_page_drift_is_reported_both_ways() {
        let t = std::env::temp_dir().join(format!("xtask-docs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&t);
        fs::create_dir_all(t.join("man")).unwrap();
        fs::write(
            t.join("README.md"),
            "# x\n\n## Options of cc-run\n\n`-d -h/--hostname NAME --gone`\n\n## Next\n--pause\n",
        )
        .unwrap();
        fs::write(
            t.join("man/cc.7"),
            ".TP\n.B cc\\-run \\fR[\\fB\\-\\-pause=\\fRtrue|false] [\\fB\\-x\\fR] \\fIIMAGE\\fR\n.B cc\\-nope \\fB\\-q\\fR\n",
        )
        .unwrap();
        let problems = check_with(&t, TEST_PROGRAMS).join("\n");
        assert!(
            problems
                .contains("README.md: \"## Options of cc-run\" lacks --pause, which cc-run has"),
            "{problems}"
        );
        assert!(
            problems.contains("names --gone, which cc-run does not have"),
            "{problems}"
        );
        assert!(
            !problems.contains("--help") && !problems.contains("--version"),
            "{problems}"
        );
        assert!(
            problems.contains(
                "man/cc.7:2: the synopsis of cc-run names -x, which cc-run does not have"
            ),
            "{problems}"
        );
        assert!(!problems.contains("names --pause"), "{problems}");
        assert!(
            problems.contains("man/cc.7:3: a synopsis of cc-nope, which is not a program"),
            "{problems}"
        );
        fs::write(t.join("man/cc.7"), "nothing\n").unwrap();
        let problems = check_with(&t, TEST_PROGRAMS).join("\n");
        assert!(
            problems.contains("man/cc.7: no synopsis of cc-run"),
            "{problems}"
        );
        fs::remove_dir_all(&t).unwrap();
    }
}
