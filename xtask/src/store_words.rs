//! The dynamic part of the completions, in one place: container names and
//! ids, and image names:tags, read from the store when the user presses
//! TAB (`cc-ps -a --format ...`, `cc-images --format ...`, honouring a
//! `--root` given on the line), added to what clap_complete generates for
//! the options.

use clap_complete::Shell;

/// What a program's operands name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Words {
    Containers,
    Images,
    Both,
}

/// Each program whose operands name objects in the store: what they name,
/// and whether every operand does (else only the first: `cc-run IMAGE
/// COMMAND...`, `cc-exec CONTAINER COMMAND...`).
const OPERANDS: &[(&str, Words, bool)] = &[
    ("cc-attach", Words::Containers, false),
    ("cc-commit", Words::Containers, false),
    ("cc-diff", Words::Containers, false),
    ("cc-exec", Words::Containers, false),
    ("cc-export", Words::Containers, false),
    ("cc-history", Words::Images, false),
    ("cc-inspect", Words::Both, true),
    ("cc-kill", Words::Containers, true),
    ("cc-logs", Words::Containers, false),
    ("cc-mount", Words::Both, false),
    ("cc-port", Words::Containers, false),
    ("cc-push", Words::Images, false),
    ("cc-restart", Words::Containers, true),
    ("cc-rm", Words::Containers, true),
    ("cc-rmi", Words::Images, true),
    ("cc-run", Words::Images, false),
    ("cc-save", Words::Images, true),
    ("cc-start", Words::Containers, true),
    ("cc-stop", Words::Containers, true),
    ("cc-tag", Words::Images, false),
    ("cc-umount", Words::Both, true),
    ("cc-wait", Words::Containers, true),
];

/// The fast calls that list the words: names and ids of every container,
/// and `repository:tag` of every tagged image.
const CONTAINERS: &str = "cc-ps -a $root --format '{{.Names}}{{println}}{{.ID}}' 2>/dev/null";
const IMAGES: &str =
    "cc-images $root --format '{{if ne .Tag \"<none>\"}}{{.Repository}}:{{.Tag}}{{end}}' 2>/dev/null";

/// Appends (or, for zsh, weaves in) the store's words to `buf`, the
/// completion script clap_complete wrote for `name`.
pub fn add(shell: Shell, cmd: &clap::Command, name: &str, buf: &mut Vec<u8>) {
    let Some(&(_, words, every)) = OPERANDS.iter().find(|(n, ..)| *n == name) else {
        return;
    };
    let kind = match words {
        Words::Containers => "containers",
        Words::Images => "images",
        Words::Both => "both",
    };
    match shell {
        Shell::Bash => buf.extend(bash(cmd, name, kind, every).as_bytes()),
        Shell::Zsh => zsh(cmd, kind, every, buf),
        Shell::Fish => buf.extend(fish(name, kind).as_bytes()),
        _ => {}
    }
}

/// The options of `cmd` that take a value (the next word is theirs).
fn value_options(cmd: &clap::Command) -> Vec<String> {
    let mut out = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_positional()) {
        if !a.get_action().takes_values() {
            continue;
        }
        for l in a.get_long_and_visible_aliases().unwrap_or_default() {
            out.push(format!("--{l}"));
        }
        for s in a.get_short_and_visible_aliases().unwrap_or_default() {
            out.push(format!("-{s}"));
        }
    }
    out
}

/// bash: the store's words lister, then a function that runs clap's and,
/// when the word being completed is an operand, offers the store's words.
fn bash(cmd: &clap::Command, name: &str, kind: &str, every: bool) -> String {
    let clap_fn = format!("_{}", name.replace('-', "__"));
    format!(
        r#"
# The store's words for operands (xtask/src/store_words.rs).
_cc_store_words() {{
    local kind="$1" i root=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            --root) root="--root=${{COMP_WORDS[i+1]}}" ;;
            --root=*) root="${{COMP_WORDS[i]}}" ;;
        esac
    done
    if [[ $kind != images ]]; then {containers}; fi
    if [[ $kind != containers ]]; then {images}; fi
}}

