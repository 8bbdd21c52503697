//! `-c/--change` instructions in Dockerfile syntax, applied to an image's
//! run config, as `docker import -c` and `docker commit -c` do.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::image::format::{Healthcheck, RunConfig};

/// Applies one instruction such as `CMD ["sh"]` or `ENV A=1 B=2`.
pub fn apply(cfg: &mut RunConfig, line: &str) -> Result<()> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let bad = |why: &str| Error::Usage(format!("invalid change '{line}': {why}"));
    if rest.is_empty() {
        return Err(bad("missing arguments"));
    }
    match word.to_ascii_uppercase().as_str() {
        "CMD" => cfg.cmd = Some(command_form(rest)),
        "ENTRYPOINT" => cfg.entrypoint = Some(command_form(rest)),
        "WORKDIR" => cfg.working_dir = Some(rest.to_string()),
        "USER" => cfg.user = Some(rest.to_string()),
        "STOPSIGNAL" => cfg.stop_signal = Some(rest.to_string()),
        "ENV" => {
            let env = cfg.env.get_or_insert_with(Vec::new);
            for (k, v) in pairs(rest).ok_or_else(|| bad("expected KEY=VALUE"))? {
                env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(&k));
                env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            let labels = cfg.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs(rest).ok_or_else(|| bad("expected KEY=VALUE"))? {
                labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = cfg.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in rest.split_whitespace() {
                ports.insert(
                    port_key(p).ok_or_else(|| bad("expected PORT[/tcp|/udp]"))?,
                    empty(),
                );
            }
        }
        "VOLUME" => {
            let vols = cfg.volumes.get_or_insert_with(BTreeMap::new);
            let list = match serde_json::from_str::<Vec<String>>(rest) {
                Ok(v) => v,
                Err(_) => rest.split_whitespace().map(String::from).collect(),
            };
            for v in list {
                vols.insert(v, empty());
            }
        }
        "HEALTHCHECK" => cfg.healthcheck = Some(healthcheck(rest).map_err(|why| bad(&why))?),
        other => return Err(bad(&format!("unknown instruction '{other}'"))),
    }
    Ok(())
}

/// `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
/// [--start-interval=D] [--retries=N] CMD command`, or `HEALTHCHECK NONE`.
fn healthcheck(rest: &str) -> std::result::Result<Healthcheck, String> {
    let mut h = Healthcheck::default();
    let mut rest = rest.trim_start();
    while let Some(opt) = rest.strip_prefix("--") {
        let (word, after) = opt.split_once(char::is_whitespace).unwrap_or((opt, ""));
        let (key, value) = word
            .split_once('=')
            .ok_or(format!("expected --{word}=VALUE"))?;
        let nanos = || {
            crate::time::parse_duration(value)
                .map(|d| d.as_nanos() as u64)
                .ok_or(format!("invalid duration '{value}' of --{key}"))
        };
        match key {
            "interval" => h.interval = nanos()?,
            "timeout" => h.timeout = nanos()?,
            "start-period" => h.start_period = nanos()?,
            "start-interval" => h.start_interval = nanos()?,
            "retries" => {
                h.retries = value
                    .parse()
                    .map_err(|_| format!("invalid --retries '{value}'"))?
            }
            _ => return Err(format!("unknown option --{key}")),
        }
        rest = after.trim_start();
    }
    let (word, cmd) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let cmd = cmd.trim();
    h.test = match word.to_ascii_uppercase().as_str() {
        "NONE" if cmd.is_empty() => vec!["NONE".into()],
        "CMD" if !cmd.is_empty() => match serde_json::from_str::<Vec<String>>(cmd) {
            Ok(v) => std::iter::once("CMD".to_string()).chain(v).collect(),
            Err(_) => vec!["CMD-SHELL".into(), cmd.into()],
        },
        _ => return Err("expected CMD COMMAND or NONE".into()),
    };
    Ok(h)
}

fn empty() -> Value {
    Value::Object(Default::default())
}

/// JSON form `["a","b"]` as is; shell form runs under `/bin/sh -c`.
fn command_form(rest: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(rest) {
        Ok(v) => v,
        Err(_) => vec!["/bin/sh".into(), "-c".into(), rest.into()],
    }
}

/// `80`, `80/tcp`, `53/udp` -> `80/tcp` ...
fn port_key(p: &str) -> Option<String> {
    let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let proto = proto.to_ascii_lowercase();
    (num.parse::<u16>().is_ok() && matches!(proto.as_str(), "tcp" | "udp" | "sctp"))
        .then(|| format!("{num}/{proto}"))
}

/// `K=V K2="v 2"`, or the legacy `K V with spaces`.
fn pairs(rest: &str) -> Option<Vec<(String, String)>> {
    let words = split_words(rest)?;
    if !words[0].contains('=') {
        let (k, v) = rest.split_once(char::is_whitespace)?;
        return Some(vec![(k.to_string(), v.trim().to_string())]);
    }
    words
        .into_iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// Splits on blanks, honouring double and single quotes and backslashes.
fn split_words(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => (quote, in_word) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => cur.push(chars.next()?),
            (_, c) => (cur.push(c), in_word = true).0,
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        out.push(cur);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_forms() {
        let mut c = RunConfig::default();
        apply(&mut c, r#"CMD ["echo", "hi"]"#).unwrap();
        assert_eq!(c.cmd.clone().unwrap(), ["echo", "hi"]);
        apply(&mut c, "ENTRYPOINT echo hi").unwrap();
        assert_eq!(c.entrypoint.clone().unwrap(), ["/bin/sh", "-c", "echo hi"]);
        apply(&mut c, r#"ENV A=1 B="two words""#).unwrap();
        apply(&mut c, "ENV A 3 4").unwrap();
        assert_eq!(c.env.clone().unwrap(), ["B=two words", "A=3 4"]);
        apply(&mut c, "EXPOSE 80 53/udp").unwrap();
        assert!(c.exposed_ports.clone().unwrap().contains_key("53/udp"));
        apply(&mut c, "LABEL a=b 'c d'=e").unwrap();
        assert_eq!(c.labels.clone().unwrap()["c d"], "e");
        apply(&mut c, "workdir /srv").unwrap();
        assert_eq!(c.working_dir.clone().unwrap(), "/srv");
    }

    #[test]
    fn healthcheck_forms() {
        let mut c = RunConfig::default();
        apply(
            &mut c,
            "HEALTHCHECK --interval=5s --retries=2 CMD test -e /ok",
        )
        .unwrap();
        let h = c.healthcheck.clone().unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "test -e /ok"]);
        assert_eq!((h.interval, h.retries, h.timeout), (5_000_000_000, 2, 0));
        apply(&mut c, r#"HEALTHCHECK CMD ["true", "x"]"#).unwrap();
        assert_eq!(c.healthcheck.clone().unwrap().test, ["CMD", "true", "x"]);
        apply(&mut c, "healthcheck none").unwrap();
        assert_eq!(c.healthcheck.clone().unwrap().test, ["NONE"]);
    }

    #[test]
    fn bad_changes_are_usage_errors() {
        let mut c = RunConfig::default();
        for l in [
            "FROM x",
            "CMD",
            "EXPOSE http",
            "LABEL \"open",
            "HEALTHCHECK --interval=5 CMD true",
            "HEALTHCHECK CMD",
            "HEALTHCHECK NONE x",
        ] {
            assert_eq!(apply(&mut c, l).unwrap_err().code(), 2, "{l}");
        }
    }
}
