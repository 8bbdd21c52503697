//! Just enough D-Bus to ask systemd for a transient scope: a blocking
//! connection to systemd's own socket (or the system bus), method calls and
//! their replies, and the handful of types those calls use. The wire format
//! is the D-Bus specification's "Message Protocol" (little-endian here);
//! values are aligned to their size from the start of the message, and a
//! message's body starts 8-aligned, so the body can be built on its own.
//!
//! A full client (zbus) would bring an async runtime and threads into the
//! start of every container; this is one socket, written and read in turn.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// systemd's private socket: root only, no bus daemon needed (systemctl uses
/// it as root).
const PRIVATE: &str = "/run/systemd/private";
/// The system bus, when the private socket is missing.
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";

const METHOD_CALL: u8 = 1;
const METHOD_RETURN: u8 = 2;
const ERROR: u8 = 3;

/// A value of the few D-Bus types cc sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    U64(u64),
    /// An array of u32 (`au`: systemd's `PIDs`).
    U32s(Vec<u32>),
}

impl Value {
    fn signature(&self) -> &'static str {
        match self {
            Value::Str(_) => "s",
            Value::Bool(_) => "b",
            Value::U64(_) => "t",
            Value::U32s(_) => "au",
        }
    }
}

/// A message body being written, aligned from its own start.
#[derive(Default)]
pub struct Body(Vec<u8>);

