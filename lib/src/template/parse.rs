//! Go's text/template syntax, the part docker's `--format` users write:
//! text and `{{actions}}` with `{{-`/`-}}` trimming and comments, pipelines
//! of commands joined by `|`, fields (`.A.B`), variables (`$x := ...`,
//! `$k, $v := range ...`), literals, parenthesised pipelines, and the
//! control actions if/else if/else, range/else, with/else, break, continue.
//! `define`, `template` and `block` are refused (docker never offers them).

use super::TemplateError;

/// A parsed piece of a template.
#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Print(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    Break,
    Continue,
}

/// `$x := cmd | cmd ...`; `assign` is `=` rather than `:=`.
#[derive(Debug, Clone)]
pub struct Pipe {
    pub vars: Vec<String>,
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

/// One command of a pipeline: an operand and its arguments.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub args: Vec<Arg>,
}

/// An operand, with where it starts in the template and its own text,
/// for errors (`at <.Foo>`).
#[derive(Debug, Clone)]
pub struct Arg {
    pub kind: ArgKind,
    pub pos: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    /// `.A.B`; no names for `.` itself.
    Field(Vec<String>),
    /// `$x.A.B`; `$` is the data the template started with.
    Var(String, Vec<String>),
    /// A function's name.
    Func(String),
    Lit(serde_json::Value),
    /// `(pipeline).A.B`
    Sub(Box<Pipe>, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Ident(String),
    Lit(serde_json::Value),
    Open,
    Close,
    Bar,
    Comma,
    Declare,
    Assign,
}

/// A token, where it starts, and whether it follows the one before it
/// without a space (`(x).Field`).
struct Token {
    tok: Tok,
    pos: usize,
    end: usize,
    joined: bool,
}

enum Item {
    Text(String),
    Action(Vec<Token>, usize),
}

pub fn parse(src: &str) -> Result<Vec<Node>, TemplateError> {
    let items = split(src)?;
    let mut p = Parser { src, items, at: 0 };
    let (nodes, end) = p.list()?;
    match end {
        None => Ok(nodes),
        Some((word, pos)) => Err(p.error(pos, &format!("unexpected {{{{{word}}}}}"))),
    }
}

/// The template cut into text and actions, trimming applied.
fn split(src: &str) -> Result<Vec<Item>, TemplateError> {
    let mut items = Vec::new();
    let mut rest = 0;
    while let Some(open) = src[rest..].find("{{").map(|i| i + rest) {
        let mut text = &src[rest..open];
        let mut start = open + 2;
        if src[start..].starts_with("- ") || src[start..].starts_with("-\t") {
            text = text.trim_end();
            start += 1;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let body_start = start;
        let (close, trim) = find_close(src, start)?;
        let body = &src[body_start..close];
        rest = close + if trim { 3 } else { 2 };
        if trim {
            rest += src[rest..].len() - src[rest..].trim_start().len();
        }
        if body.trim_start().starts_with("/*") {
            if !body.trim_end().ends_with("*/") {
                return Err(error_at(src, open, "unclosed comment"));
            }
            continue;
        }
        items.push(Item::Action(lex(src, body_start, close)?, open));
    }
    if rest < src.len() {
        items.push(Item::Text(src[rest..].to_string()));
    }
    Ok(items)
}

/// Where the action starting at `from` ends (`}}` outside quotes), and
/// whether it is ` -}}`.
fn find_close(src: &str, from: usize) -> Result<(usize, bool), TemplateError> {
    let b = src.as_bytes();
    let mut i = from;
    let mut quote = None;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(b'"'), b'\\') => i += 1,
            (Some(_), _) => {}
            (None, c @ (b'"' | b'`' | b'\'')) => quote = Some(c),
            (None, b'}') if b.get(i + 1) == Some(&b'}') => {
                let trim = i > from && b[i - 1] == b'-' && i >= from + 2 && b[i - 2] == b' ';
                return Ok((if trim { i - 1 } else { i }, trim));
            }
            _ => {}
        }
        i += 1;
    }
    Err(error_at(src, from, "unclosed action"))
}

