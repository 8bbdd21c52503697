//! cc-build's COPY and ADD: links in the source and the image, local
//! tars unpacked, URLs fetched and checked.

use std::fs;

use support::build::{build, built, containerfile, context, in_image, last_line_error, tar_gz};
use support::{
    assert_code, assert_no_leaks, assert_one_line_error, env_with_img, root_or_skip, stderr,
};

#[test]
fn add_unpacks_a_local_tar() {
    root_or_skip!();
    let env = env_with_img();
    let dir = context(
        &env,
        "ctx",
        &[
            (
                "Containerfile",
                "FROM img\nADD files.tar /unpacked/\nADD plain.txt /plain\n",
            ),
            ("plain.txt", "p\n"),
        ],
    );
    let src = context(&env, "tarsrc", &[("inner/f", "in the tar\n")]);
    tar_gz(&src, "inner", &dir.join("files.tar"));
    built(&env, &dir, &["-t", "add:1"]);
    assert_eq!(
        in_image(&env, "add:1", "cat /unpacked/inner/f /plain"),
        "in the tar\np\n"
    );
    let url = containerfile(&env, "url", "FROM img\nADD http://127.0.0.1:9/x /x\n");
    // A URL nobody answers (port 9 on loopback): one line naming it.
    let out = build(&env, &url, &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        last_line_error(&out).contains("http://127.0.0.1:9/x"),
        "{}",
        stderr(&out)
    );
    assert_no_leaks(&env);
}

#[test]
fn copy_follows_source_links_and_destination_links_in_the_image() {
    root_or_skip!();
    let env = env_with_img();
    let file = "FROM img\n\
        RUN mkdir -p /real && ln -s /real /lnk && ln -s real /rel\n\
        COPY link /lnk/\n\
        COPY abs /rel/abs\n\
        COPY dirlink /lnk/d/\n";
    let dir = context(
        &env,
        "links",
        &[
            ("Containerfile", file),
            ("target.txt", "t\n"),
            ("sub/a", "a\n"),
        ],
    );
    let link =
        |target: &str, name: &str| std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    link("target.txt", "link");
    // Absolute: inside the context, as if it were `/`.
    link("/target.txt", "abs");
    link("sub", "dirlink");
    let id = built(&env, &dir, &["-q"]);
    let got = in_image(
        &env,
        &id,
        "cat /real/link /real/abs /real/d/a; test -L /real/link || echo file; readlink /lnk; readlink /rel",
    );
    assert_eq!(got, "t\nt\na\nfile\n/real\nreal\n");
    // A link that leads nowhere inside the context is a missing source.
    link("/etc/hostname", "out");
    fs::write(dir.join("Containerfile"), "FROM img\nCOPY out /out\n").unwrap();
    let out = build(&env, &dir, &["-q"]);
    assert_code(&out, 3, "link out of the context");
    assert_one_line_error(&out, "cc-build");
    assert_no_leaks(&env);
}

/// A one-file HTTP server on 127.0.0.1 for ADD's URLs: `/f.txt` is
/// `fetched\n` with a Last-Modified time, anything else 404. Its port.
fn http_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(&s);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let answer = match first.split(' ').nth(1) {
                Some("/f.txt") => "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\
                    Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\nfetched\n",
                _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            };
            let _ = (&s).write_all(answer.as_bytes());
        }
    });
    port
}

/// ADD of an http URL: the file named as the URL ends, mode 0600 and the
/// server's Last-Modified time, `--checksum` checked; a wrong checksum, a
/// missing file, a URL in COPY and a checksum on a local file refused.
#[test]
fn add_fetches_urls_and_checks_their_checksum() {
    root_or_skip!();
    let env = env_with_img();
    let port = http_server();
    let url = format!("http://127.0.0.1:{port}/f.txt");
    let sum = "sha256:9a0e1d8dc5a1b8f62f4a4ed2e3f58b5ec1b7a0aa3d47c7a49d4c4d3c5b7d1e5a";
    let good = "sha256:f6e379b0639054c51806fd5d67948cbcaebd354b0e91a7683932b043c5c3ba32";
    let dir = context(
        &env,
        "ctx",
        &[(
            "Containerfile",
            &format!(
                "FROM img\nADD {url} /got/\nADD --checksum={good} {url} /named\n\
                 RUN stat -c '%a %Y' /got/f.txt > /meta\n"
            ),
        )],
    );
    built(&env, &dir, &["-t", "u:1"]);
    assert_eq!(
        in_image(&env, "u:1", "cat /got/f.txt /named /meta"),
        "fetched\nfetched\n600 784111777\n"
    );
    for (file, code) in [
        (format!("FROM img\nADD --checksum={sum} {url} /x\n"), 1),
        (
            format!("FROM img\nADD http://127.0.0.1:{port}/nothing /x\n"),
            3,
        ),
        (format!("FROM img\nCOPY {url} /x\n"), 1),
        (
            format!("FROM img\nADD --checksum={good} Containerfile /x\n"),
            1,
        ),
    ] {
        let bad = context(&env, "bad", &[("Containerfile", &file)]);
        let out = build(&env, &bad, &["-q", "-t", "bad:1"]);
        assert_code(&out, code, &file);
        assert_one_line_error(&out, "cc-build");
        assert_code(&env.run("cc-inspect", ["bad:1"]), 3, "nothing tagged");
    }
    assert_no_leaks(&env);
}

/// ADD of a local tar whose file is larger than a few MiB: its bytes
/// (streamed through the store's tmp/, not held in memory) are the file's
/// own, and nothing of the spill is left.
#[test]
fn add_unpacks_a_large_entry_whole() {
    root_or_skip!();
    let env = env_with_img();
    let dir = containerfile(
        &env,
        "ctx",
        "FROM img\nCOPY big.bin /plain.bin\nADD big.tar.gz /unpacked/\n",
    );
    let big: Vec<u8> = (0..12u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(dir.join("big.bin"), &big).unwrap();
    tar_gz(&dir, "big.bin", &dir.join("big.tar.gz"));
    built(&env, &dir, &["-t", "big:1"]);
    assert_eq!(
        in_image(
            &env,
            "big:1",
            "wc -c < /unpacked/big.bin; cmp /plain.bin /unpacked/big.bin && echo same"
        ),
        format!("{}\nsame\n", big.len())
    );
    assert_no_leaks(&env);
}
