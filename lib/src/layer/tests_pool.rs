//! Applying with worker threads gives what applying on one thread gives:
//! the same tree, the same counts, the same error. Run as root.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::apply::apply_with;
use super::tests::{make_tar, snapshot, Raw};
use super::Applied;
use crate::error::Error;

use tar::EntryType::{Directory as D, Link as H, Regular as F, Symlink as S};

/// Applies `tar` into a fresh folder with 0, 2 and 4 workers; checks that
/// all three give the same result and, if it is Ok, the same tree (after an
/// error, which files were written differs; the caller removes them);
/// returns the folder of the last.
fn same_on_every_pool(tar: &[u8]) -> (tempfile::TempDir, crate::Result<Applied>) {
    let mut seen: Option<(String, BTreeMap<PathBuf, String>)> = None;
    let mut last = None;
    for workers in [0, 2, 4] {
        let t = tempfile::tempdir().unwrap();
        let r = apply_with(tar, t.path(), &[], workers);
        let shown = format!("{r:?}").replace(t.path().to_str().unwrap(), "DEST");
        let tree = snapshot(t.path());
        if let Some((result, want)) = &seen {
            assert_eq!(&shown, result, "result with {workers} workers");
            if r.is_err() {
                continue;
            }
            for (p, w) in want {
                assert_eq!(
                    tree.get(p),
                    Some(w),
                    "{} with {workers} workers",
                    p.display()
                );
            }
            assert_eq!(tree.len(), want.len(), "entries with {workers} workers");
        }
        last = Some((t, r));
        seen = Some((shown, tree));
    }
    last.unwrap()
}

/// Folders `d<0..dirs>/`, then `n` files of a few hundred bytes in them,
/// named `d<i % dirs>/f<i>`.
fn small_files(n: usize, dirs: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let folders = (0..dirs).map(|i| (format!("d{i}/").into_bytes(), Vec::new()));
    let files = (0..n).map(|i| {
        let name = format!("d{}/f{i}", i % dirs).into_bytes();
        let data = vec![(i % 251) as u8; (i * 37) % 700];
        (name, data)
    });
    folders.chain(files).collect()
}

fn raws(files: &[(Vec<u8>, Vec<u8>)]) -> Vec<Raw<'_>> {
    files
        .iter()
        .map(|(n, d)| {
            let kind = if n.ends_with(b"/") { D } else { F };
            (&n[..], kind, &b""[..], &d[..])
        })
        .collect()
}

#[test]
fn layer_pool_many_small_files() {
    let files = small_files(3000, 40);
    let mut entries = raws(&files);
    entries.push((b"d1/", D, b"", b""));
    entries.push((b"link", S, b"d2/f2", b""));
    entries.push((b"via/", D, b"", b""));
    let (t, r) = same_on_every_pool(&make_tar(&entries));
    let a = r.unwrap();
    let bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    assert_eq!((a.entries, a.bytes), (3043, bytes as u64));
    for (n, d) in files.iter().skip(40).step_by(97) {
        let p = t.path().join(std::str::from_utf8(n).unwrap());
        assert_eq!(&fs::read(&p).unwrap(), d);
        assert_eq!(fs::metadata(&p).unwrap().mtime(), 1_000_000);
    }
}

#[test]
fn layer_pool_same_path_twice() {
    let files = small_files(400, 4);
    let mut entries = raws(&files);
    let big = vec![1u8; 3 << 20]; // written by the reader
    entries.extend([
        (&b"usr/"[..], D, &b""[..], &b""[..]),
        (b"usr/lib/", D, b"", b""),
        (b"usr/lib/x", F, b"", &big[..]),
        (b"lib", S, b"usr/lib", b""),
        // the same file by another path, while the first may be pending
        (b"lib/x", F, b"", b"second"),
        (b"d0/f0", F, b"", b"replaced"),
        (b"d1/f1", D, b"", b""),
        (b"d1/f1/in", F, b"", b"inside"),
        (b"d1/f1", F, b"", b"a file again"),
        (b"d2/f2", S, b"elsewhere", b""),
    ]);
    let (t, r) = same_on_every_pool(&make_tar(&entries));
    r.unwrap();
    let p = |n: &str| t.path().join(n);
    assert_eq!(fs::read(p("usr/lib/x")).unwrap(), b"second");
    assert_eq!(fs::read(p("d0/f0")).unwrap(), b"replaced");
    assert_eq!(fs::read(p("d1/f1")).unwrap(), b"a file again");
    assert_eq!(fs::read_link(p("d2/f2")).unwrap(), Path::new("elsewhere"));
}

