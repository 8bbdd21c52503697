//! `cargo run -p xtask -- man|completions|check ...`
//!
//! - `man`: writes man/cc-<verb>.1 for every program
//! - `completions`: writes completions/{bash,zsh,fish}/ for every program
//! - `check`: lists generated files that are out of date, README.md and
//!   man/cc.7 where they disagree with the programs' options, and bins/cc-*
//!   folders missing from the program list; exits 1 if there are any

use std::process::ExitCode;

use xtask::{check, workspace_root, write, Kind};

const USAGE: &str = "usage: cargo run -p xtask -- (man | completions | check)...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let root = workspace_root();
    let mut code = ExitCode::SUCCESS;
    for a in &args {
        let kind = match a.as_str() {
            "man" => Kind::Man,
            "completions" => Kind::Completions,
            "check" => {
                let problems = check(&root);
                for p in &problems {
                    eprintln!("xtask check: {p}");
                }
                if !problems.is_empty() {
                    eprintln!("xtask check: generated files: run `cargo run -p xtask -- man completions` and commit the result; README.md and man/cc.7: edit them");
                    code = ExitCode::from(1);
                }
                continue;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                continue;
            }
            other => {
                eprintln!("xtask: unknown task '{other}'\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        match write(&root, kind) {
            Ok(changed) => {
                for p in changed {
                    println!("{}", p.display());
                }
            }
            Err(e) => {
                eprintln!("xtask {a}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    code
}
