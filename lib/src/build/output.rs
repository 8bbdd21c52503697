//! Where a build's output goes. Stdout carries only the image id: while
//! the build runs, what RUN's commands write to stdout goes to stderr,
//! and with `-q` both go nowhere (a failed RUN replays its log). Stages
//! run at once, so each line a step writes is shown under its stage and
//! step, `[build 2/5] …`, as BuildKit names them.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// While alive, fd 1 is fd 2 (or both /dev/null with `-q`).
pub struct OutputToStderr {
    saved: [i32; 2],
}

impl OutputToStderr {
    pub fn new(quiet: bool) -> OutputToStderr {
        // SAFETY: dup of the process's own stdout and stderr, which stay
        // open; the copies are closed in Drop.
        let saved = unsafe { [libc::dup(1), libc::dup(2)] };
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null");
        match (quiet, null) {
            (true, Ok(null)) => {
                // SAFETY: dup2 onto fds 1 and 2, which this process owns.
                unsafe {
                    libc::dup2(null.as_raw_fd(), 1);
                    libc::dup2(null.as_raw_fd(), 2);
                }
            }
            _ => {
                // SAFETY: as above.
                unsafe {
                    libc::dup2(2, 1);
                }
            }
        }
        OutputToStderr { saved }
    }

    /// The real stderr, for a failed command's log under `-q`.
    pub fn stderr(&self) -> i32 {
        self.saved[1]
    }
}

impl Drop for OutputToStderr {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        for (fd, saved) in [1, 2].into_iter().zip(self.saved) {
            if saved >= 0 {
                // SAFETY: restores the fds saved in new, then closes the copy.
                unsafe {
                    libc::dup2(saved, fd);
                    libc::close(saved);
                }
            }
        }
    }
}

/// One line on stderr, whole (the lock keeps the stages' lines apart).
pub fn line(prefix: &str, text: &[u8]) {
    let mut buf = Vec::with_capacity(prefix.len() + text.len() + 1);
    buf.extend_from_slice(prefix.as_bytes());
    buf.extend_from_slice(text);
    if !buf.ends_with(b"\n") {
        buf.push(b'\n');
    }
    let _ = std::io::stderr().lock().write_all(&buf);
}

/// A pipe a RUN's output is written to; a thread shows each of its lines
/// on stderr after `prefix`. Dropping it closes the pipe and waits for
/// the last line.
pub struct Prefixed {
    w: Option<std::io::PipeWriter>,
    shown: Option<JoinHandle<()>>,
}

impl Prefixed {
    pub fn new(prefix: String) -> Result<Prefixed> {
        let (r, w) = std::io::pipe().map_err(|e| Error::io("create", "a pipe", e))?;
        let shown = std::thread::spawn(move || {
            let mut r = BufReader::new(r);
            let mut text = Vec::new();
            while matches!(r.read_until(b'\n', &mut text), Ok(n) if n > 0) {
                line(&prefix, &text);
                text.clear();
            }
        });
        Ok(Prefixed {
            w: Some(w),
            shown: Some(shown),
        })
    }

    /// The pipe's end to write to, open until drop.
    pub fn fd(&self) -> Option<RawFd> {
        self.w.as_ref().map(|w| w.as_raw_fd())
    }
}

impl Drop for Prefixed {
    fn drop(&mut self) {
        drop(self.w.take());
        if let Some(t) = self.shown.take() {
            let _ = t.join();
        }
    }
}
