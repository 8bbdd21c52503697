//! A policy as one classic BPF program, read top to bottom:
//!
//! ```text
//! arch != AUDIT_ARCH_X86_64      → KILL_PROCESS
//! nr > highest syscall named     → ENOSYS (or a more severe default; x32's
//!                                  numbers, bit 30 set, land here)
//! binary search over the ranges of numbers that share one outcome:
//!   nr >= first of right half ? right half : left half
//!   leaf: return the action, or check the arguments
//! ```
//!
//! A leaf with argument rules tries the syscall's possible results most
//! severe first (policy.rs) and returns the first whose rules hold.
//!
//! At load the kernel runs the number part once per syscall to find those
//! it may allow without running the filter (kernel/seccomp.c,
//! `seccomp_cache_prepare`); its emulator knows only loads of nr and arch,
//! `jeq`/`jgt`/`jge`/`ja` and `ret`, which is all that part uses.

use super::bpf::{Asm, Insn, Label, To, JEQ, JGE, JGT};
use super::policy::{Cmp, Op, Outcome, Policy, Rule, When};

/// Offsets in `struct seccomp_data` (linux/seccomp.h): `args[i]` is 64 bits
/// at 16 + 8i, its low word first on little-endian x86_64.
const NR: u32 = 0;
const ARCH: u32 = 4;

fn arg_low(i: u8) -> u32 {
    16 + 8 * u32::from(i)
}

fn arg_high(i: u8) -> u32 {
    arg_low(i) + 4
}

/// EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE (linux/audit.h).
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;

pub fn program(p: &Policy) -> Result<Vec<Insn>, String> {
    let mut a = Asm::default();
    let native = a.label();
    a.load(ARCH);
    a.jump_if(JEQ, AUDIT_ARCH_X86_64, To::Label(native), To::Next);
    a.ret(libc::SECCOMP_RET_KILL_PROCESS);
    a.place(native);

    let named = a.label();
    a.load(NR);
    a.jump_if(JGT, p.top(), To::Next, To::Label(named));
    leaf(&mut a, &p.outcomes(p.top() + 1));
    a.place(named);
    search(&mut a, &ranges(p));
    a.finish()
}

/// The numbers 0..=top in ranges of one outcome list each, as (first
/// number, outcomes).
fn ranges(p: &Policy) -> Vec<(u32, Vec<Outcome<'_>>)> {
    let mut out: Vec<(u32, Vec<Outcome>)> = Vec::new();
    let mut unnamed = None;
    for nr in 0..=p.top() {
        let o = if p.names(nr) {
            p.outcomes(nr)
        } else {
            unnamed.get_or_insert_with(|| p.outcomes(nr)).clone()
        };
        if out.last().is_none_or(|(_, last)| *last != o) {
            out.push((nr, o));
        }
    }
    out
}

/// A balanced binary search: the left half follows the jump, which goes
/// to the right half.
fn search(a: &mut Asm, ranges: &[(u32, Vec<Outcome>)]) {
    if let [(_, only)] = ranges {
        return leaf(a, only);
    }
    let (left, right) = ranges.split_at(ranges.len() / 2);
    let to_right = a.label();
    a.jump_if(JGE, right[0].0, To::Label(to_right), To::Next);
    search(a, left);
    a.place(to_right);
    search(a, right);
}

/// Returns the first outcome whose condition holds; the last one's always
/// does.
fn leaf(a: &mut Asm, outcomes: &[Outcome]) {
    for o in outcomes {
        match o.when {
            When::Always => return a.ret(o.ret),
            When::Any(rules) => {
                for rule in rules {
                    let next = a.label();
                    check(a, rule, next);
                    a.ret(o.ret);
                    a.place(next);
                }
            }
            When::NoneOf(rules) => {
                let matched = a.label();
                for rule in rules {
                    let next = a.label();
                    check(a, rule, next);
                    a.jump(matched);
                    a.place(next);
                }
                a.ret(o.ret);
                a.place(matched);
            }
        }
    }
}

/// Falls through when `rule` holds (in each of its groups, one
/// comparison), else goes to `fail`.
fn check(a: &mut Asm, rule: &Rule, fail: Label) {
    for group in rule {
        let Some((last, others)) = group.split_last() else {
            continue;
        };
        let holds = a.label();
        for c in others {
            let next = a.label();
            compare(a, c, next);
            a.jump(holds);
            a.place(next);
        }
        compare(a, last, fail);
        a.place(holds);
    }
}

/// One unsigned 64-bit comparison as two 32-bit ones: the high words
/// decide unless they are equal.
fn compare(a: &mut Asm, c: &Cmp, fail: Label) {
    let (hi, lo) = ((c.value >> 32) as u32, c.value as u32);
    let ok = a.label();
    let (yes, no) = (To::Label(ok), To::Label(fail));
    a.load(arg_high(c.arg));
    match c.op {
        Op::Eq => {
            a.jump_if(JEQ, hi, To::Next, no);
            a.load(arg_low(c.arg));
            a.jump_if(JEQ, lo, yes, no);
        }
        Op::Ne => {
            a.jump_if(JEQ, hi, To::Next, yes);
            a.load(arg_low(c.arg));
            a.jump_if(JEQ, lo, no, yes);
        }
        Op::Gt | Op::Ge => {
            a.jump_if(JGT, hi, yes, To::Next);
            a.jump_if(JEQ, hi, To::Next, no);
            a.load(arg_low(c.arg));
            let code = if c.op == Op::Gt { JGT } else { JGE };
            a.jump_if(code, lo, yes, no);
        }
        Op::Lt | Op::Le => {
            a.jump_if(JGT, hi, no, To::Next);
            a.jump_if(JEQ, hi, To::Next, yes);
            a.load(arg_low(c.arg));
            // low < v is !(low >= v); low <= v is !(low > v).
            let code = if c.op == Op::Lt { JGE } else { JGT };
            a.jump_if(code, lo, no, yes);
        }
        Op::MaskedEq(mask) => {
            a.and((mask >> 32) as u32);
            a.jump_if(JEQ, hi, To::Next, no);
            a.load(arg_low(c.arg));
            a.and(mask as u32);
            a.jump_if(JEQ, lo, yes, no);
        }
    }
    a.place(ok);
}
