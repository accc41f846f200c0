//! The trampoline: `gasguard __sandbox-exec POLICY` runs in a fresh child
//! process (never between fork and exec of a threaded parent). It drops
//! privileges, enters new user, PID, mount, network, IPC and UTS namespaces,
//! forks the process that becomes PID 1 of the new PID namespace, and there
//! mounts its own /proc and applies resource limits, Landlock and seccomp
//! before executing the
//! interpreter. When that PID 1 exits, the kernel kills every process left
//! in the namespace: nothing the model starts outlives the run.

use std::ffi::CString;

use base64::Engine;

use super::sandbox_policy::SandboxPolicy;
use super::{landlock, seccomp};

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

fn die(code: i32, message: &str) -> ! {
    eprintln!("gasguard-sandbox: {message}");
    std::process::exit(code)
}

pub fn encode(policy: &SandboxPolicy) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(policy).unwrap_or_default())
}

/// Entry point of `gasguard __sandbox-exec`.
pub fn main(encoded: &str) -> ! {
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
    let to_c = |s: &str| {
        CString::new(s).unwrap_or_else(|_| die(EXIT_CANNOT_ENFORCE, "NUL in an argument"))
    };
    let program = to_c(&policy.program.to_string_lossy());
    let mut argv: Vec<CString> = vec![program.clone()];
    argv.extend(policy.args.iter().map(|a| to_c(a)));
    let envp: Vec<CString> = policy
        .env
        .iter()
        .map(|(k, v)| to_c(&format!("{k}={v}")))
        .collect();
    let cwd = to_c(&policy.cwd.to_string_lossy());

    // SAFETY: plain syscalls on a single-threaded process; every pointer
    // passed lives until exec.
    unsafe {
        if !policy.expose.is_empty()
            && let Err(e) = expose(&policy)
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
        }
        // Dropping privileges clears the death signal: set it again.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::unshare(NAMESPACES) != 0 {
            die(
                EXIT_CANNOT_ENFORCE,
                &format!(
                    "cannot create namespaces: {}",
                    std::io::Error::last_os_error()
                ),
            );
        }
        match libc::fork() {
            -1 => die(EXIT_CANNOT_ENFORCE, "fork failed"),
            0 => {
                // PID 1 of the new namespace.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if let Err(e) = private_proc() {
                    die(EXIT_CANNOT_ENFORCE, &e);
                }
                let limits = policy.limits;
                let set = |resource, value: u64| {
                    let lim = libc::rlimit {
                        rlim_cur: value,
                        rlim_max: value,
                    };
                    libc::setrlimit(resource, &lim) == 0
                };
                let ok = set(libc::RLIMIT_AS, limits.address_space)
                    && set(libc::RLIMIT_CPU, limits.cpu_seconds)
                    && set(libc::RLIMIT_FSIZE, limits.file_size)
                    && set(libc::RLIMIT_NOFILE, limits.open_files)
                    && set(libc::RLIMIT_CORE, 0)
                    && set(libc::RLIMIT_NPROC, limits.processes);
                if !ok {
                    die(EXIT_CANNOT_ENFORCE, "cannot set resource limits");
                }
                if libc::chdir(cwd.as_ptr()) != 0 {
                    die(EXIT_CANNOT_ENFORCE, "cannot enter the scratch folder");
                }
                // Only stdin/stdout/stderr and the result pipe (3) survive.
                libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    die(EXIT_CANNOT_ENFORCE, "cannot set no_new_privs");
                }
                if let Err(e) = landlock::apply(&policy) {
                    die(EXIT_CANNOT_ENFORCE, &e);
                }
                if let Err(e) = seccomp::apply(&programs) {
                    die(EXIT_CANNOT_ENFORCE, &e);
                }
                let mut argv_ptrs: Vec<*const libc::c_char> =
                    argv.iter().map(|a| a.as_ptr()).collect();
                argv_ptrs.push(std::ptr::null());
                let mut envp_ptrs: Vec<*const libc::c_char> =
                    envp.iter().map(|a| a.as_ptr()).collect();
                envp_ptrs.push(std::ptr::null());
                libc::execve(program.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr());
                die(
                    EXIT_EXEC_FAILED,
                    &format!(
                        "cannot execute {}: {}",
                        policy.program.display(),
                        std::io::Error::last_os_error()
                    ),
                )
            }
            child => {
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

/// Stops mounts made in this mount namespace from propagating back out.
fn make_mounts_private() -> Result<(), String> {
    let root = CString::new("/").map_err(|e| e.to_string())?;
    // SAFETY: mount(2) with a valid C string and null optional arguments.
    let rc = unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "cannot make mounts private: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Mounts a /proc of the new PID namespace over the host's: the model sees
/// its own processes only, not the command lines of everything else on
/// the machine. Called in PID 1 of the new namespaces (a proc mount shows
/// the PID namespace of the process that mounts it).
fn private_proc() -> Result<(), String> {
    let err = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    let proc_ = CString::new("proc").map_err(|e| e.to_string())?;
    let target = CString::new("/proc").map_err(|e| e.to_string())?;
    make_mounts_private()?;
    // SAFETY: mount(2) with valid C strings, in a mount namespace this
    // process owns through its user namespace.
    unsafe {
        if libc::mount(
            proc_.as_ptr(),
            target.as_ptr(),
            proc_.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        ) != 0
        {
            return Err(err("cannot mount a private /proc"));
        }
    }
    Ok(())
}

/// Makes `policy.expose` readable to the unprivileged child: in a new mount
/// namespace, each closed ancestor (say /root) is covered with an empty
/// tmpfs into which only the needed folders are moved back. Everything else
/// under it (keys, wallets, shell history) is simply not there.
fn expose(policy: &SandboxPolicy) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let c = |p: &std::path::Path| {
        CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| "NUL in a path".to_string())
    };
    let err = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    // SAFETY: mount(2)/unshare(2) with valid C strings; single-threaded.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(err("cannot create a mount namespace"));
        }
        make_mounts_private()?;
        let mut n = 0;
        for (closed, folders) in &policy.expose {
            let mut staged = Vec::new();
            for folder in folders {
                let stage = policy.stage.join(n.to_string());
                n += 1;
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&stage)
                    .map_err(|e| e.to_string())?;
                if libc::mount(
                    c(folder)?.as_ptr(),
                    c(&stage)?.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(err(&format!("cannot bind {}", folder.display())));
                }
                staged.push((stage, folder));
            }
            let tmpfs = c(std::path::Path::new("tmpfs"))?;
            let opts = CString::new("mode=0755,size=1m").map_err(|e| e.to_string())?;
            if libc::mount(
                tmpfs.as_ptr(),
                c(closed)?.as_ptr(),
                tmpfs.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                opts.as_ptr().cast(),
            ) != 0
            {
                return Err(err(&format!("cannot cover {}", closed.display())));
            }
            for (stage, folder) in staged {
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .recursive(true)
                    .create(folder)
                    .map_err(|e| e.to_string())?;
                if libc::mount(
                    c(&stage)?.as_ptr(),
                    c(folder)?.as_ptr(),
                    std::ptr::null(),
                    libc::MS_MOVE,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(err(&format!("cannot expose {}", folder.display())));
                }
            }
        }
    }
    Ok(())
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
        cwd: "/".into(),
        cuda: false,
    };
    // SAFETY: single-threaded process; plain syscalls.
    unsafe {
        if libc::unshare(NAMESPACES) != 0 {
            die(
                EXIT_CANNOT_ENFORCE,
                &format!(
                    "user and network namespaces are unavailable: {}",
                    std::io::Error::last_os_error()
                ),
            );
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
        if let Err(e) = private_proc() {
            die(EXIT_CANNOT_ENFORCE, &e);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            die(EXIT_CANNOT_ENFORCE, "no_new_privs is unavailable");
        }
    }
    if let Err(e) = landlock::apply(&policy) {
        die(EXIT_CANNOT_ENFORCE, &e);
    }
    match seccomp::compile(&seccomp::policy(false)).and_then(|p| seccomp::apply(&p)) {
        Ok(()) => std::process::exit(0),
        Err(e) => die(EXIT_CANNOT_ENFORCE, &e),
    }
}
