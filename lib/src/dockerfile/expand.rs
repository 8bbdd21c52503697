//! Word expansion as BuildKit's shell lexer does it for ADD, COPY, ENV,
//! EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and ARG: `$X`,
//! `${X}`, `${X:-word}`, `${X-word}`, `${X:+word}`, `${X+word}`,
//! `${X:?msg}`, `${X?msg}`; single quotes literal; in double quotes the
//! escape character escapes only `"`, `$` and itself; outside quotes it
//! makes the next character literal. RUN, CMD and ENTRYPOINT are left to
//! the shell in the container.

/// The variables a word may name.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One word, quotes removed and variables expanded (spaces kept).
pub fn word(s: &str, vars: Lookup<'_>, escape: char) -> Result<String, String> {
    let mut l = Lexer::new(s, vars, escape);
    let out = l.run(false, None)?;
    Ok(out.into_iter().next().unwrap_or_default())
}

/// Words split on unquoted blanks, each expanded (COPY sources, EXPOSE,
/// VOLUME's shell form).
pub fn words(s: &str, vars: Lookup<'_>, escape: char) -> Result<Vec<String>, String> {
    Lexer::new(s, vars, escape).run(true, None)
}

/// Splits on unquoted blanks keeping quotes and escapes, for `K=V`
/// lists, whose parts are expanded afterwards (`word`).
pub fn raw_words(s: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ => {}
        }
        cur.push(c);
        if c == escape && quote != Some('\'') {
            if let Some(n) = chars.next() {
                cur.push(n);
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `ENV`/`LABEL`/`ARG` arguments: `K=V K2="v 2"` (values expanded), or the
/// legacy `K the rest` (ENV and LABEL). `ARG NAME` has no value.
pub fn pairs(
    s: &str,
    vars: Lookup<'_>,
    escape: char,
    legacy: bool,
) -> Result<Vec<(String, Option<String>)>, String> {
    let raw = raw_words(s, escape);
    let Some(first) = raw.first() else {
        return Err("requires at least one argument".into());
    };
    if legacy && !first.contains('=') {
        let (k, v) = s
            .trim()
            .split_once(char::is_whitespace)
            .ok_or("requires a value")?;
        return Ok(vec![(k.to_string(), Some(word(v.trim(), vars, escape)?))]);
    }
    let mut out = Vec::new();
    for w in raw {
        match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.push((word(k, vars, escape)?, Some(word(v, vars, escape)?)))
            }
            Some(_) => return Err(format!("'{w}': a name is needed before '='")),
            None if legacy => return Err(format!("'{w}': expected KEY=VALUE")),
            None => out.push((word(&w, vars, escape)?, None)),
        }
    }
    Ok(out)
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    vars: Lookup<'a>,
    escape: char,
}

impl<'a> Lexer<'a> {
    fn new(s: &str, vars: Lookup<'a>, escape: char) -> Lexer<'a> {
        Lexer {
            chars: s.chars().collect(),
            pos: 0,
            vars,
            escape,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += c.is_some() as usize;
        c
    }

    /// Reads up to `stop` (an unquoted `}` of `${X:-…}`) or the end.
    fn run(&mut self, split: bool, stop: Option<char>) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut started = false;
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                break;
            }
            self.pos += 1;
            match c {
                c if split && c.is_whitespace() => {
                    if started {
                        out.push(std::mem::take(&mut cur));
                        started = false;
                    }
                    continue;
                }
                '\'' => {
                    loop {
                        match self.next() {
                            Some('\'') => break,
                            Some(c) => cur.push(c),
                            None => return Err("unexpected end of statement while looking for matching single-quote".into()),
                        }
                    }
                }
                '"' => self.double(&mut cur)?,
                '$' => cur.push_str(&self.dollar()?),
                c if c == self.escape => match self.next() {
                    Some(n) => cur.push(n),
                    None => cur.push(c),
                },
                c => cur.push(c),
            }
            started = true;
        }
        if started || !split {
            out.push(cur);
        }
        Ok(out)
    }

    fn double(&mut self, cur: &mut String) -> Result<(), String> {
        loop {
            match self.next() {
                Some('"') => return Ok(()),
                Some('$') => cur.push_str(&self.dollar()?),
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        cur.push(n);
                    }
                    _ => cur.push(c),
                },
                Some(c) => cur.push(c),
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
            }
        }
    }

    /// After a `$`: a variable's value, or `$` itself.
    fn dollar(&mut self) -> Result<String, String> {
        if self.peek() == Some('{') {
            self.pos += 1;
            return self.braced();
        }
        let name = self.name();
        if name.is_empty() {
            return Ok("$".into());
        }
        Ok((self.vars)(&name).unwrap_or_default())
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if !(c.is_ascii_alphanumeric() || c == '_') {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// `${NAME}` and its modifiers; the `{` is read.
    fn braced(&mut self) -> Result<String, String> {
        let name = self.name();
        if name.is_empty() {
            return Err("bad substitution: a variable name is missing after '${'".into());
        }
        let value = (self.vars)(&name);
        let colon = self.peek() == Some(':');
        if colon {
            self.pos += 1;
        }
        let op = self.next();
        if op == Some('}') && !colon {
            return Ok(value.unwrap_or_default());
        }
        let Some(op @ ('-' | '+' | '?')) = op else {
            return Err(format!("unsupported modifier in substitution of '{name}'"));
        };
        let arg = self.run(false, Some('}'))?.concat();
        if self.next() != Some('}') {
            return Err(format!("missing '}}' in substitution of '{name}'"));
        }
        // `:` counts an empty value as unset.
        let set = match colon {
            true => value.as_deref().is_some_and(|v| !v.is_empty()),
            false => value.is_some(),
        };
        match (op, set) {
            ('-', true) | ('?', true) => Ok(value.unwrap_or_default()),
            ('-', false) => Ok(arg),
            ('+', true) => Ok(arg),
            ('+', false) => Ok(String::new()),
            (_, _) => Err(match arg.is_empty() {
                true => format!("{name}: is not allowed to be unset"),
                false => format!("{name}: {arg}"),
            }),
        }
    }
}
