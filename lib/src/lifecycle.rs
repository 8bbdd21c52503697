//! What programs do to existing containers, each step checked against the
//! container's state: a wrong state is `Error::State` (exit 4).

use std::time::{Duration, Instant};

use crate::cgroup::Cgroup;
use crate::container::{self, Container, Status};
use crate::error::{Error, Result};
use crate::store::Store;

/// Removes a container. A running one is refused unless `force`, which
/// kills it first (every process of its cgroup) and waits for it to end.
pub fn remove(store: &Store, c: &Container, force: bool) -> Result<()> {
    if c.status() == Status::Running {
        if !force {
            return Err(Error::State(format!(
                "container '{}' is running: stop it first or use -f",
                c.name()
            )));
        }
        kill_and_wait(c)?;
    }
    let _ = Cgroup::open(&c.cgroup_name()).remove();
    container::remove(store, c)
}

/// SIGKILL to the container's process and its group, then waits until the
/// process is gone (it is not our child: poll its start time).
fn kill_and_wait(c: &Container) -> Result<()> {
    let cg = Cgroup::open(&c.cgroup_name());
    if let Some(pid) = c.state.pid {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = cg.kill_all();
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.state.derived().status == Status::Running {
        if Instant::now() > deadline {
            return Err(Error::State(format!(
                "container '{}' did not die after SIGKILL",
                c.name()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}
