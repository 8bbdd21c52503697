//! Hostile layer tars, made here byte by byte, fed to every door a layer
//! comes in by: cc-import (one layer), cc-load (an oci-archive, one or two
//! layers) and cc-pull (the same OCI layout pushed by skopeo to a real
//! registry). Each attack is either refused with one line naming the
//! entry and nothing stored, or stored with the entry kept inside the
//! layer; either way no file outside the store changes.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{
    assert_no_leaks, assert_ok, assert_one_line_error, have, root_or_skip, run_timeout, stderr,
    stdout, tree_snapshot, Env, Registry,
};

// ------------------------------------------------------------ tar writer

/// One tar entry, written as it is (hostile names included).
#[derive(Clone)]
struct E {
    name: Vec<u8>,
    kind: u8,
    link: Vec<u8>,
    data: Vec<u8>,
    mode: u32,
    dev: (u32, u32),
}

fn entry(name: &str, kind: u8, link: &str, data: &[u8], mode: u32) -> E {
    E {
        name: name.as_bytes().to_vec(),
        kind,
        link: link.as_bytes().to_vec(),
        data: data.to_vec(),
        mode,
        dev: (0, 0),
    }
}
fn file(name: &str, data: &str) -> E {
    entry(name, b'0', "", data.as_bytes(), 0o644)
}
fn dir(name: &str) -> E {
    entry(name, b'5', "", b"", 0o755)
}
fn sym(name: &str, target: &str) -> E {
    entry(name, b'2', target, b"", 0o777)
}
fn hard(name: &str, target: &str) -> E {
    entry(name, b'1', target, b"", 0o644)
}
fn node(name: &str, kind: u8, major: u32, minor: u32) -> E {
    E {
        dev: (major, minor),
        ..entry(name, kind, "", b"", 0o666)
    }
}

/// `v` in octal, zero-padded, NUL-terminated, filling `field`.
fn octal(field: &mut [u8], v: u64) {
    let w = field.len() - 1;
    let s = format!("{v:0w$o}");
    assert_eq!(s.len(), w, "{v} does not fit");
    field[..w].copy_from_slice(s.as_bytes());
    field[w] = 0;
}

/// A ustar header: names under 100 bytes, owner 0:0, mtime fixed.
fn header(e: &E) -> [u8; 512] {
    assert!(e.name.len() < 100 && e.link.len() < 100);
    let mut h = [0u8; 512];
    h[..e.name.len()].copy_from_slice(&e.name);
    octal(&mut h[100..108], u64::from(e.mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], e.data.len() as u64);
    octal(&mut h[136..148], 1_000_000_000);
    h[156] = e.kind;
    h[157..157 + e.link.len()].copy_from_slice(&e.link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], u64::from(e.dev.0));
    octal(&mut h[337..345], u64::from(e.dev.1));
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// A whole tar: headers, data padded to 512, two zero blocks.
fn tar(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&header(e));
        out.extend_from_slice(&e.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// Busybox and the few applets the checks use, to put under an attack.
fn busybox() -> Vec<E> {
    let mut v = vec![
        dir("bin/"),
        dir("tmp/"),
        entry(
            "bin/busybox",
            b'0',
            "",
            &fs::read("/bin/busybox").expect("/bin/busybox"),
            0o755,
        ),
    ];
    for a in ["sh", "cat", "head", "wc", "ls", "stat", "test"] {
        v.push(sym(&format!("bin/{a}"), "busybox"));
    }
    v
}

// ---------------------------------------------------------- OCI layouts

fn sha256_hex(data: &[u8], scratch: &Path) -> String {
    fs::write(scratch, data).unwrap();
    let out = Command::new("sha256sum").arg(scratch).output().unwrap();
    assert_ok(&out, "sha256sum");
    let hex = stdout(&out).split(' ').next().unwrap().to_string();
    fs::remove_file(scratch).unwrap();
    hex
}

/// Writes `data` as a blob of the layout at `dir`; its descriptor.
fn blob(dir: &Path, media: &str, data: &[u8]) -> serde_json::Value {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let hex = sha256_hex(data, &dir.join("scratch"));
    fs::write(blobs.join(&hex), data).unwrap();
    serde_json::json!({"mediaType": media, "digest": format!("sha256:{hex}"), "size": data.len()})
}

/// An OCI image layout at `dir` with these (uncompressed) layers, tagged
/// `tag` in index.json.
fn oci_layout(dir: &Path, layers: &[Vec<u8>], tag: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let descs: Vec<_> = layers
        .iter()
        .map(|l| blob(dir, "application/vnd.oci.image.layer.v1.tar", l))
        .collect();
    let diff_ids: Vec<_> = descs.iter().map(|d| d["digest"].clone()).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config = blob(
        dir,
        "application/vnd.oci.image.config.v1+json",
        config.to_string().as_bytes(),
    );
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": descs,
    });
    let mut m = blob(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        manifest.to_string().as_bytes(),
    );
    m["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [m]});
    fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

/// The layout at `dir` as an oci-archive tar.
fn oci_archive(dir: &Path, out: &Path) {
    let st = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(out)
        .args(["oci-layout", "index.json", "blobs"])
        .status()
        .unwrap();
    assert!(st.success(), "tar of {}", dir.display());
}

// ------------------------------------------------------- the attacks

/// What an attack should come to.
enum Want {
    /// Refused, the error naming this (the entry, the reason).
    Refused(&'static [&'static str]),
    /// Stored; a script in the image that prints `inside=ok` when the
    /// entry landed inside.
    Contained(String),
    /// Either, when both are safe answers (the check script when stored).
    Either(String),
}

