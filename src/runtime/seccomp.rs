//! seccomp: the system calls the sandboxed child may not make, as data
//! (one table, unit-tested without the kernel), compiled to BPF and applied
//! in `trampoline.rs`.
//!
//! Kill or errno, per call: calls no library makes while importing or
//! running a model (ptrace, mount, module loading...) kill the process, so
//! an attempt cannot be retried or hidden; calls that libraries probe at
//! import time (sockets: glibc's nscd lookup, torch's and transformers'
//! imports) fail with an errno so a legitimate run goes on.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// SIGSYS: the process dies at once.
    Kill,
    /// The call fails with this errno.
    Errno(i32),
}

/// One row of the policy: a system call, optionally only when an argument
/// matches, and what happens.
#[derive(Clone, Debug)]
pub struct Deny {
    pub name: &'static str,
    pub number: i64,
    /// (argument index, 32-bit, mask, value): matches when `arg & mask == value`.
    pub when: Option<(u8, bool, u64, u64)>,
    pub verdict: Verdict,
    pub why: &'static str,
}

const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541C;
const NAMESPACE_FLAGS: &[u64] = &[
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWCGROUP as u64,
];

macro_rules! deny {
    ($name:ident, $verdict:expr, $why:expr) => {
        Deny {
            name: stringify!($name),
            number: libc::$name,
            when: None,
            verdict: $verdict,
            why: $why,
        }
    };
}

/// The whole policy. `SYS_x` numbers come from libc for the build target.
pub fn policy(cuda: bool) -> Vec<Deny> {
    use Verdict::*;
    let mut rows = vec![
        deny!(SYS_ptrace, Kill, "debugging another process"),
        deny!(
            SYS_process_vm_readv,
            Kill,
            "reading another process's memory"
        ),
        deny!(
            SYS_process_vm_writev,
            Kill,
            "writing another process's memory"
        ),
        deny!(SYS_mount, Kill, "changing the filesystem view"),
        deny!(SYS_umount2, Kill, "changing the filesystem view"),
        deny!(SYS_pivot_root, Kill, "changing the filesystem view"),
        deny!(SYS_chroot, Kill, "changing the filesystem view"),
        deny!(SYS_setns, Kill, "entering another namespace"),
        deny!(SYS_unshare, Kill, "creating namespaces"),
        deny!(SYS_bpf, Kill, "loading kernel programs"),
        deny!(
            SYS_perf_event_open,
            Kill,
            "kernel performance counters (side channels)"
        ),
        deny!(SYS_add_key, Kill, "the kernel keyring"),
        deny!(SYS_request_key, Kill, "the kernel keyring"),
        deny!(SYS_keyctl, Kill, "the kernel keyring"),
        deny!(SYS_init_module, Kill, "loading kernel modules"),
        deny!(SYS_finit_module, Kill, "loading kernel modules"),
        deny!(SYS_delete_module, Kill, "unloading kernel modules"),
        deny!(SYS_kexec_load, Kill, "replacing the kernel"),
        deny!(SYS_kexec_file_load, Kill, "replacing the kernel"),
        deny!(
            SYS_io_uring_setup,
            Kill,
            "io_uring bypasses syscall filtering"
        ),
        deny!(
            SYS_io_uring_enter,
            Kill,
            "io_uring bypasses syscall filtering"
        ),
        deny!(
            SYS_io_uring_register,
            Kill,
            "io_uring bypasses syscall filtering"
        ),
        deny!(SYS_userfaultfd, Kill, "a kernel-exploitation primitive"),
        deny!(
            SYS_pidfd_getfd,
            Kill,
            "taking another process's file descriptors"
        ),
        deny!(
            SYS_execveat,
            Kill,
            "executing a file descriptor (memfd payloads)"
        ),
        deny!(
            SYS_memfd_create,
            Errno(libc::EPERM),
            "anonymous executable memory files"
        ),
        deny!(
            SYS_clone3,
            Errno(libc::ENOSYS),
            "clone3 flags cannot be inspected; libc falls back to clone"
        ),
    ];
    for &flag in NAMESPACE_FLAGS {
        rows.push(Deny {
            name: "SYS_clone",
            number: libc::SYS_clone,
            when: Some((0, false, flag, flag)),
            verdict: Errno(libc::EPERM),
            why: "creating namespaces",
        });
    }
    // ioctl request numbers are compared as 32 bits (CVE-2019-10063).
    for (req, why) in [
        (TIOCSTI, "injecting terminal input"),
        (TIOCLINUX, "injecting terminal input"),
    ] {
        rows.push(Deny {
            name: "SYS_ioctl",
            number: libc::SYS_ioctl,
            when: Some((1, true, u64::from(u32::MAX), req)),
            verdict: Kill,
            why,
        });
    }
    if cuda {
        // CUDA's driver uses memfd_create; only sealed non-executable ones
        // are allowed, so `execve("/proc/self/fd/N")` of a memfd fails.
        rows.retain(|r| r.name != "SYS_memfd_create");
        for (mask, value, why) in [
            (
                MFD_NOEXEC_SEAL,
                0,
                "memfds without MFD_NOEXEC_SEAL (executable payloads)",
            ),
            (MFD_EXEC, MFD_EXEC, "executable memfds"),
        ] {
            rows.push(Deny {
                name: "SYS_memfd_create",
                number: libc::SYS_memfd_create,
                when: Some((1, true, mask, value)),
                verdict: Errno(libc::EPERM),
                why,
            });
        }
    }
    rows
}

