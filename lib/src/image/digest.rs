//! SHA-256 digests of streams as they pass.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// Hashes and counts every byte read through it.
pub struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashReader<R> {
    pub fn new(inner: R) -> Self {
        HashReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
    /// `sha256:<hex>` and the number of bytes.
    pub fn finish(self) -> (String, u64) {
        (format_digest(self.hasher), self.count)
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Copies every byte read through it to a writer (the blob file).
pub struct TeeReader<R, W> {
    inner: R,
    out: W,
    /// Why the copy could not be written: the reader's caller sees only an
    /// error of the stream and would call a full disk a read failure.
    write_failed: Option<io::Error>,
}

impl<R: Read, W: Write> TeeReader<R, W> {
    pub fn new(inner: R, out: W) -> Self {
        TeeReader {
            inner,
            out,
            write_failed: None,
        }
    }
    pub fn into_parts(self) -> (R, W) {
        (self.inner, self.out)
    }
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            let kind = e.kind();
            self.write_failed = Some(e);
            return Err(io::Error::new(kind, "the copy could not be written"));
        }
        Ok(n)
    }
}

pub fn sha256(data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(data);
    format_digest(h)
}

fn format_digest(h: Sha256) -> String {
    format!("sha256:{}", hex::encode(h.finalize()))
}

impl<R: Read, W: Write> HashReader<TeeReader<R, W>> {
    /// The error writing the copy, if that is what stopped the stream.
    pub fn write_failed(&mut self) -> Option<io::Error> {
        self.inner.write_failed.take()
    }

    /// Finishes a hashing tee: flushes the copy through `done` and returns
    /// the digest and size of what passed.
    pub fn finish_with<E>(self, done: impl FnOnce(W) -> Result<(), E>) -> Result<(String, u64), E> {
        let (_, out) = self.inner.into_parts();
        done(out)?;
        Ok((format_digest(self.hasher), self.count))
    }
}
