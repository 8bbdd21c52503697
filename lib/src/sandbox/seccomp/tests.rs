//! The one program against the old stack of filters (reference.rs): same
//! result for every syscall number up to past the highest named, x32 and
//! foreign-architecture calls, and arguments on both sides of every
//! comparison.

use super::bpf::{JA, LD_ABS, RET};
use super::codegen::AUDIT_ARCH_X86_64;
use super::reference::{data, kernel, run, stack, verify};
use super::*;
use crate::sandbox::caps;
use crate::spec::{SeccompArg, SeccompSyscall};

fn names(s: &Seccomp) -> Vec<&str> {
    s.syscalls
        .iter()
        .filter(|r| r.action == "SCMP_ACT_ALLOW" && r.args.is_empty())
        .flat_map(|r| r.names.iter().map(String::as_str))
        .collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn seccomp_default_depends_on_capabilities() {
    let plain = default_for(&["CAP_CHOWN".into()]);
    assert!(names(&plain).contains(&"execve"));
    assert!(!names(&plain).contains(&"mount"));
    assert!(plain
        .syscalls
        .iter()
        .any(|r| r.names == ["clone3"] && r.errno_ret == Some(38)));
    let admin = default_for(&["CAP_SYS_ADMIN".into()]);
    assert!(names(&admin).contains(&"mount"));
    assert!(names(&admin).contains(&"clone3"));
    assert!(!admin.syscalls.iter().any(|r| r.action == "SCMP_ACT_ERRNO"));
    // The old compiler made a stack of 3 filters (allow list, clone3's
    // ENOSYS, the guard) and of 2 with CAP_SYS_ADMIN; now one program.
    assert_eq!(stack(&plain).unwrap().len(), 3);
    assert_eq!(stack(&admin).unwrap().len(), 2);
    for s in [&plain, &admin] {
        let p = compile(s).unwrap();
        verify(&p);
        let head: Vec<_> = p[..4].iter().map(|i| (i.code, i.k)).collect();
        assert_eq!(
            head,
            [
                (LD_ABS, 4),
                (super::bpf::JEQ, AUDIT_ARCH_X86_64),
                (RET, libc::SECCOMP_RET_KILL_PROCESS),
                (LD_ABS, 0),
            ]
        );
    }
}

/// moby#50077 and moby#50097: the syscalls of Linux 6.8 to 6.13 are
/// allowed, the lsm_* calls only with CAP_SYS_ADMIN (EPERM, not ENOSYS,
/// without it), and the guard's ENOSYS starts after removexattrat (466).
#[test]
fn seccomp_default_has_the_syscalls_of_linux_6_13() {
    let verdict = |caps: &[&str], nr: u32| {
        let p = compile(&default_for(&strings(caps))).unwrap();
        run(&p, &data(AUDIT_ARCH_X86_64, nr, [0; 6]))
    };
    let allow = libc::SECCOMP_RET_ALLOW;
    let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    let plain = &caps::DEFAULT[..];
    // uretprobe, statmount, listmount, mseal, setxattrat .. removexattrat
    for nr in [335, 457, 458, 462, 463, 464, 465, 466] {
        assert_eq!(verdict(plain, nr), allow, "syscall {nr}");
    }
    // lsm_get_self_attr, lsm_set_self_attr, lsm_list_modules
    for nr in [459, 460, 461] {
        assert_eq!(verdict(plain, nr), eperm, "syscall {nr}");
        assert_eq!(verdict(&["CAP_SYS_ADMIN"], nr), allow, "syscall {nr}");
    }
    // io_uring_setup stays denied; open_tree_attr (467) is past the profile.
    assert_eq!(verdict(plain, 425), eperm);
    assert_eq!(verdict(plain, 467), enosys);
}

#[test]
fn seccomp_profiles_are_checked() {
    let mut s = default_for(&[]);
    s.default_action = "SCMP_ACT_NOPE".into();
    assert!(compile(&s).unwrap_err().contains("SCMP_ACT_NOPE"));
    let p: Profile = serde_json::from_str(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    )
    .unwrap();
    let s = p.resolve(&[]);
    assert_eq!(stack(&s).unwrap().len(), 1);
    assert_same(&s);
    assert_eq!(number("mkdir"), Some(libc::SYS_mkdir));
}

#[test]
fn seccomp_bad_profiles_fail_as_before() {
    let bad = [
        ("SCMP_ACT_NOPE", "SCMP_CMP_EQ", 0),
        ("SCMP_ACT_ALLOW", "SCMP_CMP_NOPE", 0),
        ("SCMP_ACT_ALLOW", "SCMP_CMP_EQ", 6),
        ("SCMP_ACT_ALLOW", "SCMP_CMP_MASKED_EQ", 6),
    ];
    for (action, op, index) in bad {
        let s = profile(
            "SCMP_ACT_ERRNO",
            vec![rule(&["read"], action, None, &[(index, op, 1, 1)])],
        );
        assert!(
            stack(&s).is_err() && compile(&s).is_err(),
            "{action} {op} {index}"
        );
    }
    let mut s = profile("SCMP_ACT_ERRNO", vec![]);
    s.architectures = vec!["x86".into()];
    assert!(stack(&s).is_err() && compile(&s).is_err());
}

#[test]
fn seccomp_docker_default_is_the_same() {
    let all: Vec<&str> = caps::NAMES.to_vec();
    for set in [&[][..], &caps::DEFAULT[..], &all[..]] {
        assert_same(&default_for(&strings(set)));
    }
}

#[test]
fn seccomp_every_operator_is_the_same() {
    let hi = 1u64 << 32;
    let s = profile(
        "SCMP_ACT_ERRNO",
        vec![
            rule(&["read"], ALLOW, None, &[(0, "SCMP_CMP_EQ", 5, 0)]),
            rule(&["write"], ALLOW, None, &[(1, "SCMP_CMP_NE", hi, 0)]),
            rule(&["open"], ALLOW, None, &[(2, "SCMP_CMP_LT", hi + 5, 0)]),
            rule(&["close"], ALLOW, None, &[(0, "SCMP_CMP_LE", 7, 0)]),
            rule(
                &["stat"],
                ALLOW,
                None,
                &[(3, "SCMP_CMP_GT", 0xffff_ffff, 0)],
            ),
            rule(&["fstat"], ALLOW, None, &[(5, "SCMP_CMP_GE", 2 * hi, 0)]),
            rule(
                &["lstat"],
                ALLOW,
                None,
                &[(4, "SCMP_CMP_MASKED_EQ", 0xff00_0000_00ff, 0x1200_0000_0034)],
            ),
            // Bits of valueTwo outside the mask.
            rule(
                &["mmap"],
                ALLOW,
                None,
                &[(0, "SCMP_CMP_MASKED_EQ", 0xf0, 0x1ff)],
            ),
            rule(
                &["poll"],
                ALLOW,
                None,
                &[(0, "SCMP_CMP_GE", 10, 0), (0, "SCMP_CMP_LE", 20, 0)],
            ),
            rule(&["lseek"], ALLOW, None, &[(0, "SCMP_CMP_EQ", 1, 0)]),
            rule(&["lseek"], ALLOW, None, &[(1, "SCMP_CMP_EQ", 2, 0)]),
            rule(&["mprotect"], ALLOW, None, &[(0, "SCMP_CMP_LT", 0, 0)]),
            rule(&["munmap"], ALLOW, None, &[(0, "SCMP_CMP_GT", u64::MAX, 0)]),
            rule(
                &["brk"],
                ALLOW,
                None,
                &[
                    (1, "SCMP_CMP_LE", u64::MAX - hi, 0),
                    (2, "SCMP_CMP_NE", 0, 0),
                ],
            ),
        ],
    );
    assert_same(&s);
}

/// Conditions on one argument are alternatives, on different arguments
/// all must hold (runc with libseccomp): `kill` is denied when its
/// signal is 0 or 10, and `tkill` when its tid is 1 and its signal 0 or 10.
#[test]
fn seccomp_conditions_on_one_argument_are_alternatives() {
    let s = profile(
        ALLOW,
        vec![
            rule(
                &["kill"],
                ERRNO,
                Some(1),
                &[(1, "SCMP_CMP_EQ", 0, 0), (1, "SCMP_CMP_EQ", 10, 0)],
            ),
            rule(
                &["tkill"],
                ERRNO,
                Some(1),
                &[
                    (1, "SCMP_CMP_EQ", 0, 0),
                    (0, "SCMP_CMP_EQ", 1, 0),
                    (1, "SCMP_CMP_EQ", 10, 0),
                ],
            ),
        ],
    );
    let p = compile(&s).unwrap();
    verify(&p);
    let eperm = libc::SECCOMP_RET_ERRNO | 1;
    let allow = libc::SECCOMP_RET_ALLOW;
    let call = |nr: i64, pid: u64, sig: u64| {
        run(
            &p,
            &data(AUDIT_ARCH_X86_64, nr as u32, [pid, sig, 0, 0, 0, 0]),
        )
    };
    for (pid, sig, kill, tkill) in [
        (1, 0, eperm, eperm),
        (1, 10, eperm, eperm),
        (1, 9, allow, allow),
        (2, 0, eperm, allow),
        (2, 10, eperm, allow),
    ] {
        assert_eq!(call(libc::SYS_kill, pid, sig), kill, "kill({pid}, {sig})");
        assert_eq!(
            call(libc::SYS_tkill, pid, sig),
            tkill,
            "tkill({pid}, {sig})"
        );
    }
    assert_same(&s);
}

const ALLOW: &str = "SCMP_ACT_ALLOW";
const ERRNO: &str = "SCMP_ACT_ERRNO";

#[test]
fn seccomp_actions_and_their_precedence_are_the_same() {
    let several = vec![
        rule(
            &["read", "write", "close", "getpid", "exit_group"],
            ALLOW,
            None,
            &[],
        ),
        rule(&["open"], ALLOW, None, &[(1, "SCMP_CMP_MASKED_EQ", 3, 0)]),
        rule(
            &["open"],
            ERRNO,
            Some(13),
            &[(1, "SCMP_CMP_MASKED_EQ", 3, 2)],
        ),
        rule(
            &["open", "stat"],
            "SCMP_ACT_TRAP",
            None,
            &[(0, "SCMP_CMP_EQ", 0, 0)],
        ),
        rule(&["mkdir"], ERRNO, Some(1), &[(1, "SCMP_CMP_GT", 0o700, 0)]),
        rule(
            &["mkdir", "rmdir"],
            ERRNO,
            Some(2),
            &[(1, "SCMP_CMP_LT", 0o1000, 0)],
        ),
        rule(&["rmdir", "chmod"], ERRNO, None, &[]),
        rule(&["ptrace"], "SCMP_ACT_KILL", None, &[]),
        rule(
            &["kill"],
            "SCMP_ACT_TRAP",
            None,
            &[(1, "SCMP_CMP_EQ", 9, 0)],
        ),
        rule(
            &["kill", "tkill"],
            "SCMP_ACT_KILL_THREAD",
            None,
            &[(1, "SCMP_CMP_EQ", 19, 0)],
        ),
        rule(&["uname"], "SCMP_ACT_LOG", None, &[]),
        rule(&["getppid", "kill"], "SCMP_ACT_TRACE", Some(7), &[]),
        rule(
            &["reboot"],
            "SCMP_ACT_KILL_PROCESS",
            None,
            &[(0, "SCMP_CMP_NE", 1, 0)],
        ),
        rule(&["clone3", "no_such_call"], ERRNO, Some(38), &[]),
        rule(&["fchmod"], ERRNO, Some(0x1_0001), &[]),
        rule(&["fchmod", "fchown"], ERRNO, Some(1), &[]),
    ];
    for default in [
        ERRNO,
        ALLOW,
        "SCMP_ACT_LOG",
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_TRACE",
    ] {
        assert_same(&profile(default, several.clone()));
        assert_same(&profile(default, vec![]));
        let mut s = profile(
            default,
            vec![rule(&["no_such_call"], "SCMP_ACT_TRAP", None, &[])],
        );
        assert_same(&s);
        s.default_errno_ret = Some(5);
        assert_same(&s);
    }
}

#[test]
fn seccomp_long_jumps_are_the_same() {
    // Every syscall with an argument check of its own: the search tree's
    // jumps go far.
    let each = super::TABLE
        .iter()
        .map(|(name, nr)| rule(&[name], ALLOW, None, &[(0, "SCMP_CMP_NE", *nr as u64, 0)]));
    let s = profile(ERRNO, each.collect());
    let p = compile(&s).unwrap();
    assert!(p.iter().any(|i| i.code == JA && i.k > 250));
    assert_same(&s);
    // One syscall with many rules, and one rule with many conditions:
    // 40 alternatives for argument 0, two for 1, one each for 2 to 5.
    let mut rules: Vec<_> = (0..150)
        .map(|v| rule(&["ioctl"], ALLOW, None, &[(1, "SCMP_CMP_EQ", v * 3, 0)]))
        .collect();
    let many: Vec<_> = (0..46)
        .map(|v| match v {
            0..40 => (0, "SCMP_CMP_EQ", 7 + v as u64, 0),
            40..42 => (1, "SCMP_CMP_GT", 1000 * v as u64, 0),
            _ => (v - 40, "SCMP_CMP_NE", v as u64, 0),
        })
        .collect();
    rules.push(rule(&["fcntl"], ALLOW, None, &many));
    rules.push(rule(
        &["ioctl"],
        "SCMP_ACT_TRAP",
        None,
        &[(1, "SCMP_CMP_GE", 440, 0)],
    ));
    assert_same(&profile(ERRNO, rules.clone()));
    assert_same(&profile("SCMP_ACT_LOG", rules));
}

#[test]
fn seccomp_random_profiles_are_the_same() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        assert_same(&rng.profile());
    }
}

