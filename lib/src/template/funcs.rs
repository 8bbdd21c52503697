//! The functions a template can call: Go's builtins that docker users
//! reach for, and docker's own (`json`, `join`, `split`, `title`, `lower`,
//! `upper`, `pad`, `truncate`), as docker's templates package defines them.

use serde_json::Value;

use super::exec::{print, truth};

pub const NAMES: &[&str] = &[
    "and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt",
    "ge", "json", "join", "split", "title", "lower", "upper", "pad", "truncate",
];

pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let want = |n: usize| match args.len() == n {
        true => Ok(()),
        false => Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )),
    };
    Ok(match name {
        "and" => args
            .iter()
            .find(|v| !truth(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "or" => args
            .iter()
            .find(|v| truth(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "not" => {
            want(1)?;
            Value::Bool(!truth(&args[0]))
        }
        "len" => {
            want(1)?;
            match &args[0] {
                Value::String(s) => s.len().into(),
                Value::Array(a) => a.len().into(),
                Value::Object(m) => m.len().into(),
                other => return Err(format!("len of type {}", print(other))),
            }
        }
        "index" => index(args)?,
        "print" => sprint(args).into(),
        "println" => {
            let words: Vec<String> = args.iter().map(print).collect();
            format!("{}\n", words.join(" ")).into()
        }
        "printf" => match args.split_first() {
            Some((Value::String(f), rest)) => printf(f, rest).into(),
            _ => return Err("printf needs a format string".into()),
        },
        "eq" => match args.split_first() {
            Some((a, rest)) if !rest.is_empty() => rest.iter().any(|b| equal(a, b)).into(),
            _ => return Err("missing argument for comparison".into()),
        },
        "ne" => {
            want(2)?;
            (!equal(&args[0], &args[1])).into()
        }
        "lt" | "le" | "gt" | "ge" => {
            want(2)?;
            let ord = compare(&args[0], &args[1])?;
            match name {
                "lt" => ord.is_lt(),
                "le" => ord.is_le(),
                "gt" => ord.is_gt(),
                _ => ord.is_ge(),
            }
            .into()
        }
        "json" => {
            want(1)?;
            serde_json::to_string(&args[0])
                .map_err(|e| e.to_string())?
                .into()
        }
        "join" => {
            want(2)?;
            let parts: Vec<String> = match &args[0] {
                Value::Array(a) => a.iter().map(print).collect(),
                other => vec![print(other)],
            };
            parts.join(&print(&args[1])).into()
        }
        "split" => {
            want(2)?;
            let (s, sep) = (print(&args[0]), print(&args[1]));
            Value::Array(s.split(sep.as_str()).map(|p| p.into()).collect())
        }
        "title" => {
            want(1)?;
            title(&print(&args[0])).into()
        }
        "lower" => {
            want(1)?;
            print(&args[0]).to_lowercase().into()
        }
        "upper" => {
            want(1)?;
            print(&args[0]).to_uppercase().into()
        }
        "pad" => {
            want(3)?;
            let (l, r) = (int(&args[1])?, int(&args[2])?);
            let sp = |n: i64| " ".repeat(n.max(0) as usize);
            format!("{}{}{}", sp(l), print(&args[0]), sp(r)).into()
        }
        "truncate" => {
            want(2)?;
            let n = int(&args[1])?.max(0) as usize;
            print(&args[0]).chars().take(n).collect::<String>().into()
        }
        _ => return Err(format!("function \"{name}\" not defined")),
    })
}

fn int(v: &Value) -> Result<i64, String> {
    v.as_i64()
        .ok_or_else(|| format!("expected an integer; found {}", print(v)))
}

/// `index x k1 k2`: map keys and array positions; a missing map key gives
/// "" as docker's string-valued maps (labels) do.
fn index(args: &[Value]) -> Result<Value, String> {
    let (first, keys) = args.split_first().ok_or("index of nothing")?;
    let mut cur = first.clone();
    for k in keys {
        cur = match (&cur, k) {
            (Value::Object(m), Value::String(s)) => m.get(s).cloned().unwrap_or(Value::from("")),
            (Value::Array(a), Value::Number(n)) => {
                let i = n.as_u64().unwrap_or(u64::MAX) as usize;
                a.get(i)
                    .cloned()
                    .ok_or_else(|| format!("index out of range: {n}"))?
            }
            (Value::Null, _) => return Err("index of untyped nil".into()),
            (c, k) => {
                return Err(format!(
                    "can't index item of type {} with {}",
                    print(c),
                    print(k)
                ))
            }
        };
    }
    Ok(cur)
}

/// Go's Sprint: spaces between operands when neither is a string.
fn sprint(args: &[Value]) -> String {
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !a.is_string() && !args[i - 1].is_string() {
            s.push(' ');
        }
        s.push_str(&print(a));
    }
    s
}

/// Go's Printf for the verbs templates use: %v %s %d %q %t %f %x and %%,
/// with `-` and a width.
fn printf(f: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '-' || d == '.' {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(a) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let text = match verb {
            'q' => serde_json::to_string(&print(a)).unwrap_or_default(),
            'x' => a
                .as_i64()
                .map(|n| format!("{n:x}"))
                .unwrap_or_else(|| print(a).bytes().map(|b| format!("{b:02x}")).collect()),
            'f' => {
                let prec = spec
                    .split_once('.')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or(6);
                format!("{:.*}", prec, a.as_f64().unwrap_or(0.0))
            }
            _ => print(a),
        };
        let width: usize = spec
            .trim_start_matches('-')
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        match spec.starts_with('-') {
            true => out.push_str(&format!("{text:<width$}")),
            false => out.push_str(&format!("{text:>width$}")),
        }
    }
    out
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .ok_or_else(|| "incomparable numbers".into()),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err("incompatible types for comparison".into()),
    }
}

/// Go's strings.Title: each word's first letter in upper case.
fn title(s: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}