/// memfd_create flags (linux/memfd.h, Linux 6.3+).
pub const MFD_NOEXEC_SEAL: u64 = 0x0008;
pub const MFD_EXEC: u64 = 0x0010;

/// What the supervisor learns from an observed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// socket(family, type): answered EACCES by the supervisor.
    Socket,
    /// connect(fd, addr, len): answered EACCES by the supervisor.
    Connect,
    /// sendto(fd, buf, len, flags, addr, len) with a destination: EACCES.
    SendTo,
    /// sendmsg(fd, msg, flags): a destination in msg_name is refused.
    SendMsg,
    /// An open: (dirfd argument, path argument, flags argument); Landlock
    /// decides, the supervisor records what falls outside the policy.
    Open(Option<u8>, u8, Option<u8>),
    /// A change to a path (mkdir, unlink, rename...): (dirfd, path).
    Change(Option<u8>, u8),
    /// execve(path, ...): Landlock decides.
    Exec,
    /// A new process (clone without CLONE_THREAD, fork, vfork).
    Fork,
    /// A call the policy kills for: the supervisor records it, with what
    /// it is, and kills the caller before the call runs (a process killed
    /// by the kernel's filter could be reaped by the model's own code,
    /// unseen by the supervisor).
    Forbidden(&'static str),
}

/// One observed call: the kernel stops the caller and asks the supervisor
/// (SECCOMP_RET_USER_NOTIF), which records it and answers.
#[derive(Clone, Debug)]
pub struct Observe {
    pub name: &'static str,
    pub number: i64,
    pub when: Option<(u8, bool, u64, u64)>,
    pub what: Observed,
}

/// The calls worth reporting, whoever makes them (Python or native code),
/// and the calls the policy kills for.
pub fn observed(cuda: bool) -> Vec<Observe> {
    use Observed::*;
    let row = |name, number, what| Observe {
        name,
        number,
        when: None,
        what,
    };
    let mut rows = vec![
        row("socket", libc::SYS_socket, Socket),
        row("connect", libc::SYS_connect, Connect),
        Observe {
            name: "sendto",
            number: libc::SYS_sendto,
            when: Some((4, false, u64::MAX, 0)),
            what: SendTo,
        },
        row("sendmsg", libc::SYS_sendmsg, SendMsg),
        row("sendmmsg", libc::SYS_sendmmsg, SendMsg),
        row("open", libc::SYS_open, Open(None, 0, Some(1))),
        row("openat", libc::SYS_openat, Open(Some(0), 1, Some(2))),
        row("openat2", libc::SYS_openat2, Open(Some(0), 1, None)),
        row("creat", libc::SYS_creat, Open(None, 0, None)),
        row("truncate", libc::SYS_truncate, Change(None, 0)),
        row("mkdir", libc::SYS_mkdir, Change(None, 0)),
        row("mkdirat", libc::SYS_mkdirat, Change(Some(0), 1)),
        row("rmdir", libc::SYS_rmdir, Change(None, 0)),
        row("unlink", libc::SYS_unlink, Change(None, 0)),
        row("unlinkat", libc::SYS_unlinkat, Change(Some(0), 1)),
        row("rename", libc::SYS_rename, Change(None, 0)),
        row("renameat", libc::SYS_renameat, Change(Some(0), 1)),
        row("renameat2", libc::SYS_renameat2, Change(Some(0), 1)),
        row("link", libc::SYS_link, Change(None, 1)),
        row("linkat", libc::SYS_linkat, Change(Some(2), 3)),
        row("symlink", libc::SYS_symlink, Change(None, 1)),
        row("symlinkat", libc::SYS_symlinkat, Change(Some(1), 2)),
        row("chmod", libc::SYS_chmod, Change(None, 0)),
        row("fchmodat", libc::SYS_fchmodat, Change(Some(0), 1)),
        row("execve", libc::SYS_execve, Exec),
        row("fork", libc::SYS_fork, Fork),
        row("vfork", libc::SYS_vfork, Fork),
    ];
    // clone without CLONE_THREAD makes a process (threads are not reported).
    rows.push(Observe {
        name: "clone",
        number: libc::SYS_clone,
        when: Some((0, false, libc::CLONE_THREAD as u64, 0)),
        what: Fork,
    });
    rows.extend(
        policy(cuda)
            .into_iter()
            .filter(|d| d.verdict == Verdict::Kill)
            .map(|d| Observe {
                name: d.name.trim_start_matches("SYS_"),
                number: d.number,
                when: d.when,
                what: Forbidden(d.why),
            }),
    );
    rows
}