/// The kernel takes the program, and a process under it sees EPERM,
/// ENOSYS and its own pid as docker's default profile says.
#[test]
fn seccomp_loads_and_filters() {
    let p = compile(&default_for(&strings(&caps::DEFAULT))).unwrap();
    // SAFETY: the child makes only system calls and leaves with _exit.
    let status = unsafe {
        match libc::fork() {
            0 => {
                let errno = || *libc::__errno_location();
                let mut code = 0;
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || load(&p, 0).is_err() {
                    libc::_exit(1);
                }
                if libc::syscall(libc::SYS_mount, 0, 0, 0, 0, 0) != -1 || errno() != libc::EPERM {
                    code |= 2;
                }
                if libc::syscall(libc::SYS_clone3, 0, 0) != -1 || errno() != libc::ENOSYS {
                    code |= 4;
                }
                if libc::syscall(1000) != -1 || errno() != libc::ENOSYS {
                    code |= 8;
                }
                if libc::syscall(libc::SYS_getpid) <= 0 {
                    code |= 16;
                }
                libc::_exit(code);
            }
            pid => {
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0);
                status
            }
        }
    };
    assert!(libc::WIFEXITED(status), "status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0);
}

// ---------------------------------------------------------------------------
// the comparison

/// The old stack and the new program agree on every call tried.
fn assert_same(s: &Seccomp) {
    let old = stack(s).unwrap();
    let new = compile(s).unwrap();
    verify(&new);
    let named = s
        .syscalls
        .iter()
        .flat_map(|r| &r.names)
        .filter_map(|n| number(n));
    let top = named.max().unwrap_or(0) as u32;
    let check = |arch: u32, nr: u32, args: [u64; 6]| {
        let d = data(arch, nr, args);
        let (was, is) = (kernel(&old, &d), run(&new, &d));
        assert_eq!(
            was, is,
            "arch {arch:#x} nr {nr} args {args:x?}: stack {was:#x}, program {is:#x}\n{s:?}"
        );
    };
    for nr in 0..=top + 20 {
        for args in arg_vectors(s, nr) {
            check(AUDIT_ARCH_X86_64, nr, args);
        }
    }
    let x32 = 0x4000_0000;
    for nr in [0, 1, 56, 59, 435, 512, 547].map(|n| x32 | n) {
        check(AUDIT_ARCH_X86_64, nr, [0; 6]);
    }
    for nr in [x32 - 1, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
        check(AUDIT_ARCH_X86_64, nr, [0; 6]);
    }
    const I386: u32 = 0x4000_0003;
    const AARCH64: u32 = 0xC000_00B7;
    for arch in [I386, AARCH64, 0, AUDIT_ARCH_X86_64 ^ 1] {
        for nr in [0, 1, 59, top, top + 1] {
            check(arch, nr, [0; 6]);
        }
    }
}

