//! Layer tests; they run as root (chown, mknod, trusted.* xattrs).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode};

use super::*;
use crate::error::Error;

/// What a tree holds, path by path, to compare two trees.
pub(super) fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let ft = m.file_type();
            let what = if ft.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else if ft.is_symlink() {
                format!("link {}", fs::read_link(&p).unwrap().display())
            } else if ft.is_file() {
                format!("file {:?}", fs::read(&p).unwrap())
            } else {
                format!("node {:o} {}", m.mode() & 0o170000, m.rdev())
            };
            let first = inodes.entry(m.ino()).or_insert_with(|| rel.clone()).clone();
            let mtime = m.mtime();
            let desc = format!(
                "{what} mode={:o} {}:{} mtime={mtime} ino={} xattrs={:?}",
                m.mode() & 0o7777,
                m.uid(),
                m.gid(),
                first.display(),
                xattrs(&p),
            );
            out.insert(rel, desc);
        }
    }
    out
}

fn xattrs(p: &Path) -> Vec<(String, Vec<u8>)> {
    let mut buf = vec![0u8; 65536];
    let n = rustix::fs::llistxattr(p, &mut buf[..]).unwrap();
    let names: Vec<Vec<u8>> = buf[..n]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| n.to_vec())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let len = rustix::fs::lgetxattr(p, name.as_slice(), &mut buf[..]).unwrap();
        out.push((String::from_utf8(name).unwrap(), buf[..len].to_vec()));
    }
    out.sort();
    out
}

