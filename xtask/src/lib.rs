//! Man pages and shell completions, generated from each program's
//! `command()` so that `--help`, `man cc-run` and tab completion never drift.
//!
//! The programs come from one list: the `cc-*` path dependencies in
//! xtask/Cargo.toml (build.rs turns them into [`PROGRAMS`]). To add a
//! program, add its line there, write its examples in
//! docs/examples/<program>.sh (examples.rs), and run
//! `cargo run -p xtask -- man completions`.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

mod docs;
pub mod examples;
mod layers;
mod store_words;

/// One program: its name and its clap definition.
pub struct Program {
    pub name: &'static str,
    pub command: fn() -> clap::Command,
}

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

/// What to generate: man pages, completions, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Man,
    Completions,
}

/// The shells we write completions for, each with its folder under
/// completions/ and the file name its loader looks for.
const SHELLS: &[(Shell, &str)] = &[
    (Shell::Bash, "bash"),
    (Shell::Zsh, "zsh"),
    (Shell::Fish, "fish"),
];

/// The workspace root (this package's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Every generated file of `kind`, by its path relative to the workspace
/// root, with the bytes it should hold.
pub fn generate(kind: Kind) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for p in PROGRAMS {
        match kind {
            Kind::Man => {
                files.insert(PathBuf::from(format!("man/{}.1", p.name)), man_page(p));
            }
            Kind::Completions => {
                for &(shell, dir) in SHELLS {
                    let mut buf = Vec::new();
                    clap_complete::generate(shell, &mut (p.command)(), p.name, &mut buf);
                    store_words::add(shell, &(p.command)(), p.name, &mut buf);
                    files.insert(
                        Path::new("completions")
                            .join(dir)
                            .join(file_name(shell, p.name)),
                        buf,
                    );
                }
            }
        }
    }
    files
}

/// The name each shell's completion loader expects for a program.
fn file_name(shell: Shell, program: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{program}"),
        Shell::Fish => format!("{program}.fish"),
        _ => program.to_string(),
    }
}

/// The page clap_mangen renders, plus the program's EXAMPLES (from
/// docs/examples/, see examples.rs), its EXIT STATUS and a SEE ALSO
/// pointing at cc(7), where the store layout, exit codes and recipes live,
/// and at the other programs.
fn man_page(p: &Program) -> Vec<u8> {
    let cmd = (p.command)();
    let source = format!(
        "cc {}",
        cmd.get_version().unwrap_or(env!("CARGO_PKG_VERSION"))
    );
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(source)
        .manual("cc manual")
        .render(&mut buf)
        .expect("render to a Vec cannot fail");
    let examples = examples::of(&workspace_root(), p.name);
    if !examples.is_empty() {
        buf.extend_from_slice(examples::roff(&examples).as_bytes());
    }
    buf.extend_from_slice(exit_status(p.name).as_bytes());
    buf.extend_from_slice(b".SH \"SEE ALSO\"\n");
    let mut refs = vec![r"\fBcc\fR(7)".to_string()];
    refs.extend(
        PROGRAMS
            .iter()
            .filter(|o| o.name != p.name)
            .map(|o| format!(r"\fB{}\fR(1)", o.name.replace('-', r"\-"))),
    );
    buf.extend_from_slice(refs.join(",\n").as_bytes());
    buf.push(b'\n');
    buf
}

/// The page's EXIT STATUS: cc's codes tell failures apart where docker
/// gives 1 for all (cc(7) has the whole table).
fn exit_status(program: &str) -> String {
    let item = |code: &str, text: &str| format!(".TP\n.B {code}\n{text}\n");
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    match program {
        "cc-run" | "cc-exec" => {
            s += &item("125", "cc itself failed, a usage error included.");
            s += &item("126", "The command was found but cannot be executed.");
            s += &item("127", "The command was not found.");
            s += &item(
                r"128+\fIN",
                r"A signal \fIN\fR ended the command (137 for SIGKILL, as after an out\-of\-memory kill).",
            );
            s += ".PP\nOtherwise the command's own status (0 when it succeeded); with \\fB\\-d\\fR 0 once it runs.\n";
        }
        "cc-oci" => {
            s += &item("0", "Success.");
            s += &item(
                "1",
                "Any failure, as runc (the error is on stderr or in \\fB\\-\\-log\\fR).",
            );
        }
        _ => {
            s += &item("0", "Success.");
            s += &item(
                "1",
                "Failure; with several arguments, any of them failed (each is tried).",
            );
            s += &item(
                "2",
                "Usage: an unknown option, a missing argument, a malformed value.",
            );
            s += &item(
                "3",
                "Not found: no such image, container, registry object or file.",
            );
            s += &item(
                "4",
                "Wrong state: for example a container that is not running.",
            );
            if matches!(program, "cc-start" | "cc-attach") {
                s += ".PP\nAttached, the container's own exit code when it ends.\n";
            }
            s +=
                ".PP\ndocker exits 1 for all of 1 to 4; cc's codes let a script tell them apart.\n";
        }
    }
    s
}

