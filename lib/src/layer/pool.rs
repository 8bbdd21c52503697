//! Writing a layer's regular files on worker threads, while the thread
//! that reads the tar goes on with the next entries.
//!
//! Why: on an ext4 without a journal, creating an inode costs up to a
//! millisecond of CPU in the kernel (`find_inode_bit` skips every inode
//! freed in the last minute, bench/RESULTS.md), and that is most of a pull.
//! The cost is per inode and CPU-bound, so two threads halve it on two
//! cores, but only if they do not queue on a lock: open(O_CREAT) allocates
//! the inode while holding the folder's i_rwsem, and a tar puts a folder's
//! files together, so two workers calling it would mostly wait for each
//! other (the minbase tar of bench/pull.sh: 4.9 s one thread, 3.8 s
//! two). A worker therefore
//! creates an unnamed file with O_TMPFILE, which allocates the inode
//! without that lock, writes it, sets its owner, mode, xattrs and times
//! through the fd, and only then links it in under its name (2.7 s). A
//! file so has its name only once it is complete. Where the filesystem has
//! no O_TMPFILE, the file is created under its name (open(2) EOPNOTSUPP).
//!
//! The reading thread keeps everything else: it parses the tar in order,
//! resolves every parent folder inside the root (openat2 RESOLVE_IN_ROOT),
//! makes folders, symlinks, devices, whiteouts and hardlinks itself, and
//! writes files over `INLINE` (1 MiB) itself. A smaller file becomes a
//! `Job`: the parent folder's fd, the name, the metadata and the content
//! read into memory. At most `MAX_BYTES` (16 MiB) of content and
//! `MAX_JOBS` jobs (each holds an fd) are in flight; `submit` blocks
//! beyond that.
//!
//! Order: a job's name does not exist until its worker links it, and the
//! reader keeps it that way. Before anything it does at a name (create,
//! replace, remove, stat for a whiteout, walk through while making the
//! folders of a path), it waits for a job pending at that name, keyed by
//! the folder's inode and the name, so a symlinked path finds it too
//! (`wait_for`). Before it removes a folder, follows a symlink to make
//! folders, or makes a hardlink (whose target may be a pending file, here
//! or under another name), it waits for every job (`drain`). Folder
//! times are set after the last job.
//!
//! Errors: a job that fails records its error with its entry's number, and
//! the workers skip the jobs queued after it. The reader's next call into
//! the pool fails, so it stops; `finish`, which `apply` always calls, waits
//! for the jobs still running and returns the error of the earliest entry,
//! the one a single thread would have met first, before any error of the
//! reader's own (a later entry). A file that failed never got its name.

use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rustix::fs::{Gid, Mode, OFlags, Timestamps, Uid, XattrFlags};

use super::node::{self, Meta};
use crate::error::{Error, Result};

/// Files up to this size go to a worker; bigger ones the reader writes
/// (few: 19 of the 5,327 files of a Debian minbase), since it is the
/// inode, not the bytes, that is worth another thread.
pub(super) const INLINE: u64 = 1 << 20;
/// Content read ahead of the workers, at most: cc-pull unpacks up to three
/// layers at once, so 48 MiB in all.
const MAX_BYTES: usize = 16 << 20;
/// Jobs queued or running, at most: each holds an open folder fd.
const MAX_JOBS: usize = 256;
/// Workers, at most: past a few, they wait on the same folders' locks.
const MAX_WORKERS: usize = 4;

/// How many workers to use: one per core, but none on one core, where
/// the reader writing alone costs less than handing files over.
pub(super) fn workers() -> usize {
    match std::thread::available_parallelism().map_or(1, |n| n.get()) {
        1 => 0,
        n => n.min(MAX_WORKERS),
    }
}

/// Where a file goes: its folder's device and inode, and its name.
type Key = (u64, u64, OsString);

