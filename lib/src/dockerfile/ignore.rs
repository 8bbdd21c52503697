//! `.dockerignore` (or `<Containerfile>.dockerignore`) as docker's
//! patternmatcher reads it: one pattern a line, `#` comments, blanks
//! trimmed, each pattern cleaned (`a/./b/../c` is `a/c`) and a leading `/`
//! dropped; `*`, `?`, `[a-z]` within a name, `**` across names; a line
//! starting with `!` makes an exception. A path is ignored when the last
//! pattern matching it, or one of its parent folders, is not an exception.

/// The parsed patterns, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    rules: Vec<(bool, Vec<String>)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keep, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let segs = clean(pat);
            if segs.is_empty() {
                continue;
            }
            rules.push((keep, segs));
        }
        Ignore { rules }
    }

    /// Whether the context path `rel` (`a/b`, no leading `/`) is left out.
    pub fn ignored(&self, rel: &str) -> bool {
        let path: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
        let mut out = false;
        for (keep, pat) in &self.rules {
            // The path itself, or one of its parents.
            let hit = (1..=path.len()).any(|n| matches(pat, &path[..n]));
            if hit {
                out = !keep;
            }
        }
        out
    }

    /// Whether a folder may hold a path an exception brings back: then
    /// an ignored folder is still walked.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(keep, _)| *keep)
    }
}

/// Go's filepath.Clean, as names: `.` dropped, `..` going up (never above
/// the top), the leading `/` dropped.
pub fn clean(p: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in p.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s.to_string()),
        }
    }
    out
}

/// Names of a pattern against names of a path; `**` matches any number of
/// names.
pub fn matches(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => (0..=path.len()).any(|skip| matches(rest, &path[skip..])),
        Some((p, rest)) => match path.split_first() {
            Some((n, prest)) => glob(p, n) && matches(rest, prest),
            None => false,
        },
    }
}

/// Go's filepath.Match on one name: `*`, `?`, `[…]` (`[^…]` negated,
/// ranges), `\` escaping the next character.
pub fn glob(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|k| glob_at(&p[1..], &n[k..])),
        Some('?') => !n.is_empty() && glob_at(&p[1..], &n[1..]),
        Some('[') => match (n.first(), class(&p[1..])) {
            (Some(&c), Some((set, neg, len))) => {
                let inside = set.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                inside != neg && glob_at(&p[1 + len..], &n[1..])
            }
            _ => false,
        },
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && glob_at(&p[2..], &n[1..]),
        Some(&c) => n.first() == Some(&c) && glob_at(&p[1..], &n[1..]),
    }
}

type Class = (Vec<(char, char)>, bool, usize);

/// A `[…]` class after its `[`: ranges, negation, and how many characters
/// it took (with the `]`).
fn class(p: &[char]) -> Option<Class> {
    let mut i = 0;
    let neg = p.first() == Some(&'^') || p.first() == Some(&'!');
    if neg {
        i += 1;
    }
    let mut set = Vec::new();
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((set, neg, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        i += 1;
        let mut hi = lo;
        if i + 1 < p.len() && p[i] == '-' && p[i + 1] != ']' {
            hi = p[i + 1];
            i += 2;
        }
        set.push((lo, hi));
    }
    None
}
