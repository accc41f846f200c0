//! The trampoline: `gasguard __sandbox-exec POLICY` runs in a fresh child
//! process (never between fork and exec of a threaded parent). It joins
//! the run's cgroups, drops privileges, enters new user, PID, mount,
//! network, IPC and UTS namespaces, and forks the supervisor
//! (`supervisor.rs`), PID 1 of the new PID namespace, which starts the
//! model's process. When the supervisor exits, the kernel kills every
//! process left in the namespace: nothing the model starts outlives the run.

use std::ffi::CString;

use base64::Engine;

use super::observe::{FACTS_FD, RESULT_FD};
use super::sandbox_policy::SandboxPolicy;
use super::supervisor::{self, Exec};
use super::{landlock, mounts, seccomp};

/// The uid and gid the run has inside its user namespace (`nobody`).
const SANDBOX_ID: u32 = 65_534;

/// Exit codes the parent understands.
pub const EXIT_CANNOT_ENFORCE: i32 = 121;
pub const EXIT_EXEC_FAILED: i32 = 122;
/// 128 + signal, as shells do, when the sandboxed process was killed.
pub const EXIT_SIGNAL_BASE: i32 = 128;

/// The namespaces of a run, entered alike by the probe.
const NAMESPACES: libc::c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS;

pub fn die(code: i32, message: &str) -> ! {
    eprintln!("gasguard-sandbox: {message}");
    std::process::exit(code)
}

pub fn encode(policy: &SandboxPolicy) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(policy).unwrap_or_default())
}

/// Entry point of `gasguard __sandbox-exec`.
pub fn main(encoded: &str) -> ! {
    // Checked before this process opens anything that could take their
    // place: without these two pipes the supervisor's facts or the
    // harness's result would vanish without a word.
    for (fd, what) in [(RESULT_FD, "result"), (FACTS_FD, "facts")] {
        if !is_pipe(fd) {
            die(
                EXIT_CANNOT_ENFORCE,
                &format!("the {what} pipe was not handed down on descriptor {fd}"),
            );
        }
    }
    let policy: SandboxPolicy = match base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(p) => p,
        Err(e) => die(EXIT_CANNOT_ENFORCE, &format!("bad sandbox policy: {e}")),
    };
    let programs = match seccomp::compile(&seccomp::policy(policy.cuda)) {
        Ok(p) => p,
        Err(e) => die(EXIT_CANNOT_ENFORCE, &e),
    };
    let observer = match seccomp::compile_observer(&seccomp::observed(policy.cuda)) {
        Ok(p) => p,
        Err(e) => die(EXIT_CANNOT_ENFORCE, &e),
    };
    let to_c = |s: &str| {
        CString::new(s).unwrap_or_else(|_| die(EXIT_CANNOT_ENFORCE, "NUL in an argument"))
    };
    let program = to_c(&policy.program.to_string_lossy());
    let mut argv: Vec<CString> = vec![program.clone()];
    argv.extend(policy.args.iter().map(|a| to_c(a)));
    let exec = Exec {
        program,
        argv,
        envp: policy
            .env
            .iter()
            .map(|(k, v)| to_c(&format!("{k}={v}")))
            .collect(),
        cwd: to_c(&policy.scratch.path.to_string_lossy()),
    };

    // SAFETY: plain syscalls on a single-threaded process.
    unsafe {
        // Join the run's cgroups while still privileged to write there:
        // every process of the run is then counted and can be killed.
        for procs in &policy.cgroup_procs {
            if let Err(e) = std::fs::write(procs, "0") {
                die(
                    EXIT_CANNOT_ENFORCE,
                    &format!("cannot join the cgroup {}: {e}", procs.display()),
                );
            }
        }
        if !policy.expose.is_empty()
            && let Err(e) = mounts::expose(&policy)
        {
            die(EXIT_CANNOT_ENFORCE, &e);
        }
        if let Some((uid, gid)) = policy.drop_to {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                die(EXIT_CANNOT_ENFORCE, "cannot drop to the sandbox user");
            }
            if libc::getuid() != uid || libc::geteuid() != uid {
                die(EXIT_CANNOT_ENFORCE, "privileges were not dropped");
            }
            // Changing uid made this process non-dumpable, which leaves
            // /proc/self/{uid_map,setgroups} owned by root: restore it to
            // write its own id mapping (other processes of this uid are
            // sandboxed models, which Landlock keeps from ptrace).
            libc::prctl(libc::PR_SET_DUMPABLE, 1);
        }
        // Dropping privileges clears the death signal: set it again.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let (outer_uid, outer_gid) = (libc::getuid(), libc::getgid());
        if libc::unshare(NAMESPACES) != 0 {
            die(
                EXIT_CANNOT_ENFORCE,
                &format!(
                    "cannot create namespaces: {}",
                    std::io::Error::last_os_error()
                ),
            );
        }
        if let Err(e) = map_ids(outer_uid, outer_gid) {
            die(EXIT_CANNOT_ENFORCE, &e);
        }
        // The supervisor learns that this process died (before its death
        // signal was armed) from the write end closing.
        let mut alive = [0i32; 2];
        if libc::pipe2(alive.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            die(EXIT_CANNOT_ENFORCE, "pipe failed");
        }
        match libc::fork() {
            -1 => die(EXIT_CANNOT_ENFORCE, "fork failed"),
            0 => {
                libc::close(alive[1]);
                supervisor::main(&policy, &programs, &observer, &exec, alive[0])
            }
            child => {
                libc::close(alive[0]);
                // The supervisor's descriptor for gasguard's facts pipe is
                // its own now: this process holds no copy of it.
                libc::close(FACTS_FD);
                let mut status = 0;
                while libc::waitpid(child, &mut status, 0) == -1 {
                    if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                        die(EXIT_CANNOT_ENFORCE, "lost the sandboxed process");
                    }
                }
                if libc::WIFSIGNALED(status) {
                    std::process::exit(EXIT_SIGNAL_BASE + libc::WTERMSIG(status));
                }
                std::process::exit(libc::WEXITSTATUS(status));
            }
        }
    }
}

