//! ctr.log: one JSON object per line, `{"time": RFC 3339 with nanoseconds,
//! "stream": "stdout"|"stderr", "log": text}`. Text is split at newlines;
//! a piece without one (the last line, or a line longer than a read) is
//! written with `"partial": true` so readers can join it (podman 14477).
//! With a size cap the file rotates to `ctr.log.1`, one kept backup, so a
//! capped log is never truncated to nothing (conmon 211).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

pub struct LogWriter {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
    max: Option<u64>,
    /// The unterminated tail of each stream, carried to the next read.
    pending: [Vec<u8>; 2],
}

/// Longest a held-back partial line may grow before it is written out.
const MAX_PENDING: usize = 16 * 1024;

impl LogWriter {
    pub fn open(path: &Path, max: Option<u64>) -> io::Result<LogWriter> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        let written = f.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(64 * 1024, f),
            written,
            max,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Logs what a stream produced; complete lines now, the rest later.
    pub fn write(&mut self, stream: Stream, data: &[u8], time: &str) -> io::Result<()> {
        let i = stream as usize;
        let mut rest = data;
        while let Some(nl) = memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(nl + 1);
            if self.pending[i].is_empty() {
                self.record(stream, &line[..nl], false, time)?;
            } else {
                let mut joined = std::mem::take(&mut self.pending[i]);
                joined.extend_from_slice(&line[..nl]);
                self.record(stream, &joined, false, time)?;
            }
            rest = tail;
        }
        self.pending[i].extend_from_slice(rest);
        if self.pending[i].len() >= MAX_PENDING {
            let long = std::mem::take(&mut self.pending[i]);
            self.record(stream, &long, true, time)?;
        }
        Ok(())
    }

    /// Writes out what is held back (at exit: the last line without a
    /// newline, kept and marked partial) and flushes.
    pub fn finish(&mut self, time: &str) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let p = std::mem::take(&mut self.pending[stream as usize]);
            if !p.is_empty() {
                self.record(stream, &p, true, time)?;
            }
        }
        self.out.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn record(&mut self, stream: Stream, text: &[u8], partial: bool, time: &str) -> io::Result<()> {
        if let Some(max) = self.max {
            if self.written > 0 && self.written + text.len() as u64 + 80 > max {
                self.rotate()?;
            }
        }
        // Straight into the write buffer: no allocation per line.
        let out = &mut self.out;
        out.write_all(b"{\"time\":\"")?;
        out.write_all(time.as_bytes())?;
        out.write_all(b"\",\"stream\":\"")?;
        out.write_all(stream.as_str().as_bytes())?;
        out.write_all(b"\",\"log\":\"")?;
        let escaped = escape_into(out, text)?;
        let end: &[u8] = if partial {
            b"\",\"partial\":true}\n"
        } else {
            b"\"}\n"
        };
        out.write_all(end)?;
        self.written += (9 + time.len() + 12 + 6 + 9 + escaped + end.len()) as u64;
        Ok(())
    }

    /// ctr.log becomes ctr.log.1 (replacing the older backup) and a new
    /// ctr.log starts: the last `max` bytes or more always remain.
    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let backup = self.path.with_extension("log.1");
        fs::rename(&self.path, &backup)?;
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = BufWriter::with_capacity(64 * 1024, f);
        self.written = 0;
        Ok(())
    }
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    memchr::memchr(b, s)
}

/// JSON string escaping of raw bytes: invalid UTF-8 becomes U+FFFD, so the
/// line stays valid JSON whatever the program wrote. Valid UTF-8 is copied
/// byte by byte, escaping only quotes, backslashes and control characters.
fn escape_into(out: &mut impl Write, text: &[u8]) -> io::Result<usize> {
    let lossy;
    let bytes = match std::str::from_utf8(text) {
        Ok(_) => text,
        Err(_) => {
            lossy = String::from_utf8_lossy(text).into_owned();
            lossy.as_bytes()
        }
    };
    // Most lines need no escaping at all: one scan, one copy.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.write_all(bytes)?;
        return Ok(bytes.len());
    }
    let (mut start, mut n) = (0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        n += i - start;
        if esc.is_empty() {
            let u = format!("\\u{:04x}", b);
            out.write_all(u.as_bytes())?;
            n += u.len();
        } else {
            out.write_all(esc)?;
            n += esc.len();
        }
        start = i + 1;
    }
    out.write_all(&bytes[start..])?;
    Ok(n + bytes.len() - start)
}

