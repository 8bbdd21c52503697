//! Lines to instructions, as BuildKit's dockerfile parser reads them:
//! directives only before anything else, `#` comments (also inside a
//! continuation), the escape character at a line's end joining the next
//! line, here-documents after RUN, COPY and ADD, flags before the
//! arguments, and the JSON form where the instruction has one.

use super::{error, Args, Dockerfile, Heredoc, Instruction};
use crate::error::Result;

/// Every instruction docker knows.
const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Those whose arguments may be a JSON array.
const JSON_FORM: &[&str] = &["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"];

/// Those that take `--flags` before their arguments.
const FLAGGED: &[&str] = &["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"];

/// Parses `text`; `file` names it in errors (`FILE:LINE: RUN: what`).
pub fn parse(text: &str, file: &str) -> Result<Dockerfile> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let (escape, syntax, mut i) = directives(&lines, file)?;
    let mut instructions = Vec::new();
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let (logical, next) = join_continued(&lines, i, escape);
        i = next;
        let mut ins = instruction(&logical, start + 1, file, escape)?;
        if matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            if let Args::Shell(s) = &ins.args {
                for (name, strip, expand) in heredoc_markers(s) {
                    let (body, next) = heredoc_body(&lines, i, &name, strip).ok_or_else(|| {
                        error(
                            file,
                            start + 1,
                            &ins.keyword,
                            &format!("here-document '{name}' has no end"),
                        )
                    })?;
                    i = next;
                    ins.heredocs.push(Heredoc { name, body, expand });
                }
            }
        }
        instructions.push(ins);
    }
    Ok(Dockerfile {
        escape,
        syntax,
        instructions,
    })
}

/// The `# key=value` lines at the very top: `escape` and `syntax` (and
/// `check`, which is read and has no effect on the image). Returns the
/// escape character, the syntax and the first line after them.
fn directives(lines: &[&str], file: &str) -> Result<(char, Option<String>, usize)> {
    let (mut escape, mut syntax) = ('\\', None);
    let mut seen = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let Some(body) = line.trim().strip_prefix('#') else {
            return Ok((escape, syntax, n));
        };
        let Some((k, v)) = body.split_once('=') else {
            return Ok((escape, syntax, n));
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if !matches!(k.as_str(), "escape" | "syntax" | "check") || k.contains(' ') {
            return Ok((escape, syntax, n));
        }
        if seen.contains(&k) {
            return Err(error(
                file,
                n + 1,
                "",
                &format!("only one {k} parser directive can be used"),
            ));
        }
        match k.as_str() {
            "escape" => {
                escape = match v {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(error(
                            file,
                            n + 1,
                            "",
                            &format!("invalid escape token '{v}' does not match ` or \\"),
                        ))
                    }
                }
            }
            "syntax" => syntax = Some(v.to_string()),
            _ => {}
        }
        seen.push(k);
    }
    Ok((escape, syntax, lines.len()))
}

/// The logical line starting at `i`: lines ending in the escape character
/// joined (the character dropped), comment and empty lines inside skipped.
fn join_continued(lines: &[&str], mut i: usize, escape: char) -> (String, usize) {
    let mut out = String::new();
    loop {
        let line = lines[i];
        i += 1;
        let trimmed = line.trim_end();
        match trimmed.strip_suffix(escape) {
            Some(head) if i < lines.len() => {
                out.push_str(head);
                while i < lines.len() && {
                    let t = lines[i].trim();
                    t.is_empty() || t.starts_with('#')
                } {
                    i += 1;
                }
                if i == lines.len() {
                    return (out, i);
                }
            }
            Some(head) => {
                out.push_str(head);
                return (out, i);
            }
            None => {
                out.push_str(line);
                return (out, i);
            }
        }
    }
}

