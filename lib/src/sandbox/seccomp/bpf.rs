//! Classic BPF for seccomp: the instruction, the few opcodes we emit, and a
//! small assembler whose jumps go to labels.
//!
//! cBPF jumps only forward, and a conditional jump's `jt`/`jf` offsets are
//! 8 bits. `Asm::finish` lays the code out and, where a label is more than
//! 255 instructions away, sends that branch through an unconditional `ja`
//! (32-bit offset) placed right after the jump.

/// One instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const fn op(bits: u32) -> u16 {
    bits as u16
}

/// `A = seccomp_data[k]` (a 32-bit word).
pub const LD_ABS: u16 = op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS);
/// `A &= k`.
pub const AND: u16 = op(libc::BPF_ALU | libc::BPF_AND | libc::BPF_K);
/// `pc += k`.
pub const JA: u16 = op(libc::BPF_JMP | libc::BPF_JA);
/// `pc += (A == k) ? jt : jf`, and likewise `A > k`, `A >= k` (unsigned).
pub const JEQ: u16 = op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K);
pub const JGT: u16 = op(libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K);
pub const JGE: u16 = op(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K);
/// `return k`.
pub const RET: u16 = op(libc::BPF_RET | libc::BPF_K);

/// The kernel takes at most this many instructions in one filter.
const MAX_LEN: usize = libc::BPF_MAXINSNS as usize;

/// The furthest a conditional jump reaches (`jt`, `jf` are one byte).
const SHORT: usize = u8::MAX as usize;

/// A place in the code, made by `Asm::label` and put with `Asm::place`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// Where a conditional jump goes.
#[derive(Clone, Copy, Debug)]
pub enum To {
    /// The instruction after the jump.
    Next,
    Label(Label),
}

enum Item {
    /// An instruction that does not jump.
    Plain(Insn),
    Ja(Label),
    If {
        code: u16,
        k: u32,
        jt: To,
        jf: To,
    },
    Place(Label),
}

