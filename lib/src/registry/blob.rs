//! A blob as a stream that survives a dropped connection.
//!
//! Every byte received is also appended to `tmp/partial-<hex>`, kept by
//! digest: a connection that fails or stalls is reopened with
//! `Range: bytes=N-` from where it stopped, and a pull killed half way
//! starts the next one from what the file holds. The stream refuses more
//! bytes than the descriptor's size and ends in error when it is short;
//! the digest is checked by the caller, who hashes what it reads.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use ureq::BodyReader;

use crate::error::{Error, Result};
use crate::image::format::Descriptor;
use crate::registry::client::{backoff, describe_io, error_text, Client, Req, ATTEMPTS};
use crate::registry::debug;
use crate::store::{self, Store};

pub struct BlobReader<'c> {
    client: &'c Client,
    desc: Descriptor,
    /// Bytes handed to the reader so far.
    pos: u64,
    /// The partial file and how much of it is already there.
    partial: File,
    partial_path: PathBuf,
    have: u64,
    body: Option<BodyReader<'static>>,
    failures: u32,
    /// The last error came from the network (the partial file is good).
    pub net_failed: bool,
    /// Writing the partial file failed (a full disk): the reader's caller
    /// sees a failed stream and must not call it a read error.
    pub write_failed: Option<Error>,
    /// Why the network was given up on after `ATTEMPTS` tries: the reason
    /// to report, rather than what the reader's caller made of the error.
    pub gave_up: Option<String>,
    /// Called with the bytes delivered so far.
    pub progress: Option<Box<dyn FnMut(u64) + Send + 'c>>,
}

impl<'c> BlobReader<'c> {
    /// Opens (or continues) the partial file of `desc`. When another
    /// process holds it (the same blob, pulled at the same time), this one
    /// downloads into a file of its own.
    pub fn new(client: &'c Client, store: &Store, desc: &Descriptor) -> Result<BlobReader<'c>> {
        let hex = &desc.digest[7..];
        let mut path = store.tmp_dir().join(format!("partial-{hex}"));
        let mut f = open_rw(&path)?;
        if f.try_lock().is_err() {
            path = store
                .tmp_dir()
                .join(format!("partial-{hex}-{}", store::random_hex(6)?));
            f = open_rw(&path)?;
            f.try_lock()
                .map_err(|e| Error::io("lock", &path, e.into()))?;
        }
        let have = f.metadata().map_err(|e| Error::io("stat", &path, e))?.len();
        let have = if have > desc.size {
            f.set_len(0).map_err(|e| Error::io("truncate", &path, e))?;
            0
        } else {
            have
        };
        if have > 0 {
            debug(&format!("{}: resuming after {have} bytes", desc.digest));
        }
        Ok(BlobReader {
            client,
            desc: desc.clone(),
            pos: 0,
            partial: f,
            partial_path: path,
            have,
            body: None,
            failures: 0,
            net_failed: false,
            write_failed: None,
            gave_up: None,
            progress: None,
        })
    }

    /// The download is done and checked: its partial file goes.
    pub fn finish(self) {
        let _ = fs::remove_file(&self.partial_path);
    }

    /// The blob turned out bad: what was kept of it must not be resumed.
    pub fn discard(self) {
        let _ = fs::remove_file(&self.partial_path);
    }

    fn open(&mut self) -> io::Result<()> {
        let mut req = Req::new(
            "GET",
            self.client.url(&format!("blobs/{}", self.desc.digest)),
        );
        if self.pos > 0 {
            req = req.header("Range", format!("bytes={}-", self.pos));
        }
        let mut resp = self.client.send(&req).map_err(io::Error::other)?;
        let status = resp.status().as_u16();
        let skip = match status {
            206 => 0,
            200 => self.pos,
            404 => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "blob {} not found ({})",
                        self.desc.digest,
                        error_text(&mut resp)
                    ),
                ))
            }
            _ => {
                return Err(io::Error::other(format!(
                    "blob {}: {}",
                    self.desc.digest,
                    error_text(&mut resp)
                )))
            }
        };
        let mut body = resp.into_body().into_with_config().limit(u64::MAX).reader();
        // A server that ignores Range sends it all again: skip what we have.
        io::copy(&mut (&mut body).take(skip), &mut io::sink())?;
        self.body = Some(body);
        Ok(())
    }

    fn read_net(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.body.is_none() {
                if let Err(e) = self.open() {
                    if e.kind() == io::ErrorKind::NotFound || !self.retry(&e) {
                        return Err(e);
                    }
                    continue;
                }
            }
            let want = buf.len().min((self.desc.size + 1 - self.pos) as usize);
            match self.body.as_mut().expect("opened").read(&mut buf[..want]) {
                Ok(0) if self.pos < self.desc.size => {
                    self.body = None;
                    let e = io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed early");
                    if !self.retry(&e) {
                        return Err(e);
                    }
                }
                Ok(n) => {
                    if n > 0 {
                        self.failures = 0;
                    }
                    return Ok(n);
                }
                Err(e) => {
                    self.body = None;
                    if !self.retry(&e) {
                        return Err(e);
                    }
                }
            }
        }
    }

    fn retry(&mut self, e: &io::Error) -> bool {
        self.failures += 1;
        if self.failures >= ATTEMPTS {
            self.gave_up = Some(format!(
                "{}; {} of {} bytes kept for the next pull",
                describe_io(e, self.client.timeout),
                self.pos,
                self.desc.size
            ));
            return false;
        }
        debug(&format!(
            "{} at {}: {e}; resuming",
            self.desc.digest, self.pos
        ));
        backoff(self.failures);
        true
    }
}