/// Compiles the observed calls into one filter whose match action is
/// SECCOMP_RET_USER_NOTIF. seccompiler has no such action: the filter is
/// compiled with SECCOMP_RET_TRAP as the match action, and those return
/// instructions are rewritten (the only RET_TRAP in the program).
pub fn compile_observer(rows: &[Observe]) -> Result<BpfProgram, String> {
    let arch = target_arch()?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for row in rows {
        let entry = rules.entry(row.number).or_default();
        if let Some((arg, dword, mask, value)) = row.when {
            let len = if dword {
                SeccompCmpArgLen::Dword
            } else {
                SeccompCmpArgLen::Qword
            };
            let op = if mask == u64::MAX {
                // "argument is not `value`" (sendto with a destination).
                SeccompCmpOp::Ne
            } else {
                SeccompCmpOp::MaskedEq(mask)
            };
            let cond = SeccompCondition::new(arg, len, op, value).map_err(|e| e.to_string())?;
            entry.push(SeccompRule::new(vec![cond]).map_err(|e| e.to_string())?);
        }
    }
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Trap, arch)
        .map_err(|e| e.to_string())?;
    let mut program = BpfProgram::try_from(filter).map_err(|e| e.to_string())?;
    const BPF_RET_K: u16 = 0x06;
    const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
    let mut rewritten = 0;
    for insn in &mut program {
        if insn.code == BPF_RET_K && insn.k == SECCOMP_RET_TRAP {
            insn.k = libc::SECCOMP_RET_USER_NOTIF;
            rewritten += 1;
        }
    }
    if rewritten == 0 {
        return Err("seccomp: the observer filter has no notify action".into());
    }
    Ok(program)
}

fn target_arch() -> Result<TargetArch, String> {
    match std::env::consts::ARCH {
        "x86_64" => Ok(TargetArch::x86_64),
        "aarch64" => Ok(TargetArch::aarch64),
        other => Err(format!("seccomp: unsupported architecture {other}")),
    }
}

/// Compiles the policy's errno rows into one BPF program per errno (the
/// kernel applies the most severe verdict of all installed filters, and an
/// errno outranks a notification).
pub fn compile(rows: &[Deny]) -> Result<Vec<BpfProgram>, String> {
    let arch = target_arch()?;
    let mut by_verdict: BTreeMap<String, (SeccompAction, BTreeMap<i64, Vec<SeccompRule>>)> =
        BTreeMap::new();
    // Kill rows are answered by the supervisor (see `observed`).
    for row in rows.iter().filter(|r| r.verdict != Verdict::Kill) {
        let action = match row.verdict {
            Verdict::Kill => SeccompAction::KillProcess,
            Verdict::Errno(e) => SeccompAction::Errno(e as u32),
        };
        let entry = by_verdict
            .entry(format!("{:?}", row.verdict))
            .or_insert_with(|| (action, BTreeMap::new()));
        let rules = entry.1.entry(row.number).or_default();
        if let Some((arg, dword, mask, value)) = row.when {
            let len = if dword {
                SeccompCmpArgLen::Dword
            } else {
                SeccompCmpArgLen::Qword
            };
            let cond = SeccompCondition::new(arg, len, SeccompCmpOp::MaskedEq(mask), value)
                .map_err(|e| e.to_string())?;
            rules.push(SeccompRule::new(vec![cond]).map_err(|e| e.to_string())?);
        }
    }
    by_verdict
        .into_values()
        .map(|(action, rules)| {
            let filter = SeccompFilter::new(rules, SeccompAction::Allow, action, arch)
                .map_err(|e| e.to_string())?;
            BpfProgram::try_from(filter).map_err(|e| e.to_string())
        })
        .collect()
}