/// All zeros and all ones, and for each rule naming `nr`: values that
/// satisfy it, then each compared argument in turn set around its value
/// (one below, equal, one above, in both words).
fn arg_vectors(s: &Seccomp, nr: u32) -> Vec<[u64; 6]> {
    let mut out = vec![[0; 6], [u64::MAX; 6]];
    let rules = s
        .syscalls
        .iter()
        .filter(|r| !r.args.is_empty() && r.names.iter().any(|n| number(n) == Some(i64::from(nr))));
    for r in rules {
        let mut base = [0u64; 6];
        for a in &r.args {
            base[a.index as usize] = satisfying(a);
        }
        out.push(base);
        for a in &r.args {
            for v in around(a) {
                let mut args = base;
                args[a.index as usize] = v;
                out.push(args);
            }
        }
    }
    out
}

fn satisfying(a: &SeccompArg) -> u64 {
    let v = a.value;
    match a.op.as_str() {
        "SCMP_CMP_NE" | "SCMP_CMP_GT" => v.wrapping_add(1),
        "SCMP_CMP_LT" => v.wrapping_sub(1),
        "SCMP_CMP_MASKED_EQ" => a.value_two & v,
        _ => v,
    }
}

fn around(a: &SeccompArg) -> Vec<u64> {
    let v = if a.op == "SCMP_CMP_MASKED_EQ" {
        a.value_two & a.value
    } else {
        a.value
    };
    let near = |w: u32| [w.wrapping_sub(1), w, w.wrapping_add(1), 0, u32::MAX];
    let mut out = Vec::new();
    for hi in near((v >> 32) as u32) {
        for lo in near(v as u32) {
            out.push(u64::from(hi) << 32 | u64::from(lo));
        }
    }
    if a.op == "SCMP_CMP_MASKED_EQ" {
        let m = a.value;
        let low_bit = m & m.wrapping_neg();
        let high_bit = if m == 0 {
            0
        } else {
            1 << (63 - m.leading_zeros())
        };
        out.extend([v | !m, v ^ low_bit, v ^ high_bit, a.value_two, !a.value_two]);
    }
    out
}

