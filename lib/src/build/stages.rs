//! Stages at once: the stages the target needs run in threads, each as
//! soon as its FROM stage is built; a step that uses another stage
//! (`COPY --from`, `RUN --mount=…,from=`) waits for it there, as
//! BuildKit's graph does, giving up its place meanwhile. At most `--jobs`
//! run steps at a time. The first stage that
//! fails stops the others: no step starts after it, and the RUN
//! containers running are killed (their threads remove them, as after
//! any failed RUN). SIGINT, SIGTERM and SIGHUP to cc-build stop the
//! build the same way, the signal passed to the running commands (a
//! second one kills them); the build then ends with 128 + the signal.
//!
//! The signals are blocked in every thread of the build and read here
//! only, so no thread dies of one half-way through a step.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use super::StageDef;
use crate::dockerfile::expand;
use crate::error::{Error, Result};
use crate::store::Store;

/// What a finished stage leaves: its image id and its FROM's layer count.
#[derive(Debug, Clone)]
pub struct Built {
    pub id: String,
    pub base_layers: usize,
}

/// The signals that stop a build.
const STOPS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// How often the scheduler looks at signals and containers to stop.
const TICK: Duration = Duration::from_millis(100);

/// The stage stage `i` starts FROM, if its base is one.
pub fn from_stage(
    defs: &[StageDef],
    i: usize,
    globals: &BTreeMap<String, String>,
    escape: char,
) -> Option<usize> {
    let look = |n: &str| globals.get(n).cloned();
    let base = expand::raw_words(&defs[i].from.args.text(), escape);
    let base = expand::word(&base[0], &look, escape).unwrap_or_default();
    defs[..i]
        .iter()
        .position(|d| d.name.as_deref() == Some(&base.to_ascii_lowercase()))
}

/// The stages stage `i` uses: its FROM's stage, and those `COPY --from=`
/// and `RUN --mount=…,from=` name (earlier stages only, as docker).
pub fn uses(defs: &[StageDef], i: usize, from: Option<usize>) -> Vec<usize> {
    let find = |r: &str| {
        defs.iter()
            .position(|d| d.name.as_deref() == Some(&r.to_ascii_lowercase()))
            .or_else(|| r.parse::<usize>().ok().filter(|&i| i < defs.len()))
    };
    let mut refs: Vec<usize> = from.into_iter().collect();
    for s in defs[i].steps {
        let mounts = s.flag_all("mount").into_iter().flat_map(|m| {
            m.split(',')
                .filter_map(|f| f.strip_prefix("from="))
                .collect::<Vec<_>>()
        });
        for f in s.flag("from").into_iter().chain(mounts) {
            if let Some(j) = find(f).filter(|&j| j < i && !refs.contains(&j)) {
                refs.push(j);
            }
        }
    }
    refs
}

/// The stages `target` needs (itself, the stages it uses, and theirs),
/// in file order.
pub fn needed(uses: &[Vec<usize>], target: usize) -> Vec<usize> {
    let mut out = vec![target];
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        for &j in &uses[i] {
            if !out.contains(&j) {
                out.push(j);
                todo.push(j);
            }
        }
    }
    out.sort();
    out
}

/// Why a build stops early.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Why {
    /// A stage failed: the others' commands are killed.
    Failed,
    /// cc-build got this signal: it is passed on to the commands.
    Signal(Signal),
}

/// What the stages' threads share to stop: whether the build stops, and
/// the RUN containers running now (each with whether it got the signal).
#[derive(Default)]
pub struct Cancel {
    state: Mutex<CancelState>,
}

#[derive(Default)]
struct CancelState {
    why: Option<Why>,
    /// The signal the running containers get; SIGKILL after a failure or
    /// a second signal.
    send: Option<Signal>,
    running: Vec<(String, bool)>,
}

impl Cancel {
    fn lock(&self) -> std::sync::MutexGuard<'_, CancelState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An error when the build stops: a step checks before it starts.
    pub fn check(&self) -> Result<()> {
        match self.lock().why {
            None => Ok(()),
            Some(why) => Err(stopped(why)),
        }
    }

