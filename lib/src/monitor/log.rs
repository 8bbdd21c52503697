//! ctr.log: one JSON object per line, `{"time": RFC 3339 with nanoseconds,
//! "stream": "stdout"|"stderr", "log": text}`. Text is split at newlines;
//! a piece without one (the last line, or a line longer than a read) is
//! written with `"partial": true` so readers can join it (podman 14477).
//! With a size cap the file rotates to `ctr.log.1`, one kept backup, so a
//! capped log is never truncated to nothing (conmon 211).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
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
    file: File,
    /// Formatted records not yet written: one write per turn of the
    /// monitor's loop, however many lines it read.
    out: Vec<u8>,
    /// Bytes in the current file, written or in `out`.
    written: u64,
    max: Option<u64>,
    /// The unterminated tail of each stream, carried to the next read.
    pending: [Vec<u8>; 2],
}

/// Longest a held-back partial line may grow before it is written out.
const MAX_PENDING: usize = 16 * 1024;

/// Past this much formatted output a record is written out at once.
const OUT_HIGH: usize = 1 << 20;

impl LogWriter {
    pub fn open(path: &Path, max: Option<u64>) -> io::Result<LogWriter> {
        let file = open_append(path)?;
        let written = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            out: Vec::new(),
            written,
            max,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Logs what a stream produced; complete lines now, the rest later.
    /// All lines of one read share its time, as conmon's do.
    pub fn write(&mut self, stream: Stream, data: &[u8], time: &str) -> io::Result<()> {
        let i = stream as usize;
        let mut rest = data;
        let head = Head::new(stream, time);
        self.out.reserve(data.len() + data.len() / 2 + 256);
        // One scan of the whole read instead of one per line.
        let clean = plain(data, b'\n');
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(nl + 1);
            if self.pending[i].is_empty() && clean {
                self.record_plain(&head, &line[..nl]);
            } else if self.pending[i].is_empty() {
                self.record(&head, &line[..nl], false)?;
            } else {
                let mut joined = std::mem::take(&mut self.pending[i]);
                joined.extend_from_slice(&line[..nl]);
                self.record(&head, &joined, false)?;
            }
            rest = tail;
        }
        self.pending[i].extend_from_slice(rest);
        if self.pending[i].len() >= MAX_PENDING {
            let long = std::mem::take(&mut self.pending[i]);
            self.record(&head, &long, true)?;
        }
        Ok(())
    }

