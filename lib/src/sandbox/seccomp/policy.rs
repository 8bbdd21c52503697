//! What a seccomp profile means for one syscall, before it becomes code.
//!
//! cc used to compile a profile (with seccompiler) into a stack of filters:
//! the allow list, one filter per other action, and an ENOSYS guard. That
//! stack defined the behaviour and it is kept exactly. For a syscall, each
//! filter gives a verdict:
//!
//! - the allow list: ALLOW when one of the syscall's rules matches, else the
//!   default action (no such filter when the default is ALLOW);
//! - each other action, in the order the profile first names it: that
//!   action when one of its rules for the syscall matches, else ALLOW;
//! - the guard: ENOSYS for a number above every syscall the profile names
//!   (x32's numbers among them), else ALLOW (no guard when the default is
//!   ALLOW or LOG).
//!
//! The kernel returns the most severe verdict; between two of the same
//! action (two ERRNOs) the later filter's (seccomp(2), "Filter return
//! values"; kernel/seccomp.c `seccomp_run_filters`).

use super::number;
use crate::spec::{Seccomp, SeccompArg};

/// What a filter returns for a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    KillProcess,
    KillThread,
    Trap,
    Errno(u32),
    Trace(u32),
    Log,
    Allow,
}

impl Action {
    /// The OCI name; a missing errno is `errno_default`.
    pub fn parse(name: &str, errno: Option<u32>, errno_default: u32) -> Result<Action, String> {
        Ok(match name {
            "SCMP_ACT_ALLOW" => Action::Allow,
            "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(errno_default)),
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRAP" => Action::Trap,
            "SCMP_ACT_TRACE" => Action::Trace(errno.unwrap_or(errno_default)),
            "SCMP_ACT_LOG" => Action::Log,
            other => return Err(format!("unknown action '{other}'")),
        })
    }

    /// The filter's return value: `SECCOMP_RET_*` and its 16 bits of data.
    pub fn ret(self) -> u32 {
        match self {
            Action::KillProcess => libc::SECCOMP_RET_KILL_PROCESS,
            Action::KillThread => libc::SECCOMP_RET_KILL_THREAD,
            Action::Trap => libc::SECCOMP_RET_TRAP,
            Action::Errno(e) => libc::SECCOMP_RET_ERRNO | (e & libc::SECCOMP_RET_DATA),
            Action::Trace(e) => libc::SECCOMP_RET_TRACE | (e & libc::SECCOMP_RET_DATA),
            Action::Log => libc::SECCOMP_RET_LOG,
            Action::Allow => libc::SECCOMP_RET_ALLOW,
        }
    }
}

/// The kernel's order of return values: lower is more severe
/// (`ACTION_ONLY` in kernel/seccomp.c, a signed compare).
pub fn severity(ret: u32) -> i32 {
    (ret & libc::SECCOMP_RET_ACTION_FULL) as i32
}

/// A 64-bit comparison of `args[arg]`, unsigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmp {
    pub arg: u8,
    pub op: Op,
    pub value: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `(arg & mask) == value`.
    MaskedEq(u64),
}

impl Cmp {
    fn parse(a: &SeccompArg) -> Result<Cmp, String> {
        let (op, value) = match a.op.as_str() {
            "SCMP_CMP_EQ" => (Op::Eq, a.value),
            "SCMP_CMP_NE" => (Op::Ne, a.value),
            "SCMP_CMP_LT" => (Op::Lt, a.value),
            "SCMP_CMP_LE" => (Op::Le, a.value),
            "SCMP_CMP_GT" => (Op::Gt, a.value),
            "SCMP_CMP_GE" => (Op::Ge, a.value),
            // (arg & value) == valueTwo; bits of valueTwo outside the mask
            // are dropped, as seccompiler did (libseccomp never matches).
            "SCMP_CMP_MASKED_EQ" => (Op::MaskedEq(a.value), a.value_two & a.value),
            other => return Err(format!("unknown operator '{other}'")),
        };
        if a.index > 5 {
            return Err(format!("argument index {} is over 5", a.index));
        }
        Ok(Cmp {
            arg: a.index as u8,
            op,
            value,
        })
    }
}

/// A rule's `args`, grouped by argument in the order the profile names
/// them: every group must hold, and a group holds when one of its
/// comparisons does. Several conditions on one argument are alternatives
/// (runc splits them into rules of their own, libseccomp ORs rules);
/// conditions on different arguments must all hold.
pub type Rule = Vec<Vec<Cmp>>;

fn rule(args: &[SeccompArg]) -> Result<Rule, String> {
    let mut rule = Rule::new();
    for a in args {
        let c = Cmp::parse(a)?;
        match rule.iter_mut().find(|g| g[0].arg == c.arg) {
            Some(group) => group.push(c),
            None => rule.push(vec![c]),
        }
    }
    Ok(rule)
}

/// Whether one action's rules name a syscall.
#[derive(Clone, Debug, Default)]
enum Named {
    #[default]
    No,
    /// By a rule without arguments.
    Always,
    /// Only by rules with arguments, one of which must match.
    If(Vec<Rule>),
}

/// One action's syscalls, indexed by number.
type Group = Vec<Named>;

