//! cc-attach through a pty the test drives: typing, the window size, the
//! detach keys (default, and turned off), and several attachments at once.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{env_with_img, root_or_skip, stdout, wait_for, Env};

/// cc-attach running on the slave of a pty the test opened; the test
/// types into the master and reads what the pty shows.
struct Session {
    child: Child,
    master: File,
    seen: Arc<Mutex<Vec<u8>>>,
    slave: Option<OwnedFd>,
}

impl Session {
    fn new(env: &Env, args: &[&str], rows: u16, cols: u16) -> Session {
        let ws = nix::pty::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&ws), None).expect("openpty");
        let dup = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        let child = env
            .cmd("cc-attach")
            .args(args)
            .stdin(dup(&pty.slave))
            .stdout(dup(&pty.slave))
            .stderr(dup(&pty.slave))
            .spawn()
            .expect("spawn cc-attach");
        let master = File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        Session {
            child,
            master,
            seen,
            slave: Some(pty.slave),
        }
    }

    fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    fn type_(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    /// Wait until the pty has shown `want`; panics with what it showed.
    fn expect(&self, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.seen().contains(want) {
            assert!(
                Instant::now() < deadline,
                "the pty never showed {want:?}; it showed:\n{:?}",
                self.seen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// cc-attach's exit code, waiting at most `timeout`; None if still
    /// running.
    fn exit_within(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn termios(&self) -> nix::sys::termios::Termios {
        nix::sys::termios::tcgetattr(self.slave.as_ref().unwrap().as_fd()).unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Closing the slave ends the reader thread with EIO.
        self.slave.take();
    }
}

#[test]
fn type_see_output_and_detach_with_ctrl_p_ctrl_q() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["-i", "-t", "img", "sh"]);
    let mut s = Session::new(&env, &[&id], 30, 90);
    // A new pty starts cooked; cc-attach may already have made it raw by
    // now, so "before" is the cooked state every pty starts in.
    let before = {
        let p = nix::pty::openpty(None, None).unwrap();
        nix::sys::termios::tcgetattr(p.slave.as_fd()).unwrap()
    };
    // The typed line shows "echo $((6*7))"; its output is "42".
    s.type_(b"echo $((6*7))\n");
    s.expect("42", Duration::from_secs(5));
    s.type_(b"\x10\x11");
    let code = s.exit_within(Duration::from_secs(5));
    assert_eq!(
        code,
        Some(0),
        "cc-attach after ctrl-p ctrl-q; pty showed:\n{:?}",
        s.seen()
    );
    assert!(
        env.ps_running(&id),
        "the container stopped on detach: {}",
        env.ps_status(&id)
    );
    let after = s.termios();
    assert_eq!(
        before.local_flags, after.local_flags,
        "the pty's lflags were not restored"
    );
    assert_eq!(
        before.input_flags, after.input_flags,
        "the pty's iflags were not restored"
    );
    drop(s);
    // Attach again: the shell is still there.
    let mut s = Session::new(&env, &[&id], 30, 90);
    s.type_(b"echo $((7*8))\n");
    s.expect("56", Duration::from_secs(5));
    // Ending the command ends cc-attach with its code.
    s.type_(b"exit 3\n");
    assert_eq!(s.exit_within(Duration::from_secs(5)), Some(3));
    assert_eq!(env.wait_code(&id, Duration::from_secs(5)), "3");
}

#[test]
fn window_size_is_pushed_on_attach() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["-i", "-t", "img", "sh"]);
    let mut s = Session::new(&env, &[&id], 33, 77);
    s.type_(b"stty size\n");
    s.expect("33 77", Duration::from_secs(5));
    s.type_(b"\x10\x11");
    assert_eq!(s.exit_within(Duration::from_secs(5)), Some(0));
    drop(s);
    let mut s = Session::new(&env, &[&id], 21, 61);
    s.type_(b"stty size\n");
    s.expect("21 61", Duration::from_secs(5));
}

#[test]
fn empty_detach_keys_turn_detaching_off() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["-i", "-t", "img", "sh"]);
    let mut s = Session::new(&env, &["--detach-keys", "", &id], 30, 90);
    s.type_(b"echo $((6*7))\n");
    s.expect("42", Duration::from_secs(5));
    s.type_(b"\x10\x11");
    assert_eq!(
        s.exit_within(Duration::from_secs(1)),
        None,
        "cc-attach --detach-keys \"\" detached on ctrl-p ctrl-q"
    );
    // The keys went to the shell: cancel that line, then it still works.
    s.type_(b"\x03");
    s.expect("^C\r\n/ # ", Duration::from_secs(5));
    s.type_(b"echo $((8*9))\n");
    s.expect("72", Duration::from_secs(5));
    s.type_(b"exit 0\n");
    assert_eq!(s.exit_within(Duration::from_secs(5)), Some(0));
}

#[test]
fn custom_detach_keys() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d(["-i", "-t", "img", "sh"]);
    let mut s = Session::new(&env, &["--detach-keys", "ctrl-x", &id], 30, 90);
    s.type_(b"echo $((6*7))\n");
    s.expect("42", Duration::from_secs(5));
    s.type_(b"\x18");
    assert_eq!(s.exit_within(Duration::from_secs(5)), Some(0));
    assert!(env.ps_running(&id));
}

#[test]
fn two_attachments_see_the_same_output() {
    root_or_skip!();
    let env = env_with_img();
    let id = env.run_d([
        "img",
        "sh",
        "-c",
        "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done",
    ]);
    let spawn = || {
        env.cmd("cc-attach")
            .args(["--no-stdin", &id])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    // Each attachment's output so far, read as it comes.
    let read = |c: &mut Child| {
        let mut s = c.stdout.take().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let buf = Arc::clone(&seen);
        let t = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = s.read(&mut chunk) {
                buf.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        (seen, t)
    };
    let text =
        |seen: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let ticks = |o: &str| -> Vec<String> {
        o.lines()
            .filter(|l| l.starts_with("tick "))
            .map(String::from)
            .collect()
    };
    let ((sa, ra), (sb, rb)) = (read(&mut a), read(&mut b));
    // Both have seen five ticks in common, or one ended (asserted below).
    wait_for(
        Duration::from_secs(30),
        "five ticks in both attachments",
        || {
            let (ta, tb) = (ticks(&text(&sa)), ticks(&text(&sb)));
            let common = ta.iter().filter(|t| tb.contains(t)).count();
            let ended = a.try_wait().unwrap().is_some() || b.try_wait().unwrap().is_some();
            (common >= 5 || ended).then_some(())
        },
    );
    for c in [&mut a, &mut b] {
        assert!(
            c.try_wait().unwrap().is_none(),
            "cc-attach --no-stdin ended early"
        );
        c.kill().unwrap();
        c.wait().unwrap();
    }
    ra.join().unwrap();
    rb.join().unwrap();
    let (oa, ob) = (text(&sa), text(&sb));
    let (ta, tb) = (ticks(&oa), ticks(&ob));
    assert!(ta.len() >= 5, "first attachment saw {ta:?}");
    assert!(tb.len() >= 5, "second attachment saw {tb:?}");
    let common = ta.iter().filter(|t| tb.contains(t)).count();
    assert!(
        common >= 5,
        "the attachments saw different output:\n{oa}\n---\n{ob}"
    );
    assert!(
        env.ps_running(&id),
        "killing the attachments stopped the container"
    );
    // And the log has it all as well.
    let logs = stdout(&env.logs([&id]));
    for t in &ta {
        assert!(logs.lines().any(|l| l == t), "{t} not in cc-logs");
    }
}