/// Files of `kind` that exist but would not be generated (a program that
/// was removed from the list): generated-looking names only, so the
/// hand-written cc.7 is never touched.
fn stale(root: &Path, kind: Kind, want: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = match kind {
        Kind::Man => vec!["man".into()],
        Kind::Completions => SHELLS
            .iter()
            .map(|(_, d)| Path::new("completions").join(d))
            .collect(),
    };
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let rel = dir.join(e.file_name());
            let name = e.file_name().to_string_lossy().into_owned();
            let generated =
                kind == Kind::Completions || (name.starts_with("cc-") && name.ends_with(".1"));
            if generated && !want.contains_key(&rel) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// Writes the generated files of `kind` under `root` and removes stale
/// ones; returns the paths it changed.
pub fn write(root: &Path, kind: Kind) -> io::Result<Vec<PathBuf>> {
    let want = generate(kind);
    let mut changed = Vec::new();
    for (rel, bytes) in &want {
        let path = root.join(rel);
        if fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            fs::create_dir_all(path.parent().expect("generated paths have a folder"))?;
            fs::write(&path, bytes)?;
            changed.push(rel.clone());
        }
    }
    for rel in stale(root, kind, &want) {
        fs::remove_file(root.join(&rel))?;
        changed.push(rel);
    }
    Ok(changed)
}

/// Everything that is out of date under `root`, one line each: generated
/// files that differ, are missing or are stale, README.md and man/cc.7
/// where they disagree with the programs' options (docs.rs), programs
/// without examples (examples.rs), and bins/cc-* folders that the program
/// list lacks. Empty when all is well.
pub fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for kind in [Kind::Man, Kind::Completions] {
        let want = generate(kind);
        for (rel, bytes) in &want {
            match fs::read(root.join(rel)) {
                Ok(have) if have == *bytes => {}
                Ok(_) => problems.push(format!(
                    "{}: differs from what would be generated",
                    rel.display()
                )),
                Err(_) => problems.push(format!("{}: missing", rel.display())),
            }
        }
        for rel in stale(root, kind, &want) {
            problems.push(format!(
                "{}: not generated by any program (stale)",
                rel.display()
            ));
        }
    }
    problems.extend(docs::check(root));
    problems.extend(examples::check(root, PROGRAMS));
    problems.extend(layers::check(root));
    for name in unlisted_programs(root) {
        problems.push(format!(
            "bins/{name}: not in xtask's program list (add `{name} = {{ path = \"../bins/{name}\" }}` to xtask/Cargo.toml)"
        ));
    }
    problems
}

/// bins/cc-* folders that are not in [`PROGRAMS`].
fn unlisted_programs(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(root.join("bins"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cc-") && !PROGRAMS.iter().any(|p| p.name == n))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_examples_then_an_exit_status_then_see_also() {
        for p in PROGRAMS {
            let page = String::from_utf8(man_page(p)).unwrap();
            let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{}: no {s}", p.name));
            let order = [
                at(".SH EXAMPLES\n"),
                at(".SH \"EXIT STATUS\""),
                at(".SH \"SEE ALSO\""),
            ];
            assert!(order.is_sorted(), "{}: {order:?}", p.name);
        }
    }

    #[test]
    fn every_program_is_named_as_its_package() {
        for p in PROGRAMS {
            assert_eq!((p.command)().get_name(), p.name);
        }
    }

    #[test]
    fn check_reports_drift_and_unlisted_programs() {
        let t = tempfile_dir();
        fs::create_dir_all(t.join("bins/cc-new")).unwrap();
        write(&t, Kind::Man).unwrap();
        write(&t, Kind::Completions).unwrap();
        fs::write(t.join("man/cc-run.1"), "old").unwrap();
        fs::write(t.join("man/cc-gone.1"), "old").unwrap();
        fs::write(t.join("man/cc.7"), "hand-written").unwrap();
        let problems = check(&t).join("\n");
        assert!(problems.contains("man/cc-run.1: differs"), "{problems}");
        assert!(
            problems.contains("man/cc-gone.1: not generated"),
            "{problems}"
        );
        assert!(
            problems.contains("bins/cc-new: not in xtask's program list"),
            "{problems}"
        );
        assert!(
            problems.contains("docs/examples/cc-run.sh: missing"),
            "{problems}"
        );
        // The hand-written page is checked by docs.rs, never as generated.
        assert!(
            !problems.contains("cc.7: differs") && !problems.contains("cc.7: not generated"),
            "{problems}"
        );
        write(&t, Kind::Man).unwrap();
        assert!(!t.join("man/cc-gone.1").exists() && t.join("man/cc.7").exists());
        fs::remove_dir_all(&t).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }
}
