//! The docs run as written: every ```sh block of README.md, every
//! program's EXAMPLES (docs/examples/<program>.sh, which its man page
//! shows) and cc(7)'s EXAMPLES, run against a fresh store holding the `base` image the set-up
//! makes (`scripts/mkimage-busybox.sh base`), so that they cannot rot.
//!
//! - A block runs under `bash -e -o pipefail` from a scratch folder that
//!   holds a copy of the clone's `scripts/` (the README's commands are typed at a
//!   clone's root); a failing command fails the test with `FILE:LINE`.
//!   README blocks run in order in one store (later ones use what earlier
//!   ones made); each example file in a store of its own.
//! - `localhost:5000` is a registry this test starts (Debian's
//!   docker-registry on 127.0.0.1 and a free port: the name is replaced by
//!   its address); `REGISTRY_PASSWORD` is set and `REGISTRY_AUTH_FILE` is a
//!   file of the test's own. `CC_PULL=never`: nothing reaches another host.
//! - Blocks that cannot run here (installing, Docker Hub) are marked, in
//!   README.md by a `<!-- not run: REASON -->` line just before the fence,
//!   in an example file by a description starting `(not run: REASON)`; the
//!   test prints how many it left out and why; under CI=true only the
//!   reasons in CANNOT_RUN (no test machine can do them) are accepted.
//! - Afterwards the test removes the containers and the store's network and
//!   checks that nothing is left: mounts, cgroups, records, the bridge, its
//!   nftables table, the containers' veths, cc-oci's containers, the ports.
//!
//! `CC_DOCS_ONLY=cc-ps` runs only the example files whose path has it
//! (`cc.7` for cc(7)'s).

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    assert_no_leaks, bin_dir, link_exists, root_or_skip, scaled, stdout, veth_of, Env, Registry,
};

/// How long one block may take.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(180);

/// The README's mark of a block the test does not run.
const README_NOT_RUN: &str = "<!-- not run: ";

/// An example paragraph's mark (xtask/src/examples.rs shows it without).
const EXAMPLE_NOT_RUN: &str = "# (not run: ";

/// Held by each test that runs blocks: both publish port 8080.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The registry name the docs use.
const DOC_REGISTRY: &str = "localhost:5000";

/// The workspace root: the clone the README is read in.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// One script to run: where it comes from, its text with every line at its
/// line number in the file (so `$LINENO` is the file's line), and why it is
/// not run when it is not.
struct Block {
    file: String,
    line: usize,
    script: String,
    not_run: Option<String>,
}

/// README.md's ```sh blocks, each as a script whose lines sit at their
/// README line numbers.
fn readme_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```sh" {
            i += 1;
            continue;
        }
        let start = i + 1;
        let end = (start..lines.len())
            .find(|&j| lines[j].starts_with("```"))
            .expect("README.md: a ```sh block without its end");
        let not_run = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix(README_NOT_RUN))
            .map(|r| r.trim_end_matches("-->").trim().to_string());
        // Line numbers are 1-based: the block's first line is start + 1.
        let mut script = "\n".repeat(start);
        for l in &lines[start..end] {
            script.push_str(l);
            script.push('\n');
        }
        blocks.push(Block {
            file: "README.md".into(),
            line: start + 1,
            script,
            not_run,
        });
        i = end + 1;
    }
    blocks
}

/// An example file as one script: its paragraphs marked not run are blank
/// lines (and listed apart), the others stay at their line numbers.
fn example_blocks(file: &str, text: &str) -> Vec<Block> {
    let mut script = String::new();
    let mut skipped = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut flush = |para: &mut Vec<&str>, script: &mut String, at: usize| {
        let reason = para
            .first()
            .and_then(|l| l.strip_prefix(EXAMPLE_NOT_RUN))
            .and_then(|r| r.split_once(')'))
            .map(|(r, _)| r.to_string());
        for l in para.iter() {
            script.push_str(if reason.is_some() { "" } else { l });
            script.push('\n');
        }
        if let Some(r) = reason {
            skipped.push(Block {
                file: file.into(),
                line: at - para.len() + 1,
                script: String::new(),
                not_run: Some(r),
            });
        }
        para.clear();
    };
    for (n, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            flush(&mut para, &mut script, n);
            script.push('\n');
        } else {
            para.push(l);
        }
    }
    let n = text.lines().count();
    flush(&mut para, &mut script, n);
    let mut out = vec![Block {
        file: file.into(),
        line: 1,
        script,
        not_run: None,
    }];
    out.extend(skipped);
    out
}

