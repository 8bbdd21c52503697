//! Running a parsed template over JSON data, as Go's text/template runs
//! over docker's values: a missing field is an error naming it (docker
//! sets `missingkey=error`), maps range in key order, and values print as
//! Go's `%v` prints them (`[a b]`, `map[k:v]`, `<nil>`).

use serde_json::{Map, Value};

use super::parse::{Arg, ArgKind, Cmd, Node, Pipe};

/// Fields whose values docker's structs hold as Go maps (string keys the
/// user chose), where a missing key is no error.
const GO_MAPS: &[&str] = &["Labels", "Attributes", "Annotations", "Options"];
use super::{funcs, TemplateError};

/// A method that takes arguments, as docker's `.Label "key"`: called
/// with the name and the arguments; None when there is no such method.
pub type Methods<'a> = &'a dyn Fn(&str, &[Value]) -> Option<Value>;

pub fn is_func(name: &str) -> bool {
    funcs::NAMES.contains(&name)
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct Exec<'a> {
    src: &'a str,
    methods: Methods<'a>,
    vars: Vec<(String, Value)>,
    pub out: String,
}

impl<'a> Exec<'a> {
    pub fn new(src: &'a str, root: &Value, methods: Methods<'a>) -> Self {
        Exec {
            src,
            methods,
            vars: vec![("$".into(), root.clone())],
            out: String::new(),
        }
    }

    pub fn run(&mut self, nodes: &[Node], dot: &Value) -> Result<(), TemplateError> {
        self.list(nodes, dot).map(|_| ())
    }

