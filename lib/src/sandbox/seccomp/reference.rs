//! For the tests: the compiler cc had before (seccompiler, a stack of
//! filters) as the reference for what a profile means, a cBPF interpreter
//! for the instructions either emits, and the kernel's rule for combining
//! the results of stacked filters.

use std::collections::BTreeMap;

use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use super::bpf::{Insn, AND, JA, JEQ, JGE, JGT, LD_ABS, RET};
use super::number;
use crate::spec::{Seccomp, SeccompArg};

const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;

/// `struct seccomp_data` in 32-bit words: nr, arch, instruction pointer,
/// then each argument's low and high word.
pub type Data = [u32; 16];

pub fn data(arch: u32, nr: u32, args: [u64; 6]) -> Data {
    let mut d = [0; 16];
    d[0] = nr;
    d[1] = arch;
    for (i, a) in args.iter().enumerate() {
        d[4 + 2 * i] = *a as u32;
        d[5 + 2 * i] = (a >> 32) as u32;
    }
    d
}

/// Runs a program; panics on what the kernel would refuse to load or run.
pub fn run(program: &[Insn], d: &Data) -> u32 {
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let i = program[pc];
        pc += 1;
        let taken = match i.code {
            LD_ABS => {
                assert!(i.k.is_multiple_of(4) && i.k < 64, "load at {}", i.k);
                a = d[i.k as usize / 4];
                continue;
            }
            AND => {
                a &= i.k;
                continue;
            }
            JA => {
                pc += i.k as usize;
                continue;
            }
            RET => return i.k,
            JEQ => a == i.k,
            JGT => a > i.k,
            JGE => a >= i.k,
            JSET => a & i.k != 0,
            other => panic!("opcode {other:#x}"),
        };
        pc += usize::from(if taken { i.jt } else { i.jf });
    }
}

/// The kernel's checks that do not depend on the data: known opcodes,
/// jumps inside the program, a return at the end, at most 4096.
pub fn verify(program: &[Insn]) {
    assert!(!program.is_empty() && program.len() <= 4096);
    assert_eq!(program.last().unwrap().code, RET);
    for (pc, i) in program.iter().enumerate() {
        let reach = match i.code {
            LD_ABS | AND | RET => continue,
            JA => i.k as usize,
            JEQ | JGT | JGE => usize::from(i.jt.max(i.jf)),
            other => panic!("opcode {other:#x} at {pc}"),
        };
        assert!(pc + 1 + reach < program.len(), "jump out at {pc}");
    }
}

/// Severity, as `ACTION_ONLY` in kernel/seccomp.c: lower is more severe.
fn severity(ret: u32) -> i32 {
    (ret & 0xffff_0000) as i32
}

/// `seccomp_run_filters`: the newest filter first; a strictly more severe
/// result replaces the one kept.
pub fn kernel(stack: &[Vec<Insn>], d: &Data) -> u32 {
    let mut ret = libc::SECCOMP_RET_ALLOW;
    for p in stack.iter().rev() {
        let cur = run(p, d);
        if severity(cur) < severity(ret) {
            ret = cur;
        }
    }
    ret
}

