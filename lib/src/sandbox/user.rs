//! Who the command runs as: `-u NAME[:GROUP]` or numbers, looked up in the
//! container's own /etc/passwd and /etc/group (after pivot_root, so the
//! image's files, never the host's), with supplementary groups.

use nix::unistd::{setgid, setgroups, setuid, Gid, Uid};

use super::Failure;
use crate::spec::User;

#[derive(Debug, Clone, PartialEq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub home: Option<String>,
    /// The command's umask (`process.user.umask`); 022 when not given.
    pub umask: Option<u32>,
}

impl Ids {
    pub fn from_spec(u: &User) -> Ids {
        Ids {
            uid: u.uid,
            gid: u.gid,
            groups: u.additional_gids.clone(),
            home: None,
            umask: u.umask,
        }
    }
}

/// cc-run's `--group-add`: group names or numbers, comma-separated.
pub const ANN_GROUP_ADD: &str = "io.cc.group-add";

/// Looks `spec` up in the current root's /etc/passwd and /etc/group, and
/// adds the `--group-add` groups of `annotations`.
pub(super) fn lookup_in_root(
    spec: &str,
    annotations: &std::collections::BTreeMap<String, String>,
) -> Result<Ids, Failure> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let mut ids = resolve(spec, &passwd, &group).map_err(|m| Failure::new(125, m))?;
    let added = annotations.get(ANN_GROUP_ADD).map(String::as_str);
    for g in added.unwrap_or("").split(',').filter(|g| !g.is_empty()) {
        let gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group_gid(&group, g).ok_or_else(|| {
                Failure::new(
                    125,
                    format!("unable to find group '{g}': no matching entries in group file"),
                )
            })?,
        };
        if !ids.groups.contains(&gid) {
            ids.groups.push(gid);
        }
    }
    Ok(ids)
}

/// `user`, `uid`, `user:group`, `uid:gid` (docker's `-u`). A number not in
/// passwd is used as it is, with gid 0 unless a group is given.
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<Ids, String> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && (f[0] == u || (u.parse::<u32>().is_ok() && f[2] == u)));
    let (uid, mut gid, name, home) = match (&entry, u.parse::<u32>()) {
        (Some(f), _) => (
            f[2].parse::<u32>()
                .map_err(|_| format!("bad uid for user '{u}' in /etc/passwd"))?,
            f[3].parse::<u32>().unwrap_or(0),
            Some(f[0].to_string()),
            f.get(5).map(|h| h.to_string()),
        ),
        (None, Ok(n)) => (n, 0, None, None),
        (None, Err(_)) => {
            return Err(format!(
                "unable to find user '{u}': no matching entries in passwd file"
            ))
        }
    };
    if let Some(g) = g {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group_gid(group, g).ok_or_else(|| {
                format!("unable to find group '{g}': no matching entries in group file")
            })?,
        };
    }
    let mut groups = vec![gid];
    if let Some(name) = &name {
        for f in group.lines().map(|l| l.split(':').collect::<Vec<_>>()) {
            if f.len() >= 4 && f[3].split(',').any(|m| m == name) {
                if let Ok(n) = f[2].parse::<u32>() {
                    if !groups.contains(&n) {
                        groups.push(n);
                    }
                }
            }
        }
    }
    Ok(Ids {
        uid,
        gid,
        groups,
        home,
        umask: None,
    })
}

fn group_gid(group: &str, name: &str) -> Option<u32> {
    group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 3 && f[0] == name)
        .and_then(|f| f[2].parse().ok())
}

/// Sets groups, then gid, then uid: once the uid changes the process can no
/// longer change the others.
pub(super) fn switch(ids: &Ids) -> Result<(), Failure> {
    let groups: Vec<Gid> = ids.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    let sys = super::failure::sys;
    match setgroups(&groups) {
        // A namespace with only the user's own gid (no subordinate ids):
        // newgidmap denies setgroups(2) there (CVE-2018-7169). The
        // process keeps the user's own groups, which give it nothing the
        // user lacks; groups beyond the one gid cannot be had.
        Err(nix::Error::EPERM)
            if setgroups_denied() && ids.groups.iter().all(|&g| g == ids.gid) => {}
        other => other.map_err(|e| sys("set supplementary groups", e))?,
    }
    setgid(Gid::from_raw(ids.gid)).map_err(|e| sys("set the group id", e))?;
    setuid(Uid::from_raw(ids.uid)).map_err(|e| sys("set the user id", e))
}

/// Whether this user namespace forbids setgroups(2).
fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\nbob:x:1000:1000::/home/bob:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:bob\nbob:x:1000:\nwheel:x:10:bob,alice\n";

    #[test]
    fn names_and_numbers() {
        let b = resolve("bob", PASSWD, GROUP).unwrap();
        assert_eq!(
            (b.uid, b.gid, b.groups.clone()),
            (1000, 1000, vec![1000, 33, 10])
        );
        assert_eq!(b.home.as_deref(), Some("/home/bob"));
        assert_eq!(resolve("33", PASSWD, GROUP).unwrap().gid, 33);
        let n = resolve("4242:7", PASSWD, GROUP).unwrap();
        assert_eq!((n.uid, n.gid), (4242, 7));
        assert_eq!(resolve("bob:wheel", PASSWD, GROUP).unwrap().gid, 10);
    }

    #[test]
    fn unknown_names_fail() {
        assert!(resolve("nobody", PASSWD, GROUP)
            .unwrap_err()
            .contains("nobody"));
        assert!(resolve("bob:staff", PASSWD, GROUP)
            .unwrap_err()
            .contains("staff"));
    }
}
