use std::collections::HashMap;

use super::expand::{pairs, word, words};
use super::ignore::Ignore;
use super::*;

fn one(text: &str) -> Instruction {
    let f = parse(text, "Containerfile").unwrap();
    assert_eq!(f.instructions.len(), 1, "{:?}", f.instructions);
    f.instructions[0].clone()
}

#[test]
fn continuation_comments_and_forms() {
    let f = parse(
        "# syntax=docker/dockerfile:1\nFROM base AS b\n\n# a comment\nRUN echo a \\\n# inside\n  && echo b\nCMD [\"sh\", \"-c\"]\nCMD [not json\n",
        "F",
    )
    .unwrap();
    assert_eq!(f.syntax.as_deref(), Some("docker/dockerfile:1"));
    let i = &f.instructions;
    assert_eq!(i.len(), 4);
    assert_eq!((i[0].keyword.as_str(), i[0].line), ("FROM", 2));
    assert_eq!(i[1].args, Args::Shell("echo a   && echo b".into()));
    assert_eq!(i[1].line, 5);
    assert_eq!(i[2].args, Args::Json(vec!["sh".into(), "-c".into()]));
    assert_eq!(i[3].args, Args::Shell("[not json".into()));
}

#[test]
fn escape_directive_and_flags() {
    let f = parse(
        "# escape=`\nfrom base\ncopy --chown=1:2 --link a \\b `\n  c/\n",
        "F",
    )
    .unwrap();
    assert_eq!(f.escape, '`');
    let c = &f.instructions[1];
    assert_eq!(c.keyword, "COPY");
    assert_eq!(c.flag("chown"), Some("1:2"));
    assert_eq!(c.flag("link"), Some("true"));
    assert_eq!(c.args, Args::Shell("a \\b   c/".into()));
}

#[test]
fn heredocs() {
    let f = parse(
        "RUN <<EOF\necho $A\nEOF\nCOPY <<-'X' /f\n\tline $B\n\tX\nRUN cat <<<word\n",
        "F",
    )
    .unwrap();
    let i = &f.instructions;
    assert_eq!(i.len(), 3);
    assert_eq!(i[0].heredocs[0].body, "echo $A\n");
    assert!(i[0].heredocs[0].expand);
    assert_eq!(i[1].heredocs[0].name, "X");
    assert_eq!(i[1].heredocs[0].body, "line $B\n");
    assert!(!i[1].heredocs[0].expand);
    assert!(i[2].heredocs.is_empty());
}

#[test]
fn errors_name_file_line_and_instruction() {
    let e = parse("FROM a\nFOO bar\n", "Containerfile").unwrap_err();
    assert_eq!(e.to_string(), "Containerfile:2: unknown instruction: FOO");
    let e = parse("FROM a\nRUN <<EOF\nx\n", "F").unwrap_err();
    assert_eq!(e.to_string(), "F:2: RUN: here-document 'EOF' has no end");
    let e = parse("FROM a\nSHELL sh -c\n", "F").unwrap_err();
    assert!(e.to_string().starts_with("F:2: SHELL: "), "{e}");
    let e = parse("FROM a\nONBUILD FROM b\n", "F").unwrap_err();
    assert!(e.to_string().starts_with("F:2: ONBUILD: "), "{e}");
    let e = parse("# escape=x\nFROM a\n", "F").unwrap_err();
    assert!(e.to_string().starts_with("F:1: invalid escape"), "{e}");
    assert_eq!(e.code(), 1);
    let e = parse("FROM a\nWORKDIR\n", "F").unwrap_err();
    assert_eq!(
        e.to_string(),
        "F:2: WORKDIR: WORKDIR requires at least one argument"
    );
}

#[test]
fn directives_only_at_the_top() {
    let f = parse("FROM a\n# escape=`\nRUN a \\\n b\n", "F").unwrap();
    assert_eq!(f.escape, '\\');
    assert_eq!(one("RUN a \\\n b").args, Args::Shell("a  b".into()));
}

fn vars() -> HashMap<String, String> {
    [("A", "1"), ("E", ""), ("S", "x y")]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

#[test]
fn expansion_follows_the_shell_lexer() {
    let m = vars();
    let l = |k: &str| m.get(k).cloned();
    let w = |s: &str| word(s, &l, '\\').unwrap();
    assert_eq!(w("$A${A}"), "11");
    assert_eq!(w("${E:-d} ${E-d} ${U-d}"), "d  d");
    assert_eq!(w("${A:+set}${U:+no}"), "set");
    assert_eq!(w("'$A' \"$A\" \\$A"), "$A 1 $A");
    assert_eq!(w("\"a\\nb\\\"\""), "a\\nb\"");
    assert_eq!(w("${U:-${A}x}"), "1x");
    assert_eq!(w("$ a$"), "$ a$");
    assert!(word("${U:?must}", &l, '\\').unwrap_err().contains("must"));
    assert_eq!(
        words("a \"b c\" $S", &l, '\\').unwrap(),
        ["a", "b c", "x y"]
    );
    let p = pairs("K=$A L=\"a b\" M", &l, '\\', false).unwrap();
    assert_eq!(p[1], ("L".into(), Some("a b".into())));
    assert_eq!(p[2], ("M".into(), None));
    let legacy = pairs("K v w", &l, '\\', true).unwrap();
    assert_eq!(legacy, [("K".into(), Some("v w".into()))]);
}

#[test]
fn dockerignore_rules() {
    let i = Ignore::parse("# c\n*.log\n/build/\n**/tmp\n!keep.log\nsub/../x*\nd?/[a-c]\n");
    assert!(i.ignored("a.log"));
    assert!(!i.ignored("keep.log"));
    assert!(!i.ignored("dir/a.log"));
    assert!(i.ignored("build/out/f"));
    assert!(i.ignored("a/b/tmp/f"));
    assert!(i.ignored("tmp"));
    assert!(i.ignored("xyz"));
    assert!(i.ignored("d1/b"));
    assert!(!i.ignored("d1/d"));
    assert!(!i.ignored("src/main.c"));
    assert!(i.has_exceptions());
    let all = Ignore::parse("*\n!src\n");
    assert!(all.ignored("a"));
    assert!(!all.ignored("src/x"));
}