// ---------------------------------------------------------------------------
// profiles

fn profile(default: &str, syscalls: Vec<SeccompSyscall>) -> Seccomp {
    Seccomp {
        default_action: default.into(),
        syscalls,
        ..Default::default()
    }
}

fn rule(
    names: &[&str],
    action: &str,
    errno: Option<u32>,
    args: &[(u32, &str, u64, u64)],
) -> SeccompSyscall {
    SeccompSyscall {
        names: strings(names),
        action: action.into(),
        errno_ret: errno,
        args: args
            .iter()
            .map(|(index, op, value, value_two)| SeccompArg {
                index: *index,
                value: *value,
                value_two: *value_two,
                op: op.to_string(),
            })
            .collect(),
    }
}

/// xorshift64: random profiles that are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }

    fn value(&mut self) -> u64 {
        let v = [0, 1, 5, 0xff, 0xffff_ffff, 1 << 32, 0x1_0000_0005, u64::MAX];
        if self.next().is_multiple_of(4) {
            self.next()
        } else {
            self.pick(&v)
        }
    }

    fn profile(&mut self) -> Seccomp {
        const ACTIONS: [&str; 8] = [
            ALLOW,
            ALLOW,
            ERRNO,
            "SCMP_ACT_KILL",
            "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_TRAP",
            "SCMP_ACT_TRACE",
            "SCMP_ACT_LOG",
        ];
        const OPS: [&str; 7] = [
            "SCMP_CMP_EQ",
            "SCMP_CMP_NE",
            "SCMP_CMP_LT",
            "SCMP_CMP_LE",
            "SCMP_CMP_GT",
            "SCMP_CMP_GE",
            "SCMP_CMP_MASKED_EQ",
        ];
        // Syscalls 0 to 9, 56 (clone), and sometimes 435 (clone3).
        let mut pool = vec![
            "read",
            "write",
            "open",
            "close",
            "stat",
            "fstat",
            "lstat",
            "poll",
            "lseek",
            "mmap",
            "clone",
            "no_such_call",
        ];
        if self.next().is_multiple_of(8) {
            pool.push("clone3");
        }
        let errnos = [None, Some(1), Some(13), Some(38)];
        let mut s = profile(self.pick(&ACTIONS), vec![]);
        s.default_errno_ret = self.pick(&errnos);
        for _ in 0..self.next() % 9 {
            let names: Vec<&str> = (0..1 + self.next() % 4).map(|_| self.pick(&pool)).collect();
            let args: Vec<_> = (0..self.next() % 4)
                .map(|_| {
                    let index = (self.next() % 6) as u32 % 3;
                    (index, self.pick(&OPS), self.value(), self.value())
                })
                .collect();
            let action = self.pick(&ACTIONS);
            let errno = self.pick(&errnos);
            s.syscalls.push(rule(&names, action, errno, &args));
        }
        s
    }
}