struct Attack {
    name: &'static str,
    /// The layers (busybox goes first, in the bottom layer).
    layers: Vec<Vec<E>>,
    want: Want,
}

/// Paths the attacks aim at outside the store: the sentinel folder
/// beside the store, and global names made unique to this process.
struct Targets {
    outside: PathBuf,
    abs: String,
    dotdot: String,
    rel: String,
}

impl Targets {
    fn new(base: &Path) -> Targets {
        let pid = std::process::id();
        Targets {
            outside: base.join("outside"),
            abs: format!("/tmp/abs-escape-{pid}"),
            dotdot: format!("/tmp/dotdot-escape-{pid}"),
            rel: format!("/tmp/rel-escape-{pid}"),
        }
    }
}

fn attacks(t: &Targets, disk: (u32, u32)) -> Vec<Attack> {
    let out = t.outside.display().to_string();
    let up = "../../../../../../../../../../..";
    let abs_rel = t.abs.trim_start_matches('/');
    vec![
        Attack {
            name: "dotdot",
            layers: vec![vec![file("../../escape", "evil")]],
            want: Want::Refused(&["../../escape", "leaves the layer"]),
        },
        Attack {
            name: "dotdot-deep",
            layers: vec![vec![file(
                &format!("{up}{}", t.dotdot),
                "evil",
            )]],
            want: Want::Refused(&["dotdot-escape", "leaves the layer"]),
        },
        Attack {
            name: "dotdot-inner",
            layers: vec![vec![dir("a/"), file("a/../../../escape", "evil")]],
            want: Want::Refused(&["a/../../../escape", "leaves the layer"]),
        },
        Attack {
            name: "absolute",
            layers: vec![vec![file(&t.abs, "abs")]],
            want: Want::Contained(format!("[ \"$(cat {})\" = abs ] && echo inside=ok", t.abs)),
        },
        Attack {
            name: "symlink-then-write",
            layers: vec![vec![sym("evil", &out), file("evil/victim", "evil")]],
            want: Want::Contained(format!(
                "[ \"$(cat {out}/victim)\" = evil ] && echo inside=ok"
            )),
        },
        Attack {
            name: "symlink-root-then-write",
            layers: vec![vec![sym("root", "/"), file(&format!("root/{abs_rel}"), "root")]],
            want: Want::Contained(format!("[ \"$(cat {})\" = root ] && echo inside=ok", t.abs)),
        },
        Attack {
            name: "symlink-planted-then-write-next-layer",
            layers: vec![vec![sym("evil", &out)], vec![file("evil/victim", "evil")]],
            want: Want::Either(format!(
                "[ \"$(cat {out}/victim 2>/dev/null || cat /evil/victim)\" = evil ] && echo inside=ok"
            )),
        },
        Attack {
            name: "symlink-planted-then-whiteout-next-layer",
            layers: vec![
                vec![sym("evil", &out), dir("d/"), file("d/f", "x")],
                vec![file("evil/.wh.victim", ""), file("evil/.wh..wh..opq", "")],
            ],
            want: Want::Either("[ -d /d ] && echo inside=ok".into()),
        },
        Attack {
            name: "relative-chained-symlinks",
            layers: vec![vec![
                sym("a", ".."),
                sym("a/b", "../.."),
                file("a/b/chain", "chain"),
                sym("up", up),
                file(&format!("up{}", t.rel), "rel"),
            ]],
            want: Want::Contained(format!(
                "[ \"$(cat /chain)\" = chain ] && [ \"$(cat {})\" = rel ] && echo inside=ok",
                t.rel
            )),
        },
        Attack {
            name: "hardlink-dotdot",
            layers: vec![vec![hard("pw", "../../etc/passwd")]],
            want: Want::Refused(&["pw", "leaves the layer"]),
        },
        Attack {
            name: "hardlink-absolute",
            layers: vec![vec![hard("sh", "/etc/shadow")]],
            want: Want::Refused(&["sh", "not found"]),
        },
        Attack {
            name: "hardlink-through-symlink",
            layers: vec![vec![sym("r", "/"), hard("pw", "r/etc/passwd")]],
            want: Want::Refused(&["pw", "not found"]),
        },
        Attack {
            name: "hardlink-through-symlink-next-layer",
            layers: vec![vec![sym("o", &out)], vec![hard("v", "o/victim")]],
            want: Want::Refused(&["v", "not found"]),
        },
        Attack {
            name: "whiteout-dotdot",
            layers: vec![vec![file("../.wh.victim", "")]],
            want: Want::Refused(&[".wh.victim"]),
        },
        Attack {
            name: "whiteout-dots-in-folder",
            // `.wh.../..` cancels out: a plain `dir/x`, no whiteout.
            layers: vec![vec![dir("dir/"), file("dir/.wh.../../x", "")]],
            want: Want::Either("[ -f /dir/x ] && echo inside=ok".into()),
        },
        Attack {
            name: "whiteout-prefix-folder",
            layers: vec![vec![dir("dir/"), file("dir/.wh../x", "")]],
            want: Want::Refused(&["dir/.wh../x", "whiteout prefix in a folder name"]),
        },
        Attack {
            name: "whiteout-bare",
            layers: vec![vec![file(".wh.", "")]],
            want: Want::Refused(&["'.wh.'", "whiteout names no entry"]),
        },
        Attack {
            name: "devices",
            layers: vec![vec![
                node("hostnull", b'3', 1, 3),
                node("hostdisk", b'4', disk.0, disk.1),
            ]],
            // Stored as nodes, but the device cgroup keeps the disk shut.
            want: Want::Contained(
                "[ \"$(stat -c %t:%T /hostnull)\" = 1:3 ] && head -c1 /hostnull >/dev/null \
                 && ! head -c1 /hostdisk >/dev/null 2>&1 && echo inside=ok"
                    .into(),
            ),
        },
    ]
}