fn lex(src: &str, from: usize, to: usize) -> Result<Vec<Token>, TemplateError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    let mut joined = false;
    while i < to {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            joined = false;
            continue;
        }
        let start = i;
        let word = |i: usize| {
            let n = src[i..to]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(to - i);
            &src[i..i + n]
        };
        let chain = |mut i: usize| {
            let mut names = Vec::new();
            while i < to && b[i] == b'.' && i + 1 < to && !word(i + 1).is_empty() {
                let w = word(i + 1);
                names.push(w.to_string());
                i += 1 + w.len();
            }
            (names, i)
        };
        let single = match c {
            b'|' => Some(Tok::Bar),
            b'(' => Some(Tok::Open),
            b')' => Some(Tok::Close),
            b',' => Some(Tok::Comma),
            b'=' => Some(Tok::Assign),
            _ => None,
        };
        let tok = match c {
            _ if single.is_some() => {
                i += 1;
                single.expect("checked")
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Declare
            }
            b'.' => {
                let (names, end) = chain(i);
                i = if names.is_empty() { i + 1 } else { end };
                Tok::Field(names)
            }
            b'$' => {
                let name = format!("${}", word(i + 1));
                let (names, end) = chain(i + name.len());
                i = end;
                Tok::Var(name, names)
            }
            b'"' | b'`' | b'\'' => {
                let (s, end) = quoted(src, i, to)?;
                i = end;
                if c == b'\'' {
                    let ch = s.chars().next().map(|c| c as u32).unwrap_or(0);
                    Tok::Lit(ch.into())
                } else {
                    Tok::Lit(s.into())
                }
            }
            b'0'..=b'9' | b'-' | b'+' => {
                let n = src[i + 1..to]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                    .unwrap_or(to - i - 1)
                    + 1;
                let text = &src[i..i + n];
                i += n;
                Tok::Lit(number(text).ok_or_else(|| {
                    error_at(src, start, &format!("bad number syntax: \"{text}\""))
                })?)
            }
            _ if !word(i).is_empty() => {
                let w = word(i);
                i += w.len();
                match w {
                    "true" => Tok::Lit(true.into()),
                    "false" => Tok::Lit(false.into()),
                    "nil" => Tok::Lit(serde_json::Value::Null),
                    _ => Tok::Ident(w.to_string()),
                }
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or(' ');
                return Err(error_at(src, i, &format!("unexpected \"{ch}\" in command")));
            }
        };
        out.push(Token {
            tok,
            pos: start,
            end: i,
            joined,
        });
        joined = true;
    }
    Ok(out)
}

fn number(text: &str) -> Option<serde_json::Value> {
    let t = text.strip_prefix('+').unwrap_or(text);
    if let Ok(n) = t.parse::<i64>() {
        return Some(n.into());
    }
    if let Some(h) = t.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).ok().map(Into::into);
    }
    t.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(serde_json::Value::Number)
}

/// A quoted string starting at `i`: its value and where it ends.
fn quoted(src: &str, i: usize, to: usize) -> Result<(String, usize), TemplateError> {
    let q = src.as_bytes()[i] as char;
    let mut out = String::new();
    let mut chars = src[i + 1..to].char_indices();
    while let Some((j, c)) = chars.next() {
        if c == q {
            return Ok((out, i + 1 + j + 1));
        }
        if c != '\\' || q == '`' {
            out.push(c);
            continue;
        }
        let e = chars.next().map(|(_, c)| c).unwrap_or('\\');
        out.push(match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            other => other,
        });
    }
    Err(error_at(src, i, "unterminated quoted string"))
}

fn error_at(src: &str, pos: usize, msg: &str) -> TemplateError {
    let line = src[..pos.min(src.len())].matches('\n').count() + 1;
    TemplateError(format!("template: :{line}: {msg}"))
}

struct Parser<'a> {
    src: &'a str,
    items: Vec<Item>,
    at: usize,
}

/// What ended a list: `end`, or `else` with what follows it.
type End = Option<(String, usize)>;