# Completes an operand from the store: $1 what it names, $2 the options
# that take a value, $3 1 when every operand names one (else the first).
_cc_store_complete() {{
    # Words as the user sees them, split at blanks only: bash's COMP_WORDS
    # are also cut at ':' (COMP_WORDBREAKS), which would split `img:tag`.
    local line="${{COMP_LINE:0:COMP_POINT}}" cur w operands=0 skip=0 before
    read -ra before <<< "$line"
    cur="${{line##*[[:space:]]}}"
    [[ -n $cur ]] && unset 'before[${{#before[@]}}-1]'
    [[ $cur == -* ]] && return 1
    for w in "${{before[@]:1}}"; do
        if ((skip)); then skip=0; continue; fi
        case "$w" in
            --*=*) ;;
            -*) [[ " $2 " == *" $w "* ]] && skip=1 ;;
            *) operands=$((operands + 1)) ;;
        esac
    done
    ((skip)) && return 1
    [[ $3 == 0 && $operands -gt 0 ]] && return 1
    local IFS=$'\n' words
    words=$(_cc_store_words "$1")
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    # Hand back only what follows the last ':' bash cut at.
    if [[ $cur == *:* ]]; then
        local pre="${{cur%:*}}:"
        COMPREPLY=("${{COMPREPLY[@]#"$pre"}}")
    fi
    return 0
}}

_cc_store_{fn_name}() {{
    {clap_fn} "$@"
    _cc_store_complete {kind} "{options}" {every}
}}
complete -F _cc_store_{fn_name} -o bashdefault -o default {name}
"#,
        containers = CONTAINERS,
        images = IMAGES,
        fn_name = name.replace('-', "_"),
        options = value_options(cmd).join(" "),
        every = u8::from(every),
    )
}

/// zsh: the operand's action `_default` becomes the store's words (for
/// the first operand only when the others are a command: `cc-run`).
fn zsh(cmd: &clap::Command, kind: &str, every: bool, buf: &mut Vec<u8>) {
    let Some(first) = cmd.get_positionals().next() else {
        return;
    };
    let text = String::from_utf8_lossy(buf).into_owned();
    let id = first.get_id().as_str();
    // In a `*::` spec zsh's CURRENT counts the operands only.
    let action = |line: &str| match every || !line.starts_with("'*::") {
        true => format!("_cc_store_{kind}"),
        false => format!("_cc_store_first_{kind}"),
    };
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("#compdef ") {
            out.push_str(line);
            out.push_str(&zsh_functions(kind));
            continue;
        }
        let operand = line.starts_with(&format!("':{id} -- "))
            || line.starts_with(&format!("'*::{id} -- "))
            || line.starts_with(&format!("'::{id} -- "));
        match operand {
            true => out.push_str(&line.replacen(":_default'", &format!(":{}'", action(line)), 1)),
            false => out.push_str(line),
        }
    }
    *buf = out.into_bytes();
}

fn zsh_functions(kind: &str) -> String {
    let lister = |what: &str| {
        let call = if what == "containers" {
            CONTAINERS
        } else {
            IMAGES
        };
        format!(
            "(( $+functions[_cc_store_{what}] )) || _cc_store_{what}() {{\n    local root=${{opt_args[--root]:+--root=${{opt_args[--root]}}}}\n    local -a words\n    words=(${{(f)\"$({call})\"}})\n    compadd -a words\n}}\n"
        )
    };
    let mut s = String::from("\n# The store's words for operands (xtask/src/store_words.rs).\n");
    s += &lister("containers");
    s += &lister("images");
    s += "(( $+functions[_cc_store_both] )) || _cc_store_both() {\n    _cc_store_containers\n    _cc_store_images\n}\n";
    s += &format!(
        "(( $+functions[_cc_store_first_{kind}] )) || _cc_store_first_{kind}() {{\n    if (( CURRENT == 1 )); then _cc_store_{kind}; else _default; fi\n}}\n"
    );
    s + "\n"
}

/// fish: a function listing the store's words, offered for operands.
fn fish(name: &str, kind: &str) -> String {
    format!(
        r#"
# The store's words for operands (xtask/src/store_words.rs).
function __cc_store_words
    set -l root
    set -l words (commandline -opc)
    for i in (seq (count $words))
        if test "$words[$i]" = --root; and test $i -lt (count $words)
            set root --root=$words[(math $i + 1)]
        else if string match -q -- '--root=*' $words[$i]
            set root $words[$i]
        end
    end
    if test $argv[1] != images
        {containers}
    end
    if test $argv[1] != containers
        {images} | string match -rv '^$'
    end
end
complete -c {name} -a '(__cc_store_words {kind})'
"#,
        containers = CONTAINERS,
        images = IMAGES,
    )
}
