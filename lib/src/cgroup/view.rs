//! What a container sees at /sys/fs/cgroup when its spec mounts `cgroup`
//! there (podman's and containerd's specs do): its own group in each
//! hierarchy, as runc shows it. This module finds, for the calling process
//! (the container's child, already in its group), each hierarchy's mount
//! point, mount options and the process's folder in it.

use std::fs;
use std::path::PathBuf;

/// One hierarchy as the calling process is placed in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    /// Its name under /sys/fs/cgroup: `memory`, `cpu,cpuacct`, `systemd`;
    /// empty for the v2 hierarchy mounted at /sys/fs/cgroup itself.
    pub name: String,
    /// Where the host mounts it.
    pub mountpoint: PathBuf,
    /// The filesystem type (`cgroup` or `cgroup2`) and the options that
    /// select the hierarchy (`memory`, `cpu,cpuacct`, `name=systemd`).
    pub fstype: String,
    pub options: String,
    /// The calling process's group in it, from /proc/self/cgroup.
    pub path: String,
}

/// The hierarchies mounted under /sys/fs/cgroup (first mount of each).
pub fn own_hierarchies() -> Vec<Hierarchy> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let cgroups = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    parse(&mountinfo, &cgroups)
}

fn parse(mountinfo: &str, cgroups: &str) -> Vec<Hierarchy> {
    let mut out: Vec<Hierarchy> = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let mut rest = right.split(' ');
        let (Some(fstype), Some(_), Some(superopts)) = (rest.next(), rest.next(), rest.next())
        else {
            continue;
        };
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        // The hierarchy's root as this process sees it: `/` on the host,
        // `/..` (one per level) inside a cgroup namespace below it.
        let (Some(root), Some(mp)) = (fields.get(3), fields.get(4)) else {
            continue;
        };
        if !root.split('/').all(|c| c.is_empty() || c == "..") {
            continue;
        }
        let mountpoint = PathBuf::from(crate::mount::unescape_mountinfo(mp));
        let Ok(rel) = mountpoint.strip_prefix(super::ROOT) else {
            continue;
        };
        let name = rel.to_string_lossy().into_owned();
        if name.contains('/') || out.iter().any(|h| h.mountpoint == mountpoint) {
            continue;
        }
        // The options of the mount, which name the hierarchy: its
        // controllers or name=X (v1).
        let opts: Vec<&str> = superopts
            .split(',')
            .filter(|o| !matches!(*o, "rw" | "ro"))
            .collect();
        let path = cgroups.lines().find_map(|l| {
            let (_, rest) = l.split_once(':')?;
            let (ctrls, path) = rest.split_once(':')?;
            let matches = match fstype {
                "cgroup2" => ctrls.is_empty(),
                _ => !ctrls.is_empty() && ctrls.split(',').all(|c| opts.contains(&c)),
            };
            matches.then(|| path.to_string())
        });
        let options = match fstype {
            "cgroup2" => String::new(),
            _ => opts.join(","),
        };
        let Some(path) = path else { continue };
        out.push(Hierarchy {
            name,
            mountpoint,
            fstype: fstype.to_string(),
            options,
            path,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchies_with_the_process_group() {
        let mountinfo = "\
30 25 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
35 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
36 20 0:30 /x /mnt/x rw - cgroup cgroup rw,memory
37 30 0:32 /../.. /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
38 30 0:33 /x /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio
";
        let cgroups = "\
12:memory:/libpod_parent/libpod-1
11:cpuacct,cpu:/libpod_parent/libpod-1
2:pids:/
3:blkio:/
1:name=systemd:/user.slice
0::/
";
        let h = parse(mountinfo, cgroups);
        let names: Vec<_> = h.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["unified", "cpu,cpuacct", "memory", "systemd", "pids"]
        );
        assert_eq!(h[1].options, "cpu,cpuacct");
        assert_eq!(h[1].path, "/libpod_parent/libpod-1");
        assert_eq!(h[3].options, "xattr,name=systemd");
        assert_eq!(h[0].fstype, "cgroup2");
        assert_eq!(h[0].path, "/");
    }
}