fn key(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Key> {
    let st = rustix::fs::fstat(dir)?;
    Ok((st.st_dev, st.st_ino, name.to_os_string()))
}

/// A regular file for a worker to write.
pub(super) struct Job {
    pub dir: OwnedFd,
    pub name: OsString,
    pub meta: Meta,
    pub data: Vec<u8>,
    /// The host path, for messages.
    pub shown: PathBuf,
}

/// How writing a file failed: reading its content, or a call on the file.
pub(super) enum WriteError {
    Read(io::Error),
    Op(&'static str, io::Error),
}

/// Files are written with O_TMPFILE until the filesystem refuses it.
pub(super) struct Tmpfile(AtomicBool);

impl Tmpfile {
    pub fn new() -> Tmpfile {
        Tmpfile(AtomicBool::new(true))
    }

    /// An fd to write a new file through, and whether it still needs its
    /// name (an O_TMPFILE one).
    fn create(&self, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<(OwnedFd, bool)> {
        let mode = Mode::from_raw_mode(0o600);
        if self.0.load(Ordering::Relaxed) {
            let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
            match rustix::fs::openat(dir, ".", flags, mode) {
                Ok(fd) => return Ok((fd, true)),
                // open(2): EOPNOTSUPP where the filesystem lacks it, EISDIR
                // from kernels before 3.11, which read it as O_DIRECTORY.
                Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR) => {
                    self.0.store(false, Ordering::Relaxed)
                }
                Err(e) => return Err(e.into()),
            }
        }
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok((rustix::fs::openat(dir, name, flags, mode)?, false))
    }
}

/// Writes `name` in `dir` (which must not exist) from `data` with `meta`,
/// and returns the bytes written. Owner before mode (chown clears setuid),
/// xattrs after both and after the content (chown and writes clear
/// `security.capability`), times last; the name comes after all of it.
pub(super) fn write_file(
    tmp: &Tmpfile,
    dir: BorrowedFd<'_>,
    name: &OsStr,
    meta: &Meta,
    data: &mut dyn Read,
) -> Result<u64, WriteError> {
    let op = |op: &'static str| move |e: rustix::io::Errno| WriteError::Op(op, e.into());
    let (fd, unnamed) = tmp
        .create(dir, name)
        .map_err(|e| WriteError::Op("create", e))?;
    let mut file = std::fs::File::from(fd);
    let mut buf = [0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let got = match data.read(&mut buf) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(WriteError::Read(e)),
        };
        file.write_all(&buf[..got])
            .map_err(|e| WriteError::Op("write", e))?;
        n += got as u64;
    }
    let (uid, gid) = (Uid::from_raw(meta.uid), Gid::from_raw(meta.gid));
    rustix::fs::fchown(&file, Some(uid), Some(gid))
        .map_err(|e| WriteError::Op(super::node::chown_op(e), e.into()))?;
    rustix::fs::fchmod(&file, Mode::from_raw_mode(meta.mode)).map_err(op("change mode of"))?;
    for (k, v) in &meta.xattrs {
        rustix::fs::fsetxattr(&file, k.as_slice(), v, XattrFlags::empty())
            .map_err(op("set xattrs of"))?;
    }
    let times = Timestamps {
        last_access: meta.mtime,
        last_modification: meta.mtime,
    };
    rustix::fs::futimens(&file, &times).map_err(op("set times of"))?;
    if unnamed {
        node::link(file.as_fd(), dir, name).map_err(|e| WriteError::Op("create", e))?;
    }
    Ok(n)
}

#[derive(Default)]
struct State {
    queue: VecDeque<(u64, Key, Job)>,
    /// Jobs queued or running, by where they go.
    pending: HashSet<Key>,
    bytes: usize,
    /// The failure of the earliest entry so far.
    failed: Option<(u64, Error)>,
    /// A job failed: skip the ones still queued.
    stopped: bool,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Workers wait here for jobs.
    work: Condvar,
    /// The reader waits here for jobs to finish.
    done: Condvar,
    tmp: Tmpfile,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.done.wait(st).unwrap_or_else(|p| p.into_inner())
    }

    fn run(&self) {
        let mut st = self.lock();
        loop {
            let Some((seq, key, job)) = st.queue.pop_front() else {
                if st.closed {
                    return;
                }
                st = self.work.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            let skip = st.stopped;
            drop(st);
            let r = if skip { Ok(()) } else { self.write(&job) };
            st = self.lock();
            st.pending.remove(&key);
            st.bytes -= job.data.len();
            if let Err(e) = r {
                st.stopped = true;
                if st.failed.as_ref().is_none_or(|(s, _)| seq < *s) {
                    st.failed = Some((seq, e));
                }
            }
            self.done.notify_all();
        }
    }

    fn write(&self, job: &Job) -> Result<()> {
        let mut data = &job.data[..];
        match write_file(&self.tmp, job.dir.as_fd(), &job.name, &job.meta, &mut data) {
            Ok(_) => Ok(()),
            Err(WriteError::Op(op, e)) => Err(Error::io(op, &job.shown, e)),
            // from memory: cannot happen
            Err(WriteError::Read(e)) => Err(Error::io("read", &job.shown, e)),
        }
    }
}

/// What the reader's calls return once a job has failed: the reader stops,
/// and `finish` returns the job's own error, which the caller reports.
fn stopped() -> Error {
    Error::Internal("a layer writer failed".into())
}

/// The workers of one layer, started as files arrive.
pub(super) struct Pool {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    max: usize,
    seq: u64,
}

impl Pool {
    pub fn new(max: usize) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                work: Condvar::new(),
                done: Condvar::new(),
                tmp: Tmpfile::new(),
            }),
            threads: Vec::new(),
            max,
            seq: 0,
        }
    }

    /// Whether there are workers to hand files to.
    pub fn parallel(&self) -> bool {
        self.max > 0
    }

    pub fn tmpfile(&self) -> &Tmpfile {
        &self.shared.tmp
    }

    /// Queues `job`, once the bytes and jobs in flight leave room for it.
    /// The reader has waited for any job at the same name (`wait_for`).
    pub fn submit(&mut self, job: Job) -> Result<()> {
        if self.threads.len() < self.max {
            let shared = Arc::clone(&self.shared);
            let t = std::thread::Builder::new()
                .name("cc layer writer".into())
                .spawn(move || shared.run())
                .map_err(|e| Error::sys("start a layer writer thread", e))?;
            self.threads.push(t);
        }
        let k = key(job.dir.as_fd(), &job.name).map_err(|e| Error::io("stat", &job.shown, e))?;
        let s = &self.shared;
        let mut st = s.lock();
        let len = job.data.len();
        while !st.pending.is_empty()
            && (st.bytes + len > MAX_BYTES || st.pending.len() >= MAX_JOBS)
            && !st.stopped
        {
            st = s.wait(st);
        }
        if st.stopped {
            return Err(stopped());
        }
        self.seq += 1;
        st.bytes += len;
        st.pending.insert(k.clone());
        st.queue.push_back((self.seq, k, job));
        s.work.notify_one();
        Ok(())
    }

    /// Waits until no job is pending at `name` in `dir`.
    pub fn wait_for(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        shown: impl FnOnce() -> PathBuf,
    ) -> Result<()> {
        let s = &self.shared;
        let mut st = s.lock();
        if !st.pending.is_empty() {
            let k = key(dir, name).map_err(|e| Error::io("stat", shown(), e))?;
            while st.pending.contains(&k) && !st.stopped {
                st = s.wait(st);
            }
        }
        if st.stopped {
            return Err(stopped());
        }
        Ok(())
    }

    /// Waits until every job is done.
    pub fn drain(&self) -> Result<()> {
        let s = &self.shared;
        let mut st = s.lock();
        while !st.pending.is_empty() && !st.stopped {
            st = s.wait(st);
        }
        if st.stopped {
            return Err(stopped());
        }
        Ok(())
    }

    /// Waits for every job (the ones queued after a failure are skipped)
    /// and stops the workers. Returns the error of the earliest entry that
    /// failed: the caller reports it before any error of its own, which
    /// came from a later entry.
    pub fn finish(&mut self) -> Result<()> {
        let failed = {
            let mut st = self.shared.lock();
            while !st.pending.is_empty() {
                st = self.shared.wait(st);
            }
            st.failed.take()
        };
        self.stop();
        match failed {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    fn stop(&mut self) {
        {
            let mut st = self.shared.lock();
            st.closed = true;
            self.shared.work.notify_all();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Pool {
    /// Without `finish` (a panic in the reader): skip what is queued.
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.stop();
    }
}