/// cc(7)'s EXAMPLES (hand-written roff) as one script: the lines between
/// `.EX` and `.EE`, as plain text, at their line numbers.
fn cc7_examples(text: &str) -> Block {
    let mut script = String::new();
    let mut in_examples = false;
    let mut in_ex = false;
    for l in text.lines() {
        if l.starts_with(".SH ") {
            in_examples = l == ".SH EXAMPLES";
        }
        match l {
            ".EX" => in_ex = true,
            ".EE" => in_ex = false,
            _ if in_examples && in_ex => script.push_str(&roff_plain(l)),
            _ => {}
        }
        script.push('\n');
    }
    Block {
        file: "man/cc.7".into(),
        line: 1,
        script,
        not_run: None,
    }
}

/// A line of an roff example as typed: `\-` is `-`, `\(aq` a quote, `\e` a
/// backslash, `\&` nothing.
fn roff_plain(line: &str) -> String {
    line.replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\&", "")
        .replace("\\e", "\\")
}

/// The world the blocks run in: a store with `base`, a scratch folder with
/// the clone's scripts/, the registry.
struct World<'a> {
    env: Env,
    reg: &'a Registry,
    /// cc-oci's containers (default root) before the blocks ran.
    oci_before: Vec<String>,
}

impl<'a> World<'a> {
    fn new(reg: &'a Registry) -> World<'a> {
        let env = Env::new();
        // A copy, not a link: a block may bind the folder into a container.
        let scripts = env.dir.join("scripts");
        fs::create_dir(&scripts).unwrap();
        for e in fs::read_dir(repo().join("scripts")).unwrap().flatten() {
            fs::copy(e.path(), scripts.join(e.file_name())).unwrap();
        }
        let w = World {
            env,
            reg,
            oci_before: oci_ids(),
        };
        let out = w.bash("\nscripts/mkimage-busybox.sh base >/dev/null\n", "set-up");
        assert!(out.is_none(), "making base as the set-up does: {out:?}");
        w
    }

    /// Runs `script` with bash in the scratch folder; None when it
    /// succeeded, else what failed (the ERR trap's `FILE:LINE` and the
    /// end of stderr).
    fn bash(&self, script: &str, file: &str) -> Option<String> {
        let trap = format!(
            "set -eE -o pipefail; trap 'echo \"{file}:$LINENO: exit $?: $BASH_COMMAND\" >&2' ERR;"
        );
        // The trap goes on the first line, which is blank in a README
        // block and a comment in an example file.
        let body = script.replace(DOC_REGISTRY, &self.reg.host);
        let (first, rest) = body.split_once('\n').unwrap_or((&body, ""));
        assert!(
            first.trim().is_empty() || first.starts_with('#'),
            "{file}: the first line must be blank or a comment: the trap takes it"
        );
        let body = format!("{trap}\n{rest}");
        let path = self.env.base().join("block.sh");
        fs::write(&path, body).unwrap();
        let out_path = self.env.base().join("block.out");
        let err_path = self.env.base().join("block.err");
        let path_var = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // Output to files, not pipes: a container the block leaves running
        // (cc-oci gives it the caller's fds) must not hold the test.
        let mut child = Command::new("bash")
            .arg(&path)
            .current_dir(&self.env.dir)
            .env("PATH", path_var)
            .env("CC_ROOT", &self.env.root)
            .env("CC_PULL", "never")
            .env("REGISTRY_PASSWORD", "secret")
            .env("REGISTRY_AUTH_FILE", self.env.base().join("auth.json"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out_path).unwrap())
            .stderr(fs::File::create(&err_path).unwrap())
            .process_group(0)
            .spawn()
            .expect("bash");
        let deadline = Instant::now() + scaled(BLOCK_TIMEOUT);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // What the block started in the background and left (its own
        // process group; containers' monitors have sessions of their own).
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = child.wait();
        let err = fs::read_to_string(&err_path).unwrap_or_default();
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        match status {
            Some(s) if s.success() => None,
            Some(s) => Some(format!("{file}: {s}\n    {}", tail.join("\n    "))),
            None => Some(format!(
                "{file}: still running after {BLOCK_TIMEOUT:?}\n    {}",
                tail.join("\n    ")
            )),
        }
    }

    /// Removes what the blocks left running and the store's network, and
    /// checks that nothing is left of them.
    fn clean_and_check(&self, ports: &[u16]) {
        for id in oci_ids().iter().filter(|i| !self.oci_before.contains(i)) {
            let _ = Command::new(bin_dir().join("cc-oci"))
                .args(["delete", "-f", id])
                .output();
            assert!(!oci_ids().contains(id), "cc-oci container {id} left");
        }
        let ids = self.env.container_ids();
        if !ids.is_empty() {
            let out = self
                .env
                .run("cc-rm", [&["-f".to_string()], &ids[..]].concat());
            assert!(out.status.success(), "cc-rm -f: {}", support::stderr(&out));
        }
        assert_no_leaks(&self.env);
        let bridge = fs::read_to_string(self.env.root.join("net/config.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["Bridge"].as_str().map(String::from));
        if let Some(bridge) = bridge {
            let out = self.env.run("cc-net", ["destroy", "-f"]);
            assert!(
                out.status.success(),
                "cc-net destroy: {}",
                support::stderr(&out)
            );
            assert!(!link_exists(&bridge), "bridge {bridge} left");
            let nft = Command::new("nft")
                .args(["list", "table", "ip", &bridge])
                .output()
                .unwrap();
            assert!(!nft.status.success(), "nft table ip {bridge} left");
        }
        for id in &ids {
            assert!(!link_exists(&veth_of(id)), "veth of {id} left");
        }
        for p in ports {
            assert!(
                std::net::TcpListener::bind(("0.0.0.0", *p)).is_ok(),
                "port {p} still held"
            );
        }
    }
}

/// Host ports the docs publish, when free before the run (each must be
/// free again after).
fn free_doc_ports() -> Vec<u16> {
    [8080]
        .into_iter()
        .filter(|p| std::net::TcpListener::bind(("0.0.0.0", *p)).is_ok())
        .collect()
}

/// cc-oci's containers under its default root.
fn oci_ids() -> Vec<String> {
    let out = Command::new(bin_dir().join("cc-oci"))
        .args(["list", "-q"])
        .output()
        .expect("cc-oci");
    stdout(&out).lines().map(String::from).collect()
}

/// Why a block may be left out: what no test machine may do (reach past
/// loopback, change the host's packages or units, run the suite inside
/// itself) or what needs a person at a terminal. Any other reason fails
/// under CI=true: a block that could run must run there.
const CANNOT_RUN: &[&str] = &[
    "Docker Hub",
    "installs",
    "whole test suite",
    "typed on a terminal",
    "asks on a terminal",
];

fn may_be_left_out(why: &str) -> bool {
    CANNOT_RUN.iter().any(|c| why.contains(c))
}

/// Runs `blocks` in `world`, in order; returns the failures and prints
/// what was left out (a failure under CI=true unless CANNOT_RUN says why).
fn run_blocks(world: &World, blocks: &[Block]) -> Vec<String> {
    let mut failures = Vec::new();
    let ci = std::env::var("CI").as_deref() == Ok("true");
    for b in blocks {
        match &b.not_run {
            Some(why) if ci && !may_be_left_out(why) => failures.push(format!(
                "block at {}:{} is marked not run ({why}), which CI=true does not accept: \
                     run it, or give one of the reasons in CANNOT_RUN",
                b.file, b.line
            )),
            Some(why) => eprintln!("left out {}:{}: not run: {why}", b.file, b.line),
            None => {
                let t = Instant::now();
                if let Some(f) = world.bash(&b.script, &b.file) {
                    failures.push(format!("block at {}:{}: {f}", b.file, b.line));
                }
                eprintln!("ran {}:{} in {:?}", b.file, b.line, t.elapsed());
            }
        }
    }
    let left = blocks.iter().filter(|b| b.not_run.is_some()).count();
    eprintln!("{} blocks run, {left} left out", blocks.len() - left);
    failures
}

#[test]
fn readme_blocks_run_as_written() {
    root_or_skip!();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let text = fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = readme_blocks(&text);
    assert!(blocks.len() > 5, "README.md: few ```sh blocks found");
    let reg = Registry::start();
    let ports = free_doc_ports();
    let world = World::new(&reg);
    let failures = run_blocks(&world, &blocks);
    world.clean_and_check(&ports);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn man_page_examples_run_as_written() {
    root_or_skip!();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo().join("docs/examples");
    // CC_DOCS_ONLY=cc-ps runs only the files whose path has that in it.
    let only = std::env::var("CC_DOCS_ONLY").ok();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .filter(|p| {
            only.as_ref()
                .is_none_or(|o| p.to_string_lossy().contains(o.as_str()))
        })
        .collect();
    files.sort();
    assert!(
        only.is_some() || files.len() > 10,
        "{}: few example files",
        dir.display()
    );
    let reg = Registry::start();
    let ports = free_doc_ports();
    let mut failures = Vec::new();
    for f in files {
        let name = format!("docs/examples/{}", f.file_name().unwrap().to_string_lossy());
        let text = fs::read_to_string(&f).unwrap();
        let world = World::new(&reg);
        failures.extend(run_blocks(&world, &example_blocks(&name, &text)));
        world.clean_and_check(&ports);
    }
    if only
        .as_ref()
        .is_none_or(|o| "man/cc.7".contains(o.as_str()))
    {
        let text = fs::read_to_string(repo().join("man/cc.7")).unwrap();
        let world = World::new(&reg);
        failures.extend(run_blocks(&world, &[cc7_examples(&text)]));
        world.clean_and_check(&ports);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn blocks_keep_their_line_numbers() {
    let readme = "# x\n\n<!-- not run: installs -->\n```sh\nsetup\n```\n\n```sh\na\nb\n```\n";
    let b = readme_blocks(readme);
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].not_run.as_deref(), Some("installs"));
    assert_eq!((b[1].line, b[1].not_run.as_deref()), (9, None));
    assert_eq!(b[1].script.lines().nth(8), Some("a"));
    let ex = "# header\n\n# Run.\ncc-run x\n\n# (not run: a terminal) Shell.\ncc-run -it x\n\n# Ps.\ncc-ps\n";
    let b = example_blocks("f.sh", ex);
    assert_eq!(b.len(), 2);
    let lines: Vec<&str> = b[0].script.lines().collect();
    assert_eq!(lines[3], "cc-run x");
    assert_eq!(lines[6], "");
    assert_eq!(lines[9], "cc-ps");
    assert_eq!(
        (b[1].line, b[1].not_run.as_deref()),
        (6, Some("a terminal"))
    );
    let man =
        ".SH EXAMPLES\nText.\n.EX\ncc\\-run \\(aqa\\eb\\(aq\n.EE\n.SH FILES\n.EX\nnot this\n.EE\n";
    let lines: Vec<String> = cc7_examples(man).script.lines().map(String::from).collect();
    assert_eq!(lines[3], r"cc-run 'a\b'");
    assert!(lines.iter().all(|l| l != "not this" && l != "Text."));
}

/// Under CI=true only a reason no test machine can get past leaves a
/// block out; the README's and the examples' reasons all are such.
#[test]
fn only_reasons_that_cannot_run_here_leave_a_block_out() {
    assert!(may_be_left_out("it pulls from Docker Hub"));
    assert!(may_be_left_out("it waits for keys typed on a terminal"));
    assert!(!may_be_left_out("slow"));
    assert!(!may_be_left_out("flaky on my machine"));
    let mut all = readme_blocks(&fs::read_to_string(repo().join("README.md")).unwrap());
    for f in fs::read_dir(repo().join("docs/examples"))
        .unwrap()
        .flatten()
    {
        let name = f.path().display().to_string();
        all.extend(example_blocks(
            &name,
            &fs::read_to_string(f.path()).unwrap(),
        ));
    }
    for b in all {
        if let Some(why) = &b.not_run {
            assert!(
                may_be_left_out(why),
                "{}:{}: not run: {why}",
                b.file,
                b.line
            );
        }
    }
}
