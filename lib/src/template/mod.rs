//! docker's `--format`: Go's text/template language over JSON rows
//! (`parse`, `exec`, `funcs`), the `table` form with its header line, and
//! Go's tabwriter as docker sets it up (minimum width 10, padding 3).
//!
//! Written here rather than taken from the gtmpl crate: gtmpl has no
//! methods with arguments (`.Label "k"`), ranges over maps in hash order
//! (Go sorts the keys) and prints no field name in its errors.

mod exec;
mod funcs;
mod parse;

use serde_json::{Map, Value};

pub use exec::Methods;

/// A row's methods with arguments (docker's `.Label "key"`), asked with
/// the row's index, or None for the header line.
pub type RowMethods<'a> = &'a dyn Fn(Option<usize>, &str, &[Value]) -> Option<Value>;

/// A template that did not parse or did not run: Go's message, as
/// `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    src: String,
    nodes: Vec<parse::Node>,
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        Ok(Template {
            src: src.to_string(),
            nodes: parse::parse(src)?,
        })
    }

    /// The text the template makes of `data`; `methods` answers the
    /// fields called with arguments.
    pub fn execute(&self, data: &Value, methods: Methods) -> Result<String, TemplateError> {
        let mut e = exec::Exec::new(&self.src, data, methods);
        e.run(&self.nodes, data)?;
        Ok(e.out)
    }

    /// Whether the template names the field anywhere (`.Size`): docker
    /// computes costly columns only when a template asks for them.
    pub fn uses(&self, field: &str) -> bool {
        let needle = format!(".{field}");
        self.src.match_indices(&needle).any(|(i, _)| {
            !self.src[i + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
    }
}

/// What a program's rows offer `--format`: each of docker's field names
/// with its table header, and the default table's template (without the
/// word `table`).
pub struct Columns {
    pub fields: &'static [(&'static str, &'static str)],
    pub table: &'static str,
}

/// The rows of a `--format`: docker's `table` (a header line, then columns
/// aligned by the tabwriter) or plain text, one execution per row, each
/// followed by a newline.
pub struct Rows<'a> {
    pub template: &'a Template,
    pub table: bool,
    /// Each field's header, for the table's first line.
    pub headers: &'a [(&'a str, &'a str)],
}

impl Rows<'_> {
    /// The whole output for `rows`; `methods(i, name, args)` answers row
    /// i's methods, and the header's with `i == None`.
    pub fn render(&self, rows: &[Value], methods: RowMethods) -> Result<String, TemplateError> {
        let header = Value::Object(
            self.headers
                .iter()
                .map(|(k, h)| (k.to_string(), Value::from(*h)))
                .collect::<Map<_, _>>(),
        );
        let mut out = String::new();
        if self.table {
            out += &self
                .template
                .execute(&header, &|n, a| methods(None, n, a))?;
            out.push('\n');
        } else if rows.is_empty() {
            // docker checks the template even when there is nothing to
            // print: an unknown field fails with no rows too. Over header
            // text other errors (`range` over a string) say nothing.
            match self.template.execute(&header, &|n, a| methods(None, n, a)) {
                Err(e) if e.0.contains("can't evaluate field") => return Err(e),
                _ => {}
            }
        }
        for (i, r) in rows.iter().enumerate() {
            out += &self.template.execute(r, &|n, a| methods(Some(i), n, a))?;
            out.push('\n');
        }
        Ok(match self.table {
            true => tabwrite(&out),
            false => out,
        })
    }
}

/// What `--format` says: docker's words `table` and `json`, `table ` and
/// a template with a header line, or a template alone. `\t` and `\n`
/// written as two characters are a tab and a newline, as docker has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Table,
    Json,
    Template { text: String, table: bool },
}

impl Spec {
    pub fn of(format: &str) -> Spec {
        let f = format.trim_matches(' ');
        match f {
            "" | "table" => Spec::Table,
            "json" => Spec::Json,
            _ => {
                let (table, body) = match f.strip_prefix("table ") {
                    Some(rest) => (true, rest.trim_matches(' ')),
                    None => (false, f),
                };
                Spec::Template {
                    text: body.replace("\\t", "\t").replace("\\n", "\n"),
                    table,
                }
            }
        }
    }
}

/// Go's text/tabwriter with docker's settings (minwidth 10, tabwidth 1,
/// padding 3, spaces): a cell ended by a tab is padded to its column's
/// width; a column spans the consecutive lines that have it.
pub fn tabwrite(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n').split('\t').collect())
        .collect();
    let mut out = String::new();
    let mut widths = Vec::new();
    block(&lines, 0, lines.len(), &mut widths, &mut out);
    if !text.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Go's `format`: the lines from `l0` to `l1` under the column widths
/// fixed so far.
fn block(lines: &[Vec<&str>], mut l0: usize, l1: usize, widths: &mut Vec<usize>, out: &mut String) {
    let column = widths.len();
    let mut this = l0;
    while this < l1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, l0, this, widths, out);
        l0 = this;
        let mut width = 10;
        while this < l1 && column + 1 < lines[this].len() {
            width = width.max(lines[this][column].chars().count() + 3);
            this += 1;
        }
        widths.push(width);
        block(lines, l0, this, widths, out);
        widths.pop();
        l0 = this;
    }
    write_lines(lines, l0, l1, widths, out);
}

fn write_lines(lines: &[Vec<&str>], l0: usize, l1: usize, widths: &[usize], out: &mut String) {
    for line in &lines[l0..l1] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j < widths.len() && j + 1 < line.len() {
                let pad = widths[j].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests;