    fn list(&mut self, nodes: &[Node], dot: &Value) -> Result<Flow, TemplateError> {
        for n in nodes {
            let flow = match n {
                Node::Text(t) => {
                    self.out.push_str(t);
                    Flow::Normal
                }
                Node::Print(p) => {
                    let v = self.pipe(p, dot)?;
                    if p.vars.is_empty() {
                        self.out.push_str(&print(&v));
                    }
                    Flow::Normal
                }
                Node::If(p, then, els) => {
                    let v = self.scoped_pipe(p, dot)?;
                    let flow = self.list(if truth(&v) { then } else { els }, dot);
                    self.vars.truncate(self.vars.len() - p.vars.len().min(1));
                    flow?
                }
                Node::With(p, then, els) => {
                    let v = self.scoped_pipe(p, dot)?;
                    let flow = match truth(&v) {
                        true => self.list(then, &v),
                        false => self.list(els, dot),
                    };
                    self.vars.truncate(self.vars.len() - p.vars.len().min(1));
                    flow?
                }
                Node::Range(p, body, els) => self.range(p, body, els, dot)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// A pipeline whose variables live until the action's end.
    fn scoped_pipe(&mut self, p: &Pipe, dot: &Value) -> Result<Value, TemplateError> {
        let v = self.eval_cmds(p, dot)?;
        if let Some(name) = p.vars.first() {
            self.vars.push((name.clone(), v.clone()));
        }
        Ok(v)
    }

    fn range(
        &mut self,
        p: &Pipe,
        body: &[Node],
        els: &[Node],
        dot: &Value,
    ) -> Result<Flow, TemplateError> {
        let v = self.eval_cmds(p, dot)?;
        let items: Vec<(Value, Value)> = match &v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (i.into(), x.clone()))
                .collect(),
            Value::Object(m) => sorted(m)
                .map(|(k, x)| (k.clone().into(), x.clone()))
                .collect(),
            Value::Null => Vec::new(),
            Value::Number(n) if n.is_u64() => (0..n.as_u64().unwrap_or(0))
                .map(|i| (i.into(), i.into()))
                .collect(),
            other => {
                let at = &p.cmds[0].args[0];
                return Err(self.error(at, &format!("range can't iterate over {}", print(other))));
            }
        };
        if items.is_empty() {
            return self.list(els, dot);
        }
        let depth = self.vars.len();
        for (k, x) in items {
            match p.vars.as_slice() {
                [one] => self.vars.push((one.clone(), x.clone())),
                [key, val, ..] => {
                    self.vars.push((key.clone(), k));
                    self.vars.push((val.clone(), x.clone()));
                }
                _ => {}
            }
            let flow = self.list(body, &x);
            self.vars.truncate(depth);
            if let Flow::Break = flow? {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// A pipeline in a plain action: `$x := ...` declares, `$x = ...` sets.
    fn pipe(&mut self, p: &Pipe, dot: &Value) -> Result<Value, TemplateError> {
        let v = self.eval_cmds(p, dot)?;
        if let Some(name) = p.vars.first() {
            match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                Some(slot) if p.assign => slot.1 = v.clone(),
                _ if p.assign => {
                    let at = &p.cmds[0].args[0];
                    return Err(self.error(at, &format!("undefined variable: {name}")));
                }
                _ => self.vars.push((name.clone(), v.clone())),
            }
        }
        Ok(v)
    }

    fn eval_cmds(&mut self, p: &Pipe, dot: &Value) -> Result<Value, TemplateError> {
        let mut last = None;
        for c in &p.cmds {
            last = Some(self.cmd(c, dot, last)?);
        }
        Ok(last.unwrap_or(Value::Null))
    }

    /// One command; `fin` is the previous command's value, its last argument.
    fn cmd(&mut self, c: &Cmd, dot: &Value, fin: Option<Value>) -> Result<Value, TemplateError> {
        let first = &c.args[0];
        let has_args = c.args.len() > 1 || fin.is_some();
        let mut args = Vec::new();
        if has_args {
            for a in &c.args[1..] {
                args.push(self.arg(a, dot)?);
            }
            args.extend(fin);
        }
        match &first.kind {
            ArgKind::Func(name) => funcs::call(name, &args)
                .map_err(|why| self.error(first, &format!("error calling {name}: {why}"))),
            ArgKind::Field(names) | ArgKind::Var(_, names) | ArgKind::Sub(_, names)
                if has_args && !names.is_empty() =>
            {
                let (last, path) = names.split_last().expect("not empty");
                let base = match &first.kind {
                    ArgKind::Field(_) => dot.clone(),
                    ArgKind::Var(v, _) => self.var(first, v)?,
                    ArgKind::Sub(p, _) => self.eval_cmds(p, dot)?,
                    _ => unreachable!("matched above"),
                };
                self.fields(first, &base, path)?;
                (self.methods)(last, &args).ok_or_else(|| {
                    self.error(first, &format!("{last} is not a method but has arguments"))
                })
            }
            _ if has_args => Err(self.error(
                first,
                &format!("can't give argument to non-function {}", first.text),
            )),
            _ => self.arg(first, dot),
        }
    }

    fn arg(&mut self, a: &Arg, dot: &Value) -> Result<Value, TemplateError> {
        match &a.kind {
            ArgKind::Field(names) => self.fields(a, dot, names),
            ArgKind::Var(v, names) => {
                let base = self.var(a, v)?;
                self.fields(a, &base, names)
            }
            ArgKind::Lit(v) => Ok(v.clone()),
            ArgKind::Sub(p, names) => {
                let base = self.eval_cmds(p, dot)?;
                self.fields(a, &base, names)
            }
            ArgKind::Func(name) => funcs::call(name, &[])
                .map_err(|why| self.error(a, &format!("error calling {name}: {why}"))),
        }
    }

    fn var(&self, a: &Arg, name: &str) -> Result<Value, TemplateError> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.error(a, &format!("undefined variable: {name}")))
    }

    fn fields(&self, a: &Arg, base: &Value, names: &[String]) -> Result<Value, TemplateError> {
        let mut cur = base;
        let mut held_by: Option<&str> = None;
        for n in names {
            cur = match cur {
                // A key missing from what docker holds as a Go map is no
                // error: empty (Go prints `<no value>`) and false.
                Value::Object(m) if held_by.is_some_and(|f| GO_MAPS.contains(&f)) => {
                    match m.get(n) {
                        Some(v) => v,
                        None => return Ok(Value::String(String::new())),
                    }
                }
                Value::Object(m) => m
                    .get(n)
                    .ok_or_else(|| self.error(a, &format!("can't evaluate field {n}")))?,
                Value::Null => return Err(self.error(a, &format!("nil pointer evaluating .{n}"))),

                other => {
                    let kind = type_name(other);
                    return Err(self.error(a, &format!("can't evaluate field {n} in type {kind}")));
                }
            };
            held_by = Some(n);
        }
        Ok(cur.clone())
    }

    fn error(&self, a: &Arg, msg: &str) -> TemplateError {
        let before = &self.src[..a.pos.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        TemplateError(format!(
            "template: :{line}:{col}: executing \"\" at <{}>: {msg}",
            a.text
        ))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Null => "nil",
    }
}

/// A map's entries in key order, as Go ranges over and prints maps.
pub fn sorted(m: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.into_iter()
}

/// Go's truth: false, 0, "", nil and empty collections are false.
pub fn truth(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// A value as Go's `%v` prints it.
pub fn print(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(print).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            sorted(m)
                .map(|(k, v)| format!("{k}:{}", print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}
