//! Why a container's process did not start, and how that reason crosses
//! the pipes between cc's processes: the container's first process (or
//! cc-exec's) reports to its parent on the `err` pipe, a monitor reports to
//! cc-run on its report pipe. A `Failure` carries two codes: the one its
//! starter exits with (125 cc failed, 126 the command cannot be executed,
//! 127 not found: docker's), and the `Error` with its own code (1 failed,
//! 3 not found, 4 wrong state), which programs that start a container
//! without running it in the foreground (cc-start, cc-restart, cc-attach,
//! cc-oci) exit with. A leaf: every stage of the sandbox imports it.

use crate::error::{errno, Error};

#[derive(Debug)]
pub struct Failure {
    /// The exit code of cc-run and cc-exec for it.
    pub code: u8,
    pub error: Error,
}

impl Failure {
    /// A failure told in words, with its exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            error: Error::reported(1, message),
        }
    }

    /// The report's bytes: the exit code, the error's code, the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![self.code, self.error.code()];
        b.extend_from_slice(self.error.to_string().as_bytes());
        b
    }

    /// A report read from a pipe (never empty: the caller checks).
    pub fn decode(report: &[u8]) -> Failure {
        let (code, class, message) = match report {
            [code, class, message @ ..] => (*code, *class, message),
            [code] => (*code, 1, &[][..]),
            [] => (125, 1, &[][..]),
        };
        Failure {
            code,
            error: Error::reported(class.max(1), String::from_utf8_lossy(message)),
        }
    }

    /// The monitor's report line: `failed CODE CLASS message`.
    pub fn to_line(&self) -> String {
        let message = self.error.to_string().replace('\n', " ");
        format!("failed {} {} {message}", self.code, self.error.code())
    }

    /// Parses what follows `failed ` in a report line; `None` if malformed.
    pub fn from_line(rest: &str) -> Option<Failure> {
        let mut words = rest.splitn(3, ' ');
        let code = words.next()?.parse().ok()?;
        let class: u8 = words.next()?.parse().ok()?;
        Some(Failure {
            code,
            error: Error::reported(class.max(1), words.next().unwrap_or("")),
        })
    }
}

/// An error of cc's own (exit 125 from cc-run), kind and all.
impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { code: 125, error }
    }
}

/// What a program that does not exit with the container's codes reports.
impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        f.error
    }
}

/// A failed system call of a stage: `cannot {what}: {errno}`.
pub(crate) fn sys(what: &str, e: nix::Error) -> Failure {
    Failure::from(Error::sys(what, errno(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_both_codes_across_the_pipe() {
        let f = Failure::from(Error::not_found("user", "nobody2"));
        let back = Failure::decode(&f.encode());
        assert_eq!((back.code, back.error.code()), (125, 3));
        assert_eq!(back.error.to_string(), "user 'nobody2' not found");
        let line = Failure::new(127, "cannot find 'x'\nin $PATH").to_line();
        let back = Failure::from_line(line.strip_prefix("failed ").unwrap()).unwrap();
        assert_eq!((back.code, back.error.code()), (127, 1));
        assert_eq!(back.error.to_string(), "cannot find 'x' in $PATH");
    }
}