/// A checked profile: its actions and their syscalls by number.
pub struct Policy {
    default: Action,
    /// Each action in the order the profile first names it.
    groups: Vec<(Action, Group)>,
    /// The highest syscall number named; 0 when none is.
    top: u32,
}

/// One possible result for a syscall and when it is the kernel's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub ret: u32,
    pub when: When<'a>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When<'a> {
    Always,
    /// One of these rules matches.
    Any(&'a [Rule]),
    /// None of them does.
    NoneOf(&'a [Rule]),
}

/// One filter's verdict for a syscall.
enum Verdict<'a> {
    Is(Action),
    If(&'a [Rule], Action, Action),
}

impl Policy {
    pub fn parse(s: &Seccomp) -> Result<Policy, String> {
        let eperm = libc::EPERM as u32;
        let default = Action::parse(&s.default_action, s.default_errno_ret, eperm)?;
        // Only x86_64 syscalls are filtered; every other architecture
        // (`architectures` notwithstanding) is killed by the arch check.
        if let Some(a) = s
            .architectures
            .iter()
            .find(|a| !a.starts_with("SCMP_ARCH_"))
        {
            return Err(format!("unknown architecture '{a}'"));
        }
        let mut groups: Vec<(Action, Group)> = Vec::new();
        let mut top = 0;
        for sc in &s.syscalls {
            let action = Action::parse(&sc.action, sc.errno_ret, eperm)?;
            let rule = rule(&sc.args)?;
            let i = match groups.iter().position(|(a, _)| *a == action) {
                Some(i) => i,
                None => {
                    groups.push((action, Group::new()));
                    groups.len() - 1
                }
            };
            // Names this architecture does not have are skipped, as
            // libseccomp does.
            for nr in sc.names.iter().filter_map(|n| number(n)) {
                let nr = nr as usize;
                let group = &mut groups[i].1;
                if group.len() <= nr {
                    group.resize(nr + 1, Named::No);
                }
                let slot = &mut group[nr];
                match slot {
                    Named::Always => {}
                    _ if rule.is_empty() => *slot = Named::Always,
                    Named::No => *slot = Named::If(vec![rule.clone()]),
                    Named::If(rules) => rules.push(rule.clone()),
                }
                top = top.max(nr as u32);
            }
        }
        Ok(Policy {
            default,
            groups,
            top,
        })
    }

    pub fn top(&self) -> u32 {
        self.top
    }

    /// Whether a rule names syscall `nr`.
    pub fn names(&self, nr: u32) -> bool {
        let nr = nr as usize;
        self.groups
            .iter()
            .any(|(_, g)| !matches!(g.get(nr), None | Some(Named::No)))
    }

    /// The results syscall `nr` can have, most severe first: the kernel's
    /// is the first whose condition holds. The last is always `Always`.
    pub fn outcomes(&self, nr: u32) -> Vec<Outcome<'_>> {
        let mut all: Vec<(Outcome, usize)> = Vec::new();
        for (i, v) in self.verdicts(nr).into_iter().enumerate() {
            match v {
                Verdict::Is(a) => all.push((outcome(a, When::Always), i)),
                Verdict::If(rules, matched, otherwise) => {
                    all.push((outcome(matched, When::Any(rules)), i));
                    all.push((outcome(otherwise, When::NoneOf(rules)), i));
                }
            }
        }
        // ALLOW, the least severe, is what is left when nothing else holds.
        all.retain(|(o, _)| o.ret != libc::SECCOMP_RET_ALLOW);
        all.sort_by_key(|(o, i)| (severity(o.ret), std::cmp::Reverse(*i)));
        let mut out: Vec<Outcome> = Vec::with_capacity(all.len() + 1);
        for (o, _) in all {
            let always = o.when == When::Always;
            out.push(o);
            if always {
                return out;
            }
        }
        out.push(outcome(Action::Allow, When::Always));
        out
    }

    /// The verdict of each filter of the old stack, in its load order.
    fn verdicts(&self, nr: u32) -> Vec<Verdict<'_>> {
        let of = |g, matched, otherwise| verdict(g, nr, matched, otherwise);
        let mut out = Vec::with_capacity(self.groups.len() + 2);
        if self.default != Action::Allow {
            let allowed = self.groups.iter().find(|(a, _)| *a == Action::Allow);
            match allowed {
                Some((_, g)) => out.push(of(g, Action::Allow, self.default)),
                None => out.push(Verdict::Is(self.default)),
            }
        }
        for (action, g) in self.groups.iter().filter(|(a, _)| *a != Action::Allow) {
            out.push(of(g, *action, Action::Allow));
        }
        if !matches!(self.default, Action::Allow | Action::Log) {
            let enosys = Action::Errno(libc::ENOSYS as u32);
            out.push(Verdict::Is(if nr > self.top {
                enosys
            } else {
                Action::Allow
            }));
        }
        out
    }
}

/// A filter's verdict on `nr` when it returns `matched` for its syscalls.
fn verdict(g: &Group, nr: u32, matched: Action, otherwise: Action) -> Verdict<'_> {
    match g.get(nr as usize) {
        None | Some(Named::No) => Verdict::Is(otherwise),
        Some(Named::Always) => Verdict::Is(matched),
        Some(Named::If(rules)) => Verdict::If(rules, matched, otherwise),
    }
}

fn outcome(a: Action, when: When) -> Outcome {
    Outcome { ret: a.ret(), when }
}
