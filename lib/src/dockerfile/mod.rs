//! The Dockerfile (Containerfile) language as docker's frontend reads it:
//! parser directives (`# syntax=`, `# escape=`), comments, line
//! continuation, here-documents, flags, JSON and shell forms (`parse`);
//! the shell-like word expansion of ARG and ENV values (`expand`); and
//! `.dockerignore` patterns (`ignore`). Nothing here runs anything: the
//! executor is `build`.
//!
//! | file        | owns |
//! | ----------- | ---- |
//! | `parse.rs`  | lines to instructions, with their line numbers |
//! | `expand.rs` | `$X`, `${X:-w}`, quotes and escapes; KEY=VALUE lists |
//! | `ignore.rs` | `.dockerignore` patterns and matching |

pub mod expand;
pub mod ignore;
mod parse;

pub use parse::parse;

/// One instruction, as written (continuations joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Its first line in the file, from 1.
    pub line: usize,
    /// `RUN`, `COPY`, … in capitals.
    pub keyword: String,
    /// `--name=value` flags before the arguments, in order (`--link`
    /// alone has the value `true`).
    pub flags: Vec<(String, String)>,
    pub args: Args,
    /// Here-documents named in the arguments, in order.
    pub heredocs: Vec<Heredoc>,
}

/// The arguments: `["a", "b"]` (JSON, exec form) or text (shell form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    Json(Vec<String>),
    Shell(String),
}

impl Args {
    /// The text as written (JSON re-encoded).
    pub fn text(&self) -> String {
        match self {
            Args::Json(v) => serde_json::to_string(v).unwrap_or_default(),
            Args::Shell(s) => s.clone(),
        }
    }
}

/// `<<EOF` … `EOF`: its word, its body (lines kept with their `\n`),
/// whether `$X` is expanded in it (the word was not quoted), and whether
/// leading tabs were stripped (`<<-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    pub body: String,
    pub expand: bool,
}

impl Instruction {
    /// The value of flag `name`, the last if given twice.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of flag `name` (`--mount` may repeat).
    pub fn flag_all(&self, name: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `RUN echo hi`, as history and messages show it.
    pub fn show(&self) -> String {
        let mut s = self.keyword.clone();
        for (n, v) in &self.flags {
            s.push_str(&format!(" --{n}={v}"));
        }
        s.push(' ');
        s.push_str(&self.args.text());
        s
    }
}

/// A parsed file: its directives and instructions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character (`\`, or `` ` `` by `# escape=`).
    pub escape: char,
    /// `# syntax=`: the frontend image docker would use; cc reads the
    /// file itself, so it is kept only to be shown.
    pub syntax: Option<String>,
    pub instructions: Vec<Instruction>,
}

/// A parse error: `FILE:LINE: INSTRUCTION: what` (exit 1, as docker's).
pub fn error(file: &str, line: usize, keyword: &str, what: &str) -> crate::Error {
    let kw = match keyword {
        "" => String::new(),
        k => format!("{k}: "),
    };
    crate::Error::Spec(format!("{file}:{line}: {kw}{what}"))
}

#[cfg(test)]
mod tests;