impl Body {
    // `%`, not is_multiple_of: that is Rust 1.87, the workspace says 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    fn pad(&mut self, align: usize) {
        while self.0.len() % align != 0 {
            self.0.push(0);
        }
    }

    fn u32(&mut self, v: u32) {
        self.pad(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }

    fn signature(&mut self, s: &str) {
        self.0.push(s.len() as u8);
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Str(s) => self.str(s),
            Value::Bool(b) => self.u32(*b as u32),
            Value::U64(n) => {
                self.pad(8);
                self.0.extend_from_slice(&n.to_le_bytes());
            }
            Value::U32s(list) => self.array(4, |b| list.iter().for_each(|n| b.u32(*n))),
        }
    }

    /// An array whose elements align to `align`: its length counts the
    /// elements' bytes only, not the padding before the first.
    pub fn array(&mut self, align: usize, elements: impl FnOnce(&mut Body)) {
        self.pad(4);
        let at = self.0.len();
        self.0.extend_from_slice(&[0; 4]);
        self.pad(align);
        let start = self.0.len();
        elements(self);
        let len = (self.0.len() - start) as u32;
        self.0[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// `a(sv)`: systemd's property lists.
    pub fn properties(&mut self, props: &[(&str, Value)]) {
        self.array(8, |b| {
            for (name, v) in props {
                b.pad(8);
                b.str(name);
                b.signature(v.signature());
                b.value(v);
            }
        });
    }
}

/// A call's outcome: done, or the D-Bus error's name and text.
pub enum Reply {
    Return,
    Error { name: String, message: String },
}

/// One connection, used by one thread.
pub struct Conn {
    stream: BufReader<UnixStream>,
    serial: u32,
}

impl Conn {
    /// Connects to systemd: its private socket, else the system bus.
    pub fn systemd() -> io::Result<Conn> {
        match Conn::open(Path::new(PRIVATE), false) {
            Ok(c) => Ok(c),
            Err(_) if Path::new(SYSTEM_BUS).exists() => Conn::open(Path::new(SYSTEM_BUS), true),
            Err(e) => Err(e),
        }
    }

    /// Connects to a user's systemd at its private socket, as `uid`: from
    /// inside the user's namespace the effective uid is 0, but systemd
    /// sees (SO_PEERCRED) and must be told the user's own.
    pub fn user(socket: &Path, uid: u32) -> io::Result<Conn> {
        Conn::open_as(socket, false, uid)
    }

    fn open(path: &Path, bus: bool) -> io::Result<Conn> {
        Conn::open_as(path, bus, nix::unistd::geteuid().as_raw())
    }

    fn open_as(path: &Path, bus: bool, uid: u32) -> io::Result<Conn> {
        let stream = UnixStream::connect(path)?;
        // systemd answers within milliseconds; a bound keeps a wedged
        // manager from hanging a container's start forever.
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut c = Conn {
            stream: BufReader::new(stream),
            serial: 0,
        };
        c.authenticate(uid)?;
        if bus {
            let hello = c.call(
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "Hello",
                "",
                Body::default(),
                Some("org.freedesktop.DBus"),
            )?;
            if let Reply::Error { name, message } = hello {
                return Err(io::Error::other(format!("{name}: {message}")));
            }
        }
        Ok(c)
    }

    /// SASL EXTERNAL: the kernel tells the server our uid.
    fn authenticate(&mut self, uid: u32) -> io::Result<()> {
        let uid = uid.to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        let s = self.stream.get_mut();
        s.write_all(b"\0")?;
        s.write_all(format!("AUTH EXTERNAL {hex}\r\n").as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        if !line.starts_with("OK ") {
            return Err(io::Error::other(format!(
                "authentication refused: {}",
                line.trim()
            )));
        }
        self.stream.get_mut().write_all(b"BEGIN\r\n")
    }

    /// Calls `member` and waits for its reply (other messages are skipped).
    pub fn call(
        &mut self,
        path: &str,
        interface: &str,
        member: &str,
        signature: &str,
        body: Body,
        destination: Option<&str>,
    ) -> io::Result<Reply> {
        self.serial += 1;
        let serial = self.serial;
        let msg = message(
            serial,
            path,
            interface,
            member,
            signature,
            &body.0,
            destination,
        );
        self.stream.get_mut().write_all(&msg)?;
        loop {
            let (kind, reply_to, fields_body) = self.read_message()?;
            if reply_to != Some(serial) {
                continue;
            }
            return Ok(match kind {
                METHOD_RETURN => Reply::Return,
                ERROR => Reply::Error {
                    name: fields_body.0.unwrap_or_default(),
                    message: first_string(&fields_body.1).unwrap_or_default(),
                },
                _ => continue,
            });
        }
    }

    /// One message: its type, the serial it replies to, its error name and
    /// body.
    #[allow(clippy::type_complexity)]
    fn read_message(&mut self) -> io::Result<(u8, Option<u32>, (Option<String>, Vec<u8>))> {
        let mut fixed = [0u8; 16];
        self.stream.read_exact(&mut fixed)?;
        if fixed[0] != b'l' {
            return Err(io::Error::other(
                "big-endian D-Bus messages are not supported",
            ));
        }
        let le = |i: usize| u32::from_le_bytes(fixed[i..i + 4].try_into().unwrap()) as usize;
        let (body_len, fields_len) = (le(4), le(12));
        let padded = (fields_len + 7) & !7;
        let mut rest = vec![0u8; padded + body_len];
        self.stream.read_exact(&mut rest)?;
        let (reply_to, error_name) = header_fields(&rest[..fields_len]);
        Ok((fixed[1], reply_to, (error_name, rest[padded..].to_vec())))
    }
}

/// A whole method call message.
fn message(
    serial: u32,
    path: &str,
    interface: &str,
    member: &str,
    signature: &str,
    body: &[u8],
    destination: Option<&str>,
) -> Vec<u8> {
    let mut h = Body::default();
    h.0.extend_from_slice(&[b'l', METHOD_CALL, 0, 1]);
    h.0.extend_from_slice(&(body.len() as u32).to_le_bytes());
    h.0.extend_from_slice(&serial.to_le_bytes());
    h.array(8, |f| {
        let mut field = |code: u8, sig: &str, text: &str| {
            f.pad(8);
            f.0.push(code);
            f.signature(sig);
            if sig == "g" {
                f.signature(text);
            } else {
                f.str(text);
            }
        };
        field(1, "o", path);
        field(2, "s", interface);
        field(3, "s", member);
        if let Some(d) = destination {
            field(6, "s", d);
        }
        if !signature.is_empty() {
            field(8, "g", signature);
        }
    });
    h.pad(8);
    h.0.extend_from_slice(body);
    h.0
}

/// REPLY_SERIAL (5) and ERROR_NAME (4) of a header's fields, which start at
/// offset 16 of the message (8-aligned, so offsets here align alike).
fn header_fields(f: &[u8]) -> (Option<u32>, Option<String>) {
    let (mut reply, mut error) = (None, None);
    let mut i = 0;
    while i < f.len() {
        i = (i + 7) & !7;
        let Some(&code) = f.get(i) else { break };
        let Some(&sig_len) = f.get(i + 1) else { break };
        let sig = &f[(i + 2).min(f.len())..(i + 2 + sig_len as usize).min(f.len())];
        i += 3 + sig_len as usize;
        match sig {
            b"u" | b"i" => {
                i = (i + 3) & !3;
                let v = f
                    .get(i..i + 4)
                    .map(|b| u32::from_le_bytes(b.try_into().unwrap()));
                if code == 5 {
                    reply = v;
                }
                i += 4;
            }
            b"s" | b"o" => {
                let Some(s) = string_at(f, i) else { break };
                i = ((i + 3) & !3) + 4 + s.len() + 1;
                if code == 4 {
                    error = Some(s);
                }
            }
            b"g" => {
                let n = *f.get(i).unwrap_or(&0) as usize;
                i += n + 2;
            }
            _ => break,
        }
    }
    (reply, error)
}

/// The string at offset `i` (aligned to 4 first).
fn string_at(b: &[u8], i: usize) -> Option<String> {
    let i = (i + 3) & !3;
    let len = u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize;
    let bytes = b.get(i + 4..i + 4 + len)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// A body's first value when it is a string (an error's message).
fn first_string(body: &[u8]) -> Option<String> {
    string_at(body, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_aligned_as_the_spec_says() {
        let mut b = Body::default();
        b.str("x.scope");
        b.properties(&[
            ("Delegate", Value::Bool(true)),
            ("MemoryMax", Value::U64(7)),
        ]);
        let v = &b.0;
        // "x.scope": length 7, bytes, NUL = 12 bytes; the array length
        // follows at 12 and its first struct starts 8-aligned at 16.
        assert_eq!(&v[0..4], &7u32.to_le_bytes());
        let len = u32::from_le_bytes(v[12..16].try_into().unwrap()) as usize;
        assert_eq!(v.len() - 16, len);
        assert_eq!(&v[16..20], &8u32.to_le_bytes());
        assert_eq!(&v[20..28], b"Delegate");
        // "b" signature, then the bool at a 4-aligned offset.
        assert_eq!(&v[29..32], &[1, b'b', 0]);
        assert_eq!(&v[32..36], &1u32.to_le_bytes());
        // The second struct at 40; the u64 8-aligned after "t".
        assert_eq!(&v[40..44], &9u32.to_le_bytes());
        assert_eq!(&v[44..53], b"MemoryMax");
        assert_eq!(&v[54..57], &[1, b't', 0]);
        assert_eq!(&v[64..72], &7u64.to_le_bytes());
    }

    #[test]
    fn a_reply_header_gives_its_serial_and_error() {
        let mut h = Body::default();
        h.array(8, |f| {
            f.pad(8);
            f.0.push(4);
            f.signature("s");
            f.str("org.freedesktop.systemd1.UnitExists");
            f.pad(8);
            f.0.push(5);
            f.signature("u");
            f.u32(42);
        });
        // In a message the fields' first element is 8-aligned: so here.
        let fields = &h.0[8..];
        let (reply, error) = header_fields(fields);
        assert_eq!(reply, Some(42));
        assert_eq!(
            error.as_deref(),
            Some("org.freedesktop.systemd1.UnitExists")
        );
    }
}