impl BlobReader<'_> {
    /// Appends what the network gave to the partial file.
    fn keep(&mut self, data: &[u8]) -> io::Result<()> {
        let written = self
            .partial
            .seek(SeekFrom::Start(self.pos))
            .and_then(|_| self.partial.write_all(data));
        if let Err(e) = written {
            let kind = e.kind();
            self.write_failed = Some(Error::io("write", &self.partial_path, e));
            return Err(io::Error::new(kind, "the download could not be kept"));
        }
        self.have = self.pos + data.len() as u64;
        // Half a blob is on disk: the crash tests stop a pull here.
        if self.have * 2 >= self.desc.size {
            crate::failpoint::hit("pull.blob");
        }
        Ok(())
    }
}

fn open_rw(path: &PathBuf) -> Result<File> {
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io("open", path, e))
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // All of it came from the partial file: the end, without asking the
        // registry for an empty range (416). The digest check follows.
        if buf.is_empty() || (self.pos == self.desc.size && self.body.is_none()) {
            return Ok(0);
        }
        let n = if self.pos < self.have {
            // What an earlier try kept.
            self.partial.seek(SeekFrom::Start(self.pos))?;
            let max = buf.len().min((self.have - self.pos) as usize);
            let n = self.partial.read(&mut buf[..max])?;
            if n == 0 {
                return Err(io::Error::other("partial download shrank"));
            }
            n
        } else {
            let n = self.read_net(buf).inspect_err(|_| self.net_failed = true)?;
            if n > 0 {
                self.keep(&buf[..n])?;
            }
            n
        };
        self.pos += n as u64;
        if self.pos > self.desc.size {
            let _ = self.partial.set_len(0);
            self.have = 0;
            return Err(io::Error::other(format!(
                "blob {} is larger than its {} bytes",
                self.desc.digest, self.desc.size
            )));
        }
        if n == 0 && self.pos < self.desc.size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "blob {} ended after {} of {} bytes",
                    self.desc.digest, self.pos, self.desc.size
                ),
            ));
        }
        if let Some(p) = self.progress.as_mut() {
            p(self.pos);
        }
        Ok(n)
    }
}