fn is_pipe(fd: i32) -> bool {
    // SAFETY: fstat into a zeroed stat buffer.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFIFO
    }
}

/// Maps the one outer uid and gid to `nobody` inside the new user
/// namespace (what the run saw before it had a mapping): files it creates
/// on the scratch tmpfs need a mapped owner.
fn map_ids(uid: u32, gid: u32) -> Result<(), String> {
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("cannot write {file}: {e}"))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{SANDBOX_ID} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{SANDBOX_ID} {gid} 1"))
}

/// `gasguard __sandbox-exec --probe`: applies the same restrictions to an
/// empty policy and reports whether the kernel enforces them all.
pub fn probe() -> ! {
    let policy = SandboxPolicy {
        read_exec: vec![],
        read_only: vec![],
        read_write: vec![],
        devices: vec![],
        limits: super::sandbox_policy::ResourceLimits {
            address_space: 0,
            cpu_seconds: 0,
            file_size: 0,
            open_files: 0,
            processes: 0,
        },
        drop_to: None,
        expose: vec![],
        stage: "/".into(),
        program: "/".into(),
        args: vec![],
        env: vec![],
        scratch: super::sandbox_policy::Scratch {
            path: "/tmp".into(),
            size: 1 << 20,
            inodes: 64,
        },
        submission: "/".into(),
        cgroup_procs: vec![],
        cuda: false,
    };
    // SAFETY: single-threaded process; plain syscalls.
    unsafe {
        let (uid, gid) = (libc::getuid(), libc::getgid());
        if libc::unshare(NAMESPACES) != 0 {
            die(
                EXIT_CANNOT_ENFORCE,
                &format!(
                    "user and network namespaces are unavailable: {}",
                    std::io::Error::last_os_error()
                ),
            );
        }
        if let Err(e) = map_ids(uid, gid) {
            die(EXIT_CANNOT_ENFORCE, &e);
        }
        // The rest runs as PID 1 of the new namespace, as in a real run.
        match libc::fork() {
            -1 => die(EXIT_CANNOT_ENFORCE, "fork failed"),
            0 => {}
            child => {
                let mut status = 0;
                if libc::waitpid(child, &mut status, 0) != child {
                    die(EXIT_CANNOT_ENFORCE, "lost the probe process");
                }
                std::process::exit(if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    EXIT_CANNOT_ENFORCE
                });
            }
        }
        // The probe's mount namespace is its own: a tmpfs over /tmp here
        // is seen by nobody else.
        if let Err(e) = mounts::private_proc().and_then(|()| mounts::scratch_tmpfs(&policy.scratch))
        {
            die(EXIT_CANNOT_ENFORCE, &e);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            die(EXIT_CANNOT_ENFORCE, "no_new_privs is unavailable");
        }
    }
    if let Err(e) = landlock::apply(&policy) {
        die(EXIT_CANNOT_ENFORCE, &e);
    }
    let observed =
        seccomp::compile_observer(&seccomp::observed(policy.cuda)).and_then(|observer| {
            seccomp::compile(&seccomp::policy(false)).and_then(|p| seccomp::apply(&p))?;
            super::notify::install(&observer)
        });
    match observed {
        Ok(_listener) => std::process::exit(0),
        Err(e) => die(EXIT_CANNOT_ENFORCE, &e),
    }
}