#[test]
fn layer_pool_hardlink_to_a_file_written_late() {
    let files = small_files(500, 5);
    let mut entries = raws(&files);
    // The biggest file a worker takes, queued behind 500 others.
    let big = vec![9u8; super::pool::INLINE as usize];
    entries.extend([
        (&b"big"[..], F, &b""[..], &big[..]),
        (b"big2", H, b"big", b""),
        (b"d4/f499-link", H, b"d4/f499", b""),
        (b"l", S, b"/d3", b""),
        (b"via-symlink", H, b"l/f498", b""),
    ]);
    let (t, r) = same_on_every_pool(&make_tar(&entries));
    r.unwrap();
    let ino = |n: &str| fs::metadata(t.path().join(n)).unwrap().ino();
    assert_eq!(ino("big"), ino("big2"));
    assert_eq!(fs::read(t.path().join("big2")).unwrap(), big);
    assert_eq!(ino("d4/f499"), ino("d4/f499-link"));
    assert_eq!(ino("d3/f498"), ino("via-symlink"));
}

#[test]
fn layer_pool_whiteout_after_write() {
    let files = small_files(300, 3);
    let mut entries = raws(&files);
    entries.extend([
        (&b"d0/.wh.f0"[..], F, &b""[..], &b""[..]),
        (b"e/y", F, b"", b"kept"),
        (b".wh.e", F, b"", b""),
        (b"g/z", F, b"", b"kept too"),
        (b"g/.wh..wh..opq", F, b"", b""),
        (b"h", F, b"", b"a file"),
        (b"h/.wh..wh..opq", F, b"", b""),
    ]);
    let (t, r) = same_on_every_pool(&make_tar(&entries));
    let e = r.unwrap_err();
    assert!(e.to_string().contains("cannot mark opaque"), "{e}");
    let d = t.path();
    assert_eq!(
        fs::read(d.join("d0/f0")).unwrap(),
        b"",
        "same-layer file kept"
    );
    assert_eq!(fs::read(d.join("e/y")).unwrap(), b"kept");
    assert_eq!(fs::read(d.join("g/z")).unwrap(), b"kept too");
}

#[test]
fn layer_pool_path_through_a_pending_file() {
    let files = small_files(200, 2);
    let mut entries = raws(&files);
    entries.extend([
        (&b"a"[..], F, &b""[..], &b"file"[..]),
        (b"a/b", F, b"", b"under a file"),
    ]);
    let (_t, r) = same_on_every_pool(&make_tar(&entries));
    let e = r.unwrap_err().to_string();
    assert!(e.contains("not a directory"), "{e}");
}

/// A tar of `n` small files where file `bad` carries an xattr no
/// filesystem takes, and the last entry is refused.
fn failing_tar(n: usize, bad: usize) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..n {
        if i == bad {
            b.append_pax_extensions([("SCHILY.xattr.bogus.x", &b"1"[..])])
                .unwrap();
        }
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(F);
        h.set_mode(0o644);
        h.set_size(3);
        b.append_data(&mut h, format!("d{}/f{i}", i % 3), &b"abc"[..])
            .unwrap();
    }
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(F);
    h.set_size(0);
    h.as_old_mut().name[..5].copy_from_slice(b"../up");
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn layer_pool_error_of_the_earliest_entry() {
    // The worker's failure is an earlier entry than the reader's refusal.
    let (_t, r) = same_on_every_pool(&failing_tar(300, 150));
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Io {
                op: "set xattrs of",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("/d0/f150': operation not supported"),
        "{e}"
    );
    // Without it, the refusal names its entry.
    let (_t, r) = same_on_every_pool(&failing_tar(300, 999));
    let e = r.unwrap_err().to_string();
    assert_eq!(e, "layer entry '../up': path leaves the layer");
}

/// A tmpfs, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(self.0.path(), rustix::mount::UnmountFlags::DETACH);
    }
}

#[test]
fn layer_pool_disk_full() {
    let files = small_files(2000, 10);
    let entries = raws(&files);
    let tar = make_tar(&entries);
    for workers in [0, 2] {
        let fs = Tmpfs(tempfile::tempdir().unwrap());
        rustix::mount::mount(
            "tmpfs",
            fs.0.path(),
            "tmpfs",
            rustix::mount::MountFlags::empty(),
            c"size=256k",
        )
        .unwrap();
        let e = apply_with(&tar[..], fs.0.path(), &[], workers).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        assert!(e.to_string().ends_with(": no space left on device"), "{e}");
    }
}
