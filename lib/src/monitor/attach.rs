//! The attach protocol between a container's monitor and its clients
//! (cc-run in the foreground, cc-attach), over the unix socket
//! `containers/<id>/attach.sock`. Every message is a frame: one kind byte,
//! a 4-byte big-endian length, the payload.
//!
//! monitor -> client: `STDOUT`/`STDERR` data, `EXIT` with the exit code as
//! 4 bytes. client -> monitor: `STDIN` data, `STDIN_EOF`, `RESIZE` with
//! rows and columns as 2 bytes each.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

pub use crate::sys::with_short_path;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const EXIT: u8 = 3;
pub const STDIN_EOF: u8 = 4;
pub const RESIZE: u8 = 5;

/// The attach socket at `path`, however long the store root's path is
/// ([`with_short_path`]).
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    with_short_path(path, |p| UnixStream::connect(p))
}

pub fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 5);
    v.push(kind);
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    v
}

pub fn send(w: &mut impl Write, kind: u8, data: &[u8]) -> io::Result<()> {
    w.write_all(&frame(kind, data))
}

/// Reads one whole frame; `None` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > 1 << 24 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "attach frame too large",
        ));
    }
    let mut data = vec![0u8; len];
    r.read_exact(&mut data)?;
    Ok(Some((head[0], data)))
}

/// Splits a byte stream into frames as it arrives (for non-blocking
/// readers in the monitor's poll loop).
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }
}

/// The whole frames received so far, in order.
impl Iterator for Decoder {
    type Item = (u8, Vec<u8>);

    fn next(&mut self) -> Option<(u8, Vec<u8>)> {
        if self.buf.len() < 5 {
            return None;
        }
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if self.buf.len() < 5 + len {
            return None;
        }
        let kind = self.buf[0];
        let data = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        Some((kind, data))
    }
}

/// A RESIZE payload: rows and columns, 2 bytes each.
pub fn encode_size(rows: u16, cols: u16) -> [u8; 4] {
    let (r, c) = (rows.to_be_bytes(), cols.to_be_bytes());
    [r[0], r[1], c[0], c[1]]
}

pub fn decode_size(data: &[u8]) -> Option<(u16, u16)> {
    match data {
        [a, b, c, d] => Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
        _ => None,
    }
}

/// Detach sequences as docker spells them: `ctrl-p,ctrl-q`, `ctrl-a`,
/// letters; an empty string turns detaching off.
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>, String> {
    if s.is_empty() {
        return Ok(vec![]);
    }
    s.split(',')
        .map(|k| {
            let k = k.trim();
            if let Some(c) = k.strip_prefix("ctrl-") {
                match c.as_bytes() {
                    [b] if b.is_ascii_alphabetic() => Ok(b.to_ascii_lowercase() - b'a' + 1),
                    b"@" => Ok(0),
                    b"[" => Ok(27),
                    b"\\" => Ok(28),
                    b"]" => Ok(29),
                    b"^" => Ok(30),
                    b"_" => Ok(31),
                    _ => Err(format!("invalid detach key '{k}'")),
                }
            } else if k.len() == 1 {
                Ok(k.as_bytes()[0])
            } else {
                Err(format!("invalid detach key '{k}'"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut d = Decoder::default();
        let f = frame(STDOUT, b"hello");
        d.push(&f[..3]);
        assert!(d.next().is_none());
        d.push(&f[3..]);
        d.push(&frame(EXIT, &7i32.to_be_bytes()));
        assert_eq!(d.next(), Some((STDOUT, b"hello".to_vec())));
        assert_eq!(d.next().unwrap().0, EXIT);
        let mut r = &frame(STDERR, b"x")[..];
        assert_eq!(read_frame(&mut r).unwrap(), Some((STDERR, b"x".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), [16, 17]);
        assert_eq!(parse_detach_keys("").unwrap(), Vec::<u8>::new());
        assert!(parse_detach_keys("ctrl-1").is_err());
    }
}