/// Installs the filters on the calling thread (no_new_privs must be set).
pub fn apply(programs: &[BpfProgram]) -> Result<(), String> {
    for p in programs {
        seccompiler::apply_filter(p).map_err(|e| format!("seccomp: {e}"))?;
    }
    Ok(())
}

/// The name of a system call number the policy kills, for reports.
pub fn killed_call_names() -> Vec<&'static str> {
    policy(false)
        .into_iter()
        .filter(|r| r.verdict == Verdict::Kill)
        .map(|r| r.name.trim_start_matches("SYS_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_calls_kill_and_probed_calls_fail_softly() {
        let rows = policy(false);
        let verdict = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.verdict);
        for name in [
            "SYS_ptrace",
            "SYS_mount",
            "SYS_bpf",
            "SYS_io_uring_setup",
            "SYS_execveat",
            "SYS_unshare",
        ] {
            assert_eq!(verdict(name), Some(Verdict::Kill), "{name}");
        }
        // socket is answered by the supervisor (observed), not by errno.
        assert!(verdict("SYS_socket").is_none());
        assert!(observed(false).iter().any(|o| o.name == "socket"));
        // Every kill row is observed, so its caller is killed by the
        // supervisor, which sees it whoever reaps the process.
        let forbidden: Vec<_> = observed(false)
            .into_iter()
            .filter(|o| matches!(o.what, Observed::Forbidden(_)))
            .collect();
        assert_eq!(
            forbidden.len(),
            rows.iter().filter(|r| r.verdict == Verdict::Kill).count()
        );
        assert_eq!(verdict("SYS_clone3"), Some(Verdict::Errno(libc::ENOSYS)));
        assert!(verdict("SYS_read").is_none() && verdict("SYS_clone").is_some());
    }

    #[test]
    fn ioctl_requests_compare_32_bits() {
        let rows = policy(false);
        let tiocsti = rows
            .iter()
            .find(|r| r.name == "SYS_ioctl" && r.when.is_some_and(|w| w.3 == TIOCSTI))
            .expect("TIOCSTI row");
        let (arg, dword, mask, _) = tiocsti.when.expect("condition");
        assert_eq!((arg, dword, mask), (1, true, 0xffff_ffff));
    }

    #[test]
    fn clone_is_only_denied_with_namespace_flags() {
        let rows = policy(false);
        let clones: Vec<_> = rows.iter().filter(|r| r.name == "SYS_clone").collect();
        assert_eq!(clones.len(), NAMESPACE_FLAGS.len());
        assert!(clones.iter().all(|r| r.when.is_some()));
    }

    #[test]
    fn the_policy_compiles() {
        let programs = compile(&policy(false)).expect("compile");
        assert_eq!(programs.len(), 2); // EPERM, ENOSYS; kills are observed
        assert!(programs.iter().all(|p| !p.is_empty()));
        let observer = compile_observer(&observed(false)).expect("observer");
        assert!(observer.iter().any(|i| i.k == libc::SECCOMP_RET_USER_NOTIF));
        assert!(
            !observer
                .iter()
                .any(|i| i.code == 0x06 && i.k == 0x0003_0000)
        );
    }

    #[test]
    fn the_cuda_profile_allows_only_sealed_non_executable_memfds() {
        let cpu = policy(false);
        let cuda = policy(true);
        let memfd = |rows: &[Deny]| -> Vec<Deny> {
            rows.iter()
                .filter(|r| r.name == "SYS_memfd_create")
                .cloned()
                .collect()
        };
        // CPU: every memfd_create fails.
        assert!(memfd(&cpu).iter().all(|r| r.when.is_none()));
        assert_eq!(memfd(&cpu).len(), 1);
        // CUDA: fails unless MFD_NOEXEC_SEAL is set, and always with MFD_EXEC.
        let rows = memfd(&cuda);
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .any(|r| r.when == Some((1, true, MFD_NOEXEC_SEAL, 0)))
        );
        assert!(
            rows.iter()
                .any(|r| r.when == Some((1, true, MFD_EXEC, MFD_EXEC)))
        );
        // Everything else CUDA does not need stays as on the CPU.
        let rest = |rows: &[Deny]| -> Vec<String> {
            rows.iter()
                .filter(|r| r.name != "SYS_memfd_create")
                .map(|r| format!("{}{:?}{:?}", r.name, r.when, r.verdict))
                .collect()
        };
        assert_eq!(rest(&cpu), rest(&cuda));
        assert!(
            cuda.iter()
                .any(|r| r.name == "SYS_execveat" && r.verdict == Verdict::Kill)
        );
    }
}