    /// Writes out what is held back (at exit: the last line without a
    /// newline, kept and marked partial) and flushes.
    pub fn finish(&mut self, time: &str) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let p = std::mem::take(&mut self.pending[stream as usize]);
            if !p.is_empty() {
                self.record(&Head::new(stream, time), &p, true)?;
            }
        }
        self.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        let r = (&self.file).write_all(&self.out);
        self.out.clear();
        if self.out.capacity() > OUT_HIGH {
            self.out = Vec::new();
        }
        r
    }

    /// A whole line known to need no escaping, with no size cap to check.
    fn record_plain(&mut self, head: &Head, text: &[u8]) {
        if self.max.is_some() || self.out.len() >= OUT_HIGH {
            // The general path checks the cap and flushes.
            let _ = self.record(head, text, false);
            return;
        }
        let before = self.out.len();
        self.out.extend_from_slice(head.as_bytes());
        self.out.extend_from_slice(text);
        self.out.extend_from_slice(b"\"}\n");
        self.written += (self.out.len() - before) as u64;
    }

    fn record(&mut self, head: &Head, text: &[u8], partial: bool) -> io::Result<()> {
        if let Some(max) = self.max {
            if self.written > 0 && self.written + text.len() as u64 + 80 > max {
                self.rotate()?;
            }
        }
        if self.out.len() >= OUT_HIGH {
            self.flush()?;
        }
        let before = self.out.len();
        self.out.extend_from_slice(head.as_bytes());
        escape_into(&mut self.out, text);
        self.out.extend_from_slice(if partial {
            b"\",\"partial\":true}\n"
        } else {
            b"\"}\n"
        });
        self.written += (self.out.len() - before) as u64;
        Ok(())
    }

    /// ctr.log becomes ctr.log.1 (replacing the older backup) and a new
    /// ctr.log starts: the last `max` bytes or more always remain.
    fn rotate(&mut self) -> io::Result<()> {
        self.flush()?;
        fs::rename(&self.path, self.path.with_extension("log.1"))?;
        self.file = open_append(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

/// 0600: what a container prints is its own (secrets printed at start).
fn open_append(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = 0o600;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(mode)
        .open(path)
}

/// `{"time":"…","stream":"…","log":"`, the same for every line of a read.
struct Head {
    buf: [u8; 96],
    len: usize,
}

impl Head {
    fn new(stream: Stream, time: &str) -> Head {
        let mut h = Head {
            buf: [0; 96],
            len: 0,
        };
        let time = &time.as_bytes()[..time.len().min(48)];
        for part in [
            &b"{\"time\":\""[..],
            time,
            b"\",\"stream\":\"",
            stream.as_str().as_bytes(),
            b"\",\"log\":\"",
        ] {
            h.buf[h.len..h.len + part.len()].copy_from_slice(part);
            h.len += part.len();
        }
        h
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// True when every byte is printable ASCII other than `"` and `\`, or is
/// the control character `also` (pass b' ' for none): the text goes into
/// JSON as it is. No early exit inside a
/// block, so the compiler can test 16 bytes at a time.
fn plain(text: &[u8], also: u8) -> bool {
    text.chunks(64).all(|block| {
        !block.iter().fold(false, |bad, &b| {
            bad | ((b < 0x20) & (b != also)) | (b >= 0x7f) | (b == b'"') | (b == b'\\')
        })
    })
}

/// JSON string escaping of raw bytes: invalid UTF-8 becomes U+FFFD, so the
/// line stays valid JSON whatever the program wrote. Valid UTF-8 is copied
/// byte by byte, escaping only quotes, backslashes and control characters.
fn escape_into(out: &mut Vec<u8>, text: &[u8]) {
    // Most lines need no escaping at all: one scan, one copy.
    if plain(text, b' ') {
        out.extend_from_slice(text);
        return;
    }
    let lossy;
    let bytes = match std::str::from_utf8(text) {
        Ok(_) => text,
        Err(_) => {
            lossy = String::from_utf8_lossy(text).into_owned();
            lossy.as_bytes()
        }
    };
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
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

/// Reads a container's log, following it when asked: `ctr.log.1` (the
/// rotated backup) then `ctr.log`, one entry at a time to `emit`, never
/// more than one record in memory: a program that prints a gigabyte
/// without a newline costs the reader what one 16 KiB piece does (the
/// writer splits such a line into `partial` records; nothing joins them).
/// A rotation while following is noticed by inode.
pub struct Reader {
    path: PathBuf,
    file: Option<(io::BufReader<File>, u64)>,
    /// The unfinished last line of the file being followed.
    held: Held,
}

/// Longest record line a reader holds; the writer's are at most one read
/// of the monitor plus `MAX_PENDING`. A longer one (a damaged file) is
/// skipped, not held.
const MAX_RECORD: usize = 4 << 20;

/// A record line being read, and whether it is being skipped as too long.
#[derive(Default)]
struct Held {
    line: Vec<u8>,
    skipping: bool,
}

impl Reader {
    pub fn new(dir: &Path) -> Reader {
        Reader {
            path: dir.join("ctr.log"),
            file: None,
            held: Held::default(),
        }
    }

    /// Every entry there is now to `emit`, the backup's first.
    pub fn each(&mut self, emit: &mut dyn FnMut(Entry)) -> io::Result<()> {
        if let Ok(old) = File::open(self.path.with_extension("log.1")) {
            let mut held = Held::default();
            each_record(&mut io::BufReader::new(old), &mut held, emit)?;
        }
        self.poll(emit)
    }

    /// Whatever was written since the last call, to `emit`.
    pub fn poll(&mut self, emit: &mut dyn FnMut(Entry)) -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let ino_now = fs::metadata(&self.path).map(|m| m.ino()).ok();
        let rotated = matches!((&self.file, ino_now), (Some((_, ino)), Some(now)) if *ino != now);
        if rotated {
            // Finish the old file (now ctr.log.1), then start the new one.
            if let Some((f, _)) = &mut self.file {
                each_record(f, &mut self.held, emit)?;
            }
            self.held = Held::default();
            self.file = None;
        }
        if self.file.is_none() {
            let Ok(f) = File::open(&self.path) else {
                return Ok(());
            };
            let ino = f.metadata()?.ino();
            self.file = Some((io::BufReader::with_capacity(1 << 16, f), ino));
        }
        if let Some((f, _)) = &mut self.file {
            each_record(f, &mut self.held, emit)?;
        }
        Ok(())
    }
}

/// Reads `r` to its end, parsing each complete line; an unfinished last
/// line stays in `held` for the next call.
fn each_record(
    r: &mut impl io::BufRead,
    held: &mut Held,
    emit: &mut dyn FnMut(Entry),
) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let nl = memchr::memchr(b'\n', buf);
        let take = nl.map_or(buf.len(), |i| i + 1);
        if !held.skipping && held.line.len() + take > MAX_RECORD {
            held.line = Vec::new();
            held.skipping = true;
        }
        if !held.skipping {
            held.line.extend_from_slice(&buf[..take]);
        }
        r.consume(take);
        if nl.is_some() {
            if !held.skipping {
                if let Ok(e) = serde_json::from_slice(&held.line) {
                    emit(e);
                }
            }
            held.line.clear();
            held.skipping = false;
        }
    }
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
    fn text_escaped_as_json() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ctr.log");
        let mut w = LogWriter::open(&p, None).unwrap();
        let odd = "tab\there \"q\" back\\slash \u{1} del\u{7f} é ✓ cr\r";
        let long = "y".repeat(1000) + "\"";
        let mut data = Vec::new();
        for text in [odd, &long, &"z".repeat(200)] {
            data.extend_from_slice(text.as_bytes());
            data.push(b'\n');
        }
        data.extend_from_slice(b"bad \xff utf8\n");
        w.write(Stream::Stdout, &data, "t").unwrap();
        w.finish("t").unwrap();
        let logs: Vec<String> = entries(&p).into_iter().map(|e| e.log).collect();
        assert_eq!(logs, [odd, &long, &"z".repeat(200), "bad \u{fffd} utf8"]);
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

    #[test]
    fn the_reader_streams_and_skips_an_overlong_record() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ctr.log");
        let mut w = LogWriter::open(&p, None).unwrap();
        w.write(Stream::Stdout, b"before\n", "t").unwrap();
        w.finish("t").unwrap();
        // A damaged record longer than a reader holds, then a good one.
        let mut junk = vec![b'x'; MAX_RECORD + 10];
        junk.push(b'\n');
        fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(&junk)
            .unwrap();
        let mut w = LogWriter::open(&p, None).unwrap();
        w.write(Stream::Stderr, b"after\n", "t").unwrap();
        w.finish("t").unwrap();
        let mut got = Vec::new();
        let mut r = Reader::new(d.path());
        r.each(&mut |e| got.push(e.log)).unwrap();
        assert_eq!(got, ["before", "after"]);
        assert!(r.held.line.capacity() <= MAX_RECORD);
    }
}