impl Parser<'_> {
    fn error(&self, pos: usize, msg: &str) -> TemplateError {
        error_at(self.src, pos, msg)
    }

    /// Nodes up to `{{end}}`, `{{else ...}}` or the end of the template;
    /// the words of the action that ended it.
    fn list(&mut self) -> Result<(Vec<Node>, End), TemplateError> {
        let mut nodes = Vec::new();
        while self.at < self.items.len() {
            self.at += 1;
            let (toks, pos) = match &mut self.items[self.at - 1] {
                Item::Text(t) => {
                    nodes.push(Node::Text(std::mem::take(t)));
                    continue;
                }
                Item::Action(toks, pos) => (std::mem::take(toks), *pos),
            };
            let keyword = match toks.first().map(|t| &t.tok) {
                Some(Tok::Ident(w)) => w.as_str(),
                None => return Err(self.error(pos, "missing value for command")),
                _ => "",
            };
            match keyword {
                "end" | "else" => {
                    let rest = toks[1..].first().map(|t| t.pos).unwrap_or(pos);
                    let word = if toks.len() > 1 {
                        format!("{keyword} {}", &self.src[rest..toks[toks.len() - 1].end])
                    } else {
                        keyword.to_string()
                    };
                    self.items.insert(self.at, Item::Action(toks, pos));
                    return Ok((nodes, Some((word, pos))));
                }
                "if" | "range" | "with" => nodes.push(self.control(keyword, &toks[1..], pos)?),
                "break" | "continue" if toks.len() == 1 => nodes.push(match keyword {
                    "break" => Node::Break,
                    _ => Node::Continue,
                }),
                "define" | "template" | "block" => {
                    return Err(self.error(pos, &format!("{{{{{keyword}}}}} is not supported")))
                }
                _ => nodes.push(Node::Print(self.pipe(&toks, pos)?)),
            }
        }
        Ok((nodes, None))
    }

    /// `if`, `range` or `with` up to its `end`, with an `else` branch
    /// (`else if` and `else with` nest as Go's parser does).
    fn control(&mut self, kw: &str, toks: &[Token], pos: usize) -> Result<Node, TemplateError> {
        let pipe = self.pipe(toks, pos)?;
        let (body, end) = self.list()?;
        let mut els = Vec::new();
        let Some(_) = end else {
            return Err(self.error(pos, &format!("unexpected EOF in {kw}")));
        };
        // The action that ended the list was put back: take it.
        let Item::Action(etoks, epos) =
            std::mem::replace(&mut self.items[self.at], Item::Text(String::new()))
        else {
            unreachable!("list() puts back the action that ended it")
        };
        self.at += 1;
        if matches!(&etoks[0].tok, Tok::Ident(w) if w == "else") {
            match etoks.get(1).map(|t| &t.tok) {
                Some(Tok::Ident(w)) if (w == "if" || w == "with") && kw != "range" => {
                    // `else if X` is `else` + `if X ... end` sharing the end.
                    els.push(self.control(&w.clone(), &etoks[2..], epos)?);
                    return Ok(make(kw, pipe, body, els));
                }
                None => {}
                _ => return Err(self.error(epos, "unexpected words after else")),
            }
            let (nodes, end) = self.list()?;
            els = nodes;
            let ended = matches!(end, Some((w, _)) if w == "end");
            self.at += 1;
            if !ended {
                return Err(self.error(epos, &format!("expected end; found else in {kw}")));
            }
        } else if etoks.len() > 1 {
            return Err(self.error(epos, "unexpected words after end"));
        }
        Ok(make(kw, pipe, body, els))
    }

    fn pipe(&self, toks: &[Token], pos: usize) -> Result<Pipe, TemplateError> {
        let mut vars = Vec::new();
        let mut rest = toks;
        let decl = toks
            .iter()
            .position(|t| matches!(t.tok, Tok::Declare | Tok::Assign));
        let mut assign = false;
        if let Some(d) = decl {
            for (i, t) in toks[..d].iter().enumerate() {
                match (&t.tok, i % 2) {
                    (Tok::Var(v, f), 0) if f.is_empty() => vars.push(v.clone()),
                    (Tok::Comma, 1) => {}
                    _ => return Err(self.error(t.pos, "bad variable declaration")),
                }
            }
            assign = toks[d].tok == Tok::Assign;
            rest = &toks[d + 1..];
        }
        let mut cmds = Vec::new();
        for part in split_bars(rest) {
            let mut at = 0;
            let args = self.args(part, &mut at)?;
            if args.is_empty() {
                return Err(self.error(pos, "missing value for command"));
            }
            cmds.push(Cmd { args });
        }
        if cmds.is_empty() {
            return Err(self.error(pos, "missing value for command"));
        }
        Ok(Pipe { vars, assign, cmds })
    }

    /// Operands from `at` to the end of `toks`.
    fn args(&self, toks: &[Token], at: &mut usize) -> Result<Vec<Arg>, TemplateError> {
        let mut args = Vec::new();
        while *at < toks.len() {
            let t = &toks[*at];
            *at += 1;
            let text = self.src[t.pos..t.end].to_string();
            let kind = match &t.tok {
                Tok::Field(f) => ArgKind::Field(f.clone()),
                Tok::Var(v, f) => ArgKind::Var(v.clone(), f.clone()),
                Tok::Ident(w) => match super::exec::is_func(w) {
                    true => ArgKind::Func(w.clone()),
                    false => {
                        return Err(self.error(t.pos, &format!("function \"{w}\" not defined")))
                    }
                },
                Tok::Lit(v) => ArgKind::Lit(v.clone()),
                Tok::Open => {
                    let inner = self.sub(toks, at, t.pos)?;
                    let mut fields = Vec::new();
                    if let Some(Token {
                        tok: Tok::Field(f),
                        joined: true,
                        ..
                    }) = toks.get(*at)
                    {
                        fields = f.clone();
                        *at += 1;
                    }
                    let end = toks[*at - 1].end;
                    args.push(Arg {
                        kind: ArgKind::Sub(Box::new(inner), fields),
                        pos: t.pos,
                        text: self.src[t.pos..end].to_string(),
                    });
                    continue;
                }
                _ => return Err(self.error(t.pos, &format!("unexpected \"{text}\" in command"))),
            };
            args.push(Arg {
                kind,
                pos: t.pos,
                text,
            });
        }
        Ok(args)
    }

    /// A parenthesised pipeline; `at` is just after `(`.
    fn sub(&self, toks: &[Token], at: &mut usize, pos: usize) -> Result<Pipe, TemplateError> {
        let mut cmds = Vec::new();
        loop {
            let args = self.args_until_bar(toks, at)?;
            if args.is_empty() {
                return Err(self.error(pos, "missing value for command"));
            }
            cmds.push(Cmd { args });
            match toks.get(*at - 1).map(|t| &t.tok) {
                Some(Tok::Bar) => continue,
                _ => break,
            }
        }
        Ok(Pipe {
            vars: Vec::new(),
            assign: false,
            cmds,
        })
    }

    /// Inside parentheses: operands up to `|` (consumed) or `)` (consumed).
    fn args_until_bar(&self, toks: &[Token], at: &mut usize) -> Result<Vec<Arg>, TemplateError> {
        let end = {
            let mut depth = 0;
            let mut j = *at;
            loop {
                match toks.get(j).map(|t| &t.tok) {
                    None => return Err(self.error(toks[*at - 1].pos, "unclosed left paren")),
                    Some(Tok::Open) => depth += 1,
                    Some(Tok::Close) if depth == 0 => break,
                    Some(Tok::Close) => depth -= 1,
                    Some(Tok::Bar) if depth == 0 => break,
                    _ => {}
                }
                j += 1;
            }
            j
        };
        let mut i = 0;
        let args = self.args(&toks[*at..end], &mut i)?;
        *at = end + 1;
        Ok(args)
    }
}

/// The commands of a pipeline: `toks` cut at each `|` outside parentheses.
fn split_bars(toks: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Open => depth += 1,
            Tok::Close => depth -= 1,
            Tok::Bar if depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

fn make(kw: &str, pipe: Pipe, body: Vec<Node>, els: Vec<Node>) -> Node {
    match kw {
        "if" => Node::If(pipe, body, els),
        "range" => Node::Range(pipe, body, els),
        _ => Node::With(pipe, body, els),
    }
}