fn set_times(p: &Path, secs: i64) {
    let t = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let ts = rustix::fs::Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        p,
        &ts,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

/// A tree with every kind of entry `write_dir` and `apply` must carry.
fn sample_tree(src: &Path) {
    fs::create_dir_all(src.join("etc/skel")).unwrap();
    fs::create_dir_all(src.join("usr/bin")).unwrap();
    fs::write(src.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(src.join("usr/bin/su"), vec![7u8; 3000]).unwrap();
    std::os::unix::fs::chown(src.join("usr/bin/su"), Some(1000), Some(1001)).unwrap();
    fs::set_permissions(src.join("usr/bin/su"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::set_permissions(src.join("etc/skel"), fs::Permissions::from_mode(0o2750)).unwrap();
    std::os::unix::fs::chown(src.join("etc/skel"), Some(5), Some(6)).unwrap();
    fs::hard_link(src.join("usr/bin/su"), src.join("usr/bin/su2")).unwrap();
    symlink("../etc/passwd", src.join("usr/pw")).unwrap();
    symlink("/nonexistent/abs", src.join("dangling")).unwrap();
    let long = "d".repeat(120);
    fs::create_dir_all(src.join(&long)).unwrap();
    fs::write(src.join(&long).join("f".repeat(150)), "long").unwrap();
    symlink("t".repeat(180), src.join("longlink")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        src.join("fifo"),
        FileType::Fifo,
        Mode::from_raw_mode(0o640),
        0,
    )
    .unwrap();
    let null = rustix::fs::makedev(1, 3);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        src.join("null"),
        FileType::CharacterDevice,
        Mode::from_raw_mode(0o666),
        null,
    )
    .unwrap();
    fs::set_permissions(src.join("null"), fs::Permissions::from_mode(0o666)).unwrap();
    rustix::fs::setxattr(
        src.join("etc/passwd"),
        "user.x",
        b"value\0bin",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    rustix::fs::setxattr(
        src.join("usr/bin/su"),
        "security.capability",
        &cap(),
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    std::os::unix::net::UnixListener::bind(src.join("sock")).unwrap();
    for (i, p) in [
        "etc/passwd",
        "usr/bin/su",
        "fifo",
        "null",
        "usr/pw",
        "etc/skel",
        "etc",
        "usr/bin",
        "usr",
        ".",
    ]
    .iter()
    .enumerate()
    {
        set_times(&src.join(p), 1_600_000_000 + i as i64);
    }
    let l = src.join(&long);
    set_times(&l.join("f".repeat(150)), 1_500_000_000);
    set_times(&l, 1_500_000_001);
}

/// A v2 file capability (cap_net_bind_service=ep), as setcap writes it.
fn cap() -> Vec<u8> {
    let mut v = vec![0u8; 20];
    v[..4].copy_from_slice(&0x0200_0001u32.to_le_bytes());
    v[4..8].copy_from_slice(&(1u32 << 10).to_le_bytes());
    v
}

#[test]
fn layer_round_trip_keeps_the_tree() {
    let t = tempfile::tempdir().unwrap();
    let (src, dest) = (t.path().join("src"), t.path().join("dest"));
    fs::create_dir(&src).unwrap();
    fs::create_dir(&dest).unwrap();
    sample_tree(&src);
    let mut tar = Vec::new();
    write_dir(&src, &mut tar).unwrap();
    let applied = apply(&tar[..], &dest, &[]).unwrap();
    let mut want = snapshot(&src);
    want.remove(Path::new("sock"));
    assert_eq!(snapshot(&dest), want);
    assert!(applied.entries >= 14, "{applied:?}");
    assert_eq!(applied.bytes, 3000 + 26 + 4);
    // the same tree gives the same bytes
    let mut again = Vec::new();
    write_dir(&dest, &mut again).unwrap();
    assert!(tar == again, "tar of the applied tree differs");
}

#[test]
fn layer_write_dir_format() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(t.path());
    let mut tar = Vec::new();
    write_dir(t.path(), &mut tar).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let mut names = Vec::new();
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert!(h.username_bytes().is_none_or(|u| u.is_empty()));
        names.push((
            String::from_utf8(e.path_bytes().into_owned()).unwrap(),
            h.entry_type(),
        ));
    }
    let just: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).take(3).collect();
    assert_eq!(
        just,
        [
            "dangling".into(),
            "d".repeat(120) + "/",
            "d".repeat(120) + "/" + &"f".repeat(150)
        ]
    );
    assert!(names
        .iter()
        .any(|(n, k)| n == "usr/bin/su2" && *k == tar::EntryType::Link));
    assert!(names
        .iter()
        .any(|(n, k)| n == "etc/" && *k == tar::EntryType::Directory));
    assert!(!names
        .iter()
        .any(|(n, _)| n.starts_with("./") || n.starts_with('/') || n == "sock"));
    let pos = |n: &str| names.iter().position(|(x, _)| x == n).unwrap();
    assert!(pos("etc/") < pos("etc/passwd") && pos("usr/bin/su") < pos("usr/bin/su2"));
}

/// A tar entry: name, kind, link target, data.
pub(super) type Raw<'a> = (&'a [u8], tar::EntryType, &'a [u8], &'a [u8]);

/// Builds a tar from (name, kind, link target, data), writing names raw so
/// that hostile ones (`..`, `/abs`) go in as they are.
pub(super) fn make_tar(entries: &[Raw]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(*kind);
        h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        h.set_size(data.len() as u64);
        h.set_mtime(1_000_000);
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

use tar::EntryType::{Directory as D, Link as H, Regular as F, Symlink as S};

/// A layer folder with a sentinel folder beside it.
struct Hostile {
    t: tempfile::TempDir,
}

impl Hostile {
    fn new() -> Hostile {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("dest")).unwrap();
        fs::create_dir(t.path().join("outside")).unwrap();
        fs::write(t.path().join("outside/sentinel"), "keep").unwrap();
        Hostile { t }
    }
    fn dest(&self) -> PathBuf {
        self.t.path().join("dest")
    }
    fn outside(&self) -> PathBuf {
        self.t.path().join("outside")
    }
    fn apply(&self, entries: &[Raw]) -> crate::Result<Applied> {
        let passwd = fs::symlink_metadata("/etc/passwd").unwrap();
        let r = apply(&make_tar(entries)[..], &self.dest(), &[]);
        // nothing outside dest changed: the sentinel folder, its parent, /etc/passwd
        let mut top: Vec<_> = fs::read_dir(self.t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        top.sort();
        assert_eq!(top, ["dest", "outside"]);
        let inside: Vec<_> = fs::read_dir(self.outside())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(inside, ["sentinel"]);
        assert_eq!(
            fs::read_to_string(self.outside().join("sentinel")).unwrap(),
            "keep"
        );
        assert!(xattrs(&self.outside()).is_empty());
        let after = fs::symlink_metadata("/etc/passwd").unwrap();
        assert_eq!(
            (after.nlink(), after.mtime()),
            (passwd.nlink(), passwd.mtime())
        );
        r
    }
}

fn is_damaged(r: crate::Result<Applied>, what: &str) {
    match r {
        Err(Error::Damaged(m)) => assert!(m.contains(what), "{m}"),
        other => panic!("expected damaged ({what}), got {other:?}"),
    }
}

#[test]
fn layer_hostile_dotdot_refused() {
    let h = Hostile::new();
    is_damaged(
        h.apply(&[(b"../outside/sentinel", F, b"", b"evil")]),
        "path leaves the layer",
    );
    is_damaged(
        h.apply(&[(b"a/../../x", F, b"", b"evil")]),
        "'a/../../x': path leaves the layer",
    );
    is_damaged(
        h.apply(&[(b"x", H, b"../outside/sentinel", b"")]),
        "link target leaves the layer",
    );
    // `..` that stays inside is cleaned like Docker does
    h.apply(&[(b"a/../b", F, b"", b"ok")]).unwrap();
    assert_eq!(fs::read(h.dest().join("b")).unwrap(), b"ok");
}

#[test]
fn layer_hostile_absolute_contained() {
    let h = Hostile::new();
    let abs = h.outside().join("sentinel");
    h.apply(&[(abs.as_os_str().as_bytes(), F, b"", b"evil")])
        .unwrap();
    let inside = h.dest().join(abs.strip_prefix("/").unwrap());
    assert_eq!(fs::read(inside).unwrap(), b"evil");
}

#[test]
fn layer_hostile_symlink_then_write_through() {
    let h = Hostile::new();
    let out = h.outside();
    let out = out.as_os_str().as_bytes();
    let inside = h.dest().join(h.outside().strip_prefix("/").unwrap());
    h.apply(&[
        (b"evil", S, out, b""),
        (b"evil/sentinel", F, b"", b"evil"),
        (b"rel", S, b"../../../../../../../../..", b""),
        (b"rel/etc/x", F, b"", b"rel"),
        (b"root", S, b"/", b""),
        (b"root/etc/y", F, b"", b"root"),
        (b"c1", S, b"c2", b""),
        (b"c2", S, b"evil", b""),
        (b"c1/chained", F, b"", b"chain"),
        (b"evil/.wh.sentinel", F, b"", b""),
        (b"root/.wh..wh..opq", F, b"", b""),
    ])
    .unwrap();
    assert_eq!(fs::read(inside.join("sentinel")).unwrap(), b"evil");
    assert_eq!(fs::read(h.dest().join("etc/x")).unwrap(), b"rel");
    assert_eq!(fs::read(h.dest().join("etc/y")).unwrap(), b"root");
    assert_eq!(fs::read(inside.join("chained")).unwrap(), b"chain");
    assert_eq!(
        xattrs(&h.dest()),
        [("trusted.overlay.opaque".to_string(), b"y".to_vec())]
    );
}

#[test]
fn layer_hostile_symlink_replaced_by_dir() {
    let h = Hostile::new();
    let out = h.outside();
    h.apply(&[
        (b"d", S, out.as_os_str().as_bytes(), b""),
        (b"d/", D, b"", b""),
        (b"d/sentinel", F, b"", b"x"),
    ])
    .unwrap();
    assert!(fs::symlink_metadata(h.dest().join("d")).unwrap().is_dir());
}

#[test]
fn layer_hostile_hardlinks_stay_inside() {
    let h = Hostile::new();
    is_damaged(
        h.apply(&[(b"pw", H, b"/etc/passwd", b"")]),
        "link target 'etc/passwd' not found",
    );
    let out = h.outside();
    let e = h.apply(&[
        (b"evil", S, out.as_os_str().as_bytes(), b""),
        (b"x", H, b"evil/sentinel", b""),
    ]);
    is_damaged(e, "not found");
    let e = h.apply(&[(b"root", S, b"/", b""), (b"y", H, b"root/etc/passwd", b"")]);
    is_damaged(e, "not found");
    // inside the layer, through a symlink planted earlier
    h.apply(&[
        (b"f", F, b"", b"data"),
        (b"l", S, b"/", b""),
        (b"g", H, b"l/f", b""),
    ])
    .unwrap();
    let (f, g) = (
        fs::metadata(h.dest().join("f")).unwrap(),
        fs::metadata(h.dest().join("g")).unwrap(),
    );
    assert_eq!(f.ino(), g.ino());
}

#[test]
fn layer_hostile_whiteouts_refused() {
    let h = Hostile::new();
    is_damaged(
        h.apply(&[(b".wh.", F, b"", b"")]),
        "'.wh.': whiteout names no entry",
    );
    is_damaged(
        h.apply(&[(b"a/.wh.", F, b"", b"")]),
        "whiteout names no entry",
    );
    is_damaged(
        h.apply(&[(b"a/.wh..", F, b"", b"")]),
        "whiteout names no entry",
    );
    is_damaged(
        h.apply(&[(b"a/.wh...", F, b"", b"")]),
        "whiteout names no entry",
    );
    is_damaged(
        h.apply(&[(b".wh.x/y", F, b"", b"")]),
        "whiteout prefix in a folder name",
    );
    is_damaged(
        h.apply(&[(b"a/.wh../x", F, b"", b"")]),
        "whiteout prefix in a folder name",
    );
}

fn is_overlay_whiteout(p: &Path) -> bool {
    let m = fs::symlink_metadata(p).unwrap();
    m.mode() & 0o170000 == 0o020000 && m.rdev() == 0
}

fn opaque(p: &Path) -> bool {
    xattrs(p).contains(&("trusted.overlay.opaque".to_string(), b"y".to_vec()))
}

#[test]
fn layer_whiteouts_become_overlay_format() {
    let h = Hostile::new();
    h.apply(&[
        (b"a/", D, b"", b""),
        (b"a/.wh.gone", F, b"", b""),
        (b"b/.wh..wh..opq", F, b"", b""),
        (b"c/", D, b"", b""),
        (b"c/mine", F, b"", b"kept"),
        (b"c/.wh..wh..opq", F, b"", b""),
        (b"d/kept", F, b"", b"same layer"),
        (b"d/.wh.kept", F, b"", b""),
        (b"d/.wh.sub", F, b"", b""),
        (b"d/sub/", D, b"", b""),
        (b"d/.wh..wh.plnk", F, b"", b""),
        (b".wh.e", F, b"", b""),
        (b"e/new", F, b"", b""),
        (b"f/", D, b"", b""),
        (b"f/x", F, b"", b""),
        (b".wh.f", F, b"", b""),
        (
            b"g/y",
            F,
            b"",
            b"trusted.overlay xattrs from a tar are dropped",
        ),
    ])
    .unwrap();
    let d = h.dest();
    assert!(is_overlay_whiteout(&d.join("a/gone")));
    assert!(d.join("b").is_dir() && opaque(&d.join("b")));
    assert!(
        opaque(&d.join("c")) && d.join("c/mine").is_file(),
        "same-layer content survives an opaque marker"
    );
    assert_eq!(fs::read(d.join("d/kept")).unwrap(), b"same layer");
    assert!(
        d.join("d/sub").is_dir() && opaque(&d.join("d/sub")),
        "a folder replacing a whiteout is opaque"
    );
    assert!(!opaque(&d.join("d")) && !d.join("d/.wh..wh.plnk").exists());
    assert!(opaque(&d.join("e")) && d.join("e/new").is_file());
    assert!(opaque(&d.join("f")) && d.join("f/x").is_file());
    let names: Vec<_> = fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(!names.iter().any(|n| n.as_bytes().starts_with(b".wh.")));
}

#[test]
fn layer_drops_overlay_xattrs_from_tar() {
    let h = Hostile::new();
    let mut b = tar::Builder::new(Vec::new());
    let recs = [
        ("SCHILY.xattr.trusted.overlay.opaque", &b"y"[..]),
        ("SCHILY.xattr.user.ok", b"1"),
        ("mtime", b"1234.5"),
    ];
    b.append_pax_extensions(recs).unwrap();
    let mut hd = tar::Header::new_ustar();
    hd.set_entry_type(D);
    hd.set_mode(0o755);
    hd.set_size(0);
    b.append_data(&mut hd, "dir", &[][..]).unwrap();
    let tar = b.into_inner().unwrap();
    apply(&tar[..], &h.dest(), &[]).unwrap();
    let dir = h.dest().join("dir");
    assert_eq!(xattrs(&dir), [("user.ok".to_string(), b"1".to_vec())]);
    let m = fs::metadata(&dir).unwrap();
    assert_eq!((m.mtime(), m.mtime_nsec()), (1234, 500_000_000));
}

#[test]
fn layer_hardlink_copies_up_from_lower() {
    let t = tempfile::tempdir().unwrap();
    let (lower, dest) = (t.path().join("lower"), t.path().join("dest"));
    fs::create_dir_all(lower.join("etc")).unwrap();
    fs::create_dir(&dest).unwrap();
    fs::write(lower.join("etc/shadow"), "secret").unwrap();
    std::os::unix::fs::chown(lower.join("etc/shadow"), Some(0), Some(42)).unwrap();
    fs::set_permissions(lower.join("etc/shadow"), fs::Permissions::from_mode(0o640)).unwrap();
    fs::set_permissions(lower.join("etc"), fs::Permissions::from_mode(0o711)).unwrap();
    set_times(&lower.join("etc"), 1_234_567);
    let tar = make_tar(&[(b"etc/shadow-", H, b"etc/shadow", b"")]);
    // a lower that does not exist is the caller's mistake
    apply(&tar[..], &dest, &[t.path().join("missing"), lower.clone()]).unwrap_err();
    apply(&tar[..], &dest, std::slice::from_ref(&lower)).unwrap();
    let (a, b) = (
        fs::metadata(dest.join("etc/shadow")).unwrap(),
        fs::metadata(dest.join("etc/shadow-")).unwrap(),
    );
    assert_eq!((a.ino(), a.mode() & 0o7777, a.gid()), (b.ino(), 0o640, 42));
    assert_eq!(fs::read(dest.join("etc/shadow")).unwrap(), b"secret");
    let etc = fs::metadata(dest.join("etc")).unwrap();
    assert_eq!(
        (etc.mode() & 0o7777, etc.mtime()),
        (0o711, 1_234_567),
        "implied folder copies the lower's"
    );
}

#[test]
fn layer_replaces_entries_of_another_type() {
    let h = Hostile::new();
    h.apply(&[
        (b"x/", D, b"", b""),
        (b"x/inner", F, b"", b"gone"),
        (b"x", F, b"", b"file now"),
        (b"y", F, b"", b""),
        (b"y", S, b"x", b""),
        (b"z", S, b"x", b""),
        (b"z/", D, b"", b""),
        (b"x", F, b"", b"again"),
    ])
    .unwrap();
    assert_eq!(fs::read(h.dest().join("x")).unwrap(), b"again");
    assert_eq!(fs::read_link(h.dest().join("y")).unwrap(), Path::new("x"));
    assert!(fs::symlink_metadata(h.dest().join("z")).unwrap().is_dir());
}

#[test]
fn layer_reads_to_the_end_and_sets_dir_times() {
    let t = tempfile::tempdir().unwrap();
    let mut tar = make_tar(&[
        (b"a/", D, b"", b""),
        (b"a/b/", D, b"", b""),
        (b"a/b/f", F, b"", b"x"),
    ]);
    tar.extend_from_slice(&[0u8; 4096]);
    let total = tar.len();
    let mut r = Counting {
        inner: &tar[..],
        n: 0,
    };
    apply(&mut r, t.path(), &[]).unwrap();
    assert_eq!(r.n, total);
    for p in ["a", "a/b", "a/b/f"] {
        assert_eq!(
            fs::metadata(t.path().join(p)).unwrap().mtime(),
            1_000_000,
            "{p}"
        );
    }
}

struct Counting<'a> {
    inner: &'a [u8],
    n: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n;
        Ok(n)
    }
}