    /// A RUN's container about to start: stopped with the others from now
    /// on (an error, and no start, when the build stops already).
    pub fn enter(&self, id: &str) -> Result<()> {
        let mut s = self.lock();
        if let Some(why) = s.why {
            return Err(stopped(why));
        }
        s.running.push((id.to_string(), false));
        Ok(())
    }

    /// The RUN's container ended.
    pub fn leave(&self, id: &str) {
        self.lock().running.retain(|(c, _)| c != id);
    }

    /// Stops the build: the first cause stays. A failure kills the
    /// running commands; a signal is passed on to them, a second one
    /// kills them (a stage that fails meanwhile changes nothing).
    fn stop(&self, why: Why) {
        let mut s = self.lock();
        let send = match (s.why, why) {
            (None, Why::Signal(sig)) => sig,
            (None, Why::Failed) | (Some(_), Why::Signal(_)) => Signal::SIGKILL,
            (Some(_), Why::Failed) => return,
        };
        s.why.get_or_insert(why);
        if s.send != Some(send) {
            s.send = Some(send);
            for r in s.running.iter_mut() {
                r.1 = false;
            }
        }
    }

    /// Sends the signal to each running container that has not had it
    /// (one that has not started yet gets it at a later tick).
    fn tick(&self, store: &Store) {
        let mut s = self.lock();
        let Some(sig) = s.send else { return };
        for (id, sent) in s.running.iter_mut().filter(|r| !r.1) {
            if let Ok(c) = crate::container::load(store, id) {
                *sent = crate::lifecycle::kill(store, &c, sig).is_ok();
            }
        }
    }

    /// The exit code of a build a signal stopped.
    fn signalled(&self) -> Option<Error> {
        match self.lock().why {
            Some(why @ Why::Signal(_)) => Some(stopped(why)),
            _ => None,
        }
    }
}

fn stopped(why: Why) -> Error {
    match why {
        Why::Failed => Error::reported(1, "stopped: another stage failed"),
        Why::Signal(sig) => Error::reported(128 + sig as i32 as u8, format!("stopped by {sig}")),
    }
}

/// The signals of `STOPS` blocked until dropped.
struct Blocked(SigSet);

impl Drop for Blocked {
    fn drop(&mut self) {
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&self.0), None);
    }
}

/// Where the stages' threads and the scheduler meet: what is built, how
/// many threads hold one of the `--jobs` places, what ended.
pub struct Board<'a> {
    state: Mutex<BoardState>,
    changed: Condvar,
    jobs: usize,
    cancel: &'a Cancel,
}

struct BoardState {
    done: Vec<Option<Built>>,
    /// Threads running steps (not waiting for a stage): at most `jobs`.
    active: usize,
    ended: Vec<(usize, Result<Built>)>,
}

