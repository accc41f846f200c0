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
            SYS_socket,
            Errno(libc::EACCES),
            "network and UNIX sockets (libraries probe them at import)"
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
        // CUDA's driver uses memfd_create for its JIT cache.
        rows.retain(|r| r.name != "SYS_memfd_create");
    }
    rows
}

fn target_arch() -> Result<TargetArch, String> {
    match std::env::consts::ARCH {
        "x86_64" => Ok(TargetArch::x86_64),
        "aarch64" => Ok(TargetArch::aarch64),
        other => Err(format!("seccomp: unsupported architecture {other}")),
    }
}

/// Compiles the policy into one BPF program per verdict (the kernel applies
/// the most severe verdict of all installed filters).
pub fn compile(rows: &[Deny]) -> Result<Vec<BpfProgram>, String> {
    let arch = target_arch()?;
    let mut by_verdict: BTreeMap<String, (SeccompAction, BTreeMap<i64, Vec<SeccompRule>>)> =
        BTreeMap::new();
    for row in rows {
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
        assert_eq!(verdict("SYS_socket"), Some(Verdict::Errno(libc::EACCES)));
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
        assert_eq!(programs.len(), 4); // kill, EPERM, EACCES, ENOSYS
        assert!(programs.iter().all(|p| !p.is_empty()));
    }
}