/// One line of ctr.log, as readers see it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Entry {
    pub time: String,
    pub stream: String,
    pub log: String,
    #[serde(default)]
    pub partial: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(path: &Path) -> Vec<Entry> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_split_and_partials_kept() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ctr.log");
        let mut w = LogWriter::open(&p, None).unwrap();
        w.write(Stream::Stdout, b"one\ntw", "t1").unwrap();
        w.write(Stream::Stderr, b"err \"q\"\n", "t1").unwrap();
        w.write(Stream::Stdout, b"o\nlast", "t2").unwrap();
        w.finish("t3").unwrap();
        let e = entries(&p);
        let logs: Vec<(&str, &str, bool)> = e
            .iter()
            .map(|e| (e.stream.as_str(), e.log.as_str(), e.partial))
            .collect();
        assert_eq!(
            logs,
            [
                ("stdout", "one", false),
                ("stderr", "err \"q\"", false),
                ("stdout", "two", false),
                ("stdout", "last", true)
            ]
        );
    }

    #[test]
    fn rotation_keeps_a_backup() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ctr.log");
        let mut w = LogWriter::open(&p, Some(1000)).unwrap();
        for i in 0..100 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes(), "t")
                .unwrap();
        }
        w.finish("t").unwrap();
        let cur = entries(&p);
        let old = entries(&d.path().join("ctr.log.1"));
        assert!(!cur.is_empty() && !old.is_empty());
        assert_eq!(cur.last().unwrap().log, "line 99");
        assert!(fs::metadata(&p).unwrap().len() <= 1000);
    }
}

/// Reads a container's log, following it when asked: `ctr.log.1` (the
/// rotated backup) then `ctr.log`, one entry at a time to `emit`. With
/// `follow`, waits for more until `running()` says the container ended
/// and nothing new came; a rotation while following is noticed by inode.
pub struct Reader {
    path: PathBuf,
    file: Option<(File, u64)>,
    buf: Vec<u8>,
}

impl Reader {
    pub fn new(dir: &Path) -> Reader {
        Reader {
            path: dir.join("ctr.log"),
            file: None,
            buf: Vec::new(),
        }
    }

    /// Every entry there is now, the backup's first.
    pub fn read_all(&mut self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        if let Ok(old) = fs::read(self.path.with_extension("log.1")) {
            out.extend(parse_lines(&old));
        }
        self.poll_new(&mut out)?;
        Ok(out)
    }

    /// Appends to `out` whatever was written since the last call.
    pub fn poll_new(&mut self, out: &mut Vec<Entry>) -> io::Result<()> {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        let ino_now = fs::metadata(&self.path).map(|m| m.ino()).ok();
        let rotated = matches!((&self.file, ino_now), (Some((_, ino)), Some(now)) if *ino != now);
        if rotated {
            // Finish the old file (now ctr.log.1), then start the new one.
            if let Some((f, _)) = &mut self.file {
                f.read_to_end(&mut self.buf)?;
            }
            self.take_lines(out);
            self.buf.clear();
            self.file = None;
        }
        if self.file.is_none() {
            let Ok(f) = File::open(&self.path) else {
                return Ok(());
            };
            let ino = f.metadata()?.ino();
            self.file = Some((f, ino));
        }
        if let Some((f, _)) = &mut self.file {
            f.read_to_end(&mut self.buf)?;
        }
        self.take_lines(out);
        Ok(())
    }

    fn take_lines(&mut self, out: &mut Vec<Entry>) {
        if let Some(end) = self.buf.iter().rposition(|&b| b == b'\n') {
            let rest = self.buf.split_off(end + 1);
            out.extend(parse_lines(&self.buf));
            self.buf = rest;
        }
    }
}

fn parse_lines(data: &[u8]) -> Vec<Entry> {
    data.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}