/// One logical line: keyword, flags, arguments.
fn instruction(logical: &str, line: usize, file: &str, escape: char) -> Result<Instruction> {
    let logical = logical.trim();
    let (word, rest) = logical
        .split_once(char::is_whitespace)
        .unwrap_or((logical, ""));
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(error(
            file,
            line,
            "",
            &format!("unknown instruction: {word}"),
        ));
    }
    let mut rest = rest.trim_start();
    let mut flags = Vec::new();
    if FLAGGED.contains(&keyword.as_str()) {
        while let Some(f) = rest.strip_prefix("--") {
            let end = f.find(char::is_whitespace).unwrap_or(f.len());
            let (flag, after) = f.split_at(end);
            let (n, v) = flag.split_once('=').unwrap_or((flag, "true"));
            if n.is_empty() {
                return Err(error(file, line, &keyword, "a flag without a name"));
            }
            flags.push((n.to_string(), v.to_string()));
            rest = after.trim_start();
        }
    }
    let rest = rest.trim_end();
    if rest.is_empty() && !matches!(keyword.as_str(), "CMD" | "ENTRYPOINT" | "RUN") {
        let what = format!("{} requires at least one argument", keyword);
        return Err(error(file, line, &keyword, &what));
    }
    let args = match JSON_FORM.contains(&keyword.as_str()) && rest.starts_with('[') {
        true => match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) => Args::Json(v),
            Err(_) => Args::Shell(rest.to_string()),
        },
        false => Args::Shell(rest.to_string()),
    };
    if keyword == "RUN" && args == Args::Shell(String::new()) {
        return Err(error(
            file,
            line,
            "RUN",
            "RUN requires at least one argument",
        ));
    }
    if keyword == "SHELL" && !matches!(args, Args::Json(_)) {
        return Err(error(
            file,
            line,
            "SHELL",
            "SHELL requires the arguments to be in JSON form",
        ));
    }
    if keyword == "ONBUILD" {
        check_trigger(rest, line, file, escape)?;
    }
    Ok(Instruction {
        line,
        keyword,
        flags,
        args,
        heredocs: Vec::new(),
    })
}

/// An ONBUILD trigger must itself be an instruction, and not one that
/// makes no sense later (FROM, ONBUILD, MAINTAINER).
fn check_trigger(rest: &str, line: usize, file: &str, escape: char) -> Result<()> {
    let t = instruction(rest, line, file, escape)?;
    match t.keyword.as_str() {
        "ONBUILD" => Err(error(
            file,
            line,
            "ONBUILD",
            "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        )),
        "FROM" | "MAINTAINER" => Err(error(
            file,
            line,
            "ONBUILD",
            &format!("{} isn't allowed as an ONBUILD trigger", t.keyword),
        )),
        _ => Ok(()),
    }
}

/// The here-documents a shell-form line names: `<<EOF`, `<<-EOF`,
/// `<<"EOF"`, `<<'EOF'` (not `<<<`): word, strip tabs, expand.
fn heredoc_markers(s: &str) -> Vec<(String, bool, bool)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = s[i..].find("<<") {
        let mut j = i + p + 2;
        if b.get(j) == Some(&b'<') {
            i = j + 1;
            continue;
        }
        let strip = b.get(j) == Some(&b'-');
        if strip {
            j += 1;
        }
        let quote = match b.get(j) {
            Some(&q) if q == b'"' || q == b'\'' => {
                j += 1;
                Some(q)
            }
            _ => None,
        };
        let start = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        if j > start && quote.is_none_or(|q| b.get(j) == Some(&q)) {
            out.push((s[start..j].to_string(), strip, quote.is_none()));
        }
        i = j.max(i + p + 2);
    }
    out
}

/// The lines from `i` up to the one that is `name`; with `strip`, leading
/// tabs removed from each. Returns the body and the line after the end.
fn heredoc_body(lines: &[&str], mut i: usize, name: &str, strip: bool) -> Option<(String, usize)> {
    let mut body = String::new();
    while i < lines.len() {
        let line = match strip {
            true => lines[i].trim_start_matches('\t'),
            false => lines[i],
        };
        i += 1;
        if line == name {
            return Some((body, i));
        }
        body.push_str(line);
        body.push('\n');
    }
    None
}