#[test]
fn layer_writer_markers() {
    let mut w = Writer::new(Vec::new());
    w.add_whiteout(b"etc/passwd").unwrap();
    w.add_whiteout(b"top").unwrap();
    w.add_opaque(b"var/lib").unwrap();
    w.add_opaque(b"").unwrap();
    let tar = w.finish().unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let names: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| String::from_utf8(e.unwrap().path_bytes().into_owned()).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "etc/.wh.passwd",
            ".wh.top",
            "var/lib/.wh..wh..opq",
            ".wh..wh..opq"
        ]
    );
}

#[test]
fn layer_compression_detected_and_decoded() {
    let data = make_tar(&[(b"f", F, b"", b"hello")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data[..100]).unwrap();
    let mut gzipped = gz.finish().unwrap();
    // a second gzip member, as pigz writes
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data[100..]).unwrap();
    gzipped.extend(gz.finish().unwrap());
    let zstded = zstd::encode_all(&data[..], 3).unwrap();
    for (blob, c) in [
        (&data, Compression::None),
        (&gzipped, Compression::Gzip),
        (&zstded, Compression::Zstd),
    ] {
        assert_eq!(detect(&blob[..4]), c);
        let mut out = Vec::new();
        decoder(&blob[..], c)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
    assert_eq!(detect(b""), Compression::None);
    assert_eq!(
        media_type(Compression::None),
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        media_type(Compression::Gzip),
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(
        media_type(Compression::Zstd),
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
}
