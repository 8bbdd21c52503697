//! Each program's EXAMPLES, kept in one place: `docs/examples/<program>.sh`.
//!
//! The file is a shell script, so tests/readme.rs runs it against a fresh
//! store (with the `base` image the set-up makes) and an example cannot rot.
//! It is a series of paragraphs separated by blank lines; a paragraph is
//! its description (the leading `# ` lines) and the commands that follow:
//!
//! ```sh
//! # Run a command in a throw-away container.
//! cc-run --rm base echo hello
//! ```
//!
//! A paragraph whose description starts with `# (not run: REASON)` is shown
//! but not run by the tests (an interactive session); keep it rare.
//!
//! A new program needs its file: `xtask check` fails without one.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Program;

/// Where the example files are, relative to the workspace root.
pub const DIR: &str = "docs/examples";

/// The mark of a paragraph the tests do not run.
pub const NOT_RUN: &str = "(not run: ";

/// One example: what it shows, the command lines, and why the tests do
/// not run it (rare).
#[derive(Debug, PartialEq)]
pub struct Example {
    pub description: String,
    pub commands: Vec<String>,
    pub not_run: Option<String>,
}

/// The example file of `program`.
pub fn path(root: &Path, program: &str) -> PathBuf {
    root.join(DIR).join(format!("{program}.sh"))
}

/// The examples of a file's text, in order. A paragraph without commands
/// (a file's header comment) is no example.
pub fn parse(text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let mut description = Vec::new();
        let mut commands = Vec::new();
        for line in para.lines().filter(|l| !l.trim().is_empty()) {
            match line.strip_prefix('#') {
                Some(c) if commands.is_empty() && !c.starts_with('!') => {
                    description.push(c.trim().to_string())
                }
                Some(_) if commands.is_empty() => {}
                _ => commands.push(line.to_string()),
            }
        }
        if commands.is_empty() {
            continue;
        }
        let mut description = description.join(" ");
        let mut not_run = None;
        if let Some(rest) = description.strip_prefix(NOT_RUN) {
            if let Some((reason, text)) = rest.split_once(')') {
                not_run = Some(reason.to_string());
                description = text.trim().to_string();
            }
        }
        out.push(Example {
            description,
            commands,
            not_run,
        });
    }
    out
}

/// The EXAMPLES section of a man page: each description, then its
/// commands as an example block.
pub fn roff(examples: &[Example]) -> String {
    let mut s = String::from(".SH EXAMPLES\n");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s += ".PP\n";
        }
        s += &escape(&e.description);
        s += "\n.PP\n.EX\n";
        for c in &e.commands {
            s += &escape(c);
            s.push('\n');
        }
        s += ".EE\n";
    }
    s
}

/// Text as roff shows it literally: `\` as `\e`, `-` as a minus sign (so
/// that a copied option is an ASCII hyphen), `'` as a plain quote, and no
/// line taken for a request.
fn escape(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        match c {
            '\\' => s += r"\e",
            '-' => s += r"\-",
            '\'' => s += r"\(aq",
            _ => s.push(c),
        }
    }
    if s.starts_with('.') {
        s.insert_str(0, r"\&");
    }
    s
}

/// Programs without examples, and example files of no program.
pub fn check(root: &Path, programs: &[Program]) -> Vec<String> {
    let mut problems = Vec::new();
    for p in programs {
        let file = path(root, p.name);
        let rel = format!("{DIR}/{}.sh", p.name);
        match fs::read_to_string(&file) {
            Ok(text) if parse(&text).is_empty() => {
                problems.push(format!("{rel}: no examples (its man page needs some)"))
            }
            Ok(_) => {}
            Err(_) => problems.push(format!(
                "{rel}: missing: every program's man page has EXAMPLES (see xtask/src/examples.rs)"
            )),
        }
    }
    for e in fs::read_dir(root.join(DIR)).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let program = name.strip_suffix(".sh").unwrap_or(&name);
        if !programs.iter().any(|p| p.name == program) {
            problems.push(format!("{DIR}/{name}: examples of no program"));
        }
    }
    problems
}

/// The examples of `program` from its file under `root` (none when it has
/// no file: `check` says so).
pub fn of(root: &Path, program: &str) -> Vec<Example> {
    fs::read_to_string(path(root, program))
        .map(|t| parse(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_description_then_commands() {
        let text = "#!/bin/sh\n# The header.\n\n# Run it.\n# Twice.\ncc-run --rm base echo 'a\\b'\n.x\n\n# (not run: a terminal) A shell.\ncc-run -it base\n";
        let ex = parse(text);
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].description, "Run it. Twice.");
        assert_eq!(ex[0].commands, ["cc-run --rm base echo 'a\\b'", ".x"]);
        assert_eq!(ex[1].description, "A shell.");
        assert_eq!(ex[1].not_run.as_deref(), Some("a terminal"));
        assert_eq!(ex[0].not_run, None);
        let r = roff(&ex[..1]);
        assert_eq!(
            r,
            ".SH EXAMPLES\nRun it. Twice.\n.PP\n.EX\ncc\\-run \\-\\-rm base echo \\(aqa\\eb\\(aq\n\\&.x\n.EE\n"
        );
    }
}