// ------------------------------------------------------- host checks

/// What must not change outside the store: the folder holding the store
/// (but the store), the sentinel folder, the attack targets, /etc's
/// password files, the top of `/` and `/tmp`.
#[derive(PartialEq, Debug)]
struct Host {
    base: Vec<String>,
    outside: Vec<(PathBuf, u64, u32)>,
    victim: String,
    targets: Vec<bool>,
    etc: Vec<(u64, i64, u64)>,
    root_top: BTreeSet<String>,
    store_top: BTreeSet<String>,
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn host(env: &Env, t: &Targets) -> Host {
    let etc = ["/etc/passwd", "/etc/shadow"]
        .iter()
        .map(|p| {
            let m = fs::symlink_metadata(p).unwrap();
            (m.nlink(), m.mtime(), m.size())
        })
        .collect();
    Host {
        base: names(env.base()).into_iter().collect(),
        outside: tree_snapshot(&t.outside),
        victim: fs::read_to_string(t.outside.join("victim")).unwrap_or_default(),
        targets: [&t.abs, &t.dotdot, &t.rel, &"/escape".to_string()]
            .iter()
            .map(|p| fs::symlink_metadata(p).is_ok())
            .collect(),
        etc,
        root_top: names(Path::new("/")),
        store_top: names(&env.root),
    }
}

/// The image list and stored layers: empty after a refusal.
fn stored(env: &Env) -> (String, BTreeSet<String>) {
    (
        env.ok("cc-images", ["-q"]).trim().to_string(),
        names(&env.root.join("layers/sha256"))
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .collect(),
    )
}

/// One door: import, load or pull of one attack into a fresh store.
fn door(how: &str, a: &Attack, t: &Targets, work: &Path, reg: Option<&Registry>) -> Option<()> {
    let env = Env::new();
    let outside_here = env.base().join("outside");
    // Each env has its own sentinel folder at the same place relative to
    // its store; the attacks name `t.outside`, the first env's.
    fs::create_dir_all(&outside_here).unwrap();
    fs::write(outside_here.join("victim"), "keep").unwrap();
    env.ok("cc-images", ["-q"]); // the store's folders, before the snapshot
    let before = (host(&env, t), host_of_outside(&outside_here));
    let mut layers: Vec<Vec<E>> = a.layers.clone();
    let mut bottom = busybox();
    bottom.append(&mut layers[0]);
    layers[0] = bottom;
    let tars: Vec<Vec<u8>> = layers.iter().map(|l| tar(l)).collect();
    let prog;
    let out: Output = match how {
        "import" => {
            if tars.len() != 1 {
                return None;
            }
            let f = work.join(format!("{}.tar", a.name));
            fs::write(&f, &tars[0]).unwrap();
            prog = "cc-import";
            run_timeout(
                env.cmd("cc-import")
                    .arg(&f)
                    .arg(format!("{}:import", a.name)),
                Duration::from_secs(60),
            )
        }
        "load" => {
            let d = work.join(format!("{}-oci", a.name));
            if !d.exists() {
                oci_layout(&d, &tars, "load");
            }
            let f = work.join(format!("{}-oci.tar", a.name));
            oci_archive(&d, &f);
            prog = "cc-load";
            run_timeout(
                env.cmd("cc-load").arg("-i").arg(&f),
                Duration::from_secs(60),
            )
        }
        _ => {
            let reg = reg?;
            let d = work.join(format!("{}-oci", a.name));
            if !d.exists() {
                oci_layout(&d, &tars, "load");
            }
            let dest = format!("hostile/{}:v1", a.name);
            reg.skopeo_put(&format!("oci:{}:load", d.display()), &dest, &[]);
            prog = "cc-pull";
            run_timeout(
                env.cmd("cc-pull").arg(reg.at(&dest)),
                Duration::from_secs(60),
            )
        }
    };
    let what = format!("{how} of '{}'", a.name);
    let after = (host(&env, t), host_of_outside(&outside_here));
    assert_eq!(after, before, "{what}: something outside the store changed");
    let check = |script: &str| {
        let img = stdout(&env.run("cc-images", ["-q"]))
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let o = run_timeout(
            env.cmd("cc-run")
                .args(["--rm", "--net", "none", &img, "sh", "-c", script]),
            Duration::from_secs(60),
        );
        assert!(
            stdout(&o).contains("inside=ok"),
            "{what}: stored, but the entry is not where it belongs:\n{}{}",
            stdout(&o),
            stderr(&o)
        );
    };
    let words: &[&str] = match &a.want {
        Want::Refused(w) => w,
        _ => &[],
    };
    match (&a.want, out.status.success()) {
        (Want::Refused(_) | Want::Either(_), false) => {
            assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
            assert_one_line_error(&out, prog);
            for w in words {
                assert!(
                    stderr(&out).contains(w),
                    "{what}: the error should name '{w}': {}",
                    stderr(&out)
                );
            }
            let (imgs, layers) = stored(&env);
            assert!(
                imgs.is_empty() && layers.is_empty(),
                "{what}: refused, but left images {imgs:?} layers {layers:?}"
            );
            eprintln!("{what}: refused: {}", stderr(&out).trim());
        }
        (Want::Refused(_), true) => {
            panic!("{what}: should be refused, was stored as {}", stdout(&out))
        }
        (Want::Contained(_), false) => panic!(
            "{what}: should be stored (contained), failed: {}",
            stderr(&out)
        ),
        (Want::Contained(s) | Want::Either(s), true) => {
            check(s);
            let after = (host(&env, t), host_of_outside(&outside_here));
            assert_eq!(after, before, "{what}: running the image changed the host");
            eprintln!("{what}: stored, contained");
        }
    }
    assert_no_leaks(&env);
    Some(())
}

/// The sentinel folder of one env, with its file's content.
fn host_of_outside(dir: &Path) -> (Vec<(PathBuf, u64, u32)>, String) {
    (
        tree_snapshot(dir),
        fs::read_to_string(dir.join("victim")).unwrap_or_default(),
    )
}

fn host_disk() -> (u32, u32) {
    let dev = fs::metadata("/").unwrap().dev();
    (libc::major(dev), libc::minor(dev))
}

/// Every attack through cc-import (the one-layer ones) and cc-load.
#[test]
fn hostile_layers_by_import_and_load() {
    root_or_skip!();
    let scratch = Env::new();
    let t = Targets::new(scratch.base());
    fs::create_dir_all(&t.outside).unwrap();
    fs::write(t.outside.join("victim"), "keep").unwrap();
    for a in attacks(&t, host_disk()) {
        for how in ["import", "load"] {
            door(how, &a, &t, &scratch.dir, None);
        }
    }
}

/// Every attack pushed to a registry by skopeo and pulled by cc-pull.
#[test]
fn hostile_layers_by_pull() {
    root_or_skip!();
    if !have("skopeo") || !have("docker-registry") {
        return;
    }
    let scratch = Env::new();
    let t = Targets::new(scratch.base());
    fs::create_dir_all(&t.outside).unwrap();
    fs::write(t.outside.join("victim"), "keep").unwrap();
    let reg = Registry::start();
    for a in attacks(&t, host_disk()) {
        door("pull", &a, &t, &scratch.dir, Some(&reg));
    }
}

/// `prog`: prints its effective uid; stored setuid root by a layer.
const EUID: &str = "#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf(\"euid=%d\\n\", (int)geteuid()); return 0; }\n";

/// What a layer stores is no door for the host's other users. With the
/// store where anyone may traverse to it (as /var/lib/cc is when cc makes
/// it: 0755 under a 0755 /var/lib), an unprivileged host user (nobody)
/// can neither open a device node a layer brought (a block device the
/// host's root can open, and the host's disk; one byte read, discarded,
/// were it open) nor run a setuid-root program from a layer as root.
#[test]
fn stored_layers_are_shut_to_host_users() {
    root_or_skip!();
    assert!(
        have("setpriv") && have("gcc"),
        "this test needs setpriv (util-linux) and gcc"
    );
    let env = Env::new();
    let (ma, mi) = host_disk();
    let exe = env.dir.join("euid");
    support::compile_static(EUID, &exe);
    let mut layer = busybox();
    layer.push(node("hostdisk", b'4', ma, mi));
    layer.push(node("loop", b'4', 7, 0));
    layer.push(entry("suid", b'0', "", &fs::read(&exe).unwrap(), 0o4755));
    let f = env.dir.join("dev.tar");
    fs::write(&f, tar(&layer)).unwrap();
    let out = env.run("cc-import", [f.as_os_str(), "dev".as_ref()]);
    if !out.status.success() {
        // Refusing such entries is a safe answer too.
        assert_one_line_error(&out, "cc-import");
        return;
    }
    let layers = env.root.join("layers/sha256");
    let dirs: Vec<PathBuf> = names(&layers)
        .into_iter()
        .map(|l| layers.join(l))
        .filter(|p| p.join("suid").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "the stored layer");
    // The test's temporary folder is 0700: open it as /var/lib is.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = |args: &[&std::ffi::OsStr]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .args(args)
            .output()
            .unwrap()
    };
    let mut holes = Vec::new();
    for name in ["hostdisk", "loop"] {
        let p = dirs[0].join(name);
        let host_can = fs::File::open(&p).is_ok();
        let o = nobody(&["head".as_ref(), "-c1".as_ref(), p.as_os_str()]);
        let mode = fs::symlink_metadata(&p).unwrap().mode();
        eprintln!(
            "{name}: mode {mode:o}, the host's root can open it: {host_can}; nobody: {:?} {}",
            o.status,
            stderr(&o).trim()
        );
        if o.status.success() {
            holes.push(format!(
                "user nobody opened {} (mode {mode:o})",
                p.display()
            ));
        }
    }
    let p = dirs[0].join("suid");
    // Through a shell: setpriv keeps its capabilities until its own
    // execve, whose path lookup would pass any folder; the shell has none.
    let o = nobody(&[
        "sh".as_ref(),
        "-c".as_ref(),
        "\"$0\"".as_ref(),
        p.as_os_str(),
    ]);
    if stdout(&o).contains("euid=0") {
        holes.push(format!(
            "user nobody ran {} as root (setuid from a layer)",
            p.display()
        ));
    }
    fs::set_permissions(env.base(), fs::Permissions::from_mode(0o700)).unwrap();
    assert!(
        holes.is_empty(),
        "a layer's entries are open to the host's users:\n  {}",
        holes.join("\n  ")
    );
}
