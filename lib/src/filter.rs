//! docker's `--filter KEY=VALUE` lists: parsed against the keys a program
//! knows; values of one key are alternatives, different keys must all
//! hold. What each key means is its program's (`ps`, `image::filter`).

use std::collections::BTreeMap;

use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    /// `KEY=VALUE`s; a key not in `keys` is a usage error naming them.
    pub fn parse(args: &[String], keys: &[&str]) -> Result<Filters> {
        let mut f = Filters::default();
        for a in args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| Error::Usage(format!("invalid filter '{a}': use KEY=VALUE")))?;
            if !keys.contains(&k) {
                return Err(Error::Usage(format!(
                    "invalid filter '{k}': one of {}",
                    keys.join(", ")
                )));
            }
            f.0.entry(k.to_string()).or_default().push(v.to_string());
        }
        Ok(f)
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    pub fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.get(key).into_iter().flatten().map(String::as_str)
    }

    /// True when no filter has this key, or one of its values holds.
    pub fn any(&self, key: &str, f: impl Fn(&str) -> bool) -> bool {
        match self.0.get(key) {
            None => true,
            Some(vs) => vs.iter().any(|v| f(v)),
        }
    }
}

/// `K` or `K=V` against a set of labels.
pub fn label_matches(labels: &BTreeMap<String, String>, want: &str) -> bool {
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(want),
    }
}

/// Shell-style `*` and `?` over a whole string, as docker's `reference`
/// filter matches names.
pub fn glob(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("busy*", "busybox"));
        assert!(glob("*box", "busybox"));
        assert!(glob("b?sy*x", "busybox"));
        assert!(glob("*", ""));
        assert!(!glob("busy", "busybox"));
        assert!(!glob("a*b", "ac"));
    }

    #[test]
    fn keys_are_checked() {
        let f = Filters::parse(&["a=1".into(), "a=2".into()], &["a"]).unwrap();
        assert!(f.any("a", |v| v == "2") && f.any("b", |_| false));
        assert_eq!(
            Filters::parse(&["b=1".into()], &["a"]).unwrap_err().code(),
            2
        );
        assert_eq!(Filters::parse(&["a".into()], &["a"]).unwrap_err().code(), 2);
    }
}