/// Code with labelled jumps, turned into a program by `finish`.
#[derive(Default)]
pub struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// Puts `l` at the next instruction; every label is placed once.
    pub fn place(&mut self, l: Label) {
        self.items.push(Item::Place(l));
    }

    /// Loads the 32-bit word at `offset` in `struct seccomp_data`.
    pub fn load(&mut self, offset: u32) {
        self.plain(LD_ABS, offset);
    }

    pub fn and(&mut self, k: u32) {
        self.plain(AND, k);
    }

    pub fn ret(&mut self, k: u32) {
        self.plain(RET, k);
    }

    pub fn jump(&mut self, to: Label) {
        self.items.push(Item::Ja(to));
    }

    /// `JEQ`, `JGT` or `JGE` against `k`.
    pub fn jump_if(&mut self, code: u16, k: u32, jt: To, jf: To) {
        self.items.push(Item::If { code, k, jt, jf });
    }

    fn plain(&mut self, code: u16, k: u32) {
        self.items.push(Item::Plain(Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }));
    }

    /// The program. Starts with every conditional jump short and marks as
    /// far any branch that does not reach; each mark only adds code, so
    /// the marking ends.
    pub fn finish(self) -> Result<Vec<Insn>, String> {
        let mut far = vec![[false; 2]; self.items.len()];
        let mut layout = self.layout(&far);
        loop {
            let mut grew = false;
            for (i, item) in self.items.iter().enumerate() {
                let Item::If { jt, jf, .. } = item else {
                    continue;
                };
                for (b, to) in [jt, jf].into_iter().enumerate() {
                    if let To::Label(l) = to {
                        if !far[i][b] && layout.label(*l) > layout.at[i] + 1 + SHORT {
                            far[i][b] = true;
                            grew = true;
                        }
                    }
                }
            }
            if !grew {
                break;
            }
            layout = self.layout(&far);
        }
        let out = self.emit(&far, &layout);
        if out.len() > MAX_LEN {
            return Err(format!(
                "the filter has {} instructions, more than the kernel's {MAX_LEN}",
                out.len()
            ));
        }
        Ok(out)
    }

    /// Where each item and each label goes.
    fn layout(&self, far: &[[bool; 2]]) -> Layout {
        let mut at = Vec::with_capacity(self.items.len());
        let mut labels = vec![usize::MAX; self.labels];
        let mut pc = 0;
        for (i, item) in self.items.iter().enumerate() {
            at.push(pc);
            match item {
                Item::Place(l) => labels[l.0] = pc,
                Item::Plain(_) | Item::Ja(_) => pc += 1,
                Item::If { .. } => pc += 1 + far[i].iter().filter(|f| **f).count(),
            }
        }
        Layout { at, labels }
    }

    fn emit(&self, far: &[[bool; 2]], layout: &Layout) -> Vec<Insn> {
        let mut out = Vec::with_capacity(layout.at.last().map_or(0, |n| n + 2));
        for (i, item) in self.items.iter().enumerate() {
            let pc = layout.at[i];
            match item {
                Item::Place(_) => {}
                Item::Plain(insn) => out.push(*insn),
                Item::Ja(l) => out.push(ja(pc, layout.label(*l))),
                Item::If { code, k, jt, jf } => {
                    // The trampolines for far branches follow the jump.
                    let next = pc + 1 + far[i].iter().filter(|f| **f).count();
                    let mut slot = pc + 1;
                    let mut trampolines = Vec::new();
                    let mut offset = |b: usize, to: &To| {
                        let target = match to {
                            To::Next => next,
                            To::Label(l) => layout.label(*l),
                        };
                        if far[i][b] {
                            trampolines.push(ja(slot, target));
                            slot += 1;
                            (slot - 1 - (pc + 1)) as u8
                        } else {
                            short(pc, target)
                        }
                    };
                    let (jt, jf) = (offset(0, jt), offset(1, jf));
                    out.push(Insn {
                        code: *code,
                        jt,
                        jf,
                        k: *k,
                    });
                    out.extend(trampolines);
                }
            }
        }
        out
    }
}

struct Layout {
    /// Each item's position.
    at: Vec<usize>,
    labels: Vec<usize>,
}

impl Layout {
    fn label(&self, l: Label) -> usize {
        let pc = self.labels[l.0];
        assert!(
            pc != usize::MAX,
            "seccomp codegen: label {} not placed",
            l.0
        );
        pc
    }
}

/// `ja` at `pc` to `target`; cBPF only jumps forward.
fn ja(pc: usize, target: usize) -> Insn {
    assert!(target > pc, "seccomp codegen: backward jump");
    Insn {
        code: JA,
        jt: 0,
        jf: 0,
        k: (target - pc - 1) as u32,
    }
}

fn short(pc: usize, target: usize) -> u8 {
    assert!(
        target > pc && target - pc - 1 <= SHORT,
        "seccomp codegen: jump"
    );
    (target - pc - 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_far_branches_go_through_ja() {
        let mut a = Asm::default();
        let (near, far) = (a.label(), a.label());
        a.load(0);
        a.jump_if(JEQ, 1, To::Label(far), To::Label(near));
        a.place(near);
        for _ in 0..300 {
            a.ret(0);
        }
        a.place(far);
        a.ret(1);
        let p = a.finish().unwrap();
        assert_eq!(p.len(), 304);
        assert_eq!((p[1].code, p[1].jt, p[1].jf), (JEQ, 0, 1));
        assert_eq!((p[2].code, p[2].k), (JA, 300));
        assert_eq!(p[303].k, 1);
    }

    #[test]
    fn seccomp_too_long_is_an_error() {
        let mut a = Asm::default();
        for _ in 0..=MAX_LEN {
            a.ret(0);
        }
        assert!(a.finish().unwrap_err().contains("4097 instructions"));
    }
}