pub fn insns(p: &[sock_filter]) -> Vec<Insn> {
    p.iter()
        .map(|i| Insn {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The old compile(), unchanged but for its name and return type.

fn action(
    name: &str,
    errno: Option<u32>,
    default_errno: u32,
) -> std::result::Result<SeccompAction, String> {
    Ok(match name {
        "SCMP_ACT_ALLOW" => SeccompAction::Allow,
        "SCMP_ACT_ERRNO" => SeccompAction::Errno(errno.unwrap_or(default_errno)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => SeccompAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => SeccompAction::KillProcess,
        "SCMP_ACT_TRAP" => SeccompAction::Trap,
        "SCMP_ACT_TRACE" => SeccompAction::Trace(errno.unwrap_or(default_errno)),
        "SCMP_ACT_LOG" => SeccompAction::Log,
        other => return Err(format!("unknown action '{other}'")),
    })
}

fn condition(a: &SeccompArg) -> std::result::Result<SeccompCondition, String> {
    let op = match a.op.as_str() {
        "SCMP_CMP_EQ" => SeccompCmpOp::Eq,
        "SCMP_CMP_NE" => SeccompCmpOp::Ne,
        "SCMP_CMP_LT" => SeccompCmpOp::Lt,
        "SCMP_CMP_LE" => SeccompCmpOp::Le,
        "SCMP_CMP_GT" => SeccompCmpOp::Gt,
        "SCMP_CMP_GE" => SeccompCmpOp::Ge,
        // libseccomp: (arg & value) == valueTwo.
        "SCMP_CMP_MASKED_EQ" => {
            return SeccompCondition::new(
                a.index as u8,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(a.value),
                a.value_two,
            )
            .map_err(|e| e.to_string().to_lowercase());
        }
        other => return Err(format!("unknown operator '{other}'")),
    };
    if a.index > 5 {
        return Err(format!("argument index {} is over 5", a.index));
    }
    SeccompCondition::new(a.index as u8, SeccompCmpArgLen::Qword, op, a.value)
        .map_err(|e| e.to_string().to_lowercase())
}

type Group = BTreeMap<i64, Option<Vec<SeccompRule>>>;

/// A rule's conditions as seccompiler rules (each an AND), any of which
/// may match: conditions on one argument are alternatives, so the rule is
/// every choice of one condition per argument (runc splits such a rule
/// into rules of one condition each; libseccomp ORs rules).
fn alternatives(args: &[SeccompArg]) -> std::result::Result<Vec<SeccompRule>, String> {
    let mut by_arg: BTreeMap<u32, Vec<&SeccompArg>> = BTreeMap::new();
    for a in args {
        by_arg.entry(a.index).or_default().push(a);
    }
    let mut choices: Vec<Vec<&SeccompArg>> = vec![vec![]];
    for group in by_arg.values() {
        choices = choices
            .iter()
            .flat_map(|c| group.iter().map(move |a| [&c[..], &[*a]].concat()))
            .collect();
    }
    choices
        .into_iter()
        .map(|c| {
            let conditions = c
                .into_iter()
                .map(condition)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            SeccompRule::new(conditions).map_err(|e| e.to_string().to_lowercase())
        })
        .collect()
}

/// The filters of the old compiler, in load order.
pub fn stack(s: &Seccomp) -> std::result::Result<Vec<Vec<Insn>>, String> {
    let eperm = libc::EPERM as u32;
    let default = action(&s.default_action, s.default_errno_ret, eperm)?;
    for a in &s.architectures {
        if !a.starts_with("SCMP_ARCH_") {
            return Err(format!("unknown architecture '{a}'"));
        }
    }
    let mut groups: Vec<(SeccompAction, Group)> = Vec::new();
    let mut highest = -1i64;
    for sc in &s.syscalls {
        let act = action(&sc.action, sc.errno_ret, eperm)?;
        let rule = if sc.args.is_empty() {
            None
        } else {
            Some(alternatives(&sc.args)?)
        };
        let idx = match groups.iter().position(|(a, _)| *a == act) {
            Some(i) => i,
            None => {
                groups.push((act.clone(), Group::new()));
                groups.len() - 1
            }
        };
        let group = &mut groups[idx].1;
        for name in &sc.names {
            let Some(nr) = number(name) else { continue };
            highest = highest.max(nr);
            match (group.get_mut(&nr), &rule) {
                (Some(None), _) => {}
                (Some(slot), None) => *slot = None,
                (Some(Some(list)), Some(r)) => list.extend(r.iter().cloned()),
                (None, r) => {
                    group.insert(nr, r.clone());
                }
            }
        }
    }
    let build = |g: &Group, mismatch: SeccompAction, matched: SeccompAction| {
        let rules: BTreeMap<i64, Vec<SeccompRule>> = g
            .iter()
            .map(|(nr, r)| (*nr, r.clone().unwrap_or_default()))
            .collect();
        let f = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)
            .map_err(|e| e.to_string().to_lowercase())?;
        BpfProgram::try_from(f).map_err(|e| e.to_string().to_lowercase())
    };
    let mut programs = Vec::new();
    let empty = Group::new();
    let allowed = groups
        .iter()
        .find(|(a, _)| *a == SeccompAction::Allow)
        .map(|(_, g)| g)
        .unwrap_or(&empty);
    if default != SeccompAction::Allow {
        programs.push(build(allowed, default.clone(), SeccompAction::Allow)?);
    }
    for (act, g) in &groups {
        if *act != SeccompAction::Allow {
            programs.push(build(g, SeccompAction::Allow, act.clone())?);
        }
    }
    if default != SeccompAction::Allow && default != SeccompAction::Log {
        programs.push(enosys_guard(highest));
    }
    if programs.is_empty() {
        programs.push(build(
            &empty,
            SeccompAction::Allow,
            SeccompAction::KillProcess,
        )?);
    }
    Ok(programs.iter().map(|p| insns(p)).collect())
}

fn enosys_guard(highest: i64) -> BpfProgram {
    let ins = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    vec![
        ins(LD_ABS, 0, 0, 4),
        ins(JEQ, 1, 0, 0xC000_003E),
        ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW),
        ins(LD_ABS, 0, 0, 0),
        ins(JGT, 0, 1, highest.max(0) as u32),
        ins(RET, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}