impl Board<'_> {
    fn lock(&self) -> MutexGuard<'_, BoardState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn free(&self, b: &BoardState) -> bool {
        self.jobs == 0 || b.active < self.jobs
    }

    /// The image of stage `j`, waiting until it is built: meanwhile this
    /// thread gives up its place, so the stage it waits for can run.
    pub fn need(&self, j: usize) -> Result<String> {
        let mut b = self.lock();
        if let Some(d) = &b.done[j] {
            return Ok(d.id.clone());
        }
        b.active -= 1;
        self.changed.notify_all();
        loop {
            if let Some(d) = b.done[j].as_ref().filter(|_| self.free(&b)) {
                let id = d.id.clone();
                b.active += 1;
                return Ok(id);
            }
            if let Err(e) = self.cancel.check() {
                // The place is given back when the thread ends.
                b.active += 1;
                return Err(e);
            }
            b = self
                .changed
                .wait_timeout(b, TICK)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn end(&self, i: usize, made: Result<Built>) {
        let mut b = self.lock();
        b.active -= 1;
        b.ended.push((i, made));
        self.changed.notify_all();
    }
}

/// Runs `stage(i, board)` for every stage of `needed` in a thread of its
/// own, started once its FROM stage (`from[i]`) is built; a stage that
/// needs another's image waits in `Board::need`. At most `jobs` run steps
/// at once (0: no bound). Returns what each built stage left, by index;
/// the first error, once every thread ended.
pub fn run_all<F>(
    store: &Store,
    jobs: usize,
    needed: &[usize],
    from: &[Option<usize>],
    cancel: &Cancel,
    stage: F,
) -> Result<Vec<Option<Built>>>
where
    F: Fn(usize, &Board) -> Result<Built> + Sync,
{
    let signals = crate::sys::signalfd(&STOPS)?;
    let _blocked = Blocked(STOPS.iter().copied().collect());
    let board = Board {
        state: Mutex::new(BoardState {
            done: vec![None; from.len()],
            active: 0,
            ended: Vec::new(),
        }),
        changed: Condvar::new(),
        jobs,
        cancel,
    };
    let read_signals = || {
        let mut any = false;
        while let Ok(Some(info)) = signals.read_signal() {
            if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                cancel.stop(Why::Signal(sig));
                any = true;
            }
        }
        if any {
            board.changed.notify_all();
        }
    };
    let mut started = vec![false; from.len()];
    let mut first: Option<Error> = None;
    let mut threads = 0;
    std::thread::scope(|s| loop {
        let mut b = board.lock();
        for (i, made) in std::mem::take(&mut b.ended) {
            threads -= 1;
            match made {
                Ok(d) => b.done[i] = Some(d),
                Err(e) => {
                    first.get_or_insert(e);
                    cancel.stop(Why::Failed);
                }
            }
            board.changed.notify_all();
        }
        for &i in needed {
            if cancel.check().is_err() || !board.free(&b) {
                break;
            }
            if started[i] || from[i].is_some_and(|j| b.done[j].is_none()) {
                continue;
            }
            started[i] = true;
            threads += 1;
            b.active += 1;
            let (board, stage) = (&board, &stage);
            s.spawn(move || {
                let made =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stage(i, board)));
                let made =
                    made.unwrap_or_else(|_| Err(Error::internal("a stage's thread panicked")));
                board.end(i, made);
            });
        }
        if threads == 0 {
            break;
        }
        let b = board
            .changed
            .wait_timeout(b, TICK)
            .unwrap_or_else(|p| p.into_inner())
            .0;
        drop(b);
        read_signals();
        cancel.tick(store);
    });
    read_signals();
    match (first, cancel.signalled()) {
        (Some(e), _) | (None, Some(e)) => Err(e),
        (None, None) => Ok(board
            .state
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_uses_its_from_copy_from_and_mount_from_stages() {
        let text = "ARG B=b\n\
                    FROM img AS a\n\
                    FROM img AS b\n\
                    RUN --mount=type=bind,from=a,target=/x true\n\
                    FROM ${B} AS c\n\
                    FROM img AS unused\n\
                    COPY --from=c /x /x\n\
                    FROM img\n\
                    COPY --from=c /x /x\n\
                    COPY --from=0 /y /y\n\
                    COPY --from=other:1 /z /z\n";
        let df = crate::dockerfile::parse(text, "Containerfile").unwrap();
        let o = super::super::Options::default();
        let (globals, defs) = super::super::stages(&df, &o).unwrap();
        let from: Vec<_> = (0..defs.len())
            .map(|i| from_stage(&defs, i, &globals, df.escape))
            .collect();
        assert_eq!(from, [None, None, Some(1), None, None]);
        let uses: Vec<_> = (0..defs.len()).map(|i| uses(&defs, i, from[i])).collect();
        assert_eq!(uses, [vec![], vec![0], vec![1], vec![2], vec![2, 0]]);
        assert_eq!(needed(&uses, 4), [0, 1, 2, 4]);
        assert_eq!(needed(&uses, 2), [0, 1, 2]);
    }
}
