//! The installed completions offer what is in the store: bash's completion
//! function, called as bash calls it on TAB (COMP_WORDS, COMP_CWORD,
//! COMP_LINE, COMP_POINT set), answers container names and ids and image
//! `name:tag`s; zsh and fish list the same words through their functions.

use std::path::PathBuf;
use std::process::Command;

use support::{assert_ok, bin_dir, root_or_skip, stdout, Env};

fn completions() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../completions"))
}

/// A shell command line with PATH reaching the built programs.
fn shell(env: &Env, shell: &str, script: &str, with_root: bool) -> String {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(shell);
    c.arg("-c")
        .arg(script)
        .env("PATH", path)
        .env("CC_PULL", "never");
    match with_root {
        true => c.env("CC_ROOT", &env.root),
        false => c.env_remove("CC_ROOT"),
    };
    let out = c.output().expect(shell);
    assert_ok(&out, &format!("{shell} -c {script}"));
    stdout(&out)
}

/// What bash's completion of `line` (the cursor at its end) offers for
/// `prog`, one word a line.
fn bash_complete(env: &Env, prog: &str, line: &str, with_root: bool) -> Vec<String> {
    let file = completions().join("bash").join(prog);
    // bash cuts COMP_WORDS at the characters of COMP_WORDBREAKS, ':' too.
    let script = format!(
        r#"source '{file}'
COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "${{COMP_LINE//:/ : }}"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
spec=$(complete -p {prog}); fn=${{spec#*-F }}; fn=${{fn%% *}}
$fn {prog} "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        file = file.display()
    );
    let mut words: Vec<String> = shell(env, "bash", &script, with_root)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    words.sort();
    words
}

/// A store with image `img` (tags latest and v2) and a container `db`.
fn store() -> (Env, String) {
    let env = Env::new();
    env.busybox_image("img");
    env.ok("cc-tag", ["img", "img:v2"]);
    env.ok("cc-run", ["--name", "db", "img", "true"]);
    let id = env.only_container()[..12].to_string();
    (env, id)
}

#[test]
fn bash_completes_containers_and_images_from_the_store() {
    root_or_skip!();
    let (env, id) = store();
    // The container's id is random: where it sorts and whether it starts
    // with `d` changes from run to run.
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        bash_complete(&env, "cc-stop", "cc-stop ", true),
        sorted(vec![id.clone(), "db".into()])
    );
    let mut d = vec!["db".to_string()];
    if id.starts_with('d') {
        d.push(id.clone());
    }
    assert_eq!(bash_complete(&env, "cc-rm", "cc-rm -f d", true), sorted(d));
    // Every operand of cc-rm names a container; only the first of cc-exec.
    assert_eq!(bash_complete(&env, "cc-rm", "cc-rm db ", true).len(), 2);
    assert!(!bash_complete(&env, "cc-exec", "cc-exec db ", true).contains(&"db".to_string()));
    // Options still complete as clap has them.
    assert!(bash_complete(&env, "cc-stop", "cc-stop --ti", true).contains(&"--time".to_string()));
    // The value of an option is not an operand.
    assert!(!bash_complete(&env, "cc-stop", "cc-stop -t ", true).contains(&"db".to_string()));

    assert_eq!(
        bash_complete(&env, "cc-rmi", "cc-rmi ", true),
        ["img:latest", "img:v2"]
    );
    assert_eq!(
        bash_complete(&env, "cc-run", "cc-run --rm i", true),
        ["img:latest", "img:v2"]
    );
    // bash cut `img:` at the colon: only what follows it is handed back.
    assert_eq!(
        bash_complete(&env, "cc-history", "cc-history img:v", true),
        ["v2"]
    );
    let both = bash_complete(&env, "cc-inspect", "cc-inspect ", true);
    assert_eq!(
        both,
        sorted(vec![id, "db".into(), "img:latest".into(), "img:v2".into()])
    );
    // A --root on the line is the store read.
    let root = env.root.display().to_string();
    let line = format!("cc-logs --root {root} ");
    assert!(bash_complete(&env, "cc-logs", &line, false).contains(&"db".to_string()));
}

#[test]
fn zsh_and_fish_list_the_same_words() {
    root_or_skip!();
    let (env, id) = store();
    let mut everything = vec![id, "db".into(), "img:latest".into(), "img:v2".into()];
    everything.sort();
    if support::have("fish") {
        let file = completions().join("fish/cc-stop.fish");
        let script = format!("source '{}'; __cc_store_words both", file.display());
        let mut got: Vec<String> = shell(&env, "fish", &script, true)
            .lines()
            .map(String::from)
            .collect();
        got.sort();
        assert_eq!(got, everything);
        let line = complete_fish(&env, "cc-rmi ");
        assert!(line.contains(&"img:v2".to_string()), "{line:?}");
    }
    if support::have("zsh") {
        // The generated file's helpers, run with compadd replaced by print.
        let file = completions().join("zsh/_cc-inspect");
        let script = format!(
            "compadd() {{ shift; print -l -- ${{(P)1}}; }}; typeset -A opt_args; \
             eval \"$(sed -n '/^# The store/,/^autoload/p' '{}')\"; _cc_store_both",
            file.display()
        );
        let mut got: Vec<String> = shell(&env, "zsh", &script, true)
            .lines()
            .map(String::from)
            .collect();
        got.sort();
        assert_eq!(got, everything);
    }
}

/// fish's own completion of a command line, as TAB would list it.
fn complete_fish(env: &Env, line: &str) -> Vec<String> {
    let dir = completions().join("fish");
    let script = format!(
        "set fish_complete_path '{}' $fish_complete_path; complete -C '{line}'",
        dir.display()
    );
    shell(env, "fish", &script, true)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect()
}