// ---------------------------------------------------------------------------
// load time, by hand: cargo test -p cc-lib seccomp_load_time -- --ignored --nocapture

#[test]
#[ignore = "a measurement: run it by hand"]
fn seccomp_load_time() {
    let s = default_for(&strings(&caps::DEFAULT));
    let old = stack(&s).unwrap();
    let new = vec![compile(&s).unwrap()];
    let count = |p: &[Vec<Insn>]| p.iter().map(Vec::len).sum::<usize>();
    println!(
        "docker default, 14 caps: stack of {} filters, {} instructions; one program, {}",
        old.len(),
        count(&old),
        count(&new)
    );
    let (mut was, mut is) = (vec![], vec![]);
    for _ in 0..400 {
        was.push(load_in_child(&old));
        is.push(load_in_child(&new));
    }
    println!(
        "seccomp(2) load, median of 400: stack {:.1} µs, one program {:.1} µs",
        median(&mut was),
        median(&mut is)
    );
    let time = |f: &dyn Fn()| {
        let mut t: Vec<f64> = (0..400)
            .map(|_| {
                let t0 = std::time::Instant::now();
                f();
                t0.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        median(&mut t)
    };
    let (c_old, c_new) = (time(&|| drop(stack(&s))), time(&|| drop(compile(&s))));
    println!("compile, median of 400: seccompiler {c_old:.1} µs, codegen {c_new:.1} µs");
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// µs that a fresh child takes to load these filters (no_new_privs set
/// first; the fork is not counted).
fn load_in_child(programs: &[Vec<Insn>]) -> f64 {
    let progs: Vec<libc::sock_fprog> = programs
        .iter()
        .map(|p| libc::sock_fprog {
            len: p.len() as u16,
            filter: p.as_ptr() as *mut libc::sock_filter,
        })
        .collect();
    let mut fds = [0; 2];
    // SAFETY: the child makes only system calls and leaves with _exit;
    // the parent reads 8 bytes into a u64.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        if pid == 0 {
            let mut t0 = std::mem::zeroed::<libc::timespec>();
            let mut t1 = t0;
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t0);
            for p in &progs {
                libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, p);
            }
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t1);
            let ns = ((t1.tv_sec - t0.tv_sec) * 1_000_000_000 + t1.tv_nsec - t0.tv_nsec) as u64;
            libc::write(fds[1], &ns as *const u64 as *const libc::c_void, 8);
            libc::_exit(0);
        }
        let mut ns = 0u64;
        assert_eq!(
            libc::read(fds[0], &mut ns as *mut u64 as *mut libc::c_void, 8),
            8
        );
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        libc::close(fds[0]);
        libc::close(fds[1]);
        ns as f64 / 1000.0
    }
}
